//! The dashboard: the state machine driven by keys, and snapshots of what it draws
//! (ratatui's TestBackend) at 80×24 and 120×40, with and without colour.

mod common;
use common::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hfguard::finding::{Category, Finding, FixKind, Severity};
use hfguard::tui::app::{Action, App, Effect, Popup, View};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::path::PathBuf;

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(k: KeyCode) -> Action {
    Action::Key(KeyEvent::new(k, KeyModifiers::NONE))
}

fn finding(
    id: &str,
    rule: &str,
    cat: Category,
    sev: Severity,
    path: &str,
    line: Option<u64>,
    fixes: &[FixKind],
) -> Finding {
    let secret = rule.starts_with("hf-token").then(|| "hf_…Wq3Z".to_string());
    Finding {
        id: id.into(),
        rule: rule.into(),
        category: cat,
        severity: sev,
        provider: Some("huggingface".into()),
        path: Some(PathBuf::from(path)),
        line,
        variable: None,
        pid: None,
        mode: (!rule.starts_with("hf-token")).then(|| "0644".to_string()),
        secret: secret.clone(),
        fingerprint: secret.map(|_| "f00d".to_string()),
        message: format!("Message for {rule}."),
        fixes: fixes.to_vec(),
        ignored: None,
        span: None,
    }
}

/// A dashboard with a small, fixed machine's findings.
fn sample(color: bool) -> App {
    let mut app = App::new(
        PathBuf::from("/home/alice"),
        "alice@workstation".into(),
        color,
    );
    app.update(Action::ScanStarted);
    for f in [
        finding(
            "hfg-000000000001",
            "token-file-permissions",
            Category::Permissions,
            Severity::High,
            "/home/alice/.cache/huggingface/token",
            None,
            &[FixKind::Chmod],
        ),
        finding(
            "hfg-000000000002",
            "hf-token-in-token-file",
            Category::TokenFile,
            Severity::Medium,
            "/home/alice/.cache/huggingface/token",
            Some(1),
            &[FixKind::Keyring],
        ),
        finding(
            "hfg-000000000003",
            "hf-token-in-shell-history",
            Category::History,
            Severity::High,
            "/home/alice/.bash_history",
            Some(212),
            &[FixKind::Redact],
        ),
        finding(
            "hfg-000000000004",
            "hf-token-in-startup-file",
            Category::Dotfile,
            Severity::High,
            "/home/alice/.bashrc",
            Some(21),
            &[FixKind::Keyring, FixKind::Redact],
        ),
        finding(
            "hfg-000000000005",
            "startup-file-writable",
            Category::Permissions,
            Severity::Critical,
            "/home/alice/.profile",
            None,
            &[FixKind::Chmod],
        ),
    ] {
        app.update(Action::Found(f));
    }
    app.update(Action::Progress(1234));
    app
}

fn render(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| hfguard::tui::ui::draw(app, f)).unwrap();
    t
}

