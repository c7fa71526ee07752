//! The details pane: what the selected row is, why it matters, what its fix changes, and for
//! a secret every place it is in, the keyring slot that holds it, whether to rotate it and
//! what its provider said when asked (`v`). Built as semantic lines, so the state can scroll
//! it (`J`/`K`) to its end without drawing it.

use super::model::{self, places, CheckRow, Facts, Group, Model};
use super::text::{TLine, Tone};
use crate::finding::{Finding, FixKind};
use crate::kind::FileKind;
use crate::report;
use crate::term::safe_line;
use crate::verify::Status;
use std::collections::HashMap;

/// What is selected, in whichever view.
pub enum Selected<'a> {
    Finding(&'a Finding),
    Secret(&'a Group),
    Check(&'a CheckRow),
    Nothing { scanning: bool },
}

/// What the details pane is about, and what it needs to say about it.
pub struct Subject<'a> {
    pub facts: Facts<'a>,
    pub model: &'a Model,
    pub selected: Selected<'a>,
    /// The redacted line of each finding's file, by finding id, as far as loaded.
    pub context: &'a HashMap<String, String>,
    /// Whether a Secret Service answers (`None`: not known yet).
    pub keyring: Option<bool>,
}

/// The details of what is selected.
pub fn lines(d: &Subject) -> Vec<TLine> {
    match d.selected {
        Selected::Finding(f) => finding(d, f),
        Selected::Secret(g) => secret(d, g),
        Selected::Check(c) => check(d, c),
        Selected::Nothing { scanning: true } => vec![TLine::new(Tone::Muted, "Looking…")],
        Selected::Nothing { .. } => vec![TLine::new(Tone::Muted, "Nothing selected.")],
    }
}

fn location(app: &Subject, f: &Finding) -> String {
    safe_line(&report::location(&app.facts.home.dir, f)).into_owned()
}

/// How to ask for a fix: its key (the recommended one is also `f`), or the command to run.
fn key_of(kind: FixKind) -> &'static str {
    match kind {
        FixKind::Chmod => "c",
        FixKind::Keyring => "m",
        FixKind::Redact => "x",
        FixKind::Guard => "`hfguard guard` from a shell",
    }
}

/// What a fix of `kind` changes for the user, for `f`.
pub fn fix_effect(app: &Subject, f: &Finding, kind: FixKind) -> String {
    let file = FileKind::from_rule(&f.rule);
    match kind {
        FixKind::Chmod if f.rule == "credential-folder-permissions" => {
            "the folder becomes 0700: only you can list it".into()
        }
        FixKind::Chmod if matches!(f.rule.as_str(), "startup-file-writable" | "home-writable") => {
            "others lose write access; you keep yours".into()
        }
        FixKind::Chmod => "the file becomes 0600: only you can read it".into(),
        FixKind::Keyring => {
            let mut s = String::from(
                "the secret moves into the OS keyring; what used it looks it up there (a lookup in the start-up file, `hfguard exec`, git's credential helper)",
            );
            if app.keyring == Some(false) {
                s.push_str(". No OS keyring answers here, so this fix cannot run now");
            }
            s
        }
        FixKind::Guard => {
            "this shell stops writing lines that hold a secret into its history from now on; the history stays as it is".into()
        }
        FixKind::Redact => match file {
            Some(FileKind::Notebook) => {
                "the notebook's cell changes: the secret is taken out of it; run the cell with the token from the environment (`hfguard exec`)".into()
            }
            Some(FileKind::ShellHistory | FileKind::ReplHistory | FileKind::AiSessionLog) => {
                "the secret is replaced in place by a marker; the rest of the history stays".into()
            }
            _ => "the secret is replaced in place by a marker; code that read it must take it from the environment".into(),
        },
    }
}

