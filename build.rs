//! Names the git commit in `hfguard --version`: `HFGUARD_COMMIT` is the short hash of HEAD
//! when the source is a git checkout and git is installed, the `HFGUARD_COMMIT` given to the
//! build when set (packagers), and "unknown" otherwise (a source tarball, an sdist).

// Cargo reads a build script's directives from its standard output: nothing here reaches a
// person, so the output gate (term::say / term::out) does not apply.
#![allow(clippy::disallowed_macros)]

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=HFGUARD_COMMIT");
    println!("cargo:rerun-if-changed=build.rs");
    let given = std::env::var("HFGUARD_COMMIT")
        .ok()
        .filter(|c| !c.is_empty());
    let commit = given.or_else(|| git(&["rev-parse", "--short=12", "HEAD"]));
    // Built again when HEAD moves: the HEAD file, the branch it names, and packed refs (in a
    // linked worktree the branch lives in the common git folder).
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!(
            "cargo:rerun-if-changed={}",
            Path::new(&dir).join("HEAD").display()
        );
    }
    if let Some(common) = git(&["rev-parse", "--git-common-dir"]) {
        let common = Path::new(&common);
        println!(
            "cargo:rerun-if-changed={}",
            common.join("packed-refs").display()
        );
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={}", common.join(branch).display());
        }
    }
    println!(
        "cargo:rustc-env=HFGUARD_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
}
