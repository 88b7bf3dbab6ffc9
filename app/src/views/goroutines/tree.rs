//! The created-by tree of the Goroutines view: goroutines under the goroutine that created
//! them, orphans (creator gone) first since that is where leaks are, flattened to rows of what
//! is open so long trees are virtualised.

use egui::{RichText, Sense};
use leakscope_core::analysis::lineage::Lineage;
use leakscope_core::format;
use leakscope_core::model::funcname;

use super::matcher::{Matcher, group_matches};
use super::{GoroutinesView, ROW_HEIGHT, is_system, state_text};
use crate::theme::Palette;
use crate::workspace::{LoadedCapture, TaskNoun};

impl GoroutinesView {
    pub(super) fn tree_ui(&mut self, ui: &mut egui::Ui, loaded: &LoadedCapture) {
        let lineage = &loaded.lineage;
        if lineage.nodes.is_empty() {
            ui.label(match loaded.task_noun() {
                TaskNoun::Goroutines => "This capture does not say which goroutine created which (a profile, or a dump without \"created by\" lines).",
                TaskNoun::Tasks => "This capture does not say which task started which (no triggerAsyncId or flow events).",
            });
            return;
        }
        if !self.tree_initialised {
            self.tree_initialised = true;
            // Open the orphans and the first level under each root: that is where leaks show.
            for &r in lineage.orphan_roots.iter().chain(&lineage.roots) {
                self.tree_open.insert(r);
            }
        }
        let palette = Palette::of(ui);
        ui.style_mut().interaction.selectable_labels = false;
        // Flatten what is open into rows. Orphans first: a parked goroutine whose creator has
        // returned is where leaks are.
        let mut rows: Vec<TreeRow> = Vec::new();
        if !lineage.orphan_roots.is_empty() {
            let direct: u64 = lineage
                .orphan_roots
                .iter()
                .filter_map(|&r| lineage.node(r))
                .map(|n| n.members.len() as u64)
                .sum();
            rows.push(TreeRow::Header(format!(
                "Orphans: the goroutine that created them is gone ({} goroutines, {} more started by them)",
                format::count(direct),
                format::count(lineage.orphaned_count().saturating_sub(direct))
            )));
            self.flatten(lineage, &lineage.orphan_roots, &mut rows);
        }
        rows.push(TreeRow::Header(format!(
            "Started by the program: {} {}",
            format::count(
                lineage.roots.iter().filter_map(|&r| lineage.node(r)).map(|n| n.subtree_count).sum::<u64>()
            ),
            loaded.task_noun().plural()
        )));
        self.flatten(lineage, &lineage.roots, &mut rows);
        egui::ScrollArea::vertical().id_salt("lineage-tree").auto_shrink([false, false]).show_rows(
            ui,
            ROW_HEIGHT,
            rows.len(),
            |ui, range| {
                for row in rows.get(range).unwrap_or_default() {
                    match row {
                        TreeRow::Header(text) => {
                            let color = if text.starts_with("Orphans") {
                                palette.orphan
                            } else {
                                ui.visuals().strong_text_color()
                            };
                            ui.add_sized(
                                [ui.available_width(), ROW_HEIGHT],
                                egui::Label::new(RichText::new(text).strong().color(color)),
                            );
                        }
                        &TreeRow::Node(index) => self.tree_row_ui(ui, loaded, index),
                    }
                }
            },
        );
    }

    fn flatten(&self, lineage: &Lineage, nodes: &[u32], rows: &mut Vec<TreeRow>) {
        for &n in nodes {
            if !self.rows.tree_visible.get(n as usize).copied().unwrap_or(true) {
                continue;
            }
            rows.push(TreeRow::Node(n));
            if self.tree_open.contains(&n)
                && let Some(node) = lineage.node(n)
            {
                self.flatten(lineage, &node.children, rows);
            }
        }
    }

