//! `contentful-access validate`: checks an access file offline and reports every problem with
//! file:line:column, a caret under the offending token and a "did you mean" where one fits.
//! Other commands that read the access file report its problems the same way through
//! [`load_config`] and [`print_config_errors`].

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use contentful_access::config::{self, ConfigError, Diagnostics};
use contentful_access::model::DesiredState;

use super::{Exit, Global, print_stdout};

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub file: super::ConfigArg,
}

/// Runs `validate`: exit 0 with a one-line confirmation on stdout when the file is valid, exit 1
/// with every problem on stderr when it is not.
pub fn run(global: &Global, args: Args) -> anyhow::Result<Exit> {
    let Some(state) = load_config(global, &args.file.config)? else {
        return Ok(Exit::Error);
    };
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let summary = format!(
        "{} is valid: {}, {}, {}.",
        state.source_path,
        plural(state.users.len(), "user"),
        plural(state.teams.len(), "team"),
        plural(state.spaces.len(), "space"),
    );
    if global.color_stdout() {
        print_stdout(&format!("\x1b[1;32m{summary}\x1b[0m"))?;
    } else {
        print_stdout(&summary)?;
    }
    Ok(Exit::Ok)
}

/// Loads the access file at `path`. When it is invalid, prints its problems (see
/// [`print_config_errors`]) and returns `None`, so the caller can exit with [`Exit::Error`].
/// A file that cannot be read is an `Err`.
pub fn load_config(global: &Global, path: &Path) -> anyhow::Result<Option<DesiredState>> {
    match config::load(path) {
        Ok(state) => Ok(Some(state)),
        Err(ConfigError::Invalid(diagnostics)) => {
            print_config_errors(global, &diagnostics)?;
            Ok(None)
        }
        Err(err @ ConfigError::Io(_)) => {
            Err(err).context("cannot load the access file (set it with -c/--config)")
        }
    }
}

/// Prints the problems of an access file to stderr, rendered with source snippets (coloured per
/// `--color` and `NO_COLOR`, cut to `$COLUMNS` or 100 columns). When `GITHUB_ACTIONS=true`, also
/// prints one `::error file=…,line=…,col=…::…` annotation per problem to stdout, where GitHub
/// Actions picks them up and shows them on the pull request.
pub fn print_config_errors(global: &Global, diagnostics: &Diagnostics) -> anyhow::Result<()> {
    // The snippets need the text; a file that vanished since loading just loses them.
    let source = std::fs::read_to_string(&diagnostics.path).unwrap_or_default();
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|&c| c >= 40)
        .unwrap_or(100);
    let rendered = diagnostics.render(&source, global.color_stderr(), width);
    std::io::stderr().lock().write_all(rendered.as_bytes())?;
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        super::write_stdout(diagnostics.github_annotations().as_bytes())?;
    }
    Ok(())
}
