//! `contentful-access completions SHELL`: prints a shell completion script generated from the same
//! clap definition the binary parses with, so completions never disagree with the real flags.

use std::io::Write;

use clap_complete::Shell;

use super::{Exit, Global};

/// Arguments of `completions`.
#[derive(Debug, clap::Args)]
// Each line stays under 80 columns, so --help never wraps a command in the middle (a long line
// continues with a backslash, as a shell would read it).
#[command(after_long_help = "Install, for example:\n  \
    contentful-access completions bash \\\n      \
    > ~/.local/share/bash-completion/completions/contentful-access\n  \
    contentful-access completions zsh > \"${fpath[1]}/_contentful-access\"\n  \
    contentful-access completions fish \\\n      \
    > ~/.config/fish/completions/contentful-access.fish")]
pub struct Args {
    /// The shell to generate completions for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// Runs `completions`: writes the script for the chosen shell to stdout.
pub fn run(_global: &Global, args: Args) -> anyhow::Result<Exit> {
    let mut cmd = crate::command();
    let name = cmd.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, name, &mut script);
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&script)?;
    stdout.flush()?;
    Ok(Exit::Ok)
}
