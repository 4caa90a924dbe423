//! The sandbox through real HTTP (reqwest directly, never the project's client): the read API,
//! the write API with its failure modes, and fidelity against recorded real Contentful responses.
//! A directory module so these files compile once, inside the single test binary.

#![allow(clippy::unwrap_used)]

mod cli;
pub(crate) mod fidelity;
pub(crate) mod read;
mod rules;
mod write;
