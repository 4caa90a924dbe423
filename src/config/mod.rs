//! The access file: YAML → raw structs → validated [`crate::model::DesiredState`], with every error
//! collected and pointing at file:line:column. (Filled in by the Foundation issue.)
