//! The last step of a rotation: the user says the replaced token is revoked at its provider
//! (`hfguard rotate --done`, the dashboard's `R` on a `pending-revoke` secret), and its
//! rotation becomes `done`. With verification on, the provider is asked first and must
//! refuse the old token (401): a token that still works is not marked revoked.

use crate::home::Home;
use crate::keystore::KeyStore;
use crate::slots;
use crate::verify::{self, Settings, Status};

/// Why nothing was marked revoked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotRevoked {
    /// The provider still accepts the old token.
    StillLive {
        redacted: String,
        rotate_at: Option<String>,
    },
    /// The provider could not be asked (the reason).
    Unchecked { redacted: String, reason: String },
    /// The slot index could not be written.
    Index(String),
}

impl std::fmt::Display for NotRevoked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::term::safe_line;
        match self {
            NotRevoked::StillLive {
                redacted,
                rotate_at,
            } => write!(
                f,
                "{} still works (the provider accepts it): revoke it{} first",
                safe_line(redacted),
                rotate_at
                    .as_deref()
                    .map(|u| format!(" at {u}"))
                    .unwrap_or_default()
            ),
            NotRevoked::Unchecked { redacted, reason } => write!(
                f,
                "could not check {}: {}",
                safe_line(redacted),
                safe_line(reason)
            ),
            NotRevoked::Index(e) => write!(
                f,
                "cannot record it in hfguard's slot index: {}",
                safe_line(e)
            ),
        }
    }
}

/// Marks the values slot `slot` held before a rotation revoked — every one still waiting,
/// or only the one with fingerprint `only` — and returns their redacted forms (none: nothing
/// was waiting).
///
/// With `check` (verification on), each old value the keyring still keeps (as the rotation's
/// undo backup) is first sent to its provider, one request each; any answer but "revoked"
/// stops it before anything is recorded.
pub fn confirm_revoked(
    home: &Home,
    slot: &str,
    only: Option<&str>,
    check: Option<&Settings>,
) -> Result<Vec<String>, NotRevoked> {
    let index = slots::load(home);
    let provider = slots::provider_of(&index, slot);
    let waiting: Vec<slots::Previous> = index
        .iter()
        .filter(|s| s.name == slot)
        .flat_map(|s| s.previous.iter())
        .filter(|p| p.revoked_at.is_none() && only.is_none_or(|fp| p.fingerprint == fp))
        .cloned()
        .collect();
    if let Some(settings) = check {
        let keys = KeyStore::new(home);
        for p in &waiting {
            let Ok(old) = keys.get_backup(&p.fingerprint) else {
                continue;
            };
            let v = verify::verify_secret(settings, Some(&provider), &old);
            match v.status {
                Status::Revoked => {}
                Status::Live => {
                    return Err(NotRevoked::StillLive {
                        redacted: p.redacted.clone(),
                        rotate_at: crate::rules::builtin()
                            .rotation_url(&provider)
                            .map(str::to_string),
                    })
                }
                _ => {
                    return Err(NotRevoked::Unchecked {
                        redacted: p.redacted.clone(),
                        reason: v.reason.unwrap_or_else(|| "no answer".into()),
                    })
                }
            }
        }
    }
    if waiting.is_empty() {
        return Ok(Vec::new());
    }
    let now = crate::time::now_rfc3339();
    slots::update(home, |list| {
        for s in list.iter_mut().filter(|s| s.name == slot) {
            for p in s
                .previous
                .iter_mut()
                .filter(|p| waiting.iter().any(|w| w.fingerprint == p.fingerprint))
            {
                p.revoked_at = Some(now.clone());
            }
        }
    })
    .map_err(NotRevoked::Index)?;
    Ok(waiting.into_iter().map(|p| p.redacted).collect())
}
