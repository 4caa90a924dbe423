//! `contentful-access export`: writes an access file (format version 1) describing a live
//! organization, as a starting point for managing it as code. Planning the exported file against
//! the same organization shows no changes.

use std::path::PathBuf;

use anyhow::Context;
use contentful_access::export;

use super::target::{TargetArgs, connect};
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
    let runtime = super::runtime()?;
    let text = runtime.block_on(async {
        let target = connect(&args.target).await?;
        let result = async {
            let org = match &args.org {
                Some(org) => org.clone(),
                None => {
                    let reachable = target
                        .client
                        .list_organizations()
                        .await
                        .context("cannot list the organizations the token reaches")?;
                    export::choose_organization(None, &reachable)?
                }
            };
            let spaces = target
                .client
                .list_spaces(&org)
                .await
                .with_context(|| format!("cannot read the spaces of organization {org}"))?;
            let names = export::space_names(&org, &spaces, &args.spaces)?;
            let ids: Vec<String> = names.values().cloned().collect();
            let live = target
                .client
                .read_live_state(&org, &ids)
                .await
                .with_context(|| format!("cannot read organization {org}"))?;
            Ok::<_, anyhow::Error>(export::export(&live, &names, env!("CARGO_PKG_VERSION")))
        }
        .await;
        target.close().await;
        result
    })?;
    match &args.output {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print_stdout(&text)?,
    }
    Ok(Exit::Ok)
}
