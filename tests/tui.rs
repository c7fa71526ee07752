//! The dashboard: the state machine driven by keys, mouse and worker news (`App::update`),
//! what it draws (ratatui's TestBackend, insta snapshots at 80×24, 120×40 and 60×20), and the
//! real effects on a real home (`Worker::run_now`: real fixes, re-audits, the keyring of the
//! test session). Issue 14's ten problems are named where a test proves one gone.

mod common;
use common::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use hfguard::finding::{Category, Finding, FixKind, Severity};
use hfguard::tui::app::{Action, App, Effect, Popup, ToastLevel, View};
use hfguard::tui::preview::PlanShown;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::path::PathBuf;

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(k: KeyCode) -> Action {
    Action::Key(KeyEvent::new(k, KeyModifiers::NONE))
}

fn mouse(kind: MouseEventKind, column: u16, row: u16) -> Action {
    Action::Mouse(MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        app.update(key(c));
    }
}

/// A finding of the sample machine.
struct F {
    id: &'static str,
    rule: &'static str,
    category: Category,
    severity: Severity,
    path: &'static str,
    line: Option<u64>,
    fixes: &'static [FixKind],
    /// (redacted, fingerprint)
    secret: Option<(&'static str, &'static str)>,
    mode: Option<&'static str>,
    variable: Option<&'static str>,
    label: Option<&'static str>,
}

impl F {
    fn finding(&self) -> Finding {
        Finding {
            id: self.id.into(),
            rule: self.rule.into(),
            category: self.category,
            severity: self.severity,
            provider: Some("huggingface".into()),
            path: Some(PathBuf::from(format!("/home/alice/{}", self.path))),
            line: self.line,
            variable: self.variable.map(String::from),
            pid: None,
            mode: self.mode.map(String::from),
            secret: self.secret.map(|s| s.0.to_string()),
            fingerprint: self.secret.map(|s| s.1.to_string()),
            message: format!("Message for {} (keep it in the OS keyring).", self.rule),
            fixes: self.fixes.to_vec(),
            ignored: None,
            label: self.label.map(String::from),
            span: None,
        }
    }
}

const MAIN: Option<(&str, &str)> = Some(("hf_…Wq3Z", "f00d"));
const WORK: Option<(&str, &str)> = Some(("hf_…AoCL", "beef"));

/// A small machine: a token in four places (one exported by `.bashrc`, so huggingface_hub
/// uses it), a `stored_tokens` entry named `work` also pasted in a notebook, two files
/// others can read or write.
fn sample_findings() -> Vec<Finding> {
    use Category::*;
    use Severity::*;
    let none = F {
        id: "",
        rule: "",
        category: Project,
        severity: Info,
        path: "",
        line: None,
        fixes: &[],
        secret: None,
        mode: None,
        variable: None,
        label: None,
    };
    [
        F {
            id: "hfg-000000000001",
            rule: "token-file-permissions",
            category: Permissions,
            severity: High,
            path: ".cache/huggingface/token",
            fixes: &[FixKind::Chmod],
            mode: Some("0644"),
            ..none
        },
        F {
            id: "hfg-000000000002",
            rule: "hf-token-in-token-file",
            category: TokenFile,
            severity: Medium,
            path: ".cache/huggingface/token",
            line: Some(1),
            fixes: &[FixKind::Keyring],
            secret: MAIN,
            ..none
        },
        F {
            id: "hfg-000000000003",
            rule: "hf-token-in-shell-history",
            category: History,
            severity: High,
            path: ".bash_history",
            line: Some(212),
            fixes: &[FixKind::Redact],
            secret: MAIN,
            ..none
        },
        F {
            id: "hfg-000000000004",
            rule: "hf-token-in-startup-file",
            category: Dotfile,
            severity: High,
            path: ".bashrc",
            line: Some(21),
            fixes: &[FixKind::Keyring, FixKind::Redact],
            secret: MAIN,
            variable: Some("HF_TOKEN"),
            ..none
        },
        F {
            id: "hfg-000000000005",
            rule: "startup-file-writable",
            category: Permissions,
            severity: Critical,
            path: ".profile",
            fixes: &[FixKind::Chmod],
            mode: Some("0666"),
            ..none
        },
        F {
            id: "hfg-000000000006",
            rule: "hf-token-in-stored-tokens",
            category: TokenFile,
            severity: Medium,
            path: ".cache/huggingface/stored_tokens",
            line: Some(2),
            fixes: &[FixKind::Keyring],
            secret: WORK,
            label: Some("work"),
            ..none
        },
        F {
            id: "hfg-000000000007",
            rule: "hf-token-in-notebook",
            category: Project,
            severity: High,
            path: "work/nb/train.ipynb",
            line: Some(7),
            fixes: &[FixKind::Redact],
            secret: WORK,
            ..none
        },
    ]
    .iter()
    .map(F::finding)
    .collect()
}

fn report_of(findings: Vec<Finding>) -> Box<hfguard::audit::Report> {
    Box::new(hfguard::audit::Report::from_findings(
        PathBuf::from("/home/alice"),
        findings,
        vec![],
    ))
}

/// The dashboard of the sample machine, scan done, at `w`×`h`.
fn sample_at(w: u16, h: u16) -> App {
    let mut app = App::new(
        PathBuf::from("/home/alice"),
        "alice@workstation".into(),
        true,
    );
    app.update(Action::Resize(w, h));
    app.update(Action::ScanStarted);
    for f in sample_findings() {
        app.update(Action::Found(f));
    }
    app.update(Action::ScanDone(report_of(sample_findings())));
    app.update(Action::Keyring(true));
    app
}

fn sample() -> App {
    sample_at(80, 24)
}

fn render(app: &App) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(app.size.0, app.size.1)).unwrap();
    t.draw(|f| hfguard::tui::ui::draw(app, f)).unwrap();
    t
}

fn screen(app: &App) -> String {
    let t = render(app);
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn current_id(app: &App) -> String {
    app.current().expect("a finding is selected").id.clone()
}

fn select_id(app: &mut App, id: &str) {
    app.update(key('g'));
    for _ in 0..app.rows() {
        if current_id(app) == id {
            return;
        }
        app.update(key('j'));
    }
    panic!("{id} is not in the list");
}

fn planned(effects: &[Effect]) -> Vec<(String, FixKind)> {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::Plan { choices, .. } => {
                Some(choices.iter().map(|(f, k)| (f.id.clone(), *k)).collect())
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no plan in {effects:?}"))
}

fn request_of(effects: &[Effect]) -> u64 {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::Plan { request, .. } => Some(*request),
            _ => None,
        })
        .unwrap()
}

/// A plan as the worker sends it: `notes`, and `changes` lines of diff.
fn plan_shown(id: &str, findings: &[&str], notes: &[&str], changes: usize) -> PlanShown {
    let mut body = String::from("chmod:   ~/.profile  0666 → 0644\nrewrite: ~/.bash_history\n--- ~/.bash_history\n+++ ~/.bash_history (after hfguard)\n");
    for i in 0..changes {
        body.push_str(&format!(
            "@@ -{i},1 +{i},1 @@\n-echo {i} hf_…Wq3Z\n+echo {i} [hfguard:redacted:hf_...Wq3Z]\n"
        ));
    }
    body.push_str("LAST LINE OF THE PREVIEW\n");
    PlanShown {
        plan_id: id.into(),
        findings: findings.iter().map(|s| s.to_string()).collect(),
        notes: notes.iter().map(|s| s.to_string()).collect(),
        refused: vec![],
        changes: body,
    }
}

