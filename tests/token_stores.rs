//! Hugging Face token stores and the ecosystem's credential files (checks 1, 2 and 8).

mod common;
use common::*;

#[test]
fn private_token_file_is_still_a_finding_but_not_a_permission_problem() {
    let mut fx = Fixture::new();
    let t = fx.token("active");
    fx.mkdir(".cache/huggingface", 0o700);
    let path = fx.write(".cache/huggingface/token", &t, 0o600);
    let r = fx.scan(&[]);
    let f = one(&r, "hf-token-in-token-file", &path);
    assert_eq!(f["severity"], "medium");
    assert_eq!(f["category"], "token-file");
    assert_eq!(f["provider"], "huggingface");
    assert_eq!(f["secret"], redacted(&t));
    assert_eq!(f["line"], 1);
    assert_eq!(f["fixes"], serde_json::json!(["keyring"]));
    assert_eq!(rules_at(&r, &path), vec!["hf-token-in-token-file"]);
}

#[test]
fn world_readable_token_file_and_open_folder_are_reported_with_modes() {
    let mut fx = Fixture::new();
    let t = fx.token("old-hub");
    fx.mkdir(".cache/huggingface", 0o755);
    let path = fx.write(".cache/huggingface/token", &t, 0o644);
    let r = fx.scan(&[]);
    let perm = one(&r, "token-file-permissions", &path);
    assert_eq!(perm["severity"], "high");
    assert_eq!(perm["mode"], "0644");
    assert_eq!(perm["fixes"], serde_json::json!(["chmod"]));
    let folder = one(
        &r,
        "credential-folder-permissions",
        &fx.path(".cache/huggingface"),
    );
    assert_eq!(folder["severity"], "low");
    assert_eq!(folder["mode"], "0755");

    // Group-readable only: medium.
    fx.chmod(".cache/huggingface/token", 0o640);
    let r = fx.scan(&[]);
    assert_eq!(
        one(&r, "token-file-permissions", &path)["severity"],
        "medium"
    );
}

#[test]
fn hf_home_and_hf_token_path_move_the_token_file() {
    let mut fx = Fixture::new();
    let a = fx.token("hf-home");
    let b = fx.token("token-path");
    let home_dir = fx.mkdir("data/hf", 0o700);
    let a_path = fx.write("data/hf/token", &a, 0o600);
    let b_path = fx.write("secrets/hf-token", &b, 0o600);
    fx.set_env("HF_HOME", home_dir.to_str().unwrap());
    let r = fx.scan(&["--quick"]);
    one(&r, "hf-token-in-token-file", &a_path);
    // Not a known location without HF_TOKEN_PATH, and --quick does not walk.
    assert!(rules_at(&r, &b_path).is_empty());

    fx.set_env("HF_TOKEN_PATH", b_path.to_str().unwrap());
    let r = fx.scan(&["--quick"]);
    one(&r, "hf-token-in-token-file", &b_path);
}

#[test]
fn xdg_cache_home_moves_the_default_hf_home() {
    let mut fx = Fixture::new();
    let t = fx.token("xdg");
    let p = fx.write("xcache/huggingface/token", &t, 0o600);
    fx.set_env("XDG_CACHE_HOME", fx.path("xcache").to_str().unwrap());
    one(&fx.scan(&["--quick"]), "hf-token-in-token-file", &p);
}

#[test]
fn stored_tokens_staging_and_legacy_stores() {
    let mut fx = Fixture::new();
    let (a, b, c, d) = (fx.token("a"), fx.token("b"), fx.token("c"), fx.token("d"));
    let stored = fx.write(
        ".cache/huggingface/stored_tokens",
        format!("[work]\nhf_token = {a}\n\n[personal]\nhf_token = {b}\n"),
        0o600,
    );
    let staging = fx.write(".cache/huggingface_staging/token", &c, 0o600);
    let legacy = fx.write(".huggingface/token", format!("{d}\n"), 0o644);
    let r = fx.scan(&["--quick"]);
    let hits = with_rule(&r, "hf-token-in-stored-tokens");
    let mut lines: Vec<u64> = hits.iter().map(|f| f["line"].as_u64().unwrap()).collect();
    lines.sort();
    assert_eq!(lines, vec![2, 5]);
    assert!(hits.iter().all(|f| f["path"] == stored.to_str().unwrap()));
    one(&r, "hf-token-in-staging-token-file", &staging);
    one(&r, "hf-token-in-legacy-token-file", &legacy);
    one(&r, "legacy-token-file-permissions", &legacy);
}