fn text(t: &Terminal<TestBackend>) -> String {
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

#[test]
fn navigation_filter_and_views() {
    let mut app = sample(true);
    // Display order: by category (token stores, permissions, dotfiles, histories), then severity.
    assert_eq!(app.current().unwrap().id, "hfg-000000000002");
    app.update(key('j'));
    assert_eq!(
        app.current().unwrap().id,
        "hfg-000000000005",
        "critical before high within permissions"
    );
    app.update(key('G'));
    assert_eq!(app.current().unwrap().id, "hfg-000000000003");
    app.update(key('j'));
    assert_eq!(
        app.current().unwrap().id,
        "hfg-000000000003",
        "stays on the last"
    );
    app.update(key('g'));
    assert_eq!(app.selected, 0);
    app.update(code(KeyCode::Down));
    app.update(code(KeyCode::Up));
    assert_eq!(app.selected, 0);

    app.update(key('/'));
    for c in "bashrc".chars() {
        app.update(key(c));
    }
    app.update(code(KeyCode::Enter));
    assert_eq!(app.visible().len(), 1);
    assert_eq!(app.current().unwrap().id, "hfg-000000000004");
    app.update(code(KeyCode::Esc)); // clears the filter, does not quit
    assert!(!app.quit);
    assert_eq!(app.visible().len(), 5);

    app.update(key('s'));
    app.update(key('s'));
    app.update(key('s'));
    assert_eq!(app.visible().len(), 4, "high and above");

    app.update(code(KeyCode::Tab));
    assert_eq!(app.view, View::Tokens);
    app.update(code(KeyCode::Tab));
    assert_eq!(app.view, View::Checklist);
    app.update(code(KeyCode::Tab));
    assert_eq!(app.view, View::Findings);

    app.update(key('?'));
    assert_eq!(app.popup, Some(Popup::Help));
    app.update(key('x'));
    assert_eq!(app.popup, None, "any key closes help");
    assert_eq!(app.update(key('q')), vec![Effect::Quit]);
    assert!(app.quit);
}

#[test]
fn fix_confirm_cancel_apply_and_undo() {
    let mut app = sample(true);
    // The selected finding's recommended fix is planned on a worker.
    let effects = app.update(key('f'));
    assert!(
        matches!(&effects[..], [Effect::Plan(c)] if c.len() == 1 && c[0].0.id == "hfg-000000000002" && c[0].1 == FixKind::Keyring)
    );
    assert_eq!(app.popup, Some(Popup::Planning));
    app.update(Action::PlanReady {
        plan_id: "p1".into(),
        preview: "remove: ~/.cache/huggingface/token".into(),
        findings: vec!["hfg-000000000002".into()],
        empty: false,
        refused: vec![],
    });
    assert!(matches!(app.popup, Some(Popup::Confirm { .. })));
    // Cancel: the plan is dropped, nothing applied.
    assert_eq!(app.update(key('n')), vec![Effect::Discard("p1".into())]);
    assert_eq!(app.popup, None);

    // chmod on the permission finding, confirmed.
    app.update(key('j'));
    app.update(key('j'));
    let effects = app.update(key('c'));
    assert!(
        matches!(&effects[..], [Effect::Plan(c)] if c[0].1 == FixKind::Chmod && c[0].0.id == "hfg-000000000001")
    );
    app.update(Action::PlanReady {
        plan_id: "p2".into(),
        preview: "chmod: ~/.cache/huggingface/token 0644 → 0600".into(),
        findings: vec!["hfg-000000000001".into()],
        empty: false,
        refused: vec![],
    });
    assert_eq!(app.update(key('y')), vec![Effect::Apply("p2".into())]);
    app.update(Action::Applied {
        fix_id: "fix-1".into(),
        findings: vec!["hfg-000000000001".into()],
        failed: vec![],
    });
    assert!(app.fixed.contains("hfg-000000000001"));
    assert_eq!(app.counts()[&Severity::High], 2);
    // u undoes the last fix.
    assert_eq!(app.update(key('u')), vec![Effect::Undo("fix-1".into())]);
    app.update(Action::Undone {
        fix_id: "fix-1".into(),
        findings: vec!["hfg-000000000001".into()],
        failed: vec![],
    });
    assert!(!app.fixed.contains("hfg-000000000001"));
    assert!(app.update(key('u')).is_empty(), "nothing left to undo");

    // A fix kind that does not apply says so instead of planning.
    app.update(key('g'));
    assert!(app.update(key('x')).is_empty());
    assert!(app.toast.as_ref().unwrap().1.contains("redact"));
}

#[test]
fn ignore_with_a_reason_and_back() {
    let mut app = sample(true);
    assert!(app.update(key('i')).is_empty());
    assert!(matches!(app.popup, Some(Popup::IgnoreReason { .. })));
    for c in "lab box".chars() {
        app.update(key(c));
    }
    let effects = app.update(code(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::Ignore {
            id: "hfg-000000000002".into(),
            reason: Some("lab box".into())
        }]
    );
    app.update(Action::IgnoreSaved {
        id: "hfg-000000000002".into(),
        reason: Some("lab box".into()),
    });
    assert_eq!(app.current().unwrap().ignored.as_deref(), Some("lab box"));
    assert_eq!(app.counts()[&Severity::Medium], 0);
    assert_eq!(
        app.update(key('i')),
        vec![Effect::Ignore {
            id: "hfg-000000000002".into(),
            reason: None
        }]
    );
}

#[test]
fn snapshots_of_the_main_views() {
    let mut app = sample(true);
    app.update(Action::Context {
        id: "hfg-000000000002".into(),
        line: "hf_…Wq3Z".into(),
    });
    insta::assert_snapshot!("findings_80x24", text(&render(&app, 80, 24)));
    insta::assert_snapshot!("findings_120x40", text(&render(&app, 120, 40)));
    app.update(code(KeyCode::Tab));
    insta::assert_snapshot!("tokens_120x40", text(&render(&app, 120, 40)));
    app.update(code(KeyCode::Tab));
    insta::assert_snapshot!("checklist_80x24", text(&render(&app, 80, 24)));
    app.update(code(KeyCode::Tab));
    app.update(key('?'));
    insta::assert_snapshot!("help_80x24", text(&render(&app, 80, 24)));
}

#[test]
fn snapshots_of_a_clean_machine_and_an_error_toast() {
    let mut clean = App::new(PathBuf::from("/home/bob"), "bob@laptop".into(), true);
    clean.update(Action::ScanStarted);
    clean.update(Action::ScanDone(Box::new(
        hfguard::audit::Report::from_findings(PathBuf::from("/home/bob"), vec![], vec![]),
    )));
    let shown = text(&render(&clean, 80, 24));
    assert!(shown.contains("No exposed credentials found."));
    assert!(shown.contains("hygiene 100/100"));
    insta::assert_snapshot!("clean_80x24", shown);

    let mut app = sample(true);
    app.update(Action::Failed(
        "the OS keyring is not reachable (no Secret Service); Nothing changed.".into(),
    ));
    insta::assert_snapshot!("error_toast_80x24", text(&render(&app, 80, 24)));
}

#[test]
fn no_color_draws_no_colours_but_marks_the_selection() {
    let app = sample(false);
    let t = render(&app, 80, 24);
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
    insta::assert_snapshot!("findings_no_color_80x24", text(&t));
    // With colour, there is colour.
    let t = render(&sample(true), 80, 24);
    assert!(t
        .backend()
        .buffer()
        .content()
        .iter()
        .any(|c| c.fg != ratatui::style::Color::Reset));
}

/// A real scan of a home full of tokens, drawn in every view: no full secret on screen.
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
    // A password that is one only next to its `machine` line, two lines up.
    let pw = fx.secret("Passw0rdXq9Z7kLmN");
    fx.write(
        ".netrc",
        format!("machine git.example.org\n  login me\n  password {pw}\n"),
        0o644,
    );
    let home = hfguard::home::Home::new(fx.home(), Vec::<(String, std::ffi::OsString)>::new());
    let report = hfguard::audit::run(
        &home,
        &hfguard::audit::ScanOptions {
            skip_probes: vec!["processes".into()],
            ..Default::default()
        },
        &hfguard::audit::NoSink,
    );
    assert!(report.findings.len() >= 4);
    let mut app = App::new(fx.home().to_path_buf(), "me@here".into(), true);
    app.update(Action::ScanDone(Box::new(report)));
    for f in app.findings.clone() {
        if let (Some(p), Some(l)) = (&f.path, f.line) {
            // What the dashboard's worker sends for the details pane.
            let line = hfguard::fix::context_line(&std::fs::read(p).unwrap(), l).unwrap();
            app.update(Action::Context {
                id: f.id.clone(),
                line,
            });
        }
    }
    for _view in 0..3 {
        for _ in 0..app.findings.len() {
            for (w, h) in [(80, 24), (120, 40)] {
                fx.assert_no_leak(&text(&render(&app, w, h)));
            }
            app.update(key('j'));
        }
        app.update(code(KeyCode::Tab));
    }
}

