//! Analysis over the model: flame trees now; leak rules and statistics build on them.

pub mod async_facts;
pub mod flame;
pub mod spans;
