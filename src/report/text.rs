//! The human report: findings grouped by severity, one line each with where, what and the
//! fix, then warnings and a one-line summary.

use super::{location, summary_counts};
use crate::audit::Report;
use crate::finding::{Finding, Severity};
use std::fmt::Write;

/// How the text report looks.
#[derive(Clone, Copy, Debug, Default)]
pub struct TextStyle {
    /// ANSI colours (off when `NO_COLOR` is set or the output is not a terminal).
    pub color: bool,
    /// Also list `info` findings one by one (otherwise only counted).
    pub verbose: bool,
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn severity(&self, sev: Severity, s: &str) -> String {
        let code = match sev {
            Severity::Critical => "1;35",
            Severity::High => "1;31",
            Severity::Medium => "1;33",
            Severity::Low => "1;36",
            Severity::Info => "1",
        };
        self.wrap(code, s)
    }
    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
}

pub fn render(report: &Report, style: TextStyle) -> String {
    let p = Paint(style.color);
    let home = &report.home;
    let mut out = String::new();
    let _ = writeln!(out, "{} {}\n", p.bold("hfguard audit of"), home.display());
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
        let _ = writeln!(
            out,
            "{}",
            p.severity(
                sev,
                &format!("{} ({})", sev.as_str().to_uppercase(), group.len())
            )
        );
        if sev == Severity::Info && !style.verbose {
            let _ = writeln!(
                out,
                "  {}\n",
                p.dim("credentials kept where their own tool expects them; --verbose lists them")
            );
            continue;
        }
        for f in group {
            line(&mut out, &p, home, f);
        }
        out.push('\n');
    }
    let ignored = report.findings.len() - shown.len();
    let listed = super::listed_secrets(report, style.verbose);
    if !listed.is_empty() {
        let _ = writeln!(out, "{}", p.bold(&format!("SECRETS ({})", listed.len())));
        let _ = writeln!(out, "  {}", p.dim(super::ROTATE_WHY));
        for s in listed {
            let line = super::secret_line(s);
            // The redacted secret first, in bold.
            let rest = &line[s.secret.len()..];
            let _ = writeln!(out, "  {}{rest}", p.bold(&s.secret));
            if s.verification.status != crate::verify::Status::NotChecked {
                let _ = writeln!(out, "    verified: {}", s.verification.summary());
            }
        }
        out.push('\n');
    }
    if !report.guards.is_empty() {
        let _ = writeln!(out, "{}", p.bold("HISTORY GUARDS"));
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
                crate::term::safe_line(&super::display_path(home, &g.file))
            );
        }
        out.push('\n');
    }
    if !report.warnings.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.bold(&format!("WARNINGS ({})", report.warnings.len()))
        );
        for w in &report.warnings {
            let _ = writeln!(out, "  {w}");
        }
        out.push('\n');
    }
    let total = shown.len();
    let headline = if total == 0 {
        p.wrap("1;32", "No exposed credentials found.")
    } else {
        p.bold(&format!(
            "{total} finding{}:",
            if total == 1 { "" } else { "s" }
        ))
    };
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
    let _ = writeln!(
        out,
        "{headline} {} · {}",
        summary_counts(report),
        p.dim(&extra)
    );
    out
}

fn line(out: &mut String, p: &Paint, home: &std::path::Path, f: &Finding) {
    let mut head = p.bold(&location(home, f));
    if let Some(secret) = &f.secret {
        let _ = write!(head, "  {secret}");
    }
    if let (Some(var), true) = (&f.variable, f.path.is_some()) {
        let _ = write!(head, "  {var}");
    }
    if let Some(mode) = &f.mode {
        let _ = write!(head, "  mode {mode}");
    }
    let _ = writeln!(out, "  {head}");
    let _ = writeln!(out, "    {}", f.message);
    let fix = match f.fixes.first() {
        Some(k) => format!("fix: {} · id {}", k.as_str(), f.id),
        None => format!("fix: by hand (see the message) · id {}", f.id),
    };
    let _ = writeln!(out, "    {}", p.dim(&fix));
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
