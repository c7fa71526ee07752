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
use crate::secret::Secret;
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
    Shell {
        #[serde(with = "crate::raw_path")]
        path: PathBuf,
        variable: String,
    },
    /// git's credential helper for `base` (`https://huggingface.co`), configured in `config`
    /// (a global config, or one repository's `.git/config`).
    Git {
        base: String,
        user: Option<String>,
        #[serde(with = "crate::raw_path")]
        config: PathBuf,
    },
    /// A file that no longer holds the secret and whose programs should use `hfguard exec`
    /// (a token file, `.env`, `.netrc`).
    Exec {
        #[serde(with = "crate::raw_path")]
        path: PathBuf,
    },
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

/// The identity of the token huggingface_hub uses (see [`hub_token`]).
pub const HUB_IDENTITY: &str = "hf:active";

/// Every slot in the index, by name. A missing or unreadable index is an empty list: the
/// keyring itself still holds the values.
pub fn load(home: &Home) -> Vec<Slot> {
    load_at(&index_path(home))
}

/// [`load`] from the index at `path`.
pub fn load_at(path: &std::path::Path) -> Vec<Slot> {
    let Ok(Some(body)) = crate::fsread::read_own(path, INDEX_LIMIT) else {
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
    // Indexes from before identities: the default name always held huggingface_hub's token.
    for s in &mut slots {
        if s.name == HF_DEFAULT && s.identities.is_empty() {
            s.identities.push(HUB_IDENTITY.into());
            s.provider.get_or_insert_with(|| "huggingface".into());
        }
    }
    slots
}

/// Writes the index (0600, in hfguard's private state folder).
pub fn save(home: &Home, slots: &[Slot]) -> Result<(), String> {
    save_at(&home.dir, &index_path(home), slots)
}

/// Writes the index at `path`, its folder created and opened from `root` (the home, or
/// the state folder outside it) without following a link.
fn save_at(root: &std::path::Path, path: &std::path::Path, slots: &[Slot]) -> Result<(), String> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(format!("{}: not a file path", path.display()));
    };
    let dir = crate::fix::atomic::create_private_dir(root, dir).map_err(|e| e.to_string())?;
    let body = serde_json::to_vec_pretty(slots).expect("slots serialize");
    crate::fix::atomic::write_new_in(path, std::os::fd::AsFd::as_fd(&dir), name, &body, 0o600)
        .map_err(|e| e.to_string())
}

/// Changes the index with `f` and writes it back.
pub fn update(home: &Home, f: impl FnOnce(&mut Vec<Slot>)) -> Result<(), String> {
    update_at(&home.dir, &index_path(home), f)
}

/// [`update`] of the index at `path`, below `root` (see [`save_at`]).
pub fn update_at(
    root: &std::path::Path,
    path: &std::path::Path,
    f: impl FnOnce(&mut Vec<Slot>),
) -> Result<(), String> {
    let mut slots = load_at(path);
    f(&mut slots);
    slots.sort_by(|a, b| a.name.cmp(&b.name));
    save_at(root, path, &slots)
}

impl Slot {
    /// Records that the slot now holds `secret`; a different value it held before becomes
    /// a [`Previous`] (a rotation).
    pub fn set_value(&mut self, secret: &Secret, at: &str) {
        let fp = secret.fingerprint();
        // A fingerprint stored before keyed fingerprints names the same value: not a
        // rotation; it is rewritten in the keyed form.
        if self
            .fingerprint
            .as_deref()
            .is_some_and(|f| secret.has_fingerprint(f))
        {
            self.fingerprint = Some(fp);
            return;
        }
        if let Some(old) = self.fingerprint.take() {
            let red = self.redacted.take().unwrap_or_else(|| "…".into());
            self.previous.retain(|p| p.fingerprint != old);
            self.previous.push(Previous {
                fingerprint: old,
                redacted: red,
                replaced_at: at.to_string(),
                revoked_at: None,
            });
        }
        self.previous.retain(|p| p.fingerprint != fp);
        self.fingerprint = Some(fp);
        self.redacted = Some(secret.redacted());
        self.updated_at = Some(at.to_string());
    }

    /// Adds what `other` says the slot is and serves (provider, label, identities, consumers).
    pub fn merge(&mut self, other: &Slot) {
        if self.provider.is_none() {
            self.provider.clone_from(&other.provider);
        }
        if self.label.is_none() {
            self.label.clone_from(&other.label);
        }
        for i in &other.identities {
            if !self.identities.contains(i) {
                self.identities.push(i.clone());
            }
        }
        for c in &other.serves {
            if !self.serves.contains(c) {
                self.serves.push(c.clone());
            }
        }
    }

