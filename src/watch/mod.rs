//! Watching for regressions. [`scope`] says what is watched, [`source`] brings the kernel's
//! change events (never its open or read events: the watcher's own reads wake nothing),
//! [`state`] re-reads only the files that changed — for histories and logs only what was
//! appended — and [`own`] tells hfguard's own fixes and undos (from the journal) apart
//! from regressions. After a burst of events settles, the findings at the changed paths are
//! compared with what was there: a new one is a regression, one that went is resolved.
//! Idle, the watcher sleeps in the kernel; only folders past the inotify budget are polled.

mod own;
mod scope;
mod source;
mod state;

pub use scope::home_projects;

use crate::audit::{self, ScanOptions};
use crate::finding::{Finding, FixKind};
use crate::fix::{self, Journal};
use crate::fsread::{self, Entry};
use crate::home::Home;
use crate::keystore::KeyStore;
use crate::kind::FileKind;
use scope::Scope;
use source::{Armed, Changes, Source};
use state::State;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How the watcher behaves.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// Apply the chmod fix to permission regressions at once (journaled like any fix).
    pub auto_fix_chmod: bool,
    /// Quiet time after the last event before looking.
    pub debounce: Duration,
    /// Also watch the home's top-level folders that are not hidden (`~/work`), recursively,
    /// as project roots.
    pub home_projects: bool,
    /// Kernel watches (one per folder) this watcher may place; past it, folders are polled.
    pub max_watches: usize,
}

/// A quarter of the user's inotify limit (other programs and another watcher share it), or
/// `$HFGUARD_WATCH_BUDGET`.
fn default_budget() -> usize {
    if let Some(n) = std::env::var("HFGUARD_WATCH_BUDGET")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    std::fs::read_to_string("/proc/sys/fs/inotify/max_user_watches")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .map_or(8192, |n| (n / 4).clamp(256, 65_536))
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            auto_fix_chmod: false,
            debounce: Duration::from_millis(150),
            home_projects: true,
            max_watches: default_budget(),
        }
    }
}

/// What the watcher reports.
#[derive(Clone, Debug)]
pub enum Event {
    /// Watches are in place: folders watched by the kernel, those polled instead, those not
    /// watched at all (past the budget and the polling cap), and the project roots among the
    /// folders watched recursively.
    Ready {
        watched: usize,
        polled: Vec<PathBuf>,
        unwatched: Vec<PathBuf>,
        projects: Vec<PathBuf>,
    },
    /// A finding that is new, or back after it was gone.
    Regression(Finding),
    /// A finding that went away; `fixed_by` is the hfguard fix that took it away (this
    /// watcher's, or any other hfguard's, from the journal), if one did.
    Resolved {
        finding: Finding,
        fixed_by: Option<String>,
    },
    /// A finding back because hfguard undid a fix (`detail`: "~/.profile back to 0666").
    Undone {
        finding: Finding,
        fix_id: String,
        detail: String,
    },
    Error(String),
}

/// The watcher's working parts.
struct Watcher<'a> {
    home: &'a Home,
    options: &'a ScanOptions,
    scope: Scope,
    source: Source,
    state: State,
}

