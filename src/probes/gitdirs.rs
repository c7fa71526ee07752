//! Git directories the walk meets — `.git` folders and bare repositories — and the config
//! files inside them that can hold remote URLs, URL rewrites and HTTP headers: the
//! repository's `config` (and `config.worktree`), each linked worktree's `config.worktree`,
//! and the git directory of every submodule under `modules/`, nested ones included. Nothing
//! else inside a git directory is read: objects and packs hold history, not configuration.

use std::path::{Path, PathBuf};

/// How deep submodule git directories are looked for under `modules/` (a submodule named
/// `a/b` lives in `modules/a/b`; nested submodules add `modules/` levels).
const MAX_DEPTH: usize = 12;
/// Config files taken from one git directory at most (a repository with thousands of
/// submodules is not a credential store).
const MAX_FILES: usize = 2000;

/// Whether `dir` is a git directory, as git itself decides: a `HEAD` file and `objects/` and
/// `refs/` folders. The `HEAD` test comes first: it is the only one most folders need.
pub fn is_git_dir(dir: &Path) -> bool {
    let is = |name: &str, dir_wanted: bool| {
        std::fs::symlink_metadata(dir.join(name)).is_ok_and(|m| {
            if dir_wanted {
                m.is_dir()
            } else {
                m.is_file()
            }
        })
    };
    is("HEAD", false) && is("objects", true) && is("refs", true)
}

/// The config files of the git directory `dir` that exist, the repository's own first.
pub fn config_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect(dir, 0, &mut out);
    out
}

fn collect(git_dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    for name in ["config", "config.worktree"] {
        push_file(git_dir.join(name), out);
    }
    for worktree in subdirs(&git_dir.join("worktrees")) {
        push_file(worktree.join("config.worktree"), out);
    }
    modules(&git_dir.join("modules"), depth, out);
}

/// Submodule git directories under `dir` (`modules/<name>`, where a name may hold `/`).
fn modules(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth >= MAX_DEPTH {
        return;
    }
    for sub in subdirs(dir) {
        if out.len() >= MAX_FILES {
            return;
        }
        if is_git_dir(&sub) {
            collect(&sub, depth + 1, out);
        } else {
            modules(&sub, depth + 1, out);
        }
    }
}

fn push_file(path: PathBuf, out: &mut Vec<PathBuf>) {
    if out.len() < MAX_FILES && std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
        out.push(path);
    }
}

/// Folders in `dir` (never through a symlink), sorted; nothing when it cannot be read.
fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Whether `path` is a config file inside a git directory, from its path alone (and, for a
/// bare repository's `config`, a look at its folder): for the watcher, which sees single
/// files.
pub fn is_repo_config(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if name != "config" && name != "config.worktree" {
        return false;
    }
    path.components().any(|c| c.as_os_str() == ".git") || path.parent().is_some_and(is_git_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_of_submodules_worktrees_and_nested_modules() {
        let t = tempfile::tempdir().unwrap();
        let git = t.path().join(".git");
        let mk_git_dir = |d: &Path| {
            std::fs::create_dir_all(d.join("objects")).unwrap();
            std::fs::create_dir_all(d.join("refs")).unwrap();
            std::fs::write(d.join("HEAD"), "ref: refs/heads/main\n").unwrap();
            std::fs::write(d.join("config"), "[core]\n").unwrap();
        };
        mk_git_dir(&git);
        mk_git_dir(&git.join("modules/libs/a"));
        mk_git_dir(&git.join("modules/libs/a/modules/inner"));
        std::fs::create_dir_all(git.join("worktrees/feature")).unwrap();
        std::fs::write(git.join("worktrees/feature/config.worktree"), "").unwrap();
        std::fs::write(git.join("worktrees/feature/HEAD"), "").unwrap();
        let rel: Vec<String> = config_files(&git)
            .iter()
            .map(|p| p.strip_prefix(&git).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            rel,
            [
                "config",
                "worktrees/feature/config.worktree",
                "modules/libs/a/config",
                "modules/libs/a/modules/inner/config"
            ]
        );
        assert!(is_git_dir(&git));
        assert!(!is_git_dir(t.path()));
        assert!(is_repo_config(&git.join("modules/libs/a/config")));
        assert!(!is_repo_config(&t.path().join("config")));
    }
}