    /// The variables `exec` sets from this slot: what the provider's clients read.
    pub fn variables(&self) -> Vec<String> {
        variables_for(
            self.provider
                .as_deref()
                .unwrap_or_else(|| self.name.split('-').next().unwrap_or(&self.name)),
        )
    }
}

/// The environment variables a provider's clients read its key from, the primary first
/// (huggingface_hub reads `HF_TOKEN`; releases before 0.20 read only
/// `HUGGING_FACE_HUB_TOKEN`).
pub fn variables_for(provider: &str) -> Vec<String> {
    let v: &[&str] = match provider {
        "huggingface" => &["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"],
        "openai" => &["OPENAI_API_KEY"],
        "anthropic" => &["ANTHROPIC_API_KEY"],
        "wandb" => &["WANDB_API_KEY"],
        "replicate" => &["REPLICATE_API_TOKEN"],
        "groq" => &["GROQ_API_KEY"],
        "github" => &["GITHUB_TOKEN", "GH_TOKEN"],
        "kaggle" => &["KAGGLE_KEY"],
        "langsmith" => &["LANGSMITH_API_KEY"],
        _ => &[],
    };
    if v.is_empty() {
        vec![format!(
            "{}_TOKEN",
            provider.to_ascii_uppercase().replace(['-', '.'], "_")
        )]
    } else {
        v.iter().map(|s| s.to_string()).collect()
    }
}

/// What a fix asks of the slot it stores a secret in.
#[derive(Clone, Debug, Default)]
pub struct Want {
    pub provider: Option<String>,
    /// What the credential is, independent of its value (see [`Slot::identities`]).
    pub identity: String,
    /// A name for people (and the slot's name suffix): a display name, `user@host`, a file.
    pub label: Option<String>,
    /// The token huggingface_hub uses: it gets [`HF_DEFAULT`].
    pub hub: bool,
    pub serves: Option<Consumer>,
}

/// A slot as a plan will write it.
#[derive(Clone, Debug)]
pub struct Assigned {
    pub name: String,
    pub secret: Secret,
    pub slot: Slot,
    /// The value the slot holds now and this one replaces (fingerprint, redacted).
    pub replaces: Option<(String, String)>,
    /// The slot holds this very value already.
    pub held: bool,
}

/// Gives each secret of a plan its slot: the slot that already holds it, else the slot whose
/// identity it has (a rotation: the value is replaced), else a new one named after its
/// provider and label.
#[derive(Clone)]
pub struct Allocator {
    existing: Vec<Slot>,
    planned: Vec<Assigned>,
    /// Fingerprints of secrets that places still use (the other places this plan fixes): a
    /// slot holding one of them is not rotated away.
    in_use: Vec<String>,
    /// Old values being rotated out (fingerprint → slot): a place that still holds one is
    /// rewired to the slot, which holds the new value.
    aliases: Vec<(String, String)>,
}

/// A slot name part: lowercase letters, digits and single dashes.
fn name_part(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    out.chars().take(40).collect::<String>()
}

impl Allocator {
    pub fn new(existing: Vec<Slot>) -> Self {
        Allocator {
            existing,
            planned: Vec::new(),
            in_use: Vec::new(),
            aliases: Vec::new(),
        }
    }

    /// Plans slot `name` to hold `new` instead of its value now (`old`, fingerprint and
    /// redacted form): `hfguard rotate`. Places that still hold the old value go to the slot.
    pub fn rotate(&mut self, name: &str, new: &Secret, old: (String, String)) {
        let meta = self
            .existing
            .iter()
            .find(|s| s.name == name)
            .cloned()
            .unwrap_or_else(|| Slot {
                name: name.to_string(),
                ..Slot::default()
            });
        self.aliases.push((old.0.clone(), name.to_string()));
        self.planned.push(Assigned {
            name: name.to_string(),
            secret: new.clone(),
            slot: Slot {
                previous: Vec::new(),
                ..meta
            },
            replaces: Some(old),
            held: false,
        });
    }

    /// Secrets still used where they are (a start-up file that keeps exporting the old
    /// token): a slot holding one of them keeps it, and a new value gets a slot of its own.
    pub fn still_used(&mut self, fingerprints: impl IntoIterator<Item = String>) {
        self.in_use.extend(fingerprints);
    }

