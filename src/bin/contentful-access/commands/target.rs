//! Where a command reads (and writes) the organization: Contentful itself through the connection
//! flags, or, with `--sandbox [SEED]`, an in-process sandbox seeded from a JSON file or the built-in
//! demo org. Every command that talks to an organization flattens [`TargetArgs`] and calls
//! [`connect`].

use std::path::PathBuf;

use anyhow::Context;
use contentful_access::contentful::{Client, ClientConfig};
use contentful_access::sandbox::{SandboxOptions, Seed, Server, demo_seed};
use secrecy::SecretString;

use super::connection::{ConnectionArgs, client_from};

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

/// A connected client, and the sandbox it talks to when `--sandbox` was given (kept alive for as
/// long as the target is).
pub struct Target {
    /// The client every request goes through.
    pub client: Client,
    /// The in-process sandbox, with `--sandbox`.
    pub sandbox: Option<Server>,
}

impl Target {
    /// Stops the in-process sandbox, if any.
    pub async fn close(self) {
        if let Some(server) = self.sandbox {
            server.shutdown().await;
        }
    }
}

/// Loads the seed `--sandbox` names: the built-in demo org when no file is given.
pub fn sandbox_seed(path: Option<&std::path::Path>) -> anyhow::Result<Seed> {
    let Some(path) = path else {
        return Ok(demo_seed());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the sandbox seed {}", path.display()))?;
    Seed::from_json(&text).with_context(|| format!("invalid sandbox seed {}", path.display()))
}

/// Connects to what the flags name: Contentful, or a freshly started in-process sandbox.
pub async fn connect(args: &TargetArgs) -> anyhow::Result<Target> {
    match &args.sandbox {
        None => Ok(Target {
            client: client_from(&args.connection)?,
            sandbox: None,
        }),
        Some(path) => {
            let seed = sandbox_seed(path.as_deref())?;
            let server = Server::start(seed, SandboxOptions::default())
                .await
                .context("cannot start the in-process sandbox")?;
            let token = SecretString::from(server.admin_token());
            let mut cfg = ClientConfig::new(&server.base_url(), token)?;
            cfg.max_rps = args.connection.max_rps;
            let client = Client::new(cfg)?;
            Ok(Target {
                client,
                sandbox: Some(server),
            })
        }
    }
}
