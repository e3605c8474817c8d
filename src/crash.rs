//! Panics. The hook logs them (to the log file, never to the terminal) and never panics itself;
//! it restores the terminal only when nothing else will. While the TUI runs, every panic is
//! handled in order instead: the event loop's by `catch_unwind`, a poller's through its
//! `JoinError` (a timeline edge, the console goes on), and those of a step's task or of the
//! journal writer through `Crashes`, which ends the console the way a panic in the loop does.

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

/// Set while the console catches and handles every panic itself: the hook then only logs.
static CAUGHT: AtomicBool = AtomicBool::new(false);
/// The last panic's message and where it happened, as the hook saw it, for `describe`.
static LAST: Mutex<Option<(String, String)>> = Mutex::new(None);

/// Replaces any hook (ratatui's would write to a terminal that may be gone, and panic there).
pub fn install_hook() {
    std::panic::set_hook(Box::new(hook));
}

fn hook(info: &std::panic::PanicHookInfo<'_>) {
    let message = payload_text(info.payload());
    let at = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
        .unwrap_or_else(|| "an unknown place".into());
    let thread = std::thread::current();
    tracing::error!(
        "panic in thread {} at {at}: {message}",
        thread.name().unwrap_or("unnamed")
    );
    if let Ok(mut last) = LAST.try_lock() {
        *last = Some((message, at));
    }
    if !CAUGHT.load(Ordering::SeqCst) {
        crate::screen::restore();
    }
}

/// While the returned guard lives, panics are the console's to handle (see the module's doc).
pub fn catching() -> Catching {
    CAUGHT.store(true, Ordering::SeqCst);
    Catching(())
}

pub struct Catching(());

impl Drop for Catching {
    fn drop(&mut self) {
        CAUGHT.store(false, Ordering::SeqCst);
    }
}

/// A panic's message, with where it happened when the hook saw it.
pub fn describe(payload: &(dyn Any + Send)) -> String {
    let message = payload_text(payload);
    let at = LAST.try_lock().ok().and_then(|last| {
        last.as_ref()
            .filter(|(m, _)| *m == message)
            .map(|(_, at)| at.clone())
    });
    match at {
        Some(at) => format!("{message} (at {at})"),
        None => message,
    }
}

fn payload_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".into()
    }
}

/// Where a task that must not die unnoticed reports its panic: the first report ends the
/// console (`CrashWatch::next`).
#[derive(Clone)]
pub struct Crashes(Arc<watch::Sender<Option<String>>>);

impl Default for Crashes {
    fn default() -> Crashes {
        Crashes(Arc::new(watch::channel(None).0))
    }
}

impl Crashes {
    /// `what`: which task, and the panic (`describe`). Only the first report is kept.
    pub fn report(&self, what: String) {
        tracing::error!("{what}");
        self.0.send_if_modified(|first| {
            if first.is_some() {
                return false;
            }
            *first = Some(what);
            true
        });
    }

    pub fn watch(&self) -> CrashWatch {
        CrashWatch(self.0.subscribe())
    }
}

pub struct CrashWatch(watch::Receiver<Option<String>>);

impl CrashWatch {
    /// Pending until a panic is reported; then what it was.
    pub async fn next(&mut self) -> String {
        match self.0.wait_for(Option::is_some).await {
            Ok(first) => first.clone().unwrap_or_default(),
            Err(_) => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_report_is_the_one_kept() {
        let crashes = Crashes::default();
        let mut watch = crashes.watch();
        crashes.report("step 1's task: boom".into());
        crashes.report("the journal writer: later".into());
        assert_eq!(watch.next().await, "step 1's task: boom");
    }

    #[test]
    fn payloads_of_both_kinds_are_read() {
        let s: Box<dyn Any + Send> = Box::new("static");
        assert_eq!(describe(&*s), "static");
        let s: Box<dyn Any + Send> = Box::new(String::from("owned"));
        assert_eq!(describe(&*s), "owned");
        let s: Box<dyn Any + Send> = Box::new(7_u8);
        assert_eq!(describe(&*s), "a panic without a message");
    }
}
