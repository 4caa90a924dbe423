//! One library operation per command, cargo style: the binary's `commands/*.rs` turn arguments
//! into a [`Target`] and options and call one function here. Connecting (to Contentful or to an
//! in-process sandbox), reading the organization, planning, verifying and closing live here once,
//! not in each command.
//!
//! Nothing here prints: what the user sees goes through [`ApplyHooks`] (for `apply`) or the
//! returned values, which the binary renders.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::apply::{
    self, ApplyError, ApplyObserver, ApplyOptions, ApplyReport, Planned, Refusal, Rehearsal,
    VerifiedPlan, VerifyError, VerifyOptions,
};
use crate::config::{self, ConfigError};
use crate::contentful::IncrementalStats;
use crate::contentful::inspect::Inspector;
use crate::contentful::record::ResponseObserver;
use crate::contentful::{Client, ClientConfig, ContentfulError};
use crate::doctor::{self, DoctorReport, Subject};
use crate::drift_cache::{DriftCache, NotUsed, WriteError};
use crate::export::{self, ExportError};
use crate::input::{InputError, MAX_FILE_BYTES, read_bounded_text};
use crate::model::{DesiredState, LiveAccessToken, LiveSpace, LiveState};
use crate::plan::{self, Plan, PlanError, PlanFileError, PlanOptions};
use crate::report::drift::{self, DriftReport};
use crate::sandbox::{SandboxError, SandboxOptions, Seed, SeedError, Server};

/// Where an operation reads (and writes) the organization.
#[derive(Debug)]
pub enum Target {
    /// Contentful (or a sandbox server) at the configuration's base URL.
    Contentful(ClientConfig),
    /// An in-process sandbox started from `seed` for this operation and stopped after it:
    /// nothing it changes outlives the operation.
    Sandbox {
        /// What the sandbox holds when it starts.
        seed: Box<Seed>,
        /// Requests per second at most (a ceiling); `None` follows the sandbox's announced limit.
        max_rps: Option<u32>,
        /// Shown every response ([`Target::observe`]).
        observers: Vec<Arc<dyn ResponseObserver>>,
    },
}

