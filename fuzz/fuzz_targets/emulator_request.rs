//! The embedded emulator's request parsing: an API body (JSON or form) or a GET query, then
//! the forwarded `parameters` and every typed accessor the API handlers use. Any input, no
//! panic.
//!
//! Input: a selector byte (JSON, form, query), then the body.
#![no_main]

use authlete_gateway::emulator::params::{parameters, Body};
use libfuzzer_sys::fuzz_target;

const KEYS: [&str; 8] = [
    "parameters",
    "ticket",
    "subject",
    "claims",
    "scopes",
    "authTime",
    "properties",
    "sub",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let body = match selector % 3 {
        0 => Body::parse("application/json", bytes),
        1 => Body::parse("application/x-www-form-urlencoded; charset=utf-8", bytes),
        _ => Ok(Body::from_query(&String::from_utf8_lossy(bytes))),
    };
    let Ok(body) = body else {
        return;
    };
    for key in KEYS {
        let _ = body.string(key);
        let _ = body.int(key);
        let _ = body.flag(key);
        let _ = body.list(key);
        let _ = body.array(key);
        let _ = body.json_object(key);
        let _ = body.json_text_object(key);
    }
    let _ = body.repeated(&KEYS);
    if let Ok(params) = parameters(&body) {
        for key in KEYS {
            let all = params.all(key);
            assert!(params.count(key) >= all.len());
            if let Some(value) = params.get(key) {
                assert_eq!(Some(value), all.first().copied());
            }
        }
        let _ = params.repeated(&KEYS);
    }
});
