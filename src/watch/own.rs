//! hfguard's own changes, told apart from regressions through the journal: a fix (by this
//! process or any other hfguard: the dashboard, `hfguard fix`) shows up as findings going away
//! at paths an entry changed; an undo as findings coming back where an undone entry put the
//! files back as they were. Only entries written in the last ten minutes are read.

use crate::fix::journal::{Op, State};
use crate::fix::{Journal, JournalEntry};
use crate::home::Home;
use crate::report::display_path;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// How far back journal entries count as the cause of what the watcher sees.
const RECENT: Duration = Duration::from_secs(600);
/// How long a change that looks like an undo may wait for the undo to finish (it writes its
/// journal entry last, after the files and the keyring).
const UNDO_SETTLES: Duration = Duration::from_secs(3);

pub struct Own {
    journal: Journal,
    home: PathBuf,
    /// When the burst before the current one began: an undo is the cause of what comes back
    /// only when its entry was written after that (a later manual change is a regression).
    since: SystemTime,
}

/// Why a finding came back.
pub struct Undone {
    pub fix_id: String,
    /// "~/.profile back to 0666".
    pub detail: String,
}

impl Own {
    pub fn new(home: &Home) -> Own {
        Own {
            journal: Journal::new(home),
            home: home.dir.clone(),
            since: SystemTime::now(),
        }
    }

    /// A burst of changes that began at `at` has been looked at.
    pub fn looked(&mut self, at: SystemTime) {
        self.since = at;
    }

    /// Entries written since `after` (and in the last ten minutes), newest first.
    fn recent(&self, after: SystemTime) -> Vec<JournalEntry> {
        let Ok(rd) = std::fs::read_dir(self.journal.dir()) else {
            return Vec::new();
        };
        let now = SystemTime::now();
        let mut ids: Vec<String> = rd
            .flatten()
            .filter(|e| {
                e.metadata().and_then(|m| m.modified()).is_ok_and(|t| {
                    now.duration_since(t).unwrap_or_default() <= RECENT && t >= after
                })
            })
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".json")
                    .filter(|n| n.starts_with("fix-"))
                    .map(str::to_string)
            })
            .collect();
        ids.sort();
        ids.reverse();
        ids.iter()
            .filter_map(|id| self.journal.load(id).ok())
            .collect()
    }

    /// The fix that took findings at `path` away, if hfguard made one there.
    pub fn fixed_by(&self, path: &Path) -> Option<String> {
        self.recent(self.since - Duration::from_secs(1))
            .into_iter()
            .find(|e| {
                matches!(e.state, State::Pending | State::Applied)
                    && e.files.iter().any(|r| r.path == path && !r.skipped)
            })
            .map(|e| e.id)
    }

    /// The undo that brought findings at `path` back, if hfguard made one. An entry that is
    /// still `applied` while the file already looks as it did before the fix may be an undo
    /// under way: it is given a few seconds to say so.
    pub fn undone_by(&self, path: &Path) -> Option<Undone> {
        let deadline = Instant::now() + UNDO_SETTLES;
        // Written while this burst was under way (a second of slack for coarse clocks).
        let after = self.since - Duration::from_secs(1);
        loop {
            let entries = self.recent(after);
            let touching = |e: &&JournalEntry| e.files.iter().any(|r| r.path == path && !r.skipped);
            if let Some(e) = entries
                .iter()
                .filter(touching)
                .find(|e| e.state == State::Undone)
            {
                return Some(Undone {
                    fix_id: e.id.clone(),
                    detail: self.detail(e, path),
                });
            }
            let under_way = entries
                .iter()
                .filter(touching)
                .any(|e| e.state == State::Applied && looks_as_before(e, path));
            if !under_way || Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn detail(&self, e: &JournalEntry, path: &Path) -> String {
        let shown = display_path(&self.home, path);
        match e.files.iter().find(|r| r.path == path).map(|r| &r.op) {
            Some(Op::Chmod { from, .. }) => format!("{shown} back to {from:04o}"),
            Some(Op::Create) => format!("{shown} removed again"),
            _ => format!("{shown} restored"),
        }
    }
}

/// Whether `path` is as entry `e` found it before fixing (its mode, or its size).
fn looks_as_before(e: &JournalEntry, path: &Path) -> bool {
    let Some(r) = e.files.iter().find(|r| r.path == path) else {
        return false;
    };
    let now = std::fs::symlink_metadata(path).ok();
    match (&r.op, &r.before, now) {
        (Op::Chmod { from, .. }, _, Some(m)) => m.permissions().mode() & 0o7777 == *from,
        (Op::Create, _, now) => now.is_none(),
        (_, Some(before), Some(m)) => m.len() == before.len,
        _ => false,
    }
}
