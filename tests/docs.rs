//! The user documentation (README.md, the front door, and the pages under `docs/`) is checked
//! like the CI examples: every `contentful-access …` command it shows, in a shell block or inline,
//! names a subcommand that exists and flags its `--help` lists; every relative link and anchor
//! resolves; every page is linked from the README; the README's first two commands are the
//! sandbox demo and the test suite; the action inputs the install page documents exist.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::ci_examples::{Helps, check_invocation, get, invocations_in, lists_flag, parse, read};
use crate::util::root;

/// README.md and every page under docs/, as (path relative to the root, text).
fn pages() -> Vec<(String, String)> {
    let mut pages = vec![("README.md".to_string(), read("README.md"))];
    let mut names: Vec<String> = std::fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .collect();
    names.sort();
    for name in names {
        let rel = format!("docs/{name}");
        pages.push((rel.clone(), read(&rel)));
    }
    pages
}

/// A fenced code block: its info string (`sh`, `console`, `yaml`, …) and its lines.
struct Block {
    lang: String,
    lines: Vec<String>,
}

/// The fenced code blocks of a markdown text, and the prose outside them.
fn blocks(markdown: &str) -> (Vec<Block>, String) {
    let mut blocks = Vec::new();
    let mut prose = String::new();
    let mut current: Option<(Block, usize)> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            match current.take() {
                Some((block, _)) => blocks.push(block),
                None => {
                    let block = Block {
                        lang: info.trim().to_string(),
                        lines: Vec::new(),
                    };
                    current = Some((block, line.len() - trimmed.len()));
                }
            }
        } else if let Some((block, indent)) = current.as_mut() {
            // Without the fence's own indentation (a block inside a list item).
            let cut = line.len() - line.trim_start().len();
            block.lines.push(line[cut.min(*indent)..].to_string());
        } else {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    (blocks, prose)
}

/// The subcommands, for inline code that shows one with its flags but without the binary's name.
const SUBCOMMANDS: [&str; 11] = [
    "validate",
    "schema",
    "plan",
    "apply",
    "drift",
    "export",
    "audit",
    "explain",
    "sandbox",
    "completions",
    "man",
];

/// A usage line as shell: optional parts (`[--flag X]`) become plain words, alternatives written
/// without spaces (`text|json`) keep their first value, and `cargo run --` is the binary.
fn as_shell(line: &str) -> String {
    let line = line
        .replace("cargo run -- ", "contentful-access ")
        .replace("\\|", "|");
    let mut out = String::new();
    let mut skipping = false;
    for c in line.chars() {
        match c {
            '[' | ']' => {}
            '|' if out.ends_with(|c: char| !c.is_whitespace()) => skipping = true,
            c if skipping && !c.is_whitespace() => {}
            c => {
                skipping = false;
                out.push(c);
            }
        }
    }
    out
}

/// Every `contentful-access` command a page shows: in shell blocks (`sh`, `bash`, `console`
/// lines after `$ `), in `run:` scripts of YAML blocks, and in inline code spans.
fn commands(markdown: &str) -> Vec<Vec<String>> {
    let (blocks, prose) = blocks(markdown);
    let mut found = Vec::new();
    for block in &blocks {
        match block.lang.as_str() {
            "sh" | "bash" | "shell" => {
                let script: Vec<String> = block.lines.iter().map(|l| as_shell(l)).collect();
                found.extend(invocations_in(&script.join("\n")));
            }
            "console" => {
                for line in &block.lines {
                    if let Some(cmd) = line.strip_prefix("$ ") {
                        found.extend(invocations_in(&as_shell(cmd)));
                    }
                }
            }
            "yaml" => {
                if let Ok(value) = parse(&block.lines.join("\n")) {
                    for script in crate::ci_examples::scripts(&value) {
                        found.extend(invocations_in(&script));
                    }
                }
            }
            _ => {}
        }
    }
    for (i, span) in prose.split('`').enumerate() {
        if i % 2 == 0 {
            continue;
        }
        if span.starts_with("contentful-access ") || span.starts_with("cargo run -- ") {
            found.extend(invocations_in(&as_shell(span)));
        } else if let Some(first) = span.split_whitespace().next()
            && SUBCOMMANDS.contains(&first)
            && span.split_whitespace().any(|w| w.starts_with('-'))
        {
            // `plan --format markdown --output plan.json` in prose: a subcommand with its flags.
            found.extend(invocations_in(&as_shell(&format!(
                "contentful-access {span}"
            ))));
        }
    }
    found
}

/// Checks a command like the CI examples' invocations; a command without a subcommand may only
/// use top-level flags (`--help`, `--version`).
fn check(helps: &mut Helps, args: &[String]) -> Result<(), String> {
    if args.iter().all(|a| a.starts_with('-')) {
        let top = helps.get(None)?;
        return match args.iter().find(|a| !lists_flag(&top, a)) {
            Some(flag) => Err(format!("`contentful-access --help` does not list `{flag}`")),
            None => Ok(()),
        };
    }
    check_invocation(helps, args)
}