    fn tree_row_ui(&mut self, ui: &mut egui::Ui, loaded: &LoadedCapture, index: u32) {
        let Some(node) = loaded.lineage.node(index) else { return };
        let palette = Palette::of(ui);
        let group = node.members.first().and_then(|&m| loaded.group_of(m));
        let selected = group.is_some() && group == self.selected_group;
        let (rect, response) =
            ui.allocate_exact_size(egui::vec2(ui.available_width(), ROW_HEIGHT), Sense::click());
        if node.orphan || node.under_orphan {
            ui.painter().rect_filled(rect, 0.0, palette.orphan_tint);
        }
        if selected {
            ui.painter().rect_filled(rect, 0.0, palette.selection_fill);
        } else if response.hovered() {
            ui.painter().rect_filled(rect, 0.0, ui.visuals().widgets.hovered.weak_bg_fill);
        }
        let mut child = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(rect.shrink2(egui::vec2(4.0, 0.0)))
                .layout(egui::Layout::left_to_right(egui::Align::Center)),
        );
        child.add_space(f32::from(node.depth) * 18.0);
        let open = self.tree_open.contains(&index);
        if node.children.is_empty() {
            child.add_space(18.0);
        } else {
            let toggle = child.add(
                egui::Button::new(if open { "▼" } else { "▶" }).frame(false).min_size(egui::vec2(18.0, 0.0)),
            );
            let name = format!("{} subtree", if open { "Collapse" } else { "Expand" });
            toggle.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
            if toggle.clicked() {
                if open {
                    self.tree_open.remove(&index);
                } else {
                    self.tree_open.insert(index);
                }
            }
        }
        let count = if node.children.is_empty() {
            format::count(node.members.len() as u64)
        } else {
            format!(
                "{} (+{})",
                format::count(node.members.len() as u64),
                format::count(node.subtree_count - node.members.len() as u64)
            )
        };
        child.label(RichText::new(count).strong().monospace());
        let state = loaded.capture.str(node.state);
        let kind = loaded.capture.wait_kind_of(node.state, node.stack);
        child.label(RichText::new("●").color(palette.wait_kind(kind)));
        child.label(if state.is_empty() { kind.name() } else { state });
        let func = match loaded.capture.user_frame(node.stack) {
            Some(f) => loaded.capture.func_name(f),
            None => loaded.capture.str(node.name),
        };
        child.label(RichText::new(funcname::display_name(func)).monospace()).on_hover_text(func);
        if let Some(created) = node.created_by {
            child.label(
                RichText::new(format!(
                    "created by {}",
                    funcname::display_name(loaded.capture.func_name(created))
                ))
                .weak(),
            );
        }
        if node.orphan {
            let parents = orphan_parents(loaded, &node.members);
            child.label(RichText::new(format!("parent gone ({parents})")).color(palette.orphan));
        } else if node.under_orphan && node.parked > 0 {
            child.label(
                RichText::new(format!("{} parked under an orphan", format::count(node.parked)))
                    .color(palette.orphan),
            );
        }
        let name = format!(
            "Tree node: {} goroutines, {}, {}",
            node.members.len(),
            state,
            funcname::display_name(func)
        );
        response.widget_info(|| egui::WidgetInfo::selected(egui::Role::TreeItem, true, selected, &name));
        if response.clicked() {
            self.selected_group = group;
            self.selected_task = node.members.first().copied();
        }
    }
}

enum TreeRow {
    Header(String),
    Node(u32),
}

fn orphan_parents(loaded: &LoadedCapture, members: &[u32]) -> String {
    let mut parents: Vec<u64> = members
        .iter()
        .filter_map(|&m| loaded.capture.tasks.get(m as usize))
        .filter_map(|t| t.parent_id.get())
        .collect();
    parents.sort_unstable();
    parents.dedup();
    let shown: Vec<String> = parents.iter().take(3).map(|p| format!("goroutine {p}")).collect();
    if parents.len() > 3 {
        format!("{}, … {} in all", shown.join(", "), parents.len())
    } else {
        shown.join(", ")
    }
}

/// Which tree nodes to show for a filter: a node shows when it matches or something under it
/// does.
pub(super) fn tree_visibility(
    loaded: &LoadedCapture,
    matcher: &Matcher,
    state: Option<&str>,
    hide_system: bool,
) -> Vec<bool> {
    let nodes = &loaded.lineage.nodes;
    let unfiltered = matches!(matcher, Matcher::All) && state.is_none() && !hide_system;
    if unfiltered {
        return vec![true; nodes.len()];
    }
    let own: Vec<bool> = nodes
        .iter()
        .map(|n| {
            let Some(group) =
                n.members.first().and_then(|&m| loaded.group_of(m)).and_then(|g| loaded.groups.get(g))
            else {
                return false;
            };
            (!hide_system || !is_system(loaded, group))
                && state.is_none_or(|s| state_text(loaded, group) == s)
                && group_matches(loaded, group, matcher)
        })
        .collect();
    // Children always have larger indices than their parent (pre-order), so one backward pass
    // carries matches up.
    let mut visible = own;
    for i in (0..nodes.len()).rev() {
        let Some(node) = nodes.get(i) else { continue };
        if node.children.iter().any(|&c| visible.get(c as usize).copied().unwrap_or(false))
            && let Some(v) = visible.get_mut(i)
        {
            *v = true;
        }
    }
    visible
}
