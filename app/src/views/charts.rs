//! Small charts (egui_plot): how long a group's goroutines have waited, goroutines per state,
//! and group counts over a series of captures. Each is a glance, not a tool: no zoom or pan.

use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoints};
use leakscope_core::format;

use crate::theme::Palette;
use crate::workspace::LoadedCapture;

const NS_PER_MIN: i64 = 60_000_000_000;

/// Histogram of the members' waits in whole minutes (dumps print minutes).
pub fn wait_histogram_ui(ui: &mut egui::Ui, loaded: &LoadedCapture, members: &[u32], id: &str) {
    let minutes: Vec<i64> = members
        .iter()
        .filter_map(|&m| loaded.capture.tasks.get(m as usize))
        .map(|t| t.wait_ns.get().unwrap_or(0) / NS_PER_MIN)
        .collect();
    let bins = wait_bins(&minutes);
    if bins.is_empty() {
        return;
    }
    let palette = Palette::of(ui);
    let width = bins.first().map_or(1, |b| b.width_min).max(1);
    let bars: Vec<Bar> = bins
        .iter()
        .map(|b| {
            let label = if b.width_min == 1 {
                format!("{} min: {}", b.start_min, format::count(b.count))
            } else {
                format!("{}–{} min: {}", b.start_min, b.start_min + b.width_min - 1, format::count(b.count))
            };
            Bar::new(b.start_min as f64 + b.width_min as f64 / 2.0 - 0.5, b.count as f64)
                .width(b.width_min as f64 * 0.9)
                .name(label)
                .fill(palette.chart_bar)
        })
        .collect();
    let chart = BarChart::new("goroutines", bars).color(palette.chart_bar);
    let response = Plot::new(id)
        .height(120.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_double_click_reset(false)
        .show_grid([false, true])
        .x_axis_label(if width == 1 { "minutes waited" } else { "minutes waited (binned)" })
        .y_axis_label("goroutines")
        .show(ui, |plot| plot.bar_chart(chart))
        .response;
    let summary = format!("Wait histogram of {} goroutines", members.len());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &summary));
}

/// One histogram bin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitBin {
    /// First minute in the bin.
    pub start_min: i64,
    /// Minutes the bin spans.
    pub width_min: i64,
    /// Goroutines in it.
    pub count: u64,
}

/// Bins whole-minute waits: one bin per minute up to an hour, wider beyond, at most 40 bins.
pub fn wait_bins(minutes: &[i64]) -> Vec<WaitBin> {
    let Some(&max) = minutes.iter().max() else { return Vec::new() };
    let max = max.max(0);
    let width = (max / 40 + 1).max(1);
    let n = (max / width + 1) as usize;
    let mut counts = vec![0u64; n];
    for &m in minutes {
        if let Some(c) = counts.get_mut((m.max(0) / width) as usize) {
            *c += 1;
        }
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| WaitBin { start_min: i as i64 * width, width_min: width, count })
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
        assert_eq!(bins[0], WaitBin { start_min: 0, width_min: 1, count: 2 });
        assert_eq!(bins[3].count, 3);
        assert_eq!(bins[7].count, 1);

        let bins = wait_bins(&[0, 100, 600]);
        assert!(bins.len() <= 41);
        assert_eq!(bins.iter().map(|b| b.count).sum::<u64>(), 3);
        assert!(bins[0].width_min > 1);
        assert!(wait_bins(&[]).is_empty());
    }
}
