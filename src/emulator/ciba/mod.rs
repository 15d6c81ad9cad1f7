//! The four CIBA APIs: `/backchannel/authentication` and its `issue`, `fail` and `complete`.

pub(crate) mod authentication;
pub(crate) mod complete;
pub(crate) mod fail;
pub(crate) mod issue;
mod request_object;

use crate::emulator::codes::Code;

/// A refused backchannel request: the code, its message arguments and the OAuth `error`.
type Rejection = (Code, Vec<String>, &'static str);

fn reject(code: Code, args: &[&str], error: &'static str) -> Rejection {
    (code, args.iter().map(|s| (*s).to_owned()).collect(), error)
}
