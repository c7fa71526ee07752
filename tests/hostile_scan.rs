//! Hostile homes, the scanner and output side (issue 13): each test builds a home someone
//! else controls (file names and contents with terminal escapes, archive bombs, FIFOs where
//! hfguard keeps its own files, names that are not UTF-8, a second Unix user whose home root
//! audits) and checks the promise, whatever the implementation: nothing reaches the terminal
//! raw, no full secret is shown even as a name, nothing hangs, a bomb costs little and is
//! named, root writes nothing into the audited home, fingerprints resist a dictionary.
//!
//! Each numbered item of the issue has its test here; docs/security.md points at them.

mod common;
use common::*;
use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// What a terminal would act on: ESC, BEL, C1 controls (raw or UTF-8 encoded), DEL, bidi
/// overrides.
fn acts_on_terminal(s: &str) -> Option<char> {
    s.chars().find(|&c| {
        matches!(c, '\x00'..='\x08' | '\x0b'..='\x1f' | '\x7f'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

fn assert_inert(what: &str, s: &str) {
    if let Some(c) = acts_on_terminal(s) {
        panic!("{what}: {c:?} reached the output raw:\n{s}");
    }
}

/// Runs hfguard on `fx`, expects exit `code`, and checks that nothing it printed acts on a
/// terminal.
fn run_inert(fx: &Fixture, args: &[&str], code: i32) -> Run {
    let run = fx.run(args);
    assert_eq!(run.code, code, "{args:?}: {}", run.stderr);
    assert_inert(&format!("{args:?}"), &run.stdout);
    assert_inert(&format!("{args:?} (stderr)"), &run.stderr);
    run
}

fn mkfifo(p: &Path) {
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    nix::unistd::mkfifo(p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
}

fn name(bytes: &[u8]) -> &OsStr {
    OsStr::from_bytes(bytes)
}

/// OSC 52 writes the clipboard, OSC 0 the title, CSI 2J clears the screen, U+202E turns
/// the rest of the line around.
const EVIL: &str = "\x1b]52;c;aGVsbG8=\x07\x1b]0;pwned\x07\x1b[2J\u{9b}31m\u{202e}";

// ---------------------------------------------------------------------------------------
// Item 4: one output gate.

#[test]
fn item4_escapes_in_names_contents_and_warnings_never_reach_the_terminal() {
    let mut fx = Fixture::new();
    let t = fx.token("escape-name");
    let u = fx.token("escape-content");
    let dir = fx.mkdir("proj", 0o755);
    std::fs::write(
        dir.join(format!("evil{EVIL}.py")),
        format!("TOKEN = '{t}'\n"),
    )
    .unwrap();
    fx.write(
        ".bash_history",
        format!("echo '{EVIL}'\nhf auth login --token {u} # {EVIL}\n"),
        0o600,
    );
    // A warning about a FIFO whose name is an escape sequence (a history named by $HISTFILE).
    mkfifo(&fx.path(&format!("hist{EVIL}")));
    fx.set_env(
        "HISTFILE",
        fx.path(&format!("hist{EVIL}")).to_str().unwrap(),
    );
    for format in ["text", "markdown", "json", "sarif"] {
        let run = fx.run(&[
            "scan",
            "--skip",
            "processes",
            "--verbose",
            "--format",
            format,
        ]);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        assert_inert(format, &run.stdout);
        assert_inert(format, &run.stderr);
        assert!(run.stdout.contains("evil"), "{format}: {}", run.stdout);
        assert!(run.stdout.contains("hist"), "{format}: the FIFO's warning");
    }
    // Escaped, not dropped: a person sees what the name holds.
    let text = fx.run(&["scan", "--skip", "processes"]).stdout;
    assert!(text.contains(r"evil\x1b]52;c;aGVsbG8=\x07"), "{text}");
    assert!(text.contains(r"\u{202e}"), "{text}");
    // The machine formats keep the real name (JSON escapes make it inert).
    let r = fx.scan(&[]);
    let want = dir.join(format!("evil{EVIL}.py"));
    assert!(findings(&r)
        .iter()
        .any(|f| f["path"] == want.to_str().unwrap()));
}

#[test]
fn item4_the_fix_preview_escapes_lines_and_never_prints_a_binary_file() {
    let mut fx = Fixture::new();
    let t = fx.token("preview-env");
    fx.write(
        &format!("proj/.env{}", "\x1b[2J"),
        format!("# {EVIL}\nHF_TOKEN={t} # {EVIL}\nOTHER=1\x1b]0;x\x07\n"),
        0o644,
    );
    // IPython's history: text inside SQLite pages, redacted in place.
    let c = fx.token("preview-sqlite");
    let mut db = b"SQLite format 3\0".to_vec();
    db.extend_from_slice(&[0u8; 84]);
    db.extend_from_slice(format!("\x01\x02login('{c}')\x1b[2J\0\0\x07\x1b]0;x\x07").as_bytes());
    fx.write(".ipython/profile_default/history.sqlite", &db, 0o600);
    let run = run_inert(&fx, &["fix", "--all", "--only", "redact", "--dry-run"], 0);
    assert!(run.stdout.contains(r" # \x1b]52;c;"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("history.sqlite  (binary file: 1 secret replaced in place, layout kept)"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("login("),
        "a binary file's bytes were shown"
    );
}

#[test]
fn item4_history_shows_a_forged_journal_inert() {
    let fx = Fixture::new();
    let dir = fx.mkdir(".local/state/hfguard/journal", 0o700);
    let id = "fix-20260101-000000-000000-abcd";
    let entry = serde_json::json!({
        "id": id, "at": format!("2026{EVIL}"), "state": "applied",
        "home": fx.home(), "findings": [],
        "files": [{"path": fx.path(&format!("x{EVIL}")), "op": "rewrite",
                   "before": null, "after": null, "template": null, "findings": []}],
        "tokens_created": [], "backups": [],
    });
    std::fs::write(dir.join(format!("{id}.json")), entry.to_string()).unwrap();
    let run = run_inert(&fx, &["history"], 0);
    assert!(run.stdout.contains(r"~/x\x1b]52;c;"), "{}", run.stdout);
}

#[test]
fn item4_token_list_shows_names_from_the_index_inert() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let dir = fx.mkdir(".local/state/hfguard", 0o700);
    let index = serde_json::json!([format!("evil{EVIL}")]);
    std::fs::write(dir.join("tokens.json"), index.to_string()).unwrap();
    let run = run_inert(&fx, &["token", "list"], 0);
    assert!(run.stdout.contains(r"evil\x1b]52"), "{}", run.stdout);
}

#[test]
fn item4_watch_events_and_notifications_are_inert_and_masked() {
    let mut fx = Fixture::new();
    // A notify-send that records what it was asked to show.
    let bin = fx.mkdir("bin", 0o755);
    let log = fx.path("notified.txt");
    let script = format!("#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\n", log.display());
    std::fs::write(bin.join("notify-send"), script).unwrap();
    std::fs::set_permissions(
        bin.join("notify-send"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    fx.set_env("PATH", path);
    let proj = fx.mkdir("proj", 0o755);
    let mut cmd = fx.command(&["watch", "--notify", "--path", proj.to_str().unwrap()]);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("watching") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("watch started");
    let t = fx.token("watch-name");
    let file = proj.join(format!("{t}{EVIL}.txt"));
    std::fs::write(&file, format!("HF_TOKEN={t}\n")).unwrap();
    let stdout = child.stdout.take().unwrap();
    let (ltx, lrx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = ltx.send(line);
        }
    });
    let line = lrx
        .recv_timeout(Duration::from_secs(20))
        .expect("a regression line");
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("REGRESSION"), "{line}");
    assert_inert("watch", &line);
    fx.assert_no_leak(&line);
    // The notification went through the same gate.
    for _ in 0..100 {
        if log.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let notified = std::fs::read_to_string(&log).expect("notify-send ran");
    assert_inert("notification", &notified);
    fx.assert_no_leak(&notified);
}

// ---------------------------------------------------------------------------------------
// Item 5: archive budgets.

/// A zip whose `entries` central-directory records (each with a name of its own) all point
/// at one local entry whose deflate stream is `size` bytes of empty stored blocks: it
/// inflates to nothing, so only the compressed bytes read can tell the cost.
pub fn overlapping_zip(entries: u16, size: usize) -> Vec<u8> {
    let mut data = Vec::with_capacity(size + 8);
    while data.len() + 10 < size {
        data.extend_from_slice(&[0x00, 0x00, 0x00, 0xff, 0xff]);
    }
    data.extend_from_slice(&[0x01, 0x00, 0x00, 0xff, 0xff]);
    let mut out = Vec::new();
    let u16le = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let u32le = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    let name = |i: u16| format!("a{i:05}").into_bytes();
    u32le(&mut out, 0x0403_4b50);
    for x in [20u16, 0, 8, 0, 0] {
        u16le(&mut out, x);
    }
    u32le(&mut out, 0); // crc of nothing
    u32le(&mut out, data.len() as u32);
    u32le(&mut out, 0);
    u16le(&mut out, name(0).len() as u16);
    u16le(&mut out, 0);
    out.extend_from_slice(&name(0));
    out.extend_from_slice(&data);
    let cd_start = out.len();
    for i in 0..entries {
        u32le(&mut out, 0x0201_4b50);
        for x in [20u16, 20, 0, 8, 0, 0] {
            u16le(&mut out, x);
        }
        u32le(&mut out, 0);
        u32le(&mut out, data.len() as u32);
        u32le(&mut out, 0);
        for x in [name(i).len() as u16, 0, 0, 0, 0] {
            u16le(&mut out, x);
        }
        u32le(&mut out, 0);
        u32le(&mut out, 0); // every entry at the same local header
        out.extend_from_slice(&name(i));
    }
    let cd_len = out.len() - cd_start;
    u32le(&mut out, 0x0605_4b50);
    for x in [0u16, 0, entries, entries] {
        u16le(&mut out, x);
    }
    u32le(&mut out, cd_len as u32);
    u32le(&mut out, cd_start as u32);
    u16le(&mut out, 0);
    out
}

/// `n` bytes of zeros, gzipped: about a thousandth of their size.
pub fn gzip_bomb(n: usize) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..n >> 20 {
        enc.write_all(&zeros).unwrap();
    }
    enc.finish().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in files {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(body).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn warnings(r: &serde_json::Value) -> Vec<String> {
    r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn item5_a_zip_whose_entries_share_one_stream_is_stopped_and_named() {
    let mut fx = Fixture::new();
    let bomb = fx.write("downloads/bomb.zip", overlapping_zip(2000, 2 << 20), 0o644);
    let t = fx.token("next-to-the-bomb");
    let legit = fx.write(
        "downloads/notes.zip",
        zip_of(&[("n.txt", format!("tok {t}\n").as_bytes())]),
        0o644,
    );
    let r = fx.scan(&[]);
    let w = warnings(&r);
    assert!(
        w.iter()
            .any(|w| w.contains(bomb.to_str().unwrap()) && w.contains("zip bomb")),
        "{w:#?}"
    );
    one(&r, "hf-token-in-archive", &legit);
}

#[test]
fn item5_gzip_bombs_are_stopped_each_named_and_the_scan_budget_holds() {
    let mut fx = Fixture::new();
    let bomb = gzip_bomb(64 << 20);
    let mut paths = Vec::new();
    for i in 0..100 {
        paths.push(fx.write(&format!("logs/bomb-{i:03}.log.gz"), &bomb, 0o644));
    }
    let t = fx.token("gz-legit");
    let legit = fx.write(
        "a/notes.txt.gz",
        gzip(format!("HF_TOKEN={t}\n").as_bytes()),
        0o644,
    );
    let r = fx.scan(&[]);
    let w = warnings(&r);
    for p in &paths {
        assert!(
            w.iter().any(|w| w.contains(p.to_str().unwrap())),
            "{} is not named: {w:#?}",
            p.display()
        );
    }
    assert!(w.iter().any(|w| w.contains("compression bomb")), "{w:#?}");
    one(&r, "hf-token-in-archive", &legit);
}

#[test]
fn item5_archives_nest_to_a_bounded_depth() {
    let mut fx = Fixture::new();
    let t = fx.token("nested");
    // A zip inside a gzip: searched (two levels).
    let inner = zip_of(&[("creds.txt", format!("token: {t}\n").as_bytes())]);
    let two = fx.write("n/two.zip.gz", gzip(&inner), 0o644);
    // Five levels: the budget stops it and says so.
    let mut deep = format!("token: {t}\n").into_bytes();
    for level in 0..5 {
        deep = if level % 2 == 0 {
            gzip(&deep)
        } else {
            zip_of(&[("x", &deep)])
        };
    }
    let five = fx.write("n/five.gz", deep, 0o644);
    let r = fx.scan(&[]);
    one(&r, "hf-token-in-archive", &two);
    assert!(
        warnings(&r)
            .iter()
            .any(|w| w.contains(five.to_str().unwrap()) && w.contains("nested")),
        "{:#?}",
        warnings(&r)
    );
}

#[test]
fn item5_a_zip_with_too_many_entries_is_cut_and_named() {
    let fx = Fixture::new();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..10_050 {
        w.start_file(format!("f{i}"), zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(b"x").unwrap();
    }
    let many = fx.write("many.zip", w.finish().unwrap().into_inner(), 0o644);
    let r = fx.scan(&[]);
    assert!(
        warnings(&r)
            .iter()
            .any(|w| w.contains(many.to_str().unwrap()) && w.contains("entries")),
        "{:#?}",
        warnings(&r)
    );
}

// ---------------------------------------------------------------------------------------
// Item 7: irreversible fingerprints.

/// The unkeyed fingerprint hfguard published before (salted SHA-256): what a dictionary
/// attack computes.
fn unkeyed(value: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"hfguard-fingerprint-v1\0");
    h.update(value.as_bytes());
    hex::encode(&h.finalize()[..16])
}

fn fingerprint_of(r: &serde_json::Value, rule: &str) -> String {
    let f = findings(r)
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule}: {r:#}"));
    f["fingerprint"].as_str().unwrap().to_string()
}

#[test]
fn item7_fingerprints_are_keyed_stable_for_the_user_and_differ_across_users() {
    let mut fx = Fixture::new();
    let pw = fx.secret("Summer2024!");
    fx.write(
        ".git-credentials",
        format!("https://alice:{pw}@git.example.org\n"),
        0o600,
    );
    let r1 = fx.scan(&["--quick"]);
    let fp = fingerprint_of(&r1, "url-credentials-in-git-credentials");
    // A dictionary run with the published scheme finds nothing.
    assert_ne!(fp, unkeyed(&pw));
    assert!(!fp.contains(&unkeyed(&pw)));
    assert!(fp.starts_with("k1-") && fp.len() == 35, "{fp}");
    // Stable across runs for the same home (ids too: ignores keep working).
    let r2 = fx.scan(&["--quick"]);
    assert_eq!(
        fingerprint_of(&r2, "url-credentials-in-git-credentials"),
        fp
    );
    assert_eq!(findings(&r1)[0]["id"], findings(&r2)[0]["id"]);
    // Another user's home: another key, another fingerprint for the same password.
    let mut other = Fixture::new();
    other.secret(pw.clone());
    other.write(
        ".git-credentials",
        format!("https://alice:{pw}@git.example.org\n"),
        0o600,
    );
    let r3 = other.scan(&["--quick"]);
    assert_ne!(
        fingerprint_of(&r3, "url-credentials-in-git-credentials"),
        fp
    );
    // The key is private.
    assert_eq!(fx.mode(".local/state/hfguard/fingerprint.key"), 0o600);
}

#[test]
fn item7_ignores_written_with_the_old_ids_keep_working() {
    let mut fx = Fixture::new();
    let t = fx.token("old-ignore");
    let bashrc = fx.write(".bashrc", format!("export HF_TOKEN={t}\n"), 0o644);
    let rule = "hf-token-in-startup-file";
    // The id hfguard 0.1 gave this finding: SHA-256 of rule, path, unkeyed fingerprint,
    // occurrence.
    let old_id = {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [rule, bashrc.to_str().unwrap(), &unkeyed(&t)] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        h.update(1u32.to_le_bytes());
        format!("hfg-{}", &hex::encode(h.finalize())[..12])
    };
    fx.write(
        ".config/hfguard/config.toml",
        format!("[[ignore]]\nid = \"{old_id}\"\nreason = \"lab box\"\n"),
        0o600,
    );
    let r = fx.scan(&["--quick"]);
    let f = one(&r, rule, &bashrc);
    assert_eq!(f["ignored"], "lab box", "{r:#}");
    assert_ne!(f["id"], old_id.as_str(), "ids are keyed now");
}

/// A Unix user made for one test, removed after it.
struct User {
    name: String,
    uid: u32,
    gid: u32,
}

impl User {
    fn create(tag: &str) -> User {
        let name = format!("hfg{tag}{}", std::process::id() % 1_000_000);
        let st = Command::new("useradd")
            .args(["-M", "-N", "-s", "/usr/sbin/nologin", &name])
            .status()
            .expect("useradd runs (the tests run as root)");
        assert!(st.success(), "useradd {name}");
        let id = |flag: &str| -> u32 {
            let out = Command::new("id").args([flag, &name]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
        };
        User {
            uid: id("-u"),
            gid: id("-g"),
            name,
        }
    }

    fn chown_tree(&self, root: &Path) {
        let st = Command::new("chown")
            .args(["-R", &format!("{}:{}", self.uid, self.gid)])
            .arg(root)
            .status()
            .unwrap();
        assert!(st.success());
    }
}

impl Drop for User {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).status();
    }
}

/// Every path under `root` with its mode, owner, size and modification time.
fn tree(root: &Path) -> Vec<(PathBuf, u32, u32, u64, i64)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let m = std::fs::symlink_metadata(&p).unwrap();
        out.push((
            p.clone(),
            m.mode(),
            m.uid(),
            m.len(),
            m.mtime_nsec() + m.mtime() * 1_000_000_000,
        ));
        if m.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn item7_root_auditing_another_users_home_writes_nothing_there() {
    let alice = User::create("ali");
    let mut fx = Fixture::new();
    let pw = fx.secret("Autumn2023?");
    fx.write(
        ".netrc",
        format!("machine example.org login a password {pw}\n"),
        0o600,
    );
    let t = fx.token("alice-history");
    fx.write(
        ".bash_history",
        format!("hf auth login --token {t}\n"),
        0o600,
    );
    alice.chown_tree(fx.home());
    // Root's own home, elsewhere.
    let root_home = tempfile::tempdir().unwrap();
    let before = tree(fx.home());
    let scan = |fx: &Fixture| {
        let mut cmd = fx.command(&["scan", "--format", "json", "--skip", "processes"]);
        cmd.env("HOME", root_home.path());
        let out = run_with_timeout(&mut cmd, Duration::from_secs(60));
        fx.assert_no_leak(&out.stdout);
        assert!(out.code == 1, "{}", out.stderr);
        serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap()
    };
    let r1 = scan(&fx);
    assert_eq!(tree(fx.home()), before, "root's audit changed alice's home");
    // Root keys with its own key, kept in its own home: stable across its runs.
    assert!(root_home
        .path()
        .join(".local/state/hfguard/fingerprint.key")
        .is_file());
    let r2 = scan(&fx);
    assert_eq!(
        fingerprint_of(&r1, "hf-token-in-shell-history"),
        fingerprint_of(&r2, "hf-token-in-shell-history")
    );
    // Once alice has run hfguard herself, root's audit uses her key: the same fingerprints
    // as hers, so her reports, ignores and root's agree.
    let mut cmd = fx.command(&["scan", "--format", "json", "--skip", "processes"]);
    std::os::unix::process::CommandExt::uid(&mut cmd, alice.uid);
    std::os::unix::process::CommandExt::gid(&mut cmd, alice.gid);
    let hers = run_with_timeout(&mut cmd, Duration::from_secs(60));
    assert_eq!(hers.code, 1, "{}", hers.stderr);
    let hers: serde_json::Value = serde_json::from_str(&hers.stdout).unwrap();
    let key = fx.path(".local/state/hfguard/fingerprint.key");
    assert_eq!(std::fs::metadata(&key).unwrap().uid(), alice.uid);
    let r3 = scan(&fx);
    assert_eq!(
        fingerprint_of(&r3, "hf-token-in-shell-history"),
        fingerprint_of(&hers, "hf-token-in-shell-history")
    );
}

// ---------------------------------------------------------------------------------------
// Item 8: detection boundaries.

#[test]
fn item8_a_token_right_after_a_percent_escape_is_found() {
    let mut fx = Fixture::new();
    let (a, b, c) = (fx.token("pct-a"), fx.token("pct-b"), fx.token("pct-c"));
    let h = fx.write(
        ".bash_history",
        format!(
            "curl 'https://x.org/api?auth=Bearer%20{a}'\ncurl -d token%3D{b} x.org\nwget 'x.org/?q=%22{c}%22'\n"
        ),
        0o600,
    );
    let r = fx.scan(&["--quick"]);
    let mut lines: Vec<u64> = findings(&r)
        .iter()
        .filter(|f| f["path"] == h.to_str().unwrap())
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    lines.sort();
    assert_eq!(lines, [1, 2, 3], "{r:#}");
}

fn utf16(s: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for u in bom.then_some(0xfeffu16).into_iter().chain(s.encode_utf16()) {
        out.extend_from_slice(&if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

#[test]
fn item8_utf16_text_is_decoded_and_searched_with_its_lines() {
    let mut fx = Fixture::new();
    let mut paths = Vec::new();
    for (i, (be, bom)) in [(false, true), (false, false), (true, true), (true, false)]
        .into_iter()
        .enumerate()
    {
        let t = fx.token(&format!("utf16-{i}"));
        let text =
            format!("Windows PowerShell transcript\r\nline two\r\n$env:HF_TOKEN = \"{t}\"\r\n");
        paths.push(fx.write(
            &format!("win/transcript-{i}.txt"),
            utf16(&text, be, bom),
            0o644,
        ));
    }
    let r = fx.scan(&[]);
    for p in &paths {
        let f = one(&r, "hf-token-in-project-file", p);
        assert_eq!(f["line"], 3, "{}", p.display());
        assert_eq!(
            f["fixes"],
            serde_json::json!([]),
            "hfguard does not rewrite UTF-16"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Item 9: names holding a secret are masked everywhere.

#[test]
fn item9_a_token_in_a_file_or_folder_name_is_masked_in_every_output() {
    let mut fx = Fixture::new();
    let in_name = fx.token("name-token");
    let in_folder = fx.token("folder-token");
    let content = fx.token("content-token");
    fx.write(
        &format!("proj/{in_folder}/{in_name}.env"),
        format!("HF_TOKEN={content}\n"),
        0o644,
    );
    // Every run checks that no planted secret (the names' included) appears.
    for format in ["text", "markdown", "json", "sarif"] {
        let run = fx.run(&["scan", "--skip", "processes", "--format", format]);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        // SARIF URIs percent-encode the ellipsis.
        let shown = match format {
            "sarif" => redacted(&in_name).replace('…', "%E2%80%A6"),
            _ => redacted(&in_name),
        };
        assert!(run.stdout.contains(&shown), "{format}: {}", run.stdout);
    }
    let run = fx.run(&["fix", "--all", "--dry-run"]);
    assert!(run.stdout.contains(&redacted(&in_folder)), "{}", run.stdout);
}

#[test]
fn item9_names_are_masked_in_the_dashboard() {
    use hfguard::finding::{Category, Finding, FixKind, Severity};
    use hfguard::tui::app::{Action, App};
    let t = hf_token("tui-name");
    let mut app = App::new(PathBuf::from("/home/alice"), "alice@box".into(), false);
    app.update(Action::ScanStarted);
    app.update(Action::Found(Finding {
        id: "hfg-000000000009".into(),
        rule: "hf-token-in-project-file".into(),
        category: Category::Project,
        severity: Severity::High,
        provider: Some("huggingface".into()),
        path: Some(PathBuf::from(format!("/home/alice/{t}{EVIL}/notes.txt"))),
        line: Some(1),
        variable: None,
        pid: None,
        mode: None,
        secret: Some("hf_…abcd".into()),
        fingerprint: Some("k1-00".into()),
        message: "A token.".into(),
        fixes: vec![FixKind::Redact],
        ignored: None,
        label: None,
        span: None,
    }));
    // The event loop settles the lists once per batch of streamed findings.
    app.settle();
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 30)).unwrap();
    term.draw(|f| hfguard::tui::ui::draw(&app, f)).unwrap();
    let buf = term.backend().buffer().clone();
    let drawn: String = buf.content().iter().map(|c| c.symbol()).collect();
    assert!(
        !drawn.contains(&t[3..]),
        "the name's token was drawn:\n{drawn}"
    );
    assert!(drawn.contains(&redacted(&t)), "{drawn}");
    assert_inert("dashboard", &drawn);
}

// ---------------------------------------------------------------------------------------
// Item 10: FIFOs at hfguard's own paths; children bounded.

#[test]
fn item10_fifos_where_hfguard_keeps_its_files_never_hang_it() {
    let mut fx = Fixture::new();
    let t = fx.token("fifo");
    fx.write(
        ".git-credentials",
        format!("https://u:{t}@huggingface.co\n"),
        0o600,
    );
    mkfifo(&fx.path(".config/hfguard/config.toml"));
    // Every command that reads the configuration says what is wrong, at once.
    for args in [&["scan", "--quick"][..], &["fix", "--all", "--dry-run"]] {
        let run = fx.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("is a FIFO"), "{args:?}: {}", run.stderr);
    }
    // The lookups and the way back do not read it at all.
    for args in [&["history"][..], &["undo"], &["git-credential", "get"]] {
        let run = fx.run(args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    }
    std::fs::remove_file(fx.path(".config/hfguard/config.toml")).unwrap();
    // The token index, a journal entry and git's own configuration as FIFOs.
    mkfifo(&fx.path(".local/state/hfguard/tokens.json"));
    mkfifo(&fx.path(".local/state/hfguard/journal/fix-20260101-000000-000000-abcd.json"));
    mkfifo(&fx.path(".config/git/config"));
    mkfifo(&fx.path(".gitconfig"));
    let run = fx.run(&["fix", "--all", "--dry-run"]);
    assert!(run.code <= 1, "{}", run.stderr);
    for args in [&["history"][..], &["undo", "--all"]] {
        let run = fx.run(args);
        let said = format!("{}{}", run.stdout, run.stderr);
        assert!(
            said.contains("FIFO") || said.contains("not a regular file"),
            "{args:?}: {said}"
        );
    }
    // git's global configuration a regular file, its XDG one a FIFO: `git config` (which
    // hfguard asks for the credential helpers in force, once a keyring answers) would wait
    // on it forever.
    std::fs::remove_file(fx.path(".gitconfig")).unwrap();
    fx.write(".gitconfig", "[user]\n\tname = me\n", 0o644);
    fx.with_keyring();
    let run = fx.run(&["fix", "--all", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("git-credential"), "{}", run.stdout);
}

// ---------------------------------------------------------------------------------------
// Item 11: names that are not UTF-8.

#[test]
fn item11_two_names_that_differ_in_invalid_bytes_are_two_findings() {
    let mut fx = Fixture::new();
    let t = fx.token("latin1");
    let dir = fx.mkdir("proj", 0o755);
    let a = dir.join(name(b"caf\xe9.py"));
    let b = dir.join(name(b"caf\xe8.py"));
    std::fs::write(&a, format!("T = '{t}'\n")).unwrap();
    std::fs::write(&b, format!("T = '{t}'\n")).unwrap();
    let r = fx.scan(&[]);
    let hits: Vec<&serde_json::Value> = findings(&r)
        .iter()
        .filter(|f| f["rule"] == "hf-token-in-project-file")
        .collect();
    assert_eq!(hits.len(), 2, "{r:#}");
    assert_ne!(hits[0]["id"], hits[1]["id"]);
    assert_ne!(hits[0]["path"], hits[1]["path"]);
    let text = fx.run(&["scan", "--skip", "processes"]);
    assert!(
        text.stdout.contains(r"caf\xe9.py") && text.stdout.contains(r"caf\xe8.py"),
        "{}",
        text.stdout
    );
}

// ---------------------------------------------------------------------------------------
// Item 15: a broken configuration, huge files.

#[test]
fn item15_an_invalid_configuration_never_blocks_the_lookups_or_undo() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("invalid-config");
    fx.write(
        ".config/hfguard/config.toml",
        "[scan\nmax_file_size = \"lots\"\n",
        0o600,
    );
    let mut set = fx.command(&["token", "set"]);
    set.stdin(std::process::Stdio::piped());
    let mut child = set
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(t.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    let run = fx.command(&["token", "get"]).output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&run.stdout), t);
    let run = fx.run(&["exec", "--", "sh", "-c", "test -n \"$HF_TOKEN\""]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut cred = fx.command(&["git-credential", "get"]);
    cred.stdin(std::process::Stdio::piped());
    let mut child = cred
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"protocol=https\nhost=huggingface.co\n\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("password="));
    for args in [&["undo"][..], &["history"]] {
        let run = fx.run(args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    }
    // The audit itself says what is wrong.
    let run = fx.run(&["scan"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("invalid configuration"),
        "{}",
        run.stderr
    );
    let _ = fx.run(&["token", "rm"]);
}

/// The largest resident set of any child this test process has waited for.
fn children_max_rss_kib() -> i64 {
    let mut ru: nix::libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct it is given.
    assert_eq!(
        unsafe { nix::libc::getrusage(nix::libc::RUSAGE_CHILDREN, &mut ru) },
        0
    );
    ru.ru_maxrss
}

#[test]
fn item15_huge_files_cost_a_chunk_of_memory_and_max_file_size_has_a_ceiling() {
    let fx = Fixture::new();
    // 6 GiB: above the ceiling, whatever the configuration says; never read.
    let huge = fx.path("data/huge.img");
    std::fs::create_dir_all(huge.parent().unwrap()).unwrap();
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(6 << 30)
        .unwrap();
    // 900 MiB, under the ceiling: read a chunk at a time (it is binary, and skipped once
    // that is known).
    std::fs::File::create(fx.path("data/big.img"))
        .unwrap()
        .set_len(900 << 20)
        .unwrap();
    fx.write(
        ".config/hfguard/config.toml",
        "[scan]\nmax_file_size = 107374182400\n",
        0o600,
    );
    let r = fx.scan(&[]);
    assert!(
        warnings(&r).iter().any(|w| w.contains("max_file_size")),
        "{:#?}",
        warnings(&r)
    );
    let rss = children_max_rss_kib();
    assert!(rss < 300 << 10, "peak RSS {rss} KiB");
}

#[test]
fn item15_a_large_history_is_read_in_chunks_and_every_token_found_once() {
    let mut fx = Fixture::new();
    // 40 MiB of history, tokens right across the borders of 16 MiB chunks.
    let line = "git status && make -j8 test\n";
    let mut text = String::with_capacity(41 << 20);
    let mut want = Vec::new();
    for (i, border) in [16usize << 20, 32 << 20, (40 << 20) - 100]
        .into_iter()
        .enumerate()
    {
        while text.len() + line.len() < border - 30 {
            text.push_str(line);
        }
        let t = fx.token(&format!("border-{i}"));
        text.push_str(&format!("hf auth login --token {t}\n"));
        want.push(text.matches('\n').count() as u64);
    }
    let h = fx.write(".bash_history", &text, 0o600);
    let r = fx.scan(&["--quick"]);
    let mut lines: Vec<u64> = findings(&r)
        .iter()
        .filter(|f| f["path"] == h.to_str().unwrap())
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    lines.sort();
    assert_eq!(lines, want, "{r:#}");
}

// ---------------------------------------------------------------------------------------
// Item 17: the report file.

#[test]
fn item17_scan_output_makes_an_existing_file_private_and_never_follows_a_link() {
    let mut fx = Fixture::new();
    let t = fx.token("output");
    fx.write(".bashrc", format!("export HF_TOKEN={t}\n"), 0o644);
    let out = fx.write("report.json", "old", 0o644);
    let run = fx.run(&[
        "scan",
        "--quick",
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(fx.mode("report.json"), 0o600);
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("hfguard.report/v1"));
    // A symlink at the output path: refused, its target untouched.
    let target = fx.write("target.txt", "keep me", 0o644);
    let link = fx.path("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let run = fx.run(&["scan", "--quick", "--output", link.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("symlink"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    assert_eq!(fx.mode("target.txt"), 0o644);
}
