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
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        conflicts_with = "split"
    )]
    pub output: Option<PathBuf>,
    /// Write a set of files into DIR instead: `access.yaml` (organization-wide keys) including one
    /// file per team under `teams/` (the team and the people whose first team it is) and
    /// `people-without-team.yaml`. DIR is created; existing files in it are not overwritten.
    #[arg(long, value_name = "DIR")]
    pub split: Option<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// Runs `export`.
pub fn run(_global: &Global, args: Args) -> anyhow::Result<Exit> {
    let target = args.target.target()?;
    if let Some(dir) = &args.split {
        let files = super::runtime()?.block_on(ops::export_split(
            target,
            args.org.as_deref(),
            &args.spaces,
            env!("CARGO_PKG_VERSION"),
        ))?;
        for (name, text) in &files {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            // Never overwrite: a second export into the same directory would silently mix two
            // organizations' files (and a stale team file would still be included).
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            std::io::Write::write_all(&mut file, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        eprintln!(
            "Wrote {} files to {}: plan with -c {}",
            files.len(),
            dir.display(),
            dir.join("access.yaml").display()
        );
        return Ok(Exit::Ok);
    }
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
