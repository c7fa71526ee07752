//! Where a secret was exposed in a way that fixing the file cannot undo: read from the
//! finding and from the file system as it is now (modes, synced folders, git's index).

use super::gitindex;
use super::Reason;
use crate::finding::{Category, Finding};
use crate::home::Home;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Folders that sync clients keep in step with other machines and other people, by name.
const SYNCED_FOLDERS: [&str; 12] = [
    "Dropbox",
    "OneDrive",
    "Google Drive",
    "GoogleDrive",
    "My Drive",
    "Nextcloud",
    "ownCloud",
    "pCloudDrive",
    "MEGA",
    "iCloud Drive",
    "Box",
    "Seafile",
];

/// Files a sync client leaves at the root of what it syncs.
const SYNC_MARKERS: [&str; 4] = [".stfolder", ".dropbox", ".owncloudsync.log", ".sync"];

/// Looks at where findings are, once per repository and folder.
pub struct Evidence<'a> {
    home: &'a Home,
    /// The user the home belongs to: a file someone else owns is readable by them.
    home_owner: Option<u32>,
    /// Index file → the paths it tracks (`None`: unreadable).
    indexes: HashMap<PathBuf, Option<HashSet<Vec<u8>>>>,
    /// What each file's place says, looked at once however many secrets it holds.
    places: HashMap<PathBuf, BTreeSet<Reason>>,
}

impl<'a> Evidence<'a> {
    pub fn new(home: &'a Home) -> Self {
        Evidence {
            home,
            home_owner: std::fs::metadata(&home.dir).ok().map(|m| m.uid()),
            indexes: HashMap::new(),
            places: HashMap::new(),
        }
    }

    /// Why the secret of `f` must be rotated, from its place alone.
    pub fn of(&mut self, f: &Finding) -> BTreeSet<Reason> {
        let mut reasons = BTreeSet::new();
        if f.category == Category::History {
            reasons.insert(Reason::InHistory);
        }
        if f.rule.ends_with("-in-process-cmdline") {
            reasons.insert(Reason::InProcessList);
        }
        if let Some(path) = &f.path {
            reasons.extend(self.of_place(path));
        }
        reasons
    }

    /// Why any secret in the file at `path` must be rotated.
    fn of_place(&mut self, path: &Path) -> BTreeSet<Reason> {
        if let Some(known) = self.places.get(path) {
            return known.clone();
        }
        let mut reasons = BTreeSet::new();
        if readable_by_others(path, self.home_owner) {
            reasons.insert(Reason::ReadableByOthers);
        }
        if self.synced(path) {
            reasons.insert(Reason::SyncedFolder);
        }
        if self.git_tracked(path) {
            reasons.insert(Reason::GitTracked);
        }
        self.places.insert(path.to_path_buf(), reasons.clone());
        reasons
    }

    /// The folder a walk up from `path` stops at: the home for files in it, else the root.
    fn stop_for(&self, path: &Path) -> PathBuf {
        if path.starts_with(&self.home.dir) {
            self.home.dir.clone()
        } else {
            PathBuf::from("/")
        }
    }

    fn synced(&self, path: &Path) -> bool {
        let stop = self.stop_for(path);
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d.file_name()
                .is_some_and(|n| SYNCED_FOLDERS.iter().any(|s| n.as_bytes() == s.as_bytes()))
                || SYNC_MARKERS
                    .iter()
                    .any(|m| std::fs::symlink_metadata(d.join(m)).is_ok())
            {
                return true;
            }
            if d == stop {
                break;
            }
            dir = d.parent();
        }
        // macOS File Provider folders (iCloud, Google Drive, OneDrive, Dropbox).
        path.starts_with(self.home.dir.join("Library/CloudStorage"))
    }

    fn git_tracked(&mut self, path: &Path) -> bool {
        let Some(parent) = path.parent() else {
            return false;
        };
        // A repository's own files (`.git/config` with a remote URL) are not in its index.
        if path.components().any(|c| c.as_os_str() == ".git") {
            return false;
        }
        let stop = self.stop_for(path);
        let Some((worktree, index)) = gitindex::repository_of(parent, &stop) else {
            return false;
        };
        let Ok(rel) = path.strip_prefix(&worktree) else {
            return false;
        };
        let paths = self.indexes.entry(index.clone()).or_insert_with(|| {
            let mut buf = Vec::new();
            match crate::fsread::read_regular(&index, 256 << 20, &mut buf) {
                Ok(crate::fsread::ReadOutcome::Read {
                    truncated: false, ..
                }) => gitindex::tracked(&buf),
                _ => None,
            }
        });
        paths
            .as_ref()
            .is_some_and(|p| p.contains(rel.as_os_str().as_bytes()))
    }
}

/// Whether someone other than the home's owner can read `path` now: another user owns it,
/// or it is group- or world-readable (as the permission checks count it) and every folder
/// above it lets that group or the world through.
fn readable_by_others(path: &Path, home_owner: Option<u32>) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    if home_owner.is_some_and(|o| o != meta.uid()) {
        return true;
    }
    let mode = meta.permissions().mode();
    // (read bit, the matching search bit on folders) for group and for others.
    [(0o040, 0o010), (0o004, 0o001)]
        .iter()
        .any(|&(read, search)| {
            mode & read != 0
                && path.ancestors().skip(1).all(|d| {
                    d.as_os_str().is_empty()
                        || std::fs::metadata(d).is_ok_and(|m| m.permissions().mode() & search != 0)
                })
        })
}
