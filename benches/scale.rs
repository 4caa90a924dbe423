//! The scale benchmark (issue 8): how close a read, a plan and an apply come to the physical
//! limit of the tool, Contentful's per-second rate limit.
//!
//! For synthetic organizations of 100, 1,000 and 10,000 users served by the sandbox on loopback
//! at 10 requests/second with 50 ms latency, it measures the requests of a full read against the
//! minimum computed from the seed, read + plan wall time against the rate-limit bound, the 429s
//! the sandbox journaled, and, side by side, what a per-object refresh (one GET per object, as
//! the Terraform providers do) costs against the same sandbox. It then times diff + plan alone
//! at about 100,000 memberships in a child process of its own (so the peak memory is that of
//! planning only), and applies about 1,000 operations against the rate-limited sandbox.
//!
//! Run: `cargo bench --bench scale` (prints a markdown report on stdout). Environment:
//! `SCALE_SIZES` (default `100,1000,10000`), `SCALE_REFRESH_UP_TO` (largest size whose
//! per-object refresh is actually issued, default `1000`; larger ones are computed),
//! `SCALE_DIFF_USERS` (org size of the diff + plan run, default `20000` ≈ 104,000 memberships),
//! `SCALE_APPLY_USERS` (org size of the apply run, default `1000`), `SCALE_APPLY_OPS` (default
//! `1000`), `SCALE_SPLIT_USERS` (org size of the one-file-against-split validation, default
//! `10000`: one file, then the same organization as `export --split` writes it, one file per
//! team).

#![forbid(unsafe_code)]

#[path = "support/changes.rs"]
#[allow(dead_code)] // `declare_member` is for issue20 and the count tests
mod changes;
#[path = "support/counts.rs"]
mod counts;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use contentful_access::apply::{self, ApplyOptions, NoObserver};
use contentful_access::config;
use contentful_access::contentful::{Client, ClientConfig};
use contentful_access::export::{self, desired_from_live};
use contentful_access::model::{
    DesiredState, Email, LiveOrgMembership, LiveRole, LiveSpace, LiveSpaceMembership, LiveState,
    LiveTeam, LiveTeamMembership, LiveTeamSpaceMembership, LiveUser, MaxRemovals, ObjectMeta,
    OrgRole,
};
use contentful_access::plan::{self, PlanOptions};
use contentful_access::sandbox::{SandboxOptions, Seed, Server, SyntheticSpec, synthetic};
use futures::StreamExt;
use secrecy::SecretString;

/// The sandbox's (and so the client's) requests per second.
const RATE: u32 = 10;
/// Latency the sandbox adds to every response.
const LATENCY: Duration = Duration::from_millis(50);
/// Concurrent requests of the per-object refresh (the client's default concurrency).
const REFRESH_CONCURRENCY: usize = 6;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace(['_', ','], "").parse().ok())
        .unwrap_or(default)
}

