//! The one integration-test binary: each module drives the real binary or the real HTTP client.

mod bench_counts;
mod client;
mod config;
mod plan;
mod sandbox;
mod util;
