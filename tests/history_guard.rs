//! `hfguard guard`: real interactive bash, zsh and fish in a pseudo-terminal (tmux) keep a
//! typed token out of their history files, atuin's configuration stays valid TOML with the
//! user's settings, the filters agree with the audit's rules in every shell's regex
//! dialect, and `--remove` gives every file back byte for byte.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

const GUARD_FILES: [&str; 4] = [
    ".bashrc",
    ".zshrc",
    ".config/fish/config.fish",
    ".config/atuin/config.toml",
];

/// One command line per rule that applies to histories, each holding a secret of that
/// rule's shape; the test checks that the audit itself finds each with its rule.
fn secret_lines() -> Vec<String> {
    let a = |seed: &str, n: usize| random_alnum(seed, n);
    let hex = |seed: &str, n: usize| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(seed.as_bytes()))[..n].to_string()
    };
    vec![
        format!("hf auth login --token {}", hf_token("line-hf")),
        format!("export HF_TOKEN=api_org_{}", a("org", 34)),
        format!(
            "OPENAI_API_KEY=sk-proj-{}T3BlbkFJ{} python run.py",
            a("oa1", 30),
            a("oa2", 30)
        ),
        format!(
            "curl -H 'x-api-key: sk-ant-api03-{}AA' https://api.anthropic.com",
            a("ant", 93)
        ),
        format!("export REPLICATE_API_TOKEN=r8_{}", a("rep", 37)),
        format!("GROQ_API_KEY=gsk_{} ./chat", a("groq", 52)),
        format!(
            "export LANGSMITH_API_KEY=lsv2_pt_{}_{}",
            hex("ls1", 32),
            hex("ls2", 10)
        ),
        format!("git clone https://ghp_{}@github.com/acme/x", a("gh", 36)),
        format!(
            "aws configure set aws_access_key_id AKIA{}",
            "QX7TZ2M4PL5RW3KB"
        ),
        format!("echo aws_secret_access_key = {}", a("awss", 40)),
        format!(
            "curl 'https://maps.googleapis.com/x?key=AIza{}'",
            a("gcp", 35)
        ),
        format!(
            "echo '{{\"refresh_token\": \"1//{}\"}}' > adc.json",
            a("gref", 40)
        ),
        format!(
            "twine upload -p pypi-AgEIcHlwaS5vcmc{} dist/*",
            a("pypi", 60)
        ),
        format!("export WANDB_API_KEY={}", a("wandb", 40).to_lowercase()),
        format!("export KAGGLE_KEY={}", hex("kag", 32)),
        format!("export TOGETHER_API_KEY=tgp_v1_{}", a("tog", 43)),
        format!("export TOGETHER_AI_API_KEY={}", hex("togl", 64)),
        format!("PINECONE_API_KEY=pcsk_{}_{} python index.py", a("pc1", 6), a("pc2", 63)),
        format!(
            "export PINECONE_API_KEY={}-{}-{}-{}-{}",
            hex("pcl1", 8),
            hex("pcl2", 4),
            hex("pcl3", 4),
            hex("pcl4", 4),
            hex("pcl5", 12)
        ),
        format!("export KAGGLE_API_TOKEN=KGAT_{}", hex("kgat", 32)),
        format!("npm config set //registry.npmjs.org/:_authToken npm_{}", a("npm", 36)),
        format!(
            "modal token set --token-id ak-{} --token-secret as-{}",
            a("mid", 22),
            a("msec", 22)
        ),
        format!("export MISTRAL_API_KEY={}", a("mis", 32)),
        format!("CO_API_KEY={} python rerank.py", a("coh", 40)),
        format!(
            "printf '-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ{}\\n{}\\n-----END OPENSSH PRIVATE KEY-----\\n' > k",
            a("ssh1", 60),
            a("ssh2", 40)
        ),
        format!(
            "printf '-----BEGIN RSA PRIVATE KEY-----\\nMII{}\\n{}\\n-----END RSA PRIVATE KEY-----\\n' > k",
            a("rsa1", 61),
            a("rsa2", 40)
        ),
        format!(
            "printf '-----BEGIN ENCRYPTED PRIVATE KEY-----\\nMII{}\\n-----END ENCRYPTED PRIVATE KEY-----\\n' > k",
            a("enc1", 64)
        ),
        format!(
            "pip install --extra-index-url https://ci:{}@pypi.corp.example/simple torch",
            a("pipw", 14)
        ),
        format!("export UV_INDEX_CORP_PASSWORD={}", a("uvpw", 18)),
        format!(
            "git -c http.extraheader=\"AUTHORIZATION: basic {}\" fetch",
            base64_of(&format!("x:{}", a("xhb", 16)))
        ),
        format!(
            "git -c http.extraHeader='Authorization: Bearer {}' clone https://git.example.org/x",
            a("xht", 40)
        ),
    ]
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Lines that must stay in the history.
const HARMLESS: [&str; 6] = [
    "python -c 'from huggingface_hub import hf_hub_download'",
    "pip install 'huggingface_hub[hf_transfer]'",
    "hf auth login",
    "export HF_HOME=/data/hf_cache",
    "echo hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx_longer_than_a_token",
    "git log --oneline | head",
];