#[test]
fn every_command_in_the_documentation_exists_with_its_flags() {
    let mut helps = Helps::new();
    let mut problems = Vec::new();
    let mut total = 0;
    for (path, text) in pages() {
        for args in commands(&text) {
            total += 1;
            if let Err(e) = check(&mut helps, &args) {
                problems.push(format!("{path}: {e}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        total > 50,
        "the documentation shows many commands; found {total}"
    );
}

#[test]
fn a_mistyped_command_in_the_documentation_is_caught() {
    let mut helps = Helps::new();
    for (doc, complaint) in [
        (
            "```sh\ncontentful-access plan -c access.yaml --outt plan.json\n```\n",
            "--outt",
        ),
        (
            "```console\n$ contentful-access drift -c access.yaml [--format text|yaml]\n```\n",
            "",
        ),
        (
            "Run `contentful-access plna -c access.yaml` first.\n",
            "unknown subcommand `plna`",
        ),
        (
            "```yaml\n- run: contentful-access drift --file access.yaml\n```\n",
            "--file",
        ),
        ("```sh\ncontentful-access --versoin\n```\n", "--versoin"),
    ] {
        let found = commands(doc);
        assert_eq!(found.len(), 1, "{doc}: {found:?}");
        let result = check(&mut helps, &found[0]);
        if complaint.is_empty() {
            // `[--format text|yaml]` reads as `--format text`: only the first alternative of a
            // usage line is checked.
            assert!(result.is_ok(), "{doc}: {result:?}");
        } else {
            let err = result.expect_err(doc);
            assert!(err.contains(complaint), "{err}");
        }
    }
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(markdown: &str) -> BTreeSet<String> {
    let (_, prose) = blocks(markdown);
    prose
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| slug(l.trim_start_matches('#')))
        .collect()
}

/// The targets of the inline links `[text](target)` outside code blocks.
fn links(markdown: &str) -> Vec<String> {
    let (_, prose) = blocks(markdown);
    let mut out = Vec::new();
    let mut rest = prose.as_str();
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            out.push(rest[..end].to_string());
        }
    }
    out
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let mut problems = Vec::new();
    for (path, text) in pages() {
        let dir = Path::new(&path).parent().unwrap_or(Path::new(""));
        for link in links(&text) {
            if link.starts_with("http://") || link.starts_with("https://") {
                continue;
            }
            let (file, anchor) = match link.split_once('#') {
                Some((f, a)) => (f.to_string(), Some(a.to_string())),
                None => (link.clone(), None),
            };
            let target = if file.is_empty() {
                path.clone()
            } else {
                dir.join(&file).to_string_lossy().into_owned()
            };
            let on_disk = root().join(&target);
            if !on_disk.exists() {
                problems.push(format!("{path}: link to {link}: {target} does not exist"));
                continue;
            }
            if let Some(anchor) = anchor
                && !anchors(&std::fs::read_to_string(&on_disk).unwrap_or_default())
                    .contains(&anchor)
            {
                problems.push(format!("{path}: link to {link}: no heading #{anchor}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_docs_page_is_linked_from_the_readme() {
    let readme = links(&read("README.md"));
    for (path, _) in pages().into_iter().skip(1) {
        assert!(
            readme
                .iter()
                .any(|l| l.split('#').next() == Some(path.as_str())),
            "README.md does not link {path}"
        );
    }
}

#[test]
fn the_readme_opens_with_the_demo_and_the_test_commands() {
    let readme = read("README.md");
    let (blocks, _) = blocks(&readme);
    let first: Vec<String> = blocks
        .iter()
        .filter(|b| b.lang == "sh")
        .take(2)
        .map(|b| b.lines.join("\n"))
        .collect();
    assert_eq!(
        first,
        [
            "cargo run -- plan -c examples/access.yaml --sandbox",
            "cargo test"
        ]
    );
    // Nothing but the introduction comes before them.
    let demo = readme.find("cargo run -- plan").expect("the demo command");
    assert_eq!(
        readme[..demo].matches("```").count(),
        1,
        "the demo is the first code block"
    );
    assert!(
        readme.lines().count() <= 320,
        "the README is a front door, not the manual"
    );
    // The demo really works as written, on today's clock (the other tests plan at a fixed
    // `--now`, before the demo's pending invitation expired): its last line is the README's.
    let out = crate::util::bin()
        .env_remove("CONTENTFUL_ACCESS_NOW")
        .args(["plan", "-c", "examples/access.yaml", "--sandbox"])
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    assert_eq!(last, "Plan: 2 to add, 3 to change, 1 to remove.");
    assert!(readme.contains(last), "the README shows the demo's output");
    assert!(readme.contains("~ re-invite, invited 2026-10-12, expired"));
}

#[test]
fn the_install_page_documents_the_action_inputs_that_exist() {
    let action = parse(&read("action.yml")).expect("action.yml is YAML");
    let inputs: BTreeSet<String> = get(&action, &["inputs"])
        .as_object()
        .expect("inputs")
        .keys()
        .cloned()
        .collect();
    let page = read("docs/install.md");
    let (_, prose) = blocks(&page);
    let documented: BTreeSet<String> = prose
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`'))
        .map(|(name, _)| name.to_string())
        .filter(|name| !name.starts_with("contentful-access-"))
        .collect();
    assert_eq!(documented, inputs, "docs/install.md's input table");
    // The snippets on the page use only inputs that exist.
    let (blocks, _) = blocks(&page);
    for block in blocks.iter().filter(|b| b.lang == "yaml") {
        let value = parse(&block.lines.join("\n")).expect("a YAML snippet");
        for step in value.as_array().into_iter().flatten() {
            if let Some(Value::Object(with)) = step.get("with") {
                for key in with.keys() {
                    assert!(inputs.contains(key), "unknown action input {key}");
                }
            }
        }
    }
}
