//! The Contentful client over real HTTP: against a scripted server for exact status/header
//! scenarios (`http`), a paging server for whole-organization reads (`read`), and the sandbox
//! (`sandbox`).

mod fidelity;
mod http;
mod read;
mod redirect;
mod sandbox;
