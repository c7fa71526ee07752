//! A bounded fuzzing harness for every reader of user files, run by the normal test suite
//! (stable Rust, proptest): shell histories (bash with timestamps, zsh extended and
//! metafied, fish), notebooks, INI files (`stored_tokens`, AWS credentials, `.pypirc`),
//! `.netrc`, git config and `.git-credentials`, `.env`, zip/gzip/tar, SQLite pages and UTF-16
//! text.
//!
//! Two kinds of property:
//! - **found**: a token planted in a well-formed file of each format, among random content,
//!   is found exactly once, whole (its redacted form), on its line where lines mean
//!   something;
//! - **robust**: random and mutated bytes, as every kind of file, never panic, always end, and
//!   every text field of every finding is one inert line (no control character, no full
//!   token).
//!
//! `HFGUARD_FUZZ_CASES` sets the cases per property (default 48: a few seconds in all). The
//! long run uses the cargo-fuzz targets in `fuzz/` (docs/security.md).

mod common;
use common::*;
use hfguard::audit::{scan_bytes, Report};
use hfguard::kind::FileKind;
use proptest::prelude::*;
use std::io::Write;
use std::path::Path;

/// A character a terminal acts on (a tab only moves the cursor along the line: kept).
fn acts_on_terminal(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\t')
        || s.chars()
            .any(|c| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
}

fn config() -> ProptestConfig {
    let cases = std::env::var("HFGUARD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Words, numbers and punctuation of the kind that surround a token in real files.
fn noise() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[a-z]{1,8}",
            "[A-Z_]{2,10}=[a-z0-9]{0,6}",
            "[0-9]{1,6}",
            Just(" ".to_string()),
            Just("--".to_string()),
            Just("hf_hub_download".to_string()),
            Just("HF_TOKEN".to_string()),
            Just("é日本".to_string()),
        ],
        0..12,
    )
    .prop_map(|w| w.join(" "))
}

fn lines(n: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(noise(), 0..n)
}

/// A token no rule takes for a placeholder: 34 random letters and digits after `hf_` (a
/// random one can spell `your` or `fake`, which the rules rightly drop).
fn token() -> impl Strategy<Value = String> {
    any::<u64>()
        .prop_map(|seed| hf_token(&format!("fuzz-{seed}")))
        .prop_filter("a placeholder", |t| {
            !hfguard::rules::builtin().is_placeholder_token(t)
        })
}

/// `len` random letters and digits that are not a placeholder.
fn key(len: usize) -> impl Strategy<Value = String> {
    any::<u64>()
        .prop_map(move |seed| random_alnum(&format!("key-{seed}"), len))
        .prop_filter("a placeholder", |k| {
            !hfguard::rules::builtin().is_placeholder_token(k)
        })
}

/// Scans `data` as a file of `kind` and returns the report, checking that every text
/// field is inert and shows no full token.
fn scan(kind: FileKind, name: &str, data: &[u8], tokens: &[&str]) -> Report {
    let r = scan_bytes(Path::new(name), kind, data);
    for f in &r.findings {
        for field in [Some(&f.message), f.variable.as_ref(), f.secret.as_ref()]
            .into_iter()
            .flatten()
        {
            assert!(!acts_on_terminal(field), "control character in {field:?}");
            for t in tokens {
                assert!(!field.contains(&t[3..]), "a token in {field:?}");
            }
        }
    }
    for w in &r.warnings {
        assert!(!acts_on_terminal(w), "{w:?}");
    }
    r
}

/// The token is found once, whole, on `line` when given.
fn found_once(r: &Report, tok: &str, line: Option<u64>) -> Result<(), TestCaseError> {
    let hits: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.secret.as_deref() == Some(redacted(tok).as_str()))
        .collect();
    prop_assert_eq!(hits.len(), 1, "{:#?}", r.findings);
    if line.is_some() {
        prop_assert_eq!(hits[0].line, line, "{:#?}", r.findings);
    }
    Ok(())
}

