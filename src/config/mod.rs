//! The access file: YAML → raw structs → validated [`crate::model::DesiredState`], with every error
//! collected and pointing at file:line:column.
//!
//! The YAML is read by serde-saphyr into a tree of nodes that remember their positions (repeated
//! keys are passed through so they can all be reported, with both places). The validator walks
//! that tree and fills a [`DesiredState`], recording every problem as a [`Diagnostic`] instead of
//! stopping at the first. The JSON Schema ([`schema`]) is generated from the raw types in `raw`,
//! which describe the same format.

mod diagnostics;
mod include;
mod node;
mod raw;
mod validate;

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::input::{InputError, MAX_FILE_BYTES, read_bounded};
use crate::model::{DesiredState, Span};

pub use diagnostics::{Diagnostic, Diagnostics};

/// Why an access file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read, is not a regular file, or is larger than
    /// [`crate::input::MAX_FILE_BYTES`].
    #[error(transparent)]
    Io(#[from] InputError),
    /// The file was read but is not a valid access file; holds every problem found.
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// Reads and validates the access file at `path`, and the files its `include:` patterns match
/// (relative to its directory; see the `include` module). Every file is read through
/// [`read_bounded`]; every problem names its file.
pub fn load(path: &Path) -> Result<DesiredState, ConfigError> {
    let display = path.display().to_string();
    let bytes = read_bounded(path, MAX_FILE_BYTES)?;
    let sha256 = hex_sha256(&bytes);
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text,
        Err(e) => {
            return Err(invalid(
                &display,
                Span::root(1, 1),
                format!("the file is not valid UTF-8 (byte {})", e.valid_up_to()),
            ));
        }
    };
    let mut root = match node::parse(text) {
        Ok(root) => root,
        Err(err) => return Err(yaml_error(&display, text, &err)),
    };
    let parse_included = |path: &str, text: &str| {
        node::parse(text).map_err(|err| {
            match yaml_error(path, text, &err) {
                ConfigError::Invalid(d) => d.items.into_iter().next(),
                ConfigError::Io(_) => None,
            }
            .unwrap_or_else(|| Diagnostic {
                path: path.to_string(),
                span: Span::root(1, 1),
                message: "invalid YAML".into(),
                help: None,
            })
        })
    };
    let included = match include::expand(path, &display, &mut root, parse_included) {
        Ok(included) => included,
        Err(include::IncludeError::Io(e)) => return Err(ConfigError::Io(e)),
        Err(include::IncludeError::Invalid(items)) => {
            return Err(ConfigError::Invalid(Diagnostics {
                path: display,
                items,
            }));
        }
    };
    let set_sha256 = include::set_sha256(&sha256, &included);
    let mut files = vec![(display.as_str(), text)];
    files.extend(
        included
            .iter()
            .map(|f| (f.display.as_str(), f.text.as_str())),
    );
    validate_tree(files, &root, set_sha256)
}

/// Validates access-file text; `display_path` names it in messages and in
/// [`DesiredState::source_path`].
pub fn load_str(display_path: &str, text: &str) -> Result<DesiredState, ConfigError> {
    load_text(display_path, text, hex_sha256(text.as_bytes()))
}

/// The JSON Schema (draft-07) of the access file, with the doc comments of the format as
/// descriptions. `examples/access.schema.json` is its pretty-printed form.
pub fn schema() -> serde_json::Value {
    raw::schema()
}

/// The JSON Schema (draft-07) of a file the root access file includes (`include:`): `teams` and
/// `users` only. `examples/access.included.schema.json` is its pretty-printed form.
pub fn included_schema() -> serde_json::Value {
    raw::included_schema()
}

fn load_text(display_path: &str, text: &str, sha256: String) -> Result<DesiredState, ConfigError> {
    let root = match node::parse(text) {
        Ok(root) => root,
        Err(err) => return Err(yaml_error(display_path, text, &err)),
    };
    if let node::Kind::Map(entries) = &root.kind
        && let Some((key, _)) = entries
            .iter()
            .find(|(k, _)| matches!(&k.kind, node::Kind::Str(s) if s == "include"))
    {
        return Err(invalid(
            display_path,
            key.at,
            "`include` needs the file on disk (its patterns are relative to it); load the file by path".into(),
        ));
    }
    validate_tree(vec![(display_path, text)], &root, sha256)
}

