//! `hfguard fix`, `undo`, `history`, `token`, `exec` and `git-credential` against real files,
//! a real Secret Service, real shells and real git.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;

#[test]
fn chmod_fix_needs_no_keyring_and_undo_restores_modes() {
    let mut fx = Fixture::new();
    let t = fx.token("chmod");
    fx.mkdir(".cache/huggingface", 0o755);
    fx.write(".cache/huggingface/token", &t, 0o644);
    fx.write(".zshrc", "alias l=ls\n", 0o666);
    // No D-Bus at all: chmod must still work.
    let run = fix(&fx, &["--all", "--only", "chmod"]);
    assert!(
        run.stdout
            .contains("chmod:   ~/.cache/huggingface/token  0644 → 0600"),
        "{}",
        run.stdout
    );
    assert_eq!(fx.mode(".cache/huggingface/token"), 0o600);
    assert_eq!(fx.mode(".cache/huggingface"), 0o700);
    assert_eq!(fx.mode(".zshrc"), 0o644);
    let r = fx.scan(&[]);
    assert!(
        findings(&r).iter().all(|f| f["category"] != "permissions"),
        "{r:#}"
    );
    undo_last(&fx);
    assert_eq!(fx.mode(".cache/huggingface/token"), 0o644);
    assert_eq!(fx.mode(".cache/huggingface"), 0o755);
    assert_eq!(fx.mode(".zshrc"), 0o666);
}

