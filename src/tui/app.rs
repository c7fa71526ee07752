//! The dashboard as a pure state machine: [`App::update`] takes an [`Action`] (a key, a
//! message from a worker) and returns the [`Effect`]s to run; it never touches the disk,
//! the keyring or the terminal, so tests drive it directly.

use super::keys::{self, Command, Context};
use crate::audit::Report;
use crate::finding::{Category, Finding, FixKind, Severity};
use crossterm::event::{KeyCode, KeyEvent, MouseEvent, MouseEventKind};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

/// Which list is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Findings,
    Tokens,
    Checklist,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToastLevel {
    Info,
    Success,
    Error,
}

/// A modal on top of the lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Popup {
    Help,
    /// Waiting for the worker to compute a plan.
    Planning,
    /// The plan, exactly as it will be applied; `y`/Enter applies, `n`/Esc cancels.
    Confirm {
        plan_id: String,
        preview: String,
        findings: Vec<String>,
        scroll: u16,
    },
    /// Typing the reason for ignoring a finding.
    IgnoreReason {
        id: String,
        input: String,
    },
}

/// Input from the user or from a worker.
#[derive(Debug)]
pub enum Action {
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// The terminal changed size: the next frame lays out again.
    Resize,
    ScanStarted,
    Found(Finding),
    Warning(String),
    Progress(u64),
    ScanDone(Box<Report>),
    PlanReady {
        plan_id: String,
        preview: String,
        findings: Vec<String>,
        empty: bool,
        refused: Vec<String>,
    },
    Applied {
        fix_id: String,
        findings: Vec<String>,
        failed: Vec<String>,
    },
    Undone {
        fix_id: String,
        findings: Vec<String>,
        failed: Vec<String>,
    },
    IgnoreSaved {
        id: String,
        reason: Option<String>,
    },
    Context {
        id: String,
        line: String,
    },
    Failed(String),
    /// From the watcher.
    Watch(crate::watch::Event),
}

/// What the event loop must do for the state machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    Scan,
    Plan(Vec<(Finding, FixKind)>),
    Apply(String),
    Discard(String),
    Undo(String),
    Ignore {
        id: String,
        reason: Option<String>,
    },
    LoadContext(Box<Finding>),
    /// Start (true) or stop watching for regressions.
    Watch(bool),
    Quit,
}

pub struct App {
    pub home: PathBuf,
    pub who: String,
    pub findings: Vec<Finding>,
    pub warnings: Vec<String>,
    /// Whether each shell's history is guarded, as the last scan found.
    pub guards: Vec<crate::guard::ShellGuard>,
    pub fixed: HashSet<String>,
    pub scanning: bool,
    pub files: u64,
    pub scan_secs: Option<f64>,
    pub view: View,
    pub selected: usize,
    /// First visible row of the list (kept so the selection stays in view).
    pub offset: usize,
    /// The terminal's size (columns, rows), for mapping mouse clicks to rows.
    pub size: (u16, u16),
    pub page: usize,
    pub details: bool,
    pub filter: String,
    pub filter_editing: bool,
    pub min_severity: Severity,
    pub popup: Option<Popup>,
    pub toast: Option<(ToastLevel, String)>,
    /// Applied fixes of this session, newest last (for `u`).
    pub fixes: Vec<(String, Vec<String>)>,
    pub context: HashMap<String, String>,
    pub color: bool,
    pub quit: bool,
    /// Whether watching for regressions is wanted (on by default), and running.
    pub watching: bool,
    pub watch_ready: bool,
}

impl App {
    pub fn new(home: PathBuf, who: String, color: bool) -> Self {
        App {
            home,
            who,
            findings: Vec::new(),
            warnings: Vec::new(),
            guards: Vec::new(),
            fixed: HashSet::new(),
            scanning: false,
            files: 0,
            scan_secs: None,
            view: View::Findings,
            selected: 0,
            offset: 0,
            size: (80, 24),
            page: 10,
            details: false,
            filter: String::new(),
            filter_editing: false,
            min_severity: Severity::Info,
            popup: None,
            toast: None,
            fixes: Vec::new(),
            context: HashMap::new(),
            color,
            quit: false,
            watching: true,
            watch_ready: false,
        }
    }

