//! What the lists show, derived from the findings and the user's choices (filter, severity)
//! in one place: the rows of each view and their order, the text of each row — which is also
//! what the filter matches, so `/AoCL` finds the row that shows `hf_…AoCL` — the secrets and
//! their places (and the secrets only hfguard's keyring slots hold), the checklist, and the
//! weights behind the score. The state machine rebuilds it from its [`Facts`] after every
//! change; drawing only reads it.

use super::score;
use crate::audit::Report;
use crate::finding::{Category, Finding, Severity};
use crate::home::Home;
use crate::report::{self, CheckStatus};
use crate::slots::{self, Previous, Slot};
use crate::term::safe_line;
use crate::verify::{Status, Verification};
use std::collections::HashSet;
use std::collections::{BTreeMap, HashMap};

/// What the model is derived from: the state's findings and the user's choices.
#[derive(Clone, Copy)]
pub struct Facts<'a> {
    pub home: &'a Home,
    pub findings: &'a [Finding],
    /// Findings gone since the scan.
    pub fixed: &'a HashSet<String>,
    pub filter: &'a str,
    pub min_severity: Severity,
    /// Whether each shell's history is guarded (a checklist item).
    pub guards: &'a [crate::guard::ShellGuard],
    /// hfguard's keyring slots (the index; empty until read).
    pub slots: &'a [Slot],
    /// What providers said about secrets this session, by fingerprint.
    pub verified: &'a HashMap<String, Verification>,
    /// Secrets whose provider is being asked now.
    pub verifying: &'a HashSet<String>,
}

impl Facts<'_> {
    /// Open: neither fixed nor ignored.
    pub fn is_open(&self, f: &Finding) -> bool {
        !self.fixed.contains(&f.id) && f.ignored.is_none()
    }
}

/// A line of the findings list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListLine {
    /// A category heading: how many of its findings are shown, of how many.
    Heading {
        category: Category,
        shown: usize,
        total: usize,
    },
    /// The finding at this position of [`Model::rows`].
    Row(usize),
}

/// One distinct secret in the tokens view: found in places, or only in the keyring (a slot's
/// value, or a value a rotation replaced).
#[derive(Clone, Debug)]
pub struct Group {
    pub fingerprint: String,
    /// Every place it was found (indices into the findings), shown or not; empty for a secret
    /// only the keyring holds.
    pub places: Vec<usize>,
    /// The places the filter shows.
    pub shown: Vec<usize>,
    /// The worst severity of its open places (of all, once none is open); for a secret in no
    /// place, `medium` while it waits to be revoked, else `info`.
    pub worst: Severity,
    /// Places not fixed.
    pub open: usize,
    /// Its redacted form.
    pub secret: String,
    pub provider: Option<String>,
    /// The keyring slot that holds it now.
    pub slot: Option<String>,
    /// A rotation replaced it: the slot it was the value of, and when.
    pub replaced: Option<(String, Previous)>,
}

impl Group {
    /// A value a rotation replaced that is not yet revoked (`pending-revoke`).
    pub fn waits_for_revocation(&self) -> bool {
        self.replaced
            .as_ref()
            .is_some_and(|(_, p)| p.revoked_at.is_none())
    }
}

