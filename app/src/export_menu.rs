//! File > Export: the active capture as pprof, folded stacks or a flamegraph SVG (as the
//! Flamegraph view shows it, filters and zoom included), the findings
//! as Markdown or SARIF, and the window as it is drawn as a PNG (for a chat or an issue: the
//! zoomed, filtered view exactly as seen), through the native Save dialog; and Copy of the
//! flamegraph as SVG. The bytes are made on the UI thread when the item is clicked (the formatters are linear
//! in the distinct stacks), then the dialog and the write run on a thread of their own, so a
//! frame never waits on either.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, TryRecvError};

use leakscope_core::export;
use leakscope_core::report::{Report, SarifOptions, to_sarif};

use crate::views::file_stem;
use crate::views::flamegraph::FlamegraphView;
use crate::workspace::Workspace;

/// A save in flight and the last outcome to show.
#[derive(Default)]
pub struct Exports {
    pending: Option<Receiver<String>>,
    /// What the last export did ("Saved x.svg", or why not), until dismissed.
    pub note: Option<String>,
    /// The file name of a PNG asked for, and where the renderer hands over the screenshot.
    png_for: Option<(String, Receiver<std::sync::Arc<egui::ColorImage>>)>,
}

/// What an item writes: its bytes, the suggested file name and the dialog's filter.
struct Output {
    bytes: Vec<u8>,
    file_name: String,
    filter: (&'static str, &'static [&'static str]),
}

impl Exports {
    /// The Export submenu, for the File menu. Disabled without a capture.
    pub fn menu_ui(&mut self, ui: &mut egui::Ui, workspace: Option<&Workspace>, flame: &FlamegraphView) {
        let busy = self.pending.is_some();
        ui.add_enabled_ui(workspace.is_some() && !busy, |ui| {
            ui.menu_button("Export", |ui| {
                let Some(ws) = workspace else { return };
                let mut chosen: Option<Output> = None;
                if ui.button("Goroutines as pprof profile…").clicked() {
                    chosen = goroutines(ws, Kind::Pprof);
                }
                if ui.button("Folded stacks…").clicked() {
                    chosen = goroutines(ws, Kind::Folded);
                }
                // The graph as the Flamegraph view draws it: its source, filters and zoom.
                let flamegraph_svg = |ws: &Workspace| flame.svg(ws.active()?);
                if ui
                    .button("Flamegraph as SVG…")
                    .on_hover_text("As the Flamegraph view shows it: filters and zoom included")
                    .clicked()
                {
                    chosen = flamegraph_svg(ws).map(|(file_name, svg)| Output {
                        bytes: svg.into_bytes(),
                        file_name,
                        filter: ("SVG", &["svg"]),
                    });
                }
                if ui.button("Copy flamegraph as SVG").clicked()
                    && let Some((_, svg)) = flamegraph_svg(ws)
                {
                    ui.ctx().copy_text(svg);
                    self.note = Some("Copied the flamegraph as SVG.".to_owned());
                }
                if ui.button("View as PNG…").on_hover_text("The window as it is drawn now").clicked() {
                    ui.close();
                    let stem = ws.active().map_or_else(|| "leakscope".to_owned(), |c| file_stem(&c.name));
                    // The renderer calls back with the next frame drawn, on its own schedule.
                    let (tx, rx) = mpsc::channel();
                    let ctx = ui.ctx().clone();
                    ui.ctx().request_screenshot(move |image| {
                        let _ = tx.send(image);
                        ctx.request_repaint();
                    });
                    self.png_for = Some((format!("{stem}.png"), rx));
                }
                ui.separator();
                if ui.button("Findings as Markdown…").clicked() {
                    chosen = Some(Output {
                        bytes: Report::from_session(&ws.session).to_markdown().into_bytes(),
                        file_name: "leakscope-findings.md".to_owned(),
                        filter: ("Markdown", &["md"]),
                    });
                }
                if ui.button("Findings as SARIF…").clicked() {
                    let options = SarifOptions {
                        source_root: std::env::current_dir().ok(),
                        version: Some(env!("CARGO_PKG_VERSION").to_owned()),
                    };
                    let doc = to_sarif(&Report::from_session(&ws.session), &options);
                    chosen = serde_json::to_vec_pretty(&doc).ok().map(|bytes| Output {
                        bytes,
                        file_name: "leakscope.sarif".to_owned(),
                        filter: ("SARIF", &["sarif", "json"]),
                    });
                }
                if let Some(output) = chosen {
                    ui.close();
                    self.save(output, ws, ui.ctx());
                }
            });
        });
    }

    /// Takes the screenshot a "View as PNG" asked for, once the renderer has made it, and
    /// saves it. Call once per frame.
    pub fn take_screenshot(&mut self, ctx: &egui::Context, workspace: Option<&Workspace>) {
        let Some((_, rx)) = &self.png_for else { return };
        let image = match rx.try_recv() {
            Ok(image) => image,
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => {
                self.png_for = None;
                self.note = Some("The renderer gave no screenshot.".to_owned());
                return;
            }
        };
        let Some((file_name, _)) = self.png_for.take() else { return };
        let Some(ws) = workspace else { return };
        match png_bytes(&image) {
            Ok(bytes) => self.save(Output { bytes, file_name, filter: ("PNG image", &["png"]) }, ws, ctx),
            Err(e) => self.note = Some(format!("Cannot encode the PNG: {e}")),
        }
    }

    /// Shows the last outcome and takes in a finished save. Call once per frame.
    pub fn poll(&mut self) {
        if let Some(rx) = &self.pending {
            match rx.try_recv() {
                Ok(note) => {
                    self.note = Some(note);
                    self.pending = None;
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => {
                    self.note = Some("The save dialog stopped unexpectedly.".to_owned());
                    self.pending = None;
                }
            }
        }
    }

    fn save(&mut self, output: Output, ws: &Workspace, ctx: &egui::Context) {
        let inputs: Vec<PathBuf> = ws.paths.clone();
        let start_dir = inputs.first().and_then(|p| p.parent()).map(PathBuf::from);
        let (tx, rx) = mpsc::channel();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new().name("leakscope-export".to_owned()).spawn(move || {
            let note = save_with_dialog(&output, start_dir, &inputs);
            let _ = tx.send(note);
            ctx.request_repaint();
        });
        match spawned {
            Ok(_) => self.pending = Some(rx),
            Err(e) => self.note = Some(format!("Cannot start the save dialog: {e}")),
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Pprof,
    Folded,
}

fn goroutines(ws: &Workspace, kind: Kind) -> Option<Output> {
    let loaded = ws.active()?;
    let stem = file_stem(&loaded.name);
    match kind {
        Kind::Pprof => export::to_pprof_gz(&loaded.capture).ok().map(|bytes| Output {
            bytes,
            file_name: format!("{stem}.goroutine.pb.gz"),
            filter: ("pprof profile", &["gz", "pb"]),
        }),
        Kind::Folded => Some(Output {
            bytes: export::to_folded(&loaded.capture).into_bytes(),
            file_name: format!("{stem}.folded"),
            filter: ("Folded stacks", &["folded", "txt"]),
        }),
    }
}

fn save_with_dialog(output: &Output, start_dir: Option<PathBuf>, inputs: &[PathBuf]) -> String {
    let mut dialog = rfd::FileDialog::new()
        .set_title("Export")
        .set_file_name(&output.file_name)
        .add_filter(output.filter.0, output.filter.1);
    if let Some(dir) = start_dir {
        dialog = dialog.set_directory(dir);
    }
    let Some(path) = dialog.save_file() else { return "Export cancelled.".to_owned() };
    // Never write over a capture that is open.
    let same = |p: &PathBuf| match (std::fs::canonicalize(p), std::fs::canonicalize(&path)) {
        (Ok(a), Ok(b)) => a == b,
        _ => *p == path,
    };
    if inputs.iter().any(same) {
        return format!("Not saved: {} is an open capture.", path.display());
    }
    match std::fs::write(&path, &output.bytes) {
        Ok(()) => format!("Saved {}.", path.display()),
        Err(e) => format!("Cannot write {}: {e}", path.display()),
    }
}

impl Exports {
    /// The last outcome with a button to dismiss it, above the views.
    pub fn note_ui(&mut self, ui: &mut egui::Ui) {
        let Some(note) = &self.note else { return };
        let mut dismiss = false;
        ui.horizontal(|ui| {
            ui.label(note.as_str());
            dismiss = ui.small_button("Dismiss").clicked();
        });
        if dismiss {
            self.note = None;
        }
    }
}

/// An RGBA image as PNG bytes.
fn png_bytes(image: &egui::ColorImage) -> Result<Vec<u8>, png::EncodingError> {
    let [w, h] = image.size;
    let mut out = Vec::new();
    let mut encoder =
        png::Encoder::new(&mut out, u32::try_from(w).unwrap_or(0), u32::try_from(h).unwrap_or(0));
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    let rgba: Vec<u8> = image.pixels.iter().flat_map(egui::Color32::to_srgba_unmultiplied).collect();
    writer.write_image_data(&rgba)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_screenshot_encodes_as_a_png_of_its_size() {
        let image = egui::ColorImage::new([3, 2], vec![egui::Color32::from_rgb(200, 10, 20); 6]);
        let bytes = png_bytes(&image).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!((info.width, info.height), (3, 2));
        assert!(bytes.starts_with(b"\x89PNG"));
    }
}
