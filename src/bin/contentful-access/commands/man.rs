//! `contentful-access man`: prints the roff manual page generated from the same clap definition
//! the binary parses with, or writes one page per subcommand into a directory for packaging.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::CommandFactory;

use super::{Exit, Global};

/// Arguments of `man`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "View it with: contentful-access man | man -l -")]
pub struct Args {
    /// Instead of printing the main page, write `contentful-access.1` and one
    /// `contentful-access-<subcommand>.1` page per subcommand into DIR (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Runs `man`.
pub fn run(_global: &Global, args: Args) -> anyhow::Result<Exit> {
    let cmd = crate::Cli::command();
    match args.out_dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, &dir)
                .with_context(|| format!("cannot write manual pages to {}", dir.display()))?;
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut page)?;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&page)?;
            stdout.flush()?;
        }
    }
    Ok(Exit::Ok)
}
