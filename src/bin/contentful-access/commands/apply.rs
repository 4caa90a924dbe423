//! `contentful-access apply`: plans and applies the access file (after confirmation), applies a
//! saved plan exactly (only after the library verified it against the access file and the
//! organization as they are now), or rehearses a plan in an in-process sandbox seeded from the
//! live organization. The flow is one library operation ([`ops::apply_config`] or
//! [`ops::apply_saved`]); this file parses arguments and renders what the library reports.

use std::fs::File;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use chrono::Utc;
use contentful_access::apply::{
    ApplyEvent, ApplyObserver, ApplyOptions, ApplyReport, OpOutcome, Rehearsal, StopSignal,
    VerifiedPlan,
};
use contentful_access::ops::{self, ApplyHooks, ApplyOutcome, ApplyRun};
use contentful_access::plan::Plan;
use contentful_access::render::{self, RenderOptions};

use super::plan::report_unresolved;
use super::target::TargetArgs;
use super::validate::load_config;
use super::{Exit, Global, print_stdout};

/// Arguments of `apply`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A saved plan (`plan --output FILE`) to apply exactly as it is, instead of planning again.
    #[arg(value_name = "PLAN")]
    pub plan: Option<PathBuf>,
    /// The access file (default `access.yaml`). With a saved plan: the file whose hash must
    /// still match the plan's (default: the plan's own `config_path`, when it exists).
    #[arg(
        short = 'c',
        long = "config",
        env = "CONTENTFUL_ACCESS_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,
    /// Apply without asking for confirmation (needed when stdin is not a terminal, e.g. in CI).
    #[arg(long)]
    pub auto_approve: bool,
    /// At most N operations of one dependency level run at the same time.
    #[arg(long, default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
    /// Append a JSON-lines record of every write and its outcome to FILE, flushed as it goes.
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Apply the plan to an in-process sandbox seeded from the live organization, plan again and
    /// report whether it converged. Nothing is written to Contentful.
    #[arg(long, conflicts_with = "plan")]
    pub rehearse: bool,
    /// The plan that was reviewed (`plan --output FILE` on the pull request): plan again from the
    /// access file, and apply only when every operation of the new plan is one the reviewed plan
    /// has; otherwise refuse (exit 3) and write nothing. Reviewed operations no longer needed are
    /// not done.
    #[arg(long, value_name = "PLAN", conflicts_with = "plan")]
    pub reviewed: Option<PathBuf>,
    /// Refuse a saved plan older than this (`30m`, `24h`, `7d`, or seconds).
    #[arg(long, default_value = "24h", value_name = "AGE", value_parser = parse_age)]
    pub max_plan_age: chrono::Duration,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// Parses `90`, `90s`, `30m`, `24h` or `7d`.
fn parse_age(s: &str) -> Result<chrono::Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 30m, 24h or 7d"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("{s:?} is not a duration like 30m, 24h or 7d")),
    };
    Ok(chrono::Duration::seconds(secs))
}

