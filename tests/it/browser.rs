//! The developer console in a real browser: one Approve click in headless Chromium, driven by
//! `tests/browser/approve.mjs` (playwright-core), and the client then gets tokens.

use std::path::Path;
use std::time::Duration;

use crate::support::*;

const POLL: (&str, &str) = ("poll-client", "poll-secret");

/// True when node, playwright-core and Chromium are installed (`.ci/run` installs them).
fn browser_available() -> bool {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    root.join("node_modules/playwright-core").exists() && Path::new(&chromium).exists()
}

#[actix_web::test]
async fn one_approve_click_in_headless_chromium_lets_the_client_get_tokens() {
    let program = "Chromium with tests/browser's playwright-core";
    if !installed_or_skipped(program, browser_available()) {
        return;
    }
    let gw = TestGateway::start_embedded(|_| {}).await;
    let ack = gw.start_ciba(POLL, "&binding_message=CLICK").await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/approve.mjs");
    let url = format!("{}/console", gw.admin);
    let output = actix_web::rt::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .arg(url)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        output.status.success(),
        "the browser run failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    gw.clock.advance(Duration::from_secs(5));
    let tokens = gw.poll(POLL, ack["auth_req_id"].as_str().unwrap()).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert!(tokens.json()["access_token"].is_string());
}
