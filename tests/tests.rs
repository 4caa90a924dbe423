//! The one integration-test binary: each module drives the real binary or the real HTTP client.

mod apply;
mod audit;
mod bench_counts;
mod ci_examples;
mod client;
mod closed_stdout;
mod config;
mod docs;
mod doctor;
mod drift;
mod drift_cache;
mod explain;
mod export;
mod includes;
mod inputs;
mod lifecycle;
mod plan;
mod sandbox;
mod show;
mod util;
