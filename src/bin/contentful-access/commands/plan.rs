//! `contentful-access plan`: reads the access file and the live organization, and shows what
//! `apply` would change, as text for people, JSON for machines (`--output` saves it for `apply`), or
//! markdown for a pull-request comment.

use std::path::PathBuf;

use anyhow::Context;
use contentful_access::config::{ConfigError, Diagnostic, Diagnostics};
use contentful_access::ops::{self, OpsError};
use contentful_access::plan::Plan;
use contentful_access::render::{self, RenderOptions};

use super::validate::{load_config, print_config_errors};
use super::{Exit, Global, print_stdout};

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
    pub read: super::ReadArgs,
}

/// Runs `plan`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<Exit> {
    let Some(desired) = load_config(global, &args.file.config)? else {
        return Ok(Exit::Error);
    };
    let super::Reading {
        target,
        recording,
        now,
    } = args.read.start()?;
    let planned = super::runtime()?.block_on(ops::plan_org(target, &desired, now));
    super::Recording::finish(recording)?;
    let Some((_live, plan)) = report_unresolved(global, planned)? else {
        return Ok(Exit::Error);
    };
    if let Some(out) = &args.out {
        std::fs::write(out, render::plan_json(&plan))
            .with_context(|| format!("cannot write the plan to {}", out.display()))?;
    }
    let config_display = args.file.config.display().to_string();
    print_stdout(&render_as(global, &plan, args.format, config_display))?;
    Ok(exit_for(&plan, args.detailed_exitcode))
}

/// The plan in `format` for stdout (`plan` and `show`): text in the terminal's colours and width,
/// markdown plain at a fixed width (a pull-request comment, not the terminal).
pub fn render_as(global: &Global, plan: &Plan, format: Format, config_display: String) -> String {
    let opts = RenderOptions {
        color: global.color_stdout(),
        width: global.stdout_width(),
        config_display,
    };
    match format {
        Format::Text => render::plan_text(plan, &opts),
        Format::Json => render::plan_json(plan),
        Format::Markdown => render::plan_markdown(
            plan,
            &RenderOptions {
                color: false,
                width: 100,
                ..opts
            },
        ),
    }
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

/// Turns names that do not resolve (a role missing in a space, a space not in the org) into
/// file:line:column errors on stderr, rendered like config errors, and returns `None`; an
/// invalid access file the same way. Passes any other result through.
pub fn report_unresolved<T>(
    global: &Global,
    result: Result<T, OpsError>,
) -> anyhow::Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(OpsError::Unresolved {
            path,
            included,
            source,
        }) => {
            // A problem in an included file names that file.
            let file_of = |d: &contentful_access::plan::Diagnostic| {
                d.span
                    .file
                    .checked_sub(1)
                    .and_then(|i| included.get(i as usize))
                    .unwrap_or(&path)
                    .clone()
            };
            let diagnostics = Diagnostics {
                path: path.clone(),
                items: source
                    .diagnostics()
                    .into_iter()
                    .map(|d| Diagnostic {
                        path: file_of(&d),
                        span: d.span,
                        message: d.message,
                        help: d.help,
                    })
                    .collect(),
            };
            print_config_errors(global, &diagnostics)?;
            Ok(None)
        }
        Err(OpsError::Config(err)) if matches!(*err, ConfigError::Invalid(_)) => {
            if let ConfigError::Invalid(diagnostics) = *err {
                print_config_errors(global, &diagnostics)?;
            }
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}