fn confirm_scroll(app: &App) -> usize {
    match &app.popup {
        Some(Popup::Confirm { scroll, .. }) => *scroll,
        p => panic!("no preview open: {p:?}"),
    }
}

// ---- Problem 4: a place to start, and a score that moves ----

#[test]
fn it_opens_on_the_most_urgent_finding_with_a_next_step() {
    let app = sample();
    assert_eq!(app.view, View::Findings);
    assert_eq!(current_id(&app), "hfg-000000000005", "the critical first");
    let s = screen(&app);
    let lines: Vec<&str> = s.lines().collect();
    assert!(lines[3].starts_with("Next:"), "{s}");
    assert!(lines[3].contains(" F "), "the next step names its key: {s}");
    assert!(
        lines[5].starts_with("│Permissions"),
        "the worst group first: {s}"
    );
    assert!(lines[6].contains("CRIT"), "{s}");
}

#[test]
fn the_score_rises_with_every_fix_and_reaches_100_only_when_nothing_is_left() {
    let mut app = sample();
    let ids: Vec<String> = app.findings.iter().map(|f| f.id.clone()).collect();
    let mut last = app.score();
    assert!(last < 50, "a home with a critical scores low: {last}");
    for (n, id) in ids.iter().enumerate() {
        app.update(Action::Applied {
            fix_id: format!("fix-{n}"),
            findings: vec![id.clone()],
            failed: vec![],
            paths: vec![],
            error: None,
        });
        let now = app.score();
        assert!(now > last, "fixing {id} left the score at {now}");
        let toast = &app.toast.as_ref().unwrap().1;
        assert!(
            toast.contains(&format!("hygiene {last} → {now} (+{})", now - last)),
            "{toast}"
        );
        if n + 1 < ids.len() {
            assert!(now < 100, "100 with findings left");
        }
        last = now;
    }
    assert_eq!(app.score(), 100);
    assert!(screen(&app).contains("hygiene 100/100"));
}

// ---- Problem 2: Esc goes back; only q quits ----

#[test]
fn esc_goes_back_one_level_and_never_quits() {
    let mut app = sample();
    app.update(code(KeyCode::Enter));
    assert!(app.zoom);
    app.update(code(KeyCode::Esc));
    assert!(!app.zoom && !app.quit, "Esc leaves the zoom");

    app.update(key('2'));
    app.update(code(KeyCode::Esc));
    assert_eq!(app.view, View::Findings, "Esc goes back to Findings");

    app.update(key('s'));
    app.update(key('s'));
    app.update(key('/'));
    typed(&mut app, "bash");
    app.update(code(KeyCode::Enter));
    assert_eq!(app.model.rows.len(), 2);
    app.update(code(KeyCode::Esc));
    assert_eq!(
        app.model.rows.len(),
        7,
        "Esc clears the filter and the severity"
    );
    assert!(!app.quit);

    app.update(key('?'));
    app.update(code(KeyCode::Esc));
    assert_eq!(app.popup, None, "Esc closes a popup");
    app.update(code(KeyCode::Esc));
    assert!(!app.quit);
    assert!(app.toast.as_ref().unwrap().1.contains("q quits"));

    assert_eq!(app.update(key('q')), vec![Effect::Quit]);
    assert!(app.quit);
}

#[test]
fn q_asks_only_while_a_fix_runs() {
    let mut app = sample();
    app.update(key('c'));
    app.update(Action::PlanReady {
        request: 1,
        plan: plan_shown("p1", &["hfg-000000000005"], &[], 0),
        empty: false,
    });
    assert_eq!(app.update(key('y')), vec![Effect::Apply("p1".into())]);
    assert!(app.update(key('q')).is_empty());
    assert_eq!(app.popup, Some(Popup::QuitConfirm));
    app.update(key('n'));
    assert!(!app.quit && app.popup.is_none());
    app.update(Action::Applied {
        fix_id: "fix-1".into(),
        findings: vec!["hfg-000000000005".into()],
        failed: vec![],
        paths: vec![],
        error: None,
    });
    assert_eq!(
        app.update(key('q')),
        vec![Effect::Quit],
        "no question once done"
    );
}

// ---- Problem 5: bulk fixes ----

#[test]
fn space_marks_a_marks_exactly_the_filtered_findings_and_f_fixes_them_in_one_plan() {
    let mut app = sample();
    // space marks the selected finding and moves on.
    app.update(key(' '));
    assert!(app.marked.contains("hfg-000000000005"));
    assert_ne!(current_id(&app), "hfg-000000000005");
    app.update(code(KeyCode::Esc));
    assert!(app.marked.is_empty(), "Esc clears the marks");

    app.update(key('/'));
    typed(&mut app, "bash");
    app.update(code(KeyCode::Enter));
    app.update(key('a'));
    assert_eq!(
        app.marked.iter().cloned().collect::<Vec<_>>(),
        ["hfg-000000000003", "hfg-000000000004"],
        "exactly the findings the filter shows"
    );
    assert!(screen(&app).lines().last().unwrap().contains("2 marked"));
    let effects = app.update(key('f'));
    let mut plan = planned(&effects);
    plan.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        plan,
        [
            ("hfg-000000000003".to_string(), FixKind::Redact),
            ("hfg-000000000004".to_string(), FixKind::Keyring)
        ],
        "one plan for both, each with its recommended fix"
    );
    // a again unmarks what it marked.
    app.update(code(KeyCode::Esc)); // the plan is waited for: Esc drops it
    app.update(key('a'));
    assert!(app.marked.is_empty());
}

#[test]
fn capital_f_fixes_everything_that_needs_no_keyring_after_one_preview() {
    let mut app = sample();
    let mut plan = planned(&app.update(key('F')));
    plan.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        plan,
        [
            ("hfg-000000000001".to_string(), FixKind::Chmod),
            ("hfg-000000000003".to_string(), FixKind::Redact),
            ("hfg-000000000005".to_string(), FixKind::Chmod),
            ("hfg-000000000007".to_string(), FixKind::Redact),
        ]
    );
    assert!(matches!(app.popup, Some(Popup::Planning { count: 4, .. })));
}

#[test]
fn f_in_the_checklist_fixes_the_items_findings() {
    let mut app = sample();
    app.update(key('3'));
    app.update(key('j'));
    let s = screen(&app);
    assert!(s.contains("Credential files are private"), "{s}");
    let plan = planned(&app.update(key('f')));
    assert_eq!(plan, [("hfg-000000000001".to_string(), FixKind::Chmod)]);
}

// ---- Problem 1: a readable preview ----

#[test]
fn the_preview_shows_notes_first_wraps_scrolls_to_its_end_and_stops_there() {
    let mut app = sample();
    let req = request_of(&app.update(key('F')));
    let long_note = "Open shells keep their history in memory and may write the token back when they exit: close them, or run `history -c` in each one of them before you go on";
    app.update(Action::PlanReady {
        request: req,
        plan: plan_shown("p1", &["a", "b", "c"], &[long_note], 40),
        empty: false,
    });
    let s = screen(&app);
    assert!(
        s.contains("Fix 3 findings? Enter/y applies · Esc/n cancels"),
        "{s}"
    );
    let body: Vec<&str> = s.lines().skip(2).collect();
    assert!(
        body[0].contains("What changes for you"),
        "notes first:\n{s}"
    );
    // Wrapped, not cut: every word of the note is on screen.
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    for w in long_note.split_whitespace() {
        assert!(flat.contains(w.trim_matches('`')), "{w} lost:\n{s}");
    }
    assert!(s.contains("more below"), "{s}");
    for _ in 0..400 {
        app.update(key('j'));
    }
    let end = confirm_scroll(&app);
    let s = screen(&app);
    assert!(s.contains("LAST LINE OF THE PREVIEW"), "{s}");
    assert!(s.contains("end · Enter/y applies"), "{s}");
    app.update(key('j'));
    assert_eq!(confirm_scroll(&app), end, "it stops at the end");
    app.update(key('g'));
    assert_eq!(confirm_scroll(&app), 0);
    app.update(key('G'));
    assert_eq!(confirm_scroll(&app), end);
    app.update(code(KeyCode::PageUp));
    assert_eq!(confirm_scroll(&app), end - 10);
    // The wheel scrolls the preview too.
    app.update(mouse(MouseEventKind::ScrollDown, 40, 12));
    assert_eq!(confirm_scroll(&app), end - 7);
    assert_eq!(
        app.update(code(KeyCode::Enter)),
        vec![Effect::Apply("p1".into())]
    );
}

