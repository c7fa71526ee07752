//! Fixture homes for the integration tests: a temp folder with planted credentials, and a
//! runner that calls the real `hfguard` binary on it with a clean environment. Every run
//! checks that no planted secret appears in full in stdout or stderr.
#![allow(dead_code)]

mod fixing;
#[allow(unused_imports)]
pub use fixing::*;

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use tempfile::TempDir;

/// A high-entropy alphanumeric string of `len` characters, different for each `seed`.
pub fn random_alnum(seed: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::new();
    let mut counter = 0u32;
    while out.len() < len {
        let digest = Sha256::digest(format!("{seed}/{counter}").as_bytes());
        for b in digest {
            if out.len() < len && (b as usize) < 248 {
                out.push(ALPHABET[b as usize % 62] as char);
            }
        }
        counter += 1;
    }
    out
}

/// A realistic (random, never valid) Hugging Face token.
pub fn hf_token(seed: &str) -> String {
    format!("hf_{}", random_alnum(seed, 34))
}

pub struct Fixture {
    pub dir: TempDir,
    /// Every secret planted, to check that none leaks.
    pub secrets: Vec<String>,
    pub env: BTreeMap<String, String>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("hfguard-home")
            .tempdir()
            .unwrap();
        // The temp folder itself is 0700; a home is usually 0755 or 0750.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o750)).unwrap();
        Fixture {
            dir,
            secrets: Vec::new(),
            env: BTreeMap::new(),
        }
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.home().join(rel)
    }

    /// A new token (remembered for the leak check).
    pub fn token(&mut self, seed: &str) -> String {
        let t = hf_token(seed);
        self.secrets.push(t.clone());
        t
    }

    /// Remembers a secret of another shape for the leak check.
    pub fn secret(&mut self, s: impl Into<String>) -> String {
        let s = s.into();
        self.secrets.push(s.clone());
        s
    }

    /// Writes `rel` (creating folders 0755) with `mode`.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>, mode: u32) -> PathBuf {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, content).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    pub fn chmod(&self, rel: &str, mode: u32) {
        std::fs::set_permissions(self.path(rel), std::fs::Permissions::from_mode(mode)).unwrap();
    }

    pub fn mkdir(&self, rel: &str, mode: u32) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    /// Sets an environment variable for the runs.
    pub fn set_env(&mut self, k: &str, v: impl Into<String>) {
        self.env.insert(k.to_string(), v.into());
    }

    /// Lets runs reach the real Secret Service of the test session, under a keyring service
    /// name of this fixture's own (tests run in parallel). Fails, never skips, without one.
    pub fn with_keyring(&mut self) {
        let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap_or_else(|_| {
            panic!("no D-Bus session: run the tests through ./scripts/test, which starts gnome-keyring")
        });
        self.set_env("DBUS_SESSION_BUS_ADDRESS", bus);
        let name = self
            .home()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        self.set_env("HFGUARD_KEYRING_SERVICE", format!("hfguard-test-{name}"));
        self.install_link();
        let installed = self.installed().to_string_lossy().into_owned();
        self.set_env("HFGUARD_BIN", installed);
    }

    /// Links `~/.local/bin/hfguard` to the binary under test, as `hfguard install` would copy
    /// it: the lookups a fix writes name that stable path (never the build folder), and a
    /// link saves copying a large debug build into every fixture.
    pub fn install_link(&self) {
        let bin = self.path(".local/bin");
        std::fs::create_dir_all(&bin).unwrap();
        let link = bin.join("hfguard");
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_hfguard"), &link).unwrap();
        }
    }

    /// The path lookups name.
    pub fn installed(&self) -> PathBuf {
        self.path(".local/bin/hfguard")
    }

    /// Bytes of a file of the fixture.
    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap()
    }

    pub fn mode(&self, rel: &str) -> u32 {
        std::fs::symlink_metadata(self.path(rel))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    }

    /// `hfguard ARGS --home HOME` with only PATH, HOME and the fixture's variables set.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .envs(&self.env)
            .args(args)
            .arg("--home")
            .arg(self.home())
            .stdin(std::process::Stdio::null());
        cmd
    }

    /// Runs hfguard to completion (killed after 60 s: a hang is a failure) and checks the
    /// output for leaked secrets.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_input(args, None)
    }

    /// [`Fixture::run`] with `input` written to hfguard's standard input (a token pasted
    /// into `token set` or `rotate --stdin`), then closed.
    pub fn run_with_input(&self, args: &[&str], input: Option<&str>) -> Run {
        let mut cmd = self.command(args);
        let out = run_child(&mut cmd, Duration::from_secs(60), input);
        self.assert_no_leak(&out.stdout);
        self.assert_no_leak(&out.stderr);
        out
    }

    /// `scan --format json` (processes left out: other tests' processes are not ours).
    pub fn scan(&self, extra: &[&str]) -> Value {
        let mut args = vec!["scan", "--format", "json", "--skip", "processes"];
        args.extend_from_slice(extra);
        let run = self.run(&args);
        assert!(
            run.code == 0 || run.code == 1,
            "exit {}: {}",
            run.code,
            run.stderr
        );
        run.json()
    }

    pub fn assert_no_leak(&self, text: &str) {
        for s in &self.secrets {
            assert!(
                !text.contains(s.as_str()),
                "a full secret leaked into the output:\n{text}"
            );
            // The part after the prefix is the secret too.
            if s.len() > 12 {
                assert!(
                    !text.contains(&s[3..]),
                    "a secret's body leaked into the output"
                );
            }
        }
    }
}

