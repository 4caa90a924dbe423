//! Problems found in an access file, and how they are shown: rustc-style text with a caret under
//! the offending token (rendered by `annotate-snippets`, what rustc and cargo use, so carets stay
//! under the token when the line holds wide characters such as CJK or emoji), or GitHub Actions
//! annotations that put each problem on the pull request's diff.

use std::fmt::Write as _;

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

use crate::model::Span;
use crate::render::style;

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
        self.render_files(&|_| source, color, width)
    }

    /// [`Diagnostics::render`] for problems in several files (an access file and the files it
    /// includes): `source_of(path)` is the text of the file each problem names.
    pub fn render_files<'s>(
        &self,
        source_of: &dyn Fn(&str) -> &'s str,
        color: bool,
        width: usize,
    ) -> String {
        let renderer = if color {
            Renderer::styled()
                .error(style::ERROR)
                .line_num(style::GUTTER)
                .help(style::HELP)
                .emphasis(style::EMPHASIS)
        } else {
            Renderer::plain()
        }
        .term_width(width);
        let mut out = String::new();
        // Split each file into lines once (problems come grouped by file).
        let mut cached: Option<(&str, Vec<&'s str>)> = None;
        for d in &self.items {
            if cached.as_ref().is_none_or(|(p, _)| *p != d.path.as_str()) {
                cached = Some((d.path.as_str(), source_of(&d.path).lines().collect()));
            }
            let lines: &[&str] = cached.as_ref().map_or(&[], |(_, l)| l.as_slice());
            let line = d.span.line as usize;
            let title = Level::ERROR.primary_title(d.message.as_str());
            let mut group: Group<'_> = match line.checked_sub(1).and_then(|i| lines.get(i)) {
                Some(text) => title.element(
                    Snippet::source(*text)
                        .line_start(line)
                        .path(d.path.as_str())
                        .annotation(
                            AnnotationKind::Primary.span(token_range(text, d.span.column as usize)),
                        ),
                ),
                None => title.element(
                    Origin::path(d.path.as_str())
                        .line(line)
                        .char_column(d.span.column as usize),
                ),
            };
            if let Some(help) = &d.help {
                group = group.element(Level::HELP.message(help.as_str()));
            }
            out.push_str(&renderer.render(&[group]));
            out.push_str("\n\n");
        }
        let _ = writeln!(
            out,
            "{}",
            style::paint(style::EMPHASIS, &self.to_string(), color)
        );
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

/// The byte range in `line` of the token at the 1-based character `column` (at least one
/// character when the line has one there).
fn token_range(line: &str, column: usize) -> std::ops::Range<usize> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let start = column.saturating_sub(1).min(chars.len());
    let rest: Vec<char> = chars[start..].iter().map(|(_, c)| *c).collect();
    let end = start + token_len(&rest).max(1).min(rest.len());
    let byte = |i: usize| chars.get(i).map_or(line.len(), |(b, _)| *b);
    byte(start)..byte(end)
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
                    span: Span::root(line, column),
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
            "error: unknown key `editor`\n --> access.yaml:3:5\n  |\n3 |     editor: x\n  |     ^^^^^^\n  |\n  = help: did you mean `editors`?\n\n1 error in access.yaml\n"
        );
        assert!(!out.contains('\x1b'));
        let coloured = d.render(src, true, 100);
        assert!(
            coloured.starts_with(&style::ERROR.render().to_string()),
            "{coloured:?}"
        );
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

    /// The text above the carets of a rendered snippet: (source line as shown, caret line).
    fn snippet_lines(out: &str) -> (String, String) {
        let lines: Vec<&str> = out.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.trim_start().starts_with('|') && l.contains('^'))
            .expect("a caret line");
        (lines[at - 1].to_string(), lines[at].to_string())
    }

    #[test]
    fn long_lines_are_cut_around_the_caret() {
        let line = format!("{}target: {}", "a ".repeat(60), "b ".repeat(60));
        let d = diags(vec![(1, 121, "unknown key `target`", None)]);
        let out = d.render(&line, false, 60);
        let (shown, carets) = snippet_lines(&out);
        assert!(shown.chars().count() <= 60, "{out}");
        let at = carets.find('^').expect("caret");
        let under: String = shown.chars().skip(at).take(6).collect();
        assert_eq!(under, "target", "{out}");
        assert_eq!(carets.matches('^').count(), 6, "{out}");
    }

    #[test]
    fn carets_stay_under_tokens_after_wide_characters() {
        let src = "teams:\n  编辑部: {membres: []}\n";
        let d = diags(vec![(2, 9, "unknown key `membres`", None)]);
        let out = d.render(src, false, 100);
        let (shown, carets) = snippet_lines(&out);
        let token = shown.find("membres").expect("token shown");
        // Each of the three CJK characters is two columns wide but three bytes long: the caret
        // must sit at the token's display column, which here equals its byte offset minus one
        // per wide character (3 bytes, 2 columns).
        let display = shown[..token].chars().count()
            + shown[..token].chars().filter(|c| !c.is_ascii()).count();
        assert_eq!(carets.find('^'), Some(display), "{out}");
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
