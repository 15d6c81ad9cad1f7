//! Tests that need an outside program (STYLE.md): under `CI=true` a missing program fails the
//! test; elsewhere the test says it is skipped and returns. `.ci/run` installs every such program.

/// Whether a test that needs `program` may go on: true when `installed`. Otherwise it panics
/// under `CI=true`, and elsewhere prints `skipped: <program> not installed` and returns false.
pub fn installed_or_skipped(program: &str, installed: bool) -> bool {
    if installed {
        return true;
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "{program} is not installed: CI must install it (see .ci/run)"
    );
    eprintln!("skipped: {program} not installed");
    false
}
