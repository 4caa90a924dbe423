//! `contentful-access man`: prints the roff manual page generated from the same clap definition
//! the binary parses with, or writes one page per subcommand into a directory for packaging.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

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
    let cmd = crate::command();
    match args.out_dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let mut cmd = cmd.disable_help_subcommand(true);
            cmd.build();
            write_pages(&cmd, &dir)
                .with_context(|| format!("cannot write manual pages to {}", dir.display()))?;
        }
        None => {
            let page = page(cmd)?;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&page)?;
            stdout.flush()?;
        }
    }
    Ok(Exit::Ok)
}

/// Writes the page of `cmd` and of each visible subcommand into `dir` (as
/// `clap_mangen::generate_to` does, with the exit status section added to each).
fn write_pages(cmd: &clap::Command, dir: &std::path::Path) -> std::io::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir)?;
    }
    let name = clap_mangen::Man::new(cmd.clone()).get_filename();
    std::fs::write(dir.join(name), page(cmd.clone())?)
}

/// The exit codes, the same for every command (the README's table).
const EXIT_STATUS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Success: no changes (or changes without \fB\-\-detailed\-exitcode\fR), applied, valid.
.TP
\fB1\fR
Error: an invalid access file, a failed request, a failed operation, a stale saved plan, a usage error.
.TP
\fB2\fR
Changes pending (\fBplan \-\-detailed\-exitcode\fR) or drift found (\fBdrift\fR).
.TP
\fB3\fR
Refused by a guardrail (\fBplan\fR, \fBapply\fR): nothing is applied.
.TP
\fB130\fR, \fB143\fR
Interrupted by SIGINT or SIGTERM.
"#;

/// The roff page of `cmd`: clap_mangen's page with an EXIT STATUS section before VERSION (where
/// man-pages(7) puts it, after the description and options).
fn page(cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    let mut roff = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut roff)?;
    let roff = String::from_utf8_lossy(&roff).into_owned();
    let at = [".SH VERSION", ".SH AUTHORS"]
        .iter()
        .filter_map(|s| roff.find(&format!("\n{s}")).map(|i| i + 1))
        .min()
        .unwrap_or(roff.len());
    let mut out = String::with_capacity(roff.len() + EXIT_STATUS.len());
    out.push_str(&roff[..at]);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(EXIT_STATUS);
    out.push_str(&roff[at..]);
    Ok(out.into_bytes())
}
