//! Records the version of the Rust compiler building the crate, for the `platform Rust/<version>`
//! part of the `X-Contentful-User-Agent` header (`src/contentful/user_agent.rs`), which names the
//! platform the way Contentful's SDKs do (`platform node.js/20.1.0`, `platform python/3.12.1`).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    // `rustc 1.91.0 (f8297e351 2025-10-28)` -> `1.91.0`; unknown when rustc cannot be asked.
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.split_whitespace().nth(1).map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=CONTENTFUL_ACCESS_RUSTC_VERSION={version}");
}
