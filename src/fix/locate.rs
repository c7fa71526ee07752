//! Where a finding's secret is in a file now. A fix acts on what the audit matched (the
//! finding's byte span), re-checked against the file's current bytes by fingerprint — never
//! re-detected with other rules, so whatever the audit reported (a token of a newer shape, an
//! OAuth token, any single word in a token file) the fix finds again. Findings made without
//! a span (older callers) fall back to the audit's rules for that kind of file.

use crate::finding::Finding;
use crate::kind::FileKind;
use crate::rules::{self, SecretMatch};
use crate::secret::Secret;
use base64::Engine;

/// A secret found again in a file.
pub struct Located {
    /// The secret as the file holds it (decoded when it is stored encoded).
    pub secret: Secret,
    /// Every raw occurrence of the secret on the finding's line, the finding's own first.
    /// Empty when the secret is stored encoded.
    pub spans: Vec<(usize, usize)>,
    /// The encoded run that holds the secret (a Kubernetes Secret value, a Docker `auth`).
    pub encoded: Option<(usize, usize)>,
}

impl Located {
    /// The first occurrence: the one the finding names.
    pub fn first(&self) -> (usize, usize) {
        self.spans
            .first()
            .copied()
            .or(self.encoded)
            .expect("a located secret has a place")
    }
}

const GONE: &str = "the secret is no longer where the scan saw it; scan again";

/// Finds `f`'s secret in `data` (the current bytes of its file, of `kind`).
pub fn locate(
    data: &[u8],
    kind: FileKind,
    f: &Finding,
    container: bool,
) -> Result<Located, String> {
    let want = f
        .fingerprint
        .as_deref()
        .ok_or("the finding names no secret")?;
    if let Some(span) = f.span.filter(|s| s.start < s.end && s.end <= data.len()) {
        let bytes = &data[span.start..span.end];
        if !span.encoded {
            let secret = raw_secret(bytes);
            if secret.fingerprint() == want {
                let spans = same_line(data, span.start, span.end, container);
                return Ok(Located {
                    secret,
                    spans,
                    encoded: None,
                });
            }
        } else if let Some(secret) = decoded_secret(bytes, want) {
            return Ok(Located {
                secret,
                spans: Vec::new(),
                encoded: Some((span.start, span.end)),
            });
        }
    }
    by_rules(data, kind, f, want, container)
}

fn raw_secret(bytes: &[u8]) -> Secret {
    let text = String::from_utf8_lossy(bytes);
    let prefix = rules::builtin().prefix_of(&text);
    let prefix = if prefix == 0 && text.starts_with("hf_") {
        3
    } else {
        prefix
    };
    Secret::from_bytes(bytes, prefix)
}

/// The secret with fingerprint `want` inside an encoded run: base64 of the secret itself, of
/// `user:secret`, or of a text that holds it.
fn decoded_secret(run: &[u8], want: &str) -> Option<Secret> {
    let text = std::str::from_utf8(run).ok()?;
    let decoded = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::URL_SAFE,
    ]
    .iter()
    .find_map(|e| {
        e.decode(text.trim_end_matches('='))
            .ok()
            .or(e.decode(text).ok())
    })
    .or_else(|| {
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(text.trim_end_matches('='))
            .ok()
    })?;
    let mut matches = Vec::new();
    rules::builtin().find_everywhere(&decoded, &mut matches);
    if let Some(m) = matches.into_iter().find(|m| m.secret.fingerprint() == want) {
        return Some(m.secret);
    }
    let s = String::from_utf8(decoded).ok()?;
    let pass = s.split_once(':').map_or("", |(_, p)| p).to_string();
    [s.clone(), pass]
        .into_iter()
        .filter(|c| !c.is_empty())
        .map(|c| raw_secret(c.as_bytes()))
        .find(|sec| sec.fingerprint() == want)
}

/// `start..end` and every other copy of the same bytes on its line (text files), the first
/// given first.
fn same_line(data: &[u8], start: usize, end: usize, container: bool) -> Vec<(usize, usize)> {
    let mut spans = vec![(start, end)];
    if container {
        return spans;
    }
    let needle = &data[start..end];
    let ls = memchr::memrchr(b'\n', &data[..start]).map_or(0, |i| i + 1);
    let le = memchr::memchr(b'\n', &data[end..]).map_or(data.len(), |i| end + i);
    let mut at = ls;
    while let Some(i) = memchr::memmem::find(&data[at..le], needle) {
        let s = at + i;
        if s != start && (s + needle.len() <= start || s >= end) {
            spans.push((s, s + needle.len()));
        }
        at = s + needle.len();
    }
    spans
}

