//! Problems found in an access file, and how they are shown: rustc-style text with a caret under
//! the offending token, or GitHub Actions annotations that put each problem on the pull request's
//! diff.

use std::fmt::Write as _;

use crate::model::Span;

/// One problem in an access file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as given on the command line.
    pub path: String,
    /// Where the problem is (1-based line and column).
    pub span: Span,
    /// What is wrong, in one line.
    pub message: String,
    /// A hint, usually "did you mean `editors`?".
    pub help: Option<String>,
}

/// Every problem found in one access file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics {
    /// The file, as given on the command line.
    pub path: String,
    /// The problems, sorted by position. Never empty when returned by [`crate::config::load`].
    pub items: Vec<Diagnostic>,
}

impl std::fmt::Display for Diagnostics {
    /// A one-line summary such as `3 errors in access.yaml`; use [`Diagnostics::render`] for
    /// the details.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.items.len();
        write!(
            f,
            "{n} error{} in {}",
            if n == 1 { "" } else { "s" },
            self.path
        )
    }
}

const RED: &str = "\x1b[1;31m";
const BLUE: &str = "\x1b[1;34m";
const CYAN: &str = "\x1b[1;36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

impl Diagnostics {
    /// The number of problems.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there is no problem.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Renders every problem like a compiler does, then a summary line:
    ///
    /// ```text
    /// error: unknown key `editor` in team `web-admins`
    ///   --> access.yaml:12:5
    ///    |
    /// 12 |     editor: x
    ///    |     ^^^^^^
    ///    = help: did you mean `editors`?
    ///
    /// 1 error in access.yaml
    /// ```
    ///
    /// `source` is the file's text (for the snippets); `color` adds ANSI colours; source lines
    /// longer than `width` columns are cut around the caret.
    pub fn render(&self, source: &str, color: bool, width: usize) -> String {
        let paint = |style: &str, text: &str| {
            if color {
                format!("{style}{text}{RESET}")
            } else {
                text.to_string()
            }
        };
        let lines: Vec<&str> = source.lines().collect();
        let gutter = self
            .items
            .iter()
            .map(|d| d.span.line.to_string().len())
            .max()
            .unwrap_or(1);
        let mut out = String::new();
        for d in &self.items {
            let _ = writeln!(
                out,
                "{}{}",
                paint(RED, "error"),
                paint(BOLD, &format!(": {}", d.message))
            );
            let _ = writeln!(
                out,
                "{:gutter$}{} {}:{}:{}",
                "",
                paint(BLUE, "-->"),
                d.path,
                d.span.line,
                d.span.column
            );
            let line_text = (d.span.line as usize)
                .checked_sub(1)
                .and_then(|i| lines.get(i));
            if let Some(text) = line_text {
                let bar = paint(BLUE, "|");
                let (shown, caret_at, caret_len) = snippet(
                    text,
                    d.span.column as usize,
                    width.saturating_sub(gutter + 3),
                );
                let _ = writeln!(out, "{:gutter$} {bar}", "");
                let _ = writeln!(
                    out,
                    "{} {bar} {}",
                    paint(BLUE, &format!("{:>gutter$}", d.span.line)),
                    shown.trim_end()
                );
                let _ = writeln!(
                    out,
                    "{:gutter$} {bar} {:caret_at$}{}",
                    "",
                    "",
                    paint(RED, &"^".repeat(caret_len))
                );
            }
            if let Some(help) = &d.help {
                let _ = writeln!(out, "{:gutter$} {} {help}", "", paint(CYAN, "= help:"));
            }
            out.push('\n');
        }
        let _ = writeln!(out, "{}", paint(BOLD, &self.to_string()));
        out
    }

    /// One GitHub Actions workflow command per problem:
    /// `::error file=<path>,line=<l>,col=<c>::<message>` (the help, if any, appended).
    pub fn github_annotations(&self) -> String {
        let mut out = String::new();
        for d in &self.items {
            let mut message = d.message.clone();
            if let Some(help) = &d.help {
                message.push_str(" (");
                message.push_str(help);
                message.push(')');
            }
            let _ = writeln!(
                out,
                "::error file={},line={},col={}::{}",
                escape_property(&d.path),
                d.span.line,
                d.span.column,
                escape_data(&message)
            );
        }
        out
    }
}

/// Escapes a workflow-command message (GitHub's `escapeData`).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property (GitHub's `escapeProperty`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The line to show (tabs as spaces, cut to `width` characters around the caret), the caret's
/// offset in it and the caret's length (the token at `column`, at least 1).
fn snippet(line: &str, column: usize, width: usize) -> (String, usize, usize) {
    let chars: Vec<char> = line
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    let start = column.saturating_sub(1).min(chars.len());
    let len = token_len(&chars[start..]).max(1);
    let width = width.max(20);
    if chars.len() <= width {
        return (chars.iter().collect(), start, len);
    }
    // Keep the caret about a third into the window; mark cuts with an ellipsis.
    let from = start.saturating_sub(width / 3);
    let to = (from + width - 2).min(chars.len());
    let mut shown = String::new();
    let mut caret_at = start - from;
    if from > 0 {
        shown.push('…');
        caret_at += 1;
    }
    shown.extend(&chars[from..to]);
    if to < chars.len() {
        shown.push('…');
    }
    let len = len.min(to.saturating_sub(start)).max(1);
    (shown, caret_at, len)
}

