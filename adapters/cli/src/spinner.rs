//! A progress line on stderr for waits longer than a second (a lock held by another process, a
//! slow Zoho, the browser of `login`): drawn only on a terminal, erased when the wait ends, so
//! that pipes and logs never see it.

use std::io::Write;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a wait goes unannounced.
const DELAY: Duration = Duration::from_secs(1);
/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(120);
const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// A progress line shown while it lives (after [`DELAY`], on a terminal only).
pub struct Spinner {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Spinner {
    /// Start announcing `message` if the wait lasts; nothing at all when stderr is not a
    /// terminal.
    pub fn start(message: impl Into<String>) -> Self {
        if !crate::out::stderr_is_live_terminal() {
            return Self {
                stop: None,
                thread: None,
            };
        }
        let message = crate::out::clean(&message.into()).into_owned();
        let (tx, rx) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut wait = DELAY;
            let mut drawn = false;
            for frame in FRAMES.iter().cycle() {
                match rx.recv_timeout(wait) {
                    Err(RecvTimeoutError::Timeout) => {}
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                }
                let mut err = std::io::stderr().lock();
                let _ = write!(
                    err,
                    "\r\x1b[2K{frame} {message} ({} s)",
                    started.elapsed().as_secs()
                );
                let _ = err.flush();
                drawn = true;
                wait = TICK;
            }
            if drawn {
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r\x1b[2K");
                let _ = err.flush();
            }
        });
        Self {
            stop: Some(tx),
            thread: Some(thread),
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            // The line is erased before anything else is printed.
            let _ = t.join();
        }
    }
}

/// Run `f` with a progress line saying `message` if it takes longer than a second.
pub fn while_waiting<T>(message: &str, f: impl FnOnce() -> T) -> T {
    let _spinner = Spinner::start(message);
    f()
}
