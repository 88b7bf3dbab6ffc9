//! How the pointer and the keys move the timeline's view (wheel zoom around the pointer, drag
//! pan, band zoom, W/A/S/D, Page Up/Down, Esc), the animation towards a target view, and the
//! hover tooltip. Interaction runs before painting, so a frame paints the view it settles on.

use egui::{Key, PointerButton, Rect, Response, Tooltip, Ui, Vec2};
use leakscope_core::model::IntervalKind;

use super::overview::Overview;
use super::{Lane, MIN_VIEW_NS, Timeline, TimelineHit, TimelineState, kind_name, ns_from_x, pad_range};
use crate::widgets::{KeyNav, format};

impl Timeline<'_> {
    /// Moves the view and scrolls the lanes from the pointer and the keys; animates towards
    /// a target view.
    pub(super) fn interact(
        &self,
        ui: &Ui,
        state: &mut TimelineState,
        response: &Response,
        rect: Rect,
        plot: Rect,
        range: (f64, f64),
    ) {
        let Some(mut view) = state.view else { return };
        let width = f64::from(plot.width().max(1.0));
        let span = view.1 - view.0;
        let focused = response.hovered() || response.has_focus();
        let typing = ui.ctx().egui_wants_keyboard_input();

        // Zoom band: shift+drag or secondary drag.
        let band_drag = response.dragged_by(PointerButton::Secondary)
            || (response.dragged_by(PointerButton::Primary) && ui.input(|i| i.modifiers.shift));
        if response.drag_started() && band_drag {
            // From where the button went down, not where the drag was recognised.
            let origin = ui.input(|i| i.pointer.press_origin()).or_else(|| response.interact_pointer_pos());
            state.band_from_ns = origin.map(|p| ns_from_x(p.x, view, plot));
        }
        if response.drag_stopped() {
            if let (Some(from), Some(p)) = (state.band_from_ns.take(), response.interact_pointer_pos()) {
                let to = ns_from_x(p.x, view, plot);
                if (to - from).abs() * f64::from(plot.width()) / span >= 4.0 {
                    state.target = Some((from.min(to), from.max(to)));
                }
            }
        } else if response.dragged() && state.band_from_ns.is_none() {
            let d = response.drag_delta();
            let dt = -f64::from(d.x) / width * span;
            view = (view.0 + dt, view.1 + dt);
            state.target = None;
            state.scroll_y -= d.y;
        }

        if response.hovered() {
            let (scroll, zoom, over_labels) = ui.input(|i| {
                (
                    i.smooth_scroll_delta,
                    i.zoom_delta(),
                    i.pointer.hover_pos().is_some_and(|p| p.x < plot.left()),
                )
            });
            if over_labels && (zoom - 1.0).abs() < 1e-6 {
                state.scroll_y -= scroll.y;
            } else {
                let factor = f64::from(zoom) * (f64::from(scroll.y) * 0.004).exp();
                if (factor - 1.0).abs() > 1e-9 || scroll.x != 0.0 {
                    let base = state.target.unwrap_or(view);
                    let span = base.1 - base.0;
                    let anchor_frac = response.hover_pos().map_or(0.5, |p| {
                        f64::from(((p.x - plot.left()) / plot.width().max(1.0)).clamp(0.0, 1.0))
                    });
                    let new_span = (span / factor).max(MIN_VIEW_NS);
                    let anchor = base.0 + anchor_frac * span;
                    let pan = -f64::from(scroll.x) / width * new_span;
                    let a = anchor - anchor_frac * new_span + pan;
                    view = (a, a + new_span);
                    state.target = None;
                }
            }
            if scroll != Vec2::ZERO {
                ui.ctx().input_mut(|i| i.smooth_scroll_delta = Vec2::ZERO);
            }
        }

        if focused && !typing {
            let (esc, page_up, page_down) = ui.input(|i| {
                (i.key_pressed(Key::Escape), i.key_pressed(Key::PageUp), i.key_pressed(Key::PageDown))
            });
            if let Some(nav) = KeyNav::read(ui) {
                let span = view.1 - view.0;
                let anchor_frac = response.hover_pos().map_or(0.5, |p| {
                    f64::from(((p.x - plot.left()) / plot.width().max(1.0)).clamp(0.0, 1.0))
                });
                let new_span = (span / nav.zoom).max(MIN_VIEW_NS);
                let anchor = view.0 + anchor_frac * span;
                let a0 = anchor - anchor_frac * new_span + nav.pan * new_span;
                view = (a0, a0 + new_span);
                state.target = None;
                ui.ctx().request_repaint();
            }
            if esc {
                state.target = Some(pad_range(range));
                state.band_from_ns = None;
            }
            if page_up {
                state.scroll_y -= plot.height() * 0.9;
            }
            if page_down {
                state.scroll_y += plot.height() * 0.9;
            }
        }

        if let Some(target) = state.target {
            let dt = ui.input(|i| f64::from(i.stable_dt).clamp(1.0 / 120.0, 0.1));
            let k = 1.0 - (-14.0 * dt).exp();
            let next = (view.0 + (target.0 - view.0) * k, view.1 + (target.1 - view.1) * k);
            let close =
                (next.0 - target.0).abs().max((next.1 - target.1).abs()) < (target.1 - target.0) * 1e-3;
            view = if close { target } else { next };
            if close {
                state.target = None;
            } else {
                ui.ctx().request_repaint();
            }
        }
        // Keep some of the trace on screen: panning stops a view-width past either end.
        let span = (view.1 - view.0).clamp(MIN_VIEW_NS, (range.1 - range.0) * 4.0);
        let lo = range.0 - span * 0.9;
        let hi = range.1 + span * 0.9;
        let a = view.0.clamp(lo, (hi - span).max(lo));
        state.view = Some((a, a + span));

        let content_h: f32 = self.lanes.iter().map(Lane::height).sum();
        let visible_h = rect.bottom() - plot.top();
        state.scroll_y = state.scroll_y.clamp(0.0, (content_h - visible_h + 8.0).max(0.0));
    }

    /// A click or drag in the overview strip: the window, its width kept, centres on the
    /// pointer's moment of the whole range.
    pub(super) fn interact_overview(
        ui: &Ui,
        state: &mut TimelineState,
        response: &Response,
        strip: Rect,
        range: (f64, f64),
    ) {
        let Some(view) = state.view else { return };
        if !(response.clicked() || response.dragged()) {
            return;
        }
        let Some(p) = response.interact_pointer_pos() else { return };
        let frac = f64::from(((p.x - strip.left()) / strip.width().max(1.0)).clamp(0.0, 1.0));
        let centre = range.0 + frac * (range.1 - range.0);
        let half = (view.1 - view.0) / 2.0;
        state.view = Some((centre - half, centre + half));
        state.target = None;
        state.band_from_ns = None;
        ui.ctx().request_repaint();
    }

    /// What the overview strip holds at the pointer.
    pub(super) fn overview_tooltip(
        &self,
        ui: &Ui,
        response: &Response,
        overview: &Overview,
        frac: f32,
        range: (f64, f64),
    ) {
        let (busy, waiting) = overview.at(frac);
        let at = range.0 + f64::from(frac.clamp(0.0, 1.0)) * (range.1 - range.0);
        Tooltip::always_open(ui.ctx().clone(), response.layer_id, response.id, egui::PopupAnchor::Pointer)
            .gap(14.0)
            .accessible_name("Overview details")
            .show(|ui| {
                ui.strong(format!("at {}", format::duration_ns((at - self.origin_ns as f64).round() as i64)));
                ui.label(format!("{busy:.1} lanes busy, {waiting:.1} waiting (on average)"));
                ui.weak("Click or drag to move the view here");
            });
    }

    /// The details of the hovered interval (or lane) beside the pointer.
    pub(super) fn tooltip(&self, ui: &Ui, response: &Response, hit: TimelineHit, merged: u32) {
        let Some(lane) = self.lanes.get(hit.lane) else { return };
        let label = match lane {
            Lane::Rows { label, .. } => label,
            Lane::Header { folded: Some(folded), .. } => {
                let what =
                    if *folded { "Click to show this group's lanes" } else { "Click to fold this group" };
                response.clone().on_hover_text_at_pointer(what);
                return;
            }
            Lane::Header { .. } => return,
        };
        let tooltip = Tooltip::always_open(
            ui.ctx().clone(),
            response.layer_id,
            response.id,
            egui::PopupAnchor::Pointer,
        )
        .gap(14.0)
        .accessible_name("Interval details");
        tooltip.show(|ui| {
            ui.set_max_width(520.0);
            ui.strong(label);
            let Some(i) = hit.interval else {
                ui.weak("Click to select the lane");
                return;
            };
            let iv = self.intervals;
            let kind = iv.get(i).map(|v| v.kind).unwrap_or_default();
            let label = iv.label(i);
            let (s, e) = (self.start(i), self.end(i));
            let state = if label.is_empty() {
                kind_name(kind).to_owned()
            } else if kind == IntervalKind::Waiting {
                // Age bars say what they are in their label ("3 of 40 goroutines waiting ≥ ...").
                self.labels.resolve(label).to_owned()
            } else {
                format!("{}: {}", kind_name(kind), self.labels.resolve(label))
            };
            ui.label(state);
            ui.label(format!(
                "{} (from {} to {})",
                format::duration_ns(e - s),
                format::duration_ns(s - self.origin_ns),
                format::duration_ns(e - self.origin_ns)
            ));
            if merged > 1 {
                ui.weak(format!(
                    "{} intervals share this pixel; zoom in to see them",
                    format::count(i64::from(merged))
                ));
            }
            let stack = iv.get(i).map(|v| v.stack).unwrap_or_default();
            if let Some(&leaf) = self.capture.tables.stack(stack).first() {
                let frame = self.capture.tables.frame(leaf);
                ui.label(egui::RichText::new(self.capture.str(frame.func)).monospace());
                if !frame.file.is_empty() {
                    ui.label(
                        egui::RichText::new(format!("{}:{}", self.capture.str(frame.file), frame.line))
                            .monospace()
                            .weak(),
                    );
                }
            }
        });
    }
}
