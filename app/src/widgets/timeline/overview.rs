//! The overview strip above the axis (the minimap of Perfetto and Chrome DevTools): the whole
//! time range at once, how many of the shown lanes were busy and how many waited at each
//! moment, and the window the lanes below show. A click or a drag in it moves the window
//! there. A leak reads here at a glance: the waiting band climbs and never comes down.
//!
//! The counts are binned once per lane list and range (one pass over the lanes' top-level
//! intervals, each added in constant time), so a frame only paints a few hundred bars.

use egui::epaint::Mesh;
use egui::{Color32, CornerRadius, Rect, Stroke, StrokeKind};
use leakscope_core::model::{IntervalKind, Intervals};

use super::Lane;
use super::lanes::depth_range;
use crate::theme::TimelinePalette;

/// Height of the strip.
pub(super) const OVERVIEW_H: f32 = 24.0;
/// Columns the whole range is binned into; drawn stretched to the plot's width.
const BINS: usize = 480;

/// What the counts were made for: intervals, lanes (address and length) and range.
type OverviewKey = (usize, usize, usize, i64, i64);

/// The shown lanes' average number busy and waiting over the whole range, binned.
pub(super) struct Overview {
    key: OverviewKey,
    /// Per bin, the average number of lanes running, in a syscall, a span or GC.
    busy: Vec<f32>,
    /// Per bin, the average number of lanes blocked, runnable or waiting.
    waiting: Vec<f32>,
    /// The largest bin (busy and waiting together), which the strip's height stands for.
    max: f32,
}

impl Overview {
    /// The overview of `lanes` over `range` (ns), reusing `old` when it was made for them.
    pub(super) fn of(
        old: Option<Overview>,
        intervals: &Intervals,
        lanes: &[Lane],
        range: (i64, i64),
    ) -> Overview {
        let key =
            (std::ptr::from_ref(intervals) as usize, lanes.as_ptr() as usize, lanes.len(), range.0, range.1);
        if let Some(old) = old.filter(|o| o.key == key) {
            return old;
        }
        let bin_ns = (range.1 - range.0).max(1) as f64 / BINS as f64;
        let mut busy = Bins::default();
        let mut waiting = Bins::default();
        for lane in lanes {
            let Lane::Rows { range: lane_range, .. } = lane else { continue };
            let from = lane_range.start as usize;
            // Top-level intervals only: a lane's nested spans are its own time again.
            let (first, past) = depth_range(intervals, from, from + lane_range.len as usize, 0);
            for i in first..past {
                let start = (intervals.start(i) - range.0) as f64 / bin_ns;
                let end = (intervals.end(i) - range.0) as f64 / bin_ns;
                match intervals.get(i).map(|iv| iv.kind) {
                    Some(IntervalKind::Blocked | IntervalKind::Runnable | IntervalKind::Waiting) => {
                        waiting.add(start, end);
                    }
                    Some(_) => busy.add(start, end),
                    None => {}
                }
            }
        }
        let (busy, waiting) = (busy.finish(), waiting.finish());
        let max = busy.iter().zip(&waiting).map(|(b, w)| b + w).fold(0.0f32, f32::max);
        Overview { key, busy, waiting, max }
    }

    /// Paints the strip in `strip` (the plot's width): the bars, then the window `view` of
    /// the whole `range` (ns) with the rest dimmed.
    pub(super) fn paint(
        &self,
        painter: &egui::Painter,
        strip: Rect,
        pal: &TimelinePalette,
        view: (f64, f64),
        range: (f64, f64),
    ) {
        let mut mesh = Mesh::default();
        mesh.add_colored_rect(strip, pal.label_fill);
        let w = strip.width() / BINS as f32;
        let scale = if self.max > 0.0 { (strip.height() - 3.0) / self.max } else { 0.0 };
        let (busy_c, wait_c) = (pal.kind(IntervalKind::Running), pal.kind(IntervalKind::Blocked));
        for (i, (&b, &wt)) in self.busy.iter().zip(&self.waiting).enumerate() {
            let x0 = strip.left() + i as f32 * w;
            let x1 = x0 + w.max(1.0);
            let hw = wt * scale;
            let hb = b * scale;
            if hw > 0.0 {
                mesh.add_colored_rect(
                    Rect::from_x_y_ranges(x0..=x1, strip.bottom() - hw..=strip.bottom()),
                    wait_c,
                );
            }
            if hb > 0.0 {
                let top = strip.bottom() - hw - hb;
                mesh.add_colored_rect(Rect::from_x_y_ranges(x0..=x1, top..=strip.bottom() - hw), busy_c);
            }
        }
        let x = |t: f64| {
            let frac = (t - range.0) / (range.1 - range.0).max(1.0);
            strip.left() + (frac.clamp(0.0, 1.0) as f32) * strip.width()
        };
        let (x0, x1) = (x(view.0), x(view.1));
        let dim = pal.background.gamma_multiply(0.6);
        mesh.add_colored_rect(Rect::from_x_y_ranges(strip.left()..=x0, strip.y_range()), dim);
        mesh.add_colored_rect(Rect::from_x_y_ranges(x1..=strip.right(), strip.y_range()), dim);
        painter.add(mesh);
        let window = Rect::from_x_y_ranges(x0..=x1.max(x0 + 2.0), strip.y_range());
        painter.rect_stroke(
            window,
            CornerRadius::ZERO,
            Stroke::new(1.5, pal.selection_outline),
            StrokeKind::Inside,
        );
        painter.hline(strip.x_range(), strip.bottom() - 0.5, Stroke::new(1.0, pal.grid));
    }

