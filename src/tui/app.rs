//! The dashboard as a pure state machine: [`App::update`] takes an [`Action`] (a key, a
//! mouse event, a message from a worker) and returns the [`Effect`]s to run; it never touches
//! the disk, the keyring or the terminal, so tests drive it directly. What the lists show is
//! derived into [`Model`] after every change; where things are on screen comes from
//! [`super::layout`], which depends on the state and never the other way round.

use super::keys::{self, Command, Context};
use super::layout::{self, Pane};
use super::model::{self, ListLine, Model};
use super::preview::{self, PlanShown};
use super::text::{self, TLine};
use crate::audit::Report;
use crate::finding::{Finding, FixKind, Severity};
use crate::home::Home;
use crate::kind::FileKind;
use crate::secret::Secret;
use crate::slots::Slot;
use crate::verify::Verification;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

/// Which list is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Findings,
    Tokens,
    Checklist,
}

/// The views in their order (the tabs').
const VIEWS: [View; 3] = [View::Findings, View::Tokens, View::Checklist];

impl View {
    fn index(self) -> usize {
        self as usize
    }

    fn context(self) -> Context {
        match self {
            View::Findings => Context::Findings,
            View::Tokens => Context::Tokens,
            View::Checklist => Context::Checklist,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToastLevel {
    Info,
    Success,
    Error,
}

/// Text typed that must never be shown: a new token being pasted. It lives in a buffer wiped
/// when dropped, with room for any token reserved up front (a growing `String` would leave
/// copies of what was typed in the memory it gives back); its `Debug` shows only its length,
/// and nothing draws it but as bullets.
#[derive(Clone, PartialEq, Eq)]
pub struct Masked(zeroize::Zeroizing<String>);

impl Masked {
    /// The most bytes it takes: tokens are far shorter.
    pub const MAX: usize = 1024;

    pub fn new() -> Self {
        Masked(zeroize::Zeroizing::new(String::with_capacity(Self::MAX)))
    }

    /// How many characters were typed (what the bullets show).
    pub fn chars(&self) -> usize {
        self.0.chars().count()
    }

    fn push(&mut self, c: char) {
        if self.0.len() + c.len_utf8() <= Self::MAX {
            self.0.push(c);
        }
    }

    fn pop(&mut self) {
        self.0.pop();
    }

    /// What was typed, taken out (the buffer is left empty).
    fn take(&mut self) -> zeroize::Zeroizing<String> {
        std::mem::replace(&mut self.0, zeroize::Zeroizing::new(String::new()))
    }
}

impl Default for Masked {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Masked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Masked({} chars)", self.chars())
    }
}

/// The secret a key acts on: a row of Tokens, or the selected finding's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chosen {
    pub fingerprint: String,
    /// Redacted.
    pub secret: String,
    pub provider: Option<String>,
}

/// A rotation, for what the dashboard says about it while it is planned and once applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotationShown {
    pub slot: String,
    /// The old and the new token, redacted.
    pub old: String,
    pub new: String,
    /// Where the provider revokes tokens.
    pub url: Option<String>,
}

/// A modal on top of the lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Popup {
    /// The keys; `over` is the popup it was opened over, shown again when it closes.
    Help {
        scroll: usize,
        over: Option<Box<Popup>>,
    },
    /// Waiting for the worker to compute plan number `request` for `count` findings (or, for
    /// a rotation of slot `rotating`, to check the new token first).
    Planning {
        request: u64,
        count: usize,
        rotating: Option<String>,
    },
    /// The plan, exactly as it will be applied; Enter or `y` applies, Esc or `n` cancels.
    Confirm {
        plan: PlanShown,
        lines: Vec<TLine>,
        scroll: usize,
        /// The plan replaces a slot's token.
        rotation: Option<RotationShown>,
    },
    /// Before the first verification of the session: exactly what is sent where; `y` sends
    /// it, `n` or Esc sends nothing.
    Consent(Chosen),
    /// A value a rotation replaced in `slot`: did the user revoke it at the provider?
    Revoked { slot: String, chosen: Chosen },
    /// Rotating `slot`, which holds `old` (redacted): the provider's token page, and the new
    /// token as it is typed (never shown).
    NewToken {
        slot: String,
        old: String,
        url: Option<String>,
        /// The page was opened in the browser (there is a display).
        opened: bool,
        input: Masked,
    },
    /// The selected finding's secret is open in other places too: fix this one, or all?
    Scope { id: String, places: usize },
    /// Typing the reason for ignoring a finding.
    IgnoreReason { id: String, input: String },
    /// A fix or undo is running: quit anyway?
    QuitConfirm,
}

/// Input from the user or from a worker.
#[derive(Debug)]
pub enum Action {
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// The terminal's size (columns, rows), at start and whenever it changes.
    Resize(u16, u16),
    ScanStarted,
    Found(Finding),
    Warning(String),
    Progress(u64),
    ScanDone(Box<Report>),
    /// Whether a Secret Service answers.
    Keyring(bool),
    PlanReady {
        request: u64,
        plan: PlanShown,
        /// Nothing to change (everything refused).
        empty: bool,
    },
    /// A plan was applied (`error`: nothing was, and why).
    Applied {
        fix_id: String,
        findings: Vec<String>,
        failed: Vec<String>,
        paths: Vec<PathBuf>,
        error: Option<String>,
    },
    Undone {
        fix_id: String,
        findings: Vec<String>,
        failed: Vec<String>,
        paths: Vec<PathBuf>,
        error: Option<String>,
    },
    /// The findings at `paths`, audited again.
    Reaudited {
        paths: BTreeSet<PathBuf>,
        findings: Vec<Finding>,
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
    /// hfguard's keyring slots (the index), read again.
    Slots(Vec<Slot>),
    /// What the provider said about the secret with `fingerprint` (`Err`: why it could not be
    /// asked).
    Verified {
        fingerprint: String,
        result: Result<Verification, String>,
    },
    /// The new token of rotation `request` was refused; nothing changed.
    RotationRefused {
        request: u64,
        reason: String,
    },
    /// Replaced values of `slot` marked revoked (redacted), or why not.
    RevokeMarked {
        slot: String,
        result: Result<Vec<String>, String>,
    },
}

/// What the event loop must do for the state machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    Scan,
    /// Ask whether a Secret Service answers.
    CheckKeyring,
    Plan {
        request: u64,
        choices: Vec<(Finding, FixKind)>,
    },
    Apply(String),
    Discard(String),
    Undo(String),
    /// Audit these paths again (with the kind of file each was, when known).
    Reaudit(Vec<(PathBuf, Option<FileKind>)>),
    Ignore {
        id: String,
        reason: Option<String>,
    },
    LoadContext(Box<Finding>),
    /// Start (true) or stop watching for regressions.
    Watch(bool),
    /// Read hfguard's slot index again.
    LoadSlots,
    /// Ask the provider of the secret with `fingerprint` about it (one request), its
    /// plaintext read again from `places` (findings that hold it) or the keyring.
    Verify {
        fingerprint: String,
        provider: Option<String>,
        places: Vec<Finding>,
    },
    /// Open a page in the user's browser.
    Open(String),
    /// Check `new` as the next value of `slot` and plan the rotation as plan `request`; the
    /// copies of the old token are among `findings` (the open ones). `verify`: the new token
    /// is sent to its provider first.
    Rotate {
        request: u64,
        slot: String,
        new: Secret,
        findings: Vec<Finding>,
        verify: bool,
    },
    /// Mark the value `fingerprint` that `slot` held before a rotation revoked (with
    /// `verify`, only when its provider refuses it).
    MarkRevoked {
        slot: String,
        fingerprint: String,
        verify: bool,
    },
    Quit,
}

