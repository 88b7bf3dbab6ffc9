//! Custom-painted widgets: the flamegraph and the timeline, plus the small pieces they share
//! (value and time formatting, label fitting). Synthetic data for their benchmarks and tests
//! lives in the dev-only `leakscope-testkit` crate.
//!
//! Both widgets follow the same pattern: the host keeps a `*State` per view (zoom, scroll,
//! caches), builds a widget over borrowed data each frame, calls `show`, and reads what
//! happened from the returned response (hovered, clicked, zoomed, selected). They never own
//! capture data and never block: every per-frame cost is bounded by what is on screen, and
//! everything proportional to the data (layout of the tree, search matches) is cached in the
//! state and rebuilt only when the data or the query changes.

pub mod counter_tracks;
pub mod flamegraph;
mod keynav;
mod text;
pub mod time_axis;
pub mod timeline;

pub use counter_tracks::CounterTracks;
pub use flamegraph::{FlameBadge, FlameGraph, FlameGraphResponse, FlameGraphState, FlameMode, SearchStats};
pub use keynav::KeyNav;
pub use leakscope_core::format::{self, ValueUnit};
pub use timeline::{Lane, Timeline, TimelineHit, TimelineResponse, TimelineState};