/// Without a Secret Service (an SSH session to a GPU box), the plan says so first, keeps
/// what can run (chmod, history redaction) and leaves the keyring steps out, marked "needs a
/// keyring": nothing fails half-way after confirmation.
#[test]
fn without_a_keyring_the_plan_says_so_first_and_runs_the_rest() {
    let mut fx = Fixture::new();
    let t = fx.token("nokeyring");
    fx.write(".bashrc", format!("export HF_TOKEN={t}\n"), 0o644);
    fx.write(
        ".bash_history",
        format!("hf auth login --token {t}\n"),
        0o644,
    );
    fx.set_env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    let before = fx.read(".bashrc");
    let run = fx.run(&["fix", "--all", "--yes"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("note:    No keyring answers here"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("gnome-keyring-daemon --unlock"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("keyutils"), "{}", run.stdout);
    assert!(run.stdout.contains("needs a keyring"), "{}", run.stdout);
    // The start-up file waits for a keyring; the history and the modes are fixed.
    assert_eq!(fx.read(".bashrc"), before);
    assert!(!String::from_utf8(fx.read(".bash_history"))
        .unwrap()
        .contains(&t));
    assert_eq!(fx.mode(".bash_history"), 0o600);
    assert!(run.stdout.contains("still there:"), "{}", run.stdout);
}

#[test]
fn without_yes_off_a_terminal_it_refuses_and_dry_run_changes_nothing() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("dry");
    fx.write(".cache/huggingface/token", &t, 0o644);
    let run = fx.run(&["fix", "--all"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    let run = fx.run(&["fix", "--all", "--dry-run"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("remove:  ~/.cache/huggingface/token"),
        "{}",
        run.stdout
    );
    assert_eq!(fx.mode(".cache/huggingface/token"), 0o644);
    assert_eq!(fx.read(".cache/huggingface/token"), t.as_bytes());
    let run = fx.run(&["fix", "hfg-000000000000", "--yes"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no finding hfg-000000000000"),
        "{}",
        run.stderr
    );
}

#[test]
fn refuses_hard_links_and_other_owners() {
    let mut fx = Fixture::new();
    let t = fx.token("refuse");
    let hist = fx.write(".bash_history", format!("login {t}\n"), 0o644);
    std::fs::hard_link(&hist, fx.path("hist-copy")).unwrap();
    let run = fx.run(&["fix", "--all", "--only", "chmod", "--yes"]);
    assert!(
        run.stderr.contains("hard links"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(fx.mode(".bash_history"), 0o644);

    if nix::unistd::geteuid().is_root() {
        let other = fx.write(
            ".git-credentials",
            format!("https://u:{t}@huggingface.co\n"),
            0o644,
        );
        nix::unistd::chown(&other, Some(nix::unistd::Uid::from_raw(4321)), None).unwrap();
        let run = fx.run(&["fix", "--all", "--only", "chmod", "--yes"]);
        assert!(
            run.stderr.contains("owned by user id 4321"),
            "{}",
            run.stderr
        );
        assert_eq!(fx.mode(".git-credentials"), 0o644);
    }
}

/// Audits `home` (known locations) and plans `kind` for its finding of `rule`.
fn plan_one(
    home: &hfguard::home::Home,
    rule: &str,
    kind: hfguard::finding::FixKind,
) -> hfguard::fix::Plan {
    let options = hfguard::audit::ScanOptions {
        quick: true,
        ..Default::default()
    };
    let report = hfguard::audit::run(home, &options, &hfguard::audit::NoSink);
    let f = report
        .findings
        .iter()
        .find(|f| f.rule == rule)
        .unwrap()
        .clone();
    hfguard::fix::plan(home, &[(f, kind)])
}

/// The credential line goes only once git's config sends git to the keyring: when the config
/// changed between plan and apply (and so is left alone), the line stays too.
#[test]
fn a_credential_line_stays_when_gits_config_could_not_be_changed() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("needs-config");
    let creds = fx.write(
        ".git-credentials",
        format!("https://me:{t}@huggingface.co\n"),
        0o600,
    );
    let config = fx.write(".gitconfig", "[credential]\n\thelper = store\n", 0o644);
    let env: Vec<(String, std::ffi::OsString)> =
        fx.env.iter().map(|(k, v)| (k.clone(), v.into())).collect();
    let home = hfguard::home::Home::new(fx.home(), env);
    let plan = plan_one(
        &home,
        "hf-token-in-git-credentials",
        hfguard::finding::FixKind::Keyring,
    );
    // The config is written first, whatever the order of the paths.
    assert_eq!(plan.files[0].path, config);
    // Something edits git's config between plan and apply.
    std::fs::write(
        &config,
        "[credential]\n\thelper = store\n[user]\n\tname = me\n",
    )
    .unwrap();
    let keys = hfguard::keystore::KeyStore::new(&home);
    let outcome = hfguard::fix::apply(&plan, &keys, &hfguard::fix::Journal::new(&home)).unwrap();
    assert!(outcome.changed.is_empty(), "{:?}", outcome.changed);
    assert_eq!(outcome.failed.len(), 2, "{:?}", outcome.failed);
    assert!(
        outcome.failed[1].reason.contains("it relies on")
            && outcome.failed[1].reason.contains(".gitconfig"),
        "{}",
        outcome.failed[1]
    );
    assert_eq!(
        std::fs::read_to_string(&creds).unwrap(),
        format!("https://me:{t}@huggingface.co\n")
    );
}

#[test]
fn a_file_changed_or_swapped_since_the_plan_is_left_alone() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("changed");
    let p = fx.write(".bash_history", format!("ls\nlogin {t}\n"), 0o600);
    let env: Vec<(String, std::ffi::OsString)> =
        fx.env.iter().map(|(k, v)| (k.clone(), v.into())).collect();
    let home = hfguard::home::Home::new(fx.home(), env);
    let plan = plan_one(
        &home,
        "hf-token-in-shell-history",
        hfguard::finding::FixKind::Redact,
    );
    // The shell appends a command between plan and apply.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&p)
        .unwrap()
        .write_all(b"git status\n")
        .unwrap();
    let keys = hfguard::keystore::KeyStore::new(&home);
    let outcome = hfguard::fix::apply(&plan, &keys, &hfguard::fix::Journal::new(&home)).unwrap();
    assert_eq!(outcome.failed.len(), 1);
    assert!(
        outcome.failed[0].reason.contains("changed since the plan"),
        "{}",
        outcome.failed[0]
    );
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        format!("ls\nlogin {t}\ngit status\n")
    );

    // A file swapped for a symlink between plan and apply is refused, not followed.
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    let plan = plan_one(
        &home,
        "shell-history-permissions",
        hfguard::finding::FixKind::Chmod,
    );
    let elsewhere = fx.write("elsewhere", "x", 0o644);
    std::fs::rename(&p, fx.path("moved")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &p).unwrap();
    let outcome = hfguard::fix::apply(&plan, &keys, &hfguard::fix::Journal::new(&home)).unwrap();
    assert_eq!(outcome.failed.len(), 1);
    assert!(
        outcome.failed[0].reason.contains("symlink"),
        "{}",
        outcome.failed[0]
    );
    assert_eq!(fx.mode("elsewhere"), 0o644);
}
use std::io::Write;

/// Fix everything, check the findings are gone, undo, check every file is byte-identical
/// with its mode.
fn round_trip(fx: &Fixture, files: &[&str], fix_args: &[&str]) -> Run {
    let before: Vec<(Vec<u8>, u32)> = files.iter().map(|f| (fx.read(f), fx.mode(f))).collect();
    let run = fix(fx, fix_args);
    let r = fx.scan(&["--skip", "environment"]);
    let left: Vec<_> = findings(&r)
        .iter()
        .filter(|f| f["severity"] != "info")
        .collect();
    assert!(left.is_empty(), "left after the fix: {left:#?}");
    // The journal holds no plaintext secret.
    for entry in std::fs::read_dir(fx.path(".local/state/hfguard/journal")).unwrap() {
        let p = entry.unwrap().path();
        fx.assert_no_leak(&journal_text(&p));
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(fx.mode(".local/state/hfguard/journal"), 0o700);
    undo_last(fx);
    for (f, (data, mode)) in files.iter().zip(before) {
        assert!(fx.read(f) == data, "{f} not restored byte for byte");
        assert_eq!(fx.mode(f), mode, "{f} mode");
    }
    run
}

#[test]
fn keyring_fix_of_hf_token_stores_and_undo() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (a, b, c) = (fx.token("tf"), fx.token("st-work"), fx.token("st-home"));
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", format!("{a}\n"), 0o600);
    fx.write(
        ".cache/huggingface/stored_tokens",
        format!("[work]\nhf_token = {b}\n\n[home]\nhf_token = {c}\n"),
        0o600,
    );
    fx.write(".huggingface/token", &a, 0o644);
    let run = round_trip(
        &fx,
        &[
            ".cache/huggingface/token",
            ".cache/huggingface/stored_tokens",
            ".huggingface/token",
        ],
        &["--all"],
    );
    assert!(run.stdout.contains("keyring: store"), "{}", run.stdout);
}

#[test]
fn keyring_fix_moves_the_token_and_leaves_it_usable() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("usable");
    fx.write(".cache/huggingface/token", &t, 0o600);
    fix(&fx, &["--all"]);
    assert!(!fx.path(".cache/huggingface/token").exists());
    // token get (stdout is a pipe here) gives it back.
    fx.secrets.clear(); // this output is the token by design
    let run = fx.run(&["token", "get"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout == t, "token get returned something else");
    fx.secrets.push(t.clone());
    let run = fx.run(&["token", "list"]);
    let first = run.stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("huggingface ")
            && first.contains(&redacted(&t))
            && first.contains("huggingface_hub uses this one"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("sets HF_TOKEN, HUGGING_FACE_HUB_TOKEN"),
        "{}",
        run.stdout
    );
    // exec: the variable is set, exit status and signals pass through.
    fx.set_env("EXPECTED", t.clone());
    let ok = fx.run(&[
        "exec",
        "--",
        "sh",
        "-c",
        "test \"$HF_TOKEN\" = \"$EXPECTED\" && test \"$HUGGING_FACE_HUB_TOKEN\" = \"$EXPECTED\"",
    ]);
    assert_eq!(
        ok.code, 0,
        "HF_TOKEN and HUGGING_FACE_HUB_TOKEN not set from the keyring"
    );
    assert_eq!(fx.run(&["exec", "--", "sh", "-c", "exit 7"]).code, 7);
    let mut cmd = fx.command(&["exec", "--", "sh", "-c", "kill -TERM $$"]);
    let st = cmd.status().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(st.signal(), Some(15));
}

/// The token file holds one token and `.bashrc` exports another: after the keyring fix, a new
/// shell must still get the second one, and the default slot is the one huggingface_hub
/// uses by its own precedence (HF_TOKEN before the token file).
#[test]
fn a_shell_keeps_its_own_token_when_another_took_the_name() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (file_token, shell_token) = (fx.token("in-file"), fx.token("in-bashrc"));
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &file_token, 0o600);
    fx.write(".bashrc", format!("export HF_TOKEN={shell_token}\n"), 0o644);
    fix(&fx, &["--all", "--only", "keyring"]);
    assert!(
        new_bash_has_token(&fx, ".bashrc", &shell_token),
        "a new shell got another token than the one its .bashrc exported:\n{}",
        String::from_utf8_lossy(&fx.read(".bashrc"))
    );
    // `token get` gives what huggingface_hub used (HF_TOKEN wins over the token file); the
    // token file's token keeps a slot of its own.
    fx.secrets.clear(); // this output is a token by design
    let run = fx.run(&["token", "get"]);
    assert!(run.stdout == shell_token, "token get gave another token");
    let run = fx.run(&["token", "get", "--name", "huggingface-token-file"]);
    assert!(run.stdout == file_token, "the token file's token is lost");
}

/// A later fix must not overwrite a token an earlier fix put in the keyring: a different
/// token gets a name of its own, the same token reuses its name, and a keyring entry changed
/// behind hfguard's back stops the fix before anything changes.
#[test]
fn a_later_fix_never_overwrites_a_token_already_in_the_keyring() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (first, other) = (fx.token("first-run"), fx.token("second-run"));
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &first, 0o600);
    fix(&fx, &["--all", "--only", "keyring"]);
    // Days later: another token in .bashrc, the first one in .zshrc.
    fx.write(".bashrc", format!("export HF_TOKEN={other}\n"), 0o644);
    fx.write(".zshrc", format!("export HF_TOKEN={first}\n"), 0o644);
    fix(&fx, &["--all", "--only", "keyring"]);
    // .zshrc still exports the first token, so it stays in its slot (no rotation); the
    // other gets a name of its own.
    let bashrc = String::from_utf8(fx.read(".bashrc")).unwrap();
    assert!(
        bashrc.contains("token get --name huggingface-hf-token)"),
        "{bashrc}"
    );
    let zshrc = String::from_utf8(fx.read(".zshrc")).unwrap();
    assert!(zshrc.contains("token get)\""), "{zshrc}");
    assert!(
        new_bash_has_token(&fx, ".bashrc", &other),
        "a new shell lost .bashrc's token"
    );
    fx.secrets.clear(); // `token get` prints tokens by design
    let get = |name: &str| fx.run(&["token", "get", "--name", name]).stdout;
    assert!(
        get("huggingface") == first,
        "the first token was overwritten"
    );
    assert!(get("huggingface-hf-token") == other);

    // The index is lost (or the keyring changed behind hfguard's back): the plan cannot know
    // `huggingface` is taken, and the fix refuses before changing anything.
    std::fs::remove_file(fx.path(".local/state/hfguard/tokens.json")).unwrap();
    let third = hf_token("third-run");
    fx.write(".profile", format!("export HF_TOKEN={third}\n"), 0o644);
    let before = fx.read(".profile");
    let run = fx.run(&["fix", "--all", "--only", "keyring", "--yes"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("already holds another secret named `huggingface`"),
        "{}",
        run.stderr
    );
    assert!(
        get("huggingface") == first,
        "the first token was overwritten"
    );
    assert!(fx.read(".profile") == before, "a file changed");
}

/// Undo must not lose a token: not one rotated into the keyring after the fix, not one a
/// later fix's files look up, and the last of two fixes made in one second is undone first.
#[test]
fn undo_keeps_keyring_tokens_that_are_rotated_or_still_in_use() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (a, rotated) = (fx.token("undo-a"), fx.token("undo-rotated"));
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &a, 0o600);
    fix(&fx, &["--all", "--only", "keyring"]);
    // Rotated as the docs advise, then the fix is undone: the new token stays.
    let set = fx.run_with_input(&["token", "set"], Some(&format!("{rotated}\n")));
    assert!(set.code == 0, "{}", set.stderr);
    // `token set` is a fix of its own (undoable); undo the first fix by its id.
    let first_fix = std::fs::read_dir(fx.path(".local/state/hfguard/journal"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".json")
                .to_string()
        })
        .min()
        .unwrap();
    let run = fx.run(&["undo", &first_fix]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(fx.read(".cache/huggingface/token") == a.as_bytes());
    fx.secrets.clear(); // `token get` prints tokens by design
    let get = |fx: &Fixture| fx.run(&["token", "get"]).stdout;
    assert!(get(&fx) == rotated, "undo deleted the rotated token");
    fx.run(&["token", "rm"]);

    // Fix 1 moves the token file, fix 2 (the same second) makes .bashrc look the same name up;
    // undoing fix 1 keeps the name for .bashrc; `undo --last` then undoes fix 2, not fix 1.
    fx.secrets.push(a.clone());
    let first = fix_id(&fix(&fx, &["--all", "--only", "keyring"]));
    fx.write(".bashrc", format!("export HF_TOKEN={a}\n"), 0o644);
    let second = fix_id(&fix(&fx, &["--all", "--only", "keyring"]));
    assert!(first < second, "{first} {second}");
    let run = fx.run(&["undo", &first]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        new_bash_has_token(&fx, ".bashrc", &a),
        "undo of fix 1 broke .bashrc"
    );
    let run = fx.run(&["undo", "--last"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(&second), "{}", run.stdout);
    assert_eq!(
        String::from_utf8(fx.read(".bashrc")).unwrap(),
        format!("export HF_TOKEN={a}\n")
    );
}

/// Every copy of the token on a line gets a lookup that runs where it stands: unquoted,
/// as a quoted word, or inside "…" with other text. Where no lookup could run (inside '…'
/// with other text, a continued command), the fix is refused and the file left alone.
#[test]
fn lookups_run_wherever_the_token_stood_in_a_line() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("quoting");
    fx.write(
        ".bashrc",
        format!(
            "export HF_TOKEN={t} HUGGING_FACE_HUB_TOKEN={t}\nexport HF_AUTH=\"Bearer {t}\"\nexport HF_Q='{t}'\n"
        ),
        0o644,
    );
    let refused = format!("export HF_SQ='Bearer {t}'\nexport HF_CONT=\\\n{t}\n");
    fx.write(".zshrc", &refused, 0o644);
    let run = fx.run(&["fix", "--yes", "--all", "--only", "keyring"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let out = format!("{}{}", run.stdout, run.stderr);
    assert!(
        out.contains("inside a quoted string with other text"),
        "{out}"
    );
    assert!(
        out.contains("continues a command from the line before"),
        "{out}"
    );
    assert_eq!(String::from_utf8(fx.read(".zshrc")).unwrap(), refused);
    let bashrc = String::from_utf8(fx.read(".bashrc")).unwrap();
    fx.assert_no_leak(&bashrc);
    let script = format!(
        ". {}; [ \"$HF_TOKEN\" = \"$WANT\" ] && [ \"$HUGGING_FACE_HUB_TOKEN\" = \"$WANT\" ] && [ \"$HF_AUTH\" = \"Bearer $WANT\" ] && [ \"$HF_Q\" = \"$WANT\" ]",
        fx.path(".bashrc").display()
    );
    let shell = sh_with(&fx, "bash", &script, &[("WANT", &t)]);
    assert!(
        shell.status.success(),
        "a new bash lacks the tokens:\n{bashrc}"
    );
}

/// Lookups never name a build folder: run from `target/` (as the README's `cargo run` does),
/// the plan installs a copy at ~/.local/bin/hfguard and the lookups and git's helper call
/// that copy by its absolute path (the line may run before the one that sets `$PATH`), so
/// `cargo clean` breaks no shell and no push.
#[test]
fn lookups_call_an_installed_copy_never_the_build_folder() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    // As a user runs it: no copy installed yet, nothing set.
    std::fs::remove_file(fx.installed()).unwrap();
    fx.env.remove("HFGUARD_BIN");
    let t = fx.token("abs-path");
    fx.write(".bashrc", format!("export HF_TOKEN={t}\n"), 0o644);
    fx.write(
        ".git-credentials",
        format!("https://hf_user:{t}@huggingface.co\n"),
        0o600,
    );
    fx.write(".gitconfig", "[credential]\n\thelper = store\n", 0o644);
    let run = fix(&fx, &["--all", "--only", "keyring"]);
    assert!(
        run.stdout
            .contains("the plan installs a copy at ~/.local/bin/hfguard"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("create:  ~/.local/bin/hfguard  (mode 0755, a program of"),
        "{}",
        run.stdout
    );
    let installed = fx.installed();
    assert_eq!(fx.mode(".local/bin/hfguard"), 0o755);
    assert!(
        std::fs::read(&installed).unwrap() == std::fs::read(env!("CARGO_BIN_EXE_hfguard")).unwrap(),
        "the copy is not this hfguard"
    );
    let bashrc = String::from_utf8(fx.read(".bashrc")).unwrap();
    let gitconfig = String::from_utf8(fx.read(".gitconfig")).unwrap();
    for text in [&bashrc, &gitconfig] {
        assert!(
            text.contains(&format!("{} ", installed.display())),
            "{text}"
        );
        assert!(
            !text.contains("/target/"),
            "a build folder is named:\n{text}"
        );
    }
    assert!(new_bash_has_token(&fx, ".bashrc", &t), "{bashrc}");
    // Undo takes the copy away with the rest.
    undo_last(&fx);
    assert!(!installed.exists());
}

/// `hfguard install` copies the running program to ~/.local/bin (or --dir) and says when that
/// folder is not on `$PATH`.
#[test]
fn install_copies_itself_where_it_stays() {
    let fx = Fixture::new();
    let run = fx.run(&["install"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("Installed hfguard at ~/.local/bin/hfguard"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("is not on your PATH"), "{}", run.stdout);
    assert_eq!(fx.mode(".local/bin/hfguard"), 0o755);
    let again = fx.run(&["install"]);
    assert!(
        again.stdout.contains("is this hfguard already"),
        "{}",
        again.stdout
    );
}

#[test]
fn startup_files_get_a_keyring_lookup_that_shells_accept() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("shells");
    fx.write(
        ".bashrc",
        format!("alias ll='ls -l'\nexport HF_TOKEN={t}\nexport PATH=$PATH:~/bin\n"),
        0o644,
    );
    fx.write(".zshrc", format!("  export HF_TOKEN=\"{t}\"\n"), 0o644);
    fx.write(
        ".config/fish/config.fish",
        format!("set -gx HF_TOKEN '{t}'\n"),
        0o644,
    );
    let files = [".bashrc", ".zshrc", ".config/fish/config.fish"];
    let before: Vec<Vec<u8>> = files.iter().map(|f| fx.read(f)).collect();
    fix(&fx, &["--all", "--only", "keyring"]);
    let bashrc = String::from_utf8(fx.read(".bashrc")).unwrap();
    assert!(
        bashrc.contains("\nHF_TOKEN=\"$(")
            && bashrc.contains(" token get)\" && export HF_TOKEN || unset HF_TOKEN\n"),
        "{bashrc}"
    );
    assert!(bashrc.contains("# hfguard "), "{bashrc}");
    fx.set_env("EXPECTED", t.clone());
    let check = "[ \"$HF_TOKEN\" = \"$EXPECTED\" ]";
    let bash = fx.path(".bashrc");
    assert!(sh(&fx, "bash", &format!("bash -n {}", bash.display()))
        .status
        .success());
    assert!(
        sh(&fx, "bash", &format!(". {}; {check}", bash.display()))
            .status
            .success(),
        "new bash shell lacks the token"
    );
    if has("zsh") {
        let z = fx.path(".zshrc");
        assert!(sh(&fx, "zsh", &format!("zsh -n {}", z.display()))
            .status
            .success());
        assert!(
            sh(&fx, "zsh", &format!(". {}; {check}", z.display()))
                .status
                .success(),
            "new zsh lacks the token"
        );
    }
    if has("fish") {
        let f = fx.path(".config/fish/config.fish");
        assert!(sh(&fx, "sh", &format!("fish -n {}", f.display()))
            .status
            .success());
        let out = sh(
            &fx,
            "sh",
            &format!(
                "fish -c 'source {}; test \"$HF_TOKEN\" = \"$EXPECTED\"'",
                f.display()
            ),
        );
        assert!(out.status.success(), "new fish lacks the token");
    }
    undo_last(&fx);
    for (f, b) in files.iter().zip(before) {
        assert!(fx.read(f) == b, "{f} not restored");
    }
}

/// Passwords for other hosts, next to the line being fixed, never reach the preview or the
/// journal: both search as every kind of file, so URL passwords are found in any file.
#[test]
fn other_passwords_stay_out_of_the_preview_and_the_journal() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("neighbour");
    let pw = fx.secret("Tr0ub4dorZq93xK9");
    let remote_pw = fx.secret("Xy7PqLmN42hhRt");
    fx.write(
        ".git-credentials",
        format!("https://hf_user:{t}@huggingface.co\nhttps://alice:{pw}@gitlab.example.org\n"),
        0o600,
    );
    let repo = fx.mkdir("code/r", 0o755);
    git_in(&fx, &repo, &["init", "-q"], None);
    git_in(
        &fx,
        &repo,
        &[
            "remote",
            "add",
            "origin",
            &format!("https://bob:{remote_pw}@git.example.com/x/y.git"),
        ],
        None,
    );
    let r = fx.scan(&[]);
    let hf = one(
        &r,
        "hf-token-in-git-credentials",
        &fx.path(".git-credentials"),
    );
    let id = hf["id"].as_str().unwrap().to_string();
    // fx.run checks stdout and stderr for every registered secret.
    let preview = fx.run(&["fix", "--dry-run", "--all"]);
    assert_eq!(preview.code, 0, "{}", preview.stderr);
    fix(&fx, &["--only", "keyring", &id]);
    fx.assert_no_leak(&all_journals(&fx));
    undo_last(&fx);
}

/// Git keeps working as before, or the fix is refused: a scheme and port stay in the helper's
/// section, the user's own helper still answers first, two accounts for one host each keep
/// their own credential, and a host git already has settings for and a symlinked git config
/// are left alone.
#[test]
fn git_fixes_keep_git_working_or_refuse() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (a, b) = (fx.secret("Port8443PassXq9Z"), fx.secret("Zq93xK9Tr0ub4dor"));
    let (c, d) = (fx.secret("AccountOneXq9Z7k"), fx.secret("AccountTwoLmN42h"));
    fx.write(
        ".git-credentials",
        format!(
            "http://bob:{a}@Intranet.example.com:8443\nhttps://carol:{b}@known.example.org\nhttps://u1:{c}@two.example.org\nhttps://u2:{d}@two.example.org\n"
        ),
        0o600,
    );
    // The user's own helper answers for every host; known.example.org has settings already.
    fx.write(
        ".gitconfig",
        "[credential]\n\thelper = \"!f() { test \\\"$1\\\" = get && echo password=FROM-MY-HELPER; }; f\"\n[credential \"https://known.example.org\"]\n\tusername = carol\n",
        0o644,
    );
    let before = fx.read(".git-credentials");
    let run = fx.run(&["fix", "--yes", "--all", "--only", "keyring"]);
    assert_eq!(
        run.code, 1,
        "some fixes are refused:\n{}\n{}",
        run.stdout, run.stderr
    );
    let out = format!("{}{}", run.stdout, run.stderr);
    assert!(
        out.contains("git already has settings for https://known.example.org"),
        "{out}"
    );
    let creds = String::from_utf8(fx.read(".git-credentials")).unwrap();
    assert!(!creds.contains("8443"), "{creds}");
    assert!(creds.contains("known.example.org") && !creds.contains("two.example.org"));
    let config = String::from_utf8(fx.read(".gitconfig")).unwrap();
    assert!(
        config.contains("[credential \"http://intranet.example.com:8443\"]")
            && config.contains("[credential \"https://two.example.org\"]")
            && config.contains("[credential \"https://u2@two.example.org\"]"),
        "{config}"
    );
    // No plaintext store in use: nothing reset, the user's helper still comes first.
    assert!(!config.contains("helper =\n"), "{config}");
    let fill = |host: &str, proto: &str| {
        git_in(
            &fx,
            fx.home(),
            &["credential", "fill"],
            Some(&format!("protocol={proto}\nhost={host}\nusername=bob\n\n")),
        )
    };
    assert!(fill("intranet.example.com:8443", "http").contains("password=FROM-MY-HELPER"));
    // Without the user's helper, git reaches hfguard's for that scheme and port.
    std::fs::write(
        fx.path(".gitconfig"),
        config.replacen("[credential]\n", "[credential-off]\n", 1),
    )
    .unwrap();
    assert!(
        fill("intranet.example.com:8443", "http").contains(&format!("password={a}\n")),
        "git did not reach the keyring"
    );
    // Each account of two.example.org gets its own credential.
    let account = |user: &str| {
        git_in(
            &fx,
            fx.home(),
            &["credential", "fill"],
            Some(&format!(
                "protocol=https\nhost=two.example.org\nusername={user}\n\n"
            )),
        )
    };
    assert!(
        account("u1").contains(&format!("password={c}\n")),
        "u1 lost its password"
    );
    assert!(
        account("u2").contains(&format!("password={d}\n")),
        "u2 lost its password"
    );
    std::fs::write(fx.path(".gitconfig"), &config).unwrap();
    undo_last(&fx);
    assert!(fx.read(".git-credentials") == before);

    // A symlinked git config (a dotfile manager's) is not rewritten, so nothing is fixed.
    let real = fx.write("dotfiles/gitconfig", "[user]\n\tname = me\n", 0o644);
    std::fs::remove_file(fx.path(".gitconfig")).unwrap();
    std::os::unix::fs::symlink(&real, fx.path(".gitconfig")).unwrap();
    let run = fx.run(&["fix", "--yes", "--all", "--only", "keyring"]);
    let out = format!("{}{}", run.stdout, run.stderr);
    assert!(out.contains("is a symlink"), "{out}");
    assert!(fx.read(".git-credentials") == before);
}

/// Git's store configured in another file (the XDG config) is still cleared for the host, so
/// git never writes the token back; the user's other helpers are listed again exactly as git
/// reads them (escapes and all).
#[test]
fn a_store_configured_elsewhere_never_gets_the_token_back() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("xdg-store");
    fx.write(
        ".git-credentials",
        format!("https://alice:{t}@huggingface.co\r\n"),
        0o600,
    );
    fx.write(
        ".config/git/config",
        "[credential]\n\thelper = store\n",
        0o644,
    );
    let mine = r#"!f() { test \"$1\" = get && echo \"quit=0\"; }; f"#;
    fx.write(
        ".gitconfig",
        format!("[user]\n\tname = a\n[credential]\n\thelper = \"{mine}\" # mine\n"),
        0o644,
    );
    let r = fx.scan(&[]);
    let id = one(
        &r,
        "hf-token-in-git-credentials",
        &fx.path(".git-credentials"),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    fix(&fx, &["--only", "keyring", &id]);
    let helpers = git_in(
        &fx,
        fx.home(),
        &[
            "config",
            "--get-all",
            "credential.https://huggingface.co.helper",
        ],
        None,
    );
    let want_mine = r#"!f() { test "$1" = get && echo "quit=0"; }; f"#;
    assert!(helpers.lines().any(|l| l == want_mine), "{helpers}");
    let out = git_in(
        &fx,
        fx.home(),
        &["credential", "fill"],
        Some("protocol=https\nhost=huggingface.co\nusername=alice\n\n"),
    );
    assert!(
        out.contains(&format!("password={t}\n")),
        "git did not reach the keyring"
    );
    git_in(&fx, fx.home(), &["credential", "approve"], Some(&out));
    assert!(
        !fx.path(".git-credentials").exists()
            || !String::from_utf8(fx.read(".git-credentials"))
                .unwrap()
                .contains(&t),
        "git's store wrote the token back"
    );
}

/// A password git stored URL-encoded (`%40` for `@`) is found, and after the keyring fix git
/// gets it decoded, with the user name the removed line carried.
#[test]
fn a_url_encoded_password_reaches_git_decoded_with_its_user_name() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let password = fx.secret("p@ss:w0rd/Xq9Z7k%");
    let encoded = fx.secret("p%40ss%3Aw0rd%2FXq9Z7k%25");
    fx.write(
        ".git-credentials",
        format!("https://carol:{encoded}@git.example.test\n"),
        0o600,
    );
    let before = fx.read(".git-credentials");
    let r = fx.scan(&[]);
    let f = one(
        &r,
        "url-credentials-in-git-credentials",
        &fx.path(".git-credentials"),
    );
    fix(&fx, &["--only", "keyring", f["id"].as_str().unwrap()]);
    // Its only line went, so the file went.
    assert!(!fx.path(".git-credentials").exists());
    let config = String::from_utf8(fx.read(".gitconfig")).unwrap();
    assert!(
        config.contains("[credential \"https://git.example.test\"]")
            && config.contains("\tusername = \"carol\"\n"),
        "{config}"
    );
    let out = git_in(
        &fx,
        fx.home(),
        &["credential", "fill"],
        Some("protocol=https\nhost=git.example.test\n\n"),
    );
    assert!(out.contains("username=carol\n"), "user name lost");
    assert!(
        out.contains(&format!("password={password}\n")),
        "git did not get the decoded password"
    );
    undo_last(&fx);
    assert!(
        fx.read(".git-credentials") == before,
        "not restored byte for byte"
    );
    assert!(!fx.path(".gitconfig").exists());
}

