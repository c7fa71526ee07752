//! hfguard's configuration (`$XDG_CONFIG_HOME/hfguard/config.toml` under the audited home, or
//! `--config FILE`): extra roots, skips, limits, and findings the user chose to ignore.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The whole configuration file. Every field has a default, so an empty file is valid.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub scan: ScanConfig,
    /// Findings the user decided to accept, by id, with the reason.
    #[serde(rename = "ignore")]
    pub ignores: Vec<Ignore>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ScanConfig {
    /// Extra roots to walk besides the home (like `--path`).
    pub paths: Vec<PathBuf>,
    /// Folder names never entered (added to the built-in list).
    pub skip_dirs: Vec<String>,
    /// File name endings never read (added to the built-in list of model and media files).
    pub skip_extensions: Vec<String>,
    /// Files met in the walk larger than this are skipped (bytes).
    pub max_file_size: u64,
    /// Walk into other file systems mounted under a root (network mounts are off by default:
    /// the audit sends nothing over the network).
    pub cross_filesystems: bool,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            paths: Vec::new(),
            skip_dirs: Vec::new(),
            skip_extensions: Vec::new(),
            max_file_size: 32 * 1024 * 1024,
            cross_filesystems: false,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    pub id: String,
    pub reason: String,
}

impl Config {
    /// Reads `path`. A missing file is the default configuration only when `required` is
    /// false (the implicit location); a named `--config` must exist.
    pub fn load(path: &Path, required: bool) -> Result<Config, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| format!("{}: invalid configuration: {}", path.display(), e.message())),
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Config::default())
            }
            Err(e) => Err(format!(
                "{}: cannot read configuration: {}",
                path.display(),
                crate::fsread::reason(&e)
            )),
        }
    }

    /// The reason the user gave for ignoring finding `id`, if they did.
    pub fn ignored(&self, id: &str) -> Option<&str> {
        self.ignores
            .iter()
            .find(|i| i.id == id)
            .map(|i| i.reason.as_str())
    }
}
