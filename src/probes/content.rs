//! What a file's bytes hold: the secrets in its text, found by the rules and turned into
//! findings (one per secret per line, the first rule winning).
//!
//! A file is text, UTF-16 text (decoded, [`crate::probes::utf16`]), a container whose raw
//! bytes are searched (SQLite, `.pyc`, tar), an archive ([`crate::probes::archive`]) or
//! binary (skipped when met in the walk). Small files are searched in one buffer; a file
//! larger than [`CHUNK`] is read in chunks that overlap by [`OVERLAP`], so memory stays
//! bounded whatever its size (a 6 GiB sparse file costs one chunk, not 6 GB) and a secret
//! across a chunk boundary is still found once.

use crate::collect::Collector;
use crate::finding::{Category, Finding, FixKind, Severity};
use crate::kind::FileKind;
use crate::probes::files::is_text_container;
use crate::probes::gitconfig::{self, GitKey};
use crate::probes::{archive, utf16};
use crate::rules::{self, SecretMatch};
use crate::secret::Secret;
use regex::bytes::Regex;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::OnceLock;

/// Files up to this size are read and searched in one buffer; larger ones in chunks.
pub const CHUNK: usize = 16 << 20;
/// Bytes each chunk shares with the next: more than any secret and the context a rule reads
/// before it (`aws_secret_access_key = `).
pub const OVERLAP: usize = 64 << 10;
/// Bytes sniffed for NUL to tell binary from text, as ripgrep does.
pub const SNIFF: usize = 8192;

/// How the text of a stream is searched and reported.
#[derive(Clone, Copy, Debug)]
pub struct Mode {
    /// The kind findings are reported as.
    pub kind: FileKind,
    /// Raw bytes of a container: a prefixed token needs no boundary before it.
    pub container: bool,
    /// Line numbers mean something.
    pub line_based: bool,
    /// `hfguard fix` can rewrite the file where the secret is.
    pub fixable: bool,
}

impl Mode {
    pub fn text(kind: FileKind) -> Self {
        Mode {
            kind,
            container: false,
            line_based: kind.is_line_based(),
            fixable: true,
        }
    }

    /// The inside of an archive: no lines, no fix in place.
    pub fn archive() -> Self {
        Mode {
            kind: FileKind::Archive,
            container: false,
            line_based: false,
            fixable: false,
        }
    }
}

/// What a stream's findings so far have counted, carried from chunk to chunk (and, for the
/// watcher, from one read of a growing history to the next).
#[derive(Clone, Default)]
pub struct Tally {
    seen: HashSet<(u64, String)>,
    occurrences: HashMap<(usize, String), u32>,
    /// Newlines in the stream before the buffer being reported.
    lines_before: u64,
    /// Bytes of the stream before the buffer being reported (for spans in the file).
    bytes_before: usize,
    /// The providers of the secrets found (for the permission check).
    pub providers: Vec<Option<String>>,
}

impl Tally {
    /// The next buffer reported starts at byte `bytes` of the stream, after `lines`
    /// newlines: where the watcher resumes reading a history that grew.
    pub fn resume_at(&mut self, bytes: usize, lines: u64) {
        self.bytes_before = bytes;
        self.lines_before = lines;
    }
}

