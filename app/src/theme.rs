//! Every colour the app paints with, in a dark and a light palette. Views and widgets never
//! write a colour literal: they ask the palette for a meaning (a severity, a wait, growth, a
//! flame frame, a timeline state), so the two themes stay consistent and a colour changes in one
//! place.
//!
//! The flame and timeline colours are chosen so that dark text stays readable on every frame in
//! both themes, and so that the state colours keep the conventions Go engineers know from
//! `go tool trace` and gotraceui (running green, runnable yellow, blocked red, syscall purple).

use egui::Color32;
use leakscope_core::model::{IntervalKind, LinkKind, WaitKind};

use crate::state::ThemeChoice;

/// Colours by meaning, for one theme.
#[derive(Clone, Debug, PartialEq)]
pub struct Palette {
    /// Whether this is the dark palette.
    pub dark: bool,
    /// Proven leaks: the runtime or the code shape leaves no doubt.
    pub severity_proven: Color32,
    /// Likely leaks.
    pub severity_likely: Color32,
    /// Possible leaks.
    pub severity_possible: Color32,
    /// Warnings that are not leaks (pile-ups, contention).
    pub severity_warning: Color32,
    /// A group that grew between captures.
    pub grew: Color32,
    /// A group that shrank.
    pub shrank: Color32,
    /// A group only in the later capture.
    pub new: Color32,
    /// A group only in the earlier capture.
    pub gone: Color32,
    /// Unchanged between captures.
    pub unchanged: Color32,
    /// Orphans: goroutines whose creator is gone.
    pub orphan: Color32,
    /// Background tint of rows that belong to an orphan's subtree.
    pub orphan_tint: Color32,
    /// Text that matters less (file paths, hints).
    pub muted: Color32,
    /// Clickable text that navigates.
    pub link: Color32,
    /// Search matches.
    pub search_match: Color32,
    /// Error text.
    pub error: Color32,
    /// Error panel background.
    pub error_fill: Color32,
    /// Warning text.
    pub warning: Color32,
    /// Background of a selected or focused item.
    pub selection_fill: Color32,
    /// Badge background on flamegraph frames that belong to a finding.
    pub badge_fill: Color32,
    /// Badge text.
    pub badge_text: Color32,
    /// Card (finding) background.
    pub card_fill: Color32,
    /// Card border.
    pub card_stroke: Color32,
    /// Bars of small charts.
    pub chart_bar: Color32,
    /// Highlighted bars of small charts.
    pub chart_highlight: Color32,
    /// Progress bar fill.
    pub progress: Color32,
}

/// The dark palette.
pub const DARK: Palette = Palette {
    dark: true,
    severity_proven: Color32::from_rgb(0xf2, 0x5f, 0x5c),
    severity_likely: Color32::from_rgb(0xf5, 0x9e, 0x42),
    severity_possible: Color32::from_rgb(0xe8, 0xcf, 0x5a),
    severity_warning: Color32::from_rgb(0x7f, 0xa7, 0xd9),
    grew: Color32::from_rgb(0xe8, 0x5d, 0x5d),
    shrank: Color32::from_rgb(0x5d, 0xb3, 0x7e),
    new: Color32::from_rgb(0xd9, 0x4f, 0xa8),
    gone: Color32::from_rgb(0x6f, 0x9b, 0xc9),
    unchanged: Color32::from_rgb(0x8a, 0x8f, 0x98),
    orphan: Color32::from_rgb(0xf0, 0xa0, 0x3c),
    orphan_tint: Color32::from_rgba_premultiplied(0x3a, 0x28, 0x0c, 0x60),
    muted: Color32::from_rgb(0x9a, 0xa0, 0xa8),
    link: Color32::from_rgb(0x6c, 0xb6, 0xff),
    search_match: Color32::from_rgb(0xff, 0xd8, 0x4d),
    error: Color32::from_rgb(0xff, 0x8a, 0x80),
    error_fill: Color32::from_rgb(0x3d, 0x1c, 0x1c),
    warning: Color32::from_rgb(0xf5, 0xc2, 0x5c),
    selection_fill: Color32::from_rgb(0x24, 0x3b, 0x57),
    badge_fill: Color32::from_rgb(0xc9, 0x3c, 0x3c),
    badge_text: Color32::WHITE,
    card_fill: Color32::from_rgb(0x22, 0x24, 0x28),
    card_stroke: Color32::from_rgb(0x3a, 0x3e, 0x45),
    chart_bar: Color32::from_rgb(0x5b, 0x8d, 0xc9),
    chart_highlight: Color32::from_rgb(0xf5, 0x9e, 0x42),
    progress: Color32::from_rgb(0x4a, 0x90, 0xe2),
};

