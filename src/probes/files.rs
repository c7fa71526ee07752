//! Scans one file's content for secrets, and the known locations (token stores, credential
//! files, start-up files and what they source, histories, AI session logs).

use crate::audit::Collector;
use crate::finding::{Category, Finding, Severity};
use crate::fsread::{self, Entry, ReadOutcome};
use crate::home::{KnownFile, AI_LOG_DIRS};
use crate::kind::FileKind;
use crate::probes::permissions;
use crate::rules::{self, SecretMatch};
use crate::secret::Secret;
use regex::bytes::Regex;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Known locations are read up to this size (histories can be large).
const KNOWN_LIMIT: u64 = 512 * 1024 * 1024;
/// Decompressed archives are searched up to this size.
const ARCHIVE_LIMIT: u64 = 64 * 1024 * 1024;
/// Bytes sniffed for NUL to tell binary from text, as ripgrep does.
const SNIFF: usize = 8192;

/// Scans every known location that exists.
pub fn scan_known(c: &Collector) {
    let mut queue: Vec<KnownFile> = c.home.known_files();
    for (dir, ext) in AI_LOG_DIRS {
        collect_files(&c.home.dir.join(dir), ext, 6, &mut |path| {
            queue.push(KnownFile {
                path,
                kind: FileKind::AiSessionLog,
            })
        });
    }
    let mut buf = Vec::new();
    let mut i = 0;
    while i < queue.len() {
        let KnownFile { path, kind } = queue[i].clone();
        i += 1;
        if !c.claim(&path) {
            continue;
        }
        let path = match resolve_known(c, &path, kind) {
            Some(p) => p,
            None => continue,
        };
        if kind == FileKind::StartupFile {
            for sourced in sourced_files(c, &path) {
                queue.push(KnownFile {
                    path: sourced,
                    kind: FileKind::StartupFile,
                });
            }
        }
        scan_file(c, &path, kind, KNOWN_LIMIT, &mut buf);
    }
}

/// Follows a known location that is a symlink only when its target stays under the home
/// (dotfile managers link `.bashrc` into `~/dotfiles`); a credential file pointing outside is
/// reported and not read.
fn resolve_known(c: &Collector, path: &Path, kind: FileKind) -> Option<PathBuf> {
    match fsread::lstat(path) {
        Ok(Entry::Symlink) => {}
        Ok(_) => return Some(path.to_path_buf()),
        Err(e) => {
            c.warn(format!(
                "unreadable: {} ({})",
                path.display(),
                fsread::reason(&e)
            ));
            return None;
        }
    }
    let home = std::fs::canonicalize(&c.home.dir).unwrap_or_else(|_| c.home.dir.clone());
    match std::fs::canonicalize(path) {
        Ok(target) if target.starts_with(&home) => {
            // Under the home as the user (and the walk) sees it, when the home's own path
            // has a symlink in it (Fedora Atomic's /home → /var/home): one finding per file,
            // shown as ~/…
            let seen = match target.strip_prefix(&home) {
                Ok(rel) => c.home.dir.join(rel),
                Err(_) => target,
            };
            c.claim(&seen);
            Some(seen)
        }
        Ok(_) if kind.should_be_private() => {
            permissions::symlink_outside_home(c, path, kind);
            None
        }
        Ok(_) => None,
        Err(e) if fsread::is_vanished(&e) => None,
        Err(e) => {
            c.warn(format!(
                "unreadable: {} ({})",
                path.display(),
                fsread::reason(&e)
            ));
            None
        }
    }
}

/// Files ending in `ext` under `dir`, at most `depth` levels down, never following links.
fn collect_files(dir: &Path, ext: &str, depth: usize, found: &mut dyn FnMut(PathBuf)) {
    if depth == 0 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        let p = e.path();
        if ft.is_dir() {
            collect_files(&p, ext, depth - 1, found);
        } else if ft.is_file() && p.to_string_lossy().ends_with(ext) {
            found(p);
        }
    }
}

