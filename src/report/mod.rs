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
use crate::inventory::SecretItem;
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
    "fixing stops the exposure; rotate each secret that was ever readable by others, in a history, a process list or a shared place";

/// The report's secrets that people should see: each one a finding that counts holds (not
/// ignored, not `info`), each replaced value still to revoke, and each verified dead one
/// still lying around; with `all`, every one.
pub fn listed_secrets(report: &Report, all: bool) -> Vec<&SecretItem> {
    report
        .secrets
        .iter()
        .filter(|s| {
            all || s.rotation.state == crate::rotation::State::PendingRevoke
                || (s.verification.status == crate::verify::Status::Revoked && !s.places.is_empty())
                || s.places.iter().any(|id| {
                    report
                        .findings
                        .iter()
                        .any(|f| &f.id == id && f.counts_at(crate::finding::Severity::Low))
                })
        })
        .collect()
}

/// "1 place", "3 places", "no place".
pub fn places_phrase(n: usize) -> String {
    match n {
        0 => "no place".into(),
        1 => "1 place".into(),
        n => format!("{n} places"),
    }
}

/// What to do about a secret, where: "rotate it at URL", "revoke it at URL"; `None` when
/// nothing is left to do.
pub fn action_hint(item: &SecretItem) -> Option<String> {
    use crate::rotation::State;
    let at = |verb: &str| match &item.rotate_at {
        Some(url) => format!("{verb} it at {url}"),
        None => format!("{verb} it where it was issued"),
    };
    match item.rotation.state {
        State::Needed => Some(at("rotate")),
        State::PendingRevoke => Some(at("revoke")),
        State::NotNeeded | State::Done => None,
    }
}

/// One line about a secret for people: `hf_…EPcC  huggingface  2 places: rotation needed (in
/// a history): rotate it at URL`.
pub fn secret_line(item: &SecretItem) -> String {
    let mut line = format!(
        "{}  {}  {}: {}",
        item.secret,
        item.provider.as_deref().unwrap_or("unknown"),
        places_phrase(item.places.len()),
        item.rotation.describe()
    );
    if let Some(hint) = action_hint(item) {
        line.push_str(": ");
        line.push_str(&hint);
    }
    line
}
