//! `doctor`: will `plan` and `apply` work against this organization with this token, and if
//! not, why. Read-only, and about as cheap as one plan: it reads what a plan reads (the token's
//! user, the organization's collections, the managed spaces' roles) plus the list of the token's
//! organizations, while an [`Inspector`](crate::contentful::inspect::Inspector) looks at every response.
//!
//! The result is data: a [`DoctorReport`] of [`Finding`]s (severity, topic, message, evidence),
//! rendered by [`crate::render::doctor_text`] and as a versioned JSON document. A finding of
//! severity [`Severity::Blocker`] means plan or apply cannot run as things are.
//!
//! A token the host refuses is never sent to another host: the finding says that organizations
//! with EU data residency need `--region eu`, and the user decides.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::contentful::inspect::{Inspection, MANAGEMENT_CONTENT_TYPE, ShapeIssue, Variant};
use crate::contentful::{Client, ClientConfig, ContentfulError, Region};
use crate::model::{DesiredState, LiveState, MembershipStatus, OrgRole};
use crate::plan::{self, Guardrail, PlanError, PlanOptions};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; nothing to do.
    Info,
    /// Plan and apply run, but something deserves a look.
    Warning,
    /// Plan or apply cannot run as things are.
    Blocker,
}

impl Severity {
    /// `info`, `warning`, `blocker`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Blocker => "blocker",
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// The management token: valid, whose, which organization role.
    Token,
    /// The organization: reachable.
    Organization,
    /// A managed space: reachable, its roles readable.
    Space,
    /// A collection: readable, its total and the page size served.
    Collection,
    /// A role name the access file uses.
    Role,
    /// The shape of the responses against what the client relies on.
    Response,
    /// The announced rate limit and the pacing the tool uses.
    RateLimit,
    /// Planning the access file against the organization.
    Plan,
}

impl Topic {
    /// The topic as written in text output.
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Token => "token",
            Topic::Organization => "organization",
            Topic::Space => "space",
            Topic::Collection => "collection",
            Topic::Role => "role",
            Topic::Response => "response",
            Topic::RateLimit => "rate_limit",
            Topic::Plan => "plan",
        }
    }
}

/// One thing `doctor` found, with what shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// What it is about.
    pub topic: Topic,
    /// What was found, in a sentence.
    pub message: String,
    /// What shows it: requests with their status and request id, file positions, counts.
    pub evidence: Vec<String>,
}

impl Finding {
    fn new(severity: Severity, topic: Topic, message: impl Into<String>) -> Finding {
        Finding {
            severity,
            topic,
            message: message.into(),
            evidence: Vec::new(),
        }
    }

    fn with(mut self, evidence: impl Into<String>) -> Finding {
        self.evidence.push(evidence.into());
        self
    }
}

/// What `doctor` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoctorReport {
    /// The organization examined.
    pub organization: String,
    /// The API root the requests went to.
    pub api: String,
    /// True when no finding blocks plan and apply.
    pub ready: bool,
    /// Requests sent (retries included).
    pub requests: u64,
    /// Every finding, in the order the checks ran.
    pub findings: Vec<Finding>,
}

impl crate::report::Document for DoctorReport {
    const KIND: &'static str = "doctor";
}

impl DoctorReport {
    /// The findings that block plan or apply.
    pub fn blockers(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Blocker)
    }
}

/// What to examine: an access file (its organization, its managed spaces, its plan) or a whole
/// organization by id (every space).
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// The organization and spaces an access file manages; its role names and plan are checked.
    File(&'a DesiredState),
    /// An organization by id; every space is checked.
    Organization(&'a str),
}

impl Subject<'_> {
    /// The organization id.
    pub fn organization(&self) -> &str {
        match self {
            Subject::File(d) => &d.organization,
            Subject::Organization(org) => org,
        }
    }
}

/// Runs every check through `client` (whose responses `inspect` reads afterwards) and returns
/// the findings. Never fails: what goes wrong is a finding.
pub async fn examine(
    client: &Client,
    subject: Subject<'_>,
    now: DateTime<Utc>,
    inspect: impl Fn() -> Inspection,
) -> DoctorReport {
    let org = subject.organization().to_string();
    let mut findings = Vec::new();
    let live = checks(client, subject, now, &mut findings).await;
    let inspection = inspect();
    response_findings(&inspection, &mut findings);
    if live.is_some() || !inspection.collections.is_empty() {
        rate_findings(client, &inspection, &mut findings).await;
    }
    let requests = client.stats().requests;
    DoctorReport {
        ready: !findings.iter().any(|f| f.severity == Severity::Blocker),
        organization: org,
        api: client.base_url().to_string(),
        requests,
        findings,
    }
}