/// Each `stored_tokens` entry carries its display name (`hf auth switch` shows it), so the
/// dashboard can say which login a finding is; other places have no label. A section name
/// that is itself a token is not shown.
#[test]
fn stored_tokens_findings_carry_the_entry_name() {
    let mut fx = Fixture::new();
    let (a, b, c) = (
        fx.token("label-a"),
        fx.token("label-b"),
        fx.token("label-c"),
    );
    fx.write(
        ".cache/huggingface/stored_tokens",
        format!("[work]\nhf_token = {a}\n\n[ personal ]\nhf_token = {b}\n[{c}]\nhf_token = {c}\n"),
        0o600,
    );
    fx.write(".bashrc", format!("export HF_TOKEN={a}\n"), 0o600);
    let r = fx.scan(&["--quick"]);
    let label_at = |line: u64| {
        with_rule(&r, "hf-token-in-stored-tokens")
            .into_iter()
            .find(|f| f["line"] == line)
            .unwrap_or_else(|| panic!("no finding on line {line}: {r:#}"))["label"]
            .clone()
    };
    assert_eq!(label_at(2), "work");
    assert_eq!(label_at(5), "personal");
    assert!(label_at(7).is_null(), "a secret as a name is not shown");
    let bashrc = with_rule(&r, "hf-token-in-startup-file");
    assert!(bashrc[0].get("label").is_none(), "{r:#}");
}

#[test]
fn token_file_with_an_unknown_token_format_is_still_a_token() {
    let mut fx = Fixture::new();
    let t = fx.secret(random_alnum("future-format", 40));
    let p = fx.write(".cache/huggingface/token", format!("{t}\n"), 0o600);
    let r = fx.scan(&["--quick"]);
    let f = one(&r, "hf-token-in-token-file", &p);
    assert_eq!(f["provider"], "huggingface");
}

#[test]
fn git_credentials_in_both_places_and_store_helper() {
    let mut fx = Fixture::new();
    let a = fx.token("git-a");
    let b = fx.token("git-b");
    let home_creds = fx.write(
        ".git-credentials",
        format!("https://alice:{a}@huggingface.co\nhttps://alice:{b}@hf.co\n"),
        0o600,
    );
    let xdg_creds = fx.write(
        ".config/git/credentials",
        format!("https://bob:{b}@huggingface.co\n"),
        0o600,
    );
    fx.write(
        ".gitconfig",
        "[user]\n\tname = Alice\n[credential]\n\thelper = store\n",
        0o644,
    );
    let r = fx.scan(&["--quick"]);
    let hits = with_rule(&r, "hf-token-in-git-credentials");
    assert_eq!(hits.len(), 3, "{r:#}");
    assert!(hits
        .iter()
        .any(|f| f["path"] == xdg_creds.to_str().unwrap()));
    let home_lines: Vec<_> = hits
        .iter()
        .filter(|f| f["path"] == home_creds.to_str().unwrap())
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(home_lines.len(), 2);
    assert!(home_lines.contains(&1) && home_lines.contains(&2));
    // One secret on one line is one finding, though both the token rule and the URL
    // credentials rule match it.
    assert!(with_rule(&r, "url-credentials-in-git-credentials").is_empty());
    assert_eq!(
        with_rule(&r, "git-credential-helper-store").len(),
        1,
        "{r:#}"
    );
}

#[test]
fn store_helper_without_a_hugging_face_entry_is_not_reported() {
    let fx = Fixture::new();
    fx.write(".gitconfig", "[credential]\n\thelper = store\n", 0o644);
    assert!(findings(&fx.scan(&["--quick"])).is_empty());
}

#[test]
fn ecosystem_credential_files() {
    let mut fx = Fixture::new();
    let wandb = fx.secret(random_alnum("wandb", 40).to_lowercase());
    let kaggle = fx.secret(hex_of("kaggle", 32));
    let aws_id = fx.secret(format!(
        "AKIA{}",
        random_alnum("awsid", 16)
            .to_uppercase()
            .replace(['0', '1', '8', '9'], "Q")
    ));
    let aws_secret = fx.secret(random_alnum("aws-secret", 40));
    let hf = fx.token("docker");
    let netrc = fx.write(
        ".netrc",
        format!("machine api.wandb.ai\n  login user\n  password {wandb}\n"),
        0o600,
    );
    let kag = fx.write(
        ".kaggle/kaggle.json",
        format!("{{\"username\":\"me\",\"key\":\"{kaggle}\"}}"),
        0o644,
    );
    let aws = fx.write(
        ".aws/credentials",
        format!("[default]\naws_access_key_id = {aws_id}\naws_secret_access_key = {aws_secret}\n"),
        0o600,
    );
    let docker_auth = base64_of(&format!("user:{hf}"));
    let docker = fx.write(
        ".docker/config.json",
        format!("{{\"auths\":{{\"registry.hf.space\":{{\"auth\":\"{docker_auth}\"}}}}}}"),
        0o600,
    );
    let r = fx.scan(&["--quick"]);
    // A tool's own credential, where the tool keeps it: info.
    assert_eq!(one(&r, "wandb-key-in-netrc", &netrc)["severity"], "info");
    assert_eq!(one(&r, "wandb-key-in-netrc", &netrc)["line"], 3);
    assert_eq!(
        one(&r, "kaggle-key-in-kaggle-config", &kag)["severity"],
        "info"
    );
    assert_eq!(one(&r, "kaggle-config-permissions", &kag)["mode"], "0644");
    assert_eq!(
        one(&r, "aws-access-key-in-aws-credentials", &aws)["line"],
        2
    );
    assert_eq!(
        one(&r, "aws-secret-key-in-aws-credentials", &aws)["line"],
        3
    );
    // A Hugging Face token inside Docker's base64 auth is not Docker's own: medium.
    let d = one(&r, "hf-token-in-docker-config", &docker);
    assert_eq!(d["severity"], "medium");
    assert_eq!(d["secret"], redacted(&hf));
}