#[test]
fn the_preview_grows_with_the_terminal_and_esc_or_n_cancel() {
    for (w, h) in [(80, 24), (200, 60)] {
        let mut app = sample_at(w, h);
        let req = request_of(&app.update(key('F')));
        app.update(Action::PlanReady {
            request: req,
            plan: plan_shown("p1", &["a"], &["a note"], 100),
            empty: false,
        });
        let s = screen(&app);
        let top = s
            .lines()
            .position(|l| l.contains("Fix 1 finding?"))
            .unwrap();
        let row = s.lines().nth(top).unwrap();
        let width = row.chars().filter(|c| *c != ' ').count();
        assert!(
            width >= (w - 4) as usize - 10,
            "{w}x{h}: box {width} wide:\n{s}"
        );
        let bottom = s
            .lines()
            .collect::<Vec<_>>()
            .iter()
            .rposition(|l| l.contains("more below"))
            .unwrap();
        assert!(
            bottom - top + 1 >= (h - 2) as usize,
            "{w}x{h}: not as tall as it can be:\n{s}"
        );
        let cancel = if w == 80 {
            code(KeyCode::Esc)
        } else {
            key('n')
        };
        assert_eq!(app.update(cancel), vec![Effect::Discard("p1".into())]);
        assert_eq!(app.popup, None);
    }
}

#[test]
fn a_long_error_is_shown_whole() {
    let mut app = sample();
    let msg = "Nothing changed: the OS keyring is not reachable (no secret service provider or dbus session found); on Linux hfguard needs a Secret Service such as gnome-keyring.";
    app.update(Action::Failed(msg.into()));
    let s = screen(&app);
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("such as gnome-keyring."), "{s}");
}

#[test]
fn a_plan_that_arrives_after_esc_is_dropped() {
    let mut app = sample();
    let req = request_of(&app.update(key('F')));
    app.update(code(KeyCode::Esc));
    assert_eq!(app.popup, None);
    let effects = app.update(Action::PlanReady {
        request: req,
        plan: plan_shown("p9", &["a"], &[], 1),
        empty: false,
    });
    assert_eq!(effects, vec![Effect::Discard("p9".into())]);
    assert_eq!(app.popup, None);
}

// ---- Problem 3: re-audit after every change; the selection follows the finding ----

#[test]
fn after_a_fix_the_files_are_audited_again_and_the_selection_follows_the_finding() {
    let mut app = sample();
    select_id(&mut app, "hfg-000000000006");
    let effects = app.update(Action::Applied {
        fix_id: "fix-1".into(),
        findings: vec!["hfg-000000000002".into()],
        failed: vec![],
        paths: vec![PathBuf::from("/home/alice/.cache/huggingface/token")],
        error: None,
    });
    // The files are audited again, and the slot index read again (a keyring move changes it).
    let wanted = match &effects[..] {
        [Effect::Reaudit(w), Effect::LoadSlots] => w.clone(),
        e => panic!("no re-audit: {e:?}"),
    };
    assert!(wanted.contains(&(
        PathBuf::from("/home/alice/.cache/huggingface/token"),
        Some(hfguard::kind::FileKind::HfTokenFile)
    )));
    // The worker's answer: the token file is gone; the stored_tokens entry moved up a line.
    let mut moved = sample_findings()[5].clone();
    moved.line = Some(1);
    app.update(Action::Reaudited {
        paths: [
            PathBuf::from("/home/alice/.cache/huggingface/token"),
            PathBuf::from("/home/alice/.cache/huggingface/stored_tokens"),
        ]
        .into(),
        findings: vec![moved],
    });
    assert_eq!(current_id(&app), "hfg-000000000006");
    assert_eq!(
        app.current().unwrap().line,
        Some(1),
        "the next fix sees line 1"
    );
    assert!(
        app.fixed.contains("hfg-000000000001"),
        "the token file's mode finding went too"
    );
    // `r`: the list comes back in another order; the selection stays on its finding.
    app.update(key('r'));
    app.update(Action::ScanStarted);
    let mut again = sample_findings();
    again.reverse();
    again.retain(|f| f.id != "hfg-000000000005");
    app.update(Action::ScanDone(report_of(again)));
    assert_eq!(current_id(&app), "hfg-000000000006");
}

#[test]
fn an_undo_or_an_ignore_audits_the_files_again() {
    let mut app = sample();
    app.update(Action::Applied {
        fix_id: "fix-1".into(),
        findings: vec!["hfg-000000000005".into()],
        failed: vec![],
        paths: vec![PathBuf::from("/home/alice/.profile")],
        error: None,
    });
    assert_eq!(app.update(key('u')), vec![Effect::Undo("fix-1".into())]);
    let e = app.update(Action::Undone {
        fix_id: "fix-1".into(),
        findings: vec!["hfg-000000000005".into()],
        failed: vec![],
        paths: vec![PathBuf::from("/home/alice/.profile")],
        error: None,
    });
    assert!(
        matches!(&e[..], [Effect::Reaudit(w), Effect::LoadSlots] if w[0].0.ends_with(".profile"))
    );
    assert!(!app.fixed.contains("hfg-000000000005"));
    let e = app.update(Action::IgnoreSaved {
        id: "hfg-000000000005".into(),
        reason: Some("lab box".into()),
    });
    assert!(matches!(&e[..], [Effect::Reaudit(w)] if w[0].0.ends_with(".profile")));
}

// ---- Problem 6: the filter matches what the row shows, and never hides that secrets exist ----

