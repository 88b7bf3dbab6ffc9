//! Counter tracks above a timeline (as Perfetto and gotraceui draw them): goroutines alive,
//! heap, heap goal and threads over time, each a small filled step line sharing the
//! timeline's time axis and zoom. For a leak the goroutine count is the chart people look at
//! first: a leak is a line that only climbs.
//!
//! A frame costs what is on screen, not what the series holds: each pixel column finds its
//! first point by binary search and looks at a bounded number of points inside it, so a
//! series of ten million points draws as fast as one of a thousand. Series are decoded (and
//! thinned, keeping each stride's largest value) once, when the capture changes.

use egui::{CornerRadius, Mesh, Rect, Sense, Shape, Ui, WidgetInfo, pos2, vec2};
use leakscope_core::Capture;
use leakscope_core::analysis::trace_facts;
use leakscope_core::format;
use leakscope_core::model::{TaskFlags, TaskKind};

/// Height of one track, points.
pub const TRACK_HEIGHT: f32 = 34.0;

/// Points kept per series at most; longer series keep each stride's largest value, which
/// keeps peaks (what a leak or a GC spike shows) while bounding memory.
const MAX_POINTS: usize = 1 << 20;

/// Tracks shown at most: a Chrome trace can record dozens of counters, and the lanes are what
/// the view is for. The goroutine count comes first.
const MAX_TRACKS: usize = 5;

/// Points looked at per pixel column at most: a column holding more is sampled evenly.
const POINTS_PER_COLUMN: usize = 32;

/// How a series' values read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Count,
    Bytes,
}

/// One series, decoded.
struct Series {
    name: String,
    unit: Unit,
    times_ns: Vec<i64>,
    values: Vec<f64>,
    max: f64,
}

impl Series {
    fn new(name: String, unit: Unit, points: impl Iterator<Item = (i64, f64)>, len: usize) -> Self {
        let stride = len.div_ceil(MAX_POINTS).max(1);
        let (mut times_ns, mut values) = (Vec::with_capacity(len.min(MAX_POINTS)), Vec::new());
        let mut held: Option<(i64, f64)> = None;
        for (i, (t, v)) in points.enumerate() {
            held = Some(match held {
                Some((ht, hv)) if v <= hv => (ht, hv),
                _ => (t, v),
            });
            if (i + 1) % stride == 0
                && let Some((t, v)) = held.take()
            {
                times_ns.push(t);
                values.push(v);
            }
        }
        if let Some((t, v)) = held {
            times_ns.push(t);
            values.push(v);
        }
        let max = values.iter().copied().fold(0.0, f64::max);
        Self { name, unit, times_ns, values, max }
    }

    fn format(&self, v: f64) -> String {
        match self.unit {
            Unit::Count => format::count(v.max(0.0) as u64),
            Unit::Bytes => format::bytes(v.max(0.0) as u64),
        }
    }

    /// The value in force at `t` (the last point at or before it).
    fn value_at(&self, t_ns: i64) -> Option<f64> {
        let i = self.times_ns.partition_point(|&x| x <= t_ns);
        i.checked_sub(1).and_then(|i| self.values.get(i)).copied()
    }

    /// The largest value in force during `[t0, t1)`: the one at `t0` and (a bounded sample
    /// of) the points inside.
    fn max_in(&self, t0_ns: i64, t1_ns: i64) -> Option<f64> {
        let lo = self.times_ns.partition_point(|&x| x < t0_ns);
        let hi = self.times_ns.partition_point(|&x| x < t1_ns);
        let mut best = self.value_at(t0_ns);
        let step = (hi.saturating_sub(lo) / POINTS_PER_COLUMN).max(1);
        for v in self.values.get(lo..hi).unwrap_or_default().iter().step_by(step) {
            best = Some(best.map_or(*v, |b| b.max(*v)));
        }
        best
    }
}

/// The counter series of one capture, decoded once; draw them with [`Self::show`].
#[derive(Default)]
pub struct CounterTracks {
    series: Vec<Series>,
}

impl CounterTracks {
    /// The goroutine count (where the capture has goroutine lanes) and every counter the
    /// capture recorded (heap, heap goal, GOMAXPROCS for Go traces; Chrome `C` events).
    pub fn from_capture(capture: &Capture) -> Self {
        let mut series = Vec::new();
        let goroutines = || capture.tasks.iter().filter(|t| t.kind == TaskKind::Goroutine);
        if capture.tasks.iter().any(|t| t.kind == TaskKind::Goroutine && t.intervals.len > 0) {
            let at_start = goroutines().filter(|t| t.flags.contains(TaskFlags::EXISTED_BEFORE)).count();
            let live =
                trace_facts::live_count(capture, goroutines(), u32::try_from(at_start).unwrap_or(u32::MAX));
            let len = live.len();
            let points = live.into_iter().map(|(t, n)| (t, f64::from(n)));
            series.push(Series::new("goroutines".to_owned(), Unit::Count, points, len));
        }
        for c in &capture.counters {
            let raw = capture.str(c.name);
            let unit = if raw.ends_with(":bytes") { Unit::Bytes } else { Unit::Count };
            series.push(Series::new(counter_label(raw), unit, c.points(), c.len()));
        }
        series.truncate(MAX_TRACKS);
        Self { series }
    }

