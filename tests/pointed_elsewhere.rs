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

/// hfguard runs without the variables (as from cron or a systemd service: the fixture's
/// environment is empty); the start-up files move HF_HOME, NETRC, KAGGLE_CONFIG_DIR,
/// DOCKER_CONFIG and XDG_CONFIG_HOME. Each moved file is audited as its kind, with its
/// permission rules and fixes, and says which start-up file moved it.
#[test]
fn locations_moved_by_startup_files_are_audited_as_the_login_shell_sees_them() {
    let mut fx = Fixture::new();
    let (hf, gh) = (fx.token("moved-hf"), fx.token("moved-gh"));
    let wandb = fx.secret(random_alnum("moved-wandb", 40));
    let kaggle = fx.secret("4f1c9e2ab37d5086e1f2a3b4c5d6e7f8");
    fx.write(
        ".bashrc",
        "alias ll='ls -l'\nexport HF_HOME=\"$HOME/models/hf\"\nexport XDG_CONFIG_HOME=~/cfg\n",
        0o644,
    );
    fx.write(
        ".profile",
        "NETRC=${HOME}/.secrets/netrc; export NETRC\n",
        0o644,
    );
    fx.write(
        ".config/environment.d/60-kaggle.conf",
        "KAGGLE_CONFIG_DIR=${HOME}/.secrets/kaggle\n",
        0o644,
    );
    fx.write(
        ".config/fish/config.fish",
        "set -gx DOCKER_CONFIG ~/.dock\n",
        0o644,
    );
    let token = fx.write("models/hf/token", &hf, 0o644);
    let netrc = fx.write(
        ".secrets/netrc",
        format!("machine api.wandb.ai\n  login user\n  password {wandb}\n"),
        0o644,
    );
    let kj = fx.write(
        ".secrets/kaggle/kaggle.json",
        format!("{{\"username\":\"me\",\"key\":\"{kaggle}\"}}"),
        0o640,
    );
    let dock_pw = fx.secret("Dk9zQwPv3xLm");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("me:{dock_pw}"));
    let docker = fx.write(
        ".dock/config.json",
        format!("{{\"auths\":{{\"registry.example.org\":{{\"auth\":\"{auth}\"}}}}}}"),
        0o644,
    );
    let hosts = fx.write(
        "cfg/gh/hosts.yml",
        format!("github.com:\n    oauth_token: {gh}\n"),
        0o600,
    );
    let r = fx.scan(&["--quick"]);
    let origin = |f: &serde_json::Value, var: &str, file: &str| {
        let m = f["message"].as_str().unwrap();
        assert!(
            m.contains(&format!("comes from {var}, set in {file}")),
            "{m}"
        );
    };
    let f = one(&r, "token-file-permissions", &token);
    assert_eq!(
        (f["severity"].as_str(), f["category"].as_str()),
        (Some("high"), Some("permissions"))
    );
    assert_eq!(f["fixes"], json!(["chmod"]));
    origin(f, "HF_HOME", "~/.bashrc line 2");
    let f = one(&r, "hf-token-in-token-file", &token);
    assert_eq!(f["fixes"], json!(["keyring"]));
    origin(f, "HF_HOME", "~/.bashrc line 2");
    let f = one(&r, "credential-folder-permissions", &fx.path("models/hf"));
    origin(f, "HF_HOME", "~/.bashrc line 2");
    let f = one(&r, "netrc-permissions", &netrc);
    origin(f, "NETRC", "~/.profile line 1");
    assert_eq!(one(&r, "wandb-key-in-netrc", &netrc)["severity"], "info");
    let f = one(&r, "kaggle-config-permissions", &kj);
    assert_eq!(f["severity"], "medium");
    origin(
        f,
        "KAGGLE_CONFIG_DIR",
        "~/.config/environment.d/60-kaggle.conf line 1",
    );
    origin(
        one(&r, "docker-config-permissions", &docker),
        "DOCKER_CONFIG",
        "~/.config/fish/config.fish line 1",
    );
    let f = one(&r, "hf-token-in-gh-config", &hosts);
    origin(f, "XDG_CONFIG_HOME", "~/.bashrc line 3");

    // A location moved to the home itself: the home's own findings say nothing of it.
    let aws_key = fx.secret(format!("AKIA{}", "QZ7RT5WX2YLM3NP4"));
    fx.write(
        ".zshenv",
        "export AWS_SHARED_CREDENTIALS_FILE=~/aws-creds\n",
        0o644,
    );
    let aws = fx.write(
        "aws-creds",
        format!("[default]\naws_access_key_id = {aws_key}\n"),
        0o644,
    );
    fx.chmod(".", 0o775);
    let r = fx.scan(&["--quick"]);
    origin(
        one(&r, "aws-credentials-permissions", &aws),
        "AWS_SHARED_CREDENTIALS_FILE",
        "~/.zshenv line 1",
    );
    let home = one(&r, "home-writable", fx.home());
    assert!(
        !home["message"].as_str().unwrap().contains("comes from"),
        "{home:#}"
    );
}

