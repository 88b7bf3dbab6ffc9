//! Analysis over the model: sites (where goroutines wait, start and come from), flame trees and
//! the leak rules.

pub mod async_facts;
pub mod flame;
pub mod flame_locations;
pub mod leaks;
pub mod lineage;
pub mod sites;
pub mod source;
pub mod spans;
pub mod stack_filter;
pub mod top;
pub mod trace_facts;
pub mod wait_ages;
