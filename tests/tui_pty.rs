//! The real binary in a real pseudo-terminal (tmux): the dashboard shows a planted token,
//! applies a chmod fix with `f` + `y`, quits with `q`, and leaves the terminal as it was;
//! Esc goes back without quitting; a filter's findings are marked with `a` and fixed in one
//! go, checked on disk.

mod common;
use common::*;
use std::process::Command;
use std::time::{Duration, Instant};

/// Starts the dashboard on `fx` in a tmux session of `w`×`h`, with the fixture's variables
/// (a keyring, when it has one). The shell prints `HFGUARD-EXITED-<status>` when it ends.
fn dashboard(fx: &Fixture, name: &str, w: u16, h: u16) -> Tmux {
    dashboard_between(fx, name, w, h, "", "")
}

/// [`dashboard`], with shell commands run just before and just after it.
fn dashboard_between(fx: &Fixture, name: &str, w: u16, h: u16, before: &str, after: &str) -> Tmux {
    let vars: String = fx.env.iter().map(|(k, v)| format!(" {k}='{v}'")).collect();
    let script = format!(
        "{before} env -i PATH=\"$PATH\" HOME='{h}' TERM=xterm-256color{vars} '{bin}' --home '{h}'; rc=$?; {after} echo HFGUARD-EXITED-$rc; sleep 60",
        h = fx.home().display(),
        bin = env!("CARGO_BIN_EXE_hfguard"),
    );
    Tmux::start(
        format!("hfguard-test-{name}-{}", std::process::id()),
        w,
        h,
        &script,
    )
}

#[test]
fn dashboard_fixes_a_world_readable_token_file_in_a_real_terminal() {
    let mut fx = Fixture::new();
    let t = fx.token("pty");
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &t, 0o644);
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("stty-before");
    let after = dir.path().join("stty-after");
    let tmux = dashboard_between(
        &fx,
        "fix",
        100,
        30,
        &format!("stty -g > '{}';", before.display()),
        &format!("stty -g > '{}';", after.display()),
    );

    // The planted token appears, redacted.
    let screen = tmux.wait_for(&redacted(&t));
    fx.assert_no_leak(&screen);
    tmux.wait_for("scanned");
    // Select the permission finding through the filter, then fix it.
    tmux.keys(&[
        "/", "p", "e", "r", "m", "i", "s", "s", "i", "o", "n", "s", "Enter",
    ]);
    tmux.wait_for("HIGH ⚒ ~/.cache/huggingface/token");
    tmux.keys(&["f"]);
    let confirm = tmux.wait_for("Fix 1 finding?");
    assert!(confirm.contains("0644 → 0600"), "{confirm}");
    tmux.keys(&["y"]);
    tmux.wait_for("Fixed 1 finding");
    assert_eq!(fx.mode(".cache/huggingface/token"), 0o600);
    tmux.keys(&["q"]);
    let end = tmux.wait_for("HFGUARD-EXITED-0");
    fx.assert_no_leak(&end);
    // The alternate screen is gone and the terminal modes are as before.
    assert!(
        !end.contains("Findings ─"),
        "dashboard still on screen:\n{end}"
    );
    let (b, a) = (
        std::fs::read_to_string(&before).unwrap(),
        std::fs::read_to_string(&after).unwrap(),
    );
    assert!(!b.is_empty());
    assert_eq!(b, a, "terminal settings not restored");
}

#[test]
fn dashboard_shows_a_regression_while_it_runs() {
    let mut fx = Fixture::new();
    let t = fx.token("live");
    fx.set_env("NO_COLOR", "1");
    let tmux = dashboard(&fx, "live", 100, 30);
    // (Processes of the machine may carry tokens: do not expect a clean screen.)
    tmux.wait_for("scanned");
    // The header says what is watched once the watcher is ready.
    tmux.wait_for(" folder");
    // `hf auth login` of an old huggingface_hub writes the token world-readable.
    fx.mkdir(".cache/huggingface", 0o755);
    std::thread::sleep(Duration::from_millis(300));
    fx.write(".cache/huggingface/token", &t, 0o644);
    let screen = tmux.wait_for(&format!("~/.cache/huggingface/token:1  {}", redacted(&t)));
    fx.assert_no_leak(&screen);
    tmux.wait_for("Regression:");
    tmux.keys(&["q"]);
}

