//! `contentful-access doctor`: will plan and apply work against this organization with this
//! token, and if not, why. Read-only; about one plan's requests. Exit 0 when plan and apply can
//! run, 1 when a finding blocks them.

use std::path::PathBuf;

use contentful_access::doctor::Subject;
use contentful_access::ops;
use contentful_access::render;

use super::validate::load_config;
use super::{Exit, Global, print_stdout};

/// The output formats of `doctor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    /// One line per finding with its evidence, for people.
    #[default]
    Text,
    /// The versioned JSON document, for machines.
    Json,
}

/// Arguments of `doctor`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["config", "org"])))]
pub struct Args {
    /// The access file: its organization and managed spaces are checked, and its role names and
    /// plan against them.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The organization id, when no access file is given (then every space is checked).
    #[arg(long, value_name = "ID", conflicts_with = "config")]
    pub org: Option<String>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub read: super::ReadArgs,
}

/// Runs `doctor`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<Exit> {
    let desired = match &args.config {
        Some(path) => match load_config(global, path)? {
            Some(d) => Some(d),
            None => return Ok(Exit::Error),
        },
        None => None,
    };
    let subject = match (&desired, &args.org) {
        (Some(d), _) => Subject::File(d),
        (None, Some(org)) => Subject::Organization(org),
        (None, None) => {
            anyhow::bail!("give an access file (-c FILE) or an organization (--org ID)")
        }
    };
    let super::Reading {
        target,
        recording,
        now,
    } = args.read.start()?;
    let result = super::runtime()?.block_on(ops::doctor(target, subject, now));
    super::Recording::finish(recording)?;
    let report = result?;
    let output = match args.format {
        Format::Text => render::doctor_text(&report),
        Format::Json => render::report_json(&report),
    };
    print_stdout(&output)?;
    Ok(if report.ready { Exit::Ok } else { Exit::Error })
}
