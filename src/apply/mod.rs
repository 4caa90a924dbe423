//! The only module that changes Contentful: executes a plan level by level with version-aware
//! writes. (Filled in by the apply issue.)
