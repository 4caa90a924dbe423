//! A Contentful-compatible API server on loopback, for tests, demos and `apply --rehearse`: a pure
//! [`World`] (all behaviour, no I/O) behind a thin axum layer ([`Server`]) that adds rate
//! limiting, latency, injected failures and a request journal.
//!
//! The sandbox never shares wire types with [`crate::contentful`]: it builds its responses from
//! its own records, and its shapes are checked against recorded real Contentful responses, so a
//! misunderstanding of the API cannot hide in both the client and the sandbox at once.

mod http;
mod seed;
mod world;

pub use http::{
    FaultConfig, FaultKind, JournalCounts, JournalEntry, SandboxError, SandboxOptions, Server,
};
pub use seed::{
    DEFAULT_ROLES, SYNTHETIC_TOKEN, Seed, SeedAccessToken, SeedApiToken, SeedError, SeedInvitation,
    SeedOrgMembership, SeedOrganization, SeedRole, SeedSpace, SeedSpaceMembership, SeedSys,
    SeedTeam, SeedTeamMembership, SeedTeamSpaceMembership, SeedUser, SeedVariants, SyntheticSpec,
    demo_seed, synthetic,
};
pub use world::{
    ApiError, ApiRequest, ApiResponse, ObjectKind, ROUTES, Route, World, documented_orders,
    match_route,
};