/// An item of the checklist, with the findings that fail it (indices into the findings).
#[derive(Clone, Debug)]
pub struct CheckRow {
    pub id: &'static str,
    pub title: &'static str,
    pub pass: bool,
    pub findings: Vec<usize>,
    /// What fails it besides findings (an unguarded shell), for people.
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Model {
    /// Findings shown, in display order (indices into the findings).
    pub rows: Vec<usize>,
    pub lines: Vec<ListLine>,
    pub groups: Vec<Group>,
    /// Distinct secrets, whatever the filter shows.
    pub secrets: usize,
    pub checks: Vec<CheckRow>,
    /// Open places of each secret (by fingerprint), whatever the filter shows.
    pub open_places: HashMap<String, usize>,
    /// The secret huggingface_hub would use (fingerprint) and where it takes it from.
    pub hub: Option<(String, String)>,
    /// Files others could read, with their mode (from permission findings).
    pub readable: HashMap<std::path::PathBuf, String>,
    /// Weight of what is open, and of everything found (for the score).
    pub open_weight: f64,
    pub all_weight: f64,
}

/// What a row of the findings list shows, piece by piece.
pub struct RowText {
    pub badge: &'static str,
    pub location: String,
    pub secret: Option<String>,
    /// `[work]` for a stored_tokens entry, the variable of an assignment.
    pub name: Option<String>,
    pub provider: Option<String>,
    /// "+4 places" when the secret is open in other places too.
    pub more: Option<String>,
    /// "hub" when huggingface_hub uses this secret.
    pub hub: bool,
    pub state: Option<&'static str>,
}

impl RowText {
    /// The row after its badge, as drawn: where, the secret, where else, its name, whose
    /// it is (when no secret's prefix says so), the hub tag and the state.
    pub fn joined(&self) -> String {
        let mut parts: Vec<&str> = vec![&self.location];
        parts.extend(self.secret.as_deref());
        parts.extend(self.more.as_deref());
        parts.extend(self.name.as_deref());
        if self.secret.is_none() {
            parts.extend(self.provider.as_deref());
        }
        if self.hub {
            parts.push(HUB_TAG);
        }
        parts.extend(self.state);
        parts.join("  ")
    }
}

/// The tag of the secret huggingface_hub uses.
pub const HUB_TAG: &str = "hub";

pub fn badge(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRIT",
        Severity::High => "HIGH",
        Severity::Medium => "MED",
        Severity::Low => "LOW",
        Severity::Info => "INFO",
    }
}

/// "1 place", "5 places".
pub fn places(n: usize) -> String {
    format!("{n} place{}", if n == 1 { "" } else { "s" })
}

/// "1 finding", "3 findings".
pub fn findings_word(n: usize) -> String {
    format!("{n} finding{}", if n == 1 { "" } else { "s" })
}

/// What the row of `f` shows.
pub fn row_text(app: &Facts, model: &Model, f: &Finding) -> RowText {
    let open_elsewhere = f.fingerprint.as_ref().map_or(0, |fp| {
        model
            .open_places
            .get(fp)
            .copied()
            .unwrap_or(0)
            .saturating_sub(usize::from(app.is_open(f)))
    });
    RowText {
        badge: badge(f.severity),
        location: safe_line(&report::location(&app.home.dir, f)).into_owned(),
        secret: f.secret.as_deref().map(|s| safe_line(s).into_owned()),
        name: f
            .label
            .as_deref()
            .map(|l| format!("[{}]", safe_line(l)))
            .or_else(|| f.variable.as_deref().map(|v| safe_line(v).into_owned())),
        provider: f.provider.as_deref().map(|p| safe_line(p).into_owned()),
        more: (open_elsewhere > 0).then(|| format!("+{}", places(open_elsewhere))),
        hub: is_hub(model, f),
        state: if app.fixed.contains(&f.id) {
            Some("fixed")
        } else if f.ignored.is_some() {
            Some("ignored")
        } else {
            None
        },
    }
}

fn is_hub(model: &Model, f: &Finding) -> bool {
    matches!((&model.hub, &f.fingerprint), (Some((hub, _)), Some(fp)) if hub == fp)
}

/// What a secret's row shows (also what the filter matches for it).
pub fn group_text(app: &Facts, model: &Model, g: &Group) -> String {
    let mut parts = vec![
        badge(g.worst).to_string(),
        safe_line(&g.secret).into_owned(),
    ];
    parts.extend(group_name(app, g));
    parts.push(safe_line(g.provider.as_deref().unwrap_or("unknown")).into_owned());
    parts.push(places_text(g));
    if is_hub_group(model, g) {
        parts.push(HUB_TAG.to_string());
    }
    parts.push(group_status(app, model, g).0.to_string());
    parts.extend(verification_word(app, &g.fingerprint).map(str::to_string));
    parts.join("  ")
}