#[test]
fn watch_events_add_regressions_and_mark_resolutions() {
    let mut app = sample(true);
    let effects = app.update(Action::ScanDone(Box::new(
        hfguard::audit::Report::from_findings(
            PathBuf::from("/home/alice"),
            app.findings.clone(),
            vec![],
        ),
    )));
    assert!(
        effects.contains(&Effect::Watch(true)),
        "watching starts after the first scan"
    );
    app.update(Action::Watch(hfguard::watch::Event::Ready {
        watched: 3,
        polled: vec![],
    }));
    assert!(app.watch_ready);
    let f = finding(
        "hfg-000000000009",
        "hf-token-in-env-file",
        Category::Project,
        Severity::Medium,
        "/home/alice/p/.env",
        Some(1),
        &[FixKind::Redact],
    );
    app.update(Action::Watch(hfguard::watch::Event::Regression(f.clone())));
    assert!(app.findings.iter().any(|x| x.id == f.id));
    assert!(app
        .toast
        .as_ref()
        .unwrap()
        .1
        .starts_with("Regression: medium ~/p/.env:1"));
    app.update(Action::Watch(hfguard::watch::Event::Resolved {
        finding: f.clone(),
        fixed_by: None,
    }));
    assert!(app.fixed.contains(&f.id));
    assert_eq!(app.update(key('w')), vec![Effect::Watch(false)]);
    assert!(!app.watching);
    // Off: events are ignored.
    app.update(Action::Watch(hfguard::watch::Event::Regression(finding(
        "hfg-00000000000a",
        "hf-token-in-env-file",
        Category::Project,
        Severity::Medium,
        "/home/alice/q/.env",
        Some(1),
        &[],
    ))));
    assert!(!app.findings.iter().any(|x| x.id == "hfg-00000000000a"));
}

