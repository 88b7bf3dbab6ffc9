//! The timeline's painters: lanes and their labels, one depth row at a time (intervals under
//! a pixel merge into slivers), the time axis, and the links of the focused task. Each takes
//! the frame's [`FrameInfo`], as puffin's flamegraph passes its `Info`: where to paint, the
//! time-to-x mapping, the palette and the pointer are the same for every painter of a frame,
//! and passing them one by one took seven to nine arguments a painter.

use std::sync::Arc;

use egui::epaint::Mesh;
use egui::{
    Align2, Color32, CornerRadius, FontId, Galley, Painter, Pos2, Rect, Shape, Stroke, StrokeKind, pos2, vec2,
};
use leakscope_core::model::{IntervalKind, StrId};

use super::lanes::depth_range;
use super::{AXIS_H, Lane, ROW_H, Timeline, TimelineHit, TimelineState, kind_name};
use crate::theme::{self, TimelinePalette};
use crate::widgets::time_axis::{self, TickLabels};
use crate::widgets::{format, text};

/// Least distance between axis ticks on a wide plot; a narrow one (a compare pane at 1000 px)
/// packs them closer, down to what a short label ("1.5 s") needs, so it keeps four or more.
fn tick_px(plot_width: f32) -> f32 {
    (plot_width / 6.0).clamp(60.0, 90.0)
}
/// Narrowest interval drawn on its own; narrower ones merge per pixel.
const MIN_PX: f32 = 1.0;
/// Narrowest interval that gets a label.
const LABEL_PX: f32 = 36.0;
/// Most intervals weighed exactly when choosing a merged pixel's colour; beyond that, samples.
const EXACT_MERGE: usize = 24;
/// Most link arrows drawn at once.
const MAX_ARROWS: usize = 2_000;

/// What every painter of one frame shares: made once in [`Timeline::show`] after the view has
/// settled, and read by reference.
pub(super) struct FrameInfo {
    /// Clipped to the widget.
    pub(super) painter: Painter,
    /// The whole widget: axis, label column and lanes.
    pub(super) rect: Rect,
    /// Where intervals are drawn: right of the label column, below the axis.
    pub(super) plot: Rect,
    /// The visible time range, ns.
    pub(super) view: (f64, f64),
    /// Pixels per nanosecond, so that placing an interval multiplies instead of dividing (a
    /// zoomed-out frame places a few hundred thousand).
    pub(super) px_per_ns: f64,
    /// Colours for the current theme.
    pub(super) pal: &'static TimelinePalette,
    /// The pointer, unless a drag is under way (a drag shows no hover).
    pub(super) hover_pos: Option<Pos2>,
}

impl FrameInfo {
    /// Screen x of time `t_ns`.
    #[inline]
    pub(super) fn x_from_ns(&self, t_ns: f64) -> f32 {
        self.plot.left() + ((t_ns - self.view.0) * self.px_per_ns) as f32
    }

    /// Nanoseconds a pixel of the plot spans.
    pub(super) fn ns_per_px(&self) -> f64 {
        (self.view.1 - self.view.0) / f64::from(self.plot.width().max(1.0))
    }
}

