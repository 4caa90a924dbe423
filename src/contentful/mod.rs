//! The only module that speaks HTTP to Contentful: wire types, pagination, pacing, retries and error
//! mapping, producing a [`crate::model::LiveState`]. (Filled in by the client issue.)
