//! The one findings model: every probe produces [`Finding`]s, every report, the dashboard,
//! the fixes and the watcher consume them. Serialized, it is the `hfguard.report/v1` JSON.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// How bad an exposure is. Ordered from least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Most severe first: the order reports list them in.
    pub const ALL_DESC: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the exposure sits, for grouping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    TokenFile,
    Permissions,
    Dotfile,
    History,
    Environment,
    Process,
    Git,
    Project,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::TokenFile,
        Category::Permissions,
        Category::Dotfile,
        Category::History,
        Category::Environment,
        Category::Process,
        Category::Git,
        Category::Project,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::TokenFile => "token-file",
            Category::Permissions => "permissions",
            Category::Dotfile => "dotfile",
            Category::History => "history",
            Category::Environment => "environment",
            Category::Process => "process",
            Category::Git => "git",
            Category::Project => "project",
        }
    }

    /// Heading for people.
    pub fn title(self) -> &'static str {
        match self {
            Category::TokenFile => "Token stores",
            Category::Permissions => "Permissions",
            Category::Dotfile => "Start-up and credential files",
            Category::History => "Histories",
            Category::Environment => "Environment",
            Category::Process => "Processes",
            Category::Git => "Git",
            Category::Project => "Projects",
        }
    }
}

/// A kind of repair `hfguard fix` can make.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FixKind {
    /// Tighten the mode of a file or folder.
    Chmod,
    /// Move the secret into the OS keyring and replace the plaintext by a lookup.
    Keyring,
    /// Replace the secret in place by a marker (the secret is kept in the keyring for undo).
    Redact,
    /// Keep the next secret out of the shell's history (`hfguard guard`): offered on shell
    /// history findings, it leaves the history as it is.
    Guard,
}

impl FixKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FixKind::Chmod => "chmod",
            FixKind::Keyring => "keyring",
            FixKind::Redact => "redact",
            FixKind::Guard => "guard",
        }
    }
}

/// One exposure. Field names and meanings are the stable `hfguard.report/v1` schema
/// (docs/report-schema.md); fields may be added, never renamed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id: the same exposure gets the same id across runs.
    pub id: String,
    /// Kebab-case rule id, e.g. `hf-token-in-shell-history`.
    pub rule: String,
    pub category: Category,
    pub severity: Severity,
    pub provider: Option<String>,
    #[serde(serialize_with = "path_text::opt")]
    pub path: Option<PathBuf>,
    /// 1-based line of the secret's first character in the file as stored on disk.
    pub line: Option<u64>,
    pub variable: Option<String>,
    pub pid: Option<u32>,
    /// Octal mode (`0644`) for permission findings and credential files.
    pub mode: Option<String>,
    /// Redacted form of the secret (`hf_…kXyZ`), never the secret.
    pub secret: Option<String>,
    /// Same secret, same fingerprint, wherever one user finds it (`k1-` and 32 hex digits,
    /// keyed: [`crate::fingerprint`]).
    pub fingerprint: Option<String>,
    pub message: String,
    pub fixes: Vec<FixKind>,
    /// Set when the user chose to ignore this finding (config `[[ignore]]`), with the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
    /// What a person calls this credential where its place names it: the section of a
    /// `stored_tokens` entry (`work`, `personal`), which `hf auth switch` shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Where the audit matched the secret in the file as it read it: what a fix acts on
    /// (re-checked against the file's bytes then), so the fix never re-detects with other
    /// rules. Not part of the report.
    #[serde(skip)]
    pub span: Option<Span>,
}

/// The bytes of a file that hold a finding's secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    /// The secret is inside an encoded run (base64: a Kubernetes Secret, a Docker `auth`);
    /// `start..end` is the whole run.
    pub encoded: bool,
}

impl Finding {
    /// Derives the stable id from what identifies the exposure: rule, place, secret and which
    /// occurrence of that secret in that place it is — not the line, which moves when the
    /// user edits the file above it. Keyed like the fingerprints ([`crate::fingerprint::id`]):
    /// an id reveals nothing that could be tested against a guess.
    ///
    /// The place is hashed as raw bytes: two file names that differ only in bytes that are
    /// not UTF-8 are two places.
    pub fn compute_id(
        rule: &str,
        place: &[u8],
        fingerprint: Option<&str>,
        occurrence: u32,
    ) -> String {
        crate::fingerprint::id(rule, place, fingerprint, occurrence)
    }

    /// The id earlier versions gave the same exposure (before ids and fingerprints were
    /// keyed), from the secret itself: `[[ignore]]` entries written then keep working.
    pub fn legacy_id(
        rule: &str,
        place: &[u8],
        secret: Option<&crate::secret::Secret>,
        occurrence: u32,
    ) -> String {
        let fp = secret.map(|s| s.legacy_fingerprint());
        crate::fingerprint::legacy_id(rule, place, fp.as_deref(), occurrence)
    }

    /// Whether this finding counts toward the exit code at `threshold`.
    pub fn counts_at(&self, threshold: Severity) -> bool {
        self.ignored.is_none() && self.severity >= threshold
    }
}

/// Formats a mode as four octal digits (`0644`).
pub fn mode_string(mode: u32) -> String {
    format!("{:04o}", mode & 0o7777)
}

/// Paths as text in reports: [`crate::redact::mask_path`] (a secret in a name masked, bytes
/// that are not UTF-8 written `\xNN`), so that writing a report never fails on a strange
/// file name and never shows a token that is a name.
pub mod path_text {
    use serde::Serializer;
    use std::path::{Path, PathBuf};

    pub fn opt<S: Serializer>(p: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
        match p {
            Some(p) => s.serialize_str(&crate::redact::mask_path(p)),
            None => s.serialize_none(),
        }
    }

    pub fn one<S: Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::redact::mask_path(p))
    }
}
