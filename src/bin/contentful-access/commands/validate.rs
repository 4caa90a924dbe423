//! `contentful-access validate`: checks an access file offline and reports every problem with
//! file:line:column, a caret under the offending token and a "did you mean" where one fits.
//! Other commands that read the access file report its problems the same way through
//! [`load_config`] and [`print_config_errors`].

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use contentful_access::config::{self, ConfigError, Diagnostics};
use contentful_access::model::DesiredState;
use contentful_access::render::style;

use super::{Exit, Global, print_stdout};

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub file: super::ConfigArg,
    /// Dates in `expires:` before this time are warned about.
    #[command(flatten)]
    pub now: super::NowArg,
}

/// Runs `validate`: exit 0 with a one-line confirmation on stdout when the file is valid, exit 1
/// with every problem on stderr when it is not. An `expires` already past is a warning on stderr
/// (the file is still valid: `plan` removes that access).
pub fn run(global: &Global, args: Args) -> anyhow::Result<Exit> {
    let Some(state) = load_config(global, &args.file.config)? else {
        return Ok(Exit::Error);
    };
    let now = args.now.read();
    let mut warnings = String::new();
    for e in state.expiries() {
        if e.expires.passed(now) {
            let at = e.expires.span;
            let line = format!(
                "warning: {}:{}:{}: {e} expired on {}; `plan` removes it",
                state.source_path, at.line, at.column, e.expires
            );
            warnings.push_str(&style::paint(style::CHANGE, &line, global.color_stderr()));
            warnings.push('\n');
        }
    }
    std::io::stderr().lock().write_all(warnings.as_bytes())?;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let files = if state.included.is_empty() {
        String::new()
    } else {
        format!(" (with {})", plural(state.included.len(), "included file"))
    };
    // Roles are named only when the file declares some, so existing output stays as it was.
    let roles = if state.roles.is_empty() {
        String::new()
    } else {
        format!(", {}", plural(state.roles.len(), "role"))
    };
    let summary = format!(
        "{}{files} is valid: {}, {}, {}{roles}.",
        state.source_path,
        plural(state.users.len(), "user"),
        plural(state.teams.len(), "team"),
        plural(state.spaces.len(), "space"),
    );
    print_stdout(&style::paint(
        style::SUCCESS,
        &summary,
        global.color_stdout(),
    ))?;
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
    // The snippets need the text of each file a problem names (the access file and the files it
    // includes); a file that vanished since loading just loses them.
    let mut sources: std::collections::BTreeMap<&str, String> = std::collections::BTreeMap::new();
    for d in &diagnostics.items {
        sources
            .entry(d.path.as_str())
            .or_insert_with(|| std::fs::read_to_string(&d.path).unwrap_or_default());
    }
    let width = style::terminal_width(
        terminal_size::terminal_size_of(std::io::stderr())
            .map(|(terminal_size::Width(w), _)| usize::from(w)),
        std::env::var("COLUMNS").ok().as_deref(),
    );
    let source_of = |path: &str| sources.get(path).map_or("", String::as_str);
    let rendered = diagnostics.render_files(&source_of, global.color_stderr(), width);
    std::io::stderr().lock().write_all(rendered.as_bytes())?;
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        super::write_stdout(diagnostics.github_annotations().as_bytes())?;
    }
    Ok(())
}
