//! Records the source revision for `gateway_build_info{revision}` (SPEC §8): the
//! `GATEWAY_REVISION` environment variable when the build sets it (the Dockerfile's build
//! argument), else the checkout's commit when `git` and a repository are there. Without either
//! the metric says `unknown`. Nothing here touches the network.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=GATEWAY_REVISION");
    let revision = std::env::var("GATEWAY_REVISION")
        .ok()
        .filter(|r| !r.trim().is_empty())
        .or_else(git_revision);
    if let Some(revision) = revision {
        println!("cargo:rustc-env=GATEWAY_REVISION={}", revision.trim());
    }
}

/// The commit checked out, short form; None outside a repository or without `git`.
fn git_revision() -> Option<String> {
    // A new commit or a checkout changes HEAD or the branch it names: build again then.
    for path in ["HEAD", "packed-refs"] {
        if let Some(file) = git(&["rev-parse", "--git-path", path]) {
            println!("cargo:rerun-if-changed={file}");
        }
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        if let Some(file) = git(&["rev-parse", "--git-path", &branch]) {
            println!("cargo:rerun-if-changed={file}");
        }
    }
    git(&["rev-parse", "--short=12", "HEAD"])
}

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}
