//! `apply` against the sandbox over real HTTP: convergence over random organizations, injected
//! failures, concurrent edits, stale saved plans, interrupted runs, and the command end to end.
//! A directory module so its files compile once, inside the single test binary.

#![allow(clippy::unwrap_used)]

mod cli;
mod faults;
// The planner's fixture builders, compiled a second time here rather than made public from
// the plan tests' module (another area's file).
#[allow(clippy::duplicate_mod)]
#[path = "../plan/fixtures.rs"]
mod fixtures;
mod library;
mod props;
#[allow(clippy::duplicate_mod)]
#[path = "../plan/random_org.rs"]
mod random_org;
mod reviewed;
mod roles;
mod signals;
mod verify;