/// The token, the organization, the spaces and the plan; the live state when it could be read.
async fn checks(
    client: &Client,
    subject: Subject<'_>,
    now: DateTime<Utc>,
    out: &mut Vec<Finding>,
) -> Option<LiveState> {
    let org = subject.organization();
    let me = match client.me().await {
        Ok(me) => me,
        Err(e) => {
            out.push(token_failed(client.base_url(), &e));
            return None;
        }
    };
    out.push(
        Finding::new(
            Severity::Info,
            Topic::Token,
            format!(
                "the token is valid and acts as {} (user {})",
                me.email, me.id
            ),
        )
        .with("GET /users/me: 200"),
    );

    match client.list_organizations().await {
        Ok(orgs) => match orgs.iter().find(|(id, _)| id == org) {
            Some((id, name)) => out.push(
                Finding::new(
                    Severity::Info,
                    Topic::Organization,
                    format!("organization {name} ({id}) is reachable with this token"),
                )
                .with(format!(
                    "GET /organizations: the token reaches {} organization(s)",
                    orgs.len()
                )),
            ),
            None => {
                let reaches = orgs
                    .iter()
                    .map(|(id, name)| format!("{name} ({id})"))
                    .collect::<Vec<_>>();
                out.push(
                    Finding::new(
                        Severity::Blocker,
                        Topic::Organization,
                        format!(
                            "organization {org} is not one this token reaches; check the id, or use a token of one of its admins"
                        ),
                    )
                    .with(format!(
                        "GET /organizations: the token reaches {}",
                        if reaches.is_empty() {
                            "no organization".to_string()
                        } else {
                            reaches.join(", ")
                        }
                    )),
                );
                return None;
            }
        },
        Err(e) => {
            out.push(
                Finding::new(
                    Severity::Blocker,
                    Topic::Organization,
                    "the organizations of the token's user cannot be listed",
                )
                .with(e.to_string()),
            );
            return None;
        }
    }

    let read = match subject {
        Subject::File(d) => {
            let spaces: Vec<String> = d.spaces.values().map(|s| s.id.clone()).collect();
            client.read_live_state(org, &spaces).await
        }
        Subject::Organization(_) => match client.list_spaces(org).await {
            Ok(spaces) => {
                let ids: Vec<String> = spaces.iter().map(|s| s.id.clone()).collect();
                client
                    .read_live_state_with_spaces(org, &ids, Some(spaces))
                    .await
            }
            Err(e) => Err(e),
        },
    };
    let live = match read {
        Ok(live) => live,
        Err(e) => {
            out.push(
                Finding::new(
                    Severity::Blocker,
                    Topic::Organization,
                    format!("the organization cannot be read: {}", read_failure_hint(&e)),
                )
                .with(e.to_string()),
            );
            return None;
        }
    };

    token_role(&live, &me.id, &me.email.to_string(), out);
    match subject {
        Subject::File(d) => {
            for (name, space) in &d.spaces {
                space_finding(&live, name, &space.id, out);
            }
            plan_findings(d, &live, now, out);
        }
        Subject::Organization(_) => {
            for space in live.spaces.values() {
                space_finding(&live, &space.name, &space.id, out);
            }
        }
    }
    Some(live)
}

/// The finding for a token the host refused (or a failed first request).
pub fn token_failed(base_url: &str, e: &ContentfulError) -> Finding {
    match e.status() {
        Some(401) => {
            let us = ClientConfig::region_base_url(Region::Us);
            let eu = ClientConfig::region_base_url(Region::Eu);
            let hint = if base_url == us {
                format!(
                    "if the organization keeps its data in the EU (data residency), its tokens work only at {eu}: run again with --region eu (the token was not sent there)"
                )
            } else if base_url == eu {
                format!(
                    "if the organization is not an EU data-residency one, its tokens work only at {us}: run again without --region eu (the token was not sent there)"
                )
            } else {
                "check the token and --base-url".to_string()
            };
            Finding::new(
                Severity::Blocker,
                Topic::Token,
                format!(
                    "{base_url} refused the token (expired, revoked, mistyped, or for another region); {hint}"
                ),
            )
            .with(e.to_string())
        }
        _ => Finding::new(
            Severity::Blocker,
            Topic::Token,
            format!("the token's user cannot be read at {base_url}"),
        )
        .with(e.to_string()),
    }
}

