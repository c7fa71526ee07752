//! Credential slots: the model every fix, `token`, `exec`, the git helper, the dashboard and
//! the reports share.
//!
//! A *slot* is one credential kept in the OS keyring under a name (`huggingface`,
//! `huggingface-work`, `git-huggingface.co-alice`, `openai`), together with what identifies
//! the credential (so a new plaintext copy of it is recognised as *the same credential*, and
//! a new value for it is a rotation, not a second slot), what it serves (shell lookups, git
//! hosts, `exec`), and the values it held before (rotation history, never the values
//! themselves).
//!
//! The keyring holds the values; this index (`$XDG_STATE_HOME/hfguard/tokens.json`, 0600)
//! holds only names, fingerprints, redacted forms and consumers, so listing slots never needs
//! the keyring. Indexes written by earlier versions (bare names, or name + fingerprint) read
//! as slots with nothing else known.

use crate::finding::{Category, Finding};
use crate::home::Home;
use crate::kind::FileKind;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The slot huggingface_hub's token lives in after a fix: what `token get`, `exec` and every
/// lookup use by default.
pub const HF_DEFAULT: &str = "huggingface";

/// Something that gets its credential from a slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Consumer {
    /// A start-up file that looks the slot up into `variable`.
    Shell { path: PathBuf, variable: String },
    /// git's credential helper for `base` (`https://huggingface.co`), configured in `config`
    /// (a global config, or one repository's `.git/config`).
    Git {
        base: String,
        user: Option<String>,
        config: PathBuf,
    },
    /// A file that no longer holds the secret and whose programs should use `hfguard exec`
    /// (a token file, `.env`, `.netrc`).
    Exec { path: PathBuf },
}

/// A value the slot held before it was replaced (rotation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Previous {
    pub fingerprint: String,
    /// Prefix and last four characters, for "revoke hf_…AbCd".
    pub redacted: String,
    pub replaced_at: String,
    /// When the old value was confirmed revoked (a verification answered 401, or the user
    /// said so); until then the old secret's rotation is `pending-revoke`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// One credential in the keyring.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub name: String,
    /// Fingerprint of the value it holds now (`None`: not known, from an older index).
    #[serde(default)]
    pub fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// What a person calls it: a `stored_tokens` display name (`work`), `alice@huggingface.co`,
    /// a variable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// What the credential is, independent of its value: `hf:active`, `hf:stored:work`,
    /// `git:https://huggingface.co:alice`, `env:OPENAI_API_KEY`, `netrc:host:login`. A new
    /// plaintext value found for one of these replaces this slot's value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serves: Vec<Consumer>,
    /// When the value was stored (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous: Vec<Previous>,
}

/// One entry of the index file as written by any version.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum Stored {
    Slot(Slot),
    Bare(String),
}

/// Where the index lives for `home`.
/// The largest index hfguard reads (opened as [`crate::fsread::read_own`] opens hfguard's
/// own files: never blocking on a FIFO, only a regular file).
pub const INDEX_LIMIT: u64 = 16 << 20;

pub fn index_path(home: &Home) -> PathBuf {
    home.xdg_state().join("hfguard/tokens.json")
}

/// Every slot in the index, by name. A missing or unreadable index is an empty list: the
/// keyring itself still holds the values.
pub fn load(home: &Home) -> Vec<Slot> {
    let Ok(Some(body)) = crate::fsread::read_own(&index_path(home), INDEX_LIMIT) else {
        return Vec::new();
    };
    let Ok(entries) = serde_json::from_slice::<Vec<Stored>>(&body) else {
        return Vec::new();
    };
    let mut slots: Vec<Slot> = entries
        .into_iter()
        .map(|e| match e {
            Stored::Slot(s) => s,
            Stored::Bare(name) => Slot {
                name,
                ..Slot::default()
            },
        })
        .collect();
    slots.sort_by(|a, b| a.name.cmp(&b.name));
    slots.dedup_by(|a, b| a.name == b.name);
    slots
}

/// The slot holding the secret with `fingerprint` now, if any.
pub fn holding<'a>(slots: &'a [Slot], fingerprint: &str) -> Option<&'a Slot> {
    slots
        .iter()
        .find(|s| s.fingerprint.as_deref() == Some(fingerprint))
}

/// Where huggingface_hub would take its token from, of the plaintext places the audit found:
/// the fingerprint of that secret, and the place, for "this is the token huggingface_hub
/// uses". huggingface_hub's precedence: `HF_TOKEN` (exported by a start-up file, as a new
/// login shell sees it, else in this environment), then the legacy `HUGGING_FACE_HUB_TOKEN`,
/// then the token file (`$HF_TOKEN_PATH`, else `$HF_HOME/token`, else the XDG/default one).
pub fn hub_token(home: &Home, findings: &[Finding]) -> Option<(String, String)> {
    let with_fp = |f: &&Finding| f.fingerprint.is_some() && f.ignored.is_none();
    for var in ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"] {
        for category in [Category::Dotfile, Category::Environment] {
            if let Some(f) = findings.iter().filter(with_fp).find(|f| {
                f.category == category
                    && f.variable.as_deref() == Some(var)
                    && (category == Category::Environment
                        || FileKind::from_rule(&f.rule) == Some(FileKind::StartupFile))
            }) {
                let place = match &f.path {
                    Some(p) => format!("{var} in {}", crate::report::display_path(&home.dir, p)),
                    None => format!("{var} in the environment"),
                };
                return Some((f.fingerprint.clone()?, place));
            }
        }
    }
    let token_file = home.hf_token_path();
    findings
        .iter()
        .filter(with_fp)
        .find(|f| {
            f.path.as_deref() == Some(token_file.as_path())
                && FileKind::from_rule(&f.rule) == Some(FileKind::HfTokenFile)
        })
        .and_then(|f| {
            Some((
                f.fingerprint.clone()?,
                crate::report::display_path(&home.dir, &token_file),
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_indexes_read_as_slots() {
        let body = r#"["huggingface", {"name": "openai", "fingerprint": "ab"},
            {"name": "huggingface-work", "fingerprint": "cd", "label": "work",
             "identities": ["hf:stored:work"],
             "serves": [{"kind": "shell", "path": "/h/.bashrc", "variable": "HF_TOKEN"}]}]"#;
        let entries: Vec<Stored> = serde_json::from_str(body).unwrap();
        assert_eq!(entries.len(), 3);
        match &entries[2] {
            Stored::Slot(s) => {
                assert_eq!(s.label.as_deref(), Some("work"));
                assert_eq!(s.serves.len(), 1);
            }
            Stored::Bare(_) => panic!("a full slot read as a bare name"),
        }
        assert!(matches!(&entries[0], Stored::Bare(n) if n == "huggingface"));
    }
}