/// Files a start-up file sources (`source F`, `. F`) that live under the home.
fn sourced_files(c: &Collector, path: &Path) -> Vec<PathBuf> {
    static SOURCE: OnceLock<Regex> = OnceLock::new();
    let re = SOURCE.get_or_init(|| {
        Regex::new(r#"(?m)^\s*(?:source|\.)\s+["']?([^"'\s;&|]+)"#).expect("valid regex")
    });
    let mut data = Vec::new();
    if !matches!(
        fsread::read_regular(path, 1024 * 1024, &mut data),
        Ok(ReadOutcome::Read { .. })
    ) {
        return Vec::new();
    }
    let home = c.home.dir.to_string_lossy().into_owned();
    let Ok(real_home) = c.home.dir.canonicalize() else {
        return Vec::new();
    };
    re.captures_iter(&data)
        .filter_map(|caps| {
            let raw = String::from_utf8_lossy(&caps[1]).into_owned();
            let expanded = raw
                .replace("${HOME}", &home)
                .replace("$HOME", &home)
                .replace("${ZDOTDIR}", &home)
                .replace("$ZDOTDIR", &home);
            if expanded.contains('$') {
                return None;
            }
            let p = c.home.expand(Path::new(&expanded));
            // Inside the home for real, with `..` and symlinked folders resolved: a sourced
            // file outside it is not the user's to audit, and is never read.
            let real = p.canonicalize().ok()?;
            (real.starts_with(&real_home) && real.is_file()).then_some(p)
        })
        .collect()
}

/// Reads and scans one file: secrets in its content (text, or the text inside SQLite
/// databases, `.pyc`, gzip, zip and tar files), and its permissions. `buf` is reused across
/// files by the caller.
pub fn scan_file(c: &Collector, path: &Path, kind: FileKind, limit: u64, buf: &mut Vec<u8>) {
    let meta = match fsread::lstat(path) {
        Ok(Entry::Regular(m)) => m,
        Ok(Entry::Special(what)) => {
            if kind != FileKind::ProjectFile {
                c.warn(format!("skipped: {} (is {what})", path.display()));
            }
            return;
        }
        Ok(_) => return,
        Err(e) => {
            c.warn(format!(
                "unreadable: {} ({})",
                path.display(),
                fsread::reason(&e)
            ));
            return;
        }
    };
    if kind == FileKind::StartupFile {
        permissions::check_startup(c, path, &meta);
    }
    let meta = match fsread::read_regular(path, limit, buf) {
        Ok(ReadOutcome::Read { meta, truncated }) => {
            if truncated && kind != FileKind::ProjectFile {
                c.warn(format!(
                    "partly read: {} (larger than {} MiB)",
                    path.display(),
                    limit >> 20
                ));
            }
            meta
        }
        Ok(ReadOutcome::Vanished) => return,
        Err(e) => {
            c.warn(format!(
                "unreadable: {} ({})",
                path.display(),
                fsread::reason(&e)
            ));
            return;
        }
    };
    scan_read(c, path, kind, &meta, buf);
}

/// Scans a file met in the home walk, which the walker already saw as a regular file (so no
/// `lstat` first): open, `fstat`, one `read`. Files larger than `max_size` are counted as
/// skipped, unread. `buf` is reused across files by the caller.
pub fn scan_walked_file(
    c: &Collector,
    path: &Path,
    kind: FileKind,
    max_size: u64,
    buf: &mut Vec<u8>,
) {
    let (file, meta) = match fsread::open_regular(path) {
        Ok(Some(opened)) => opened,
        Ok(None) => return,
        Err(e) => {
            // Too big to read anyway: skipped, as if its size had been checked first.
            if let Ok(Entry::Regular(m)) = fsread::lstat(path) {
                if m.len() > max_size {
                    c.skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return;
                }
            }
            c.warn(format!(
                "unreadable: {} ({})",
                path.display(),
                fsread::reason(&e)
            ));
            return;
        }
    };
    if meta.len() > max_size {
        c.skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return;
    }
    match fsread::read_opened(&file, meta, max_size, buf) {
        Ok(ReadOutcome::Read { meta, .. }) => scan_read(c, path, kind, &meta, buf),
        Ok(ReadOutcome::Vanished) => {}
        Err(e) => c.warn(format!(
            "unreadable: {} ({})",
            path.display(),
            fsread::reason(&e)
        )),
    }
}

/// Counts a file read into `data` and scans it: secrets, then permissions.
fn scan_read(c: &Collector, path: &Path, kind: FileKind, meta: &std::fs::Metadata, data: &[u8]) {
    c.count_file(data.len() as u64);
    let found = scan_content(c, path, kind, data);
    permissions::check_file(c, path, kind, meta, !data.is_empty(), found);
}

/// Scans `data` (the content of `path`); returns the providers of the secrets found.
fn scan_content(c: &Collector, path: &Path, kind: FileKind, data: &[u8]) -> Vec<Option<String>> {
    let rules = rules::builtin();
    let head = &data[..data.len().min(SNIFF)];
    let mut matches = Vec::new();
    if data.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        let dec = flate2::read::MultiGzDecoder::new(data);
        if dec.take(ARCHIVE_LIMIT).read_to_end(&mut out).is_ok() || !out.is_empty() {
            rules.find(&out, Some(FileKind::Archive), &mut matches);
            return report(c, path, FileKind::Archive, &out, matches, false);
        }
        return Vec::new();
    }
    if data.starts_with(b"PK\x03\x04") {
        return scan_zip(c, path, data);
    }
    // NUL bytes in the head: a binary file, or a text container (SQLite, .pyc, tar) whose
    // raw bytes are searched. Only walked files are skipped as binary: a known location is
    // read whatever it holds (a history gets NUL blocks after a crash; the rest still counts).
    let binary = memchr::memchr(0, head).is_some();
    let container = binary && is_text_container(path, data);
    if binary && !container && kind == FileKind::ProjectFile {
        c.skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Vec::new();
    }
    // One pass of the prefilter decides which rules run; most files end here with nothing.
    if container {
        rules.find_in_container(data, Some(kind), &mut matches);
    } else {
        rules.find(data, Some(kind), &mut matches);
    }
    if matches.is_empty() && kind.is_hf_token_file() {
        if let Some(m) = whole_file_token(data) {
            matches.push(m);
        }
    }
    if matches.is_empty() {
        return Vec::new();
    }
    report(
        c,
        path,
        kind,
        data,
        matches,
        !container && kind.is_line_based(),
    )
}

