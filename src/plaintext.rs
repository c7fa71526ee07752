//! The plaintext of one secret the audit found, by its fingerprint, for the moment a front end
//! needs it (the dashboard's `v` sends it to its provider): reports, findings and the
//! dashboard's state only ever hold its redacted form and fingerprint.
//!
//! It is read again from where it is: first the bytes of a finding's span in its file (the
//! audit's own match, checked against the fingerprint, as a fix checks it); when the file
//! changed since, that file audited again; a variable of the audited environment; and when no
//! place holds it, the keyring — the slot that holds it, or the backup of a value a rotation
//! replaced. (Above [`crate::audit`], which it calls, so not in [`crate::inventory`], which
//! the audit uses.)

use crate::audit::{self, ScanOptions};
use crate::finding::{Category, Finding};
use crate::fsread::{self, ReadOutcome};
use crate::home::Home;
use crate::keystore::KeyStore;
use crate::kind::FileKind;
use crate::secret::Secret;
use crate::slots;

/// The secret with `fingerprint`, from the first of `places` (findings that hold it) that
/// still does, else from the keyring. The error says why none could be read, without the
/// secret.
///
/// Files are opened as the audit opens them (no symlink followed, no FIFO waited on); the
/// keyring is asked only when no place holds the secret, and may take as long as an unlock
/// prompt does: call it off a UI thread.
pub fn of(home: &Home, fingerprint: &str, places: &[Finding]) -> Result<Secret, String> {
    let mine = places
        .iter()
        .filter(|f| f.fingerprint.as_deref() == Some(fingerprint));
    let mut audited: Vec<&std::path::Path> = Vec::new();
    for f in mine {
        let found = match &f.path {
            Some(path) => in_span(f, path, fingerprint).or_else(|| {
                if audited.contains(&path.as_path()) {
                    return None;
                }
                audited.push(path);
                audited_again(home, f, path, fingerprint)
            }),
            None if f.category == Category::Environment => f
                .variable
                .as_deref()
                .and_then(|v| home.var(v))
                .and_then(|v| v.to_str())
                .map(whole)
                .filter(|s| s.has_fingerprint(fingerprint)),
            None => None,
        };
        if let Some(s) = found {
            return Ok(s);
        }
    }
    in_keyring(home, fingerprint)
}

/// A secret that is the whole of `text`, with its provider's public prefix known.
fn whole(text: &str) -> Secret {
    Secret::new(text.to_string(), crate::rules::builtin().prefix_of(text))
}

/// The bytes of `f`'s span in its file now, when they are still its secret. An encoded span
/// (base64 in a Kubernetes Secret, a Docker `auth`) is left to [`audited_again`].
fn in_span(f: &Finding, path: &std::path::Path, fingerprint: &str) -> Option<Secret> {
    let span = f.span.filter(|s| !s.encoded && s.start < s.end)?;
    let mut buf = zeroize::Zeroizing::new(Vec::new());
    match fsread::read_regular(path, span.end as u64, &mut buf) {
        Ok(ReadOutcome::Read { .. }) if buf.len() >= span.end => {}
        _ => return None,
    }
    let text = std::str::from_utf8(&buf[span.start..span.end]).ok()?;
    Some(whole(text)).filter(|s| s.has_fingerprint(fingerprint))
}

/// `path` audited again, as the dashboard re-audits a file after a fix, keeping its secrets:
/// the one with `fingerprint`, wherever it is in the file now.
fn audited_again(
    home: &Home,
    f: &Finding,
    path: &std::path::Path,
    fingerprint: &str,
) -> Option<Secret> {
    let options = ScanOptions {
        keep_secrets: true,
        ..Default::default()
    };
    let wanted = [(path.to_path_buf(), FileKind::from_rule(&f.rule))];
    let (mut report, _) = audit::run_paths(home, &options, &wanted);
    report
        .kept
        .remove(fingerprint)
        .map(|k| k.secret)
        .filter(|s| s.has_fingerprint(fingerprint))
}

/// The slot that holds the secret now, else the undo backup of a value a rotation replaced.
fn in_keyring(home: &Home, fingerprint: &str) -> Result<Secret, String> {
    let index = slots::load(home);
    let keys = KeyStore::new(home);
    let from_slot = slots::holding(&index, fingerprint).map(|s| keys.get(&s.name));
    let replaced = index
        .iter()
        .any(|s| s.previous.iter().any(|p| p.fingerprint == fingerprint));
    let result = match from_slot {
        Some(r) => r,
        None if replaced => keys.get_backup(fingerprint),
        None => {
            return Err(
                "no place holds it any more (audit again with r), and no keyring slot does".into(),
            )
        }
    };
    match result {
        Ok(s) if s.has_fingerprint(fingerprint) => Ok(s),
        Ok(_) => Err("the keyring holds another value under its name now".into()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Severity, Span};

    #[test]
    fn reads_the_span_again_and_checks_the_fingerprint() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let token = "hf_q8ZtR3vLx0PmK2wYc7NbF4sHj9GdE1aUo6";
        let path = dir.join("token");
        std::fs::write(&path, format!("x={token}\n")).unwrap();
        let fp = Secret::new(token.into(), 3).fingerprint();
        let f = Finding {
            id: "hfg-x".into(),
            rule: "hf-token-in-env-file".into(),
            category: Category::Project,
            severity: Severity::High,
            provider: Some("huggingface".into()),
            path: Some(path.clone()),
            line: Some(1),
            variable: None,
            pid: None,
            mode: None,
            secret: None,
            fingerprint: Some(fp.clone()),
            message: String::new(),
            fixes: Vec::new(),
            ignored: None,
            label: None,
            span: Some(Span {
                start: 2,
                end: 2 + token.len(),
                encoded: false,
            }),
        };
        let home = Home::new(dir, Vec::new());
        let s = in_span(&f, &path, &fp).expect("the span holds it");
        assert_eq!(s.expose(), token);
        assert_eq!(s.redacted(), "hf_…aUo6");
        // Another value at the span: not that secret.
        std::fs::write(&path, format!("x={}\n", token.replace('P', "Q"))).unwrap();
        assert!(in_span(&f, &path, &fp).is_none());
        assert!(of(&home, &fp, std::slice::from_ref(&f)).is_err());
    }
}
