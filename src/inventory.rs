//! The secrets of an audit as first-class items: one per distinct secret (fingerprint), with
//! the findings that hold it, the keyring slot that holds it, where its rotation stands and
//! what its provider said about it. The report's `secrets` array, its SECRETS section, the
//! SARIF properties and the Markdown "rotate these, here" list are this list.
//!
//! A verification also sets the severity of the findings that hold a secret: power decides
//! ([`apply_power`]).

use crate::finding::{Finding, Severity};
use crate::home::Home;
use crate::rotation::{self, Evidence, Rotation, State};
use crate::secret::Secret;
use crate::slots::{self, Slot};
use crate::verify::{Candidate, Status, Verification};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One distinct secret: an item of the report's `secrets` array (docs/report-schema.md).
#[derive(Clone, Debug, Serialize)]
pub struct SecretItem {
    pub fingerprint: String,
    pub provider: Option<String>,
    /// Redacted, as in findings.
    pub secret: String,
    /// Ids of the findings that hold it (empty for a replaced value found nowhere any more).
    pub places: Vec<String>,
    /// The keyring slot holding it now, if any.
    pub slot: Option<String>,
    pub rotation: Rotation,
    pub verification: Verification,
    /// Where its provider issues and revokes tokens.
    pub rotate_at: Option<String>,
}

impl SecretItem {
    /// Whether a person should act on it: rotate it, or revoke the replaced value.
    pub fn wants_action(&self) -> bool {
        matches!(self.rotation.state, State::Needed | State::PendingRevoke)
    }
}

/// The items of `findings` (each distinct secret once, in the order the findings come) and
/// then the replaced values of `slots` found nowhere else, with `verifications` by
/// fingerprint (absent: not checked).
pub fn items(
    findings: &[Finding],
    slots: &[Slot],
    evidence: &mut Evidence,
    verifications: &BTreeMap<String, Verification>,
) -> Vec<SecretItem> {
    let mut order: Vec<&str> = Vec::new();
    let mut groups: BTreeMap<&str, (Vec<&Finding>, BTreeSet<rotation::Reason>)> = BTreeMap::new();
    for f in findings {
        let Some(fp) = f.fingerprint.as_deref() else {
            continue;
        };
        let g = groups.entry(fp).or_insert_with(|| {
            order.push(fp);
            Default::default()
        });
        g.0.push(f);
        g.1.extend(evidence.of(f));
    }
    let rotate_url = |provider: Option<&str>| {
        provider.and_then(|p| crate::rules::builtin().rotation_url(p).map(str::to_string))
    };
    let mut out: Vec<SecretItem> = order
        .into_iter()
        .map(|fp| {
            let (held, reasons) = groups.remove(fp).expect("grouped above");
            let first = held[0];
            let verification = verifications.get(fp).cloned().unwrap_or_default();
            SecretItem {
                fingerprint: fp.to_string(),
                provider: first.provider.clone(),
                secret: first.secret.clone().unwrap_or_default(),
                places: held.iter().map(|f| f.id.clone()).collect(),
                slot: slots::holding(slots, fp).map(|s| s.name.clone()),
                rotation: rotation::state(fp, reasons, slots, Some(&verification)),
                rotate_at: rotate_url(first.provider.as_deref()),
                verification,
            }
        })
        .collect();
    for slot in slots {
        for p in &slot.previous {
            if out.iter().any(|i| i.fingerprint == p.fingerprint) {
                continue;
            }
            let verification = verifications
                .get(&p.fingerprint)
                .cloned()
                .unwrap_or_default();
            out.push(SecretItem {
                fingerprint: p.fingerprint.clone(),
                provider: slot.provider.clone(),
                secret: p.redacted.clone(),
                places: Vec::new(),
                slot: None,
                rotation: rotation::state(
                    &p.fingerprint,
                    BTreeSet::new(),
                    slots,
                    Some(&verification),
                ),
                rotate_at: rotate_url(slot.provider.as_deref()),
                verification,
            });
        }
    }
    out
}

/// Severity follows power, once a provider was asked: a revoked secret's findings become
/// `info` ("dead token: clean up the leftovers"); a live secret that can write, in a place
/// others can read, becomes `critical` there.
pub fn apply_power(
    findings: &mut [Finding],
    evidence: &mut Evidence,
    verifications: &BTreeMap<String, Verification>,
) {
    for f in findings.iter_mut() {
        let Some(v) = f.fingerprint.as_ref().and_then(|fp| verifications.get(fp)) else {
            continue;
        };
        if v.status == Status::Revoked {
            f.severity = Severity::Info;
            f.message
                .push_str(" Verified revoked (401): a dead token; clean up the leftovers.");
        } else if v.can_write_live() && evidence.of(f).iter().any(|r| r.others_can_read()) {
            f.severity = Severity::Critical;
            f.message.push_str(&format!(
                " Verified live, and it can write ({}): others can read it here, so rotate it now.",
                crate::term::safe_line(&v.write_scopes.join(", "))
            ));
        }
    }
}

/// The replaced values waiting to be revoked (`pending-revoke`), read back from the keyring
/// backups a rotation keeps for undo, so that a verification can confirm the revocation.
/// Nothing when no keyring answers.
pub fn replaced_values(home: &Home, items: &[SecretItem]) -> Vec<Candidate> {
    let pending: Vec<&SecretItem> = items
        .iter()
        .filter(|i| i.rotation.state == State::PendingRevoke)
        .collect();
    if pending.is_empty() {
        return Vec::new();
    }
    let keys = crate::keystore::KeyStore::new(home);
    if keys.available().is_err() {
        return Vec::new();
    }
    pending
        .into_iter()
        .filter_map(|i| {
            let secret: Secret = keys.get_backup(&i.fingerprint).ok()?;
            (secret.fingerprint() == i.fingerprint).then(|| Candidate {
                fingerprint: i.fingerprint.clone(),
                provider: i.provider.clone(),
                secret,
            })
        })
        .collect()
}

/// Whether any verification in `items` was made (the text report then shows results).
pub fn any_checked(items: &[SecretItem]) -> bool {
    items
        .iter()
        .any(|i| i.verification.status != Status::NotChecked)
}