/// Where the selection is in one view. The selection follows its item (a finding's id, a
/// secret's fingerprint, a check's id) when the list changes under it.
#[derive(Clone, Debug, Default)]
struct Cursor {
    row: usize,
    anchor: Option<String>,
    /// First line of the list on screen.
    offset: usize,
    /// The user moved it: until then it stays on the first (most urgent) row.
    moved: bool,
}

/// What the watcher said it watches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Watched {
    pub folders: usize,
    pub polled: usize,
    pub unwatched: usize,
    pub projects: Vec<PathBuf>,
}

pub struct App {
    pub home: Home,
    pub who: String,
    pub findings: Vec<Finding>,
    pub warnings: Vec<String>,
    /// Whether each shell's history is guarded, as the last scan found.
    pub guards: Vec<crate::guard::ShellGuard>,
    /// Findings gone since the scan (fixed here, or resolved).
    pub fixed: HashSet<String>,
    /// Marked for the next `f`.
    pub marked: BTreeSet<String>,
    pub scanning: bool,
    /// A rescan is running: the list stays until it is done.
    rescanning: bool,
    pub files: u64,
    pub scan_secs: Option<f64>,
    pub view: View,
    cursors: [Cursor; 3],
    /// The terminal's size (columns, rows).
    pub size: (u16, u16),
    /// The details pane fills the body.
    pub zoom: bool,
    pub detail_scroll: usize,
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
    /// Whether watching for regressions is wanted (on by default).
    pub watching: bool,
    /// What the running watcher watches, once it is ready.
    pub watched: Option<Watched>,
    /// Whether a Secret Service answers (`None`: not known yet).
    pub keyring: Option<bool>,
    /// Fixes and undos under way.
    pub running: usize,
    /// The plan request awaited; older answers are dropped.
    request: u64,
    /// Findings left out of the plan awaited (no automatic fix), for its preview.
    left_out: Vec<String>,
    /// The largest weight seen in this session: the score's measure.
    baseline: f64,
    /// What the lists show; rebuilt after every change.
    pub model: Model,
    /// Findings arrived since the model was built.
    stale: bool,
    /// hfguard's keyring slots, as the index says (`None`: not read yet).
    pub slots: Option<Vec<Slot>>,
    /// What providers said about secrets this session, by fingerprint.
    pub verified: HashMap<String, Verification>,
    /// Secrets whose provider is being asked now.
    pub verifying: HashSet<String>,
    /// Whether a secret may be sent to its provider without asking first: `[verify] enabled
    /// = true` in the configuration, or the user said yes once in this session.
    pub may_verify: bool,
    /// The rotation whose plan is awaited, by plan request.
    rotation: Option<(u64, RotationShown)>,
    /// Rotations being applied, by plan id.
    applying: HashMap<String, RotationShown>,
}

impl App {
    /// A dashboard for `home` audited as a bare folder (no environment).
    pub fn new(home: PathBuf, who: String, color: bool) -> Self {
        Self::for_home(Home::new(home, Vec::new()), who, color)
    }

    pub fn for_home(home: Home, who: String, color: bool) -> Self {
        let mut app = App {
            home,
            who,
            findings: Vec::new(),
            warnings: Vec::new(),
            guards: Vec::new(),
            fixed: HashSet::new(),
            marked: BTreeSet::new(),
            scanning: false,
            rescanning: false,
            files: 0,
            scan_secs: None,
            view: View::Findings,
            cursors: Default::default(),
            size: (80, 24),
            zoom: false,
            detail_scroll: 0,
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
            watched: None,
            keyring: None,
            running: 0,
            request: 0,
            left_out: Vec::new(),
            baseline: 0.0,
            model: Model::default(),
            stale: false,
            slots: None,
            verified: HashMap::new(),
            verifying: HashSet::new(),
            may_verify: false,
            rotation: None,
            applying: HashMap::new(),
        };
        app.refresh();
        app
    }

    /// Open: neither fixed nor ignored.
    pub fn is_open(&self, f: &Finding) -> bool {
        self.facts().is_open(f)
    }

