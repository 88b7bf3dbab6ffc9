//! Analysis over the model: flame trees now; leak rules and statistics build on them.

pub mod flame;
pub mod flame_locations;
pub mod timeline;