/// The `hfguard` the tests run: this build, or `$HFGUARD_TEST_BIN` (an older build, to see a
/// new test fail on the code before the change).
pub fn bin() -> PathBuf {
    std::env::var_os("HFGUARD_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_hfguard")))
}

pub fn run_with_timeout(cmd: &mut Command, limit: Duration) -> Run {
    run_child(cmd, limit, None)
}

/// [`run_with_timeout`], with `input` on the child's standard input when given.
fn run_child(cmd: &mut Command, limit: Duration, input: Option<&str>) -> Run {
    use std::io::{Read, Write};
    if input.is_some() {
        cmd.stdin(std::process::Stdio::piped());
    }
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("hfguard runs");
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(text.as_bytes()).expect("stdin is written");
    }
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("hfguard did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(out_t.join().unwrap()).expect("stdout is UTF-8"),
        stderr: String::from_utf8(err_t.join().unwrap()).expect("stderr is UTF-8"),
    }
}

/// The findings of a JSON report.
pub fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings array")
}

/// Findings whose rule is `rule`.
pub fn with_rule<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    findings(report)
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// The single finding of `rule` at `path` (absolute), failing with the report otherwise.
pub fn one<'a>(report: &'a Value, rule: &str, path: &Path) -> &'a Value {
    let hits: Vec<&Value> = findings(report)
        .iter()
        .filter(|f| f["rule"] == rule && f["path"] == path.to_str().unwrap())
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "expected one {rule} at {}, report:\n{report:#}",
        path.display()
    );
    hits[0]
}