/// The light palette.
pub const LIGHT: Palette = Palette {
    dark: false,
    severity_proven: Color32::from_rgb(0xc6, 0x28, 0x28),
    severity_likely: Color32::from_rgb(0xc4, 0x62, 0x00),
    severity_possible: Color32::from_rgb(0x8d, 0x76, 0x00),
    severity_warning: Color32::from_rgb(0x2f, 0x5f, 0x9e),
    grew: Color32::from_rgb(0xc6, 0x28, 0x28),
    shrank: Color32::from_rgb(0x2e, 0x7d, 0x32),
    new: Color32::from_rgb(0xad, 0x14, 0x57),
    gone: Color32::from_rgb(0x1f, 0x5f, 0xa8),
    unchanged: Color32::from_rgb(0x75, 0x75, 0x75),
    orphan: Color32::from_rgb(0xb3, 0x5c, 0x00),
    orphan_tint: Color32::from_rgba_premultiplied(0x50, 0x38, 0x10, 0x28),
    muted: Color32::from_rgb(0x5f, 0x63, 0x68),
    link: Color32::from_rgb(0x0b, 0x5c, 0xc4),
    search_match: Color32::from_rgb(0xff, 0xc1, 0x07),
    error: Color32::from_rgb(0xb7, 0x1c, 0x1c),
    error_fill: Color32::from_rgb(0xfd, 0xec, 0xea),
    warning: Color32::from_rgb(0x8a, 0x5a, 0x00),
    selection_fill: Color32::from_rgb(0xd6, 0xe6, 0xfa),
    badge_fill: Color32::from_rgb(0xc6, 0x28, 0x28),
    badge_text: Color32::WHITE,
    card_fill: Color32::from_rgb(0xfa, 0xfa, 0xfb),
    card_stroke: Color32::from_rgb(0xd8, 0xdb, 0xe0),
    chart_bar: Color32::from_rgb(0x3f, 0x73, 0xb5),
    chart_highlight: Color32::from_rgb(0xd9, 0x6a, 0x00),
    progress: Color32::from_rgb(0x1e, 0x6f, 0xd9),
};

