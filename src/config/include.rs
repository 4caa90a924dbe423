//! `include:` — one organization's access file split over several files.
//!
//! The root file may list glob patterns, relative to its own directory, of files that declare
//! more `teams` and `users` (for example one file per team, owned by that team). The included
//! files are read (each through [`read_bounded`]), parsed into node trees whose spans name their
//! file ([`Span::file`]), and their `teams` and `users` entries are appended to the root's, so the
//! validator sees one document: every check works across files as in one (a user or team declared
//! twice is reported at the second declaration, naming the first's file and line).
//!
//! Decisions: files are taken in sorted path order, each file once (a file matched by two
//! patterns, or by a pattern and the root itself, is read once and the root never re-included);
//! a pattern that matches no file is an error (a mistyped glob would otherwise silently drop a
//! team's people, and with `prune` remove them); absolute patterns are refused (the set of files
//! must not depend on the machine); included files may not include further files.

use std::path::{Path, PathBuf};

use crate::input::{InputError, MAX_FILE_BYTES, read_bounded};
use crate::model::Span;

use super::diagnostics::Diagnostic;
use super::node::{Kind, Node};
use super::validate::did_you_mean;

/// Top-level keys an included file may have.
pub(crate) const INCLUDED_KEYS: &[&str] = &["teams", "users"];

/// Top-level keys only the root file may have.
const ROOT_ONLY_KEYS: &[&str] = &[
    "version",
    "organization",
    "policy",
    "spaces",
    "include",
    "roles",
];

/// One file of an access file set, as read.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    /// As given on the command line (the root) or the root's directory joined with the match.
    pub display: String,
    /// Relative to the root file's directory, `/`-separated: what the set's hash records.
    pub name: String,
    /// The text.
    pub text: String,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
}

/// Why the included files could not be read or merged.
pub(crate) enum IncludeError {
    /// A file could not be read.
    Io(InputError),
    /// Problems located in the files (patterns, YAML, keys).
    Invalid(Vec<Diagnostic>),
}

