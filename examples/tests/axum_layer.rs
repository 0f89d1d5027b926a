//! Runs the `axum_layer` example against its own emulator and checks what the emulator saw.

#[allow(dead_code)] // the example's `main` is not called here
#[path = "../examples/axum_layer.rs"]
mod axum_layer;

use zoho_oauth_emulator::{Config, Emulator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_axum_handler_reads_the_crm_through_the_layer_which_repairs_a_dropped_token() {
    let emu = Emulator::start(Config::default()).unwrap();
    let summary = axum_layer::run_on(&emu).await.unwrap();
    assert!(summary.starts_with("first: 200 OK "), "{summary}");
    assert!(
        summary.contains("after Zoho dropped the token: 200 OK "),
        "{summary}"
    );
    let seen = emu.counters();
    // Two answers for the handler, one of them after a 401 and one refresh.
    assert_eq!(seen.api_calls, 3, "{summary}");
    assert_eq!(seen.api_unauthorized, 1, "{summary}");
    assert_eq!(seen.refresh_token_requests, 1, "{summary}");
}