impl Palette {
    /// The palette for the theme the UI is in.
    pub fn of(ui: &egui::Ui) -> &'static Palette {
        Self::for_dark_mode(ui.visuals().dark_mode)
    }

    /// The palette for dark or light mode.
    pub fn for_dark_mode(dark: bool) -> &'static Palette {
        if dark { &DARK } else { &LIGHT }
    }

    /// Colour of a wait, shared by tables, charts and the timeline legend.
    pub fn wait_kind(&self, kind: WaitKind) -> Color32 {
        let (dark, light) = match kind {
            WaitKind::ChanReceive => ((0x5b, 0x8d, 0xef), (0x1e, 0x5a, 0xc8)),
            WaitKind::ChanSend => ((0x4f, 0xc1, 0xc9), (0x00, 0x83, 0x8f)),
            WaitKind::Select => ((0xa8, 0x7b, 0xe8), (0x6a, 0x3d, 0xb0)),
            WaitKind::Sleep => ((0x8f, 0xa3, 0xbf), (0x54, 0x6e, 0x8f)),
            WaitKind::Io => ((0x6c, 0xc2, 0x7d), (0x2e, 0x7d, 0x32)),
            WaitKind::Sync => ((0xf0, 0x8c, 0x4b), (0xc4, 0x4f, 0x00)),
            WaitKind::Syscall => ((0xe3, 0xc5, 0x4f), (0x9c, 0x7a, 0x00)),
            WaitKind::Running => ((0x9c, 0xdc, 0x5a), (0x55, 0x8b, 0x2f)),
            WaitKind::Runnable => ((0xc5, 0xe1, 0xa5), (0x7c, 0xa3, 0x4a)),
            WaitKind::Other => ((0x9e, 0x9e, 0x9e), (0x75, 0x75, 0x75)),
        };
        let (r, g, b) = if self.dark { dark } else { light };
        Color32::from_rgb(r, g, b)
    }

    /// Colour of a category named `name` (a pprof label's value): one of ten hues told apart in
    /// both themes, picked by a hash of the name, so a value keeps its colour across captures
    /// and sessions (`route=/export` is the same colour in the before and the after).
    pub fn category(&self, name: &str) -> Color32 {
        const DARK_HUES: [(u8, u8, u8); 10] = [
            (0x5b, 0x9b, 0xd5),
            (0xed, 0x7d, 0x31),
            (0x70, 0xad, 0x47),
            (0xc5, 0x5a, 0x9f),
            (0x4f, 0xc1, 0xc9),
            (0xe0, 0xc1, 0x4b),
            (0x9e, 0x80, 0xe0),
            (0xe8, 0x6a, 0x6a),
            (0x8c, 0xb8, 0x8a),
            (0xc0, 0x9a, 0x6b),
        ];
        const LIGHT_HUES: [(u8, u8, u8); 10] = [
            (0x1f, 0x5f, 0xa8),
            (0xc2, 0x56, 0x0a),
            (0x3b, 0x7a, 0x1e),
            (0x9a, 0x2f, 0x78),
            (0x00, 0x7f, 0x89),
            (0x8a, 0x6d, 0x00),
            (0x5e, 0x3f, 0xb0),
            (0xb8, 0x2c, 0x2c),
            (0x4a, 0x73, 0x48),
            (0x7d, 0x58, 0x2c),
        ];
        // FNV-1a: stable across runs and platforms, unlike the std hasher's random keys.
        let hash = name
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        let hues = if self.dark { &DARK_HUES } else { &LIGHT_HUES };
        let (r, g, b) = hues.get((hash % hues.len() as u64) as usize).copied().unwrap_or((0x80, 0x80, 0x80));
        Color32::from_rgb(r, g, b)
    }
}

/// Sets up the fonts: egui's defaults, with the monospace face (Hack) as a fallback for
/// proportional text, so the arrows and shapes the views use (▶ ▼ ● → ■) have a glyph without
/// shipping an emoji font.
pub fn install_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    if let Some(proportional) = fonts.families.get_mut(&egui::FontFamily::Proportional)
        && !proportional.iter().any(|f| f == "Hack")
    {
        // After the text face, before the icon fallbacks.
        let at = proportional.iter().position(|f| f == "Ubuntu-Light").map_or(0, |i| i + 1);
        proportional.insert(at, "Hack".to_owned());
    }
    ctx.set_fonts(fonts);
}

/// Applies the theme choice to the context: follow the system, or force one.
pub fn apply(ctx: &egui::Context, choice: ThemeChoice) {
    let preference = match choice {
        ThemeChoice::System => egui::ThemePreference::System,
        ThemeChoice::Dark => egui::ThemePreference::Dark,
        ThemeChoice::Light => egui::ThemePreference::Light,
    };
    ctx.options_mut(|o| {
        if o.theme_preference != preference {
            o.theme_preference = preference;
        }
    });
}

