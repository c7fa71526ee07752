//! Credential slots and the consumers of a fixed credential (issue 12): after a fix, every
//! program that used a token gets the token it had, from the right place — asked through
//! real git, real shells and `hfguard exec`, against a real Secret Service.

mod common;
use base64::Engine;
use common::*;

fn get(fx: &Fixture, name: &str) -> String {
    fx.run(&["token", "get", "--name", name]).stdout
}

/// Case 1: a token file holding a token of another shape (an OAuth access token, or any
/// single word the scan reports) is fixed; an OAuth login's `hf_token` / `refresh_token`
/// pair in `stored_tokens` goes with its section, and the journal keeps neither in plain.
#[test]
fn token_files_of_any_shape_and_oauth_logins_are_moved() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let oauth = fx.secret(format!("hf_oauth_{}", random_alnum("oauth", 40)));
    let refresh = fx.secret(format!("hf_oauth_{}", random_alnum("refresh", 40)));
    let word = fx.secret(random_alnum("single-word", 30));
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", format!("{oauth}\n"), 0o600);
    fx.write(
        ".cache/huggingface/stored_tokens",
        format!("[oauth-alice]\nhf_token = {oauth}\nrefresh_token = {refresh}\nexpires_at = 1893456000\n"),
        0o600,
    );
    fx.write(".huggingface/token", &word, 0o600);
    let r = fx.scan(&[]);
    let stored = fx.path(".cache/huggingface/stored_tokens");
    assert!(
        rules_at(&r, &stored).contains(&"hf-oauth-refresh-token-in-stored-tokens".to_string()),
        "{r:#}"
    );
    let run = fix(&fx, &["--all"]);
    assert!(run.stdout.contains("Fixed "), "{}", run.stdout);
    assert!(!fx.path(".cache/huggingface/token").exists());
    assert!(!stored.exists(), "the OAuth login stayed in stored_tokens");
    assert!(!fx.path(".huggingface/token").exists());
    fx.assert_no_leak(&all_journals(&fx));
    fx.secrets.clear(); // `token get` prints tokens by design
    assert!(
        get(&fx, "huggingface") == oauth,
        "the OAuth token is not the default"
    );
    assert!(get(&fx, "huggingface-legacy") == word);
    assert!(get(&fx, "huggingface-oauth-alice-refresh") == refresh);
}

/// Case 2: with `HF_TOKEN_PATH` set and an older token left at the default path, the token
/// huggingface_hub reads (HF_TOKEN_PATH's) becomes the default slot, whatever the paths'
/// order.
#[test]
fn the_default_slot_is_the_token_huggingface_hub_would_use() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (current, stale) = (fx.token("current"), fx.token("stale"));
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &stale, 0o600);
    fx.write("z-tokens/hf", &current, 0o600);
    fx.set_env(
        "HF_TOKEN_PATH",
        fx.path("z-tokens/hf").to_string_lossy().into_owned(),
    );
    fix(&fx, &["--all"]);
    fx.secrets.clear();
    assert!(
        get(&fx, "huggingface") == current,
        "token get serves the stale token"
    );
    assert!(get(&fx, "huggingface-old-token-file") == stale);
    let run = exec_serves(&mut fx, &current);
    assert_eq!(run.code, 0, "exec serves the stale token");
    let list = fx.run(&["token", "list"]).stdout;
    let marked = list
        .lines()
        .find(|l| l.contains("huggingface_hub uses this one"))
        .unwrap_or_default();
    assert!(marked.starts_with("huggingface "), "{list}");
}

