//! Issue 20's measurements, each on its own so only what changed is re-run: an incremental drift
//! (`drift --cache`) against a full read at 10,000 users with 10 changes, the full read at the
//! default pacing (starting at 7/s, then following the announced limit) against the rate-limit
//! bound, the requests of duplicate-create recovery, and `validate` at 30,000 and 100,000 users.
//!
//! Run: `cargo bench --bench issue20` (a markdown report on stdout). Environment:
//! `ISSUE20_USERS` (default `10000`), `ISSUE20_PARTS` (comma-separated subset of
//! `incremental,duplicates,saved,validate`; default all), `ISSUE20_VALIDATE_USERS` (default
//! `30000,100000`).

#![forbid(unsafe_code)]

#[path = "support/changes.rs"]
mod changes;

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use contentful_access::apply::{self, ApplyOptions, NoObserver, OpStatus, Planned};
use contentful_access::config;
use contentful_access::contentful::{Client, ClientConfig};
use contentful_access::drift_cache::DriftCache;
use contentful_access::export;
use contentful_access::model::{Email, LiveState, OrgRole};
use contentful_access::plan::PlanOptions;
use contentful_access::sandbox::{SandboxOptions, Server, SyntheticSpec, synthetic};
use secrecy::SecretString;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The sandbox's requests per second (Contentful's usual limit).
const RATE: u32 = 10;
/// Latency the sandbox adds to every response.
const LATENCY: Duration = Duration::from_millis(50);

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn main() -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(run());
    drop(rt);
    // Outside the runtime: `validate` starts its own to serve the synthetic org once.
    let parts = env_list("ISSUE20_PARTS", "incremental,duplicates,saved,validate");
    let result = result.and_then(|mut out| {
        if parts.iter().any(|p| p == "validate") {
            out.push_str(&validate()?);
        }
        Ok(out)
    });
    match result {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("issue20 bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<String, BoxError> {
    let users: usize = env_list("ISSUE20_USERS", "10000")
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let parts = env_list("ISSUE20_PARTS", "incremental,duplicates,saved,validate");
    let mut out = String::new();
    if parts.iter().any(|p| p == "incremental") {
        eprintln!("[issue20] incremental vs full drift at {users} users");
        out.push_str(&incremental(users).await?);
    }
    if parts.iter().any(|p| p == "duplicates") {
        eprintln!("[issue20] duplicate-create recovery at {users} users");
        out.push_str(&duplicates(users).await?);
    }
    if parts.iter().any(|p| p == "saved") {
        eprintln!("[issue20] saved-plan apply of 1,000 operations at 1,000 users");
        out.push_str(&saved_apply(1_000, 1_000).await?);
    }
    Ok(out)
}

/// A client with the default pacing (7/s, then following the announced limit).
fn default_client(server: &Server) -> Result<Client, BoxError> {
    let cfg = ClientConfig::new(&server.base_url(), SecretString::from(server.admin_token()))?;
    Ok(Client::new(cfg)?)
}

async fn rate_limited(
    users: usize,
    documented_orders_only: bool,
) -> Result<(Server, String), BoxError> {
    let mut seed = synthetic(&SyntheticSpec::for_users(users));
    seed.variants.documented_orders_only = documented_orders_only;
    let org = seed.organization.id.clone();
    let server = Server::start(
        seed,
        SandboxOptions {
            rate_limit_per_sec: RATE,
            latency: LATENCY,
            ..SandboxOptions::default()
        },
    )
    .await?;
    Ok((server, org))
}

fn bound(requests: usize) -> Duration {
    Duration::from_secs_f64(requests.saturating_sub(1) as f64 / f64::from(RATE)) + LATENCY
}

/// One measured read: its name, requests by route and status, wall time.
struct Measured {
    name: String,
    journal: contentful_access::sandbox::JournalCounts,
    time: Duration,
}

/// A full read, then rounds of ten changes each followed by an incremental read (the refused
/// orderings found by one round carried into the next, as the drift cache carries them); each
/// incremental read is checked against a full read. The full read and the incremental reads,
/// with what each found, by route.
async fn incremental_rounds(
    users: usize,
    documented_orders_only: bool,
    rounds: usize,
) -> Result<(Vec<Measured>, String), BoxError> {
    let (server, org) = rate_limited(users, documented_orders_only).await?;
    let c = default_client(&server)?;
    let spaces: Vec<String> = c
        .list_spaces(&org)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    server.clear_journal();
    let started = Instant::now();
    let mut live = c.read_live_state(&org, &spaces).await?;
    let full_time = started.elapsed();
    let mut out = vec![Measured {
        name: "full (default pacing)".into(),
        journal: server.journal_counts(),
        time: full_time,
    }];
    let mut cache = DriftCache::new(&live, &spaces, full_time);
    let mut notes = String::new();
    for round in 0..rounds {
        ten_changes(&c, &org, &live, round).await?;
        server.clear_journal();
        let started = Instant::now();
        let (incremental, stats) = c
            .read_incremental(
                &org,
                &spaces,
                &cache.live,
                cache.since,
                &cache.newest_first_refused,
            )
            .await?;
        let took = started.elapsed();
        let journal = server.journal_counts();
        let check = c.read_live_state(&org, &spaces).await?;
        let same = if incremental == check { "yes" } else { "NO" };
        let name = match (documented_orders_only, round) {
            (false, _) => "incremental (`--cache`), newest-first pages answered".to_string(),
            (true, 0) => {
                "incremental, documented orderings only: first run (asks, is refused)".to_string()
            }
            (true, _) => "incremental, documented orderings only: later runs".to_string(),
        };
        writeln!(
            notes,
            "- {name}: {} changed, {} deleted, collections read in full: {:?}, newest-first refused: {:?}; equal to a full read afterwards: {same}. By route: {:?}",
            stats.changed,
            stats.deleted,
            stats.full_reads,
            stats.newest_first_refused,
            journal.by_route
        )?;
        out.push(Measured {
            name,
            journal,
            time: took,
        });
        cache = DriftCache::new(&incremental, &spaces, took)
            .with_newest_first_refused(stats.newest_first_refused);
        live = check;
    }
    server.shutdown().await;
    Ok((out, notes))
}

async fn incremental(users: usize) -> Result<String, BoxError> {
    let (mut rows, mut notes) = incremental_rounds(users, false, 1).await?;
    let (documented, more) = incremental_rounds(users, true, 2).await?;
    rows.extend(documented.into_iter().skip(1));
    notes.push_str(&more);
    let mut s = String::new();
    writeln!(
        s,
        "### Incremental vs full drift read ({users} users, 10 changes)\n"
    )?;
    writeln!(
        s,
        "| read | requests (journal) | 429s | wall time | bound at {RATE}/s | ratio |"
    )?;
    writeln!(s, "|---|---:|---:|---:|---:|---:|")?;
    for m in &rows {
        let b = bound(m.journal.total);
        writeln!(
            s,
            "| {} | {} | {} | {:.1} s | {:.1} s | {:.2}× |",
            m.name,
            m.journal.total,
            m.journal.by_status.get(&429).copied().unwrap_or(0),
            m.time.as_secs_f64(),
            b.as_secs_f64(),
            m.time.as_secs_f64() / b.as_secs_f64()
        )?;
    }
    writeln!(s, "\n{notes}")?;
    Ok(s)
}

/// Ten changes: four invites (creates), three org-role changes, a space-membership change and a
/// role edited in the web app (updates), and a space-membership delete. `round` picks other
/// objects each time.
async fn ten_changes(
    c: &Client,
    org: &str,
    live: &LiveState,
    round: usize,
) -> Result<(), BoxError> {
    for i in 0..4 {
        let email = Email::parse(&format!("bench-new{round}-{i}@example.com"))?;
        c.invite(org, &email, OrgRole::Member, None, None).await?;
    }
    let members: Vec<_> = live
        .org_memberships
        .values()
        .filter(|m| m.role == OrgRole::Member)
        .skip(3 * round)
        .take(3)
        .collect();
    for m in members {
        c.update_org_membership(org, &m.meta.id, m.meta.version, OrgRole::Developer)
            .await?;
    }
    let sms: Vec<_> = live
        .space_memberships
        .values()
        .filter(|m| !m.admin)
        .skip(2 * round)
        .take(2)
        .collect();
    c.update_space_membership(
        &sms[0].space_id,
        &sms[0].meta.id,
        sms[0].meta.version,
        true,
        &[],
    )
    .await?;
    let (space, role) = live
        .spaces
        .values()
        .find_map(|s| s.roles.values().next().map(|r| (s, r)))
        .ok_or("no role to edit")?;
    let mut definition = role.definition.clone();
    definition.description = format!("edited in the web app ({round})");
    c.update_role(&space.id, &role.id, role.version, &role.name, &definition)
        .await?;
    c.delete_space_membership(&sms[1].space_id, &sms[1].meta.id)
        .await?;
    Ok(())
}

async fn duplicates(users: usize) -> Result<String, BoxError> {
    let seed = synthetic(&SyntheticSpec::for_users(users));
    let org = seed.organization.id.clone();
    let server = Server::start(seed, SandboxOptions::unlimited()).await?;
    let mut cfg = ClientConfig::new(&server.base_url(), SecretString::from(server.admin_token()))?;
    cfg.max_rps = 1000;
    let c = Client::new(cfg)?;
    let all = c.list_spaces(&org).await?;
    let names = export::space_names(&org, &all, &[])?;
    let ids: Vec<String> = names.values().cloned().collect();
    let live = c.read_live_state(&org, &ids).await?;
    let mut desired = export::desired_from_live(&live, &names);
    for i in 0..20 {
        changes::declare_member(
            &mut desired,
            Email::parse(&format!("dup{i:02}@example.com"))?,
        );
    }
    let plan = match apply::plan_checked(
        &desired,
        &live,
        &PlanOptions {
            created_at: chrono::Utc::now(),
        },
    )? {
        Planned::Verified(p) => p,
        Planned::Refused(_) => return Err("the plan was refused".into()),
    };
    // Someone else sends the same invitations first and the invitees accept them, after the
    // plan's read: every create of the plan is a duplicate (an active member cannot be invited
    // again, so each is answered 422; a pending invitee would simply be invited again, which is
    // why accepting matters).
    let first = apply::apply(&c, &plan, &ApplyOptions::default(), &mut NoObserver).await;
    if !first.succeeded() {
        return Err("the first (someone else's) invitations failed".into());
    }
    let now = chrono::Utc::now();
    let accepted = server.with_world(|w| {
        (0..20)
            .filter(|i| w.accept_invitation(&format!("dup{i:02}@example.com"), now))
            .count()
    });
    if accepted != 20 {
        return Err(format!("only {accepted} of 20 invitations were accepted").into());
    }
    server.clear_journal();
    let report = apply::apply(&c, &plan, &ApplyOptions::default(), &mut NoObserver).await;
    let j = server.journal_counts();
    server.shutdown().await;
    let done = report.outcomes.iter().all(|o| {
        matches!(
            o.status,
            OpStatus::Applied {
                already_done: true,
                ..
            }
        )
    });
    // The memberships after the 20 accepted (100 per page).
    let member_pages = (live.org_memberships.len() + 20).div_ceil(100);
    Ok(format!(
        "### Duplicate-create recovery ({users} users)\n\n\
         20 invitations of people who are already active members, though the plan's read did not \
         see them (someone else invited them and they accepted after it):\n\n\
         | requests (journal) | POSTs | answered 422 | re-read pages (organization memberships) | one read of the memberships | other requests | all recognised as done |\n\
         |---:|---:|---:|---:|---:|---:|---|\n\
         | {} | {} | {} | {} | {} pages | {} | {} |\n\n\
         Before (issue 20): one full re-read of the organization per 422, 1,340 requests for these 20 at 10,000 users.\n\n",
        j.total,
        j.count("POST", "/organizations/:org/invitations"),
        j.by_status.get(&422).copied().unwrap_or(0),
        j.count("GET", "/organizations/:org/organization_memberships"),
        member_pages,
        j.total
            - j.count("POST", "/organizations/:org/invitations")
            - j.count("GET", "/organizations/:org/organization_memberships"),
        report.succeeded() && done
    ))
}

/// A saved plan of `ops` operations (half role changes, half new space memberships) made at
/// `users` users, written as JSON, read back, verified (`apply PLAN`: one read of the
/// organization, which also checks every touched object's version) and applied, against the
/// rate-limited sandbox at the default pacing. The bound is the writes alone (one per operation,
/// at the limit) plus the one read verification needs.
async fn saved_apply(users: usize, ops: usize) -> Result<String, BoxError> {
    use contentful_access::plan::Plan;
    let (server, org) = rate_limited(users, false).await?;
    let c = default_client(&server)?;
    let all = c.list_spaces(&org).await?;
    let names = export::space_names(&org, &all, &[])?;
    let ids: Vec<String> = names.values().cloned().collect();
    let live = c.read_live_state(&org, &ids).await?;
    let mut desired = export::desired_from_live(&live, &names);
    let space_names: Vec<String> = desired.spaces.keys().cloned().collect();
    let mut changed = 0;
    for (i, user) in desired.users.values_mut().enumerate() {
        if changed == ops {
            break;
        }
        if matches!(user.org_role, OrgRole::Owner | OrgRole::Admin) {
            continue;
        }
        let done = if i % 2 == 0 {
            changes::change_first_role(user)
        } else {
            changes::add_author_grant(user, &space_names)
        };
        changed += usize::from(done);
    }
    let now = chrono::Utc::now();
    let plan = contentful_access::plan::build(&desired, &live, &PlanOptions { created_at: now })?;
    let saved = Plan::from_json(&contentful_access::render::plan_json(&plan))?;
    let updates = plan
        .operations
        .iter()
        .filter(|o| o.kind.name().starts_with("update"))
        .count();
    let levels = plan.levels.len();
    let n = plan.operations.len();
    server.clear_journal();
    let started = Instant::now();
    let verified = apply::verify_saved(
        &c,
        saved,
        &desired,
        &apply::VerifyOptions {
            now,
            max_age: chrono::Duration::hours(1),
        },
    )
    .await
    .map_err(|e| format!("verify_saved: {e:?}"))?;
    let read = server.journal_counts().total;
    let report = apply::apply(&c, &verified, &ApplyOptions::default(), &mut NoObserver).await;
    let took = started.elapsed();
    let j = server.journal_counts();
    server.shutdown().await;
    let writes = j.total - read;
    let write_bound = Duration::from_secs_f64(n.saturating_sub(1) as f64 / f64::from(RATE))
        + LATENCY * levels as u32;
    let total_bound = write_bound + bound(read);
    Ok(format!(
        "### Saved-plan apply ({users} users, {n} operations: {updates} updates)\n\n\
         | requests (journal) | verification read | writes | extra GETs | 429s | wall time | write bound | ratio | read + write bound | ratio | all applied |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n\
         | {} | {read} | {writes} | {} | {} | {:.1} s | {:.1} s | {:.2}× | {:.1} s | {:.2}× | {} |\n\n",
        j.total,
        writes.saturating_sub(n),
        j.by_status.get(&429).copied().unwrap_or(0),
        took.as_secs_f64(),
        write_bound.as_secs_f64(),
        took.as_secs_f64() / write_bound.as_secs_f64(),
        total_bound.as_secs_f64(),
        took.as_secs_f64() / total_bound.as_secs_f64(),
        report.succeeded(),
    ))
}

fn validate() -> Result<String, BoxError> {
    let mut s = String::new();
    writeln!(
        s,
        "### `validate` (load + validate the access file, CPU, median of 3)\n"
    )?;
    writeln!(s, "| users | bytes | median | range | per 10,000 users |")?;
    writeln!(s, "|---:|---:|---:|---:|---:|")?;
    for users in env_list("ISSUE20_VALIDATE_USERS", "30000,100000") {
        let users: usize = users.parse()?;
        eprintln!("[issue20] validate at {users} users");
        let seed = synthetic(&SyntheticSpec::for_users(users));
        let live = seed_live(&seed);
        let names = live
            .spaces
            .keys()
            .map(|id| (id.clone(), id.clone()))
            .collect();
        let text = export::export(&live, &names, "bench");
        let mut times = Vec::new();
        for _ in 0..3 {
            let started = Instant::now();
            let d = config::load_str("access.yaml", &text)?;
            times.push(started.elapsed());
            std::hint::black_box(d);
        }
        times.sort();
        let per = times[1].as_secs_f64() / (users as f64 / 10_000.0);
        writeln!(
            s,
            "| {users} | {} | {:.2} s | {:.2}–{:.2} s | {:.2} s |",
            text.len(),
            times[1].as_secs_f64(),
            times[0].as_secs_f64(),
            times[2].as_secs_f64(),
            per
        )?;
    }
    writeln!(s)?;
    Ok(s)
}

/// The live state a full read of `seed` gives, without HTTP (the world's own view).
fn seed_live(seed: &contentful_access::sandbox::Seed) -> LiveState {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok();
    rt.and_then(|rt| {
        rt.block_on(async {
            let server = Server::start(seed.clone(), SandboxOptions::unlimited())
                .await
                .ok()?;
            let mut cfg =
                ClientConfig::new(&server.base_url(), SecretString::from(server.admin_token()))
                    .ok()?;
            cfg.max_rps = 100_000;
            cfg.concurrency = 16;
            let c = Client::new(cfg).ok()?;
            let ids: Vec<String> = seed.spaces.iter().map(|s| s.id.clone()).collect();
            let live = c.read_live_state(&seed.organization.id, &ids).await.ok();
            server.shutdown().await;
            live
        })
    })
    .unwrap_or_default()
}
