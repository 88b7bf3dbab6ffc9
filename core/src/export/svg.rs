//! The flamegraph as a standalone SVG: root at the bottom as the app draws a flame, frames
//! coloured by kind (the program's own code warm, the standard library teal, the runtime slate)
//! with one shade per package, names where they fit and a `<title>` on every frame for the
//! tooltip.

use std::fmt::Write as _;

use hashbrown::HashMap;

use super::samples;
use crate::analysis::flame::FlameTree;
use crate::model::{Capture, StackId, funcname};

const WIDTH: f64 = 1200.0;
const ROW: f64 = 17.0;
const PAD: f64 = 10.0;
const TITLE_SPACE: f64 = 34.0;
/// Frames narrower than this many pixels are left out, as the app merges them.
const MIN_WIDTH: f64 = 0.3;
/// Width of one character of the 12 px monospace labels.
const CHAR_WIDTH: f64 = 7.2;

// The app's dark flame palette (app/src/theme.rs), which core cannot import.
const USER: [&str; 6] = ["#e88a4f", "#e0715a", "#e6a04a", "#d97b3c", "#e2b05c", "#d6664e"];
const STDLIB: [&str; 6] = ["#4fb3a9", "#5fa8c4", "#62bd95", "#48a0b0", "#78b8b0", "#589ed0"];
const RUNTIME: [&str; 4] = ["#8c96ab", "#9a9fb8", "#818da3", "#a3a8bb"];
const ROOT: &str = "#9b8f86";
const BACKGROUND: &str = "#1b1d21";

/// The flamegraph of the capture's goroutines as an SVG document.
pub fn to_svg(capture: &Capture, title: &str) -> String {
    let mut by_stack: HashMap<StackId, i64> = HashMap::new();
    for s in samples(capture) {
        *by_stack.entry(s.stack).or_insert(0) += s.count;
    }
    let mut stacks: Vec<(StackId, i64)> = by_stack.into_iter().collect();
    stacks.sort_unstable();
    tree_svg(&FlameTree::from_stacks(capture, stacks), title, "goroutines")
}

/// Any flame tree as an SVG document; `unit` names what the values count.
pub fn tree_svg(tree: &FlameTree, title: &str, unit: &str) -> String {
    let total = tree.root().map_or(0, |r| r.total).max(1);
    let depth = f64::from(tree.max_depth()) + 1.0;
    let height = TITLE_SPACE + depth * ROW + PAD * 2.0;
    let scale = (WIDTH - 2.0 * PAD) / total as f64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="monospace" font-size="12">
<rect width="100%" height="100%" fill="{BACKGROUND}"/>
<text x="{x}" y="22" fill="#e6e6e6" font-size="15" text-anchor="middle">{t}</text>"##,
        x = WIDTH / 2.0,
        t = escape(title)
    );
    // Pre-order: a node starts where its parent's earlier children ended.
    let mut next_x: Vec<f64> = vec![PAD; tree.nodes.len()];
    for (i, node) in tree.nodes.iter().enumerate() {
        let x = if i == 0 { PAD } else { next_x.get(node.parent as usize).copied().unwrap_or(PAD) };
        let w = node.total as f64 * scale;
        if let Some(slot) = next_x.get_mut(node.parent as usize)
            && i != 0
        {
            *slot = x + w;
        }
        if let Some(slot) = next_x.get_mut(i) {
            *slot = x;
        }
        if w < MIN_WIDTH {
            continue;
        }
        let y = height - PAD - (f64::from(node.depth) + 1.0) * ROW;
        let name = tree.names.resolve(node.name);
        let fill = if i == 0 { ROOT } else { colour(name) };
        let share = node.total as f64 * 100.0 / total as f64;
        let _ = write!(
            out,
            r#"<g><title>{} ({} {unit}, {share:.2}%)</title><rect x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{h}" fill="{fill}" rx="2"/>"#,
            escape(name),
            node.total,
            h = ROW - 1.0
        );
        let fits = ((w - 6.0) / CHAR_WIDTH).floor();
        if fits >= 3.0 {
            let chars = name.chars().count();
            let label: String = if chars as f64 <= fits {
                name.to_owned()
            } else {
                let keep = (fits as usize).saturating_sub(2);
                name.chars().take(keep).chain("..".chars()).collect()
            };
            let _ = write!(
                out,
                r##"<text x="{:.2}" y="{:.2}" fill="#141416">{}</text>"##,
                x + 3.0,
                y + ROW - 5.0,
                escape(&label)
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
    out
}

/// The frame colour: the family by kind of code, the shade by package, as the app picks it.
fn colour(name: &str) -> &'static str {
    let shade = fnv1a(funcname::package_path(name).as_bytes()) % 251;
    let pick = |list: &[&'static str]| list.get(shade as usize % list.len()).copied().unwrap_or(ROOT);
    if funcname::is_runtime(name) {
        pick(&RUNTIME)
    } else if funcname::is_standard_library(name) {
        pick(&STDLIB)
    } else {
        pick(&USER)
    }
}

/// 32-bit FNV-1a, as the app hashes packages, so both pick the same shade.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
