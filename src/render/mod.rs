//! Pure renderers that turn a plan or report into text, JSON or markdown. (Filled in by the plan
//! issue.)
