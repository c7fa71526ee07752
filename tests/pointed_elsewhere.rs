//! Configuration that points elsewhere (issue 16, item 1): git metadata beyond `.git/config`
//! (submodules, worktrees, bare repositories, URL rewrites, HTTP headers, includes), and
//! credential locations that a start-up file moves.

mod common;
use base64::Engine;
use common::*;
use serde_json::json;

/// Real git: a submodule's git directory, a linked worktree's own config and a bare clone
/// each hold a config file with credentials; all three are found, as git remotes, and
/// nothing else inside the git directories is read.
#[test]
fn submodules_worktrees_and_bare_repositories_with_real_git() {
    let mut fx = Fixture::new();
    let (sub_t, bare_t) = (fx.token("submodule"), fx.token("bare"));
    let lib = fx.mkdir("src/lib", 0o755);
    fx.git(&lib, &["init", "-q", "-b", "main"]);
    fx.write("src/lib/README", "lib\n", 0o644);
    fx.git(&lib, &["add", "README"]);
    fx.git(&lib, &["commit", "-qm", "lib"]);
    let app = fx.mkdir("code/app", 0o755);
    fx.git(&app, &["init", "-q", "-b", "main"]);
    fx.git(
        &app,
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            lib.to_str().unwrap(),
            "vendor/lib",
        ],
    );
    fx.git(&app, &["commit", "-qm", "with a submodule"]);
    let module_cfg = app.join(".git/modules/vendor/lib/config");
    assert!(
        module_cfg.is_file(),
        "git keeps the submodule's config there"
    );
    fx.git(
        &app.join("vendor/lib"),
        &[
            "remote",
            "set-url",
            "origin",
            &format!("https://me:{sub_t}@huggingface.co/me/lib"),
        ],
    );
    // A linked worktree with a config of its own (extensions.worktreeConfig) that sends a
    // header: what CI checkouts leave behind.
    let gh = fx.secret(format!("ghs_{}", random_alnum("worktree-ghs", 36)));
    let header = base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{gh}"));
    fx.git(&app, &["worktree", "add", "-q", "../app-feature"]);
    fx.git(&app, &["config", "extensions.worktreeConfig", "true"]);
    fx.git(
        &fx.path("code/app-feature"),
        &[
            "config",
            "--worktree",
            "http.https://github.com/.extraheader",
            &format!("AUTHORIZATION: basic {header}"),
        ],
    );
    let wt_cfg = app.join(".git/worktrees/app-feature/config.worktree");
    assert!(wt_cfg.is_file());
    // A bare clone, as `git clone --bare` lays it out, with the token in its remote URL, and
    // the token also inside its objects (never read).
    let bare = fx.path("mirrors/app.git");
    fx.git(
        fx.home(),
        &[
            "clone",
            "-q",
            "--bare",
            app.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    fx.git(
        &bare,
        &[
            "remote",
            "set-url",
            "origin",
            &format!("https://me:{bare_t}@huggingface.co/me/app"),
        ],
    );
    fx.write("mirrors/app.git/objects/ab/plain", &bare_t, 0o644);

    let r = fx.scan(&[]);
    let f = one(&r, "hf-token-in-git-remote", &module_cfg);
    assert_eq!(
        (f["category"].as_str(), f["severity"].as_str()),
        (Some("git"), Some("high"))
    );
    assert_eq!(f["fixes"], json!(["keyring"]));
    let f = one(&r, "github-token-in-git-remote", &wt_cfg);
    assert_eq!(f["provider"], "github");
    assert_eq!(f["variable"], "http.<url>.extraHeader");
    assert_eq!(
        f["fixes"],
        json!([]),
        "a header cannot take a marker or a lookup"
    );
    assert!(f["message"].as_str().unwrap().contains("sends this header"));
    let f = one(&r, "hf-token-in-git-remote", &bare.join("config"));
    assert_eq!(
        f["variable"],
        serde_json::Value::Null,
        "a remote URL names no variable"
    );
    assert!(
        rules_at(&r, &bare.join("objects/ab/plain")).is_empty(),
        "objects are never read: {r:#}"
    );
}

#[test]
fn url_rewrites_headers_and_includes_in_the_global_config() {
    let mut fx = Fixture::new();
    let (rewrite, included) = (fx.token("insteadof"), fx.token("included"));
    let bearer = fx.secret(format!(
        "{}.{}",
        random_alnum("jwt-a", 30),
        random_alnum("jwt-b", 40)
    ));
    let pw = fx.secret("Zq8wVt3rPk6yLm");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("ci:{pw}"));
    let gitconfig = fx.write(
        ".gitconfig",
        format!(
            "[user]\n\tname = me\n[url \"https://me:{rewrite}@huggingface.co/\"]\n\tinsteadOf = https://huggingface.co/\n[include]\n\tpath = ~/.config/git/work.inc\n"
        ),
        0o644,
    );
    let xdg = fx.write(
        ".config/git/config",
        format!("[http \"https://git.example.org/\"]\n\textraHeader = Authorization: Bearer {bearer}\n[http]\n\textraheader = \"AUTHORIZATION: basic {basic}\"\n"),
        0o644,
    );
    let inc = fx.write(
        ".config/git/work.inc",
        format!("[credential]\n\thelper = \"!f() {{ echo password={included}; }}; f\"\n"),
        0o644,
    );
    // Only the known locations: the included file is found through the include, not the walk.
    let r = fx.scan(&["--quick"]);
    let f = one(&r, "hf-token-in-git-config", &gitconfig);
    assert_eq!(f["variable"], "url.<base>.insteadOf");
    assert!(f["message"]
        .as_str()
        .unwrap()
        .contains("rewrites every matching URL"));
    assert_eq!(f["line"], 3);
    let f = one(&r, "git-extraheader-token-in-git-config", &xdg);
    assert_eq!(f["variable"], "http.<url>.extraHeader");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["fixes"], json!([]));
    let f = one(&r, "git-extraheader-basic-in-git-config", &xdg);
    assert_eq!(f["variable"], "http.extraHeader");
    assert_eq!(f["line"], 4);
    let f = one(&r, "hf-token-in-git-config", &inc);
    assert_eq!(f["variable"], "credential.helper");
    assert_eq!(f["category"], "git");
}

/// A repository config outside any walk root reached through an include is not read, and a
/// placeholder header is not a secret.
#[test]
fn includes_outside_the_home_and_placeholder_headers_are_left_alone() {
    let mut fx = Fixture::new();
    let outside = tempfile::tempdir().unwrap();
    let t = fx.secret(hf_token("outside-include"));
    std::fs::write(outside.path().join("inc"), format!("[x]\n\ty = {t}\n")).unwrap();
    fx.write(
        ".gitconfig",
        format!(
            "[include]\n\tpath = {}\n[http]\n\textraHeader = AUTHORIZATION: basic ${{TOKEN}}\n\textraHeader = Authorization: Bearer YOUR_TOKEN_HERE\n",
            outside.path().join("inc").display()
        ),
        0o644,
    );
    let r = fx.scan(&["--quick"]);
    assert!(findings(&r).is_empty(), "{r:#}");
}