#[test]
fn sigterm_restores_the_terminal() {
    let fx = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let (before, after) = (dir.path().join("b"), dir.path().join("a"));
    let script = format!(
        "stty -g > '{b}'; env -i PATH=\"$PATH\" HOME='{h}' TERM=xterm '{bin}' --home '{h}'; stty -g > '{a}'; echo HFGUARD-EXITED; sleep 60",
        b = before.display(),
        a = after.display(),
        h = fx.home().display(),
        bin = env!("CARGO_BIN_EXE_hfguard"),
    );
    let tmux = Tmux::start(
        format!("hfguard-test-term-{}", std::process::id()),
        90,
        26,
        &script,
    );
    tmux.wait_for("scanned");
    let pgrep = Command::new("pgrep")
        .args([
            "-f",
            "--",
            &format!("hfguard --home {}", fx.home().display()),
        ])
        .output()
        .unwrap();
    let pids: Vec<String> = String::from_utf8_lossy(&pgrep.stdout)
        .split_whitespace()
        .map(String::from)
        .collect();
    assert!(!pids.is_empty(), "the dashboard process was not found");
    for pid in &pids {
        let _ = Command::new("kill").args(["-TERM", pid]).status();
    }
    let end = tmux.wait_for("HFGUARD-EXITED");
    assert!(
        !end.contains("Findings ─"),
        "dashboard still on screen:\n{end}"
    );
    assert_eq!(
        std::fs::read_to_string(&before).unwrap(),
        std::fs::read_to_string(&after).unwrap()
    );
}

/// A bare pseudo-terminal that answers no query (no tmux in between): the dashboard must not
/// wait on the terminal before its first frame, must draw it, and must quit cleanly on `q`
/// while its scan may still run.
/// A round trip such as a cursor-position query would cost every start a wait for the
/// terminal, and on a terminal that never answers it failed the dashboard after two seconds.
#[test]
fn first_frame_needs_no_answer_from_the_terminal() {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};

    let mut fx = Fixture::new();
    let t = fx.token("bare");
    fx.write(".env", format!("HF_TOKEN={t}\n"), 0o600);
    let size = nix::pty::Winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = nix::pty::openpty(Some(&size), None).unwrap();
    let mut cmd = fx.command(&[]);
    cmd.env("TERM", "xterm-256color")
        .stdin(pty.slave.try_clone().unwrap())
        .stdout(pty.slave.try_clone().unwrap())
        .stderr(pty.slave);
    let mut child = cmd.spawn().unwrap();
    drop(cmd); // the parent's copies of the slave end, so the reader sees EOF at exit

    let out = Arc::new(Mutex::new(Vec::new()));
    let mut master = std::fs::File::from(pty.master);
    let mut writer = master.try_clone().unwrap();
    let reader = {
        let out = out.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            // EIO once the child has gone and the slave is closed.
            while let Ok(n @ 1..) = master.read(&mut buf) {
                out.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    let text = || String::from_utf8_lossy(&out.lock().unwrap()).into_owned();
    let mut wait_for = |what: &str| {
        let start = Instant::now();
        while !text().contains(what) {
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "hfguard exited ({status}) before showing {what:?}:\n{}",
                    text()
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "never showed {what:?}:\n{}",
                text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // The key bar is the bottom row, the last text of a frame. (Later frames only write the
    // cells that changed, so words of later frames cannot be looked for in the raw output.)
    wait_for("quit");
    writer.write_all(b"q").unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "q did not quit");
        std::thread::sleep(Duration::from_millis(20));
    };
    reader.join().unwrap();
    let all = text();
    assert!(status.success(), "exit {status}:\n{all}");
    assert!(
        !all.contains("\x1b[6n"),
        "the dashboard asked the terminal for the cursor position"
    );
    // It drew the alternate screen and left it.
    assert!(all.contains("\x1b[?1049h") && all.contains("\x1b[?1049l"));
    fx.assert_no_leak(&all);
}

/// Issue 14, problem 2: Esc quit the whole app from the zoomed details, the Tokens view and
/// with a severity filter on. It goes back one level; only `q` quits.
#[test]
fn esc_goes_back_and_leaves_the_dashboard_running() {
    let mut fx = Fixture::new();
    let t = fx.token("esc");
    fx.write(".bash_history", format!("login {t}\n"), 0o600);
    let tmux = dashboard(&fx, "esc", 80, 24);
    tmux.wait_for("scanned");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Esc back");
    tmux.keys(&["Escape"]);
    tmux.keys(&["2"]);
    tmux.wait_for("Tokens: one row per secret");
    tmux.keys(&["Escape"]);
    tmux.keys(&["s", "s", "s"]);
    tmux.wait_for("≥high");
    tmux.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(500));
    let screen = tmux.screen();
    assert!(
        !screen.contains("HFGUARD-EXITED") && screen.contains("Findings 1/"),
        "Esc quit or did not go back:\n{screen}"
    );
    assert!(!screen.contains("≥high"), "{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for("HFGUARD-EXITED-0");
}

/// Issue 14, problem 5: a filter, `a` to mark every finding it shows, `f` and `y` to fix them
/// all in one go; every file on disk is checked, and what the filter hid is untouched.
#[test]
fn marks_every_finding_of_a_filter_and_fixes_them_in_one_go() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (a, b) = (fx.token("mark-a"), fx.token("mark-b"));
    fx.write(
        ".bash_history",
        format!("ls\nhf auth login --token {a}\n"),
        0o644,
    );
    fx.write(".python_history", format!("login('{b}')\n"), 0o644);
    fx.write(".profile", "# profile\n", 0o666);
    let tmux = dashboard(&fx, "marks", 120, 40);
    tmux.wait_for("scanned");
    tmux.keys(&["/", "h", "i", "s", "t", "o", "r", "y", "Enter"]);
    tmux.keys(&["a"]);
    tmux.wait_for("4 marked");
    tmux.keys(&["f"]);
    let preview = tmux.wait_for("Fix 4 findings?");
    fx.assert_no_leak(&preview);
    assert!(preview.contains("Enter/y applies"), "{preview}");
    tmux.keys(&["y"]);
    let done = tmux.wait_for("Fixed 4 findings");
    fx.assert_no_leak(&done);
    assert_eq!(fx.mode(".bash_history"), 0o600);
    assert_eq!(fx.mode(".python_history"), 0o600);
    let bash = String::from_utf8(fx.read(".bash_history")).unwrap();
    let python = String::from_utf8(fx.read(".python_history")).unwrap();
    assert!(!bash.contains(&a) && bash.starts_with("ls\n"), "{bash}");
    assert!(
        !python.contains(&b) && python.starts_with("login('"),
        "{python}"
    );
    assert_eq!(fx.mode(".profile"), 0o666, "the filter did not show it");
    tmux.keys(&["q"]);
    tmux.wait_for("HFGUARD-EXITED-0");
}