/// Runs `apply`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<Exit> {
    let target = args.target.target()?;
    let stop = StopSignal::new();
    let run = ApplyRun {
        apply: ApplyOptions {
            parallelism: usize::from(args.parallelism),
            stop: stop.clone(),
            ..ApplyOptions::default()
        },
        now: Utc::now(),
        rehearse: args.rehearse,
        max_plan_age: args.max_plan_age,
    };
    // A rehearsal writes only to its own sandbox: nothing goes to the journal, which records
    // writes to the organization.
    let journal = if args.rehearse {
        None
    } else {
        args.journal.clone()
    };
    let runtime = super::runtime()?;
    let (result, mut hooks) = match &args.plan {
        Some(path) => {
            let mut hooks = CliHooks::new(journal, global, args.auto_approve, None);
            let result = runtime.block_on(async {
                tokio::spawn(watch_signals(stop.clone()));
                ops::apply_saved(target, path, args.config.as_deref(), &run, &mut hooks).await
            });
            (result, hooks)
        }
        None => {
            let config = args
                .config
                .clone()
                .unwrap_or_else(|| PathBuf::from("access.yaml"));
            let Some(desired) = load_config(global, &config)? else {
                return Ok(Exit::Error);
            };
            // Read before connecting: a missing or unreadable reviewed plan is refused at once.
            let reviewed = match &args.reviewed {
                Some(path) => Some(ops::load_plan(path)?),
                None => None,
            };
            let display = config.display().to_string();
            let mut hooks = CliHooks::new(journal, global, args.auto_approve, Some(display));
            let result = runtime.block_on(async {
                tokio::spawn(watch_signals(stop.clone()));
                match &reviewed {
                    Some(reviewed) => {
                        ops::apply_reviewed(target, &desired, reviewed, &run, &mut hooks).await
                    }
                    None => ops::apply_config(target, &desired, &run, &mut hooks).await,
                }
            });
            (result, hooks)
        }
    };
    hooks.finish()?;
    let Some(outcome) = report_unresolved(global, result)? else {
        return Ok(Exit::Error);
    };
    Ok(match outcome {
        ApplyOutcome::Refused(_) => Exit::Refused,
        ApplyOutcome::SavedRefused(refusal) => {
            let plan_path = args
                .plan
                .as_deref()
                .or(args.reviewed.as_deref())
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let config = match (&args.config, &args.plan) {
                (Some(p), _) => p.display().to_string(),
                (None, None) => "access.yaml".to_string(),
                (None, Some(_)) => "the access file".to_string(),
            };
            std::io::stderr()
                .lock()
                .write_all(render::refusal_text(&refusal, &plan_path, &config).as_bytes())?;
            if refusal.is_guardrail() {
                Exit::Refused
            } else {
                Exit::Error
            }
        }
        ApplyOutcome::NothingToDo => Exit::Ok,
        ApplyOutcome::Declined => Exit::Error,
        ApplyOutcome::Applied(report) => {
            // Each operation's line was printed as it finished; the summary closes the list
            // (with the reason first, when the run stopped early).
            let rendered = render::apply_report_text(&report, global.color_stdout());
            let lines: Vec<&str> = rendered.lines().collect();
            let tail = if report.stopped.is_some() { 2 } else { 1 };
            print_stdout(&lines[lines.len().saturating_sub(tail)..].join("\n"))?;
            let signal = SIGNAL.load(Ordering::SeqCst);
            if signal != 0 {
                return Ok(if signal == 15 {
                    Exit::Terminated
                } else {
                    Exit::Interrupted
                });
            }
            if args.target.is_sandbox() {
                writeln!(
                    std::io::stderr().lock(),
                    "note: --sandbox: these changes were made to an in-process sandbox, which is gone now; nothing was written to Contentful."
                )?;
            }
            if report.succeeded() {
                Exit::Ok
            } else {
                Exit::Error
            }
        }
        ApplyOutcome::Rehearsed(rehearsal) => {
            print_stdout(&rehearsal_text(
                global,
                &rehearsal,
                &hooks.render_opts(None),
            ))?;
            if rehearsal.converged() {
                Exit::Ok
            } else {
                Exit::Error
            }
        }
    })
}

/// The rehearsal's outcome: what ran in the copy, then whether it converged. The report's own
/// last line ("Apply complete") is replaced: nothing was applied to the organization, and a
/// reader must not stop at a line saying it was.
fn rehearsal_text(global: &Global, rehearsal: &Rehearsal, render_opts: &RenderOptions) -> String {
    let mut out = String::from("\nRehearsal in a sandbox copy of the organization:\n");
    let report = render::apply_report_text(&rehearsal.report, global.color_stdout());
    let lines: Vec<&str> = report.lines().collect();
    for line in &lines[..lines.len().saturating_sub(1)] {
        out.push_str(line);
        out.push('\n');
    }
    let (a, c, r) = rehearsal.report.applied_counts();
    if rehearsal.report.succeeded() {
        out.push_str(&format!(
            "Every operation applied in the copy: {a} added, {c} changed, {r} removed.\n"
        ));
    } else {
        out.push_str(&format!(
            "In the copy, {} of {} operations failed, {} skipped.\n",
            rehearsal.report.failed().count(),
            rehearsal.report.outcomes.len(),
            rehearsal.report.skipped().count()
        ));
    }
    if rehearsal.converged() {
        out.push_str("Rehearsal converged: planning again finds no changes. Nothing was written to Contentful.\n");
    } else {
        out.push_str(&format!(
            "Rehearsal did not converge: planning again finds {} operation(s):\n",
            rehearsal.after.operations.len()
        ));
        out.push_str(&render::plan_text(&rehearsal.after, render_opts));
        out.push_str("Nothing was written to Contentful.\n");
    }
    out
}

