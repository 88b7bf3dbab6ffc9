//! Small charts (egui_plot): how long a group's goroutines have waited, goroutines per state,
//! and group counts over a series of captures. Each is a glance, not a tool: no zoom or pan.

use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoints};
use leakscope_core::format;
use leakscope_core::model::FormatKind;

use crate::theme::Palette;
use crate::workspace::LoadedCapture;

const NS_PER_MIN: i64 = 60_000_000_000;

/// The unit a wait histogram counts in: a dump prints whole minutes, so its waits are binned
/// in minutes; a trace measures each block to the nanosecond, and its waits of milliseconds
/// to seconds would all fall in "0 minutes".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitUnit {
    /// Nanoseconds in one unit.
    pub ns: i64,
    /// The unit's short name, as axis labels print it.
    pub name: &'static str,
}

impl WaitUnit {
    const UNITS: [WaitUnit; 5] = [
        WaitUnit { ns: NS_PER_MIN, name: "min" },
        WaitUnit { ns: 1_000_000_000, name: "s" },
        WaitUnit { ns: 1_000_000, name: "ms" },
        WaitUnit { ns: 1_000, name: "µs" },
        WaitUnit { ns: 1, name: "ns" },
    ];

    /// Minutes for a capture that prints minutes; otherwise the largest unit in which the
    /// longest wait is at least ten, so the bins have something to split.
    pub fn for_waits(minutes_only: bool, max_ns: i64) -> WaitUnit {
        if minutes_only {
            return Self::UNITS[0];
        }
        Self::UNITS.into_iter().find(|u| max_ns >= 10 * u.ns).unwrap_or(Self::UNITS[4])
    }
}

/// Histogram of the members' waits, in the capture's own scale (see [`WaitUnit`]).
pub fn wait_histogram_ui(ui: &mut egui::Ui, loaded: &LoadedCapture, members: &[u32], id: &str) {
    let waits_ns: Vec<i64> = members
        .iter()
        .filter_map(|&m| loaded.capture.tasks.get(m as usize))
        .map(|t| t.wait_ns.get().unwrap_or(0))
        .collect();
    let minutes_only = matches!(
        loaded.capture.source.format,
        Some(FormatKind::GoGoroutineDump | FormatKind::GoGoroutineProfileText | FormatKind::Pprof)
    );
    let unit = WaitUnit::for_waits(minutes_only, waits_ns.iter().copied().max().unwrap_or(0));
    let values: Vec<i64> = waits_ns.iter().map(|&ns| ns / unit.ns).collect();
    let bins = wait_bins(&values);
    if bins.is_empty() {
        return;
    }
    let palette = Palette::of(ui);
    let width = bins.first().map_or(1, |b| b.width).max(1);
    let bars: Vec<Bar> = bins
        .iter()
        .map(|b| {
            let label = if b.width == 1 {
                format!("{} {}: {}", b.start, unit.name, format::count(b.count))
            } else {
                format!("{}–{} {}: {}", b.start, b.start + b.width - 1, unit.name, format::count(b.count))
            };
            Bar::new(b.start as f64 + b.width as f64 / 2.0 - 0.5, b.count as f64)
                .width(b.width as f64 * 0.9)
                .name(label)
                .fill(palette.chart_bar)
        })
        .collect();
    let chart = BarChart::new("goroutines", bars).color(palette.chart_bar);
    let axis =
        if width == 1 { format!("{} waited", unit.name) } else { format!("{} waited (binned)", unit.name) };
    let response = Plot::new(id)
        .height(120.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_double_click_reset(false)
        .show_grid([false, true])
        // Waits are never negative: the axis starts at zero, not at -0.4 of a unit.
        .include_x(0.0)
        .x_axis_formatter(|mark, _| if mark.value < 0.0 { String::new() } else { format!("{}", mark.value) })
        .x_axis_label(axis)
        .y_axis_label("goroutines")
        .show(ui, |plot| plot.bar_chart(chart))
        .response;
    let summary = format!("Wait histogram of {} goroutines in {}", members.len(), unit.name);
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &summary));
}

/// One histogram bin, in the histogram's [`WaitUnit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitBin {
    /// First unit in the bin.
    pub start: i64,
    /// Units the bin spans.
    pub width: i64,
    /// Goroutines in it.
    pub count: u64,
}

/// Bins whole-unit waits: one bin per unit up to forty, wider beyond, at most 41 bins.
pub fn wait_bins(values: &[i64]) -> Vec<WaitBin> {
    let Some(&max) = values.iter().max() else { return Vec::new() };
    let max = max.max(0);
    let width = (max / 40 + 1).max(1);
    let n = (max / width + 1) as usize;
    let mut counts = vec![0u64; n];
    for &m in values {
        if let Some(c) = counts.get_mut((m.max(0) / width) as usize) {
            *c += 1;
        }
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| WaitBin { start: i as i64 * width, width, count })
        .collect()
}