/// Binary files whose text is worth searching raw: SQLite databases (IPython and atuin
/// histories, browser stores), compiled Python, tar archives.
/// A binary file whose text is searched in its raw bytes: a SQLite database or its
/// write-ahead log, a `.pyc`, a tar archive. Its byte layout must be kept when it is edited.
pub fn is_text_container(path: &Path, data: &[u8]) -> bool {
    data.starts_with(b"SQLite format 3\0")
        || is_sqlite_wal(data)
        || path.extension().is_some_and(|e| e == "pyc")
        || data.get(257..262) == Some(b"ustar")
}

/// A SQLite write-ahead log (`…-wal`): recent rows not yet in the database, in checksummed
/// frames.
pub fn is_sqlite_wal(data: &[u8]) -> bool {
    matches!(data.get(..4), Some([0x37, 0x7f, 0x06, 0x82 | 0x83]))
}

fn scan_zip(c: &Collector, path: &Path, data: &[u8]) -> Vec<Option<String>> {
    let Ok(mut zip) = zip::ZipArchive::new(std::io::Cursor::new(data)) else {
        return Vec::new();
    };
    let rules = rules::builtin();
    let mut providers = Vec::new();
    let mut budget = ARCHIVE_LIMIT;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        if budget == 0 {
            break;
        }
        let Ok(entry) = zip.by_index(i) else { continue };
        if !entry.is_file() {
            continue;
        }
        out.clear();
        let mut entry = entry.take(budget);
        // What an entry inflated counts against the budget even when it then fails (a bad
        // checksum): else one crafted entry, listed a thousand times, inflates a thousand times.
        let read = entry.read_to_end(&mut out);
        budget = budget.saturating_sub(out.len() as u64);
        if read.is_err() {
            continue;
        }
        let mut matches = Vec::new();
        rules.find(&out, Some(FileKind::Archive), &mut matches);
        providers.extend(report(c, path, FileKind::Archive, &out, matches, false));
    }
    providers
}

/// A token file holding something that no rule knows (a token of a newer format) is still
/// a plaintext token.
fn whole_file_token(data: &[u8]) -> Option<SecretMatch> {
    let text = std::str::from_utf8(data).ok()?.trim();
    if text.len() < 8
        || text.chars().any(char::is_whitespace)
        || rules::builtin().is_placeholder_token(text)
    {
        return None;
    }
    let rule = rules::builtin().by_id("hf-token")?;
    let offset = data.iter().position(|b| !b.is_ascii_whitespace())?;
    let prefix = if text.starts_with("hf_") { 3 } else { 0 };
    Some(SecretMatch {
        rule,
        offset,
        secret: Secret::new(text.to_string(), prefix),
        provider: Some("huggingface".into()),
    })
}

