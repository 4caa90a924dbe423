//! `contentful-access drift`: read-only check that the live organization still matches the access
//! file, for a nightly CI job. Exit 0 when it matches, 2 when it does not, 1 on error.

use std::path::PathBuf;

use contentful_access::render;
use contentful_access::report::drift;

use super::plan::{read_and_plan, report_unresolved};
use super::target::{TargetArgs, connect};
use super::validate::load_config;
use super::{Exit, Global, print_stdout};

/// The output formats of `drift`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    /// "The file says X, Contentful has Y" for people.
    #[default]
    Text,
    /// Every difference with who changed it and when, for machines.
    Json,
    /// For an issue body or `$GITHUB_STEP_SUMMARY`, with a stable first-line marker.
    Markdown,
}

/// Arguments of `drift`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The access file.
    #[arg(
        short = 'c',
        long = "config",
        env = "CONTENTFUL_ACCESS_CONFIG",
        default_value = "access.yaml",
        value_name = "FILE"
    )]
    pub config: PathBuf,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// Runs `drift`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<Exit> {
    let Some(desired) = load_config(global, &args.config)? else {
        return Ok(Exit::Error);
    };
    let runtime = super::runtime()?;
    let (live, plan) = runtime.block_on(async {
        let target = connect(&args.target).await?;
        let result = read_and_plan(&target, &desired).await;
        target.close().await;
        result
    })?;
    let Some(plan) = report_unresolved(global, &desired, plan)? else {
        return Ok(Exit::Error);
    };
    let report = drift::drift(&plan, &live);
    let display = args.config.display().to_string();
    let output = match args.format {
        Format::Text => render::drift_text(&report, &display),
        Format::Json => render::report_json(&report),
        Format::Markdown => render::drift_markdown(&report, &display),
    };
    print_stdout(&output)?;
    Ok(if report.is_clean() {
        Exit::Ok
    } else {
        Exit::Changes
    })
}
