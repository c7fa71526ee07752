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
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("watching") {
                let _ = rtx.send(());
            }
        }
    });
    rrx.recv_timeout(Duration::from_secs(20))
        .expect("watch never said it was ready");
    Watching { child, events }
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
