//! The credentials next to the Hugging Face ones (issue 16, item 2): SSH keys and OpenSSH's
//! permission rules, package registries (npm, pip, uv, Poetry, conda), ML platforms (Modal,
//! Together, Mistral, Cohere, Pinecone, …), and tokens in JSON-escaped context.

mod common;
use common::*;
use serde_json::json;
use std::path::Path;
use std::process::Command;

/// A real key made by ssh-keygen (installed by ./scripts/test), with `passphrase` ("" for
/// none), in OpenSSH's format or another (`-m PEM`, `-m PKCS8`).
fn keygen(path: &Path, passphrase: &str, format: Option<&str>) {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", if format.is_some() { "rsa" } else { "ed25519" }]);
    if let Some(f) = format {
        cmd.args(["-b", "2048", "-m", f]);
    }
    let st = cmd
        .args(["-N", passphrase, "-C", "hfguard-test", "-f"])
        .arg(path)
        .stdin(std::process::Stdio::null())
        .status()
        .expect("ssh-keygen is installed (./scripts/test installs openssh-client)");
    assert!(st.success());
}

/// Whether ssh accepts the key file as it is: `ssh-keygen -y` refuses a private key that
/// others can read ("UNPROTECTED PRIVATE KEY FILE").
fn ssh_accepts(path: &Path) -> bool {
    Command::new("ssh-keygen")
        .args(["-y", "-P", "", "-f"])
        .arg(path)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
        .status
        .success()
}

fn remember_key(fx: &mut Fixture, path: &Path) {
    // The key's body lines are the secret: none may be printed.
    let text = std::fs::read_to_string(path).unwrap();
    for line in text
        .lines()
        .filter(|l| l.len() > 40 && !l.starts_with("-----"))
    {
        fx.secret(line.to_string());
    }
}