    fn taken(&self, name: &str) -> bool {
        self.existing.iter().any(|s| s.name == name) || self.planned.iter().any(|a| a.name == name)
    }

    /// The slot name `secret` goes to.
    pub fn assign(&mut self, want: &Want, secret: &Secret) -> String {
        let fp = secret.fingerprint();
        let meta = Slot {
            provider: want.provider.clone(),
            label: want.label.clone(),
            identities: [want.identity.clone()]
                .into_iter()
                .chain(want.hub.then(|| HUB_IDENTITY.to_string()))
                .filter(|i| !i.is_empty())
                .collect(),
            serves: want.serves.clone().into_iter().collect(),
            ..Slot::default()
        };
        // 0. An old value being rotated out: its place now looks up the slot.
        if let Some((_, name)) = self.aliases.iter().find(|(f, _)| *f == fp) {
            let name = name.clone();
            if let Some(a) = self.planned.iter_mut().find(|a| a.name == name) {
                a.slot.merge(&meta);
            }
            return name;
        }
        // 1. Already planned, or already in the keyring: the same secret, the same slot.
        if let Some(a) = self
            .planned
            .iter_mut()
            .find(|a| a.secret.expose() == secret.expose())
        {
            a.slot.merge(&meta);
            return a.name.clone();
        }
        let replaced_here = |name: &str, planned: &[Assigned]| {
            planned
                .iter()
                .any(|a| a.name == name && a.replaces.is_some())
        };
        if let Some(s) = self.existing.iter().find(|s| {
            s.fingerprint
                .as_deref()
                .is_some_and(|f| secret.has_fingerprint(f))
                && !replaced_here(&s.name, &self.planned)
        }) {
            let name = s.name.clone();
            self.push(name.clone(), secret, meta, None);
            if let Some(a) = self.planned.last_mut() {
                a.held = true;
            }
            return name;
        }
        // 2. A new value for a credential the keyring already holds: a rotation.
        let identities = &meta.identities;
        let rotated = self.existing.iter().find(|s| {
            s.identities.iter().any(|i| identities.contains(i))
                && !self.planned.iter().any(|a| a.name == s.name)
                && !s
                    .fingerprint
                    .as_ref()
                    .is_some_and(|f| self.in_use.contains(f))
        });
        if let Some(s) = rotated {
            let name = s.name.clone();
            let replaces = s
                .fingerprint
                .clone()
                .map(|f| (f, s.redacted.clone().unwrap_or_else(|| "…".into())));
            self.push(name.clone(), secret, meta, replaces);
            return name;
        }
        // 3. A new slot.
        let provider = want.provider.as_deref().unwrap_or("token");
        let name = if want.hub && !self.taken(HF_DEFAULT) {
            HF_DEFAULT.to_string()
        } else {
            let base = name_part(provider);
            let base = if base.is_empty() {
                "token".into()
            } else {
                base
            };
            let labelled = want
                .label
                .as_deref()
                .map(name_part)
                .filter(|l| !l.is_empty() && *l != base)
                .map(|l| format!("{base}-{l}"));
            // The provider's plain name is kept for huggingface_hub's own token.
            let plain_ok = base != HF_DEFAULT && !self.taken(&base);
            let first = labelled
                .clone()
                .filter(|_| !plain_ok)
                .unwrap_or_else(|| base.clone());
            if !self.taken(&first) && (first != HF_DEFAULT) {
                first
            } else {
                let stem = labelled.unwrap_or(base);
                (2..)
                    .map(|n| format!("{stem}-{n}"))
                    .find(|n| !self.taken(n))
                    .expect("a free name")
            }
        };
        self.push(name.clone(), secret, meta, None);
        name
    }

    fn push(
        &mut self,
        name: String,
        secret: &Secret,
        meta: Slot,
        replaces: Option<(String, String)>,
    ) {
        self.planned.push(Assigned {
            name: name.clone(),
            secret: secret.clone(),
            slot: Slot { name, ..meta },
            replaces,
            held: false,
        });
    }

    /// Adds a consumer to the slot a secret was given.
    pub fn serve(&mut self, name: &str, consumer: Consumer) {
        if let Some(a) = self.planned.iter_mut().find(|a| a.name == name) {
            if !a.slot.serves.contains(&consumer) {
                a.slot.serves.push(consumer);
            }
        }
    }