/// Rules found at `path`.
pub fn rules_at(report: &Value, path: &Path) -> Vec<String> {
    findings(report)
        .iter()
        .filter(|f| f["path"] == path.to_str().unwrap())
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// The redacted form a token should have: prefix, ellipsis, last four.
pub fn redacted(token: &str) -> String {
    format!("hf_…{}", &token[token.len() - 4..])
}

impl Fixture {
    /// Real git in `dir` with the fixture's home and environment (no system or global
    /// configuration but the fixture's), failing the test when git fails.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.org")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.org")
            .envs(&self.env)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("git is installed (./scripts/test installs it)");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// One request a [`FakeHub`] or [`Tripwire`] received.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    /// The request line and headers as received.
    pub head: String,
}

/// The Hub's `whoami-v2` answer for a live write token of `user`'s (display name `laptop`),
/// for [`FakeHub::start`].
#[allow(dead_code)]
pub fn whoami_write(user: &str) -> (u16, String) {
    (
        200,
        serde_json::json!({
            "type": "user", "name": user, "orgs": [],
            "auth": {"type": "access_token",
                     "accessToken": {"displayName": "laptop", "role": "write"}}
        })
        .to_string(),
    )
}

/// A stand-in for the Hugging Face Hub on 127.0.0.1: answers `GET /api/whoami-v2` by the
/// bearer token (`answers`: token → status and body; any other token gets 401) and records
/// every request. No test reaches the internet.
pub struct FakeHub {
    pub addr: std::net::SocketAddr,
    requests: std::sync::Arc<std::sync::Mutex<Vec<Request>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl FakeHub {
    pub fn start(answers: BTreeMap<String, (u16, String)>) -> FakeHub {
        Self::serve(move |req| {
            let token = req
                .authorization
                .as_deref()
                .and_then(|a| a.strip_prefix("Bearer "))
                .unwrap_or_default();
            if req.method != "GET" || req.path != "/api/whoami-v2" {
                return Some((404, "{\"error\":\"not found\"}".to_string()));
            }
            Some(answers.get(token).cloned().unwrap_or((
                401,
                "{\"error\":\"Invalid credentials in Authorization header\"}".to_string(),
            )))
        })
    }

    /// A listener that answers with `answer(request)`, or never answers when it gives `None`.
    pub fn serve(
        answer: impl Fn(&Request) -> Option<(u16, String)> + Send + Sync + 'static,
    ) -> FakeHub {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let answer = std::sync::Arc::new(answer);
        let (reqs, stopping) = (requests.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let (reqs, answer) = (reqs.clone(), answer.clone());
                std::thread::spawn(move || {
                    conn.set_read_timeout(Some(Duration::from_secs(10))).ok();
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut head = String::new();
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        head.push_str(&line);
                    }
                    let first: Vec<&str> = head.lines().next().unwrap_or("").split(' ').collect();
                    let authorization = head.lines().find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("authorization")
                            .then(|| v.trim().to_string())
                    });
                    let req = Request {
                        method: first.first().unwrap_or(&"").to_string(),
                        path: first.get(1).unwrap_or(&"").to_string(),
                        authorization,
                        head,
                    };
                    reqs.lock().unwrap().push(req.clone());
                    match answer(&req) {
                        Some((status, body)) => {
                            let _ = write!(
                                conn,
                                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                                body.len()
                            );
                        }
                        None => std::thread::sleep(Duration::from_secs(30)),
                    }
                });
            }
        });
        FakeHub {
            addr,
            requests,
            stop,
        }
    }

    /// `http://127.0.0.1:PORT`, for `HF_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(self.addr);
    }
}

/// A listener that records every connection made to it: a test that expects no network
/// traffic points the endpoint here and asserts [`Tripwire::connections`] is 0.
pub struct Tripwire {
    pub addr: std::net::SocketAddr,
    count: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Tripwire {
    pub fn start() -> Tripwire {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (c, s) = (count.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                if conn.is_ok() {
                    c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            }
        });
        Tripwire { addr, count, stop }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn connections(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for Tripwire {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(self.addr);
    }
}

/// A tmux server of its own (a real pseudo-terminal) with one session `t`.
pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    /// A new server `socket` running `script` under `sh -c` in a `cols`×`rows` terminal.
    pub fn start(socket: String, cols: u16, rows: u16, script: &str) -> Tmux {
        let tmux = Tmux { socket };
        let (x, y) = (cols.to_string(), rows.to_string());
        let out = tmux.cmd(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &x,
            "-y",
            &y,
            "sh",
            "-c",
            script,
        ]);
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    pub fn cmd(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("tmux is installed (./scripts/test installs it)")
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "t"]).stdout).into_owned()
    }

    /// Waits (a generous bound) until the screen shows `what`.
    pub fn wait_for(&self, what: &str) -> String {
        let start = std::time::Instant::now();
        loop {
            let s = self.screen();
            if s.contains(what) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "screen never showed {what:?}:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.cmd(&["send-keys", "-t", "t", k]);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.cmd(&["kill-server"]);
    }
}
