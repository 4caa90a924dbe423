//! The `contentful-access` command line: parses arguments, sets up logging and colour, and hands
//! each subcommand to a thin function in `commands/` that calls one library operation.

mod commands;

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Manage who can do what in a Contentful organization as code.
#[derive(Debug, Parser)]
#[command(name = "contentful-access", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    global: commands::Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check an access file offline and report every problem with file:line:column.
    Validate(commands::validate::Args),
    /// Print the JSON Schema of the access file (for editor completion and checks).
    Schema(commands::schema::Args),
    /// Show what apply would change: read the access file and the live organization, and diff them.
    Plan(commands::plan::Args),
    /// Render a saved plan (text, JSON or markdown) without contacting Contentful.
    Show(commands::show::Args),
    /// Apply the access file (or a saved plan) to the organization, with version-aware writes.
    Apply(commands::apply::Args),
    /// Check that the live organization still matches the access file (exit 2 when it does not).
    Drift(commands::drift::Args),
    /// Write an access file describing a live organization.
    Export(commands::export::Args),
    /// Will plan and apply work here? Checks the token, the organization, the spaces, role names
    /// and the API's responses, each finding with its evidence (read-only).
    Doctor(commands::doctor::Args),
    /// Findings an admin should act on: seats, inactive members, expired invitations, tokens.
    Audit(commands::audit::Args),
    /// How one person (or everyone in one space) gets access, live and as the file wants it.
    Explain(commands::explain::Args),
    /// Serve a Contentful-compatible sandbox API on 127.0.0.1 (no account needed).
    Sandbox(commands::sandbox::Args),
    /// Print a shell completion script (bash, zsh, fish, …) to stdout.
    Completions(commands::completions::Args),
    /// Print the manual page (roff) to stdout, or write one page per subcommand with --out-dir.
    Man(commands::man::Args),
}

/// The subcommands that never talk to Contentful: `-v` ("log each request") means nothing there,
/// so their help does not offer it (it is still accepted, for scripts that pass it everywhere).
const OFFLINE: [&str; 5] = ["validate", "schema", "show", "man", "completions"];

/// The command line as parsed, and as `man` and `completions` describe it.
pub(crate) fn command() -> clap::Command {
    let mut cmd = Cli::command();
    for name in OFFLINE {
        cmd = cmd.mut_subcommand(name, |sub| {
            sub.arg(
                clap::Arg::new("verbose")
                    .short('v')
                    .long("verbose")
                    .action(clap::ArgAction::Count)
                    .hide(true),
            )
        });
    }
    cmd
}

fn main() -> ExitCode {
    let cli = match command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(err) => {
            // `--help` and `--version` succeed; every usage error exits 1, never clap's default 2,
            // which CI reads as "changes pending" (plan --detailed-exitcode) or "drift found".
            let _ = err.print();
            return if err.use_stderr() {
                commands::Exit::Error.into()
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    commands::init_logging(&cli.global);
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(&cli.global, args),
        Command::Schema(args) => commands::schema::run(&cli.global, args),
        Command::Plan(args) => commands::plan::run(&cli.global, args),
        Command::Show(args) => commands::show::run(&cli.global, args),
        Command::Apply(args) => commands::apply::run(&cli.global, args),
        Command::Drift(args) => commands::drift::run(&cli.global, args),
        Command::Export(args) => commands::export::run(&cli.global, args),
        Command::Doctor(args) => commands::doctor::run(&cli.global, args),
        Command::Audit(args) => commands::audit::run(&cli.global, args),
        Command::Explain(args) => commands::explain::run(&cli.global, args),
        Command::Sandbox(args) => commands::sandbox::run(&cli.global, args),
        Command::Completions(args) => commands::completions::run(&cli.global, args),
        Command::Man(args) => commands::man::run(&cli.global, args),
    };
    match result {
        Ok(code) => code.into(),
        Err(err) => {
            if commands::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {}", error_chain(&err));
            commands::Exit::Error.into()
        }
    }
}

/// The error and its causes joined with `: `, leaving out a cause whose text the message already
/// contains (a library error that says `cannot read FILE: No such file or directory` and also
/// carries the I/O error as its source would otherwise print the reason twice).
fn error_chain(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}
