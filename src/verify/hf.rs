//! Hugging Face: `GET {HF_ENDPOINT}/api/whoami-v2` with `Authorization: Bearer <token>`.
//! 200 is a live token (who owns it, which organisations, the token's name, role and
//! expiry, and for a fine-grained token what it may write); 401 is a revoked or invalid one.

use super::{http, Status, Verification, Verifier};
use crate::home::Home;
use crate::secret::Secret;
use serde_json::Value;
use std::time::Duration;

/// huggingface_hub's default endpoint, and its staging one (`HUGGINGFACE_CO_STAGING`).
const DEFAULT_ENDPOINT: &str = "https://huggingface.co";
const STAGING_ENDPOINT: &str = "https://hub-ci.huggingface.co";

/// Org roles that may write to the org's repositories with a `write` token.
const WRITING_ORG_ROLES: [&str; 3] = ["admin", "write", "contributor"];

pub struct HfVerifier {
    endpoint: String,
    timeout: Duration,
}

impl HfVerifier {
    pub fn new(endpoint: String, timeout: Duration) -> Self {
        HfVerifier { endpoint, timeout }
    }

    /// The endpoint as huggingface_hub reads it: `HF_ENDPOINT` without trailing slashes, else
    /// the staging hub when `HUGGINGFACE_CO_STAGING` is true, else `https://huggingface.co`.
    pub fn endpoint_for(home: &Home) -> String {
        if let Some(e) = home.var("HF_ENDPOINT") {
            return e.to_string_lossy().trim_end_matches('/').to_string();
        }
        let staging = home.var("HUGGINGFACE_CO_STAGING").is_some_and(|v| {
            matches!(
                v.to_string_lossy().to_ascii_lowercase().as_str(),
                "1" | "on" | "yes" | "true"
            )
        });
        if staging {
            STAGING_ENDPOINT
        } else {
            DEFAULT_ENDPOINT
        }
        .to_string()
    }
}

/// Whether a token may be sent to `url`: over https, or over plain http only to this machine
/// (a local mirror, a test server). A token sent in clear over a network is a new leak.
fn check_endpoint(url: &str) -> Result<(), String> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Ok(());
    }
    let Some(rest) = lower.strip_prefix("http://") else {
        return Err("HF_ENDPOINT is not an http(s) URL; nothing was sent".into());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    if matches!(host, "localhost" | "127.0.0.1" | "::1") {
        Ok(())
    } else {
        Err("HF_ENDPOINT uses plain http to another machine, where the token would travel unencrypted; nothing was sent".into())
    }
}

impl Verifier for HfVerifier {
    fn provider(&self) -> &'static str {
        "huggingface"
    }

    /// Hub tokens only (`hf_…`, OAuth `hf_oauth_…`, `api_org_…`): a password found in a
    /// `huggingface.co` URL is never sent as a bearer token.
    fn accepts(&self, secret: &Secret) -> bool {
        let v = secret.expose();
        (v.starts_with("hf_") || v.starts_with("api_org_"))
            && v.len() <= 512
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }

    fn verify(&self, secret: &Secret) -> Verification {
        if let Err(reason) = check_endpoint(&self.endpoint) {
            return Verification::unknown(reason);
        }
        let url = format!("{}/api/whoami-v2", self.endpoint);
        match http::get_bearer(&url, secret, self.timeout) {
            Ok(a) if a.status == 200 => parse_whoami(&a.body),
            Ok(a) if a.status == 401 => Verification::with_status(Status::Revoked),
            Ok(a) if (300..400).contains(&a.status) => Verification::unknown(format!(
                "the server answered {} (a redirect, not followed: it would carry the token elsewhere)",
                a.status
            )),
            Ok(a) if a.status == 429 => {
                Verification::unknown("rate limited (429); not retried, try again later".into())
            }
            Ok(a) => Verification::unknown(format!("the server answered {}", a.status)),
            Err(reason) => Verification::unknown(reason),
        }
    }
}

/// Text from the server, kept short: it is shown to people (through the output gate).
fn text(v: &Value) -> Option<String> {
    let s = v.as_str()?;
    Some(s.chars().take(200).collect())
}

