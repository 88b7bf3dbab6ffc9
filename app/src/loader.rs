//! Background loading: files are parsed and analysed on a named thread (`leakscope-loader`) while
//! the UI keeps drawing a progress bar (bytes done of the total, from
//! [`leakscope_core::Progress`]) and a Cancel button. The UI polls once per frame and never
//! waits on the thread.
//!
//! A single large file may first send a preview: a first picture of what was read so far (the
//! first generations of a Go execution trace), shown while the rest is read and replaced by
//! the whole when it comes.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::{Duration, Instant};

use leakscope_core::analysis::leaks::Config;
use leakscope_core::session::{Input, InputSource, Parsed, Purpose, Session};
use leakscope_core::{Bytes, Capture, LoadOptions, Preview, Progress};

use crate::sample;
use crate::workspace::Workspace;

/// What to load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadRequest {
    /// Files from disk: one to explore, two or more to compare (first before, last after).
    Files(Vec<PathBuf>),
    /// The before/after pair embedded in the binary.
    Bundled,
}

/// Why a load produced nothing.
#[derive(Debug)]
pub enum LoadFailure {
    /// The user pressed Cancel.
    Cancelled,
    /// Files could not be read or parsed: one note per file.
    Failed(Vec<LoadErrorNote>),
    /// The loader thread could not start or died.
    Internal(String),
}

/// A file that could not be opened, shown in place until dismissed or replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadErrorNote {
    /// The error, naming the file, the format and the line or offset (from
    /// [`leakscope_core::LoadError`]'s `Display`).
    pub message: String,
    /// The file (empty when the failure is not about one).
    pub path: PathBuf,
}

/// What the UI can show about a running load.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadStatus {
    /// The file being read now.
    pub current: String,
    /// 1-based position of that file among the files of the job.
    pub file_number: usize,
    /// Files in the job.
    pub file_count: usize,
    /// Bytes done and total of the current phase (inflate, then parse).
    pub bytes: (u64, u64),
    /// Time since the job started.
    pub elapsed: Duration,
    /// Whether Cancel was pressed and the thread is winding down.
    pub cancelling: bool,
}

/// What the loader thread sends: a first picture of a large file, then the result.
pub enum LoadEvent {
    /// What was read so far of the one file being loaded, to show until the whole is read.
    Preview(Workspace),
    /// The load is over.
    Finished(Result<Workspace, LoadFailure>),
}

/// Files at least this large send a first picture: the whole of a Go execution trace this
/// size takes a second or more to read (a busy service's trace reads at about 130 MB/s, a
/// goroutine-dense one at about 50), its first generations a fraction of that. The picture
/// costs the whole read about its own time (a generation, often 20-40 MB), which a smaller
/// file's read would mostly be.
pub const PREVIEW_MIN_BYTES: u64 = 128 << 20;

struct Job {
    progress: Arc<Progress>,
    file_number: Arc<AtomicUsize>,
    names: Vec<String>,
    rx: Receiver<LoadEvent>,
    started: Instant,
}

/// Runs at most one load at a time; starting another cancels the one running.
pub struct Loader {
    job: Option<Job>,
    /// One file at least this large sends a first picture ([`PREVIEW_MIN_BYTES`]).
    pub preview_min_bytes: u64,
}

impl Default for Loader {
    fn default() -> Self {
        Self { job: None, preview_min_bytes: PREVIEW_MIN_BYTES }
    }
}

impl Loader {
    /// Starts loading on the `leakscope-loader` thread. `ctx` is woken when the work is done.
    pub fn start(&mut self, request: LoadRequest, ctx: &egui::Context) {
        self.cancel();
        let progress = Arc::new(Progress::new());
        let file_number = Arc::new(AtomicUsize::new(1));
        let names = match &request {
            LoadRequest::Files(paths) => paths.iter().map(|p| p.display().to_string()).collect(),
            LoadRequest::Bundled => vec![sample::BEFORE_NAME.to_owned(), sample::AFTER_NAME.to_owned()],
        };
        let (tx, rx) = mpsc::channel();
        let thread_progress = Arc::clone(&progress);
        let thread_file = Arc::clone(&file_number);
        let ctx = ctx.clone();
        let preview_min_bytes = self.preview_min_bytes;
        let spawned = std::thread::Builder::new().name("leakscope-loader".to_owned()).spawn(move || {
            let preview_tx = tx.clone();
            let preview_ctx = ctx.clone();
            let on_preview = move |ws: Workspace| {
                // The receiver is gone when the job was replaced or cancelled.
                let _ = preview_tx.send(LoadEvent::Preview(ws));
                preview_ctx.request_repaint();
            };
            let result =
                load_with_preview(&request, &thread_progress, &thread_file, preview_min_bytes, on_preview);
            let _ = tx.send(LoadEvent::Finished(result));
            ctx.request_repaint();
        });
        match spawned {
            Ok(_) => self.job = Some(Job { progress, file_number, names, rx, started: Instant::now() }),
            Err(e) => {
                let (tx, rx) = mpsc::channel();
                let _ = tx.send(LoadEvent::Finished(Err(LoadFailure::Internal(format!(
                    "cannot start the loader thread: {e}"
                )))));
                self.job = Some(Job { progress, file_number, names, rx, started: Instant::now() });
            }
        }
    }

