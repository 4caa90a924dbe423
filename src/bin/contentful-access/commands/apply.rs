//! `contentful-access apply`: plans and applies the access file (after confirmation), applies a
//! saved plan exactly (after checking that nothing it touches changed), or rehearses a plan in an
//! in-process sandbox seeded from the live organization.

use std::fs::File;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::Utc;
use contentful_access::apply::{
    self, ApplyEvent, ApplyObserver, ApplyOptions, ApplyReport, describe_staleness, render_report,
};
use contentful_access::plan::Plan;
use contentful_access::render::{self, RenderOptions};
use sha2::{Digest, Sha256};

use super::plan::{read_and_plan, report_unresolved};
use super::target::{TargetArgs, connect};
use super::validate::load_config;
use super::{Exit, Global};

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
    match &args.plan {
        Some(path) => run_saved(global, &args, path),
        None => run_config(global, &args),
    }
}

fn options(args: &Args) -> ApplyOptions {
    ApplyOptions {
        parallelism: usize::from(args.parallelism),
        ..ApplyOptions::default()
    }
}

fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        stdout.write_all(b"\n")?;
    }
    stdout.flush()?;
    Ok(())
}

fn run_config(global: &Global, args: &Args) -> anyhow::Result<Exit> {
    let config = args
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from("access.yaml"));
    let Some(desired) = load_config(global, &config)? else {
        return Ok(Exit::Error);
    };
    let render_opts = RenderOptions {
        color: global.color_stdout(),
        width: global.stdout_width(),
        config_display: config.display().to_string(),
    };
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let target = connect(&args.target).await?;
        let result = async {
            let (live, plan) = read_and_plan(&target, &desired).await?;
            let Some(plan) = report_unresolved(global, &desired, plan)? else {
                return Ok(Exit::Error);
            };
            print_stdout(&render::plan_text(&plan, &render_opts))?;
            if plan.refused {
                return Ok(Exit::Refused);
            }
            if plan.is_empty() {
                return Ok(Exit::Ok);
            }
            if args.rehearse {
                // A rehearsal writes only to its own sandbox: nothing goes to the journal, which
                // records writes to the organization.
                let mut observer = CliObserver::new(None, plan.operations.len())?;
                let rehearsal =
                    apply::rehearse(&live, &desired, &plan, &options(args), &mut observer)
                        .await
                        .context("the rehearsal failed")?;
                observer.finish()?;
                let mut out = String::from("\nRehearsal in a sandbox copy of the organization:\n");
                out.push_str(&render_report(&rehearsal.report, global.color_stdout()));
                if rehearsal.converged() {
                    out.push_str("Rehearsal converged: planning again finds no changes. Nothing was written to Contentful.\n");
                } else {
                    out.push_str(&format!(
                        "Rehearsal did not converge: planning again finds {} operation(s):\n",
                        rehearsal.after.operations.len()
                    ));
                    out.push_str(&render::plan_text(&rehearsal.after, &render_opts));
                    out.push_str("Nothing was written to Contentful.\n");
                }
                print_stdout(&out)?;
                return Ok(if rehearsal.converged() {
                    Exit::Ok
                } else {
                    Exit::Error
                });
            }
            if !confirm(args.auto_approve, &plan)? {
                return Ok(Exit::Error);
            }
            let mut observer = CliObserver::new(args.journal.as_deref(), plan.operations.len())?;
            let opts = options(args).with_users_of(&live);
            let report = apply::apply(&target.client, &plan, &opts, &mut observer).await;
            observer.finish()?;
            finish(global, &report)
        }
        .await;
        target.close().await;
        result
    })
}

