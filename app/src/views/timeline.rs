//! The Timeline view. For a trace: one lane per goroutine, thread or async task with its states
//! over time (nested spans below), grouped by creation site or by state at the end, filtered to
//! the tasks alive or still blocked at the end, to a state at the end, to those that lived at
//! least so long, to a function, or to the focus. For a dump, which has no
//! history: one bar per group showing how long its goroutines have been waiting, ending at the
//! moment of capture. The selected lane's task is described under the canvas. Above a trace's
//! lanes, counter tracks (goroutines alive, heap, GC goal, threads) share its time axis.

use leakscope_core::format;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use egui::RichText;
use leakscope_core::Capture;
use leakscope_core::formats::chrome_trace::{EventDetails, event_details};
use leakscope_core::model::{IntervalKind, Task, TaskKind, funcname};

use super::{Focus, ViewCtx};
use crate::command::Command;
use crate::keys::SHORTCUT_SEARCH;
use crate::state::{LaneGrouping, TimelineOptions};
use crate::widgets::timeline::kind_name;
use crate::widgets::{CounterTracks, Lane, Timeline, TimelineState};
use crate::workspace::LoadedCapture;

/// UI state of the Timeline view.
#[derive(Default)]
pub struct TimelineView {
    pane: TimelinePane,
}

/// What the lanes were built from, so they are rebuilt only when it changes.
#[derive(Clone, Debug, PartialEq)]
struct LanesKey {
    capture: String,
    tasks: usize,
    options: TimelineOptions,
    filter: String,
    state: String,
    focus: Option<Vec<u32>>,
    focus_groups: Option<Vec<usize>>,
    folded: BTreeSet<String>,
}

/// The states a capture's tasks ended in, with their counts, the most common first.
struct EndStates {
    /// The capture and its task count they were counted for.
    of: (String, usize),
    states: Vec<(String, usize)>,
}

/// One timeline with its own zoom and lanes; the Compare view keeps one per side.
#[derive(Default)]
pub struct TimelinePane {
    state: TimelineState,
    filter: String,
    /// The state at the end the lanes are narrowed to, as the capture spells it; empty for any.
    /// Kept as text so that it carries over to another capture with the same state.
    end_state: String,
    /// The end states on offer.
    end_states: Option<EndStates>,
    focus_search: bool,
    key: Option<LanesKey>,
    lanes: Vec<Lane>,
    /// Tasks (or groups, for a dump) the lanes show.
    shown: usize,
    /// Tasks with a lane of their own, narrowed or not: counted with the lanes, not every frame
    /// (a trace can have millions of tasks).
    with_lanes: usize,
    /// The groups folded away, by name (a creation site, a state), so a fold survives a
    /// change of filter and carries over to the other capture of a comparison.
    folded: BTreeSet<String>,
    /// The group name of each header lane, by lane index.
    group_of_header: Vec<(usize, String)>,
    /// The lanes with the folded groups' lanes too, for the overview strip; empty when
    /// nothing is folded (the overview then counts `lanes`).
    overview_lanes: Vec<Lane>,
    focus: Option<Focus>,
    /// The options of a pane that keeps its own (each side of the Compare view), from one
    /// frame to the next.
    own_options: Option<TimelineOptions>,
    /// The counter tracks of the capture named, decoded once per capture.
    counters: Option<(String, CounterTracks)>,
    /// The selected interval's input event, read again once per selection rather than every
    /// frame: (capture, interval) -> details.
    event: std::cell::RefCell<Option<SelectedEvent>>,
}

/// The details of a selected interval's input event, keyed by (capture, interval).
type SelectedEvent = ((String, usize), Option<EventDetails>);

/// Width of the lanes' label column; the counter tracks' names take the same, so their
/// values line up with the lanes' times.
const LANE_LABEL_W: f32 = 240.0;

impl TimelinePane {
    /// A capture's timeline with options of its own, grouped by creation site at first.
    pub fn capture_ui(&mut self, ui: &mut egui::Ui, loaded: &LoadedCapture, name: &str) {
        let mut options = self.own_options.take().unwrap_or_else(|| TimelineOptions {
            grouping: LaneGrouping::CreatedBy,
            ..TimelineOptions::default()
        });
        self.capture_ui_with(ui, loaded, name, &mut options);
        self.own_options = Some(options);
    }