    fn matches_filter(&self, f: &Finding) -> bool {
        if f.severity < self.min_severity {
            return false;
        }
        if self.filter.is_empty() {
            return true;
        }
        let needle = self.filter.to_lowercase();
        let loc = crate::report::location(&self.home, f).to_lowercase();
        loc.contains(&needle)
            || f.rule.contains(&needle)
            || f.message.to_lowercase().contains(&needle)
    }

    /// Indices of the findings shown, in display order (by category, then severity).
    pub fn visible(&self) -> Vec<usize> {
        let mut v: Vec<usize> = (0..self.findings.len())
            .filter(|&i| self.matches_filter(&self.findings[i]))
            .collect();
        v.sort_by(|&a, &b| {
            let (fa, fb) = (&self.findings[a], &self.findings[b]);
            fa.category
                .cmp(&fb.category)
                .then(fb.severity.cmp(&fa.severity))
                .then(fa.path.cmp(&fb.path))
                .then(fa.line.cmp(&fb.line))
                .then(fa.id.cmp(&fb.id))
        });
        v
    }

    /// Distinct secrets (by fingerprint) and the findings where each appears.
    pub fn tokens(&self) -> Vec<(String, Vec<usize>)> {
        crate::report::secret_groups(&self.findings, self.visible())
            .into_iter()
            .map(|g| (g.fingerprint, g.findings))
            .collect()
    }

    /// The report of what is on screen, for the checklist.
    pub fn report(&self) -> Report {
        let findings: Vec<Finding> = self
            .findings
            .iter()
            .filter(|f| !self.fixed.contains(&f.id))
            .cloned()
            .collect();
        let mut report = Report::from_findings(self.home.clone(), findings, self.warnings.clone());
        report.guards = self.guards.clone();
        report
    }

    fn rows(&self) -> usize {
        match self.view {
            View::Findings => self.visible().len(),
            View::Tokens => self.tokens().len(),
            View::Checklist => crate::report::checklist(&self.report()).len(),
        }
    }

    /// The finding under the cursor (findings view).
    pub fn current(&self) -> Option<&Finding> {
        match self.view {
            View::Findings => self
                .visible()
                .get(self.selected)
                .map(|&i| &self.findings[i]),
            View::Tokens => self
                .tokens()
                .get(self.selected)
                .and_then(|(_, v)| v.first())
                .map(|&i| &self.findings[i]),
            View::Checklist => None,
        }
    }

    /// Counts by severity of what is still open (not fixed, not ignored).
    pub fn counts(&self) -> BTreeMap<Severity, usize> {
        let mut m: BTreeMap<Severity, usize> = Severity::ALL_DESC.iter().map(|s| (*s, 0)).collect();
        for f in self
            .findings
            .iter()
            .filter(|f| f.ignored.is_none() && !self.fixed.contains(&f.id))
        {
            *m.entry(f.severity).or_default() += 1;
        }
        m
    }

    /// 100 for a clean machine, less for each open finding by weight.
    pub fn score(&self) -> u16 {
        let c = self.counts();
        let penalty = c[&Severity::Critical] * 40
            + c[&Severity::High] * 15
            + c[&Severity::Medium] * 5
            + c[&Severity::Low];
        100u16.saturating_sub(penalty.min(100) as u16)
    }

    fn clamp(&mut self) {
        let n = self.rows();
        if n == 0 {
            self.selected = 0;
        } else if self.selected >= n {
            self.selected = n - 1;
        }
        if self.selected < self.offset {
            self.offset = self.selected;
        }
    }

    fn select(&mut self, i: usize) -> Vec<Effect> {
        self.selected = i;
        self.clamp();
        self.context_effect()
    }

    fn context_effect(&self) -> Vec<Effect> {
        match self.current() {
            Some(f)
                if f.path.is_some() && f.line.is_some() && !self.context.contains_key(&f.id) =>
            {
                vec![Effect::LoadContext(Box::new(f.clone()))]
            }
            _ => Vec::new(),
        }
    }

    fn toast(&mut self, level: ToastLevel, msg: impl Into<String>) {
        self.toast = Some((level, msg.into()));
    }