fn finding(app: &Subject, f: &Finding) -> Vec<TLine> {
    let mut out = vec![TLine::new(
        Tone::Severity(f.severity),
        format!("{} ", f.severity.as_str().to_uppercase()),
    )
    .push(Tone::Strong, f.rule.clone())];
    let mut place = TLine::plain(location(app, f));
    if let Some(label) = &f.label {
        place = place.push(Tone::Strong, format!("  [{}]", safe_line(label)));
    }
    if let Some(v) = &f.variable {
        place = place.push(Tone::Plain, format!("  {}", safe_line(v)));
    }
    out.push(place);
    if let Some(ctx) = app.context.get(&f.id) {
        out.push(TLine::new(Tone::Muted, format!("│ {}", safe_line(ctx))));
    }
    out.push(TLine::blank());
    out.push(TLine::plain(safe_line(&f.message).into_owned()));
    if let Some(fp) = &f.fingerprint {
        let others: Vec<&Finding> = app
            .facts
            .findings
            .iter()
            .filter(|o| o.fingerprint.as_ref() == Some(fp) && o.id != f.id && app.facts.is_open(o))
            .collect();
        if !others.is_empty() {
            let list: Vec<String> = others.iter().take(3).map(|o| location(app, o)).collect();
            let more = if others.len() > 3 {
                format!(" and {} more", others.len() - 3)
            } else {
                String::new()
            };
            out.push(TLine::new(
                Tone::Warn,
                format!(
                    "The same secret is also open in {} other {}: {}{more}. f offers to fix all {}.",
                    others.len(),
                    if others.len() == 1 { "place" } else { "places" },
                    list.join(", "),
                    places(others.len() + 1),
                ),
            ));
        }
        if let Some((hub, from)) = &app.model.hub {
            if hub == fp {
                out.push(TLine::new(
                    Tone::Strong,
                    format!(
                        "huggingface_hub uses this token (it takes it from {}).",
                        safe_line(from)
                    ),
                ));
            }
        }
        out.extend(verification(app, fp, f.provider.as_deref()));
    }
    out.push(TLine::blank());
    out.push(TLine::new(Tone::Strong, "Why it matters"));
    out.push(TLine::plain(report::advice(f.category)));
    out.push(TLine::blank());
    if app.facts.fixed.contains(&f.id) {
        out.push(TLine::new(
            Tone::Good,
            "Fixed in this session (u undoes the last fix).",
        ));
    } else if let Some(reason) = &f.ignored {
        out.push(TLine::plain(format!(
            "Ignored: {} (i to stop ignoring).",
            safe_line(reason)
        )));
    } else if let Some(first) = f.fixes.first() {
        out.push(
            TLine::new(Tone::Strong, format!("Fix: {} ", first.as_str())).push(
                Tone::Plain,
                format!("(f or {}): {}.", key_of(*first), fix_effect(app, f, *first)),
            ),
        );
        for other in &f.fixes[1..] {
            out.push(TLine::plain(format!(
                "Or {} ({}): {}.",
                other.as_str(),
                key_of(*other),
                fix_effect(app, f, *other)
            )));
        }
        out.push(TLine::new(
            Tone::Muted,
            "The exact change is shown before anything is applied.",
        ));
    } else {
        out.push(TLine::plain(
            "No automatic fix: the message above says what to do by hand.",
        ));
    }
    out.push(TLine::new(Tone::Muted, format!("id {}", f.id)));
    out
}

/// What the provider said about the secret (`v`), or that it is being asked, or how to ask.
fn verification(app: &Subject, fingerprint: &str, provider: Option<&str>) -> Option<TLine> {
    if app.facts.verifying.contains(fingerprint) {
        return Some(TLine::new(Tone::Muted, "Asking its provider…"));
    }
    match app.facts.verified.get(fingerprint) {
        Some(v) => {
            let tone = match v.status {
                Status::Live if v.can_write == Some(true) => Tone::Bad,
                Status::Live => Tone::Warn,
                Status::Revoked => Tone::Good,
                Status::Unknown | Status::NotChecked => Tone::Muted,
            };
            Some(TLine::new(tone, "Verified: ").push(Tone::Plain, v.summary()))
        }
        None if provider.is_some_and(crate::verify::supported) => Some(TLine::new(
            Tone::Muted,
            "v asks Hugging Face whether it is live and what it can do (one request; asked first).",
        )),
        None => None,
    }
}

