//! Opt-in verification: ask a secret's provider whether the secret is live and what it can
//! do.
//!
//! Nothing here runs unless the user asked for it (`hfguard scan --verify`, `[verify]
//! enabled = true` in the configuration, the dashboard's `v`). Each verification is exactly
//! one request to the provider that issued the secret, with the secret as a bearer token in
//! a header (never in a URL), a 5 s deadline, no redirect followed and no retry. Many
//! secrets are verified [`AT_ONCE`] at a time, each distinct secret once.
//!
//! A provider plugs in by implementing [`Verifier`] and being named in [`verifier`];
//! Hugging Face ([`HfVerifier`], `GET {HF_ENDPOINT}/api/whoami-v2`) is the one built in.

mod hf;
mod http;

pub use hf::{parse_whoami, HfVerifier};

use crate::home::Home;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// How long one verification may take, connection and answer included.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// How many requests are in flight at once: a few, never a burst.
pub const AT_ONCE: usize = 4;

/// What the provider said about a secret.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Accepted: the secret works.
    Live,
    /// Refused as invalid (401): revoked, expired or never valid.
    Revoked,
    /// No answer that says either (network error, unexpected status); `reason` says why.
    Unknown,
    /// Not asked: verification is off, no verifier knows the provider, or the secret is not
    /// of a shape the provider issues as a token.
    #[default]
    NotChecked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Live => "live",
            Status::Revoked => "revoked",
            Status::Unknown => "unknown",
            Status::NotChecked => "not-checked",
        }
    }
}

/// The result of verifying one secret: the `verification` object of the report's `secrets`
/// (docs/report-schema.md). Strings come from the provider's answer, cut to 200 characters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub status: Status,
    /// When the provider was asked (RFC 3339), for `live`, `revoked` and `unknown`.
    pub checked_at: Option<String>,
    /// The account the secret belongs to.
    pub owner: Option<String>,
    /// `user`, `org` or `app`.
    pub owner_type: Option<String>,
    /// Organisations the owner belongs to.
    pub orgs: Vec<String>,
    /// The token's display name.
    pub token_name: Option<String>,
    /// `read`, `write` or `fineGrained` (Hugging Face).
    pub role: Option<String>,
    /// When the token expires, if it does.
    pub expires: Option<String>,
    /// Whether it can write to repositories; `None` when not known.
    pub can_write: Option<bool>,
    /// Where it can write: `user:alice`, `org:acme`, `model:acme/bert`, … (sorted).
    pub write_scopes: Vec<String>,
    /// Why the status is `unknown` or `not-checked`.
    pub reason: Option<String>,
}

impl Verification {
    pub fn with_status(status: Status) -> Self {
        Verification {
            status,
            ..Default::default()
        }
    }

    pub fn unknown(reason: String) -> Self {
        Verification {
            status: Status::Unknown,
            reason: Some(reason),
            ..Default::default()
        }
    }

    fn not_checked(reason: &str) -> Self {
        Verification {
            status: Status::NotChecked,
            reason: Some(reason.to_string()),
            ..Default::default()
        }
    }

    /// Live and able to write: the power that makes an exposure critical.
    pub fn can_write_live(&self) -> bool {
        self.status == Status::Live && self.can_write == Some(true)
    }

    /// One line for people: `live · alice (user) · orgs acme · token "laptop" · write · can
    /// write user:alice, org:acme`. Provider text passes the output gate.
    pub fn summary(&self) -> String {
        use crate::term::safe_line;
        let mut parts = vec![self.status.as_str().to_string()];
        match self.status {
            Status::Live => {
                if let Some(o) = &self.owner {
                    let kind = self.owner_type.as_deref().unwrap_or("account");
                    parts.push(format!("{} ({kind})", safe_line(o)));
                }
                if !self.orgs.is_empty() {
                    parts.push(format!("orgs {}", safe_line(&self.orgs.join(", "))));
                }
                if let Some(n) = &self.token_name {
                    parts.push(format!("token \"{}\"", safe_line(n)));
                }
                if let Some(r) = &self.role {
                    parts.push(safe_line(r).into_owned());
                }
                match self.can_write {
                    Some(true) => parts.push(format!(
                        "can write {}",
                        safe_line(&self.write_scopes.join(", "))
                    )),
                    Some(false) => parts.push("read only".into()),
                    None => {}
                }
                if let Some(e) = &self.expires {
                    parts.push(format!("expires {}", safe_line(e)));
                }
            }
            Status::Revoked => parts.push("dead token: clean up the leftovers".into()),
            Status::Unknown | Status::NotChecked => {
                if let Some(r) = &self.reason {
                    parts.push(safe_line(r).into_owned());
                }
            }
        }
        if let Some(at) = &self.checked_at {
            parts.push(format!("checked {at}"));
        }
        parts.join(" · ")
    }
}

