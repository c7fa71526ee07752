//! A fix as a value: the changes to files and keyring slots that [`super::plan`] computes,
//! [`super::preview`] shows, [`super::apply`] makes and the journal records. Nothing here
//! touches the disk or the keyring.

use super::atomic::{self, Snapshot};
use crate::secret::Secret;
use crate::slots::Slot;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// A value the plan writes into a keyring slot.
#[derive(Debug)]
pub struct TokenToStore {
    /// The slot's name (the keyring entry).
    pub name: String,
    pub secret: Secret,
    /// What the slot is and serves, merged into the slot index when applied.
    pub slot: Slot,
    /// The slot holds another value now, which this one replaces (a rotation: a re-login, a
    /// new token pasted where the old one was). The old value is kept as a journal backup, so
    /// `undo` brings it back.
    pub replaces: Option<Replaced>,
    /// The index says the slot holds this very value already: only its consumers change.
    pub held: bool,
}

/// The value a rotation replaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replaced {
    pub fingerprint: String,
    pub redacted: String,
}

/// One change to one file or folder.
pub enum Change {
    Chmod {
        from: u32,
        to: u32,
    },
    /// `original` holds secrets: never printed, never journaled as is.
    Rewrite {
        before: Snapshot,
        original: Zeroizing<Vec<u8>>,
        after: Vec<u8>,
    },
    Remove {
        before: Snapshot,
        original: Zeroizing<Vec<u8>>,
    },
    Create {
        after: Vec<u8>,
        mode: u32,
    },
    /// A folder a created file needs (`~/.local/bin` for the installed copy of hfguard).
    Mkdir {
        mode: u32,
    },
}

pub struct FileChange {
    pub path: PathBuf,
    pub change: Change,
    /// The findings this change fixes.
    pub findings: Vec<String>,
    /// Applied only when the change to this file was: a credential line goes only once
    /// git's config sends git to the keyring for it.
    pub needs: Option<PathBuf>,
    /// Spans of the original that hold a secret the audit found by where it is rather than by
    /// its shape (a token file's single word): cut from the journal and the preview like
    /// every secret the rules know.
    pub secrets: Vec<(usize, usize)>,
}

/// Whether the plan's keyring steps can run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Keyring {
    /// No step of this plan needs the keyring.
    #[default]
    NotNeeded,
    Available,
    /// No Secret Service answered: the keyring steps were left out (refused with the
    /// reason), everything else is planned.
    Unavailable(String),
}

/// Everything a fix run would do.
pub struct Plan {
    /// The journal id of this fix (`fix-…`).
    pub id: String,
    pub home: PathBuf,
    pub files: Vec<FileChange>,
    pub tokens: Vec<TokenToStore>,
    /// Finding ids this plan fixes.
    pub findings: Vec<String>,
    /// What changes for the user (how to keep using a token, open shells), most important
    /// first.
    pub notes: Vec<String>,
    /// Findings that cannot be fixed as asked, with the reason.
    pub refused: Vec<(String, String)>,
    /// Where each chosen finding is, for people (`~/.bashrc:2`), by id.
    pub places: std::collections::BTreeMap<String, String>,
    pub keyring: Keyring,
}

/// The folders below `home` that a new file at `path` needs (`~/.local`, `~/.local/bin`), as
/// changes, outermost first, each waiting for the one above it; undo removes them again.
/// The innermost one, for the file's own `needs`, is the last.
pub fn folders_for(home: &std::path::Path, path: &std::path::Path) -> Vec<FileChange> {
    let mut missing: Vec<PathBuf> = path
        .ancestors()
        .skip(1)
        .take_while(|d| d.starts_with(home) && *d != home)
        .filter(|d| std::fs::symlink_metadata(d).is_err())
        .map(PathBuf::from)
        .collect();
    missing.reverse();
    let mut needs = None;
    missing
        .into_iter()
        .map(|dir| {
            let fc = FileChange {
                path: dir.clone(),
                change: Change::Mkdir { mode: 0o755 },
                findings: Vec::new(),
                needs: needs.take(),
                secrets: Vec::new(),
            };
            needs = Some(dir);
            fc
        })
        .collect()
}

impl Plan {
    pub fn new(home: PathBuf) -> Plan {
        Plan {
            id: new_id(),
            home,
            files: Vec::new(),
            tokens: Vec::new(),
            findings: Vec::new(),
            notes: Vec::new(),
            refused: Vec::new(),
            places: Default::default(),
            keyring: Keyring::NotNeeded,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.tokens.is_empty()
    }

    /// The number of changes the user is asked to confirm.
    pub fn change_count(&self) -> usize {
        self.files.len() + self.tokens.len()
    }
}

/// `fix-YYYYMMDD-HHMMSS-mmmmmm-xxxx`: sortable to the microsecond (two fixes in one second
/// undo in the right order), unique enough for one user's fixes.
pub fn new_id() -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let digits: String = crate::time::rfc3339(since.as_secs() as i64)
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