/// Scans the whole content of a file, `data` (a small file, read in one buffer). Returns the
/// providers of the secrets found.
pub fn scan_buffer(c: &Collector, path: &Path, kind: FileKind, data: &[u8]) -> Vec<Option<String>> {
    let head = &data[..data.len().min(SNIFF)];
    if archive::is_archive(head) {
        return archive::scan(c, path, std::io::Cursor::new(data), data.len() as u64);
    }
    let rules = rules::builtin();
    let mut matches = Vec::new();
    // NUL bytes in the head: a text container (SQLite, .pyc, tar) whose raw bytes are
    // searched, UTF-16 text, or a binary file. Only walked files are skipped as binary: a
    // known location is read whatever it holds (a history gets NUL blocks after a crash).
    let binary = memchr::memchr(0, head).is_some();
    let container = binary && is_text_container(path, data);
    if binary && !container {
        if let Some(encoding) = utf16::sniff(head) {
            let mut tally = Tally::default();
            let text = utf16::Decoder::new(data, encoding);
            let _ = scan_stream(c, path, text, u64::MAX, utf16_mode(kind), &mut tally);
            return tally.providers;
        }
        if kind == FileKind::ProjectFile {
            c.skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Vec::new();
        }
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
    let mode = Mode {
        container,
        line_based: !container && kind.is_line_based(),
        ..Mode::text(kind)
    };
    let mut tally = Tally::default();
    report(c, path, data, matches, mode, &mut tally);
    tally.providers
}

/// UTF-16 text is searched decoded, with meaningful lines; hfguard does not rewrite it.
fn utf16_mode(kind: FileKind) -> Mode {
    Mode {
        fixable: false,
        ..Mode::text(kind)
    }
}

/// Scans a file too large for one buffer: `head` is its first chunk, already read, `rest`
/// what follows; at most `limit` bytes in all. Returns the bytes read and whether the file
/// went on past `limit`.
pub fn scan_large(
    c: &Collector,
    path: &Path,
    kind: FileKind,
    head: &[u8],
    rest: &std::fs::File,
    limit: u64,
    tally: &mut Tally,
) -> std::io::Result<(u64, bool)> {
    let sniff = &head[..head.len().min(SNIFF)];
    let stream = head.chain(rest);
    if archive::is_archive(sniff) {
        // Archives are read from the file itself (zip needs to seek), within their budgets.
        let mut file = rest;
        let len = file.metadata()?.len();
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0))?;
        tally.providers = archive::scan(c, path, file, len);
        return Ok((len, false));
    }
    let binary = memchr::memchr(0, sniff).is_some();
    let container = binary && is_text_container(path, head);
    if binary && !container {
        if let Some(encoding) = utf16::sniff(sniff) {
            let text = utf16::Decoder::new(stream.take(limit), encoding);
            return scan_stream(c, path, text, u64::MAX, utf16_mode(kind), tally);
        }
        if kind == FileKind::ProjectFile {
            c.skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Ok((0, false));
        }
    }
    let mode = Mode {
        container,
        line_based: !container && kind.is_line_based(),
        ..Mode::text(kind)
    };
    scan_stream(c, path, stream, limit, mode, tally)
}

/// Searches a stream in chunks of [`CHUNK`] that overlap by [`OVERLAP`]: each secret is
/// taken from the one chunk where it starts after the overlap with the previous chunk and
/// before the overlap with the next (or the stream's end), so it is found whole and once.
/// Returns the bytes read and whether the stream went on past `limit`.
pub fn scan_stream(
    c: &Collector,
    path: &Path,
    mut r: impl Read,
    limit: u64,
    mode: Mode,
    tally: &mut Tally,
) -> std::io::Result<(u64, bool)> {
    let mut buf: Vec<u8> = Vec::new();
    let mut accept_from = 0usize;
    let mut total = 0u64;
    loop {
        let carried = buf.len();
        let want = (CHUNK as u64).min(limit - total);
        // Grown as bytes come (a small stream costs its size, not a chunk).
        let read = (&mut r).take(want).read_to_end(&mut buf);
        let got = (buf.len() - carried) as u64;
        total += got;
        if let Err(e) = read {
            scan_chunk(c, path, &buf, accept_from, buf.len(), mode, tally);
            return Err(e);
        }
        let at_end = got < want || total == limit;
        let accept_to = if at_end {
            buf.len()
        } else {
            buf.len() - OVERLAP
        };
        scan_chunk(c, path, &buf, accept_from, accept_to, mode, tally);
        if at_end {
            let more = total == limit && r.read(&mut [0u8]).is_ok_and(|n| n > 0);
            return Ok((total, more));
        }
        let keep_from = buf.len() - 2 * OVERLAP;
        tally.lines_before += memchr::memchr_iter(b'\n', &buf[..keep_from]).count() as u64;
        tally.bytes_before += keep_from;
        buf.drain(..keep_from);
        accept_from = OVERLAP;
    }
}

