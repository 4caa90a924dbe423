//! One module per subcommand. Each turns its arguments into options and calls one library
//! operation; printing happens here, never in the library.

pub mod apply;
pub mod audit;
pub mod completions;
pub mod connection;
pub mod doctor;
pub mod drift;
pub mod explain;
pub mod export;
pub mod man;
pub mod plan;
pub mod sandbox;
pub mod schema;
pub mod show;
pub mod target;
pub mod validate;

use std::process::ExitCode;

use clap::{Args, ValueEnum};

/// What the process exit code says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success; no changes (or changes without `--detailed-exitcode`).
    Ok = 0,
    /// An error: bad input, a failed request, a failed operation.
    Error = 1,
    /// Changes are pending (plan with `--detailed-exitcode`) or drift was found.
    Changes = 2,
    /// A guardrail refused the plan.
    Refused = 3,
    /// `apply` was interrupted by SIGINT (Ctrl-C): 128 + 2.
    Interrupted = 130,
    /// `apply` was interrupted by SIGTERM (a cancelled CI job): 128 + 15.
    Terminated = 143,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The access file, for the commands that read one (`-c`, `--config`, or
/// `CONTENTFUL_ACCESS_CONFIG`; default `access.yaml`).
#[derive(Debug, Clone, Args)]
pub struct ConfigArg {
    /// The access file.
    #[arg(
        short = 'c',
        long = "config",
        env = "CONTENTFUL_ACCESS_CONFIG",
        default_value = "access.yaml",
        value_name = "FILE"
    )]
    pub config: std::path::PathBuf,
}

/// `--record DIR` (`doctor`, `plan`, `drift`): every response of the run, redacted, for a bug
/// report and the fidelity tests.
#[derive(Debug, Clone, Args)]
pub struct RecordArg {
    /// Write every response of this run into DIR, redacted (emails, names and free text replaced
    /// by placeholders; no token, no Authorization, no cookies), to attach to a bug report.
    #[arg(long, value_name = "DIR")]
    pub record: Option<std::path::PathBuf>,
}

impl RecordArg {
    /// Starts recording into the folder, when one was given: every response `target` gives.
    pub fn attach(
        &self,
        target: &mut contentful_access::ops::Target,
    ) -> anyhow::Result<Option<Recording>> {
        let Some(dir) = &self.record else {
            return Ok(None);
        };
        let recorder = contentful_access::contentful::record::Recorder::create(dir)?;
        target.observe(recorder.clone());
        Ok(Some(Recording {
            recorder,
            dir: dir.clone(),
        }))
    }
}

/// The arguments of every command that reads the organization and may record what it read:
/// `--record`, `--now` and where to connect.
#[derive(Debug, Args)]
pub struct ReadArgs {
    #[command(flatten)]
    pub record: RecordArg,
    #[command(flatten)]
    pub now: NowArg,
    #[command(flatten)]
    pub target: target::TargetArgs,
}

impl ReadArgs {
    /// Reads the clock (or `--now`) once, resolves the target and starts the recording, if any.
    pub fn start(&self) -> anyhow::Result<Reading> {
        let now = self.now.read();
        let mut target = self.target.target()?;
        let recording = self.record.attach(&mut target)?;
        Ok(Reading {
            target,
            recording,
            now,
        })
    }
}

/// What [`ReadArgs::start`] prepared: the target to read, the recording under way and the run's
/// one clock reading.
pub struct Reading {
    /// Where to connect.
    pub target: contentful_access::ops::Target,
    /// The recording, when `--record` was given; [`Recording::finish`] it after the run.
    pub recording: Option<Recording>,
    /// The time the run happens at.
    pub now: chrono::DateTime<chrono::Utc>,
}

/// A recording under way.
pub struct Recording {
    recorder: std::sync::Arc<contentful_access::contentful::record::Recorder>,
    dir: std::path::PathBuf,
}

impl Recording {
    /// Says on stderr where the recording is (whatever the command's outcome: a failed run's
    /// responses are what a bug report needs), or fails when a file could not be written.
    pub fn finish(recording: Option<Recording>) -> anyhow::Result<()> {
        if let Some(r) = recording {
            let n = r.recorder.finish()?;
            eprintln!("recorded {n} response(s), redacted, in {}", r.dir.display());
        }
        Ok(())
    }
}

/// `--now`: the time a command runs at, for the commands that read the clock (`validate`, `plan`,
/// `apply`, `drift`, `audit`). Without it the clock is read once per run, here, and that one time
/// is passed into the library, which never reads the clock itself.
#[derive(Debug, Clone, Args)]
pub struct NowArg {
    /// Run as if it were this time (RFC 3339, e.g. `2026-12-01T09:00:00Z`) instead of now: for
    /// reproducible plans and reports, and to see what expires when.
    #[arg(long, value_name = "TIME", env = "CONTENTFUL_ACCESS_NOW", value_parser = parse_time)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
}

impl NowArg {
    /// The time given with `--now`, else the clock (read once, by the caller, per run).
    pub fn read(&self) -> chrono::DateTime<chrono::Utc> {
        self.now.unwrap_or_else(chrono::Utc::now)
    }
}

/// Parses an RFC 3339 time (any offset) into UTC.
fn parse_time(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("not an RFC 3339 time such as 2026-12-01T09:00:00Z: {e}"))
}

/// Options every subcommand understands.
#[derive(Debug, Args)]
pub struct Global {
    /// Log each request to stderr: -v for a summary line per request, -vv for details.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// When to use colour.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
}

impl Global {
    /// Whether to colour what goes to stdout.
    pub fn color_stdout(&self) -> bool {
        use std::io::IsTerminal;
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        }
    }

    /// The width to wrap what goes to stdout at: the terminal's when stdout is one, else
    /// `$COLUMNS` when set, else 100 (a CI log or a file).
    pub fn stdout_width(&self) -> usize {
        contentful_access::render::style::terminal_width(
            terminal_size::terminal_size_of(std::io::stdout())
                .map(|(terminal_size::Width(w), _)| usize::from(w)),
            std::env::var("COLUMNS").ok().as_deref(),
        )
    }

    /// Whether to colour what goes to stderr (same rules as [`Global::color_stdout`]).
    pub fn color_stderr(&self) -> bool {
        use std::io::IsTerminal;
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stderr().is_terminal()
            }
        }
    }
}

/// A multi-threaded tokio runtime for the commands that talk to an organization.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Sends the library's `tracing` events to stderr at the level `-v` asks for.
pub fn init_logging(global: &Global) {
    let level = match global.verbose {
        0 => "warn",
        1 => "contentful_access=info",
        _ => "contentful_access=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONTENTFUL_ACCESS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(global.color_stderr())
        .without_time()
        .try_init();
}

/// True when the error is a closed stdout (`contentful-access plan | head`), which is not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Set once stdout turned out to be closed: later output is dropped.
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes `output` to stdout as is. A closed stdout (`drift | true`) only stops the printing: the
/// command goes on and its exit code still says what happened, so `set -o pipefail` sees a
/// failure or drift. Other write errors are returned.
pub fn write_stdout(output: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(output).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        other => Ok(other?),
    }
}

/// Writes `output` to stdout, ending it with a newline (see [`write_stdout`] for a closed stdout).
pub fn print_stdout(output: &str) -> anyhow::Result<()> {
    if output.ends_with('\n') {
        write_stdout(output.as_bytes())
    } else {
        write_stdout(format!("{output}\n").as_bytes())
    }
}