/// Case 3: two tokens for huggingface.co — one in `~/.git-credentials` (alice), one in a
/// repository's remote URL (bob). After `fix --all` no plaintext is left, the repository
/// still pushes as bob, and every other repository as alice.
#[test]
fn each_repository_keeps_its_own_account() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (alice, bob) = (fx.token("git-alice"), fx.token("git-bob"));
    fx.write(
        ".git-credentials",
        format!("https://alice:{alice}@huggingface.co\n"),
        0o600,
    );
    fx.write(".gitconfig", "[credential]\n\thelper = store\n", 0o644);
    let space = fx.mkdir("code/space", 0o755);
    let other = fx.mkdir("code/model", 0o755);
    for repo in [&space, &other] {
        git_in(&fx, repo, &["init", "-q"], None);
    }
    git_in(
        &fx,
        &space,
        &[
            "remote",
            "add",
            "origin",
            &format!("https://bob:{bob}@huggingface.co/spaces/bob/space"),
        ],
        None,
    );
    git_in(
        &fx,
        &other,
        &[
            "remote",
            "add",
            "origin",
            "https://huggingface.co/alice/model",
        ],
        None,
    );
    let run = fx.run(&["fix", "--all", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let r = fx.scan(&[]);
    assert!(
        findings(&r).iter().all(|f| f["secret"].is_null()),
        "plaintext left: {r:#}"
    );
    let fill = |dir: &std::path::Path| {
        git_in(
            &fx,
            dir,
            &["credential", "fill"],
            Some("protocol=https\nhost=huggingface.co\npath=x\n\n"),
        )
    };
    // The space's own remote URL keeps its user name; its own config serves its token.
    assert_eq!(
        git_in(&fx, &space, &["remote", "get-url", "origin"], None).trim(),
        "https://bob@huggingface.co/spaces/bob/space"
    );
    let in_space = git_in(
        &fx,
        &space,
        &["credential", "fill"],
        Some("protocol=https\nhost=huggingface.co\nusername=bob\n\n"),
    );
    assert!(
        in_space.contains(&format!("password={bob}\n")),
        "the space lost bob"
    );
    let in_other = fill(&other);
    assert!(
        in_other.contains("username=alice\n") && in_other.contains(&format!("password={alice}\n")),
        "another repository lost alice"
    );
    assert!(fill(fx.home()).contains(&format!("password={alice}\n")));
    undo_last(&fx);
    assert_eq!(
        git_in(&fx, &space, &["remote", "get-url", "origin"], None).trim(),
        format!("https://bob:{bob}@huggingface.co/spaces/bob/space")
    );
}

/// Case 4: rotation after a fix. `hf auth login --token NEW --add-to-git-credential` runs
/// `git credential approve`: the helper replaces the slot's value and says so, and the
/// start-up lookup, `exec` and git all serve NEW. A re-login that writes a new token file is
/// offered as "replace the stored token", never as a second slot; undo brings the old back.
#[test]
fn a_new_token_replaces_the_slot_it_is_a_new_value_of() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (old, new, newer) = (
        fx.token("rot-old"),
        fx.token("rot-new"),
        fx.token("rot-newer"),
    );
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &old, 0o600);
    fx.write(".bashrc", format!("export HF_TOKEN={old}\n"), 0o644);
    fx.write(
        ".git-credentials",
        format!("https://hf_user:{old}@huggingface.co\n"),
        0o600,
    );
    fx.write(".gitconfig", "[credential]\n\thelper = store\n", 0o644);
    fix(&fx, &["--all"]);
    assert!(new_bash_has_token(&fx, ".bashrc", &old));
    // What `hf auth login --token NEW --add-to-git-credential` does to git.
    let said = fx_git_approve(
        &fx,
        fx.home(),
        &format!("protocol=https\nhost=huggingface.co\nusername=hf_user\npassword={new}\n\n"),
    );
    assert!(
        said.contains("`huggingface` now holds") && said.contains(&redacted(&new)),
        "{said}"
    );
    assert!(
        new_bash_has_token(&fx, ".bashrc", &new),
        "the lookup serves the revoked token"
    );
    let fill = git_fill_hub(&fx);
    assert!(
        fill.contains(&format!("password={new}\n")),
        "git serves the revoked token"
    );
    let run = exec_serves(&mut fx, &new);
    assert_eq!(run.code, 0, "exec serves the revoked token");

    // A re-login writes a new token file: the fix replaces the slot's value.
    fx.write(".cache/huggingface/token", &newer, 0o600);
    let run = fix(&fx, &["--all"]);
    assert!(
        run.stdout.contains(&format!(
            "keyring: replace `huggingface`: {} → {}",
            redacted(&new),
            redacted(&newer)
        )),
        "{}",
        run.stdout
    );
    assert!(new_bash_has_token(&fx, ".bashrc", &newer));
    let list = fx.run(&["token", "list"]).stdout;
    assert_eq!(
        list.matches("\nhuggingface").count() + usize::from(list.starts_with("huggingface")),
        1,
        "a second slot: {list}"
    );
    assert!(
        list.contains(&format!("replaced {}", redacted(&new))),
        "{list}"
    );
    undo_last(&fx);
    assert!(
        new_bash_has_token(&fx, ".bashrc", &new),
        "undo lost the value before"
    );
}

