//! A Contentful-compatible API server for tests, demos and rehearsals: a pure `World` behind a thin
//! axum layer. (Filled in by the sandbox issue.)
