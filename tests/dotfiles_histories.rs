//! Start-up files, histories, environment and processes (checks 3, 4, 5 and 8).

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;

#[test]
fn exports_in_startup_files_report_variable_and_line() {
    let mut fx = Fixture::new();
    let (a, b, c) = (fx.token("bashrc"), fx.token("fish"), fx.token("envd"));
    let mut bashrc = String::new();
    for i in 1..21 {
        bashrc.push_str(&format!("alias a{i}='ls'\n"));
    }
    bashrc.push_str(&format!("export HF_TOKEN={a}\n"));
    let bashrc_path = fx.write(".bashrc", bashrc, 0o644);
    let fish = fx.write(
        ".config/fish/config.fish",
        format!("set -gx HUGGING_FACE_HUB_TOKEN \"{b}\"\n"),
        0o644,
    );
    let envd = fx.write(
        ".config/environment.d/50-hf.conf",
        format!("HF_TOKEN={c}\n"),
        0o644,
    );
    let r = fx.scan(&["--quick"]);
    let f = one(&r, "hf-token-in-startup-file", &bashrc_path);
    assert_eq!(f["line"], 21);
    assert_eq!(f["variable"], "HF_TOKEN");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["category"], "dotfile");
    // A redaction marker in a start-up file would be exported as the token: keyring only.
    assert_eq!(f["fixes"], serde_json::json!(["keyring"]));
    assert_eq!(
        one(&r, "hf-token-in-startup-file", &fish)["variable"],
        "HUGGING_FACE_HUB_TOKEN"
    );
    assert_eq!(
        one(&r, "hf-token-in-startup-file", &envd)["variable"],
        "HF_TOKEN"
    );
    // A 0644 start-up file is normal.
    assert!(with_rule(&r, "startup-file-writable").is_empty());
}

#[test]
fn files_sourced_from_startup_files_are_startup_files() {
    let mut fx = Fixture::new();
    let t = fx.token("sourced");
    fx.write(
        ".zshrc",
        "source ~/.config/secrets.sh\n. \"$HOME/.aliases\"\n",
        0o644,
    );
    let secrets = fx.write(
        ".config/secrets.sh",
        format!("export HF_TOKEN='{t}'\n"),
        0o644,
    );
    fx.write(".aliases", "alias g=git\n", 0o644);
    let r = fx.scan(&["--quick"]);
    one(&r, "hf-token-in-startup-file", &secrets);

    // Files outside the home are never read, whether reached by `..` or a symlinked folder.
    let outside = tempfile::tempdir().unwrap();
    let other = fx.secret(hf_token("outside-home"));
    std::fs::write(
        outside.path().join("secret"),
        format!("export OTHER={other}\n"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), fx.path("dots")).unwrap();
    let up = format!(
        "~/{}/{}",
        "../".repeat(fx.home().components().count()),
        outside.path().join("secret").display()
    );
    fx.write(
        ".bashrc",
        format!("source ~/dots/secret\nsource {up}\n"),
        0o644,
    );
    let r = fx.scan(&["--quick"]);
    assert!(
        !serde_json::to_string(&r)
            .unwrap()
            .contains(&redacted(&other)),
        "read a file outside the home: {r:#}"
    );
}

