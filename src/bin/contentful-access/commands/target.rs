//! Where a command reads (and writes) the organization: Contentful itself through the connection
//! flags, or, with `--sandbox [SEED]`, an in-process sandbox seeded from a JSON file or the built-in
//! demo org. Every command that talks to an organization flattens [`TargetArgs`] and turns it into
//! the library's [`Target`] with [`TargetArgs::target`].

use std::path::PathBuf;

use contentful_access::ops::{self, Target};
use contentful_access::sandbox::demo_seed;

use super::connection::{ConnectionArgs, config_from};

/// The connection flags plus `--sandbox`.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Run against an in-process sandbox instead of Contentful: seeded from SEED (a sandbox seed
    /// JSON file), or from the built-in demo org when no SEED is given. No account or token needed;
    /// nothing leaves this machine.
    #[arg(
        long,
        value_name = "SEED",
        num_args = 0..=1,
        conflicts_with_all = ["base_url", "token_file"]
    )]
    pub sandbox: Option<Option<PathBuf>>,
}

impl TargetArgs {
    /// The organization these flags name: Contentful (the token is read now), or a sandbox
    /// seeded from the file given (read now) or the demo org.
    pub fn target(&self) -> anyhow::Result<Target> {
        Ok(match &self.sandbox {
            None => Target::Contentful(config_from(&self.connection)?),
            Some(path) => Target::Sandbox {
                seed: Box::new(match path {
                    Some(p) => ops::load_seed(p)?,
                    None => demo_seed(),
                }),
                max_rps: self.connection.max_rps,
                observers: Vec::new(),
            },
        })
    }

    /// True with `--sandbox`: what the command changes is thrown away when it ends.
    pub fn is_sandbox(&self) -> bool {
        self.sandbox.is_some()
    }
}