/// Asks for `yes` on a terminal; refuses without `--auto-approve` when stdin is not one.
fn confirm(auto_approve: bool, plan: &Plan) -> std::io::Result<bool> {
    if auto_approve {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(std::io::Error::other(
            "refusing to apply without confirmation: stdin is not a terminal. Review the plan above and pass --auto-approve to apply it",
        ));
    }
    let mut err = std::io::stderr().lock();
    write!(
        err,
        "\nApply these changes to organization {}? Only 'yes' will be accepted: ",
        plan.organization
    )?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() == "yes" {
        return Ok(true);
    }
    err.write_all(cancellation(&answer).as_bytes())?;
    Ok(false)
}

/// What to print when the answer is not `yes`. An answer that does not end with a newline came
/// with end of input (Ctrl-D), which leaves the cursor on the prompt line: start a new line first.
fn cancellation(answer: &str) -> String {
    let newline = if answer.ends_with('\n') { "" } else { "\n" };
    format!("{newline}Apply cancelled; nothing was written.\n")
}

/// What the user sees while `apply` runs: the plan, the confirmation prompt, progress on stderr
/// when it is a terminal; and the journal (`--journal`), written line by line and flushed, opened
/// only once the apply starts (nothing is created for a refused or declined plan).
struct CliHooks {
    journal_path: Option<PathBuf>,
    journal: Option<File>,
    error: Option<std::io::Error>,
    bar: Option<indicatif::ProgressBar>,
    /// Print each operation's line as it finishes (the real apply; a rehearsal prints its
    /// report at the end, under its own heading).
    live: bool,
    /// Whether an operation's line was printed yet (the first one is preceded by a blank line).
    printed: bool,
    auto_approve: bool,
    color: bool,
    width: usize,
    config_display: Option<String>,
}

impl CliHooks {
    fn new(
        journal: Option<PathBuf>,
        global: &Global,
        auto_approve: bool,
        config_display: Option<String>,
    ) -> CliHooks {
        CliHooks {
            journal_path: journal,
            journal: None,
            error: None,
            bar: None,
            live: false,
            printed: false,
            auto_approve,
            color: global.color_stdout(),
            width: global.stdout_width(),
            config_display,
        }
    }

    fn render_opts(&self, plan: Option<&Plan>) -> RenderOptions {
        RenderOptions {
            color: self.color,
            width: self.width,
            config_display: self
                .config_display
                .clone()
                .or_else(|| plan.map(|p| p.config_path.clone()))
                .unwrap_or_default(),
        }
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        match (self.error.take(), &self.journal_path) {
            (Some(e), Some(path)) => Err(anyhow::Error::new(e)
                .context(format!("cannot write the journal {}", path.display()))),
            _ => Ok(()),
        }
    }
}

impl ApplyHooks for CliHooks {
    fn planned(&mut self, plan: &Plan) {
        let text = render::plan_text(plan, &self.render_opts(Some(plan)));
        if let Err(e) = print_stdout(&text) {
            tracing::warn!(error = %e, "cannot print the plan");
        }
    }

    fn confirm(&mut self, plan: &VerifiedPlan) -> std::io::Result<bool> {
        confirm(self.auto_approve, plan)
    }

    fn starting(&mut self, plan: &VerifiedPlan) -> std::io::Result<()> {
        self.live = true;
        APPLYING.store(true, Ordering::SeqCst);
        if let Some(p) = &self.journal_path {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| {
                    std::io::Error::new(
                        e.kind(),
                        format!("cannot open the journal {}: {e}", p.display()),
                    )
                })?;
            self.journal = Some(file);
        }
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(plan.operations.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("applying {bar:30} {pos}/{len} operations")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            self.bar = Some(bar);
        }
        Ok(())
    }
}

