//! Helpers for the tests that fix: running `fix` and `undo`, reading journals, asking real
//! shells and real git for a token.

use super::*;
use std::io::Write;
use std::path::Path;
use std::process::Command;

pub fn fix(fx: &Fixture, args: &[&str]) -> Run {
    let mut a = vec!["fix", "--yes"];
    a.extend_from_slice(args);
    let run = fx.run(&a);
    assert!(
        run.code == 0,
        "fix failed ({}):\n{}\n{}",
        run.code,
        run.stdout,
        run.stderr
    );
    run
}

pub fn undo_last(fx: &Fixture) {
    let run = fx.run(&["undo", "--last"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

/// A journal entry as text, with each file template's base64 content decoded: what a leak
/// check must read (base64 hides a secret from a plain search, not from anyone).
pub fn journal_text(path: &Path) -> String {
    use base64::Engine;
    let raw = std::fs::read_to_string(path).unwrap();
    let entry: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let mut text = raw.clone();
    for f in entry["files"].as_array().into_iter().flatten() {
        if let Some(c) = f["template"]["content"].as_str() {
            let bytes = base64::engine::general_purpose::STANDARD.decode(c).unwrap();
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    text
}

/// Every journal entry of the fixture, as [`journal_text`].
pub fn all_journals(fx: &Fixture) -> String {
    std::fs::read_dir(fx.path(".local/state/hfguard/journal"))
        .unwrap()
        .map(|e| journal_text(&e.unwrap().path()))
        .collect()
}

/// Runs `sh` with the fixture's environment (the keyring variables included).
pub fn sh(fx: &Fixture, shell: &str, script: &str) -> std::process::Output {
    sh_with(fx, shell, script, &[])
}

pub fn sh_with(
    fx: &Fixture,
    shell: &str,
    script: &str,
    env: &[(&str, &str)],
) -> std::process::Output {
    Command::new(shell)
        .args(["-c", script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", fx.home())
        .envs(&fx.env)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// Whether a new bash that sources `rc` gets `HF_TOKEN` = `want`.
pub fn new_bash_has_token(fx: &Fixture, rc: &str, want: &str) -> bool {
    shell_gets(fx, "bash", rc, want)
}

/// Whether a new `shell` (bash, zsh or fish) that reads the start-up file `rc` gets `want`
/// as `HF_TOKEN`.
pub fn shell_gets(fx: &Fixture, shell: &str, rc: &str, want: &str) -> bool {
    let script = match shell {
        "fish" => format!(
            "source {}; test \"$HF_TOKEN\" = \"$WANT\"",
            fx.path(rc).display()
        ),
        _ => format!(". {}; [ \"$HF_TOKEN\" = \"$WANT\" ]", fx.path(rc).display()),
    };
    sh_with(fx, shell, &script, &[("WANT", want)])
        .status
        .success()
}

/// `hfguard exec` running a command that succeeds only when it sees `want` as `HF_TOKEN`.
pub fn exec_serves(fx: &mut Fixture, want: &str) -> Run {
    fx.set_env("WANT", want.to_string());
    fx.run(&["exec", "--", "sh", "-c", "test \"$HF_TOKEN\" = \"$WANT\""])
}

/// What real git's `credential fill` answers for https://huggingface.co, from the home.
pub fn git_fill_hub(fx: &Fixture) -> String {
    git_in(
        fx,
        fx.home(),
        &["credential", "fill"],
        Some("protocol=https\nhost=huggingface.co\n\n"),
    )
}

pub fn has(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Real git in `dir` with the fixture's home and environment; `input` on its stdin. Fails the
/// test when git fails.
pub fn git_output(
    fx: &Fixture,
    dir: &Path,
    args: &[&str],
    input: Option<&str>,
) -> std::process::Output {
    let mut c = Command::new("git");
    c.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", fx.home())
        .env("GIT_TERMINAL_PROMPT", "0")
        .envs(&fx.env)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(i) = input {
        child.stdin.take().unwrap().write_all(i.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "git {args:?} failed");
    fx.assert_no_leak(&String::from_utf8_lossy(&out.stderr));
    out
}

/// Real git's standard output.
pub fn git_in(fx: &Fixture, dir: &Path, args: &[&str], input: Option<&str>) -> String {
    String::from_utf8(git_output(fx, dir, args, input).stdout).unwrap()
}

/// `git credential approve` in `dir`, returning what git's helpers said on standard error.
pub fn fx_git_approve(fx: &Fixture, dir: &Path, input: &str) -> String {
    String::from_utf8(git_output(fx, dir, &["credential", "approve"], Some(input)).stderr).unwrap()
}

/// The fix id of the last line of `fix` output ("… Undo with `hfguard undo fix-…`.").
pub fn fix_id(run: &Run) -> String {
    let at = run.stdout.rfind("hfguard undo ").expect("an undo hint");
    run.stdout[at + "hfguard undo ".len()..]
        .split('`')
        .next()
        .unwrap()
        .to_string()
}
