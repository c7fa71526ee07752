//! Rotation: whether a secret must be replaced by a new one, and where its replacement
//! stands.
//!
//! Fixing a file stops an exposure; it does not undo it. A secret that was readable by
//! others, in a history, on a process's command line, in a synced folder or tracked by git
//! may have been copied already: it must be *rotated* (a new one issued, the old one
//! revoked). [`state`] answers, for one secret, from the reasons its places give
//! ([`Evidence`]), the credential slots (a slot's `previous` values are secrets that were
//! replaced, and wait to be revoked) and a verification, if one was made. The reports, the
//! `rotate` command and the dashboard share it, and the two steps of a rotation that both
//! front ends take: [`check_new_token`] (is the pasted token fit to replace the old one?) and
//! [`confirm_revoked`] (the old one is revoked: the rotation is done).

mod exposure;
pub mod gitindex;
mod new_token;
mod revoked;

pub use exposure::Evidence;
pub use new_token::{check_new_token, Checked, Refusal};
pub use revoked::{confirm_revoked, NotRevoked};

use crate::slots::Slot;
use crate::verify::{Status, Verification};
use serde::Serialize;
use std::collections::BTreeSet;

/// Why a secret must be rotated (kebab-case in the report).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// A file holding it can be read by another user (its mode, or its owner).
    ReadableByOthers,
    /// It is in a shell, REPL or assistant history.
    InHistory,
    /// It is on a process's command line, which every user can read.
    InProcessList,
    /// It is in a folder a sync client copies to other machines (Dropbox, OneDrive, …).
    SyncedFolder,
    /// It is in a file git tracks, so it is in commits that get pushed.
    GitTracked,
}

impl Reason {
    /// For people: "rotate: in a history, readable by others".
    pub fn describe(self) -> &'static str {
        match self {
            Reason::ReadableByOthers => "readable by others",
            Reason::InHistory => "in a history",
            Reason::InProcessList => "in a process list",
            Reason::SyncedFolder => "in a synced folder",
            Reason::GitTracked => "tracked by git",
        }
    }

    /// Whether others can read the secret in that place (what makes a live, writing token
    /// critical there); a history is private to its owner unless its mode says otherwise.
    pub fn others_can_read(self) -> bool {
        !matches!(self, Reason::InHistory)
    }
}

/// Where a secret's rotation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Exposed (see the reasons): issue a new one and revoke this one.
    Needed,
    /// Only ever in private places, or already dead (verified revoked).
    NotNeeded,
    /// Replaced in its slot by a new value, but not yet revoked at the provider.
    PendingRevoke,
    /// Replaced, and revoked (a verification said 401, or the user confirmed).
    Done,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Needed => "needed",
            State::NotNeeded => "not-needed",
            State::PendingRevoke => "pending-revoke",
            State::Done => "done",
        }
    }
}

/// The `rotation` object of a report's secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rotation {
    pub state: State,
    /// Why it must be (or had to be) rotated, from where it is now; sorted.
    pub reasons: Vec<Reason>,
    /// The slot whose value it was, when it was replaced by a rotation.
    pub replaced_in: Option<String>,
    /// When it was replaced (RFC 3339).
    pub replaced_at: Option<String>,
    /// When it was confirmed revoked (RFC 3339).
    pub revoked_at: Option<String>,
}

impl Rotation {
    /// One phrase for people: "needed (in a history, readable by others)".
    pub fn describe(&self) -> String {
        let reasons = self
            .reasons
            .iter()
            .map(|r| r.describe())
            .collect::<Vec<_>>()
            .join(", ");
        match self.state {
            State::Needed => format!("rotation needed ({reasons})"),
            State::NotNeeded if reasons.is_empty() => {
                "no rotation needed (never readable by others, in a history, a process list or a shared place)".into()
            }
            State::NotNeeded => "no rotation needed (it is revoked)".into(),
            State::PendingRevoke => format!(
                "replaced{}{}, not yet revoked",
                self.replaced_in
                    .as_deref()
                    .map(|s| format!(" in slot `{}`", crate::term::safe_line(s)))
                    .unwrap_or_default(),
                self.replaced_at
                    .as_deref()
                    .map(|t| format!(" on {t}"))
                    .unwrap_or_default()
            ),
            State::Done => format!(
                "rotated{}",
                self.revoked_at
                    .as_deref()
                    .map(|t| format!(", revoked {t}"))
                    .unwrap_or_default()
            ),
        }
    }
}

