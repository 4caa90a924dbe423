//! `contentful-access show`: renders a saved plan (`plan --output FILE`) as text, JSON or markdown
//! without contacting Contentful: no token, no network. For reviewing the plan a pull request
//! saved as an artifact, or posting it as a comment later.

use std::path::PathBuf;

use contentful_access::ops;
use contentful_access::render::{self, RenderOptions};

use super::plan::Format;
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
    let opts = RenderOptions {
        color: global.color_stdout(),
        width: global.stdout_width(),
        config_display: plan.config_path.clone(),
    };
    let output = match args.format {
        Format::Text => render::plan_text(&plan, &opts),
        Format::Json => render::plan_json(&plan),
        Format::Markdown => render::plan_markdown(
            &plan,
            &RenderOptions {
                color: false,
                width: 100,
                ..opts
            },
        ),
    };
    print_stdout(&output)?;
    Ok(Exit::Ok)
}