    fn capture_ui_with(
        &mut self,
        ui: &mut egui::Ui,
        loaded: &LoadedCapture,
        name: &str,
        options: &mut TimelineOptions,
    ) {
        self.capture_ui_linked(ui, loaded, name, options, &[], &mut Vec::new());
    }

    /// `others` are the other open captures (index, capture): a selected goroutine that is also
    /// in one of them is linked there.
    fn capture_ui_linked(
        &mut self,
        ui: &mut egui::Ui,
        loaded: &LoadedCapture,
        name: &str,
        options: &mut TimelineOptions,
        others: &[(usize, &LoadedCapture)],
        out: &mut Vec<Command>,
    ) {
        if loaded.capture.intervals.is_empty() {
            self.wait_ages_ui(ui, loaded, name);
        } else {
            self.trace_ui(ui, loaded, name, options, others, out);
        }
    }

    fn trace_ui(
        &mut self,
        ui: &mut egui::Ui,
        loaded: &LoadedCapture,
        name: &str,
        options: &mut TimelineOptions,
        others: &[(usize, &LoadedCapture)],
        out: &mut Vec<Command>,
    ) {
        let capture = &loaded.capture;
        ui.horizontal_wrapped(|ui| {
            ui.label("Lanes by");
            for (value, label) in [
                (LaneGrouping::None, "task"),
                (LaneGrouping::CreatedBy, "creation site"),
                (LaneGrouping::State, "state at end"),
            ] {
                ui.selectable_value(&mut options.grouping, value, label);
            }
            ui.separator();
            ui.checkbox(&mut options.only_alive, "Only alive at the end")
                .on_hover_text("Tasks that had not ended when the trace ended");
            ui.checkbox(&mut options.only_blocked, "Only blocked at the end")
                .on_hover_text("Tasks still waiting when the trace ends: where leaks show");
            // Each side of the Compare view has its own: ids apart by the pane's name.
            self.end_state_ui(ui, loaded, name);
            lifetime_ui(ui, options, name);
            self.filter_ui(ui);
            if options.grouping != LaneGrouping::None {
                let all: Vec<String> = self.group_of_header.iter().map(|(_, g)| g.clone()).collect();
                if !all.is_empty() && all.iter().any(|g| !self.folded.contains(g)) {
                    if ui
                        .button("Fold all")
                        .on_hover_text("Show only the group headers; click one to open it")
                        .clicked()
                    {
                        self.folded.extend(all);
                    }
                } else if !self.folded.is_empty() && ui.button("Unfold all").clicked() {
                    self.folded.clear();
                }
            }
        });
        let key = LanesKey {
            capture: loaded.name.clone(),
            tasks: capture.tasks.len(),
            options: options.clone(),
            filter: self.filter.clone(),
            state: self.end_state.clone(),
            focus: self.focus.as_ref().map(|f| f.members.clone()),
            focus_groups: None,
            folded: self.folded.clone(),
        };
        if self.key.as_ref() != Some(&key) {
            let narrow = Narrowing {
                options,
                filter: &self.filter,
                end_state: &self.end_state,
                focus: self.focus.as_ref().map(|f| &f.members[..]),
                folded: &self.folded,
            };
            let built = task_lanes(capture, &narrow);
            self.lanes = built.lanes;
            self.shown = built.shown;
            self.with_lanes = built.with_lanes;
            self.group_of_header = built.headers;
            self.overview_lanes = if built.folded_lanes.is_empty() {
                Vec::new()
            } else {
                self.lanes.iter().cloned().chain(built.folded_lanes).collect()
            };
            self.key = Some(key);
            self.state.select(None);
        }
        ui.label(
            RichText::new(format!(
                "{} of {} tasks{}",
                format::count(self.shown as u64),
                format::count(self.with_lanes as u64),
                if self.focus.is_some() { " (narrowed)" } else { "" }
            ))
            .weak(),
        );
        self.details_panel(ui, loaded, name, others, out);
        egui::CentralPanel::no_frame().show(ui, |ui| {
            if self.lanes.is_empty() {
                ui.weak("No task matches.");
                return;
            }
            if self.counters.as_ref().is_none_or(|(of, _)| *of != loaded.name) {
                self.counters = Some((loaded.name.clone(), CounterTracks::from_capture(capture)));
            }
            let tracks = self.counters.as_ref().map(|(_, t)| t).filter(|t| !t.is_empty());
            // The tracks' room is taken before the lanes and painted after them, with the zoom
            // the timeline settled on this frame, so both move together.
            let track_rect = tracks.map(|t| {
                let size = egui::vec2(ui.available_width(), t.height());
                ui.allocate_exact_size(size, egui::Sense::hover()).0
            });
            let overview = if self.overview_lanes.is_empty() { &self.lanes } else { &self.overview_lanes };
            let out = Timeline::new(capture, &self.lanes)
                .overview_lanes(overview)
                .label_width(LANE_LABEL_W)
                .accessible_name(name)
                .show(ui, &mut self.state);
            if let Some(hit) = out.clicked.filter(|h| h.task.is_none())
                && let Some((_, group)) = self.group_of_header.iter().find(|(lane, _)| *lane == hit.lane)
                && !self.folded.remove(group)
            {
                self.folded.insert(group.clone());
            }
            if let (Some(tracks), Some(rect)) = (tracks, track_rect) {
                let label_w = LANE_LABEL_W.min(rect.width() * 0.4);
                tracks.show(ui, rect, label_w, out.view_ns, name);
            }
        });
    }

