//! Reads one file the safe way and hands its bytes to [`content`]; and the known locations
//! (token stores, credential files, start-up files and what they source, histories, AI
//! session logs).

use crate::collect::Collector;
use crate::confined::{self, Resolved};
use crate::fsread::{self, Entry, ReadOutcome};
use crate::home::{KnownFile, AI_LOG_DIRS};
use crate::kind::FileKind;
use crate::probes::gitconfig;
use crate::probes::sshconfig;
use crate::probes::{content, permissions};
use crate::shellvars;
use regex::bytes::Regex;
use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use content::whole_file_token;

/// Known locations are read up to this size (histories can be large; they are read in
/// chunks, so this bounds time, not memory).
pub const KNOWN_LIMIT: u64 = 512 * 1024 * 1024;

/// Scans every known location that exists: the start-up files first, since the locations
/// they move ([`shellvars`]) are audited too, as the login shell sees them.
pub fn scan_known(c: &Collector) {
    let (mut startup, mut others): (Vec<KnownFile>, Vec<KnownFile>) = c
        .home
        .known_files()
        .into_iter()
        .partition(|k| k.kind == FileKind::StartupFile);
    for (dir, ext) in AI_LOG_DIRS {
        // Only where the folder really is inside the home (`~/.claude/projects` linked to
        // another user's folder is not read).
        let dir = c.home.dir.join(dir);
        let real = match confined::resolve(&c.home.dir, &dir) {
            Ok(Resolved::Inside(real)) => real,
            Ok(Resolved::Outside { link, .. }) => {
                c.warn(format!(
                    "not read: {} (reached through {}, a symlink to a place outside the home)",
                    dir.display(),
                    link.display()
                ));
                continue;
            }
            _ => continue,
        };
        collect_files(&real, ext, 6, &mut |path| {
            others.push(KnownFile {
                path,
                kind: FileKind::AiSessionLog,
            })
        });
    }
    let mut known = shellvars::Known::new(c.home);
    let mut assignments = Vec::new();
    let mut buf = Vec::new();
    // A start-up file may move the start-up files themselves (ZDOTDIR, XDG_CONFIG_HOME for
    // fish and environment.d): a few rounds until no new one turns up.
    for _ in 0..4 {
        if startup.is_empty() {
            break;
        }
        scan_queue(c, &mut startup, &mut buf, &mut |path, text| {
            let text = String::from_utf8_lossy(text);
            assignments.extend(shellvars::parse(&text, path, &mut known));
        });
        for (k, a) in shellvars::moved_files(c.home, &assignments) {
            if !may_follow(c, &k.path) {
                continue;
            }
            c.note_origin(&k.path, a.origin(&c.home.dir));
            if k.kind != FileKind::StartupFile {
                others.push(k);
            } else if !c.is_claimed(&k.path) {
                startup.push(k);
            }
        }
    }
    scan_queue(c, &mut others, &mut buf, &mut |_, _| {});
}

/// Whether a location a start-up file moved may be read: under the home, or owned by the
/// home's owner (a cluster's `/scratch/$USER/hf`). A home's start-up file must not send an
/// audit run as root to read other users' or the system's files.
fn may_follow(c: &Collector, path: &Path) -> bool {
    let home = std::fs::canonicalize(&c.home.dir).unwrap_or_else(|_| c.home.dir.clone());
    if std::fs::canonicalize(path).map_or(path.starts_with(&c.home.dir), |p| p.starts_with(&home)) {
        return true;
    }
    let owner_of = |p: &Path| std::fs::symlink_metadata(p).ok().map(|m| owner(&m));
    let ok = owner_of(path).is_some_and(|o| Some(o) == owner_of(&home));
    if !ok && owner_of(path).is_some() {
        c.warn(format!(
            "not audited: {} (a start-up file points there, outside your home, and you do not own it)",
            path.display()
        ));
    }
    ok
}

/// Scans the files of `queue` and those they pull in, emptying it; `startup_text` sees the
/// text of each start-up file.
fn scan_queue(
    c: &Collector,
    queue: &mut Vec<KnownFile>,
    buf: &mut Vec<u8>,
    startup_text: &mut dyn FnMut(&Path, &[u8]),
) {
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
        queue.extend(pointed_to(c, &path, kind, startup_text));
        scan_known_file(c, &path, kind, buf);
    }
    queue.clear();
}

