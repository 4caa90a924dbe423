//! The access file end to end: the corpus of malformed files (every problem reported, rendered
//! exactly as users see it), the examples (valid and satisfying the published schema), and the
//! real `validate` / `schema` commands.

use std::path::{Path, PathBuf};

use contentful_access::config::{self, ConfigError};

use crate::util::{cli, root, snap_with, text};

/// The malformed files, sorted by name.
fn corpus() -> Vec<PathBuf> {
    let dir = root().join("tests/corpus/config");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// The error report for a corpus file, as `validate` prints it without colour at width 100.
fn report(path: &Path) -> String {
    let display = path
        .strip_prefix(root())
        .expect("inside the project")
        .display()
        .to_string();
    let text = std::fs::read_to_string(path).expect("readable");
    match config::load_str(&display, &text) {
        Err(ConfigError::Invalid(d)) => d.render(&text, false, 100),
        other => panic!("{display} should be invalid, got {other:?}"),
    }
}

#[test]
fn corpus_of_malformed_files_renders_every_error() {
    let files = corpus();
    assert!(files.len() >= 20, "only {} corpus files", files.len());
    for path in files {
        let stem = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .to_string();
        let output = report(&path);
        snap_with(
            &format!("config__corpus__{stem}"),
            &output,
            &[],
            Some(&format!("tests/corpus/config/{stem}.yaml")),
        );
    }
}

/// Every caret sits under the token it points at, in terminal columns: wide characters (CJK,
/// emoji) take two columns each, so counting characters put the caret too far left
/// (`tests/corpus/config/wide_characters.yaml`).
#[test]
fn carets_sit_under_their_token_in_terminal_columns() {
    let width = |s: &str| unicode_width::UnicodeWidthStr::width(s);
    let mut checked = 0;
    for path in corpus() {
        let source = std::fs::read_to_string(&path).expect("readable");
        let output = report(&path);
        let lines: Vec<&str> = output.lines().collect();
        for (i, carets) in lines.iter().enumerate() {
            let Some(first) = carets.find('^') else {
                continue;
            };
            // The token the diagnostic points at, from its `--> file:line:column`.
            let location = lines[..i]
                .iter()
                .rev()
                .find_map(|l| l.trim_start().strip_prefix("--> "))
                .expect("a location above the caret");
            let mut numbers = location
                .rsplit(':')
                .map(|n| n.parse::<usize>().expect("number"));
            let (column, line) = (
                numbers.next().expect("column"),
                numbers.next().expect("line"),
            );
            let count = carets.matches('^').count();
            let token: String = source
                .lines()
                .nth(line - 1)
                .expect("line")
                .chars()
                .skip(column - 1)
                .take(count)
                .collect();
            // What the carets are under, in terminal columns, in the line shown above them.
            let shown = lines[i - 1];
            let caret_col = width(&carets[..first]);
            let under = shown
                .char_indices()
                .find(|&(b, _)| width(&shown[..b]) == caret_col)
                .map(|(b, _)| shown[b..].chars().take(count).collect::<String>());
            // annotate-snippets shows some invisible characters (bidi controls) as U+FFFD, so the
            // reader sees that something is there; either way the caret must be under it.
            let hidden = |s: &str| -> String {
                s.chars()
                    .map(|c| {
                        let mut buf = [0; 4];
                        if c == '\u{FFFD}'
                            || contentful_access::model::first_invisible(c.encode_utf8(&mut buf))
                                .is_some()
                        {
                            '\u{FFFD}'
                        } else {
                            c
                        }
                    })
                    .collect()
            };
            assert_eq!(
                under.as_deref().map(hidden),
                Some(hidden(&token)),
                "{}: the carets are not under `{token}`:\n{shown}\n{carets}",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} carets checked");
}

/// The YAML files at the top level of `examples/`.
fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("examples dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
}

fn schema_validator() -> jsonschema::Validator {
    jsonschema::draft7::new(&config::schema()).expect("the generated schema is valid draft-07")
}

fn yaml_as_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("readable");
    serde_saphyr::from_str(&text).expect("YAML converts to JSON")
}

#[test]
fn every_example_validates_and_satisfies_the_schema() {
    let files = examples();
    assert!(!files.is_empty(), "no examples found");
    let validator = schema_validator();
    for path in files {
        if let Err(e) = config::load(&path) {
            panic!("{} does not validate: {e}", path.display());
        }
        let json = yaml_as_json(&path);
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
}

/// The schema is not vacuous: editors flag the same kind of mistakes `validate` does.
#[test]
fn schema_rejects_what_validate_rejects() {
    let validator = schema_validator();
    for name in [
        "unknown_top_level_keys",
        "unknown_user_keys",
        "unknown_org_roles",
        "empty_role_lists",
        "admin_in_role_list",
        "version_unsupported",
        "organization_invalid",
        "max_removals_over_100_percent",
        "space_ids_invalid",
        "wrong_value_types",
    ] {
        let json = yaml_as_json(&root().join(format!("tests/corpus/config/{name}.yaml")));
        assert!(!validator.is_valid(&json), "the schema accepts {name}.yaml");
    }
}

#[test]
fn validate_accepts_the_example() {
    let out = cli(&["validate", "-c", "examples/access.yaml"], &[]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "examples/access.yaml is valid: 24 users, 3 teams, 3 spaces.\n"
    );
    // The file can also come from the environment.
    let out = cli(
        &["validate"],
        &[("CONTENTFUL_ACCESS_CONFIG", "examples/access.yaml")],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
}

#[test]
fn validate_rejects_a_bad_file_with_every_error_on_stderr() {
    let file = "tests/corpus/config/many_mistakes.yaml";
    let out = cli(&["validate", "--config", file], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "",
        "no annotations outside GitHub Actions"
    );
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr,
        report(&root().join(file)),
        "stderr is the rendered report"
    );
    assert!(stderr.contains(&format!(" --> {file}:29:15")), "{stderr}");
    assert!(stderr.contains("= help: did you mean `admin`?"), "{stderr}");
    assert!(
        stderr.ends_with("5 errors in tests/corpus/config/many_mistakes.yaml\n"),
        "{stderr}"
    );
    assert!(!stderr.contains('\x1b'), "no colour with NO_COLOR");
}

#[test]
fn validate_prints_github_annotations_only_in_github_actions() {
    let file = "tests/corpus/config/version_unsupported.yaml";
    let out = cli(&["validate", "-c", file], &[("GITHUB_ACTIONS", "true")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        format!(
            "::error file={file},line=1,col=10::unsupported version `2`: this tool reads version 1\n"
        )
    );
    assert!(text(&out.stderr).contains("error: unsupported version `2`"));
    let out = cli(&["validate", "-c", file], &[("GITHUB_ACTIONS", "false")]);
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn validate_reports_a_missing_file() {
    let out = cli(&["validate", "-c", "no/such/access.yaml"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot read no/such/access.yaml"),
        "{stderr}"
    );
}

#[test]
fn validate_colours_only_when_asked() {
    let file = "tests/corpus/config/version_unsupported.yaml";
    let out = cli(&["--color", "always", "validate", "-c", file], &[]);
    let stderr = text(&out.stderr);
    let error = contentful_access::render::style::ERROR.render().to_string();
    assert!(stderr.starts_with(&error), "{stderr:?}");
}

#[test]
fn schema_command_prints_and_writes_the_schema() {
    let out = cli(&["schema"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(printed, config::schema());

    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("schema.json");
    let out = cli(&["schema", "-o", target.to_str().expect("utf-8 path")], &[]);
    assert_eq!(out.status.code(), Some(0));
    let written = std::fs::read_to_string(&target).expect("written");
    let committed =
        std::fs::read_to_string(root().join("examples/access.schema.json")).expect("committed");
    assert_eq!(written, committed, "`schema -o` writes what is committed");
}

/// Shorthands `validate` accepts (empty team, empty user, no policy) are also fine for editors.
#[test]
fn schema_accepts_what_validate_accepts() {
    let text = "version: 1\norganization: o1\nspaces:\n  blog: b1\nteams:\n  editors:\n  agency: {}\nusers:\n  bob@acme.example:\n  ann@acme.example:\n    teams: [editors]\n    org_role: owner\n    spaces:\n      blog: admin\n";
    assert!(config::load_str("inline.yaml", text).is_ok());
    let json: serde_json::Value = serde_saphyr::from_str(text).expect("YAML converts to JSON");
    let errors: Vec<String> = schema_validator()
        .iter_errors(&json)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn a_tab_in_the_indentation_is_reported_at_the_tab() {
    let path = root().join("tests/corpus/config/tab_indentation.yaml");
    let source = std::fs::read_to_string(&path).expect("readable");
    let tab_line = source
        .lines()
        .position(|l| l.starts_with('\t'))
        .expect("a tab")
        + 1;
    let output = report(&path);
    // Line 6 is `<tab>org_role: admin`: the error is on the tab's line, at what the tab indents
    // (column 2), not at the scalar before the tab.
    assert!(
        output.contains(&format!("tab_indentation.yaml:{tab_line}:2\n")),
        "{output}"
    );
    // The tab is shown as four columns (as rustc shows tabs), the caret under `org_role`.
    assert!(
        output.contains("\n6 |     org_role: admin\n  |     ^^^^^^^^\n"),
        "the caret is under `org_role`: {output}"
    );
    assert!(output.contains("YAML indents with spaces only"), "{output}");
}