    /// An existing slot by name.
    pub fn existing(&self, name: &str) -> Option<&Slot> {
        self.existing.iter().find(|s| s.name == name)
    }

    pub fn into_assigned(self) -> Vec<Assigned> {
        self.planned
    }
}

/// Brings fingerprints an earlier version wrote (unkeyed, without the `k1-` prefix) to the
/// keyed form, by reading each such slot's value from the keyring: a report can then tell
/// which slot holds a secret. Done by the commands that use the keyring anyway; quietly does
/// nothing when the keyring does not answer.
pub fn migrate_fingerprints(home: &Home, keys: &crate::keystore::KeyStore) {
    let stale: Vec<String> = load(home)
        .into_iter()
        .filter(|s| {
            s.fingerprint
                .as_deref()
                .is_some_and(|f| !f.starts_with(crate::fingerprint::PREFIX))
        })
        .map(|s| s.name)
        .collect();
    if stale.is_empty() {
        return;
    }
    let fresh: Vec<(String, String)> = stale
        .into_iter()
        .filter_map(|name| keys.get(&name).ok().map(|v| (name, v.fingerprint())))
        .collect();
    let _ = update(home, |list| {
        for s in list.iter_mut() {
            if let Some((_, fp)) = fresh.iter().find(|(n, _)| *n == s.name) {
                s.fingerprint = Some(fp.clone());
            }
        }
    });
}

/// The provider of slot `name`: the index's, else the name's first part (`huggingface-work`
/// → `huggingface`), as for a slot an earlier version wrote.
pub fn provider_of(slots: &[Slot], name: &str) -> String {
    slots
        .iter()
        .find(|s| s.name == name)
        .and_then(|s| s.provider.clone())
        .unwrap_or_else(|| name.split('-').next().unwrap_or_default().to_string())
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

    fn secret(s: &str) -> Secret {
        Secret::new(s.into(), 3)
    }

    #[test]
    fn names_follow_what_the_credential_is() {
        let mut a = Allocator::new(Vec::new());
        let (t1, t2, t3) = (
            secret("hf_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1"),
            secret("hf_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB2"),
            secret("hf_CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC3"),
        );
        let hf = |identity: &str, label: Option<&str>, hub: bool| Want {
            provider: Some("huggingface".into()),
            identity: identity.into(),
            label: label.map(Into::into),
            hub,
            serves: None,
        };
        // A stale token file planned first does not take the default name.
        assert_eq!(
            a.assign(
                &hf(
                    "hf:file:/h/.cache/huggingface/token",
                    Some("token file"),
                    false
                ),
                &t2
            ),
            "huggingface-token-file"
        );
        assert_eq!(
            a.assign(&hf("hf:file:/t/tok", None, true), &t1),
            "huggingface"
        );
        assert_eq!(
            a.assign(&hf("hf:stored:work", Some("work"), false), &t1),
            "huggingface"
        );
        assert_eq!(
            a.assign(&hf("hf:stored:personal", Some("personal"), false), &t3),
            "huggingface-personal"
        );
        let planned = a.into_assigned();
        let default = planned.iter().find(|p| p.name == "huggingface").unwrap();
        assert!(default
            .slot
            .identities
            .contains(&"hf:stored:work".to_string()));
        assert!(default.slot.identities.contains(&HUB_IDENTITY.to_string()));
    }

    #[test]
    fn a_new_value_for_a_known_credential_replaces_it() {
        let old = secret("hf_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1");
        let mut slot = Slot {
            name: HF_DEFAULT.into(),
            ..Slot::default()
        };
        slot.set_value(&old, "2026-01-01T00:00:00Z");
        slot.identities.push(HUB_IDENTITY.into());
        let mut a = Allocator::new(vec![slot]);
        let new = secret("hf_NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN9");
        let want = Want {
            provider: Some("huggingface".into()),
            identity: "hf:file:/h/.cache/huggingface/token".into(),
            hub: true,
            ..Want::default()
        };
        assert_eq!(a.assign(&want, &new), HF_DEFAULT);
        let p = a.into_assigned();
        assert_eq!(
            p[0].replaces.as_ref().map(|r| r.0.clone()),
            Some(old.fingerprint())
        );
        let mut s = p[0].slot.clone();
        s.set_value(&old, "t0");
        s.set_value(&new, "t1");
        assert_eq!(s.previous.len(), 1);
        assert_eq!(s.previous[0].fingerprint, old.fingerprint());
    }

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
