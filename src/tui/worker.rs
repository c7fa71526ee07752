//! Runs the state machine's effects off the UI thread — the audit, plans, fixes, undos,
//! re-audits, the keyring check, the watcher — and sends their results back as actions, so a
//! keyring unlock prompt or a 4,000-secret plan never freezes the screen.

use super::app::{Action, Effect};
use super::preview::{self, PlanShown};
use crate::audit::{self, ScanOptions, Sink};
use crate::finding::Finding;
use crate::fix::{self, Journal, Plan};
use crate::home::Home;
use crate::keystore::KeyStore;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, RwLock};

struct ChannelSink(Sender<Action>);

impl Sink for ChannelSink {
    fn finding(&self, f: &Finding) {
        let _ = self.0.send(Action::Found(f.clone()));
    }
    fn warning(&self, w: &str) {
        let _ = self.0.send(Action::Warning(w.to_string()));
    }
    fn progress(&self, files: u64) {
        let _ = self.0.send(Action::Progress(files));
    }
}

/// Runs effects on threads; results come back as actions.
#[derive(Clone)]
pub struct Worker {
    home: Arc<Home>,
    /// The options, with the configuration as it is now (an ignore changes it).
    options: Arc<RwLock<ScanOptions>>,
    config_path: PathBuf,
    tx: Sender<Action>,
    plans: Arc<Mutex<HashMap<String, Plan>>>,
    /// Watcher generation: a watcher thread whose number is no longer current stops at its
    /// next event.
    watch_gen: Arc<AtomicU64>,
    /// The last file whose lines the details showed, redacted once: moving through 4,000
    /// findings of one history does not read and redact it 4,000 times.
    shown: Arc<Mutex<Option<Shown>>>,
}

/// A file's content with every secret redacted, as it was when read.
struct Shown {
    path: PathBuf,
    len: u64,
    modified: Option<std::time::SystemTime>,
    redacted: Vec<u8>,
}

impl Worker {
    pub fn new(home: Home, options: ScanOptions, config_path: PathBuf, tx: Sender<Action>) -> Self {
        Worker {
            home: Arc::new(home),
            options: Arc::new(RwLock::new(options)),
            config_path,
            tx,
            plans: Arc::default(),
            watch_gen: Arc::default(),
            shown: Arc::default(),
        }
    }

    fn options(&self) -> ScanOptions {
        self.options.read().unwrap().clone()
    }

    /// Runs `effect` on this thread and returns its result: how tests and benchmarks drive
    /// the real state machine with real effects, without a terminal. (Not for `Watch`, which
    /// runs until it is stopped.)
    pub fn run_now(&self, effect: Effect) -> Option<Action> {
        self.work(effect)
    }

    pub fn run(&self, effect: Effect) {
        let w = self.clone();
        std::thread::spawn(move || {
            let msg = w.work(effect);
            if let Some(msg) = msg {
                let _ = w.tx.send(msg);
            }
        });
    }

    /// Keeps `plan` for `Apply` and says it is ready, as the preview shows it.
    fn ready(&self, request: u64, plan: Plan) -> Action {
        let shown = PlanShown {
            plan_id: plan.id.clone(),
            findings: plan.findings.clone(),
            notes: plan.notes.clone(),
            refused: plan
                .refused
                .iter()
                .map(|(id, why)| {
                    let at = plan.places.get(id).cloned().unwrap_or_else(|| id.clone());
                    (at, why.clone())
                })
                .collect(),
            changes: preview::changes_only(&fix::preview(&plan)),
        };
        let empty = plan.is_empty();
        self.plans.lock().unwrap().insert(plan.id.clone(), plan);
        Action::PlanReady {
            request,
            plan: shown,
            empty,
        }
    }