/// Reports the secrets of `buf` that start in `[from, to)`.
fn scan_chunk(
    c: &Collector,
    path: &Path,
    buf: &[u8],
    from: usize,
    to: usize,
    mode: Mode,
    tally: &mut Tally,
) {
    let rules = rules::builtin();
    let mut matches = Vec::new();
    if mode.container {
        rules.find_in_container(buf, Some(mode.kind), &mut matches);
    } else {
        rules.find(buf, Some(mode.kind), &mut matches);
    }
    matches.retain(|m| m.offset >= from && m.offset < to);
    if !matches.is_empty() {
        report(c, path, buf, matches, mode, tally);
    }
}

/// A token file holding something that no rule knows (a token of a newer format) is still
/// a plaintext token.
pub fn whole_file_token(data: &[u8]) -> Option<SecretMatch> {
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

/// Turns matches in `data` (a buffer of the stream `tally` counts) into findings: one per
/// secret per line, the first rule winning.
pub fn report(
    c: &Collector,
    path: &Path,
    data: &[u8],
    matches: Vec<SecretMatch>,
    mode: Mode,
    tally: &mut Tally,
) {
    let rules = rules::builtin();
    let kind = mode.kind;
    let mut line = tally.lines_before + 1;
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
        let at = if mode.line_based { lines[i] } else { 0 };
        if tally.seen.insert((at, m.secret.fingerprint())) {
            line_of.insert(best.len(), lines[i]);
            best.push(m);
        }
    }
    for (i, m) in best.iter().enumerate() {
        let rule = &rules.rules[m.rule];
        let fp = m.secret.fingerprint();
        let occ = tally.occurrences.entry((m.rule, fp.clone())).or_insert(0);
        *occ += 1;
        let line_no = line_of[&i];
        let git_key = match kind {
            FileKind::GitRemote | FileKind::GitConfig => gitconfig::key_at(data, m.offset),
            _ => None,
        };
        let variable = match kind {
            FileKind::StartupFile | FileKind::EnvFile => variable_at(data, m.offset),
            _ => git_key.as_ref().and_then(GitKey::variable),
        };
        c.keep(&m.secret, m.provider.as_deref());
        let rule_id = format!("{}-in-{}", rule.id, kind.slug());
        let id = Finding::compute_id(&rule_id, path.as_os_str().as_bytes(), Some(&fp), *occ);
        let severity = kind.secret_severity(m.provider.as_deref());
        tally.providers.push(m.provider.clone());
        let why = git_key.as_ref().and_then(GitKey::why);
        let mut message = secret_message(&rule.name, kind, variable.as_deref(), severity, why);
        // A header is sent as it is: a marker or a lookup in it breaks every fetch.
        let mut fixes = if mode.fixable && git_key.as_ref().is_none_or(GitKey::fixable) {
            kind.secret_fixes_at(path, m.provider.as_deref())
        } else {
            if !mode.fixable && kind != FileKind::Archive {
                message.push_str(
                    " The file is UTF-16 text, which hfguard does not rewrite: edit it by hand.",
                );
            }
            Vec::new()
        };
        // A shell's history: its next secret can be kept out (`hfguard guard`).
        if kind.category() == Category::History
            && crate::guard::Shell::of_history(c.home, path).is_some()
        {
            fixes.push(FixKind::Guard);
        }
        let span = mode.fixable.then(|| span_of(data, m, tally.bytes_before));
        let legacy =
            Finding::legacy_id(&rule_id, path.as_os_str().as_bytes(), Some(&m.secret), *occ);
        c.add_legacy(
            Finding {
                id,
                rule: rule_id,
                category: kind.category(),
                severity,
                provider: m.provider.clone(),
                path: Some(path.to_path_buf()),
                line: mode.line_based.then_some(line_no),
                variable: variable.clone(),
                pid: None,
                mode: None,
                secret: Some(m.secret.redacted()),
                fingerprint: Some(fp),
                message,
                fixes,
                ignored: None,
                label: match kind {
                    FileKind::HfStoredTokens => ini_section_at(data, m.offset),
                    _ => None,
                },
                span,
            },
            legacy,
        );
    }
}

