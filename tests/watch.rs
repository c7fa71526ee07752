//! `hfguard watch` with real file system events (inotify) on fixture homes. Bounds are
//! generous: latency is measured by the benchmark, not asserted here.

mod common;
use common::*;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

struct Watching {
    child: Child,
    events: Receiver<Value>,
    /// What it said on standard error.
    said: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(fx: &Fixture, extra: &[&str]) -> Watching {
    let mut args = vec!["watch", "--format", "jsonl"];
    args.extend_from_slice(extra);
    let mut cmd = fx.command(&args);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let (tx, events) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let secrets = fx.secrets.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            assert!(
                !secrets.iter().any(|s| line.contains(s.as_str())),
                "a secret leaked into watch output"
            );
            let v: Value = serde_json::from_str(&line).expect("jsonl");
            if tx.send(v).is_err() {
                break;
            }
        }
    });
    // Ready when it says so on stderr.
    let stderr = child.stderr.take().unwrap();
    let (rtx, rrx) = mpsc::channel();
    let said = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let said2 = said.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("watching") {
                let _ = rtx.send(());
            }
            said2.lock().unwrap().push(line);
        }
    });
    rrx.recv_timeout(Duration::from_secs(20))
        .expect("watch never said it was ready");
    Watching {
        child,
        events,
        said,
    }
}