impl Watcher<'_> {
    /// Places watches on every folder in scope that has none yet: the folders of the known
    /// locations, then the recursive roots breadth first (so a budget runs out deep down).
    fn arm(&mut self) {
        for dir in self.scope.folders() {
            self.source.add(&dir);
        }
        let roots = self.scope.roots.clone();
        for root in roots {
            self.arm_tree(&root, &mut Vec::new());
        }
    }

    /// Watches `top` and every folder under it the walk enters; files found in folders
    /// that were not watched before are pushed to `fresh` (they may have been written before
    /// their folder was watched).
    fn arm_tree(&mut self, top: &Path, fresh: &mut Vec<PathBuf>) {
        let mut queue = VecDeque::from([top.to_path_buf()]);
        while let Some(dir) = queue.pop_front() {
            let new = !self.source.is_armed(&dir);
            if new && self.source.add(&dir) == Armed::Not {
                continue;
            }
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                let Ok(t) = e.file_type() else { continue };
                let p = e.path();
                if t.is_dir() {
                    if p.file_name() == Some(std::ffi::OsStr::new(".git")) {
                        // The walk reads only `.git/config`: watch the folder, not below it.
                        if !self.source.is_armed(&p) && self.source.add(&p) != Armed::Not && new {
                            fresh.push(p.join("config"));
                        }
                    } else if self.scope.enters(&p) {
                        queue.push_back(p);
                    }
                } else if new && t.is_file() {
                    fresh.push(p);
                }
            }
        }
    }

    /// Looks at every changed path again; returns the paths whose findings may differ.
    fn look(&mut self, changes: Changes) -> BTreeSet<PathBuf> {
        let mut touched = BTreeSet::new();
        let mut wanted: Vec<(PathBuf, Option<FileKind>)> = Vec::new();
        let mut files: Vec<(PathBuf, FileKind)> = Vec::new();
        let mut paths: Vec<PathBuf> = changes.paths.into_iter().collect();
        if changes.overflow {
            // The kernel dropped events: anything may have changed.
            paths.extend(self.scope.known_paths());
            paths.extend(self.scope.roots.clone());
        }
        for path in paths {
            match fsread::lstat(&path) {
                Ok(Entry::Dir(_)) => {
                    if path == self.home.dir || self.scope.folders().contains(&path) {
                        wanted.push((path.clone(), None));
                    }
                    if self.scope.under_root(&path) && self.scope.enters(&path) {
                        let mut fresh = Vec::new();
                        self.arm_tree(&path, &mut fresh);
                        files.extend(
                            fresh
                                .into_iter()
                                .filter_map(|f| Some((f.clone(), self.scope.kind_of(&f)?))),
                        );
                    }
                }
                _ => {
                    if self.source.is_armed(&path) {
                        // A folder that went away, and everything known under it.
                        self.source.remove_under(&path);
                        for p in self.state.paths_under(&path) {
                            self.state.forget(&p);
                            touched.insert(p);
                        }
                    }
                    if let Some(kind) = self.scope.kind_of(&path) {
                        files.push((path, kind));
                    }
                }
            }
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        files.dedup_by(|a, b| a.0 == b.0);
        for (path, kind) in files {
            if state::is_append_only(kind) {
                let read = self
                    .state
                    .has_tail(&path)
                    .then(|| self.state.read_appended(self.home, self.options, &path))
                    .flatten();
                touched.extend(read.unwrap_or_else(|| {
                    self.state.read_whole(self.home, self.options, &path, kind)
                }));
            } else {
                wanted.push((path, Some(kind)));
            }
        }
        touched.extend(self.state.reaudit(self.home, self.options, &wanted));
        touched
    }
}

/// Ids of the findings at `paths` that count (not ignored).
fn counted(state: &State, paths: &BTreeSet<PathBuf>) -> HashMap<String, Finding> {
    state
        .at(paths)
        .filter(|f| f.ignored.is_none())
        .map(|f| (f.id.clone(), f.clone()))
        .collect()
}