impl Timeline<'_> {
    /// Paints the visible lanes and their labels; returns the hit under the pointer and, for a
    /// merged sliver, how many intervals it holds.
    pub(super) fn paint_lanes(
        &self,
        info: &FrameInfo,
        state: &mut TimelineState,
    ) -> (Option<TimelineHit>, u32) {
        let label_font = FontId::proportional(12.0);
        let mut mesh = state.mesh.take().and_then(|m| Arc::try_unwrap(m).ok()).unwrap_or_default();
        mesh.clear();
        let mut texts: Vec<(Pos2, Arc<Galley>, Color32)> = Vec::new();
        let mut hover: Option<TimelineHit> = None;
        let mut merged_count = 0u32;
        let mut selected_rect: Option<Rect> = None;
        let label_col = Rect::from_min_max(
            pos2(info.rect.left(), info.plot.top()),
            pos2(info.plot.left(), info.rect.bottom()),
        );
        mesh.add_colored_rect(label_col, info.pal.label_fill);

        // Grid lines under the intervals.
        let step = time_axis::tick_step_ns(info.ns_per_px(), tick_px(info.plot.width()));
        for t in
            time_axis::ticks(info.view.0 - self.origin_ns as f64, info.view.1 - self.origin_ns as f64, step)
        {
            let x = info.x_from_ns(t + self.origin_ns as f64);
            mesh.add_colored_rect(Rect::from_x_y_ranges(x..=x + 1.0, info.plot.y_range()), info.pal.grid);
        }

        let hovered_lane_y =
            info.hover_pos.filter(|p| p.y >= info.plot.top() && info.rect.contains(*p)).map(|p| p.y);
        state.lane_tops.clear();
        let mut y = info.plot.top() - state.scroll_y;
        for (li, lane) in self.lanes.iter().enumerate() {
            let h = lane.height();
            state.lane_tops.push(y);
            let top = y;
            y += h;
            if top > info.rect.bottom() || top + h < info.plot.top() {
                continue;
            }
            let lane_rect = Rect::from_min_max(pos2(info.rect.left(), top), pos2(info.rect.right(), top + h));
            let lane_hovered = hovered_lane_y.is_some_and(|py| py >= top && py < top + h);
            match lane {
                Lane::Header { title, folded } => {
                    mesh.add_colored_rect(lane_rect.shrink2(vec2(0.0, 1.0)), info.pal.header_fill);
                    if lane_hovered && folded.is_some() {
                        mesh.add_colored_rect(lane_rect.shrink2(vec2(0.0, 1.0)), info.pal.lane_highlight);
                    }
                    let mut text_x = info.rect.left() + 8.0;
                    if let Some(folded) = *folded {
                        fold_arrow(
                            &mut mesh,
                            pos2(text_x + 5.0, top + h * 0.5),
                            folded,
                            info.pal.header_text,
                        );
                        text_x += 16.0;
                    }
                    if let Some(g) = text::elided(
                        &info.painter,
                        title,
                        &FontId::proportional(13.0),
                        info.rect.right() - text_x - 8.0,
                    ) {
                        let ty = top + (h - g.size().y) * 0.5;
                        texts.push((pos2(text_x, ty), g, info.pal.header_text));
                    }
                    if lane_hovered {
                        hover = Some(TimelineHit { lane: li, task: None, interval: None });
                    }
                }
                Lane::Rows { label, range, depths, task } => {
                    if li % 2 == 1 {
                        mesh.add_colored_rect(lane_rect, info.pal.lane_stripe);
                    }
                    let selected_lane = state.selected.is_some_and(|s| s.lane == li);
                    if selected_lane || lane_hovered {
                        mesh.add_colored_rect(lane_rect, info.pal.lane_highlight);
                    }
                    if let Some(g) = text::elided(
                        &info.painter,
                        label,
                        &label_font,
                        info.plot.left() - info.rect.left() - 12.0,
                    ) {
                        let ty = top + (ROW_H - g.size().y) * 0.5 + 1.0;
                        texts.push((pos2(info.rect.left() + 8.0, ty), g, info.pal.label_text));
                    }
                    if lane_hovered {
                        hover = Some(TimelineHit { lane: li, task: *task, interval: None });
                    }
                    if let Some(t) = *task {
                        self.paint_marks(info, &mut mesh, t, top + h);
                    }
                    let lane_start = range.start as usize;
                    let lane_end = lane_start + range.len as usize;
                    for depth in 0..(*depths).max(1) {
                        let row_top = top + f32::from(depth) * ROW_H + 1.0;
                        if row_top > info.rect.bottom() || row_top + ROW_H < info.plot.top() {
                            continue;
                        }
                        let (a, b) = depth_range(self.intervals, lane_start, lane_end, depth);
                        let row = RowCtx { from: a, to: b, y: row_top, depth };
                        let hit = self.paint_row(info, &mut mesh, &mut texts, row);
                        if let Some((i, merged)) = hit {
                            hover = Some(TimelineHit { lane: li, task: *task, interval: Some(i) });
                            merged_count = merged;
                        }
                        if selected_lane
                            && let Some(sel) = state.selected.and_then(|s| s.interval)
                            && (a..b).contains(&sel)
                        {
                            let x0 = info.x_from_ns(self.start(sel) as f64).max(info.plot.left() - 2.0);
                            let x1 = info.x_from_ns(self.end(sel) as f64).min(info.plot.right() + 2.0);
                            if x1 >= info.plot.left() && x0 <= info.plot.right() {
                                selected_rect = Some(Rect::from_min_max(
                                    pos2(x0, row_top),
                                    pos2(x1.max(x0 + 2.0), row_top + ROW_H - 2.0),
                                ));
                            }
                        }
                    }
                }
            }
        }

        if let Some((at, label)) = self.marker {
            let x = info.x_from_ns(at as f64);
            if x >= info.plot.left() && x <= info.plot.right() {
                mesh.add_colored_rect(
                    Rect::from_x_y_ranges(x - 1.0..=x + 1.0, info.plot.y_range()),
                    info.pal.marker,
                );
                let g = info.painter.layout_no_wrap(
                    label.to_owned(),
                    FontId::proportional(11.0),
                    Color32::PLACEHOLDER,
                );
                let pos = pos2(x - g.size().x - 4.0, info.plot.top() + 2.0);
                texts.push((pos, g, info.pal.marker));
            }
        }
        let mesh = Arc::new(mesh);
        state.mesh = Some(Arc::clone(&mesh));
        info.painter.add(Shape::Mesh(mesh));
        for (pos, g, c) in texts {
            info.painter.galley(pos, g, c);
        }
        if let Some(r) = selected_rect {
            info.painter.rect_stroke(
                r,
                CornerRadius::ZERO,
                Stroke::new(2.0, info.pal.selection_outline),
                StrokeKind::Outside,
            );
        }
        if self.lanes.is_empty() {
            info.painter.text(
                info.plot.center(),
                Align2::CENTER_CENTER,
                "No lanes to show",
                FontId::proportional(14.0),
                info.pal.axis_text,
            );
        }
        (hover, merged_count)
    }

    /// Paints one depth row; returns the interval under the pointer and how many intervals
    /// its sliver merges (1 for an interval drawn on its own).
    fn paint_row(
        &self,
        info: &FrameInfo,
        mesh: &mut Mesh,
        texts: &mut Vec<(Pos2, Arc<Galley>, Color32)>,
        row: RowCtx,
    ) -> Option<(usize, u32)> {
        let iv = self.intervals;
        let font = FontId::proportional(12.0);
        if row.to > iv.len() {
            return None;
        }
        // Positions are relative to the row's first interval.
        let count = row.to.saturating_sub(row.from);
        let start = |k: usize| iv.start(row.from + k);
        let end = |k: usize| iv.end(row.from + k);
        let t0 = info.view.0.floor() as i64;
        let t1 = info.view.1.ceil() as i64;
        let ns_per_px = info.ns_per_px();
        let y0 = row.y;
        let y1 = row.y + ROW_H - 2.0;
        let hover_in_row = info
            .hover_pos
            .filter(|p| p.y >= y0 && p.y < y1 && p.x >= info.plot.left() && p.x <= info.plot.right());
        let mut hit = None;
        // A pending merged sliver, extended while the next one is adjacent and the same colour.
        let mut pending: Option<(f32, f32, Color32)> = None;
        let flush = |mesh: &mut Mesh, p: &mut Option<(f32, f32, Color32)>| {
            if let Some((a, b, c)) = p.take() {
                mesh.add_colored_rect(Rect::from_min_max(pos2(a, y0), pos2(b, y1)), c);
            }
        };
        // Ends are sorted too (no overlap within a row), so the first visible interval is the
        // first whose end reaches the view.
        let mut k = iv.partition_point(row.from..row.to, |i| iv.end(i) < t0) - row.from;
        while k < count {
            let (from_ns, to_ns) = (start(k), end(k));
            if from_ns > t1 {
                break;
            }
            let xs = info.x_from_ns(from_ns as f64);
            let xe = info.x_from_ns(to_ns as f64);
            if xe - xs >= MIN_PX {
                flush(mesh, &mut pending);
                let kind = iv.kind(row.from + k);
                let label = iv.label(row.from + k);
                let fill = Self::fill(kind, label, info.pal);
                let a = xs.max(info.plot.left() - 1.0);
                let b = xe.min(info.plot.right() + 1.0);
                // Nested spans get a hairline gap so that neighbours with the same colour stay
                // apart; state lanes are contiguous by nature and stay solid.
                let gap = if row.depth > 0 && b - a > 4.0 { 1.0 } else { 0.0 };
                mesh.add_colored_rect(Rect::from_min_max(pos2(a, y0), pos2(b - gap, y1)), fill);
                if hover_in_row.is_some_and(|p| p.x >= xs && p.x < xe) {
                    hit = Some((row.from + k, 1));
                }
                if b - a >= LABEL_PX {
                    let text = if label.is_empty() { kind_name(kind) } else { self.labels.resolve(label) };
                    if let Some(g) = text::elided(&info.painter, text, &font, b - a - 6.0) {
                        let ty = y0 + (y1 - y0 - g.size().y) * 0.5;
                        texts.push((pos2(a + 3.0, ty), g, info.pal.interval_text));
                    }
                }
                k += 1;
            } else {
                // Everything that starts before the next pixel boundary merges into one sliver.
                let px = ((xs - info.plot.left()).floor() + 1.0).max(0.0);
                let boundary_ns = info.view.0 + f64::from(px) * ns_per_px;
                let boundary = boundary_ns.ceil() as i64;
                // A few intervals a pixel, the usual zoomed-out case: walk them and weigh each
                // on the way, reading every start once. Many: gallop past them and weigh a
                // sample (`dominant_fill`). Both choose the same colour for the same intervals.
                let mut weight = [0i64; KINDS];
                // The last interval walked (kind, weight, end) and the end of the one before,
                // for the rule below.
                let mut last = (0usize, 0i64, to_ns);
                let mut before_last_end: i64;
                let (mut j, mut from, mut to) = (k, from_ns, to_ns);
                let mut more = false;
                loop {
                    let kind = iv.kind(row.from + j) as usize;
                    let w = (to - from).max(1);
                    if let Some(slot) = weight.get_mut(kind) {
                        *slot += w;
                    }
                    before_last_end = last.2;
                    last = (kind, w, to);
                    j += 1;
                    if j >= count {
                        break;
                    }
                    from = start(j);
                    if from >= boundary {
                        break;
                    }
                    if j - k >= EXACT_MERGE {
                        more = true;
                        break;
                    }
                    to = end(j);
                }
                if more {
                    j += gallop(count - j, |m| start(j + m) < boundary);
                }
                // An interval that begins in this pixel but runs on past it is drawn on its own
                // next: merged, it would stretch the sliver, and what hovering the sliver shows,
                // over its whole length (a goroutine that ran for a microsecond, then blocked for
                // the rest of the trace, showed "running" all along).
                let mut last_end = if more { end(j - 1) } else { last.2 };
                if j - 1 > k && info.x_from_ns(last_end as f64) > info.plot.left() + px + MIN_PX {
                    j -= 1;
                    if more {
                        last_end = end(j - 1);
                    } else {
                        if let Some(slot) = weight.get_mut(last.0) {
                            *slot -= last.1;
                        }
                        last_end = before_last_end;
                    }
                }
                let color = if more {
                    self.dominant_fill(row.from, k, j, info.pal)
                } else {
                    dominant(&weight, info.pal)
                };
                let a = xs.max(info.plot.left() - 1.0);
                let b = info.x_from_ns(last_end as f64).max(xs + MIN_PX).min(info.plot.right() + 1.0);
                match &mut pending {
                    Some((_, pb, pc)) if *pc == color && a <= *pb + 0.5 => *pb = pb.max(b),
                    _ => {
                        flush(mesh, &mut pending);
                        pending = Some((a, b, color));
                    }
                }
                if hover_in_row.is_some_and(|p| p.x >= a - 0.5 && p.x < b + 0.5) && hit.is_none() {
                    hit = Some((row.from + k, (j - k) as u32));
                }
                k = j;
            }
        }
        flush(mesh, &mut pending);
        hit
    }

    /// The fill of an interval: its state's colour; spans and async operations get one of a
    /// few shades by name, so that neighbouring spans tell apart.
    fn fill(kind: IntervalKind, label: StrId, pal: &TimelinePalette) -> Color32 {
        let base = pal.kind(kind);
        match kind {
            IntervalKind::Span | IntervalKind::Async => {
                let shade = (label.index() as u32).wrapping_mul(0x9e37_79b9) >> 30;
                theme::mix(base, Color32::WHITE, 0.1 * shade as f32)
            }
            _ => base,
        }
    }

    /// The colour of the state covering most of intervals `k..j` (relative to `base`); exact
    /// for a few, sampled for many so a pixel never costs more than [`EXACT_MERGE`] reads.
    fn dominant_fill(&self, base: usize, k: usize, j: usize, pal: &TimelinePalette) -> Color32 {
        let iv = self.intervals;
        let n = j.saturating_sub(k).max(1);
        let stride = n.div_ceil(EXACT_MERGE).max(1);
        let mut weight = [0i64; KINDS];
        let mut idx = k;
        while idx < j {
            let i = base + idx;
            let dur = (iv.end(i) - iv.start(i)).max(1);
            let kind = iv.kind(i);
            if let Some(w) = weight.get_mut(kind as usize) {
                *w += dur;
            }
            idx += stride;
        }
        dominant(&weight, pal)
    }

    /// Paints the time axis above the lanes and names the scale in its left corner.
    /// The task's instant events (Chrome `i`/`n` marks) as short ticks along the bottom of its
    /// lane: at most one per pixel column, so a lane of a million marks costs its width.
    fn paint_marks(&self, info: &FrameInfo, mesh: &mut Mesh, task: u32, lane_bottom: f32) {
        let marks = &self.capture.chrome().marks;
        // Marks belong to the capture's own intervals, not to other lanes drawn over it.
        if marks.is_empty() || !std::ptr::eq(self.intervals, std::ptr::from_ref(&self.capture.intervals)) {
            return;
        }
        let first = marks.partition_point(|m| m.task < task);
        let last = first + marks.get(first..).map_or(0, |r| r.partition_point(|m| m.task == task));
        let Some(mine) = marks.get(first..last) else { return };
        let from = mine.partition_point(|m| (m.time_ns as f64) < info.view.0);
        let mut last_px = f32::NEG_INFINITY;
        for m in mine.get(from..).unwrap_or_default() {
            if m.time_ns as f64 > info.view.1 {
                break;
            }
            let x = info.x_from_ns(m.time_ns as f64).floor();
            if x <= last_px {
                continue;
            }
            last_px = x;
            mesh.add_colored_rect(
                Rect::from_x_y_ranges(x..=x + 2.0, lane_bottom - 6.0..=lane_bottom - 1.0),
                info.pal.marker,
            );
        }
    }

    pub(super) fn paint_axis(&self, info: &FrameInfo) {
        let axis = Rect::from_min_max(
            pos2(info.plot.left(), info.plot.top() - AXIS_H),
            pos2(info.rect.right(), info.plot.top()),
        );
        info.painter.rect_filled(
            Rect::from_min_max(info.rect.min, pos2(info.rect.right(), info.plot.top())),
            CornerRadius::ZERO,
            info.pal.label_fill,
        );
        info.painter.hline(info.rect.x_range(), info.plot.top() - 0.5, Stroke::new(1.0, info.pal.grid));
        let origin = self.origin_ns as f64;
        let ns_per_px = info.ns_per_px();
        let step = time_axis::tick_step_ns(ns_per_px, tick_px(info.plot.width()));
        let (from, to) = (info.view.0 - origin, info.view.1 - origin);
        let first = time_axis::ticks(from, to, step).next().unwrap_or(from);
        let labels = TickLabels::new(step, first, from.abs().max(to.abs()));
        let font = FontId::proportional(11.0);
        for t in time_axis::ticks(from, to, step) {
            let x = info.x_from_ns(t + origin);
            info.painter.vline(x, axis.bottom() - 5.0..=axis.bottom(), Stroke::new(1.0, info.pal.axis_text));
            let g = info.painter.layout_no_wrap(labels.label(t), font.clone(), info.pal.axis_text);
            // A label right of its tick, unless it would run off the edge: then left of it.
            let lx = if x + 3.0 + g.size().x > axis.right() - 2.0 { x - 3.0 - g.size().x } else { x + 3.0 };
            info.painter.galley(pos2(lx, axis.top() + 4.0), g, info.pal.axis_text);
        }
        // The left corner names the scale: the span on screen, and the offsets' base if any.
        let mut corner = format!("view {}", format::duration_ns((info.view.1 - info.view.0).round() as i64));
        if let Some((_, base)) = &labels.base {
            corner = format!("{base} +");
        }
        info.painter.text(
            pos2(info.rect.left() + 8.0, axis.top() + 5.0),
            Align2::LEFT_TOP,
            corner,
            font,
            info.pal.axis_text,
        );
    }

    /// The overview strip's key in the label column beside it: "overview" and its colours.
    pub(super) fn paint_overview_key(info: &FrameInfo, strip: Rect) {
        let font = FontId::proportional(11.0);
        let y = strip.center().y;
        let mut x = info.rect.left() + 8.0;
        let g = info.painter.layout_no_wrap("whole range:".to_owned(), font.clone(), info.pal.axis_text);
        let w = g.size().x;
        info.painter.galley(pos2(x, y - g.size().y * 0.5), g, info.pal.axis_text);
        x += w + 8.0;
        for (colour, name) in super::overview::legend(info.pal) {
            if x + 60.0 > strip.left() {
                break;
            }
            info.painter.rect_filled(
                Rect::from_center_size(pos2(x + 4.0, y), vec2(8.0, 8.0)),
                CornerRadius::same(2),
                colour,
            );
            let g = info.painter.layout_no_wrap(name.to_owned(), font.clone(), info.pal.axis_text);
            let w = g.size().x;
            info.painter.galley(pos2(x + 11.0, y - g.size().y * 0.5), g, info.pal.axis_text);
            x += w + 22.0;
        }
    }

    /// Paints the links of the hovered lane's task (else the selected lane's), as arrows.
    pub(super) fn paint_links(
        &self,
        info: &FrameInfo,
        state: &mut TimelineState,
        hover: Option<TimelineHit>,
    ) {
        let focus = hover.and_then(|h| h.task).or_else(|| state.selected.and_then(|s| s.task));
        let Some(task) = focus else { return };
        if self.links.is_empty() {
            return;
        }
        let key = (task, std::ptr::from_ref(self.links) as usize, self.links.len());
        if state.links_cache.as_ref().is_none_or(|(k, _)| *k != key) {
            let of_task = self.links.iter().filter(|l| l.from_task == task || l.to_task == task).collect();
            state.links_cache = Some((key, of_task));
        }
        let lanes_key = (self.lanes.as_ptr() as usize, self.lanes.len());
        if state.task_lanes.as_ref().is_none_or(|(k, _)| *k != lanes_key) {
            let mut map: Vec<(u32, u32)> = self
                .lanes
                .iter()
                .enumerate()
                .filter_map(|(i, l)| match l {
                    Lane::Rows { task: Some(t), .. } => Some((*t, i as u32)),
                    _ => None,
                })
                .collect();
            map.sort_unstable();
            state.task_lanes = Some((lanes_key, map));
        }
        let (Some((_, links)), Some((_, lane_of))) = (&state.links_cache, &state.task_lanes) else { return };
        let lane_y = |t: u32| {
            let at = lane_of.binary_search_by_key(&t, |&(task, _)| task).ok()?;
            let lane = lane_of.get(at)?.1 as usize;
            state.lane_tops.get(lane).map(|y| y + 1.0 + (ROW_H - 2.0) * 0.5)
        };
        let mut drawn = 0usize;
        for link in links {
            let (Some(ya), Some(yb)) = (lane_y(link.from_task), lane_y(link.to_task)) else { continue };
            let xa = info.x_from_ns(link.from_ns as f64);
            let xb = info.x_from_ns(link.to_ns as f64);
            let seg = Rect::from_two_pos(pos2(xa, ya), pos2(xb, yb));
            if !seg.intersects(info.plot) {
                continue;
            }
            let color = info.pal.link(link.kind);
            let (a, b) = (pos2(xa, ya), pos2(xb, yb));
            info.painter.line_segment([a, b], Stroke::new(1.5, color));
            info.painter.circle_filled(a, 2.5, color);
            let dir = (b - a).normalized();
            if dir.length() > 0.5 {
                let n = vec2(-dir.y, dir.x);
                let tip = b;
                let head = vec![tip, tip - dir * 8.0 + n * 4.0, tip - dir * 8.0 - n * 4.0];
                info.painter.add(Shape::convex_polygon(head, color, Stroke::NONE));
            }
            drawn += 1;
            if drawn >= MAX_ARROWS {
                break;
            }
        }
    }
}