    fn wait_ages_ui(&mut self, ui: &mut egui::Ui, loaded: &LoadedCapture, name: &str) {
        let Some(ages) = &loaded.wait_ages else {
            ui.weak("This capture has no goroutines with states to draw over time.");
            return;
        };
        let capture = &loaded.capture;
        // Wrapped to the pane: side by side in Compare, a long line would run into the other
        // pane's controls.
        ui.add(
            egui::Label::new(
                "A dump has no history: each bar is a group, reaching back as far as its oldest goroutine \
                 has waited (the runtime reports waits of a minute or more).",
            )
            .wrap(),
        );
        ui.horizontal(|ui| self.filter_ui(ui));
        let key = LanesKey {
            capture: loaded.name.clone(),
            tasks: capture.tasks.len(),
            options: TimelineOptions::default(),
            filter: self.filter.clone(),
            state: String::new(),
            focus: None,
            focus_groups: self.focus.as_ref().map(|f| f.groups.clone()),
            folded: BTreeSet::new(),
        };
        if self.key.as_ref() != Some(&key) {
            let matcher = self.filter.to_lowercase();
            let focus = self.focus.as_ref().map(|f| &f.groups[..]);
            let all = Lane::wait_age_lanes(capture, &loaded.groups, ages);
            // Groups that waited longest first: the oldest waits are the suspects.
            let mut order: Vec<usize> = (0..ages.lanes.len())
                .filter(|&i| {
                    let Some(lane) = ages.lanes.get(i) else { return false };
                    focus.is_none_or(|f| f.binary_search(&lane.group).is_ok())
                        && (matcher.is_empty()
                            || loaded.groups.get(lane.group).is_some_and(|g| {
                                capture.stack_funcs(g.stack).any(|f| f.to_lowercase().contains(&matcher))
                            }))
                })
                .collect();
            order.sort_by_key(|&i| std::cmp::Reverse(ages.lanes.get(i).map_or(0, |l| l.oldest_ns)));
            self.lanes = order.iter().filter_map(|&i| all.get(i).cloned()).collect();
            self.shown = self.lanes.len();
            self.key = Some(key);
        }
        ui.label(
            RichText::new(format!(
                "{} of {} groups",
                format::count(self.shown as u64),
                format::count(ages.lanes.len() as u64)
            ))
            .weak(),
        );
        egui::CentralPanel::no_frame().show(ui, |ui| {
            if self.lanes.is_empty() {
                ui.weak("No group matches.");
                return;
            }
            Timeline::wait_ages(capture, ages, &self.lanes).accessible_name(name).show(ui, &mut self.state);
        });
    }