/// Where the rotation of the secret with `fingerprint` stands: `reasons` from its places
/// (see [`Evidence::of`]), `slots` (hfguard's credential slots: a `previous` value is a
/// replaced secret), and `verification`, when the provider was asked.
///
/// - a slot's previous value: `done` when it was confirmed revoked or a verification says
///   revoked (at that time), else `pending-revoke`;
/// - a secret verified revoked: `not-needed` (it is dead; its leftovers are still findings);
/// - any reason: `needed`; none: `not-needed`.
pub fn state(
    fingerprint: &str,
    reasons: BTreeSet<Reason>,
    slots: &[Slot],
    verification: Option<&Verification>,
) -> Rotation {
    let reasons: Vec<Reason> = reasons.into_iter().collect();
    let revoked = verification.filter(|v| v.status == Status::Revoked);
    let previous = slots.iter().find_map(|s| {
        s.previous
            .iter()
            .find(|p| p.fingerprint == fingerprint)
            .map(|p| (s, p))
    });
    if let Some((slot, p)) = previous {
        let revoked_at = p
            .revoked_at
            .clone()
            .or_else(|| revoked.map(|v| v.checked_at.clone().unwrap_or_default()));
        return Rotation {
            state: if revoked_at.is_some() {
                State::Done
            } else {
                State::PendingRevoke
            },
            reasons,
            replaced_in: Some(slot.name.clone()),
            replaced_at: Some(p.replaced_at.clone()),
            revoked_at,
        };
    }
    let state = if revoked.is_some() || reasons.is_empty() {
        State::NotNeeded
    } else {
        State::Needed
    };
    Rotation {
        state,
        reasons,
        replaced_in: None,
        replaced_at: None,
        revoked_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slots::Previous;

    #[test]
    fn rotation_moves_from_needed_to_pending_revoke_to_done() {
        let exposed: BTreeSet<Reason> = [Reason::InHistory].into();
        assert_eq!(
            state("old", exposed.clone(), &[], None).state,
            State::Needed
        );
        assert_eq!(
            state("old", BTreeSet::new(), &[], None).state,
            State::NotNeeded
        );

        let mut slot = Slot {
            name: "huggingface".into(),
            previous: vec![Previous {
                fingerprint: "old".into(),
                redacted: "hf_…AbCd".into(),
                replaced_at: "2026-01-02T03:04:05Z".into(),
                revoked_at: None,
            }],
            ..Slot::default()
        };
        let r = state("old", exposed.clone(), std::slice::from_ref(&slot), None);
        assert_eq!(r.state, State::PendingRevoke);
        assert_eq!(r.replaced_in.as_deref(), Some("huggingface"));
        // A verification that says 401 confirms the revocation.
        let mut dead = Verification::with_status(Status::Revoked);
        dead.checked_at = Some("2026-01-03T00:00:00Z".into());
        let r = state(
            "old",
            exposed.clone(),
            std::slice::from_ref(&slot),
            Some(&dead),
        );
        assert_eq!(
            (r.state, r.revoked_at.as_deref()),
            (State::Done, Some("2026-01-03T00:00:00Z"))
        );
        // So does the user.
        slot.previous[0].revoked_at = Some("2026-01-04T00:00:00Z".into());
        let r = state("old", BTreeSet::new(), &[slot], None);
        assert_eq!(r.state, State::Done);
        // A live-looking secret verified dead needs no rotation.
        assert_eq!(
            state("x", exposed, &[], Some(&dead)).state,
            State::NotNeeded
        );
    }
}
