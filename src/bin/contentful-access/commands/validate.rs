//! `contentful-access validate` (filled in by its issue).

use super::{Exit, Global};

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `validate`.
pub fn run(_global: &Global, _args: Args) -> anyhow::Result<Exit> {
    anyhow::bail!("not implemented yet")
}