    /// A choice of the states tasks ended in, the most common first, with their counts.
    fn end_state_ui(&mut self, ui: &mut egui::Ui, loaded: &LoadedCapture, pane: &str) {
        let capture = &loaded.capture;
        let key = (loaded.name.clone(), capture.tasks.len());
        if self.end_states.as_ref().is_none_or(|e| e.of != key) {
            // Counted once per capture: a trace can have a million tasks, and this runs every frame.
            // Lanes without a state (procs, the GC) are not offered: an empty choice means "any".
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for t in capture.tasks.iter().filter(|t| t.intervals.len > 0 && !t.state.is_empty()) {
                *counts.entry(capture.str(t.state)).or_default() += 1;
            }
            let mut states: Vec<(String, usize)> =
                counts.into_iter().map(|(s, n)| (s.to_owned(), n)).collect();
            states.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            self.end_states = Some(EndStates { of: key, states });
        }
        let states = self.end_states.as_ref().map_or(&[][..], |e| &e.states[..]);
        let shown = if self.end_state.is_empty() { "any" } else { self.end_state.as_str() };
        egui::ComboBox::from_id_salt(("timeline-end-state", pane))
            .selected_text(format!("State at end: {shown}"))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut self.end_state, String::new(), "any");
                for (state, n) in states {
                    let label = format!("{state} · {}", format::count(*n as u64));
                    ui.selectable_value(&mut self.end_state, state.clone(), label);
                }
            })
            .response
            .on_hover_text("Only tasks whose last state is this one");
    }

    fn filter_ui(&mut self, ui: &mut egui::Ui) {
        ui.separator();
        let edit = ui.add(
            egui::TextEdit::singleline(&mut self.filter)
                .hint_text("Filter by function (Ctrl+F)")
                .desired_width(240.0),
        );
        super::name_text_field(&edit, "Filter lanes by function", &self.filter);
        if std::mem::take(&mut self.focus_search) {
            edit.request_focus();
        }
        if ui.button("Reset zoom").on_hover_text("Show the whole time range (Esc)").clicked() {
            self.state.reset();
        }
    }

    /// The selected lane's task and interval, under the canvas.
    fn details_panel(
        &self,
        ui: &mut egui::Ui,
        loaded: &LoadedCapture,
        name: &str,
        others: &[(usize, &LoadedCapture)],
        out: &mut Vec<Command>,
    ) {
        let capture = &loaded.capture;
        let Some(hit) = self.state.selected() else {
            // Its own id: sharing the details panel's, its one line's height was remembered
            // as the details' size, and a selection's stack and args opened cut off.
            egui::Panel::bottom(ui.scope_id().with(("timeline-hint", name))).show(ui, |ui| {
                ui.weak("Click an interval to see its task and stack. Wheel zooms, drag pans, shift+drag zooms to a band, Esc resets.");
            });
            return;
        };
        let Some(task) = hit.task.and_then(|t| capture.tasks.get(t as usize)) else { return };
        let stack = hit.interval.and_then(|i| capture.intervals.get(i)).map_or(task.stack, |iv| iv.stack);
        let event = hit.interval.and_then(|i| self.event_of(loaded, i));
        // Tall enough for the whole stack (and the event's args) where the window allows: a
        // fixed 150 px cut the selected lane's stack off after four frames.
        let row = ui.text_style_height(&egui::TextStyle::Monospace) + ui.spacing().item_spacing.y;
        let lines =
            capture.tables.stack(stack).len() + 4 + event.as_ref().map_or(0, |e| e.lines().count() + 1);
        let wanted = row * lines as f32 + 16.0;
        let height = wanted.clamp(150.0, (ui.available_height() * 0.45).max(150.0));
        egui::Panel::bottom(ui.scope_id().with(("timeline-details", name)))
            .resizable(true)
            .default_size(height)
            // A panel keeps the size it had; a later selection with a longer stack or args
            // still gets room for its first lines (up to 30% of the view), then scrolls.
            .min_size(height.min((ui.available_height() * 0.3).max(150.0)))
            .show(ui, |ui| {
                egui::ScrollArea::vertical().id_salt("timeline-details-scroll").show(ui, |ui| {
                    ui.label(RichText::new(task_label(capture, hit.task.unwrap_or(0))).strong());
                    let mut line = format!("state at end: {}", capture.str(task.state));
                    if let Some(start) = task.start_ns.get() {
                        let _ = write!(line, " · started {}", time_since(capture, start));
                    }
                    match task.end_ns.get() {
                        Some(end) => {
                            let _ = write!(line, " · ended {}", time_since(capture, end));
                        }
                        None => line.push_str(" · still alive at the end"),
                    }
                    ui.label(line);
                    if task.kind == TaskKind::Goroutine {
                        same_goroutine_ui(ui, capture, &task, others, out);
                    }
                    if let Some(i) = hit.interval {
                        if let Some(iv) = capture.intervals.get(i) {
                            let (start, end, kind) = (iv.start_ns, iv.end_ns, iv.kind);
                            let label = capture.str(iv.label);
                            ui.label(format!(
                                "{}{}{} for {} from {}",
                                kind_name(kind),
                                if label.is_empty() { "" } else { ": " },
                                label,
                                format::duration_ns(end - start),
                                time_since(capture, start)
                            ));
                            stack_ui(ui, capture, iv.stack);
                            if let Some(args) = &event {
                                ui.label(RichText::new("args").strong());
                                ui.add(egui::Label::new(RichText::new(args).monospace()).wrap());
                            }
                        }
                    } else {
                        stack_ui(ui, capture, task.stack);
                    }
                });
            });
    }
}

