//! Fixes that lose nothing: plan, preview, apply atomically with a journal, undo.
//!
//! [`plan`] turns chosen findings into a [`Plan`]: the exact new content of every file it
//! rewrites, the mode changes, the files it removes and the keyring entries it creates —
//! computed from the files as they are now, with the same rules the audit uses. [`apply`]
//! stores secrets in the keyring first (read back and compared), records the journal entry,
//! then changes the files one by one ([`atomic`]); [`undo`] reverses an entry byte for byte.
//! The journal never holds a plaintext secret: file content is kept with the secrets cut
//! out, and the secrets themselves wait in the keyring.

pub mod atomic;
mod diff;
pub mod journal;
mod plan;

pub use crate::redact::redact_all;
pub use diff::{context_line, preview};
pub use journal::{Journal, JournalEntry};
pub use plan::{plan, Change, FileChange, Plan, TokenToStore};

use crate::keystore::{KeyError, KeyStore};
use atomic::FixError;
use std::sync::atomic::{AtomicU32, Ordering};

/// Test hook for the crash test: with `HFGUARD_FAILPOINT=N`, the N-th failpoint reached
/// kills the process with SIGKILL, exactly like `kill -9` at that moment.
pub fn failpoint(_name: &str) {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    static TARGET: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    let target = *TARGET.get_or_init(|| {
        std::env::var("HFGUARD_FAILPOINT")
            .ok()
            .and_then(|v| v.parse().ok())
    });
    if let Some(t) = target {
        if COUNT.fetch_add(1, Ordering::SeqCst) + 1 == t {
            let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
        }
    }
}

/// What went wrong applying or undoing.
#[derive(Debug)]
pub enum ApplyError {
    Key(KeyError),
    /// The keyring holds another secret under a name the plan stores to.
    NameTaken {
        name: String,
        /// The secret already there, redacted.
        holds: String,
    },
    File(FixError),
    Journal(String),
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApplyError::Key(e) => write!(f, "{e}"),
            ApplyError::NameTaken { name, holds } => write!(
                f,
                "the keyring already holds another secret named `{name}` ({holds}), which the fix would overwrite. Plan the fix again (hfguard's index of names may have been lost), or remove that entry with `hfguard token rm --name {name}`"
            ),
            ApplyError::File(e) => write!(f, "{e}"),
            ApplyError::Journal(e) => write!(f, "journal: {e}"),
        }
    }
}

/// The outcome of applying a plan: files changed, and files skipped with the reason.
#[derive(Debug, Default)]
pub struct Outcome {
    pub changed: Vec<std::path::PathBuf>,
    pub failed: Vec<FixError>,
}

