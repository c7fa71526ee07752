//! The audit engine: runs the probes over a [`Home`], gathers their findings through one
//! [`Collector`], and returns a [`Report`]. The `scan` command, the dashboard (streaming
//! through a [`Sink`]) and the watcher all call [`run`].

use crate::config::Config;
use crate::finding::{Finding, Severity};
use crate::fsread;
use crate::home::Home;
use crate::kind::FileKind;
use crate::probes;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The `schema` value of the JSON report.
pub const REPORT_SCHEMA: &str = "hfguard.report/v1";

/// What to audit beyond the known locations.
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    /// Only the known locations, environment and processes: no walk.
    pub quick: bool,
    /// Roots to walk besides the home (`--path`).
    pub extra_roots: Vec<PathBuf>,
    pub config: Config,
    /// Probes switched off (`--skip`): "processes", "environment", "walk".
    pub skip_probes: Vec<String>,
}

impl ScanOptions {
    pub fn probe_enabled(&self, name: &str) -> bool {
        !self.skip_probes.iter().any(|p| p == name)
    }
}

/// Receives findings, warnings and progress as they happen (the dashboard streams them).
pub trait Sink: Sync {
    fn finding(&self, _finding: &Finding) {}
    fn warning(&self, _warning: &str) {}
    /// Called now and then during the walk with the number of files looked at so far.
    fn progress(&self, _files: u64) {}
}

/// A sink that ignores everything.
pub struct NoSink;
impl Sink for NoSink {}

/// Counters of the work done.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub files: u64,
    pub bytes: u64,
    pub skipped: u64,
    /// Wall time of the audit.
    #[serde(skip)]
    pub elapsed: std::time::Duration,
}

/// The result of an audit: the `hfguard.report/v1` document.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub home: PathBuf,
    pub findings: Vec<Finding>,
    pub warnings: Vec<String>,
    pub summary: BTreeMap<Severity, usize>,
    #[serde(skip)]
    pub stats: Stats,
}

impl Report {
    /// A report of `findings` as they stand (the dashboard's view after fixes).
    pub fn from_findings(home: PathBuf, findings: Vec<Finding>, warnings: Vec<String>) -> Report {
        let mut summary: BTreeMap<Severity, usize> =
            Severity::ALL_DESC.iter().map(|s| (*s, 0)).collect();
        for f in findings.iter().filter(|f| f.ignored.is_none()) {
            *summary.entry(f.severity).or_default() += 1;
        }
        Report {
            schema: REPORT_SCHEMA,
            home,
            findings,
            warnings,
            summary,
            stats: Stats::default(),
        }
    }

    /// Counts by severity of findings that are not ignored.
    pub fn count(&self, severity: Severity) -> usize {
        self.summary.get(&severity).copied().unwrap_or(0)
    }

    /// Whether any finding at or above `threshold` remains: the exit code's question.
    pub fn fails_at(&self, threshold: Option<Severity>) -> bool {
        match threshold {
            None => false,
            Some(t) => self.findings.iter().any(|f| f.counts_at(t)),
        }
    }
}

/// Gathers findings from every probe, thread-safely, dropping duplicates.
pub struct Collector<'a> {
    pub home: &'a Home,
    pub options: &'a ScanOptions,
    sink: &'a dyn Sink,
    findings: Mutex<Vec<Finding>>,
    seen_ids: Mutex<HashSet<String>>,
    warnings: Mutex<Vec<String>>,
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub skipped: AtomicU64,
    /// Paths already scanned (known locations), so the walk does not report them twice.
    claimed: Mutex<HashSet<PathBuf>>,
}

impl<'a> Collector<'a> {
    pub fn new(home: &'a Home, options: &'a ScanOptions, sink: &'a dyn Sink) -> Self {
        Collector {
            home,
            options,
            sink,
            findings: Mutex::default(),
            seen_ids: Mutex::default(),
            warnings: Mutex::default(),
            files: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            claimed: Mutex::default(),
        }
    }

    /// Adds a finding unless one with the same id exists; applies the user's ignores.
    pub fn add(&self, mut finding: Finding) {
        if !self.seen_ids.lock().unwrap().insert(finding.id.clone()) {
            return;
        }
        if let Some(reason) = self.options.config.ignored(&finding.id) {
            finding.ignored = Some(reason.to_string());
        }
        self.sink.finding(&finding);
        self.findings.lock().unwrap().push(finding);
    }

    pub fn warn(&self, warning: String) {
        self.sink.warning(&warning);
        self.warnings.lock().unwrap().push(warning);
    }

    /// Marks a path as handled; false when it already was.
    pub fn claim(&self, path: &std::path::Path) -> bool {
        self.claimed.lock().unwrap().insert(path.to_path_buf())
    }

    pub fn is_claimed(&self, path: &std::path::Path) -> bool {
        self.claimed.lock().unwrap().contains(path)
    }

    /// A copy of the paths claimed so far, for a phase that only reads them (the walk).
    pub fn claimed_paths(&self) -> HashSet<PathBuf> {
        self.claimed.lock().unwrap().clone()
    }

    /// Findings so far matching `pred` (for probes that depend on others' results).
    pub fn any_finding(&self, pred: impl Fn(&Finding) -> bool) -> bool {
        self.findings.lock().unwrap().iter().any(pred)
    }

    pub fn count_file(&self, bytes: u64) {
        let n = self.files.fetch_add(1, Ordering::Relaxed) + 1;
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        if n % 512 == 0 {
            self.sink.progress(n);
        }
    }

