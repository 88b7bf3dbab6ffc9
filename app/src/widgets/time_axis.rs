//! Time axis ticks: steps that read well at any zoom (1-2-5 below a second, then 10 s, 15 s,
//! 30 s, 1 min, 5 min, 15 min, 1 h...) and labels in the unit that suits them.
//!
//! Labels are relative to an origin (the trace start, or a dump's capture time, which makes
//! every age negative: "-12 min"). When zoomed so deep that a label would need more than three
//! decimals of its unit ("10.0000001 s"), the axis switches to offsets from the first tick
//! ("+100 ns"), which [`TickLabels::base`] names once.

/// Tick steps above one second, in seconds: minutes and hours rather than 1-2-5 multiples.
const LONG_STEPS_S: [i64; 20] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800,
    604_800,
];

/// The step between ticks, in ns, so that ticks are at least `min_px` apart when one pixel is
/// `ns_per_px` nanoseconds.
pub fn tick_step_ns(ns_per_px: f64, min_px: f32) -> f64 {
    let want = (ns_per_px * f64::from(min_px)).max(1.0);
    if want <= 1e9 {
        let mut step = 1.0f64;
        loop {
            for m in [1.0, 2.0, 5.0] {
                if step * m >= want {
                    return step * m;
                }
            }
            step *= 10.0;
        }
    }
    for s in LONG_STEPS_S {
        let ns = s as f64 * 1e9;
        if ns >= want {
            return ns;
        }
    }
    // Beyond weeks: 1-2-5 multiples of a week.
    let week = 604_800e9;
    let mut step = week;
    loop {
        for m in [1.0, 2.0, 5.0] {
            if step * m >= want {
                return step * m;
            }
        }
        step *= 10.0;
    }
}

/// Tick positions (relative to the origin, ns) from `from` to `to`, every `step`.
pub fn ticks(from_rel_ns: f64, to_rel_ns: f64, step_ns: f64) -> impl Iterator<Item = f64> {
    let first = (from_rel_ns / step_ns).ceil();
    let last = (to_rel_ns / step_ns).floor();
    let count = if last >= first { (last - first) as u64 + 1 } else { 0 };
    (0..count.min(10_000)).map(move |k| (first + k as f64) * step_ns)
}

/// How labels are written for one view.
#[derive(Clone, Debug, PartialEq)]
pub struct TickLabels {
    unit_ns: f64,
    unit: &'static str,
    decimals: usize,
    clock: bool,
    /// In offset mode, the tick the offsets are from (relative ns) and its full label.
    pub base: Option<(f64, String)>,
}

impl TickLabels {
    /// Label style for ticks every `step_ns` over a view whose ticks start at `first_tick`
    /// and whose largest |time| (relative) is `magnitude_ns`.
    pub fn new(step_ns: f64, first_tick: f64, magnitude_ns: f64) -> Self {
        let (unit_ns, unit) = unit_for(magnitude_ns.max(step_ns));
        // Minutes and hours read best as "4 min 30 s" when the step is whole seconds.
        if unit_ns >= 60e9 && step_ns >= 1e9 {
            return Self { unit_ns, unit, decimals: 0, clock: true, base: None };
        }
        let decimals = decimals_for(step_ns / unit_ns);
        if decimals <= 3 {
            return Self { unit_ns, unit, decimals, clock: false, base: None };
        }
        let (step_unit_ns, step_unit) = unit_for(step_ns);
        let base_label = full_label(first_tick);
        Self {
            unit_ns: step_unit_ns,
            unit: step_unit,
            decimals: decimals_for(step_ns / step_unit_ns),
            clock: false,
            base: Some((first_tick, base_label)),
        }
    }