    /// Asks the running load to stop. Its result, when it comes, is dropped.
    pub fn cancel(&mut self) {
        if let Some(job) = self.job.take() {
            job.progress.cancel();
        }
    }

    /// Whether a load is running.
    pub fn is_loading(&self) -> bool {
        self.job.is_some()
    }

    /// The running load's progress.
    pub fn status(&self) -> Option<LoadStatus> {
        let job = self.job.as_ref()?;
        let n = job.file_number.load(Ordering::Relaxed).clamp(1, job.names.len().max(1));
        Some(LoadStatus {
            current: job.names.get(n - 1).cloned().unwrap_or_default(),
            file_number: n,
            file_count: job.names.len(),
            bytes: job.progress.bytes(),
            elapsed: job.started.elapsed(),
            cancelling: job.progress.is_cancelled(),
        })
    }

    /// The running load's next event: a preview, or its result (once; the load is then
    /// over). Never blocks.
    pub fn poll(&mut self) -> Option<LoadEvent> {
        let job = self.job.as_ref()?;
        let event = match job.rx.try_recv() {
            Ok(event) => event,
            Err(TryRecvError::Empty) => return None,
            Err(TryRecvError::Disconnected) => {
                LoadEvent::Finished(Err(LoadFailure::Internal("the loader thread stopped".to_owned())))
            }
        };
        if matches!(event, LoadEvent::Finished(_)) {
            self.job = None;
        }
        Some(event)
    }

    /// Blocks until the running load finishes, passing over any preview (tests and the
    /// headless first-frame measurement).
    pub fn wait(&mut self) -> Option<Result<Workspace, LoadFailure>> {
        let job = self.job.take()?;
        loop {
            match job.rx.recv() {
                Ok(LoadEvent::Preview(_)) => {}
                Ok(LoadEvent::Finished(result)) => return Some(result),
                Err(_) => return Some(Err(LoadFailure::Internal("the loader thread stopped".to_owned()))),
            }
        }
    }
}

/// Parses and analyses everything the request names. Runs on the loader thread.
pub fn load(
    request: &LoadRequest,
    progress: &Progress,
    file_number: &AtomicUsize,
) -> Result<Workspace, LoadFailure> {
    load_with_preview(request, progress, file_number, u64::MAX, |_| {})
}

/// [`load`], and when the request is one file of at least `preview_min_bytes` whose parser
/// can give a first picture, that picture, analysed as the whole will be, to `on_preview`
/// before the whole is read.
pub fn load_with_preview(
    request: &LoadRequest,
    progress: &Progress,
    file_number: &AtomicUsize,
    preview_min_bytes: u64,
    on_preview: impl Fn(Workspace) + Send + Sync + 'static,
) -> Result<Workspace, LoadFailure> {
    let (inputs, paths) = match request {
        LoadRequest::Files(paths) => (paths.iter().map(Input::file).collect(), paths.clone()),
        LoadRequest::Bundled => {
            let bundled = |name: &str, bytes: &'static [u8]| Input {
                source: InputSource::Bytes { name: name.to_owned(), bytes: Bytes::Static(bytes) },
                baseline: false,
            };
            let inputs = vec![
                bundled(sample::BEFORE_NAME, sample::BEFORE_GZ),
                bundled(sample::AFTER_NAME, sample::AFTER_GZ),
            ];
            (inputs, Vec::new())
        }
    };
    let (config, config_error) = project_config();
    let mut options = LoadOptions::default();
    if paths.len() == 1 {
        let config = config.clone();
        let config_error = config_error.clone();
        let paths = paths.clone();
        let started = Instant::now();
        options.preview = Some(Preview {
            min_bytes: preview_min_bytes,
            sink: Arc::new(move |capture: Capture| {
                let parsed =
                    Parsed { captures: vec![capture], baseline: false, load_time: started.elapsed() };
                let mut session = Session::from_parsed(vec![parsed], Purpose::Views, config.clone());
                session.config_error.clone_from(&config_error);
                on_preview(Workspace::new(session, paths.clone()));
            }),
        });
    }
    let mut on_input = |i: usize| file_number.store(i + 1, Ordering::Relaxed);
    match Session::load(inputs, &options, Purpose::Views, config, progress, &mut on_input) {
        Ok(mut session) => {
            session.config_error = config_error;
            Ok(Workspace::new(session, paths))
        }
        Err(failed) if failed.cancelled => Err(LoadFailure::Cancelled),
        Err(failed) => {
            let notes = failed
                .errors
                .iter()
                .map(|e| LoadErrorNote { message: e.to_string(), path: e.path().to_path_buf() })
                .collect();
            Err(LoadFailure::Failed(notes))
        }
    }
}

/// The project's leak-rule configuration (`leakscope.toml` found from the working directory
/// up, as `leakscope report` does), or the defaults with the reason it could not be read.
fn project_config() -> (Config, Option<String>) {
    let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    match Config::discover(&dir) {
        Ok(config) => (config, None),
        Err(e) => (Config::default(), Some(e.to_string())),
    }
}