    /// Whether there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// The height all tracks take.
    pub fn height(&self) -> f32 {
        TRACK_HEIGHT * self.series.len() as f32
    }

    /// Draws the tracks into `rect`: names in the first `label_w` points (the timeline's label
    /// column), values over `view_ns` in the rest, so they line up with the lanes below.
    pub fn show(&self, ui: &mut Ui, rect: Rect, label_w: f32, view_ns: (i64, i64), name: &str) {
        let visuals = ui.visuals().clone();
        let fill = visuals.selection.bg_fill.gamma_multiply(0.55);
        let line = visuals.selection.stroke.color;
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, CornerRadius::ZERO, visuals.extreme_bg_color);
        let span = (view_ns.1 - view_ns.0).max(1) as f64;
        for (i, s) in self.series.iter().enumerate() {
            let top = rect.top() + TRACK_HEIGHT * i as f32;
            let track = Rect::from_min_size(pos2(rect.left(), top), vec2(rect.width(), TRACK_HEIGHT));
            let plot = Rect::from_min_max(pos2(track.left() + label_w, track.top() + 3.0), track.max);
            painter.hline(track.x_range(), track.bottom(), visuals.widgets.noninteractive.bg_stroke);
            let max = s.max.max(1.0);
            let mut mesh = Mesh::default();
            let columns = plot.width().max(0.0) as usize;
            let ns_per_px = span / f64::from(plot.width().max(1.0));
            for x in 0..columns {
                let t0 = view_ns.0 + (x as f64 * ns_per_px) as i64;
                let t1 = view_ns.0 + ((x + 1) as f64 * ns_per_px) as i64;
                let Some(v) = s.max_in(t0, t1.max(t0 + 1)) else { continue };
                let h = (v / max) as f32 * plot.height();
                let left = plot.left() + x as f32;
                mesh.add_colored_rect(
                    Rect::from_min_max(pos2(left, plot.bottom() - h), pos2(left + 1.0, plot.bottom())),
                    fill,
                );
                mesh.add_colored_rect(
                    Rect::from_min_max(
                        pos2(left, plot.bottom() - h),
                        pos2(left + 1.0, plot.bottom() - h + 1.0),
                    ),
                    line,
                );
            }
            painter.add(Shape::mesh(mesh));
            let text = format!("{} (max {})", s.name, s.format(s.max));
            painter.text(
                pos2(track.left() + 6.0, track.center().y),
                egui::Align2::LEFT_CENTER,
                &text,
                egui::FontId::proportional(12.0),
                visuals.text_color(),
            );
            let response = ui.interact(track, ui.scope_id().with((name, "counter", i)), Sense::hover());
            let label = format!("Counter track: {}, max {}", s.name, s.format(s.max));
            response.widget_info(|| WidgetInfo::labeled(egui::Role::Image, true, &label));
            if let Some(p) = response.hover_pos().filter(|p| p.x >= plot.left()) {
                let t = view_ns.0 + (f64::from(p.x - plot.left()) * ns_per_px) as i64;
                if let Some(v) = s.value_at(t) {
                    painter.vline(p.x, plot.y_range(), (1.0, visuals.weak_text_color()));
                    response.on_hover_text_at_pointer(format!("{}: {}", s.name, s.format(v)));
                }
            }
        }
    }
}

/// A readable name for a runtime/metrics counter ("/gc/heap/goal:bytes" -> "heap goal").
fn counter_label(raw: &str) -> String {
    match raw {
        "/memory/classes/heap/objects:bytes" => "heap in use".to_owned(),
        "/gc/heap/goal:bytes" => "heap goal (GC)".to_owned(),
        "/sched/gomaxprocs:threads" => "GOMAXPROCS threads".to_owned(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_series_keeps_its_peaks_and_a_column_its_max() {
        let n = MAX_POINTS * 3;
        let points = (0..n).map(|i| (i as i64, if i == 1_000_001 { 99.0 } else { (i % 7) as f64 }));
        let s = Series::new("x".into(), Unit::Count, points, n);
        assert!(s.times_ns.len() <= MAX_POINTS + 1);
        assert!((s.max - 99.0).abs() < f64::EPSILON);
        assert_eq!(s.max_in(1_000_000, 1_000_003), Some(99.0));
        assert_eq!(s.value_at(-1), None);
    }
}
