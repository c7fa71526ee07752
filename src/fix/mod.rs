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
pub mod binary;
pub mod consumers;
mod diff;
pub mod guard;
pub mod journal;
mod locate;
pub mod model;
pub mod owner;
mod plan;
pub mod target;

pub use diff::{context_line, preview, redact_all, shown_line};
pub use journal::{Journal, JournalEntry};
pub use model::{Change, FileChange, Keyring, Plan, Replaced, TokenToStore};
pub use plan::{marker, plan, plan_in, plan_rotation, rotation_choices};
pub use target::Target;

use crate::keystore::{KeyError, KeyStore};
use crate::slots;
use atomic::FixError;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Test hooks for the crash and race tests: with `HFGUARD_FAILPOINT=N`, the N-th failpoint
/// reached kills the process with SIGKILL, exactly like `kill -9` at that moment; with
/// `HFGUARD_STOP_AT=NAME`, the first failpoint called NAME stops the process (SIGSTOP) so
/// that a test can change the world under it and let it go on (SIGCONT).
pub fn failpoint(name: &str) {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    static STOPPED: AtomicBool = AtomicBool::new(false);
    static TARGET: std::sync::OnceLock<(Option<u32>, Option<String>)> = std::sync::OnceLock::new();
    let (kill_at, stop_at) = TARGET.get_or_init(|| {
        (
            std::env::var("HFGUARD_FAILPOINT")
                .ok()
                .and_then(|v| v.parse().ok()),
            std::env::var("HFGUARD_STOP_AT").ok(),
        )
    });
    if let Some(t) = kill_at {
        if COUNT.fetch_add(1, Ordering::SeqCst) + 1 == *t {
            let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
        }
    }
    if stop_at.as_deref() == Some(name) && !STOPPED.swap(true, Ordering::SeqCst) {
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP);
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
    /// The fix cannot be made for this home as this user (another user's home and keyring
    /// steps, or a home that is neither the caller's nor root's to fix).
    Refused(String),
    /// Files were changed, but the journal could not be brought up to date afterwards
    /// (disk full…). The entry written before the first change still lists every file.
    Unrecorded {
        id: String,
        error: String,
        outcome: Box<Outcome>,
    },
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
            ApplyError::Refused(e) => write!(f, "{e}"),
            ApplyError::Unrecorded { id, error, outcome } => {
                write!(
                    f,
                    "{} file(s) were changed, but the journal could not be updated afterwards ({error}):",
                    outcome.changed.len()
                )?;
                for p in &outcome.changed {
                    write!(f, "\n  changed: {}", crate::term::safe_line(&p.display().to_string()))?;
                }
                for e in &outcome.failed {
                    write!(f, "\n  not changed: {e}")?;
                }
                write!(
                    f,
                    "\nThe entry {id}, written before the first change, lists every file: once the journal can be written again (free some space), `hfguard history` brings it up to date and `hfguard undo {id}` puts these files back."
                )
            }
        }
    }
}

/// The outcome of applying a plan: files changed, and files skipped with the reason.
#[derive(Debug, Default)]
pub struct Outcome {
    pub changed: Vec<std::path::PathBuf>,
    pub failed: Vec<FixError>,
    /// Things that went wrong around the change but lost nothing (the slot index).
    pub warnings: Vec<String>,
    /// Files changed, but not quite as asked (undo left out a setuid bit): said to the user.
    pub notes: Vec<FixError>,
}

/// Why `plan` cannot be applied to its home by this user at all (checked before asking):
/// a home that is neither the caller's nor root's to fix, or keyring steps in another user's
/// home.
pub fn refusal(plan: &Plan, journal: &Journal) -> Option<String> {
    let acting = &journal.target().acting;
    if let owner::Acting::Refused(r) = acting {
        return Some(r.clone());
    }
    // The keyring holds the slots, and the undo copy of every secret a changed file held; a
    // change to a file that holds none (a history guard added to a `.bashrc`) needs none.
    let needs_keyring = !plan.tokens.is_empty()
        || plan.files.iter().any(|f| match &f.change {
            Change::Chmod { .. } | Change::Create { .. } | Change::Mkdir { .. } => false,
            Change::Rewrite { original, .. } | Change::Remove { original, .. } => {
                !journal::secret_spans(original, &f.secrets).is_empty()
            }
        });
    needs_keyring.then(|| acting.keyring_refusal()).flatten()
}

