//! `hfguard rotate` end to end against the real Secret Service: the slot gets the new token,
//! new bash, zsh and fish shells, git and `exec` serve it, no plaintext copy of the old token is
//! left, and undo brings the old one back.

mod common;
use common::*;

fn rotate(fx: &Fixture, slot: &str, token: &str, extra: &[&str]) -> Run {
    let mut args = vec!["rotate", slot, "--stdin", "--yes", "--no-open"];
    args.extend_from_slice(extra);
    fx.run_with_input(&args, Some(&format!("{token}\n")))
}

#[test]
fn rotate_replaces_the_slot_everywhere_and_undo_brings_the_old_back() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (old, new) = (fx.token("rotate-old"), fx.token("rotate-new"));
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &old, 0o600);
    fx.write(".bashrc", format!("export HF_TOKEN={old}\n"), 0o644);
    fx.write(".zshrc", format!("export HF_TOKEN=\"{old}\"\n"), 0o644);
    fx.write(
        ".config/fish/config.fish",
        format!("set -gx HF_TOKEN {old}\n"),
        0o644,
    );
    fx.write(
        ".git-credentials",
        format!("https://hf_user:{old}@huggingface.co\n"),
        0o600,
    );
    fx.write(".gitconfig", "[credential]\n\thelper = store\n", 0o644);
    fix(&fx, &["--all"]);
    // Copies of the old token that show up after the fix: typed into a history, pasted into
    // a project's .env.
    fx.write(
        ".bash_history",
        format!("hf download x --token {old}\nls\n"),
        0o600,
    );
    fx.write("proj/.env", format!("HF_TOKEN={old}\n"), 0o600);

    let run = rotate(&fx, "huggingface", &new, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("Create a new token at https://huggingface.co/settings/tokens"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains(&format!(
            "keyring: replace `huggingface`: {} → {}",
            redacted(&old),
            redacted(&new)
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "Now revoke the old token {} at https://huggingface.co/settings/tokens",
            redacted(&old)
        )),
        "{}",
        run.stdout
    );
    for (shell, rc) in [
        ("bash", ".bashrc"),
        ("zsh", ".zshrc"),
        ("fish", ".config/fish/config.fish"),
    ] {
        assert!(
            shell_gets(&fx, shell, rc, &new),
            "a new {shell} lacks the new token"
        );
    }
    let fill = git_fill_hub(&fx);
    assert!(
        fill.contains(&format!("password={new}\n")),
        "git serves the old token"
    );
    let ok = exec_serves(&mut fx, &new);
    assert_eq!(ok.code, 0, "exec serves the old token");
    // The old token is nowhere in plaintext: the history is redacted, the .env line gone.
    let r = fx.scan(&[]);
    let old_fp = findings(&r)
        .iter()
        .filter(|f| f["secret"].as_str() == Some(redacted(&old).as_str()))
        .count();
    assert_eq!(old_fp, 0, "the old token is still somewhere: {r:#}");
    let list = fx.run(&["token", "list"]).stdout;
    assert!(
        list.contains(&format!("replaced {}", redacted(&old))) && list.contains("revoke it at"),
        "{list}"
    );
    fx.assert_no_leak(&all_journals(&fx));

    // Undo: the slot holds the old token again, and the files are as they were.
    undo_last(&fx);
    assert!(
        shell_gets(&fx, "bash", ".bashrc", &old),
        "undo lost the old token"
    );
    assert!(
        String::from_utf8(fx.read(".bash_history"))
            .unwrap()
            .contains(&old),
        "the history is not restored"
    );

    // Rotated again and revoked: the rotation is done.
    let run = rotate(&fx, "huggingface", &new, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = fx.run(&["rotate", "--done", "huggingface"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let list = fx.run(&["token", "list"]).stdout;
    assert!(
        list.contains(&format!("replaced {}", redacted(&old))) && list.contains(": revoked "),
        "{list}"
    );
}

/// A new token is checked before anything changes: not the same one, not another provider's,
/// and a slot must exist.
#[test]
fn rotate_checks_the_new_token_first() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let old = fx.token("check-old");
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &old, 0o600);
    let none = fx.token("none");
    let run = rotate(&fx, "huggingface", &none, &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no slot `huggingface`"),
        "{}",
        run.stderr
    );
    fix(&fx, &["--all"]);
    let run = rotate(&fx, "huggingface", &old, &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("holds already"), "{}", run.stderr);
    let openai = fx.secret(format!(
        "sk-proj-{}T3BlbkFJ{}",
        random_alnum("rot-openai-1", 40),
        random_alnum("rot-openai-2", 40)
    ));
    let run = rotate(&fx, "huggingface", &openai, &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("looks like a token of openai"),
        "{}",
        run.stderr
    );
    fx.secrets.clear(); // `token get` prints the token by design
    assert!(
        fx.run(&["token", "get"]).stdout == old,
        "a refused rotation changed the slot"
    );
}

/// The report's `secrets` follow a rotation: `needed` while the token is exposed,
/// `pending-revoke` once `rotate` replaced it (listed though no file holds it), `done` when a
/// verification gets 401 for it or the user says it is revoked (`rotate --done`).
#[test]
fn reports_follow_a_rotation_from_needed_to_pending_revoke_to_done() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (old, new, newer) = (
        fx.token("state-old"),
        fx.token("state-new"),
        fx.token("state-newer"),
    );
    fx.mkdir(".cache/huggingface", 0o755);
    fx.write(".cache/huggingface/token", &old, 0o644);
    let item = |r: &serde_json::Value, t: &str| {
        r["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["secret"] == redacted(t).as_str())
            .cloned()
            .unwrap_or_else(|| panic!("no item for {} in {r:#}", redacted(t)))
    };
    let r = fx.scan(&[]);
    let before = item(&r, &old);
    assert_eq!(before["rotation"]["state"], "needed");
    assert_eq!(
        before["rotation"]["reasons"],
        serde_json::json!(["readable-by-others"])
    );

    fix(&fx, &["--all"]);
    let run = rotate(&fx, "huggingface", &new, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let r = fx.scan(&[]);
    let replaced = item(&r, &old);
    assert_eq!(replaced["places"], serde_json::json!([]));
    assert_eq!(replaced["rotation"]["state"], "pending-revoke");
    assert_eq!(replaced["rotation"]["replaced_in"], "huggingface");
    let md = fx
        .run(&["scan", "--format", "markdown", "--skip", "processes"])
        .stdout;
    assert!(
        md.contains(&format!(
            "- [ ] `{}` (huggingface, no place; replaced in slot 'huggingface' on ",
            redacted(&old)
        )) && md.contains("not yet revoked): revoke it at https://huggingface.co/settings/tokens"),
        "{md}"
    );

    // The provider says the old token is dead (the stand-in knows only the new one).
    let hub = FakeHub::start(std::collections::BTreeMap::from([(
        new.clone(),
        (200, r#"{"type":"user","name":"alice","orgs":[],"auth":{"accessToken":{"displayName":"laptop","role":"read"}}}"#.to_string()),
    )]));
    fx.set_env("HF_ENDPOINT", hub.endpoint());
    let r = fx.scan(&["--verify"]);
    let done = item(&r, &old);
    assert_eq!(done["verification"]["status"], "revoked");
    assert_eq!(done["rotation"]["state"], "done");
    assert_eq!(
        done["rotation"]["revoked_at"],
        done["verification"]["checked_at"]
    );

    // Rotating again and confirming by hand.
    let run = rotate(&fx, "huggingface", &newer, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        item(&fx.scan(&[]), &new)["rotation"]["state"],
        "pending-revoke"
    );
    assert_eq!(fx.run(&["rotate", "huggingface", "--done"]).code, 0);
    let confirmed = item(&fx.scan(&[]), &new);
    assert_eq!(confirmed["rotation"]["state"], "done");
    assert!(confirmed["rotation"]["revoked_at"].is_string());
}

/// With verification on, the new token must be live and the same account's (unless --force),
/// and `--done` asks whether the old one is really revoked — one request per token to a local
/// stand-in for the Hub.
#[test]
fn rotate_verifies_the_new_token_and_the_revocation() {
    use std::collections::BTreeMap;
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (old, bobs, dead, new) = (
        fx.token("v-old"),
        fx.token("v-bob"),
        fx.token("v-dead"),
        fx.token("v-new"),
    );
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &old, 0o600);
    fix(&fx, &["--all"]);
    let hub = FakeHub::start(BTreeMap::from([
        (old.clone(), whoami_write("alice")),
        (bobs.clone(), whoami_write("bob")),
        (new.clone(), whoami_write("alice")),
    ]));
    fx.set_env("HF_ENDPOINT", hub.endpoint());

    let run = rotate(&fx, "huggingface", &dead, &["--verify"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("refuses the new token"),
        "{}",
        run.stderr
    );
    let run = rotate(&fx, "huggingface", &bobs, &["--verify"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("belongs to bob, the old one to alice"),
        "{}",
        run.stderr
    );
    let run = rotate(&fx, "huggingface", &new, &["--verify"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("The new token is live"),
        "{}",
        run.stderr
    );
    // Only whoami was asked, each token in its Authorization header only.
    for q in hub.requests() {
        assert_eq!(q.path, "/api/whoami-v2");
    }

    // The old token still works at the Hub: not done yet.
    let run = fx.run(&["rotate", "--done", "--verify", "huggingface"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("still works"), "{}", run.stderr);
    // Revoked now (a stand-in that no longer knows it): done.
    drop(hub);
    let hub = FakeHub::start(BTreeMap::from([(new.clone(), whoami_write("alice"))]));
    fx.set_env("HF_ENDPOINT", hub.endpoint());
    let run = fx.run(&["rotate", "--done", "--verify", "huggingface"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("Rotation of `huggingface` done"),
        "{}",
        run.stdout
    );
}
