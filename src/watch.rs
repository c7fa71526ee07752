//! Watching for regressions: the folders that hold the known credential, start-up and
//! history files (and the configured project roots) are watched with inotify/FSEvents through
//! `notify`; after a burst of events settles, the same audit runs again on what can have
//! changed, and findings that are new are reported as regressions. Folders are watched, not
//! files, so atomic saves and delete-and-recreate are seen; a folder that does not exist yet
//! is watched through its nearest existing parent. Idle, the watcher blocks: no polling,
//! except for folders the OS refused to watch (the inotify limit), which are polled and named.

use crate::audit::{self, ScanOptions};
use crate::finding::{Finding, FixKind};
use crate::fix::{self, Journal};
use crate::home::Home;
use crate::keystore::KeyStore;
use notify::{RecursiveMode, Watcher};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// How the watcher behaves.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// Apply the chmod fix to permission regressions at once (journaled like any fix).
    pub auto_fix_chmod: bool,
    /// Quiet time after the last event before rescanning.
    pub debounce: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            auto_fix_chmod: false,
            debounce: Duration::from_millis(150),
        }
    }
}

/// What the watcher reports.
#[derive(Clone, Debug)]
pub enum Event {
    /// Watches are in place: folders watched by the OS, and those polled instead.
    Ready {
        watched: usize,
        polled: Vec<PathBuf>,
    },
    /// A finding that is new, or back after it was gone.
    Regression(Finding),
    /// A finding that went away; `fixed_by` is the watcher's own fix, if it made one.
    Resolved {
        finding: Finding,
        fixed_by: Option<String>,
    },
    Error(String),
}

/// The folders to watch: (folder, recursive). Missing folders are replaced by their
/// nearest existing ancestor inside the home.
fn targets(home: &Home, options: &ScanOptions) -> BTreeMap<PathBuf, bool> {
    let mut wanted: BTreeSet<PathBuf> = BTreeSet::new();
    for k in home.known_files() {
        if let Some(p) = k.path.parent() {
            wanted.insert(p.to_path_buf());
        }
    }
    wanted.insert(home.hf_home());
    for (dir, _) in crate::home::AI_LOG_DIRS {
        wanted.insert(home.dir.join(dir));
    }
    let mut out: BTreeMap<PathBuf, bool> = BTreeMap::new();
    for dir in wanted {
        if let Some(d) = existing_ancestor(&dir, &home.dir) {
            out.entry(d).or_insert(false);
        }
    }
    for root in project_roots(home, options) {
        if root.is_dir() {
            out.insert(root, true);
        }
    }
    // AI log folders hold per-project subfolders.
    for (dir, _) in crate::home::AI_LOG_DIRS {
        let d = home.dir.join(dir);
        if d.is_dir() {
            out.insert(d, true);
        }
    }
    out
}

fn project_roots(home: &Home, options: &ScanOptions) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = options.extra_roots.clone();
    roots.extend(options.config.scan.paths.iter().map(|p| home.expand(p)));
    roots
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

/// The current findings in the watcher's scope.
struct Scope {
    known: HashMap<String, Finding>,
    /// Findings of files under project roots, by file.
    projects: HashMap<PathBuf, Vec<Finding>>,
}

impl Scope {
    fn all(&self) -> HashMap<String, Finding> {
        let mut m = self.known.clone();
        for fs in self.projects.values() {
            for f in fs {
                m.insert(f.id.clone(), f.clone());
            }
        }
        m.retain(|_, f| f.ignored.is_none());
        m
    }
}

fn scan_known(home: &Home, options: &ScanOptions) -> HashMap<String, Finding> {
    let mut o = options.clone();
    o.quick = true;
    // Processes and variables change all the time and are not files to watch.
    o.skip_probes
        .extend(["processes".to_string(), "environment".to_string()]);
    audit::run(home, &o, &audit::NoSink)
        .findings
        .into_iter()
        .map(|f| (f.id.clone(), f))
        .collect()
}

fn files_under(root: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    let Ok(rd) = std::fs::read_dir(root) else {
        return;
    };
    for e in rd.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_file() {
            out.push(e.path());
        } else if ft.is_dir()
            && depth > 0
            && !crate::probes::walk::SKIP_DIRS.contains(&e.file_name().to_string_lossy().as_ref())
        {
            files_under(&e.path(), out, depth - 1);
        }
    }
}

