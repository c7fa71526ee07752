//! The home a fix changes: as whom ([`Acting`]) and which paths may change at all.
//!
//! A path may change when it is below the home (reached component by component without a
//! symlink, see [`crate::confined`]), or when it is a credential *file* outside the home that
//! the environment names (`HF_TOKEN_PATH`, `NETRC`, `KAGGLE_CONFIG_DIR`,
//! `AWS_SHARED_CREDENTIALS_FILE`, `GOOGLE_APPLICATION_CREDENTIALS`, …) — and then only the file,
//! never its folder (a shared `/tmp` or 1777 folder must never be locked), and only when it
//! belongs to the home's owner. Everything else is refused with the reason.

use super::atomic::FixError;
use super::owner::{Acting, AsOwner};
use crate::home::Home;
use std::path::{Path, PathBuf};

/// Where a path sits for a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// Below the home: walked from it without following any link.
    Inside,
    /// A credential file outside the home named by the environment: the file only.
    External,
}

/// The home being fixed.
#[derive(Clone, Debug)]
pub struct Target {
    pub home: PathBuf,
    pub acting: Acting,
    /// Known locations outside the home (named by environment variables).
    externals: Vec<PathBuf>,
    /// What hfguard's state folder is walked from: the home when it lies inside, else the
    /// `$XDG_STATE_HOME` folder itself.
    state_root: PathBuf,
}

impl Target {
    pub fn of(home: &Home) -> Target {
        let mut externals: Vec<PathBuf> = home
            .known_files()
            .into_iter()
            .map(|k| k.path)
            .filter(|p| !p.starts_with(&home.dir))
            .collect();
        externals.sort();
        externals.dedup();
        let state = home.xdg_state();
        let state_root = if state.starts_with(&home.dir) {
            home.dir.clone()
        } else {
            state
        };
        Target {
            home: home.dir.clone(),
            acting: Acting::for_home(&home.dir),
            externals,
            state_root,
        }
    }

    /// Switches this thread to the home's owner for the guard's life, or says why not.
    pub fn act(&self, path: &Path) -> Result<AsOwner, FixError> {
        self.acting.enter().map_err(|reason| FixError {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Where `path` may be changed, or why it may not. `is_dir`: the change is to a folder.
    pub fn place(&self, path: &Path, is_dir: bool) -> Result<Place, FixError> {
        let refuse = |reason: &str| FixError {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        if let Ok(rel) = path.strip_prefix(&self.home) {
            return match crate::confined::plain_components(rel) {
                Ok(_) => Ok(Place::Inside),
                Err(_) => Err(refuse("has `..` in it; hfguard changes only plain paths")),
            };
        }
        if is_dir {
            return Err(refuse(
                "is a folder outside the home; hfguard changes only the credential file itself there, never a folder others may share",
            ));
        }
        if !self.externals.iter().any(|e| e == path) {
            return Err(refuse(
                "is outside the home and not a credential file the environment names; hfguard changes nothing there",
            ));
        }
        Ok(Place::External)
    }

    /// The root hfguard's own state (journal, index) is walked from.
    pub fn state_root(&self) -> &Path {
        &self.state_root
    }

    /// Why a change the planner is about to propose would be refused (`None`: it may go
    /// ahead, subject to the checks when it is applied).
    pub fn refusal(&self, path: &Path, is_dir: bool) -> Option<String> {
        self.place(path, is_dir).err().map(|e| e.reason)
    }
}