/// A 200 answer of `whoami-v2` (huggingface.js `api-who-am-i.ts`): a live token.
pub fn parse_whoami(body: &str) -> Verification {
    let Ok(doc) = serde_json::from_str::<Value>(body) else {
        return Verification::unknown(
            "the server answered 200 with a body that is not JSON".into(),
        );
    };
    let mut v = Verification::with_status(Status::Live);
    v.owner = text(&doc["name"]);
    v.owner_type = text(&doc["type"]);
    let orgs: Vec<(String, String)> = doc["orgs"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| {
                    Some((text(&o["name"])?, text(&o["roleInOrg"]).unwrap_or_default()))
                })
                .collect()
        })
        .unwrap_or_default();
    v.orgs = orgs.iter().map(|(n, _)| n.clone()).collect();
    let auth = &doc["auth"];
    let token = &auth["accessToken"];
    v.token_name = text(&token["displayName"]);
    v.role = text(&token["role"]);
    v.expires = text(&token["expiration"]).or_else(|| text(&auth["expiresAt"]));
    let owner_scope = || {
        let kind = v.owner_type.clone().unwrap_or_else(|| "user".into());
        v.owner.as_ref().map(|o| format!("{kind}:{o}"))
    };
    let scopes: Option<Vec<String>> = match v.role.as_deref() {
        Some("read") => Some(Vec::new()),
        Some("write") => Some(
            owner_scope()
                .into_iter()
                .chain(
                    orgs.iter()
                        .filter(|(_, role)| WRITING_ORG_ROLES.contains(&role.as_str()))
                        .map(|(n, _)| format!("org:{n}")),
                )
                .collect(),
        ),
        Some("fineGrained") => {
            let fg = &token["fineGrained"];
            let writes_repos = |perms: &Value| {
                perms
                    .as_array()
                    .is_some_and(|p| p.iter().any(|x| x.as_str() == Some("repo.write")))
            };
            let mut s: Vec<String> = Vec::new();
            if writes_repos(&fg["global"]) {
                s.extend(owner_scope());
            }
            for entry in fg["scoped"].as_array().into_iter().flatten() {
                if writes_repos(&entry["permissions"]) {
                    let e = &entry["entity"];
                    if let (Some(kind), Some(name)) = (text(&e["type"]), text(&e["name"])) {
                        s.push(format!("{kind}:{name}"));
                    }
                }
            }
            Some(s)
        }
        // An app or OAuth login without a token role: its power is not described here.
        _ => None,
    };
    if let Some(mut s) = scopes {
        s.sort();
        s.dedup();
        v.can_write = Some(!s.is_empty());
        v.write_scopes = s;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_scopes_of_each_role() {
        let user = r#"{"type":"user","name":"alice","orgs":[
            {"name":"acme","roleInOrg":"write"},{"name":"fans","roleInOrg":"read"}],
            "auth":{"type":"access_token","accessToken":{"displayName":"laptop","role":"write"}}}"#;
        let v = parse_whoami(user);
        assert_eq!(v.status, Status::Live);
        assert_eq!(v.owner.as_deref(), Some("alice"));
        assert_eq!(v.orgs, ["acme", "fans"]);
        assert_eq!(v.token_name.as_deref(), Some("laptop"));
        assert_eq!(v.can_write, Some(true));
        assert_eq!(v.write_scopes, ["org:acme", "user:alice"]);

        let read = user.replace(r#""role":"write""#, r#""role":"read""#);
        let v = parse_whoami(&read);
        assert_eq!((v.can_write, v.write_scopes.len()), (Some(false), 0));

        let fine = r#"{"type":"user","name":"bob","orgs":[],
            "auth":{"accessToken":{"displayName":"ci","role":"fineGrained",
            "expiration":"2031-01-01T00:00:00.000Z",
            "fineGrained":{"global":["discussion.write"],"scoped":[
              {"entity":{"type":"model","name":"acme/bert"},"permissions":["repo.content.read","repo.write"]},
              {"entity":{"type":"org","name":"acme"},"permissions":["repo.content.read"]}]}}}}"#;
        let v = parse_whoami(fine);
        assert_eq!(v.write_scopes, ["model:acme/bert"]);
        assert_eq!(v.expires.as_deref(), Some("2031-01-01T00:00:00.000Z"));
        assert_eq!(parse_whoami("<html>").status, Status::Unknown);
    }

    #[test]
    fn tokens_travel_only_encrypted_or_to_this_machine() {
        assert!(check_endpoint("https://huggingface.co").is_ok());
        assert!(check_endpoint("http://127.0.0.1:8080").is_ok());
        assert!(check_endpoint("http://[::1]:9/x").is_ok());
        assert!(check_endpoint("http://localhost").is_ok());
        assert!(check_endpoint("http://mirror.lan:8080").is_err());
        assert!(check_endpoint("http://127.0.0.1.evil.org").is_err());
        assert!(check_endpoint("ftp://x").is_err());
    }
}
