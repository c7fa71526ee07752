//! Is the token the user pasted fit to replace a slot's value? The checks `hfguard rotate`
//! and the dashboard's `R` make before anything changes: it is one word, not the token the
//! slot holds already, not another provider's (by its shape), and — with verification on —
//! live at its provider and the same account's as the old one.

use crate::secret::Secret;
use crate::verify::{self, Settings, Status, Verification};

/// Why a new token was refused. Nothing changed when one is returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Empty, or more than one word.
    NotAToken,
    /// The slot holds that very token already.
    SameToken { slot: String },
    /// Its shape says another provider issued it (`sk-…` for a `huggingface` slot).
    OtherProvider { found: String, wanted: String },
    /// A Hugging Face slot, and the token does not start with `hf_`.
    NotHubToken,
    /// The provider refuses it (revoked, expired or mistyped).
    Dead,
    /// The provider could not be asked (the reason).
    Unchecked(String),
    /// It belongs to another account than the old one.
    OtherAccount {
        new_owner: String,
        old_owner: String,
    },
}

impl Refusal {
    /// What `--force` does about it, for the command line: the last two can be overridden
    /// (a deliberate switch of accounts, a Hub that cannot be reached); the others cannot.
    pub fn force_hint(&self) -> Option<&'static str> {
        match self {
            Refusal::Unchecked(_) => Some("pass --force to use it anyway"),
            Refusal::OtherAccount { .. } => Some("pass --force to switch accounts"),
            _ => None,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::term::safe_line;
        match self {
            Refusal::NotAToken => write!(
                f,
                "that is not a token (empty, or more than one word); nothing changed"
            ),
            Refusal::SameToken { slot } => write!(
                f,
                "that is the token `{}` holds already; create a new one first",
                safe_line(slot)
            ),
            Refusal::OtherProvider { found, wanted } => write!(
                f,
                "that looks like a token of {}, not of {}; nothing changed",
                safe_line(found),
                safe_line(wanted)
            ),
            Refusal::NotHubToken => {
                write!(f, "a Hugging Face token starts with hf_; nothing changed")
            }
            Refusal::Dead => write!(
                f,
                "the provider refuses the new token (revoked, expired or mistyped); nothing changed"
            ),
            Refusal::Unchecked(reason) => {
                write!(f, "could not check the new token ({})", safe_line(reason))
            }
            Refusal::OtherAccount {
                new_owner,
                old_owner,
            } => write!(
                f,
                "the new token belongs to {}, the old one to {}",
                safe_line(new_owner),
                safe_line(old_owner)
            ),
        }
    }
}

/// A new token that passed the checks.
#[derive(Debug)]
pub struct Checked {
    pub secret: Secret,
    /// What the provider said about it, when it was asked.
    pub verification: Option<Verification>,
}

/// The provider a token's shape says it is from (`hf_…` → huggingface), if a rule knows it.
fn shape_provider(value: &str) -> Option<String> {
    let mut found = Vec::new();
    crate::rules::builtin().find(value.as_bytes(), None, &mut found);
    found
        .into_iter()
        .find(|m| m.offset == 0 && m.secret.expose() == value)
        .and_then(|m| m.provider)
}

/// Checks `raw` (as typed or pasted; surrounding whitespace is dropped) as the new value of
/// slot `slot` of `provider`, which holds `old` now.
///
/// With `verify` (verification on), the new token must answer `live`, and — unless `force`
/// — belong to the account the old one belongs to: one request for each token, as
/// [`verify::verify_secret`] makes them. `force` also accepts a token the provider could not
/// be asked about. Blocks for the requests (at most twice [`Settings::timeout`]).
pub fn check_new_token(
    raw: &str,
    slot: &str,
    provider: &str,
    old: &Secret,
    verify: Option<&Settings>,
    force: bool,
) -> Result<Checked, Refusal> {
    let raw = raw.trim();
    if raw.is_empty() || raw.chars().any(char::is_whitespace) {
        return Err(Refusal::NotAToken);
    }
    if raw == old.expose() {
        return Err(Refusal::SameToken {
            slot: slot.to_string(),
        });
    }
    if let Some(found) = shape_provider(raw).filter(|p| !provider.is_empty() && p != provider) {
        return Err(Refusal::OtherProvider {
            found,
            wanted: provider.to_string(),
        });
    }
    if provider == "huggingface" && !raw.starts_with("hf_") {
        return Err(Refusal::NotHubToken);
    }
    let secret = Secret::new(raw.to_string(), crate::rules::builtin().prefix_of(raw));
    let Some(settings) = verify else {
        return Ok(Checked {
            secret,
            verification: None,
        });
    };
    let v = verify::verify_secret(settings, Some(provider), &secret);
    match v.status {
        Status::Live => {}
        Status::Revoked => return Err(Refusal::Dead),
        Status::Unknown if !force => {
            return Err(Refusal::Unchecked(
                v.reason.clone().unwrap_or_else(|| "no answer".into()),
            ))
        }
        _ => {}
    }
    if !force {
        let before = verify::verify_secret(settings, Some(provider), old);
        if let (Some(a), Some(b)) = (&before.owner, &v.owner) {
            if a != b {
                return Err(Refusal::OtherAccount {
                    new_owner: b.clone(),
                    old_owner: a.clone(),
                });
            }
        }
    }
    Ok(Checked {
        secret,
        verification: Some(v),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hf(s: &str) -> Secret {
        Secret::new(s.into(), 3)
    }

    #[test]
    fn refuses_what_cannot_be_the_new_token_before_asking_anyone() {
        let old = hf("hf_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1");
        let check =
            |raw: &str| check_new_token(raw, "huggingface", "huggingface", &old, None, false);
        assert_eq!(check("  ").unwrap_err(), Refusal::NotAToken);
        assert_eq!(check("hf_a hf_b").unwrap_err(), Refusal::NotAToken);
        assert!(matches!(
            check(" hf_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1\n").unwrap_err(),
            Refusal::SameToken { .. }
        ));
        assert_eq!(check("password1").unwrap_err(), Refusal::NotHubToken);
        let new = check("hf_q8ZtR3vLx0PmK2wYc7NbF4sHj9GdE1aUo6\n").unwrap();
        assert_eq!(new.secret.expose(), "hf_q8ZtR3vLx0PmK2wYc7NbF4sHj9GdE1aUo6");
        assert_eq!(new.secret.redacted(), "hf_…aUo6");
        assert!(new.verification.is_none());
    }
}