/// Follows the symlinks on the way to a known location only while they stay under the home
/// (dotfile managers link `.bashrc` or `.config` into `~/dotfiles`), every component checked
/// ([`confined::resolve`]); a credential file reached through a link out of the home — the
/// file itself or a folder above it, `~/.cache` linked to another user's cache — is reported
/// and not read. A location outside the home that the environment names is taken as named.
fn resolve_known(c: &Collector, path: &Path, kind: FileKind) -> Option<PathBuf> {
    if path.starts_with(&c.home.dir) {
        return match confined::resolve(&c.home.dir, path) {
            Ok(Resolved::Inside(real)) => {
                if real != path {
                    c.claim(&real);
                }
                Some(real)
            }
            Ok(Resolved::Missing) => None,
            Ok(Resolved::Outside { link, .. }) => {
                // Reported only when something is there (a stat, not a read).
                if kind.should_be_private() && std::fs::metadata(path).is_ok() {
                    permissions::symlink_outside_home(c, path, kind, &link);
                }
                None
            }
            Err(e) => {
                warn_unreadable(c, path, &e);
                None
            }
        };
    }
    match fsread::lstat(path) {
        Ok(Entry::Symlink) => {}
        Ok(_) => return Some(path.to_path_buf()),
        Err(e) => {
            warn_unreadable(c, path, &e);
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
            permissions::symlink_outside_home(c, path, kind, path);
            None
        }
        Ok(_) => None,
        Err(e) if fsread::is_vanished(&e) => None,
        Err(e) => {
            warn_unreadable(c, path, &e);
            None
        }
    }
}

