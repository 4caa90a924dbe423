//! `contentful-access drift`: read-only check that the live organization still matches the access
//! file, for a nightly CI job. Exit 0 when it matches, 2 when it does not, 1 on error.

use contentful_access::ops;
use contentful_access::render;

use super::plan::report_unresolved;
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
    #[command(flatten)]
    pub file: super::ConfigArg,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Keep a snapshot of the organization in FILE and read only what changed since it (the
    /// first run, or a run whose cache is lost or belongs elsewhere, reads everything).
    #[arg(long, value_name = "FILE")]
    pub cache: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub read: super::ReadArgs,
}

/// Runs `drift`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<Exit> {
    let Some(desired) = load_config(global, &args.file.config)? else {
        return Ok(Exit::Error);
    };
    let super::Reading {
        target,
        recording,
        now,
    } = args.read.start()?;
    let rt = super::runtime()?;
    let result = match &args.cache {
        None => rt.block_on(ops::drift(target, &desired, now)),
        Some(cache) => rt
            .block_on(ops::drift_cached(target, &desired, now, cache))
            .map(|(report, used)| {
                match used {
                    ops::CacheUse::Incremental(stats) => tracing::info!(
                        changed = stats.changed,
                        deleted = stats.deleted,
                        full_reads = ?stats.full_reads,
                        newest_first_refused = ?stats.newest_first_refused,
                        "drift cache used: read only what changed"
                    ),
                    ops::CacheUse::Rebuilt(why) => {
                        tracing::info!(%why, "drift cache not used: read everything")
                    }
                }
                report
            }),
    };
    super::Recording::finish(recording)?;
    let Some(report) = report_unresolved(global, result)? else {
        return Ok(Exit::Error);
    };
    let display = args.file.config.display().to_string();
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
