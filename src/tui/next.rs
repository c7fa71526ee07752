//! The "next step" line above the list: what to do first, and which key does it. Each
//! step comes in a long and a short wording; the line shows the longest that fits.

use super::app::App;
use super::model::findings_word;
use super::text::Tone;
use crate::finding::{FixKind, Severity};

/// The step, in the longest wording that fits `width` columns.
pub fn next_step_fitted(app: &App, width: usize) -> (Tone, String) {
    let (tone, wordings) = next_step(app);
    let fits = wordings
        .iter()
        .find(|w| super::text::width(w) <= width)
        .cloned()
        .unwrap_or_else(|| super::text::truncate(wordings.last().map_or("", |s| s), width));
    (tone, fits)
}

/// What to do first: its tone, and its wordings, longest first.
pub fn next_step(app: &App) -> (Tone, Vec<String>) {
    let (tone, long, short) = step(app);
    let mut v = vec![long];
    v.extend(middle(app));
    v.push(short);
    (tone, v)
}

/// "all 4 that need", "the one that needs".
fn all_that(n: usize) -> String {
    if n == 1 {
        "the one that needs".into()
    } else {
        format!("all {n} that need")
    }
}

/// Open findings by their recommended fix.
struct Open {
    all: usize,
    chmod: usize,
    redact: usize,
    keyring: usize,
    critical: usize,
}

fn open(app: &App) -> Open {
    let open: Vec<_> = app.findings.iter().filter(|f| app.is_open(f)).collect();
    let by = |k: FixKind| open.iter().filter(|f| f.fixes.first() == Some(&k)).count();
    Open {
        all: open.len(),
        chmod: by(FixKind::Chmod),
        redact: by(FixKind::Redact),
        keyring: by(FixKind::Keyring),
        critical: open
            .iter()
            .filter(|f| f.severity == Severity::Critical)
            .count(),
    }
}

/// A wording between the long and the short one, where the step has one.
fn middle(app: &App) -> Option<String> {
    let Open { chmod, redact, .. } = open(app);
    (app.marked.is_empty() && chmod > 0).then(|| {
        format!(
            "Next: {chmod} {} open to others: press F to fix {} no keyring.",
            if chmod == 1 { "file is" } else { "files are" },
            all_that(chmod + redact)
        )
    })
}

fn step(app: &App) -> (Tone, String, String) {
    if app.findings.is_empty() {
        return if app.scanning {
            (
                Tone::Muted,
                "Looking at the known places first, then the whole home…".into(),
                "Looking…".into(),
            )
        } else {
            (
                Tone::Good,
                "Nothing exposed: no step to take.".into(),
                "Nothing exposed.".into(),
            )
        };
    }
    let Open {
        all,
        chmod,
        redact,
        keyring,
        critical,
    } = open(app);
    if all == 0 {
        let rotate = app
            .model
            .groups
            .iter()
            .filter(|g| !super::model::exposure(&app.facts(), &app.model, g).is_empty())
            .count();
        let s = if rotate == 1 { "" } else { "s" };
        return if rotate > 0 {
            (
                Tone::Warn,
                format!("All fixed. Rotate the {rotate} exposed secret{s} (Tokens view, 2) at its provider."),
                format!("All fixed; rotate {rotate} secret{s} (2: Tokens)."),
            )
        } else {
            (
                Tone::Good,
                "All fixed. Nothing left to do.".into(),
                "All fixed.".into(),
            )
        };
    }

    let marked = app.marked.len();
    if marked > 0 {
        return (
            Tone::Strong,
            format!(
                "{} marked: press f to fix them after one preview (Esc clears the marks).",
                findings_word(marked)
            ),
            format!("{marked} marked: f fixes them."),
        );
    }
    if chmod + redact > 0 {
        let first = if chmod > 0 {
            format!(
                "{} open to other users{}",
                if chmod == 1 {
                    "1 file or folder is".to_string()
                } else {
                    format!("{chmod} files or folders are")
                },
                if critical > 0 {
                    " (critical first)"
                } else {
                    ""
                }
            )
        } else {
            format!(
                "{} in histories, notebooks or projects",
                if redact == 1 {
                    "1 secret sits".to_string()
                } else {
                    format!("{redact} secrets sit")
                }
            )
        };
        let n = chmod + redact;
        return (
            if critical > 0 { Tone::Bad } else { Tone::Warn },
            format!(
                "Next: {first}. Press F to fix {} no keyring (chmod, redact) after one preview.",
                all_that(n)
            ),
            format!("Next: F fixes {} no keyring.", all_that(n)),
        );
    }
    if keyring > 0 {
        let what = if keyring == 1 {
            "1 secret".to_string()
        } else {
            format!("{keyring} secrets")
        };
        return match app.keyring {
            Some(false) => (
                Tone::Warn,
                format!("Next: {what} to move into the OS keyring, but no keyring answers here; the details say what to do."),
                format!("Next: {what} need a keyring; none answers here."),
            ),
            _ => (
                Tone::Warn,
                format!("Next: {what} in plain text. Press f on the first to move it into the OS keyring (one preview)."),
                format!("Next: {what} in plain text: f moves one to the keyring."),
            ),
        };
    }
    (
        Tone::Plain,
        format!(
            "Next: {} without an automatic fix; the details say what to do by hand.",
            findings_word(all)
        ),
        format!("Next: {} to fix by hand.", findings_word(all)),
    )
}
