//! Variables of this process that hold a secret: reported by name, never by value.

use crate::collect::Collector;
use crate::finding::{Category, Finding, Severity};
use crate::rules::{self, SecretMatch};
use crate::secret::Secret;
use std::os::unix::ffi::OsStrExt;

/// Variables huggingface_hub and friends read the Hugging Face token from.
pub const HF_VARIABLES: [&str; 4] = [
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HUGGINGFACEHUB_API_TOKEN",
    "HF_API_TOKEN",
];

/// Secrets in `NAME=value` (one variable), the way every environment is searched.
pub fn secrets_in_assignment(name: &str, value: &[u8]) -> Vec<SecretMatch> {
    let rules = rules::builtin();
    let mut text = Vec::with_capacity(name.len() + 1 + value.len());
    text.extend_from_slice(name.as_bytes());
    text.push(b'=');
    text.extend_from_slice(value);
    let mut out = Vec::new();
    rules.find(&text, None, &mut out);
    if out.is_empty() && HF_VARIABLES.contains(&name) {
        let v = String::from_utf8_lossy(value).trim().to_string();
        if v.len() >= 8 && !rules.is_placeholder_token(&v) {
            if let Some(rule) = rules.by_id("hf-token") {
                let prefix = if v.starts_with("hf_") { 3 } else { 0 };
                out.push(SecretMatch {
                    rule,
                    offset: name.len() + 1,
                    secret: Secret::new(v, prefix),
                    provider: Some("huggingface".into()),
                });
            }
        }
    }
    out
}

/// Reports each variable of the audited environment that holds a secret (`info`: that is how
/// tokens are meant to be passed, but the user should know where they come from).
pub fn scan(c: &Collector) {
    let rules = rules::builtin();
    let mut vars: Vec<_> = c.home.vars().collect();
    vars.sort();
    for (name, value) in vars {
        for m in secrets_in_assignment(name, value.as_bytes()) {
            let rule = &rules.rules[m.rule];
            let rule_id = format!("{}-in-environment", rule.id);
            let fp = m.secret.fingerprint();
            c.keep(&m.secret, m.provider.as_deref());
            let legacy = Finding::legacy_id(&rule_id, name.as_bytes(), Some(&m.secret), 1);
            c.add_legacy(
                Finding {
                    id: Finding::compute_id(&rule_id, name.as_bytes(), Some(&fp), 1),
                    rule: rule_id,
                    category: Category::Environment,
                    severity: Severity::Info,
                    provider: m.provider.clone(),
                    path: None,
                    line: None,
                    variable: Some(name.clone()),
                    pid: None,
                    mode: None,
                    secret: Some(m.secret.redacted()),
                    fingerprint: Some(fp),
                    message: format!(
                        "{} is set in this environment ({name}): fine for a session, but if a start-up file exports it, keep it in the OS keyring and pass it only to the programs that need it.",
                        rule.name
                    ),
                    fixes: vec![],
                    ignored: None,
                    label: None,
                    span: None,
                },
                legacy,
            );
        }
    }
}
