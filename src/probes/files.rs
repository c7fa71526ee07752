//! Reads one file the safe way and hands its bytes to [`content`]; and the known locations
//! (token stores, credential files, start-up files and what they source, histories, AI
//! session logs).

use crate::audit::Collector;
use crate::fsread::{self, Entry, ReadOutcome};
use crate::home::{KnownFile, AI_LOG_DIRS};
use crate::kind::FileKind;
use crate::probes::{content, permissions};
use regex::bytes::Regex;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Known locations are read up to this size (histories can be large; they are read in
/// chunks, so this bounds time, not memory).
const KNOWN_LIMIT: u64 = 512 * 1024 * 1024;

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
            unreadable(c, path, &e);
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
            unreadable(c, path, &e);
            None
        }
    }
}

/// Warns that `path` could not be read, and why.
fn unreadable(c: &Collector, path: &Path, e: &std::io::Error) {
    c.warn(format!(
        "unreadable: {} ({})",
        path.display(),
        fsread::reason(e)
    ));
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
            unreadable(c, path, &e);
            return;
        }
    };
    if kind == FileKind::StartupFile {
        permissions::check_startup(c, path, &meta);
    }
    let (file, meta) = match fsread::open_regular(path) {
        Ok(Some(opened)) => opened,
        Ok(None) => return,
        Err(e) => {
            unreadable(c, path, &e);
            return;
        }
    };
    scan_opened(c, path, kind, &file, meta, limit, buf);
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
            unreadable(c, path, &e);
            return;
        }
    };
    if meta.len() > max_size {
        c.skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return;
    }
    scan_opened(c, path, kind, &file, meta, max_size, buf);
}

/// Reads an opened file (at most `limit` bytes: in one buffer when it fits in a chunk, in
/// chunks otherwise), counts it, and scans it: secrets, then permissions.
fn scan_opened(
    c: &Collector,
    path: &Path,
    kind: FileKind,
    file: &std::fs::File,
    meta: std::fs::Metadata,
    limit: u64,
    buf: &mut Vec<u8>,
) {
    let first = limit.min(content::CHUNK as u64);
    let meta = match fsread::read_opened(file, meta, first, buf) {
        Ok(ReadOutcome::Read { meta, .. }) => meta,
        Ok(ReadOutcome::Vanished) => return,
        Err(e) => {
            unreadable(c, path, &e);
            return;
        }
    };
    let found = if meta.len() <= first {
        c.count_file(buf.len() as u64);
        content::scan_buffer(c, path, kind, buf)
    } else {
        let mut tally = content::Tally::default();
        match content::scan_large(c, path, kind, buf, file, limit, &mut tally) {
            Ok((read, truncated)) => {
                c.count_file(read);
                if truncated && kind != FileKind::ProjectFile {
                    c.warn(format!(
                        "partly read: {} (larger than {} MiB)",
                        path.display(),
                        limit >> 20
                    ));
                }
            }
            Err(e) => c.warn(format!(
                "partly read: {} ({})",
                path.display(),
                fsread::reason(&e)
            )),
        }
        // A chunk of a large file left in the reused buffer is not kept for the next file.
        buf.clear();
        buf.shrink_to(content::CHUNK);
        tally.providers
    };
    permissions::check_file(c, path, kind, &meta, meta.len() > 0, found);
}

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

/// The user id audits compare owners with.
pub fn current_uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Owner of a metadata, for permission checks.
pub fn owner(meta: &std::fs::Metadata) -> u32 {
    meta.uid()
}
