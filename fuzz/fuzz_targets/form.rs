//! The strict form parser (SPEC §3): any bytes, no panic; what it accepts is exactly what a
//! lenient `application/x-www-form-urlencoded` reader makes of the same text, and the
//! `Content-Type` check never panics.
#![no_main]

use actix_web::test::TestRequest;
use authlete_gateway::http::form::{is_form, parse_strict};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first line doubles as a Content-Type value.
    if let Some(line) = data.split(|b| *b == b'\n').next() {
        if let Ok(value) = actix_web::http::header::HeaderValue::from_bytes(line) {
            let req = TestRequest::default()
                .insert_header((actix_web::http::header::CONTENT_TYPE, value))
                .to_http_request();
            let _ = is_form(&req);
        }
    }

    let Ok(form) = parse_strict(data.to_vec()) else {
        return;
    };
    assert_eq!(
        form.raw.as_bytes(),
        data,
        "the raw body is forwarded verbatim"
    );
    // Accepted input has valid escapes and UTF-8, so the lenient reader, which replaces what
    // it cannot decode, must agree pair for pair.
    let lenient: Vec<(String, String)> = form_urlencoded::parse(data)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(form.pairs, lenient);
    for (name, _) in &form.pairs {
        let count = form.all(name).count();
        assert!(count >= 1);
        assert_eq!(form.single(name).is_some(), count == 1);
    }
});
