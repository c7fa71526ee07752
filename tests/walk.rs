//! The home walk, git remotes, notebooks, containers, skips and negatives (checks 6 and 7),
//! and the audit's own safety on a hostile home.

mod common;
use common::*;
use std::io::Write;

#[test]
fn token_in_git_remote_url() {
    let mut fx = Fixture::new();
    let t = fx.token("remote");
    let cfg = fx.write(
        "code/model/.git/config",
        format!("[core]\n\tbare = false\n[remote \"origin\"]\n\turl = https://me:{t}@huggingface.co/me/model\n"),
        0o644,
    );
    fx.write("code/model/.git/objects/ab/cdef", &t, 0o444);
    let r = fx.scan(&[]);
    let f = one(&r, "hf-token-in-git-remote", &cfg);
    assert_eq!(f["line"], 4);
    assert_eq!(f["category"], "git");
    // .git internals other than the config are not read.
    assert_eq!(findings(&r).len(), 1, "{r:#}");
}

#[test]
fn real_git_repository_remote_with_credentials() {
    let mut fx = Fixture::new();
    let t = fx.token("real-git");
    let repo = fx.mkdir("code/real", 0o755);
    let git = |args: &[&str]| {
        let st = std::process::Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("HOME", fx.home())
            .stdout(std::process::Stdio::null())
            .status()
            .expect("git is installed (the test script installs it)");
        assert!(st.success());
    };
    git(&["init", "-q"]);
    git(&[
        "remote",
        "add",
        "origin",
        &format!("https://user:{t}@huggingface.co/user/real"),
    ]);
    let r = fx.scan(&[]);
    one(&r, "hf-token-in-git-remote", &repo.join(".git/config"));
}

#[test]
fn notebook_cell_source_and_outputs_with_raw_file_lines() {
    let mut fx = Fixture::new();
    let (a, b) = (fx.token("cell"), fx.token("output"));
    let nb = format!(
        r#"{{
 "cells": [
  {{
   "cell_type": "code",
   "execution_count": 1,
   "metadata": {{}},
   "outputs": [
    {{
     "name": "stdout",
     "output_type": "stream",
     "text": [
      "token is {b}\n"
     ]
    }}
   ],
   "source": [
    "from huggingface_hub import login\n",
    "login(token=\"{a}\")"
   ]
  }}
 ],
 "metadata": {{}},
 "nbformat": 4,
 "nbformat_minor": 5
}}
"#
    );
    let p = fx.write("ml/train.ipynb", &nb, 0o644);
    let cp = fx.write("ml/.ipynb_checkpoints/train-checkpoint.ipynb", &nb, 0o644);
    let r = fx.scan(&[]);
    let hits = with_rule(&r, "hf-token-in-notebook");
    let at = |path: &std::path::Path| {
        let mut v: Vec<u64> = hits
            .iter()
            .filter(|f| f["path"] == path.to_str().unwrap())
            .map(|f| f["line"].as_u64().unwrap())
            .collect();
        v.sort();
        v
    };
    assert_eq!(at(&p), vec![12, 18]);
    assert_eq!(at(&cp), vec![12, 18]);
    // The same secret has the same fingerprint wherever it is.
    let fps: std::collections::HashSet<_> = hits
        .iter()
        .filter(|f| f["secret"] == redacted(&a))
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fps.len(), 1);
}

#[test]
fn env_files_yaml_and_configs() {
    let mut fx = Fixture::new();
    let (a, b) = (fx.token("dotenv"), fx.token("yaml"));
    let openai = fx.secret(format!(
        "sk-proj-{}T3BlbkFJ{}",
        random_alnum("oa1", 40),
        random_alnum("oa2", 40)
    ));
    let env = fx.write(
        "proj/.env",
        format!("HF_TOKEN={a}\r\nOPENAI_API_KEY={openai}\r\n"),
        0o644,
    );
    let local = fx.write("proj/.env.local", format!("HF_TOKEN=\"{a}\""), 0o600);
    let yaml = fx.write(
        "proj/conf/train.yaml",
        format!("hub:\n  push: true\n  token: {b}\n"),
        0o644,
    );
    let r = fx.scan(&[]);
    let f = one(&r, "hf-token-in-env-file", &env);
    assert_eq!(f["line"], 1);
    assert_eq!(f["variable"], "HF_TOKEN");
    // CRLF line endings: still line 2.
    assert_eq!(one(&r, "openai-key-in-env-file", &env)["line"], 2);
    assert_eq!(
        one(&r, "openai-key-in-env-file", &env)["provider"],
        "openai"
    );
    one(&r, "hf-token-in-env-file", &local);
    assert_eq!(one(&r, "hf-token-in-project-file", &yaml)["line"], 3);
    // A world-readable .env with a secret: a permission finding too, at most medium.
    assert_eq!(one(&r, "env-file-permissions", &env)["severity"], "medium");
}

