//! What the client received, for whoever asked to see it: the [`ResponseObserver`] hook the
//! client calls once per response (retries and errors included), and the [`Recorder`] behind
//! `--record DIR`, which writes every response **redacted** in the layout of the recorded SDK
//! responses the fidelity tests read (`<repo>/<path>` plus a `PROVENANCE.md`).
//!
//! The hook never sees a request header, so nothing an observer keeps can hold the token: the
//! client passes only the method, the templated route, the path and query, the status, a fixed
//! list of response headers ([`OBSERVED_HEADERS`]; no `Set-Cookie`) and the body.
//!
//! Redaction ([`Redactor`]) replaces emails, people's names, free text (names and descriptions
//! of teams, spaces, roles, tokens, the organization), URLs and token values with placeholders,
//! consistently across the files of one recording: the same email is always the same
//! `personN@example.invalid`, and that person's first and last names are `GivenN` and `FamilyN`.
//! Ids are kept (they are random strings, and a developer needs them to follow links).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

/// The response headers an observer sees (lower-case): what a diagnosis needs, nothing that
/// identifies a session.
pub const OBSERVED_HEADERS: [&str; 7] = [
    "content-type",
    "x-contentful-request-id",
    "x-contentful-ratelimit-second-limit",
    "x-contentful-ratelimit-second-remaining",
    "x-contentful-ratelimit-hour-limit",
    "x-contentful-ratelimit-hour-remaining",
    "x-contentful-ratelimit-reset",
];

/// One response as an observer sees it.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// `GET`, `PUT`, …
    pub method: &'static str,
    /// Method and templated path, e.g. `GET /organizations/{org}/teams`.
    pub route: &'static str,
    /// The API root the request went to (no credentials in it).
    pub base_url: &'a str,
    /// Path and query as sent, e.g. `/organizations/o1/teams?limit=100&skip=0`.
    pub path: &'a str,
    /// HTTP status.
    pub status: u16,
    /// The [`OBSERVED_HEADERS`] the response carried, as (lower-case name, value).
    pub headers: &'a [(&'static str, String)],
    /// The (decoded) body.
    pub body: &'a [u8],
}

impl Exchange<'_> {
    /// The value of an observed header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Called by the client once per response it receives. Must be cheap and must not block for
/// long (a recorder writes one small file).
pub trait ResponseObserver: Send + Sync + std::fmt::Debug {
    /// One response.
    fn observe(&self, exchange: &Exchange<'_>);
}

/// Why a recording is incomplete.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the recording in {dir}")]
pub struct RecordError {
    /// The recording folder.
    pub dir: String,
    /// The first write that failed.
    #[source]
    pub source: std::io::Error,
}

/// The sub-folder of a recording that holds the responses (the `<repo>` of the fidelity layout).
pub const RECORDING_SUBDIR: &str = "contentful-access";

/// Writes every observed response, redacted, into a folder: `DIR/contentful-access/NNN-<route>.json`
/// (one interaction each, in the layout of the PHP SDK's recordings: `[{"request": {"method",
/// "url", "route"}, "response": {"status": {"code"}, "headers", "body"}}]`) and
/// `DIR/PROVENANCE.md` saying what the folder is and what was redacted.
pub struct Recorder {
    dir: PathBuf,
    state: Mutex<RecorderState>,
}

struct RecorderState {
    next: u32,
    redactor: Redactor,
    error: Option<std::io::Error>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// A recorder writing into `dir` (created if missing; files of an earlier recording there
    /// are replaced as they are written).
    pub fn create(dir: &Path) -> Result<Arc<Recorder>, RecordError> {
        let fail = |source| RecordError {
            dir: dir.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir.join(RECORDING_SUBDIR)).map_err(fail)?;
        std::fs::write(dir.join("PROVENANCE.md"), PROVENANCE).map_err(fail)?;
        Ok(Arc::new(Recorder {
            dir: dir.to_path_buf(),
            state: Mutex::new(RecorderState {
                next: 1,
                redactor: Redactor::default(),
                error: None,
            }),
        }))
    }