/// Applies `plan`: slots first (each value read back and compared, an old value backed up
/// before a rotation replaces it), then the journal entry, then each file — every file
/// operation as the home's owner ([`Target`]) — then the slot index.
pub fn apply(plan: &Plan, keys: &KeyStore, journal: &Journal) -> Result<Outcome, ApplyError> {
    if let Some(r) = refusal(plan, journal) {
        return Err(ApplyError::Refused(r));
    }
    let target = journal.target();
    journal.recover().map_err(ApplyError::Journal)?;
    // 1. A slot that holds another secret than the plan expects is never overwritten: the
    //    plan chose it from the index, and the keyring may have changed since (or the index
    //    been lost). A rotation expects the old value.
    let mut replaced = Vec::new();
    for t in &plan.tokens {
        match (keys.get(&t.name), &t.replaces) {
            (Ok(now), _) if now.expose() == t.secret.expose() => {}
            (Ok(now), Some(r)) if now.fingerprint() == r.fingerprint => replaced.push((t, now)),
            (Ok(existing), _) => {
                return Err(ApplyError::NameTaken {
                    name: t.name.clone(),
                    holds: existing.redacted(),
                })
            }
            (Err(KeyError::NotFound(_)), _) => {}
            (Err(e), _) => return Err(ApplyError::Key(e)),
        }
    }
    let mut created = Vec::new();
    for t in plan
        .tokens
        .iter()
        .filter(|t| !replaced.iter().any(|(r, _)| r.name == t.name))
    {
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
    if matches!(plan.keyring, Keyring::Unavailable(_)) {
        // Redactions without a keyring: said in the plan, nothing to keep the secrets in.
        entry.secrets_kept = false;
        entry.backups.clear();
        drop(entry.backups_needed(plan));
    }
    // Every secret the templates cut out, in one keyring item for the whole fix.
    let saved = entry.backups_needed(plan);
    if !saved.is_empty() {
        let name = format!("bundle-{}", plan.id);
        keys.backup_bundle(&name, &saved).map_err(ApplyError::Key)?;
        entry.bundle = Some(name);
        entry.backups.clear();
        failpoint("backup-stored");
    }
    // A rotation: the old value is backed up and journaled before the slot changes.
    for (t, old) in &replaced {
        keys.backup(old).map_err(ApplyError::Key)?;
        entry.slots_replaced.push(journal::SlotReplaced {
            name: t.name.clone(),
            old: old.fingerprint(),
            new: t.secret.fingerprint(),
        });
    }
    // 2. The journal, before the first file (or replaced slot) changes.
    journal.write(&entry).map_err(ApplyError::Journal)?;
    failpoint("journal-pending");
    for (t, _) in &replaced {
        keys.set(&t.name, &t.secret).map_err(ApplyError::Key)?;
        failpoint("slot-replaced");
    }
    // 3. The files.
    let mut outcome = Outcome::default();
    // What a later change may rely on: the files changed, and folders that were there already.
    let mut ready: Vec<std::path::PathBuf> = Vec::new();
    for (i, fc) in plan.files.iter().enumerate() {
        if let Some(need) = fc.needs.as_ref().filter(|n| !ready.contains(n)) {
            entry.files[i].skipped = true;
            outcome.failed.push(FixError {
                path: fc.path.clone(),
                reason: format!(
                    "left as it was: it relies on {}, which could not be changed",
                    need.display()
                ),
            });
            continue;
        }
        if let Change::Mkdir { .. } = fc.change {
            // Made meanwhile (hfguard's own state folder under ~/.local, another program):
            // nothing to do, and nothing for undo to remove.
            if atomic::mode_of(target, &fc.path).is_ok_and(|m| m.is_some()) && fc.path.is_dir() {
                entry.files[i].skipped = true;
                ready.push(fc.path.clone());
                continue;
            }
        }
        let r = match &fc.change {
            Change::Chmod { from, to } => atomic::chmod(target, &fc.path, *from, *to),
            Change::Rewrite { before, after, .. } => {
                atomic::replace(target, &fc.path, before, after, None)
            }
            Change::Remove { before, .. } => atomic::remove(target, &fc.path, before),
            Change::Create { after, mode } => atomic::create(target, &fc.path, after, *mode),
            Change::Mkdir { mode } => atomic::mkdir(target, &fc.path, *mode),
        };
        match r {
            Ok(()) => {
                outcome.changed.push(fc.path.clone());
                ready.push(fc.path.clone());
            }
            Err(e) => {
                entry.files[i].skipped = true;
                outcome.failed.push(e);
            }
        }
        failpoint("file-changed");
    }
    let did_something = !outcome.changed.is_empty()
        || !replaced.is_empty()
        || !entry.tokens_created.is_empty()
        || plan.files.is_empty();
    entry.state = if did_something {
        journal::State::Applied
    } else {
        journal::State::Failed
    };
    failpoint("files-done");
    if let Err(error) = journal.write(&entry) {
        if outcome.changed.is_empty() {
            return Err(ApplyError::Journal(error));
        }
        return Err(ApplyError::Unrecorded {
            id: entry.id.clone(),
            error,
            outcome: Box::new(outcome),
        });
    }
    failpoint("journal-applied");
    // 4. The slot index learns what each slot holds and serves (names, fingerprints and
    //    consumers only). A failure here loses no secret: say it, the fix stands.
    if entry.state == journal::State::Applied {
        let now = crate::time::now_rfc3339();
        if let Err(e) = journal.update_slots(|index| record(index, plan, &now)) {
            outcome.warnings.push(format!(
                "the list of slots could not be updated ({e}); `hfguard token list` may miss them"
            ));
        }
    }
    Ok(outcome)
}

/// Puts `secret` into slot `name` as a fix of its own (journaled: `undo` puts the old value
/// back, or removes a slot this created): `token set`, and git's `store` through the
/// credential helper. `meta` says what the slot is and serves. Returns the fix id and the
/// value replaced, if any; `None` when the slot held this very value already.
pub fn store_slot(
    home: &crate::home::Home,
    keys: &KeyStore,
    journal: &Journal,
    name: &str,
    secret: &crate::secret::Secret,
    meta: slots::Slot,
) -> Result<Option<(String, Option<Replaced>)>, ApplyError> {
    let replaces = match keys.get(name) {
        Ok(now) if now.expose() == secret.expose() => return Ok(None),
        Ok(now) => Some(Replaced {
            fingerprint: now.fingerprint(),
            redacted: now.redacted(),
        }),
        Err(KeyError::NotFound(_)) => None,
        Err(e) => return Err(ApplyError::Key(e)),
    };
    let mut plan = Plan::new(home.dir.clone());
    plan.tokens.push(TokenToStore {
        name: name.to_string(),
        secret: secret.clone(),
        slot: slots::Slot {
            name: name.to_string(),
            ..meta
        },
        replaces: replaces.clone(),
        held: false,
    });
    apply(&plan, keys, journal)?;
    Ok(Some((plan.id, replaces)))
}

/// Merges a plan's slots into the index.
fn record(index: &mut Vec<slots::Slot>, plan: &Plan, now: &str) {
    for t in &plan.tokens {
        let pos = match index.iter().position(|s| s.name == t.name) {
            Some(i) => i,
            None => {
                index.push(slots::Slot {
                    name: t.name.clone(),
                    ..slots::Slot::default()
                });
                index.len() - 1
            }
        };
        let s = &mut index[pos];
        s.merge(&t.slot);
        s.set_value(&t.secret, now);
    }
}

/// Undoes journal entry `id`: every file back to what it was, byte for byte and mode, a
/// replaced slot value back, the slots it created removed, and the index as it was.
pub fn undo(id: &str, keys: &KeyStore, journal: &Journal) -> Result<Outcome, ApplyError> {
    if let owner::Acting::Refused(r) = &journal.target().acting {
        return Err(ApplyError::Refused(r.clone()));
    }
    journal.recover().map_err(ApplyError::Journal)?;
    let mut entry = journal.load(id).map_err(ApplyError::Journal)?;
    if let Some(why) = &entry.distrust {
        return Err(ApplyError::Refused(format!(
            "not acted on: {why}; hfguard trusts only entries its owner alone can write"
        )));
    }
    if entry.state == journal::State::Undone {
        return Err(ApplyError::Journal(format!("{id} was already undone")));
    }
    let needs_keyring = !entry.tokens_created.is_empty()
        || !entry.backups.is_empty()
        || entry.bundle.is_some()
        || !entry.slots_replaced.is_empty();
    if let Some(r) = needs_keyring
        .then(|| journal.target().acting.keyring_refusal())
        .flatten()
    {
        return Err(ApplyError::Refused(r));
    }
    let mut outcome = Outcome::default();
    let mut left_out = Vec::new();
    // The secrets the templates need: read once (a bundle is one keyring item). Without it,
    // files that need no secret are still put back.
    let saved = journal::Saved::of(&entry, keys);
    let no_keys;
    let saved = match &saved {
        Ok(s) => s,
        Err(e) => {
            no_keys = journal::Saved::none(keys, e.to_string());
            &no_keys
        }
    };
    for rec in entry.files.iter().rev() {
        if rec.skipped {
            continue;
        }
        if !entry.secrets_kept && rec.template.as_ref().is_some_and(|t| !t.holes.is_empty()) {
            outcome.warnings.push(format!(
                "{}: left as it is: its redacted secret was not kept (there was no keyring when it was fixed)",
                crate::term::safe_line(&rec.path.display().to_string())
            ));
            continue;
        }
        match journal::undo_file(rec, saved, journal.target(), &mut left_out) {
            Ok(true) => outcome.changed.push(rec.path.clone()),
            Ok(false) => {}
            Err(e) => outcome.failed.push(e),
        }
        failpoint("file-undone");
    }
    outcome.notes = left_out;
    if !outcome.failed.is_empty() {
        return Ok(outcome);
    }
    // A rotation undone: the old value goes back, unless the slot holds a third one by now
    // (rotated again since: that one stays).
    let mut restored = Vec::new();
    for r in &entry.slots_replaced {
        match keys.get(&r.name) {
            Ok(now) if now.has_fingerprint(&r.new) => {
                let old = keys.get_backup(&r.old).map_err(ApplyError::Key)?;
                keys.set(&r.name, &old).map_err(ApplyError::Key)?;
                restored.push((r.name.clone(), old));
            }
            Ok(_) | Err(KeyError::NotFound(_)) => {}
            Err(e) => return Err(ApplyError::Key(e)),
        }
    }
    // A name this fix created goes again, unless another applied fix's files look it up, or
    // it holds another secret by now (rotated with `token set`, stored by git): deleting it
    // would lose the only copy of that secret.
    let in_use = journal.tokens_in_use(id).map_err(ApplyError::Journal)?;
    let mut deleted = Vec::new();
    for name in &entry.tokens_created {
        if in_use.contains(name) {
            continue;
        }
        match (keys.get(name), entry.tokens_used.get(name)) {
            (Ok(now), Some(stored)) if !now.has_fingerprint(stored) => continue,
            (Ok(_), _) => {
                keys.delete(name).map_err(ApplyError::Key)?;
                deleted.push(name.clone());
            }
            (Err(KeyError::NotFound(_)), _) => deleted.push(name.clone()),
            // Cannot tell what it holds now: it stays.
            (Err(e), _) => return Err(ApplyError::Key(e)),
        }
    }
    entry.state = journal::State::Undone;
    journal.write(&entry).map_err(ApplyError::Journal)?;
    let still_needed = journal.backups_in_use(None).map_err(ApplyError::Journal)?;
    for b in entry
        .backups
        .iter()
        .chain(entry.slots_replaced.iter().map(|r| &r.old))
        .chain(entry.bundle.iter())
    {
        if !still_needed.contains(b) {
            keys.delete_backup(b).map_err(ApplyError::Key)?;
        }
    }
    let now = crate::time::now_rfc3339();
    let r = journal.update_slots(|index| {
        index.retain(|s| !deleted.contains(&s.name));
        for s in index.iter_mut() {
            if let Some(added) = entry.slots_added.iter().find(|a| a.name == s.name) {
                s.identities.retain(|i| {
                    !added.identities.contains(i)
                        || i == slots::HUB_IDENTITY && s.name == slots::HF_DEFAULT
                });
                s.serves.retain(|c| !added.serves.contains(c));
            }
            if let Some((_, old)) = restored.iter().find(|(n, _)| *n == s.name) {
                let new_fp = s.fingerprint.clone();
                s.set_value(old, &now);
                // The value undone is no rotation to remember.
                s.previous
                    .retain(|p| Some(&p.fingerprint) != new_fp.as_ref());
            }
        }
    });
    if let Err(e) = r {
        outcome
            .warnings
            .push(format!("the list of slots could not be updated ({e})"));
    }
    Ok(outcome)
}