/// ZDOTDIR moves zsh's own start-up files and history; what those set is followed in turn.
#[test]
fn a_moved_zdotdir_brings_its_startup_files_and_history() {
    let mut fx = Fixture::new();
    let (a, b, c) = (
        fx.token("zdot-rc"),
        fx.token("zdot-hist"),
        fx.token("zdot-moved"),
    );
    fx.write(".zshenv", "export ZDOTDIR=$HOME/.config/zsh\n", 0o644);
    let rc = fx.write(
        ".config/zsh/.zshrc",
        format!("export HF_TOKEN={a}\nexport HF_TOKEN_PATH=~/.private/hf-token\n"),
        0o644,
    );
    let hist = fx.write(
        ".config/zsh/.zsh_history",
        format!("hf auth login --token {b}\n"),
        0o600,
    );
    let moved = fx.write(".private/hf-token", &c, 0o600);
    let r = fx.scan(&["--quick"]);
    let f = one(&r, "hf-token-in-startup-file", &rc);
    assert_eq!(f["variable"], "HF_TOKEN");
    assert!(f["message"]
        .as_str()
        .unwrap()
        .contains("ZDOTDIR, set in ~/.zshenv line 1"));
    one(&r, "hf-token-in-shell-history", &hist);
    let f = one(&r, "hf-token-in-token-file", &moved);
    assert!(f["message"]
        .as_str()
        .unwrap()
        .contains("HF_TOKEN_PATH, set in ~/.config/zsh/.zshrc line 2"));
}

/// Values that need a command, or variables the start-up files do not set, are not guessed;
/// a start-up file may not send the audit to files outside the home that the user does not
/// own (root auditing a hostile home).
#[test]
fn dynamic_values_and_foreign_files_outside_the_home_are_not_followed() {
    let mut fx = Fixture::new();
    let t = fx.token("dynamic");
    fx.write("dyn/token", &t, 0o644);
    let outside = tempfile::tempdir().unwrap();
    let foreign = outside.path().join("netrc");
    let pw = fx.secret("Fr9eignPassw0rdZ");
    std::fs::write(
        &foreign,
        format!("machine example.org login x password {pw}\n"),
    )
    .unwrap();
    let target = if nix::unistd::geteuid().is_root() {
        std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();
        foreign.clone()
    } else {
        std::path::PathBuf::from("/etc/passwd")
    };
    fx.write(
        ".bashrc",
        format!(
            "export HF_HOME=$(echo ~/dyn)\nexport HF_TOKEN_PATH=\"$SOMEWHERE/token\"\nexport NETRC={}\n",
            target.display()
        ),
        0o644,
    );
    let run = fx.run(&["scan", "--quick", "--format", "json", "--skip", "processes"]);
    let r = run.json();
    assert!(findings(&r).is_empty(), "{r:#}");
    let warned = r["warnings"].as_array().unwrap().iter().any(|w| {
        w.as_str()
            .unwrap()
            .starts_with(&format!("not audited: {}", target.display()))
    });
    assert!(warned, "{r:#}");
}
