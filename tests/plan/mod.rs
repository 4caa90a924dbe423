//! The planner and renderers over in-memory states: named scenarios with behaviour assertions and
//! reviewed snapshots, and property tests over random organizations.
#![allow(clippy::unwrap_used)]

mod cli;
mod fixtures;
mod lifecycle;
mod props;
mod random_org;
mod roles;
mod scenarios;
