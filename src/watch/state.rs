//! What the watcher knows: the findings at every path, and for append-only files (shell and
//! REPL histories, AI assistants' session logs) how much of each it has read.
//!
//! A changed file is read again, and only it. An append-only file that still starts as it
//! did (same inode, not shorter, the 4 KiB before the end of what was read unchanged) is read
//! only from there: a line appended to a 400 MB log costs a few kilobytes of reading. The
//! scanner's own tally of the stream (lines so far, how often each secret occurred) is kept
//! between reads, so what was appended gets the lines and ids a full audit gives. A file that
//! was truncated, replaced or rewritten in place is read whole again.

use crate::audit::{self, Collector, NoSink, ScanOptions};
use crate::finding::Finding;
use crate::fsread::{self, ReadOutcome};
use crate::home::Home;
use crate::kind::FileKind;
use crate::probes::content::{self, Mode, Tally};
use crate::probes::{files, permissions};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Bytes before the end of what was read that must be unchanged for an append.
const CHECK: u64 = 4096;

/// How much of an append-only file has been read.
struct Tail {
    kind: FileKind,
    dev: u64,
    ino: u64,
    /// Read up to here: the end of the last complete line.
    offset: u64,
    /// Lines before `offset`.
    lines: u64,
    /// SHA-256 of the [`CHECK`] bytes before `offset`.
    check: Vec<u8>,
    /// The scanner's count of the stream up to `offset`.
    tally: Tally,
}

/// Files whose changes are appends, when they are text.
pub fn is_append_only(kind: FileKind) -> bool {
    matches!(
        kind,
        FileKind::ShellHistory | FileKind::ReplHistory | FileKind::AiSessionLog
    )
}

#[derive(Default)]
pub struct State {
    /// Findings by the path they are at.
    by_path: HashMap<PathBuf, Vec<Finding>>,
    tails: HashMap<PathBuf, Tail>,
    /// What was at each path changed since [`State::take_before`] was last called.
    before: HashMap<PathBuf, Vec<Finding>>,
}

