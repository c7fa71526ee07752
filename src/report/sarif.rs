//! SARIF 2.1.0, as GitHub code scanning accepts it: one rule per rule id with help text,
//! results with physical locations relative to the `HOME` base, and fingerprints that stay
//! the same across runs.

use super::advice;
use crate::audit::Report;
use crate::finding::{Finding, Severity};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

fn level(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` (0.0–10.0) that maps back to the same severity there.
fn security_severity(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// Percent-encodes a path for a URI reference (RFC 3986), byte by byte, with a secret in a
/// name masked.
fn uri_encode(path: &Path) -> String {
    let mut out = String::new();
    for &b in crate::redact::mask_bytes(path.as_os_str().as_bytes()).iter() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn rule(f: &Finding) -> Value {
    let title = f.rule.replace('-', " ");
    let doc = format!("docs/checks/{}.md", f.category.as_str());
    let help = advice(f.category);
    json!({
        "id": f.rule,
        "name": f.rule.split('-').map(capitalize).collect::<String>(),
        "shortDescription": {"text": capitalize(&title)},
        "fullDescription": {"text": f.message},
        "help": {
            "text": help,
            "markdown": format!("{help}\n\nMore in hfguard's `{doc}` ({}).", f.category.title()),
        },
        "defaultConfiguration": {"level": level(f.severity)},
        "properties": {
            "tags": ["security", "secrets", f.category.as_str()],
            "security-severity": security_severity(f.severity),
            "precision": "high",
        },
    })
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn location(home: &Path, f: &Finding) -> Value {
    if let Some(path) = &f.path {
        let artifact = match path.strip_prefix(home) {
            Ok(rel) => json!({"uri": uri_encode(rel), "uriBaseId": "HOME"}),
            Err(_) => json!({"uri": format!("file://{}", uri_encode(path))}),
        };
        let mut physical = json!({"artifactLocation": artifact});
        if let Some(line) = f.line {
            physical["region"] = json!({"startLine": line});
        }
        return json!({"physicalLocation": physical});
    }
    let (name, kind) = match (f.pid, &f.variable) {
        (Some(pid), Some(var)) => (format!("pid {pid}/{var}"), "variable"),
        (Some(pid), None) => (format!("pid {pid}"), "process"),
        (None, Some(var)) => (var.clone(), "variable"),
        (None, None) => (f.rule.clone(), "module"),
    };
    json!({"logicalLocations": [{"name": name, "kind": kind}]})
}

pub fn render(report: &Report) -> crate::term::Text {
    let home = &report.home;
    let mut rules: BTreeMap<&str, (usize, Value)> = BTreeMap::new();
    let findings: Vec<&Finding> = report.findings.iter().collect();
    for f in &findings {
        if !rules.contains_key(f.rule.as_str()) {
            let idx = rules.len();
            rules.insert(&f.rule, (idx, rule(f)));
        }
    }
    let mut ordered: Vec<(usize, Value)> = rules.values().cloned().collect();
    ordered.sort_by_key(|(i, _)| *i);
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut text = f.message.clone();
            if let Some(secret) = &f.secret {
                text = format!("{text} Secret: {secret}.");
            }
            let mut partial = json!({"hfguardId/v2": f.id});
            if let Some(fp) = &f.fingerprint {
                partial["secretFingerprint/v2"] = json!(fp);
            }
            let mut result = json!({
                "ruleId": f.rule,
                "ruleIndex": rules[f.rule.as_str()].0,
                "level": level(f.severity),
                "message": {"text": text},
                "locations": [location(home, f)],
                "partialFingerprints": partial,
                "properties": {
                    "severity": f.severity.as_str(),
                    "category": f.category.as_str(),
                    "fixes": f.fixes.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                },
            });
            if let Some(reason) = &f.ignored {
                result["suppressions"] = json!([{"kind": "external", "justification": reason}]);
            }
            // The secret's rotation and verification, as in the JSON report's `secrets`.
            if let Some(item) = f
                .fingerprint
                .as_ref()
                .and_then(|fp| report.secrets.iter().find(|s| &s.fingerprint == fp))
            {
                result["properties"]["secret"] = json!({
                    "slot": item.slot,
                    "rotation": item.rotation,
                    "verification": item.verification,
                    "rotateAt": item.rotate_at,
                });
            }
            result
        })
        .collect();
    let mut home_uri = format!("file://{}", uri_encode(home));
    if !home_uri.ends_with('/') {
        home_uri.push('/');
    }
    let notifications: Vec<Value> = report
        .warnings
        .iter()
        .map(|w| json!({"level": "warning", "message": {"text": w}}))
        .collect();
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "hfguard",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": ordered.into_iter().map(|(_, r)| r).collect::<Vec<_>>(),
            }},
            "originalUriBaseIds": {"HOME": {"uri": home_uri}},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            // Every distinct secret (also replaced values found nowhere) and the history
            // guards, as in the JSON report.
            "properties": {
                "secrets": report.secrets,
                "guards": report.guards,
            },
        }],
    });
    crate::term::json(&doc)
}