fn read_failure_hint(e: &ContentfulError) -> &'static str {
    match e.status() {
        Some(401) => "the token was refused",
        Some(403) => {
            "the token's user may not read it (organization admins and owners can; members cannot)"
        }
        Some(404) => "a collection or space was not found",
        Some(429) => "rate limited for longer than the client waits",
        Some(_) => "a request failed",
        None => "no usable answer",
    }
}

fn token_role(live: &LiveState, me_id: &str, me_email: &str, out: &mut Vec<Finding>) {
    let Some(mine) = live.org_memberships.values().find(|m| m.user_id == me_id) else {
        out.push(Finding::new(
            Severity::Warning,
            Topic::Token,
            format!(
                "{me_email} has no membership in the organization as read; the token-user guardrail cannot protect it"
            ),
        ));
        return;
    };
    let pending = if mine.status == MembershipStatus::Pending {
        " (pending)"
    } else {
        ""
    };
    let evidence = format!("organization membership {}", mine.meta.id);
    let finding = match mine.role {
        OrgRole::Owner => Finding::new(
            Severity::Info,
            Topic::Token,
            format!("{me_email} is an organization owner{pending}: every change is possible"),
        ),
        OrgRole::Admin => Finding::new(
            Severity::Info,
            Topic::Token,
            format!(
                "{me_email} is an organization admin{pending}: everything except owner changes (inviting, promoting, changing or removing owners needs an owner's token)"
            ),
        ),
        role => Finding::new(
            Severity::Blocker,
            Topic::Token,
            format!(
                "{me_email} is an organization {role}{pending}: only admins and owners can manage members, teams and space access; use an admin's or owner's token"
            ),
        ),
    };
    out.push(finding.with(evidence));
}

fn space_finding(live: &LiveState, name: &str, id: &str, out: &mut Vec<Finding>) {
    out.push(match live.spaces.get(id) {
        Some(space) => Finding::new(
            Severity::Info,
            Topic::Space,
            format!(
                "space {name} ({id}) is reachable; {} role(s) readable",
                space.roles.len()
            ),
        ),
        None => Finding::new(
            Severity::Blocker,
            Topic::Space,
            format!("space {name} ({id}) is not a space of this organization, or the token cannot reach it"),
        ),
    });
}

fn plan_findings(d: &DesiredState, live: &LiveState, now: DateTime<Utc>, out: &mut Vec<Finding>) {
    match plan::build(d, live, &PlanOptions { created_at: now }) {
        Ok(plan) => {
            let mut any_guardrail = false;
            for g in plan.failed_guardrails() {
                any_guardrail = true;
                let token = g.name == Guardrail::TokenUser;
                out.push(
                    Finding::new(
                        if token {
                            Severity::Blocker
                        } else {
                            Severity::Warning
                        },
                        if token { Topic::Token } else { Topic::Plan },
                        g.message.clone(),
                    )
                    .with(format!("guardrail {}", g.name.as_str())),
                );
            }
            if !any_guardrail {
                out.push(Finding::new(
                    Severity::Info,
                    Topic::Plan,
                    format!(
                        "the access file plans: {} operation(s), every guardrail passes",
                        plan.operations.len()
                    ),
                ));
            }
        }
        Err(PlanError::Unresolved(problems)) => {
            for p in problems {
                let diag = p.diagnostic();
                let topic = match p {
                    plan::Unresolved::UnknownRole { .. } => Topic::Role,
                    plan::Unresolved::UnknownSpace { .. } => Topic::Space,
                    plan::Unresolved::OrganizationMismatch { .. } => Topic::Organization,
                };
                let mut f = Finding::new(Severity::Blocker, topic, diag.message).with(format!(
                    "{}:{}:{}",
                    d.file_of(diag.span),
                    diag.span.line,
                    diag.span.column
                ));
                if let Some(help) = diag.help {
                    f = f.with(help);
                }
                out.push(f);
            }
        }
    }
}