    /// `R`'s new token for `slot`: checked as `hfguard rotate` checks it (and sent to its
    /// provider first when `verify`), then the rotation planned with every open place that
    /// still holds the old token.
    fn rotation(
        &self,
        request: u64,
        slot: &str,
        new: &crate::secret::Secret,
        findings: &[Finding],
        verify: bool,
    ) -> Action {
        let home = &*self.home;
        let refused = |reason: String| Action::RotationRefused { request, reason };
        let old = match KeyStore::new(home).get(slot) {
            Ok(old) => old,
            Err(e) => return refused(format!("cannot read `{slot}` from the keyring: {e}")),
        };
        let provider = crate::slots::provider_of(&crate::slots::load(home), slot);
        let settings = crate::verify::Settings::for_home(home);
        let check = verify.then_some(&settings);
        let checked = match crate::rotation::check_new_token(
            new.expose(),
            slot,
            &provider,
            &old,
            check,
            false,
        ) {
            Ok(c) => c,
            Err(r) => {
                return refused(match r.force_hint() {
                    Some(_) => format!("{r} (`hfguard rotate {slot} --force` goes ahead anyway)"),
                    None => r.to_string(),
                })
            }
        };
        let choices = fix::rotation_choices(findings, &old);
        let plan = fix::plan_rotation(home, slot, &checked.secret, &old, &choices, findings);
        self.ready(request, plan)
    }

