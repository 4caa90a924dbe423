//! The one home of colour and width. Every renderer (plans, reports, access-file diagnostics, the
//! binary's one-line summaries) paints with these [`anstyle`] styles, and only when its caller
//! asked for colour; the library never asks the terminal. Width has one rule as well
//! ([`terminal_width`]: the terminal's size, else `COLUMNS`, else [`DEFAULT_WIDTH`]); the binary
//! measures and passes the number in ([`super::RenderOptions::width`], the `width` of
//! [`crate::config::Diagnostics::render`]).

use anstyle::{AnsiColor, Effects, Style};

/// Something is added (`+`).
pub const ADD: Style = AnsiColor::Green.on_default();
/// Something changes (`~`).
pub const CHANGE: Style = AnsiColor::Yellow.on_default();
/// Something is removed (`-`), or failed.
pub const REMOVE: Style = AnsiColor::Red.on_default();
/// An error heading, a refusal, a caret under a mistake.
pub const ERROR: Style = AnsiColor::Red.on_default().effects(Effects::BOLD);
/// A warning or a stop (e.g. "Stopped: interrupted").
pub const WARNING: Style = AnsiColor::Yellow.on_default().effects(Effects::BOLD);
/// A success line (e.g. "access.yaml is valid").
pub const SUCCESS: Style = AnsiColor::Green.on_default().effects(Effects::BOLD);
/// Line numbers, gutters and `-->` in diagnostics.
pub const GUTTER: Style = AnsiColor::Blue.on_default().effects(Effects::BOLD);
/// `= help:` in diagnostics.
pub const HELP: Style = AnsiColor::Cyan.on_default().effects(Effects::BOLD);
/// Headings and summaries.
pub const EMPHASIS: Style = Style::new().effects(Effects::BOLD);
/// Things that matter less (ids, unchanged lines).
pub const DIM: Style = Style::new().effects(Effects::DIMMED);

/// The width renderers wrap or cut to when the terminal's is unknown.
pub const DEFAULT_WIDTH: usize = 100;

/// The narrowest width honoured; anything narrower is taken as a mistake.
pub const MIN_WIDTH: usize = 40;

/// `text` in `style` when `color` is on, else `text` unchanged.
pub fn paint(style: Style, text: &str, color: bool) -> String {
    if color {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_string()
    }
}

/// The width to render for: the terminal's own size when the output is one (`measured`), else
/// the value of `COLUMNS` (what shells export), else [`DEFAULT_WIDTH`]; a width narrower than
/// [`MIN_WIDTH`] is ignored. Pure: the binary measures and reads the variable and passes them in.
pub fn terminal_width(measured: Option<usize>, columns: Option<&str>) -> usize {
    measured
        .filter(|&w| w >= MIN_WIDTH)
        .or_else(|| {
            columns
                .and_then(|c| c.trim().parse::<usize>().ok())
                .filter(|&c| c >= MIN_WIDTH)
        })
        .unwrap_or(DEFAULT_WIDTH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paint_only_when_asked() {
        assert_eq!(paint(ERROR, "error", false), "error");
        let painted = paint(ERROR, "error", true);
        assert!(painted.starts_with('\x1b') && painted.ends_with("\x1b[0m"));
        assert!(painted.contains("error"));
    }

    #[test]
    fn width_is_the_terminals_when_it_is_sensible() {
        assert_eq!(terminal_width(Some(132), Some("120")), 132);
        assert_eq!(terminal_width(None, Some("120")), 120);
        assert_eq!(terminal_width(Some(0), Some("120")), 120);
        assert_eq!(terminal_width(None, Some("12")), DEFAULT_WIDTH);
        assert_eq!(terminal_width(None, Some("wide")), DEFAULT_WIDTH);
        assert_eq!(terminal_width(None, None), DEFAULT_WIDTH);
    }
}