/// The places column: how many, how many the filter shows; for a secret in no place, where
/// it is.
pub fn places_text(g: &Group) -> String {
    if g.places.is_empty() {
        return if g.slot.is_some() {
            "keyring only".into()
        } else {
            "no place".into()
        };
    }
    if g.shown.len() < g.places.len() {
        format!("{}, {} shown", places(g.places.len()), g.shown.len())
    } else {
        places(g.places.len())
    }
}

/// Whether huggingface_hub uses this secret.
pub fn is_hub_group(model: &Model, g: &Group) -> bool {
    model
        .hub
        .as_ref()
        .is_some_and(|(fp, _)| *fp == g.fingerprint)
}

/// The name a secret goes by in its places: a stored_tokens entry's, else a variable's; for a
/// secret in no place, its slot's.
pub fn group_name(app: &Facts, g: &Group) -> Option<String> {
    let label = g
        .places
        .iter()
        .find_map(|&i| app.findings[i].label.as_deref());
    let var = g
        .places
        .iter()
        .find_map(|&i| app.findings[i].variable.as_deref());
    let slot = g
        .places
        .is_empty()
        .then(|| {
            g.slot
                .as_deref()
                .or(g.replaced.as_ref().map(|(s, _)| s.as_str()))
        })
        .flatten();
    label
        .map(|l| format!("[{}]", safe_line(l)))
        .or_else(|| var.map(|v| safe_line(v).into_owned()))
        .or_else(|| slot.map(|s| safe_line(s).into_owned()))
}

/// The status column of a secret: for a value a rotation replaced, "revoke" until it is
/// revoked, then "rotated"; for a secret only a keyring slot holds, "keyring"; else "fixed"
/// once no place is open, "rotate" when it was ever where others could get it, else
/// "private"; and why, for the details.
pub fn group_status(app: &Facts, model: &Model, g: &Group) -> (&'static str, Vec<String>) {
    let why = exposure(app, model, g);
    if let Some((_, p)) = &g.replaced {
        return (
            if p.revoked_at.is_some() {
                "rotated"
            } else {
                "revoke"
            },
            why,
        );
    }
    if g.places.is_empty() {
        return ("keyring", why);
    }
    if g.open == 0 {
        return ("fixed", why);
    }
    (if why.is_empty() { "private" } else { "rotate" }, why)
}

/// What the provider said about a secret, in a word or two for the status column (or that
/// it is being asked); `None` when it was not asked this session.
pub fn verification_word(app: &Facts, fingerprint: &str) -> Option<&'static str> {
    if app.verifying.contains(fingerprint) {
        return Some("checking…");
    }
    let v = app.verified.get(fingerprint)?;
    Some(match v.status {
        Status::Live => match v.can_write {
            Some(true) => "live/write",
            Some(false) => "read only",
            None => "live",
        },
        Status::Revoked => "revoked",
        Status::Unknown => "unknown",
        Status::NotChecked => "not checked",
    })
}

/// Why a secret should be rotated, from where it was found: each reason once.
pub fn exposure(app: &Facts, model: &Model, g: &Group) -> Vec<String> {
    let mut why: Vec<String> = Vec::new();
    let mut add = |s: String| {
        if !why.contains(&s) {
            why.push(s);
        }
    };
    for &i in &g.places {
        let f = &app.findings[i];
        match f.category {
            Category::History => add("it sat in a history".into()),
            Category::Process => add("it was on a command line every user can list".into()),
            Category::Git if f.rule.ends_with("-in-git-remote") => {
                add("it was in a git remote URL".into())
            }
            Category::Project => add("it was in a project file that may have been shared".into()),
            _ => {}
        }
        // A file others could read while it held the secret.
        if let Some(mode) = f.path.as_ref().and_then(|p| model.readable.get(p)) {
            add(format!("others could read a file that held it ({mode})"));
        }
    }
    why
}