/// Validates a (possibly merged) node tree; `files` are `(path, text)` by file index.
fn validate_tree(
    files: Vec<(&str, &str)>,
    root: &node::Node,
    sha256: String,
) -> Result<DesiredState, ConfigError> {
    let display_path = files.first().map_or("", |f| f.0).to_string();
    let display_path = display_path.as_str();
    let mut validator = validate::Validator::with_files(files);
    let state = validator.document(root, sha256);
    let items = validator.into_diagnostics();
    if items.is_empty() {
        tracing::debug!(
            path = display_path,
            users = state.users.len(),
            teams = state.teams.len(),
            spaces = state.spaces.len(),
            "access file is valid"
        );
        Ok(state)
    } else {
        Err(ConfigError::Invalid(Diagnostics {
            path: display_path.to_string(),
            items,
        }))
    }
}

fn invalid(path: &str, span: Span, message: String) -> ConfigError {
    ConfigError::Invalid(Diagnostics {
        path: path.to_string(),
        items: vec![Diagnostic {
            path: path.to_string(),
            span,
            message,
            help: None,
        }],
    })
}

/// A YAML syntax error (the file is not YAML at all), as one diagnostic. A tab in the
/// indentation (YAML allows only spaces) is reported on the tab's line, at what it indents: the
/// parser notices it only later and points at the scalar before it.
fn yaml_error(path: &str, text: &str, err: &serde_saphyr::Error) -> ConfigError {
    if let Some(tab) = indenting_tab(text, err.location().map(|l| l.line() as u32)) {
        return invalid(
            path,
            tab,
            "invalid YAML: this line is indented with a tab; YAML indents with spaces only"
                .to_string(),
        );
    }
    let location = err.location();
    let span = location.map_or(Span::root(1, 1), |l| {
        Span::root((l.line() as u32).max(1), (l.column() as u32).max(1))
    });
    let mut message = err.without_snippet().to_string();
    // serde-saphyr appends the position, which the diagnostic shows already.
    if let Some(l) = location {
        for suffix in [
            format!(" at line {}, column {}", l.line(), l.column()),
            format!(" at line {} column {}", l.line(), l.column()),
        ] {
            if let Some(stripped) = message.strip_suffix(suffix.as_str()) {
                message = stripped.to_string();
            }
        }
    }
    invalid(path, span, format!("invalid YAML: {message}"))
}

/// The first tab in the indentation of a line near the error: from the line before it (the parser
/// reports an indenting tab at the token before the tab) to the line after it. Only called when
/// the file does not parse, so a tab inside a valid block scalar never gets here.
fn indenting_tab(text: &str, error_line: Option<u32>) -> Option<Span> {
    let from = error_line.unwrap_or(1).saturating_sub(1).max(1);
    text.lines().enumerate().find_map(|(i, line)| {
        let number = i as u32 + 1;
        if number < from || number > from + 2 {
            return None;
        }
        let rest = line.trim_start_matches([' ', '\t']);
        let indent = &line[..line.len() - rest.len()];
        // A whitespace-only line or a comment is not indentation.
        if !indent.contains('\t') || rest.is_empty() || rest.starts_with('#') {
            return None;
        }
        // At what the tab indents (a caret under a tab is invisible).
        Some(Span::root(number, indent.chars().count() as u32 + 1))
    })
}