/// Goroutines per state, one bar each, coloured like the tables.
pub fn state_counts_ui(ui: &mut egui::Ui, loaded: &LoadedCapture, id: &str) {
    let palette = Palette::of(ui);
    let states: Vec<_> = loaded.states.iter().take(12).collect();
    if states.is_empty() {
        return;
    }
    let names: Vec<String> =
        states.iter().map(|s| format!("{}  {}", s.state, format::count(s.count))).collect();
    let bars: Vec<Bar> = states
        .iter()
        .enumerate()
        .map(|(i, s)| {
            // The first state at the top.
            Bar::new((states.len() - 1 - i) as f64, s.count as f64)
                .width(0.7)
                .name(format!("{}: {}", s.state, format::count(s.count)))
                .fill(palette.wait_kind(s.wait_kind))
        })
        .collect();
    let chart = BarChart::new("goroutines per state", bars).horizontal();
    let n = states.len();
    let response = Plot::new(id)
        .height((n as f32 * 22.0 + 30.0).max(80.0))
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_double_click_reset(false)
        .show_grid([true, false])
        .show_axes([false, true])
        .y_axis_formatter(move |mark, _| {
            let i = mark.value.round();
            if (mark.value - i).abs() > 0.01 || i < 0.0 {
                return String::new();
            }
            names
                .get(n.saturating_sub(1).saturating_sub(i as usize))
                .cloned()
                .filter(|_| (i as usize) < n)
                .unwrap_or_default()
        })
        .y_axis_min_width(150.0)
        .show(ui, |plot| plot.bar_chart(chart))
        .response;
    let summary = format!("Goroutines per state chart, {n} states");
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &summary));
}

/// Counts of several groups across a series of captures, one line each.
pub fn growth_series_ui(
    ui: &mut egui::Ui,
    series: &[(String, Vec<u64>)],
    capture_names: &[String],
    id: &str,
) {
    if series.is_empty() {
        return;
    }
    let palette = Palette::of(ui);
    let names = capture_names.to_vec();
    let response = Plot::new(id)
        .height(180.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_double_click_reset(false)
        .legend(Legend::default())
        .x_axis_formatter(move |mark, _| {
            let i = mark.value.round();
            if (mark.value - i).abs() > 0.01 || i < 0.0 {
                return String::new();
            }
            names.get(i as usize).cloned().unwrap_or_default()
        })
        .y_axis_label("goroutines")
        .show(ui, |plot| {
            for (i, (name, counts)) in series.iter().enumerate() {
                let points: PlotPoints<'_> =
                    counts.iter().enumerate().map(|(x, &y)| [x as f64, y as f64]).collect();
                let color = if i == 0 {
                    palette.grew
                } else {
                    palette.chart_bar.gamma_multiply(1.0 - 0.12 * i as f32)
                };
                plot.line(Line::new(name.clone(), points).color(color).width(2.0));
            }
        })
        .response;
    let summary = format!("Growth over {} captures of {} groups", capture_names.len(), series.len());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &summary));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_bins_until_forty_minutes_then_wider() {
        let bins = wait_bins(&[0, 0, 3, 3, 3, 7]);
        assert_eq!(bins.len(), 8);
        assert_eq!(bins[0], WaitBin { start: 0, width: 1, count: 2 });
        assert_eq!(bins[3].count, 3);
        assert_eq!(bins[7].count, 1);

        let bins = wait_bins(&[0, 100, 600]);
        assert!(bins.len() <= 41);
        assert_eq!(bins.iter().map(|b| b.count).sum::<u64>(), 3);
        assert!(bins[0].width > 1);
        assert!(wait_bins(&[]).is_empty());
    }

    #[test]
    fn trace_waits_are_binned_in_their_own_unit() {
        // Dumps bin in minutes whatever the values; a trace's 2.6 ms to 2 s waits in ms.
        assert_eq!(WaitUnit::for_waits(true, 5_000_000_000).name, "min");
        assert_eq!(WaitUnit::for_waits(false, 2_000_000_000).name, "ms");
        assert_eq!(WaitUnit::for_waits(false, 30 * NS_PER_MIN).name, "min");
        assert_eq!(WaitUnit::for_waits(false, 45_000_000_000).name, "s");
        assert_eq!(WaitUnit::for_waits(false, 0).name, "ns");
    }
}
