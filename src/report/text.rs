//! The human report: findings grouped by severity, one line each with where, what and the
//! fix, then warnings and a one-line summary.
//!
//! Written into a [`Doc`]: every piece passes the output gate ([`crate::term`]); fields are
//! made one line ([`safe_line`]) so that a name can never forge a line of the report.

use super::{location, summary_counts};
use crate::audit::Report;
use crate::finding::{Finding, Severity};
use crate::term::{safe_line, Doc, Style, Text};
use std::fmt::Write;

/// How the text report looks.
#[derive(Clone, Copy, Debug, Default)]
pub struct TextStyle {
    /// ANSI colours (off when `NO_COLOR` is set or the output is not a terminal).
    pub color: bool,
    /// Also list `info` findings one by one (otherwise only counted).
    pub verbose: bool,
}

fn severity_style(sev: Severity) -> Style {
    match sev {
        Severity::Critical => Style::Critical,
        Severity::High => Style::High,
        Severity::Medium => Style::Medium,
        Severity::Low => Style::Low,
        Severity::Info => Style::Bold,
    }
}

/// The report as text for people, through the output gate: each piece is masked and
/// escaped as it is written, colours are the [`Doc`]'s own.
pub fn render(report: &Report, style: TextStyle) -> Text {
    let mut out = Doc::new(style.color);
    let home = &report.home;
    out.styled(Style::Bold, "hfguard audit of");
    let _ = writeln!(out, " {}\n", crate::redact::show_path(home));
    let shown: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.ignored.is_none())
        .collect();
    for sev in Severity::ALL_DESC {
        let group: Vec<&&Finding> = shown.iter().filter(|f| f.severity == sev).collect();
        if group.is_empty() {
            continue;
        }
        out.styled(
            severity_style(sev),
            &format!("{} ({})", sev.as_str().to_uppercase(), group.len()),
        );
        let _ = writeln!(out);
        if sev == Severity::Info && !style.verbose {
            let _ = write!(out, "  ");
            out.styled(
                Style::Dim,
                "credentials kept where their own tool expects them; --verbose lists them",
            );
            let _ = writeln!(out, "\n");
            continue;
        }
        for f in group {
            line(&mut out, home, f);
        }
        let _ = writeln!(out);
    }
    let ignored = report.findings.len() - shown.len();
    let listed = super::listed_secrets(report, style.verbose);
    if !listed.is_empty() {
        out.styled(Style::Bold, &format!("SECRETS ({})", listed.len()));
        let _ = write!(out, "\n  ");
        out.styled(Style::Dim, super::ROTATE_WHY);
        let _ = writeln!(out);
        for s in listed {
            let line = super::secret_line(s);
            // The redacted secret first, in bold.
            let rest = &line[s.secret.len()..];
            let _ = write!(out, "  ");
            out.styled(Style::Bold, &s.secret);
            let _ = writeln!(out, "{}", safe_line(rest));
            if s.verification.status != crate::verify::Status::NotChecked {
                let _ = writeln!(
                    out,
                    "    verified: {}",
                    safe_line(&s.verification.summary())
                );
            }
        }
        let _ = writeln!(out);
    }
    if !report.guards.is_empty() {
        out.styled(Style::Bold, "HISTORY GUARDS");
        let _ = writeln!(out);
        for g in &report.guards {
            let state = match g.state {
                crate::guard::GuardState::Guarded => "guarded".to_string(),
                crate::guard::GuardState::Outdated => format!(
                    "guard out of date: `hfguard guard --shell {}` updates it",
                    g.shell.as_str()
                ),
                crate::guard::GuardState::Unguarded => format!(
                    "not guarded: `hfguard guard --shell {}` keeps secrets out of its history",
                    g.shell.as_str()
                ),
            };
            let _ = writeln!(
                out,
                "  {:<6} {}  {state}",
                g.shell.as_str(),
                super::display_path(home, &g.file)
            );
        }
        let _ = writeln!(out);
    }
    if !report.warnings.is_empty() {
        out.styled(
            Style::Bold,
            &format!("WARNINGS ({})", report.warnings.len()),
        );
        let _ = writeln!(out);
        for w in &report.warnings {
            let _ = writeln!(out, "  {}", safe_line(w));
        }
        let _ = writeln!(out);
    }
    let total = shown.len();
    if total == 0 {
        out.styled(Style::Good, "No exposed credentials found.");
    } else {
        out.styled(
            Style::Bold,
            &format!("{total} finding{}:", if total == 1 { "" } else { "s" }),
        );
    }
    let mut extra = format!(
        "{} file{} scanned ({}) in {:.2} s",
        report.stats.files,
        if report.stats.files == 1 { "" } else { "s" },
        human_bytes(report.stats.bytes),
        report.stats.elapsed.as_secs_f64()
    );
    if ignored > 0 {
        let _ = write!(extra, ", {ignored} ignored");
    }
    if !report.warnings.is_empty() {
        let _ = write!(extra, ", {} warnings", report.warnings.len());
    }
    let _ = write!(out, " {} · ", summary_counts(report));
    out.styled(Style::Dim, &extra);
    let _ = writeln!(out);
    out.finish()
}

fn line(out: &mut Doc, home: &std::path::Path, f: &Finding) {
    let _ = write!(out, "  ");
    out.styled(Style::Bold, &location(home, f));
    let mut head = String::new();
    if let Some(secret) = &f.secret {
        let _ = write!(head, "  {}", safe_line(secret));
    }
    if let (Some(var), true) = (&f.variable, f.path.is_some()) {
        let _ = write!(head, "  {}", safe_line(var));
    }
    if let Some(mode) = &f.mode {
        let _ = write!(head, "  mode {mode}");
    }
    let _ = writeln!(out, "{head}");
    let _ = writeln!(out, "    {}", safe_line(&f.message));
    let fix = match f.fixes.first() {
        Some(k) => format!("fix: {} · id {}", k.as_str(), f.id),
        None => format!("fix: by hand (see the message) · id {}", f.id),
    };
    let _ = write!(out, "    ");
    out.styled(Style::Dim, &fix);
    let _ = writeln!(out);
}

fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
