//! `contentful-access sandbox` (filled in by its issue).

use super::{Exit, Global};

/// Arguments of `sandbox`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `sandbox`.
pub fn run(_global: &Global, _args: Args) -> anyhow::Result<Exit> {
    anyhow::bail!("not implemented yet")
}