#[test]
fn the_filter_matches_what_the_rows_show_and_the_id() {
    let mut app = sample();
    let shown = |app: &mut App, f: &str| -> Vec<String> {
        app.update(code(KeyCode::Esc));
        app.update(key('/'));
        typed(app, f);
        app.update(code(KeyCode::Enter));
        let mut v: Vec<String> = app
            .model
            .rows
            .iter()
            .map(|&i| app.findings[i].id[11..].to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        shown(&mut app, "AoCL"),
        ["00006", "00007"],
        "the masked suffix"
    );
    assert_eq!(
        shown(&mut app, "high"),
        ["00001", "00003", "00004", "00007"]
    );
    assert_eq!(shown(&mut app, "crit"), ["00005"]);
    assert_eq!(
        shown(&mut app, "[work]"),
        ["00006"],
        "the stored_tokens name"
    );
    assert_eq!(shown(&mut app, "HF_TOKEN"), ["00004"], "the variable");
    assert_eq!(shown(&mut app, "histories"), ["00003"], "the category");
    assert_eq!(shown(&mut app, "hfg-000000000002"), ["00002"], "the id");
    assert!(
        shown(&mut app, "keyring").is_empty(),
        "only the messages say keyring"
    );
    let s = screen(&app);
    assert!(
        s.contains("7 findings, none matches the filter `keyring`"),
        "{s}"
    );
}

#[test]
fn a_filter_in_tokens_keeps_counts_whole_and_never_says_there_are_no_secrets() {
    let mut app = sample();
    app.update(key('2'));
    app.update(key('/'));
    typed(&mut app, "bash_history");
    app.update(code(KeyCode::Enter));
    let s = screen(&app);
    assert!(s.contains("3 places, 1 shown"), "{s}");
    app.update(code(KeyCode::Backspace));
    app.update(key('/'));
    typed(&mut app, "zzz");
    let s = screen(&app);
    assert!(!s.contains("No secrets found"), "{s}");
    assert!(
        s.contains("2 secrets, none matches the filter `bash_historyzzz`"),
        "{s}"
    );
}

#[test]
fn clearing_the_filter_keeps_the_selected_finding() {
    let mut app = sample();
    app.update(key('/'));
    typed(&mut app, "ipynb");
    app.update(code(KeyCode::Enter));
    assert_eq!(current_id(&app), "hfg-000000000007");
    app.update(code(KeyCode::Esc));
    assert_eq!(app.model.rows.len(), 7);
    assert_eq!(current_id(&app), "hfg-000000000007");
}

// ---- Problem 8: secret-first answers ----

#[test]
fn rows_say_where_else_the_secret_is_and_f_offers_this_place_or_all() {
    let mut app = sample_at(120, 40);
    let s = screen(&app);
    let row = s.lines().find(|l| l.contains("~/.bashrc:21")).unwrap();
    assert!(row.contains("+2 places"), "{row}");
    assert!(row.contains("HF_TOKEN"), "{row}");
    select_id(&mut app, "hfg-000000000004");
    assert!(app.update(key('f')).is_empty());
    assert_eq!(
        app.popup,
        Some(Popup::Scope {
            id: "hfg-000000000004".into(),
            places: 3
        })
    );
    assert!(screen(&app).contains("all 3 places"));
    assert_eq!(
        planned(&app.update(key('t'))),
        [("hfg-000000000004".to_string(), FixKind::Keyring)]
    );
    app.update(code(KeyCode::Esc));
    app.update(key('f'));
    let mut all = planned(&app.update(key('a')));
    all.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        all.iter().map(|(id, _)| &id[11..]).collect::<Vec<_>>(),
        ["00002", "00003", "00004"]
    );
}

#[test]
fn secrets_show_their_names_which_one_the_hub_uses_and_whether_to_rotate() {
    // Narrower than 110 columns: the details sit under the list, whole lines of their own.
    let mut app = sample_at(100, 40);
    app.update(key('2'));
    let s = screen(&app);
    let main = s.lines().find(|l| l.contains("hf_…Wq3Z")).unwrap();
    assert!(main.contains("hub") && main.contains("rotate"), "{main}");
    let work = s.lines().find(|l| l.contains("hf_…AoCL")).unwrap();
    assert!(work.contains("[work]"), "{work}");
    let flat = flat(&s);
    assert!(
        flat.contains("huggingface_hub uses this token (it takes it from HF_TOKEN in ~/.bashrc)"),
        "{s}"
    );
    assert!(
        flat.contains("Rotate it:") && flat.contains("it sat in a history"),
        "{s}"
    );
    // The notebook's fix says the cell will change.
    app.update(key('1'));
    select_id(&mut app, "hfg-000000000007");
    let details = screen(&app);
    assert!(details.contains("the notebook's cell changes"), "{details}");
}

// ---- Problem 9: keys that follow the view ----

#[test]
fn the_key_bar_follows_the_view_and_popups() {
    let mut app = sample_at(120, 40);
    let bar = |app: &App| screen(app).lines().last().unwrap().to_string();
    assert!(
        bar(&app).contains("f fix") && bar(&app).contains("space mark"),
        "{}",
        bar(&app)
    );
    app.update(key('3'));
    assert!(!bar(&app).contains("mark"), "{}", bar(&app));
    app.update(key('1'));
    let req = request_of(&app.update(key('F')));
    assert!(bar(&app).contains("Esc back"), "{}", bar(&app));
    app.update(Action::PlanReady {
        request: req,
        plan: plan_shown("p", &["a"], &[], 1),
        empty: false,
    });
    let b = bar(&app);
    assert!(
        b.contains("Enter/y apply") && b.contains("Esc/n cancel"),
        "{b}"
    );
    for (w, h) in [(60, 20), (80, 24)] {
        let mut small = sample_at(w, h);
        for k in [key('2'), key('3'), code(KeyCode::Enter), key('/')] {
            small.update(k);
            let b = bar(&small);
            assert!(
                (b.contains("? help") && b.contains("q quit"))
                    || (b.contains("F1 help") && b.contains("^C quit")),
                "{w}x{h}: {b}"
            );
        }
    }
}

#[test]
fn views_switch_back_and_by_number_and_tabs_can_be_clicked() {
    let mut app = sample();
    app.update(code(KeyCode::BackTab));
    assert_eq!(app.view, View::Checklist, "Shift-Tab goes back");
    app.update(key('2'));
    assert_eq!(app.view, View::Tokens);
    app.update(key('1'));
    assert_eq!(app.view, View::Findings);
    let s = screen(&app);
    let tabs_row = 2;
    let x = s
        .lines()
        .nth(tabs_row)
        .unwrap()
        .find("3 Checklist")
        .unwrap();
    let col = s.lines().nth(tabs_row).unwrap()[..x].chars().count() as u16;
    app.update(mouse(
        MouseEventKind::Down(MouseButton::Left),
        col + 2,
        tabs_row as u16,
    ));
    assert_eq!(app.view, View::Checklist, "a click on a tab selects it");
}

#[test]
fn the_list_shows_where_the_selection_is() {
    let mut app = sample();
    assert!(screen(&app).contains("Findings 1/7"));
    app.update(key('j'));
    app.update(key('j'));
    assert!(screen(&app).contains("Findings 3/7"));
}

#[test]
fn the_wheel_scrolls_the_pane_under_it_and_details_scroll_with_j_k() {
    let mut app = sample();
    let s = screen(&app);
    assert!(
        !s.contains("Fix: chmod"),
        "at 80x24 the fix line is below the fold:\n{s}"
    );
    let detail_row = s.lines().position(|l| l.contains("Details")).unwrap() as u16 + 2;
    let before = current_id(&app);
    app.update(mouse(MouseEventKind::ScrollDown, 10, detail_row));
    assert_eq!(
        current_id(&app),
        before,
        "the wheel over Details does not move the list"
    );
    assert!(app.detail_scroll > 0);
    for _ in 0..30 {
        app.update(key('J'));
    }
    let s = screen(&app);
    assert!(
        s.contains("Fix: chmod"),
        "J scrolls the details to the fix:\n{s}"
    );
    app.update(key('K'));
    app.update(mouse(MouseEventKind::ScrollDown, 10, 7));
    assert_ne!(
        current_id(&app),
        before,
        "the wheel over the list moves the selection"
    );
    // A click on a row selects it.
    app.update(key('g'));
    let s = screen(&app);
    let row = s.lines().position(|l| l.contains("~/.bashrc:21")).unwrap() as u16;
    app.update(mouse(MouseEventKind::Down(MouseButton::Left), 10, row));
    assert_eq!(current_id(&app), "hfg-000000000004");
}

