//! `contentful-access plan`: reads the access file and the live organization, and shows what
//! `apply` would change, as text for people, JSON for machines (`--output` saves it for `apply`), or
//! markdown for a pull-request comment.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use chrono::Utc;
use contentful_access::config::{Diagnostic, Diagnostics};
use contentful_access::model::{DesiredState, LiveState};
use contentful_access::plan::{self, Plan, PlanError, PlanOptions};
use contentful_access::render::{self, RenderOptions};

use super::target::{Target, TargetArgs, connect};
use super::validate::{load_config, print_config_errors};
use super::{Exit, Global};

/// The output formats of `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    /// Terraform-like `+` / `~` / `-` lines for people.
    #[default]
    Text,
    /// The versioned plan document (the same as `--output` writes).
    Json,
    /// For pull-request comments: a summary table, details in a collapsible block.
    Markdown,
}

/// Arguments of `plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub file: super::ConfigArg,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also save the plan as JSON to FILE, for `contentful-access apply FILE`. (`--out` is the
    /// old spelling, still accepted.)
    #[arg(short = 'o', long = "output", alias = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 2 when there are changes (0 when none, 1 on error, 3 when refused).
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// Runs `plan`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<Exit> {
    let Some(desired) = load_config(global, &args.file.config)? else {
        return Ok(Exit::Error);
    };
    let runtime = super::runtime()?;
    let (_live, plan) = runtime.block_on(async {
        let target = connect(&args.target).await?;
        let result = read_and_plan(&target, &desired).await;
        target.close().await;
        result
    })?;
    let Some(plan) = report_unresolved(global, &desired, plan)? else {
        return Ok(Exit::Error);
    };
    if let Some(out) = &args.out {
        std::fs::write(out, render::plan_json(&plan))
            .with_context(|| format!("cannot write the plan to {}", out.display()))?;
    }
    let opts = RenderOptions {
        color: global.color_stdout(),
        width: global.stdout_width(),
        config_display: args.file.config.display().to_string(),
    };
    let output = match args.format {
        Format::Text => render::plan_text(&plan, &opts),
        Format::Json => render::plan_json(&plan),
        Format::Markdown => render::plan_markdown(
            &plan,
            &RenderOptions {
                color: false,
                // A pull-request comment, not the terminal: a fixed width.
                width: 100,
                ..opts
            },
        ),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(output.as_bytes())?;
    if !output.ends_with('\n') {
        stdout.write_all(b"\n")?;
    }
    stdout.flush()?;
    Ok(exit_for(&plan, args.detailed_exitcode))
}

/// The exit code a plan gives: 3 when refused, 2 for changes with `--detailed-exitcode`, else 0.
pub fn exit_for(plan: &Plan, detailed: bool) -> Exit {
    if plan.refused {
        Exit::Refused
    } else if detailed && !plan.is_empty() {
        Exit::Changes
    } else {
        Exit::Ok
    }
}

/// Reads the live organization the access file manages and plans against it.
pub async fn read_and_plan(
    target: &Target,
    desired: &DesiredState,
) -> anyhow::Result<(LiveState, Result<Plan, PlanError>)> {
    let spaces: Vec<String> = desired.spaces.values().map(|s| s.id.clone()).collect();
    let live = target
        .client
        .read_live_state(&desired.organization, &spaces)
        .await
        .with_context(|| format!("cannot read organization {}", desired.organization))?;
    let opts = PlanOptions {
        created_at: Utc::now(),
    };
    let plan = plan::build(desired, &live, &opts);
    Ok((live, plan))
}

/// Turns names that do not resolve (a role missing in a space, a space not in the org) into
/// file:line:column errors on stderr, rendered like config errors. Returns the plan otherwise.
pub fn report_unresolved(
    global: &Global,
    desired: &DesiredState,
    plan: Result<Plan, PlanError>,
) -> anyhow::Result<Option<Plan>> {
    match plan {
        Ok(plan) => Ok(Some(plan)),
        Err(err) => {
            let diagnostics = Diagnostics {
                path: desired.source_path.clone(),
                items: err
                    .diagnostics()
                    .into_iter()
                    .map(|d| Diagnostic {
                        path: desired.source_path.clone(),
                        span: d.span,
                        message: d.message,
                        help: d.help,
                    })
                    .collect(),
            };
            print_config_errors(global, &diagnostics)?;
            Ok(None)
        }
    }
}