impl Target {
    /// Shows every response of the operation to `observer` as well (`--record`, `doctor`).
    pub fn observe(&mut self, observer: Arc<dyn ResponseObserver>) {
        match self {
            Target::Contentful(cfg) => cfg.observers.push(observer),
            Target::Sandbox { observers, .. } => observers.push(observer),
        }
    }
}

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The client could not be set up (for example a base URL that is not allowed).
    #[error(transparent)]
    Client(Box<ContentfulError>),
    /// The in-process sandbox could not start.
    #[error("cannot start the in-process sandbox")]
    Sandbox(#[source] SandboxError),
    /// Reading the organization failed.
    #[error("cannot read organization {org}")]
    Read {
        /// The organization id.
        org: String,
        /// What went wrong.
        #[source]
        source: Box<ContentfulError>,
    },
    /// The organization does not exist, or the token cannot reach it.
    #[error(
        "organization {org} is not one this token reaches; it reaches: {}",
        organization_list(.reachable)
    )]
    UnknownOrganization {
        /// The organization id asked for.
        org: String,
        /// The `(id, name)` of every organization the token reaches.
        reachable: Vec<(String, String)>,
    },
    /// Listing the organizations the token reaches failed.
    #[error("cannot list the organizations the token reaches")]
    ListOrganizations {
        /// What went wrong.
        #[source]
        source: Box<ContentfulError>,
    },
    /// Listing the organization's spaces failed.
    #[error("cannot read the spaces of organization {org}")]
    ListSpaces {
        /// The organization id.
        org: String,
        /// What went wrong.
        #[source]
        source: Box<ContentfulError>,
    },
    /// Names in the access file do not resolve against the organization (each is located).
    #[error("{source}")]
    Unresolved {
        /// The access file.
        path: String,
        /// The files it includes: a problem whose span has `file: n` is in `included[n - 1]`.
        included: Vec<String>,
        /// Every name that does not resolve.
        source: Box<PlanError>,
    },
    /// The access file is invalid or cannot be read.
    #[error(transparent)]
    Config(Box<ConfigError>),
    /// A requested space is not one of the organization's.
    #[error(transparent)]
    Export(#[from] Box<ExportError>),
    /// A user-supplied file could not be read.
    #[error(transparent)]
    Input(#[from] Box<InputError>),
    /// The saved plan is not a plan this build can read.
    #[error("{path} is not a usable plan")]
    PlanFile {
        /// The plan file.
        path: String,
        /// Why.
        #[source]
        source: Box<PlanFileError>,
    },
    /// A saved plan names an access file that does not exist, and none was given.
    #[error(
        "the access file {path} the saved plan was made from cannot be found; pass it with -c FILE (a saved plan is never applied unchecked)"
    )]
    ConfigNotFound {
        /// The path recorded in the plan.
        path: String,
    },
    /// A sandbox seed is not valid.
    #[error("invalid sandbox seed {path}")]
    Seed {
        /// The seed file.
        path: String,
        /// Why.
        #[source]
        source: Box<SeedError>,
    },
    /// Checking a saved plan failed before it could be judged (a request failed, say).
    #[error("cannot check whether the saved plan is still current")]
    Verify(#[source] Box<VerifyError>),
    /// The drift cache could not be written.
    #[error(transparent)]
    Cache(Box<WriteError>),
    /// The rehearsal could not run.
    #[error("the rehearsal failed")]
    Rehearse(#[source] Box<ApplyError>),
    /// Asking for confirmation or preparing the apply (opening the journal, say) failed.
    #[error(transparent)]
    Hook(std::io::Error),
}

fn unresolved(desired: &DesiredState, source: PlanError) -> OpsError {
    OpsError::Unresolved {
        path: desired.source_path.clone(),
        included: desired.included.clone(),
        source: Box::new(source),
    }
}

/// A connected client, and the in-process sandbox it talks to for [`Target::Sandbox`].
pub struct Session {
    client: Client,
    sandbox: Option<Server>,
}

impl Session {
    /// Connects to `target` (starting the sandbox for [`Target::Sandbox`]).
    pub async fn connect(target: Target) -> Result<Session, OpsError> {
        match target {
            Target::Contentful(cfg) => Ok(Session {
                client: Client::new(cfg).map_err(|e| OpsError::Client(Box::new(e)))?,
                sandbox: None,
            }),
            Target::Sandbox {
                seed,
                max_rps,
                observers,
            } => {
                let server = Server::start(*seed, SandboxOptions::default())
                    .await
                    .map_err(OpsError::Sandbox)?;
                let token = secrecy::SecretString::from(server.admin_token());
                let made = ClientConfig::new(&server.base_url(), token).and_then(|mut cfg| {
                    if let Some(n) = max_rps {
                        cfg.max_rps = n;
                        cfg.rps_ceiling = Some(n);
                    }
                    cfg.observers = observers;
                    Client::new(cfg)
                });
                match made {
                    Ok(client) => Ok(Session {
                        client,
                        sandbox: Some(server),
                    }),
                    Err(e) => {
                        server.shutdown().await;
                        Err(OpsError::Client(Box::new(e)))
                    }
                }
            }
        }
    }

    /// The client every request goes through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// True when this talks to an in-process sandbox whose changes are thrown away on close.
    pub fn is_sandbox(&self) -> bool {
        self.sandbox.is_some()
    }

    /// Stops the in-process sandbox, if any.
    pub async fn close(self) {
        if let Some(server) = self.sandbox {
            server.shutdown().await;
        }
    }

    /// Reads the organization `desired` manages (its managed spaces only).
    pub async fn read_org(&self, desired: &DesiredState) -> Result<LiveState, OpsError> {
        let spaces: Vec<String> = desired.spaces.values().map(|s| s.id.clone()).collect();
        self.read(&desired.organization, &spaces).await
    }

    /// Reads the organization `desired` manages from the snapshot in `cache` and what changed
    /// since (everything when the cache cannot be used), and writes the new snapshot there.
    pub async fn read_org_cached(
        &self,
        desired: &DesiredState,
        cache: &Path,
    ) -> Result<(LiveState, CacheUse), OpsError> {
        let org = desired.organization.as_str();
        let spaces: Vec<String> = desired.spaces.values().map(|s| s.id.clone()).collect();
        let started = std::time::Instant::now();
        let (live, used) = match DriftCache::load(cache, org, &spaces) {
            Ok(previous) => {
                let (live, stats) = self
                    .client
                    .read_incremental(
                        org,
                        &spaces,
                        &previous.live,
                        previous.since,
                        &previous.newest_first_refused,
                    )
                    .await
                    .map_err(|source| OpsError::Read {
                        org: org.to_string(),
                        source: Box::new(source),
                    })?;
                (live, CacheUse::Incremental(stats))
            }
            Err(why) => (self.read(org, &spaces).await?, CacheUse::Rebuilt(why)),
        };
        let refused = match &used {
            CacheUse::Incremental(stats) => stats.newest_first_refused.clone(),
            CacheUse::Rebuilt(_) => Default::default(),
        };
        DriftCache::new(&live, &spaces, started.elapsed())
            .with_newest_first_refused(refused)
            .save(cache)
            .map_err(|e| OpsError::Cache(Box::new(e)))?;
        Ok((live, used))
    }

    async fn read(&self, org: &str, spaces: &[String]) -> Result<LiveState, OpsError> {
        self.read_knowing_spaces(org, spaces, None).await
    }

    /// [`Session::read`] with the organization's spaces already listed (`export`).
    async fn read_knowing_spaces(
        &self,
        org: &str,
        spaces: &[String],
        known: Option<Vec<LiveSpace>>,
    ) -> Result<LiveState, OpsError> {
        let read_error = |source: ContentfulError| OpsError::Read {
            org: org.to_string(),
            source: Box::new(source),
        };
        match self
            .client
            .read_live_state_with_spaces(org, spaces, known)
            .await
        {
            Ok(live) => Ok(live),
            // A mistyped organization id answers 404: say which organizations the token does
            // reach (one more request, only on this failure) instead of the raw 404.
            Err(source) if source.is_not_found() => match self.client.list_organizations().await {
                Ok(reachable) if !reachable.iter().any(|(id, _)| id == org) => {
                    Err(OpsError::UnknownOrganization {
                        org: org.to_string(),
                        reachable,
                    })
                }
                _ => Err(read_error(source)),
            },
            Err(source) => Err(read_error(source)),
        }
    }

    /// Reads the organization `desired` manages and plans the file against it.
    pub async fn plan(
        &self,
        desired: &DesiredState,
        now: DateTime<Utc>,
    ) -> Result<(LiveState, Plan), OpsError> {
        let live = self.read_org(desired).await?;
        let plan = plan::build(desired, &live, &PlanOptions { created_at: now })
            .map_err(|source| unresolved(desired, source))?;
        Ok((live, plan))
    }
}

/// Connects to `target`, runs `f` with the session and closes the session whatever `f` returned.
pub async fn with_session<T>(
    target: Target,
    f: impl AsyncFnOnce(&Session) -> Result<T, OpsError>,
) -> Result<T, OpsError> {
    let session = Session::connect(target).await?;
    let result = f(&session).await;
    session.close().await;
    result
}

/// Loads a sandbox seed file (a regular file of at most [`MAX_FILE_BYTES`]).
pub fn load_seed(path: &Path) -> Result<Seed, OpsError> {
    let text = read_bounded_text(path, MAX_FILE_BYTES).map_err(Box::new)?;
    Seed::from_json(&text).map_err(|source| OpsError::Seed {
        path: path.display().to_string(),
        source: Box::new(source),
    })
}

/// `plan`: reads the organization the file manages and plans against it, at `now`.
pub async fn plan_org(
    target: Target,
    desired: &DesiredState,
    now: DateTime<Utc>,
) -> Result<(LiveState, Plan), OpsError> {
    with_session(target, async |s: &Session| s.plan(desired, now).await).await
}

/// `drift`: what differs between the live organization and the file, at `now`.
pub async fn drift(
    target: Target,
    desired: &DesiredState,
    now: DateTime<Utc>,
) -> Result<DriftReport, OpsError> {
    let (live, plan) = plan_org(target, desired, now).await?;
    Ok(drift::drift(&plan, &live))
}

/// `doctor`: whether plan and apply can run against the organization `subject` names, and if
/// not why; every response is inspected on the way. Fails only when no connection can be made.
pub async fn doctor(
    mut target: Target,
    subject: Subject<'_>,
    now: DateTime<Utc>,
) -> Result<DoctorReport, OpsError> {
    let inspector = Arc::new(Inspector::new());
    target.observe(inspector.clone());
    with_session(target, async |s: &Session| {
        Ok(doctor::examine(s.client(), subject, now, || inspector.inspection()).await)
    })
    .await
}

/// How `drift --cache` used its cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheUse {
    /// The cache was used: only what changed since was read.
    Incremental(IncrementalStats),
    /// The cache was not used (why); everything was read and a new cache written.
    Rebuilt(NotUsed),
}

