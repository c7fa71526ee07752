//! Opt-in verification against a local stand-in for the Hub (127.0.0.1, answers shaped like
//! the real `whoami-v2`), severity that follows power, and the report's `secrets` array:
//! places, slot, rotation and verification. No test reaches the internet.

mod common;
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// `whoami-v2` for a user's classic write token, with two organisations.
fn user_write_body() -> String {
    json!({
        "type": "user", "id": "64a1f0", "name": "alice", "fullname": "Alice Liddell",
        "email": "alice@example.org", "emailVerified": true, "canPay": false, "isPro": false,
        "periodEnd": null, "avatarUrl": "/avatars/a.svg",
        "orgs": [
            {"type": "org", "id": "65b2", "name": "acme-ml", "fullname": "Acme ML",
             "roleInOrg": "write", "canPay": false, "periodEnd": null},
            {"type": "org", "id": "65b3", "name": "reading-club", "fullname": "Readers",
             "roleInOrg": "read", "canPay": false, "periodEnd": null}
        ],
        "auth": {"type": "access_token",
                 "accessToken": {"displayName": "laptop", "role": "write",
                                 "createdAt": "2025-02-01T10:00:00.000Z"}}
    })
    .to_string()
}

/// A fine-grained token that can write one model repository and read an org.
fn fine_grained_body() -> String {
    json!({
        "type": "user", "id": "64a1f1", "name": "bob", "fullname": "Bob", "email": "b@x.org",
        "emailVerified": true, "canPay": false, "isPro": true, "periodEnd": null,
        "avatarUrl": "/avatars/b.svg", "orgs": [],
        "auth": {"type": "access_token", "accessToken": {
            "displayName": "ci-push", "role": "fineGrained",
            "createdAt": "2025-03-01T10:00:00.000Z",
            "expiration": "2027-03-01T10:00:00.000Z",
            "fineGrained": {
                "canReadGatedRepos": false,
                "global": ["discussion.write"],
                "scoped": [
                    {"entity": {"_id": "66c1", "type": "model", "name": "acme-ml/bert-tiny"},
                     "permissions": ["repo.content.read", "repo.write"]},
                    {"entity": {"_id": "65b2", "type": "org", "name": "acme-ml"},
                     "permissions": ["repo.content.read"]}
                ]
            }
        }}
    })
    .to_string()
}

fn read_body() -> String {
    json!({
        "type": "user", "id": "64a1f2", "name": "carol", "fullname": "Carol", "email": null,
        "emailVerified": false, "canPay": false, "isPro": false, "periodEnd": null,
        "avatarUrl": "/avatars/c.svg", "orgs": [],
        "auth": {"type": "access_token",
                 "accessToken": {"displayName": "notebooks", "role": "read",
                                 "createdAt": "2024-05-01T10:00:00.000Z"}}
    })
    .to_string()
}

fn secret_of<'a>(report: &'a Value, token: &str) -> &'a Value {
    let want = redacted(token);
    report["secrets"]
        .as_array()
        .expect("secrets array")
        .iter()
        .find(|s| s["secret"] == want.as_str())
        .unwrap_or_else(|| panic!("no secret {want} in {report:#}"))
}

