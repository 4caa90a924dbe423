//! Pure planning: diff desired against live state into operations, order them by dependency and
//! check guardrails. (Filled in by the plan issue.)