/// Watches `home` until `emit` returns false (or the event source fails).
pub fn watch(
    home: &Home,
    options: &ScanOptions,
    wopts: &WatchOptions,
    emit: &mut dyn FnMut(Event) -> bool,
) -> Result<(), String> {
    // Processes and variables change all the time and are not files to watch.
    let mut options = options.clone();
    options
        .skip_probes
        .extend(["processes".to_string(), "environment".to_string()]);
    let options = &options;
    let mut w = Watcher {
        home,
        options,
        scope: Scope::new(home, options, wopts.home_projects),
        source: Source::new(wopts.max_watches)?,
        state: State::default(),
    };
    // Watches first, then the first audit: nothing that changes in between is missed.
    w.arm();
    let first = audit::run(home, options, &audit::NoSink).findings;
    w.scope.remember(&first);
    w.arm();
    let appendable = w.scope.append_only_files();
    w.state = State::new(first);
    // Histories and logs get their read state (and their findings) from a read of their own.
    for (path, kind) in appendable {
        w.state.read_whole(home, options, &path, kind);
    }
    w.state.take_before();
    if !emit(Event::Ready {
        watched: w.source.watched(),
        polled: w.source.polled(),
        unwatched: w.source.unwatched(),
        projects: w.scope.projects.clone(),
    }) {
        return Ok(());
    }
    let mut own = own::Own::new(home);
    let keys = KeyStore::new(home);
    let journal = Journal::new(home);
    loop {
        // Sleep until something changes, then let the burst settle.
        let mut changes = w.source.wait(None)?;
        let began = std::time::SystemTime::now();
        loop {
            let more = w.source.wait(Some(wopts.debounce))?;
            if more.is_empty() {
                break;
            }
            changes.extend(more);
        }
        // Folders that appeared (the first `hf auth login` creates ~/.cache/huggingface).
        w.arm();
        let touched = w.look(changes);
        let old: HashMap<String, Finding> = w
            .state
            .take_before()
            .into_values()
            .flatten()
            .filter(|f| f.ignored.is_none())
            .map(|f| (f.id.clone(), f))
            .collect();
        let now = counted(&w.state, &touched);
        let mut new: Vec<Finding> = now
            .values()
            .filter(|f| !old.contains_key(&f.id))
            .cloned()
            .collect();
        new.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
        let mut fixed_by: HashMap<String, String> = HashMap::new();
        for f in &new {
            let ev = match f.path.as_deref().and_then(|p| own.undone_by(p)) {
                Some(u) => Event::Undone {
                    finding: f.clone(),
                    fix_id: u.fix_id,
                    detail: u.detail,
                },
                None => Event::Regression(f.clone()),
            };
            if !emit(ev) {
                return Ok(());
            }
        }
        let mut now = now;
        if wopts.auto_fix_chmod {
            let choices: Vec<(Finding, FixKind)> = new
                .iter()
                .filter(|f| f.fixes.contains(&FixKind::Chmod))
                .map(|f| (f.clone(), FixKind::Chmod))
                .collect();
            if !choices.is_empty() {
                let plan = fix::plan(home, &choices);
                match fix::apply(&plan, &keys, &journal) {
                    Ok(outcome) => {
                        for e in outcome.failed {
                            emit(Event::Error(format!("auto-fix: {e}")));
                        }
                        for id in &plan.findings {
                            fixed_by.insert(id.clone(), plan.id.clone());
                        }
                    }
                    Err(e) => {
                        emit(Event::Error(format!("auto-fix: {e}")));
                    }
                }
                // Our own change: look again now, so its events find nothing new.
                let wanted: Vec<(PathBuf, Option<FileKind>)> = plan
                    .files
                    .iter()
                    .map(|fc| (fc.path.clone(), w.scope.kind_of(&fc.path)))
                    .collect();
                let again = w.state.reaudit(home, options, &wanted);
                w.state.take_before();
                now.retain(|_, f| f.path.as_ref().is_some_and(|p| !again.contains(p)));
                now.extend(counted(&w.state, &again));
            }
        }
        let mut gone: Vec<&Finding> = old
            .values()
            .chain(new.iter())
            .filter(|f| !now.contains_key(&f.id))
            .collect();
        gone.sort_by(|a, b| a.id.cmp(&b.id));
        gone.dedup_by(|a, b| a.id == b.id);
        for f in gone {
            let by = fixed_by
                .get(&f.id)
                .cloned()
                .or_else(|| f.path.as_deref().and_then(|p| own.fixed_by(p)));
            if !emit(Event::Resolved {
                finding: f.clone(),
                fixed_by: by,
            }) {
                return Ok(());
            }
        }
        own.looked(began);
    }
}

/// The systemd user unit (Linux) or launchd agent (macOS) that runs `hfguard watch`.
pub fn service_file(home: &Home) -> (PathBuf, String) {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "hfguard".into());
    if cfg!(target_os = "macos") {
        let path = home
            .dir
            .join("Library/LaunchAgents/dev.hfguard.watch.plist");
        let body = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>dev.hfguard.watch</string>
  <key>ProgramArguments</key>
  <array><string>{exe}</string><string>watch</string><string>--notify</string></array>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><true/>
</dict>
</plist>
"#
        );
        (path, body)
    } else {
        let path = home.xdg_config().join("systemd/user/hfguard-watch.service");
        let body = format!(
            "[Unit]\nDescription=hfguard: catch exposed Hugging Face tokens as they land\n\n[Service]\nExecStart=\"{exe}\" watch --notify\nRestart=on-failure\n\n[Install]\nWantedBy=default.target\n"
        );
        (path, body)
    }
}