fn guarded_home() -> Fixture {
    let fx = Fixture::new();
    fx.write(".bashrc", "alias ll='ls -l'\n", 0o644);
    fx.write(
        ".zshrc",
        "HISTFILE=~/.zsh_history\nSAVEHIST=1000\nHISTSIZE=1000\n",
        0o644,
    );
    fx.mkdir(".config/fish", 0o755);
    fx.write(".config/atuin/config.toml", "style = \"compact\"\n", 0o644);
    let run = fx.run(&["guard", "--yes"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for f in GUARD_FILES {
        assert!(
            String::from_utf8(fx.read(f))
                .unwrap()
                .contains(">>> hfguard history guard >>>"),
            "{f} not guarded:\n{}",
            run.stdout
        );
    }
    fx
}

/// Every line holds a secret the audit finds with the rule it was written for, and every
/// rule that applies to histories has a line.
#[test]
fn every_history_rule_has_a_sample() {
    let rules = hfguard::rules::builtin();
    let mut covered = std::collections::BTreeSet::new();
    for l in secret_lines() {
        let mut found = Vec::new();
        rules.find(
            l.as_bytes(),
            Some(hfguard::kind::FileKind::ShellHistory),
            &mut found,
        );
        assert!(!found.is_empty(), "the audit finds nothing in {l}");
        covered.extend(found.iter().map(|m| rules.rules[m.rule].id.clone()));
    }
    for r in rules.rules.iter().filter(|r| r.applies_everywhere()) {
        assert!(covered.contains(&r.id), "no sample line for rule {}", r.id);
    }
}

/// The filters each shell runs, in its own regex engine, keep exactly the secret lines out.
#[test]
fn each_shells_filter_agrees_with_the_audit() {
    let fx = guarded_home();
    let lines: Vec<(String, bool)> = secret_lines()
        .into_iter()
        .map(|l| (l, true))
        .chain(HARMLESS.iter().map(|l| (l.to_string(), false)))
        .collect();
    let data = tempfile::tempdir().unwrap();
    let list = data.path().join("lines");
    std::fs::write(
        &list,
        lines
            .iter()
            .map(|(l, _)| format!("{l}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let expected: Vec<&str> = lines
        .iter()
        .map(|(_, s)| if *s { "1" } else { "0" })
        .collect();
    let scripts = [
        (
            "bash",
            format!(
                "source {rc}; while IFS= read -r l; do [[ $l =~ $__hfguard_history_re ]] && echo 1 || echo 0; done < {list}",
                rc = fx.path(".bashrc").display(),
                list = list.display()
            ),
        ),
        (
            "zsh",
            format!(
                "source {rc}; while IFS= read -r l; do [[ $l =~ $__hfguard_history_re ]] && echo 1 || echo 0; done < {list}",
                rc = fx.path(".zshrc").display(),
                list = list.display()
            ),
        ),
        (
            "fish",
            format!(
                "source {rc}; while read -l l; string match -qr -- $__hfguard_history_re $l; and echo 1; or echo 0; end < {list}",
                rc = fx.path(".config/fish/config.fish").display(),
                list = list.display()
            ),
        ),
    ];
    for (shell, script) in scripts {
        let out = Command::new(shell)
            .arg("-c")
            .arg(&script)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("HOME", fx.home())
            .output()
            .unwrap_or_else(|e| panic!("{shell}: {e} (./scripts/test installs it)"));
        let got = String::from_utf8_lossy(&out.stdout);
        let got: Vec<&str> = got.lines().collect();
        assert_eq!(
            got,
            expected,
            "{shell} disagrees; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // atuin applies its history_filter with the `regex` crate: any pattern matching drops the
    // command.
    let config: toml::Table =
        toml::from_str(&String::from_utf8(fx.read(".config/atuin/config.toml")).unwrap())
            .expect("atuin's config stays valid TOML");
    assert_eq!(config["style"].as_str(), Some("compact"));
    let patterns: Vec<&str> = config["history_filter"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let set = regex::RegexSet::new(&patterns).expect("atuin can compile every pattern");
    for (l, secret) in &lines {
        assert_eq!(set.is_match(l), *secret, "atuin: {l}");
    }
    fx.assert_no_leak(&String::from_utf8_lossy(&fx.read(".bashrc")));
}

/// Types into a real interactive `shell` in tmux, exits, and returns the history file.
fn type_into(fx: &Fixture, shell: &str, history: &str, lines: &[String]) -> String {
    let cmd = format!(
        "env -i PATH=\"$PATH\" HOME='{h}' TERM=xterm-256color {shell} -i; echo SHELL-EXITED; sleep 60",
        h = fx.home().display()
    );
    let tmux = Tmux::start(
        format!("hfguard-guard-{shell}-{}", std::process::id()),
        200,
        50,
        &cmd,
    );
    // The prompt is up once a command runs (the quotes keep the typed line from matching).
    tmux.keys(&["echo shell\"\"-ready", "Enter"]);
    tmux.wait_for("shell-ready");
    for l in lines {
        tmux.cmd(&["send-keys", "-t", "t", "-l", l]);
        tmux.keys(&["Enter"]);
        std::thread::sleep(Duration::from_millis(150));
    }
    tmux.keys(&["echo all\"\"-typed", "Enter"]);
    tmux.wait_for("all-typed");
    tmux.keys(&["exit", "Enter"]);
    // (The screen shows what was typed, token included: that is the terminal, not hfguard.)
    tmux.wait_for("SHELL-EXITED");
    String::from_utf8_lossy(&fx.read(history)).into_owned()
}

fn check_typed_history(shell: &str, history: &str) {
    let mut fx = guarded_home();
    let token = fx.token(&format!("typed-{shell}"));
    let lines = vec![
        "echo before-the-login".to_string(),
        format!("hf auth login --token {token}"),
        "echo 'from huggingface_hub import hf_hub_download'".to_string(),
        format!("export HF_TOKEN={token}"),
        "echo after-the-login".to_string(),
    ];
    let saved = type_into(&fx, shell, history, &lines);
    assert!(
        !saved.contains(&token[3..]),
        "{shell} saved the token:\n{saved}"
    );
    for kept in [
        "echo before-the-login",
        "echo 'from huggingface_hub import hf_hub_download'",
        "echo after-the-login",
    ] {
        assert!(saved.contains(kept), "{shell} lost `{kept}`:\n{saved}");
    }
    // And the audit agrees: nothing in that history.
    let r = fx.scan(&["--quick"]);
    assert!(rules_at(&r, &fx.path(history)).is_empty(), "{r:#}");
}

#[test]
fn bash_keeps_a_typed_token_out_of_its_history() {
    check_typed_history("bash", ".bash_history");
}

#[test]
fn zsh_keeps_a_typed_token_out_of_its_history() {
    check_typed_history("zsh", ".zsh_history");
}

/// Debian 12's fish 3.6 has no `fish_should_add_to_history`: the guard's `fish_postexec`
/// handler deletes the line.
#[test]
fn fish_keeps_a_typed_token_out_of_its_history() {
    check_typed_history("fish", ".local/share/fish/fish_history");
}

/// fish ≥ 4 asks `fish_should_add_to_history`: the function the guard defines refuses a
/// secret, keeps fish's leading-space rule, and defers to a function the user had.
#[test]
fn fish_4_hook_refuses_secrets_and_keeps_the_users_own() {
    let fx = guarded_home();
    let block = String::from_utf8(fx.read(".config/fish/config.fish")).unwrap();
    // This machine's fish is older: take the fish ≥ 4 branch by hand.
    let fish4 = block.replace(
        "if string match -qr -- '^([4-9]|[1-9][0-9]+)\\.' $version",
        "if true",
    );
    assert_ne!(fish4, block, "the version gate moved");
    let token = hf_token("fish4");
    let ask = |user_fn: &str| {
        let script = format!(
            "{user_fn}\n{fish4}\nfor l in 'ls' ' private' 'hf auth login --token {token}' 'rm -rf x'\n fish_should_add_to_history $l; and echo keep; or echo drop\nend"
        );
        // Without the home's config.fish, which already installed the fish 3 handler.
        let out = Command::new("fish")
            .args(["--no-config", "-c"])
            .arg(script)
            .env_clear()
            .env("HOME", fx.home())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(ask(""), ["keep", "drop", "drop", "keep"]);
    let users = "function fish_should_add_to_history\n string match -q 'rm *' -- $argv[1]; and return 1\n return 0\nend";
    assert_eq!(ask(users), ["keep", "keep", "drop", "drop"]);
}

/// Guarding twice changes nothing; `--remove` and `undo` give every file back byte for byte
/// with its mode, including a last line without a newline.
#[test]
fn remove_and_undo_restore_every_file_byte_for_byte() {
    let fx = Fixture::new();
    let originals: BTreeMap<&str, (&str, u32)> = BTreeMap::from([
        (".bashrc", ("# mine\nexport PATH=\"$HOME/bin:$PATH\"", 0o600)),
        (".zshrc", ("setopt share_history\n\n", 0o644)),
        (".config/fish/config.fish", ("if status is-interactive\nend\n", 0o640)),
        (
            ".config/atuin/config.toml",
            ("## atuin\nhistory_filter = [\n   \"^secret-cmd\", # mine\n]\n\n[sync]\nrecords = true\n", 0o600),
        ),
    ]);
    for (f, (text, mode)) in &originals {
        fx.write(f, text, *mode);
    }
    let check_original = |when: &str| {
        for (f, (text, mode)) in &originals {
            assert_eq!(fx.read(f), text.as_bytes(), "{f} after {when}");
            assert_eq!(fx.mode(f), *mode, "{f} mode after {when}");
        }
    };
    assert_eq!(fx.run(&["guard", "--yes"]).code, 0);
    let guarded: Vec<Vec<u8>> = GUARD_FILES.iter().map(|f| fx.read(f)).collect();
    let again = fx.run(&["guard", "--yes"]);
    assert_eq!(again.code, 0);
    assert!(
        again.stdout.contains("Nothing to change."),
        "{}",
        again.stdout
    );
    assert!(
        again.stdout.contains("bash's history is already guarded."),
        "{}",
        again.stdout
    );
    let atuin: toml::Table =
        toml::from_str(&String::from_utf8(fx.read(".config/atuin/config.toml")).unwrap()).unwrap();
    let filters = atuin["history_filter"].as_array().unwrap();
    assert_eq!(filters.last().unwrap().as_str(), Some("^secret-cmd"));
    assert!(atuin["sync"]["records"].as_bool().unwrap());

    let removed = fx.run(&["guard", "--remove", "--yes"]);
    assert_eq!(removed.code, 0, "{}{}", removed.stdout, removed.stderr);
    check_original("--remove");
    // The removal is a fix like any other: undo puts the guard back, undo again takes the
    // first guard's changes back.
    assert_eq!(fx.run(&["undo"]).code, 0);
    let back: Vec<Vec<u8>> = GUARD_FILES.iter().map(|f| fx.read(f)).collect();
    assert_eq!(back, guarded);
    assert_eq!(fx.run(&["undo"]).code, 0);
    check_original("undo");
    let history = fx.run(&["history"]).stdout;
    assert_eq!(history.matches("undone").count(), 2, "{history}");
}

/// A start-up file the guard created (nothing else in it) goes again with `--remove`; undo
/// also takes away the folders it made for it.
#[test]
fn a_created_file_is_removed_again() {
    let fx = Fixture::new();
    let run = fx.run(&["guard", "--shell", "fish", "--yes"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("mkdir"), "{}", run.stdout);
    assert!(fx.path(".config/fish/config.fish").exists());
    assert_eq!(fx.run(&["undo"]).code, 0);
    assert!(!fx.path(".config").exists(), "undo left the folders");
    let run = fx.run(&["guard", "--shell", "fish", "--yes"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let run = fx.run(&["guard", "--shell", "fish", "--remove", "--yes"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(!fx.path(".config/fish/config.fish").exists());
}

/// `scan` says which shells are guarded; the checklist has the item; a guard from older
/// rules is reported as outdated and updated in place.
#[test]
fn scan_reports_each_shell_and_the_checklist_item() {
    let fx = Fixture::new();
    fx.write(".bash_history", "ls\n", 0o600);
    fx.write(".zshrc", "# zsh\n", 0o644);
    let r = fx.scan(&[]);
    assert_eq!(
        r["guards"],
        serde_json::json!([
            {"shell": "bash", "file": fx.path(".bashrc").to_str().unwrap(), "state": "unguarded"},
            {"shell": "zsh", "file": fx.path(".zshrc").to_str().unwrap(), "state": "unguarded"},
        ])
    );
    let md = fx
        .run(&["scan", "--format", "markdown", "--skip", "processes"])
        .stdout;
    assert!(md.contains("- [ ] Shell histories are guarded\n  - bash: ~/.bashrc has no guard; run 'hfguard guard --shell bash'"), "{md}");
    let text = fx.run(&["scan", "--skip", "processes"]).stdout;
    assert!(
        text.contains("  zsh    ~/.zshrc  not guarded: `hfguard guard --shell zsh`"),
        "{text}"
    );

    assert_eq!(fx.run(&["guard", "--yes"]).code, 0);
    let r = fx.scan(&[]);
    for g in r["guards"].as_array().unwrap() {
        assert_eq!(g["state"], "guarded", "{g}");
    }
    // The guard blocks hold patterns, never anything the audit takes for a secret.
    assert!(rules_at(&r, &fx.path(".bashrc")).is_empty(), "{r:#}");
    assert!(rules_at(&r, &fx.path(".zshrc")).is_empty(), "{r:#}");
    let md = fx
        .run(&["scan", "--format", "markdown", "--skip", "processes"])
        .stdout;
    assert!(md.contains("- [x] Shell histories are guarded"), "{md}");

    let zshrc = String::from_utf8(fx.read(".zshrc")).unwrap();
    fx.write(
        ".zshrc",
        zshrc.replace("hf_[A-Za-z0-9]{34}", "hf_[A-Za-z0-9]{30}"),
        0o644,
    );
    let r = fx.scan(&[]);
    assert_eq!(r["guards"][1]["state"], "outdated");
    assert_eq!(fx.run(&["guard", "--shell", "zsh", "--yes"]).code, 0);
    assert_eq!(fx.read(".zshrc"), zshrc.as_bytes());
}

/// Every shell history finding offers the "guard" fix; `fix ID --only guard` installs the
/// guard of that history's shell and leaves the history alone.
#[test]
fn history_findings_offer_the_guard_fix() {
    let mut fx = Fixture::new();
    let t = fx.token("guard-fix");
    let history = format!("ls\nhf auth login --token {t}\n");
    fx.write(".zsh_history", &history, 0o600);
    fx.write(".python_history", format!("login('{t}')\n"), 0o600);
    let r = fx.scan(&[]);
    let zsh = one(&r, "hf-token-in-shell-history", &fx.path(".zsh_history"));
    assert_eq!(zsh["fixes"], serde_json::json!(["redact", "guard"]));
    let py = one(&r, "hf-token-in-repl-history", &fx.path(".python_history"));
    assert_eq!(py["fixes"], serde_json::json!(["redact"]));
    let id = zsh["id"].as_str().unwrap();
    let run = fx.run(&["fix", id, "--only", "guard", "--yes"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("create:  ~/.zshrc"), "{}", run.stdout);
    assert_eq!(fx.read(".zsh_history"), history.as_bytes());
    let r = fx.scan(&[]);
    assert_eq!(r["guards"][0]["state"], "guarded");
}

/// A `.bashrc` the same plan rewrites (its token becomes a lookup) gets the guard on top of
/// that rewrite: one change to the file, both in it.
#[test]
fn a_guard_joins_another_fix_of_the_same_file() {
    use hfguard::finding::FixKind;
    let mut fx = Fixture::new();
    fx.with_keyring(); // the lookup needs a keyring to plan
    let t = fx.token("joined");
    fx.write(".bashrc", format!("export HF_TOKEN={t}\n"), 0o644);
    fx.write(
        ".bash_history",
        format!("hf auth login --token {t}\n"),
        0o600,
    );
    let env: Vec<(String, std::ffi::OsString)> =
        fx.env.iter().map(|(k, v)| (k.clone(), v.into())).collect();
    let home = hfguard::home::Home::new(fx.home(), env);
    let options = hfguard::audit::ScanOptions {
        quick: true,
        skip_probes: vec!["processes".into(), "environment".into()],
        ..Default::default()
    };
    let report = hfguard::audit::run(&home, &options, &hfguard::audit::NoSink);
    let pick = |rule: &str| {
        report
            .findings
            .iter()
            .find(|f| f.rule == rule)
            .unwrap_or_else(|| panic!("no {rule}"))
            .clone()
    };
    let choices = vec![
        (pick("hf-token-in-startup-file"), FixKind::Keyring),
        (pick("hf-token-in-shell-history"), FixKind::Guard),
    ];
    let plan = hfguard::fix::plan(&home, &choices);
    assert!(plan.refused.is_empty(), "{:?}", plan.refused);
    let bashrc: Vec<_> = plan
        .files
        .iter()
        .filter(|f| f.path == fx.path(".bashrc"))
        .collect();
    assert_eq!(bashrc.len(), 1);
    let hfguard::fix::Change::Rewrite { after, .. } = &bashrc[0].change else {
        panic!("not a rewrite")
    };
    let after = String::from_utf8_lossy(after);
    assert!(after.contains("token get"), "{after}");
    assert!(after.contains(">>> hfguard history guard >>>"), "{after}");
    assert!(!after.contains(&t[3..]));
    assert_eq!(plan.findings.len(), 2);
}

/// Root guarding another user's home acts as that user (as every fix does): the guarded
/// start-up file and the ones it creates, folders included, belong to the home's owner, never
/// to root.
#[test]
fn another_users_home_is_guarded_as_its_owner() {
    use std::os::unix::fs::MetadataExt;
    if !nix::unistd::geteuid().is_root() {
        return; // only root can own files for another user (CI runs as root)
    }
    let fx = Fixture::new();
    let bashrc = fx.write(".bashrc", "alias ll='ls -l'\n", 0o644);
    let alice = Some(nix::unistd::Uid::from_raw(4321));
    let group = Some(nix::unistd::Gid::from_raw(4321));
    nix::unistd::chown(&bashrc, alice, group).unwrap();
    nix::unistd::chown(fx.home(), alice, group).unwrap();
    let run = fx.run(&[
        "guard", "--shell", "bash", "--shell", "zsh", "--shell", "fish", "--yes",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for f in [
        ".bashrc",
        ".zshrc",
        ".config/fish/config.fish",
        ".config/fish",
        ".config",
    ] {
        let m = std::fs::symlink_metadata(fx.path(f)).unwrap();
        assert_eq!(m.uid(), 4321, "{f} belongs to {}", m.uid());
    }
    assert!(String::from_utf8(fx.read(".bashrc"))
        .unwrap()
        .starts_with("alias ll='ls -l'\n\n# >>> hfguard history guard >>>"));
    nix::unistd::chown(fx.home(), Some(nix::unistd::geteuid()), None).unwrap();
}
