//! Labels that fit their box: laid out once through egui's galley cache, elided with "…" where
//! they are too long, dropped where not even a few characters fit.
//!
//! Galleys are laid out in [`Color32::PLACEHOLDER`] so that one cached layout serves every
//! colour, and elision widths are rounded down to a few pixels so that zooming (which changes
//! every box's width each frame) keeps hitting the cache instead of laying out new text.

use std::sync::Arc;

use egui::text::{LayoutJob, TextWrapping};
use egui::{Color32, FontId, Galley, Painter};

/// Elision widths are rounded down to a multiple of this many points.
const WIDTH_STEP: f32 = 6.0;

/// Fewest characters (the ellipsis included) worth showing.
const MIN_CHARS: usize = 4;

/// The width of `text` on one line.
pub(crate) fn width(painter: &Painter, text: &str, font: &FontId) -> f32 {
    painter.layout_no_wrap(text.to_owned(), font.clone(), Color32::PLACEHOLDER).size().x
}

/// `text` on one line, elided to at most `max_width`, or `None` where too little would show.
pub(crate) fn elided(painter: &Painter, text: &str, font: &FontId, max_width: f32) -> Option<Arc<Galley>> {
    let max_width = (max_width / WIDTH_STEP).floor() * WIDTH_STEP;
    if max_width < WIDTH_STEP * 2.0 {
        return None;
    }
    let mut job = LayoutJob::simple_singleline(text.to_owned(), font.clone(), Color32::PLACEHOLDER);
    job.wrap = TextWrapping { max_width, max_rows: 1, break_anywhere: true, overflow_character: Some('…') };
    let galley = painter.layout_job(job);
    let chars: usize = galley.rows.iter().map(|r| r.row.glyphs.len()).sum();
    let enough = !galley.elided || chars >= MIN_CHARS.min(text.chars().count());
    (enough && chars > 0).then_some(galley)
}

/// The first of `candidates` (longest first) that fits `max_width` whole, else the last one
/// elided. `widths` are the candidates' widths, from [`width`].
pub(crate) fn best_fit(
    painter: &Painter,
    candidates: &[&str],
    widths: &[f32],
    font: &FontId,
    max_width: f32,
) -> Option<Arc<Galley>> {
    for (text, &w) in candidates.iter().zip(widths) {
        if w <= max_width {
            return Some(painter.layout_no_wrap((*text).to_owned(), font.clone(), Color32::PLACEHOLDER));
        }
    }
    elided(painter, candidates.last()?, font, max_width)
}
