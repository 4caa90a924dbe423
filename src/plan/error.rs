//! Why a plan cannot be made: names in the access file that the live organization does not know.
//!
//! Every problem is collected (not just the first), each pointing at the file position that causes
//! it, so one run shows everything to fix. [`PlanError::diagnostics`] gives them in the same
//! (span, message, help) shape as configuration errors, for the binary to render with a caret.

use crate::model::Span;

/// A problem found while resolving the access file against the live organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// A role name that does not exist in a managed space.
    UnknownRole {
        /// The managed space's local name.
        space_name: String,
        /// The space id.
        space_id: String,
        /// The role name as written.
        role: String,
        /// Where it is written.
        at: Span,
        /// The closest existing role names in that space, best first (may be empty).
        suggestions: Vec<String>,
        /// Every role name in that space, sorted.
        existing: Vec<String>,
    },
    /// A managed space whose id is not a space of the organization.
    UnknownSpace {
        /// The managed space's local name.
        space_name: String,
        /// The space id as written.
        space_id: String,
        /// Where it is declared.
        at: Span,
    },
    /// The file is for another organization than the one read.
    OrganizationMismatch {
        /// The organization id in the file.
        file: String,
        /// The organization id read from Contentful.
        live: String,
    },
}

/// One problem as (position, message, optional help), ready to render like a config error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where in the access file.
    pub span: Span,
    /// What is wrong.
    pub message: String,
    /// What to do about it, e.g. `did you mean "Editor"?`.
    pub help: Option<String>,
}

impl Unresolved {
    /// This problem as a [`Diagnostic`].
    pub fn diagnostic(&self) -> Diagnostic {
        match self {
            Unresolved::UnknownRole {
                space_name,
                space_id,
                role,
                at,
                suggestions,
                existing,
            } => Diagnostic {
                span: *at,
                message: format!("role {role:?} does not exist in space {space_name} ({space_id})"),
                help: match suggestions.as_slice() {
                    [] if existing.is_empty() => {
                        Some(format!("space {space_name} has no roles; use admin"))
                    }
                    [] => Some(format!("roles in {space_name}: {}", existing.join(", "))),
                    [one] => Some(format!("did you mean {one:?}?")),
                    many => Some(format!(
                        "did you mean one of {}?",
                        many.iter()
                            .map(|s| format!("{s:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                },
            },
            Unresolved::UnknownSpace {
                space_name,
                space_id,
                at,
            } => Diagnostic {
                span: *at,
                message: format!(
                    "space {space_name} ({space_id}) is not a space of this organization"
                ),
                help: Some("check the space id in the space's settings in Contentful".to_string()),
            },
            Unresolved::OrganizationMismatch { file, live } => Diagnostic {
                span: Span::root(1, 1),
                message: format!(
                    "the access file is for organization {file}, but the live state is of organization {live}"
                ),
                help: None,
            },
        }
    }
}

/// The access file cannot be planned against this organization.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Names that do not resolve; all of them, sorted by position.
    #[error("{} name(s) in the access file do not exist in the organization", .0.len())]
    Unresolved(Vec<Unresolved>),
}

impl PlanError {
    /// Every problem as a [`Diagnostic`], in file order.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            PlanError::Unresolved(all) => all.iter().map(Unresolved::diagnostic).collect(),
        }
    }
}