    /// The findings and warnings gathered, as a report (without timing).
    pub fn finish(self) -> Report {
        self.into_report()
    }

    fn into_report(self) -> Report {
        let mut findings = self.findings.into_inner().unwrap();
        findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.category.cmp(&b.category))
                .then(a.path.cmp(&b.path))
                .then(a.line.cmp(&b.line))
                .then(a.pid.cmp(&b.pid))
                .then(a.rule.cmp(&b.rule))
                .then(a.id.cmp(&b.id))
        });
        let mut warnings = self.warnings.into_inner().unwrap();
        warnings.sort();
        warnings.dedup();
        let mut summary: BTreeMap<Severity, usize> =
            Severity::ALL_DESC.iter().map(|s| (*s, 0)).collect();
        for f in findings.iter().filter(|f| f.ignored.is_none()) {
            *summary.entry(f.severity).or_default() += 1;
        }
        Report {
            schema: REPORT_SCHEMA,
            home: self.home.dir.clone(),
            findings,
            warnings,
            summary,
            stats: Stats {
                files: self.files.into_inner(),
                bytes: self.bytes.into_inner(),
                skipped: self.skipped.into_inner(),
                elapsed: std::time::Duration::ZERO,
            },
        }
    }
}

/// Audits `home`: known locations first (fast, so `--quick` and the dashboard's first
/// findings come at once), then environment and processes, then the walk.
pub fn run(home: &Home, options: &ScanOptions, sink: &dyn Sink) -> Report {
    let started = std::time::Instant::now();
    let c = Collector::new(home, options, sink);
    probes::permissions::check_home(&c);
    probes::files::scan_known(&c);
    probes::gitconfig::check_store_helper(&c);
    if options.probe_enabled("environment") {
        probes::environment::scan(&c);
    }
    if options.probe_enabled("processes") {
        probes::process::scan(&c);
    }
    if !options.quick && options.probe_enabled("walk") {
        probes::walk::walk(&c);
    }
    sink.progress(c.files.load(Ordering::Relaxed));
    let mut report = c.into_report();
    report.stats.elapsed = started.elapsed();
    report
}

/// Audits `wanted` again, each path as the full audit sees it: a known location with its
/// kind, any other file with the kind an earlier finding there had (its `Option<FileKind>`),
/// else as the walk classifies it; a folder stands for the known credential files in it, the
/// home for its own mode. The dashboard calls this after every fix, undo and ignore, and the
/// watcher for every file that changed, so the next action sees the files as they are.
///
/// Returns the findings at the paths audited and those paths: every path whose findings the
/// result replaces (a path without findings now has none left). They include the folder of
/// each credential file (its `0700` check) and, when a git file is among them, git's other
/// credential files and global configs (the `credential.helper=store` check reads them all).
pub fn run_paths(
    home: &Home,
    options: &ScanOptions,
    wanted: &[(PathBuf, Option<FileKind>)],
) -> (Report, BTreeSet<PathBuf>) {
    use crate::probes::{files, gitconfig, permissions, walk};
    let started = std::time::Instant::now();
    let c = Collector::new(home, options, &NoSink);
    let mut known: HashMap<PathBuf, FileKind> = HashMap::new();
    for k in home.known_files() {
        known.entry(k.path).or_insert(k.kind);
    }
    let mut covered: BTreeSet<PathBuf> = BTreeSet::new();
    let mut files: Vec<(PathBuf, FileKind)> = Vec::new();
    for (path, hint) in wanted {
        if *path == home.dir {
            if covered.insert(path.clone()) {
                permissions::check_home(&c);
            }
            continue;
        }
        if matches!(fsread::lstat(path), Ok(fsread::Entry::Dir(_))) {
            covered.insert(path.clone());
            let mut inside: Vec<(PathBuf, FileKind)> = known
                .iter()
                .filter(|(k, _)| k.parent() == Some(path.as_path()))
                .map(|(k, kind)| (k.clone(), *kind))
                .collect();
            inside.sort_by(|a, b| a.0.cmp(&b.0));
            files.extend(inside);
            continue;
        }
        let kind = known
            .get(path)
            .copied()
            .or(*hint)
            .unwrap_or_else(|| walk::classify(&home.dir, path));
        files.push((path.clone(), kind));
    }
    let git = files
        .iter()
        .any(|(_, k)| matches!(k, FileKind::GitConfig | FileKind::GitCredentials));
    if git {
        let mut stores: Vec<(PathBuf, FileKind)> = known
            .iter()
            .filter(|(_, k)| matches!(k, FileKind::GitConfig | FileKind::GitCredentials))
            .map(|(p, k)| (p.clone(), *k))
            .collect();
        stores.sort_by(|a, b| a.0.cmp(&b.0));
        files.extend(stores);
    }
    let mut buf = Vec::new();
    for (path, kind) in files {
        if !c.claim(&path) {
            continue;
        }
        covered.insert(path.clone());
        if kind.is_credential_store() {
            covered.extend(
                path.parent()
                    .filter(|d| *d != home.dir)
                    .map(Path::to_path_buf),
            );
        }
        let limit = if known.contains_key(&path) {
            files::KNOWN_LIMIT
        } else {
            options.config.scan.max_file_size
        };
        files::scan_file(&c, &path, kind, limit, &mut buf);
    }
    if git {
        gitconfig::check_store_helper(&c);
    }
    let mut report = c.into_report();
    report
        .findings
        .retain(|f| f.path.as_ref().is_some_and(|p| covered.contains(p)));
    report.stats.elapsed = started.elapsed();
    (report, covered)
}
