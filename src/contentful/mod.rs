//! The only module that speaks HTTP to Contentful: wire types, pagination, pacing, retries and error
//! mapping, producing a [`crate::model::LiveState`] and performing the writes `apply` asks for.
//!
//! Layout: [`ClientConfig`] says where and how fast to talk; `request` builds every request as
//! plain data (pure, unit-tested); `wire` holds the JSON shapes and converts them into domain
//! types; `user_agent` is the `X-Contentful-User-Agent` header; `pacing` spaces requests and computes the retry schedule; [`Client`] sends, retries and
//! assembles; `record` is the per-response hook (`--record`, `doctor`) and the redacting recorder;
//! `inspect` checks responses against what the client relies on (`doctor`). Nothing outside this module sees Contentful's JSON.

mod client;
mod config;
mod error;
mod incremental;
pub mod inspect;
mod pacing;
pub mod record;
pub(crate) mod request;
mod retry;
pub mod user_agent;
mod wire;

pub use client::{Client, Invited, Me, ReadScope, RequestStats};
pub use config::{ClientConfig, Progress, ProgressHook, Region};
pub use error::ContentfulError;
pub use incremental::IncrementalStats;