/// Colours of the flamegraph.
#[derive(Clone, Debug, PartialEq)]
pub struct FlamePalette {
    /// Canvas background.
    pub background: Color32,
    /// Frames of user code (`main`, module paths): warm shades, one per package.
    pub user: [Color32; 6],
    /// Frames of the standard library outside the runtime: teal shades.
    pub stdlib: [Color32; 6],
    /// Frames of the runtime's own machinery: slate shades.
    pub runtime: [Color32; 4],
    /// The root frame ("all").
    pub root: Color32,
    /// Label text on frames.
    pub text: Color32,
    /// Label text on the few frame colours too dark for [`FlamePalette::text`].
    pub text_light: Color32,
    /// Frames that match the search.
    pub search_match: Color32,
    /// Frames that don't match while a search is active: the frame colour fades toward this.
    pub search_dim: Color32,
    /// Runs of frames narrower than a pixel, merged.
    pub thin: Color32,
    /// Outline of the hovered frame.
    pub hover_outline: Color32,
    /// Badge (leak finding) fill.
    pub badge_fill: Color32,
    /// Badge text.
    pub badge_text: Color32,
    /// Diff: a frame whose value grew; the shade deepens with the growth.
    pub diff_grew: Color32,
    /// Diff: a frame whose value shrank.
    pub diff_shrank: Color32,
    /// Diff: a frame only in the newer capture.
    pub diff_new: Color32,
    /// Diff: a frame only in the baseline.
    pub diff_gone: Color32,
    /// Diff: a frame with the same value on both sides.
    pub diff_same: Color32,
}

/// Colours of the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelinePalette {
    /// Canvas background.
    pub background: Color32,
    /// Every other lane, for the eye to follow a row.
    pub lane_stripe: Color32,
    /// Group header rows.
    pub header_fill: Color32,
    /// Group header text.
    pub header_text: Color32,
    /// Lane label text.
    pub label_text: Color32,
    /// Background of the lane-label column.
    pub label_fill: Color32,
    /// Axis text and ticks.
    pub axis_text: Color32,
    /// Vertical grid lines.
    pub grid: Color32,
    /// The hovered or selected lane's highlight.
    pub lane_highlight: Color32,
    /// Outline of the selected interval.
    pub selection_outline: Color32,
    /// Zoom-to-selection band.
    pub band: Color32,
    /// A marker line at a notable time (capture time of a dump).
    pub marker: Color32,
    /// Text drawn on intervals wide enough to be labelled.
    pub interval_text: Color32,
    /// State colours, indexed by [`IntervalKind`] (see [`TimelinePalette::kind`]).
    pub kinds: [Color32; 8],
    /// Link colours: create, unblock, flow.
    pub links: [Color32; 3],
}

impl FlamePalette {
    /// The flamegraph palette matching the current visuals (dark or light).
    pub fn of(ui: &egui::Ui) -> &'static FlamePalette {
        if ui.visuals().dark_mode { &FLAME_DARK } else { &FLAME_LIGHT }
    }

    /// The label colour readable on `fill`: dark text, unless the fill is too dark for it.
    pub fn text_on(&self, fill: Color32) -> Color32 {
        if luminance(fill) > 0.2 { self.text } else { self.text_light }
    }
}

impl TimelinePalette {
    /// The timeline palette matching the current visuals (dark or light).
    pub fn of(ui: &egui::Ui) -> &'static TimelinePalette {
        if ui.visuals().dark_mode { &TIMELINE_DARK } else { &TIMELINE_LIGHT }
    }

    /// The colour of an interval state.
    pub fn kind(&self, kind: IntervalKind) -> Color32 {
        let i = match kind {
            IntervalKind::Running => 0,
            IntervalKind::Runnable => 1,
            IntervalKind::Blocked => 2,
            IntervalKind::Syscall => 3,
            IntervalKind::Span => 4,
            IntervalKind::Async => 5,
            IntervalKind::Waiting => 6,
            IntervalKind::Gc => 7,
        };
        self.kinds.get(i).copied().unwrap_or(Color32::GRAY)
    }

    /// The colour of a link arrow.
    pub fn link(&self, kind: LinkKind) -> Color32 {
        let i = match kind {
            LinkKind::Create => 0,
            LinkKind::Unblock => 1,
            LinkKind::Flow => 2,
        };
        self.links.get(i).copied().unwrap_or(Color32::GRAY)
    }
}