/// The `include:` patterns of the root node, with where each is written. `Ok(empty)` when the
/// root has no `include`.
fn patterns(root: &Node, root_path: &str) -> Result<Vec<(String, Span)>, Vec<Diagnostic>> {
    let Kind::Map(entries) = &root.kind else {
        return Ok(Vec::new());
    };
    let Some((_, value)) = entries
        .iter()
        .find(|(k, _)| matches!(&k.kind, Kind::Str(s) if s == "include"))
    else {
        return Ok(Vec::new());
    };
    let err = |at: Span, message: String| Diagnostic {
        path: root_path.to_string(),
        span: at,
        message,
        help: Some(
            "write `include: [teams/*.yaml, people/*.yaml]` (paths relative to this file)".into(),
        ),
    };
    let items: Vec<&Node> = match &value.kind {
        Kind::Str(_) => vec![value],
        Kind::Seq(items) => items.iter().collect(),
        Kind::Null => return Ok(Vec::new()),
        other => {
            return Err(vec![err(
                value.at,
                format!(
                    "`include` must be a glob pattern or a list of them, found {}",
                    other.describe()
                ),
            )]);
        }
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for item in items {
        match &item.kind {
            Kind::Str(p) if p.trim().is_empty() => {
                errors.push(err(item.at, "an `include` pattern cannot be empty".into()))
            }
            Kind::Str(p) if Path::new(p).is_absolute() => errors.push(err(
                item.at,
                format!("the `include` pattern `{p}` is absolute; patterns are relative to the root file"),
            )),
            Kind::Str(p) => out.push((p.clone(), item.at)),
            other => errors.push(err(
                item.at,
                format!("an `include` pattern must be text, found {}", other.describe()),
            )),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The files the root's `include:` patterns match, in sorted order, each once, without the root.
fn matches(
    root_file: &Path,
    root_path: &str,
    patterns: &[(String, Span)],
) -> Result<Vec<PathBuf>, Vec<Diagnostic>> {
    let dir = root_file.parent().unwrap_or(Path::new(""));
    let escaped_dir = glob::Pattern::escape(&dir.to_string_lossy());
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let options = glob::MatchOptions {
        case_sensitive: true,
        // `*` does not match a `/`; `**` spans directories.
        require_literal_separator: true,
        // `*.yaml` does not pick up hidden files (editor swap files, `.#x.yaml`).
        require_literal_leading_dot: true,
    };
    for (pattern, at) in patterns {
        let full = if escaped_dir.is_empty() {
            pattern.clone()
        } else {
            format!("{escaped_dir}/{pattern}")
        };
        let err = |message: String, help: Option<String>| Diagnostic {
            path: root_path.to_string(),
            span: *at,
            message,
            help,
        };
        let paths = match glob::glob_with(&full, options) {
            Ok(paths) => paths,
            Err(e) => {
                errors.push(err(
                    format!("`{pattern}` is not a valid glob pattern: {}", e.msg),
                    None,
                ));
                continue;
            }
        };
        let mut found = 0;
        for entry in paths {
            match entry {
                Ok(p) if p.is_file() => {
                    found += 1;
                    files.push(p);
                }
                Ok(_) => {}
                Err(e) => errors.push(err(
                    format!("cannot read {}: {}", e.path().display(), e.error()),
                    None,
                )),
            }
        }
        if found == 0 {
            errors.push(err(
                format!("`include: {pattern}` matches no file (relative to {})", display_dir(dir)),
                Some("fix the pattern or remove it: a pattern that matches nothing would silently drop whom it was meant to declare".into()),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let root_canonical = root_file.canonicalize().ok();
    files.sort();
    files.dedup();
    files.retain(|p| p.canonicalize().ok() != root_canonical || root_canonical.is_none());
    Ok(files)
}

fn display_dir(dir: &Path) -> String {
    if dir.as_os_str().is_empty() {
        ".".to_string()
    } else {
        dir.display().to_string()
    }
}

/// Sets the file index of every span in `node`.
fn set_file(node: &mut Node, file: u32) {
    node.at.file = file;
    match &mut node.kind {
        Kind::Seq(items) => items.iter_mut().for_each(|n| set_file(n, file)),
        Kind::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            set_file(k, file);
            set_file(v, file);
        }),
        _ => {}
    }
}

/// Reads the files the root's `include:` names and merges their `teams` and `users` into
/// `root` (whose `include` entry is removed). Returns the included files, in the order of their
/// file index (1, 2, …). `parse` turns a file's text into a node tree or a located YAML error.
pub(crate) fn expand(
    root_file: &Path,
    root_path: &str,
    root: &mut Node,
    parse: impl Fn(&str, &str) -> Result<Node, Diagnostic>,
) -> Result<Vec<SourceFile>, IncludeError> {
    let patterns = patterns(root, root_path).map_err(IncludeError::Invalid)?;
    if let Kind::Map(entries) = &mut root.kind {
        entries.retain(|(k, _)| !matches!(&k.kind, Kind::Str(s) if s == "include"));
    }
    if patterns.is_empty() {
        return Ok(Vec::new());
    }
    let files = matches(root_file, root_path, &patterns).map_err(IncludeError::Invalid)?;
    let dir = root_file.parent().unwrap_or(Path::new(""));
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    let mut teams: Vec<(Node, Node)> = Vec::new();
    let mut users: Vec<(Node, Node)> = Vec::new();
    let mut first_at: [Option<Span>; 2] = [None, None];
    for (i, file) in files.iter().enumerate() {
        let index = (i + 1) as u32;
        let display = file.display().to_string();
        let bytes = read_bounded(file, MAX_FILE_BYTES).map_err(IncludeError::Io)?;
        let name = file
            .strip_prefix(dir)
            .unwrap_or(file)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let sha256 = super::hex_sha256(&bytes);
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                errors.push(Diagnostic {
                    path: display.clone(),
                    span: Span::at(index, 1, 1),
                    message: format!(
                        "the file is not valid UTF-8 (byte {})",
                        e.utf8_error().valid_up_to()
                    ),
                    help: None,
                });
                sources.push(SourceFile {
                    display,
                    name,
                    text: String::new(),
                    sha256,
                });
                continue;
            }
        };
        match parse(&display, &text) {
            Err(mut d) => {
                d.span.file = index;
                errors.push(d);
            }
            Ok(mut node) => {
                set_file(&mut node, index);
                match node.kind {
                    Kind::Null => {}
                    Kind::Map(entries) => {
                        for (key, value) in entries {
                            let k = match &key.kind {
                                Kind::Str(s) => s.clone(),
                                _ => key.scalar_text().unwrap_or_default(),
                            };
                            let slot = match k.as_str() {
                                "teams" => Some((0, &mut teams)),
                                "users" => Some((1, &mut users)),
                                _ => None,
                            };
                            match slot {
                                Some((n, list)) => match value.kind {
                                    Kind::Map(more) => {
                                        if first_at[n].is_none() {
                                            first_at[n] = Some(key.at);
                                        }
                                        list.extend(more);
                                    }
                                    Kind::Null => {}
                                    other => errors.push(Diagnostic {
                                        path: display.clone(),
                                        span: value.at,
                                        message: format!("`{k}` must be a mapping, found {}", other.describe()),
                                        help: None,
                                    }),
                                },
                                None if ROOT_ONLY_KEYS.contains(&k.as_str()) => errors.push(Diagnostic {
                                    path: display.clone(),
                                    span: key.at,
                                    message: format!(
                                        "`{k}` may only be in the root file {root_path}, not in an included file"
                                    ),
                                    help: Some("included files declare `teams` and `users` only".into()),
                                }),
                                None => errors.push(Diagnostic {
                                    path: display.clone(),
                                    span: key.at,
                                    message: format!("unknown key `{k}` in an included file"),
                                    help: did_you_mean(&k, INCLUDED_KEYS.iter().copied())
                                        .or_else(|| Some("expected one of: teams, users".into())),
                                }),
                            }
                        }
                    }
                    other => errors.push(Diagnostic {
                        path: display.clone(),
                        span: node.at,
                        message: format!(
                            "an included file must be a mapping with `teams` and `users`, found {}",
                            other.describe()
                        ),
                        help: None,
                    }),
                }
            }
        }
        sources.push(SourceFile {
            display,
            name,
            text,
            sha256,
        });
    }
    if !errors.is_empty() {
        return Err(IncludeError::Invalid(errors));
    }
    for (n, (key, extra)) in [("teams", teams), ("users", users)].into_iter().enumerate() {
        if extra.is_empty() {
            continue;
        }
        append(root, key, extra, first_at[n].unwrap_or_default());
    }
    Ok(sources)
}

/// Appends `extra` entries to the root's `key` mapping (created when absent; left alone, and so
/// reported by validation, when it is not a mapping).
fn append(root: &mut Node, key: &str, extra: Vec<(Node, Node)>, at: Span) {
    let Kind::Map(entries) = &mut root.kind else {
        return;
    };
    match entries
        .iter_mut()
        .find(|(k, _)| matches!(&k.kind, Kind::Str(s) if s == key))
    {
        Some((_, value)) => match &mut value.kind {
            Kind::Map(list) => list.extend(extra),
            Kind::Null => value.kind = Kind::Map(extra),
            _ => {}
        },
        None => entries.push((
            Node {
                kind: Kind::Str(key.to_string()),
                at,
            },
            Node {
                kind: Kind::Map(extra),
                at,
            },
        )),
    }
}

/// The hash of a set of files: the root's SHA-256 alone when nothing is included (so a single
/// file hashes as it always did); otherwise SHA-256 over a manifest naming each file (the root as
/// `.`, the others relative to its directory, in file-index order) with its SHA-256, so that
/// changing, adding, removing or renaming any file changes the hash.
pub(crate) fn set_sha256(root_sha256: &str, included: &[SourceFile]) -> String {
    if included.is_empty() {
        return root_sha256.to_string();
    }
    let mut manifest = String::from("contentful-access file set v1\n");
    manifest.push_str(&format!("{root_sha256}  .\n"));
    for f in included {
        manifest.push_str(&format!("{}  {}\n", f.sha256, f.name));
    }
    super::hex_sha256(manifest.as_bytes())
}