impl TimelinePane {
    /// The `args` of the input event behind interval `interval` (Chrome traces keep an
    /// `EventRef` per interval), pretty-printed; `None` where there is no event or no args.
    fn event_of(&self, loaded: &LoadedCapture, interval: usize) -> Option<String> {
        let key = (loaded.name.clone(), interval);
        let mut cache = self.event.borrow_mut();
        if cache.as_ref().is_none_or(|(k, _)| *k != key) {
            let capture = &loaded.capture;
            let details = capture
                .chrome()
                .interval_events
                .get(interval)
                .filter(|e| !e.is_none())
                .and_then(|&e| event_details(capture, e));
            *cache = Some((key, details));
        }
        cache.as_ref().and_then(|(_, d)| d.as_ref()).and_then(|d| d.args.clone())
    }
}

/// Links to the same goroutine in the other open captures: the same id with the same creation
/// site (ids are reused only by different processes, so the site guards against a dump of
/// another run).
fn same_goroutine_ui(
    ui: &mut egui::Ui,
    capture: &Capture,
    task: &Task,
    others: &[(usize, &LoadedCapture)],
    out: &mut Vec<Command>,
) {
    let site = |c: &Capture, t: &Task| t.created_by.map(|f| c.func_name(f).to_owned());
    let here = site(capture, task);
    for &(index, other) in others {
        let Some(t) = other.task_by_id.get(&task.id).and_then(|&i| other.capture.tasks.get(i as usize))
        else {
            continue;
        };
        if here.is_some() && site(&other.capture, &t) != here {
            continue;
        }
        let state = other.capture.str(t.state);
        let wait = t.wait_ns.get().map(|w| format!(", {}", format::duration_ns(w))).unwrap_or_default();
        let text = format!("G{} in {}: {state}{wait} ▸", task.id, other.name);
        if super::nav_link(ui, &text, &format!("Show G{} in {}", task.id, other.name)).clicked() {
            out.push(Command::SelectCapture(index));
            out.push(Command::ShowGoroutine(task.id));
        }
    }
}

fn stack_ui(ui: &mut egui::Ui, capture: &Capture, stack: leakscope_core::model::StackId) {
    for &frame in capture.tables.stack(stack) {
        let f = capture.tables.frame(frame);
        let file = capture.str(f.file);
        let text = if file.is_empty() {
            capture.str(f.func).to_owned()
        } else {
            format!("{}  {}:{}", capture.str(f.func), file, f.line)
        };
        ui.monospace(text);
    }
}

fn time_since(capture: &Capture, at_ns: i64) -> String {
    let origin = capture.time_range_ns.map_or(0, |r| r.0);
    format!("at +{}", format::duration_ns(at_ns - origin))
}

/// "G42 main.worker", "thread 7 · CrBrowserMain", "PROMISE 1234".
fn task_label(capture: &Capture, task: u32) -> String {
    let Some(t) = capture.tasks.get(task as usize) else { return String::new() };
    let name = capture.str(t.name);
    let func = t
        .start_func
        .or(t.created_by)
        .map(|f| funcname::display_name(capture.func_name(f)).to_owned())
        .unwrap_or_default();
    match t.kind {
        TaskKind::Goroutine => {
            let what = if func.is_empty() { name.to_owned() } else { func };
            format!("G{} {what}", t.id)
        }
        // Procs and the GC: the name says it all (their ids are the runtime's, not the user's).
        TaskKind::Resource if !name.is_empty() => name.to_owned(),
        _ if !name.is_empty() => format!("{name} #{}", t.id),
        _ => format!("{:?} #{} {func}", t.kind, t.id),
    }
}