fn sha(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// Scans `data` (the bytes of `path` from where `tally` stands) into `c`: the part up to
/// its last newline with `tally`, which then stands after it; an unfinished last line with a
/// copy, so it is read again, whole, when its line is done. Returns the providers found and
/// the bytes and lines the tally moved on by.
fn scan_on(
    c: &Collector,
    path: &Path,
    kind: FileKind,
    data: &[u8],
    at: (u64, u64),
    tally: &mut Tally,
) -> (Vec<Option<String>>, u64, u64) {
    let complete = memchr::memrchr(b'\n', data).map_or(0, |i| i + 1);
    let lines = memchr::memchr_iter(b'\n', &data[..complete]).count() as u64;
    let mode = Mode::text(kind);
    tally.resume_at(at.0 as usize, at.1);
    let _ = content::scan_stream(c, path, &data[..complete], u64::MAX, mode, tally);
    tally.resume_at((at.0 + complete as u64) as usize, at.1 + lines);
    let mut rest = tally.clone();
    let _ = content::scan_stream(c, path, &data[complete..], u64::MAX, mode, &mut rest);
    (rest.providers.clone(), complete as u64, lines)
}

impl State {
    pub fn new(findings: Vec<Finding>) -> State {
        let mut s = State::default();
        for f in findings {
            if let Some(p) = f.path.clone() {
                s.by_path.entry(p).or_default().push(f);
            }
        }
        s
    }

    /// Takes the findings at `path` out, remembering what was there before this look.
    fn take(&mut self, path: &Path) -> Vec<Finding> {
        let old = self.by_path.remove(path).unwrap_or_default();
        self.before
            .entry(path.to_path_buf())
            .or_insert_with(|| old.clone());
        old
    }

    fn put(&mut self, path: &Path, findings: Vec<Finding>) {
        if !self.before.contains_key(path) {
            self.take(path);
        }
        if !findings.is_empty() {
            self.by_path.insert(path.to_path_buf(), findings);
        }
    }

    /// What was at every path changed since the last call, as it was then.
    pub fn take_before(&mut self) -> HashMap<PathBuf, Vec<Finding>> {
        std::mem::take(&mut self.before)
    }

    /// Every finding at `paths`.
    pub fn at<'a>(&'a self, paths: &'a BTreeSet<PathBuf>) -> impl Iterator<Item = &'a Finding> {
        paths.iter().filter_map(|p| self.by_path.get(p)).flatten()
    }

    /// Every path with findings or read state under `dir` (a folder that went away).
    pub fn paths_under(&self, dir: &Path) -> BTreeSet<PathBuf> {
        self.by_path
            .keys()
            .chain(self.tails.keys())
            .filter(|p| p.starts_with(dir))
            .cloned()
            .collect()
    }

    pub fn forget(&mut self, path: &Path) {
        self.take(path);
        self.tails.remove(path);
    }

    pub fn has_tail(&self, path: &Path) -> bool {
        self.tails.contains_key(path)
    }

    /// Audits `wanted` again (files that are not append-only) and takes the result.
    pub fn reaudit(
        &mut self,
        home: &Home,
        options: &ScanOptions,
        wanted: &[(PathBuf, Option<FileKind>)],
    ) -> BTreeSet<PathBuf> {
        if wanted.is_empty() {
            return BTreeSet::new();
        }
        let (report, covered) = audit::run_paths(home, options, wanted);
        let mut found: HashMap<PathBuf, Vec<Finding>> = HashMap::new();
        for f in report.findings {
            if let Some(p) = f.path.clone() {
                found.entry(p).or_default().push(f);
            }
        }
        for p in &covered {
            let now = found.remove(p).unwrap_or_default();
            self.put(p, now);
        }
        covered
    }

    /// Reads the append-only file `path` whole: its findings, and where reading stopped.
    /// A file too large to read whole, or binary (a SQLite history), is audited like any
    /// other file and gets no read state.
    pub fn read_whole(
        &mut self,
        home: &Home,
        options: &ScanOptions,
        path: &Path,
        kind: FileKind,
    ) -> BTreeSet<PathBuf> {
        self.tails.remove(path);
        let mut buf = Vec::new();
        let meta = match fsread::read_regular(path, files::KNOWN_LIMIT, &mut buf) {
            Ok(ReadOutcome::Read {
                meta,
                truncated: false,
            }) if memchr::memchr(0, &buf[..buf.len().min(8192)]).is_none() => meta,
            _ => return self.reaudit(home, options, &[(path.to_path_buf(), Some(kind))]),
        };
        let c = Collector::new(home, options, &NoSink);
        c.count_file(buf.len() as u64);
        let mut tally = Tally::default();
        let (found, offset, lines) = scan_on(&c, path, kind, &buf, (0, 0), &mut tally);
        permissions::check_file(&c, path, kind, &meta, !buf.is_empty(), found);
        let findings = c.finish().findings;
        let offset = offset as usize;
        self.tails.insert(
            path.to_path_buf(),
            Tail {
                kind,
                dev: meta.dev(),
                ino: meta.ino(),
                offset: offset as u64,
                lines,
                check: sha(&buf[offset.saturating_sub(CHECK as usize)..offset]),
                tally,
            },
        );
        self.put(path, findings);
        BTreeSet::from([path.to_path_buf()])
    }

    /// Reads only what was appended to `path` since the last read. `None` when the file is
    /// not as it was (replaced, truncated, rewritten, gone): read it whole instead.
    pub fn read_appended(
        &mut self,
        home: &Home,
        options: &ScanOptions,
        path: &Path,
    ) -> Option<BTreeSet<PathBuf>> {
        let tail = self.tails.get(path)?;
        let (file, meta) = fsread::open_regular(path).ok()??;
        if meta.dev() != tail.dev || meta.ino() != tail.ino || meta.len() < tail.offset {
            return None;
        }
        let start = tail.offset.saturating_sub(CHECK);
        let mut window = vec![0u8; (tail.offset - start) as usize];
        file.read_exact_at(&mut window, start).ok()?;
        if sha(&window) != tail.check {
            return None;
        }
        let appended_len = meta.len() - tail.offset;
        if appended_len > files::KNOWN_LIMIT {
            return None;
        }
        let mut chunk = vec![0u8; appended_len as usize];
        file.read_exact_at(&mut chunk, tail.offset).ok()?;
        let (kind, at) = (tail.kind, (tail.offset, tail.lines));

        // The appended part, with the tally of what came before: the lines and ids of a full
        // audit. Findings of the lines read before stay; those of an unfinished last line
        // were read with a copy of the tally, and are read again now.
        let c = Collector::new(home, options, &NoSink);
        let tail = self.tails.get_mut(path)?;
        let (_, read, lines) = scan_on(&c, path, kind, &chunk, at, &mut tail.tally);
        tail.offset += read;
        tail.lines += lines;
        let start = tail.offset.saturating_sub(CHECK);
        let mut window = vec![0u8; (tail.offset - start) as usize];
        file.read_exact_at(&mut window, start).ok()?;
        tail.check = sha(&window);
        let before_lines = at.1;
        let old = self.take(path);
        let mut now: Vec<Finding> = old
            .into_iter()
            .filter(|f| f.fingerprint.is_some() && f.line.is_some_and(|l| l <= before_lines))
            .collect();
        now.extend(c.finish().findings);

        // Its mode, from what it holds now.
        let providers: Vec<Option<String>> = now.iter().map(|f| f.provider.clone()).collect();
        let c = Collector::new(home, options, &NoSink);
        permissions::check_file(&c, path, kind, &meta, meta.len() > 0, providers);
        now.extend(c.finish().findings);
        self.put(path, now);
        Some(BTreeSet::from([path.to_path_buf()]))
    }
}