    /// The number of responses written, or the first write that failed.
    pub fn finish(&self) -> Result<u32, RecordError> {
        let mut state = self.lock();
        match state.error.take() {
            Some(source) => Err(RecordError {
                dir: self.dir.display().to_string(),
                source,
            }),
            None => Ok(state.next - 1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RecorderState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ResponseObserver for Recorder {
    fn observe(&self, ex: &Exchange<'_>) {
        let mut state = self.lock();
        if state.error.is_some() {
            return;
        }
        let n = state.next;
        state.next += 1;
        let doc = state.redactor.interaction(ex);
        let name = format!("{n:03}-{}.json", slug(ex.route));
        let path = self.dir.join(RECORDING_SUBDIR).join(name);
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text + "\n") {
            state.error = Some(e);
        }
    }
}

const PROVENANCE: &str = "# Provenance of this recording

Written by `contentful-access --record` (the responses of one run of `doctor`, `plan` or `drift`),
one response per file under `contentful-access/`, in the layout of the recorded SDK responses in
`tests/recorded/` (see docs/development.md to drop this folder into the fidelity tests).

Redacted before writing: emails (`personN@example.invalid`), first and last names (`GivenN`,
`FamilyN`, the same N as the person's email), names and descriptions (`name-N`,
`description-N`), URLs, token values. Ids are kept. No request header is recorded (no token, no
`Authorization`), and of the response headers only the content type, the request id and the
rate-limit headers.
";

/// `GET /organizations/{org}/teams` → `get-organizations-org-teams`.
fn slug(route: &str) -> String {
    let mut out = String::new();
    for c in route.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Replaces what identifies people or describes an organization with placeholders, consistently
/// for its whole life (one recording).
#[derive(Debug, Default)]
pub struct Redactor {
    emails: HashMap<String, usize>,
    /// Names and descriptions seen, by (kind, original).
    texts: HashMap<(&'static str, String), usize>,
    /// How many placeholders of each kind were handed out.
    counts: HashMap<&'static str, usize>,
    /// Originals already replaced (names, emails) and their placeholders, for free text.
    known: HashMap<String, String>,
}

impl Redactor {
    /// The placeholder of an email (case-insensitive): `personN@example.invalid`.
    pub fn email(&mut self, email: &str) -> String {
        let key = email.trim().to_lowercase();
        let next = self.emails.len() + 1;
        let n = *self.emails.entry(key).or_insert(next);
        let placeholder = format!("person{n}@example.invalid");
        self.remember(email, &placeholder);
        placeholder
    }

    fn person(&mut self, email: &str) -> usize {
        self.email(email);
        self.emails
            .get(&email.trim().to_lowercase())
            .copied()
            .unwrap_or_default()
    }

    fn text(&mut self, kind: &'static str, original: &str) -> String {
        let n = match self.texts.get(&(kind, original.to_string())) {
            Some(n) => *n,
            None => {
                let count = self.counts.entry(kind).or_default();
                *count += 1;
                let n = *count;
                self.texts.insert((kind, original.to_string()), n);
                n
            }
        };
        let placeholder = format!("{kind}-{n}");
        self.remember(original, &placeholder);
        placeholder
    }

    fn remember(&mut self, original: &str, placeholder: &str) {
        // Very short originals ("a", "QA") would blank out unrelated words in messages.
        if original.chars().count() >= 3 && !self.known.contains_key(original) {
            self.known
                .insert(original.to_string(), placeholder.to_string());
        }
    }

    /// A string that is not itself a name: the emails inside it are replaced.
    pub fn scrub(&mut self, s: &str) -> String {
        replace_emails(s, |e| self.email(e))
    }

    /// Free text (an error's message, a body that is not JSON): emails and every name already
    /// seen are replaced.
    pub fn scrub_text(&mut self, s: &str) -> String {
        let mut out = self.scrub(s);
        // Longest first, so "Ann Lee" is replaced before "Ann".
        let mut known: Vec<(&String, &String)> = self.known.iter().collect();
        known.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(b.0)));
        for (original, placeholder) in known {
            if out.contains(original.as_str()) {
                out = out.replace(original.as_str(), placeholder);
            }
        }
        out
    }

    /// A JSON value with everything personal replaced.
    pub fn value(&mut self, v: &Value) -> Value {
        match v {
            Value::Object(o) => Value::Object(self.object(o)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.value(x)).collect()),
            Value::String(s) => Value::String(self.scrub(s)),
            other => other.clone(),
        }
    }

    fn object(&mut self, o: &Map<String, Value>) -> Map<String, Value> {
        // The person this object is about, so their names get their number.
        let person = o
            .get("email")
            .and_then(Value::as_str)
            .map(|e| self.person(e));
        let mut out = Map::new();
        for (k, v) in o {
            let redacted = match (k.as_str(), v) {
                (_, Value::Null) => Value::Null,
                ("email", Value::String(s)) => Value::String(self.email(s)),
                ("firstName" | "lastName", Value::String(s)) => {
                    let kind = if k == "firstName" { "Given" } else { "Family" };
                    let placeholder = match person {
                        Some(n) => format!("{kind}{n}"),
                        None => self.text(if k == "firstName" { "given" } else { "family" }, s),
                    };
                    self.remember(s, &placeholder);
                    Value::String(placeholder)
                }
                ("name" | "description", Value::String(s)) => {
                    Value::String(self.text(if k == "name" { "name" } else { "description" }, s))
                }
                ("message", Value::String(s)) => Value::String(self.scrub_text(s)),
                ("token" | "accessToken" | "redactedValue" | "value", Value::String(_)) => {
                    Value::String("REDACTED".to_string())
                }
                (key, Value::String(_)) if key.ends_with("Url") || key.ends_with("URL") => {
                    Value::String("https://example.invalid/redacted".to_string())
                }
                _ => self.value(v),
            };
            out.insert(k.clone(), redacted);
        }
        out
    }

    /// One response as a redacted interaction document.
    fn interaction(&mut self, ex: &Exchange<'_>) -> Value {
        let body = match serde_json::from_slice::<Value>(ex.body) {
            Ok(v) => self.value(&v).to_string(),
            Err(_) if ex.body.is_empty() => String::new(),
            // Not JSON (an HTML error page, say): scrubbed as text.
            Err(_) => self.scrub_text(&String::from_utf8_lossy(ex.body)),
        };
        let mut headers = Map::new();
        for (k, v) in ex.headers {
            headers.insert((*k).to_string(), Value::String(self.scrub(v)));
        }
        json!([{
            "request": {
                "method": ex.method,
                "url": format!("{}{}", ex.base_url, self.scrub(ex.path)),
                "route": ex.route,
            },
            "response": {
                "status": {"code": ex.status.to_string()},
                "headers": headers,
                "body": body,
            }
        }])
    }
}

fn is_local(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._%+-'".contains(c)
}

fn is_domain(c: char) -> bool {
    c.is_ascii_alphanumeric() || ".-".contains(c)
}

/// Replaces every `local@domain.tld` in `s` with `f(email)`.
fn replace_emails(s: &str, mut f: impl FnMut(&str) -> String) -> String {
    if !s.contains('@') {
        return s.to_string();
    }
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = String::new();
    let mut copied = 0; // byte offset in s up to which `out` holds s
    for (i, &(at, c)) in chars.iter().enumerate() {
        if c != '@' || at < copied {
            continue;
        }
        let mut start = i;
        while start > 0 && is_local(chars[start - 1].1) && chars[start - 1].0 >= copied {
            start -= 1;
        }
        let mut end = i + 1;
        while end < chars.len() && is_domain(chars[end].1) {
            end += 1;
        }
        // Trailing dots end a sentence, not the domain.
        while end > i + 1 && chars[end - 1].1 == '.' {
            end -= 1;
        }
        let domain: String = chars[i + 1..end].iter().map(|(_, c)| c).collect();
        if start == i || !domain.contains('.') {
            continue;
        }
        let from = chars[start].0;
        let to = chars.get(end).map_or(s.len(), |(b, _)| *b);
        out.push_str(&s[copied..from]);
        let _ = write!(out, "{}", f(&s[from..to]));
        copied = to;
    }
    out.push_str(&s[copied..]);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn emails_inside_text_are_found_and_replaced_consistently() {
        let mut r = Redactor::default();
        let a = r.scrub("Ann.Lee@Acme.example is already a member; ask bob@acme.example.");
        assert_eq!(
            a,
            "person1@example.invalid is already a member; ask person2@example.invalid."
        );
        assert_eq!(r.email("ann.lee@acme.example"), "person1@example.invalid");
        assert_eq!(
            r.scrub("no at sign, or @ alone, or a@b"),
            "no at sign, or @ alone, or a@b"
        );
    }

    #[test]
    fn a_person_keeps_one_number_for_email_and_names_and_free_text_is_replaced() {
        let mut r = Redactor::default();
        let user = json!({"email": "zed@x.example", "firstName": "Zebulon", "lastName": "Quux",
            "avatarUrl": "https://www.gravatar.com/avatar/abc", "sys": {"id": "u1", "version": 3}});
        let other = json!({"email": "amy@x.example", "firstName": "Amy", "lastName": null});
        let team = json!({"name": "Secret Project", "description": "for Zebulon Quux",
            "sys": {"id": "t1"}});
        let u = r.value(&user);
        let o = r.value(&other);
        let t = r.value(&team);
        assert_eq!(u["email"], "person1@example.invalid");
        assert_eq!(u["firstName"], "Given1");
        assert_eq!(u["lastName"], "Family1");
        assert_eq!(u["avatarUrl"], "https://example.invalid/redacted");
        assert_eq!(u["sys"], json!({"id": "u1", "version": 3}));
        assert_eq!(o["firstName"], "Given2");
        assert_eq!(o["lastName"], Value::Null);
        assert_eq!(t["name"], "name-1");
        assert_eq!(t["description"], "description-1");
        // The same person again, later, in another file: the same placeholders.
        let again = r.value(&json!({"email": "ZED@x.example", "firstName": "Zebulon"}));
        assert_eq!(again["email"], "person1@example.invalid");
        assert_eq!(again["firstName"], "Given1");
        let msg = r.value(&json!({"message": "Zebulon cannot join Secret Project"}));
        assert_eq!(msg["message"], "Given1 cannot join name-1");
    }

    #[test]
    fn routes_become_file_names() {
        assert_eq!(
            slug("GET /organizations/{org}/teams"),
            "get-organizations-org-teams"
        );
        assert_eq!(slug("GET /users/me"), "get-users-me");
    }
}
