//! `contentful-access sandbox`: serves a Contentful-compatible API on 127.0.0.1 (the built-in
//! demo org, a seed file, or a synthetic org) until Ctrl-C or SIGTERM, and prints how to use it.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use contentful_access::sandbox::{
    FaultConfig, FaultKind, SandboxOptions, Server, SyntheticSpec, demo_seed, synthetic,
};

use super::{Exit, Global};

/// Arguments of `sandbox`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Serve the organization described by this JSON seed file instead of the demo org.
    #[arg(long, value_name = "FILE", conflicts_with = "synthetic")]
    pub seed: Option<PathBuf>,
    /// Serve a generated organization with this many users (for load tests).
    #[arg(long, value_name = "USERS")]
    pub synthetic: Option<usize>,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// An additional bearer token to accept, acting as the seed's admin. It is never printed,
    /// in case it is a real token.
    #[arg(long, value_name = "T")]
    pub token: Option<String>,
    /// Requests per second before 429 (0 = unlimited).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub rate_limit: u32,
    /// Delay added to every response, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub latency_ms: u64,
    /// Fraction (0..1) of requests that fail with an injected 429/500/502/503 or a dropped
    /// connection.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Seed of the generator choosing which requests fail: the same seed and the same requests
    /// give the same faults.
    #[arg(long, value_name = "N", default_value_t = 7)]
    pub fault_seed: u64,
    /// The faults to inject, comma-separated: 429, 500, 502, 503, drop (connection closed, nothing
    /// processed), process-then-drop and process-then-502 (the request is processed and its
    /// answer lost).
    #[arg(
        long,
        value_name = "KINDS",
        value_delimiter = ',',
        default_value = "429,500,502,503,drop"
    )]
    pub fault_kinds: Vec<FaultKind>,
}

/// Runs `sandbox`.
pub fn run(_global: &Global, args: Args) -> anyhow::Result<Exit> {
    if !(0.0..=1.0).contains(&args.fault_rate) {
        anyhow::bail!("--fault-rate must be between 0 and 1");
    }
    let seed = match (&args.seed, args.synthetic) {
        (Some(path), _) => contentful_access::ops::load_seed(path)?,
        (None, Some(users)) => synthetic(&SyntheticSpec::for_users(users)),
        (None, None) => demo_seed(),
    };
    let opts = SandboxOptions {
        port: args.port,
        rate_limit_per_sec: args.rate_limit,
        latency: Duration::from_millis(args.latency_ms),
        faults: FaultConfig {
            rng_seed: args.fault_seed,
            ..FaultConfig::new(args.fault_rate, args.fault_kinds.clone())
        },
        token: args.token.clone(),
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let org = seed.organization.id.clone();
        let server = Server::start(seed, opts).await?;
        // Listen for signals before announcing the server, so a supervisor that stops it right
        // after reading the URL still gets a clean shutdown.
        let stop = StopSignals::install();
        let url = server.base_url();
        // A token given with --token may be someone's real one: never echo it.
        let token = match &args.token {
            Some(_) => "<the value given with --token>".to_string(),
            None => server.admin_token(),
        };
        {
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "Contentful sandbox for organization {org} listening on {url}"
            )?;
            if args.token.is_some() {
                writeln!(out, "Token: the one given with --token (not shown)")?;
            } else {
                writeln!(out, "Token (sandbox only, throwaway): {token}")?;
            }
            writeln!(out)?;
            writeln!(out, "  export CONTENTFUL_MANAGEMENT_TOKEN={token}")?;
            writeln!(
                out,
                "  contentful-access plan -c examples/access.yaml --base-url {url}"
            )?;
            writeln!(out)?;
            writeln!(
                out,
                "Request journal: {url}/_sandbox/journal. Stop with Ctrl-C."
            )?;
            out.flush()?;
        }
        stop.wait().await;
        server.shutdown().await;
        anyhow::Ok(())
    })?;
    Ok(Exit::Ok)
}

/// Ctrl-C and (on Unix) SIGTERM, registered up front.
struct StopSignals {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl StopSignals {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signals = signal(SignalKind::interrupt())
                .and_then(|int| Ok((int, signal(SignalKind::terminate())?)))
                .ok();
            StopSignals { signals }
        }
        #[cfg(not(unix))]
        {
            StopSignals {}
        }
    }

    async fn wait(self) {
        #[cfg(unix)]
        if let Some((mut int, mut term)) = self.signals {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
