//! The audit engine: runs the probes over a [`Home`], gathers their findings through one
//! [`Collector`] (in [`crate::collect`], below the probes, so they never import the engine),
//! and returns a [`Report`]. The `scan` command, the dashboard (streaming through a [`Sink`])
//! and the watcher all call [`run`].

use crate::finding::{Finding, Severity};
use crate::guard::ShellGuard;
use crate::home::Home;
use crate::inventory::SecretItem;
use crate::kind::FileKind;
use crate::probes;
use crate::verify::{Candidate, Verification};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

pub use crate::collect::{Collector, Kept, NoSink, ScanOptions, Sink};

/// The `schema` value of the JSON report.
pub const REPORT_SCHEMA: &str = "hfguard.report/v1";

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
    #[serde(serialize_with = "crate::finding::path_text::one")]
    pub home: PathBuf,
    pub findings: Vec<Finding>,
    pub warnings: Vec<String>,
    pub summary: BTreeMap<Severity, usize>,
    /// Each distinct secret once, with where it is, its slot, rotation and verification.
    pub secrets: Vec<SecretItem>,
    /// Each shell in use and whether its history is guarded.
    pub guards: Vec<ShellGuard>,
    #[serde(skip)]
    pub stats: Stats,
    /// The secrets found, by fingerprint, when [`ScanOptions::keep_secrets`] asked for them.
    #[serde(skip)]
    pub kept: BTreeMap<String, Kept>,
}

impl Report {
    /// A report of `findings` as they stand (the dashboard's view after fixes).
    pub fn from_findings(home: PathBuf, findings: Vec<Finding>, warnings: Vec<String>) -> Report {
        let mut r = Report {
            schema: REPORT_SCHEMA,
            home,
            findings,
            warnings,
            summary: BTreeMap::new(),
            secrets: Vec::new(),
            guards: Vec::new(),
            stats: Stats::default(),
            kept: BTreeMap::new(),
        };
        r.recount();
        r
    }

    /// Counts the findings that are not ignored, by severity, into `summary`.
    fn recount(&mut self) {
        self.summary = Severity::ALL_DESC.iter().map(|s| (*s, 0)).collect();
        for f in self.findings.iter().filter(|f| f.ignored.is_none()) {
            *self.summary.entry(f.severity).or_default() += 1;
        }
    }

    /// Fills `secrets` from the findings, hfguard's credential slots and `verifications`
    /// (by fingerprint); with verifications, severity first follows power
    /// ([`crate::inventory::apply_power`]).
    pub fn inventory(&mut self, home: &Home, verifications: &BTreeMap<String, Verification>) {
        let slots = crate::slots::load(home);
        let mut evidence = crate::rotation::Evidence::new(home);
        if !verifications.is_empty() {
            crate::inventory::apply_power(&mut self.findings, &mut evidence, verifications);
            self.recount();
        }
        self.secrets =
            crate::inventory::items(&self.findings, &slots, &mut evidence, verifications);
    }

    /// The kept secrets, to verify (empty unless [`ScanOptions::keep_secrets`]).
    pub fn candidates(&self) -> Vec<Candidate> {
        self.kept
            .iter()
            .map(|(fp, k)| Candidate {
                fingerprint: fp.clone(),
                provider: k.provider.clone(),
                secret: k.secret.clone(),
            })
            .collect()
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

/// Audits `home`: known locations first (fast, so `--quick` and the dashboard's first
/// findings come at once), then environment and processes, then the walk.
pub fn run(home: &Home, options: &ScanOptions, sink: &dyn Sink) -> Report {
    let started = std::time::Instant::now();
    let c = Collector::new(home, options, sink);
    if let Some(note) = crate::fingerprint::note() {
        c.warn(note);
    }
    if options.config.scan.max_file_size > crate::config::MAX_FILE_SIZE_CEILING {
        c.warn(format!(
            "max_file_size is {} MiB in the configuration; files larger than {} MiB are never read",
            options.config.scan.max_file_size >> 20,
            crate::config::MAX_FILE_SIZE_CEILING >> 20
        ));
    }
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
    sink.progress(c.files_seen());
    let mut report = into_report(home, c.finish());
    report.inventory(home, &BTreeMap::new());
    report.guards = crate::guard::status(home);
    report.stats.elapsed = started.elapsed();
    report
}

/// Audits `data` as the content of a file of `kind` at `path`, without reading anything
/// from disk: for callers that hold the bytes already, and for the fuzzing harness
/// (tests/fuzz_parsers.rs and fuzz/), which feeds every reader of user files through it.
pub fn scan_bytes(path: &std::path::Path, kind: crate::kind::FileKind, data: &[u8]) -> Report {
    let home = Home::new("/nonexistent-home", std::iter::empty());
    let options = ScanOptions::default();
    let c = Collector::new(&home, &options, &NoSink);
    probes::content::scan_buffer(&c, path, kind, data);
    into_report(&home, c.finish())
}

/// Audits only `files` (the watcher's changed files under project roots), each classified
/// as the walk would.
pub fn run_files(home: &Home, options: &ScanOptions, files: &[PathBuf]) -> Report {
    let c = Collector::new(home, options, &NoSink);
    let mut buf = Vec::new();
    for path in files {
        let kind = probes::walk::classify(&home.dir, path);
        probes::files::scan_file(&c, path, kind, options.config.max_file_size(), &mut buf);
    }
    into_report(home, c.finish())
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
        if matches!(crate::fsread::lstat(path), Ok(crate::fsread::Entry::Dir(_))) {
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
                    .map(std::path::Path::to_path_buf),
            );
        }
        let limit = if known.contains_key(&path) {
            files::KNOWN_LIMIT
        } else {
            options.config.max_file_size()
        };
        files::scan_file(&c, &path, kind, limit, &mut buf);
    }
    if git {
        gitconfig::check_store_helper(&c);
    }
    let mut report = into_report(home, c.finish());
    report
        .findings
        .retain(|f| f.path.as_ref().is_some_and(|p| covered.contains(p)));
    report.stats.elapsed = started.elapsed();
    (report, covered)
}

/// The report of what a collector gathered: findings most severe first, warnings sorted.
fn into_report(home: &Home, gathered: crate::collect::Gathered) -> Report {
    let mut findings = gathered.findings;
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
    let mut warnings = gathered.warnings;
    warnings.sort();
    warnings.dedup();
    let mut report = Report::from_findings(home.dir.clone(), findings, warnings);
    report.stats = Stats {
        files: gathered.files,
        bytes: gathered.bytes,
        skipped: gathered.skipped,
        elapsed: std::time::Duration::ZERO,
    };
    report.kept = gathered.kept;
    report
}
