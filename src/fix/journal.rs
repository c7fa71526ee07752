//! The journal of applied fixes: one JSON file per fix under
//! `$XDG_STATE_HOME/hfguard/journal/` (folder 0700, files 0600), written atomically.
//!
//! An entry records, for each file, its snapshot before and after and — for content
//! changes — the original content with every secret cut out (a *template*) plus, for each
//! cut, the keyring backup that holds it. No plaintext secret is ever written here. Paths
//! are kept byte for byte (a name that is not UTF-8 is stored as base64).
//!
//! The journal sits in a folder the home's owner controls, so it is data from an untrusted
//! place: an entry is acted on (undone, recovered) only when its folder and file belong to
//! the home's owner, are not writable by group or others and are reached without a symlink,
//! and it was written for this home ([`JournalEntry::distrust`] says why not). Each of its
//! files must be below the home or one of the credential files the environment names
//! ([`Target::place`]), and undo never adds a setuid, setgid or sticky bit the file does not
//! have now.

use super::atomic::{self, FixError, Snapshot};
use super::model::{Change, Plan};
use super::target::Target;
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
    Mkdir { mode: u32 },
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
    #[serde(with = "crate::raw_path")]
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

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A slot value a fix replaced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotReplaced {
    pub name: String,
    /// Fingerprint of the old value, which is its keyring backup's name.
    pub old: String,
    /// Fingerprint of the value the fix stored.
    pub new: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JournalEntry {
    pub id: String,
    pub at: String,
    pub state: State,
    #[serde(with = "crate::raw_path")]
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
    /// Keyring backups (fingerprints) the templates need, one keyring item each (entries
    /// written before bundles).
    pub backups: Vec<String>,
    /// The keyring item holding every secret the templates need, by fingerprint (see
    /// [`KeyStore::backup_bundle`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
    /// Slots whose value this fix replaced (a rotation): undo puts the old value back from
    /// its backup.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slots_replaced: Vec<SlotReplaced>,
    /// Whether the secrets cut from the templates were backed up (there was a keyring): undo
    /// of a redaction made without one restores everything but the secret.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub secrets_kept: bool,
    /// What this fix added to the slot index (identities, consumers), taken away by undo.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slots_added: Vec<crate::slots::Slot>,
    /// Secrets cut from templates, waiting to be backed up (never serialized).
    #[serde(skip)]
    pending_backups: Vec<Secret>,
    /// Why this entry, as read from disk, must not be acted on (`None`: it may).
    #[serde(skip)]
    pub distrust: Option<String>,
}

/// Secrets anywhere in `data` (and at the `known` spans), as raw spans merged when they
/// overlap.
pub(crate) fn secret_spans(data: &[u8], known: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut matches = Vec::new();
    rules::builtin().find_everywhere(data, &mut matches);
    let mut spans: Vec<(usize, usize)> = matches.iter().map(|m| rules::extent(data, m)).collect();
    spans.extend(known.iter().filter(|(s, e)| s < e && *e <= data.len()));
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

fn template_of(data: &[u8], known: &[(usize, usize)], backups: &mut Vec<Secret>) -> Template {
    let mut content = Vec::with_capacity(data.len());
    let mut holes = Vec::new();
    let mut pos = 0;
    for (s, e) in secret_spans(data, known) {
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

/// Where an entry's cut-out secrets wait: its bundle (read once), or one keyring item each.
pub struct Saved<'k> {
    keys: &'k KeyStore,
    bundle: Option<std::collections::BTreeMap<String, Secret>>,
    /// Why the bundle could not be read, when it could not.
    missing: Option<String>,
}

impl<'k> Saved<'k> {
    /// The saved secrets of `entry` (its bundle is read from the keyring now, once).
    pub fn of(
        entry: &JournalEntry,
        keys: &'k KeyStore,
    ) -> Result<Saved<'k>, crate::keystore::KeyError> {
        let bundle = match &entry.bundle {
            Some(name) => Some(keys.get_bundle(name)?),
            None => None,
        };
        Ok(Saved {
            keys,
            bundle,
            missing: None,
        })
    }

    /// No secrets to be had (the bundle could not be read: `why`).
    pub fn none(keys: &'k KeyStore, why: String) -> Saved<'k> {
        Saved {
            keys,
            bundle: None,
            missing: Some(why),
        }
    }

    fn get(&self, fingerprint: &str) -> Result<Secret, crate::keystore::KeyError> {
        if let Some(why) = &self.missing {
            return Err(crate::keystore::KeyError::Unavailable(why.clone()));
        }
        match &self.bundle {
            Some(b) => b
                .get(fingerprint)
                .cloned()
                .ok_or_else(|| crate::keystore::KeyError::NotFound(fingerprint.to_string())),
            None => self.keys.get_backup(fingerprint),
        }
    }
}

/// Rebuilds the original bytes from a template and the saved secrets.
fn restore(t: &Template, keys: &Saved, path: &Path) -> Result<Vec<u8>, FixError> {
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
            .get(&h.backup)
            .map_err(|e| fail(format!("cannot get the saved secret back: {e}")))?;
        // `h.offset` is in the original: copy content until the output reaches it.
        let need = usize::try_from(h.offset)
            .ok()
            .and_then(|o| o.checked_sub(out.len()))
            .filter(|n| taken + n <= content.len())
            .ok_or_else(|| fail("the journal entry is damaged".into()))?;
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
                        Some(template_of(original, &fc.secrets, &mut pending)),
                    ),
                    Change::Remove { before, original } => (
                        Op::Remove,
                        Some(before.clone()),
                        None,
                        Some(template_of(original, &fc.secrets, &mut pending)),
                    ),
                    Change::Mkdir { mode } => (Op::Mkdir { mode: *mode }, None, None, None),
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
            at: crate::time::now_rfc3339(),
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
            slots_replaced: Vec::new(),
            bundle: None,
            secrets_kept: true,
            slots_added: plan.tokens.iter().map(|t| t.slot.clone()).collect(),
            pending_backups: pending,
            distrust: None,
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
fn original_of(rec: &FileRecord, before: &Snapshot, keys: &Saved) -> Result<Vec<u8>, FixError> {
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

/// setuid, setgid and sticky.
const SPECIAL: u32 = 0o7000;

/// The mode undo may give a file whose mode is `now` when the journal asks for `wanted`:
/// the permission bits as asked, but a setuid, setgid or sticky bit only when the file has it
/// now (the journal cannot prove it had it before). `Err` carries the bits left out.
fn restorable_mode(wanted: u32, now: Option<u32>) -> Result<u32, (u32, u32)> {
    let kept = wanted & !SPECIAL | (wanted & now.unwrap_or(0) & SPECIAL);
    if kept == wanted {
        Ok(kept)
    } else {
        Err((kept, wanted & SPECIAL & !kept))
    }
}

/// Says which special bits undo left out (the rest of the file was restored).
fn special_bits_left_out(path: &Path, wanted: u32, dropped: u32) -> FixError {
    FixError {
        path: path.to_path_buf(),
        reason: format!(
            "restored without the setuid/setgid/sticky bits {dropped:04o} the journal asks for (mode {wanted:04o}): undo never adds those bits to a file that does not have them now; set them by hand if they were yours"
        ),
    }
}

/// Puts one file back as it was before the fix. `Ok(false)`: it already was. `left_out`
/// gets a note when a special mode bit was not restored.
pub fn undo_file(
    rec: &FileRecord,
    keys: &Saved,
    target: &Target,
    left_out: &mut Vec<FixError>,
) -> Result<bool, FixError> {
    let path = &rec.path;
    let fail = |reason: &str| FixError {
        path: path.clone(),
        reason: reason.to_string(),
    };
    // Below the home, or exactly a credential file the environment names (checked again by
    // every change).
    target.place(path, false).or_else(|e| {
        if matches!(rec.op, Op::Chmod { .. }) {
            target.place(path, true)
        } else {
            Err(e)
        }
    })?;
    match &rec.op {
        Op::Chmod { from, to } => {
            let mode = atomic::mode_of(target, path)?.ok_or_else(|| fail("no longer exists"))?;
            if mode == *from {
                return Ok(false);
            }
            let restored = restorable_mode(*from, Some(mode)).unwrap_or_else(|(kept, dropped)| {
                left_out.push(special_bits_left_out(path, *from, dropped));
                kept
            });
            atomic::chmod(target, path, *to, restored).map(|_| true)
        }
        Op::Rewrite => {
            let (before, after) = (
                rec.before.as_ref().ok_or_else(|| fail("damaged entry"))?,
                rec.after.as_ref().ok_or_else(|| fail("damaged entry"))?,
            );
            let now = atomic::current(target, path)?;
            match now {
                Some(s) if s.sha256 == before.sha256 => Ok(false),
                Some(s) if s.sha256 == after.sha256 => {
                    let original = original_of(rec, before, keys)?;
                    let mode = restorable_mode(before.mode, Some(s.mode)).unwrap_or_else(
                        |(kept, dropped)| {
                            left_out.push(special_bits_left_out(path, before.mode, dropped));
                            kept
                        },
                    );
                    atomic::replace(target, path, &s, &original, Some(mode))?;
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
            match atomic::current(target, path)? {
                Some(s) if s.sha256 == before.sha256 => Ok(false),
                Some(_) => Err(fail("exists again with other content; not overwriting it")),
                None => {
                    let original = original_of(rec, before, keys)?;
                    let mode =
                        restorable_mode(before.mode, None).unwrap_or_else(|(kept, dropped)| {
                            left_out.push(special_bits_left_out(path, before.mode, dropped));
                            kept
                        });
                    atomic::create(target, path, &original, mode)?;
                    Ok(true)
                }
            }
        }
        Op::Mkdir { .. } => atomic::rmdir(target, path),
        Op::Create => {
            let after = rec.after.as_ref().ok_or_else(|| fail("damaged entry"))?;
            match atomic::current(target, path)? {
                None => Ok(false),
                Some(s) if s.sha256 == after.sha256 => {
                    atomic::remove(target, path, &s).map(|_| true)
                }
                Some(_) => Err(fail("changed since hfguard created it; not removing it")),
            }
        }
    }
}

/// The journal folder of a home.
pub struct Journal {
    dir: PathBuf,
    target: Target,
}

/// Entries larger than this are not read (a template holds a whole file; 1 GiB is far more
/// than any history or log hfguard rewrites).
const MAX_ENTRY: u64 = 1 << 30;

impl Journal {
    pub fn new(home: &Home) -> Self {
        Journal {
            dir: home.xdg_state().join("hfguard/journal"),
            target: Target::of(home),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The home the journal's fixes change, and as whom.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The slot index that goes with this journal (`tokens.json` beside it).
    pub fn slot_index(&self) -> PathBuf {
        self.dir
            .parent()
            .map_or_else(|| PathBuf::from("tokens.json"), |d| d.join("tokens.json"))
    }

    /// Changes the slot index beside the journal, as the home's owner and without following
    /// a link on the way.
    pub fn update_slots(&self, f: impl FnOnce(&mut Vec<crate::slots::Slot>)) -> Result<(), String> {
        let index = self.slot_index();
        let _as = self.target.act(&index).map_err(|e| e.to_string())?;
        crate::slots::update_at(self.target.state_root(), &index, f)
    }

    fn file_name(id: &str) -> String {
        format!("{id}.json")
    }

    fn err(&self, reason: impl std::fmt::Display) -> String {
        format!(
            "{}: {reason}",
            crate::term::safe_line(&self.dir.display().to_string())
        )
    }

    pub fn write(&self, e: &JournalEntry) -> Result<(), String> {
        let _as = self.target.act(&self.dir).map_err(|err| err.to_string())?;
        // A folder others could write to is not made private again quietly: that would make
        // whatever they put in it look like the owner's own entries.
        if let Some((_, Some(why))) = self.open_dir()? {
            return Err(self.err(format!(
                "{why}; its entries may not be yours: check them, then make it the owner's alone (`chown`, `chmod 700`)"
            )));
        }
        // hfguard's folder, then the journal's, each the owner's alone (as the slot index's).
        if let Some(ours) = self.dir.parent() {
            atomic::create_private_dir_in(self.target.state_root(), ours)
                .map_err(|err| err.to_string())?;
        }
        let dir = atomic::create_private_dir_in(self.target.state_root(), &self.dir)
            .map_err(|err| err.to_string())?;
        let body = serde_json::to_vec_pretty(e).map_err(|err| err.to_string())?;
        let name = Self::file_name(&e.id);
        atomic::write_new_in(
            &self.dir.join(&name),
            std::os::fd::AsFd::as_fd(&dir),
            name.as_ref(),
            &body,
            0o600,
        )
        .map_err(|err| err.to_string())
    }

    /// The journal folder, opened from the state root without following a link (`None`: it
    /// does not exist), and why its entries must not be acted on, if so.
    fn open_dir(&self) -> Result<Option<(std::os::fd::OwnedFd, Option<String>)>, String> {
        let rel = self
            .dir
            .strip_prefix(self.target.state_root())
            .map_err(|_| self.err("not below the state folder"))?;
        let open = |rel: &Path| match crate::confined::open_dir(self.target.state_root(), rel) {
            Ok(fd) => {
                let st = nix::sys::stat::fstat(std::os::fd::AsFd::as_fd(&fd))
                    .map_err(|e| self.err(e.desc()))?;
                Ok(Some((fd, st)))
            }
            Err(b) if b.errno == nix::errno::Errno::ENOENT => Ok(None),
            Err(b) => Err(crate::term::safe_line(&b.reason()).into_owned()),
        };
        let Some((fd, st)) = open(rel)? else {
            return Ok(None);
        };
        // hfguard's own folder holding it too: whoever can write there can swap the journal.
        let parent = match rel.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(p) => open(p)?.map(|(_, st)| st),
            None => None,
        };
        // (Its group may write there: user-private groups with umask 002 make it so, and a
        // folder swapped in by a group member would not be the owner's.)
        let distrust = parent
            .and_then(|mut st| {
                st.st_mode &= !0o020;
                self.untrusted("the folder holding the journal", &st)
            })
            .or_else(|| self.untrusted("the journal folder", &st));
        Ok(Some((fd, distrust)))
    }

    /// Why a journal file or folder with this `stat` must not be trusted.
    fn untrusted(&self, what: &str, st: &nix::sys::stat::FileStat) -> Option<String> {
        let owner = self.target.acting.uid()?;
        if st.st_uid != owner {
            return Some(format!(
                "{what} belongs to uid {}, not to the home's owner (uid {owner})",
                st.st_uid
            ));
        }
        if st.st_mode & 0o022 != 0 {
            return Some(format!(
                "{what} can be written by others (mode {:04o})",
                st.st_mode & 0o7777
            ));
        }
        None
    }

    fn load_in(
        &self,
        dir: std::os::fd::BorrowedFd<'_>,
        dir_distrust: &Option<String>,
        id: &str,
    ) -> Result<JournalEntry, String> {
        let name = Self::file_name(id);
        let shown =
            || crate::term::safe_line(&self.dir.join(&name).display().to_string()).into_owned();
        let fd = nix::fcntl::openat(
            dir,
            name.as_str(),
            nix::fcntl::OFlag::O_RDONLY
                | nix::fcntl::OFlag::O_NOFOLLOW
                | nix::fcntl::OFlag::O_NONBLOCK
                | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .map_err(|e| match e {
            nix::errno::Errno::ENOENT => format!(
                "no fix {id} in {}",
                crate::term::safe_line(&self.dir.display().to_string())
            ),
            nix::errno::Errno::ELOOP => format!("{}: is a symlink; not read", shown()),
            e => format!("{}: {}", shown(), e.desc()),
        })?;
        let st = nix::sys::stat::fstat(std::os::fd::AsFd::as_fd(&fd))
            .map_err(|e| format!("{}: {}", shown(), e.desc()))?;
        if st.st_mode & 0o170000 != 0o100000 {
            return Err(format!("{}: not a regular file; not read", shown()));
        }
        if st.st_size as u64 > MAX_ENTRY {
            return Err(format!("{}: larger than 1 GiB; not read", shown()));
        }
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut std::fs::File::from(fd), &mut body)
            .map_err(|e| format!("{}: {}", shown(), crate::fsread::reason(&e)))?;
        let mut entry: JournalEntry = serde_json::from_slice(&body)
            .map_err(|e| format!("{}: damaged entry: {e}", shown()))?;
        entry.distrust = dir_distrust
            .clone()
            .or_else(|| self.untrusted("the entry", &st))
            .or_else(|| self.foreign_home(&entry))
            .or_else(|| {
                (entry.id != id)
                    .then(|| format!("it names itself {}", crate::term::safe_line(&entry.id)))
            });
        Ok(entry)
    }

    /// Why an entry written for another home must not be acted on here.
    fn foreign_home(&self, e: &JournalEntry) -> Option<String> {
        let same = e.home == self.target.home
            || matches!(
                (e.home.canonicalize(), self.target.home.canonicalize()),
                (Ok(a), Ok(b)) if a == b
            );
        (!same).then(|| {
            format!(
                "it was written for another home ({})",
                crate::term::safe_line(&e.home.display().to_string())
            )
        })
    }

    pub fn load(&self, id: &str) -> Result<JournalEntry, String> {
        if !id.starts_with("fix-") || id.contains('/') {
            return Err(format!(
                "`{}` is not a fix id (they look like fix-20261129-061500-1a2b)",
                crate::term::safe_line(id)
            ));
        }
        let _as = self.target.act(&self.dir).map_err(|e| e.to_string())?;
        match self.open_dir()? {
            Some((fd, distrust)) => self.load_in(std::os::fd::AsFd::as_fd(&fd), &distrust, id),
            None => Err(format!(
                "no fix {id} in {}",
                crate::term::safe_line(&self.dir.display().to_string())
            )),
        }
    }

    /// Every entry, oldest first (those not to be acted on included, marked by `distrust`).
    pub fn entries(&self) -> Result<Vec<JournalEntry>, String> {
        let _as = self.target.act(&self.dir).map_err(|e| e.to_string())?;
        let Some((fd, distrust)) = self.open_dir()? else {
            return Ok(Vec::new());
        };
        let listing = nix::fcntl::openat(
            std::os::fd::AsFd::as_fd(&fd),
            ".",
            nix::fcntl::OFlag::O_RDONLY
                | nix::fcntl::OFlag::O_DIRECTORY
                | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .and_then(nix::dir::Dir::from_fd)
        .map_err(|e| self.err(e.desc()))?;
        let mut ids = Vec::new();
        let mut listing = listing;
        for ent in listing.iter().flatten() {
            let name = ent.file_name().to_string_lossy().into_owned();
            if let Some(id) = name.strip_suffix(".json").filter(|n| n.starts_with("fix-")) {
                ids.push(id.to_string());
            }
        }
        let mut out = Vec::new();
        for id in ids {
            out.push(self.load_in(std::os::fd::AsFd::as_fd(&fd), &distrust, &id)?);
        }
        if distrust.is_none() {
            atomic::sweep_leftovers(std::os::fd::AsFd::as_fd(&fd), None);
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// After a crash: a pending entry whose files are all as before is dropped; one with any
    /// file changed is applied (undo handles each file by what is on disk). Temporary files
    /// the crash left next to its files go. Entries not to be trusted are left as they are.
    pub fn recover(&self) -> Result<(), String> {
        let t = &self.target;
        for mut e in self.entries()? {
            if e.state != State::Pending || e.distrust.is_some() {
                continue;
            }
            let usable =
                |r: &FileRecord| t.place(&r.path, false).is_ok() || t.place(&r.path, true).is_ok();
            // A slot replaced before the crash: undo compares what the slot holds with both
            // values, so the entry counts as applied.
            let changed = !e.slots_replaced.is_empty() || e.files.iter().filter(|r| usable(r)).any(|r| match &r.op {
                Op::Chmod { to, .. } => matches!(atomic::mode_of(t, &r.path), Ok(Some(m)) if m == *to),
                Op::Rewrite | Op::Create => {
                    matches!((atomic::current(t, &r.path), &r.after), (Ok(Some(s)), Some(a)) if s.sha256 == a.sha256)
                }
                Op::Remove => matches!(atomic::current(t, &r.path), Ok(None)),
                Op::Mkdir { .. } => r.path.is_dir(),
            });
            for r in e.files.iter().filter(|r| usable(r)) {
                atomic::sweep_leftovers_of(t, &r.path);
            }
            e.state = if changed {
                State::Applied
            } else {
                State::Failed
            };
            self.write(&e)?;
        }
        Ok(())
    }

    /// Backups referenced by applied entries other than `except`.
    pub fn backups_in_use(&self, except: Option<&str>) -> Result<BTreeSet<String>, String> {
        Ok(self
            .entries()?
            .into_iter()
            .filter(|e| e.state == State::Applied && Some(e.id.as_str()) != except)
            .flat_map(|e| {
                let replaced = e.slots_replaced.into_iter().map(|r| r.old);
                e.backups.into_iter().chain(replaced)
            })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries written before raw paths existed (plain strings) still read; a name that is
    /// not UTF-8 goes through byte for byte.
    #[test]
    fn paths_are_kept_byte_for_byte_and_old_entries_still_read() {
        use std::os::unix::ffi::OsStrExt;
        let old = r#"{"path": "/h/.bashrc", "op": "chmod", "from": 420, "to": 384,
            "before": null, "after": null, "template": null, "findings": []}"#;
        let rec: FileRecord = serde_json::from_str(old).unwrap();
        assert_eq!(rec.path, PathBuf::from("/h/.bashrc"));
        let raw = PathBuf::from(std::ffi::OsStr::from_bytes(b"/h/caf\xe9\n.py"));
        let rec = FileRecord {
            path: raw.clone(),
            ..rec
        };
        let json = serde_json::to_string(&rec).unwrap();
        assert!(json.contains(r#""path":{"bytes":"#), "{json}");
        let back: FileRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back.path, raw);
    }

    #[test]
    fn undo_never_adds_a_special_mode_bit() {
        assert_eq!(restorable_mode(0o644, Some(0o600)), Ok(0o644));
        assert_eq!(restorable_mode(0o2775, Some(0o2700)), Ok(0o2775));
        assert_eq!(restorable_mode(0o4755, Some(0o700)), Err((0o755, 0o4000)));
        assert_eq!(restorable_mode(0o6755, Some(0o2700)), Err((0o2755, 0o4000)));
        assert_eq!(restorable_mode(0o1777, None), Err((0o777, 0o1000)));
    }

    #[test]
    fn templates_hold_no_secret() {
        let tok = "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";
        let data = format!("a\nexport HF_TOKEN={tok}\nb {tok}\n");
        let mut backups = Vec::new();
        let t = template_of(data.as_bytes(), &[], &mut backups);
        let content = base64::engine::general_purpose::STANDARD
            .decode(&t.content)
            .unwrap();
        assert!(!String::from_utf8_lossy(&content).contains(&tok[3..]));
        assert_eq!(t.holes.len(), 2);
        assert_eq!(t.holes[0].offset as usize, data.find(tok).unwrap());
        assert_eq!(backups.len(), 2);
    }
}