/// Whether the task's last top-level state is a wait it never left.
fn blocked_at_end(capture: &Capture, task: u32) -> bool {
    let Some(t) = capture.tasks.get(task as usize) else { return false };
    if t.end_ns.is_some() {
        return false;
    }
    let iv = &capture.intervals;
    (t.intervals.start..t.intervals.start + t.intervals.len)
        .rev()
        .map(|i| i as usize)
        .find(|&i| iv.depth(i) == 0)
        .map(|i| iv.kind(i))
        .is_some_and(|k| matches!(k, IntervalKind::Blocked | IntervalKind::Waiting | IntervalKind::Async))
}

/// Thresholds the lifetime filter offers: a leak hunt asks for the goroutines that lived long.
const LIFETIMES: [(i64, &str); 7] = [
    (0, "any"),
    (1_000_000, "1 ms"),
    (10_000_000, "10 ms"),
    (100_000_000, "100 ms"),
    (1_000_000_000, "1 s"),
    (10_000_000_000, "10 s"),
    (60_000_000_000, "1 min"),
];

fn lifetime_ui(ui: &mut egui::Ui, options: &mut TimelineOptions, pane: &str) {
    let current = LIFETIMES
        .iter()
        .find(|(ns, _)| *ns == options.min_lifetime_ns)
        .map_or_else(|| format::duration_ns(options.min_lifetime_ns), |(_, l)| (*l).to_owned());
    let text =
        if options.min_lifetime_ns == 0 { "Lived: any".to_owned() } else { format!("Lived ≥ {current}") };
    egui::ComboBox::from_id_salt(("timeline-lifetime", pane))
        .selected_text(text)
        .show_ui(ui, |ui| {
            for (ns, label) in LIFETIMES {
                let label = if ns == 0 { label.to_owned() } else { format!("at least {label}") };
                ui.selectable_value(&mut options.min_lifetime_ns, ns, label);
            }
        })
        .response
        .on_hover_text(
            "Only tasks the capture saw live at least this long: from their creation (or the start of the \
             capture) to their end (or the end of the capture)",
        );
}

/// How long the capture saw a task live: from its creation, or the capture's start if earlier
/// or unknown, to its end, or the capture's end.
fn lifetime_ns(capture: &Capture, task: &Task) -> i64 {
    let (first, last) = capture.time_range_ns.unwrap_or((0, 0));
    let from = task.start_ns.get().map_or(first, |s| s.max(first));
    let to = task.end_ns.get().unwrap_or(last);
    to.saturating_sub(from)
}

/// What narrows the lanes.
struct Narrowing<'a> {
    options: &'a TimelineOptions,
    /// Text a lane's label or stack must contain.
    filter: &'a str,
    /// The state at the end the tasks must have; empty for any.
    end_state: &'a str,
    focus: Option<&'a [u32]>,
    /// The groups whose lanes are left out under their header.
    folded: &'a BTreeSet<String>,
}

/// The lanes for the narrowing, as [`task_lanes`] builds them.
struct TaskLanes {
    lanes: Vec<Lane>,
    /// How many tasks pass the narrowing (folded ones included).
    shown: usize,
    /// How many tasks have intervals, and so a lane, before narrowing.
    with_lanes: usize,
    /// Each header's lane index and group name.
    headers: Vec<(usize, String)>,
    /// The lanes of the folded groups, left out of `lanes`.
    folded_lanes: Vec<Lane>,
}

