//! Issue 13, the fix side: `fix` and `undo` on homes built to mislead them — another user's
//! home fixed by root, forged journal entries, symlinked folders, shared folders outside the
//! home, names that are not UTF-8, a journal that cannot be finished, leftovers of a killed
//! run. Each test builds its hostile home and checks the promise (docs/security.md), not the
//! implementation. Tests that need a second Unix user create one (`useradd`) and remove it;
//! they need root, which CI has.

mod common;
use common::*;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A Unix user made for one test, removed again when dropped.
struct OtherUser {
    name: String,
    uid: u32,
    gid: u32,
}

impl OtherUser {
    fn create() -> OtherUser {
        assert!(
            nix::unistd::geteuid().is_root(),
            "this test acts as root on another user's home: run it as root (CI does)"
        );
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "hfgt{}x{}",
            std::process::id(),
            SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        // Tests run in parallel and useradd locks /etc/passwd: try again while it is busy.
        let mut last = String::new();
        for _ in 0..200 {
            let out = Command::new("useradd")
                .args([
                    "--no-create-home",
                    "--user-group",
                    "--shell",
                    "/usr/sbin/nologin",
                ])
                .arg(&name)
                .output()
                .expect("useradd runs");
            if out.status.success() {
                let user = nix::unistd::User::from_name(&name)
                    .unwrap()
                    .expect("the new user exists");
                return OtherUser {
                    name,
                    uid: user.uid.as_raw(),
                    gid: user.gid.as_raw(),
                };
            }
            last = String::from_utf8_lossy(&out.stderr).into_owned();
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("useradd {name} failed: {last}");
    }

    /// Gives `path` and everything under it to this user (links themselves, not followed).
    fn own(&self, path: &Path) {
        let uid = Some(nix::unistd::Uid::from_raw(self.uid));
        let gid = Some(nix::unistd::Gid::from_raw(self.gid));
        nix::unistd::fchownat(
            nix::fcntl::AT_FDCWD,
            path,
            uid,
            gid,
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .unwrap();
        if std::fs::symlink_metadata(path).unwrap().is_dir() {
            for e in std::fs::read_dir(path).unwrap() {
                self.own(&e.unwrap().path());
            }
        }
    }
}

impl Drop for OtherUser {
    fn drop(&mut self) {
        for _ in 0..200 {
            let ok = Command::new("userdel")
                .arg(&self.name)
                .output()
                .is_ok_and(|o| o.status.success());
            if ok {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn uid_of(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().uid()
}

fn mode_of(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

fn set_mode(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A folder outside every fixture home, with `mode`.
fn outside_dir(mode: u32) -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("hfguard-outside")
        .tempdir()
        .unwrap();
    set_mode(d.path(), mode);
    d
}

/// `rel` holding `body` (mode 0644) in a new folder outside every home.
fn outside_file(rel: &str, body: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = outside_dir(0o755);
    let file = dir.path().join(rel);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, body).unwrap();
    set_mode(&file, 0o644);
    (dir, file)
}

/// The report shows no trace of `token` (not even its redacted form): it was not read.
fn assert_not_read(report: &serde_json::Value, token: &str) {
    assert!(
        !serde_json::to_string(report)
            .unwrap()
            .contains(&redacted(token)),
        "a file behind a link out of the home was read: {report:#}"
    );
}

fn journal_dir(fx: &Fixture) -> PathBuf {
    fx.path(".local/state/hfguard/journal")
}

/// The journal entries of the fixture (file paths).
fn journal_files(fx: &Fixture) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(journal_dir(fx))
        .map(|rd| rd.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// The fix id a `fix` run printed (`Undo with hfguard undo fix-…`).
fn fix_id_in(text: &str) -> String {
    let re = regex::Regex::new(r"fix-\d{8}-\d{6}-\d{6}-[0-9a-f]{4}").unwrap();
    re.find(text)
        .unwrap_or_else(|| panic!("no fix id in: {text}"))
        .as_str()
        .to_string()
}

/// Runs hfguard with `HFGUARD_STOP_AT=point`: when it stops there, `meanwhile` changes the
/// world, then it goes on. Fails when it never reaches the point.
fn run_stopped_at(fx: &Fixture, args: &[&str], point: &str, meanwhile: impl FnOnce()) -> Run {
    let mut cmd = fx.command(args);
    cmd.env("HFGUARD_STOP_AT", point)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let pid = child.id();
    let started = Instant::now();
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|s| s.split_whitespace().next());
        if state == Some("T") {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("hfguard ended ({status}) before reaching `{point}`: {err}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "hfguard never reached `{point}`"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    meanwhile();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGCONT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    fx.assert_no_leak(&run.stdout);
    fx.assert_no_leak(&run.stderr);
    run
}

/// Runs hfguard on a terminal (a pseudo-terminal) so that it asks before applying; at its
/// question, `at_prompt` changes the world, then the answer is yes. Returns the exit code and
/// everything it wrote.
fn run_answering_yes(fx: &Fixture, args: &[&str], at_prompt: impl FnOnce()) -> (i32, String) {
    let pty = nix::pty::openpty(None, None).unwrap();
    let mut cmd = fx.command(args);
    cmd.stdin(Stdio::from(pty.slave.try_clone().unwrap()))
        .stdout(Stdio::from(pty.slave.try_clone().unwrap()))
        .stderr(Stdio::from(pty.slave));
    let mut child = cmd.spawn().unwrap();
    drop(cmd); // the terminal's other end stays only with hfguard
    let mut master = std::fs::File::from(pty.master);
    let mut reader = master.try_clone().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let started = Instant::now();
    while !String::from_utf8_lossy(&seen).contains("[y/N]") {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no question: {}",
            String::from_utf8_lossy(&seen)
        );
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.extend(chunk);
        }
    }
    at_prompt();
    master.write_all(b"y\n").unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "hfguard hangs"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    while let Ok(chunk) = rx.recv_timeout(Duration::from_millis(300)) {
        seen.extend(chunk);
    }
    let text = String::from_utf8_lossy(&seen).into_owned();
    fx.assert_no_leak(&text);
    (status.code().unwrap_or(-1), text)
}

// ── Acting as the owner ──────────────────────────────────────────────────────────────────

/// Root fixing alice's home changes her files as alice: the journal and the state folders
/// it creates belong to her, and undo (by root too) puts the modes back.
#[test]
fn root_fixes_another_users_home_as_that_user() {
    let alice = OtherUser::create();
    let mut fx = Fixture::new();
    let t = fx.token("as-owner");
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &t, 0o644);
    fx.write(".zshrc", "alias l=ls\n", 0o666);
    alice.own(fx.home());
    let run = fx.run(&["fix", "--all", "--only", "chmod", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(fx.mode(".cache/huggingface/token"), 0o600);
    assert_eq!(fx.mode(".zshrc"), 0o644);
    for made in [
        fx.path(".local"),
        fx.path(".local/state"),
        fx.path(".local/state/hfguard"),
        journal_dir(&fx),
    ] {
        assert_eq!(
            uid_of(&made),
            alice.uid,
            "{} belongs to root",
            made.display()
        );
    }
    let entries = journal_files(&fx);
    assert_eq!(entries.len(), 1);
    assert_eq!(
        uid_of(&entries[0]),
        alice.uid,
        "the journal entry belongs to root"
    );
    let run = fx.run(&["undo", "--last"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.mode(".cache/huggingface/token"), 0o644);
    assert_eq!(fx.mode(".zshrc"), 0o666);
    assert_eq!(uid_of(&entries[0]), alice.uid);
}

/// Root auditing alice's home judges ownership against alice: her own credential files are
/// not "owned by someone else", a root-owned one in her home is.
#[test]
fn root_auditing_another_users_home_judges_ownership_against_that_user() {
    let alice = OtherUser::create();
    let mut fx = Fixture::new();
    let (t, u) = (fx.token("hers"), fx.token("roots-in-hers"));
    fx.write(".cache/huggingface/token", &t, 0o600);
    fx.write(
        ".git-credentials",
        format!("https://u:{u}@huggingface.co\n"),
        0o600,
    );
    alice.own(fx.home());
    nix::unistd::chown(
        &fx.path(".git-credentials"),
        Some(nix::unistd::Uid::from_raw(0)),
        None,
    )
    .unwrap();
    let r = fx.scan(&["--quick"]);
    let owner_findings: Vec<&str> = findings(&r)
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().ends_with("-owner"))
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        owner_findings,
        [fx.path(".git-credentials").to_str().unwrap()],
        "{r:#}"
    );
}

/// A file in alice's home that is not hers (root's, put there by someone) is not changed by
/// root's fix of her home: the fix acts as alice.
#[test]
fn root_does_not_change_a_file_in_the_home_that_the_owner_does_not_own() {
    let alice = OtherUser::create();
    let mut fx = Fixture::new();
    let t = fx.token("not-hers");
    fx.write(
        ".git-credentials",
        format!("https://u:{t}@huggingface.co\n"),
        0o644,
    );
    fx.write(".zshrc", "alias l=ls\n", 0o666);
    alice.own(fx.home());
    nix::unistd::chown(
        &fx.path(".git-credentials"),
        Some(nix::unistd::Uid::from_raw(0)),
        Some(nix::unistd::Gid::from_raw(0)),
    )
    .unwrap();
    let run = fx.run(&["fix", "--all", "--only", "chmod", "--yes"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("owned by user id 0, not by the home's owner"),
        "{}",
        run.stderr
    );
    assert_eq!(fx.mode(".git-credentials"), 0o644);
    assert_eq!(fx.mode(".zshrc"), 0o644, "alice's own file is fixed");
}

/// Keyring steps for another user's home are refused before anything changes, with the
/// reason and what to do instead; the dry run says so too.
#[test]
fn keyring_fixes_of_another_users_home_are_refused_with_the_reason() {
    let alice = OtherUser::create();
    let mut fx = Fixture::new();
    let t = fx.token("their-keyring");
    fx.write(".bashrc", format!("export HF_TOKEN={t}\n"), 0o644);
    alice.own(fx.home());
    let before = fx.read(".bashrc");
    for args in [&["--dry-run"][..], &["--yes"][..]] {
        let mut a = vec!["fix", "--all"];
        a.extend_from_slice(args);
        let run = fx.run(&a);
        assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("OS keyring of"), "{}", run.stdout);
        assert!(run.stdout.contains(&alice.name), "{}", run.stdout);
        assert!(run.stdout.contains("--only chmod"), "{}", run.stdout);
        assert!(run.stdout.contains("Nothing to change"), "{}", run.stdout);
    }
    assert_eq!(fx.read(".bashrc"), before);
    assert!(!journal_dir(&fx).exists(), "a journal was written");
}

/// A user who is not root cannot fix someone else's home: refused up front with the reason.
#[test]
fn a_user_cannot_fix_a_home_that_is_not_theirs() {
    let bob = OtherUser::create();
    let mut fx = Fixture::new();
    let t = fx.token("not-bobs");
    fx.write(".cache/huggingface/token", &t, 0o644);
    // Bob can look into the home (and the temp folder holding it) but owns none of it.
    set_mode(fx.home(), 0o755);
    let mut cmd = fx.command(&["fix", "--all", "--only", "chmod", "--yes"]);
    let (uid, gid) = (bob.uid, bob.gid);
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            nix::unistd::setgroups(&[nix::unistd::Gid::from_raw(gid)])?;
            nix::unistd::setgid(nix::unistd::Gid::from_raw(gid))?;
            nix::unistd::setuid(nix::unistd::Uid::from_raw(uid))?;
            Ok(())
        });
    }
    let run = run_with_timeout(&mut cmd, Duration::from_secs(60));
    fx.assert_no_leak(&run.stderr);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("changes a home only as its owner"),
        "{}",
        run.stderr
    );
    assert_eq!(fx.mode(".cache/huggingface/token"), 0o644);
}

/// `watch --auto-fix chmod` run by root on alice's home repairs as alice.
#[test]
fn watch_auto_fix_of_another_users_home_acts_as_that_user() {
    let alice = OtherUser::create();
    let mut fx = Fixture::new();
    let t = fx.token("watch-as-owner");
    fx.mkdir(".cache/huggingface", 0o700);
    alice.own(fx.home());
    let mut cmd = fx.command(&["watch", "--format", "jsonl", "--auto-fix", "chmod"]);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("watching") {
        line.clear();
        assert!(
            std::io::BufRead::read_line(&mut stderr, &mut line).unwrap() > 0,
            "watch ended before it was ready"
        );
    }
    let token = fx.write(".cache/huggingface/token", &t, 0o644);
    alice.own(&token);
    let started = Instant::now();
    while mode_of(&token) != 0o600 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(mode_of(&token), 0o600, "never repaired");
    let entries = journal_files(&fx);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(uid_of(&entries[0]), alice.uid, "root wrote alice's journal");
    assert_eq!(uid_of(&journal_dir(&fx)), alice.uid);
}

// ── The journal is untrusted data (item 1) ───────────────────────────────────────────────

/// A journal entry alice wrote herself, asking root's undo to create a setuid file outside
/// her home and to loosen a root-owned file: refused, reported, nothing created or loosened.
/// A record inside her home never gets a setuid bit back that it does not have now.
#[test]
fn undo_refuses_a_forged_journal_entry() {
    use base64::Engine;
    let alice = OtherUser::create();
    let fx = Fixture::new();
    let outside = outside_dir(0o755);
    let evil = outside.path().join("evil");
    let roots = outside.path().join("roots-secret");
    std::fs::write(&roots, "root only\n").unwrap();
    set_mode(&roots, 0o600);
    let payload = b"#!/bin/sh\nid\n";
    let snap = |mode: u32| {
        serde_json::json!({
            "len": payload.len(), "mode": mode, "uid": 0, "gid": 0,
            "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(payload)),
        })
    };
    let template = serde_json::json!({
        "content": base64::engine::general_purpose::STANDARD.encode(payload),
        "holes": [],
    });
    let id = "fix-20260101-000000-000000-beef";
    let escape = format!(
        "{}-escape",
        fx.home().file_name().unwrap().to_string_lossy()
    );
    let entry = serde_json::json!({
        "id": id, "at": "2026-01-01T00:00:00Z", "state": "applied",
        "home": fx.home(), "findings": [],
        "files": [
            {"path": evil, "op": "remove", "before": snap(0o4755), "after": null,
             "template": template, "findings": []},
            {"path": roots, "op": "chmod", "from": 0o644, "to": 0o600,
             "before": null, "after": null, "template": null, "findings": []},
            {"path": fx.path("bin/tool"), "op": "remove", "before": snap(0o4755),
             "after": null, "template": template, "findings": []},
            {"path": fx.path(&format!("../{escape}")), "op": "remove", "before": snap(0o755),
             "after": null, "template": template, "findings": []},
        ],
        "tokens_created": [], "tokens_used": {}, "backups": [],
    });
    fx.mkdir(".local/state/hfguard/journal", 0o700);
    fx.mkdir("bin", 0o755);
    fx.write(
        &format!(".local/state/hfguard/journal/{id}.json"),
        serde_json::to_vec_pretty(&entry).unwrap(),
        0o600,
    );
    alice.own(fx.home());
    let run = fx.run(&["undo", "--all"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(!evil.exists(), "undo created a file outside the home");
    assert_eq!(mode_of(&roots), 0o600, "undo loosened a root-owned file");
    assert!(
        run.stderr.contains("outside the home"),
        "the refusal is reported: {}",
        run.stderr
    );
    assert!(run.stderr.contains("`..`"), "{}", run.stderr);
    assert!(!fx.home().parent().unwrap().join(&escape).exists());
    // Inside the home the file comes back as alice's, without the setuid bit, and undo says
    // it left the bit out.
    let tool = fx.path("bin/tool");
    assert_eq!(mode_of(&tool), 0o755, "undo made a setuid file");
    assert_eq!(uid_of(&tool), alice.uid);
    assert!(run.stderr.contains("setuid"), "{}", run.stderr);
}

/// Entries others could have written — a group-writable journal folder, a world-writable
/// entry, an entry owned by someone else, an entry that is a symlink — are not acted on:
/// undo refuses each with the reason and `history` shows why.
#[test]
fn journal_entries_others_could_write_are_not_acted_on() {
    /// Spoils a fresh fixture's journal: its folder, or the entry at the path given.
    type Spoil = fn(&Fixture, &Path);
    let setups: [(&str, Spoil); 5] = [
        ("can be written by others", |fx, _| {
            set_mode(&journal_dir(fx), 0o770)
        }),
        ("the folder holding the journal", |fx, _| {
            set_mode(journal_dir(fx).parent().unwrap(), 0o757)
        }),
        ("can be written by others", |_, entry| {
            set_mode(entry, 0o666)
        }),
        ("belongs to uid 4321", |_, entry| {
            nix::unistd::chown(entry, Some(nix::unistd::Uid::from_raw(4321)), None).unwrap()
        }),
        ("is a symlink", |_, entry| {
            let away = entry.with_extension("moved");
            std::fs::rename(entry, &away).unwrap();
            std::os::unix::fs::symlink(&away, entry).unwrap();
        }),
    ];
    for (why, spoil) in setups {
        let mut fx = Fixture::new();
        let t = fx.token("trust");
        fx.write(".cache/huggingface/token", &t, 0o644);
        let run = fx.run(&["fix", "--all", "--only", "chmod", "--yes"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let id = fix_id_in(&run.stdout);
        let entry = journal_files(&fx).pop().unwrap();
        spoil(&fx, &entry);
        let run = fx.run(&["undo", &id]);
        assert_ne!(run.code, 0, "{why}: {}", run.stdout);
        assert!(run.stderr.contains(why), "{why}: {}", run.stderr);
        assert_eq!(
            fx.mode(".cache/huggingface/token"),
            0o600,
            "{why}: undo acted on the entry"
        );
        if why != "is a symlink" {
            let history = fx.run(&["history"]);
            assert!(
                history.stdout.contains("not acted on: ") && history.stdout.contains(why),
                "{why}: {}",
                history.stdout
            );
        }
    }
}

/// A state folder its group may write (made under umask 002, as user-private groups have it)
/// is no reason to distrust the journal: fix and undo work, and it becomes private.
#[test]
fn a_state_folder_made_under_umask_002_still_works() {
    let mut fx = Fixture::new();
    let t = fx.token("umask");
    fx.write(".cache/huggingface/token", &t, 0o644);
    fx.mkdir(".local/state/hfguard/journal", 0o700);
    set_mode(&fx.path(".local/state/hfguard"), 0o775);
    let run = fx.run(&["fix", "--all", "--only", "chmod", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(fx.mode(".local/state/hfguard"), 0o700);
    let run = fx.run(&["undo", "--last"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.mode(".cache/huggingface/token"), 0o644);
}

// ── The state folder (item 2) ────────────────────────────────────────────────────────────

/// hfguard's state folder, or a folder above it, linked to a shared 1777 folder elsewhere:
/// the fix neither creates nor chmods anything there, changes no file, and says so.
#[test]
fn the_state_folder_is_never_reached_through_a_symlink() {
    for link in [
        ".local/state/hfguard/journal",
        ".local/state",
        ".local/state/hfguard",
    ] {
        let mut fx = Fixture::new();
        let t = fx.token("state-link");
        fx.write(".cache/huggingface/token", &t, 0o644);
        let shared = outside_dir(0o1777);
        let at = fx.path(link);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(shared.path(), &at).unwrap();
        let run = fx.run(&["fix", "--all", "--only", "chmod", "--yes"]);
        assert_eq!(run.code, 2, "{link}: {}\n{}", run.stdout, run.stderr);
        assert_eq!(
            mode_of(shared.path()),
            0o1777,
            "{link}: the shared folder was changed"
        );
        assert_eq!(
            std::fs::read_dir(shared.path()).unwrap().count(),
            0,
            "{link}: something was written into the shared folder"
        );
        assert!(run.stderr.contains("symlink"), "{link}: {}", run.stderr);
        assert!(run.stderr.contains("No file was changed"), "{}", run.stderr);
        assert_eq!(fx.mode(".cache/huggingface/token"), 0o644);
    }
}

// ── Shared folders outside the home (item 3) ─────────────────────────────────────────────

/// Credential files the environment places in shared sticky folders: the files are made
/// private, the folders are never touched.
#[test]
fn folders_outside_the_home_are_never_changed() {
    let mut fx = Fixture::new();
    let t = fx.token("shared-folder");
    let shared = outside_dir(0o1777);
    let token = shared.path().join("hf-token");
    std::fs::write(&token, &t).unwrap();
    set_mode(&token, 0o644);
    let netrc_dir = outside_dir(0o1777);
    let netrc = netrc_dir.path().join("netrc");
    let u = fx.token("shared-netrc");
    std::fs::write(
        &netrc,
        format!("machine huggingface.co login me password {u}\n"),
    )
    .unwrap();
    set_mode(&netrc, 0o644);
    // One the home's owner does not own: not changed either.
    let aws = shared.path().join("aws-credentials");
    let k = fx.secret(format!(
        "AKIA{}",
        random_alnum("aws-key", 16).to_uppercase()
    ));
    let s = fx.secret(random_alnum("aws-secret", 40));
    std::fs::write(
        &aws,
        format!("[default]\naws_access_key_id = {k}\naws_secret_access_key = {s}\n"),
    )
    .unwrap();
    set_mode(&aws, 0o644);
    nix::unistd::chown(&aws, Some(nix::unistd::Uid::from_raw(4321)), None).unwrap();
    fx.set_env("HF_TOKEN_PATH", token.to_str().unwrap());
    fx.set_env("NETRC", netrc.to_str().unwrap());
    fx.set_env("AWS_SHARED_CREDENTIALS_FILE", aws.to_str().unwrap());
    let r = fx.scan(&["--quick"]);
    let folder = with_rule(&r, "credential-folder-permissions");
    assert!(!folder.is_empty(), "{r:#}");
    let run = fx.run(&["fix", "--all", "--only", "chmod", "--yes"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("a folder outside the home"),
        "the refusal says why: {}",
        run.stdout
    );
    assert_eq!(mode_of(shared.path()), 0o1777, "a shared folder was locked");
    assert_eq!(
        mode_of(netrc_dir.path()),
        0o1777,
        "a shared folder was locked"
    );
    assert_eq!(mode_of(&token), 0o600);
    assert_eq!(mode_of(&netrc), 0o600);
    assert_eq!(mode_of(&aws), 0o644, "a file of another user was changed");
}

// ── Symlinked folders (item 6) ───────────────────────────────────────────────────────────

/// `~/.cache` linked to a folder elsewhere: the token file there is neither read nor
/// removed; the report says the location is reached through a link out of the home.
#[test]
fn a_cache_linked_out_of_the_home_is_neither_read_nor_changed() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("linked-cache");
    let (elsewhere, token) = outside_file("huggingface/token", t.as_bytes());
    std::os::unix::fs::symlink(elsewhere.path(), fx.path(".cache")).unwrap();
    let r = fx.scan(&["--quick"]);
    assert_not_read(&r, &t);
    let f = one(
        &r,
        "credential-symlink-outside-home",
        &fx.path(".cache/huggingface/token"),
    );
    assert!(f["message"].as_str().unwrap().contains("~/.cache"), "{f:#}");
    let run = fx.run(&["fix", "--all", "--yes"]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    assert_eq!(std::fs::read(&token).unwrap(), t.as_bytes());
    assert_eq!(mode_of(&token), 0o644);
}

/// `~/.claude/projects` linked elsewhere: the session logs there are not read (a warning
/// names the link) and not rewritten.
#[test]
fn ai_logs_linked_out_of_the_home_are_neither_read_nor_rewritten() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("linked-logs");
    let body = format!("{{\"message\":\"use {t}\"}}\n");
    let (elsewhere, log) = outside_file("-home-me/1.jsonl", body.as_bytes());
    fx.mkdir(".claude", 0o755);
    std::os::unix::fs::symlink(elsewhere.path(), fx.path(".claude/projects")).unwrap();
    let r = fx.scan(&[]);
    assert_not_read(&r, &t);
    let warned = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains(".claude/projects"));
    assert!(warned, "{r:#}");
    let run = fx.run(&["fix", "--all", "--yes"]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), body);
}

/// While `fix` waits at its question, `~/proj` and `~/.cache` are swapped for links to
/// copies elsewhere (same bytes, same modes): the rewrite, the removal and the chmods do not
/// follow them.
#[test]
fn folders_swapped_for_links_at_the_prompt_do_not_redirect_the_fix() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (a, b) = (fx.token("swap-env"), fx.token("swap-token"));
    let env_body = format!("HF_TOKEN={a}\nDEBUG=1\n");
    fx.write("proj/app/.env", &env_body, 0o644);
    fx.mkdir(".cache/huggingface", 0o755);
    fx.write(".cache/huggingface/token", &b, 0o644);
    let elsewhere = outside_dir(0o755);
    let copy_env = elsewhere.path().join("proj/app/.env");
    let copy_token = elsewhere.path().join("cache/huggingface/token");
    let (code, out) = run_answering_yes(&fx, &["fix", "--all"], || {
        for (inside, copy) in [("proj", "proj"), (".cache", "cache")] {
            let c = elsewhere.path().join(copy);
            Command::new("cp")
                .args(["-a"])
                .arg(fx.path(inside))
                .arg(&c)
                .status()
                .unwrap();
            std::fs::rename(fx.path(inside), fx.path(&format!("{inside}.moved"))).unwrap();
            std::os::unix::fs::symlink(&c, fx.path(inside)).unwrap();
        }
    });
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("Fixed 5 findings"), "{out}");
    assert_eq!(std::fs::read_to_string(&copy_env).unwrap(), env_body);
    assert_eq!(mode_of(&copy_env), 0o644);
    assert_eq!(std::fs::read(&copy_token).unwrap(), b.as_bytes());
    assert_eq!(mode_of(&copy_token), 0o644);
    assert_eq!(mode_of(copy_token.parent().unwrap()), 0o755);
    assert!(out.contains("is a symlink"), "{out}");
}

// ── Names that are not UTF-8 (item 11) ───────────────────────────────────────────────────

/// Files whose names are not UTF-8 are fixed like any other, journaled byte for byte, and
/// undo puts them back.
#[test]
fn file_names_that_are_not_utf8_do_not_stop_a_fix() {
    use std::os::unix::ffi::OsStrExt;
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("not-utf8");
    let conf = fx.mkdir(".config/fish/conf.d", 0o755);
    let fish = conf.join(std::ffi::OsStr::from_bytes(b"caf\xe9.fish"));
    std::fs::write(&fish, "set -x EDITOR vi\n").unwrap();
    set_mode(&fish, 0o666);
    let code = fx.mkdir("code", 0o755);
    let py = code.join(std::ffi::OsStr::from_bytes(b"r\xe9sum\xe9.py"));
    let py_body = format!("HF = '{t}'\n");
    std::fs::write(&py, &py_body).unwrap();
    let run = fx.run(&["fix", "--all", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(mode_of(&fish), 0o644);
    let fixed_py = std::fs::read_to_string(&py).unwrap();
    assert!(
        !fixed_py.contains(&t),
        "the token is still in {}",
        py.display()
    );
    let entry = std::fs::read_to_string(journal_files(&fx).pop().unwrap()).unwrap();
    assert!(entry.contains("\"bytes\""), "raw names are kept: {entry}");
    assert_eq!(fx.run(&["history"]).code, 0);
    let run = fx.run(&["undo", "--last"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(mode_of(&fish), 0o666);
    assert_eq!(std::fs::read_to_string(&py).unwrap(), py_body);
}

// ── A journal that cannot be finished (item 12) ──────────────────────────────────────────

/// The modes are changed, then the journal cannot be written (here its folder is swapped
/// away under the running fix; a full disk fails the same write): the message lists what
/// changed and how to undo it — never "nothing was changed" — and that undo works.
#[test]
fn a_journal_that_cannot_be_finished_is_reported_truthfully() {
    let mut fx = Fixture::new();
    let t = fx.token("unfinished");
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &t, 0o644);
    fx.write(".zshrc", "alias l=ls\n", 0o666);
    let journal = journal_dir(&fx);
    let away = journal.with_file_name("journal.away");
    let run = run_stopped_at(
        &fx,
        &["fix", "--all", "--only", "chmod", "--yes"],
        "files-done",
        || {
            std::fs::rename(&journal, &away).unwrap();
            std::os::unix::fs::symlink("/nonexistent", &journal).unwrap();
        },
    );
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(fx.mode(".cache/huggingface/token"), 0o600);
    assert_eq!(fx.mode(".zshrc"), 0o644);
    let said = &run.stderr;
    assert!(
        !said.to_lowercase().contains("nothing was changed"),
        "{said}"
    );
    assert!(!said.contains("No file was changed"), "{said}");
    assert!(said.contains("2 file(s) were changed"), "{said}");
    assert!(said.contains(".cache/huggingface/token"), "{said}");
    assert!(said.contains(".zshrc"), "{said}");
    let id = fix_id_in(said);
    assert!(said.contains(&format!("hfguard undo {id}")), "{said}");
    // Space again: the journal is back, and the undo it named works.
    std::fs::remove_file(&journal).unwrap();
    std::fs::rename(&away, &journal).unwrap();
    let run = fx.run(&["undo", &id]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.mode(".cache/huggingface/token"), 0o644);
    assert_eq!(fx.mode(".zshrc"), 0o666);
}

// ── Leftovers and races of the rename (item 17) ──────────────────────────────────────────

/// A fix killed with its new copy written but not yet renamed leaves a temporary file next
/// to the user's file; the next run removes it — only hfguard's own, only of dead processes.
#[test]
fn temporary_files_of_a_killed_fix_are_removed_by_the_next_run() {
    let leftovers = |fx: &Fixture| -> Vec<String> {
        std::fs::read_dir(fx.home())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("..bash_history.hfguard-"))
            .collect()
    };
    let mut found = 0;
    for n in 1..40 {
        let mut fx = Fixture::new();
        fx.with_keyring();
        let t = fx.token("leftover");
        fx.write(".bash_history", format!("login {t}\n"), 0o600);
        fx.set_env("HFGUARD_FAILPOINT", n.to_string());
        let out = fx.command(&["fix", "--all", "--yes"]).output().unwrap();
        fx.env.remove("HFGUARD_FAILPOINT");
        use std::os::unix::process::ExitStatusExt;
        if out.status.signal() != Some(9) {
            break;
        }
        let left = leftovers(&fx);
        if left.is_empty() {
            continue;
        }
        found += 1;
        // Not ours to remove: a live process's, and names that only look alike.
        let sleeper = Command::new("sleep").arg("60").spawn().unwrap();
        let live = format!("..bash_history.hfguard-{}-0.tmp", sleeper.id());
        let others = [
            live.as_str(),
            "..bash_history.hfguard-99999999-0.tmp.keep",
            ".bash_history.hfguard-99999999-0.tmp",
        ];
        for o in others {
            fx.write(o, "keep me\n", 0o600);
        }
        assert_eq!(fx.run(&["history"]).code, 0);
        let now = leftovers(&fx);
        let mut sleeper = sleeper;
        let _ = sleeper.kill();
        let _ = sleeper.wait();
        for l in &left {
            assert!(!now.contains(l), "after kill at {n}, {l} is still there");
        }
        for o in others {
            assert!(fx.path(o).exists(), "{o} was removed");
        }
    }
    assert!(found > 0, "no kill point left a temporary file");
}

/// A file put back by undo never replaces a file that appears between undo's check and its
/// rename: what appeared stays, and undo says so.
#[test]
fn undo_never_replaces_a_file_that_appears_meanwhile() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("appears");
    fx.write(".cache/huggingface/token", &t, 0o600);
    let run = fx.run(&["fix", "--all", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(!fx.path(".cache/huggingface/token").exists());
    let run = run_stopped_at(&fx, &["undo", "--last"], "create-checked", || {
        std::fs::write(fx.path(".cache/huggingface/token"), "mine\n").unwrap();
    });
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("exists again"), "{}", run.stderr);
    assert_eq!(fx.read(".cache/huggingface/token"), b"mine\n");
}
