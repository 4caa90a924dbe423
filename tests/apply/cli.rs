//! The `apply` command end to end.