impl Watching {
    /// The next event whose finding has `rule`, within a generous bound.
    fn expect(&self, event: &str, rule: &str) -> Value {
        let start = Instant::now();
        let mut seen = Vec::new();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(v) = self.events.recv_timeout(Duration::from_millis(200)) {
                if v["event"] == event && v["finding"]["rule"] == rule {
                    assert!(v["at"].as_str().unwrap().ends_with('Z'));
                    return v;
                }
                seen.push(v);
            }
        }
        panic!("no {event} of {rule}; saw {seen:#?}");
    }

    /// Bytes the watcher has read so far (`rchar` of /proc/PID/io: every read call, from
    /// the page cache or not).
    fn bytes_read(&self) -> u64 {
        let io = std::fs::read_to_string(format!("/proc/{}/io", self.child.id())).unwrap();
        io.lines()
            .find_map(|l| l.strip_prefix("rchar: "))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// Waits (a generous bound) until a line of standard error contains `what`.
    fn says(&self, what: &str) -> String {
        let start = Instant::now();
        loop {
            if let Some(l) = self.said.lock().unwrap().iter().find(|l| l.contains(what)) {
                return l.clone();
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "never said {what:?}: {:?}",
                self.said.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every event within `d`.
    fn drain(&self, d: Duration) -> Vec<Value> {
        let start = Instant::now();
        let mut out = Vec::new();
        while start.elapsed() < d {
            if let Ok(v) = self.events.recv_timeout(Duration::from_millis(100)) {
                out.push(v);
            }
        }
        out
    }
}

#[test]
fn token_file_recreated_world_readable() {
    let mut fx = Fixture::new();
    let t = fx.token("recreate");
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &t, 0o600);
    let w = start(&fx, &[]);
    std::fs::remove_file(fx.path(".cache/huggingface/token")).unwrap();
    w.expect("resolved", "hf-token-in-token-file");
    fx.write(".cache/huggingface/token", &t, 0o644);
    let ev = w.expect("regression", "token-file-permissions");
    assert_eq!(ev["finding"]["mode"], "0644");
    w.expect("regression", "hf-token-in-token-file");
}

#[test]
fn chmod_back_to_644_is_a_regression() {
    let mut fx = Fixture::new();
    let t = fx.token("chmod-back");
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &t, 0o600);
    let w = start(&fx, &[]);
    fx.chmod(".cache/huggingface/token", 0o644);
    w.expect("regression", "token-file-permissions");
}

#[test]
fn token_appended_to_bash_history_and_atomic_save_of_bashrc() {
    let mut fx = Fixture::new();
    let t = fx.token("appended");
    fx.write(".bash_history", "ls\n", 0o600);
    fx.write(".bashrc", "alias ll='ls -l'\n", 0o644);
    let w = start(&fx, &[]);
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(fx.path(".bash_history"))
        .unwrap()
        .write_all(format!("hf auth login --token {t}\n").as_bytes())
        .unwrap();
    let ev = w.expect("regression", "hf-token-in-shell-history");
    assert_eq!(ev["finding"]["line"], 2);
    // An editor saves by writing a temporary file and renaming it over the original.
    fx.write(
        ".bashrc.swp-tmp",
        format!("alias ll='ls -l'\nexport HF_TOKEN={t}\n"),
        0o644,
    );
    std::fs::rename(fx.path(".bashrc.swp-tmp"), fx.path(".bashrc")).unwrap();
    let ev = w.expect("regression", "hf-token-in-startup-file");
    assert_eq!(ev["finding"]["variable"], "HF_TOKEN");
}

#[test]
fn first_login_creating_the_hf_folder_is_caught() {
    let mut fx = Fixture::new();
    let t = fx.token("first-login");
    let w = start(&fx, &[]);
    fx.mkdir(".cache", 0o755);
    std::thread::sleep(Duration::from_millis(400));
    fx.mkdir(".cache/huggingface", 0o755);
    std::thread::sleep(Duration::from_millis(400));
    fx.write(".cache/huggingface/token", &t, 0o644);
    w.expect("regression", "hf-token-in-token-file");
}

#[test]
fn auto_fix_chmod_repairs_and_is_not_reported_again() {
    let mut fx = Fixture::new();
    let t = fx.token("auto");
    fx.mkdir(".cache/huggingface", 0o700);
    let w = start(&fx, &["--auto-fix", "chmod"]);
    fx.write(".cache/huggingface/token", &t, 0o644);
    let reg = w.expect("regression", "token-file-permissions");
    let res = w.expect("resolved", "token-file-permissions");
    assert_eq!(res["finding"]["id"], reg["finding"]["id"]);
    assert!(res["fixed_by"].as_str().unwrap().starts_with("fix-"));
    assert_eq!(fx.mode(".cache/huggingface/token"), 0o600);
    // The watcher's own chmod produces events; none of them is a regression.
    let later = w.drain(Duration::from_secs(2));
    assert!(
        later.iter().all(|e| e["event"] != "regression"),
        "{later:#?}"
    );
    // The fix is journaled like any other.
    let run = fx.run(&["history"]);
    assert!(run.stdout.contains("chmod 0644 → 0600"), "{}", run.stdout);
}

#[test]
fn project_roots_are_watched_recursively() {
    let mut fx = Fixture::new();
    let t = fx.token("project");
    let root = fx.mkdir("work/proj", 0o755);
    let w = start(&fx, &["--path", root.to_str().unwrap()]);
    fx.mkdir("work/proj/nb", 0o755);
    std::thread::sleep(Duration::from_millis(300));
    fx.write(
        "work/proj/nb/train.ipynb",
        format!("{{\"cells\": [{{\"source\": [\"login('{t}')\"]}}]}}"),
        0o644,
    );
    w.expect("regression", "hf-token-in-notebook");
}

#[test]
fn service_file_is_installed_and_removed() {
    let fx = Fixture::new();
    let run = fx.run(&["watch", "--install-service"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let unit = fx.path(".config/systemd/user/hfguard-watch.service");
    let text = std::fs::read_to_string(&unit).unwrap();
    assert!(
        text.contains("watch --notify") && text.contains("[Install]"),
        "{text}"
    );
    assert!(run.stdout.contains("systemctl --user"), "{}", run.stdout);
    assert_eq!(fx.run(&["watch", "--uninstall-service"]).code, 0);
    assert!(!unit.exists());
}

#[test]
fn notify_without_a_notification_service_neither_crashes_nor_hangs() {
    let mut fx = Fixture::new();
    let t = fx.token("notify");
    // A PATH without notify-send.
    fx.set_env("PATH", "/nonexistent-bin");
    let w = start(&fx, &["--notify"]);
    fx.write(".bash_history", format!("login {t}\n"), 0o600);
    w.expect("regression", "hf-token-in-shell-history");
    fx.write(".zsh_history", format!(": 1:0;login {t}\n"), 0o600);
    w.expect("regression", "hf-token-in-shell-history");
}

fn append(fx: &Fixture, rel: &str, text: &str) {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(fx.path(rel))
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
}

/// Issue 13 item 14: the watcher listened to open events, so each of its own reads woke it
/// for the next look, forever. Reads (its own, or another program's `cat`) must not wake it:
/// idle, it reads nothing at all.
#[test]
fn reading_watched_files_wakes_nothing() {
    let mut fx = Fixture::new();
    let t = fx.token("idle");
    fx.write(
        ".bash_history",
        format!("ls\nhf auth login --token {t}\n"),
        0o600,
    );
    fx.write(".bashrc", "alias ll='ls -l'\n", 0o644);
    fx.write("work/app/.env", "DEBUG=1\n", 0o600);
    let w = start(&fx, &[]);
    std::thread::sleep(Duration::from_millis(500));
    let before = w.bytes_read();
    for _ in 0..5 {
        for rel in [".bash_history", ".bashrc", "work/app/.env"] {
            std::fs::read(fx.path(rel)).unwrap();
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(
        w.bytes_read() - before,
        0,
        "the watcher read files nobody changed"
    );
    assert!(w.drain(Duration::from_millis(300)).is_empty());
}

/// Only what changed is read: a line appended to a large history costs the line (and a
/// small check of what precedes it), not the history; a change to another file does not
/// read the history at all. The appended finding has the line and id a full scan gives.
#[test]
fn an_append_to_a_large_history_reads_only_the_appended_line() {
    let mut fx = Fixture::new();
    let (a, b) = (fx.token("big-a"), fx.token("big-b"));
    let mut history = String::new();
    for i in 0..200_000 {
        history.push_str(&format!("echo line {i} of a long history\n"));
    }
    history.push_str(&format!("hf auth login --token {a}\n"));
    let size = history.len() as u64;
    fx.write(".bash_history", &history, 0o600);
    fx.write(".bashrc", "alias ll='ls -l'\n", 0o644);
    let w = start(&fx, &[]);
    let before = w.bytes_read();
    // The same token again (its second occurrence: another id), then a new one.
    append(
        &fx,
        ".bash_history",
        &format!("git push\nexport HF_TOKEN={a}\n"),
    );
    let ev = w.expect("regression", "hf-token-in-shell-history");
    append(&fx, ".bash_history", &format!("hf upload x --token {b}\n"));
    let ev2 = w.expect("regression", "hf-token-in-shell-history");
    let read = w.bytes_read() - before;
    assert!(
        read < 64 * 1024,
        "{read} bytes read for two appended lines to a {size}-byte history"
    );
    // What a full audit says about the same lines.
    let report = fx.scan(&["--quick"]);
    let full: Vec<&Value> = with_rule(&report, "hf-token-in-shell-history");
    for e in [&ev, &ev2] {
        let same = full
            .iter()
            .find(|f| f["id"] == e["finding"]["id"])
            .unwrap_or_else(|| panic!("{:#} is not in the full audit {full:#?}", e["finding"]));
        assert_eq!(same["line"], e["finding"]["line"]);
    }
    assert_eq!(ev["finding"]["line"], 200_003);
    assert_eq!(ev2["finding"]["line"], 200_004);
    // Another file changes: the history is not read again.
    let before = w.bytes_read();
    fx.write(".bashrc", format!("export HF_TOKEN={b}\n"), 0o644);
    w.expect("regression", "hf-token-in-startup-file");
    let read = w.bytes_read() - before;
    assert!(
        read < 64 * 1024,
        "{read} bytes read for a change to .bashrc"
    );
}

/// A history that is truncated or replaced (rotated, rewritten by the shell) is read whole
/// again: what it holds now is reported, with its lines as they are now.
#[test]
fn a_truncated_or_rotated_history_is_read_whole_again() {
    let mut fx = Fixture::new();
    let (a, b, c) = (fx.token("rot-a"), fx.token("rot-b"), fx.token("rot-c"));
    let mut long = String::new();
    for i in 0..1000 {
        long.push_str(&format!("echo {i}\n"));
    }
    fx.write(".bash_history", format!("{long}login {a}\n"), 0o600);
    let w = start(&fx, &[]);
    // Truncated in place (same inode), shorter, another token on line 2.
    std::fs::write(fx.path(".bash_history"), format!("ls\nlogin {b}\n")).unwrap();
    let ev = w.expect("regression", "hf-token-in-shell-history");
    assert_eq!(ev["finding"]["line"], 2);
    w.expect("resolved", "hf-token-in-shell-history");
    // Rotated: moved away, a new file in its place.
    std::fs::rename(fx.path(".bash_history"), fx.path(".bash_history.1")).unwrap();
    fx.write(".bash_history", format!("pwd\npwd\nlogin {c}\n"), 0o600);
    let ev = w.expect("regression", "hf-token-in-shell-history");
    assert_eq!(ev["finding"]["line"], 3);
}

/// Issue 14 item 7: an undo by hfguard (here another hfguard process) puts a finding back;
/// the watcher says it was an undo, not a regression. A fix by another hfguard process is
/// a resolution by that fix.
#[test]
fn hfguards_own_fix_and_undo_are_reported_as_such() {
    let fx = Fixture::new();
    fx.write(".profile", "# profile\n", 0o666);
    let w = start(&fx, &[]);
    let fix = fx.run(&["fix", "--all", "--only", "chmod", "--yes"]);
    assert_eq!(fix.code, 0, "{}{}", fix.stdout, fix.stderr);
    let resolved = w.expect("resolved", "startup-file-writable");
    let fix_id = resolved["fixed_by"].as_str().expect("fixed_by").to_string();
    assert!(fix_id.starts_with("fix-"), "{resolved:#}");
    let undo = fx.run(&["undo", "--last"]);
    assert_eq!(undo.code, 0, "{}{}", undo.stdout, undo.stderr);
    assert_eq!(fx.mode(".profile"), 0o666);
    let ev = w.expect("undone", "startup-file-writable");
    assert_eq!(ev["fix_id"], fix_id.as_str());
    assert_eq!(ev["detail"], "~/.profile back to 0666");
    let later = w.drain(Duration::from_secs(1));
    assert!(
        later.iter().all(|e| e["event"] != "regression"),
        "an undo reported as a regression: {later:#?}"
    );
    // A real regression afterwards is still one.
    fx.chmod(".profile", 0o600);
    w.expect("resolved", "startup-file-writable");
    fx.chmod(".profile", 0o666);
    w.expect("regression", "startup-file-writable");
}

/// Issue 14 item 7: project folders under the home are watched without being configured;
/// a token written into a new project's `.env` shows up, and the watcher says which folders
/// it watches that way.
#[test]
fn project_folders_of_the_home_are_watched_by_default() {
    let mut fx = Fixture::new();
    let t = fx.token("home-project");
    fx.mkdir("work", 0o755);
    let w = start(&fx, &[]);
    w.says("project folders watched with everything under them: ~/work");
    fx.mkdir("work/llm/config", 0o755);
    std::thread::sleep(Duration::from_millis(300));
    fx.write("work/llm/config/.env", format!("HF_TOKEN={t}\n"), 0o644);
    let ev = w.expect("regression", "hf-token-in-env-file");
    assert!(ev["finding"]["path"]
        .as_str()
        .unwrap()
        .ends_with("work/llm/config/.env"));
}

/// Past the watch budget, folders are polled, the watcher says so, and changes in them are
/// still reported.
#[test]
fn folders_past_the_watch_budget_are_polled_and_named() {
    let mut fx = Fixture::new();
    let t = fx.token("polled");
    fx.mkdir("work/deep/er", 0o755);
    fx.set_env("HFGUARD_WATCH_BUDGET", "1");
    let w = start(&fx, &[]);
    w.says("polling every 2 s instead");
    fx.write("work/deep/er/notes.py", format!("TOKEN = '{t}'\n"), 0o644);
    w.expect("regression", "hf-token-in-project-file");
}