#[test]
fn mouse_click_selects_the_row_under_it_and_the_wheel_scrolls() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut app = sample(true);
    let at = |kind, column, row| {
        Action::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    // 80×24: the list's first line is row 4; row 7 is the fourth line (the critical ~/.profile).
    app.update(at(MouseEventKind::Down(MouseButton::Left), 10, 7));
    assert_eq!(app.current().unwrap().id, "hfg-000000000005");
    // A click on a heading or outside the list changes nothing.
    app.update(at(MouseEventKind::Down(MouseButton::Left), 10, 6));
    app.update(at(MouseEventKind::Down(MouseButton::Left), 10, 1));
    assert_eq!(app.current().unwrap().id, "hfg-000000000005");
    app.update(at(MouseEventKind::ScrollDown, 10, 7));
    assert_eq!(app.selected, 2);
    app.update(at(MouseEventKind::ScrollUp, 10, 7));
    assert_eq!(app.selected, 1);
    // Scrolled down, a click still lands on the row drawn there.
    app.update(key('G'));
    let t = render(&app, 80, 24);
    let screen = text(&t);
    let row = screen
        .lines()
        .position(|l| l.contains("~/.bashrc:21"))
        .unwrap() as u16;
    app.update(at(MouseEventKind::Down(MouseButton::Left), 10, row));
    assert_eq!(app.current().unwrap().id, "hfg-000000000004");
}

/// The findings list shows a scrollbar on its right border when it does not fit: the thumb
/// starts at the top, and reaches the bottom once the last finding is selected.
#[test]
fn a_list_that_does_not_fit_has_a_scrollbar_that_follows_the_selection() {
    let mut app = sample(true);
    let column = |app: &App| -> String {
        // 80×24: the list's border column is 79, its rows 4 to 11.
        let t = render(app, 80, 24);
        let buf = t.backend().buffer();
        (4..12).map(|y| buf[(79, y)].symbol().to_string()).collect()
    };
    assert_eq!(column(&app), "███████║");
    app.update(key('G'));
    assert_eq!(column(&app), "║███████");
    // When everything fits (a taller terminal), the border is a plain border.
    let t = render(&app, 80, 40);
    let buf = t.backend().buffer();
    assert!((4..12).all(|y| buf[(79, y)].symbol() == "│"));
}