/// `drift --cache FILE`: like [`drift()`], reading only what changed since the snapshot in `cache`
/// when there is a usable one, and leaving a new snapshot there for the next run.
pub async fn drift_cached(
    target: Target,
    desired: &DesiredState,
    now: DateTime<Utc>,
    cache: &Path,
) -> Result<(DriftReport, CacheUse), OpsError> {
    with_session(target, async |s: &Session| {
        let (live, used) = s.read_org_cached(desired, cache).await?;
        let plan = plan::build(desired, &live, &PlanOptions { created_at: now })
            .map_err(|source| unresolved(desired, source))?;
        Ok((drift::drift(&plan, &live), used))
    })
    .await
}

/// `explain`: reads the organization the file manages.
pub async fn read_org(target: Target, desired: &DesiredState) -> Result<LiveState, OpsError> {
    with_session(target, async |s: &Session| s.read_org(desired).await).await
}

/// What `audit` reads: the organization (all of it, or what the file manages), the plan of the
/// file when one is given, and the personal access tokens (absent when they cannot be read).
#[derive(Debug)]
pub struct AuditInput {
    /// The organization.
    pub live: LiveState,
    /// The file's plan, when a file was given.
    pub plan: Option<Plan>,
    /// The tokens, or why they could not be read.
    pub tokens: Result<Vec<LiveAccessToken>, ContentfulError>,
}

