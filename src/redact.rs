//! Masking secrets in text and names: every secret the rules recognise, replaced by its
//! redacted form (`hf_…KjHg`), in any text ([`mask_text`], which the output gate
//! [`crate::term`] applies to everything it lets through) and in names ([`mask_path`],
//! [`show_path`]): a token in a file or folder name is a secret like any other. (File
//! contents shown to people go through `fix::redact_all`, which also cuts what context rules
//! find.)
//!
//! Finding paths stay raw in memory (a fix needs the real file); they are masked where they
//! become text: the reports' `path`, SARIF URIs, every path shown to a person.

use crate::rules::{self, SecretMatch};
use std::borrow::Cow;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `data` with every match replaced by its redacted form (matches sorted by offset; one
/// that overlaps an earlier one is dropped).
fn replace(data: &[u8], matches: &mut [SecretMatch]) -> Vec<u8> {
    matches.sort_by_key(|m| m.offset);
    let mut out = Vec::with_capacity(data.len());
    let mut pos = 0;
    for m in matches.iter() {
        let (s, e) = rules::extent(data, m);
        if s < pos {
            continue;
        }
        out.extend_from_slice(&data[pos..s]);
        out.extend_from_slice(m.secret.redacted().as_bytes());
        pos = e;
    }
    out.extend_from_slice(&data[pos..]);
    out
}

/// `data` with every secret of a known shape (the rules that apply everywhere: prefixed
/// tokens, keys after their variable name) replaced by its redacted form; every other byte
/// as it was. Borrowed when there is none, which is nearly always.
pub fn mask_bytes(data: &[u8]) -> Cow<'_, [u8]> {
    let mut matches = Vec::new();
    rules::builtin().find(data, None, &mut matches);
    if matches.is_empty() {
        return Cow::Borrowed(data);
    }
    Cow::Owned(replace(data, &mut matches))
}

/// [`mask_bytes`] of a text.
pub fn mask_text(s: &str) -> Cow<'_, str> {
    match mask_bytes(s.as_bytes()) {
        Cow::Borrowed(_) => Cow::Borrowed(s),
        Cow::Owned(b) => Cow::Owned(String::from_utf8_lossy(&b).into_owned()),
    }
}

/// A path as text for a machine format (JSON, SARIF, the journal's display): its bytes,
/// every secret in it masked, each byte that is not part of valid UTF-8 written `\xNN` (so
/// two names that differ only there stay two names). Control characters are left to the
/// format's own escaping.
pub fn mask_path(p: &Path) -> String {
    let masked = mask_bytes(p.as_os_str().as_bytes());
    match std::str::from_utf8(&masked) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let mut out = String::with_capacity(masked.len() + 8);
            for chunk in masked.utf8_chunks() {
                out.push_str(chunk.valid());
                for b in chunk.invalid() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            out
        }
    }
}

/// A path for people, on one line: [`mask_path`] with every control character and bidi
/// override escaped.
pub fn show_path(p: &Path) -> String {
    crate::term::safe_line(&mask_path(p)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    const HF: &str = "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";

    #[test]
    fn names_holding_a_secret_are_masked() {
        let p = format!("/h/{HF}/notes\x1b[2J.txt");
        assert_eq!(mask_path(Path::new(&p)), "/h/hf_…KjHg/notes\x1b[2J.txt");
        assert_eq!(show_path(Path::new(&p)), "/h/hf_…KjHg/notes\\x1b[2J.txt");
        assert!(matches!(mask_text("~/.bashrc:2"), Cow::Borrowed(_)));
    }

    #[test]
    fn names_that_are_not_utf8_stay_distinct() {
        let a = Path::new(OsStr::from_bytes(b"/h/a\xff"));
        let b = Path::new(OsStr::from_bytes(b"/h/a\xfe"));
        assert_eq!(mask_path(a), "/h/a\\xff");
        assert_ne!(mask_path(a), mask_path(b));
    }
}
