//! `contentful-access show`: renders a saved plan (`plan --output FILE`) as text, JSON or markdown
//! without contacting Contentful: no token, no network. For reviewing the plan a pull request
//! saved as an artifact, or posting it as a comment later.

use std::path::PathBuf;

use contentful_access::ops;

use super::plan::{Format, render_as};
use super::{Exit, Global, print_stdout};

/// Arguments of `show`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The saved plan (`plan --output FILE`).
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs `show`.
pub fn run(global: &Global, args: Args) -> anyhow::Result<Exit> {
    let plan = ops::load_plan(&args.plan)?;
    let config_display = plan.config_path.clone();
    let output = render_as(global, &plan, args.format, config_display);
    print_stdout(&output)?;
    Ok(Exit::Ok)
}