/// A provider's way of verifying its secrets.
pub trait Verifier: Send + Sync {
    /// The provider it speaks for (`huggingface`), as in findings.
    fn provider(&self) -> &'static str;
    /// Whether `secret` has the shape of a token this provider issues; anything else (a
    /// password a person chose) is never sent.
    fn accepts(&self, secret: &Secret) -> bool;
    /// Asks the provider, with one request.
    fn verify(&self, secret: &Secret) -> Verification;
}

/// Where and how verification asks.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The Hugging Face Hub's base URL (`HF_ENDPOINT`, as huggingface_hub reads it).
    pub hf_endpoint: String,
    pub timeout: Duration,
}

impl Settings {
    /// The settings for the audited home's environment.
    pub fn for_home(home: &Home) -> Self {
        Settings {
            hf_endpoint: HfVerifier::endpoint_for(home),
            timeout: TIMEOUT,
        }
    }
}

/// The providers whose secrets hfguard can verify.
pub const PROVIDERS: [&str; 1] = ["huggingface"];

/// Whether hfguard has a verifier for `provider`: what a front end asks before it offers to
/// verify a secret.
pub fn supported(provider: &str) -> bool {
    PROVIDERS.contains(&provider)
}

/// The verifier of `provider`, if hfguard has one.
pub fn verifier(provider: &str, settings: &Settings) -> Option<Box<dyn Verifier>> {
    match provider {
        "huggingface" => Some(Box::new(HfVerifier::new(
            settings.hf_endpoint.clone(),
            settings.timeout,
        ))),
        _ => None,
    }
}

/// Verifies one secret of `provider` with one request (none when no verifier applies): what
/// the dashboard's `v` calls for the selected secret, after the user agreed to send it.
///
/// The secret goes only to its own provider, as a bearer token; the result never holds it.
/// Blocks for at most [`Settings::timeout`].
pub fn verify_secret(settings: &Settings, provider: Option<&str>, secret: &Secret) -> Verification {
    let Some(v) = provider.and_then(|p| verifier(p, settings)) else {
        return Verification::not_checked("hfguard cannot verify this provider's secrets");
    };
    if !v.accepts(secret) {
        return Verification::not_checked(
            "not a token this provider issues (a password is never sent)",
        );
    }
    let mut result = v.verify(secret);
    result.checked_at = Some(crate::time::now_rfc3339());
    result
}

/// A secret to verify.
pub struct Candidate {
    pub fingerprint: String,
    pub provider: Option<String>,
    pub secret: Secret,
}

/// Verifies each distinct secret once, [`AT_ONCE`] requests at a time; results by
/// fingerprint.
pub fn verify_all(settings: &Settings, candidates: &[Candidate]) -> BTreeMap<String, Verification> {
    let mut todo: Vec<&Candidate> = Vec::new();
    for c in candidates {
        if !todo.iter().any(|t| t.fingerprint == c.fingerprint) {
            todo.push(c);
        }
    }
    let next = AtomicUsize::new(0);
    let results = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..AT_ONCE.min(todo.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(c) = todo.get(i) else { break };
                let v = verify_secret(settings, c.provider.as_deref(), &c.secret);
                results.lock().unwrap().insert(c.fingerprint.clone(), v);
            });
        }
    });
    results.into_inner().unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_providers_are_those_with_a_verifier() {
        let s = Settings {
            hf_endpoint: "https://huggingface.co".into(),
            timeout: TIMEOUT,
        };
        for p in ["huggingface", "openai", "wandb", "github", ""] {
            assert_eq!(supported(p), verifier(p, &s).is_some(), "{p}");
        }
    }
}
