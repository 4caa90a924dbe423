//! `contentful-access audit`: findings an organization admin should act on (seats, inactive
//! members, expired invitations, seats without access, spaces without an admin, tokens of
//! undeclared or removed members, and with `--expiring-within` the access the file ends soon),
//! each with its evidence. Read-only.

use std::path::PathBuf;

use contentful_access::ops::{self, AuditInput};
use contentful_access::render;
use contentful_access::report::audit::{self, AuditOptions, ExpiringWindow};

use super::plan::report_unresolved;
use super::target::TargetArgs;
use super::validate::load_config;
use super::{Exit, Global, print_stdout};

/// The output formats of `audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    /// Findings with their evidence, for people.
    #[default]
    Text,
    /// The full report, for machines.
    Json,
    /// One row per finding: `kind,subject,message,evidence`.
    Csv,
    /// A table of findings, for an issue or a job summary.
    Markdown,
}

/// Arguments of `audit`.
#[derive(Debug, clap::Args)]
// One of the two is required; clap's message then names both (`<--config <FILE>|--org <ID>>`).
#[command(group(clap::ArgGroup::new("source").required(true).args(["config", "org"])))]
pub struct Args {
    /// The access file: its spaces are the managed ones, seats are also counted after its plan,
    /// and tokens of people it does not declare or would remove are reported.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The organization id, when no access file is given (then every space is checked).
    #[arg(long, value_name = "ID", conflicts_with = "config")]
    pub org: Option<String>,
    /// Members not active for more than this many days are reported.
    #[arg(long, value_name = "N", default_value_t = 90)]
    pub inactive_days: u32,
    /// Also list the access the file's `expires:` ends within this window from now (`36h`, `14d`,
    /// `2w`), soonest first, and ended access the plan removes. Needs the access file (-c):
    /// expiries are written there, Contentful has none.
    #[arg(long, value_name = "WINDOW")]
    pub expiring_within: Option<ExpiringWindow>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub now: super::NowArg,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// Runs `audit`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<Exit> {
    if let (Some(window), None) = (args.expiring_within, &args.config) {
        anyhow::bail!(
            "--expiring-within {window} needs the access file (--config <FILE>): `expires:` is \
             written there, Contentful keeps no end date"
        );
    }
    let desired = match &args.config {
        Some(path) => match load_config(global, path)? {
            Some(d) => Some(d),
            None => return Ok(Exit::Error),
        },
        None => None,
    };
    let org = match (&desired, &args.org) {
        (Some(d), _) => d.organization.clone(),
        (None, Some(org)) => org.clone(),
        (None, None) => {
            anyhow::bail!("give an access file (-c FILE) or an organization (--org ID)")
        }
    };
    let now = args.now.read();
    let target = args.target.target()?;
    let result = super::runtime()?.block_on(ops::audit_input(target, desired.as_ref(), &org, now));
    let Some(AuditInput {
        mut live,
        plan,
        tokens,
    }) = report_unresolved(global, result)?
    else {
        return Ok(Exit::Error);
    };
    match tokens {
        Ok(tokens) => live.access_tokens = tokens,
        Err(err) => {
            tracing::warn!(error = %err, "cannot read personal access tokens; token findings skipped");
        }
    }
    let opts = AuditOptions {
        now,
        inactive_days: args.inactive_days,
        expiring_within: args.expiring_within,
    };
    let file = desired.as_ref().zip(plan.as_ref());
    let report = audit::audit(&live, file, &opts);
    let output = match args.format {
        Format::Text => render::audit_text(&report),
        Format::Json => render::report_json(&report),
        Format::Csv => render::audit_csv(&report),
        Format::Markdown => render::audit_markdown(&report),
    };
    print_stdout(&output)?;
    Ok(Exit::Ok)
}
