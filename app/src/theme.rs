//! Every colour the app paints with, in a dark and a light palette. Views never write a colour
//! literal: they ask the palette for a meaning (a severity, a wait, growth), so the two themes
//! stay consistent and a colour changes in one place.

use egui::Color32;
use leakscope_core::model::WaitKind;

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

#[cfg(test)]
mod tests {
    use super::*;

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
            colours.sort_by_key(|c| c.to_array());
            colours.dedup();
            assert_eq!(colours.len(), kinds.len());
        }
    }
}
