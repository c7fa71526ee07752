//! The audit engine: runs the probes over a [`Home`], gathers their findings through one
//! [`Collector`], and returns a [`Report`]. The `scan` command, the dashboard (streaming
//! through a [`Sink`]) and the watcher all call [`run`].

use crate::config::Config;
use crate::finding::{Finding, Severity};
use crate::guard::ShellGuard;
use crate::home::Home;
use crate::inventory::SecretItem;
use crate::probes;
use crate::secret::Secret;
use crate::verify::{Candidate, Verification};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
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
    /// Keep each secret found in memory ([`Report::kept`]) so that it can be verified: only
    /// when the user asked for verification.
    pub keep_secrets: bool,
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

/// A secret the audit kept in memory for verification: never serialized, wiped on drop.
#[derive(Clone, Debug)]
pub struct Kept {
    pub secret: Secret,
    pub provider: Option<String>,
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

/// `s` as one line for people: secrets masked, control characters escaped.
fn for_people(s: &str) -> String {
    crate::term::safe_line(&crate::redact::mask_text(s)).into_owned()
}

/// Gathers findings from every probe, thread-safely, dropping duplicates.
pub struct Collector<'a> {
    pub home: &'a Home,
    pub options: &'a ScanOptions,
    sink: &'a dyn Sink,
    findings: Mutex<Vec<Finding>>,
    seen_ids: Mutex<HashSet<String>>,
    warnings: Mutex<Vec<String>>,
    kept: Option<Mutex<BTreeMap<String, Kept>>>,
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub skipped: AtomicU64,
    /// What the archives of this scan have cost (their budgets are per scan too).
    pub archives: probes::archive::ScanBudget,
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
            kept: options.keep_secrets.then(Mutex::default),
            files: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            archives: Default::default(),
            claimed: Mutex::default(),
        }
    }

    /// Adds a finding unless one with the same id exists; applies the user's ignores. Its
    /// text for people (message, variable, redacted secret) is made one line, with a
    /// secret in it masked and control characters escaped, here, once for every output.
    pub fn add(&self, finding: Finding) {
        self.add_with(finding, None);
    }

    /// [`Collector::add`] for a finding that earlier versions knew under `legacy_id`
    /// ([`Finding::legacy_id`]): an `[[ignore]]` entry written with that id still applies.
    pub fn add_legacy(&self, finding: Finding, legacy_id: String) {
        self.add_with(finding, Some(legacy_id));
    }

    fn add_with(&self, mut finding: Finding, legacy_id: Option<String>) {
        if !self.seen_ids.lock().unwrap().insert(finding.id.clone()) {
            return;
        }
        for field in [
            Some(&mut finding.message),
            finding.variable.as_mut(),
            finding.secret.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            *field = for_people(field);
        }
        let config = &self.options.config;
        if let Some(reason) = config.ignored(&finding.id) {
            finding.ignored = Some(reason.to_string());
        } else if let Some((legacy, reason)) = legacy_id
            .as_deref()
            .and_then(|l| config.ignored(l).map(|r| (l, r)))
        {
            finding.ignored = Some(reason.to_string());
            crate::config::remember_legacy_id(&finding.id, legacy);
        }
        self.sink.finding(&finding);
        self.findings.lock().unwrap().push(finding);
    }

    /// Keeps `secret` for verification, when the options ask for it (once per secret).
    pub fn keep(&self, secret: &Secret, provider: Option<&str>) {
        if let Some(kept) = &self.kept {
            kept.lock()
                .unwrap()
                .entry(secret.fingerprint())
                .or_insert_with(|| Kept {
                    secret: secret.clone(),
                    provider: provider.map(str::to_string),
                });
        }
    }

    /// A warning for the report: one line, a secret in it (a path's name) masked, control
    /// characters escaped.
    pub fn warn(&self, warning: String) {
        let warning = for_people(&warning);
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

    /// Whether a warning so far matches `pred`.
    pub fn any_warning(&self, pred: impl Fn(&str) -> bool) -> bool {
        self.warnings.lock().unwrap().iter().any(|w| pred(w))
    }

    pub fn count_file(&self, bytes: u64) {
        let n = self.files.fetch_add(1, Ordering::Relaxed) + 1;
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        if n % 512 == 0 {
            self.sink.progress(n);
        }
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
        let mut report = Report::from_findings(self.home.dir.clone(), findings, warnings);
        report.stats = Stats {
            files: self.files.into_inner(),
            bytes: self.bytes.into_inner(),
            skipped: self.skipped.into_inner(),
            elapsed: std::time::Duration::ZERO,
        };
        report.kept = self
            .kept
            .map(|k| k.into_inner().unwrap())
            .unwrap_or_default();
        report
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
    sink.progress(c.files.load(Ordering::Relaxed));
    let mut report = c.into_report();
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
    c.into_report()
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
    c.into_report()
}