/// Turns matches into findings: one per secret per line, the first rule winning.
fn report(
    c: &Collector,
    path: &Path,
    kind: FileKind,
    data: &[u8],
    matches: Vec<SecretMatch>,
    line_based: bool,
) -> Vec<Option<String>> {
    let rules = rules::builtin();
    let mut seen: HashSet<(u64, String)> = HashSet::new();
    let mut occurrences: HashMap<(usize, String), u32> = HashMap::new();
    let mut providers = Vec::new();
    let mut line = 1u64;
    let mut counted_to = 0usize;
    let mut best: Vec<&SecretMatch> = Vec::new();
    // Keep, for each (line, secret), the match of the earliest rule.
    let mut sorted: Vec<&SecretMatch> = matches.iter().collect();
    sorted.sort_by_key(|m| (m.offset, m.rule));
    let mut lines = Vec::with_capacity(sorted.len());
    for m in &sorted {
        line += memchr::memchr_iter(b'\n', &data[counted_to..m.offset]).count() as u64;
        counted_to = m.offset;
        lines.push(line);
    }
    let mut order: Vec<usize> = (0..sorted.len()).collect();
    order.sort_by_key(|&i| (lines[i], sorted[i].rule));
    let mut line_of = HashMap::new();
    for i in order {
        let m = sorted[i];
        // Without lines to show (containers: SQLite, archives), one finding per secret: two
        // copies in one database (IPython's `source` and `source_raw`) would look identical.
        let at = if line_based { lines[i] } else { 0 };
        if seen.insert((at, m.secret.fingerprint())) {
            line_of.insert(best.len(), lines[i]);
            best.push(m);
        }
    }
    for (i, m) in best.iter().enumerate() {
        let rule = &rules.rules[m.rule];
        let fp = m.secret.fingerprint();
        let occ = occurrences.entry((m.rule, fp.clone())).or_insert(0);
        *occ += 1;
        let line_no = line_of[&i];
        let variable = match kind {
            FileKind::StartupFile | FileKind::EnvFile => variable_at(data, m.offset),
            _ => None,
        };
        let rule_id = format!("{}-in-{}", rule.id, kind.slug());
        let id = Finding::compute_id(&rule_id, path.as_os_str().as_bytes(), Some(&fp), *occ);
        let severity = kind.secret_severity(m.provider.as_deref());
        providers.push(m.provider.clone());
        c.add(Finding {
            id,
            rule: rule_id,
            category: kind.category(),
            severity,
            provider: m.provider.clone(),
            path: Some(path.to_path_buf()),
            line: line_based.then_some(line_no),
            variable: variable.clone(),
            pid: None,
            mode: None,
            secret: Some(m.secret.redacted()),
            fingerprint: Some(fp),
            message: secret_message(&rule.name, kind, variable.as_deref(), severity),
            fixes: kind.secret_fixes(),
            ignored: None,
        });
    }
    providers
}

/// One sentence: what, where, why it matters.
fn secret_message(name: &str, kind: FileKind, variable: Option<&str>, sev: Severity) -> String {
    let var = variable.map(|v| format!(" ({v})")).unwrap_or_default();
    let why = match kind.category() {
        Category::TokenFile => "it belongs in the OS keyring, where other programs and backups cannot read it",
        Category::History => "histories are kept for years and copied around; redact it and rotate the token",
        _ if sev == Severity::Info => "this is where its tool keeps it; make sure only you can read the file",
        _ if kind == FileKind::StartupFile => "every program you start inherits it; keep it in the OS keyring and look it up instead",
        _ if kind == FileKind::GitRemote => "it is sent with every fetch and shown by `git remote -v`; let a credential helper serve it",
        _ if kind == FileKind::GitCredentials => "git keeps it unencrypted; let a keyring-backed credential helper serve it",
        _ => "anyone who can read the file can use it; move it out and rotate it if the file was shared",
    };
    format!(
        "{name}{var} in plain text in {}: {why}.",
        kind.description()
    )
}

/// The variable a secret is assigned to on its line (`export HF_TOKEN=…`, `set -gx HF_TOKEN …`,
/// `HF_TOKEN: …`).
fn variable_at(data: &[u8], offset: usize) -> Option<String> {
    static ASSIGN: OnceLock<Regex> = OnceLock::new();
    let re = ASSIGN.get_or_init(|| {
        Regex::new(r#"(?:([A-Za-z_][A-Za-z0-9_]*)["']?\]?\s*[:=]|set\s+(?:-[a-zA-Z]+\s+)*([A-Za-z_][A-Za-z0-9_]*)\s)\s*["']?$"#)
            .expect("valid regex")
    });
    let line_start = memchr::memrchr(b'\n', &data[..offset]).map_or(0, |i| i + 1);
    let caps = re.captures(&data[line_start..offset])?;
    let name = caps.get(1).or_else(|| caps.get(2))?;
    Some(String::from_utf8_lossy(name.as_bytes()).into_owned())
}

/// The user id audits compare owners with.
pub fn current_uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Owner of a metadata, for permission checks.
pub fn owner(meta: &std::fs::Metadata) -> u32 {
    meta.uid()
}
