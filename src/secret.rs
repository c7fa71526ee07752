//! Secrets in memory: the only type that holds a plaintext credential.
//!
//! A [`Secret`] is zeroized when dropped, never implements `Display` or a revealing
//! `Debug`, and offers exactly two views that are safe to print: [`Secret::redacted`] (at most
//! the known prefix and the last four characters) and [`Secret::fingerprint`] (a keyed hash,
//! identical for the same secret wherever one user finds it: [`crate::fingerprint`]).

use std::fmt;
use zeroize::Zeroizing;

/// A plaintext secret, wiped from memory on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    value: Zeroizing<String>,
    /// Length of the well-known, non-secret prefix (`hf_`, `sk-proj-`, `AKIA`) that may be shown.
    prefix_len: usize,
}

impl Secret {
    /// Wraps `value`; `prefix_len` bytes at the start are a public marker of the token type.
    pub fn new(value: String, prefix_len: usize) -> Self {
        let prefix_len = if value.is_char_boundary(prefix_len.min(value.len())) {
            prefix_len.min(value.len())
        } else {
            0
        };
        Secret {
            value: Zeroizing::new(value),
            prefix_len,
        }
    }

    /// Builds a secret from raw bytes (lossy for invalid UTF-8).
    pub fn from_bytes(bytes: &[u8], prefix_len: usize) -> Self {
        Secret::new(String::from_utf8_lossy(bytes).into_owned(), prefix_len)
    }

    /// How many leading bytes are the public marker.
    pub fn prefix_len(&self) -> usize {
        self.prefix_len
    }

    /// The plaintext. Callers must never print it; it exists for fixes (keyring) and matching.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// The form that may appear in any output: prefix, an ellipsis, and the last four
    /// characters — only when the secret is long enough that those reveal little.
    pub fn redacted(&self) -> String {
        redact_str(&self.value, self.prefix_len)
    }

    /// Keyed fingerprint (`k1-` and 32 hex digits): the same secret gives the same
    /// fingerprint wherever it is found, for the same user; it cannot be tested against a
    /// dictionary without that user's key.
    pub fn fingerprint(&self) -> String {
        crate::fingerprint::of(self.value.as_bytes())
    }

    /// Whether `stored` (a fingerprint hfguard wrote, keyed or from before keyed
    /// fingerprints) is this secret's.
    pub fn has_fingerprint(&self, stored: &str) -> bool {
        crate::fingerprint::matches(stored, self.value.as_bytes())
    }

    /// The unkeyed fingerprint earlier versions wrote: never shown, only to recognise ids
    /// and fingerprints they stored.
    pub fn legacy_fingerprint(&self) -> String {
        crate::fingerprint::legacy(self.value.as_bytes())
    }
}

/// Redacts `value`, keeping `prefix_len` leading bytes (a public token-type marker) and the
/// last four characters when at least 16 characters stay hidden in between.
pub fn redact_str(value: &str, prefix_len: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    let prefix: String = chars.iter().take(prefix_len).collect();
    let body_len = chars.len().saturating_sub(prefix.chars().count());
    if body_len >= 20 {
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{prefix}…{tail}")
    } else if body_len >= 12 && prefix.is_empty() {
        let tail: String = chars[chars.len() - 2..].iter().collect();
        format!("…{tail}")
    } else {
        format!("{prefix}…")
    }
}

/// The keyed fingerprint of a plaintext value (as [`Secret::fingerprint`]).
pub fn fingerprint_str(value: &str) -> String {
    crate::fingerprint::of(value.as_bytes())
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_prefix_and_last_four_only() {
        let s = Secret::new("hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh".into(), 3);
        assert_eq!(s.redacted(), "hf_…EfGh");
        assert!(!format!("{s:?}").contains("AbCdEfGhIj"));
    }

    #[test]
    fn short_secrets_show_no_tail() {
        assert_eq!(redact_str("hunter2", 0), "…");
        assert_eq!(redact_str("abcdefghijklmn", 0), "…mn");
    }

    #[test]
    fn fingerprint_is_stable_and_distinct() {
        let one = Secret::new("hf_one".into(), 3);
        let a = one.fingerprint();
        assert_eq!(a, Secret::new("hf_one".into(), 3).fingerprint());
        assert_ne!(a, Secret::new("hf_two".into(), 3).fingerprint());
        assert!(one.has_fingerprint(&a) && one.has_fingerprint(&one.legacy_fingerprint()));
    }
}
