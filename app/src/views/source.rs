//! The Source pane (pprof's `list` and its web UI's source view): the lines of one function
//! with their flat and cum values beside the code, from the source file found on this machine
//! under the roots the person gives or the usual places (`analysis::source`). Without the file
//! the lines are still listed with their values, and the pane says where it looked.

use std::path::{Path, PathBuf};

use egui::{Color32, RichText};
use leakscope_core::analysis::source::{self, FileLines};
use leakscope_core::session::{FlameSource, LoadedCapture};

use crate::theme::Palette;

/// Lines shown around the function's first and last line with a value.
const CONTEXT_LINES: u32 = 6;

/// At most this many lines in one listing: a function longer than that is listed from its
/// first hot line.
const MAX_LISTED: u32 = 600;

/// What the pane shows, and caches, for one function.
#[derive(Default)]
pub struct SourcePane {
    /// The function listed, `None` until one is chosen.
    function: Option<String>,
    /// The capture path and flame source the values were computed for.
    computed_for: Option<(String, FlameSource)>,
    files: Vec<FileLines>,
    /// Which of `files` is shown.
    file: usize,
    /// A root the person typed, tried before the defaults.
    root_text: String,
    /// The file found for `files[file]`, and its lines, or why not.
    listing: Option<Result<Listing, String>>,
    /// The result of the last "Open in editor".
    editor_note: Option<String>,
}

struct Listing {
    path: PathBuf,
    lines: Vec<(u32, String)>,
}

impl SourcePane {
    /// Lists `function` next time the pane is drawn.
    pub fn show_function(&mut self, function: &str) {
        if self.function.as_deref() != Some(function) {
            self.function = Some(function.to_owned());
            self.computed_for = None;
        }
    }

    /// The function listed, if any.
    pub fn function(&self) -> Option<&str> {
        self.function.as_deref()
    }

    /// Draws the pane for `loaded`'s flamegraph of `flame_source`.
    pub fn ui(&mut self, ui: &mut egui::Ui, loaded: &LoadedCapture, flame_source: FlameSource) {
        let Some(function) = self.function.clone() else {
            ui.weak("Pick a function (right-click a frame, or a row of Top) to see its source lines.");
            return;
        };
        let key = (loaded.capture.source.path.clone(), flame_source);
        if self.computed_for.as_ref() != Some(&key) {
            let stacks = flame_source.stacks(&loaded.capture);
            self.files = source::line_values(&loaded.capture, &stacks, &function);
            self.file = 0;
            self.listing = None;
            self.computed_for = Some(key);
        }
        let unit = loaded.flames.iter().find(|f| f.source == flame_source).map(|f| f.unit.clone());
        let fmt = |v: i64| unit.as_ref().map_or_else(|| v.to_string(), |u| u.format(v));
        ui.horizontal_wrapped(|ui| {
            ui.strong(&function);
            if self.files.len() > 1 {
                let current = self.files.get(self.file).map_or("", |f| f.file.as_str()).to_owned();
                egui::ComboBox::new("source-file", "file").selected_text(current).show_ui(ui, |ui| {
                    for (i, f) in self.files.iter().enumerate() {
                        if ui.selectable_value(&mut self.file, i, &f.file).changed() {
                            self.listing = None;
                        }
                    }
                });
            }
        });
        let Some(file) = self.files.get(self.file).cloned() else {
            ui.weak("The capture gives no line numbers for this function.");
            return;
        };
        ui.label(format!("flat {}, cum {} in {}", fmt(file.flat), fmt(file.cum), file.file));
        ui.horizontal(|ui| {
            ui.label("Source root");
            let edit = ui.add(
                egui::TextEdit::singleline(&mut self.root_text)
                    .hint_text("folder holding the code (default: beside the capture)")
                    .desired_width(320.0),
            );
            crate::views::name_text_field(&edit, "Source root", &self.root_text);
            if edit.lost_focus() || ui.button("Find").clicked() {
                self.listing = None;
            }
        });
        let roots = self.roots(&loaded.capture.source.path);
        let listing = self.listing.get_or_insert_with(|| find_listing(&file, &roots));
        match listing {
            Ok(l) => {
                let path = l.path.clone();
                ui.horizontal(|ui| {
                    let first = file.lines.iter().max_by_key(|l| l.cum).map_or(1, |l| l.line);
                    if ui
                        .button("Open in editor")
                        .on_hover_text("$LEAKSCOPE_EDITOR, $VISUAL or $EDITOR at the hottest line, else the system's opener")
                        .clicked()
                    {
                        self.editor_note = Some(open_in_editor(&path, first));
                    }
                    if let Some(note) = &self.editor_note {
                        ui.weak(note);
                    }
                    ui.weak(path.display().to_string());
                });
            }
            Err(why) => {
                // The first line says it; the folders tried (long, machine-specific) on hover.
                let (said, tried) = why.split_once('\n').unwrap_or((why.as_str(), ""));
                ui.colored_label(Palette::of(ui).warning, said).on_hover_text(tried);
            }
        }
        ui.separator();
        let code = self.listing.as_ref().and_then(|l| l.as_ref().ok());
        lines_table(ui, &file, code, &fmt);
    }

