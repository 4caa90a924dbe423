//! `contentful-access export`: writes an access file (format version 1) describing a live
//! organization, as a starting point for managing it as code. Planning the exported file against
//! the same organization shows no changes.

use std::path::PathBuf;

use anyhow::Context;
use contentful_access::ops;

use super::target::TargetArgs;
use super::{Exit, Global, print_stdout};

/// Arguments of `export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Contentful organization id (optional when the token reaches exactly one).
    #[arg(long, value_name = "ID")]
    pub org: Option<String>,
    /// The spaces to manage, by id (comma-separated); all spaces of the organization by default.
    #[arg(long, value_name = "ID,…", value_delimiter = ',')]
    pub spaces: Vec<String>,
    /// Write the file here instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// Runs `export`.
pub fn run(_global: &Global, args: Args) -> anyhow::Result<Exit> {
    let target = args.target.target()?;
    let text = super::runtime()?.block_on(ops::export(
        target,
        args.org.as_deref(),
        &args.spaces,
        env!("CARGO_PKG_VERSION"),
    ))?;
    match &args.output {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print_stdout(&text)?,
    }
    Ok(Exit::Ok)
}