#[test]
fn git_credentials_move_to_a_helper_that_real_git_uses() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("git-helper");
    let new = fx.token("git-helper-rotated");
    fx.write(
        ".git-credentials",
        format!("https://alice:{t}@huggingface.co\nhttps://bob:pw123456@example.org\n"),
        0o600,
    );
    fx.write(".gitconfig", "[credential]\n\thelper = store\n", 0o644);
    let repo = fx.mkdir("code/m", 0o755);
    let git = |args: &[&str], input: Option<&str>| git_in(&fx, &repo, args, input);
    git(&["init", "-q"], None);
    git(
        &[
            "remote",
            "add",
            "origin",
            &format!("https://alice:{t}@huggingface.co/alice/m"),
        ],
        None,
    );
    let before = [
        fx.read(".git-credentials"),
        fx.read(".gitconfig"),
        fx.read("code/m/.git/config"),
    ];
    let r = fx.scan(&[]);
    let hf: Vec<String> = findings(&r)
        .iter()
        .filter(|f| {
            f["provider"] == "huggingface" && f["category"] == "git" && f["secret"].is_string()
        })
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(hf.len(), 2, "{r:#}");
    let mut args = vec!["--only", "keyring"];
    args.extend(hf.iter().map(String::as_str));
    fix(&fx, &args);
    let creds = String::from_utf8(fx.read(".git-credentials")).unwrap();
    assert_eq!(
        creds, "https://bob:pw123456@example.org\n",
        "only the Hugging Face line goes"
    );
    assert_eq!(
        git(&["remote", "get-url", "origin"], None).trim(),
        "https://alice@huggingface.co/alice/m"
    );
    // Real git asks hfguard's helper, which answers from the keyring.
    let out = git(
        &["credential", "fill"],
        Some("protocol=https\nhost=huggingface.co\nusername=alice\n\n"),
    );
    assert!(
        out.contains(&format!("password={t}\n")),
        "git did not get the token from the keyring"
    );
    assert!(out.contains("username=alice\n"));
    // git's `store` approval must not write the token back to the plaintext file.
    git(&["credential", "approve"], Some(&out));
    fx.assert_no_leak(&String::from_utf8(fx.read(".git-credentials")).unwrap());
    // The slot is shared with start-up files and `exec`: a rejection does not delete it.
    git(&["credential", "reject"], Some(&out));
    let again = git(
        &["credential", "fill"],
        Some("protocol=https\nhost=huggingface.co\nusername=alice\n\n"),
    );
    assert!(
        again.contains(&format!("password={t}\n")),
        "a rejection deleted the slot"
    );
    // Another account's credential is not this slot's to keep.
    git(
        &["credential", "approve"],
        Some("protocol=https\nhost=huggingface.co\nusername=mallory\npassword=hf_OtherAccountToken0000000000000000\n\n"),
    );
    // A new token for the same account replaces the slot's value (as git-credential-libsecret
    // does: a re-login), and undo brings the old one back.
    let approve = fx_git_approve(
        &fx,
        &repo,
        &format!("protocol=https\nhost=huggingface.co\nusername=alice\npassword={new}\n\n"),
    );
    assert!(
        approve.contains("now holds") && approve.contains(&redacted(&new)),
        "git's store was silent: {approve}"
    );
    let rotated = git(
        &["credential", "fill"],
        Some("protocol=https\nhost=huggingface.co\nusername=alice\n\n"),
    );
    assert!(
        rotated.contains(&format!("password={new}\n")),
        "the slot kept the old token"
    );
    undo_last(&fx);
    let back = git(
        &["credential", "fill"],
        Some("protocol=https\nhost=huggingface.co\nusername=alice\n\n"),
    );
    assert!(
        back.contains(&format!("password={t}\n")),
        "undo lost the old token"
    );
    fx.secrets.push(t.clone());
    undo_last(&fx);
    let after = [
        fx.read(".git-credentials"),
        fx.read(".gitconfig"),
        fx.read("code/m/.git/config"),
    ];
    assert!(before == after, "git files not restored byte for byte");
}

