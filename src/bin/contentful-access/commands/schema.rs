//! `contentful-access schema`: prints (or writes) the JSON Schema of the access file, for editors
//! (yaml-language-server) and for checks in other tools.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::{Exit, Global};

/// Arguments of `schema`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write the schema to this file instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The schema of a file the access file includes (`include:`): `teams` and `users` only.
    #[arg(long)]
    pub included: bool,
}

/// Runs `schema`.
pub fn run(_global: &Global, args: Args) -> anyhow::Result<Exit> {
    let schema = if args.included {
        contentful_access::config::included_schema()
    } else {
        contentful_access::config::schema()
    };
    let mut text = serde_json::to_string_pretty(&schema)?;
    text.push('\n');
    match args.output {
        Some(path) => std::fs::write(&path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(Exit::Ok)
}