/// Flamegraph colours, dark theme.
pub const FLAME_DARK: FlamePalette = FlamePalette {
    background: Color32::from_rgb(0x1b, 0x1d, 0x21),
    user: [
        Color32::from_rgb(0xe8, 0x8a, 0x4f),
        Color32::from_rgb(0xe0, 0x71, 0x5a),
        Color32::from_rgb(0xe6, 0xa0, 0x4a),
        Color32::from_rgb(0xd9, 0x7b, 0x3c),
        Color32::from_rgb(0xe2, 0xb0, 0x5c),
        Color32::from_rgb(0xd6, 0x66, 0x4e),
    ],
    stdlib: [
        Color32::from_rgb(0x4f, 0xb3, 0xa9),
        Color32::from_rgb(0x5f, 0xa8, 0xc4),
        Color32::from_rgb(0x62, 0xbd, 0x95),
        Color32::from_rgb(0x48, 0xa0, 0xb0),
        Color32::from_rgb(0x78, 0xb8, 0xb0),
        Color32::from_rgb(0x58, 0x9e, 0xd0),
    ],
    runtime: [
        Color32::from_rgb(0x8c, 0x96, 0xab),
        Color32::from_rgb(0x9a, 0x9f, 0xb8),
        Color32::from_rgb(0x81, 0x8d, 0xa3),
        Color32::from_rgb(0xa3, 0xa8, 0xbb),
    ],
    root: Color32::from_rgb(0x9b, 0x8f, 0x86),
    text: Color32::from_rgb(0x14, 0x14, 0x16),
    text_light: Color32::from_rgb(0xfa, 0xfa, 0xfa),
    search_match: Color32::from_rgb(0xd9, 0x6c, 0xe8),
    search_dim: Color32::from_rgb(0x3a, 0x3c, 0x42),
    thin: Color32::from_rgb(0x6b, 0x6f, 0x78),
    hover_outline: Color32::from_rgb(0xf5, 0xf5, 0xf5),
    badge_fill: Color32::from_rgb(0xc6, 0x28, 0x28),
    badge_text: Color32::from_rgb(0xff, 0xff, 0xff),
    diff_grew: Color32::from_rgb(0xe8, 0x5d, 0x5d),
    diff_shrank: Color32::from_rgb(0x5d, 0xb3, 0x7e),
    diff_new: Color32::from_rgb(0xd9, 0x4f, 0xa8),
    diff_gone: Color32::from_rgb(0x6f, 0x9b, 0xc9),
    diff_same: Color32::from_rgb(0xa8, 0xa2, 0x98),
};

/// Timeline colours, dark theme.
pub const TIMELINE_DARK: TimelinePalette = TimelinePalette {
    background: Color32::from_rgb(0x1b, 0x1d, 0x21),
    lane_stripe: Color32::from_rgb(0x22, 0x25, 0x2a),
    header_fill: Color32::from_rgb(0x2c, 0x30, 0x37),
    header_text: Color32::from_rgb(0xe6, 0xe6, 0xe6),
    label_text: Color32::from_rgb(0xc8, 0xc8, 0xc8),
    label_fill: Color32::from_rgb(0x20, 0x22, 0x27),
    axis_text: Color32::from_rgb(0xa8, 0xa8, 0xa8),
    grid: Color32::from_rgb(0x30, 0x33, 0x3a),
    lane_highlight: Color32::from_rgba_premultiplied(0x30, 0x38, 0x48, 0x60),
    selection_outline: Color32::from_rgb(0xff, 0xff, 0xff),
    band: Color32::from_rgba_premultiplied(0x2a, 0x4a, 0x70, 0x50),
    marker: Color32::from_rgb(0xf0, 0x6a, 0x6a),
    interval_text: Color32::from_rgb(0x14, 0x14, 0x16),
    kinds: [
        Color32::from_rgb(0x5c, 0xc0, 0x6c), // running
        Color32::from_rgb(0xe3, 0xc8, 0x4e), // runnable
        Color32::from_rgb(0xe0, 0x6c, 0x62), // blocked
        Color32::from_rgb(0xa7, 0x86, 0xe0), // syscall
        Color32::from_rgb(0x6a, 0xa4, 0xe0), // span
        Color32::from_rgb(0x4f, 0xc1, 0xc1), // async
        Color32::from_rgb(0xe8, 0x8c, 0x4a), // waiting (dump age)
        Color32::from_rgb(0xc9, 0x9a, 0x5b), // gc
    ],
    links: [
        Color32::from_rgb(0x7c, 0xb7, 0xff), // create
        Color32::from_rgb(0x8c, 0xe0, 0x8c), // unblock
        Color32::from_rgb(0xe0, 0x9c, 0xf0), // flow
    ],
};

