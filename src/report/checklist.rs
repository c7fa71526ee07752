//! The onboarding checklist: a few yes/no questions a new team member (or their lead) asks
//! of a workstation, each answered by the findings. `scan --format markdown` prints it and
//! the dashboard's checklist view shows it.

use crate::audit::Report;
use crate::finding::{Category, Finding, Severity};
use crate::guard::GuardState;
use crate::kind::FileKind;

/// Whether a check passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckStatus {
    Pass,
    Fail,
}

/// One item of the checklist and the findings that fail it.
#[derive(Clone, Debug)]
pub struct Check {
    pub id: &'static str,
    pub title: &'static str,
    pub status: CheckStatus,
    /// Indices into `report.findings`.
    pub findings: Vec<usize>,
    /// What fails a check that is not about findings (an unguarded shell), for people.
    pub notes: Vec<String>,
}

struct Spec {
    id: &'static str,
    title: &'static str,
    applies: fn(&Finding) -> bool,
}

fn is_permission_of_startup(f: &Finding) -> bool {
    matches!(f.rule.as_str(), "startup-file-writable" | "home-writable")
}

/// A token a start-up file assigns to a variable (`export HF_TOKEN=hf_…` in `.bashrc`): every
/// program started from that shell gets it, exactly as if it were exported by hand.
fn is_exported_by_startup(f: &Finding) -> bool {
    f.variable.is_some() && FileKind::from_rule(&f.rule) == Some(FileKind::StartupFile)
}

const SPECS: [Spec; 8] = [
    Spec {
        id: "token-in-keyring",
        title: "Tokens are kept in the OS keyring, not in plaintext token files",
        applies: |f| f.category == Category::TokenFile,
    },
    Spec {
        id: "credential-files-private",
        title: "Credential files are private (0600, folders 0700) and owned by you",
        applies: |f| f.category == Category::Permissions && !is_permission_of_startup(f),
    },
    Spec {
        id: "startup-files-safe",
        title: "Your home and shell start-up files are not writable by others",
        applies: is_permission_of_startup,
    },
    Spec {
        id: "no-tokens-in-dotfiles",
        title: "No tokens in shell start-up files or other tools' dotfiles",
        applies: |f| f.category == Category::Dotfile,
    },
    Spec {
        id: "no-tokens-in-histories",
        title: "No tokens in shell, REPL or AI assistant histories",
        applies: |f| f.category == Category::History,
    },
    Spec {
        id: "no-plaintext-git-credentials",
        title: "No plaintext git credentials and no tokens in git remote URLs",
        applies: |f| f.category == Category::Git,
    },
    Spec {
        id: "no-tokens-in-processes",
        title: "No tokens on command lines or exported to every program",
        applies: |f| {
            matches!(f.category, Category::Process | Category::Environment)
                || is_exported_by_startup(f)
        },
    },
    Spec {
        id: "no-tokens-in-projects",
        title: "No tokens in projects, notebooks or .env files",
        applies: |f| f.category == Category::Project,
    },
];

/// The check that every shell used in the home keeps secrets out of its history (none used:
/// nothing to guard).
fn guards_check(report: &Report) -> Check {
    let notes: Vec<String> = report
        .guards
        .iter()
        .filter(|g| g.state != GuardState::Guarded)
        .map(|g| {
            format!(
                "{}: {} has {} guard; run `hfguard guard --shell {}`",
                g.shell.as_str(),
                crate::term::safe_line(&super::display_path(&report.home, &g.file)),
                if g.state == GuardState::Outdated {
                    "an outdated"
                } else {
                    "no"
                },
                g.shell.as_str()
            )
        })
        .collect();
    Check {
        id: "histories-guarded",
        title: "Shell histories are guarded",
        status: if notes.is_empty() {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        },
        findings: Vec::new(),
        notes,
    }
}

/// Answers every check from `report`. Ignored and `info` findings do not fail a check
/// (`info` is where a tool is meant to keep its own credential).
pub fn checklist(report: &Report) -> Vec<Check> {
    let mut checks: Vec<Check> = SPECS
        .iter()
        .map(|spec| {
            let findings: Vec<usize> = report
                .findings
                .iter()
                .enumerate()
                .filter(|(_, f)| f.counts_at(Severity::Low) && (spec.applies)(f))
                .map(|(i, _)| i)
                .collect();
            Check {
                id: spec.id,
                title: spec.title,
                status: if findings.is_empty() {
                    CheckStatus::Pass
                } else {
                    CheckStatus::Fail
                },
                findings,
                notes: Vec::new(),
            }
        })
        .collect();
    // Right after the histories' own check.
    let at = checks
        .iter()
        .position(|c| c.id == "no-tokens-in-histories")
        .map_or(checks.len(), |i| i + 1);
    checks.insert(at, guards_check(report));
    checks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `export HF_TOKEN=hf_…` in `.bashrc` fails "exported to every program" too: the item
    /// must not be ticked while a start-up file exports a token.
    #[test]
    fn a_token_exported_by_a_startup_file_fails_the_export_check() {
        let mut f = finding(Category::Dotfile);
        f.rule = "hf-token-in-startup-file".into();
        f.variable = Some("HF_TOKEN".into());
        let report = Report::from_findings("/h".into(), vec![f.clone()], vec![]);
        let failing: Vec<&str> = checklist(&report)
            .iter()
            .filter(|c| c.status == CheckStatus::Fail)
            .map(|c| c.id)
            .collect();
        assert_eq!(failing, ["no-tokens-in-dotfiles", "no-tokens-in-processes"]);
        // A token in a start-up file that no variable takes is not exported.
        f.variable = None;
        let report = Report::from_findings("/h".into(), vec![f], vec![]);
        let failing = checklist(&report)
            .into_iter()
            .filter(|c| c.status == CheckStatus::Fail)
            .count();
        assert_eq!(failing, 1);
    }

    fn finding(category: Category) -> Finding {
        Finding {
            id: "hfg-0".into(),
            rule: "x".into(),
            category,
            severity: Severity::High,
            provider: None,
            path: None,
            line: None,
            variable: None,
            pid: None,
            mode: None,
            secret: None,
            fingerprint: None,
            message: String::new(),
            fixes: vec![],
            ignored: None,
            label: None,
            span: None,
        }
    }

    #[test]
    fn every_category_is_covered_by_a_check() {
        for cat in Category::ALL {
            let f = finding(cat);
            assert!(
                SPECS.iter().any(|s| (s.applies)(&f)),
                "{cat:?} has no check"
            );
        }
    }
}