fn secret(app: &Subject, g: &Group) -> Vec<TLine> {
    let mut title = TLine::new(Tone::Strong, safe_line(&g.secret).into_owned());
    if let Some(name) = model::group_name(&app.facts, g) {
        title = title.push(Tone::Strong, format!("  {name}"));
    }
    title = title.push(
        Tone::Plain,
        format!(
            "  {}",
            safe_line(g.provider.as_deref().unwrap_or("unknown"))
        ),
    );
    let mut out = vec![title];
    if let Some((hub, from)) = &app.model.hub {
        if *hub == g.fingerprint {
            out.push(TLine::new(
                Tone::Strong,
                format!(
                    "huggingface_hub uses this token (it takes it from {}).",
                    safe_line(from)
                ),
            ));
        }
    }
    let rotate = report::rotate_hint(g.provider.as_deref());
    let revoke_at = g
        .provider
        .as_deref()
        .and_then(|p| crate::rules::builtin().rotation_url(p))
        .map(|u| format!("at {u}"))
        .unwrap_or_else(|| "where it was issued".into());
    match (&g.replaced, &g.slot) {
        (Some((slot, p)), _) => out.push(match &p.revoked_at {
            None => TLine::new(
                Tone::Warn,
                format!(
                    "A rotation replaced it in `{}` on {}; it still works until you revoke it {revoke_at}. Then R marks the rotation done.",
                    safe_line(slot),
                    safe_line(&p.replaced_at)
                ),
            ),
            Some(at) => TLine::new(
                Tone::Good,
                format!(
                    "Rotated: replaced in `{}` on {}, revoked {}.",
                    safe_line(slot),
                    safe_line(&p.replaced_at),
                    safe_line(at)
                ),
            ),
        }),
        (None, Some(slot)) => out.push(TLine::plain(format!(
            "In the OS keyring as `{}`: `hfguard token get`, `exec`, the start-up lookups and git serve it. R rotates it: a new token replaces it everywhere, after one preview.",
            safe_line(slot)
        ))),
        (None, None) => {}
    }
    if g.places.is_empty() {
        out.extend(verification(app, &g.fingerprint, g.provider.as_deref()));
        out.push(TLine::blank());
        out.push(TLine::plain(if g.replaced.is_some() {
            "No place the audit saw holds it any more."
        } else {
            "No file, variable or process the audit saw holds it: only the keyring does."
        }));
        return out;
    }
    let (status, why) = model::group_status(&app.facts, app.model, g);
    out.extend(
        Some(match status {
            "rotate" => TLine::new(
                Tone::Warn,
                format!("Rotate it: {}. Then {rotate}.", why.join("; ")),
            ),
            "fixed" if !why.is_empty() => TLine::new(
                Tone::Warn,
                format!("Fixed everywhere, but {}: {rotate}.", why.join("; ")),
            ),
            "fixed" => TLine::new(Tone::Good, "Fixed everywhere."),
            "private" => {
                TLine::plain("Only in files only you can read; rotate it if it was ever shared.")
            }
            // A replaced value some places still hold.
            _ if g.open > 0 => TLine::new(
                Tone::Warn,
                "Copies of the old token are still in the places below: f rewires or redacts them.",
            ),
            _ => TLine::blank(),
        })
        .filter(|l| !l.0.is_empty()),
    );
    out.extend(verification(app, &g.fingerprint, g.provider.as_deref()));
    out.push(TLine::blank());
    let fixed = g.places.len() - g.open;
    out.push(TLine::new(
        Tone::Strong,
        format!(
            "Found in {}{}{}:",
            places(g.places.len()),
            if fixed > 0 {
                format!(", {fixed} fixed")
            } else {
                String::new()
            },
            if g.shown.len() < g.places.len() {
                format!(", {} shown by the filter", g.shown.len())
            } else {
                String::new()
            }
        ),
    ));
    for &i in &g.places {
        let p = &app.facts.findings[i];
        let state = if app.facts.fixed.contains(&p.id) {
            "  fixed"
        } else if p.ignored.is_some() {
            "  ignored"
        } else {
            ""
        };
        out.push(TLine::plain(format!(
            "  • {} {}{state}",
            model::badge(p.severity),
            location(app, p)
        )));
    }
    out.push(TLine::blank());
    out.push(TLine::plain(if g.open > 0 {
        format!(
            "f fixes its {} open {} after one preview.",
            g.open,
            if g.open == 1 { "place" } else { "places" }
        )
    } else {
        "Nothing left to fix here.".to_string()
    }));
    out
}

fn check(app: &Subject, c: &CheckRow) -> Vec<TLine> {
    let mut out = vec![TLine::new(Tone::Strong, c.title)];
    if c.pass {
        out.push(TLine::new(Tone::Good, "Passes."));
        return out;
    }
    for n in &c.notes {
        out.push(TLine::plain(format!("• {}", safe_line(n))));
    }
    if c.findings.is_empty() {
        return out;
    }
    out.push(TLine::new(
        Tone::Bad,
        format!("Fails: {}.", model::findings_word(c.findings.len())),
    ));
    let fixable = c
        .findings
        .iter()
        .filter(|&&i| !app.facts.findings[i].fixes.is_empty())
        .count();
    for &i in &c.findings {
        let f = &app.facts.findings[i];
        out.push(TLine::plain(format!(
            "  • {} {}",
            model::badge(f.severity),
            location(app, f)
        )));
    }
    out.push(TLine::blank());
    out.push(TLine::plain(match fixable {
        0 => "None has an automatic fix; the Findings view says what to do by hand.".to_string(),
        n if n == c.findings.len() => format!(
            "f fixes {} after one preview.",
            if n == 1 { "it" } else { "them" }
        ),
        n => format!("f fixes the {n} with an automatic fix after one preview."),
    }));
    out
}