#[test]
fn writable_startup_file_and_home_are_critical() {
    let fx = Fixture::new();
    let zshrc = fx.write(".zshrc", "PATH=$PATH:~/bin\n", 0o666);
    let r = fx.scan(&["--quick"]);
    let f = one(&r, "startup-file-writable", &zshrc);
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["mode"], "0666");
    assert_eq!(f["fixes"], serde_json::json!(["chmod"]));

    std::fs::set_permissions(fx.home(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let r = fx.scan(&["--quick"]);
    assert_eq!(one(&r, "home-writable", fx.home())["severity"], "critical");
    std::fs::set_permissions(fx.home(), std::fs::Permissions::from_mode(0o750)).unwrap();
}

#[test]
fn bash_history_and_histfile() {
    let mut fx = Fixture::new();
    let (a, b) = (fx.token("bash"), fx.token("histfile"));
    let bash = fx.write(
        ".bash_history",
        format!("ls\ncd ml\nhf auth login --token {a}\ngit status\n"),
        0o600,
    );
    let custom = fx.write(
        ".history/bash",
        format!("huggingface-cli login --token {b}"),
        0o600,
    );
    fx.set_env("HISTFILE", custom.to_str().unwrap());
    let r = fx.scan(&["--quick"]);
    let f = one(&r, "hf-token-in-shell-history", &bash);
    assert_eq!(f["line"], 3);
    assert_eq!(f["category"], "history");
    assert_eq!(f["fixes"], serde_json::json!(["redact", "guard"]));
    // The token at the end of a file without a newline.
    assert_eq!(one(&r, "hf-token-in-shell-history", &custom)["line"], 1);
}

#[test]
fn zsh_extended_multiline_and_metafied_history() {
    let mut fx = Fixture::new();
    let (a, b) = (fx.token("zsh-a"), fx.token("zsh-b"));
    let mut data = Vec::new();
    data.extend_from_slice(b": 1700000000:0;ls\n");
    // A multi-line entry: the token is on the entry's second line, the file's third.
    data.extend_from_slice(
        format!(": 1700000001:0;python -c 'print(1)' \\\n  && echo \\\n  {a}\n").as_bytes(),
    );
    // Metafied non-ASCII (0x83 then byte ^ 0x20) around a token.
    data.extend_from_slice(b": 1700000002:0;echo \x83\xa3\x83\xa9 ");
    data.extend_from_slice(format!("HF_TOKEN={b}\n").as_bytes());
    let p = fx.write(".zsh_history", &data, 0o600);
    let r = fx.scan(&["--quick"]);
    let mut lines: Vec<u64> = with_rule(&r, "hf-token-in-shell-history")
        .iter()
        .filter(|f| f["path"] == p.to_str().unwrap())
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    lines.sort();
    assert_eq!(lines, vec![4, 5], "{r:#}");
}

#[test]
fn fish_history_python_repl_and_ipython_sqlite() {
    let mut fx = Fixture::new();
    let (a, b, c) = (fx.token("fish-h"), fx.token("pyrepl"), fx.token("ipython"));
    let fish = fx.write(
        ".local/share/fish/fish_history",
        format!(
            "- cmd: ls\n  when: 1700000000\n- cmd: hf auth login --token {a}\n  when: 1700000001\n"
        ),
        0o600,
    );
    let py = fx.write(
        ".python_history",
        format!("import os\nlogin(\"{b}\")\n"),
        0o600,
    );
    // IPython keeps its history in SQLite: text inside a binary page. Each cell is stored
    // twice (`source` and `source_raw`), and a token typed alone is a text value right after
    // its record header, whose type byte for 37 bytes of text is `W`.
    let mut db = b"SQLite format 3\0".to_vec();
    db.extend_from_slice(&[0u8; 84]);
    for _ in 0..2 {
        db.extend_from_slice(
            format!("\x01\x02from huggingface_hub import login\nlogin('{c}')\n\0\0").as_bytes(),
        );
    }
    let alone = fx.token("ipython-alone");
    db.extend_from_slice(format!("\x04\x01\x01WW{alone}\0").as_bytes());
    let ipy = fx.write(".ipython/profile_default/history.sqlite", &db, 0o600);
    let r = fx.scan(&["--quick"]);
    assert_eq!(one(&r, "hf-token-in-shell-history", &fish)["line"], 3);
    assert_eq!(one(&r, "hf-token-in-repl-history", &py)["line"], 2);
    let mut secrets: Vec<&str> = findings(&r)
        .iter()
        .filter(|f| f["path"] == ipy.to_str().unwrap())
        .map(|f| f["secret"].as_str().unwrap())
        .collect();
    secrets.sort();
    let mut want = vec![redacted(&c), redacted(&alone)];
    want.sort();
    assert_eq!(secrets, want, "one finding per secret in the database");
}

/// A crash leaves NUL blocks in a history; the file is still read, lines still counted.
#[test]
fn a_history_with_nul_bytes_is_still_read() {
    let mut fx = Fixture::new();
    let t = fx.token("nul-history");
    let h = fx.write(
        ".bash_history",
        format!("ls\n\0\0\0\0\nhf auth login --token {t}\n"),
        0o644,
    );
    let r = fx.scan(&["--quick"]);
    assert_eq!(one(&r, "hf-token-in-shell-history", &h)["line"], 3);
    assert_eq!(one(&r, "shell-history-permissions", &h)["mode"], "0644");
}

#[test]
fn ai_assistant_session_logs() {
    let mut fx = Fixture::new();
    let t = fx.token("claude");
    let log = fx.write(
        ".claude/projects/-home-me-ml/1234.jsonl",
        format!("{{\"type\":\"user\",\"message\":\"use token {t} to upload\"}}\n"),
        0o600,
    );
    let r = fx.scan(&[]);
    let f = one(&r, "hf-token-in-ai-session-log", &log);
    assert_eq!(f["category"], "history");
}

#[test]
fn open_history_files_are_a_permission_finding() {
    let mut fx = Fixture::new();
    let t = fx.token("open-hist");
    let p = fx.write(".bash_history", format!("export HF_TOKEN={t}\n"), 0o644);
    let r = fx.scan(&["--quick"]);
    assert_eq!(one(&r, "shell-history-permissions", &p)["mode"], "0644");
}

#[test]
fn environment_variables_are_reported_by_name_never_by_value() {
    let mut fx = Fixture::new();
    let t = fx.token("env");
    fx.set_env("HF_TOKEN", t.clone());
    fx.set_env("HF_HUB_OFFLINE", "1");
    // Placeholders in the variables huggingface_hub reads are not tokens.
    fx.set_env("HUGGING_FACE_HUB_TOKEN", "hf_YOUR_TOKEN_HERE");
    fx.set_env("HF_API_TOKEN", "xxxxxxxxxxxxxxxx");
    let r = fx.scan(&["--quick"]);
    let f = with_rule(&r, "hf-token-in-environment");
    assert_eq!(f.len(), 1, "{r:#}");
    assert_eq!(f[0]["variable"], "HF_TOKEN");
    assert_eq!(f[0]["category"], "environment");
    assert_eq!(f[0]["severity"], "info");
    assert_eq!(f[0]["secret"], redacted(&t));
    assert!(f[0]["path"].is_null());

    let r = fx.scan(&["--quick", "--skip", "environment"]);
    assert!(with_rule(&r, "hf-token-in-environment").is_empty());
}

#[test]
fn token_on_a_process_command_line_is_critical_and_in_its_environment_info() {
    let mut fx = Fixture::new();
    let argv_token = fx.token("argv");
    let env_token = fx.token("environ");
    use std::os::unix::process::CommandExt;
    let mut child = std::process::Command::new("sh")
        .args(["-c", "sleep 60; :", "train.py", "--hub-token", &argv_token])
        .env("HF_TOKEN", &env_token)
        .process_group(0)
        .spawn()
        .unwrap();
    let pid = child.id();
    let run = fx.run(&["scan", "--format", "json", "--quick"]);
    // The whole group: `sleep` too, so no process with a token outlives the test.
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
    let _ = child.wait();
    let r = run.json();
    let cmd: Vec<_> = with_rule(&r, "hf-token-in-process-cmdline")
        .into_iter()
        .filter(|f| f["secret"] == redacted(&argv_token))
        .collect();
    assert_eq!(cmd.len(), 1, "{r:#}");
    assert_eq!(cmd[0]["severity"], "critical");
    assert_eq!(cmd[0]["pid"], pid);
    assert_eq!(cmd[0]["category"], "process");
    let env: Vec<_> = with_rule(&r, "hf-token-in-process-environment")
        .into_iter()
        .filter(|f| f["secret"] == redacted(&env_token))
        .collect();
    assert_eq!(env.len(), 1, "{r:#}");
    assert_eq!(env[0]["severity"], "info");
    assert_eq!(env[0]["variable"], "HF_TOKEN");
    assert_eq!(run.code, 1);
}

/// A home whose path goes through a symlink (Fedora Atomic: /home → /var/home) with stow-style
/// dotfiles: one finding per file, shown under the home as given, and the home's own checks
/// still run.
#[test]
fn a_home_reached_through_a_symlink_reports_each_file_once() {
    let mut fx = Fixture::new();
    let t = fx.token("atomic");
    let real = fx.mkdir("var/home/alice", 0o700);
    fx.mkdir("var/home/alice/dotfiles", 0o755);
    fx.write(
        "var/home/alice/dotfiles/bashrc",
        format!("export HF_TOKEN={t}\n"),
        0o644,
    );
    std::os::unix::fs::symlink("dotfiles/bashrc", real.join(".bashrc")).unwrap();
    std::os::unix::fs::symlink("var/home", fx.path("home")).unwrap();
    let home = fx.path("home/alice");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hfguard"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", &home)
        .args(["scan", "--skip", "processes", "--format", "json", "--home"])
        .arg(&home);
    let run = run_with_timeout(&mut cmd, std::time::Duration::from_secs(60));
    fx.assert_no_leak(&run.stdout);
    let r: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let hits: Vec<&serde_json::Value> = findings(&r)
        .iter()
        .filter(|f| f["secret"] == redacted(&t))
        .collect();
    assert_eq!(hits.len(), 1, "{r:#}");
    assert_eq!(hits[0]["rule"], "hf-token-in-startup-file");
    assert_eq!(
        hits[0]["path"],
        home.join("dotfiles/bashrc").to_str().unwrap()
    );
    assert!(r["warnings"].as_array().unwrap().is_empty(), "{r:#}");
    assert_eq!(with_rule(&r, "home-writable").len(), 1, "{r:#}");
}
