//! `contentful-access explain`: how one person gets access to each managed space (directly, and
//! through which team), live and as the access file wants it; or everyone with access to one
//! managed space and how. Read-only.

use contentful_access::model::Email;
use contentful_access::ops;
use contentful_access::render;
use contentful_access::report::explain;

use super::target::TargetArgs;
use super::validate::load_config;
use super::{Exit, Global, print_stdout};

/// The output formats of `explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    /// One block per space (or person), for people.
    #[default]
    Text,
    /// The explanation, for machines.
    Json,
}

/// Arguments of `explain`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("who").required(true).args(["email", "space"])))]
pub struct Args {
    /// The person to explain.
    #[arg(value_name = "EMAIL")]
    pub email: Option<String>,
    /// Explain one managed space (its name in the access file) instead: everyone with access.
    #[arg(long, value_name = "NAME")]
    pub space: Option<String>,
    #[command(flatten)]
    pub file: super::ConfigArg,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// Runs `explain`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<Exit> {
    let Some(desired) = load_config(global, &args.file.config)? else {
        return Ok(Exit::Error);
    };
    let email = match &args.email {
        Some(raw) => Some(Email::parse(raw)?),
        None => None,
    };
    let target = args.target.target()?;
    let live = super::runtime()?.block_on(ops::read_org(target, &desired))?;
    let explanation = match (&email, &args.space) {
        (Some(email), _) => explain::explain_user(email, &desired, &live)?,
        (None, Some(space)) => explain::explain_space(space, &desired, &live)?,
        (None, None) => anyhow::bail!("give an EMAIL or --space NAME"),
    };
    let output = match args.format {
        Format::Text => render::explain_text(&explanation),
        Format::Json => render::report_json(&explanation),
    };
    print_stdout(&output)?;
    Ok(Exit::Ok)
}
