//! Request counts computed from a seed's own numbers, independently of the client: the minimum a
//! full read of the organization can cost, and what a per-object refresh (one GET per object, as
//! the Terraform providers do) costs. Shared by the `scale` benchmark and the integration test
//! that checks the formula against the sandbox journal.

use contentful_access::sandbox::Seed;

/// Items per page the API serves at most.
pub const PAGE: usize = 100;

/// Pages needed to list `items` objects: at least one (an empty collection is still asked for).
pub fn pages(items: usize) -> u64 {
    items.div_ceil(PAGE).max(1) as u64
}

/// The minimum number of requests to read the organization: one per page of each of the six
/// organization-wide collections (organization memberships with their users included, teams,
/// team memberships, team space memberships, space memberships, spaces), one per page of the
/// organization's roles (`GET /organizations/{org}/roles`, when any space is managed), and
/// `GET /users/me`.
pub fn minimum_read_requests(seed: &Seed, managed_spaces: &[String]) -> u64 {
    let collections = [
        seed.org_memberships.len(),
        seed.teams.len(),
        seed.team_memberships.len(),
        seed.team_space_memberships.len(),
        seed.space_memberships.len(),
        seed.spaces.len(),
    ];
    // One organization-wide roles read (issue 15), whatever the number of managed spaces.
    let roles: u64 = if managed_spaces.is_empty() {
        0
    } else {
        pages(seed.roles.len())
    };
    collections.iter().map(|&n| pages(n)).sum::<u64>() + roles + 1
}

/// Requests of a per-object refresh: one GET per organization membership, team, team
/// membership, team space membership and space membership.
pub fn per_object_refresh_requests(seed: &Seed) -> u64 {
    (seed.org_memberships.len()
        + seed.teams.len()
        + seed.team_memberships.len()
        + seed.team_space_memberships.len()
        + seed.space_memberships.len()) as u64
}