/// Case 5: what a loader reads must not be a marker. `.netrc` loses its Hugging Face entry
/// whole and keeps a package index's entry (made 0600); a `.env` line is commented out; a
/// notebook's `login(token="hf_…")` reads the environment and the notebook stays valid.
#[test]
fn loaders_never_read_a_marker_as_a_value() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (hf, env_tok, nb_tok) = (fx.token("netrc-hf"), fx.token("dotenv"), fx.token("nb"));
    let index_pw = fx.secret("IndexPassw0rdXq9Z7k");
    fx.write(
        ".netrc",
        format!("machine huggingface.co\n  login hf_user\n  password {hf}\nmachine pypi.internal.example\n  login ci\n  password {index_pw}\n"),
        0o644,
    );
    fx.write(
        "app/.env",
        format!("DEBUG=1\nHF_TOKEN=\"{hf}\"\nOPENAI_BASE=x\n"),
        0o600,
    );
    fx.write("app/keys.env", format!("HF_TOKEN={env_tok}\n"), 0o600);
    let nb = format!(
        "{{\n \"cells\": [\n  {{\n   \"cell_type\": \"code\",\n   \"execution_count\": null,\n   \"metadata\": {{}},\n   \"outputs\": [],\n   \"source\": [\n    \"from huggingface_hub import login\\n\",\n    \"login(token=\\\"{nb_tok}\\\")\"\n   ]\n  }}\n ],\n \"metadata\": {{}},\n \"nbformat\": 4,\n \"nbformat_minor\": 5\n}}\n"
    );
    fx.write("app/train.ipynb", &nb, 0o644);
    let run = fx.run(&["fix", "--all", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let netrc = String::from_utf8(fx.read(".netrc")).unwrap();
    assert_eq!(
        netrc,
        format!("machine pypi.internal.example\n  login ci\n  password {index_pw}\n"),
        "the index's entry must stay, Hugging Face's go whole"
    );
    assert_eq!(fx.mode(".netrc"), 0o600);
    let env = String::from_utf8(fx.read("app/.env")).unwrap();
    assert!(env.starts_with("DEBUG=1\n# hfguard "), "{env}");
    assert!(
        env.lines()
            .filter(|l| !l.starts_with('#'))
            .all(|l| !l.contains("hfguard") && !l.contains("HF_TOKEN")),
        "a loader would read a marker: {env}"
    );
    let nb: serde_json::Value =
        serde_json::from_slice(&fx.read("app/train.ipynb")).expect("valid JSON");
    assert_eq!(
        nb["cells"][0]["source"],
        serde_json::json!([
            "import os\n",
            "from huggingface_hub import login\n",
            "login(token=os.environ[\"HF_TOKEN\"])"
        ])
    );
    let source: String = nb["cells"][0]["source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    // The cell runs under `hfguard exec` with the token it had.
    let name = run
        .stdout
        .split("train.ipynb now reads the token")
        .nth(1)
        .and_then(|t| t.split("exec --name ").nth(1))
        .and_then(|t| t.split(' ').next())
        .unwrap_or("huggingface")
        .to_string();
    let check = source
        .replace("from huggingface_hub import login\n", "")
        .replace("login(token=", "assert (")
        + " == __import__('sys').argv[1]";
    fx.secrets.clear(); // the token is an argument of the check, by design
    let ok = fx.run(&[
        "exec", "--name", &name, "--", "python3", "-c", &check, &nb_tok,
    ]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
}

/// Case 7: on the most common home (`hf auth login --add-to-git-credential` with git's store
/// helper), `fix --all` fixes everything and exits 0.
#[test]
fn fix_all_exits_0_when_the_rescan_shows_nothing_left() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("common");
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &t, 0o644);
    fx.write(
        ".cache/huggingface/stored_tokens",
        format!("[default]\nhf_token = {t}\n"),
        0o644,
    );
    fx.write(
        ".git-credentials",
        format!("https://hf_user:{t}@huggingface.co\n"),
        0o600,
    );
    fx.write(".gitconfig", "[credential]\n\thelper = store\n", 0o644);
    // The `store` helper finding's own fix is moving the Hugging Face line out of the store.
    let r = fx.scan(&[]);
    let helper = one(&r, "git-credential-helper-store", &fx.path(".gitconfig"));
    assert_eq!(helper["fixes"], serde_json::json!(["keyring"]));
    let run = fx.run(&["fix", "--dry-run", helper["id"].as_str().unwrap()]);
    assert!(
        run.stdout.contains("remove:  ~/.git-credentials"),
        "{}",
        run.stdout
    );
    let run = fx.run(&["fix", "--all", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let run = fx.run(&[
        "scan",
        "--format",
        "json",
        "--skip",
        "processes",
        "--fail-on",
        "low",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

/// Case 8: a start-up lookup on a box where no keyring answers leaves the variable unset and
/// prints nothing in a non-interactive shell — never `HF_TOKEN=""`.
#[test]
fn lookups_leave_the_variable_unset_without_a_keyring() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("no-keyring-later");
    fx.write(".bashrc", format!("export HF_TOKEN={t}\n"), 0o644);
    fx.write(
        ".config/fish/config.fish",
        format!("set -gx HF_TOKEN {t}\n"),
        0o644,
    );
    fix(&fx, &["--all"]);
    let gone = [("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")];
    let out = sh_with(
        &fx,
        "bash",
        &format!(
            ". {}; echo \"${{HF_TOKEN-unset}}\"",
            fx.path(".bashrc").display()
        ),
        &gone,
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "unset\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let out = sh_with(
        &fx,
        "fish",
        &format!(
            "source {}; set -q HF_TOKEN; and echo set; or echo unset",
            fx.path(".config/fish/config.fish").display()
        ),
        &gone,
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "unset\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// Case 10: a token file at the default place that `HF_HOME` moved away from is still a
/// token file: moved into the keyring, never redacted in place (a client run without
/// `HF_HOME` would send the marker as its token).
#[test]
fn token_files_hf_home_moved_away_from_are_still_token_files() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("before-hf-home");
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &t, 0o600);
    fx.mkdir("hf", 0o700);
    fx.set_env("HF_HOME", fx.path("hf").to_string_lossy().into_owned());
    let r = fx.scan(&[]);
    one(
        &r,
        "hf-token-in-token-file",
        &fx.path(".cache/huggingface/token"),
    );
    fix(&fx, &["--all"]);
    assert!(!fx.path(".cache/huggingface/token").exists());
    fx.secrets.clear();
    assert!(get(&fx, "huggingface-old-token-file") == t);
}

/// Case 11: secrets stored base64-encoded are fixed in their encoding: a Kubernetes Secret
/// keeps its layout (only the value changes, and it decodes to the marker), a Docker config
/// stays valid JSON with the password moved to the keyring.
#[test]
fn encoded_secrets_are_fixed_in_their_encoding() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let (k8s, docker) = (fx.token("k8s"), fx.token("docker"));
    let b64 = base64::engine::general_purpose::STANDARD;
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: hf\ntype: Opaque\ndata:\n  HF_TOKEN: {}\n  OTHER: eA==\n",
        b64.encode(&k8s)
    );
    fx.write("deploy/secret.yaml", &manifest, 0o644);
    fx.mkdir(".docker", 0o700);
    let config = format!(
        "{{\n\t\"auths\": {{\n\t\t\"registry.hf.space\": {{\n\t\t\t\"auth\": \"{}\"\n\t\t}}\n\t}}\n}}",
        b64.encode(format!("hf_user:{docker}"))
    );
    fx.write(".docker/config.json", &config, 0o600);
    let run = fx.run(&["fix", "--all", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let after = String::from_utf8(fx.read("deploy/secret.yaml")).unwrap();
    let lines: Vec<&str> = after.lines().collect();
    assert_eq!(lines.len(), manifest.lines().count());
    let value = lines[6]
        .strip_prefix("  HF_TOKEN: ")
        .expect("the key stays");
    let decoded = String::from_utf8(b64.decode(value).expect("still base64")).unwrap();
    assert!(decoded.starts_with("[hfguard:redacted:hf_..."), "{decoded}");
    assert_eq!(lines[7], "  OTHER: eA==");
    let docker_after: serde_json::Value =
        serde_json::from_slice(&fx.read(".docker/config.json")).expect("valid JSON");
    let auth = docker_after["auths"]["registry.hf.space"]["auth"]
        .as_str()
        .unwrap();
    let auth = String::from_utf8(b64.decode(auth).unwrap()).unwrap();
    assert!(auth.starts_with("hf_user:[hfguard:redacted:"), "{auth}");
    fx.assert_no_leak(&all_journals(&fx));
    undo_last(&fx);
    assert_eq!(
        String::from_utf8(fx.read("deploy/secret.yaml")).unwrap(),
        manifest
    );
    assert_eq!(
        String::from_utf8(fx.read(".docker/config.json")).unwrap(),
        config
    );
}

/// Every kind of place hfguard knows, at once: `fix --all --yes` exits 0, a rescan finds no
/// plaintext secret a fix exists for, and `undo --all` restores every file byte for byte with
/// its mode.
#[test]
fn every_kind_of_place_at_once_and_back() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let b64 = base64::engine::general_purpose::STANDARD;
    let t: Vec<String> = (0..20).map(|i| fx.token(&format!("all-{i}"))).collect();
    let wandb = fx.secret(random_alnum("wandb-all", 40).to_lowercase());
    let index_pw = fx.secret("IndexPassw0rdXq9Z7k");
    let oauth = fx.secret(format!("hf_oauth_{}", random_alnum("all-oauth", 40)));
    let files: Vec<(&str, String, u32)> = vec![
        (".cache/huggingface/token", t[0].clone(), 0o644),
        (
            ".cache/huggingface/stored_tokens",
            format!("[work]\nhf_token = {}\n\n[oauth-me]\nhf_token = {oauth}\nrefresh_token = {}\n", t[0], t[1]),
            0o644,
        ),
        (".cache/huggingface_staging/token", t[2].clone(), 0o600),
        (".huggingface/token", t[3].clone(), 0o644),
        (".git-credentials", format!("https://hf_user:{}@huggingface.co\n", t[0]), 0o600),
        (".gitconfig", "[credential]\n\thelper = store\n".into(), 0o644),
        (
            ".netrc",
            format!("machine api.wandb.ai\n  login user\n  password {wandb}\nmachine huggingface.co login me password {}\nmachine pypi.internal.example login ci password {index_pw}\n", t[4]),
            0o600,
        ),
        (".bashrc", format!("alias l=ls\nexport HF_TOKEN={}\n", t[0]), 0o644),
        (".zshrc", format!("export OPENAI_HF={}\n", t[5]), 0o644),
        (".profile", format!("export HUGGING_FACE_HUB_TOKEN=\"{}\"\n", t[0]), 0o644),
        (".config/fish/config.fish", format!("set -gx HF_TOKEN {}\n", t[0]), 0o644),
        (".config/environment.d/50-hf.conf", format!("HF_TOKEN={}\n", t[6]), 0o644),
        (".bash_history", format!("ls\nhf auth login --token {}\n", t[7]), 0o600),
        (".zsh_history", format!(": 1700000000:0;export HF_TOKEN={}\n", t[8]), 0o600),
        (".local/share/fish/fish_history", format!("- cmd: huggingface-cli login --token {}\n  when: 1\n", t[9]), 0o600),
        (".python_history", format!("login('{}')\n", t[10]), 0o600),
        (".claude/projects/-x/1.jsonl", format!("{{\"m\":\"{}\"}}\n", t[11]), 0o600),
        ("nb/a.ipynb", format!("{{\"cells\": [{{\"cell_type\": \"code\", \"source\": [\"login(token=\\\"{}\\\")\"], \"outputs\": [{{\"text\": [\"{}\"]}}]}}], \"nbformat\": 4}}\n", t[12], t[12]), 0o644),
        ("nb/.env", format!("HF_TOKEN={}\nX=1\n", t[13]), 0o600),
        ("nb/app.py", format!("import sys\nTOKEN = \"{}\"\n", t[14]), 0o644),
        ("nb/notes.md", format!("token was {}\n", t[15]), 0o644),
        ("deploy/s.yaml", format!("kind: Secret\ndata:\n  HF_TOKEN: {}\n", b64.encode(&t[16])), 0o644),
        (".docker/config.json", format!("{{\"auths\": {{\"registry.hf.space\": {{\"auth\": \"{}\"}}}}}}", b64.encode(format!("u:{}", t[17]))), 0o600),
    ];
    for (rel, content, mode) in &files {
        fx.write(rel, content, *mode);
    }
    let repo = fx.mkdir("code/space", 0o755);
    git_in(&fx, &repo, &["init", "-q"], None);
    git_in(
        &fx,
        &repo,
        &[
            "remote",
            "add",
            "origin",
            &format!("https://bob:{}@huggingface.co/spaces/bob/x", t[18]),
        ],
        None,
    );
    let repo_config = "code/space/.git/config";
    let mut all: Vec<&str> = files.iter().map(|(r, _, _)| *r).collect();
    all.push(repo_config);
    let before: Vec<(Vec<u8>, u32)> = all.iter().map(|f| (fx.read(f), fx.mode(f))).collect();

    let run = fx.run(&["fix", "--all", "--yes"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let r = fx.scan(&["--skip", "environment"]);
    let left: Vec<&serde_json::Value> = findings(&r)
        .iter()
        .filter(|f| f["severity"] != "info" && !f["fixes"].as_array().unwrap().is_empty())
        .collect();
    assert!(left.is_empty(), "left after the fix: {left:#?}");
    fx.assert_no_leak(&all_journals(&fx));

    let run = fx.run(&["undo", "--all"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for (f, (data, mode)) in all.iter().zip(before) {
        assert!(fx.read(f) == data, "{f} not restored byte for byte");
        assert_eq!(fx.mode(f), mode, "{f} mode");
    }
    // Nothing hfguard created is left behind but its own state.
    assert!(!fx.path(".config/hfguard").exists());
}

/// Issue 13, item 16: an encoded newline (`%0A`) in a credential line's user name never
/// reaches `~/.gitconfig` as a raw newline (git would reject the whole file): the fix is
/// refused with the reason, and git's config stays valid.
#[test]
fn a_user_name_git_cannot_carry_is_refused() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("newline-user");
    fx.write(
        ".git-credentials",
        format!("https://evil%0A%5Bcore%5D%0Apager%3Dsh:{t}@huggingface.co\n"),
        0o600,
    );
    fx.write(".gitconfig", "[credential]\n\thelper = store\n", 0o644);
    let before = fx.read(".gitconfig");
    let run = fx.run(&["fix", "--all", "--yes"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("control character"), "{}", run.stdout);
    assert_eq!(fx.read(".gitconfig"), before);
    git_in(&fx, fx.home(), &["config", "--list"], None);
}

/// Plain `hfguard exec` uses the one Hugging Face slot there is when there is no default
/// slot (a lone legacy token file): what a user typing it means.
#[test]
fn exec_without_a_name_uses_the_only_hugging_face_slot() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("lone-legacy");
    fx.write(".huggingface/token", &t, 0o600);
    fix(&fx, &["--all"]);
    let run = exec_serves(&mut fx, &t);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// An index written by the previous release (unkeyed fingerprints) is brought to the keyed
/// form on the next `token list`, so reports can name the slot that holds a secret.
#[test]
fn an_index_from_before_keyed_fingerprints_is_migrated() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let t = fx.token("legacy-index");
    fx.mkdir(".cache/huggingface", 0o700);
    fx.write(".cache/huggingface/token", &t, 0o600);
    fix(&fx, &["--all"]);
    let index = fx.path(".local/state/hfguard/tokens.json");
    let mut slots: serde_json::Value =
        serde_json::from_slice(&fx.read(".local/state/hfguard/tokens.json")).unwrap();
    // The previous release's fingerprint: salted SHA-256, no `k1-`.
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"hfguard-fingerprint-v1\0");
    h.update(t.as_bytes());
    let legacy = hex::encode(&h.finalize()[..16]);
    slots[0]["fingerprint"] = serde_json::Value::String(legacy.clone());
    std::fs::write(&index, serde_json::to_vec(&slots).unwrap()).unwrap();
    fx.run(&["token", "list"]);
    let after: serde_json::Value =
        serde_json::from_slice(&fx.read(".local/state/hfguard/tokens.json")).unwrap();
    let fp = after[0]["fingerprint"].as_str().unwrap();
    assert!(fp.starts_with("k1-"), "{after:#}");
    // A report of the same token names the slot again.
    fx.write(
        ".bash_history",
        format!("hf auth login --token {t}\n"),
        0o600,
    );
    let r = fx.scan(&[]);
    let s = r["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["secret"] == redacted(&t).as_str())
        .unwrap();
    assert_eq!(s["slot"], "huggingface", "{s:#}");
}
