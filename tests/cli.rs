//! The `hfguard` command line: formats, exit codes, `--fail-on`, `--output`, colour, the
//! bare command, and the promise that no output ever holds a full secret.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;

/// A home with one exposure of each severity and a warning.
fn mixed_home() -> Fixture {
    let mut fx = Fixture::new();
    let t = fx.token("mixed");
    fx.mkdir(".cache/huggingface", 0o755); // low: folder
    fx.write(".cache/huggingface/token", &t, 0o600); // medium: token at rest
    fx.write(
        ".bash_history",
        format!("hf auth login --token {t}\n"),
        0o600,
    ); // high
    fx.write(".profile", "umask 022\n", 0o666); // critical: writable start-up file
    fx
}

#[test]
fn text_report_groups_by_severity_with_home_relative_paths() {
    let fx = mixed_home();
    let run = fx.run(&["scan", "--skip", "processes"]);
    assert_eq!(run.code, 1);
    let out = &run.stdout;
    let order: Vec<usize> = ["CRITICAL (1)", "HIGH (1)", "MEDIUM (1)", "LOW (1)"]
        .iter()
        .map(|h| out.find(h).unwrap_or_else(|| panic!("no {h} in\n{out}")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{out}");
    assert!(out.contains("~/.bash_history:1  hf_…"), "{out}");
    assert!(out.contains("~/.profile  mode 0666"), "{out}");
    assert!(out.contains("fix: redact · id hfg-"), "{out}");
    let last = out.lines().last().unwrap();
    assert!(
        last.starts_with("4 findings: 1 critical, 1 high, 1 medium, 1 low, 0 info"),
        "{last}"
    );
    // Not a terminal: no colour.
    assert!(!out.contains('\x1b'), "{out}");
}

#[test]
fn json_report_has_the_documented_shape() {
    let fx = mixed_home();
    let r = fx.scan(&[]);
    assert_eq!(r["schema"], "hfguard.report/v1");
    assert_eq!(r["home"], fx.home().to_str().unwrap());
    assert_eq!(
        r["summary"],
        serde_json::json!({"critical": 1, "high": 1, "medium": 1, "low": 1, "info": 0})
    );
    assert!(r["warnings"].is_array());
    let keys = [
        "id",
        "rule",
        "category",
        "severity",
        "provider",
        "path",
        "line",
        "variable",
        "pid",
        "mode",
        "secret",
        "fingerprint",
        "message",
        "fixes",
    ];
    for f in findings(&r) {
        for k in keys {
            assert!(f.get(k).is_some(), "finding lacks {k}: {f}");
        }
        let id = f["id"].as_str().unwrap();
        assert!(id.starts_with("hfg-") && id.len() == 16, "{id}");
        let rule = f["rule"].as_str().unwrap();
        assert!(
            rule.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{rule}"
        );
        assert!(!f["message"].as_str().unwrap().is_empty());
    }
}

#[test]
fn markdown_is_a_checklist() {
    let fx = mixed_home();
    let run = fx.run(&["scan", "--format", "markdown", "--skip", "processes"]);
    assert_eq!(run.code, 1);
    let md = &run.stdout;
    assert!(md.starts_with("# Workstation credential hygiene"), "{md}");
    assert!(
        md.contains("- [ ] Tokens are kept in the OS keyring"),
        "{md}"
    );
    assert!(
        md.contains("- [ ] No tokens in shell, REPL or AI assistant histories"),
        "{md}"
    );
    assert!(md.contains("- [x] No plaintext git credentials"), "{md}");
    assert!(
        md.contains("  - **high** `~/.bash_history:1` `hf_…"),
        "{md}"
    );
    // The home has a bash history and no guard.
    assert!(md.contains("- [ ] Shell histories are guarded"), "{md}");
    assert!(md.contains("4 of 9 checks pass"), "{md}");

    let clean = Fixture::new();
    let run = clean.run(&["scan", "--format", "markdown", "--skip", "processes"]);
    assert_eq!(run.code, 0);
    assert!(!run.stdout.contains("- [ ]"), "{}", run.stdout);
    assert_eq!(run.stdout.matches("- [x]").count(), 9);
}

#[test]
fn sarif_validates_against_the_2_1_0_schema() {
    let mut fx = mixed_home();
    let t = fx.token("sarif-env");
    fx.set_env("HF_TOKEN", t);
    fx.write(
        "with space/é.py",
        format!("x = '{}'\n", fx.secrets[0]),
        0o644,
    );
    let run = fx.run(&["scan", "--format", "sarif", "--skip", "processes"]);
    assert_eq!(run.code, 1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/sarif-schema-2.1.0.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF: {errors:#?}");
    // The validator does reject what the schema forbids.
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
    assert!(!validator.is_valid(&broken));

    let run0 = &doc["runs"][0];
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), 6, "{doc:#}");
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert!(rules[idx]["help"]["text"].as_str().unwrap().len() > 20);
        assert!(r["partialFingerprints"]["hfguardId/v2"]
            .as_str()
            .unwrap()
            .starts_with("hfg-"));
        assert!(r["locations"][0].is_object());
    }
    let uris: Vec<&str> = results
        .iter()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert!(uris.contains(&".bash_history"), "{uris:?}");
    assert!(uris.contains(&"with%20space/%C3%A9.py"), "{uris:?}");
    let base = run0["originalUriBaseIds"]["HOME"]["uri"].as_str().unwrap();
    assert!(
        base.starts_with("file:///") && base.ends_with('/'),
        "{base}"
    );
}

#[test]
fn fail_on_sets_the_exit_code() {
    let mut fx = Fixture::new();
    let t = fx.token("medium-only");
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &t, 0o600);
    let code = |args: &[&str]| {
        let mut a = vec!["scan", "--skip", "processes"];
        a.extend_from_slice(args);
        fx.run(&a).code
    };
    assert_eq!(code(&[]), 1);
    assert_eq!(code(&["--fail-on", "medium"]), 1);
    assert_eq!(code(&["--fail-on", "high"]), 0);
    assert_eq!(code(&["--fail-on", "critical"]), 0);
    assert_eq!(code(&["--fail-on", "never"]), 0);

    // Ignored findings do not count.
    let r = fx.scan(&[]);
    let id = findings(&r)[0]["id"].as_str().unwrap().to_string();
    fx.write(
        ".config/hfguard/config.toml",
        format!("[[ignore]]\nid = \"{id}\"\nreason = \"shared lab machine, rotated weekly\"\n"),
        0o644,
    );
    assert_eq!(code(&[]), 0);
    let r = fx.scan(&[]);
    assert_eq!(
        findings(&r)[0]["ignored"],
        "shared lab machine, rotated weekly"
    );
    assert_eq!(r["summary"]["medium"], 0);
}