/// The bash completion generated from the command-line definition, loaded in a real bash
/// in a real terminal: `hfguard sc<TAB>` becomes `hfguard scan`.
#[test]
fn bash_completes_subcommands_in_a_real_terminal() {
    let bin_dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_hfguard"),
        bin_dir.path().join("hfguard"),
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = format!(
        "env -i PATH='{path}' HOME='{}' TERM=xterm-256color PS1='prompt$ ' bash --norc --noprofile -i",
        home.path().display(),
    );
    let tmux = Tmux::start(
        format!("hfguard-compl-{}", std::process::id()),
        100,
        20,
        &script,
    );
    tmux.wait_for("prompt$");
    tmux.keys(&[
        "source <(hfguard completions bash); echo LOADED-$?",
        "Enter",
    ]);
    tmux.wait_for("LOADED-0");
    tmux.keys(&["hfguard sc", "Tab"]);
    // Typed `sc`; the completion wrote the rest (capture-pane drops the trailing space).
    let screen = tmux.wait_for("prompt$ hfguard scan");
    assert!(
        screen
            .lines()
            .any(|l| l.trim_end() == "prompt$ hfguard scan"),
        "{screen}"
    );
}

/// Types `/` and the last four characters of `token` into the dashboard, then Enter: the
/// Tokens view shows that secret only (other processes of the machine may hold tokens).
fn filter_to(tmux: &Tmux, token: &str) {
    let last4: Vec<String> = token[token.len() - 4..].chars().map(String::from).collect();
    tmux.keys(&["/"]);
    tmux.keys(&last4.iter().map(String::as_str).collect::<Vec<_>>());
    tmux.keys(&["Enter"]);
}

