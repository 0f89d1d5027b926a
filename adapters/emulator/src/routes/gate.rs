//! What every token-like request (`/oauth/v2/token`, `/oauth/v3/device/*`) goes through before it
//! is processed: counted, counted in flight, delayed by the configured latency, and answered by
//! the next queued fault if there is one.

use std::sync::{Arc, Mutex, PoisonError};

use axum::response::Response;

use super::AppState;
use crate::conn::ConnControl;
use crate::faults;
use crate::state::Model;

/// Counts a request as in flight for as long as it lives, even if its task is dropped.
pub(crate) struct InFlight(Arc<Mutex<Model>>);

impl InFlight {
    fn enter(model: &Arc<Mutex<Model>>) -> Self {
        model
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .counters
            .enter();
        InFlight(Arc::clone(model))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .counters
            .leave();
    }
}

/// Lets a request in: `count` records it, then the latency passes and the fault queue is
/// consulted. `Ok` holds the in-flight mark for the caller to keep while it answers; `Err` is the
/// fault's response (a hang never returns; the request stays in flight until the emulator stops).
pub(crate) async fn admit(
    app: &AppState,
    conn: &ConnControl,
    count: impl FnOnce(&mut Model),
) -> Result<InFlight, Response> {
    let in_flight = InFlight::enter(&app.model);
    let (latency, fault, throttle_status) = {
        let mut model = app.model();
        count(&mut model);
        (
            model.latency,
            model.next_fault(),
            model.limits.throttle_status,
        )
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        None => Ok(in_flight),
        Some(fault) => {
            let base_url = app.topology.base_url(app.data_center).unwrap_or_default();
            Err(faults::respond(fault, conn, throttle_status, base_url).await)
        }
    }
}