/// Flamegraph colours, light theme.
pub const FLAME_LIGHT: FlamePalette = FlamePalette {
    background: Color32::from_rgb(0xfb, 0xfa, 0xf8),
    user: [
        Color32::from_rgb(0xf6, 0xa5, 0x6e),
        Color32::from_rgb(0xf0, 0x8e, 0x78),
        Color32::from_rgb(0xf7, 0xbd, 0x6a),
        Color32::from_rgb(0xee, 0x9a, 0x5c),
        Color32::from_rgb(0xf5, 0xcb, 0x7e),
        Color32::from_rgb(0xea, 0x85, 0x6e),
    ],
    stdlib: [
        Color32::from_rgb(0x86, 0xd0, 0xc6),
        Color32::from_rgb(0x94, 0xc6, 0xdc),
        Color32::from_rgb(0x96, 0xd8, 0xb4),
        Color32::from_rgb(0x7c, 0xbf, 0xcb),
        Color32::from_rgb(0xa8, 0xd6, 0xcf),
        Color32::from_rgb(0x8e, 0xbc, 0xe6),
    ],
    runtime: [
        Color32::from_rgb(0xbf, 0xc6, 0xd4),
        Color32::from_rgb(0xc9, 0xcd, 0xdc),
        Color32::from_rgb(0xb4, 0xbd, 0xcc),
        Color32::from_rgb(0xd2, 0xd6, 0xe0),
    ],
    root: Color32::from_rgb(0xcf, 0xc6, 0xbe),
    text: Color32::from_rgb(0x1a, 0x1a, 0x1a),
    text_light: Color32::from_rgb(0xfa, 0xfa, 0xfa),
    search_match: Color32::from_rgb(0xe0, 0x86, 0xee),
    search_dim: Color32::from_rgb(0xe6, 0xe4, 0xe0),
    thin: Color32::from_rgb(0xb8, 0xb4, 0xae),
    hover_outline: Color32::from_rgb(0x10, 0x10, 0x10),
    badge_fill: Color32::from_rgb(0xc6, 0x28, 0x28),
    badge_text: Color32::from_rgb(0xff, 0xff, 0xff),
    diff_grew: Color32::from_rgb(0xf0, 0x80, 0x80),
    diff_shrank: Color32::from_rgb(0x8c, 0xcf, 0x9a),
    diff_new: Color32::from_rgb(0xe8, 0x7c, 0xc4),
    diff_gone: Color32::from_rgb(0x9c, 0xbe, 0xe6),
    diff_same: Color32::from_rgb(0xd6, 0xd0, 0xc6),
};