/// The `[section]` an INI file is in at `offset`: a `stored_tokens` entry's display name.
/// A name that is itself a secret is not a name to show.
fn ini_section_at(data: &[u8], offset: usize) -> Option<String> {
    let line = data[..offset]
        .split(|&b| b == b'\n')
        .rev()
        .map(|l| l.trim_ascii())
        .find(|l| l.starts_with(b"[") && l.ends_with(b"]"))?;
    let name = line[1..line.len() - 1].trim_ascii();
    let mut secrets = Vec::new();
    rules::builtin().find(name, None, &mut secrets);
    (!name.is_empty() && secrets.is_empty()).then(|| crate::term::safe_bytes(name))
}

/// Where `m`'s secret lies in the file's own bytes (`data` starts at byte `base` of it), for
/// the fixes: the secret itself, or the encoded run it was decoded from.
fn span_of(data: &[u8], m: &SecretMatch, base: usize) -> crate::finding::Span {
    let (start, end) = rules::extent(data, m);
    crate::finding::Span {
        start: base + start,
        end: base + end,
        encoded: !data[m.offset..].starts_with(m.secret.expose().as_bytes()),
    }
}

/// One sentence: what, where, why it matters (`why` when the place within the file says more
/// than its kind).
fn secret_message(
    name: &str,
    kind: FileKind,
    variable: Option<&str>,
    sev: Severity,
    why: Option<&str>,
) -> String {
    let var = variable.map(|v| format!(" ({v})")).unwrap_or_default();
    let why = why.unwrap_or(match kind.category() {
        Category::TokenFile => "it belongs in the OS keyring, where other programs and backups cannot read it",
        Category::History => "histories are kept for years and copied around; redact it and rotate the token",
        _ if sev == Severity::Info => "this is where its tool keeps it; make sure only you can read the file",
        _ if kind == FileKind::StartupFile => "every program you start inherits it; keep it in the OS keyring and look it up instead",
        _ if kind == FileKind::GitRemote => "it is sent with every fetch and shown by `git remote -v`; let a credential helper serve it",
        _ if kind == FileKind::GitCredentials => "git keeps it unencrypted; let a keyring-backed credential helper serve it",
        _ => "anyone who can read the file can use it; move it out and rotate it if the file was shared",
    });
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
    static LEADING: OnceLock<Regex> = OnceLock::new();
    let leading = LEADING.get_or_init(|| {
        Regex::new(r#"^\s*(?:export\s+|set\s+(?:-[a-zA-Z]+\s+)*)?([A-Za-z_][A-Za-z0-9_]*)(?:=|\s)"#)
            .expect("valid regex")
    });
    let line_start = memchr::memrchr(b'\n', &data[..offset]).map_or(0, |i| i + 1);
    let before = &data[line_start..offset];
    let caps = re.captures(before)?;
    let name = caps.get(1).or_else(|| caps.get(2))?;
    // The user part of a URL (`https://user:PASSWORD@…`) is no variable: the one the URL is
    // assigned to starts the line.
    let name = if before[..name.start()].ends_with(b"//") {
        leading.captures(before)?.get(1)?
    } else {
        name
    };
    Some(String::from_utf8_lossy(name.as_bytes()).into_owned())
}
