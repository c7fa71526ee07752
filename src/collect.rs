//! What every probe reports through: the [`Collector`] gathers findings, warnings and counters
//! from the probes (thread-safely, dropping duplicates), with the [`ScanOptions`] they run
//! under and the [`Sink`] that streams them out. It sits below the probes and the engine
//! ([`crate::audit`]) that runs them, so the probes never import the engine.

use crate::config::Config;
use crate::finding::Finding;
use crate::home::Home;
use crate::secret::Secret;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

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
    /// Keep each secret found in memory (`Report::kept`) so that it can be verified: only
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

/// What the archives of one scan have cost so far (shared by the walk's threads); the
/// archive probe (`probes::archive`) reads and spends it.
#[derive(Debug, Default)]
pub struct ScanBudget {
    pub(crate) inflated: AtomicU64,
    pub(crate) compressed: AtomicU64,
    pub(crate) entries: AtomicU64,
    pub(crate) nanos: AtomicU64,
}

/// `s` as one line for people: secrets masked, control characters escaped.
fn for_people(s: &str) -> String {
    crate::term::safe_line(&crate::redact::mask_text(s)).into_owned()
}

/// A secret the audit kept in memory for verification: never serialized, wiped on drop.
#[derive(Clone, Debug)]
pub struct Kept {
    pub secret: Secret,
    pub provider: Option<String>,
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
    pub archives: ScanBudget,
    /// Paths already scanned (known locations), so the walk does not report them twice.
    claimed: Mutex<HashSet<PathBuf>>,
    /// Places whose location a start-up file decided, and the sentence that says so: added
    /// to the message of every finding about them (or about their folder).
    origins: Mutex<Vec<(PathBuf, String)>>,
}

/// Everything a [`Collector`] gathered, in the order it came.
pub struct Gathered {
    pub findings: Vec<Finding>,
    pub warnings: Vec<String>,
    /// The secrets kept for verification, by fingerprint.
    pub kept: BTreeMap<String, Kept>,
    pub files: u64,
    pub bytes: u64,
    pub skipped: u64,
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
            origins: Mutex::default(),
        }
    }

    /// Adds a finding unless one with the same id exists; applies the user's ignores. Its
    /// text for people (message, variable, redacted secret) is made one line, with a
    /// secret in it masked and control characters escaped, here, once for every output; and
    /// it says where the place's location came from when a start-up file decided it.
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
        if let Some(path) = &finding.path {
            let origins = self.origins.lock().unwrap();
            let origin = origins.iter().find(|(p, _)| p == path).or_else(|| {
                // The folder of a moved file, unless that folder is the home itself.
                (*path != self.home.dir)
                    .then(|| origins.iter().find(|(p, _)| p.parent() == Some(path)))
                    .flatten()
            });
            if let Some((_, why)) = origin {
                finding.message.push(' ');
                finding.message.push_str(why);
            }
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
    pub fn claim(&self, path: &Path) -> bool {
        self.claimed.lock().unwrap().insert(path.to_path_buf())
    }

    pub fn is_claimed(&self, path: &Path) -> bool {
        self.claimed.lock().unwrap().contains(path)
    }

    /// A copy of the paths claimed so far, for a phase that only reads them (the walk).
    pub fn claimed_paths(&self) -> HashSet<PathBuf> {
        self.claimed.lock().unwrap().clone()
    }

    /// Records that `path` is where it is because of `why` (a sentence), for the messages
    /// of the findings about it and its folder. The first reason given for a path stays.
    pub fn note_origin(&self, path: &Path, why: String) {
        let mut origins = self.origins.lock().unwrap();
        if !origins.iter().any(|(p, _)| p == path) {
            origins.push((path.to_path_buf(), why));
        }
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

    /// Files looked at so far.
    pub fn files_seen(&self) -> u64 {
        self.files.load(Ordering::Relaxed)
    }

    /// What was gathered.
    pub fn finish(self) -> Gathered {
        Gathered {
            findings: self.findings.into_inner().unwrap(),
            warnings: self.warnings.into_inner().unwrap(),
            kept: self
                .kept
                .map(|k| k.into_inner().unwrap())
                .unwrap_or_default(),
            files: self.files.into_inner(),
            bytes: self.bytes.into_inner(),
            skipped: self.skipped.into_inner(),
        }
    }
}
