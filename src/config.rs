//! hfguard's configuration (`$XDG_CONFIG_HOME/hfguard/config.toml` under the audited home, or
//! `--config FILE`): extra roots, skips, limits, and findings the user chose to ignore.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The largest configuration file hfguard reads: far more than anyone writes by hand.
const CONFIG_LIMIT: u64 = 1 << 20;

/// The most `max_file_size` can ask for: larger files are never read, whatever the
/// configuration says (reading is chunked, so this bounds time, not memory).
pub const MAX_FILE_SIZE_CEILING: u64 = 1 << 30;

/// The whole configuration file. Every field has a default, so an empty file is valid.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub scan: ScanConfig,
    /// Opt-in verification of secrets with their providers (`scan --verify`).
    pub verify: VerifyConfig,
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
    /// Files met in the walk larger than this are skipped (bytes; at most 1 GiB, see
    /// [`Config::max_file_size`]).
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

/// `[verify]`: whether `hfguard scan` asks each secret's provider whether it is live and what
/// it can do (docs/tokens.md). Off unless the user turns it on; `--no-verify` overrides.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VerifyConfig {
    pub enabled: bool,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    pub id: String,
    pub reason: String,
}

impl Config {
    /// Reads `path`. A missing file is the default configuration only when `required` is
    /// false (the implicit location); a named `--config` must exist. The file is opened the
    /// way hfguard opens its own files ([`crate::fsread::read_own`]): a FIFO or a huge file
    /// there is an error, never a hang.
    pub fn load(path: &Path, required: bool) -> Result<Config, String> {
        let shown = crate::redact::show_path(path);
        match crate::fsread::read_own(path, CONFIG_LIMIT) {
            Ok(Some(bytes)) => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| format!("{shown}: invalid configuration: not UTF-8 text"))?;
                toml::from_str(&text)
                    .map_err(|e| format!("{shown}: invalid configuration: {}", e.message()))
            }
            Ok(None) if !required => Ok(Config::default()),
            Ok(None) => Err(format!("{shown}: cannot read configuration: no such file")),
            Err(e) => Err(format!(
                "{shown}: cannot read configuration: {}",
                crate::fsread::reason(&e)
            )),
        }
    }

    /// The largest file the walk reads: `max_file_size`, at most [`MAX_FILE_SIZE_CEILING`].
    pub fn max_file_size(&self) -> u64 {
        self.scan.max_file_size.min(MAX_FILE_SIZE_CEILING)
    }

    /// The reason the user gave for ignoring finding `id`, if they did.
    pub fn ignored(&self, id: &str) -> Option<&str> {
        self.ignores
            .iter()
            .find(|i| i.id == id)
            .map(|i| i.reason.as_str())
    }
}

/// Ids of `[[ignore]]` entries written before ids were keyed, as this process's audits
/// matched them: finding id → the old id its entry names.
static LEGACY_IDS: std::sync::Mutex<std::collections::BTreeMap<String, String>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// Notes that the `[[ignore]]` entry for finding `id` names it by its old id `legacy`: when
/// hfguard next writes that entry (un-ignoring, or a new reason), the old one goes with it.
pub fn remember_legacy_id(id: &str, legacy: &str) {
    LEGACY_IDS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id.to_string(), legacy.to_string());
}

/// Adds (`reason` given) or removes the `[[ignore]]` entry for finding `id` in the config
/// file at `path`, keeping the rest of the file as the user wrote it. An entry naming the
/// finding by its id from before keyed ids is replaced (migrated) too.
pub fn set_ignore(path: &Path, id: &str, reason: Option<&str>) -> Result<(), String> {
    let legacy = LEGACY_IDS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(id)
        .cloned();
    let shown = crate::redact::show_path(path);
    let text = match crate::fsread::read_own(path, CONFIG_LIMIT) {
        Ok(Some(b)) => String::from_utf8(b).map_err(|_| format!("{shown}: not UTF-8 text"))?,
        Ok(None) => String::new(),
        Err(e) => return Err(format!("{shown}: {}", crate::fsread::reason(&e))),
    };
    // Entries hfguard writes are one block each: drop the block of this id (and of its old
    // id) if present.
    let marker = format!("id = {}", toml_string(id));
    let markers: Vec<String> = std::iter::once(marker.clone())
        .chain(legacy.iter().map(|l| format!("id = {}", toml_string(l))))
        .collect();
    let mut kept: Vec<&str> = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(l) = lines.next() {
        if l.trim() == "[[ignore]]"
            && lines
                .peek()
                .is_some_and(|n| markers.iter().any(|m| n.trim() == m))
        {
            lines.next();
            while lines
                .peek()
                .is_some_and(|n| n.trim_start().starts_with("reason"))
            {
                lines.next();
            }
            continue;
        }
        kept.push(l);
    }
    let mut out = kept.join("\n");
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    if let Some(r) = reason {
        out.push_str(&format!(
            "\n[[ignore]]\n{marker}\nreason = {}\n",
            toml_string(r)
        ));
    }
    // It must still be a valid configuration.
    toml::from_str::<Config>(&out).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("{}: {}", dir.display(), crate::fsread::reason(&e)))?;
    }
    crate::fix::atomic::write_new(path, out.as_bytes(), 0o600).map_err(|e| e.to_string())
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_entries_are_added_and_removed_keeping_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(&p, "# mine\n[scan]\nskip_dirs = [\"data\"]\n").unwrap();
        set_ignore(&p, "hfg-1", Some("lab \"box\"")).unwrap();
        let c = Config::load(&p, true).unwrap();
        assert_eq!(c.ignored("hfg-1"), Some("lab \"box\""));
        assert_eq!(c.scan.skip_dirs, vec!["data"]);
        set_ignore(&p, "hfg-1", None).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("# mine\n"));
        assert_eq!(Config::load(&p, true).unwrap().ignored("hfg-1"), None);
    }
}
