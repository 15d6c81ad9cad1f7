//! Decision tokens (SPEC §5.1) are not malleable: a token sealed here opens to exactly its
//! claims, and no change to it (a byte replaced, inserted or removed, a truncation, an
//! extension) opens at all. Arbitrary text never opens either, and nothing panics.
#![no_main]

use authlete_gateway::ciba::decision::{DecisionClaims, DecisionKeys};
use authlete_gateway::ciba::DeliveryMode;
use authlete_gateway::config::{Secret, SecretList};
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_000;

fn keys() -> DecisionKeys {
    let list = SecretList(vec![
        Secret::new("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
        Secret::new("HxwdHh8AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRo"),
    ]);
    DecisionKeys::from_config(&list).unwrap_or_else(|e| panic!("{e}"))
}

fuzz_target!(|data: &[u8]| {
    let keys = keys();
    // Arbitrary text: never opens (a forgery), never panics.
    if let Ok(text) = std::str::from_utf8(data) {
        assert!(
            keys.open(text, NOW).is_err(),
            "forged token opened: {text:?}"
        );
    }

    // Claims from the first half of the input, edits from the second.
    let (claims_bytes, edits) = data.split_at(data.len() / 2);
    let text = String::from_utf8_lossy(claims_bytes);
    let mut parts = text.split('\u{0}');
    let mut next = || parts.next().unwrap_or("").to_owned();
    let claims = DecisionClaims {
        ticket: next(),
        subject: next(),
        client_id: Some(next()),
        client_name: None,
        delivery_mode: Some(DeliveryMode::Ping),
        claim_names: vec![next()],
        acrs: vec![],
        issued_at: NOW,
        expires_at: NOW + 60,
        traceparent: None,
    };
    let token = keys.seal(&claims).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(keys.open(&token, NOW), Ok(claims));

    let mut mutated = token.clone().into_bytes();
    for edit in edits.chunks(3) {
        let [op, at, byte] = [
            edit[0],
            *edit.get(1).unwrap_or(&0),
            *edit.get(2).unwrap_or(&0),
        ];
        let at = usize::from(at) * mutated.len().max(1) / 256;
        match op % 5 {
            0 if at < mutated.len() => mutated[at] = byte,
            1 => mutated.insert(at.min(mutated.len()), byte),
            2 if at < mutated.len() => {
                mutated.remove(at);
            }
            3 => mutated.truncate(at),
            _ => mutated.push(byte),
        }
    }
    if mutated != token.as_bytes() {
        if let Ok(mutated) = String::from_utf8(mutated) {
            assert!(
                keys.open(&mutated, NOW).is_err(),
                "a mutated token opened: {token} -> {mutated}"
            );
        }
    }
});