    fn fix(&mut self, kind: Option<FixKind>) -> Vec<Effect> {
        let targets: Vec<Finding> = match self.view {
            View::Tokens => self
                .tokens()
                .get(self.selected)
                .map(|(_, v)| v.iter().map(|&i| self.findings[i].clone()).collect())
                .unwrap_or_default(),
            View::Findings => self.current().cloned().into_iter().collect(),
            View::Checklist => Vec::new(),
        };
        let mut choices = Vec::new();
        for f in targets.into_iter().filter(|f| !self.fixed.contains(&f.id)) {
            let k = match kind {
                Some(k) if f.fixes.contains(&k) => Some(k),
                Some(_) => None,
                None => f.fixes.first().copied(),
            };
            if let Some(k) = k {
                choices.push((f, k));
            }
        }
        if choices.is_empty() {
            let what = kind.map_or("a fix".to_string(), |k| format!("the {} fix", k.as_str()));
            self.toast(
                ToastLevel::Info,
                format!("No {what} for this; the details say what to do by hand."),
            );
            return Vec::new();
        }
        self.popup = Some(Popup::Planning);
        vec![Effect::Plan(choices)]
    }

    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Key(k) => self.key(k),
            Action::Mouse(m) => self.mouse(m),
            Action::Resize => vec![],
            Action::ScanStarted => {
                self.scanning = true;
                self.files = 0;
                self.findings.clear();
                self.warnings.clear();
                self.fixed.clear();
                self.context.clear();
                Vec::new()
            }
            Action::Found(f) => {
                if !self.findings.iter().any(|x| x.id == f.id) {
                    self.findings.push(f);
                }
                let first = self.findings.len() == 1;
                if first {
                    self.context_effect()
                } else {
                    Vec::new()
                }
            }
            Action::Warning(w) => {
                self.warnings.push(w);
                Vec::new()
            }
            Action::Progress(n) => {
                self.files = n;
                Vec::new()
            }
            Action::ScanDone(r) => {
                self.scanning = false;
                self.files = r.stats.files;
                self.scan_secs = Some(r.stats.elapsed.as_secs_f64());
                self.findings = r.findings;
                self.warnings = r.warnings;
                self.guards = r.guards;
                self.clamp();
                let mut e = self.context_effect();
                if self.watching && !self.watch_ready {
                    e.push(Effect::Watch(true));
                }
                e
            }
            Action::Watch(ev) => self.watch_event(ev),
            Action::PlanReady {
                plan_id,
                preview,
                findings,
                empty,
                refused,
            } => {
                if empty {
                    self.popup = None;
                    let why = refused
                        .first()
                        .cloned()
                        .unwrap_or_else(|| "nothing to change".into());
                    self.toast(ToastLevel::Error, format!("Cannot fix: {why}"));
                    return vec![Effect::Discard(plan_id)];
                }
                self.popup = Some(Popup::Confirm {
                    plan_id,
                    preview,
                    findings,
                    scroll: 0,
                });
                Vec::new()
            }
            Action::Applied {
                fix_id,
                findings,
                failed,
            } => {
                for id in &findings {
                    self.fixed.insert(id.clone());
                }
                if failed.is_empty() {
                    self.toast(
                        ToastLevel::Success,
                        format!(
                            "Fixed {} finding(s) ({fix_id}); u undoes it.",
                            findings.len()
                        ),
                    );
                } else {
                    self.toast(
                        ToastLevel::Error,
                        format!("Not changed: {}", failed.join("; ")),
                    );
                }
                self.fixes.push((fix_id, findings));
                Vec::new()
            }
            Action::Undone {
                fix_id,
                findings,
                failed,
            } => {
                if failed.is_empty() {
                    for id in &findings {
                        self.fixed.remove(id);
                    }
                    self.fixes.retain(|(id, _)| *id != fix_id);
                    self.toast(
                        ToastLevel::Success,
                        format!("Undid {fix_id}: files restored."),
                    );
                } else {
                    self.toast(
                        ToastLevel::Error,
                        format!("Undo incomplete: {}", failed.join("; ")),
                    );
                }
                Vec::new()
            }
            Action::IgnoreSaved { id, reason } => {
                if let Some(f) = self.findings.iter_mut().find(|f| f.id == id) {
                    f.ignored = reason.clone();
                }
                self.toast(
                    ToastLevel::Info,
                    match reason {
                        Some(_) => format!("Ignored {id} (saved in the config; i again to undo)."),
                        None => format!("{id} is no longer ignored."),
                    },
                );
                Vec::new()
            }
            Action::Context { id, line } => {
                self.context.insert(id, line);
                Vec::new()
            }
            Action::Failed(msg) => {
                if self.popup == Some(Popup::Planning) {
                    self.popup = None;
                }
                self.toast(ToastLevel::Error, msg);
                Vec::new()
            }
        }
    }

    fn watch_event(&mut self, ev: crate::watch::Event) -> Vec<Effect> {
        use crate::watch::Event;
        if !self.watching {
            return Vec::new();
        }
        match ev {
            Event::Ready { .. } => self.watch_ready = true,
            Event::Regression(f) => {
                let msg = format!(
                    "Regression: {} {} — {}",
                    f.severity,
                    crate::report::location(&self.home, &f),
                    f.fixes
                        .first()
                        .map_or("see details".to_string(), |k| format!(
                            "{} fixes it",
                            k.as_str()
                        ))
                );
                self.fixed.remove(&f.id);
                match self.findings.iter_mut().find(|x| x.id == f.id) {
                    Some(x) => *x = f,
                    None => self.findings.push(f),
                }
                self.toast(ToastLevel::Error, msg);
            }
            Event::Resolved { finding, .. } => {
                self.fixed.insert(finding.id);
            }
            Event::Error(e) => self.toast(ToastLevel::Error, e),
        }
        Vec::new()
    }

    fn mouse(&mut self, m: MouseEvent) -> Vec<Effect> {
        if self.popup.is_some() {
            return Vec::new();
        }
        match m.kind {
            MouseEventKind::ScrollDown => self.select(self.selected + 1),
            MouseEventKind::ScrollUp => self.select(self.selected.saturating_sub(1)),
            MouseEventKind::Down(_) => {
                let Some(line) = super::ui::row_at(self, self.size, m.column, m.row) else {
                    return Vec::new();
                };
                match self.view {
                    View::Findings => {
                        match super::ui::finding_lines(self).get(line).and_then(|l| *l) {
                            Some(sel) => self.select(sel),
                            None => Vec::new(),
                        }
                    }
                    _ if line < self.rows() => self.select(line),
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }

    fn key(&mut self, k: KeyEvent) -> Vec<Effect> {
        if k.kind == crossterm::event::KeyEventKind::Release {
            return Vec::new();
        }
        self.toast = None;
        // Modal input first.
        match &mut self.popup {
            Some(Popup::Help) => {
                self.popup = None;
                return Vec::new();
            }
            Some(Popup::Planning) => {
                if keys::lookup(&k, Context::Main) == Some(Command::Quit)
                    && k.modifiers
                        .contains(crossterm::event::KeyModifiers::CONTROL)
                {
                    self.quit = true;
                    return vec![Effect::Quit];
                }
                return Vec::new();
            }
            Some(Popup::Confirm {
                plan_id, scroll, ..
            }) => {
                let id = plan_id.clone();
                match k.code {
                    KeyCode::Char('y') | KeyCode::Enter => {
                        self.popup = None;
                        self.toast(ToastLevel::Info, "Applying…");
                        return vec![Effect::Apply(id)];
                    }
                    KeyCode::Char('j') | KeyCode::Down => *scroll = scroll.saturating_add(1),
                    KeyCode::Char('k') | KeyCode::Up => *scroll = scroll.saturating_sub(1),
                    KeyCode::PageDown => *scroll = scroll.saturating_add(10),
                    KeyCode::PageUp => *scroll = scroll.saturating_sub(10),
                    KeyCode::Char('n') | KeyCode::Esc | KeyCode::Char('q') => {
                        self.popup = None;
                        self.toast(ToastLevel::Info, "Cancelled: nothing changed.");
                        return vec![Effect::Discard(id)];
                    }
                    _ => {}
                }
                return Vec::new();
            }
            Some(Popup::IgnoreReason { id, input }) => {
                match k.code {
                    KeyCode::Enter if !input.trim().is_empty() => {
                        let e = Effect::Ignore {
                            id: id.clone(),
                            reason: Some(input.trim().to_string()),
                        };
                        self.popup = None;
                        return vec![e];
                    }
                    KeyCode::Esc => self.popup = None,
                    KeyCode::Backspace => {
                        input.pop();
                    }
                    KeyCode::Char(c) => input.push(c),
                    _ => {}
                }
                return Vec::new();
            }
            None => {}
        }
        if self.filter_editing {
            match k.code {
                KeyCode::Enter => self.filter_editing = false,
                KeyCode::Esc => {
                    self.filter_editing = false;
                    self.filter.clear();
                }
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) => self.filter.push(c),
                _ => {}
            }
            self.selected = 0;
            self.offset = 0;
            return self.context_effect();
        }
        let Some(cmd) = keys::lookup(&k, Context::Main) else {
            return Vec::new();
        };
        let n = self.rows();
        match cmd {
            Command::Down => self.select((self.selected + 1).min(n.saturating_sub(1))),
            Command::Up => self.select(self.selected.saturating_sub(1)),
            Command::Top => self.select(0),
            Command::Bottom => self.select(n.saturating_sub(1)),
            Command::PageDown => self.select((self.selected + self.page).min(n.saturating_sub(1))),
            Command::PageUp => self.select(self.selected.saturating_sub(self.page)),
            Command::Details => {
                self.details = !self.details;
                Vec::new()
            }
            Command::NextView => {
                self.view = match self.view {
                    View::Findings => View::Tokens,
                    View::Tokens => View::Checklist,
                    View::Checklist => View::Findings,
                };
                self.selected = 0;
                self.offset = 0;
                self.context_effect()
            }
            Command::Fix => self.fix(None),
            Command::Chmod => self.fix(Some(FixKind::Chmod)),
            Command::Keyring => self.fix(Some(FixKind::Keyring)),
            Command::Redact => self.fix(Some(FixKind::Redact)),
            Command::Undo => {
                match self.fixes.last().map(|(id, _)| id.clone()) {
                    Some(id) => {
                        self.toast(ToastLevel::Info, format!("Undoing {id}…"));
                        vec![Effect::Undo(id)]
                    }
                    None => {
                        self.toast(ToastLevel::Info, "Nothing to undo in this session (`hfguard history` lists older fixes).");
                        Vec::new()
                    }
                }
            }
            Command::Ignore => match self.current() {
                Some(f) if f.ignored.is_some() => vec![Effect::Ignore {
                    id: f.id.clone(),
                    reason: None,
                }],
                Some(f) => {
                    self.popup = Some(Popup::IgnoreReason {
                        id: f.id.clone(),
                        input: String::new(),
                    });
                    Vec::new()
                }
                None => Vec::new(),
            },
            Command::Filter => {
                self.filter_editing = true;
                Vec::new()
            }
            Command::Severity => {
                self.min_severity = match self.min_severity {
                    Severity::Info => Severity::Low,
                    Severity::Low => Severity::Medium,
                    Severity::Medium => Severity::High,
                    Severity::High => Severity::Critical,
                    Severity::Critical => Severity::Info,
                };
                self.selected = 0;
                self.offset = 0;
                self.context_effect()
            }
            Command::Rescan => {
                if self.scanning {
                    Vec::new()
                } else {
                    vec![Effect::Scan]
                }
            }
            Command::Watch => {
                self.watching = !self.watching;
                self.watch_ready = false;
                self.toast(
                    ToastLevel::Info,
                    if self.watching {
                        "Watching for regressions."
                    } else {
                        "Watching off."
                    },
                );
                vec![Effect::Watch(self.watching)]
            }
            Command::Help => {
                self.popup = Some(Popup::Help);
                Vec::new()
            }
            Command::Quit => {
                if k.code == KeyCode::Esc && !self.filter.is_empty() {
                    self.filter.clear();
                    return Vec::new();
                }
                self.quit = true;
                vec![Effect::Quit]
            }
        }
    }
}

/// Short label of a category for headings in narrow terminals.
pub fn category_title(c: Category) -> &'static str {
    c.title()
}