#[test]
fn help_scrolls_and_is_never_cut_off() {
    let mut app = sample_at(60, 20);
    app.update(key('?'));
    let s = screen(&app);
    assert!(s.contains("more below"), "{s}");
    app.update(key('G'));
    let s = screen(&app);
    assert!(s.contains("the wheel scrolls the pane under it"), "{s}");
    app.update(key('?'));
    assert_eq!(app.popup, None);
}

// ---- Problem 10: wording ----

#[test]
fn wording() {
    let mut app = sample();
    select_id(&mut app, "hfg-000000000007");
    assert!(app.update(key('c')).is_empty());
    assert_eq!(
        app.toast.as_ref().unwrap().1,
        "No chmod fix applies to this finding; the details say what to do by hand."
    );
    select_id(&mut app, "hfg-000000000005");
    let req = request_of(&app.update(key('c')));
    app.update(Action::PlanReady {
        request: req,
        plan: plan_shown("p", &["hfg-000000000005"], &[], 0),
        empty: false,
    });
    assert!(screen(&app).contains("Fix 1 finding?"));
    app.update(key('n'));
    let mut wide = sample_at(120, 60);
    select_id(&mut wide, "hfg-000000000004");
    let s = screen(&wide);
    assert!(s.contains("Fix: keyring (f or m)"), "{s}");
    assert!(s.contains("Or redact (x)"), "{s}");
    assert!(!s.contains("Also: keyring"), "{s}");
    // The checklist does not tick "exported to every program" while .bashrc exports a token.
    wide.update(key('3'));
    let s = screen(&wide);
    let row = s
        .lines()
        .find(|l| l.contains("exported to every program"))
        .unwrap();
    assert!(row.contains("[ ]"), "{row}");
}

// ---- Problem 7, the dashboard's side: what the watcher reports ----

#[test]
fn the_header_says_what_is_watched_and_an_undo_is_not_a_regression() {
    use hfguard::watch::Event;
    let mut app = sample();
    app.update(Action::Watch(Event::Ready {
        watched: 12,
        polled: vec![],
        unwatched: vec![],
        projects: vec![PathBuf::from("/home/alice/work")],
    }));
    assert!(screen(&app)
        .lines()
        .next()
        .unwrap()
        .contains("watch: 12 folders incl. ~/work"));
    let mut f = sample_findings()[4].clone();
    app.update(Action::Watch(Event::Resolved {
        finding: f.clone(),
        fixed_by: Some("fix-x".into()),
    }));
    assert!(app.fixed.contains(&f.id));
    f.mode = Some("0666".into());
    app.update(Action::Watch(Event::Undone {
        finding: f.clone(),
        fix_id: "fix-x".into(),
        detail: "~/.profile back to 0666".into(),
    }));
    assert!(!app.fixed.contains(&f.id));
    assert_eq!(
        app.toast,
        Some((ToastLevel::Info, "Undone: ~/.profile back to 0666".into()))
    );
    let mut g = sample_findings()[2].clone();
    g.id = "hfg-00000000000a".into();
    app.update(Action::Watch(Event::Regression(g)));
    assert_eq!(app.toast.as_ref().unwrap().0, ToastLevel::Error);
    assert!(app.findings.iter().any(|f| f.id == "hfg-00000000000a"));
    assert_eq!(app.update(key('w')), vec![Effect::Watch(false)]);
}

// ---- What it draws ----

fn preview_at_end(w: u16, h: u16) -> App {
    let mut app = sample_at(w, h);
    let req = request_of(&app.update(key('F')));
    app.update(Action::PlanReady {
        request: req,
        plan: plan_shown(
            "p1",
            &["a", "b", "c", "d"],
            &["Open shells keep their history in memory and may write the token back when they exit: close them, or run `history -c` in each."],
            12,
        ),
        empty: false,
    });
    app.update(key('G'));
    app
}

#[test]
fn snapshots() {
    for (w, h) in [(80, 24), (120, 40), (60, 20)] {
        let start = sample_at(w, h);
        insta::assert_snapshot!(format!("start_{w}x{h}"), screen(&start));
        let mut marked = sample_at(w, h);
        marked.update(key(' '));
        marked.update(key(' '));
        insta::assert_snapshot!(format!("marked_{w}x{h}"), screen(&marked));
        insta::assert_snapshot!(
            format!("preview_end_{w}x{h}"),
            screen(&preview_at_end(w, h))
        );
        let mut none = sample_at(w, h);
        none.update(key('/'));
        typed(&mut none, "nothing-like-it");
        insta::assert_snapshot!(format!("filter_no_match_{w}x{h}"), screen(&none));
    }
    let mut tokens = sample_at(120, 40);
    tokens.update(key('2'));
    insta::assert_snapshot!("tokens_120x40", screen(&tokens));
    let mut clean = App::new(PathBuf::from("/home/bob"), "bob@laptop".into(), true);
    clean.update(Action::ScanStarted);
    clean.update(Action::ScanDone(report_of(vec![])));
    let s = screen(&clean);
    assert!(s.contains("No exposed credentials found.") && s.contains("hygiene 100/100"));
    insta::assert_snapshot!("clean_80x24", s);
}

#[test]
fn no_color_draws_no_colours_but_marks_the_selection() {
    let mut app = sample();
    app.color = false;
    app.update(key(' '));
    let t = render(&app);
    let buf = t.backend().buffer();
    let mut reversed = 0;
    for cell in buf.content() {
        assert_eq!(
            cell.fg,
            ratatui::style::Color::Reset,
            "a colour under NO_COLOR"
        );
        assert_eq!(cell.bg, ratatui::style::Color::Reset);
        if cell.modifier.contains(ratatui::style::Modifier::REVERSED) {
            reversed += 1;
        }
    }
    assert!(reversed > 20, "the selected row is reversed");
    assert!(screen(&app).contains("●"), "a mark shows without colour");
    assert!(render(&sample())
        .backend()
        .buffer()
        .content()
        .iter()
        .any(|c| c.fg != ratatui::style::Color::Reset));
}

// ---- Real homes, real effects ----

/// The state machine with the real worker: every effect runs at once on this thread, and
/// its answer goes back into the state machine, until nothing is left to do.
struct Live {
    app: App,
    worker: hfguard::tui::worker::Worker,
}

impl Live {
    fn new(fx: &Fixture, w: u16, h: u16) -> Live {
        let env: Vec<(String, std::ffi::OsString)> =
            fx.env.iter().map(|(k, v)| (k.clone(), v.into())).collect();
        let home = hfguard::home::Home::new(fx.home(), env);
        let (tx, _rx) = std::sync::mpsc::channel();
        let options = hfguard::audit::ScanOptions {
            skip_probes: vec!["processes".into(), "environment".into()],
            ..Default::default()
        };
        let worker = hfguard::tui::worker::Worker::new(
            home.clone(),
            options,
            fx.path(".config/hfguard/config.toml"),
            tx,
        );
        let mut live = Live {
            app: App::for_home(home, "me@here".into(), true),
            worker,
        };
        live.app.update(Action::Resize(w, h));
        live.run(vec![Effect::Scan]);
        live
    }

    fn run(&mut self, mut effects: Vec<Effect>) {
        while let Some(e) = effects.pop() {
            if matches!(e, Effect::Watch(_) | Effect::Quit) {
                continue;
            }
            if let Some(a) = self.worker.run_now(e) {
                effects.extend(self.app.update(a));
            }
        }
    }

    fn press(&mut self, a: Action) {
        let e = self.app.update(a);
        self.run(e);
    }
}

