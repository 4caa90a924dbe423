//! The sandbox's seed: a documented JSON description of a whole organization (users, memberships,
//! spaces, roles, teams, every membership kind, access tokens and the API tokens the sandbox
//! accepts), plus the built-in demo org ([`demo_seed`]), a copy of a live org
//! ([`Seed::from_live_state`], for rehearsals) and a deterministic synthetic generator
//! ([`synthetic`]) for benchmarks.
//!
//! Every record may carry an optional `sys` object (`version`, `createdAt`, `updatedAt`,
//! `createdBy`, `updatedBy`); what is left out is filled in when the sandbox loads the seed.
//! Unknown keys are rejected so a typo in a seed file is an error, not a silent default.
//!
//! Layout: `types` (the records), `validate` (consistency checks), `from_live` (a copy of a live
//! org) and `synthetic` (the generator); the demo org and the default roles live here.

mod from_live;
mod synthetic;
mod types;
mod validate;

use chrono::{DateTime, TimeZone, Utc};

pub use synthetic::{SYNTHETIC_TOKEN, SyntheticSpec, synthetic};
pub use types::*;

/// Why a seed could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The text is not valid seed JSON.
    #[error("seed is not valid JSON for the seed format: {0}")]
    Json(#[from] serde_json::Error),
    /// The seed parses but is inconsistent (dangling references, duplicate ids, …).
    #[error("seed is inconsistent: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

/// The timestamp used when a seed leaves `createdAt` out.
pub(crate) fn default_epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

impl Seed {
    /// Parses the JSON seed format and checks that every reference resolves.
    pub fn from_json(text: &str) -> Result<Seed, SeedError> {
        let seed: Seed = serde_json::from_str(text)?;
        seed.validate()?;
        Ok(seed)
    }

    /// The seed as pretty JSON (the documented format).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// The built-in demo org (`examples/sandbox-org.json`), served by `contentful-access sandbox`
/// without `--seed`.
pub fn demo_seed() -> Seed {
    // The file is embedded at compile time and covered by tests, so it always parses.
    Seed::from_json(include_str!("../../../examples/sandbox-org.json")).unwrap_or_else(|err| {
        tracing::error!(%err, "the embedded demo seed is invalid");
        Seed {
            organization: SeedOrganization {
                id: "2AcmeDemoOrgSandbox001".to_string(),
                name: "Acme Inc.".to_string(),
                sys: SeedSys::default(),
            },
            users: vec![],
            org_memberships: vec![],
            spaces: vec![],
            roles: vec![],
            teams: vec![],
            team_memberships: vec![],
            team_space_memberships: vec![],
            space_memberships: vec![],
            access_tokens: vec![],
            invitations: vec![],
            api_tokens: vec![],
        }
    })
}

/// The default roles every new space gets, in this order.
pub const DEFAULT_ROLES: [(&str, &str); 4] = [
    (
        "Editor",
        "Allows editing, publishing and archiving of content",
    ),
    (
        "Author",
        "Allows only editing of content they created themselves",
    ),
    (
        "Translator",
        "Allows editing of localized fields in content",
    ),
    (
        "Freelancer",
        "Allows only editing of content they created and publishing it",
    ),
];

/// Default role records for a space, with ids `<prefix><n>`.
pub(crate) fn default_roles_for(space: &str, mut next_id: impl FnMut() -> String) -> Vec<SeedRole> {
    DEFAULT_ROLES
        .iter()
        .map(|(name, description)| SeedRole {
            id: next_id(),
            space: space.to_string(),
            name: (*name).to_string(),
            description: (*description).to_string(),
            policies: serde_json::json!([
                {"effect": "allow", "actions": "all",
                 "constraint": {"and": [{"equals": [{"doc": "sys.type"}, "Entry"]}]}}
            ]),
            permissions: no_permissions(),
            other: Default::default(),
            sys: SeedSys::default(),
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn demo_seed_parses_and_is_consistent() {
        let seed = Seed::from_json(include_str!("../../../examples/sandbox-org.json")).unwrap();
        assert_eq!(seed.organization.id, "2AcmeDemoOrgSandbox001");
        assert_eq!(
            seed.users.len(),
            25,
            "the access.yaml roster minus nina, plus two extras"
        );
        assert_eq!(demo_seed(), seed);
    }

    #[test]
    fn synthetic_is_deterministic_and_sized() {
        let spec = SyntheticSpec::for_users(500);
        let a = synthetic(&spec);
        let b = synthetic(&spec);
        assert_eq!(a, b);
        assert_eq!(a.users.len(), 500);
        assert_eq!(a.spaces.len(), 10);
        assert_eq!(a.teams.len(), 25);
        assert_eq!(a.space_memberships.len(), 1500);
        assert_eq!(a.team_memberships.len(), 1000);
        assert_eq!(a.team_space_memberships.len(), 100);
        a.validate().unwrap();
        let other = synthetic(&SyntheticSpec {
            rng_seed: 7,
            ..spec
        });
        assert_ne!(a.space_memberships, other.space_memberships);
    }

    #[test]
    fn ten_thousand_users_scale_as_documented() {
        let spec = SyntheticSpec::for_users(10_000);
        assert_eq!(
            (
                spec.spaces,
                spec.teams,
                spec.space_memberships,
                spec.team_memberships,
                spec.team_space_memberships
            ),
            (200, 500, 30_000, 20_000, 2_000)
        );
    }

    #[test]
    fn inconsistent_seed_lists_every_problem() {
        let text = r#"{"organization":{"id":"o","name":"O"},
            "users":[{"id":"u1","email":"a@x.example"}],
            "orgMemberships":[{"id":"m1","user":"nobody","role":"member"}],
            "spaceMemberships":[{"id":"s1","space":"nospace","user":"u1"}]}"#;
        let Err(SeedError::Invalid(errs)) = Seed::from_json(text) else {
            panic!("expected an inconsistency error");
        };
        assert_eq!(errs.len(), 3, "{errs:?}");
    }

    #[test]
    fn unknown_seed_keys_are_rejected() {
        let err = Seed::from_json(r#"{"organization":{"id":"o","name":"O"},"user":[]}"#);
        assert!(matches!(err, Err(SeedError::Json(_))));
    }
}
