//! The native Open dialog (rfd), run off the UI thread so a frame never waits on it. Where no
//! dialog service exists (no xdg-desktop-portal or zenity on Linux, a headless session), the
//! dialog comes back empty at once; the app then says so instead of doing nothing.

use std::future::Future;
use std::path::PathBuf;
use std::pin::pin;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// A dialog that returned nothing this fast was never shown: nobody cancels a dialog within a
/// quarter of a second.
const NO_SERVICE_WITHIN: Duration = Duration::from_millis(250);

/// What came back from the dialog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DialogOutcome {
    /// The user picked files.
    Picked(Vec<PathBuf>),
    /// The user closed the dialog.
    Cancelled,
    /// No dialog could be shown.
    Unavailable(String),
}

/// One dialog in flight.
pub struct FileDialog {
    rx: Receiver<DialogOutcome>,
    /// Whether the user asked for two files (before and after).
    pub compare: bool,
}

impl FileDialog {
    /// Shows the Open dialog on a thread of its own. `compare` asks for a before and an after
    /// file.
    pub fn spawn(compare: bool, start_dir: Option<PathBuf>, ctx: &egui::Context) -> Self {
        let (tx, rx) = mpsc::channel();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new().name("leakscope-dialog".to_owned()).spawn(move || {
            let outcome = if let Some(reason) = missing_service() {
                DialogOutcome::Unavailable(reason)
            } else {
                run_dialog(compare, start_dir)
            };
            let _ = tx.send(outcome);
            ctx.request_repaint();
        });
        if let Err(e) = spawned {
            let (tx2, rx2) = mpsc::channel();
            let _ = tx2.send(DialogOutcome::Unavailable(format!("cannot start the dialog thread: {e}")));
            return Self { rx: rx2, compare };
        }
        Self { rx, compare }
    }

    /// The outcome, once the dialog has closed. Never blocks.
    pub fn poll(&self) -> Option<DialogOutcome> {
        match self.rx.try_recv() {
            Ok(outcome) => Some(outcome),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                Some(DialogOutcome::Unavailable("the file dialog stopped unexpectedly".to_owned()))
            }
        }
    }
}

fn run_dialog(compare: bool, start_dir: Option<PathBuf>) -> DialogOutcome {
    let title = if compare { "Open two captures: before and after" } else { "Open a capture" };
    let mut dialog = rfd::AsyncFileDialog::new().set_title(title);
    if let Some(dir) = start_dir {
        dialog = dialog.set_directory(dir);
    }
    dialog = dialog
        .add_filter(
            "Captures",
            &["txt", "log", "pb", "gz", "pprof", "prof", "trace", "out", "json", "cpuprofile"],
        )
        .add_filter("All files", &["*"]);
    let started = Instant::now();
    let picked: Option<Vec<PathBuf>> =
        block_on(dialog.pick_files()).map(|handles| handles.iter().map(|h| h.path().to_path_buf()).collect());
    match picked {
        Some(paths) if !paths.is_empty() => DialogOutcome::Picked(paths),
        _ if started.elapsed() < NO_SERVICE_WITHIN => DialogOutcome::Unavailable(
            "the file dialog closed at once: no dialog service answered (xdg-desktop-portal or zenity)"
                .to_owned(),
        ),
        _ => DialogOutcome::Cancelled,
    }
}

/// Why no dialog can be shown, when that is known before trying.
fn missing_service() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let has_bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        || std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| PathBuf::from(d).join("bus").exists());
    let has_zenity = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("zenity").is_file()));
    if has_bus || has_zenity {
        None
    } else {
        Some("no file dialog service here (no D-Bus session for xdg-desktop-portal, no zenity)".to_owned())
    }
}

/// Drives one future to completion on this thread. rfd's async dialog is what works on every
/// platform (macOS insists on its own main-thread dance); we only need to wait for it.
fn block_on<F: Future>(future: F) -> F::Output {
    struct ThreadWaker(std::thread::Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}