impl Model {
    pub fn build(app: &Facts) -> Model {
        let mut m = Model::default();
        let findings = app.findings;
        for f in findings {
            let w = score::weight(f);
            m.all_weight += w;
            if app.is_open(f) {
                m.open_weight += w;
                if let Some(fp) = &f.fingerprint {
                    *m.open_places.entry(fp.clone()).or_default() += 1;
                }
            }
        }
        m.hub = crate::slots::hub_token(app.home, findings);
        for f in findings
            .iter()
            .filter(|f| f.category == Category::Permissions)
        {
            if let (Some(p), Some(mode)) = (&f.path, &f.mode) {
                if u32::from_str_radix(mode, 8).is_ok_and(|m| m & 0o044 != 0) {
                    m.readable.insert(p.clone(), mode.clone());
                }
            }
        }

        // Findings view: categories by their worst finding, rows by severity.
        let mut worst: BTreeMap<Category, Severity> = BTreeMap::new();
        let mut totals: BTreeMap<Category, usize> = BTreeMap::new();
        for f in findings {
            let w = worst.entry(f.category).or_insert(f.severity);
            *w = (*w).max(f.severity);
            *totals.entry(f.category).or_default() += 1;
        }
        let needle = app.filter.to_lowercase();
        let shown = |f: &Finding, text: &dyn Fn() -> String| -> bool {
            f.severity >= app.min_severity
                && (needle.is_empty() || text().to_lowercase().contains(&needle))
        };
        let mut rows: Vec<usize> = (0..findings.len())
            .filter(|&i| {
                let f = &findings[i];
                shown(f, &|| haystack(app, &m, f))
            })
            .collect();
        rows.sort_by(|&a, &b| {
            let (fa, fb) = (&findings[a], &findings[b]);
            worst[&fb.category]
                .cmp(&worst[&fa.category])
                .then(fa.category.cmp(&fb.category))
                .then(fb.severity.cmp(&fa.severity))
                .then(fa.path.cmp(&fb.path))
                .then(fa.line.cmp(&fb.line))
                .then(fa.id.cmp(&fb.id))
        });
        let mut lines = Vec::with_capacity(rows.len() + 8);
        let mut i = 0;
        while i < rows.len() {
            let category = findings[rows[i]].category;
            let n = rows[i..]
                .iter()
                .take_while(|&&r| findings[r].category == category)
                .count();
            lines.push(ListLine::Heading {
                category,
                shown: n,
                total: totals[&category],
            });
            lines.extend((i..i + n).map(ListLine::Row));
            i += n;
        }
        m.rows = rows;
        m.lines = lines;

        // Tokens view: every secret with all its places; shown when its row or a place of it
        // matches.
        let all = report::secret_groups(findings, 0..findings.len());
        let mut groups: Vec<Group> = all
            .into_iter()
            .map(|g| {
                let first = &findings[g.findings[0]];
                let open: Vec<usize> = g
                    .findings
                    .iter()
                    .copied()
                    .filter(|&i| app.is_open(&findings[i]))
                    .collect();
                let worst = open
                    .iter()
                    .chain(if open.is_empty() { &g.findings } else { &open })
                    .map(|&i| findings[i].severity)
                    .max()
                    .unwrap_or(Severity::Info);
                Group {
                    slot: slots::holding(app.slots, &g.fingerprint).map(|s| s.name.clone()),
                    replaced: replaced(app.slots, &g.fingerprint),
                    secret: first.secret.clone().unwrap_or_default(),
                    provider: first.provider.clone(),
                    fingerprint: g.fingerprint,
                    shown: g.findings.clone(),
                    places: g.findings,
                    worst,
                    open: open.len(),
                }
            })
            .collect();
        groups.extend(keyring_only(app.slots, &groups));
        m.secrets = groups.len();
        // A secret is shown when its row matches (then with all its places), else with the
        // places that match.
        groups.retain_mut(|g| {
            if g.worst < app.min_severity {
                return false;
            }
            if needle.is_empty() || group_text(app, &m, g).to_lowercase().contains(&needle) {
                return true;
            }
            g.shown.retain(|&i| {
                haystack(app, &m, &findings[i])
                    .to_lowercase()
                    .contains(&needle)
            });
            !g.shown.is_empty()
        });
        groups.sort_by(|a, b| {
            b.worst
                .cmp(&a.worst)
                .then(b.places.len().cmp(&a.places.len()))
                .then(a.fingerprint.cmp(&b.fingerprint))
        });
        m.groups = groups;

        // Checklist: what is still open.
        let open: Vec<usize> = (0..findings.len())
            .filter(|&i| !app.fixed.contains(&findings[i].id))
            .collect();
        let mut report = Report::from_findings(
            app.home.dir.clone(),
            open.iter().map(|&i| findings[i].clone()).collect(),
            Vec::new(),
        );
        report.guards = app.guards.to_vec();
        m.checks = report::checklist(&report)
            .into_iter()
            .map(|c| CheckRow {
                id: c.id,
                title: c.title,
                pass: c.status == CheckStatus::Pass,
                findings: c.findings.iter().map(|&k| open[k]).collect(),
                notes: c.notes,
            })
            .collect();
        m
    }
}