/// Plants `planted` as line `at` (1-based, clamped) among `others`; returns the text and
/// the line it ended on.
fn plant(others: &[String], at: usize, planted: &str, sep: &str) -> (String, u64) {
    let at = at % (others.len() + 1);
    let mut out = String::new();
    for o in &others[..at] {
        out.push_str(o);
        out.push_str(sep);
    }
    let line = out.matches('\n').count() as u64 + 1;
    out.push_str(planted);
    out.push_str(sep);
    for o in &others[at..] {
        out.push_str(o);
        out.push_str(sep);
    }
    (out, line)
}

/// zsh's metafication: bytes 0x83 and up (and NUL) as 0x83 followed by the byte xor 0x20.
fn metafy(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in s.as_bytes() {
        if b == 0 || b >= 0x83 {
            out.push(0x83);
            out.push(b ^ 0x20);
        } else {
            out.push(b);
        }
    }
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn zip(name: &str, data: &[u8]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    w.write_all(data).unwrap();
    w.finish().unwrap().into_inner()
}

/// One file in a ustar archive.
fn tar(name: &str, data: &[u8]) -> Vec<u8> {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(b"0000644\0");
    h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512 + 1024, 0);
    out
}

fn utf16le(s: &str, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for u in bom.then_some(0xfeff).into_iter().chain(s.encode_utf16()) {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn bash_history_with_timestamps(others in lines(30), at in any::<usize>(), tok in token()) {
        let others: Vec<String> = others.iter().map(|l| format!("#1700000000\n{l}")).collect();
        let (text, line) = plant(&others, at, &format!("#1700000001\nhf auth login --token {tok}"), "\n");
        let r = scan(FileKind::ShellHistory, "/h/.bash_history", text.as_bytes(), &[&tok]);
        found_once(&r, &tok, Some(line + 1))?;
    }

    #[test]
    fn zsh_extended_metafied_history(others in lines(30), at in any::<usize>(), tok in token()) {
        let others: Vec<String> = others.iter().map(|l| format!(": 1700000000:0;{l}")).collect();
        let planted = format!(": 1700000001:3;export HF_TOKEN={tok} # café");
        let (text, line) = plant(&others, at, &planted, "\n");
        let r = scan(FileKind::ShellHistory, "/h/.zsh_history", &metafy(&text), &[&tok]);
        found_once(&r, &tok, Some(line))?;
    }

    #[test]
    fn fish_history(others in lines(20), at in any::<usize>(), tok in token()) {
        let others: Vec<String> = others.iter().map(|l| format!("- cmd: {l}\n  when: 1700000000")).collect();
        let (text, line) = plant(&others, at, &format!("- cmd: set -gx HF_TOKEN {tok}\n  when: 1700000001"), "\n");
        let r = scan(FileKind::ShellHistory, "/h/.local/share/fish/fish_history", text.as_bytes(), &[&tok]);
        found_once(&r, &tok, Some(line))?;
    }

    #[test]
    fn notebook(others in lines(10), at in any::<usize>(), tok in token()) {
        let cell = |src: &str| serde_json::json!({"cell_type": "code", "source": [src], "outputs": []});
        let mut cells: Vec<serde_json::Value> = others.iter().map(|l| cell(&format!("{l}\n"))).collect();
        let at = at % (cells.len() + 1);
        cells.insert(at, cell(&format!("import os\nos.environ[\"HF_TOKEN\"] = \"{tok}\"\n")));
        let doc = serde_json::to_string_pretty(&serde_json::json!({"cells": cells, "nbformat": 4})).unwrap();
        let line = doc[..doc.find(&tok).unwrap()].matches('\n').count() as u64 + 1;
        let r = scan(FileKind::Notebook, "/h/nb/x.ipynb", doc.as_bytes(), &[&tok]);
        found_once(&r, &tok, Some(line))?;
    }

    #[test]
    fn ini_files(others in lines(8), at in any::<usize>(), tok in token(), key in key(40), pypi in key(60)) {
        let sections: Vec<String> = others.iter().enumerate().map(|(i, l)| format!("[s{i}]\nnote = {l}")).collect();
        let (text, line) = plant(&sections, at, &format!("[work]\nhf_token = {tok}"), "\n");
        let r = scan(FileKind::HfStoredTokens, "/h/.cache/huggingface/stored_tokens", text.as_bytes(), &[&tok]);
        found_once(&r, &tok, Some(line + 1))?;
        let aws = format!("[default]\naws_access_key_id = AKIAIOSFODNN7ABCDEFG\naws_secret_access_key = {key}\n{text}");
        let r = scan(FileKind::AwsCredentials, "/h/.aws/credentials", aws.as_bytes(), &[&tok]);
        prop_assert!(r.findings.iter().any(|f| f.rule == "aws-secret-key-in-aws-credentials"), "{:#?}", r.findings);
        let secret = format!("pypi-AgEIcHlwaS5vcmc{pypi}");
        let pypirc = format!("{text}[pypi]\nusername = __token__\npassword = {secret}\n");
        let r = scan(FileKind::Pypirc, "/h/.pypirc", pypirc.as_bytes(), &[&tok, &secret]);
        prop_assert!(r.findings.iter().any(|f| f.provider.as_deref() == Some("pypi")), "{:#?}", r.findings);
    }

    #[test]
    fn netrc(others in lines(6), at in any::<usize>(), key in "[0-9a-f]{40}", pw in "[A-Za-z0-9!#%&*]{12,20}") {
        let machines: Vec<String> = others.iter().enumerate().map(|(i, l)| format!("machine h{i}.example.org\n  login {}\n  password x", l.replace(' ', "_"))).collect();
        let (text, line) = plant(&machines, at, &format!("machine api.wandb.ai\n  login user\n  password {key}"), "\n");
        let text = format!("{text}machine git.example.org login me password {pw}\n");
        let r = scan(FileKind::Netrc, "/h/.netrc", text.as_bytes(), &[&key, &pw]);
        let wandb: Vec<_> = r.findings.iter().filter(|f| f.provider.as_deref() == Some("wandb")).collect();
        prop_assert_eq!(wandb.len(), 1, "{:#?}", r.findings);
        prop_assert_eq!(wandb[0].line, Some(line + 2));
        prop_assert!(r.findings.iter().any(|f| f.rule == "netrc-password-in-netrc"), "{:#?}", r.findings);
    }

    #[test]
    fn git_config_and_credentials(others in lines(10), at in any::<usize>(), tok in token(), user in "[a-z@.]{1,12}") {
        let sections: Vec<String> = others.iter().map(|l| format!("[core]\n\tcomment = {l}")).collect();
        let (text, line) = plant(&sections, at, &format!("[remote \"origin\"]\n\turl = https://me:{tok}@huggingface.co/m/x"), "\n");
        let r = scan(FileKind::GitRemote, "/h/p/.git/config", text.as_bytes(), &[&tok]);
        found_once(&r, &tok, Some(line + 1))?;
        let user = user.replace('@', "%40");
        let creds = format!("https://{user}:{tok}@huggingface.co\nhttps://x:y@example.org\n");
        let r = scan(FileKind::GitCredentials, "/h/.git-credentials", creds.as_bytes(), &[&tok]);
        found_once(&r, &tok, Some(1))?;
    }

    #[test]
    fn dotenv(others in lines(20), at in any::<usize>(), tok in token(), form in 0usize..4) {
        let planted = match form {
            0 => format!("HF_TOKEN={tok}"),
            1 => format!("export HF_TOKEN=\"{tok}\""),
            2 => format!("HF_TOKEN='{tok}' # mine"),
            _ => format!("HF_TOKEN = {tok}"),
        };
        let others: Vec<String> = others.iter().map(|l| format!("# {l}")).collect();
        let (text, line) = plant(&others, at, &planted, "\r\n");
        let r = scan(FileKind::EnvFile, "/h/p/.env", text.as_bytes(), &[&tok]);
        found_once(&r, &tok, Some(line))?;
        prop_assert!(r.findings.iter().any(|f| f.variable.as_deref() == Some("HF_TOKEN")));
    }

    #[test]
    fn archives(others in lines(20), at in any::<usize>(), tok in token(), nest in 0usize..4) {
        let (text, _) = plant(&others, at, &format!("token = \"{tok}\""), "\n");
        let data = match nest {
            0 => gzip(text.as_bytes()),
            1 => zip("a/b.txt", text.as_bytes()),
            2 => gzip(&tar("a/b.txt", text.as_bytes())),
            _ => zip("inner.gz", &gzip(&zip("c.txt", text.as_bytes()))),
        };
        let r = scan(FileKind::ProjectFile, "/h/p/a.bin", &data, &[&tok]);
        found_once(&r, &tok, None)?;
    }

    #[test]
    fn sqlite_pages(noise_bytes in prop::collection::vec(any::<u8>(), 0..600), tok in token()) {
        let mut db = b"SQLite format 3\0".to_vec();
        db.extend_from_slice(&[0u8; 84]);
        db.extend_from_slice(&noise_bytes);
        db.extend_from_slice(format!("\x04\x01\x01WW{tok}\0").as_bytes());
        db.extend_from_slice(&noise_bytes);
        let r = scan(FileKind::ReplHistory, "/h/.ipython/profile_default/history.sqlite", &db, &[&tok]);
        found_once(&r, &tok, None)?;
    }

    #[test]
    fn utf16_text(others in lines(20), at in any::<usize>(), tok in token(), bom in any::<bool>()) {
        let (text, line) = plant(&others, at, &format!("$env:HF_TOKEN = '{tok}'"), "\r\n");
        let r = scan(FileKind::ProjectFile, "/h/p/t.txt", &utf16le(&text, bom), &[&tok]);
        found_once(&r, &tok, Some(line))?;
    }

    #[test]
    fn a_token_after_a_percent_escape(others in lines(10), at in any::<usize>(), tok in token(), esc in "%[0-9A-Fa-f]{2}") {
        let (text, line) = plant(&others, at, &format!("GET /?q=a{esc}{tok}"), "\n");
        let r = scan(FileKind::AiSessionLog, "/h/.claude/projects/p/s.jsonl", text.as_bytes(), &[&tok]);
        found_once(&r, &tok, Some(line))?;
    }

    #[test]
    fn random_bytes_as_any_kind_never_panic(data in prop::collection::vec(any::<u8>(), 0..4096), k in 0usize..FileKind::ALL.len()) {
        scan(FileKind::ALL[k], "/h/x", &data, &[]);
    }

    #[test]
    fn mutated_formats_never_panic(tok in token(), flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..16), which in 0usize..6) {
        let text = format!("export HF_TOKEN={tok}\n");
        let mut data = match which {
            0 => gzip(text.as_bytes()),
            1 => zip("x", text.as_bytes()),
            2 => tar("x", text.as_bytes()),
            3 => utf16le(&text, true),
            4 => metafy(&text),
            _ => serde_json::to_vec(&serde_json::json!({"cells": [{"source": [text]}]})).unwrap(),
        };
        for (at, b) in flips {
            let i = at % data.len();
            data[i] = b;
        }
        for kind in [FileKind::ProjectFile, FileKind::ShellHistory, FileKind::Notebook] {
            scan(kind, "/h/x", &data, &[&tok]);
        }
    }

    #[test]
    fn names_are_masked_and_escaped_whatever_they_hold(bytes in prop::collection::vec(any::<u8>(), 0..80), tok in token()) {
        let mut raw = bytes.clone();
        raw.extend_from_slice(format!("/{tok}.txt").as_bytes());
        let p = Path::new(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&raw));
        let shown = hfguard::redact::show_path(p);
        prop_assert!(!shown.contains(&tok[3..]), "{}", shown);
        prop_assert!(!acts_on_terminal(&shown), "{:?}", shown);
    }

    #[test]
    fn git_config_helpers_parse_anything(text in ".{0,400}") {
        let _ = hfguard::probes::gitconfig::store_helpers(&text);
    }
}