#[test]
fn base64_kubernetes_secret_is_decoded() {
    let mut fx = Fixture::new();
    let t = fx.token("k8s");
    use base64::Engine;
    let enc = base64::engine::general_purpose::STANDARD.encode(&t);
    let p = fx.write(
        "deploy/secret.yaml",
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: hf\ndata:\n  HF_TOKEN: {enc}\n"),
        0o644,
    );
    let r = fx.scan(&[]);
    let f = one(&r, "hf-token-in-project-file", &p);
    assert_eq!(f["line"], 6);
    assert_eq!(f["secret"], redacted(&t));
}

#[test]
fn compressed_and_compiled_files_are_searched() {
    let mut fx = Fixture::new();
    let (a, b, c) = (fx.token("gz"), fx.token("zip"), fx.token("pyc"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(format!("2025-01-01 INFO login with {a}\n").as_bytes())
        .unwrap();
    let gz_path = fx.write("logs/run.log.gz", gz.finish().unwrap(), 0o644);

    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("cfg/settings.py", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(format!("HF_TOKEN = '{b}'\n").as_bytes())
        .unwrap();
    let zip_path = fx.write(
        "backup/project.zip",
        zip.finish().unwrap().into_inner(),
        0o644,
    );

    let mut pyc = vec![0x6f, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0xe3, 0, 0, 0];
    pyc.extend_from_slice(b"\xda\x22");
    pyc.extend_from_slice(c.as_bytes());
    pyc.push(0);
    let pyc_path = fx.write("proj/__pycache__/cfg.cpython-312.pyc", pyc, 0o644);

    let r = fx.scan(&[]);
    let g = one(&r, "hf-token-in-archive", &gz_path);
    assert!(g["line"].is_null(), "no line inside a compressed file");
    one(&r, "hf-token-in-archive", &zip_path);
    one(&r, "hf-token-in-project-file", &pyc_path);
}

#[test]
fn skips_model_blobs_dependencies_caches_and_big_files() {
    let mut fx = Fixture::new();
    let t = fx.token("skipped");
    for rel in [
        ".cache/huggingface/hub/models--org--m/blobs/0123abcd",
        "proj/node_modules/pkg/index.js",
        "proj/.venv/lib/python3.12/site-packages/pkg/mod.py",
        "models/model.safetensors",
        "models/weights.bin",
        ".cache/pip/http/x",
        "cachedir/file.txt",
        "big/huge.log",
    ] {
        fx.write(rel, format!("token {t}\n"), 0o644);
    }
    fx.write(
        "cachedir/CACHEDIR.TAG",
        "Signature: 8a477f597d28d172789f06886806bc55\n",
        0o644,
    );
    // Bigger than the configured limit.
    let mut huge = vec![b'x'; 300_000];
    huge.extend_from_slice(t.as_bytes());
    fx.write("big/huge.log", huge, 0o644);
    fx.write(
        ".config/hfguard/config.toml",
        "[scan]\nmax_file_size = 200000\n",
        0o644,
    );
    let r = fx.scan(&[]);
    assert!(findings(&r).is_empty(), "{r:#}");

    // The same content in a plain project file is found: the skips are what hid it.
    let p = fx.write("proj/src/main.py", format!("token {t}\n"), 0o644);
    one(&fx.scan(&[]), "hf-token-in-project-file", &p);
}

#[test]
fn extra_roots_quick_and_configured_skips() {
    let mut fx = Fixture::new();
    let t = fx.token("extra");
    let other = tempfile::tempdir().unwrap();
    let outside = other.path().join("notes.md");
    std::fs::write(&outside, format!("my token: {t}\n")).unwrap();
    let inside = fx.write("work/notes.md", format!("my token: {t}\n"), 0o644);

    let r = fx.scan(&["--path", other.path().to_str().unwrap()]);
    one(&r, "hf-token-in-project-file", &outside);
    one(&r, "hf-token-in-project-file", &inside);

    // A root inside the home, or around it, is walked once: the same number of files; and
    // one inside a skipped folder is walked because it was asked for.
    let files = |args: &[&str]| {
        let out = fx
            .run(&[&["scan", "--skip", "processes"], args].concat())
            .stdout;
        let last = out.lines().last().unwrap_or_default().to_string();
        // "N files scanned (B bytes)", without the time it took.
        let stats = last.split(" · ").nth(1).unwrap_or_default();
        stats.split(" in ").next().unwrap_or_default().to_string()
    };
    let alone = files(&[]);
    assert!(alone.starts_with("1 file scanned"), "{alone}");
    let work = fx.path("work");
    assert_eq!(files(&["--path", work.to_str().unwrap()]), alone);
    let dotted = format!("{}/../work", work.display());
    assert_eq!(files(&["--path", &dotted]), alone, "a root given with ..");
    let sub = other.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("more.md"), "nothing\n").unwrap();
    let (o, s) = (other.path().to_str().unwrap(), sub.to_str().unwrap());
    let outer = files(&["--path", o]);
    assert!(outer.starts_with("3 files scanned"), "{outer}");
    assert_eq!(files(&["--path", s, "--path", o]), outer);
    let skipped = fx.write("proj/node_modules/x/todo.md", format!("token {t}\n"), 0o644);
    assert!(rules_at(&fx.scan(&[]), &skipped).is_empty());
    let r = fx.scan(&["--path", fx.path("proj/node_modules/x").to_str().unwrap()]);
    one(&r, "hf-token-in-project-file", &skipped);

    let r = fx.scan(&["--quick"]);
    assert!(findings(&r).is_empty(), "--quick walked: {r:#}");

    fx.write(
        ".config/hfguard/config.toml",
        "[scan]\nskip_dirs = [\"work\"]\n",
        0o644,
    );
    assert!(findings(&fx.scan(&[])).is_empty());
}

#[test]
fn placeholders_references_and_identifiers_are_not_findings() {
    let mut fx = Fixture::new();
    let real = fx.token("embedded");
    let body = &real[3..];
    let text = format!(
        r#"from huggingface_hub import hf_hub_download, HfApi
token = "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
token = "hf_YOUR_TOKEN_HERE"
token = "<hf_token>"
token = "hf_***"
token = "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH"
token = "hf_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
token = os.environ["HF_TOKEN"]
token = os.getenv("HF_TOKEN")
env:
  HF_TOKEN: ${{{{ secrets.HF_TOKEN }}}}
export HF_TOKEN=$(cat ~/.cache/huggingface/token)
export HF_TOKEN="${{HF_TOKEN:-}}"
name = "myhf_{body}"
"#
    );
    fx.write("proj/app.py", &text, 0o644);
    fx.write(
        ".bashrc",
        "export HF_TOKEN=$(cat ~/.cache/huggingface/token)\n",
        0o644,
    );
    fx.write(
        "proj/.env.example",
        "HF_TOKEN=hf_YOUR_TOKEN_HERE\nOPENAI_API_KEY=sk-...\n",
        0o644,
    );
    fx.write(
        ".github/workflows/ci.yml",
        "env:\n  HF_TOKEN: ${{ secrets.HF_TOKEN }}\n",
        0o644,
    );
    let r = fx.scan(&[]);
    assert!(findings(&r).is_empty(), "{r:#}");
}

#[test]
fn fifo_socket_symlink_loops_and_invalid_utf8_never_hang_or_crash() {
    let mut fx = Fixture::new();
    let t = fx.token("hostile");
    fx.mkdir("weird", 0o755);
    nix::unistd::mkfifo(
        &fx.path("weird/fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    // A FIFO where a known credential file should be.
    fx.mkdir(".cache/huggingface", 0o700);
    nix::unistd::mkfifo(
        &fx.path(".cache/huggingface/token"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    let _sock = std::os::unix::net::UnixListener::bind(fx.path("weird/agent.sock")).unwrap();
    std::os::unix::fs::symlink("loop-b", fx.path("weird/loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", fx.path("weird/loop-b")).unwrap();
    std::os::unix::fs::symlink(fx.home(), fx.path("weird/home-again")).unwrap();
    std::os::unix::fs::symlink("/", fx.path("weird/root")).unwrap();
    let mut bad = b"\xff\xfe\xc3(latin1 \xe9t\xe9\n".to_vec();
    bad.extend_from_slice(format!("tok={t}").as_bytes());
    let p = fx.write("weird/invalid-utf8.txt", bad, 0o644);
    let r = fx.scan(&[]);
    assert_eq!(one(&r, "hf-token-in-project-file", &p)["line"], 2);
    let warnings = r["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains(".cache/huggingface/token")
                && w.as_str().unwrap().contains("FIFO")),
        "the FIFO at a credential location is worth a warning: {warnings:?}"
    );
    // Only one finding: nothing read twice through the symlink to the home.
    assert_eq!(with_rule(&r, "hf-token-in-project-file").len(), 1, "{r:#}");
}

#[test]
fn ids_are_stable_across_runs_and_edits_above() {
    let mut fx = Fixture::new();
    let t = fx.token("stable");
    let p = fx.write(".bashrc", format!("export HF_TOKEN={t}\n"), 0o644);
    let id1 = one(&fx.scan(&[]), "hf-token-in-startup-file", &p)["id"].clone();
    let id2 = one(&fx.scan(&[]), "hf-token-in-startup-file", &p)["id"].clone();
    assert_eq!(id1, id2);
    fx.write(
        ".bashrc",
        format!("# my settings\nalias ll='ls -l'\nexport HF_TOKEN={t}\n"),
        0o644,
    );
    let r = fx.scan(&[]);
    let f = one(&r, "hf-token-in-startup-file", &p);
    assert_eq!(f["id"], id1);
    assert_eq!(f["line"], 3);
}

#[test]
fn file_names_that_are_not_utf8_are_reported_not_fatal() {
    use std::os::unix::ffi::OsStrExt;
    let mut fx = Fixture::new();
    let t = fx.token("latin1-name");
    fx.mkdir("proj", 0o755);
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.py");
    std::fs::write(fx.path("proj").join(name), format!("TOKEN = '{t}'\n")).unwrap();
    for format in ["json", "sarif", "text", "markdown"] {
        let run = fx.run(&["scan", "--skip", "processes", "--format", format]);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        // The byte that is not UTF-8 is shown as `\xe9` (JSON escapes the backslash), so
        // two such names never read the same.
        assert!(
            run.stdout.contains(r"caf\xe9.py")
                || run.stdout.contains(r"caf\\xe9.py")
                || run.stdout.contains("caf%E9.py"),
            "{format}: {}",
            run.stdout
        );
    }
}

/// A zip whose 5000 directory entries all name one entry that inflates to 60 MiB and then
/// fails its checksum: the archive budget (64 MiB inflated per file) must count what failed
/// entries inflated, or the scan inflates 293 GiB. (Bounded by the run's 60 s limit.)
#[test]
fn a_zip_of_failing_entries_stays_within_the_inflate_budget() {
    use std::io::Write;
    let mut fx = Fixture::new();
    let plain = vec![0u8; 60 << 20];
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&plain).unwrap();
    let deflated = enc.finish().unwrap();
    let le16 = |v: u16| v.to_le_bytes().to_vec();
    let le32 = |v: u32| v.to_le_bytes().to_vec();
    let bad_crc = 0x1234_5678;
    let mut zip = [
        le32(0x0403_4b50),
        le16(20),
        le16(0),
        le16(8),
        le16(0),
        le16(0),
        le32(bad_crc),
        le32(deflated.len() as u32),
        le32(plain.len() as u32),
        le16(5),
        le16(0),
        b"a.txt".to_vec(),
        deflated.clone(),
    ]
    .concat();
    let body_len = zip.len() as u32;
    let entries = 5000u16;
    let mut directory = Vec::new();
    for i in 0..entries {
        let name = format!("f{i:05}.txt");
        directory.extend(
            [
                le32(0x0201_4b50),
                le16(20),
                le16(20),
                le16(0),
                le16(8),
                le16(0),
                le16(0),
                le32(bad_crc),
                le32(deflated.len() as u32),
                le32(plain.len() as u32),
                le16(name.len() as u16),
                le16(0),
                le16(0),
                le16(0),
                le16(0),
                le32(0),
                le32(0),
                name.into_bytes(),
            ]
            .concat(),
        );
    }
    let dir_len = directory.len() as u32;
    zip.extend(directory);
    zip.extend(
        [
            le32(0x0605_4b50),
            le16(0),
            le16(0),
            le16(entries),
            le16(entries),
            le32(dir_len),
            le32(body_len),
            le16(0),
        ]
        .concat(),
    );
    fx.write("downloads/model.zip", &zip, 0o644);
    let t = fx.token("after-the-zip");
    let after = fx.write("downloads/notes.md", format!("token {t}\n"), 0o644);
    // The scan finishes (fx.scan kills it after 60 s) and still finds what is next to it.
    one(&fx.scan(&[]), "hf-token-in-project-file", &after);
}
