//! The one integration-test binary: each module drives the real binary or the real HTTP client.

mod sandbox;
mod util;

mod client;