    /// The average numbers busy and waiting in the bin at `frac` (0..1) of the range.
    pub(super) fn at(&self, frac: f32) -> (f32, f32) {
        let i = ((frac.clamp(0.0, 1.0) * BINS as f32) as usize).min(BINS - 1);
        (self.busy.get(i).copied().unwrap_or(0.0), self.waiting.get(i).copied().unwrap_or(0.0))
    }
}

/// Time covered per bin, in bins (so a bin's value is the average number of intervals over
/// it). Each interval adds its two partial end bins directly and its whole bins through a
/// difference array, so a long interval costs no more than a short one.
struct Bins {
    part: Vec<f64>,
    diff: Vec<f64>,
}

impl Default for Bins {
    fn default() -> Self {
        Self { part: vec![0.0; BINS], diff: vec![0.0; BINS + 1] }
    }
}

impl Bins {
    /// Adds the span from bin position `s` to `e` (fractional, clipped to the range).
    fn add(&mut self, s: f64, e: f64) {
        let (s, e) = (s.clamp(0.0, BINS as f64), e.clamp(0.0, BINS as f64));
        if e <= s {
            return;
        }
        let a = (s.floor() as usize).min(BINS - 1);
        // The last bin the span reaches into (one ending on a bin's edge does not reach past it).
        let b = (e.ceil() as usize).clamp(a + 1, BINS) - 1;
        if a == b {
            if let Some(p) = self.part.get_mut(a) {
                *p += e - s;
            }
            return;
        }
        if let Some(p) = self.part.get_mut(a) {
            *p += (a + 1) as f64 - s;
        }
        if let Some(p) = self.part.get_mut(b) {
            *p += e - b as f64;
        }
        if a + 1 < b {
            if let Some(d) = self.diff.get_mut(a + 1) {
                *d += 1.0;
            }
            if let Some(d) = self.diff.get_mut(b) {
                *d -= 1.0;
            }
        }
    }

    fn finish(self) -> Vec<f32> {
        let mut running = 0.0;
        self.part
            .iter()
            .zip(&self.diff)
            .map(|(p, d)| {
                running += d;
                (p + running) as f32
            })
            .collect()
    }
}

/// What the strip's two colours stand for, in the lanes' own colours.
pub(super) fn legend(pal: &TimelinePalette) -> [(Color32, &'static str); 2] {
    [(pal.kind(IntervalKind::Running), "busy"), (pal.kind(IntervalKind::Blocked), "waiting")]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_average_the_time_covered() {
        let mut b = Bins::default();
        // Half of bin 0, all of bins 1 and 2, a quarter of bin 3.
        b.add(0.5, 3.25);
        // A sliver inside bin 10, and one ending exactly on a bin edge.
        b.add(10.25, 10.5);
        b.add(20.0, 21.0);
        let v = b.finish();
        let close = |x: f32, y: f32| (x - y).abs() < 1e-5;
        assert!(close(v[0], 0.5) && close(v[1], 1.0) && close(v[2], 1.0) && close(v[3], 0.25), "{v:?}");
        assert!(close(v[4], 0.0));
        assert!(close(v[10], 0.25));
        assert!(close(v[20], 1.0) && close(v[21], 0.0), "{:?}", &v[19..23]);
        // Clipped to the range on both sides.
        let mut c = Bins::default();
        c.add(-5.0, 1.5);
        c.add(BINS as f64 - 0.5, BINS as f64 + 9.0);
        let v = c.finish();
        assert!(close(v[0], 1.0) && close(v[1], 0.5) && close(v[BINS - 1], 0.5), "{:?}", &v[..3]);
    }
}