thread_local! {
    /// How many times this thread searched a whole file again to find a finding's secret:
    /// planning is linear only while a finding's span makes that needless.
    pub(crate) static RESCANS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The audit's rules for this kind of file, run again (findings without a span).
fn by_rules(
    data: &[u8],
    kind: FileKind,
    f: &Finding,
    want: &str,
    container: bool,
) -> Result<Located, String> {
    RESCANS.with(|r| r.set(r.get() + 1));
    let rules = rules::builtin();
    let mut matches: Vec<SecretMatch> = Vec::new();
    if container {
        rules.find_in_container(data, Some(kind), &mut matches);
    } else {
        rules.find(data, Some(kind), &mut matches);
    }
    if kind.is_hf_token_file() {
        matches.extend(crate::probes::files::whole_file_token(data));
    }
    let line_of = |offset: usize| 1 + memchr::memchr_iter(b'\n', &data[..offset]).count() as u64;
    let mut encoded = None;
    for m in matches {
        if m.secret.fingerprint() != want || f.line.is_some_and(|l| l != line_of(m.offset)) {
            continue;
        }
        let (s, e) = rules::extent(data, &m);
        if data[m.offset..].starts_with(m.secret.expose().as_bytes()) {
            return Ok(Located {
                spans: same_line(data, s, e, container),
                secret: m.secret,
                encoded: None,
            });
        }
        encoded.get_or_insert((m.secret, (s, e)));
    }
    match encoded {
        Some((secret, run)) => Ok(Located {
            secret,
            spans: Vec::new(),
            encoded: Some(run),
        }),
        None => Err(GONE.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Category, Severity, Span};

    fn finding(fingerprint: &str, span: Option<Span>) -> Finding {
        Finding {
            id: "hfg-x".into(),
            rule: "hf-token-in-token-file".into(),
            category: Category::TokenFile,
            severity: Severity::Medium,
            provider: Some("huggingface".into()),
            path: None,
            line: Some(1),
            variable: None,
            pid: None,
            mode: None,
            secret: None,
            fingerprint: Some(fingerprint.into()),
            message: String::new(),
            fixes: Vec::new(),
            ignored: None,
            label: None,
            span,
        }
    }

    #[test]
    fn a_token_of_any_shape_is_found_where_the_audit_saw_it() {
        let oauth = "hf_oauth_Zq8vN2pXw4rT6yU1iO3aS5dF7gH9jK0l";
        let data = format!("{oauth}\n");
        let fp = crate::secret::fingerprint_str(oauth);
        let span = Span {
            start: 0,
            end: oauth.len(),
            encoded: false,
        };
        let l = locate(
            data.as_bytes(),
            FileKind::HfTokenFile,
            &finding(&fp, Some(span)),
            false,
        )
        .unwrap();
        assert_eq!(l.spans, vec![(0, oauth.len())]);
        assert_eq!(l.secret.expose(), oauth);
        // Without a span, the token file's own rule (a single word) finds it too.
        let l = locate(
            data.as_bytes(),
            FileKind::HfTokenFile,
            &finding(&fp, None),
            false,
        )
        .unwrap();
        assert_eq!(l.first(), (0, oauth.len()));
        // Changed since: gone.
        let other = "hf_oauth_other_value_entirely_different1\n";
        assert!(locate(
            other.as_bytes(),
            FileKind::HfTokenFile,
            &finding(&fp, Some(span)),
            false
        )
        .is_err());
    }

    #[test]
    fn every_copy_on_the_line_follows_the_first() {
        let tok = "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";
        let data = format!("x\nexport A={tok} B={tok}\n{tok}\n");
        let s = data.find(tok).unwrap();
        let fp = crate::secret::fingerprint_str(tok);
        let span = Span {
            start: s,
            end: s + tok.len(),
            encoded: false,
        };
        let l = locate(
            data.as_bytes(),
            FileKind::StartupFile,
            &finding(&fp, Some(span)),
            false,
        )
        .unwrap();
        assert_eq!(l.spans.len(), 2);
        assert_eq!(l.spans[0].0, s);
    }
}