/// The length in characters of the YAML token starting at `chars[0]`: a quoted scalar, a flow
/// collection, or a plain scalar up to `: `, `,`, `]`, `}`, ` #` or the end of the line.
fn token_len(chars: &[char]) -> usize {
    match chars.first() {
        None => 0,
        Some(&q @ ('"' | '\'')) => chars
            .iter()
            .skip(1)
            .position(|&c| c == q)
            .map_or(chars.len(), |p| p + 2),
        Some(&open @ ('[' | '{')) => {
            let close = if open == '[' { ']' } else { '}' };
            let mut depth = 0usize;
            for (i, &c) in chars.iter().enumerate() {
                if c == open {
                    depth += 1;
                } else if c == close {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
            }
            chars.len()
        }
        Some(_) => {
            let mut end = chars.len();
            for i in 0..chars.len() {
                let c = chars[i];
                let next = chars.get(i + 1).copied();
                let ends = match c {
                    ':' => next.is_none_or(char::is_whitespace),
                    ',' | ']' | '}' => true,
                    '#' => i > 0 && chars[i - 1].is_whitespace(),
                    _ => false,
                };
                if ends {
                    end = i;
                    break;
                }
            }
            chars[..end]
                .iter()
                .rev()
                .skip_while(|c| c.is_whitespace())
                .count()
        }
    }
}

/// The text of the token at `span` in `source` (for scalars YAML turned into numbers or booleans,
/// so names keep their spelling: `no`, `0123`).
pub(crate) fn token_at(source: &str, span: Span) -> Option<String> {
    let line = source.lines().nth((span.line as usize).checked_sub(1)?)?;
    let chars: Vec<char> = line.chars().collect();
    let start = (span.column as usize).checked_sub(1)?;
    let rest = chars.get(start..)?;
    let len = token_len(rest);
    let token: String = rest[..len].iter().collect();
    let token = token.trim();
    (!token.is_empty()).then(|| token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diags(items: Vec<(u32, u32, &str, Option<&str>)>) -> Diagnostics {
        Diagnostics {
            path: "access.yaml".into(),
            items: items
                .into_iter()
                .map(|(line, column, m, h)| Diagnostic {
                    path: "access.yaml".into(),
                    span: Span { line, column },
                    message: m.into(),
                    help: h.map(Into::into),
                })
                .collect(),
        }
    }

    #[test]
    fn render_puts_a_caret_under_the_token_and_counts_errors() {
        let src = "teams:\n  web-admins:\n    editor: x\n";
        let d = diags(vec![(
            3,
            5,
            "unknown key `editor`",
            Some("did you mean `editors`?"),
        )]);
        let out = d.render(src, false, 100);
        assert_eq!(
            out,
            "error: unknown key `editor`\n --> access.yaml:3:5\n  |\n3 |     editor: x\n  |     ^^^^^^\n  = help: did you mean `editors`?\n\n1 error in access.yaml\n"
        );
        assert!(!out.contains('\x1b'));
        assert!(d.render(src, true, 100).contains("\x1b[1;31merror"));
    }

    #[test]
    fn tokens_end_at_yaml_punctuation() {
        let len = |s: &str| token_len(&s.chars().collect::<Vec<_>>());
        assert_eq!(len("editor: x"), 6);
        assert_eq!(len("[Editor, Author] # c"), 16);
        assert_eq!(len("\"a b\": c"), 5);
        assert_eq!(len("Editor, Author]"), 6);
        assert_eq!(len("10%   # comment"), 3);
        assert_eq!(len("jane@x.com:"), 10);
    }

    #[test]
    fn long_lines_are_cut_around_the_caret() {
        let line = format!("{}target: {}", "a ".repeat(60), "b ".repeat(60));
        let (shown, at, len) = snippet(&line, 121, 40);
        assert!(shown.chars().count() <= 40);
        assert_eq!(
            shown.chars().skip(at).take(len).collect::<String>(),
            "target"
        );
    }

    #[test]
    fn annotations_escape_what_github_would_misread() {
        let d = diags(vec![(2, 3, "50% too\nmuch", Some("did you mean `x`?"))]);
        assert_eq!(
            d.github_annotations(),
            "::error file=access.yaml,line=2,col=3::50%25 too%0Amuch (did you mean `x`?)\n"
        );
    }
}
