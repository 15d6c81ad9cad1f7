//! Standard Webhooks signatures checked by an implementation independent of the gateway's
//! signer: the `standardwebhooks` package from PyPI, run by `tests/webhooks/verify.py`.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::json;
use wiremock::Request;

use super::outside::installed_or_skipped;

const VERIFIER: &str = "python3 with the standardwebhooks package";
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/webhooks/verify.py");

/// Whether a test that checks signatures may go on (see `installed_or_skipped`).
pub fn webhook_verifier_installed() -> bool {
    let installed = Command::new("python3")
        .args(["-c", "import standardwebhooks"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    installed_or_skipped(VERIFIER, installed)
}

/// Whether `request` carries exactly one signature per secret of `secrets`, each valid for its
/// id, timestamp and `body`; Err says why not.
pub async fn verify_webhook(
    request: &Request,
    body: &[u8],
    secrets: &[&str],
) -> Result<(), String> {
    let headers: serde_json::Map<String, serde_json::Value> =
        ["webhook-id", "webhook-timestamp", "webhook-signature"]
            .into_iter()
            .filter_map(|name| {
                let value = request.headers.get(name)?.to_str().ok()?;
                Some((name.to_owned(), json!(value)))
            })
            .collect();
    let input = json!({
        "secrets": secrets,
        "headers": headers,
        "body": String::from_utf8_lossy(body),
    })
    .to_string();
    let output = actix_web::rt::task::spawn_blocking(move || {
        let mut child = Command::new("python3")
            .arg(SCRIPT)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(input.as_bytes())?;
        }
        child.wait_with_output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("running {SCRIPT}: {e}"));
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

/// Asserts that `request`, as received, is signed with every secret of `secrets`.
pub async fn assert_signed(request: &Request, secrets: &[&str]) {
    if let Err(why) = verify_webhook(request, &request.body, secrets).await {
        panic!("the webhook's signatures do not verify: {why}");
    }
}