fn env_sizes() -> Vec<usize> {
    std::env::var("SCALE_SIZES")
        .ok()
        .map(|v| {
            v.split(',')
                .filter_map(|s| s.trim().replace('_', "").parse().ok())
                .collect::<Vec<usize>>()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| vec![100, 1_000, 10_000])
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--diff-plan-child") {
        let users = args
            .get(pos + 1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(20_000);
        let prune = args.get(pos + 2).is_some_and(|m| m == "prune");
        return match diff_plan_child(users, prune) {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("diff + plan child failed: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Everything measured for one organization size.
struct SizeRow {
    users: usize,
    spaces: usize,
    memberships: usize,
    requests: u64,
    minimum: u64,
    client_requests: u64,
    read: Duration,
    plan: Duration,
    bound: Duration,
    rate_limited: u64,
    refresh_requests: u64,
    refresh_expected: u64,
    refresh_time: Option<Duration>,
    refresh_429: u64,
}

async fn run() -> Result<String, BoxError> {
    let started = Utc::now();
    let mut rows = Vec::new();
    let refresh_up_to = env_usize("SCALE_REFRESH_UP_TO", 1_000);
    for users in env_sizes() {
        eprintln!("[scale] {users} users: reading and planning");
        rows.push(measure_size(users, refresh_up_to).await?);
    }
    eprintln!("[scale] diff + plan in a child process");
    let diff_users = env_usize("SCALE_DIFF_USERS", 20_000);
    let diff = [
        median_diff_plan(diff_users, false)?,
        median_diff_plan(diff_users, true)?,
    ];
    eprintln!("[scale] apply");
    let apply = measure_apply(
        env_usize("SCALE_APPLY_USERS", 1_000),
        env_usize("SCALE_APPLY_OPS", 1_000),
    )
    .await?;
    eprintln!("[scale] validate: one file against one file per team");
    let split = measure_split_validate(env_usize("SCALE_SPLIT_USERS", 10_000))?;
    Ok(format!(
        "{}\n{split}",
        report(started, &rows, &diff, &apply)
    ))
}

/// Loading and validating the access file of a `users`-user organization: as one file
/// ([`export::export`]) and split one file per team ([`export::export_split`], what
/// `export --split` writes); the median of 5 loads of each, through [`config::load`] (reading,
/// hashing, parsing, following the includes, validating).
fn measure_split_validate(users: usize) -> Result<String, BoxError> {
    let seed = synthetic(&SyntheticSpec::for_users(users));
    let live = live_from_seed(&seed);
    let names = spaces_by_id(&live);
    let dir = tempfile::tempdir()?;
    let single = dir.path().join("single.yaml");
    std::fs::write(&single, export::export(&live, &names, "bench"))?;
    let files = export::export_split(&live, &names, "bench");
    for (name, text) in &files {
        let path = dir.path().join("split").join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
    }
    let split_root = dir.path().join("split/access.yaml");
    let median = |path: &std::path::Path| -> Result<Duration, BoxError> {
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let desired = config::load(path).map_err(|e| e.to_string())?;
            times.push(t.elapsed());
            if desired.users.len() != users {
                return Err(format!("{} users loaded, not {users}", desired.users.len()).into());
            }
        }
        times.sort();
        Ok(times[2])
    };
    let one = median(&single)?;
    let many = median(&split_root)?;
    Ok(format!(
        "### Validate: one file against one file per team\n\n| users | files | one file | split | ratio |\n|---:|---:|---:|---:|---:|\n| {users} | {} | {} ms | {} ms | {:.2} |\n",
        files.len(),
        one.as_millis(),
        many.as_millis(),
        many.as_secs_f64() / one.as_secs_f64().max(1e-9)
    ))
}

fn client_for(server: &Server) -> Result<Client, BoxError> {
    let mut cfg = ClientConfig::new(&server.base_url(), SecretString::from(server.admin_token()))?;
    cfg.max_rps = RATE;
    Ok(Client::new(cfg)?)
}

fn sandbox_options() -> SandboxOptions {
    SandboxOptions {
        rate_limit_per_sec: RATE,
        latency: LATENCY,
        ..SandboxOptions::default()
    }
}

/// The time a run of `requests` paced at `RATE` cannot beat: the last request starts
/// `(requests − 1) / RATE` after the first and its answer takes at least the latency. With 50 ms
/// latency and 100 ms between starts, at most one request is in flight on average, so the
/// client's concurrency of 6 never binds and pacing alone sets the pace; a dependency (a
/// collection's later pages wait for its first page's `total`) costs nothing extra as long as
/// other requests can fill the slots meanwhile.
fn bound(requests: u64, dependent_rounds: u32) -> Duration {
    Duration::from_secs_f64(requests.saturating_sub(1) as f64 / f64::from(RATE))
        + LATENCY * dependent_rounds
}

fn memberships(seed: &Seed) -> usize {
    seed.space_memberships.len() + seed.team_memberships.len() + seed.team_space_memberships.len()
}

fn spaces_by_id(live: &LiveState) -> BTreeMap<String, String> {
    live.spaces
        .keys()
        .map(|id| (id.clone(), id.clone()))
        .collect()
}

fn plan_options() -> PlanOptions {
    PlanOptions {
        created_at: Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default(),
    }
}

async fn measure_size(users: usize, refresh_up_to: usize) -> Result<SizeRow, BoxError> {
    let seed = synthetic(&SyntheticSpec::for_users(users));
    let org = seed.organization.id.clone();
    let managed: Vec<String> = seed.spaces.iter().map(|s| s.id.clone()).collect();
    let minimum = counts::minimum_read_requests(&seed, &managed);
    let refresh_expected = counts::per_object_refresh_requests(&seed);
    let server = Server::start(seed.clone(), sandbox_options()).await?;

    let client = client_for(&server)?;
    let t0 = Instant::now();
    let live = client.read_live_state(&org, &managed).await?;
    let read = t0.elapsed();
    let desired = desired_from_live(&live, &spaces_by_id(&live));
    let t1 = Instant::now();
    let plan = plan::build(&desired, &live, &plan_options())?;
    let plan_time = t1.elapsed();
    if !plan.is_empty() {
        return Err(format!(
            "planning the org against itself gave {} operations",
            plan.operations.len()
        )
        .into());
    }
    let journal = server.journal_counts();
    let requests = journal.total as u64;
    let rate_limited = journal.by_status.get(&429).copied().unwrap_or(0) as u64;
    let client_requests = client.stats().requests;

    let (refresh_requests, refresh_time, refresh_429) = if users <= refresh_up_to {
        eprintln!("[scale] {users} users: per-object refresh of {refresh_expected} objects");
        server.clear_journal();
        let client = client_for(&server)?;
        let t = Instant::now();
        per_object_refresh(&client, &seed).await?;
        let elapsed = t.elapsed();
        let journal = server.journal_counts();
        (
            journal.total as u64,
            Some(elapsed),
            journal.by_status.get(&429).copied().unwrap_or(0) as u64,
        )
    } else {
        (refresh_expected, None, 0)
    };
    server.shutdown().await;
    Ok(SizeRow {
        users,
        spaces: seed.spaces.len(),
        memberships: memberships(&seed),
        requests,
        minimum,
        client_requests,
        read,
        plan: plan_time,
        bound: bound(minimum, 1),
        rate_limited,
        refresh_requests,
        refresh_expected,
        refresh_time,
        refresh_429,
    })
}

/// One GET per object, as a provider refreshing each resource of its state does.
async fn per_object_refresh(client: &Client, seed: &Seed) -> Result<(), BoxError> {
    #[derive(Clone)]
    enum Obj {
        OrgMembership(String),
        Team(String),
        TeamMembership(String, String),
        TeamSpaceMembership(String, String),
        SpaceMembership(String, String),
    }
    let org = seed.organization.id.clone();
    let objects: Vec<Obj> = seed
        .org_memberships
        .iter()
        .map(|m| Obj::OrgMembership(m.id.clone()))
        .chain(seed.teams.iter().map(|t| Obj::Team(t.id.clone())))
        .chain(
            seed.team_memberships
                .iter()
                .map(|m| Obj::TeamMembership(m.team.clone(), m.id.clone())),
        )
        .chain(
            seed.team_space_memberships
                .iter()
                .map(|m| Obj::TeamSpaceMembership(m.space.clone(), m.id.clone())),
        )
        .chain(
            seed.space_memberships
                .iter()
                .map(|m| Obj::SpaceMembership(m.space.clone(), m.id.clone())),
        )
        .collect();
    let mut results = futures::stream::iter(objects.into_iter().map(|o| {
        let org = org.clone();
        async move {
            match o {
                Obj::OrgMembership(id) => client.get_org_membership(&org, &id).await.map(|_| ()),
                Obj::Team(id) => client.get_team(&org, &id).await.map(|_| ()),
                Obj::TeamMembership(team, id) => client
                    .get_team_membership(&org, &team, &id)
                    .await
                    .map(|_| ()),
                Obj::TeamSpaceMembership(space, id) => client
                    .get_team_space_membership(&space, &id)
                    .await
                    .map(|_| ()),
                Obj::SpaceMembership(space, id) => {
                    client.get_space_membership(&space, &id).await.map(|_| ())
                }
            }
        }
    }))
    .buffer_unordered(REFRESH_CONCURRENCY);
    while let Some(result) = results.next().await {
        result?;
    }
    Ok(())
}

/// A desired state `target` operations away from `live`: alternately a changed role on an
/// existing (non-admin) direct space membership and a new direct membership in a managed space
/// the user is not in, for members that are not owners or admins. No removals, so no guardrail
/// is involved.
fn desired_with_changes(live: &LiveState, target: usize) -> DesiredState {
    let mut desired = desired_from_live(live, &spaces_by_id(live));
    let space_names: Vec<String> = desired.spaces.keys().cloned().collect();
    let mut changed = 0;
    let eligible: Vec<Email> = desired
        .users
        .values()
        .filter(|u| !matches!(u.org_role, OrgRole::Owner | OrgRole::Admin))
        .map(|u| u.email.clone())
        .collect();
    // A second pass adds more memberships when the first ran out of users.
    for (pass, (i, email)) in [0, 1]
        .into_iter()
        .flat_map(|pass| eligible.iter().enumerate().map(move |e| (pass, e)))
    {
        if changed >= target {
            break;
        }
        let Some(user) = desired.users.get_mut(email) else {
            continue;
        };
        let done = if pass == 0 && i % 2 == 0 {
            changes::change_first_role(user)
        } else {
            changes::add_author_grant(user, &space_names)
        };
        changed += usize::from(done);
    }
    desired
}

/// The desired state of `live` without `count` of its members (never an owner or admin), with
/// prune on and a removal limit that allows them.
fn desired_with_removals(live: &LiveState, count: usize) -> DesiredState {
    let mut desired = desired_from_live(live, &spaces_by_id(live));
    let gone: Vec<Email> = desired
        .users
        .values()
        .filter(|u| !matches!(u.org_role, OrgRole::Owner | OrgRole::Admin))
        .map(|u| u.email.clone())
        .take(count)
        .collect();
    for email in &gone {
        desired.users.remove(email);
    }
    desired.policy.prune = true;
    desired.policy.max_removals = MaxRemovals::Count(u32::try_from(count).unwrap_or(u32::MAX));
    desired
}

/// The diff + plan figures of the child process.
struct DiffPlan {
    users: usize,
    /// The plan prunes undeclared users instead of changing access.
    prune: bool,
    memberships: usize,
    operations: usize,
    wall_ms: f64,
    cpu_ms: f64,
    /// Lowest and highest CPU time of the runs this figure is the median of.
    cpu_range_ms: (f64, f64),
    rss_before_kb: u64,
    peak_kb: u64,
}

/// Runs of the diff + plan child per figure: CPU time on a shared machine varies from run to
/// run, so the report gives the median and the range.
const DIFF_PLAN_RUNS: usize = 5;

/// The run with the median CPU time of [`DIFF_PLAN_RUNS`] children, with the range of all.
fn median_diff_plan(users: usize, prune: bool) -> Result<DiffPlan, BoxError> {
    let mut runs = (0..DIFF_PLAN_RUNS)
        .map(|_| run_diff_plan_child(users, prune))
        .collect::<Result<Vec<_>, _>>()?;
    runs.sort_by(|a, b| a.cpu_ms.total_cmp(&b.cpu_ms));
    let range = (runs[0].cpu_ms, runs[runs.len() - 1].cpu_ms);
    let mut median = runs.swap_remove(runs.len() / 2);
    median.cpu_range_ms = range;
    Ok(median)
}

fn run_diff_plan_child(users: usize, prune: bool) -> Result<DiffPlan, BoxError> {
    let exe = std::env::current_exe()?;
    let out = Command::new(exe)
        .arg("--diff-plan-child")
        .arg(users.to_string())
        .arg(if prune { "prune" } else { "changes" })
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "diff + plan child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(line.trim())?;
    let num = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    Ok(DiffPlan {
        users,
        prune,
        memberships: num("memberships") as usize,
        operations: num("operations") as usize,
        wall_ms: num("wall_ms"),
        cpu_ms: num("cpu_ms"),
        cpu_range_ms: (num("cpu_ms"), num("cpu_ms")),
        rss_before_kb: num("rss_before_kb") as u64,
        peak_kb: num("peak_kb") as u64,
    })
}

/// A `/proc/self/status` value in kB.
fn proc_status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// User + system CPU time of this process, from `/proc/self/stat` (clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let utime: u64 = f.get(11)?.parse().ok()?;
            let stime: u64 = f.get(12)?.parse().ok()?;
            Some(utime + stime)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// Builds the inputs from a synthetic seed without any HTTP, then times `plan::build` alone on
/// this (single) thread. Prints one JSON line. With `prune`, the file drops 1,000 users and prunes
/// (each removal cascades to the user's team and space memberships); otherwise it changes 1,000
/// space memberships.
fn diff_plan_child(users: usize, prune: bool) -> Result<String, BoxError> {
    let (live, memberships) = {
        let seed = synthetic(&SyntheticSpec::for_users(users));
        (live_from_seed(&seed), memberships(&seed))
    };
    let desired = if prune {
        desired_with_removals(&live, 1_000)
    } else {
        desired_with_changes(&live, 1_000)
    };
    let rss_before_kb = proc_status_kb("VmRSS:");
    let cpu0 = cpu_time();
    let t0 = Instant::now();
    let plan = plan::build(&desired, &live, &plan_options())?;
    let wall = t0.elapsed();
    let cpu = cpu_time().saturating_sub(cpu0);
    let peak_kb = proc_status_kb("VmHWM:");
    Ok(serde_json::json!({
        "memberships": memberships,
        "operations": plan.operations.len(),
        "wall_ms": wall.as_secs_f64() * 1e3,
        "cpu_ms": cpu.as_secs_f64() * 1e3,
        "rss_before_kb": rss_before_kb,
        "peak_kb": peak_kb,
    })
    .to_string())
}

/// The live state a full read of the seed's organization gives, built directly.
fn live_from_seed(seed: &Seed) -> LiveState {
    let meta = |id: &str, version: u64| ObjectMeta::new(id, version);
    let mut live = LiveState {
        organization: seed.organization.id.clone(),
        organization_name: Some(seed.organization.name.clone()),
        ..LiveState::default()
    };
    let members: BTreeSet<&str> = seed
        .org_memberships
        .iter()
        .map(|m| m.user.as_str())
        .collect();
    for u in seed
        .users
        .iter()
        .filter(|u| members.contains(u.id.as_str()))
    {
        live.users.insert(
            u.id.clone(),
            LiveUser {
                id: u.id.clone(),
                email: Email::new(&u.email),
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
                activated: u.activated,
            },
        );
    }
    for m in &seed.org_memberships {
        live.org_memberships.insert(
            m.id.clone(),
            LiveOrgMembership {
                meta: meta(&m.id, m.sys.version),
                user_id: m.user.clone(),
                role: m.role,
                status: m.status,
                last_active_at: m.last_active_at,
                sso: None,
            },
        );
    }
    if let Some(owner) = seed
        .org_memberships
        .iter()
        .find(|m| m.role == OrgRole::Owner)
    {
        live.me = Some(owner.user.clone());
    }
    for s in &seed.spaces {
        live.spaces.insert(
            s.id.clone(),
            LiveSpace {
                id: s.id.clone(),
                name: s.name.clone(),
                roles: BTreeMap::new(),
            },
        );
    }
    for r in &seed.roles {
        if let Some(space) = live.spaces.get_mut(&r.space) {
            space
                .roles
                .insert(r.id.clone(), LiveRole::named(r.id.clone(), r.name.clone()));
        }
    }
    for t in &seed.teams {
        live.teams.insert(
            t.id.clone(),
            LiveTeam {
                meta: meta(&t.id, t.sys.version),
                name: t.name.clone(),
                description: t.description.clone().unwrap_or_default(),
            },
        );
    }
    for m in &seed.team_memberships {
        live.team_memberships.insert(
            m.id.clone(),
            LiveTeamMembership {
                meta: meta(&m.id, m.sys.version),
                team_id: m.team.clone(),
                org_membership_id: m.org_membership.clone(),
            },
        );
    }
    for m in &seed.team_space_memberships {
        live.team_space_memberships.insert(
            m.id.clone(),
            LiveTeamSpaceMembership {
                meta: meta(&m.id, m.sys.version),
                team_id: m.team.clone(),
                space_id: m.space.clone(),
                admin: m.admin,
                role_ids: if m.admin {
                    BTreeSet::new()
                } else {
                    m.roles.iter().cloned().collect()
                },
            },
        );
    }
    for m in &seed.space_memberships {
        live.space_memberships.insert(
            m.id.clone(),
            LiveSpaceMembership {
                meta: meta(&m.id, m.sys.version),
                space_id: m.space.clone(),
                user_id: m.user.clone(),
                admin: m.admin,
                role_ids: if m.admin {
                    BTreeSet::new()
                } else {
                    m.roles.iter().cloned().collect()
                },
            },
        );
    }
    live
}

/// The apply run: a plan of about `ops` operations against a fresh sandbox of `users` users.
struct ApplyRow {
    users: usize,
    operations: usize,
    levels: usize,
    kinds: String,
    requests: u64,
    rate_limited: u64,
    wall: Duration,
    bound: Duration,
    succeeded: bool,
    converged: bool,
}

async fn measure_apply(users: usize, ops: usize) -> Result<ApplyRow, BoxError> {
    let seed = synthetic(&SyntheticSpec::for_users(users));
    let org = seed.organization.id.clone();
    let managed: Vec<String> = seed.spaces.iter().map(|s| s.id.clone()).collect();
    let server = Server::start(seed, sandbox_options()).await?;
    let client = client_for(&server)?;
    let live = client.read_live_state(&org, &managed).await?;
    let desired = desired_with_changes(&live, ops);
    let plan = match apply::plan_checked(&desired, &live, &plan_options())? {
        apply::Planned::Verified(plan) => plan,
        apply::Planned::Refused(_) => {
            return Err("the generated plan is refused by a guardrail".into());
        }
    };
    let kinds: Vec<String> = plan
        .summary
        .by_kind
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    server.clear_journal();
    let t = Instant::now();
    let report = apply::apply(
        &client,
        &plan,
        &ApplyOptions::default().with_users_of(&live),
        &mut NoObserver,
    )
    .await;
    let wall = t.elapsed();
    let journal = server.journal_counts();
    // Did the organization end up as the file says? Read and plan again (not timed).
    let after = client.read_live_state(&org, &managed).await?;
    let converged = plan::build(&desired, &after, &plan_options())?.is_empty();
    server.shutdown().await;
    let operations = plan.operations.len();
    let levels = plan.levels.len();
    Ok(ApplyRow {
        users,
        operations,
        levels,
        kinds: kinds.join(", "),
        requests: journal.total as u64,
        rate_limited: journal.by_status.get(&429).copied().unwrap_or(0) as u64,
        wall,
        // One write per operation is the minimum; each level waits for its slowest answer.
        bound: bound(operations as u64, levels as u32),
        succeeded: report.succeeded(),
        converged,
    })
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem_gb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    format!("{cpu}, {cores} cores available, {mem_gb:.1} GiB RAM")
}

fn report(
    started: chrono::DateTime<Utc>,
    rows: &[SizeRow],
    diff: &[DiffPlan],
    apply: &ApplyRow,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Run {} on {}. Sandbox: {RATE} req/s, {} ms latency; client `--max-rps {RATE}`, 6 in flight. Every space managed.\n",
        started.format("%Y-%m-%d %H:%M UTC"),
        machine(),
        LATENCY.as_millis()
    );
    let _ = writeln!(out, "### Full read + plan\n");
    let _ = writeln!(
        out,
        "| users | spaces | memberships | requests (journal) | minimum | read | plan | read + plan | bound | ratio | 429s | per-object refresh requests | refresh wall time |"
    );
    let _ = writeln!(
        out,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for r in rows {
        let total = r.read + r.plan;
        let refresh = match r.refresh_time {
            Some(t) => format!(
                "{} measured ({} 429s; expected {})",
                secs(t),
                r.refresh_429,
                r.refresh_expected
            ),
            None => format!(
                "{} computed ({} requests ÷ {RATE}/s; not issued)",
                secs(Duration::from_secs_f64(
                    r.refresh_requests as f64 / f64::from(RATE)
                )),
                r.refresh_requests
            ),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {}{} | {} | {} | {:.0} ms | {} | {} | {:.2}× | {} | {} | {} |",
            r.users,
            r.spaces,
            r.memberships,
            r.requests,
            if r.client_requests == r.requests {
                String::new()
            } else {
                format!(" (client counted {})", r.client_requests)
            },
            r.minimum,
            secs(r.read),
            r.plan.as_secs_f64() * 1e3,
            secs(total),
            secs(r.bound),
            total.as_secs_f64() / r.bound.as_secs_f64(),
            r.rate_limited,
            r.refresh_requests,
            refresh,
        );
    }
    let _ = writeln!(
        out,
        "\n### Diff + plan alone (in-process, no HTTP, one thread; median of {DIFF_PLAN_RUNS} runs)\n"
    );
    let _ = writeln!(
        out,
        "| users | memberships | plan | operations | wall time | CPU time | CPU time, all runs | RSS before planning | peak RSS (VmHWM) |"
    );
    let _ = writeln!(out, "|---:|---:|---|---:|---:|---:|---:|---:|---:|");
    for d in diff {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.0} ms | {:.0} ms | {:.0}–{:.0} ms | {:.0} MB | {:.0} MB |",
            d.users,
            d.memberships,
            if d.prune {
                "prune 1,000 users (with their memberships)"
            } else {
                "change 1,000 space memberships"
            },
            d.operations,
            d.wall_ms,
            d.cpu_ms,
            d.cpu_range_ms.0,
            d.cpu_range_ms.1,
            d.rss_before_kb as f64 / 1024.0,
            d.peak_kb as f64 / 1024.0,
        );
    }
    let _ = writeln!(out, "\n### Apply\n");
    let _ = writeln!(
        out,
        "| users | operations | levels | kinds | requests (journal) | wall time | bound | ratio | 429s | all applied | converged |\n|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---|"
    );
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} | {:.2}× | {} | {} | {} |",
        apply.users,
        apply.operations,
        apply.levels,
        apply.kinds,
        apply.requests,
        secs(apply.wall),
        secs(apply.bound),
        apply.wall.as_secs_f64() / apply.bound.as_secs_f64(),
        apply.rate_limited,
        if apply.succeeded { "yes" } else { "no" },
        if apply.converged { "yes" } else { "no" },
    );
    out
}