    fn work(&self, effect: Effect) -> Option<Action> {
        let home = &*self.home;
        match effect {
            Effect::Watch(on) => {
                let mine = self.watch_gen.fetch_add(1, Ordering::SeqCst) + 1;
                if !on {
                    return None;
                }
                let wopts = crate::watch::WatchOptions::default();
                let tx = self.tx.clone();
                let gen = self.watch_gen.clone();
                let mut emit = |ev: crate::watch::Event| {
                    gen.load(Ordering::SeqCst) == mine && tx.send(Action::Watch(ev)).is_ok()
                };
                crate::watch::watch(home, &self.options(), &wopts, &mut emit)
                    .err()
                    .map(Action::Failed)
            }
            Effect::Scan => {
                let _ = self.tx.send(Action::ScanStarted);
                let report = audit::run(home, &self.options(), &ChannelSink(self.tx.clone()));
                Some(Action::ScanDone(Box::new(report)))
            }
            Effect::CheckKeyring => Some(Action::Keyring(KeyStore::new(home).available().is_ok())),
            Effect::Plan { request, choices } => {
                Some(self.ready(request, fix::plan(home, &choices)))
            }
            Effect::Rotate {
                request,
                slot,
                new,
                findings,
                verify,
            } => Some(self.rotation(request, &slot, &new, &findings, verify)),
            Effect::LoadSlots => Some(Action::Slots(crate::slots::load(home))),
            Effect::Verify {
                fingerprint,
                provider,
                places,
            } => {
                let result = crate::plaintext::of(home, &fingerprint, &places).map(|secret| {
                    crate::verify::verify_secret(
                        &crate::verify::Settings::for_home(home),
                        provider.as_deref(),
                        &secret,
                    )
                });
                Some(Action::Verified {
                    fingerprint,
                    result,
                })
            }
            Effect::Open(url) => {
                // Best effort: the popup shows the address whatever happens.
                crate::child::open_in_browser(home, &url);
                None
            }
            Effect::MarkRevoked {
                slot,
                fingerprint,
                verify,
            } => {
                let settings = crate::verify::Settings::for_home(home);
                let check = verify.then_some(&settings);
                let result =
                    crate::rotation::confirm_revoked(home, &slot, Some(&fingerprint), check)
                        .map_err(|e| match e {
                            e @ crate::rotation::NotRevoked::Unchecked { .. } => format!(
                                "{e} (`hfguard rotate --done --force {slot}` marks it anyway)"
                            ),
                            e => e.to_string(),
                        });
                Some(Action::RevokeMarked { slot, result })
            }
            Effect::Discard(id) => {
                self.plans.lock().unwrap().remove(&id);
                None
            }
            Effect::Apply(id) => {
                let plan = self.plans.lock().unwrap().remove(&id)?;
                let keys = KeyStore::new(home);
                let journal = Journal::new(home);
                let paths: Vec<PathBuf> = plan.files.iter().map(|fc| fc.path.clone()).collect();
                Some(match fix::apply(&plan, &keys, &journal) {
                    Ok(outcome) => {
                        let findings = if outcome.failed.is_empty() {
                            plan.findings.clone()
                        } else {
                            plan.files
                                .iter()
                                .filter(|fc| outcome.changed.contains(&fc.path))
                                .flat_map(|fc| fc.findings.clone())
                                .collect()
                        };
                        Action::Applied {
                            fix_id: plan.id.clone(),
                            findings,
                            failed: outcome.failed.iter().map(|e| e.to_string()).collect(),
                            paths,
                            error: None,
                        }
                    }
                    Err(e) => Action::Applied {
                        fix_id: plan.id.clone(),
                        findings: Vec::new(),
                        failed: Vec::new(),
                        paths: Vec::new(),
                        error: Some(match e {
                            e @ fix::ApplyError::Unrecorded { .. } => e.to_string(),
                            e => format!("{e}. No file changed."),
                        }),
                    },
                })
            }
            Effect::Undo(id) => {
                let keys = KeyStore::new(home);
                let journal = Journal::new(home);
                let entry = journal.load(&id).ok();
                let findings = entry
                    .as_ref()
                    .map(|e| e.findings.clone())
                    .unwrap_or_default();
                let paths: Vec<PathBuf> = entry
                    .map(|e| e.files.into_iter().map(|r| r.path).collect())
                    .unwrap_or_default();
                Some(match fix::undo(&id, &keys, &journal) {
                    Ok(o) => Action::Undone {
                        fix_id: id,
                        findings,
                        failed: o
                            .failed
                            .iter()
                            .chain(&o.notes)
                            .map(|e| e.to_string())
                            .collect(),
                        paths,
                        error: None,
                    },
                    Err(e) => Action::Undone {
                        error: Some(format!("Undo {id}: {e}")),
                        fix_id: id,
                        findings: Vec::new(),
                        failed: Vec::new(),
                        paths: Vec::new(),
                    },
                })
            }
            Effect::Reaudit(wanted) => {
                let (report, paths) = audit::run_paths(home, &self.options(), &wanted);
                Some(Action::Reaudited {
                    paths,
                    findings: report.findings,
                })
            }
            Effect::Ignore { id, reason } => Some(
                match crate::config::set_ignore(&self.config_path, &id, reason.as_deref()) {
                    Ok(()) => {
                        // Later audits (a re-audit, `r`) see the ignore too.
                        if let Ok(c) = crate::config::Config::load(&self.config_path, false) {
                            self.options.write().unwrap().config = c;
                        }
                        Action::IgnoreSaved { id, reason }
                    }
                    Err(e) => Action::Failed(e),
                },
            ),
            Effect::LoadContext(f) => {
                let (path, line) = (f.path.as_ref()?, f.line?);
                let meta = std::fs::symlink_metadata(path).ok()?;
                let (len, modified) = (meta.len(), meta.modified().ok());
                let mut shown = self.shown.lock().unwrap();
                let fresh = shown
                    .as_ref()
                    .is_some_and(|s| s.path == *path && s.len == len && s.modified == modified);
                if !fresh {
                    let mut buf = Vec::new();
                    match crate::fsread::read_regular(path, 8 << 20, &mut buf) {
                        Ok(crate::fsread::ReadOutcome::Read { .. }) => {}
                        _ => return None,
                    }
                    *shown = Some(Shown {
                        path: path.clone(),
                        len,
                        modified,
                        redacted: fix::redact_all(&buf),
                    });
                }
                let text = fix::shown_line(&shown.as_ref()?.redacted, line)?;
                Some(Action::Context {
                    id: f.id.clone(),
                    line: text,
                })
            }
            Effect::Quit => None,
        }
    }
}