    /// The label of a tick at `rel_ns`.
    pub fn label(&self, rel_ns: f64) -> String {
        if self.clock {
            return super::format::duration_ns(rel_ns.round() as i64);
        }
        if let Some((base, _)) = &self.base {
            let v = (rel_ns - base) / self.unit_ns;
            if v.abs() < 1e-12 { "+0".to_owned() } else { format!("{v:+.*} {}", self.decimals, self.unit) }
        } else {
            let v = rel_ns / self.unit_ns;
            let v = if v.abs() < 0.5 * 10f64.powi(-(self.decimals as i32)) { 0.0 } else { v };
            format!("{v:.*} {}", self.decimals, self.unit)
        }
    }
}

/// The largest unit not larger than `ns`: ns, µs, ms, s, min, h.
fn unit_for(ns: f64) -> (f64, &'static str) {
    let ns = ns.abs();
    if ns < 1e3 {
        (1.0, "ns")
    } else if ns < 1e6 {
        (1e3, "µs")
    } else if ns < 1e9 {
        (1e6, "ms")
    } else if ns < 60e9 {
        (1e9, "s")
    } else if ns < 3600e9 {
        (60e9, "min")
    } else {
        (3600e9, "h")
    }
}

/// Decimals needed to tell apart values `step` apart (step in the label's unit).
fn decimals_for(step: f64) -> usize {
    if step >= 1.0 - 1e-9 {
        return 0;
    }
    let mut d = 0usize;
    let mut s = step;
    while d < 12 && (s - s.round()).abs() > 1e-6 * s.max(1e-12) {
        s *= 10.0;
        d += 1;
    }
    d
}

/// A precise label for the base of offset mode: seconds with up to nine decimals, trimmed.
fn full_label(rel_ns: f64) -> String {
    let (unit_ns, unit) = unit_for(rel_ns);
    let text = format!("{:.9}", rel_ns / unit_ns);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} {unit}")
}

#[cfg(test)]
// Steps and ticks are exact small multiples of powers of ten; comparing them exactly is the point.
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_nice() {
        assert_eq!(tick_step_ns(1.0, 80.0), 100.0);
        assert_eq!(tick_step_ns(3.0, 80.0), 500.0);
        assert_eq!(tick_step_ns(1e6, 80.0), 1e8);
        assert_eq!(tick_step_ns(1.5e7, 80.0), 2e9);
        assert_eq!(tick_step_ns(1e9, 80.0), 120e9, "80 s per tick rounds up to 2 min");
        assert_eq!(tick_step_ns(8e9, 80.0), 900e9, "640 s rounds up to 15 min");
    }

    #[test]
    fn ticks_cover_the_view() {
        let t: Vec<f64> = ticks(-250.0, 250.0, 100.0).collect();
        assert_eq!(t, [-200.0, -100.0, 0.0, 100.0, 200.0]);
        assert_eq!(ticks(10.0, 20.0, 100.0).count(), 0);
    }

    #[test]
    fn labels_pick_unit_and_decimals() {
        let l = TickLabels::new(2e5, 0.0, 2e6);
        assert_eq!(l.label(1.4e6), "1.4 ms");
        assert_eq!(l.label(0.0), "0.0 ms");
        let l = TickLabels::new(5e8, 0.0, 1.25e10);
        assert_eq!(l.label(1.05e10), "10.5 s");
        let l = TickLabels::new(100.0, 0.0, 800.0);
        assert_eq!(l.label(300.0), "300 ns");
    }

    #[test]
    fn dump_ages_read_as_minutes() {
        let l = TickLabels::new(300e9, -1800e9, 1800e9);
        assert_eq!(l.label(-1500e9), "-25 min");
        assert_eq!(l.label(-90e9), "-1 min 30 s");
    }

    #[test]
    fn deep_zoom_switches_to_offsets() {
        let l = TickLabels::new(100.0, 10e9 + 200.0, 10e9 + 1000.0);
        let (base, text) = l.base.clone().expect("offset mode");
        assert_eq!(base, 10e9 + 200.0);
        assert_eq!(text, "10.0000002 s");
        assert_eq!(l.label(10e9 + 500.0), "+300 ns");
    }
}