/// One depth row to paint: intervals `from..to`, at `y`.
#[derive(Clone, Copy)]
struct RowCtx {
    from: usize,
    to: usize,
    y: f32,
    depth: u16,
}

/// Slots for weighing interval kinds when merging a pixel.
const KINDS: usize = 8;

/// The palette colour of the heaviest kind (the last of equals).
fn dominant(weight: &[i64; KINDS], pal: &TimelinePalette) -> Color32 {
    let best = weight.iter().enumerate().max_by_key(|&(_, w)| *w).map_or(0, |(i, _)| i);
    pal.kinds.get(best).copied().unwrap_or(Color32::GRAY)
}

/// Number of leading positions of `0..len` where `below` holds (it holds, then does not): an
/// exponential then binary search, so a short run costs a few reads and a long one a logarithm.
fn gallop(len: usize, below: impl Fn(usize) -> bool) -> usize {
    let mut hi = 1usize;
    while hi < len && below(hi - 1) {
        hi *= 2;
    }
    let (mut lo, mut hi) = (hi / 2, hi.min(len));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if below(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// A fold arrow centred on `c`: pointing right when folded, down when open (as tree views
/// and Perfetto's track groups draw it).
fn fold_arrow(mesh: &mut Mesh, c: Pos2, folded: bool, colour: Color32) {
    let r = 4.5;
    let points = if folded {
        [pos2(c.x - r * 0.6, c.y - r), pos2(c.x - r * 0.6, c.y + r), pos2(c.x + r * 0.8, c.y)]
    } else {
        [pos2(c.x - r, c.y - r * 0.6), pos2(c.x + r, c.y - r * 0.6), pos2(c.x, c.y + r * 0.8)]
    };
    let base = mesh.vertices.len() as u32;
    for p in points {
        mesh.colored_vertex(p, colour);
    }
    mesh.add_triangle(base, base + 1, base + 2);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gallop_counts_leading_starts_below_bound() {
        let s = [1, 2, 3, 10, 20, 30, 40, 50, 60];
        let g = |s: &[i64], bound: i64| gallop(s.len(), |k| s[k] < bound);
        assert_eq!(g(&s, 0), 0);
        assert_eq!(g(&s, 1), 0);
        assert_eq!(g(&s, 2), 1);
        assert_eq!(g(&s, 11), 4);
        assert_eq!(g(&s, 61), 9);
        assert_eq!(g(&[], 5), 0);
        for bound in 0..70 {
            assert_eq!(g(&s, bound), s.partition_point(|&x| x < bound), "bound {bound}");
        }
    }

    /// The colours one frame paints for `rows` (each a task's intervals), 0..1,000,000 ns
    /// across the plot, a pixel about 1,400 ns.
    fn painted(rows: &[Vec<(i64, i64, IntervalKind)>]) -> (Vec<Color32>, &'static TimelinePalette) {
        use leakscope_core::model::{Capture, FormatKind, Interval, IntervalRange, IntervalsBuilder, Task};
        let mut c = Capture::new("test", FormatKind::GoExecutionTrace);
        let mut iv = IntervalsBuilder::new(0);
        for (t, row) in rows.iter().enumerate() {
            let first = iv.len() as u32;
            for &(start_ns, end_ns, kind) in row {
                iv.push_interval(Interval { start_ns, end_ns, kind, depth: 0, ..Interval::default() });
            }
            c.tasks.push(Task {
                id: t as u64 + 1,
                intervals: IntervalRange { start: first, len: row.len() as u32 },
                ..Task::default()
            });
        }
        c.intervals = iv.finish();
        c.time_range_ns = Some((0, 1_000_000));
        let lanes: Vec<Lane> = (0..rows.len() as u32).map(|t| Lane::task(&c, t, format!("G{t}"))).collect();
        let ctx = egui::Context::default();
        let mut state = TimelineState::default();
        state.set_view_ns(0.0, 1_000_000.0);
        let mut pal = None;
        for _ in 0..2 {
            let input = egui::RawInput {
                screen_rect: Some(Rect::from_min_size(Pos2::ZERO, vec2(1000.0, 300.0))),
                ..egui::RawInput::default()
            };
            let mut out = ctx.run_ui(input, |ui| {
                pal = Some(TimelinePalette::of(ui));
                let _ = Timeline::new(&c, &lanes).show(ui, &mut state);
            });
            // No renderer takes the font atlas here.
            out.textures_delta.clear();
        }
        let mesh = state.mesh.take().expect("a frame paints a mesh");
        (mesh.vertices.iter().map(|v| v.color).collect(), pal.expect("a frame ran"))
    }

    /// A merged pixel takes the colour of the state that lasts longest in it, whether its
    /// intervals are few enough to be walked one by one or so many that they are sampled.
    #[test]
    fn a_merged_pixel_takes_the_colour_of_its_longest_state() {
        for pairs in [4i64, 10, 60] {
            // `pairs` times: running 2 ns, then runnable 8 ns; then blocked to the end, which
            // runs far past the pixel and is drawn on its own.
            let mut row: Vec<(i64, i64, IntervalKind)> = (0..pairs)
                .flat_map(|p| {
                    [
                        (p * 10, p * 10 + 2, IntervalKind::Running),
                        (p * 10 + 2, p * 10 + 10, IntervalKind::Runnable),
                    ]
                })
                .collect();
            row.push((pairs * 10, 1_000_000, IntervalKind::Blocked));
            let (colours, pal) = painted(&[row]);
            let has = |k: IntervalKind| colours.contains(&pal.kind(k));
            assert!(has(IntervalKind::Runnable), "{pairs} pairs: the sliver is runnable's colour");
            assert!(!has(IntervalKind::Running), "{pairs} pairs: running is the lesser part");
            assert!(has(IntervalKind::Blocked), "{pairs} pairs: the long block is drawn");
        }
    }
}