#[test]
fn clean_home_exits_zero_with_a_clear_line() {
    let fx = Fixture::new();
    let run = fx.run(&["scan", "--skip", "processes"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("No exposed credentials found."),
        "{}",
        run.stdout
    );
}

#[test]
fn usage_and_fatal_errors_exit_two_with_the_reason() {
    let fx = Fixture::new();
    let run = fx.run(&["scan", "--format", "xml"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("xml"), "{}", run.stderr);

    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hfguard"));
    cmd.args(["scan", "--home", "/nonexistent/hfguard-test-home"])
        .env_clear();
    let run = run_with_timeout(&mut cmd, std::time::Duration::from_secs(30));
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("/nonexistent/hfguard-test-home"),
        "{}",
        run.stderr
    );

    fx.write("bad.toml", "[scan]\nmax_file_sise = 1\n", 0o644);
    let run = fx.run(&["scan", "--config", fx.path("bad.toml").to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("bad.toml") && run.stderr.contains("max_file_sise"),
        "{}",
        run.stderr
    );

    let run = fx.run(&[
        "scan",
        "--config",
        fx.path("missing.toml").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("missing.toml"), "{}", run.stderr);

    let run = fx.run(&["scan", "--path", fx.path("nope").to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("nope"), "{}", run.stderr);
}

#[test]
fn output_file_is_private_and_stdout_stays_empty() {
    let fx = mixed_home();
    let out = fx.path("report.json");
    let run = fx.run(&[
        "scan",
        "--quick",
        "--skip",
        "processes",
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    let text = std::fs::read_to_string(&out).unwrap();
    fx.assert_no_leak(&text);
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["schema"], "hfguard.report/v1");
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn bare_hfguard_off_a_terminal_prints_the_report_and_a_hint() {
    let fx = mixed_home();
    let run = fx.run(&[]);
    assert_eq!(run.code, 1);
    // Other tests' processes may add a critical finding of their own (a token on a command line).
    assert!(run.stdout.contains("CRITICAL ("), "{}", run.stdout);
    assert!(run.stdout.contains("dashboard"), "{}", run.stdout);
}

#[test]
fn help_explains_commands_options_and_exit_codes() {
    let fx = Fixture::new();
    let run = fx.run(&["--help"]);
    assert_eq!(run.code, 0);
    for word in ["scan", "--home", "--config", "Exit codes"] {
        assert!(run.stdout.contains(word), "{word} missing:\n{}", run.stdout);
    }
    let run = fx.run(&["scan", "--help"]);
    for word in [
        "--format",
        "--fail-on",
        "--quick",
        "--path",
        "--output",
        "sarif",
        "markdown",
    ] {
        assert!(run.stdout.contains(word), "{word} missing:\n{}", run.stdout);
    }
}

/// Every kind of place, every format: no full secret anywhere in stdout or stderr (the
/// runner checks each run).
#[test]
fn no_full_secret_in_any_output() {
    let mut fx = Fixture::new();
    let tokens: Vec<String> = (0..12).map(|i| fx.token(&format!("leak{i}"))).collect();
    let openai = fx.secret(format!(
        "sk-proj-{}T3BlbkFJ{}",
        random_alnum("l1", 40),
        random_alnum("l2", 40)
    ));
    let short_pw = fx.secret("Sup3r$ecretPw!");
    fx.write(".cache/huggingface/token", &tokens[0], 0o644);
    fx.write(
        ".cache/huggingface/stored_tokens",
        format!("[a]\nhf_token = {}\n", tokens[1]),
        0o644,
    );
    fx.write(".huggingface/token", &tokens[2], 0o644);
    fx.write(
        ".git-credentials",
        format!("https://u:{}@huggingface.co\n", tokens[3]),
        0o644,
    );
    fx.write(".netrc", format!("machine huggingface.co login u password {}\nmachine example.org login u password {short_pw}\n", tokens[4]), 0o644);
    fx.write(
        ".bashrc",
        format!(
            "export HF_TOKEN={}\nexport OPENAI_API_KEY={openai}\n",
            tokens[5]
        ),
        0o666,
    );
    fx.write(
        ".zsh_history",
        format!(": 1:0;hf auth login --token {}\n", tokens[6]),
        0o644,
    );
    fx.write(
        "nb/a.ipynb",
        format!(
            "{{\"cells\":[{{\"source\":[\"login('{}')\"]}}]}}",
            tokens[7]
        ),
        0o644,
    );
    fx.write("proj/.env", format!("HF_TOKEN={}\n", tokens[8]), 0o644);
    fx.write(
        "proj/.git/config",
        format!(
            "[remote \"o\"]\n\turl = https://u:{}@huggingface.co/x\n",
            tokens[9]
        ),
        0o644,
    );
    use base64::Engine;
    fx.write(
        "k8s.yaml",
        format!(
            "data:\n  t: {}\n",
            base64::engine::general_purpose::STANDARD.encode(&tokens[10])
        ),
        0o644,
    );
    fx.set_env("HF_TOKEN", tokens[11].clone());
    for format in ["text", "json", "sarif", "markdown"] {
        let run = fx.run(&["scan", "--format", format, "--verbose"]);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        // Everything was found, in redacted form.
        for t in &tokens {
            assert!(
                run.stdout.contains(&redacted(t)),
                "{format}: {} missing",
                redacted(t)
            );
        }
    }
}

/// Each distinct secret is listed once, with how many places hold it, whether it must be
/// rotated and where its provider rotates it; a credential kept where its own tool expects
/// it (info) is not.
#[test]
fn secrets_to_rotate_are_listed_once_with_where_to_rotate_them() {
    let mut fx = Fixture::new();
    let hf = fx.token("rotate");
    let openai = fx.secret(format!(
        "sk-proj-{}T3BlbkFJ{}",
        random_alnum("r1", 40),
        random_alnum("r2", 40)
    ));
    let wandb = fx.secret(random_alnum("wandb-rot", 40).to_lowercase());
    fx.write(".cache/huggingface/token", &hf, 0o600);
    fx.write(
        ".bash_history",
        format!("hf auth login --token {hf}\n"),
        0o600,
    );
    fx.write("proj/.env", format!("OPENAI_API_KEY={openai}\n"), 0o600);
    fx.write(
        ".netrc",
        format!("machine api.wandb.ai\n  login user\n  password {wandb}\n"),
        0o600,
    );
    let out = fx.run(&["scan", "--skip", "processes"]).stdout;
    let section = &out[out.find("SECRETS (2)").unwrap_or_else(|| panic!("{out}"))..];
    assert!(
        section.contains(&format!(
            "{}  huggingface  2 places: rotation needed (in a history): rotate it at https://huggingface.co/settings/tokens",
            redacted(&hf)
        )),
        "{out}"
    );
    // Only ever in a private .env: listed, with no rotation needed.
    assert!(
        section.contains("openai  1 place: no rotation needed (never readable by others"),
        "{out}"
    );
    assert!(!section.contains("wandb"), "{out}");

    let md = fx
        .run(&["scan", "--format", "markdown", "--skip", "processes"])
        .stdout;
    assert!(md.contains("## Secrets to rotate"), "{md}");
    assert!(
        md.contains(&format!(
            "- [ ] `{}` (huggingface, 2 places; rotation needed (in a history)): rotate it at https://huggingface.co/settings/tokens\n  - here: `~/.bash_history:1`, `~/.cache/huggingface/token:1`",
            redacted(&hf)
        )),
        "{md}"
    );
}

/// `--version` names the release and the commit the binary was built from.
#[test]
fn version_names_the_git_commit() {
    let fx = Fixture::new();
    let run = fx.run(&["--version"]);
    assert_eq!(run.code, 0);
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("git is installed");
    let commit = String::from_utf8_lossy(&head.stdout).trim().to_string();
    assert!(head.status.success() && commit.len() == 12, "{commit}");
    assert_eq!(
        run.stdout.trim(),
        format!("hfguard {} (commit {commit})", env!("CARGO_PKG_VERSION"))
    );
}

/// Completions for zsh and fish come from the same definition and load in the real shells;
/// fish's own completion engine completes `hfguard sc` to `scan`.
#[test]
fn zsh_and_fish_completions_load() {
    let fx = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let run = fx.run(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        std::fs::write(dir.path().join(shell), &run.stdout).unwrap();
    }
    let zsh = std::process::Command::new("zsh")
        .args([
            "-fc",
            "autoload -U compinit && compinit -u -D && source \"$1\" && whence -w _hfguard",
            "zsh",
        ])
        .arg(dir.path().join("zsh"))
        .env("HOME", fx.home())
        .output()
        .expect("zsh is installed (./scripts/test installs it)");
    assert_eq!(
        String::from_utf8_lossy(&zsh.stdout).trim(),
        "_hfguard: function"
    );
    let fish = std::process::Command::new("fish")
        .args([
            "--no-config",
            "-c",
            "source $argv[1]; complete -C 'hfguard sc'",
        ])
        .arg(dir.path().join("fish"))
        .env("HOME", fx.home())
        .output()
        .expect("fish is installed (./scripts/test installs it)");
    let out = String::from_utf8_lossy(&fish.stdout);
    assert!(out.lines().any(|l| l.starts_with("scan\t")), "{out}");
    let run = fx.run(&["completions", "tcsh"]);
    assert_eq!(run.code, 2, "an unknown shell is a usage error");
}

/// `hfguard man` prints a roff page made from the same definition; `--dir` writes one page
/// per command.
#[test]
fn man_pages_from_the_command_line_definition() {
    let fx = Fixture::new();
    let run = fx.run(&["man"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with(".ie"), "{}", &run.stdout[..80]);
    assert!(run.stdout.contains(".TH hfguard 1"));
    for sub in ["scan", "fix", "completions", "man"] {
        assert!(run.stdout.contains(&format!("hfguard\\-{sub}(1)")), "{sub}");
    }
    let dir = tempfile::tempdir().unwrap();
    let run = fx.run(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for page in ["hfguard.1", "hfguard-scan.1", "hfguard-token-get.1"] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        assert!(text.contains(".SH NAME"), "{page}");
    }
}