    /// What the layout depends on.
    pub fn screen(&self) -> layout::Screen<'_> {
        layout::Screen {
            size: self.size,
            zoom: self.zoom,
            message: self.toast.as_ref().map(|(_, m)| m.as_str()),
        }
    }

    /// What the model is derived from.
    pub fn facts(&self) -> model::Facts<'_> {
        model::Facts {
            home: &self.home,
            findings: &self.findings,
            fixed: &self.fixed,
            filter: &self.filter,
            min_severity: self.min_severity,
            guards: &self.guards,
            slots: self.slots.as_deref().unwrap_or_default(),
            verified: &self.verified,
            verifying: &self.verifying,
        }
    }

    /// The details pane's lines for what is selected.
    pub fn details(&self) -> Vec<TLine> {
        use super::detail::{self, Selected};
        let selected = match self.view {
            View::Findings => self.current().map(Selected::Finding),
            View::Tokens => self.model.groups.get(self.cursor()).map(Selected::Secret),
            View::Checklist => self.model.checks.get(self.cursor()).map(Selected::Check),
        }
        .unwrap_or(Selected::Nothing {
            scanning: self.scanning,
        });
        detail::lines(&detail::Subject {
            facts: self.facts(),
            model: &self.model,
            selected,
            context: &self.context,
            keyring: self.keyring,
        })
    }

    /// Counts by severity of what is still open.
    pub fn counts(&self) -> std::collections::BTreeMap<Severity, usize> {
        let mut m: std::collections::BTreeMap<Severity, usize> =
            Severity::ALL_DESC.iter().map(|s| (*s, 0)).collect();
        for f in self.findings.iter().filter(|f| self.is_open(f)) {
            *m.entry(f.severity).or_default() += 1;
        }
        m
    }

    /// The hygiene score (see [`super::score`]).
    pub fn score(&self) -> u8 {
        super::score::score(self.model.open_weight, self.baseline)
    }

    /// Where the user is, for the keys and the key bar.
    pub fn context(&self) -> Context {
        match &self.popup {
            Some(Popup::Help { .. }) => Context::Help,
            Some(Popup::Planning { .. }) => Context::Planning,
            Some(Popup::Confirm { .. }) => Context::Confirm,
            Some(Popup::Scope { .. }) => Context::Scope,
            Some(Popup::IgnoreReason { .. }) => Context::Ignore,
            Some(Popup::QuitConfirm) => Context::QuitConfirm,
            Some(Popup::Consent(_)) => Context::Consent,
            Some(Popup::Revoked { .. }) => Context::Revoked,
            Some(Popup::NewToken { .. }) => Context::NewToken,
            None if self.filter_editing => Context::Filter,
            None if self.zoom => Context::Zoom,
            None => self.view.context(),
        }
    }

    fn cur(&self) -> &Cursor {
        &self.cursors[self.view.index()]
    }

    fn cur_mut(&mut self) -> &mut Cursor {
        &mut self.cursors[self.view.index()]
    }

    /// The selected row of the current view.
    pub fn cursor(&self) -> usize {
        self.cur().row
    }

    /// The first line of the current list on screen.
    pub fn list_offset(&self) -> usize {
        self.cur().offset
    }

    /// Rows of the current view.
    pub fn rows(&self) -> usize {
        match self.view {
            View::Findings => self.model.rows.len(),
            View::Tokens => self.model.groups.len(),
            View::Checklist => self.model.checks.len(),
        }
    }

    /// "123/4001" for the list's title.
    pub fn position(&self) -> String {
        match self.rows() {
            0 => "0/0".into(),
            n => format!("{}/{n}", self.cursor() + 1),
        }
    }

    /// The line of the current list that shows row `row`.
    pub fn line_of(&self, row: usize) -> usize {
        self.line_in(self.view, row)
    }

    fn line_in(&self, view: View, row: usize) -> usize {
        match view {
            View::Findings => self
                .model
                .lines
                .iter()
                .position(|l| *l == ListLine::Row(row))
                .unwrap_or(0),
            _ => row,
        }
    }

    /// Lines of the current list.
    pub fn lines(&self) -> usize {
        self.lines_in(self.view)
    }

    fn lines_in(&self, view: View) -> usize {
        match view {
            View::Findings => self.model.lines.len(),
            _ => self.rows_in(view),
        }
    }

    /// The finding under the cursor (Findings view); in Tokens, the secret's first place.
    pub fn current(&self) -> Option<&Finding> {
        match self.view {
            View::Findings => self
                .model
                .rows
                .get(self.cursor())
                .map(|&i| &self.findings[i]),
            View::Tokens => self
                .model
                .groups
                .get(self.cursor())
                .and_then(|g| g.places.first())
                .map(|&i| &self.findings[i]),
            View::Checklist => None,
        }
    }

    fn anchor_at(&self, view: View, row: usize) -> Option<String> {
        match view {
            View::Findings => self
                .model
                .rows
                .get(row)
                .map(|&i| self.findings[i].id.clone()),
            View::Tokens => self.model.groups.get(row).map(|g| g.fingerprint.clone()),
            View::Checklist => self.model.checks.get(row).map(|c| c.id.to_string()),
        }
    }

    fn row_of(&self, view: View, anchor: &str) -> Option<usize> {
        match view {
            View::Findings => self
                .model
                .rows
                .iter()
                .position(|&i| self.findings[i].id == anchor),
            View::Tokens => self
                .model
                .groups
                .iter()
                .position(|g| g.fingerprint == anchor),
            View::Checklist => self.model.checks.iter().position(|c| c.id == anchor),
        }
    }

    fn rows_in(&self, view: View) -> usize {
        match view {
            View::Findings => self.model.rows.len(),
            View::Tokens => self.model.groups.len(),
            View::Checklist => self.model.checks.len(),
        }
    }

    /// Rebuilds what the lists show, then puts each view's selection back on its item (or
    /// on the row where it was, when the item is gone), in view.
    fn refresh(&mut self) {
        self.model = Model::build(&self.facts());
        self.stale = false;
        self.baseline = self.baseline.max(self.model.all_weight);
        let height = layout::list_height(self.screen());
        for view in VIEWS {
            let n = self.rows_in(view);
            let c = &self.cursors[view.index()];
            let row = if !c.moved {
                0
            } else {
                c.anchor
                    .as_deref()
                    .and_then(|a| self.row_of(view, a))
                    .unwrap_or(c.row)
            };
            let row = row.min(n.saturating_sub(1));
            let anchor = self.anchor_at(view, row);
            let line = self.line_in(view, row);
            let offset = layout::list_window(line, height, self.cursors[view.index()].offset)
                .min(self.lines_in(view).saturating_sub(height));
            let c = &mut self.cursors[view.index()];
            c.row = row;
            c.anchor = anchor;
            c.offset = offset;
        }
        self.clamp_scrolls();
    }

    /// Keeps the details' and popups' scroll positions within their text.
    fn clamp_scrolls(&mut self) {
        let detail = layout::inner(layout::areas(self.screen()).detail);
        let total = text::wrap_all(&self.details(), detail.width as usize).len();
        self.detail_scroll = self
            .detail_scroll
            .min(layout::max_scroll(total, detail.height));
        let size = self.size;
        match &mut self.popup {
            Some(Popup::Confirm { lines, scroll, .. }) => {
                let b = layout::inner(layout::preview_box(size, lines));
                let total = text::wrap_all(lines, b.width as usize).len();
                *scroll = (*scroll).min(layout::max_scroll(total, b.height));
            }
            Some(Popup::Help { scroll, .. }) => {
                let lines = help_lines();
                let b = layout::inner(layout::help_box(size, &lines));
                let total = text::wrap_all(&lines, b.width as usize).len();
                *scroll = (*scroll).min(layout::max_scroll(total, b.height));
            }
            _ => {}
        }
    }

    /// Rebuilds the model if findings arrived since (the event loop calls this once per
    /// batch of worker news, so a streaming scan does not rebuild it per finding).
    pub fn settle(&mut self) -> Vec<Effect> {
        if self.stale {
            self.refresh();
            return self.context_effect();
        }
        Vec::new()
    }

    /// Moves the selection of the current view to `row`.
    fn select(&mut self, row: usize) -> Vec<Effect> {
        let n = self.rows();
        let row = row.min(n.saturating_sub(1));
        let anchor = self.anchor_at(self.view, row);
        let height = layout::list_height(self.screen());
        let line = self.line_of(row);
        let lines = self.lines();
        let c = self.cur_mut();
        let changed = c.row != row;
        c.row = row;
        c.anchor = anchor;
        c.moved = true;
        c.offset = layout::list_window(line, height, c.offset).min(lines.saturating_sub(height));
        if changed {
            self.detail_scroll = 0;
        }
        self.context_effect()
    }

    fn move_by(&mut self, delta: isize) -> Vec<Effect> {
        let row = self.cursor().saturating_add_signed(delta);
        self.select(row)
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

    fn location(&self, f: &Finding) -> String {
        crate::term::safe_line(&crate::report::location(&self.home.dir, f)).into_owned()
    }

    /// " · hygiene 12 → 18 (+6)" when the score moved since `before`.
    fn score_change(&self, before: u8) -> String {
        let now = self.score();
        match now.cmp(&before) {
            std::cmp::Ordering::Equal => String::new(),
            std::cmp::Ordering::Greater => {
                format!(" · hygiene {before} → {now} (+{})", now - before)
            }
            std::cmp::Ordering::Less => {
                format!(" · hygiene {before} → {now} (−{})", before - now)
            }
        }
    }

    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let streaming = matches!(action, Action::Found(_));
        let mut effects = self.handle(action);
        if !streaming {
            effects.extend(self.settle());
        }
        effects
    }

    fn handle(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Key(k) => self.key(k),
            Action::Mouse(m) => self.mouse(m),
            Action::Resize(w, h) => {
                self.size = (w, h);
                self.refresh();
                Vec::new()
            }
            Action::ScanStarted => {
                self.scanning = true;
                self.rescanning = !self.findings.is_empty();
                self.files = 0;
                if !self.rescanning {
                    self.findings.clear();
                    self.warnings.clear();
                    self.fixed.clear();
                }
                Vec::new()
            }
            Action::Found(f) => {
                if !self.rescanning && !self.findings.iter().any(|x| x.id == f.id) {
                    self.findings.push(f);
                    self.stale = true;
                }
                Vec::new()
            }
            Action::Warning(w) => {
                if !self.rescanning {
                    self.warnings.push(w);
                }
                Vec::new()
            }
            Action::Progress(n) => {
                self.files = n;
                Vec::new()
            }
            Action::ScanDone(r) => {
                let first = self.scan_secs.is_none();
                self.scanning = false;
                self.rescanning = false;
                self.files = r.stats.files;
                self.scan_secs = Some(r.stats.elapsed.as_secs_f64());
                self.findings = r.findings;
                self.warnings = r.warnings;
                self.guards = r.guards;
                self.fixed.clear();
                self.context.clear();
                let ids: HashSet<&str> = self.findings.iter().map(|f| f.id.as_str()).collect();
                self.marked.retain(|id| ids.contains(id.as_str()));
                self.refresh();
                // From now on each selection stays on its item (the most urgent, at first)
                // whatever changes around it.
                for c in &mut self.cursors {
                    c.moved = true;
                }
                let mut e = self.context_effect();
                e.push(Effect::LoadSlots);
                if first {
                    e.push(Effect::CheckKeyring);
                    if self.watching {
                        e.push(Effect::Watch(true));
                    }
                }
                e
            }
            Action::Keyring(ok) => {
                self.keyring = Some(ok);
                Vec::new()
            }
            Action::Watch(ev) => self.watch_event(ev),
            Action::PlanReady {
                request,
                plan,
                empty,
            } => self.plan_ready(request, plan, empty),
            Action::Applied {
                fix_id,
                findings,
                failed,
                paths,
                error,
            } => {
                self.running = self.running.saturating_sub(1);
                let rotation = self.applying.remove(&fix_id);
                if let Some(e) = error {
                    self.toast(ToastLevel::Error, e);
                    return Vec::new();
                }
                let before = self.score();
                for id in &findings {
                    self.fixed.insert(id.clone());
                    self.marked.remove(id);
                }
                if let Some(r) = rotation {
                    return self.rotated(r, fix_id, findings, failed);
                }
                self.refresh();
                let n = findings.len();
                if failed.is_empty() {
                    self.toast(
                        ToastLevel::Success,
                        format!(
                            "Fixed {} ({fix_id}){}; u undoes it.",
                            model::findings_word(n),
                            self.score_change(before)
                        ),
                    );
                } else {
                    self.toast(
                        ToastLevel::Error,
                        format!(
                            "Fixed {}{}; not changed: {}",
                            model::findings_word(n),
                            self.score_change(before),
                            failed.join("; ")
                        ),
                    );
                }
                if n > 0 {
                    self.fixes.push((fix_id, findings.clone()));
                }
                // A move into the keyring makes or changes a slot.
                vec![self.reaudit(&findings, paths), Effect::LoadSlots]
            }
            Action::Undone {
                fix_id,
                findings,
                failed,
                paths,
                error,
            } => {
                self.running = self.running.saturating_sub(1);
                if let Some(e) = error {
                    self.toast(ToastLevel::Error, e);
                    return Vec::new();
                }
                if !failed.is_empty() {
                    self.toast(
                        ToastLevel::Error,
                        format!("Undo incomplete: {}", failed.join("; ")),
                    );
                    return vec![self.reaudit(&findings, paths)];
                }
                let before = self.score();
                for id in &findings {
                    self.fixed.remove(id);
                }
                self.fixes.retain(|(id, _)| *id != fix_id);
                self.refresh();
                self.toast(
                    ToastLevel::Success,
                    format!(
                        "Undid {fix_id}: {} restored{}.",
                        if paths.len() == 1 {
                            "1 file".to_string()
                        } else {
                            format!("{} files", paths.len())
                        },
                        self.score_change(before)
                    ),
                );
                vec![self.reaudit(&findings, paths), Effect::LoadSlots]
            }
            Action::Reaudited { paths, findings } => {
                self.reconcile(&paths, findings);
                Vec::new()
            }
            Action::IgnoreSaved { id, reason } => {
                let before = self.score();
                let mut again = Vec::new();
                if let Some(f) = self.findings.iter_mut().find(|f| f.id == id) {
                    f.ignored = reason.clone();
                    again = vec![id.clone()];
                }
                self.marked.remove(&id);
                self.refresh();
                let change = self.score_change(before);
                self.toast(
                    ToastLevel::Info,
                    match reason {
                        Some(_) => {
                            format!("Ignored {id} (saved in the config; i again to stop){change}.")
                        }
                        None => format!("{id} is no longer ignored{change}."),
                    },
                );
                if again.is_empty() {
                    Vec::new()
                } else {
                    vec![self.reaudit(&again, Vec::new())]
                }
            }
            Action::Context { id, line } => {
                self.context.insert(id, line);
                Vec::new()
            }
            Action::Failed(msg) => {
                if matches!(self.popup, Some(Popup::Planning { .. })) {
                    self.popup = None;
                }
                self.toast(ToastLevel::Error, msg);
                Vec::new()
            }
            Action::Slots(slots) => {
                self.slots = Some(slots);
                self.refresh();
                Vec::new()
            }
            Action::Verified {
                fingerprint,
                result,
            } => {
                self.verifying.remove(&fingerprint);
                let secret = self.redacted_of(&fingerprint);
                match result {
                    Ok(v) => {
                        self.toast(ToastLevel::Info, format!("{secret}: {}", v.summary()));
                        self.verified.insert(fingerprint, v);
                    }
                    Err(why) => self.toast(
                        ToastLevel::Error,
                        format!("Could not verify {secret}: {why}"),
                    ),
                }
                self.refresh();
                Vec::new()
            }
            Action::RotationRefused { request, reason } => {
                self.rotation = None;
                if self.awaits(request) {
                    self.replace_waiting(None);
                    self.toast(
                        ToastLevel::Error,
                        format!("Not rotated: {reason}. R to try again."),
                    );
                }
                Vec::new()
            }
            Action::RevokeMarked { slot, result } => {
                match result {
                    Ok(marked) if marked.is_empty() => self.toast(
                        ToastLevel::Info,
                        format!("`{slot}` has no replaced token waiting to be revoked."),
                    ),
                    Ok(marked) => self.toast(
                        ToastLevel::Success,
                        format!(
                            "Rotation done: {} marked revoked (it was `{slot}`'s).",
                            marked.join(", ")
                        ),
                    ),
                    Err(why) => self.toast(ToastLevel::Error, format!("Not marked: {why}")),
                }
                vec![Effect::LoadSlots]
            }
        }
    }

    /// A rotation was applied: the slot holds the new token; where to revoke the old one; the
    /// whole home is audited again (copies of the old token may have been anywhere).
    fn rotated(
        &mut self,
        r: RotationShown,
        fix_id: String,
        findings: Vec<String>,
        failed: Vec<String>,
    ) -> Vec<Effect> {
        self.refresh();
        let revoke = format!(
            "Now revoke the old token {}{}, then R on it says it is done.",
            r.old,
            r.url.map(|u| format!(" at {u}")).unwrap_or_default()
        );
        if failed.is_empty() {
            self.toast(
                ToastLevel::Success,
                format!(
                    "`{}` now holds {}: every lookup, `exec` and git get it (u undoes). {revoke}",
                    r.slot, r.new
                ),
            );
        } else {
            self.toast(
                ToastLevel::Error,
                format!(
                    "`{}` now holds {}, but not changed: {}. {revoke}",
                    r.slot,
                    r.new,
                    failed.join("; ")
                ),
            );
        }
        self.fixes.push((fix_id, findings));
        vec![Effect::Scan, Effect::LoadSlots]
    }

    /// The redacted form of the secret with `fingerprint`, as the lists show it.
    fn redacted_of(&self, fingerprint: &str) -> String {
        self.model
            .groups
            .iter()
            .find(|g| g.fingerprint == fingerprint)
            .map(|g| g.secret.clone())
            .or_else(|| {
                self.findings
                    .iter()
                    .find(|f| f.fingerprint.as_deref() == Some(fingerprint))
                    .and_then(|f| f.secret.clone())
            })
            .map(|s| crate::term::safe_line(&s).into_owned())
            .unwrap_or_else(|| "the secret".into())
    }

    /// The secret the selection stands for: the Tokens row, or the selected finding's.
    pub fn chosen(&self) -> Option<Chosen> {
        match self.view {
            View::Tokens => self.model.groups.get(self.cursor()).map(|g| Chosen {
                fingerprint: g.fingerprint.clone(),
                secret: g.secret.clone(),
                provider: g.provider.clone(),
            }),
            View::Findings => self.current().and_then(|f| {
                Some(Chosen {
                    fingerprint: f.fingerprint.clone()?,
                    secret: f.secret.clone().unwrap_or_default(),
                    provider: f.provider.clone(),
                })
            }),
            View::Checklist => None,
        }
    }

    /// `v`: verify the selected secret, asking first when no request was allowed yet.
    fn verify(&mut self) -> Vec<Effect> {
        let Some(c) = self.chosen() else {
            self.toast(
                ToastLevel::Info,
                "Select a secret to verify (in Tokens, or a finding that holds one).",
            );
            return Vec::new();
        };
        let provider = c.provider.clone().unwrap_or_default();
        if !crate::verify::supported(&provider) {
            self.toast(
                ToastLevel::Info,
                format!(
                    "hfguard verifies Hugging Face tokens only; {} ({}) is not checked, and nothing is sent.",
                    crate::term::safe_line(&c.secret),
                    if provider.is_empty() {
                        "provider unknown".into()
                    } else {
                        crate::term::safe_line(&provider).into_owned()
                    }
                ),
            );
            return Vec::new();
        }
        if self.verifying.contains(&c.fingerprint) {
            self.toast(ToastLevel::Info, "Already asking about this secret…");
            return Vec::new();
        }
        if !self.may_verify {
            self.popup = Some(Popup::Consent(c));
            return Vec::new();
        }
        self.start_verify(c)
    }

    fn start_verify(&mut self, c: Chosen) -> Vec<Effect> {
        // Open places first: the file most likely still holds it as the scan saw it.
        let mut places: Vec<Finding> = self
            .findings
            .iter()
            .filter(|f| f.fingerprint.as_deref() == Some(c.fingerprint.as_str()))
            .cloned()
            .collect();
        places.sort_by_key(|f| !self.is_open(f));
        self.verifying.insert(c.fingerprint.clone());
        self.toast(
            ToastLevel::Info,
            format!(
                "Asking Hugging Face about {} (one request)…",
                crate::term::safe_line(&c.secret)
            ),
        );
        self.refresh();
        vec![Effect::Verify {
            fingerprint: c.fingerprint,
            provider: c.provider,
            places,
        }]
    }

    /// `R`: rotate the selected secret when a slot holds it; on a replaced value, ask
    /// whether it is revoked; else say how to get it into a slot first.
    fn rotate(&mut self) -> Vec<Effect> {
        let Some(c) = self.chosen() else {
            self.toast(
                ToastLevel::Info,
                "Select a secret to rotate (in Tokens, or a finding that holds one).",
            );
            return Vec::new();
        };
        let Some(slots) = &self.slots else {
            self.toast(
                ToastLevel::Info,
                "Still reading hfguard's keyring slots; R again in a moment.",
            );
            return Vec::new();
        };
        let secret = crate::term::safe_line(&c.secret).into_owned();
        let replaced = slots.iter().find_map(|s| {
            s.previous
                .iter()
                .find(|p| p.fingerprint == c.fingerprint)
                .map(|p| (s.name.clone(), p.revoked_at.clone()))
        });
        if let Some((slot, revoked_at)) = replaced {
            if let Some(at) = revoked_at {
                self.toast(
                    ToastLevel::Info,
                    format!("{secret} was replaced in `{slot}` and revoked ({at}): its rotation is done."),
                );
                return Vec::new();
            }
            self.popup = Some(Popup::Revoked { slot, chosen: c });
            return Vec::new();
        }
        let Some(slot) = crate::slots::holding(slots, &c.fingerprint) else {
            self.toast(
                ToastLevel::Info,
                format!("{secret} is in no keyring slot yet: move it into the keyring first (f), then R rotates it."),
            );
            return Vec::new();
        };
        let url = crate::rules::builtin()
            .rotation_url(&crate::slots::provider_of(slots, &slot.name))
            .map(str::to_string);
        let opened = url.is_some() && crate::child::has_display(&self.home);
        self.popup = Some(Popup::NewToken {
            slot: slot.name.clone(),
            old: secret,
            url: url.clone(),
            opened,
            input: Masked::new(),
        });
        match url {
            Some(u) if opened => vec![Effect::Open(u)],
            _ => Vec::new(),
        }
    }

    /// Audit again the files of `ids` and `paths`.
    fn reaudit(&self, ids: &[String], paths: Vec<PathBuf>) -> Effect {
        let mut wanted: Vec<(PathBuf, Option<FileKind>)> = Vec::new();
        let kind_at = |p: &PathBuf| {
            self.findings
                .iter()
                .filter(|f| f.path.as_ref() == Some(p))
                .find_map(|f| FileKind::from_rule(&f.rule))
        };
        let ids: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let mut all: BTreeSet<PathBuf> = paths.into_iter().collect();
        all.extend(
            self.findings
                .iter()
                .filter(|f| ids.contains(f.id.as_str()))
                .filter_map(|f| f.path.clone()),
        );
        for p in all {
            let k = kind_at(&p);
            wanted.push((p, k));
        }
        Effect::Reaudit(wanted)
    }

    /// Takes the findings audited again at `paths`: those found again are updated (and open
    /// again if they were fixed: an undo, a fix that did not hold), those not found are
    /// gone (fixed), new ones are added.
    fn reconcile(&mut self, paths: &BTreeSet<PathBuf>, found: Vec<Finding>) {
        let mut found: HashMap<String, Finding> =
            found.into_iter().map(|f| (f.id.clone(), f)).collect();
        for f in &mut self.findings {
            if let Some(new) = found.remove(&f.id) {
                *f = new;
                self.fixed.remove(&f.id);
            } else if f.path.as_ref().is_some_and(|p| paths.contains(p)) {
                self.fixed.insert(f.id.clone());
                self.marked.remove(&f.id);
            }
        }
        let mut new: Vec<Finding> = found.into_values().collect();
        new.sort_by(|a, b| a.id.cmp(&b.id));
        self.findings.extend(new);
        self.refresh();
    }

    fn watch_event(&mut self, ev: crate::watch::Event) -> Vec<Effect> {
        use crate::watch::Event;
        if !self.watching {
            return Vec::new();
        }
        match ev {
            Event::Ready {
                watched,
                polled,
                unwatched,
                projects,
            } => {
                self.watched = Some(Watched {
                    folders: watched,
                    polled: polled.len(),
                    unwatched: unwatched.len(),
                    projects,
                });
            }
            Event::Regression(f) => {
                let msg = format!(
                    "Regression: {} {} — {}",
                    f.severity,
                    self.location(&f),
                    f.fixes
                        .first()
                        .map_or("see details".to_string(), |k| format!(
                            "f fixes it ({})",
                            k.as_str()
                        ))
                );
                let ignored = self.upsert(f);
                if !ignored {
                    self.toast(ToastLevel::Error, msg);
                }
            }
            Event::Undone {
                finding, detail, ..
            } => {
                self.upsert(finding);
                self.toast(
                    ToastLevel::Info,
                    format!("Undone: {}", crate::term::safe_line(&detail)),
                );
            }
            Event::Resolved { finding, fixed_by } => {
                let ours = fixed_by
                    .as_ref()
                    .is_some_and(|id| self.fixes.iter().any(|(f, _)| f == id));
                let was_open = self
                    .findings
                    .iter()
                    .any(|f| f.id == finding.id && self.is_open(f));
                self.fixed.insert(finding.id.clone());
                self.marked.remove(&finding.id);
                if let (Some(id), false, true) = (&fixed_by, ours, was_open) {
                    self.toast(
                        ToastLevel::Info,
                        format!("Fixed by hfguard ({id}): {}", self.location(&finding)),
                    );
                }
                self.refresh();
            }
            Event::Error(e) => self.toast(ToastLevel::Error, e),
        }
        Vec::new()
    }

    /// Adds or updates a finding from the watcher, open again; one the user ignores stays
    /// ignored. Returns whether it is ignored.
    fn upsert(&mut self, mut f: Finding) -> bool {
        self.fixed.remove(&f.id);
        let ignored = match self.findings.iter_mut().find(|x| x.id == f.id) {
            Some(x) => {
                f.ignored = f.ignored.or(x.ignored.take());
                let ig = f.ignored.is_some();
                *x = f;
                ig
            }
            None => {
                let ig = f.ignored.is_some();
                self.findings.push(f);
                ig
            }
        };
        self.refresh();
        ignored
    }

    fn mouse(&mut self, m: MouseEvent) -> Vec<Effect> {
        let pane = layout::pane_at(
            self.screen(),
            self.popup.is_some(),
            self.list_offset(),
            m.column,
            m.row,
        );
        match (m.kind, pane) {
            (MouseEventKind::ScrollDown | MouseEventKind::ScrollUp, Pane::Popup) => {
                let d = if m.kind == MouseEventKind::ScrollDown {
                    3
                } else {
                    -3
                };
                self.scroll_popup(d);
                Vec::new()
            }
            (MouseEventKind::ScrollDown, Pane::List | Pane::ListLine(_)) => self.move_by(1),
            (MouseEventKind::ScrollUp, Pane::List | Pane::ListLine(_)) => self.move_by(-1),
            (MouseEventKind::ScrollDown, Pane::Details) => {
                self.scroll_details(3);
                Vec::new()
            }
            (MouseEventKind::ScrollUp, Pane::Details) => {
                self.scroll_details(-3);
                Vec::new()
            }
            (MouseEventKind::Down(_), Pane::Tab(i)) => self.switch(VIEWS[i]),
            (MouseEventKind::Down(_), Pane::ListLine(line)) => match self.view {
                View::Findings => match self.model.lines.get(line) {
                    Some(ListLine::Row(r)) => self.select(*r),
                    _ => Vec::new(),
                },
                _ if line < self.rows() => self.select(line),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    fn scroll_details(&mut self, delta: isize) {
        self.detail_scroll = self.detail_scroll.saturating_add_signed(delta);
        self.clamp_scrolls();
    }

    fn scroll_popup(&mut self, delta: isize) {
        match &mut self.popup {
            Some(Popup::Confirm { scroll, .. }) | Some(Popup::Help { scroll, .. }) => {
                *scroll = scroll.saturating_add_signed(delta);
            }
            _ => {}
        }
        self.clamp_scrolls();
    }

    fn switch(&mut self, v: View) -> Vec<Effect> {
        self.view = v;
        self.zoom = false;
        self.detail_scroll = 0;
        self.refresh();
        self.context_effect()
    }

    fn key(&mut self, k: KeyEvent) -> Vec<Effect> {
        if k.kind == KeyEventKind::Release {
            return Vec::new();
        }
        if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
            self.quit = true;
            return vec![Effect::Quit];
        }
        let context = self.context();
        let command = keys::lookup(&k, context);
        if context.is_text_entry() && command.is_none() {
            return self.type_text(k);
        }
        self.toast = None;
        let Some(command) = command else {
            return Vec::new();
        };
        match context {
            Context::Confirm => self.confirm_key(command),
            Context::Scope => self.scope_key(command),
            Context::Consent => self.consent_key(command),
            Context::Revoked => self.revoked_key(command),
            Context::QuitConfirm => match command {
                Command::Apply | Command::Quit => {
                    self.quit = true;
                    vec![Effect::Quit]
                }
                Command::Cancel => {
                    self.popup = None;
                    Vec::new()
                }
                _ => self.command(command),
            },
            Context::Help => match command {
                c if scroll_step(c).is_some() => self.scroll_then(scroll_step(c).unwrap_or(0)),
                Command::Help | Command::Back => {
                    if let Some(Popup::Help { over, .. }) = self.popup.take() {
                        self.popup = over.map(|b| *b);
                    }
                    Vec::new()
                }
                _ => self.command(command),
            },
            Context::Planning => match command {
                Command::Back => {
                    // The plan is dropped when it arrives.
                    self.popup = None;
                    self.toast(ToastLevel::Info, "Cancelled: nothing changed.");
                    Vec::new()
                }
                _ => self.command(command),
            },
            Context::Zoom => match scroll_step(command) {
                Some(d) if !matches!(command, Command::Top | Command::Bottom) => {
                    self.scroll_then_details(d)
                }
                _ => self.command(command),
            },
            _ => self.command(command),
        }
    }

    fn scroll_then(&mut self, d: isize) -> Vec<Effect> {
        self.scroll_popup(d);
        Vec::new()
    }

    fn scroll_then_details(&mut self, d: isize) -> Vec<Effect> {
        self.scroll_details(d);
        Vec::new()
    }

    /// Keys typed into the filter, the ignore reason or a new token.
    fn type_text(&mut self, k: KeyEvent) -> Vec<Effect> {
        if let Some(Popup::NewToken { input, .. }) = &mut self.popup {
            match k.code {
                KeyCode::Enter => return self.new_token_typed(),
                KeyCode::Esc => {
                    // Dropping the popup wipes what was typed.
                    self.popup = None;
                    self.toast(ToastLevel::Info, "Cancelled: nothing changed.");
                }
                KeyCode::Backspace => input.pop(),
                KeyCode::Char(c) if !c.is_control() => input.push(c),
                _ => {}
            }
            return Vec::new();
        }
        if let Some(Popup::IgnoreReason { id, input }) = &mut self.popup {
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
            _ => return Vec::new(),
        }
        self.refresh();
        self.context_effect()
    }

    /// Enter in the new token's popup: the worker checks it and plans the rotation.
    fn new_token_typed(&mut self) -> Vec<Effect> {
        let Some(Popup::NewToken {
            slot,
            old,
            url,
            input,
            ..
        }) = &mut self.popup
        else {
            return Vec::new();
        };
        let raw = input.take();
        if raw.trim().is_empty() {
            self.toast(ToastLevel::Info, "Paste the new token first (Esc cancels).");
            return Vec::new();
        }
        let value = raw.trim();
        let new = Secret::new(value.to_string(), crate::rules::builtin().prefix_of(value));
        let shown = RotationShown {
            slot: slot.clone(),
            old: old.clone(),
            new: new.redacted(),
            url: url.clone(),
        };
        self.request += 1;
        self.left_out.clear();
        self.rotation = Some((self.request, shown.clone()));
        self.popup = Some(Popup::Planning {
            request: self.request,
            count: 0,
            rotating: Some(shown.slot.clone()),
        });
        let findings: Vec<Finding> = self
            .findings
            .iter()
            .filter(|f| self.is_open(f))
            .cloned()
            .collect();
        vec![Effect::Rotate {
            request: self.request,
            slot: shown.slot,
            new,
            findings,
            verify: self.may_verify,
        }]
    }

    fn consent_key(&mut self, command: Command) -> Vec<Effect> {
        let Some(Popup::Consent(c)) = &self.popup else {
            return Vec::new();
        };
        let c = c.clone();
        match command {
            Command::Yes => {
                self.popup = None;
                self.may_verify = true;
                self.start_verify(c)
            }
            Command::No => {
                self.popup = None;
                self.toast(ToastLevel::Info, "Nothing sent.");
                Vec::new()
            }
            _ => self.command(command),
        }
    }

    fn revoked_key(&mut self, command: Command) -> Vec<Effect> {
        let Some(Popup::Revoked { slot, chosen }) = &self.popup else {
            return Vec::new();
        };
        let (slot, c) = (slot.clone(), chosen.clone());
        match command {
            Command::Yes => {
                self.popup = None;
                self.toast(
                    ToastLevel::Info,
                    if self.may_verify {
                        "Asking the provider whether the old token is dead, then marking it revoked…"
                    } else {
                        "Marking it revoked…"
                    },
                );
                vec![Effect::MarkRevoked {
                    slot,
                    fingerprint: c.fingerprint,
                    verify: self.may_verify,
                }]
            }
            Command::No => {
                self.popup = None;
                self.toast(
                    ToastLevel::Info,
                    "Not marked: it stays pending-revoke until you revoke it at the provider.",
                );
                Vec::new()
            }
            _ => self.command(command),
        }
    }

    fn confirm_key(&mut self, command: Command) -> Vec<Effect> {
        let Some(Popup::Confirm { plan, rotation, .. }) = &self.popup else {
            return Vec::new();
        };
        let id = plan.plan_id.clone();
        let rotation = rotation.clone();
        match command {
            Command::Apply => {
                self.popup = None;
                if let Some(r) = rotation {
                    self.applying.insert(id.clone(), r);
                }
                self.running += 1;
                self.toast(ToastLevel::Info, "Applying…");
                vec![Effect::Apply(id)]
            }
            Command::Cancel => {
                self.popup = None;
                self.toast(ToastLevel::Info, "Cancelled: nothing changed.");
                vec![Effect::Discard(id)]
            }
            c if scroll_step(c).is_some() => self.scroll_then(scroll_step(c).unwrap_or(0)),
            Command::Quit => {
                self.popup = None;
                self.quit = true;
                vec![Effect::Discard(id), Effect::Quit]
            }
            Command::Help => self.command(command),
            _ => Vec::new(),
        }
    }

    fn scope_key(&mut self, command: Command) -> Vec<Effect> {
        let Some(Popup::Scope { id, .. }) = &self.popup else {
            return Vec::new();
        };
        let id = id.clone();
        let Some(f) = self.findings.iter().find(|f| f.id == id).cloned() else {
            self.popup = None;
            return Vec::new();
        };
        match command {
            Command::ThisPlace => {
                self.popup = None;
                self.plan(vec![f], None)
            }
            Command::AllPlaces => {
                self.popup = None;
                let all: Vec<Finding> = self
                    .findings
                    .iter()
                    .filter(|o| o.fingerprint == f.fingerprint && self.is_open(o))
                    .cloned()
                    .collect();
                self.plan(all, None)
            }
            Command::Back => {
                self.popup = None;
                Vec::new()
            }
            _ => self.command(command),
        }
    }

    /// Open findings among `targets`, each with its fix (`kind`, or its recommended one):
    /// plans them as one fix, or says why there is nothing to plan.
    fn plan(&mut self, targets: Vec<Finding>, kind: Option<FixKind>) -> Vec<Effect> {
        let mut choices = Vec::new();
        let mut left_out = Vec::new();
        for f in targets.into_iter().filter(|f| self.is_open(f)) {
            let k = match kind {
                Some(k) => f.fixes.contains(&k).then_some(k),
                None => f.fixes.first().copied(),
            };
            match k {
                Some(k) => choices.push((f, k)),
                None => left_out.push(self.location(&f)),
            }
        }
        if choices.is_empty() {
            let msg = match (kind, left_out.len()) {
                (_, 0) => "Nothing open to fix here.".to_string(),
                (Some(k), 1) => format!(
                    "No {} fix applies to this finding; the details say what to do by hand.",
                    k.as_str()
                ),
                (Some(k), n) => format!("No {} fix applies to these {n} findings.", k.as_str()),
                (None, 1) => {
                    "This finding has no automatic fix; the details say what to do by hand."
                        .to_string()
                }
                (None, n) => format!(
                    "None of these {n} findings has an automatic fix; the details say what to do by hand."
                ),
            };
            self.toast(ToastLevel::Info, msg);
            return Vec::new();
        }
        self.request += 1;
        self.left_out = left_out;
        self.popup = Some(Popup::Planning {
            request: self.request,
            count: choices.len(),
            rotating: None,
        });
        vec![Effect::Plan {
            request: self.request,
            choices,
        }]
    }

    /// Whether plan `request` is awaited: its popup is on screen, or under the help.
    fn awaits(&self, request: u64) -> bool {
        let waits = |p: &Popup| matches!(p, Popup::Planning { request: r, .. } if *r == request);
        match &self.popup {
            Some(Popup::Help { over: Some(p), .. }) => waits(p),
            Some(p) => waits(p),
            None => false,
        }
    }

    /// Puts `p` where the plan's waiting popup is (under the help, when it is open).
    fn replace_waiting(&mut self, p: Option<Popup>) {
        match &mut self.popup {
            Some(Popup::Help { over, .. }) => *over = p.map(Box::new),
            _ => self.popup = p,
        }
    }

    fn plan_ready(&mut self, request: u64, plan: PlanShown, empty: bool) -> Vec<Effect> {
        let rotation = match self.rotation.take() {
            Some((r, shown)) if r == request => Some(shown),
            other => {
                self.rotation = other;
                None
            }
        };
        if !self.awaits(request) {
            return vec![Effect::Discard(plan.plan_id)];
        }
        if empty {
            self.replace_waiting(None);
            let why: Vec<String> = plan
                .refused
                .iter()
                .map(|(at, why)| format!("{at}: {why}"))
                .collect();
            self.toast(
                ToastLevel::Error,
                if why.is_empty() {
                    "Nothing to change: the files are already as the fix would leave them."
                        .to_string()
                } else {
                    format!("Cannot fix: {}", why.join("; "))
                },
            );
            return vec![Effect::Discard(plan.plan_id)];
        }
        let lines = preview::lines(&plan, &self.left_out);
        self.replace_waiting(Some(Popup::Confirm {
            plan,
            lines,
            scroll: 0,
            rotation,
        }));
        self.clamp_scrolls();
        Vec::new()
    }

    /// The findings `f` acts on where no popup is open.
    fn fix_targets(&self) -> Vec<Finding> {
        let pick = |ids: &mut dyn Iterator<Item = usize>| -> Vec<Finding> {
            ids.map(|i| self.findings[i].clone()).collect()
        };
        match self.view {
            View::Findings => self.current().cloned().into_iter().collect(),
            View::Tokens => match self.model.groups.get(self.cursor()) {
                Some(g) => pick(&mut g.places.iter().copied()),
                None => Vec::new(),
            },
            View::Checklist => match self.model.checks.get(self.cursor()) {
                Some(c) => pick(&mut c.findings.iter().copied()),
                None => Vec::new(),
            },
        }
    }

    fn command(&mut self, command: Command) -> Vec<Effect> {
        let page = layout::list_height(self.screen()).max(1) as isize;
        match command {
            Command::Down => self.move_by(1),
            Command::Up => self.move_by(-1),
            Command::Top => self.select(0),
            Command::Bottom => self.select(usize::MAX),
            Command::PageDown => self.move_by(page),
            Command::PageUp => self.move_by(-page),
            Command::Zoom => {
                self.zoom = !self.zoom;
                self.refresh();
                Vec::new()
            }
            Command::DetailsDown => self.scroll_then_details(1),
            Command::DetailsUp => self.scroll_then_details(-1),
            Command::Back => self.back(),
            Command::NextView | Command::PrevView => {
                let i = self.view.index();
                let next = if command == Command::NextView {
                    (i + 1) % 3
                } else {
                    (i + 2) % 3
                };
                self.switch(VIEWS[next])
            }
            Command::ViewFindings => self.switch(View::Findings),
            Command::ViewTokens => self.switch(View::Tokens),
            Command::ViewChecklist => self.switch(View::Checklist),
            Command::Mark => {
                let ids: Vec<String> = self
                    .fix_targets()
                    .into_iter()
                    .filter(|f| self.is_open(f))
                    .map(|f| f.id)
                    .collect();
                if ids.is_empty() {
                    self.toast(ToastLevel::Info, "Nothing open to mark here.");
                } else if ids.iter().all(|id| self.marked.contains(id)) {
                    for id in &ids {
                        self.marked.remove(id);
                    }
                } else {
                    self.marked.extend(ids);
                }
                self.move_by(1)
            }
            Command::MarkAll => {
                let shown: Vec<String> = match self.view {
                    View::Tokens => self
                        .model
                        .groups
                        .iter()
                        .flat_map(|g| g.shown.iter())
                        .map(|&i| &self.findings[i])
                        .filter(|f| self.is_open(f))
                        .map(|f| f.id.clone())
                        .collect(),
                    _ => self
                        .model
                        .rows
                        .iter()
                        .map(|&i| &self.findings[i])
                        .filter(|f| self.is_open(f))
                        .map(|f| f.id.clone())
                        .collect(),
                };
                if !shown.is_empty() && shown.iter().all(|id| self.marked.contains(id)) {
                    for id in &shown {
                        self.marked.remove(id);
                    }
                    self.toast(ToastLevel::Info, "Unmarked them all.");
                } else {
                    let n = shown.len();
                    self.marked.extend(shown);
                    self.toast(
                        ToastLevel::Info,
                        format!(
                            "Marked {} shown; f fixes the {} marked.",
                            model::findings_word(n),
                            self.marked.len()
                        ),
                    );
                }
                Vec::new()
            }
            Command::Fix => {
                if !self.marked.is_empty() && self.view != View::Checklist {
                    let marked: Vec<Finding> = self
                        .findings
                        .iter()
                        .filter(|f| self.marked.contains(&f.id))
                        .cloned()
                        .collect();
                    return self.plan(marked, None);
                }
                if self.view == View::Findings {
                    if let Some(f) = self.current().filter(|f| self.is_open(f)) {
                        let places = f
                            .fingerprint
                            .as_ref()
                            .and_then(|fp| self.model.open_places.get(fp))
                            .copied()
                            .unwrap_or(0);
                        if places > 1 {
                            self.popup = Some(Popup::Scope {
                                id: f.id.clone(),
                                places,
                            });
                            return Vec::new();
                        }
                    }
                }
                let targets = self.fix_targets();
                self.plan(targets, None)
            }
            Command::FixNoKeyring => {
                let targets: Vec<Finding> = self
                    .findings
                    .iter()
                    .filter(|f| matches!(f.fixes.first(), Some(FixKind::Chmod | FixKind::Redact)))
                    .cloned()
                    .collect();
                if targets.iter().all(|f| !self.is_open(f)) {
                    self.toast(
                        ToastLevel::Info,
                        "Nothing left that a chmod or a redaction fixes: what is open needs the keyring (m) or a change by hand.",
                    );
                    return Vec::new();
                }
                self.plan(targets, None)
            }
            Command::Chmod => self.fix_kind(FixKind::Chmod),
            Command::Keyring => self.fix_kind(FixKind::Keyring),
            Command::Redact => self.fix_kind(FixKind::Redact),
            Command::Undo => match self.fixes.last().map(|(id, _)| id.clone()) {
                Some(id) => {
                    self.running += 1;
                    self.toast(ToastLevel::Info, format!("Undoing {id}…"));
                    vec![Effect::Undo(id)]
                }
                None => {
                    self.toast(
                        ToastLevel::Info,
                        "Nothing to undo in this session (`hfguard history` lists older fixes, `hfguard undo ID` undoes one).",
                    );
                    Vec::new()
                }
            },
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
                self.refresh();
                self.context_effect()
            }
            Command::Rescan => {
                if self.scanning {
                    Vec::new()
                } else {
                    self.toast(ToastLevel::Info, "Auditing the whole home again…");
                    vec![Effect::Scan]
                }
            }
            Command::Watch => {
                self.watching = !self.watching;
                self.watched = None;
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
                let over = self.popup.take().map(Box::new);
                self.popup = Some(Popup::Help { scroll: 0, over });
                Vec::new()
            }
            Command::Quit => {
                if self.running > 0 {
                    self.popup = Some(Popup::QuitConfirm);
                    return Vec::new();
                }
                self.quit = true;
                vec![Effect::Quit]
            }
            Command::Verify => self.verify(),
            Command::Rotate => self.rotate(),
            Command::Apply
            | Command::Cancel
            | Command::ThisPlace
            | Command::AllPlaces
            | Command::Yes
            | Command::No => Vec::new(),
        }
    }

    /// `c`, `m`, `x`: that fix for the selected finding (in Tokens: for every place of the
    /// secret it applies to).
    fn fix_kind(&mut self, kind: FixKind) -> Vec<Effect> {
        let targets = self.fix_targets();
        self.plan(targets, Some(kind))
    }

    /// Esc: one level back: popup, filter, zoom, another view, marks.
    fn back(&mut self) -> Vec<Effect> {
        if self.popup.is_some() {
            self.popup = None;
        } else if !self.filter.is_empty() || self.min_severity > Severity::Info {
            self.filter.clear();
            self.min_severity = Severity::Info;
            self.refresh();
            return self.context_effect();
        } else if self.zoom {
            self.zoom = false;
            self.refresh();
        } else if self.view != View::Findings {
            return self.switch(View::Findings);
        } else if !self.marked.is_empty() {
            self.marked.clear();
            self.toast(ToastLevel::Info, "Marks cleared.");
        } else {
            self.toast(ToastLevel::Info, "Esc goes back; q quits.");
        }
        Vec::new()
    }
}

/// How far a scrolling key moves a popup or pane.
fn scroll_step(c: Command) -> Option<isize> {
    Some(match c {
        Command::Down => 1,
        Command::Up => -1,
        Command::PageDown => 10,
        Command::PageUp => -10,
        Command::Top => -1_000_000,
        Command::Bottom => 1_000_000,
        _ => return None,
    })
}

/// The help: every binding, generated from the registry.
pub fn help_lines() -> Vec<TLine> {
    use super::text::Tone;
    let mut out = vec![TLine::new(
        Tone::Strong,
        "Keys (Esc or ? closes; j/k, PgUp/PgDn scroll)",
    )];
    for b in keys::BINDINGS {
        let names: Vec<&str> = b
            .keys
            .iter()
            .map(|k| if *k == "BackTab" { "Shift-Tab" } else { k })
            .collect();
        out.push(
            TLine::new(Tone::Strong, format!("{:>14}  ", names.join(" ")))
                .push(Tone::Plain, b.help),
        );
    }
    out.push(TLine::blank());
    out.push(TLine::new(
        Tone::Muted,
        "Ctrl-c quits anywhere. The mouse: click a row or a tab; the wheel scrolls the pane under it.",
    ));
    out
}