/// `audit`: reads what an audit needs, for the file `desired` or the whole organization `org`.
pub async fn audit_input(
    target: Target,
    desired: Option<&DesiredState>,
    org: &str,
    now: DateTime<Utc>,
) -> Result<AuditInput, OpsError> {
    with_session(target, async |s: &Session| {
        let (live, plan) = match desired {
            Some(d) => {
                let (live, plan) = s.plan(d, now).await?;
                (live, Some(plan))
            }
            // The whole organization: every space's roles too (the organization-wide roles
            // read holds them all), so the role findings cover every space. The spaces are
            // listed first and handed to the read, which then does not list them again.
            // (A mistyped organization answers 404: the plain read says which ones the token
            // reaches.)
            None => match s.client.list_spaces(org).await {
                Ok(all) => {
                    let ids: Vec<String> = all.iter().map(|sp| sp.id.clone()).collect();
                    (s.read_knowing_spaces(org, &ids, Some(all)).await?, None)
                }
                Err(e) if e.is_not_found() => (s.read(org, &[]).await?, None),
                Err(source) => {
                    return Err(OpsError::ListSpaces {
                        org: org.to_string(),
                        source: Box::new(source),
                    });
                }
            },
        };
        let tokens = s.client.read_access_tokens(org).await;
        Ok(AuditInput { live, plan, tokens })
    })
    .await
}

/// `export`: an access file describing organization `org` (the `spaces` given by id, or all).
pub async fn export(
    target: Target,
    org: Option<&str>,
    spaces: &[String],
    tool_version: &str,
) -> Result<String, OpsError> {
    let (live, names) = read_for_export(target, org, spaces).await?;
    Ok(export::export(&live, &names, tool_version))
}

/// `export --split DIR`: the organization as a root access file and the files it includes
/// ([`export::export_split`]): `(path relative to DIR, text)`, the root first.
pub async fn export_split(
    target: Target,
    org: Option<&str>,
    spaces: &[String],
    tool_version: &str,
) -> Result<Vec<(String, String)>, OpsError> {
    let (live, names) = read_for_export(target, org, spaces).await?;
    Ok(export::export_split(&live, &names, tool_version))
}