/// The lanes for the options, and how many tasks they show.
fn task_lanes(capture: &Capture, narrow: &Narrowing<'_>) -> TaskLanes {
    let Narrowing { options, filter, end_state, focus, folded } = *narrow;
    let needle = filter.to_lowercase();
    let mut with_lanes = 0;
    // In order, as the task table reads fastest.
    let tasks: Vec<u32> = (0..capture.tasks.len() as u32)
        .zip(capture.tasks.iter())
        .filter(|(_, task)| task.intervals.len > 0)
        .inspect(|_| with_lanes += 1)
        .filter(|&(t, ref task)| {
            focus.is_none_or(|f| f.binary_search(&t).is_ok())
                && (!options.only_blocked || blocked_at_end(capture, t))
                && (!options.only_alive || task.end_ns.is_none())
                && (end_state.is_empty() || capture.str(task.state) == end_state)
                && (options.min_lifetime_ns <= 0 || lifetime_ns(capture, task) >= options.min_lifetime_ns)
                && (needle.is_empty()
                    || task_label(capture, t).to_lowercase().contains(&needle)
                    || capture.stack_funcs(task.stack).any(|f| f.to_lowercase().contains(&needle)))
        })
        .map(|(t, _)| t)
        .collect();
    let shown = tasks.len();
    let lane = |t: u32| Lane::task(capture, t, task_label(capture, t));
    let mut headers = Vec::new();
    let mut folded_lanes = Vec::new();
    let lanes = match options.grouping {
        LaneGrouping::None => tasks.into_iter().map(lane).collect(),
        LaneGrouping::CreatedBy | LaneGrouping::State => {
            let mut groups: BTreeMap<String, Vec<u32>> = BTreeMap::new();
            for t in tasks {
                let Some(task) = capture.tasks.get(t as usize) else { continue };
                let title = if options.grouping == LaneGrouping::State {
                    capture.str(task.state).to_owned()
                } else {
                    match task.kind {
                        TaskKind::Goroutine => task.created_by.map_or_else(
                            || "created before the trace or by the runtime".to_owned(),
                            |f| format!("created by {}", funcname::display_name(capture.func_name(f))),
                        ),
                        kind => format!("{kind:?}"),
                    }
                };
                groups.entry(title).or_default().push(t);
            }
            // The biggest groups first: a leak is a crowd.
            let mut groups: Vec<(String, Vec<u32>)> = groups.into_iter().collect();
            groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
            let mut out = Vec::new();
            for (title, members) in groups {
                let fold = folded.contains(&title);
                let count = format::count(members.len() as u64);
                headers.push((out.len(), title.clone()));
                out.push(Lane::group_header(format!("{title} · {count}"), fold));
                if fold {
                    folded_lanes.extend(members.into_iter().map(lane));
                } else {
                    out.extend(members.into_iter().map(lane));
                }
            }
            out
        }
    };
    TaskLanes { lanes, shown, with_lanes, headers, folded_lanes }
}

impl TimelineView {
    /// Narrows the lanes to the focus.
    pub fn on_focus(&mut self, focus: Option<&Focus>) {
        self.pane.focus = focus.cloned();
    }

