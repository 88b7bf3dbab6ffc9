//! Background loading: files are parsed and analysed on a named thread (`leakscope-loader`) while
//! the UI keeps drawing a progress bar (bytes done of the total, from
//! [`leakscope_core::Progress`]) and a Cancel button. The UI polls once per frame and never
//! waits on the thread.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::{Duration, Instant};

use leakscope_core::load::Bytes;
use leakscope_core::{LoadError, LoadOptions, Progress};

use crate::sample;
use crate::workspace::{LoadedCapture, Workspace};

/// What to load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadRequest {
    /// Files from disk: one to explore, two or more to compare (first before, last after).
    Files(Vec<PathBuf>),
    /// The before/after pair embedded in the binary.
    Bundled,
}

impl LoadRequest {
    fn file_count(&self) -> usize {
        match self {
            LoadRequest::Files(paths) => paths.len(),
            LoadRequest::Bundled => 2,
        }
    }
}

/// Why a load produced nothing.
#[derive(Debug)]
pub enum LoadFailure {
    /// The user pressed Cancel.
    Cancelled,
    /// A file could not be read or parsed. The message names the file, the format and the line
    /// or offset (from [`LoadError`]'s `Display`).
    Failed {
        /// What went wrong, for a person.
        message: String,
        /// The file it went wrong on.
        path: PathBuf,
    },
    /// The loader thread could not start or died.
    Internal(String),
}

impl LoadFailure {
    fn from_error(error: &LoadError) -> Self {
        match error {
            LoadError::Cancelled { .. } => LoadFailure::Cancelled,
            other => LoadFailure::Failed { message: other.to_string(), path: other.path().to_path_buf() },
        }
    }
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

struct Job {
    progress: Arc<Progress>,
    file_number: Arc<AtomicUsize>,
    names: Vec<String>,
    rx: Receiver<Result<Workspace, LoadFailure>>,
    started: Instant,
}

/// Runs at most one load at a time; starting another cancels the one running.
#[derive(Default)]
pub struct Loader {
    job: Option<Job>,
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
        let spawned = std::thread::Builder::new().name("leakscope-loader".to_owned()).spawn(move || {
            let result = load(&request, &thread_progress, &thread_file);
            // The receiver is gone when the job was replaced or cancelled; nothing to do then.
            let _ = tx.send(result);
            ctx.request_repaint();
        });
        match spawned {
            Ok(_) => self.job = Some(Job { progress, file_number, names, rx, started: Instant::now() }),
            Err(e) => {
                let (tx, rx) = mpsc::channel();
                let _ = tx.send(Err(LoadFailure::Internal(format!("cannot start the loader thread: {e}"))));
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

    /// The finished load's result, once. Never blocks.
    pub fn poll(&mut self) -> Option<Result<Workspace, LoadFailure>> {
        let job = self.job.as_ref()?;
        let result = match job.rx.try_recv() {
            Ok(result) => result,
            Err(TryRecvError::Empty) => return None,
            Err(TryRecvError::Disconnected) => {
                Err(LoadFailure::Internal("the loader thread stopped".to_owned()))
            }
        };
        self.job = None;
        Some(result)
    }

    /// Blocks until the running load finishes (tests and the headless first-frame measurement).
    pub fn wait(&mut self) -> Option<Result<Workspace, LoadFailure>> {
        let job = self.job.take()?;
        Some(
            job.rx
                .recv()
                .unwrap_or_else(|_| Err(LoadFailure::Internal("the loader thread stopped".to_owned()))),
        )
    }
}

/// Parses and analyses everything the request names. Runs on the loader thread.
pub fn load(
    request: &LoadRequest,
    progress: &Progress,
    file_number: &AtomicUsize,
) -> Result<Workspace, LoadFailure> {
    let options = LoadOptions::default();
    let mut captures = Vec::new();
    let mut first_file_len = 0;
    let paths = match request {
        LoadRequest::Files(paths) => paths.clone(),
        LoadRequest::Bundled => Vec::new(),
    };
    for i in 0..request.file_count() {
        file_number.store(i + 1, Ordering::Relaxed);
        let started = Instant::now();
        let parsed = match request {
            LoadRequest::Files(paths) => {
                let Some(path) = paths.get(i) else { break };
                leakscope_core::open(path, &options, progress)
            }
            LoadRequest::Bundled => {
                let (name, bytes) = if i == 0 {
                    (sample::BEFORE_NAME, sample::BEFORE_GZ)
                } else {
                    (sample::AFTER_NAME, sample::AFTER_GZ)
                };
                leakscope_core::open_bytes(name, Bytes::Static(bytes), &options, progress)
            }
        };
        let parsed = parsed.map_err(|e| LoadFailure::from_error(&e))?;
        if progress.is_cancelled() {
            return Err(LoadFailure::Cancelled);
        }
        let per_capture = started.elapsed() / parsed.len().max(1) as u32;
        let loaded: Vec<LoadedCapture> =
            parsed.into_iter().map(|c| LoadedCapture::new(c, per_capture)).collect();
        if i == 0 {
            first_file_len = loaded.len();
        }
        captures.extend(loaded);
    }
    if progress.is_cancelled() {
        return Err(LoadFailure::Cancelled);
    }
    Ok(Workspace::new(captures, first_file_len, paths))
}