/// The organization to export and the local names of its spaces.
async fn read_for_export(
    target: Target,
    org: Option<&str>,
    spaces: &[String],
) -> Result<(LiveState, std::collections::BTreeMap<String, String>), OpsError> {
    with_session(target, async |s: &Session| {
        let org = match org {
            Some(org) => org.to_string(),
            None => {
                let reachable = s.client.list_organizations().await.map_err(|source| {
                    OpsError::ListOrganizations {
                        source: Box::new(source),
                    }
                })?;
                export::choose_organization(None, &reachable).map_err(Box::new)?
            }
        };
        let org = org.as_str();
        let all = s
            .client
            .list_spaces(org)
            .await
            .map_err(|source| OpsError::ListSpaces {
                org: org.to_string(),
                source: Box::new(source),
            })?;
        let names = export::space_names(org, &all, spaces).map_err(Box::new)?;
        let ids: Vec<String> = names.values().cloned().collect();
        let live = s.read_knowing_spaces(org, &ids, Some(all)).await?;
        Ok((live, names))
    })
    .await
}

/// What `apply` tells the user while it runs, and asks them.
pub trait ApplyHooks: ApplyObserver {
    /// The plan about to be applied (or refused), before anything is written. For a saved plan,
    /// called only once it has been verified.
    fn planned(&mut self, plan: &Plan);
    /// Whether to apply `plan`; asked only for a verified plan with operations, and only when
    /// planning from the file (a saved plan was reviewed already).
    fn confirm(&mut self, plan: &VerifiedPlan) -> std::io::Result<bool>;
    /// The first write is about to be sent (after confirmation): open what records the apply.
    /// An error stops the apply before anything is written.
    fn starting(&mut self, plan: &VerifiedPlan) -> std::io::Result<()> {
        let _ = plan;
        Ok(())
    }
}

/// How `apply` runs.
#[derive(Debug, Clone)]
pub struct ApplyRun {
    /// How operations are executed.
    pub apply: ApplyOptions,
    /// The time now (the fresh plan's creation time; a saved plan's age is judged by it).
    pub now: DateTime<Utc>,
    /// Rehearse in an in-process sandbox copy instead of writing to the organization.
    pub rehearse: bool,
    /// A saved plan older than this is refused.
    pub max_plan_age: chrono::Duration,
}

/// What `apply` did.
#[derive(Debug)]
pub enum ApplyOutcome {
    /// A guardrail refused the plan made from the file; nothing was written.
    Refused(Box<Plan>),
    /// The saved plan was refused, or (`apply --reviewed`) the plan made now has operations the
    /// reviewed plan did not; nothing was written.
    SavedRefused(Refusal),
    /// The organization already matches; nothing was written.
    NothingToDo,
    /// The user did not confirm; nothing was written.
    Declined,
    /// The plan ran; the report says what happened to each operation.
    Applied(ApplyReport),
    /// The plan ran in a sandbox copy of the organization; nothing was written to it.
    Rehearsed(Box<Rehearsal>),
}

/// `apply -c FILE`: plans the file against the organization, shows the plan, asks for
/// confirmation, then applies it (or rehearses it). A plan a guardrail refuses is never applied.
pub async fn apply_config(
    target: Target,
    desired: &DesiredState,
    run: &ApplyRun,
    hooks: &mut impl ApplyHooks,
) -> Result<ApplyOutcome, OpsError> {
    apply_planned(target, desired, None, run, hooks).await
}

/// `apply -c FILE --reviewed PLAN`: as [`apply_config`], but the plan made now is applied only
/// when every one of its operations is one the reviewed plan (`reviewed`, read with
/// [`load_plan`]) has, compared by target and content ([`apply::verify_reviewed`]); otherwise it
/// is refused ([`ApplyOutcome::SavedRefused`] with [`Refusal::Unreviewed`]) and nothing is
/// written. Reviewed operations no longer needed are not done.
pub async fn apply_reviewed(
    target: Target,
    desired: &DesiredState,
    reviewed: &Plan,
    run: &ApplyRun,
    hooks: &mut impl ApplyHooks,
) -> Result<ApplyOutcome, OpsError> {
    apply_planned(target, desired, Some(reviewed), run, hooks).await
}