/// Applies `plan`: keyring first, then the journal entry, then each file.
pub fn apply(plan: &Plan, keys: &KeyStore, journal: &Journal) -> Result<Outcome, ApplyError> {
    journal.recover().map_err(ApplyError::Journal)?;
    // 1. Secrets into the keyring, each read back and compared, before any plaintext goes.
    //    A name that holds another secret is never overwritten: the plan chose the names from
    //    hfguard's index, and the keyring may have changed since (or the index been lost).
    for t in &plan.tokens {
        match keys.get(&t.name) {
            Ok(existing) if existing.expose() != t.secret.expose() => {
                return Err(ApplyError::NameTaken {
                    name: t.name.clone(),
                    holds: existing.redacted(),
                });
            }
            Ok(_) | Err(KeyError::NotFound(_)) => {}
            Err(e) => return Err(ApplyError::Key(e)),
        }
    }
    let mut created = Vec::new();
    for t in &plan.tokens {
        match keys.get(&t.name) {
            Ok(existing) if existing.expose() == t.secret.expose() => {}
            Ok(_) | Err(KeyError::NotFound(_)) => {
                keys.set(&t.name, &t.secret).map_err(ApplyError::Key)?;
                created.push(t.name.clone());
            }
            Err(e) => return Err(ApplyError::Key(e)),
        }
        failpoint("token-stored");
    }
    let mut entry = journal::JournalEntry::new(plan, created);
    for secret in entry.backups_needed(plan) {
        keys.backup(&secret).map_err(ApplyError::Key)?;
        failpoint("backup-stored");
    }
    // 2. The journal, before the first file changes.
    journal.write(&entry).map_err(ApplyError::Journal)?;
    failpoint("journal-pending");
    // 3. The files.
    let mut outcome = Outcome::default();
    for (i, fc) in plan.files.iter().enumerate() {
        if let Some(need) = fc.needs.as_ref().filter(|n| !outcome.changed.contains(n)) {
            entry.files[i].skipped = true;
            outcome.failed.push(FixError {
                path: fc.path.clone(),
                reason: format!(
                    "left as it was: {} could not be changed, so git would not reach the keyring",
                    need.display()
                ),
            });
            continue;
        }
        let r = match &fc.change {
            Change::Chmod { from, to } => atomic::chmod(&fc.path, *from, *to),
            Change::Rewrite { before, after, .. } => atomic::replace(&fc.path, before, after, None),
            Change::Remove { before, .. } => atomic::remove(&fc.path, before),
            Change::Create { after, mode } => atomic::create(&fc.path, after, *mode),
        };
        match r {
            Ok(()) => outcome.changed.push(fc.path.clone()),
            Err(e) => {
                entry.files[i].skipped = true;
                outcome.failed.push(e);
            }
        }
        failpoint("file-changed");
    }
    entry.state = if outcome.changed.is_empty() {
        journal::State::Failed
    } else {
        journal::State::Applied
    };
    journal.write(&entry).map_err(ApplyError::Journal)?;
    failpoint("journal-applied");
    Ok(outcome)
}

/// Undoes journal entry `id`: every file back to what it was, byte for byte and mode, and
/// the keyring entries it created removed.
pub fn undo(id: &str, keys: &KeyStore, journal: &Journal) -> Result<Outcome, ApplyError> {
    journal.recover().map_err(ApplyError::Journal)?;
    let mut entry = journal.load(id).map_err(ApplyError::Journal)?;
    if entry.state == journal::State::Undone {
        return Err(ApplyError::Journal(format!("{id} was already undone")));
    }
    let mut outcome = Outcome::default();
    for rec in entry.files.iter().rev() {
        if rec.skipped {
            continue;
        }
        match journal::undo_file(rec, keys) {
            Ok(true) => outcome.changed.push(rec.path.clone()),
            Ok(false) => {}
            Err(e) => outcome.failed.push(e),
        }
        failpoint("file-undone");
    }
    if !outcome.failed.is_empty() {
        return Ok(outcome);
    }
    // A name this fix created goes again, unless another applied fix's files look it up, or
    // it holds another secret by now (rotated with `token set`, stored by git): deleting it
    // would lose the only copy of that secret.
    let in_use = journal.tokens_in_use(id).map_err(ApplyError::Journal)?;
    for name in &entry.tokens_created {
        if in_use.contains(name) {
            continue;
        }
        match (keys.get(name), entry.tokens_used.get(name)) {
            (Ok(now), Some(stored)) if !now.has_fingerprint(stored) => continue,
            (Ok(_), _) => keys.delete(name).map_err(ApplyError::Key)?,
            (Err(KeyError::NotFound(_)), _) => continue,
            // Cannot tell what it holds now: it stays.
            (Err(e), _) => return Err(ApplyError::Key(e)),
        }
    }
    let still_needed = journal
        .backups_in_use(Some(id))
        .map_err(ApplyError::Journal)?;
    for b in &entry.backups {
        if !still_needed.contains(b) {
            keys.delete_backup(b).map_err(ApplyError::Key)?;
        }
    }
    entry.state = journal::State::Undone;
    journal.write(&entry).map_err(ApplyError::Journal)?;
    Ok(outcome)
}
