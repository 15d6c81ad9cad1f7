//! Fault injection: tests script the next calls to answer with a chosen status, headers and
//! body (429 with `Retry-After`, 503, ...), or to be delayed, before the API itself runs.
//! The same handle is shared by every clone, so a test can steer a running emulator.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;

use super::codes;
use super::envelope::api_failure;

/// One scripted misbehaviour. Build with [`Fault::status`] or [`Fault::delay`], then refine.
#[derive(Debug, Clone)]
pub struct Fault {
    api: Option<String>,
    remaining: usize,
    status: Option<u16>,
    headers: Vec<(String, String)>,
    body: Option<String>,
    delay: Option<Duration>,
}

impl Fault {
    /// The next call answers `status` (once, on any API, unless refined). Without
    /// [`Fault::body`], a 5xx carries an A001101 envelope and other statuses an empty body.
    pub fn status(status: u16) -> Self {
        Self {
            api: None,
            remaining: 1,
            status: Some(status),
            headers: Vec::new(),
            body: None,
            delay: None,
        }
    }

    /// The next call is answered normally, but only after `by` (real time).
    pub fn delay(by: Duration) -> Self {
        Self {
            status: None,
            delay: Some(by),
            ..Self::status(200)
        }
    }

    /// Limits the fault to one API, named by its path without `/api` and the service id,
    /// e.g. `"auth/token"` or `"backchannel/authentication/complete"`.
    pub fn on(mut self, api: &str) -> Self {
        self.api = Some(api.trim_matches('/').to_owned());
        self
    }

    /// Applies the fault to the next `n` matching calls instead of one.
    pub fn times(mut self, n: usize) -> Self {
        self.remaining = n;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The response body; sent as `application/json` unless a `Content-Type` header is set.
    pub fn body(mut self, body: &str) -> Self {
        self.body = Some(body.to_owned());
        self
    }

    /// Also waits `by` before answering the injected status.
    pub fn after(mut self, by: Duration) -> Self {
        self.delay = Some(by);
        self
    }

    /// Waits if asked to, then returns the injected response, or `None` to proceed normally.
    pub(crate) async fn apply(&self, api: &str) -> Option<HttpResponse> {
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
        let status = StatusCode::from_u16(self.status?).ok()?;
        let mut response = match &self.body {
            None if status.is_server_error() => {
                api_failure(status, codes::A001101, &[&format!("/{api}")])
            }
            None => HttpResponse::build(status).finish(),
            Some(body) => HttpResponse::build(status)
                .content_type("application/json")
                .body(body.clone()),
        };
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                actix_web::http::header::HeaderName::try_from(name.as_str()),
                actix_web::http::header::HeaderValue::try_from(value.as_str()),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
        Some(response)
    }
}

#[derive(Debug, Default)]
struct FaultState {
    queue: Vec<Fault>,
}

/// The shared fault-injection handle; clones control the same emulator.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    inner: Arc<Mutex<FaultState>>,
}

impl Faults {
    /// Queues `fault`; earlier faults match first.
    pub fn inject(&self, fault: Fault) {
        if fault.remaining > 0 {
            self.lock().queue.push(fault);
        }
    }

    /// Drops every queued fault.
    pub fn clear(&self) {
        self.lock().queue.clear();
    }

    /// How many calls queued faults will still affect.
    pub fn remaining(&self) -> usize {
        self.lock().queue.iter().map(|f| f.remaining).sum()
    }

    /// Consumes one use of the first fault that matches `api`.
    pub(crate) fn take(&self, api: &str) -> Option<Fault> {
        let mut state = self.lock();
        let index = state
            .queue
            .iter()
            .position(|f| f.api.as_deref().is_none_or(|a| a == api))?;
        let fault = &mut state.queue[index];
        fault.remaining -= 1;
        let taken = fault.clone();
        if fault.remaining == 0 {
            state.queue.remove(index);
        }
        Some(taken)
    }

    fn lock(&self) -> MutexGuard<'_, FaultState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}