/// SHA-256 of `bytes` as lowercase hex: the access file's fingerprint in a plan
/// ([`crate::plan::Plan::config_sha256`]). The one place the hash is computed.
pub fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_schema_is_current() {
        let committed = include_str!("../../examples/access.schema.json");
        let mut expected = serde_json::to_string_pretty(&schema()).expect("schema serializes");
        expected.push('\n');
        assert!(
            committed == expected,
            "examples/access.schema.json is stale: run `cargo run -- schema -o examples/access.schema.json`"
        );
    }

    #[test]
    fn the_committed_included_schema_is_current() {
        let committed = include_str!("../../examples/access.included.schema.json");
        let mut expected =
            serde_json::to_string_pretty(&included_schema()).expect("schema serializes");
        expected.push('\n');
        assert!(
            committed == expected,
            "examples/access.included.schema.json is stale: run `cargo run -- schema --included -o examples/access.included.schema.json`"
        );
    }

    #[test]
    fn schema_is_draft07_with_descriptions() {
        let s = schema();
        assert_eq!(s["$schema"], "http://json-schema.org/draft-07/schema#");
        assert_eq!(s["additionalProperties"], false);
        let described = s["properties"]["spaces"]["description"]
            .as_str()
            .unwrap_or_default();
        assert!(described.contains("never touched"), "{described}");
    }

    /// The keys the validator accepts are exactly the properties the schema describes.
    #[test]
    fn validator_keys_match_the_schema() {
        let s = schema();
        let keys = |v: &serde_json::Value| -> Vec<String> {
            let mut k: Vec<String> = v["properties"]
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            k.sort();
            k
        };
        let sorted = |k: &[&str]| {
            let mut k: Vec<String> = k.iter().map(|s| s.to_string()).collect();
            k.sort();
            k
        };
        assert_eq!(keys(&s), sorted(raw::TOP_KEYS));
        assert_eq!(keys(&s["definitions"]["Policy"]), sorted(raw::POLICY_KEYS));
        assert_eq!(keys(&s["definitions"]["Team"]), sorted(raw::TEAM_KEYS));
        assert_eq!(keys(&s["definitions"]["User"]), sorted(raw::USER_KEYS));
    }

    /// A file the validator accepts also deserializes into the raw types the schema comes from.
    #[test]
    fn valid_files_fit_the_raw_types() {
        let text = include_str!("../../examples/access.yaml");
        assert!(load_str("access.yaml", text).is_ok());
        let raw: raw::RawConfig = serde_saphyr::from_str(text).expect("fits the raw types");
        assert_eq!(raw.users.len(), 24);
    }

    #[test]
    fn load_reads_the_file_and_hashes_its_bytes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.yaml");
        std::fs::write(&path, "version: 1\norganization: o\n").expect("write");
        let state = load(&path).expect("valid");
        assert_eq!(state.source_path, path.display().to_string());
        assert_eq!(
            state.source_sha256,
            "7ead3f139411350edc5a020bdd8afa7fb293001bfc4c356adbdf5fe74f053218"
        );
        assert!(matches!(
            load(&dir.path().join("missing.yaml")),
            Err(ConfigError::Io(_))
        ));
        assert!(matches!(
            load(Path::new("/dev/zero")),
            Err(ConfigError::Io(InputError::NotRegular { .. }))
        ));
        std::fs::write(&path, b"version: 1\n\xff\n").expect("write");
        assert!(matches!(load(&path), Err(ConfigError::Invalid(_))));
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    const EXAMPLE: &str = include_str!("../../examples/access.yaml");

    /// One edit of the example: replace the characters in `start..start+len` (clamped to char
    /// boundaries) with `insert`.
    fn mutate(start: usize, len: usize, insert: &str) -> String {
        let chars: Vec<char> = EXAMPLE.chars().collect();
        let start = start % chars.len();
        let end = (start + len).min(chars.len());
        let mut out: String = chars[..start].iter().collect();
        out.push_str(insert);
        out.extend(&chars[end..]);
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever a typo does to a valid file, loading never panics, every problem points inside
        /// the file, and rendering never panics.
        #[test]
        fn edits_of_the_example_are_reported_inside_the_file(
            start in 0usize..4000,
            len in 0usize..6,
            insert in "[a-z@:\\[\\]{}, \\-\\n#&*%0-9'\"]{0,4}",
        ) {
            let text = mutate(start, len, &insert);
            let lines = text.lines().count().max(1) as u32;
            match load_str("access.yaml", &text) {
                Ok(state) => prop_assert!(!state.organization.is_empty()),
                Err(ConfigError::Invalid(d)) => {
                    prop_assert!(!d.is_empty());
                    for item in &d.items {
                        prop_assert!(item.span.line >= 1 && item.span.line <= lines + 1, "{item:?}");
                        prop_assert!(item.span.column >= 1, "{item:?}");
                    }
                    let rendered = d.render(&text, false, 100);
                    let summary = format!("{d}\n");
                    prop_assert!(rendered.ends_with(&summary));
                }
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
        }
    }
}