    /// Draws the view.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let Some(loaded) = ctx.ws.active() else { return };
        if ui.input_mut(|i| i.consume_shortcut(&SHORTCUT_SEARCH)) {
            self.pane.focus_search = true;
        }
        if self.pane.focus.as_ref().is_some_and(|f| f.capture != ctx.ws.active) {
            self.pane.focus = None;
        }
        let name = format!("Timeline of {}", loaded.name);
        let others: Vec<(usize, &LoadedCapture)> =
            ctx.ws.captures().iter().enumerate().filter(|(i, _)| *i != ctx.ws.active).collect();
        let mut out = Vec::new();
        self.pane.capture_ui_linked(ui, loaded, &name, &mut ctx.state.timeline, &others, &mut out);
        for c in out {
            ctx.commands.send(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use leakscope_core::model::{
        FormatKind, Interval, IntervalRange, IntervalsBuilder, OptNs, StackId, StrId,
    };

    use super::*;

    /// A test task: (id, start, end, state at end, its one interval).
    type Spec = (u64, Option<i64>, Option<i64>, StrId, (i64, i64, IntervalKind));

    /// A trace from 0 to 10 s with three goroutines: G1 ran all through and ended blocked on a
    /// channel, G2 lived 5 ms and ended, G3 began at 9.5 s and ended in a select.
    fn capture() -> Capture {
        let mut c = Capture::new("t", FormatKind::GoExecutionTrace);
        let chan = c.strings.intern("chan receive");
        let select = c.strings.intern("select");
        let ended = c.strings.intern("ended");
        let mut iv = IntervalsBuilder::new(0);
        let s = 1_000_000_000;
        let tasks: [Spec; 3] = [
            (1, None, None, chan, (0, 10 * s, IntervalKind::Blocked)),
            (2, Some(s), Some(s + 5_000_000), ended, (s, s + 5_000_000, IntervalKind::Running)),
            (3, Some(9 * s + s / 2), None, select, (9 * s + s / 2, 10 * s, IntervalKind::Blocked)),
        ];
        for (id, start, end, state, (from, to, kind)) in tasks {
            let first = iv.len() as u32;
            iv.push_interval(Interval {
                start_ns: from,
                end_ns: to,
                kind,
                label: StrId::EMPTY,
                stack: StackId::EMPTY,
                depth: 0,
            });
            c.tasks.push(Task {
                id,
                state,
                start_ns: OptNs::from(start),
                end_ns: OptNs::from(end),
                intervals: IntervalRange { start: first, len: 1 },
                ..Task::default()
            });
        }
        c.intervals = iv.finish();
        c.time_range_ns = Some((0, 10 * s));
        c
    }

    fn shown(c: &Capture, options: &TimelineOptions, end_state: &str) -> Vec<u64> {
        let folded = BTreeSet::new();
        let narrow = Narrowing { options, filter: "", end_state, focus: None, folded: &folded };
        task_lanes(c, &narrow)
            .lanes
            .iter()
            .filter_map(|l| match l {
                Lane::Rows { task: Some(t), .. } => Some(c.tasks.at(*t as usize).id),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn lanes_narrow_to_a_state_at_the_end_and_a_lifetime() {
        let c = capture();
        let any = TimelineOptions::default();
        assert_eq!(shown(&c, &any, ""), [1, 2, 3]);
        assert_eq!(shown(&c, &any, "select"), [3]);
        assert_eq!(shown(&c, &any, "running"), Vec::<u64>::new());
        let long = TimelineOptions { min_lifetime_ns: 100_000_000, ..TimelineOptions::default() };
        // G2 lived 5 ms; G1 lived the whole trace (from its start: it existed before it).
        assert_eq!(shown(&c, &long, ""), [1, 3]);
        let second = TimelineOptions { min_lifetime_ns: 1_000_000_000, ..TimelineOptions::default() };
        assert_eq!(shown(&c, &second, ""), [1]);
        assert_eq!(shown(&c, &second, "chan receive"), [1]);
    }

    #[test]
    fn a_folded_group_keeps_its_header_and_leaves_its_lanes_out() {
        let c = capture();
        let options = TimelineOptions { grouping: LaneGrouping::State, ..TimelineOptions::default() };
        let open = BTreeSet::new();
        let narrow = Narrowing { options: &options, filter: "", end_state: "", focus: None, folded: &open };
        let all = task_lanes(&c, &narrow);
        assert_eq!(all.lanes.len(), 6, "three headers, three lanes");
        let names: Vec<&str> = all.headers.iter().map(|(_, g)| g.as_str()).collect();
        assert_eq!(names, ["chan receive", "ended", "select"]);
        let folded: BTreeSet<String> = ["ended".to_owned()].into();
        let narrow = Narrowing { folded: &folded, ..narrow };
        let some = task_lanes(&c, &narrow);
        assert_eq!(some.lanes.len(), 5);
        assert_eq!(some.shown, 3, "a folded task still counts as shown");
        assert_eq!(some.folded_lanes.len(), 1, "kept for the overview");
        let (at, _) = some.headers.iter().find(|(_, g)| g == "ended").unwrap();
        assert!(matches!(&some.lanes[*at], Lane::Header { folded: Some(true), .. }));
        // The header after the folded one follows it directly.
        assert!(matches!(&some.lanes[*at + 1], Lane::Header { folded: Some(false), .. }));
    }

    #[test]
    fn a_chrome_events_args_are_shown_for_its_interval() {
        let text = br#"{"traceEvents":[{"ph":"X","pid":1,"tid":1,"ts":1,"dur":2,"cat":"c","name":"a","args":{"url":"https://x/y","n":3}}]}"#;
        let caps = leakscope_core::open_bytes(
            "t.json",
            leakscope_core::Bytes::Owned(text.to_vec()),
            &leakscope_core::LoadOptions::default(),
            &leakscope_core::Progress::new(),
        )
        .unwrap();
        let cap = caps.into_iter().next().unwrap();
        let loaded = LoadedCapture::new(
            cap,
            0,
            false,
            std::time::Duration::ZERO,
            leakscope_core::session::Purpose::Views,
        );
        let pane = TimelinePane::default();
        let args = pane.event_of(&loaded, 0).expect("the span's args");
        assert!(args.contains("\"url\": \"https://x/y\""), "{args}");
        // Asked again for the same interval, the cached answer is the same.
        assert_eq!(pane.event_of(&loaded, 0).as_deref(), Some(args.as_str()));
        assert_eq!(pane.event_of(&loaded, 99), None);
    }
}
