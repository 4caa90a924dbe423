//! contentful-access: manage who can do what in a Contentful organization as code.
//!
//! The data flows through one module per step:
//!
//! ```text
//! access.yaml ──config──▶ DesiredState ─┐
//!                                       ├─plan (pure: diff → ops → dependency graph → guardrails)─▶ Plan
//! Contentful ──contentful──▶ LiveState ─┘                                                          │
//!                                         render (text / json / markdown) ◀───────────────────────┤
//!                                         apply (levels, versions, retries) ◀─────────────────────┘
//! sandbox: a Contentful-compatible server (pure World + thin axum layer) for tests, rehearsals, demos
//! ```
//!
//! The library never prints; the `contentful-access` binary decides what reaches the terminal.
#![forbid(unsafe_code)]

pub mod apply;
pub mod config;
pub mod contentful;
pub mod doctor;
pub mod drift_cache;
pub mod export;
pub mod input;
pub mod model;
pub mod ops;
pub mod plan;
pub mod render;
pub mod report;
pub mod sandbox;
