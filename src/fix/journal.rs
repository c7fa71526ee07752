//! The journal of applied fixes: one JSON file per fix under
//! `$XDG_STATE_HOME/hfguard/journal/` (folder 0700, files 0600), written atomically.
//!
//! An entry records, for each file, its snapshot before and after and — for content
//! changes — the original content with every secret cut out (a *template*) plus, for each
//! cut, the keyring backup that holds it. No plaintext secret is ever written here.

use super::atomic::{self, FixError, Snapshot};
use super::plan::{Change, Plan};
use crate::home::Home;
use crate::keystore::KeyStore;
use crate::rules;
use crate::secret::Secret;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Written before the first file changed; a crash leaves it so.
    Pending,
    Applied,
    /// Nothing could be changed.
    Failed,
    Undone,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "op")]
pub enum Op {
    Chmod { from: u32, to: u32 },
    Rewrite,
    Remove,
    Create,
}

/// Cut `[offset, offset+len)` of the original held the secret backed up under `backup`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hole {
    pub offset: u64,
    pub backup: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// The original content without the secrets, base64.
    pub content: String,
    pub holes: Vec<Hole>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileRecord {
    pub path: PathBuf,
    #[serde(flatten)]
    pub op: Op,
    pub before: Option<Snapshot>,
    pub after: Option<Snapshot>,
    pub template: Option<Template>,
    #[serde(default)]
    pub skipped: bool,
    pub findings: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JournalEntry {
    pub id: String,
    pub at: String,
    pub state: State,
    pub home: PathBuf,
    pub findings: Vec<String>,
    pub files: Vec<FileRecord>,
    /// Keyring names this fix created (removed again by undo, unless another applied fix
    /// relies on them or they hold another secret by then).
    pub tokens_created: Vec<String>,
    /// Every keyring name this fix's files rely on (created or reused) → the fingerprint of
    /// the secret it held.
    #[serde(default)]
    pub tokens_used: BTreeMap<String, String>,
    /// Keyring backups (fingerprints) the templates need.
    pub backups: Vec<String>,
    /// Secrets cut from templates, waiting to be backed up (never serialized).
    #[serde(skip)]
    pending_backups: Vec<Secret>,
}

pub(crate) use crate::redact::extent;

/// Secrets anywhere in `data`, as raw spans (merged when they overlap).
fn secret_spans(data: &[u8]) -> Vec<(usize, usize)> {
    let mut matches = Vec::new();
    rules::builtin().find_everywhere(data, &mut matches);
    let mut spans: Vec<(usize, usize)> = matches.iter().map(|m| extent(data, m)).collect();
    spans.sort();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

fn template_of(data: &[u8], backups: &mut Vec<Secret>) -> Template {
    let mut content = Vec::with_capacity(data.len());
    let mut holes = Vec::new();
    let mut pos = 0;
    for (s, e) in secret_spans(data) {
        content.extend_from_slice(&data[pos..s]);
        let secret = Secret::from_bytes(&data[s..e], 0);
        holes.push(Hole {
            offset: s as u64,
            backup: secret.fingerprint(),
        });
        backups.push(secret);
        pos = e;
    }
    content.extend_from_slice(&data[pos..]);
    Template {
        content: base64::engine::general_purpose::STANDARD.encode(&content),
        holes,
    }
}

/// Rebuilds the original bytes from a template and the keyring.
fn restore(t: &Template, keys: &KeyStore, path: &Path) -> Result<Vec<u8>, FixError> {
    let fail = |reason: String| FixError {
        path: path.to_path_buf(),
        reason,
    };
    let content = base64::engine::general_purpose::STANDARD
        .decode(&t.content)
        .map_err(|_| fail("the journal entry is damaged".into()))?;
    let mut out = Vec::with_capacity(content.len() + 64);
    let mut taken = 0usize; // bytes of `content` copied
    for h in &t.holes {
        let secret = keys
            .get_backup(&h.backup)
            .map_err(|e| fail(format!("cannot get the saved secret back: {e}")))?;
        // `h.offset` is in the original: copy content until the output reaches it.
        let need = h.offset as usize - out.len();
        out.extend_from_slice(&content[taken..taken + need]);
        taken += need;
        out.extend_from_slice(secret.expose().as_bytes());
    }
    out.extend_from_slice(&content[taken..]);
    Ok(out)
}

fn snapshot_of(data: &[u8], mode: u32, uid: u32, gid: u32) -> Snapshot {
    Snapshot {
        len: data.len() as u64,
        mode,
        uid,
        gid,
        sha256: atomic::sha256_hex(data),
    }
}

impl JournalEntry {
    pub fn new(plan: &Plan, tokens_created: Vec<String>) -> Self {
        let mut pending = Vec::new();
        let files = plan
            .files
            .iter()
            .map(|fc| {
                let (op, before, after, template) = match &fc.change {
                    Change::Chmod { from, to } => (
                        Op::Chmod {
                            from: *from,
                            to: *to,
                        },
                        None,
                        None,
                        None,
                    ),
                    Change::Rewrite {
                        before,
                        original,
                        after,
                    } => (
                        Op::Rewrite,
                        Some(before.clone()),
                        Some(snapshot_of(after, before.mode, before.uid, before.gid)),
                        Some(template_of(original, &mut pending)),
                    ),
                    Change::Remove { before, original } => (
                        Op::Remove,
                        Some(before.clone()),
                        None,
                        Some(template_of(original, &mut pending)),
                    ),
                    Change::Create { after, mode } => {
                        let me = nix::unistd::geteuid().as_raw();
                        let g = nix::unistd::getegid().as_raw();
                        (
                            Op::Create,
                            None,
                            Some(snapshot_of(after, *mode, me, g)),
                            None,
                        )
                    }
                };
                FileRecord {
                    path: fc.path.clone(),
                    op,
                    before,
                    after,
                    template,
                    skipped: false,
                    findings: fc.findings.clone(),
                }
            })
            .collect();
        let mut backups: Vec<String> = pending.iter().map(Secret::fingerprint).collect();
        backups.sort();
        backups.dedup();
        JournalEntry {
            id: plan.id.clone(),
            at: now_rfc3339(),
            state: State::Pending,
            home: plan.home.clone(),
            findings: plan.findings.clone(),
            files,
            tokens_created,
            tokens_used: plan
                .tokens
                .iter()
                .map(|t| (t.name.clone(), t.secret.fingerprint()))
                .collect(),
            backups,
            pending_backups: pending,
        }
    }

    /// The secrets to back up before the entry is written (each once).
    pub fn backups_needed(&mut self, _plan: &Plan) -> Vec<Secret> {
        let mut seen = BTreeSet::new();
        std::mem::take(&mut self.pending_backups)
            .into_iter()
            .filter(|s| seen.insert(s.fingerprint()))
            .collect()
    }
}

/// The original bytes of a rewritten or removed file, checked against its snapshot.
fn original_of(rec: &FileRecord, before: &Snapshot, keys: &KeyStore) -> Result<Vec<u8>, FixError> {
    let fail = |reason: &str| FixError {
        path: rec.path.clone(),
        reason: reason.to_string(),
    };
    let template = rec.template.as_ref().ok_or_else(|| fail("damaged entry"))?;
    let original = restore(template, keys, &rec.path)?;
    if atomic::sha256_hex(&original) != before.sha256 {
        return Err(fail(
            "the restored content does not match the original; not writing it",
        ));
    }
    Ok(original)
}

/// Puts one file back as it was before the fix. `Ok(false)`: it already was.
pub fn undo_file(rec: &FileRecord, keys: &KeyStore) -> Result<bool, FixError> {
    let path = &rec.path;
    let fail = |reason: &str| FixError {
        path: path.clone(),
        reason: reason.to_string(),
    };
    match &rec.op {
        Op::Chmod { from, to } => {
            let mode = std::fs::symlink_metadata(path)
                .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777)
                .map_err(|e| fail(&format!("cannot stat: {}", crate::fsread::reason(&e))))?;
            if mode == *from {
                return Ok(false);
            }
            atomic::chmod(path, *to, *from).map(|_| true)
        }
        Op::Rewrite => {
            let (before, after) = (
                rec.before.as_ref().ok_or_else(|| fail("damaged entry"))?,
                rec.after.as_ref().ok_or_else(|| fail("damaged entry"))?,
            );
            let now = atomic::current(path)?;
            match now {
                Some(s) if s.sha256 == before.sha256 => Ok(false),
                Some(s) if s.sha256 == after.sha256 => {
                    let original = original_of(rec, before, keys)?;
                    atomic::replace(path, &s, &original, Some(before.mode))?;
                    Ok(true)
                }
                Some(_) => Err(fail(
                    "changed since hfguard fixed it; not overwriting your edits",
                )),
                None => Err(fail("no longer exists")),
            }
        }
        Op::Remove => {
            let before = rec.before.as_ref().ok_or_else(|| fail("damaged entry"))?;
            match atomic::current(path)? {
                Some(s) if s.sha256 == before.sha256 => Ok(false),
                Some(_) => Err(fail("exists again with other content; not overwriting it")),
                None => {
                    let original = original_of(rec, before, keys)?;
                    atomic::create(path, &original, before.mode)?;
                    Ok(true)
                }
            }
        }
        Op::Create => {
            let after = rec.after.as_ref().ok_or_else(|| fail("damaged entry"))?;
            match atomic::current(path)? {
                None => Ok(false),
                Some(s) if s.sha256 == after.sha256 => atomic::remove(path, &s).map(|_| true),
                Some(_) => Err(fail("changed since hfguard created it; not removing it")),
            }
        }
    }
}

/// The largest journal entry read: an entry holds the content of the files it changed
/// (secrets cut out), which for a history can be large.
const ENTRY_LIMIT: u64 = 2 << 30;

/// The journal folder of a home.
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    pub fn new(home: &Home) -> Self {
        Journal {
            dir: home.xdg_state().join("hfguard/journal"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    pub fn write(&self, e: &JournalEntry) -> Result<(), String> {
        atomic::create_private_dir(&self.dir)
            .map_err(|err| format!("{}: {}", self.dir.display(), crate::fsread::reason(&err)))?;
        let body = serde_json::to_vec_pretty(e).map_err(|err| err.to_string())?;
        atomic::write_new(&self.path_of(&e.id), &body, 0o600).map_err(|err| err.to_string())
    }

    pub fn load(&self, id: &str) -> Result<JournalEntry, String> {
        if !id.starts_with("fix-") || id.contains('/') {
            return Err(format!(
                "`{id}` is not a fix id (they look like fix-20261129-061500-1a2b)"
            ));
        }
        let p = self.path_of(id);
        // Opened as hfguard's own files are: a FIFO or a device there is refused, never
        // waited on.
        let body = match crate::fsread::read_own(&p, ENTRY_LIMIT) {
            Ok(Some(body)) => body,
            Ok(None) => return Err(format!("no fix {id} in {}", self.dir.display())),
            Err(e) => return Err(format!("{}: {}", p.display(), crate::fsread::reason(&e))),
        };
        serde_json::from_slice(&body).map_err(|e| format!("{}: damaged entry: {e}", p.display()))
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> Result<Vec<JournalEntry>, String> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(format!(
                    "{}: {}",
                    self.dir.display(),
                    crate::fsread::reason(&e)
                ))
            }
        };
        let mut out = Vec::new();
        for ent in rd.flatten() {
            let name = ent.file_name().to_string_lossy().into_owned();
            if let Some(id) = name.strip_suffix(".json").filter(|n| n.starts_with("fix-")) {
                out.push(self.load(id)?);
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// After a crash: a pending entry whose files are all as before is dropped; one with any
    /// file changed is applied (undo handles each file by what is on disk).
    pub fn recover(&self) -> Result<(), String> {
        for mut e in self.entries()? {
            if e.state != State::Pending {
                continue;
            }
            let changed = e.files.iter().any(|r| match &r.op {
                Op::Chmod { to, .. } => std::fs::symlink_metadata(&r.path)
                    .is_ok_and(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777 == *to),
                Op::Rewrite | Op::Create => {
                    matches!((atomic::current(&r.path), &r.after), (Ok(Some(s)), Some(a)) if s.sha256 == a.sha256)
                }
                Op::Remove => matches!(atomic::current(&r.path), Ok(None)),
            });
            if changed {
                e.state = State::Applied;
                self.write(&e)?;
            } else {
                e.state = State::Failed;
                self.write(&e)?;
            }
        }
        Ok(())
    }

    /// Backups referenced by applied entries other than `except`.
    pub fn backups_in_use(&self, except: Option<&str>) -> Result<BTreeSet<String>, String> {
        Ok(self
            .entries()?
            .into_iter()
            .filter(|e| e.state == State::Applied && Some(e.id.as_str()) != except)
            .flat_map(|e| e.backups)
            .collect())
    }

    /// Keyring names the applied fixes other than `except` rely on.
    pub fn tokens_in_use(&self, except: &str) -> Result<BTreeSet<String>, String> {
        Ok(self
            .entries()?
            .into_iter()
            .filter(|e| e.state == State::Applied && e.id != except)
            .flat_map(|e| e.tokens_used.into_keys())
            .collect())
    }
}

/// `fix-YYYYMMDD-HHMMSS-mmmmmm-xxxx`: sortable to the microsecond (two fixes in one second
/// undo in the right order), unique enough for one user's fixes.
pub fn new_id() -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let digits: String = rfc3339(since.as_secs() as i64)
        .chars()
        .filter(|c| c.is_ascii_digit())
        .take(14)
        .collect();
    let salt =
        atomic::sha256_hex(format!("{}-{}", since.subsec_nanos(), std::process::id()).as_bytes());
    format!(
        "fix-{}-{}-{:06}-{}",
        &digits[..8],
        &digits[8..14],
        since.subsec_micros(),
        &salt[..4]
    )
}

/// The current time in UTC, RFC 3339 (`2026-11-29T06:15:00Z`).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    rfc3339(secs)
}

pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn templates_hold_no_secret() {
        let tok = "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";
        let data = format!("a\nexport HF_TOKEN={tok}\nb {tok}\n");
        let mut backups = Vec::new();
        let t = template_of(data.as_bytes(), &mut backups);
        let content = base64::engine::general_purpose::STANDARD
            .decode(&t.content)
            .unwrap();
        assert!(!String::from_utf8_lossy(&content).contains(&tok[3..]));
        assert_eq!(t.holes.len(), 2);
        assert_eq!(t.holes[0].offset as usize, data.find(tok).unwrap());
        assert_eq!(backups.len(), 2);
    }
}