impl ApplyObserver for CliHooks {
    fn event(&mut self, event: &ApplyEvent) {
        match event {
            ApplyEvent::Journal(record) => {
                if let Some(file) = &mut self.journal
                    && self.error.is_none()
                {
                    let line = serde_json::to_string(record).unwrap_or_default();
                    if let Err(e) = writeln!(file, "{line}").and_then(|()| file.flush()) {
                        self.error = Some(e);
                    }
                }
            }
            ApplyEvent::Finished(outcome) => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                if self.live {
                    let mut text = if self.printed {
                        String::new()
                    } else {
                        String::from("\n")
                    };
                    self.printed = true;
                    text.push_str(&outcome_lines(outcome, self.color));
                    let print = || {
                        if let Err(e) = print_stdout(&text) {
                            tracing::warn!(error = %e, "cannot print an operation's outcome");
                        }
                    };
                    match &self.bar {
                        Some(bar) => bar.suspend(print),
                        None => print(),
                    }
                }
            }
            ApplyEvent::LevelStarted { .. } => {}
        }
    }
}

/// The signal (2 for SIGINT, 15 for SIGTERM) that asked the apply to stop; 0 while none did.
static SIGNAL: AtomicU8 = AtomicU8::new(0);
/// Set once the apply may send its first write: before that, a signal ends the process at once
/// (nothing was written, nothing is in flight).
static APPLYING: AtomicBool = AtomicBool::new(false);

/// SIGINT (Ctrl-C) and SIGTERM (a cancelled CI job) during `apply`. The first one, once writes
/// may be in flight, asks the apply to start nothing new ([`StopSignal::stop`]): the writes in
/// flight finish and are journaled, the summary is printed, and the exit code is 130 (SIGINT) or
/// 143 (SIGTERM). A second signal, or any signal before the first write, exits at once.
async fn watch_signals(stop: StopSignal) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        loop {
            let (number, code) = tokio::select! {
                _ = int.recv() => (2u8, Exit::Interrupted),
                _ = term.recv() => (15u8, Exit::Terminated),
            };
            let mut err = std::io::stderr().lock();
            if !APPLYING.load(Ordering::SeqCst) {
                let _ = writeln!(err, "\nInterrupted before anything was written.");
                std::process::exit(code as i32);
            }
            if SIGNAL.swap(number, Ordering::SeqCst) != 0 {
                let _ = writeln!(
                    err,
                    "\nStopping at once: the outcome of the writes in flight is not recorded; plan again to see what is left."
                );
                std::process::exit(code as i32);
            }
            stop.stop();
            let _ = writeln!(
                err,
                "\nInterrupted: starting nothing new, waiting for the writes in flight to finish (interrupt again to stop at once)."
            );
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_ok() {
            if !APPLYING.load(Ordering::SeqCst) {
                std::process::exit(Exit::Interrupted as i32);
            }
            SIGNAL.store(2, Ordering::SeqCst);
            stop.stop();
        }
    }
}

/// The lines of one operation's outcome, as the final report shows them (without its summary).
fn outcome_lines(outcome: &OpOutcome, color: bool) -> String {
    let one = ApplyReport {
        organization: String::new(),
        outcomes: vec![outcome.clone()],
        stopped: None,
    };
    let rendered = render::apply_report_text(&one, color);
    let lines: Vec<&str> = rendered.lines().collect();
    let mut out = String::new();
    for line in &lines[..lines.len().saturating_sub(1)] {
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_of_input_at_the_prompt_moves_the_cancellation_to_its_own_line() {
        // Ctrl-D: nothing (or a partial answer) without a newline.
        assert_eq!(
            cancellation(""),
            "\nApply cancelled; nothing was written.\n"
        );
        assert_eq!(
            cancellation("ye"),
            "\nApply cancelled; nothing was written.\n"
        );
        // An answer typed with Enter is already on its own line.
        assert_eq!(
            cancellation("no\n"),
            "Apply cancelled; nothing was written.\n"
        );
    }
}
