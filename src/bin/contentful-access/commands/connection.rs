//! Connection flags shared by every subcommand that talks to Contentful (`plan`, `apply`, `drift`,
//! …), and the one place the management token is read: from `CONTENTFUL_MANAGEMENT_TOKEN` or
//! `--token-file`, never from a flag value, and never shown.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::ValueEnum;
use contentful_access::contentful::{ClientConfig, Progress, Region};
use secrecy::SecretString;

/// The environment variable holding the management token.
pub const TOKEN_ENV: &str = "CONTENTFUL_MANAGEMENT_TOKEN";

/// Contentful's data-residency region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum RegionArg {
    /// api.contentful.com
    #[default]
    Us,
    /// api.eu.contentful.com
    Eu,
}

/// How to reach Contentful. The token comes from the environment variable
/// `CONTENTFUL_MANAGEMENT_TOKEN` or from `--token-file`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectionArgs {
    /// Contentful region (ignored when --base-url is given).
    #[arg(long, value_enum, default_value_t = RegionArg::Us)]
    pub region: RegionArg,
    /// API root to use instead of the region's, e.g. a sandbox at http://127.0.0.1:8080.
    /// Plain http:// is accepted only for loopback addresses.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Read the management token from this file (surrounding whitespace is trimmed) instead of
    /// the CONTENTFUL_MANAGEMENT_TOKEN environment variable.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Requests per second at most, whatever Contentful announces. Without it the tool starts
    /// at 7/s and then follows the limit Contentful announces, 5% under it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_rps: Option<u32>,
}

impl ConnectionArgs {
    /// The API root these flags select.
    pub fn base_url(&self) -> String {
        match &self.base_url {
            Some(url) => url.clone(),
            None => ClientConfig::region_base_url(match self.region {
                RegionArg::Us => Region::Us,
                RegionArg::Eu => Region::Eu,
            })
            .to_string(),
        }
    }
}

/// Reads the token: `--token-file` when given, otherwise `CONTENTFUL_MANAGEMENT_TOKEN`.
pub fn read_token(args: &ConnectionArgs) -> anyhow::Result<SecretString> {
    token_from(args.token_file.as_deref(), std::env::var(TOKEN_ENV).ok())
}

fn token_from(
    file: Option<&std::path::Path>,
    env_value: Option<String>,
) -> anyhow::Result<SecretString> {
    let (raw, source) = match file {
        Some(path) => {
            // A token is short: anything larger (or a FIFO, a device) is not a token file.
            let raw = contentful_access::input::read_bounded_text(path, 64 * 1024)
                .with_context(|| format!("cannot read the token file {}", path.display()))?;
            (raw, format!("the token file {}", path.display()))
        }
        None => match env_value {
            Some(v) => (v, TOKEN_ENV.to_string()),
            None => bail!(
                "no management token: set the {TOKEN_ENV} environment variable or pass --token-file FILE"
            ),
        },
    };
    let token = raw.trim();
    if token.is_empty() {
        bail!("the management token in {source} is empty");
    }
    Ok(SecretString::from(token.to_string()))
}

/// The client configuration these flags describe, with a progress bar on stderr when it is a
/// terminal.
pub fn config_from(args: &ConnectionArgs) -> anyhow::Result<ClientConfig> {
    let token = read_token(args)?;
    let mut cfg = ClientConfig::new(&args.base_url(), token)?;
    if let Some(n) = args.max_rps {
        cfg.max_rps = n;
        cfg.rps_ceiling = Some(n);
    }
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "reading Contentful {bar:30} {pos}/{len} pages",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        cfg.progress = Some(Arc::new(move |p: Progress| {
            bar.set_length(p.total);
            bar.set_position(p.done);
            if p.done >= p.total {
                bar.finish_and_clear();
            }
        }));
    }
    Ok(cfg)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn token_file_is_trimmed_and_wins_over_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "  CFPAT-from-file \n").unwrap();
        let t = token_from(Some(&path), Some("CFPAT-env".into())).unwrap();
        assert_eq!(t.expose_secret(), "CFPAT-from-file");
        let t = token_from(None, Some("CFPAT-env\n".into())).unwrap();
        assert_eq!(t.expose_secret(), "CFPAT-env");
    }

    fn args(base_url: Option<&str>, region: RegionArg, token_file: PathBuf) -> ConnectionArgs {
        ConnectionArgs {
            region,
            base_url: base_url.map(str::to_string),
            token_file: Some(token_file),
            max_rps: None,
        }
    }

    #[test]
    fn region_and_base_url_select_the_api_root_and_plain_http_stays_local() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "CFPAT-abc\n").unwrap();

        let eu = args(None, RegionArg::Eu, path.clone());
        assert_eq!(eu.base_url(), "https://api.eu.contentful.com");
        assert_eq!(
            config_from(&eu).unwrap().base_url,
            "https://api.eu.contentful.com"
        );
        let local = args(Some("http://127.0.0.1:8080/"), RegionArg::Eu, path.clone());
        assert_eq!(
            config_from(&local).unwrap().base_url,
            "http://127.0.0.1:8080"
        );

        let remote = args(Some("http://api.contentful.com"), RegionArg::Us, path);
        let err = config_from(&remote).unwrap_err().to_string();
        assert!(err.contains("refusing plain http://"), "{err}");
        assert!(!err.contains("CFPAT-abc"), "{err}");
    }

    #[test]
    fn help_mentions_where_the_token_comes_from_but_has_no_token_flag() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            conn: ConnectionArgs,
        }
        let help = <Cli as clap::CommandFactory>::command()
            .render_long_help()
            .to_string();
        assert!(help.contains("--token-file"), "{help}");
        assert!(help.contains(TOKEN_ENV), "{help}");
        assert!(!help.contains("--token "), "{help}");
    }

    #[test]
    fn missing_or_empty_token_names_both_sources() {
        let err = token_from(None, None).unwrap_err().to_string();
        assert!(
            err.contains(TOKEN_ENV) && err.contains("--token-file"),
            "{err}"
        );
        let err = token_from(None, Some("  ".into())).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
    }
}