/// Problem 3: fixing `stored_tokens:2` then `stored_tokens:5` failed ("the secret is no
/// longer where the scan saw it"): the list was stale. Now the first fix re-audits the file,
/// and the second fix just works.
#[test]
fn the_next_fix_in_the_same_file_just_works() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (a, b) = (fx.token("same-file-a"), fx.token("same-file-b"));
    fx.write(
        ".cache/huggingface/stored_tokens",
        format!("[work]\nhf_token = {a}\n\n[personal]\nhf_token = {b}\n"),
        0o600,
    );
    fx.mkdir(".cache/huggingface", 0o700);
    let mut live = Live::new(&fx, 120, 40);
    let stored: Vec<String> = live
        .app
        .findings
        .iter()
        .filter(|f| f.rule == "hf-token-in-stored-tokens")
        .map(|f| f.id.clone())
        .collect();
    assert_eq!(stored.len(), 2);
    for id in &stored {
        select_id(&mut live.app, id);
        live.press(key('f'));
        assert!(
            matches!(live.app.popup, Some(Popup::Confirm { .. })),
            "{:?}",
            live.app.toast
        );
        live.press(key('y'));
        let toast = live.app.toast.clone().unwrap();
        assert_eq!(toast.0, ToastLevel::Success, "{toast:?}");
        assert_eq!(
            current_id(&live.app),
            *id,
            "the selection stays on the finding"
        );
    }
    // Both entries are in the keyring; the file holds neither (or is gone).
    let text =
        std::fs::read_to_string(fx.path(".cache/huggingface/stored_tokens")).unwrap_or_default();
    assert!(!text.contains(&a) && !text.contains(&b), "{text}");
    fx.assert_no_leak(&screen(&live.app));
    // Undo puts it back, and the list says so at once.
    live.press(key('u'));
    let back = live
        .app
        .findings
        .iter()
        .find(|f| f.id == stored[1])
        .unwrap();
    assert!(live.app.is_open(back), "{:?}", live.app.toast);
}

/// Problem 5 with real files: `F` + `y` fixes every chmod and redaction in one go, and the
/// score rises.
#[test]
fn capital_f_fixes_every_mode_and_redaction_on_disk() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("bulk");
    fx.write(".profile", "# profile\n", 0o666);
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &t, 0o644);
    fx.write(
        ".bash_history",
        format!("ls\nhf auth login --token {t}\n"),
        0o644,
    );
    let mut live = Live::new(&fx, 80, 24);
    let before = live.app.score();
    live.press(key('F'));
    assert!(
        matches!(live.app.popup, Some(Popup::Confirm { .. })),
        "{:?}",
        live.app.toast
    );
    live.press(key('G'));
    fx.assert_no_leak(&screen(&live.app));
    live.press(key('y'));
    assert_eq!(
        live.app.toast.as_ref().unwrap().0,
        ToastLevel::Success,
        "{:?}",
        live.app.toast
    );
    assert_eq!(fx.mode(".profile"), 0o644);
    assert_eq!(fx.mode(".cache/huggingface/token"), 0o600);
    assert_eq!(fx.mode(".bash_history"), 0o600);
    let history = String::from_utf8(fx.read(".bash_history")).unwrap();
    assert!(!history.contains(&t), "{history}");
    assert!(live.app.score() > before);
    // What is left needs the keyring: the token file's token.
    let open: Vec<&str> = live
        .app
        .findings
        .iter()
        .filter(|f| live.app.is_open(f))
        .map(|f| f.rule.as_str())
        .collect();
    assert_eq!(open, ["hf-token-in-token-file"]);
}

/// A real scan of a home full of tokens, drawn in every view and popup: no full secret on
/// screen.
#[test]
fn no_full_secret_is_ever_drawn() {
    let mut fx = Fixture::new();
    let t = fx.token("drawn");
    fx.write(".cache/huggingface/token", &t, 0o644);
    fx.write(".bashrc", format!("export HF_TOKEN={t}\n"), 0o644);
    fx.write(
        "nb/x.ipynb",
        format!("{{\"cells\": [{{\"source\": [\"{t}\"]}}]}}"),
        0o644,
    );
    let pw = fx.secret("Passw0rdXq9Z7kLmN");
    fx.write(
        ".netrc",
        format!("machine git.example.org\n  login me\n  password {pw}\n"),
        0o644,
    );
    fx.write(
        ".cache/huggingface/stored_tokens",
        format!("[{t}]\nhf_token = {t}\n"),
        0o644,
    );
    let mut live = Live::new(&fx, 120, 40);
    assert!(live.app.findings.len() >= 5);
    for view in ['1', '2', '3'] {
        live.press(key(view));
        for _ in 0..live.app.rows() {
            for (w, h) in [(80, 24), (120, 40), (60, 20)] {
                live.app.update(Action::Resize(w, h));
                fx.assert_no_leak(&screen(&live.app));
            }
            live.press(key('j'));
        }
    }
    live.press(key('1'));
    live.press(key('F'));
    live.press(key('G'));
    fx.assert_no_leak(&screen(&live.app));
}

/// docs/dashboard.md names every key of the registry (the help cannot drift from the keys;
/// this keeps the docs from drifting either).
#[test]
fn the_docs_name_every_key() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/dashboard.md")).unwrap();
    for b in hfguard::tui::keys::BINDINGS {
        for k in b.keys {
            let shown = match *k {
                "BackTab" => "Shift-Tab".to_string(),
                k => k.to_string(),
            };
            assert!(
                doc.contains(&format!("`{shown}`")),
                "docs/dashboard.md does not name `{shown}` ({})",
                b.help
            );
        }
    }
}

/// `?` works everywhere the key bar says so: over the preview (or while a plan is worked
/// out) the help opens, and closing it shows the preview again, with the plan it awaited.
#[test]
fn help_over_a_popup_returns_to_it() {
    let mut app = sample();
    let req = request_of(&app.update(key('F')));
    app.update(key('?'));
    assert!(matches!(app.popup, Some(Popup::Help { .. })));
    app.update(Action::PlanReady {
        request: req,
        plan: plan_shown("p1", &["a"], &[], 3),
        empty: false,
    });
    app.update(code(KeyCode::Esc));
    assert!(
        matches!(app.popup, Some(Popup::Confirm { .. })),
        "{:?}",
        app.popup
    );
    app.update(key('?'));
    app.update(key('?'));
    assert!(matches!(app.popup, Some(Popup::Confirm { .. })));
    assert_eq!(app.update(key('y')), vec![Effect::Apply("p1".into())]);
    // j/k in the "which places" question do not move the list under it.
    select_id(&mut app, "hfg-000000000004");
    app.update(key('f'));
    app.update(key('j'));
    assert_eq!(current_id(&app), "hfg-000000000004");
}

// ---- Issue 15: `v` verifies a secret, `R` rotates it ----

/// What the Hub says about a live write token of alice's.
fn live_write() -> hfguard::verify::Verification {
    hfguard::verify::Verification {
        status: hfguard::verify::Status::Live,
        checked_at: Some("2026-12-01T10:00:00Z".into()),
        owner: Some("alice".into()),
        owner_type: Some("user".into()),
        role: Some("write".into()),
        can_write: Some(true),
        write_scopes: vec!["user:alice".into()],
        ..Default::default()
    }
}

fn verify_effect(effects: &[Effect]) -> (String, Vec<String>) {
    match effects {
        [Effect::Verify {
            fingerprint,
            provider,
            places,
        }] => {
            assert_eq!(provider.as_deref(), Some("huggingface"));
            (
                fingerprint.clone(),
                places.iter().map(|f| f.id.clone()).collect(),
            )
        }
        e => panic!("no verification asked: {e:?}"),
    }
}