#[test]
fn pypirc_gh_hosts_and_gcloud_adc() {
    let mut fx = Fixture::new();
    let pypi = fx.secret(format!("pypi-AgEIcHlwaS5vcmc{}", random_alnum("pypi", 60)));
    let gh = fx.secret(format!("gho_{}", random_alnum("gh", 36)));
    let refresh = fx.secret(format!("1//{}", random_alnum("gcp", 40)));
    let pypirc = fx.write(
        ".pypirc",
        format!("[pypi]\nusername = __token__\npassword = {pypi}\n"),
        0o600,
    );
    let hosts = fx.write(
        ".config/gh/hosts.yml",
        format!("github.com:\n    oauth_token: {gh}\n    user: me\n"),
        0o600,
    );
    let adc = fx.write(
        ".config/gcloud/application_default_credentials.json",
        format!("{{\"client_id\": \"x.apps.googleusercontent.com\", \"refresh_token\": \"{refresh}\", \"type\": \"authorized_user\"}}"),
        0o600,
    );
    let r = fx.scan(&["--quick"]);
    assert_eq!(rules_at(&r, &pypirc).len(), 1, "{r:#}");
    assert_eq!(
        findings(&r)
            .iter()
            .find(|f| f["path"] == pypirc.to_str().unwrap())
            .unwrap()["severity"],
        "info"
    );
    assert_eq!(
        one(&r, "github-token-in-gh-config", &hosts)["severity"],
        "info"
    );
    assert_eq!(
        one(&r, "gcp-refresh-token-in-gcloud-credentials", &adc)["severity"],
        "info"
    );
}

#[test]
fn symlinked_credential_file_pointing_outside_home_is_reported_not_followed() {
    let mut fx = Fixture::new();
    let outside = tempfile::tempdir().unwrap();
    let t = fx.token("outside");
    std::fs::write(outside.path().join("token"), &t).unwrap();
    fx.mkdir(".cache/huggingface", 0o700);
    let link = fx.path(".cache/huggingface/token");
    std::os::unix::fs::symlink(outside.path().join("token"), &link).unwrap();
    let r = fx.scan(&[]);
    one(&r, "credential-symlink-outside-home", &link);
    assert!(
        with_rule(&r, "hf-token-in-token-file").is_empty(),
        "followed the symlink: {r:#}"
    );
}

#[test]
fn symlinked_credential_file_inside_home_is_read_at_its_target() {
    let mut fx = Fixture::new();
    let t = fx.token("dotfiles");
    let target = fx.write("dotfiles/hf-token", &t, 0o600);
    fx.mkdir(".cache/huggingface", 0o700);
    std::os::unix::fs::symlink(&target, fx.path(".cache/huggingface/token")).unwrap();
    let r = fx.scan(&["--quick"]);
    assert_eq!(with_rule(&r, "hf-token-in-token-file").len(), 1, "{r:#}");
}

pub fn hex_of(seed: &str, len: usize) -> String {
    use sha2::{Digest, Sha256};
    let mut s = String::new();
    let mut i = 0;
    while s.len() < len {
        s.push_str(&hex::encode(Sha256::digest(format!("{seed}{i}"))));
        i += 1;
    }
    s.truncate(len);
    s
}

pub fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn credential_files_without_a_secret_are_not_permission_findings() {
    let fx = Fixture::new();
    fx.write(".aws/config", "[default]\nregion = eu-west-1\n", 0o644);
    fx.write(
        ".docker/config.json",
        "{\"credsStore\": \"desktop\"}\n",
        0o644,
    );
    fx.write(
        ".config/gh/hosts.yml",
        "github.com:\n    user: me\n    git_protocol: https\n",
        0o644,
    );
    let r = fx.scan(&["--quick"]);
    assert!(findings(&r).is_empty(), "{r:#}");
    // A token database is a secret whatever it holds.
    fx.write(
        ".config/gcloud/access_tokens.db",
        "SQLite format 3\0opaque",
        0o644,
    );
    let r = fx.scan(&["--quick"]);
    one(
        &r,
        "gcloud-credentials-permissions",
        &fx.path(".config/gcloud/access_tokens.db"),
    );
}

#[test]
fn a_token_file_holding_a_placeholder_is_not_a_token() {
    let fx = Fixture::new();
    fx.write(".cache/huggingface/token", "hf_YOUR_TOKEN_HERE\n", 0o600);
    fx.write(".huggingface/token", "<paste your token>", 0o600);
    let r = fx.scan(&["--quick"]);
    assert!(findings(&r).is_empty(), "{r:#}");
}