#[test]
fn ssh_keys_identity_files_and_strict_modes() {
    let mut fx = Fixture::new();
    let ssh = fx.mkdir(".ssh", 0o775);
    let plain = ssh.join("id_ed25519");
    keygen(&plain, "", None);
    let locked = ssh.join("id_work");
    keygen(&locked, "correct horse", None);
    let gpu = fx.mkdir("keys", 0o755).join("gpu_rsa");
    keygen(&gpu, "", Some("PEM"));
    for k in [&plain, &locked, &gpu] {
        remember_key(&mut fx, k);
    }
    fx.chmod(".ssh/id_ed25519", 0o644);
    fx.chmod(".ssh/id_work", 0o640);
    fx.chmod("keys/gpu_rsa", 0o644);
    assert!(!ssh_accepts(&plain), "ssh refuses a key others can read");
    let config = fx.write(
        ".ssh/config",
        "Host gpu\n  HostName gpu.example.org\n  IdentityFile ~/keys/gpu_rsa\n",
        0o664,
    );
    let auth = fx.write(
        ".ssh/authorized_keys",
        "ssh-ed25519 AAAAC3Nza hfguard\n",
        0o666,
    );
    fx.write(
        ".ssh/known_hosts",
        "gpu.example.org ssh-ed25519 AAAAC3Nza\n",
        0o644,
    );

    let r = fx.scan(&["--quick"]);
    let f = one(&r, "ssh-private-key-in-ssh-key", &plain);
    assert_eq!(
        (f["severity"].as_str(), f["provider"].as_str()),
        (Some("info"), Some("ssh"))
    );
    assert_eq!(f["category"], "dotfile");
    assert_eq!(f["fixes"], json!([]), "ssh reads the key where it is");
    let f = one(&r, "ssh-key-permissions", &plain);
    assert_eq!(
        (f["severity"].as_str(), f["mode"].as_str()),
        (Some("high"), Some("0644"))
    );
    assert_eq!(f["fixes"], json!(["chmod"]));
    one(&r, "encrypted-private-key-in-ssh-key", &locked);
    assert_eq!(
        one(&r, "ssh-key-permissions", &locked)["severity"],
        "medium"
    );
    one(&r, "private-key-in-ssh-key", &gpu);
    assert_eq!(one(&r, "ssh-key-permissions", &gpu)["severity"], "high");
    let f = one(&r, "ssh-config-writable", &config);
    assert_eq!(
        (f["severity"].as_str(), f["category"].as_str()),
        (Some("critical"), Some("permissions"))
    );
    assert_eq!(f["fixes"], json!(["chmod"]));
    assert_eq!(
        one(&r, "ssh-authorized-keys-writable", &auth)["severity"],
        "critical"
    );
    assert_eq!(one(&r, "ssh-folder-writable", &ssh)["mode"], "0775");
    assert!(rules_at(&r, &ssh.join("id_ed25519.pub")).is_empty());
    assert!(rules_at(&r, &ssh.join("known_hosts")).is_empty());

    // The chmod fixes make ssh accept the keys and files again.
    let run = fx.run(&["fix", "--all", "--only", "chmod", "--yes", "--quick"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(fx.mode(".ssh/id_ed25519"), 0o600);
    assert_eq!(fx.mode(".ssh/id_work"), 0o600);
    assert_eq!(fx.mode("keys/gpu_rsa"), 0o600);
    assert_eq!(fx.mode(".ssh/config"), 0o644);
    assert_eq!(fx.mode(".ssh/authorized_keys"), 0o644);
    // Writable and too open at once: the fix that satisfies both.
    assert_eq!(fx.mode(".ssh"), 0o700);
    assert!(ssh_accepts(&plain) && ssh_accepts(&gpu));
    let r = fx.scan(&["--quick"]);
    assert!(
        findings(&r).iter().all(|f| f["severity"] == "info"),
        "{r:#}"
    );
}

/// A private key outside `~/.ssh`: a copy under a key's usual name, and a service account
/// key whose PEM sits JSON-escaped in a `.json` file.
#[test]
fn private_keys_met_in_the_walk() {
    let mut fx = Fixture::new();
    let copy = fx.mkdir("backup", 0o755).join("id_ed25519");
    keygen(&copy, "", None);
    remember_key(&mut fx, &copy);
    fx.chmod("backup/id_ed25519", 0o644);
    let pkcs8 = fx.path("tmp-key");
    keygen(&pkcs8, "", Some("PKCS8"));
    let pem = std::fs::read_to_string(&pkcs8).unwrap();
    std::fs::remove_file(&pkcs8).unwrap();
    std::fs::remove_file(fx.path("tmp-key.pub")).unwrap();
    for line in pem.lines().filter(|l| l.len() > 40) {
        fx.secret(line.to_string());
    }
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
    let sa = fx.write(
        "Downloads/my-project-4f2a.json",
        serde_json::to_string_pretty(&json!({
            "type": "service_account",
            "project_id": "my-project",
            "private_key": pem,
            "client_email": "sa@my-project.iam.gserviceaccount.com"
        }))
        .unwrap(),
        0o644,
    );
    let r = fx.scan(&[]);
    assert_eq!(one(&r, "ssh-key-permissions", &copy)["severity"], "high");
    one(&r, "ssh-private-key-in-ssh-key", &copy);
    let f = one(&r, "private-key-in-project-file", &sa);
    assert_eq!(
        (f["severity"].as_str(), f["line"].as_u64()),
        (Some("high"), Some(3))
    );
}

/// npm, pip, uv and Poetry keep index credentials in files of their own, in variables and on
/// command lines; conda in channel URLs. Each is found where the tool keeps it (with its
/// permission rule) and where it does not belong.
#[test]
fn package_registry_credentials() {
    let mut fx = Fixture::new();
    let npm = fx.secret(format!("npm_{}", random_alnum("npm", 36)));
    let ghp = fx.secret(format!("ghp_{}", random_alnum("ghp-npmrc", 36)));
    let nexus = fx.secret("bmV4dXM6UzNjcjN0UGFzcw==");
    let npmrc = fx.write(
        ".npmrc",
        format!("//registry.npmjs.org/:_authToken={npm}\n@org:registry=https://npm.pkg.github.com\n//npm.pkg.github.com/:_authToken={ghp}\n//nexus.corp.example/repository/npm/:_auth={nexus}\n//other.example/:_authToken=${{NPM_TOKEN}}\n"),
        0o644,
    );
    let project_tok = fx.secret("5b0e4c2a-9f1d-4e7b-a3c6-8d2f1e0b9a74");
    let project_npmrc = fx.write(
        "web/.npmrc",
        format!("//npm.corp.example/:_authToken={project_tok}\n"),
        0o644,
    );
    let pip_pw = fx.secret("PipPa55wordQz");
    let pip = fx.write(
        ".config/pip/pip.conf",
        format!("[global]\nextra-index-url = https://alice:{pip_pw}@pypi.corp.example/simple\n"),
        0o644,
    );
    let env_pw = fx.secret("EnvIdx9Pw7Lq");
    let bashrc = fx.write(
        ".bashrc",
        format!("export PIP_EXTRA_INDEX_URL=\"https://ci:{env_pw}@pypi.corp.example/simple\"\n"),
        0o644,
    );
    let req_pw = fx.secret("ReqIdxPw3Zx8");
    let req = fx.write(
        "ml/requirements.txt",
        format!("--extra-index-url https://bot:{req_pw}@pypi.corp.example/simple\ntorch==2.5.1\n"),
        0o644,
    );
    let uv_pw = fx.secret("UvIdxPw5Kq2w");
    let uv = fx.write(
        ".config/uv/uv.toml",
        format!("[[index]]\nname = \"corp\"\nurl = \"https://alice:{uv_pw}@pypi.corp.example/simple\"\n"),
        0o644,
    );
    let uv_env_pw = fx.secret("UvEnvPw8Rt4y");
    let dotenv = fx.write(
        "ml/.env",
        format!("UV_INDEX_CORP_USERNAME=alice\nUV_INDEX_CORP_PASSWORD={uv_env_pw}\n"),
        0o600,
    );
    let pyproj_pw = fx.secret("PyprojPw6Hn1");
    let pyproject = fx.write(
        "ml/pyproject.toml",
        format!("[project]\nname = \"ml\"\n\n[[tool.uv.index]]\nname = \"corp\"\nurl = \"https://__token__:{pyproj_pw}@pypi.corp.example/simple/\"\n"),
        0o644,
    );
    let store_pw = fx.secret("UvStorePw2Mx9");
    let store = fx.write(
        ".local/share/uv/credentials/credentials.toml",
        format!("[[credential]]\nservice = \"https://pypi.corp.example/\"\nusername = \"alice\"\npassword = \"{store_pw}\"\n"),
        0o644,
    );
    let poetry_pw = fx.secret("PoetryPw4Dc7");
    let poetry = fx.write(
        ".config/pypoetry/auth.toml",
        format!("[http-basic.corp]\nusername = \"alice\"\npassword = \"{poetry_pw}\"\n"),
        0o644,
    );
    let conda_tok = fx.secret("ab-4c1f9e2d-7a3b-4e6f-9c0d-2e1f3a4b5c6d");
    let condarc = fx.write(
        ".condarc",
        format!(
            "channels:\n  - https://conda.anaconda.org/t/{conda_tok}/my-org\n  - conda-forge\n"
        ),
        0o644,
    );

    let r = fx.scan(&[]);
    let f = one(&r, "npm-token-in-npmrc", &npmrc);
    assert_eq!(
        (f["severity"].as_str(), f["provider"].as_str()),
        (Some("info"), Some("npm"))
    );
    assert_eq!(f["fixes"], json!([]));
    let f = one(&r, "npmrc-permissions", &npmrc);
    assert_eq!(
        (f["severity"].as_str(), f["fixes"].clone()),
        (Some("high"), json!(["chmod"]))
    );
    assert_eq!(
        one(&r, "github-token-in-npmrc", &npmrc)["severity"],
        "medium"
    );
    assert_eq!(one(&r, "npmrc-auth-in-npmrc", &npmrc)["line"], 4);
    assert_eq!(
        rules_at(&r, &npmrc).len(),
        4,
        "the ${{NPM_TOKEN}} reference is no secret"
    );
    let f = one(&r, "npmrc-auth-in-package-manifest", &project_npmrc);
    assert_eq!(
        (f["severity"].as_str(), f["category"].as_str()),
        (Some("high"), Some("project"))
    );
    let f = one(&r, "index-url-credentials-in-pip-config", &pip);
    assert_eq!(f["severity"], "medium");
    assert_eq!(one(&r, "pip-config-permissions", &pip)["severity"], "high");
    let f = one(&r, "index-url-credentials-in-startup-file", &bashrc);
    assert_eq!(f["variable"], "PIP_EXTRA_INDEX_URL");
    assert_eq!(
        one(&r, "index-url-credentials-in-package-manifest", &req)["severity"],
        "high"
    );
    one(&r, "url-credentials-in-uv-config", &uv);
    one(&r, "uv-config-permissions", &uv);
    assert_eq!(
        one(&r, "package-index-password-in-env-file", &dotenv)["variable"],
        "UV_INDEX_CORP_PASSWORD"
    );
    assert_eq!(
        one(&r, "url-credentials-in-package-manifest", &pyproject)["severity"],
        "high"
    );
    one(&r, "toml-password-in-uv-credentials", &store);
    one(&r, "uv-credentials-permissions", &store);
    one(&r, "toml-password-in-poetry-auth", &poetry);
    assert_eq!(
        one(&r, "poetry-auth-permissions", &poetry)["severity"],
        "high"
    );
    one(&r, "conda-channel-token-in-condarc", &condarc);
    one(&r, "condarc-permissions", &condarc);
}

/// The variables pip and uv read hold a password too when hfguard's own environment sets
/// them.
#[test]
fn index_urls_in_the_environment() {
    let mut fx = Fixture::new();
    let pw = fx.secret("EnvIndexPw4Yt");
    fx.set_env(
        "UV_DEFAULT_INDEX",
        format!("https://u:{pw}@pypi.corp.example/simple"),
    );
    let r = fx.scan(&["--quick"]);
    let f = &with_rule(&r, "index-url-credentials-in-environment")[0];
    assert_eq!(
        (f["variable"].as_str(), f["severity"].as_str()),
        (Some("UV_DEFAULT_INDEX"), Some("info"))
    );
}

/// Modal keeps its token in ~/.modal.toml; the other ML platforms' keys are found in `.env`
/// files, histories and code by their format or the variable they are assigned to.
#[test]
fn ml_platform_credentials() {
    let mut fx = Fixture::new();
    let modal = fx.secret(format!("as-{}", random_alnum("modal", 22)));
    let modal_cfg = fx.write(
        ".modal.toml",
        format!(
            "[default]\ntoken_id = \"ak-{}\"\ntoken_secret = \"{modal}\"\nactive = true\n",
            random_alnum("modal-id", 22)
        ),
        0o644,
    );
    let modal2 = fx.secret(format!("as-{}", random_alnum("modal-hist", 22)));
    let hist = fx.write(
        ".bash_history",
        format!(
            "modal token set --token-id ak-{} --token-secret {modal2}\n",
            random_alnum("id2", 22)
        ),
        0o600,
    );
    let together = fx.secret(format!("tgp_v1_{}", random_alnum("together", 43)));
    let mistral = fx.secret(random_alnum("mistral", 32));
    let cohere = fx.secret(random_alnum("cohere", 40));
    let pinecone = fx.secret(format!(
        "pcsk_{}_{}",
        random_alnum("pc1", 6),
        random_alnum("pc2", 63)
    ));
    let kaggle = fx.secret("KGAT_9c2e4f1a7b3d5e6f8a0b1c2d3e4f5a6b");
    let together_old =
        fx.secret("5d2c8e9f1a3b4c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d");
    let env = fx.write(
        "agents/.env",
        format!("TOGETHER_API_KEY={together}\nMISTRAL_API_KEY={mistral}\nCO_API_KEY=\"{cohere}\"\nPINECONE_API_KEY={pinecone}\nKAGGLE_API_TOKEN={kaggle}\nTOGETHER_AI_API_KEY={together_old}\n"),
        0o600,
    );
    fx.write(
        "agents/.env.example",
        "MISTRAL_API_KEY=your-mistral-key-here\nCO_API_KEY=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nPINECONE_API_KEY=pcsk_...\nTOGETHER_API_KEY=tgp_v1_...\n",
        0o644,
    );
    let r = fx.scan(&[]);
    let f = one(&r, "modal-token-secret-in-modal-config", &modal_cfg);
    assert_eq!(
        (f["severity"].as_str(), f["provider"].as_str()),
        (Some("info"), Some("modal"))
    );
    assert_eq!(f["secret"], format!("as-…{}", &modal[modal.len() - 4..]));
    assert_eq!(
        one(&r, "modal-config-permissions", &modal_cfg)["severity"],
        "high"
    );
    one(&r, "modal-token-in-shell-history", &hist);
    for (rule, var, provider) in [
        ("together-key-in-env-file", "TOGETHER_API_KEY", "together"),
        ("mistral-key-in-env-file", "MISTRAL_API_KEY", "mistral"),
        ("cohere-key-in-env-file", "CO_API_KEY", "cohere"),
        ("pinecone-key-in-env-file", "PINECONE_API_KEY", "pinecone"),
        ("kaggle-api-token-in-env-file", "KAGGLE_API_TOKEN", "kaggle"),
        (
            "together-legacy-key-in-env-file",
            "TOGETHER_AI_API_KEY",
            "together",
        ),
    ] {
        let f = one(&r, rule, &env);
        assert_eq!(
            (f["variable"].as_str(), f["provider"].as_str()),
            (Some(var), Some(provider)),
            "{rule}"
        );
    }
    assert!(
        rules_at(&r, &fx.path("agents/.env.example")).is_empty(),
        "{r:#}"
    );
}

/// A token in a JSON string whose quotes are escaped — a notebook cell that sets a variable
/// or runs a command — counts like any other.
#[test]
fn keys_in_json_escaped_context() {
    let mut fx = Fixture::new();
    let wandb = fx.secret(random_alnum("nb-wandb", 40));
    let mistral = fx.secret(random_alnum("nb-mistral", 32));
    let aws = fx.secret(random_alnum("nb-aws", 40));
    let modal = fx.secret(format!("as-{}", random_alnum("nb-modal", 22)));
    let cells = json!({
        "cells": [{
            "cell_type": "code",
            "execution_count": 1,
            "metadata": {},
            "source": [
                "import os\n",
                format!("os.environ[\"WANDB_API_KEY\"] = \"{wandb}\"\n"),
                format!("os.environ['MISTRAL_API_KEY'] = '{mistral}'\n"),
                format!("creds = {{\"aws_secret_access_key\": \"{aws}\"}}\n"),
                "!modal token set --token-id ak-0 --token-secret ".to_string() + &modal
            ],
            "outputs": []
        }],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5
    });
    let nb = fx.write(
        "nb/setup.ipynb",
        serde_json::to_string_pretty(&cells).unwrap(),
        0o644,
    );
    let r = fx.scan(&[]);
    for rule in [
        "wandb-key-in-notebook",
        "mistral-key-in-notebook",
        "aws-secret-key-in-notebook",
        "modal-token-in-notebook",
    ] {
        assert_eq!(one(&r, rule, &nb)["severity"], "high", "{rule}");
    }
}

/// The new prefixed tokens count after a percent-escape too (a URL-encoded header or query
/// in a log), as every token does since the safety work's boundary.
#[test]
fn new_tokens_after_percent_escapes() {
    let mut fx = Fixture::new();
    let together = fx.secret(format!("tgp_v1_{}", random_alnum("pct-tog", 43)));
    let npm = fx.secret(format!("npm_{}", random_alnum("pct-npm", 36)));
    let pinecone = fx.secret(format!(
        "pcsk_{}_{}",
        random_alnum("pct-pc1", 5),
        random_alnum("pct-pc2", 63)
    ));
    let log = fx.write(
        "logs/proxy.log",
        format!("GET /v1/models Authorization=Bearer%20{together}\nPOST /publish?token%3D{npm}\nq=%22{pinecone}%22\n"),
        0o644,
    );
    let r = fx.scan(&[]);
    for rule in [
        "together-key-in-project-file",
        "npm-token-in-project-file",
        "pinecone-key-in-project-file",
    ] {
        one(&r, rule, &log);
    }
}