#[test]
fn v_asks_before_the_first_request_of_the_session_and_then_verifies() {
    let mut app = sample_at(120, 40);
    app.update(key('2'));
    // The first time: a question that says what is sent where; nothing is sent.
    assert!(app.update(key('v')).is_empty());
    assert!(
        matches!(app.popup, Some(Popup::Consent(_))),
        "{:?}",
        app.popup
    );
    let s = screen(&app);
    assert!(
        s.contains("GET https://huggingface.co/api/whoami-v2")
            && s.contains("Authorization: Bearer hf_…Wq3Z"),
        "{s}"
    );
    // `n` sends nothing, and the next `v` asks again.
    assert!(app.update(key('n')).is_empty());
    assert!(app.popup.is_none());
    assert_eq!(app.toast.as_ref().unwrap().1, "Nothing sent.");
    assert!(app.update(key('v')).is_empty());
    assert!(app.update(code(KeyCode::Esc)).is_empty());
    assert!(app.popup.is_none());
    // `y` sends it: one verification of the selected secret, read from its places.
    app.update(key('v'));
    let (fp, mut places) = verify_effect(&app.update(key('y')));
    places.sort();
    assert_eq!(fp, "f00d");
    assert_eq!(
        places,
        ["hfg-000000000002", "hfg-000000000003", "hfg-000000000004"]
    );
    assert!(screen(&app).contains("checking…"));
    app.update(Action::Verified {
        fingerprint: "f00d".into(),
        result: Ok(live_write()),
    });
    let s = screen(&app);
    let row = s.lines().find(|l| l.contains("hf_…Wq3Z")).unwrap();
    assert!(row.contains("rotate  live/write"), "{row}");
    let flat = flat(&s);
    assert!(
        flat.contains("Verified: live · alice (user) · write · can write user:alice · checked 2026-12-01T10:00:00Z"),
        "{s}"
    );
    // From now on `v` sends without asking, here and in Findings.
    app.update(key('j'));
    let (fp, _) = verify_effect(&app.update(key('v')));
    assert_eq!(fp, "beef");
    assert!(app.popup.is_none());
    app.update(Action::Verified {
        fingerprint: "beef".into(),
        result: Ok(hfguard::verify::Verification {
            status: hfguard::verify::Status::Revoked,
            ..Default::default()
        }),
    });
    let s = screen(&app);
    let row = s.lines().find(|l| l.contains("HIGH hf_…AoCL")).unwrap();
    assert!(row.contains("2 places  rotate  revoked"), "{row}");
    app.update(key('1'));
    select_id(&mut app, "hfg-000000000003");
    let (fp, _) = verify_effect(&app.update(key('v')));
    assert_eq!(fp, "f00d");
    // A finding without a secret, and another provider's secret: nothing to send.
    select_id(&mut app, "hfg-000000000005");
    assert!(app.update(key('v')).is_empty());
    let mut openai = sample_findings()[6].clone();
    openai.id = "hfg-00000000000b".into();
    openai.provider = Some("openai".into());
    openai.fingerprint = Some("cafe".into());
    app.update(Action::Reaudited {
        paths: Default::default(),
        findings: vec![openai],
    });
    select_id(&mut app, "hfg-00000000000b");
    assert!(app.update(key('v')).is_empty());
    assert!(
        app.toast
            .as_ref()
            .unwrap()
            .1
            .contains("verifies Hugging Face tokens only"),
        "{:?}",
        app.toast
    );
}

#[test]
fn v_does_not_ask_when_the_configuration_opted_in() {
    let mut app = sample();
    app.may_verify = true; // `[verify] enabled = true`
    app.update(key('2'));
    let (fp, _) = verify_effect(&app.update(key('v')));
    assert_eq!(fp, "f00d");
    assert!(app.popup.is_none());
}

/// hfguard's slots on the sample machine: `huggingface` holds the main token, and held
/// `hf_…0LD1` before a rotation replaced it.
fn slots(revoked_at: Option<&str>) -> Action {
    use hfguard::slots::{Previous, Slot};
    Action::Slots(vec![Slot {
        name: "huggingface".into(),
        fingerprint: Some("f00d".into()),
        redacted: Some("hf_…Wq3Z".into()),
        provider: Some("huggingface".into()),
        previous: vec![Previous {
            fingerprint: "dead".into(),
            redacted: "hf_…0LD1".into(),
            replaced_at: "2026-11-30T09:00:00Z".into(),
            revoked_at: revoked_at.map(String::from),
        }],
        ..Slot::default()
    }])
}

fn new_token_typed(app: &App) -> usize {
    match &app.popup {
        Some(Popup::NewToken { input, .. }) => input.chars(),
        p => panic!("no new token popup: {p:?}"),
    }
}

#[test]
fn r_rotates_a_slot_through_a_masked_input_and_one_preview() {
    let mut app = sample_at(120, 40);
    app.update(slots(None));
    app.update(key('2'));
    // A secret no slot holds: move it into the keyring first.
    select_row_with(&mut app, "hf_…AoCL");
    assert!(app.update(key('R')).is_empty());
    assert!(app.popup.is_none());
    let toast = &app.toast.as_ref().unwrap().1;
    assert!(
        toast.contains("in no keyring slot yet: move it into the keyring first (f), then R"),
        "{toast}"
    );
    // The slot's value: the provider's page (no display here: shown, not opened) and a
    // masked input.
    select_row_with(&mut app, "hf_…Wq3Z");
    assert!(app.update(key('R')).is_empty());
    assert_eq!(new_token_typed(&app), 0);
    let token = hf_token("typed-into-the-dashboard");
    typed(&mut app, &token);
    assert_eq!(new_token_typed(&app), token.len());
    let s = screen(&app);
    assert!(
        s.contains("Create a new token at https://huggingface.co/settings/tokens"),
        "{s}"
    );
    assert!(
        s.contains(&format!("> {}▏", "•".repeat(token.len()))),
        "{s}"
    );
    // What was typed is nowhere: not drawn, not in the state's debug form, not in a line.
    let last4 = &token[token.len() - 4..];
    for text in [
        s.clone(),
        format!("{:?}", app.popup),
        format!("{:?}", app.details()),
        format!("{:?}", app.model.groups),
    ] {
        assert!(
            !text.contains(&token[3..]) && !text.contains(last4),
            "{text}"
        );
    }
    // Typing keys that mean something elsewhere types them.
    typed(&mut app, "qv");
    assert!(!app.quit);
    app.update(code(KeyCode::Backspace));
    app.update(code(KeyCode::Backspace));
    assert_eq!(new_token_typed(&app), token.len());
    // Esc cancels and wipes it: R again starts empty.
    assert!(app.update(code(KeyCode::Esc)).is_empty());
    assert!(app.popup.is_none());
    app.update(key('R'));
    assert_eq!(new_token_typed(&app), 0);
    // Enter with nothing typed does nothing.
    assert!(app.update(code(KeyCode::Enter)).is_empty());
    typed(&mut app, &token);
    let effects = app.update(code(KeyCode::Enter));
    let request = match &effects[..] {
        [Effect::Rotate {
            request,
            slot,
            new,
            findings,
            verify,
        }] => {
            assert_eq!(slot, "huggingface");
            assert_eq!(new.expose(), token);
            assert_eq!(findings.len(), 7, "the open findings");
            assert!(!verify, "nothing is sent without consent");
            *request
        }
        e => panic!("no rotation: {e:?}"),
    };
    assert!(matches!(
        &app.popup,
        Some(Popup::Planning { rotating: Some(s), .. }) if s == "huggingface"
    ));
    // Refused: said, and nothing changed.
    app.update(Action::RotationRefused {
        request,
        reason: "that is the token `huggingface` holds already; create a new one first".into(),
    });
    assert!(app.popup.is_none());
    assert_eq!(app.toast.as_ref().unwrap().0, ToastLevel::Error);
    // Accepted: the plan in the fix preview; `y` applies it.
    app.update(key('R'));
    typed(&mut app, &token);
    let request = match &app.update(code(KeyCode::Enter))[..] {
        [Effect::Rotate { request, .. }] => *request,
        e => panic!("{e:?}"),
    };
    app.update(Action::PlanReady {
        request,
        plan: plan_shown("fix-rot", &["hfg-000000000003"], &[], 1),
        empty: false,
    });
    let new = redacted(&token);
    let s = screen(&app);
    assert!(
        s.contains(&format!("Rotate `huggingface`: hf_…Wq3Z → {new}?")),
        "{s}"
    );
    assert_eq!(app.update(key('y')), vec![Effect::Apply("fix-rot".into())]);
    let effects = app.update(Action::Applied {
        fix_id: "fix-rot".into(),
        findings: vec!["hfg-000000000003".into()],
        failed: vec![],
        paths: vec![],
        error: None,
    });
    // The whole list is audited again, and the slots read again.
    assert_eq!(effects, vec![Effect::Scan, Effect::LoadSlots]);
    let toast = app.toast.clone().unwrap();
    assert_eq!(toast.0, ToastLevel::Success);
    assert!(
        toast.1.contains(&format!("`huggingface` now holds {new}"))
            && toast.1.contains(
                "revoke the old token hf_…Wq3Z at https://huggingface.co/settings/tokens"
            ),
        "{}",
        toast.1
    );
    assert_eq!(app.update(key('u')), vec![Effect::Undo("fix-rot".into())]);
}

