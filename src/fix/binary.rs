//! Where start-up lookups and git's credential helper find hfguard: a path that stays.
//!
//! A lookup written into `.bashrc` or `~/.gitconfig` runs in every new shell and every git
//! push for years. It calls hfguard by absolute path (the `PATH` line often comes later in
//! the file, and GUIs run git with a shorter `PATH`), and that path must outlive the build
//! folder or temporary place the running binary may live in: after `cargo clean`, a lookup
//! naming `…/target/release/hfguard` would break every new shell and make git prompt for a
//! password. So when the running hfguard lives in such a place, the plan installs a copy at
//! `~/.local/bin/hfguard` (journaled like any other change) and the lookups name the copy.

use crate::home::Home;
use std::path::{Path, PathBuf};

/// How hfguard is called from the files a fix writes.
pub struct SelfCommand {
    /// The path, quoted for a shell when it needs it.
    pub text: String,
    /// The path itself.
    pub path: PathBuf,
    /// The copy the plan must install first: (where, from).
    pub install: Option<(PathBuf, PathBuf)>,
}

/// The folder hfguard installs itself into.
pub fn install_dir(home: &Home) -> PathBuf {
    home.dir.join(".local/bin")
}

/// Whether `path` is a place a binary does not stay: a cargo build folder or a temporary
/// folder.
pub fn is_transient(path: &Path) -> bool {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let in_target = parts.windows(2).any(|w| {
        w[0] == "target"
            && (matches!(w[1].as_str(), "debug" | "release") || w[1].contains("-linux-"))
    }) || parts.iter().any(|p| p == "deps" || p == "build")
        && parts.iter().any(|p| p == "target");
    let tmp = [
        std::env::temp_dir(),
        PathBuf::from("/tmp"),
        PathBuf::from("/var/tmp"),
        PathBuf::from("/dev/shm"),
    ];
    in_target || tmp.iter().any(|t| path.starts_with(t))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// How lookups call hfguard on `home`, and the install that needs first, if any.
pub fn resolve(home: &Home) -> SelfCommand {
    let me = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok());
    let installed = install_dir(home).join("hfguard");
    let pick = |path: PathBuf, install: Option<(PathBuf, PathBuf)>| SelfCommand {
        text: shell_quote(&path.to_string_lossy()),
        path,
        install,
    };
    // Set by whoever packages hfguard (and by the tests): the path lookups name, as is.
    if let Some(set) = home.var("HFGUARD_BIN") {
        return pick(PathBuf::from(set), None);
    }
    let Some(me) = me else {
        return pick(PathBuf::from("hfguard"), None);
    };
    // The copy in ~/.local/bin, when it is this very program (installed, or linked there).
    if same_file(&installed, &me) {
        return pick(installed, None);
    }
    if !is_transient(&me) {
        return pick(me, None);
    }
    // This program on the user's PATH, at a place that stays.
    if let Some(path) = home.var("PATH") {
        for dir in std::env::split_paths(path) {
            let cand = dir.join("hfguard");
            if !is_transient(&cand) && same_file(&cand, &me) {
                return pick(cand, None);
            }
        }
    }
    if let (Ok(a), Ok(b)) = (std::fs::read(&installed), std::fs::read(&me)) {
        if a == b {
            return pick(installed, None);
        }
    }
    pick(installed.clone(), Some((installed, me)))
}

/// `s` quoted for a POSIX shell (and fish) when it holds anything but safe characters.
pub fn shell_quote(s: &str) -> String {
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_temporary_folders_are_transient() {
        assert!(is_transient(Path::new(
            "/src/hfguard/target/release/hfguard"
        )));
        assert!(is_transient(Path::new("/src/x/target/debug/hfguard")));
        assert!(is_transient(Path::new(
            "/src/x/target/x86_64-unknown-linux-gnu/release/hfguard"
        )));
        assert!(is_transient(Path::new("/tmp/hfguard")));
        assert!(!is_transient(Path::new("/home/a/.cargo/bin/hfguard")));
        assert!(!is_transient(Path::new("/home/a/.local/bin/hfguard")));
        assert!(!is_transient(Path::new("/usr/local/bin/hfguard")));
    }

    #[test]
    fn quoting_for_shells() {
        assert_eq!(shell_quote("/usr/bin/hfguard"), "/usr/bin/hfguard");
        assert_eq!(
            shell_quote("/opt/my tools/hfguard"),
            "'/opt/my tools/hfguard'"
        );
    }
}