    fn roots(&self, capture_path: &str) -> Vec<PathBuf> {
        let typed = self.root_text.trim();
        let mut roots: Vec<PathBuf> = if typed.is_empty() { Vec::new() } else { vec![PathBuf::from(typed)] };
        roots.extend(source::default_roots(Path::new(capture_path)));
        roots
    }
}

fn find_listing(file: &FileLines, roots: &[PathBuf]) -> Result<Listing, String> {
    let Some(path) = source::find_source(&file.file, roots) else {
        let tried: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
        return Err(format!(
            "{} is not on this machine under the {} folders tried (hover for them). Give the folder that holds the code as the source root.\n{}",
            file.file,
            tried.len(),
            tried.join("\n")
        ));
    };
    let lo = file.lines.first().map_or(1, |l| l.line).saturating_sub(CONTEXT_LINES).max(1);
    let hi = file
        .lines
        .last()
        .map_or(1, |l| l.line)
        .saturating_add(CONTEXT_LINES)
        .min(lo.saturating_add(MAX_LISTED));
    source::read_lines(&path, lo, hi)
        .map(|lines| Listing { path, lines })
        .map_err(|e| format!("cannot read the source: {e}"))
}

/// A row of the table: the line, its (flat, cum) if it has a value, its code if the file was
/// found.
type Row<'a> = (u32, Option<(i64, i64)>, Option<&'a str>);

/// The table: line, flat, cum, code; lines with a value tinted by their share of the cum.
fn lines_table(ui: &mut egui::Ui, file: &FileLines, code: Option<&Listing>, fmt: &dyn Fn(i64) -> String) {
    let palette = Palette::of(ui);
    let rows: Vec<Row<'_>> = match code {
        Some(l) => l
            .lines
            .iter()
            .map(|(n, text)| {
                let v = file.lines.iter().find(|x| x.line == *n).map(|x| (x.flat, x.cum));
                (*n, v, Some(text.as_str()))
            })
            .collect(),
        None => file.lines.iter().map(|x| (x.line, Some((x.flat, x.cum)), None)).collect(),
    };
    let max_cum = file.lines.iter().map(|l| l.cum).max().unwrap_or(1).max(1);
    let mono = egui::TextStyle::Monospace.resolve(ui.style());
    let row_height = ui.fonts_mut(|f| f.row_height(&mono)) + 2.0;
    egui::ScrollArea::both().auto_shrink([false, false]).show_rows(
        ui,
        row_height,
        rows.len(),
        |ui, range| {
            egui::Grid::new("source-lines").num_columns(4).spacing([12.0, 0.0]).show(ui, |ui| {
                for &(n, v, text) in rows.get(range).unwrap_or_default() {
                    ui.label(RichText::new(n.to_string()).monospace().weak());
                    let (flat, cum) = v.map_or((String::new(), String::new()), |(f, c)| {
                        (if f == 0 { String::new() } else { fmt(f) }, fmt(c))
                    });
                    ui.label(RichText::new(flat).monospace());
                    ui.label(RichText::new(cum).monospace());
                    let mut line = RichText::new(text.unwrap_or("")).monospace();
                    if let Some((_, c)) = v {
                        let share = (c as f32 / max_cum as f32).clamp(0.15, 1.0);
                        line = line.background_color(tint(palette.severity_likely, share));
                    }
                    ui.label(line);
                    ui.end_row();
                }
            });
        },
    );
}

fn tint(c: Color32, share: f32) -> Color32 {
    Color32::from_rgba_unmultiplied(c.r(), c.g(), c.b(), (share * 90.0) as u8)
}

/// Opens `path` at `line` in the person's editor, detached; says what it ran or why not.
fn open_in_editor(path: &Path, line: u32) -> String {
    let editor = ["LEAKSCOPE_EDITOR", "VISUAL", "EDITOR"]
        .iter()
        .find_map(|v| std::env::var(v).ok())
        .filter(|e| !e.trim().is_empty());
    let mut cmd = if let Some(e) = editor {
        let mut words = e.split_whitespace();
        let Some(program) = words.next() else { return "no editor set".to_owned() };
        let mut cmd = std::process::Command::new(program);
        cmd.args(words);
        let name = Path::new(program).file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        // VS Code and its kin take file:line after -g; vi, emacs, nano, subl-style +line.
        if matches!(name, "code" | "codium" | "cursor") {
            cmd.arg("-g").arg(format!("{}:{line}", path.display()));
        } else {
            cmd.arg(format!("+{line}")).arg(path);
        }
        cmd
    } else {
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else if cfg!(windows) {
            "explorer"
        } else {
            "xdg-open"
        };
        let mut cmd = std::process::Command::new(opener);
        cmd.arg(path);
        cmd
    };
    match cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        Ok(mut child) => {
            // Reaped off the UI thread, so an editor that runs until closed leaves no zombie.
            std::thread::spawn(move || child.wait());
            format!("opened with {}", cmd.get_program().to_string_lossy())
        }
        Err(e) => format!("could not run {}: {e}", cmd.get_program().to_string_lossy()),
    }
}