#[test]
fn r_on_a_replaced_token_asks_whether_it_is_revoked() {
    let mut app = sample_at(120, 40);
    app.update(slots(None));
    app.update(key('2'));
    // The replaced value is listed though no file holds it: it waits to be revoked.
    let s = screen(&app);
    let row = s.lines().find(|l| l.contains("no place")).unwrap();
    assert!(
        row.contains("MED  hf_…0LD1  huggingface  no place") && row.contains("revoke"),
        "{row}"
    );
    select_row_with(&mut app, "hf_…0LD1");
    assert!(screen(&app).contains("A rotation replaced it in `huggingface`"));
    assert!(app.update(key('R')).is_empty());
    assert!(matches!(app.popup, Some(Popup::Revoked { .. })));
    let flat = flat(&screen(&app));
    assert!(
        flat.contains("Did you revoke hf_…0LD1 at https://huggingface.co/settings/tokens?"),
        "{flat}"
    );
    // Not yet.
    assert!(app.update(key('n')).is_empty());
    assert!(app.popup.is_none());
    // Yes: marked as `hfguard rotate --done` marks it (no verification without consent).
    app.update(key('R'));
    assert_eq!(
        app.update(key('y')),
        vec![Effect::MarkRevoked {
            slot: "huggingface".into(),
            fingerprint: "dead".into(),
            verify: false,
        }]
    );
    assert_eq!(
        app.update(Action::RevokeMarked {
            slot: "huggingface".into(),
            result: Ok(vec!["hf_…0LD1".into()]),
        }),
        vec![Effect::LoadSlots]
    );
    assert!(app.toast.as_ref().unwrap().1.contains("Rotation done"));
    app.update(slots(Some("2026-12-01T11:00:00Z")));
    let s = screen(&app);
    let row = s.lines().find(|l| l.contains("no place")).unwrap();
    assert!(
        row.contains("INFO hf_…0LD1") && row.contains("rotated"),
        "{row}"
    );
    assert!(app.update(key('R')).is_empty());
    assert!(app
        .toast
        .as_ref()
        .unwrap()
        .1
        .contains("its rotation is done"));
    // With consent given, the provider is asked first.
    let mut asked = sample_at(120, 40);
    asked.may_verify = true;
    asked.update(slots(None));
    asked.update(key('2'));
    select_row_with(&mut asked, "hf_…0LD1");
    asked.update(key('R'));
    assert!(matches!(
        &asked.update(key('y'))[..],
        [Effect::MarkRevoked { verify: true, .. }]
    ));
}

/// Selects the Tokens row that shows `secret`.
fn select_row_with(app: &mut App, secret: &str) {
    let row = app
        .model
        .groups
        .iter()
        .position(|g| g.secret == secret)
        .unwrap_or_else(|| panic!("no row for {secret}"));
    app.update(key('g'));
    for _ in 0..row {
        app.update(key('j'));
    }
}

#[test]
fn verify_and_rotate_snapshots() {
    let mut consent = sample_at(80, 24);
    consent.update(key('2'));
    consent.update(key('v'));
    insta::assert_snapshot!("verify_consent_80x24", screen(&consent));
    let mut rotate = sample_at(80, 24);
    rotate.update(slots(None));
    rotate.update(key('2'));
    rotate.update(key('R'));
    let token = hf_token("snapshot-typed");
    typed(&mut rotate, &token);
    let s = screen(&rotate);
    assert!(!s.contains(&token[3..]) && !s.contains(&token[token.len() - 4..]));
    insta::assert_snapshot!("rotate_input_80x24", s);
}

/// `v` on a secret only the keyring holds (its token file was fixed into the `huggingface`
/// slot, here with `f`): the real worker reads it from the slot of the real Secret Service
/// and asks the Hub's stand-in, with one request.
#[test]
fn v_reads_a_secret_only_the_keyring_holds_from_its_slot() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("live-keyring-verify");
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &t, 0o600);
    let hub = FakeHub::start(std::collections::BTreeMap::from([(
        t.clone(),
        (
            200,
            r#"{"type":"user","name":"alice","orgs":[],"auth":{"accessToken":{"displayName":"ci","role":"read"}}}"#.to_string(),
        ),
    )]));
    fx.set_env("HF_ENDPOINT", hub.endpoint());
    let mut live = Live::new(&fx, 120, 40);
    // Fixed in this process (its fingerprints are keyed as the index's), then audited again.
    live.press(key('f'));
    live.press(key('y'));
    assert_eq!(
        live.app.toast.as_ref().unwrap().0,
        ToastLevel::Success,
        "{:?}",
        live.app.toast
    );
    assert!(!fx.path(".cache/huggingface/token").exists());
    live.press(key('r'));
    live.app.may_verify = true;
    live.press(key('2'));
    select_row_with(&mut live.app, &redacted(&t));
    let g = &live.app.model.groups[live.app.cursor()];
    assert!(
        g.places.is_empty() && g.slot.as_deref() == Some("huggingface"),
        "{g:?}"
    );
    let fp = g.fingerprint.clone();
    live.press(key('v'));
    assert_eq!(
        live.app.verified.get(&fp).map(|v| v.status),
        Some(hfguard::verify::Status::Live),
        "{:?}",
        live.app.toast
    );
    let s = screen(&live.app);
    fx.assert_no_leak(&s);
    let row = s.lines().find(|l| l.contains("keyring only")).unwrap();
    assert!(row.contains("keyring  read only"), "{row}");
    let requests = hub.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some(format!("Bearer {t}").as_str())
    );
}

/// The screen's text with borders and line breaks as single spaces: wrapped sentences read
/// whole.
fn flat(screen: &str) -> String {
    screen
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
