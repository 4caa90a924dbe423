//! `apply --rehearse`: apply a plan to an in-process sandbox seeded from the live organization,
//! plan again there, and say whether the result converged. Nothing is written to Contentful.

use chrono::{DateTime, Utc};
use secrecy::SecretString;

use super::{ApplyError, ApplyObserver, ApplyOptions, ApplyReport, VerifiedPlan, apply};
use crate::contentful::{Client, ClientConfig};
use crate::model::{DesiredState, Email, LiveState};
use crate::plan::{self, Plan, PlanOptions};
use crate::sandbox::{SandboxOptions, Seed, Server};

/// What a rehearsal found.
#[derive(Debug, Clone)]
pub struct Rehearsal {
    /// What applying the plan in the sandbox did.
    pub report: ApplyReport,
    /// The plan made against the sandbox afterwards: empty when the plan converged.
    pub after: Plan,
}

impl Rehearsal {
    /// True when every operation applied and planning again finds nothing to do.
    pub fn converged(&self) -> bool {
        self.report.succeeded() && self.after.is_empty()
    }
}

/// Seeds an in-process sandbox with `live` (as read from Contentful), applies `plan` there, reads
/// the sandbox back and plans `desired` against it again, at `now` (the run's one clock reading). The sandbox has no rate limit, so a
/// rehearsal is quick; it is shut down before returning.
pub async fn rehearse(
    live: &LiveState,
    desired: &DesiredState,
    plan: &VerifiedPlan,
    opts: &ApplyOptions,
    now: DateTime<Utc>,
    events: &mut impl ApplyObserver,
) -> Result<Rehearsal, ApplyError> {
    let admin = live
        .me
        .as_ref()
        .and_then(|id| live.users.get(id))
        .map(|u| u.email.clone())
        .unwrap_or_else(|| Email::new("rehearsal@invalid.example"));
    let seed = Seed::from_live_state(live, &admin);
    let server = Server::start(seed, SandboxOptions::unlimited()).await?;
    let result = async {
        let mut cfg =
            ClientConfig::new(&server.base_url(), SecretString::from(server.admin_token()))?;
        cfg.max_rps = 100;
        let client = Client::new(cfg)?;
        let report = apply(&client, plan, opts, events).await;
        let spaces: Vec<String> = desired.spaces.values().map(|s| s.id.clone()).collect();
        let after_live = client
            .read_live_state(&desired.organization, &spaces)
            .await?;
        let after = plan::build(desired, &after_live, &PlanOptions { created_at: now })?;
        Ok::<_, ApplyError>(Rehearsal { report, after })
    }
    .await;
    server.shutdown().await;
    result
}