#[test]
fn verify_reports_status_owner_role_and_write_scopes() {
    let mut fx = Fixture::new();
    let write = fx.token("v-write");
    let fine = fx.token("v-fine");
    let read = fx.token("v-read");
    let dead = fx.token("v-dead");
    // The write token in a history others can read (and in the token file), the
    // fine-grained one in a private .env, the read one in a private token file, the revoked
    // one in a notebook.
    fx.write(
        ".bash_history",
        format!("ls\nhf auth login --token {write}\n"),
        0o644,
    );
    fx.write(".huggingface/token", &write, 0o600);
    fx.write("proj/.env", format!("HF_TOKEN={fine}\n"), 0o600);
    fx.write(".cache/huggingface/token", &read, 0o600);
    fx.write(
        "nb/train.ipynb",
        format!("{{\"cells\": [{{\"source\": [\"login(token='{dead}')\"]}}]}}\n"),
        0o600,
    );
    let hub = FakeHub::start(BTreeMap::from([
        (write.clone(), (200, user_write_body())),
        (fine.clone(), (200, fine_grained_body())),
        (read.clone(), (200, read_body())),
    ]));
    fx.set_env("HF_ENDPOINT", hub.endpoint());
    let r = fx.scan(&["--verify"]);

    // Each distinct secret asked once (the write token is in two places), the token only in
    // the Authorization header.
    let reqs = hub.requests();
    assert_eq!(reqs.len(), 4, "{reqs:#?}");
    for q in &reqs {
        assert_eq!(
            (q.method.as_str(), q.path.as_str()),
            ("GET", "/api/whoami-v2")
        );
        assert!(q
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Bearer hf_"));
    }
    let mut sent: Vec<String> = reqs
        .iter()
        .map(|q| q.authorization.clone().unwrap()[7..].to_string())
        .collect();
    sent.sort();
    let mut planted = vec![write.clone(), fine.clone(), read.clone(), dead.clone()];
    planted.sort();
    assert_eq!(sent, planted);

    let w = secret_of(&r, &write);
    assert_eq!(w["provider"], "huggingface");
    assert_eq!(w["places"].as_array().unwrap().len(), 2);
    let v = &w["verification"];
    assert_eq!(v["status"], "live");
    assert_eq!(v["owner"], "alice");
    assert_eq!(v["owner_type"], "user");
    assert_eq!(v["orgs"], json!(["acme-ml", "reading-club"]));
    assert_eq!(v["token_name"], "laptop");
    assert_eq!(v["role"], "write");
    assert_eq!(v["can_write"], true);
    assert_eq!(v["write_scopes"], json!(["org:acme-ml", "user:alice"]));
    assert!(v["checked_at"].as_str().unwrap().ends_with('Z'));

    let f = &secret_of(&r, &fine)["verification"];
    assert_eq!(f["role"], "fineGrained");
    assert_eq!(f["can_write"], true);
    assert_eq!(f["write_scopes"], json!(["model:acme-ml/bert-tiny"]));
    assert_eq!(f["expires"], "2027-03-01T10:00:00.000Z");

    let rd = &secret_of(&r, &read)["verification"];
    assert_eq!(
        (rd["role"].as_str(), rd["can_write"].as_bool()),
        (Some("read"), Some(false))
    );

    let d = secret_of(&r, &dead);
    assert_eq!(d["verification"]["status"], "revoked");
    assert_eq!(d["rotation"]["state"], "not-needed");

    // Severity follows power: the live write token where others can read it is critical,
    // the same token in a private token file keeps its severity, the revoked one is info.
    let hist = one(&r, "hf-token-in-shell-history", &fx.path(".bash_history"));
    assert_eq!(hist["severity"], "critical");
    let legacy = one(
        &r,
        "hf-token-in-legacy-token-file",
        &fx.path(".huggingface/token"),
    );
    assert_eq!(legacy["severity"], "medium");
    let nb = one(&r, "hf-token-in-notebook", &fx.path("nb/train.ipynb"));
    assert_eq!(nb["severity"], "info");
    assert!(nb["message"].as_str().unwrap().contains("dead token"));

    // The text report shows the same.
    let text = fx.run(&["scan", "--skip", "processes", "--verify"]).stdout;
    assert!(
        text.contains("verified: live · alice (user) · orgs acme-ml, reading-club · token \"laptop\" · write · can write org:acme-ml, user:alice"),
        "{text}"
    );
    assert!(
        text.contains("verified: revoked · dead token: clean up the leftovers"),
        "{text}"
    );
}

#[test]
fn without_verify_no_socket_is_opened() {
    let mut fx = Fixture::new();
    let t = fx.token("tripwire");
    fx.write(
        ".bash_history",
        format!("hf auth login --token {t}\n"),
        0o600,
    );
    let wire = Tripwire::start();
    fx.set_env("HF_ENDPOINT", wire.endpoint());
    for format in ["text", "json", "sarif", "markdown"] {
        fx.run(&["scan", "--skip", "processes", "--format", format]);
    }
    // Turned on in the configuration, off on the command line.
    fx.write(
        ".config/hfguard/config.toml",
        "[verify]\nenabled = true\n",
        0o600,
    );
    let r = fx.scan(&["--no-verify"]);
    assert_eq!(secret_of(&r, &t)["verification"]["status"], "not-checked");
    assert_eq!(
        wire.connections(),
        0,
        "a socket was opened without --verify"
    );
    // The tripwire does see a verification: the configuration alone turns it on.
    let r = fx.scan(&[]);
    assert_eq!(secret_of(&r, &t)["verification"]["status"], "unknown");
    assert!(wire.connections() >= 1);
}

#[test]
fn unreachable_or_unsafe_endpoints_give_unknown_with_the_reason() {
    let mut fx = Fixture::new();
    let t = fx.token("unreachable");
    fx.write(
        ".bash_history",
        format!("hf auth login --token {t}\n"),
        0o600,
    );
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    fx.set_env("HF_ENDPOINT", format!("http://127.0.0.1:{port}/"));
    let r = fx.scan(&["--verify"]);
    let v = &secret_of(&r, &t)["verification"];
    assert_eq!(v["status"], "unknown");
    assert_eq!(v["reason"], "connection refused");
    // https to something that does not speak TLS: the TLS stack (rustls, ring) runs and says
    // so.
    let plain = FakeHub::start(BTreeMap::new());
    fx.set_env("HF_ENDPOINT", format!("https://{}", plain.addr));
    let r = fx.scan(&["--verify"]);
    let v = &secret_of(&r, &t)["verification"];
    assert_eq!(v["status"], "unknown");
    assert_eq!(
        v["reason"],
        "the TLS connection failed (certificate or protocol)"
    );
    // A token never travels in clear to another machine.
    fx.set_env("HF_ENDPOINT", "http://hub.example.invalid");
    let r = fx.scan(&["--verify"]);
    let v = &secret_of(&r, &t)["verification"];
    assert_eq!(v["status"], "unknown");
    assert!(
        v["reason"].as_str().unwrap().contains("nothing was sent"),
        "{v}"
    );
}

/// A password found in a huggingface.co URL is not a token and is never sent.
#[test]
fn passwords_are_never_sent_as_tokens() {
    let mut fx = Fixture::new();
    let pw = fx.secret("Tr0ub4dor-horse-battery");
    fx.write(
        ".git-credentials",
        format!("https://alice:{pw}@huggingface.co\n"),
        0o600,
    );
    let hub = FakeHub::start(BTreeMap::new());
    fx.set_env("HF_ENDPOINT", hub.endpoint());
    let r = fx.scan(&["--verify"]);
    let items = r["secrets"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["verification"]["status"], "not-checked");
    assert!(hub.requests().is_empty());
}

/// Exposure decides whether a secret must be rotated: a history, a file others can read, a
/// file git tracks, a synced folder; a private file alone needs no rotation.
#[test]
fn rotation_reasons_come_from_where_each_secret_is() {
    let mut fx = Fixture::new();
    let (hist, shared, tracked, synced, private) = (
        fx.token("rot-hist"),
        fx.token("rot-shared"),
        fx.token("rot-git"),
        fx.token("rot-sync"),
        fx.token("rot-private"),
    );
    fx.write(
        ".bash_history",
        format!("hf auth login --token {hist}\n"),
        0o600,
    );
    fx.write("shared/notes.md", format!("token: {shared}\n"), 0o644);
    fx.write("repo/train.py", format!("TOKEN = '{tracked}'\n"), 0o600);
    fx.write("repo/other.py", "print(1)\n", 0o600);
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(fx.path("repo"))
            .env("HOME", fx.home())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "train.py"]);
    fx.write("Dropbox/ml/config.yaml", format!("hf: {synced}\n"), 0o600);
    fx.write("proj/.env", format!("HF_TOKEN={private}\n"), 0o600);
    let r = fx.scan(&[]);
    let reasons = |t: &str| secret_of(&r, t)["rotation"]["reasons"].clone();
    assert_eq!(reasons(&hist), json!(["in-history"]));
    assert_eq!(reasons(&shared), json!(["readable-by-others"]));
    assert_eq!(reasons(&tracked), json!(["git-tracked"]));
    assert_eq!(reasons(&synced), json!(["synced-folder"]));
    assert_eq!(reasons(&private), json!([]));
    for t in [&hist, &shared, &tracked, &synced] {
        assert_eq!(secret_of(&r, t)["rotation"]["state"], "needed");
    }
    let p = secret_of(&r, &private);
    assert_eq!(p["rotation"]["state"], "not-needed");
    assert_eq!(p["verification"]["status"], "not-checked");
    assert_eq!(p["rotate_at"], "https://huggingface.co/settings/tokens");
    assert_eq!(p["slot"], Value::Null);

    // "Rotate these, here": the Markdown checklist names each place.
    let md = fx
        .run(&["scan", "--format", "markdown", "--skip", "processes"])
        .stdout;
    let section = &md[md.find("## Secrets to rotate").expect("section")..];
    assert!(
        section.contains(&format!(
            "- [ ] `{}` (huggingface, 1 place; rotation needed (tracked by git)): rotate it at https://huggingface.co/settings/tokens\n  - here: `~/repo/train.py:1`",
            redacted(&tracked)
        )),
        "{md}"
    );
    assert!(!section.contains(&redacted(&private)), "{md}");
}