async fn apply_planned(
    target: Target,
    desired: &DesiredState,
    reviewed: Option<&Plan>,
    run: &ApplyRun,
    hooks: &mut impl ApplyHooks,
) -> Result<ApplyOutcome, OpsError> {
    with_session(target, async |s: &Session| {
        let live = s.read_org(desired).await?;
        let planned = apply::plan_checked(
            desired,
            &live,
            &PlanOptions {
                created_at: run.now,
            },
        )
        .map_err(|source| unresolved(desired, source))?;
        hooks.planned(planned.plan());
        let mut verified = match planned {
            Planned::Refused(plan) => return Ok(ApplyOutcome::Refused(Box::new(plan))),
            Planned::Verified(v) => v,
        };
        if let Some(reviewed) = reviewed {
            verified = match apply::verify_reviewed(verified, reviewed) {
                Ok(v) => v,
                Err(refusal) => return Ok(ApplyOutcome::SavedRefused(refusal)),
            };
        }
        if verified.is_empty() {
            return Ok(ApplyOutcome::NothingToDo);
        }
        if run.rehearse {
            let rehearsal = apply::rehearse(&live, desired, &verified, &run.apply, run.now, hooks)
                .await
                .map_err(|e| OpsError::Rehearse(Box::new(e)))?;
            return Ok(ApplyOutcome::Rehearsed(Box::new(rehearsal)));
        }
        if !hooks.confirm(&verified).map_err(OpsError::Hook)? {
            return Ok(ApplyOutcome::Declined);
        }
        let opts = run.apply.clone().with_users_of(&live);
        hooks.starting(&verified).map_err(OpsError::Hook)?;
        Ok(ApplyOutcome::Applied(
            apply::apply(&s.client, &verified, &opts, hooks).await,
        ))
    })
    .await
}

/// Reads a saved plan (a regular file of at most [`MAX_FILE_BYTES`]) and checks its structure.
pub fn load_plan(path: &Path) -> Result<Plan, OpsError> {
    let text = read_bounded_text(path, MAX_FILE_BYTES).map_err(Box::new)?;
    Plan::from_json(&text).map_err(|source| OpsError::PlanFile {
        path: path.display().to_string(),
        source: Box::new(source),
    })
}

/// The access file a saved plan is checked against: `explicit` when given, else the plan's own
/// `config_path`. Never none: a plan whose file cannot be found is not applied.
pub fn saved_plan_config(plan: &Plan, explicit: Option<&Path>) -> Result<PathBuf, OpsError> {
    match explicit {
        Some(p) => Ok(p.to_path_buf()),
        None => {
            let p = PathBuf::from(&plan.config_path);
            if p.exists() {
                Ok(p)
            } else {
                Err(OpsError::ConfigNotFound {
                    path: plan.config_path.clone(),
                })
            }
        }
    }
}

/// `apply PLAN`: reads the saved plan and the access file it comes from (`config`, or the one the
/// plan names), verifies the plan against the file and the organization as it is now
/// ([`apply::verify_saved`]) and applies it only when every check passes.
pub async fn apply_saved(
    target: Target,
    plan_path: &Path,
    config: Option<&Path>,
    run: &ApplyRun,
    hooks: &mut impl ApplyHooks,
) -> Result<ApplyOutcome, OpsError> {
    let saved = load_plan(plan_path)?;
    let config_path = saved_plan_config(&saved, config)?;
    let desired = config::load(&config_path).map_err(|e| OpsError::Config(Box::new(e)))?;
    with_session(target, async |s: &Session| {
        let opts = VerifyOptions {
            now: run.now,
            max_age: run.max_plan_age,
        };
        let verified = match apply::verify_saved(&s.client, saved, &desired, &opts).await {
            Ok(v) => v,
            Err(VerifyError::Refused(r)) => return Ok(ApplyOutcome::SavedRefused(r)),
            Err(VerifyError::Plan(e)) => return Err(unresolved(&desired, e)),
            Err(e) => return Err(OpsError::Verify(Box::new(e))),
        };
        hooks.planned(&verified);
        if verified.is_empty() {
            return Ok(ApplyOutcome::NothingToDo);
        }
        hooks.starting(&verified).map_err(OpsError::Hook)?;
        Ok(ApplyOutcome::Applied(
            apply::apply(&s.client, &verified, &run.apply, hooks).await,
        ))
    })
    .await
}

/// `id (name), id (name)`, or `none` when the token reaches no organization.
fn organization_list(reachable: &[(String, String)]) -> String {
    if reachable.is_empty() {
        return "none".to_string();
    }
    reachable
        .iter()
        .map(|(id, name)| format!("{id} ({name})"))
        .collect::<Vec<_>>()
        .join(", ")
}