#[test]
fn redact_histories_notebooks_and_env_files_and_undo() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (a, b, c, d, e) = (
        fx.token("r-bash"),
        fx.token("r-zsh"),
        fx.token("r-fish"),
        fx.token("r-nb"),
        fx.token("r-env"),
    );
    fx.write(
        ".bash_history",
        format!("ls\nhf auth login --token {a}\ncd\n"),
        0o600,
    );
    fx.write(
        ".zsh_history",
        format!(": 1700000000:0;echo \\\n{b}\n: 1700000001:0;ls\n"),
        0o600,
    );
    fx.write(
        ".local/share/fish/fish_history",
        format!("- cmd: hf auth login --token {c}\n  when: 1700000000\n"),
        0o600,
    );
    let nb = format!("{{\n \"cells\": [{{\"cell_type\": \"code\", \"source\": [\"login(\\\"{d}\\\")\"], \"outputs\": [{{\"text\": [\"{d}\"]}}]}}],\n \"nbformat\": 4\n}}\n");
    fx.write("ml/a.ipynb", &nb, 0o644);
    fx.write("ml/.env", format!("HF_TOKEN={e}\nDEBUG=1\n"), 0o600);
    let run = round_trip(
        &fx,
        &[
            ".bash_history",
            ".zsh_history",
            ".local/share/fish/fish_history",
            "ml/a.ipynb",
            "ml/.env",
        ],
        &["--all"],
    );
    assert!(
        run.stdout.contains("history -c"),
        "open shells are mentioned: {}",
        run.stdout
    );

    // And once more, to look at the redacted files themselves.
    fix(&fx, &["--all"]);
    let hist = String::from_utf8(fx.read(".bash_history")).unwrap();
    assert_eq!(
        hist,
        format!(
            "ls\nhf auth login --token [hfguard:redacted:hf_...{}]\ncd\n",
            &a[a.len() - 4..]
        )
    );
    // The cell reads the token from the environment (`hfguard exec` sets it); the printed
    // output is redacted.
    let nb_after: serde_json::Value =
        serde_json::from_slice(&fx.read("ml/a.ipynb")).expect("still valid JSON");
    assert_eq!(nb_after["cells"][0]["source"][0], "import os\n");
    assert_eq!(
        nb_after["cells"][0]["source"][1],
        "login(os.environ[\"HF_TOKEN\"])"
    );
    assert!(nb_after["cells"][0]["outputs"][0]["text"][0]
        .as_str()
        .unwrap()
        .contains("[hfguard:redacted:"));
    let zsh = String::from_utf8(fx.read(".zsh_history")).unwrap();
    assert!(
        zsh.starts_with(": 1700000000:0;echo \\\n[hfguard:redacted:"),
        "{zsh}"
    );
    // A .env line is commented out: a loader never reads a marker as the value.
    let env = String::from_utf8(fx.read("ml/.env")).unwrap();
    assert!(
        env.starts_with("# hfguard ")
            && env.contains("\n# HF_TOKEN=[hfguard:redacted:")
            && env.ends_with("DEBUG=1\n"),
        "{env}"
    );
    let run = fx.run(&["history"]);
    assert_eq!(
        run.stdout.matches("undo: hfguard undo fix-").count(),
        1,
        "{}",
        run.stdout
    );
}