/// Collections, failed requests, shapes and content types, from what the inspector saw.
fn response_findings(i: &Inspection, out: &mut Vec<Finding>) {
    for c in &i.collections {
        let total = c
            .total
            .map_or("no total".to_string(), |t| format!("total {t}"));
        let served = c.limit.unwrap_or(c.served);
        if c.limit.is_some_and(|l| l < c.asked) {
            out.push(
                Finding::new(
                    Severity::Blocker,
                    Topic::Collection,
                    format!(
                        "{} serves pages of {served} while the client asks for {}: reads would skip objects",
                        c.route, c.asked
                    ),
                )
                .with(format!("GET {}: {total}, limit {served}", c.path)),
            );
        } else {
            out.push(
                Finding::new(
                    Severity::Info,
                    Topic::Collection,
                    format!("{} is readable: {total}, page size {served}", c.route),
                )
                .with(format!(
                    "GET {}: {} item(s) on the first page",
                    c.path, c.served
                )),
            );
        }
    }
    // A failure that stopped a check is already a finding of that check (with the request and
    // its request id); what remains worth telling is what the client waited out or retried.
    for f in i
        .failures
        .iter()
        .filter(|f| matches!(f.status, 429 | 500 | 502 | 503 | 504))
    {
        let mut e = format!("{} → {}", f.path, f.status);
        if let Some(id) = &f.error_id {
            e.push_str(&format!(" {id}"));
        }
        if let Some(id) = &f.request_id {
            e.push_str(&format!(" (request id {id})"));
        }
        out.push(
            Finding::new(
                Severity::Info,
                Topic::Response,
                format!(
                    "{} answered {} (the client waits and retries)",
                    f.route, f.status
                ),
            )
            .with(e),
        );
    }
    for n in &i.shapes {
        let example = n
            .example
            .as_ref()
            .map(|id| format!(", e.g. {id}"))
            .unwrap_or_default();
        let evidence = format!("{}: {} {}(s){example}", n.route, n.count, n.object);
        let (severity, message) = match &n.issue {
            ShapeIssue::Missing { field, expected } => (
                Severity::Blocker,
                format!(
                    "{} objects lack `{field}` ({expected}), which the client needs",
                    n.object
                ),
            ),
            ShapeIssue::WrongType {
                field,
                expected,
                found,
            } => (
                Severity::Blocker,
                format!(
                    "{} objects have `{field}` as {found} where the client needs {expected}",
                    n.object
                ),
            ),
            ShapeIssue::Unknown { field } => (
                Severity::Info,
                format!(
                    "{} objects carry `{field}`, which this tool does not know (ignored)",
                    n.object
                ),
            ),
            ShapeIssue::Variant { variant } => (
                Severity::Info,
                format!("variant seen: {} objects: {}", n.object, variant.describe()),
            ),
        };
        out.push(Finding::new(severity, Topic::Response, message).with(evidence));
    }
    for (ct, count) in &i.content_types {
        if ct == MANAGEMENT_CONTENT_TYPE {
            continue;
        }
        let (severity, message) = if ct == "application/json" {
            (
                Severity::Info,
                format!("variant seen: {}", Variant::PlainJsonContentType.describe()),
            )
        } else {
            (
                Severity::Warning,
                format!("responses with content type {ct}, which is not JSON"),
            )
        };
        out.push(
            Finding::new(severity, Topic::Response, message)
                .with(format!("{count} response(s) with Content-Type {ct}")),
        );
    }
}

async fn rate_findings(client: &Client, i: &Inspection, out: &mut Vec<Finding>) {
    let gap = client.pacing_gap().await;
    let rps = if gap.is_zero() {
        "without pause".to_string()
    } else {
        format!("at most {:.1} requests/second", 1.0 / gap.as_secs_f64())
    };
    out.push(match i.rate_limit_per_second {
        Some(limit) => Finding::new(
            Severity::Info,
            Topic::RateLimit,
            format!(
                "the server announces {limit} requests/second; the tool paces {rps} (5% under the announced limit, or --max-rps)"
            ),
        )
        .with(format!("X-Contentful-RateLimit-Second-Limit: {limit}")),
        None => Finding::new(
            Severity::Info,
            Topic::RateLimit,
            format!("the server announced no rate limit; the tool paces {rps}"),
        ),
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn unauthorized() -> ContentfulError {
        ContentfulError::Api {
            method: "GET",
            path: "/users/me".into(),
            status: 401,
            error_id: "AccessTokenInvalid".into(),
            message: Some("The access token you sent could not be found or is invalid.".into()),
            details: None,
            request_id: Some("req-1".into()),
        }
    }

    #[test]
    fn a_refused_token_at_the_default_host_suggests_the_eu_region_without_trying_it() {
        let f = token_failed("https://api.contentful.com", &unauthorized());
        assert_eq!(f.severity, Severity::Blocker);
        assert!(f.message.contains("--region eu"), "{}", f.message);
        assert!(f.message.contains("not sent there"), "{}", f.message);
        assert!(f.evidence[0].contains("req-1"), "{:?}", f.evidence);
        let eu = token_failed("https://api.eu.contentful.com", &unauthorized());
        assert!(eu.message.contains("without --region eu"), "{}", eu.message);
        let local = token_failed("http://127.0.0.1:9", &unauthorized());
        assert!(local.message.contains("--base-url"), "{}", local.message);
    }
}