/// The slot `fingerprint` was the value of before a rotation replaced it.
fn replaced(slots: &[Slot], fingerprint: &str) -> Option<(String, Previous)> {
    slots.iter().find_map(|s| {
        s.previous
            .iter()
            .find(|p| p.fingerprint == fingerprint)
            .map(|p| (s.name.clone(), p.clone()))
    })
}

/// The secrets only the keyring holds (no place the audit found holds them): each slot's
/// value, then each value a rotation replaced, once each.
fn keyring_only(slots: &[Slot], found: &[Group]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    let known =
        |out: &[Group], fp: &str| found.iter().chain(out.iter()).any(|g| g.fingerprint == fp);
    let group = |fingerprint: &str, secret: Option<&str>, slot: &Slot| Group {
        fingerprint: fingerprint.to_string(),
        places: Vec::new(),
        shown: Vec::new(),
        worst: Severity::Info,
        open: 0,
        secret: secret.unwrap_or("…").to_string(),
        provider: Some(slots::provider_of(slots, &slot.name)),
        slot: None,
        replaced: None,
    };
    for s in slots {
        if let Some(fp) = s.fingerprint.as_deref().filter(|fp| !known(&out, fp)) {
            out.push(Group {
                slot: Some(s.name.clone()),
                ..group(fp, s.redacted.as_deref(), s)
            });
        }
    }
    for s in slots {
        for p in &s.previous {
            if known(&out, &p.fingerprint) {
                continue;
            }
            out.push(Group {
                worst: if p.revoked_at.is_none() {
                    Severity::Medium
                } else {
                    Severity::Info
                },
                replaced: Some((s.name.clone(), p.clone())),
                ..group(&p.fingerprint, Some(&p.redacted), s)
            });
        }
    }
    out
}

/// What the filter matches for a finding: what its row shows, the severity word, the
/// category, the variable, and the id.
fn haystack(app: &Facts, m: &Model, f: &Finding) -> String {
    let row = row_text(app, m, f);
    format!(
        "{} {} {} {} {} {} {} {}",
        row.badge,
        row.joined(),
        row.provider.as_deref().unwrap_or(""),
        f.severity,
        f.category.title(),
        f.category.as_str(),
        f.variable.as_deref().unwrap_or(""),
        f.id
    )
}