#[test]
fn token_set_from_stdin_list_and_rm() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.secret(format!(
        "sk-proj-{}T3BlbkFJ{}",
        random_alnum("set1", 40),
        random_alnum("set2", 40)
    ));
    let set = fx.run_with_input(
        &["token", "set", "--name", "openai"],
        Some(&format!("{t}\n")),
    );
    let stderr = set.stderr;
    assert!(set.code == 0, "{stderr}");
    assert!(stderr.contains("as `openai`"), "{stderr}");
    let list = fx.run(&["token", "list"]).stdout;
    assert!(list.contains("openai") && list.contains("sk-…"), "{list}");
    fx.set_env("EXPECTED", t.clone());
    assert_eq!(
        fx.run(&[
            "exec",
            "--name",
            "openai",
            "--",
            "sh",
            "-c",
            "test \"$OPENAI_API_KEY\" = \"$EXPECTED\""
        ])
        .code,
        0
    );
    assert_eq!(fx.run(&["token", "rm", "--name", "openai"]).code, 0);
    // As a start-up lookup sees it (standard output and error not a terminal): exit 1 and
    // not a word, so a shell leaves its variable unset and a script's output stays clean.
    let run = fx.run(&["token", "get", "--name", "openai"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "");
    // `exec` says what there is instead.
    let run = fx.run(&["exec", "--name", "openai", "--", "true"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no slot `openai`"), "{}", run.stderr);
}

/// kill -9 at every point of a fix: each file is old or new, never half-written, and the
/// journal lets undo put everything back.
#[test]
fn a_crash_at_any_point_leaves_files_old_or_new_and_undoable() {
    let normalise = |b: Vec<u8>| {
        let s = String::from_utf8_lossy(&b).into_owned();
        regex::Regex::new(r"fix-\d{8}-\d{6}-\d{6}-[0-9a-f]{4}")
            .unwrap()
            .replace_all(&s, "fix-ID")
            .into_owned()
    };
    let files = [
        ".cache/huggingface/token",
        ".bashrc",
        ".bash_history",
        ".git-credentials",
        ".gitconfig",
        "nb/a.ipynb",
    ];
    let build = || {
        let mut fx = Fixture::new();
        fx.with_keyring();
        let t = fx.token("crash");
        let u = fx.token("crash-2");
        fx.mkdir(".cache/huggingface", 0o755);
        fx.write(".cache/huggingface/token", &t, 0o644);
        fx.write(
            ".bashrc",
            format!("alias a=b\nexport HF_TOKEN={t}\n"),
            0o644,
        );
        fx.write(".bash_history", format!("x {u}\ny\n"), 0o600);
        fx.write(
            ".git-credentials",
            format!("https://me:{t}@huggingface.co\n"),
            0o600,
        );
        fx.write(
            "nb/a.ipynb",
            format!("{{\"cells\": [{{\"source\": [\"{u}\"]}}]}}\n"),
            0o644,
        );
        fx
    };
    // Lookups name the fixture's own ~/.local/bin/hfguard: the same file in every home.
    let read = |fx: &Fixture| -> Vec<Option<String>> {
        let home = fx.home().display().to_string();
        files
            .iter()
            .map(|f| {
                std::fs::read(fx.path(f))
                    .ok()
                    .map(normalise)
                    .map(|s| s.replace(&home, "~"))
            })
            .collect()
    };
    // The end state of a run that is not interrupted.
    let done = build();
    let old = read(&done);
    fix(&done, &["--all"]);
    let new = read(&done);

    let mut crashed = 0;
    for n in 1..200 {
        let mut fx = build();
        fx.set_env("HFGUARD_FAILPOINT", n.to_string());
        let mut cmd = fx.command(&["fix", "--all", "--yes"]);
        let out = cmd.output().unwrap();
        fx.assert_no_leak(&String::from_utf8_lossy(&out.stdout));
        use std::os::unix::process::ExitStatusExt;
        let killed = out.status.signal() == Some(9);
        fx.env.remove("HFGUARD_FAILPOINT");
        let now = read(&fx);
        for (i, f) in files.iter().enumerate() {
            assert!(
                now[i] == old[i] || now[i] == new[i],
                "after kill at point {n}, {f} is neither old nor new"
            );
        }
        if !killed {
            assert!(out.status.success());
            assert_eq!(now, new);
            break;
        }
        crashed += 1;
        // The journal is consistent: history recovers it and undo restores everything.
        assert_eq!(fx.run(&["history"]).code, 0);
        let run = fx.run(&["undo", "--all"]);
        assert_eq!(run.code, 0, "undo after kill at point {n}: {}", run.stderr);
        assert!(
            read(&fx) == old,
            "after kill at point {n} and undo, files differ from the originals"
        );
    }
    assert!(crashed >= 8, "only {crashed} crash points exercised");
}

#[test]
fn more_file_kinds_round_trip() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (a, b, c, d, e) = (
        fx.token("netrc"),
        fx.token("pyhist"),
        fx.token("ailog"),
        fx.token("src"),
        fx.token("envd"),
    );
    fx.write(
        ".netrc",
        format!("machine huggingface.co\n  login me\n  password {a}\n"),
        0o600,
    );
    fx.write(
        ".python_history",
        format!("from huggingface_hub import login\nlogin('{b}')\n"),
        0o600,
    );
    fx.write(
        ".claude/projects/-home-me/1.jsonl",
        format!("{{\"message\":\"use {c}\"}}\n"),
        0o600,
    );
    fx.write("code/app/settings.py", format!("HF = '{d}'\n"), 0o644);
    fx.write(
        ".config/environment.d/10-hf.conf",
        format!("HF_TOKEN={e}\n"),
        0o644,
    );
    let run = round_trip(
        &fx,
        &[
            ".netrc",
            ".python_history",
            ".claude/projects/-home-me/1.jsonl",
            "code/app/settings.py",
            ".config/environment.d/10-hf.conf",
        ],
        &["--all"],
    );
    // .netrc loses its Hugging Face entry whole (here the file's only one, so the file);
    // environment.d's line is commented out; the source reads the environment.
    assert!(run.stdout.contains("remove:  ~/.netrc"), "{}", run.stdout);
    assert!(
        run.stdout.contains("+# HF_TOKEN=[hfguard:redacted:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("+HF = os.environ[\"HF_TOKEN\"]"),
        "{}",
        run.stdout
    );
}

/// `fix --all` leaves alone a credential kept where its own tool reads it (info): moving
/// wandb's key out of `.netrc` would break wandb. An explicit id still fixes it.
#[test]
fn fix_all_leaves_a_tools_own_credential_alone() {
    let mut fx = Fixture::new();
    let wandb = fx.secret(random_alnum("wandb-own", 40).to_lowercase());
    let t = fx.token("beside-netrc");
    fx.write(
        ".netrc",
        format!("machine api.wandb.ai\n  login user\n  password {wandb}\n"),
        0o600,
    );
    fx.write(
        ".bash_history",
        format!("hf auth login --token {t}\n"),
        0o600,
    );
    let run = fx.run(&["fix", "--all", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("~/.bash_history"), "{}", run.stdout);
    assert!(!run.stdout.contains(".netrc"), "{}", run.stdout);
    let r = fx.scan(&[]);
    let id = one(&r, "wandb-key-in-netrc", &fx.path(".netrc"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    fx.with_keyring();
    let run = fx.run(&["fix", "--dry-run", "--only", "keyring", &id]);
    assert!(run.stdout.contains("~/.netrc"), "{}", run.stdout);
}

/// Redacting inside a SQLite database keeps every byte where it was (the secret becomes
/// `hf_xxxx…` of its own length, so record lengths stay right), and undo restores it. A
/// write-ahead log, whose frames are checksummed, is found but not edited.
#[test]
fn databases_are_redacted_in_place_and_write_ahead_logs_left_alone() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (t, w) = (fx.token("in-sqlite"), fx.token("in-wal"));
    let mut db = b"SQLite format 3\0".to_vec();
    db.extend_from_slice(&[0u8; 84]);
    db.extend_from_slice(format!("\x04\x01\x01WW{t}\0\0").as_bytes());
    let db_path = ".ipython/profile_default/history.sqlite";
    fx.write(db_path, &db, 0o600);
    let mut wal = vec![0x37, 0x7f, 0x06, 0x82];
    wal.extend_from_slice(&[0u8; 28]);
    wal.extend_from_slice(format!("\x02hf auth login --token {w}\0").as_bytes());
    let wal_path = ".local/share/atuin/history.db-wal";
    fx.write(wal_path, &wal, 0o600);
    // atuin's database may index the command text: not edited in place.
    let a = fx.token("in-atuin");
    let mut atuin = b"SQLite format 3\0".to_vec();
    atuin.extend_from_slice(&[0u8; 84]);
    atuin.extend_from_slice(format!("\x03\x01hf auth login --token {a}\0").as_bytes());
    let atuin_path = ".local/share/atuin/history.db";
    fx.write(atuin_path, &atuin, 0o600);
    let r = fx.scan(&["--quick"]);
    one(&r, "hf-token-in-repl-history", &fx.path(wal_path));
    let run = fx.run(&["fix", "--yes", "--all"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("write-ahead log"),
        "{}",
        run.stdout
    );
    assert!(fx.read(wal_path) == wal, "the write-ahead log was edited");
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("may index its text"),
        "{}",
        run.stdout
    );
    assert!(fx.read(atuin_path) == atuin, "atuin's database was edited");
    let after = fx.read(db_path);
    assert_eq!(after.len(), db.len());
    let filler = format!("hf_{}", "x".repeat(t.len() - 3));
    assert!(
        after.windows(filler.len()).any(|x| x == filler.as_bytes()),
        "{}",
        String::from_utf8_lossy(&after)
    );
    undo_last(&fx);
    assert!(fx.read(db_path) == db, "undo did not restore the database");
}