fn run_saved(global: &Global, args: &Args, path: &Path) -> anyhow::Result<Exit> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the saved plan {}", path.display()))?;
    let plan = Plan::from_json(&text)
        .with_context(|| format!("{} is not a usable plan", path.display()))?;
    if plan.refused {
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "error: the saved plan {} was refused by guardrails and is never applied:",
            path.display()
        )?;
        for g in plan.failed_guardrails() {
            writeln!(err, "  {}: {}", g.name, g.message)?;
        }
        return Ok(Exit::Refused);
    }
    let config = args.config.clone().or_else(|| {
        let p = PathBuf::from(&plan.config_path);
        p.is_file().then_some(p)
    });
    let config_sha = match &config {
        Some(c) => {
            let bytes = std::fs::read(c)
                .with_context(|| format!("cannot read the access file {}", c.display()))?;
            Some(
                Sha256::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>(),
            )
        }
        None => None,
    };
    let render_opts = RenderOptions {
        color: global.color_stdout(),
        width: global.stdout_width(),
        config_display: plan.config_path.clone(),
    };
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let target = connect(&args.target).await?;
        let result = async {
            let stale = apply::check_stale(
                &target.client,
                &plan,
                config_sha.as_deref(),
                Utc::now(),
                args.max_plan_age,
            )
            .await
            .context("cannot check whether the saved plan is still current")?;
            if !stale.is_empty() {
                let mut err = std::io::stderr().lock();
                writeln!(
                    err,
                    "error: the saved plan {} is out of date; nothing was written:",
                    path.display()
                )?;
                for s in &stale {
                    writeln!(err, "  - {}", describe_staleness(s))?;
                }
                writeln!(err, "Run plan again and review the new plan.")?;
                return Ok(Exit::Error);
            }
            print_stdout(&render::plan_text(&plan, &render_opts))?;
            if plan.is_empty() {
                return Ok(Exit::Ok);
            }
            let mut observer = CliObserver::new(args.journal.as_deref(), plan.operations.len())?;
            let report = apply::apply(&target.client, &plan, &options(args), &mut observer).await;
            observer.finish()?;
            finish(global, &report)
        }
        .await;
        target.close().await;
        result
    })
}

fn finish(global: &Global, report: &ApplyReport) -> anyhow::Result<Exit> {
    let mut out = String::from("\n");
    out.push_str(&render_report(report, global.color_stdout()));
    print_stdout(&out)?;
    Ok(if report.succeeded() {
        Exit::Ok
    } else {
        Exit::Error
    })
}

/// Asks for `yes` on a terminal; refuses without `--auto-approve` when stdin is not one.
fn confirm(auto_approve: bool, plan: &Plan) -> anyhow::Result<bool> {
    if auto_approve {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing to apply without confirmation: stdin is not a terminal. Review the plan above and pass --auto-approve to apply it"
        );
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
        Ok(true)
    } else {
        writeln!(err, "Apply cancelled; nothing was written.")?;
        Ok(false)
    }
}

/// Writes journal lines (flushed one by one) and shows progress on stderr when it is a terminal.
struct CliObserver {
    journal: Option<(PathBuf, File)>,
    error: Option<std::io::Error>,
    bar: Option<indicatif::ProgressBar>,
}

impl CliObserver {
    fn new(journal: Option<&Path>, ops: usize) -> anyhow::Result<CliObserver> {
        let journal = match journal {
            Some(p) => Some((
                p.to_path_buf(),
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .with_context(|| format!("cannot open the journal {}", p.display()))?,
            )),
            None => None,
        };
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(ops as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("applying {bar:30} {pos}/{len} operations")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Ok(CliObserver {
            journal,
            error: None,
            bar,
        })
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        match (self.error.take(), &self.journal) {
            (Some(e), Some((path, _))) => {
                Err(e).with_context(|| format!("cannot write the journal {}", path.display()))
            }
            _ => Ok(()),
        }
    }
}

impl ApplyObserver for CliObserver {
    fn event(&mut self, event: &ApplyEvent) {
        match event {
            ApplyEvent::Journal(record) => {
                if let Some((_, file)) = &mut self.journal
                    && self.error.is_none()
                {
                    let line = serde_json::to_string(record).unwrap_or_default();
                    if let Err(e) = writeln!(file, "{line}").and_then(|()| file.flush()) {
                        self.error = Some(e);
                    }
                }
            }
            ApplyEvent::Finished(_) => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            ApplyEvent::LevelStarted { .. } => {}
        }
    }
}