/// Issue 15: `v` on a secret asks once what it may send; without a yes nothing connects
/// anywhere (a tripwire as HF_ENDPOINT counts connections), with it exactly one
/// `GET /api/whoami-v2` goes to HF_ENDPOINT (a stand-in for the Hub on 127.0.0.1), the token
/// only as its bearer, and the list shows what the Hub said.
#[test]
fn v_verifies_a_secret_only_after_the_user_agrees() {
    let mut fx = Fixture::new();
    let t = fx.token("pty-verify");
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &t, 0o600);

    let wire = Tripwire::start();
    fx.set_env("HF_ENDPOINT", wire.endpoint());
    let tmux = dashboard(&fx, "verify-no", 120, 40);
    tmux.wait_for("scanned");
    tmux.keys(&["2"]);
    filter_to(&tmux, &t);
    tmux.wait_for(&redacted(&t));
    tmux.keys(&["v"]);
    let ask = tmux.wait_for("Verify with its provider?");
    assert!(
        ask.contains(&format!("GET {}/api/whoami-v2", wire.endpoint())),
        "{ask}"
    );
    fx.assert_no_leak(&ask);
    tmux.keys(&["n"]);
    tmux.wait_for("Nothing sent.");
    tmux.keys(&["v"]);
    tmux.wait_for("Verify with its provider?");
    tmux.keys(&["Escape"]);
    // R on a secret no slot holds sends nothing either.
    tmux.keys(&["R"]);
    tmux.wait_for("in no keyring slot yet");
    tmux.keys(&["q"]);
    tmux.wait_for("HFGUARD-EXITED-0");
    assert_eq!(wire.connections(), 0, "a connection without consent");
    drop(tmux);

    let hub = FakeHub::start(std::collections::BTreeMap::from([(
        t.clone(),
        whoami_write("alice"),
    )]));
    fx.set_env("HF_ENDPOINT", hub.endpoint());
    let tmux = dashboard(&fx, "verify-yes", 120, 40);
    tmux.wait_for("scanned");
    tmux.keys(&["2"]);
    filter_to(&tmux, &t);
    tmux.wait_for(&redacted(&t));
    tmux.keys(&["v"]);
    tmux.wait_for("Verify with its provider?");
    assert!(hub.requests().is_empty(), "sent before the answer");
    tmux.keys(&["y"]);
    let screen = tmux.wait_for("live/write");
    fx.assert_no_leak(&screen);
    let screen = tmux.wait_for("Verified: live · alice (user)");
    fx.assert_no_leak(&screen);
    let requests = hub.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("GET", "/api/whoami-v2")
    );
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some(format!("Bearer {t}").as_str())
    );
    // Asked once per session: the next `v` sends at once.
    tmux.keys(&["v"]);
    let start = Instant::now();
    while hub.requests().len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the second v was not sent:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!tmux.screen().contains("Verify with its provider?"));
    tmux.keys(&["q"]);
    tmux.wait_for("HFGUARD-EXITED-0");
}

/// Issue 15: a home whose token file and `.bashrc` token were fixed into the `huggingface`
/// slot, rotated from the dashboard against the real Secret Service: R, the new token pasted
/// into the masked input, Enter, the preview, y. The slot holds the new token (`token get`),
/// a new bash gets it, the old one waits to be revoked until R says it is, and no capture of
/// the terminal ever holds either token.
#[test]
fn r_rotates_a_slot_from_the_dashboard_against_the_real_keyring() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (old, new) = (fx.token("pty-rotate-old"), fx.token("pty-rotate-new"));
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &old, 0o600);
    fx.write(".bashrc", format!("export HF_TOKEN={old}\n"), 0o644);
    fix(&fx, &["--all"]);
    assert!(new_bash_has_token(&fx, ".bashrc", &old));

    let tmux = dashboard(&fx, "rotate", 120, 40);
    tmux.wait_for("scanned");
    tmux.keys(&["2"]);
    filter_to(&tmux, &old);
    let row = tmux.wait_for("keyring only");
    assert!(row.contains(&redacted(&old)), "{row}");
    tmux.keys(&["R"]);
    let ask = tmux.wait_for("Rotate `huggingface`");
    assert!(
        ask.contains("Create a new token at https://huggingface.co/settings/tokens"),
        "{ask}"
    );
    // Pasted (tmux types it), shown only as bullets.
    tmux.cmd(&["send-keys", "-t", "t", "-l", &new]);
    let typed = tmux.wait_for(&"•".repeat(new.len()));
    fx.assert_no_leak(&typed);
    tmux.keys(&["Enter"]);
    let preview = tmux.wait_for("Enter/y applies");
    assert!(
        preview.contains(&format!("{} → {}", redacted(&old), redacted(&new))),
        "{preview}"
    );
    fx.assert_no_leak(&preview);
    tmux.keys(&["y"]);
    let done = tmux.wait_for("now holds");
    fx.assert_no_leak(&done);

    let get = fx.command(&["token", "get"]).output().unwrap();
    assert!(get.status.success());
    assert!(
        String::from_utf8_lossy(&get.stdout).trim_end() == new,
        "the slot does not hold the new token"
    );
    assert!(
        new_bash_has_token(&fx, ".bashrc", &new),
        "a new bash lacks the new token"
    );

    // The old token waits to be revoked; R asks, y says it is: the rotation is done.
    tmux.keys(&["Escape"]);
    filter_to(&tmux, &old);
    let row = tmux.wait_for("no place");
    assert!(row.contains("revoke"), "{row}");
    tmux.keys(&["R"]);
    tmux.wait_for("Did you revoke");
    tmux.keys(&["y"]);
    let end = tmux.wait_for("Rotation done");
    fx.assert_no_leak(&end);
    tmux.wait_for("rotated");
    tmux.keys(&["q"]);
    let end = tmux.wait_for("HFGUARD-EXITED-0");
    fx.assert_no_leak(&end);
    let list = fx.run(&["token", "list"]).stdout;
    assert!(
        list.contains(&format!("replaced {}", redacted(&old))) && list.contains(": revoked "),
        "{list}"
    );
}
