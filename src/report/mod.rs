//! Renders a [`Report`] for people and machines: `text` (the default), `json` (the stable
//! `hfguard.report/v1` document), `sarif` (GitHub code scanning) and `markdown` (an
//! onboarding checklist). The checklist is shared with the dashboard.

mod checklist;
mod json;
mod markdown;
mod sarif;
mod text;

pub use checklist::{checklist, Check, CheckStatus};
pub use text::TextStyle;

use crate::audit::Report;
use crate::finding::{Category, Finding};
use std::path::Path;

/// An output format of `hfguard scan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Markdown,
}

/// Renders `report` in `format`, through the output gate ([`crate::term`]). `style` only
/// matters for text.
pub fn render(report: &Report, format: Format, style: TextStyle) -> crate::term::Text {
    match format {
        Format::Text => text::render(report, style),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Markdown => markdown::render(report),
    }
}

/// `path` as a user reads it, on one line: `~/.bashrc` under the audited home, absolute
/// elsewhere; a secret in a name masked and control characters escaped
/// ([`crate::redact::show_path`]).
pub fn display_path(home: &Path, path: &Path) -> String {
    match path.strip_prefix(home) {
        Ok(rel) if rel.as_os_str().is_empty() => "~".to_string(),
        Ok(rel) => format!("~/{}", crate::redact::show_path(rel)),
        Err(_) => crate::redact::show_path(path),
    }
}

/// Where a finding is, in one short string: `~/.bashrc:21`, `$HF_TOKEN`, `pid 4242`.
pub fn location(home: &Path, f: &Finding) -> String {
    if let Some(path) = &f.path {
        let p = display_path(home, path);
        return match f.line {
            Some(line) => format!("{p}:{line}"),
            None => p,
        };
    }
    let var = f.variable.as_deref().map(crate::term::safe_line);
    match (f.pid, var) {
        (Some(pid), Some(var)) => format!("pid {pid} ${var}"),
        (Some(pid), None) => format!("pid {pid}"),
        (None, Some(var)) => format!("${var}"),
        (None, None) => "-".to_string(),
    }
}

/// Why a category matters and how hfguard fixes it: the help text of reports and the
/// dashboard's detail pane. The docs page `docs/checks/<category>.md` says more.
pub fn advice(category: Category) -> &'static str {
    match category {
        Category::TokenFile => "A plaintext token file is readable by every program you run, every backup and every sync tool. Move the token into the OS keyring and let programs look it up from there.",
        Category::Permissions => "Credential files must be private (0600, owned by you) and their folders 0700; files your shell runs at start-up and your home must not be writable by others, or anyone can run code as you. The chmod fix tightens the modes.",
        Category::Dotfile => "A token in a start-up file or dotfile is inherited by every program and copied with every dotfiles repository. Keep it in the OS keyring and look it up instead.",
        Category::History => "Shell, REPL and assistant histories are kept for years and copied around. Redact the token in place and rotate it.",
        Category::Environment => "A token in a process's environment is how tokens are meant to be passed, but one exported by your shell reaches every program you start. Pass it only to the programs that need it.",
        Category::Process => "A process's command line is readable by every user of the machine (`ps`, `/proc/<pid>/cmdline`). Stop passing tokens as arguments (pass `HF_TOKEN` in the environment instead), then rotate the token.",
        Category::Git => "Plaintext git credentials and tokens in remote URLs are sent, shown and copied far more than you expect. Let a keyring-backed credential helper serve them.",
        Category::Project => "A token in a project, notebook or `.env` file ends up in commits, shared notebooks and archives. Redact it, load it from the environment at run time, and rotate it if the file was ever shared.",
    }
}

/// Every finding's summary counts as one line: `2 critical, 3 high, 0 medium, 1 low, 0 info`.
pub fn summary_counts(report: &Report) -> String {
    crate::finding::Severity::ALL_DESC
        .iter()
        .map(|s| format!("{} {}", report.count(*s), s))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One distinct secret and the findings that hold it.
pub struct SecretGroup {
    pub fingerprint: String,
    /// Indices into the findings, in their order.
    pub findings: Vec<usize>,
}

/// The distinct secrets among `findings[among]`, the one in most places first: what the
/// dashboard's token view and the reports' list of secrets to rotate show.
pub fn secret_groups(
    findings: &[Finding],
    among: impl IntoIterator<Item = usize>,
) -> Vec<SecretGroup> {
    let mut groups: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for i in among {
        if let Some(fp) = &findings[i].fingerprint {
            groups.entry(fp).or_default().push(i);
        }
    }
    let mut v: Vec<SecretGroup> = groups
        .into_iter()
        .map(|(fp, findings)| SecretGroup {
            fingerprint: fp.to_string(),
            findings,
        })
        .collect();
    v.sort_by(|a, b| {
        b.findings
            .len()
            .cmp(&a.findings.len())
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
    v
}

/// "Rotate it: URL" for a provider whose token page is known, else a generic line.
pub fn rotate_hint(provider: Option<&str>) -> String {
    match provider.and_then(|p| crate::rules::builtin().rotation_url(p)) {
        Some(url) => format!("rotate it at {url}"),
        None => "rotate it where it was issued".to_string(),
    }
}

/// Why the reports list secrets to rotate.
pub const ROTATE_WHY: &str =
    "fixing stops the exposure; rotate each secret that was ever readable by others, in a history or shared";

/// One secret worth rotating, ready to print.
pub struct ToRotate {
    /// Redacted.
    pub secret: String,
    pub provider: String,
    /// "1 place", "3 places".
    pub places: String,
    /// "rotate it at URL".
    pub hint: String,
}

/// The secrets worth rotating in a report: distinct secrets of findings that count (not
/// ignored, not `info`), most places first.
pub fn secrets_to_rotate(report: &Report) -> Vec<ToRotate> {
    let counted = report
        .findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.ignored.is_none() && f.counts_at(crate::finding::Severity::Low))
        .map(|(i, _)| i);
    secret_groups(&report.findings, counted)
        .into_iter()
        .map(|g| {
            let f = &report.findings[g.findings[0]];
            let n = g.findings.len();
            ToRotate {
                secret: f.secret.clone().unwrap_or_default(),
                provider: f.provider.clone().unwrap_or_else(|| "unknown".into()),
                places: format!("{n} place{}", if n == 1 { "" } else { "s" }),
                hint: rotate_hint(f.provider.as_deref()),
            }
        })
        .collect()
}
