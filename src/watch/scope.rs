//! What the watcher looks at, and what a changed path is to the audit.
//!
//! Watched without recursion: the folders holding the known credential, start-up and history
//! files (a folder that does not exist yet through its nearest existing parent), the home
//! itself, and the folders of any other file the first audit found a secret in (a sourced
//! start-up file, a dotfile manager's target). Watched recursively: the AI assistants' log
//! folders and the *project roots*: the configured ones (`[scan] paths`, `--path`) and, unless
//! switched off, every top-level folder of the home that is not hidden (`~/work`, `~/src`,
//! `~/notebooks`), skipping what the walk skips (`node_modules`, virtualenv packages, caches).

use crate::audit::ScanOptions;
use crate::finding::Finding;
use crate::home::{Home, AI_LOG_DIRS};
use crate::kind::FileKind;
use crate::probes::walk::{classify, Skips, SKIP_DIRS};
use std::collections::{BTreeSet, HashMap};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

pub struct Scope {
    home: PathBuf,
    /// Known locations and their kinds.
    known: HashMap<PathBuf, FileKind>,
    /// Files found holding secrets outside the known locations and the recursive roots, with
    /// the kind the audit gave them.
    extra: HashMap<PathBuf, FileKind>,
    /// Watched recursively: project roots and AI log folders.
    pub roots: Vec<PathBuf>,
    /// Project roots alone, for people ("watching ~/work, ~/src").
    pub projects: Vec<PathBuf>,
    skips: Skips,
}

/// The home's top-level folders that are not hidden: where a user keeps projects.
pub fn home_projects(home: &Home) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(&home.dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            !name.starts_with('.') && !SKIP_DIRS.contains(&name.as_ref())
        })
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

impl Scope {
    pub fn new(home: &Home, options: &ScanOptions, home_projects_too: bool) -> Scope {
        let mut known = HashMap::new();
        for k in home.known_files() {
            known.entry(k.path).or_insert(k.kind);
        }
        let mut projects: Vec<PathBuf> = options.extra_roots.clone();
        projects.extend(options.config.scan.paths.iter().map(|p| home.expand(p)));
        if home_projects_too {
            projects.extend(home_projects(home));
        }
        projects.retain(|p| p.is_dir());
        projects.sort();
        projects.dedup();
        // A root inside another is watched as part of it.
        let all = projects.clone();
        projects.retain(|p| !all.iter().any(|q| q != p && p.starts_with(q)));
        let mut roots = projects.clone();
        for (dir, _) in AI_LOG_DIRS {
            let d = home.dir.join(dir);
            if d.is_dir() && !roots.iter().any(|r| d.starts_with(r)) {
                roots.push(d);
            }
        }
        Scope {
            home: home.dir.clone(),
            known,
            extra: HashMap::new(),
            roots,
            projects,
            skips: Skips::new(home, &options.config.scan),
        }
    }

    /// Remembers where the audit found secrets outside the watched places (a sourced start-up
    /// file, a dotfile manager's target), so their folders are watched too.
    pub fn remember(&mut self, findings: &[Finding]) {
        for f in findings {
            let (Some(path), Some(kind)) = (&f.path, FileKind::from_rule(&f.rule)) else {
                continue;
            };
            if f.fingerprint.is_some() && self.kind_of(path).is_none() {
                self.extra.insert(path.clone(), kind);
            }
        }
    }

    /// Folders to watch without recursion.
    pub fn folders(&self) -> BTreeSet<PathBuf> {
        let mut out = BTreeSet::new();
        out.insert(self.home.clone());
        for p in self.known.keys().chain(self.extra.keys()) {
            if let Some(dir) = p.parent().and_then(|d| existing_ancestor(d, &self.home)) {
                out.insert(dir);
            }
        }
        for (dir, _) in AI_LOG_DIRS {
            if let Some(d) = existing_ancestor(&self.home.join(dir), &self.home) {
                out.insert(d);
            }
        }
        out
    }

    /// Whether the walk enters `dir` (a folder under a recursive root).
    pub fn enters(&self, dir: &Path) -> bool {
        let name = dir
            .file_name()
            .map(OsStr::to_string_lossy)
            .unwrap_or_default();
        !self.skips.dirs.iter().any(|s| *s == name)
            && !self.skips.paths.iter().any(|p| p == dir)
            && !dir.join("CACHEDIR.TAG").is_file()
    }

    /// Whether `dir` lies under a recursive root (and may hold files the audit reads).
    pub fn under_root(&self, dir: &Path) -> bool {
        self.roots.iter().any(|r| dir.starts_with(r))
    }

    /// What the audit takes the file `path` to be, or `None` when the audit would not read
    /// it (a file that is neither a known location, nor under a root, nor in the home itself).
    pub fn kind_of(&self, path: &Path) -> Option<FileKind> {
        if let Some(k) = self.known.get(path).or_else(|| self.extra.get(path)) {
            return Some(*k);
        }
        let parent = path.parent()?;
        let in_git = parent.file_name() == Some(OsStr::new(".git"));
        let under_root = self.under_root(parent);
        if !(under_root || parent == self.home || in_git && self.under_root(parent.parent()?)) {
            return None;
        }
        if in_git && path.file_name() != Some(OsStr::new("config")) {
            return None;
        }
        if let Some(ext) = path.extension().and_then(OsStr::to_str) {
            if self
                .skips
                .extensions
                .iter()
                .any(|s| s.eq_ignore_ascii_case(ext))
            {
                return None;
            }
        }
        let kind = classify(&self.home, path);
        // AI log folders hold only their logs.
        let in_logs = AI_LOG_DIRS
            .iter()
            .any(|(d, _)| path.starts_with(self.home.join(d)));
        (!in_logs || kind == FileKind::AiSessionLog).then_some(kind)
    }

    /// The histories and session logs that exist: read once at the start, so that every
    /// later change to one is read from where that read stopped.
    pub fn append_only_files(&self) -> Vec<(PathBuf, FileKind)> {
        let mut out: Vec<(PathBuf, FileKind)> = self
            .known
            .iter()
            .chain(self.extra.iter())
            .filter(|(p, k)| super::state::is_append_only(**k) && p.is_file())
            .map(|(p, k)| (p.clone(), *k))
            .collect();
        for (dir, ext) in AI_LOG_DIRS {
            let mut stack = vec![(self.home.join(dir), 0)];
            while let Some((d, depth)) = stack.pop() {
                let Ok(rd) = std::fs::read_dir(&d) else {
                    continue;
                };
                for e in rd.flatten() {
                    let Ok(t) = e.file_type() else { continue };
                    let p = e.path();
                    if t.is_dir() && depth < 6 {
                        stack.push((p, depth + 1));
                    } else if t.is_file() && p.to_string_lossy().ends_with(ext) {
                        out.push((p, FileKind::AiSessionLog));
                    }
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.dedup_by(|a, b| a.0 == b.0);
        out
    }

    /// Known locations that exist, for a full look after the kernel dropped events.
    pub fn known_paths(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self
            .known
            .keys()
            .chain(self.extra.keys())
            .cloned()
            .collect();
        v.sort();
        v
    }
}

fn existing_ancestor(dir: &Path, home: &Path) -> Option<PathBuf> {
    let mut d = dir.to_path_buf();
    loop {
        if d.is_dir() {
            return Some(d);
        }
        if d == home || !d.pop() {
            return None;
        }
    }
}