fn warn_unreadable(c: &Collector, path: &Path, e: &std::io::Error) {
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

/// Files a known file pulls in that live under the home, and what they are: what a
/// start-up file sources (`source F`, `. F`), what a git config includes, and the keys and
/// included files of an SSH config. A start-up file's text also goes to `startup_text`.
fn pointed_to(
    c: &Collector,
    path: &Path,
    kind: FileKind,
    startup_text: &mut dyn FnMut(&Path, &[u8]),
) -> Vec<KnownFile> {
    if !matches!(
        kind,
        FileKind::StartupFile | FileKind::GitConfig | FileKind::SshConfig
    ) {
        return Vec::new();
    }
    let mut data = Vec::new();
    let read = match Opener::known(c, path) {
        Ok(Some(o)) => o.read(1024 * 1024, &mut data),
        _ => return Vec::new(),
    };
    if !matches!(read, Ok(ReadOutcome::Read { .. })) {
        return Vec::new();
    }
    let same = |paths: Vec<PathBuf>| -> Vec<KnownFile> {
        paths
            .into_iter()
            .map(|path| KnownFile { path, kind })
            .collect()
    };
    let candidates = match kind {
        FileKind::StartupFile => {
            startup_text(path, &data);
            same(sourced_files(c, &data))
        }
        FileKind::GitConfig => same(gitconfig::included_files(
            &String::from_utf8_lossy(&data),
            path,
            &c.home.dir,
        )),
        _ => {
            let p = sshconfig::pointed(&String::from_utf8_lossy(&data), &c.home.dir);
            let keys = p.identity_files.into_iter().map(|path| KnownFile {
                path,
                kind: FileKind::SshKey,
            });
            keys.chain(same(p.includes)).collect()
        }
    };
    let Ok(real_home) = c.home.dir.canonicalize() else {
        return Vec::new();
    };
    candidates
        .into_iter()
        .filter(|k| {
            // Inside the home for real, with `..` and symlinked folders resolved: a file
            // outside it is not the user's to audit, and is never read.
            k.path
                .canonicalize()
                .is_ok_and(|real| real.starts_with(&real_home) && real.is_file())
        })
        .collect()
}

/// The files a start-up file's text sources, with `~`, `$HOME` and `${HOME}` expanded; a
/// path holding any other variable is left out.
fn sourced_files(c: &Collector, data: &[u8]) -> Vec<PathBuf> {
    static SOURCE: OnceLock<Regex> = OnceLock::new();
    let re = SOURCE.get_or_init(|| {
        Regex::new(r#"(?m)^\s*(?:source|\.)\s+["']?([^"'\s;&|]+)"#).expect("valid regex")
    });
    let home = c.home.dir.to_string_lossy().into_owned();
    re.captures_iter(data)
        .filter_map(|caps| {
            let raw = String::from_utf8_lossy(&caps[1]).into_owned();
            let expanded = raw
                .replace("${HOME}", &home)
                .replace("$HOME", &home)
                .replace("${ZDOTDIR}", &home)
                .replace("$ZDOTDIR", &home);
            (!expanded.contains('$')).then(|| c.home.expand(Path::new(&expanded)))
        })
        .collect()
}

/// How a file is reached: by its path (the walk's files, files the watcher names), or by
/// its name in a folder opened from the home without following a link (known locations).
enum Opener<'a> {
    Path(&'a Path),
    In(OwnedFd, &'a OsStr),
}

impl<'a> Opener<'a> {
    /// A known location: below the home, its folder is walked to from the home; elsewhere
    /// (named by the environment) it is taken by path. `None`: its folder is gone.
    fn known(c: &Collector, path: &'a Path) -> std::io::Result<Option<Self>> {
        match confined::open_parent(&c.home.dir, path) {
            Ok(Some((dir, name))) => Ok(Some(Opener::In(dir, name))),
            Ok(None) => Ok(None),
            Err(b) if b.errno == nix::errno::Errno::EXDEV => Ok(Some(Opener::Path(path))),
            Err(b) if b.errno == nix::errno::Errno::ENOENT => Ok(None),
            Err(b) => Err(std::io::Error::other(b.reason())),
        }
    }

    fn lstat(&self) -> std::io::Result<Entry> {
        match self {
            Opener::Path(p) => fsread::lstat(p),
            Opener::In(dir, name) => fsread::lstat_in(dir.as_fd(), name),
        }
    }

    /// Opens it for reading without following a link or blocking; `None` when it is gone
    /// or no longer a regular file.
    fn open(&self) -> std::io::Result<Option<(std::fs::File, std::fs::Metadata)>> {
        match self {
            Opener::Path(p) => fsread::open_regular(p),
            Opener::In(dir, name) => fsread::open_regular_in(dir.as_fd(), name),
        }
    }

    fn read(&self, limit: u64, buf: &mut Vec<u8>) -> std::io::Result<ReadOutcome> {
        match self {
            Opener::Path(p) => fsread::read_regular(p, limit, buf),
            Opener::In(dir, name) => {
                buf.clear();
                match fsread::open_regular_in(dir.as_fd(), name)? {
                    Some((file, meta)) => fsread::read_opened(&file, meta, limit, buf),
                    None => Ok(ReadOutcome::Vanished),
                }
            }
        }
    }
}

/// Reads and scans one known location, reached from the home without a link on the way.
fn scan_known_file(c: &Collector, path: &Path, kind: FileKind, buf: &mut Vec<u8>) {
    match Opener::known(c, path) {
        Ok(Some(o)) => scan_opened(c, path, kind, KNOWN_LIMIT, buf, o),
        Ok(None) => {}
        Err(e) => c.warn(format!("skipped: {} ({e})", path.display())),
    }
}

/// Reads and scans one file: secrets in its content (text, or the text inside SQLite
/// databases, `.pyc`, gzip, zip and tar files), and its permissions. `buf` is reused across
/// files by the caller.
pub fn scan_file(c: &Collector, path: &Path, kind: FileKind, limit: u64, buf: &mut Vec<u8>) {
    scan_opened(c, path, kind, limit, buf, Opener::Path(path));
}

fn scan_opened(
    c: &Collector,
    path: &Path,
    kind: FileKind,
    limit: u64,
    buf: &mut Vec<u8>,
    opener: Opener<'_>,
) {
    let meta = match opener.lstat() {
        Ok(Entry::Regular(m)) => m,
        Ok(Entry::Special(what)) => {
            if kind != FileKind::ProjectFile {
                c.warn(format!("skipped: {} (is {what})", path.display()));
            }
            return;
        }
        Ok(_) => return,
        Err(e) => {
            warn_unreadable(c, path, &e);
            return;
        }
    };
    match kind {
        FileKind::StartupFile => permissions::check_startup(c, path, &meta),
        FileKind::SshConfig | FileKind::SshAuthorizedKeys | FileKind::SshKey => {
            permissions::check_ssh(c, path, kind, &meta)
        }
        _ => {}
    }
    match opener.open() {
        Ok(Some((file, meta))) => read_and_scan(c, path, kind, &file, meta, limit, buf),
        Ok(None) => {}
        Err(e) => warn_unreadable(c, path, &e),
    }
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
            warn_unreadable(c, path, &e);
            return;
        }
    };
    if meta.len() > max_size {
        c.skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return;
    }
    read_and_scan(c, path, kind, &file, meta, max_size, buf);
}

/// Reads an opened file (at most `limit` bytes: in one buffer when it fits in a chunk, in
/// chunks otherwise), counts it, and scans it: secrets, then permissions.
fn read_and_scan(
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
            warn_unreadable(c, path, &e);
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