/// Watches `home` until `emit` returns false (or the event source closes).
pub fn watch(
    home: &Home,
    options: &ScanOptions,
    wopts: &WatchOptions,
    emit: &mut dyn FnMut(Event) -> bool,
) -> Result<(), String> {
    let (tx, rx) = mpsc::channel::<notify::Result<notify::Event>>();
    let tx2 = tx.clone();
    let mut watcher = notify::recommended_watcher(move |r| {
        let _ = tx.send(r);
    })
    .map_err(|e| format!("cannot start watching: {e}"))?;
    let mut poller: Option<notify::PollWatcher> = None;
    let mut armed: BTreeMap<PathBuf, bool> = BTreeMap::new();
    let mut polled: Vec<PathBuf> = Vec::new();
    let mut arm = |armed: &mut BTreeMap<PathBuf, bool>,
                   polled: &mut Vec<PathBuf>,
                   poller: &mut Option<notify::PollWatcher>| {
        for (dir, recursive) in targets(home, options) {
            if armed.get(&dir) == Some(&recursive) {
                continue;
            }
            let mode = if recursive {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            if let Err(e) = watcher.watch(&dir, mode) {
                // Out of inotify watches (or another refusal): poll this folder instead.
                let p = match poller {
                    Some(p) => p,
                    None => {
                        let tx3 = tx2.clone();
                        let cfg =
                            notify::Config::default().with_poll_interval(Duration::from_secs(2));
                        match notify::PollWatcher::new(
                            move |r| {
                                let _ = tx3.send(r);
                            },
                            cfg,
                        ) {
                            Ok(p) => poller.insert(p),
                            Err(pe) => {
                                return Err(format!(
                                    "cannot watch {}: {e}; polling failed too: {pe}",
                                    dir.display()
                                ))
                            }
                        }
                    }
                };
                p.watch(&dir, mode)
                    .map_err(|pe| format!("cannot watch {}: {pe}", dir.display()))?;
                polled.push(dir.clone());
            }
            armed.insert(dir, recursive);
        }
        Ok(())
    };
    arm(&mut armed, &mut polled, &mut poller)?;
    let roots = project_roots(home, options);
    let mut scope = Scope {
        known: scan_known(home, options),
        projects: HashMap::new(),
    };
    for root in &roots {
        let mut files = Vec::new();
        files_under(root, &mut files, 32);
        let r = audit::run_files(home, options, &files);
        for f in r.findings {
            if let Some(p) = f.path.clone() {
                scope.projects.entry(p).or_default().push(f);
            }
        }
    }
    let mut current = scope.all();
    if !emit(Event::Ready {
        watched: armed.len() - polled.len(),
        polled: polled.clone(),
    }) {
        return Ok(());
    }
    let keys = KeyStore::new(home);
    let journal = Journal::new(home);
    loop {
        // Block until something happens, then let the burst settle.
        let first = match rx.recv() {
            Ok(ev) => ev,
            Err(_) => return Ok(()),
        };
        let mut changed: BTreeSet<PathBuf> = BTreeSet::new();
        let mut take =
            |r: notify::Result<notify::Event>, emit: &mut dyn FnMut(Event) -> bool| match r {
                Ok(ev) => {
                    changed.extend(ev.paths);
                    true
                }
                Err(e) => emit(Event::Error(format!("watch error: {e}"))),
            };
        if !take(first, emit) {
            return Ok(());
        }
        while let Ok(r) = rx.recv_timeout(wopts.debounce) {
            if !take(r, emit) {
                return Ok(());
            }
        }
        // New folders (the first `hf auth login` creates ~/.cache/huggingface): watch them.
        arm(&mut armed, &mut polled, &mut poller)?;
        scope.known = scan_known(home, options);
        let project_files: Vec<PathBuf> = changed
            .iter()
            .filter(|p| roots.iter().any(|r| p.starts_with(r)))
            .cloned()
            .collect();
        if !project_files.is_empty() {
            for p in &project_files {
                scope.projects.remove(p);
            }
            let existing: Vec<PathBuf> =
                project_files.into_iter().filter(|p| p.is_file()).collect();
            for f in audit::run_files(home, options, &existing).findings {
                if let Some(p) = f.path.clone() {
                    scope.projects.entry(p).or_default().push(f);
                }
            }
        }
        let mut now = scope.all();
        let mut new: Vec<Finding> = now
            .values()
            .filter(|f| !current.contains_key(&f.id))
            .cloned()
            .collect();
        new.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
        let mut fixed_by: HashMap<String, String> = HashMap::new();
        for f in &new {
            if !emit(Event::Regression(f.clone())) {
                return Ok(());
            }
        }
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
                // Our own change: rescan now, so its events find nothing new.
                scope.known = scan_known(home, options);
                now = scope.all();
            }
        }
        let mut gone: Vec<&Finding> = current
            .values()
            .chain(new.iter())
            .filter(|f| !now.contains_key(&f.id))
            .collect();
        gone.sort_by(|a, b| a.id.cmp(&b.id));
        for f in gone {
            if !emit(Event::Resolved {
                finding: f.clone(),
                fixed_by: fixed_by.get(&f.id).cloned(),
            }) {
                return Ok(());
            }
        }
        current = now;
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
