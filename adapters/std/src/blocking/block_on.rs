//! Running an engine operation to completion on the calling thread.
//!
//! The blocking face's effects are done inline, so its futures are ready as soon as they are
//! polled; the only time one is pending is while waiting for another caller's flight of the
//! same credential (an async mutex), when this thread parks until that flight ends.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// Wakes the thread that is blocked in [`block_on`].
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Poll `future` on this thread until it completes, parking while it is pending.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            // A spurious unpark only costs one more poll.
            Poll::Pending => thread::park(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_future_waiting_for_another_thread_completes_when_woken() {
        let lock = Arc::new(async_lock::Mutex::new(0u32));
        let held = lock.try_lock().expect("free");
        let other = Arc::clone(&lock);
        let waiter = thread::spawn(move || block_on(async move { *other.lock().await + 1 }));
        // Releasing the lock wakes the parked thread, which then completes.
        drop(held);
        assert_eq!(waiter.join().unwrap(), 1);
    }
}