/// Timeline colours, light theme.
pub const TIMELINE_LIGHT: TimelinePalette = TimelinePalette {
    background: Color32::from_rgb(0xfb, 0xfa, 0xf8),
    lane_stripe: Color32::from_rgb(0xf1, 0xf0, 0xed),
    header_fill: Color32::from_rgb(0xe2, 0xe4, 0xe9),
    header_text: Color32::from_rgb(0x1a, 0x1a, 0x1a),
    label_text: Color32::from_rgb(0x30, 0x30, 0x30),
    label_fill: Color32::from_rgb(0xf4, 0xf3, 0xf1),
    axis_text: Color32::from_rgb(0x50, 0x50, 0x50),
    grid: Color32::from_rgb(0xe0, 0xde, 0xda),
    lane_highlight: Color32::from_rgba_premultiplied(0x50, 0x78, 0xc0, 0x30),
    selection_outline: Color32::from_rgb(0x10, 0x10, 0x10),
    band: Color32::from_rgba_premultiplied(0x40, 0x70, 0xc0, 0x40),
    marker: Color32::from_rgb(0xc8, 0x30, 0x30),
    interval_text: Color32::from_rgb(0x1a, 0x1a, 0x1a),
    kinds: [
        Color32::from_rgb(0x6c, 0xc8, 0x7a), // running
        Color32::from_rgb(0xee, 0xd2, 0x5e), // runnable
        Color32::from_rgb(0xee, 0x84, 0x7a), // blocked
        Color32::from_rgb(0xb8, 0x9c, 0xee), // syscall
        Color32::from_rgb(0x84, 0xb6, 0xee), // span
        Color32::from_rgb(0x6c, 0xd0, 0xd0), // async
        Color32::from_rgb(0xf2, 0xa0, 0x62), // waiting (dump age)
        Color32::from_rgb(0xd8, 0xae, 0x76), // gc
    ],
    links: [
        Color32::from_rgb(0x1f, 0x6f, 0xd0), // create
        Color32::from_rgb(0x2e, 0x9a, 0x3e), // unblock
        Color32::from_rgb(0xa0, 0x3c, 0xc0), // flow
    ],
};

/// Mixes two colours (in gamma space, which is what the eye compares): `t = 0` gives `a`.
pub fn mix(a: Color32, b: Color32, t: f32) -> Color32 {
    a.lerp_to_gamma(b, t.clamp(0.0, 1.0))
}

/// Relative luminance (WCAG 2): 0 for black, 1 for white.
pub fn luminance(c: Color32) -> f32 {
    let f = |v: u8| {
        let v = f32::from(v) / 255.0;
        if v <= 0.039_28 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
    };
    0.2126 * f(c.r()) + 0.7152 * f(c.g()) + 0.0722 * f(c.b())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contrast(a: Color32, b: Color32) -> f32 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    #[test]
    fn frame_text_is_readable_on_every_frame_colour() {
        for (f, t) in [(&FLAME_DARK, &TIMELINE_DARK), (&FLAME_LIGHT, &TIMELINE_LIGHT)] {
            let fills = f
                .user
                .iter()
                .chain(&f.stdlib)
                .chain(&f.runtime)
                .chain([&f.root, &f.search_match, &f.diff_grew, &f.diff_shrank, &f.diff_new])
                .chain([&f.diff_gone, &f.diff_same, &f.thin]);
            for &fill in fills {
                assert!(contrast(f.text_on(fill), fill) >= 4.5, "fill={fill:?}");
            }
            for &fill in &t.kinds {
                assert!(contrast(t.interval_text, fill) >= 4.5, "fill={fill:?}");
            }
        }
    }
    #[test]
    fn wait_colours_differ_within_a_theme() {
        let kinds = [
            WaitKind::ChanReceive,
            WaitKind::ChanSend,
            WaitKind::Select,
            WaitKind::Sleep,
            WaitKind::Io,
            WaitKind::Sync,
            WaitKind::Syscall,
            WaitKind::Running,
            WaitKind::Runnable,
            WaitKind::Other,
        ];
        for p in [&DARK, &LIGHT] {
            let mut colours: Vec<Color32> = kinds.iter().map(|&k| p.wait_kind(k)).collect();
            colours.sort_by_key(Color32::to_array);
            colours.dedup();
            assert_eq!(colours.len(), kinds.len());
        }
    }
}
