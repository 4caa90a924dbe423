//! `contentful-access schema` (filled in by its issue).

use super::{Exit, Global};

/// Arguments of `schema`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `schema`.
pub fn run(_global: &Global, _args: Args) -> anyhow::Result<Exit> {
    anyhow::bail!("not implemented yet")
}
