//! The fix preview: what changes for the user first (the plan's notes, most important
//! first, as the planner orders them; what is left out and why), then the exact changes
//! (keyring entries, modes, diffs with secrets redacted). Built once when the plan arrives;
//! the popup wraps it to its width and scrolls it.

use super::text::{TLine, Tone};
use crate::term::safe_text;

/// What the worker sends for a plan, ready to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanShown {
    pub plan_id: String,
    /// Finding ids the plan fixes.
    pub findings: Vec<String>,
    /// The plan's notes, most important first.
    pub notes: Vec<String>,
    /// Findings the plan cannot fix: (where, why).
    pub refused: Vec<(String, String)>,
    /// The exact changes, as `hfguard fix` previews them (notes and refusals taken out).
    pub changes: String,
}

/// The lines of the preview. `left_out` names findings the dashboard did not plan (no
/// automatic fix). Whether a keyring answers, and what that means, is the planner's to say
/// (in its first note).
pub fn lines(p: &PlanShown, left_out: &[String]) -> Vec<TLine> {
    let mut out = Vec::new();
    if !p.notes.is_empty() {
        out.push(TLine::new(Tone::Strong, "What changes for you"));
        for n in &p.notes {
            out.push(TLine::plain(format!("• {}", safe_text(n))));
        }
        out.push(TLine::blank());
    }
    if !p.refused.is_empty() || !left_out.is_empty() {
        out.push(TLine::new(Tone::Warn, "Left as they are"));
        for (at, why) in &p.refused {
            out.push(TLine::plain(format!(
                "• {}: {}",
                safe_text(at),
                safe_text(why)
            )));
        }
        for at in left_out {
            out.push(TLine::plain(format!(
                "• {}: no automatic fix (the details say what to do by hand)",
                safe_text(at)
            )));
        }
        out.push(TLine::blank());
    }
    out.push(TLine::new(Tone::Strong, "The exact changes"));
    for l in safe_text(&p.changes).lines() {
        let tone = if l.starts_with("+++") || l.starts_with("---") {
            Tone::Muted
        } else if l.starts_with('+') {
            Tone::Good
        } else if l.starts_with('-') {
            Tone::Bad
        } else if l.starts_with("@@") {
            Tone::Muted
        } else {
            Tone::Strong
        };
        out.push(TLine::new(tone, l.to_string()));
    }
    out
}

/// The preview text of `fix::preview` without the notes and refusals, which the popup shows
/// first, in their own words.
pub fn changes_only(preview: &str) -> String {
    preview
        .lines()
        .filter(|l| !l.starts_with("note:    ") && !l.starts_with("skip:    "))
        .map(|l| format!("{l}\n"))
        .collect()
}