/// A value replaced in its slot (a rotation) is listed though no file holds it any more:
/// `pending-revoke` until a verification says 401, then `done`.
#[test]
fn replaced_values_move_from_pending_revoke_to_done() {
    let mut fx = Fixture::new();
    fx.with_keyring();
    let old = fx.token("replaced-old");
    let new = fx.token("replaced-new");
    // Fingerprints are keyed with the home's key: this process computes them (and names the
    // backup below) with the key hfguard will use on this home.
    hfguard::fingerprint::use_home(&hfguard::home::Home::new(fx.home(), []));
    let fp = |t: &str| hfguard::secret::fingerprint_str(t);
    fx.write(
        ".local/state/hfguard/tokens.json",
        json!([{
            "name": "huggingface", "fingerprint": fp(&new), "redacted": redacted(&new),
            "provider": "huggingface",
            "previous": [{"fingerprint": fp(&old), "redacted": redacted(&old),
                          "replaced_at": "2026-11-20T08:00:00Z"}]
        }])
        .to_string(),
        0o600,
    );
    let r = fx.scan(&[]);
    let item = secret_of(&r, &old);
    assert_eq!(item["places"], json!([]));
    assert_eq!(item["rotation"]["state"], "pending-revoke");
    assert_eq!(item["rotation"]["replaced_in"], "huggingface");
    assert_eq!(item["rotation"]["replaced_at"], "2026-11-20T08:00:00Z");
    let text = fx.run(&["scan", "--skip", "processes"]).stdout;
    assert!(
        text.contains(&format!(
            "{}  huggingface  no place: replaced in slot `huggingface` on 2026-11-20T08:00:00Z, not yet revoked: revoke it at https://huggingface.co/settings/tokens",
            redacted(&old)
        )),
        "{text}"
    );

    // The old value waits in the keyring's undo backup; a verification that gets 401 for it
    // confirms the revocation.
    let service = fx.env["HFGUARD_KEYRING_SERVICE"].clone();
    let home = hfguard::home::Home::new(
        fx.home(),
        [("HFGUARD_KEYRING_SERVICE".to_string(), service.into())],
    );
    let keys = hfguard::keystore::KeyStore::new(&home);
    keys.backup(&hfguard::secret::Secret::new(old.clone(), 3))
        .expect("the test keyring stores the backup");
    let hub = FakeHub::start(BTreeMap::new());
    fx.set_env("HF_ENDPOINT", hub.endpoint());
    let r = fx.scan(&["--verify"]);
    let item = secret_of(&r, &old);
    assert_eq!(item["verification"]["status"], "revoked");
    assert_eq!(item["rotation"]["state"], "done");
    assert_eq!(
        item["rotation"]["revoked_at"],
        item["verification"]["checked_at"]
    );
    assert_eq!(hub.requests().len(), 1);
    keys.delete_backup(&fp(&old)).unwrap();
}

/// SARIF carries the same rotation and verification in its property bags, and stays valid.
#[test]
fn sarif_carries_rotation_and_verification() {
    let mut fx = Fixture::new();
    let t = fx.token("sarif-verify");
    fx.write(
        ".bash_history",
        format!("hf auth login --token {t}\n"),
        0o600,
    );
    let hub = FakeHub::start(BTreeMap::from([(t.clone(), (200, read_body()))]));
    fx.set_env("HF_ENDPOINT", hub.endpoint());
    let run = fx.run(&[
        "scan",
        "--format",
        "sarif",
        "--skip",
        "processes",
        "--verify",
    ]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/sarif-schema-2.1.0.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let result = &doc["runs"][0]["results"][0];
    let secret = &result["properties"]["secret"];
    assert_eq!(secret["verification"]["status"], "live");
    assert_eq!(secret["verification"]["owner"], "carol");
    assert_eq!(secret["rotation"]["state"], "needed");
    assert_eq!(secret["rotation"]["reasons"], json!(["in-history"]));
    assert_eq!(
        doc["runs"][0]["properties"]["secrets"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
