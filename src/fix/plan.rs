//! From chosen findings to the exact changes: new file contents, modes, removals and
//! keyring slots. Nothing is changed here.
//!
//! The planner finds each finding's secret again ([`super::locate`]), gives it a slot
//! ([`crate::slots::Allocator`]: the slot that holds it already, the slot of the credential
//! it is a new value of, or a new one), and hands the file to the consumer module that knows
//! how the programs reading that file keep working ([`super::consumers`]): one module per
//! kind of consumer, so "what happens to my `.netrc`" has one file to open.

use super::atomic::{self, Snapshot};
use super::binary::{self, SelfCommand};
use super::consumers;
use super::locate::{locate, Located};
use super::model::{Change, FileChange, Keyring, Plan, Replaced, TokenToStore};
use crate::finding::{Finding, FixKind, Severity};
use crate::home::Home;
use crate::keystore::KeyStore;
use crate::kind::FileKind;
use crate::secret::Secret;
use crate::slots::{self, Allocator, Consumer, Want};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// A change to a span of a file's bytes.
pub(super) struct Edit {
    pub start: usize,
    pub end: usize,
    pub replacement: Vec<u8>,
}

impl Edit {
    pub fn replace(start: usize, end: usize, with: impl Into<Vec<u8>>) -> Edit {
        Edit {
            start,
            end,
            replacement: with.into(),
        }
    }

    pub fn insert(at: usize, text: impl Into<Vec<u8>>) -> Edit {
        Edit::replace(at, at, text)
    }
}

/// A file the plan read, and the edits planned on it.
pub(super) struct FileState {
    pub data: Zeroizing<Vec<u8>>,
    pub snap: Snapshot,
    pub kind: FileKind,
    pub edits: Vec<Edit>,
    pub findings: Vec<String>,
    /// Its rewrite waits for this file's (git's config before a credential line goes).
    pub needs: Option<PathBuf>,
    /// Where the located secrets are.
    pub secrets: Vec<(usize, usize)>,
}

pub(super) struct Planner<'a> {
    pub home: &'a Home,
    /// What may change in the home, and as whom (see `target.rs`).
    target: super::Target,
    pub plan: Plan,
    files: BTreeMap<PathBuf, FileState>,
    chmods: BTreeMap<PathBuf, (u32, u32, Vec<String>)>,
    pub slots: Allocator,
    pub git: consumers::git::Wiring,
    pub lookups: consumers::shell::Blocks,
    /// Fingerprint of the token huggingface_hub would use, of those in plaintext.
    hub: Option<String>,
    keyring: Option<Result<(), String>>,
    keys: KeyStore,
    command: Option<SelfCommand>,
    pub today: String,
}

/// Plans the fixes `choices` (finding, fix kind) on `home`. Which token is the one
/// huggingface_hub uses is worked out from a quick audit of the known locations.
pub fn plan(home: &Home, choices: &[(Finding, FixKind)]) -> Plan {
    let needs_context = choices
        .iter()
        .any(|(f, k)| *k != FixKind::Chmod && f.provider.as_deref() == Some("huggingface"));
    if !needs_context {
        return plan_in(home, choices, &[]);
    }
    let options = crate::audit::ScanOptions {
        quick: true,
        skip_probes: vec!["processes".into()],
        ..Default::default()
    };
    let context = crate::audit::run(home, &options, &crate::audit::NoSink);
    plan_in(home, choices, &context.findings)
}

/// [`plan`] with the audit's findings at hand (`fix` has just made a report).
pub fn plan_in(home: &Home, choices: &[(Finding, FixKind)], findings: &[Finding]) -> Plan {
    plan_all(home, choices, findings, None)
}

/// A rotation (`hfguard rotate`): slot `name` gets `new` instead of `old` (its value now), and
/// `choices` — the places that still hold the old value in plaintext — are rewired to the slot
/// or redacted, in one fix that undo reverses whole.
pub fn plan_rotation(
    home: &Home,
    name: &str,
    new: &Secret,
    old: &Secret,
    choices: &[(Finding, FixKind)],
    findings: &[Finding],
) -> Plan {
    let old = (old.fingerprint(), old.redacted());
    plan_all(home, choices, findings, Some((name, new, old)))
}

/// The places of `findings` that still hold `old` and that a rotation changes: each with
/// its recommended fix (a lookup of the slot where a program reads it, a redaction where it
/// is only recorded). Ignored findings stay as they are, and so do `info` ones that no
/// keyring move applies to (a dead token's leftovers).
pub fn rotation_choices(findings: &[Finding], old: &Secret) -> Vec<(Finding, FixKind)> {
    let old_fp = old.fingerprint();
    findings
        .iter()
        .filter(|f| f.fingerprint.as_deref() == Some(old_fp.as_str()) && f.ignored.is_none())
        .filter(|f| f.severity != Severity::Info || f.fixes.contains(&FixKind::Keyring))
        .filter_map(|f| f.fixes.first().map(|k| (f.clone(), *k)))
        .collect()
}

fn plan_all(
    home: &Home,
    choices: &[(Finding, FixKind)],
    findings: &[Finding],
    rotation: Option<(&str, &Secret, (String, String))>,
) -> Plan {
    let now = crate::time::now_rfc3339();
    let mut p = Planner {
        home,
        target: super::Target::of(home),
        plan: Plan::new(home.dir.clone()),
        files: BTreeMap::new(),
        chmods: BTreeMap::new(),
        slots: Allocator::new(slots::load(home)),
        git: Default::default(),
        lookups: Default::default(),
        hub: slots::hub_token(home, findings).map(|(fp, _)| fp),
        keyring: None,
        keys: KeyStore::new(home),
        command: None,
        today: now[..10].to_string(),
    };
    if let Some((name, new, old)) = rotation {
        p.slots.rotate(name, new, old);
    }
    // The secrets the places being fixed hold: none of them is a slot's old value to rotate
    // away, for those places keep using it.
    p.slots.still_used(
        choices
            .iter()
            .filter(|(f, k)| {
                *k == FixKind::Keyring
                    && FileKind::from_rule(&f.rule).is_some_and(|k| k.is_consumed())
            })
            .filter_map(|(f, _)| f.fingerprint.clone()),
    );
    // huggingface_hub's own token first, so the files around it are planned with its slot
    // known; then by file, in the order the audit found them.
    let mut order: Vec<&(Finding, FixKind)> = choices.iter().collect();
    order.sort_by_key(|(f, _)| f.fingerprint.is_none() || f.fingerprint != p.hub);
    let mut done: std::collections::HashSet<String> = std::collections::HashSet::new();
    // History guards are planned by `fix::guard`, on top of the other changes.
    let mut guards = Vec::new();
    for (f, kind) in order {
        p.plan
            .places
            .insert(f.id.clone(), crate::report::location(&home.dir, f));
        if !done.insert(f.id.clone()) {
            continue; // planned with another finding (the store helper's credential lines)
        }
        let r = match kind {
            FixKind::Chmod => p.chmod(f),
            FixKind::Keyring if f.rule == STORE_HELPER_RULE => {
                // git's `store` helper is fixed by moving the Hugging Face lines out of its
                // file: git then asks the keyring for huggingface.co.
                let lines: Vec<&Finding> = findings
                    .iter()
                    .filter(|g| {
                        FileKind::from_rule(&g.rule) == Some(FileKind::GitCredentials)
                            && g.provider.as_deref() == Some("huggingface")
                            && g.fingerprint.is_some()
                    })
                    .collect();
                if lines.is_empty() {
                    Err("git's plaintext store holds no Hugging Face credential now; nothing to move".into())
                } else {
                    lines
                        .into_iter()
                        .filter(|g| done.insert(g.id.clone()))
                        .try_for_each(|g| p.content(g, FixKind::Keyring))
                }
            }
            FixKind::Redact | FixKind::Keyring => p.content(f, *kind),
            FixKind::Guard => {
                guards.push(f);
                continue;
            }
        };
        match r {
            Ok(()) => p.plan.findings.push(f.id.clone()),
            Err(reason) => p.plan.refused.push((f.id.clone(), reason)),
        }
    }
    let mut plan = p.finish();
    super::guard::add_to(&mut plan, home, &guards);
    plan
}

impl<'a> Planner<'a> {
    fn chmod(&mut self, f: &Finding) -> Result<(), String> {
        let path = f.path.clone().ok_or("no file to change")?;
        let from = f
            .mode
            .as_deref()
            .and_then(|m| u32::from_str_radix(m, 8).ok())
            .ok_or("the finding has no mode")?;
        let to = match f.rule.as_str() {
            // startup-file-writable, home-writable, ssh-folder-writable, ssh-config-writable,
            // ssh-authorized-keys-writable: only write access for others goes.
            r if r.ends_with("-writable") => from & !0o022,
            "credential-folder-permissions" => from & !0o077 | 0o700,
            r if r.ends_with("-permissions") => (from & 0o100) | 0o600,
            _ => return Err("no permission change applies to this finding".into()),
        };
        if from == to {
            return Err("the mode is already right".into());
        }
        let is_dir = matches!(
            f.rule.as_str(),
            "credential-folder-permissions" | "home-writable"
        );
        if let Some(why) = self.target.refusal(&path, is_dir) {
            return Err(why);
        }
        let e = self.chmods.entry(path).or_insert((from, to, Vec::new()));
        // Two findings on one path (~/.ssh writable and too open): each only takes bits
        // away, so the mode that satisfies both keeps the bits both keep.
        e.1 &= to;
        e.2.push(f.id.clone());
        Ok(())
    }

    /// Reads `path` (once per plan) the safe way.
    pub fn load(&mut self, path: &Path, kind: FileKind) -> Result<&mut FileState, String> {
        if !self.files.contains_key(path) {
            let (data, snap) = atomic::read(&self.target, path).map_err(|e| e.reason)?;
            self.files.insert(
                path.to_path_buf(),
                FileState {
                    data: Zeroizing::new(data),
                    snap,
                    kind,
                    edits: Vec::new(),
                    findings: Vec::new(),
                    needs: None,
                    secrets: Vec::new(),
                },
            );
        }
        Ok(self.files.get_mut(path).expect("just inserted"))
    }

    /// A file already loaded.
    pub fn file(&self, path: &Path) -> &FileState {
        &self.files[path]
    }

    pub fn file_mut(&mut self, path: &Path) -> &mut FileState {
        self.files.get_mut(path).expect("loaded")
    }

    pub fn is_loaded(&self, path: &Path) -> bool {
        self.files.contains_key(path)
    }

    /// Adds the edits of one finding's fix to its file.
    pub fn commit(&mut self, path: &Path, edits: Vec<Edit>, finding: &str) {
        let st = self.file_mut(path);
        st.edits.extend(edits);
        if !st.findings.iter().any(|f| f == finding) {
            st.findings.push(finding.to_string());
        }
    }

    pub fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        if !self.plan.notes.contains(&note) {
            self.plan.notes.push(note);
        }
    }

    /// Whether the keyring answers; asked once per plan, before any keyring step is planned.
    pub fn need_keyring(&mut self) -> Result<(), String> {
        let keys = &self.keys;
        let r = self.keyring.get_or_insert_with(|| {
            keys.available().map_err(|e| match e {
                crate::keystore::KeyError::Unavailable(why) => why,
                other => other.to_string(),
            })
        });
        match r {
            Ok(()) => Ok(()),
            Err(_) => Err("needs a keyring (see the first note)".into()),
        }
    }

    /// How the files this plan writes call hfguard; a copy is installed first when the running
    /// binary lives in a build folder or a temporary place.
    pub fn command(&mut self) -> String {
        if self.command.is_none() {
            let c = binary::resolve(self.home);
            if let Some((to, from)) = &c.install {
                match std::fs::read(from) {
                    Ok(bytes) => {
                        let shown = crate::report::display_path(&self.home.dir, to);
                        self.plan.notes.insert(0, format!(
                            "hfguard is running from {}, which does not stay (a build or temporary folder): the plan installs a copy at {shown}, and the lookups call that copy. Put {} on your PATH to run it by name.",
                            crate::term::safe_line(&from.display().to_string()),
                            crate::report::display_path(&self.home.dir, to.parent().unwrap_or(to)),
                        ));
                        // The folders on the way (`~/.local`, `~/.local/bin`), outermost first.
                        let folders = super::model::folders_for(&self.home.dir, to);
                        let needs = folders.last().map(|fc| fc.path.clone());
                        self.plan.files.extend(folders);
                        let change = match atomic::read(&self.target, to) {
                            Ok((old, snap)) => Change::Rewrite {
                                before: snap,
                                original: Zeroizing::new(old),
                                after: bytes,
                            },
                            Err(_) => Change::Create {
                                after: bytes,
                                mode: 0o755,
                            },
                        };
                        self.plan.files.push(FileChange {
                            path: to.clone(),
                            change,
                            findings: Vec::new(),
                            needs,
                            secrets: Vec::new(),
                        });
                    }
                    Err(e) => self.note(format!(
                        "cannot copy hfguard to {}: {}; the lookups name it there anyway — install it with `hfguard install`",
                        to.display(),
                        crate::fsread::reason(&e)
                    )),
                }
            }
            self.command = Some(c);
        }
        self.command.as_ref().expect("just set").text.clone()
    }

    /// The slot `secret` would go to, without reserving it (to write lookups before the
    /// fix is known to go through).
    pub fn slot_name(&self, want: &Want, secret: &Secret) -> String {
        self.slots.clone().assign(want, secret)
    }

    /// Reserves the slot for `secret`.
    pub fn store(&mut self, want: &Want, secret: &Secret) -> String {
        self.slots.assign(want, secret)
    }

    /// A slot request for `f`'s secret: its provider, and whether huggingface_hub uses it.
    pub fn want(
        &self,
        f: &Finding,
        identity: String,
        label: Option<String>,
        serves: Consumer,
    ) -> Want {
        Want {
            provider: f.provider.clone(),
            identity,
            label,
            hub: self.is_hub(f),
            serves: Some(serves),
        }
    }

    /// Where the located secret starts and ends, and the line it starts on (start, end
    /// after its newline).
    pub fn secret_line(&self, path: &Path, loc: &Located) -> ((usize, usize), (usize, usize)) {
        let (s, e) = loc.first();
        ((s, e), line_bounds(&self.file(path).data, s))
    }

    /// Whether `f`'s secret is the token huggingface_hub uses.
    pub fn is_hub(&self, f: &Finding) -> bool {
        self.hub.is_some() && f.fingerprint == self.hub
    }

    fn content(&mut self, f: &Finding, fix: FixKind) -> Result<(), String> {
        // Another user's home: only the fixes that move no secret (see `owner.rs`).
        if let Some(why) = self.target.acting.keyring_refusal() {
            return Err(why);
        }
        let path = f.path.clone().ok_or("not in a file")?;
        let kind = FileKind::from_rule(&f.rule).ok_or("no content fix applies to this finding")?;
        if !consumers::fixes_for(kind, &path, f).contains(&fix) {
            return Err(format!(
                "the {} fix does not apply to {}",
                fix.as_str(),
                kind.description()
            ));
        }
        if fix == FixKind::Keyring {
            self.need_keyring()?;
        } else if self.need_keyring().is_err() {
            // A redaction runs without a keyring, but its secret cannot be kept for undo.
            self.note("No keyring keeps the redacted secrets, so `hfguard undo` cannot put them back (it restores everything else): they were exposed anyway, rotate them.");
        }
        let st = self.load(&path, kind)?;
        let container = crate::probes::files::is_text_container(&path, &st.data);
        let loc: Located = locate(&st.data, kind, f, container)?;
        consumers::plan(self, f, &path, kind, fix, &loc, container)?;
        let st = self.file_mut(&path);
        st.secrets
            .extend(loc.spans.iter().copied().chain(loc.encoded));
        Ok(())
    }

    fn finish(mut self) -> Plan {
        consumers::git::finish(&mut self);
        consumers::shell::finish(&mut self);
        for (path, (from, to, findings)) in std::mem::take(&mut self.chmods) {
            self.plan.files.push(FileChange {
                path,
                change: Change::Chmod { from, to },
                findings,
                needs: None,
                secrets: Vec::new(),
            });
        }
        for (path, mut st) in std::mem::take(&mut self.files) {
            if st.edits.is_empty() {
                continue; // read to check it (git's config), nothing to change
            }
            let after = apply_edits(&st.data, &mut st.edits);
            if let Err(why) = consumers::check_result(st.kind, &path, &st.data, &after) {
                for id in st.findings {
                    self.plan.refused.push((id.clone(), why.clone()));
                    self.plan.findings.retain(|f| *f != id);
                }
                continue;
            }
            let empty = after.iter().all(u8::is_ascii_whitespace);
            let change = if empty && st.kind.is_credential_store() {
                Change::Remove {
                    before: st.snap,
                    original: st.data,
                }
            } else {
                Change::Rewrite {
                    before: st.snap,
                    original: st.data,
                    after,
                }
            };
            // A chmod of the same file: needless when the file goes, after the rewrite
            // (which keeps the mode) otherwise.
            let chmod = self
                .plan
                .files
                .iter()
                .position(|f| f.path == path && matches!(f.change, Change::Chmod { .. }))
                .map(|i| self.plan.files.remove(i));
            let removed = matches!(change, Change::Remove { .. });
            self.plan.files.push(FileChange {
                path,
                change,
                findings: st.findings,
                needs: st.needs,
                secrets: st.secrets,
            });
            if let Some(c) = chmod.filter(|_| !removed) {
                self.plan.files.push(c);
            }
        }
        // A change others need goes first (the installed copy of hfguard, git's config); a
        // need on a file the plan does not change (git's config already sends git to the
        // keyring) is no need.
        let changed: Vec<PathBuf> = self.plan.files.iter().map(|f| f.path.clone()).collect();
        for f in &mut self.plan.files {
            f.needs = f
                .needs
                .take()
                .filter(|n| changed.contains(n) && *n != f.path);
        }
        let install = self
            .command
            .as_ref()
            .and_then(|c| c.install.as_ref().map(|(to, _)| to.clone()));
        // A file that calls the installed copy is written only once the copy is there: a
        // lookup naming a program that is missing would break every new shell.
        if let Some(to) = &install {
            let text = to.to_string_lossy().into_owned();
            for f in &mut self.plan.files {
                let calls = match &f.change {
                    Change::Rewrite { after, .. } | Change::Create { after, .. } => {
                        &f.path != to && memchr::memmem::find(after, text.as_bytes()).is_some()
                    }
                    _ => false,
                };
                if calls && f.needs.is_none() {
                    f.needs = Some(to.clone());
                }
            }
        }
        // Folders first (outermost first), then the installed copy, then what others need.
        let needed: Vec<PathBuf> = self
            .plan
            .files
            .iter()
            .filter_map(|f| f.needs.clone())
            .collect();
        self.plan.files.sort_by_key(|f| {
            (
                !matches!(f.change, Change::Mkdir { .. }),
                Some(&f.path) != install.as_ref(),
                !needed.contains(&f.path),
            )
        });
        self.plan.findings.sort();
        self.plan.findings.dedup();
        for a in self.slots.into_assigned() {
            if let Some(t) = self.plan.tokens.iter_mut().find(|t| t.name == a.name) {
                t.slot.merge(&a.slot);
                continue;
            }
            // A slot that already holds this very secret needs no keyring write; its index
            // entry still learns the new consumers.
            self.plan.tokens.push(TokenToStore {
                name: a.name,
                secret: a.secret,
                slot: a.slot,
                replaces: a.replaces.map(|(fingerprint, redacted)| Replaced {
                    fingerprint,
                    redacted,
                }),
                held: a.held,
            });
        }
        for t in &self.plan.tokens {
            if let Some(r) = &t.replaces {
                let n = format!(
                    "`{}` held {} and gets {}: the old token stays valid until you revoke it{}. `hfguard undo {}` puts the old value back.",
                    t.name,
                    r.redacted,
                    t.secret.redacted(),
                    t.slot
                        .provider
                        .as_deref()
                        .and_then(|p| crate::rules::builtin().rotation_url(p))
                        .map(|u| format!(" at {u}"))
                        .unwrap_or_default(),
                    self.plan.id
                );
                self.plan.notes.insert(0, n);
            }
        }
        self.plan.keyring = match (&self.keyring, self.plan.tokens.is_empty()) {
            (Some(Err(why)), _) => Keyring::Unavailable(why.clone()),
            (_, true) => Keyring::NotNeeded,
            _ => Keyring::Available,
        };
        if let Keyring::Unavailable(why) = &self.plan.keyring {
            self.plan.notes.insert(0, keyring_help(why));
        }
        self.plan
    }
}

/// The finding that git's `store` helper holds a Hugging Face credential.
const STORE_HELPER_RULE: &str = "git-credential-helper-store";

/// What to do on a machine where no Secret Service answers.
fn keyring_help(why: &str) -> String {
    format!(
        "No keyring answers here ({why}), so the steps that move a secret into it are left out (marked \"needs a keyring\"); the rest of the plan runs. On a desktop, log in to a session with gnome-keyring or KeePassXC (a Secret Service). On a headless box (SSH to a GPU server): `eval \"$(dbus-launch --sh-syntax)\"` then `printf %s PASSWORD | gnome-keyring-daemon --unlock --components=secrets` — its keyring is kept on disk (~/.local/share/keyrings) across reboots and unlocked with that password. The Linux kernel keyring (keyutils) keeps secrets in memory only, until the next reboot, so hfguard does not move a token's only copy there."
    )
}

/// `data` with `edits` made (sorted; an edit overlapping one already made is dropped: the
/// same secret planned twice).
pub(super) fn apply_edits(data: &[u8], edits: &mut [Edit]) -> Vec<u8> {
    edits.sort_by_key(|e| (e.start, e.end));
    let mut after = Vec::with_capacity(data.len());
    let mut pos = 0;
    for e in edits.iter() {
        if e.start < pos {
            continue;
        }
        after.extend_from_slice(&data[pos..e.start]);
        after.extend_from_slice(&e.replacement);
        pos = e.end;
    }
    after.extend_from_slice(&data[pos..]);
    after
}

/// Start and end (after its newline) of the line holding `offset`.
pub(super) fn line_bounds(data: &[u8], offset: usize) -> (usize, usize) {
    let start = memchr::memrchr(b'\n', &data[..offset]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &data[offset..]).map_or(data.len(), |i| offset + i + 1);
    (start, end)
}

/// What a slot serves when a file's programs must now run under `hfguard exec`.
pub(super) fn exec_consumer(path: &Path) -> Consumer {
    Consumer::Exec {
        path: path.to_path_buf(),
    }
}

/// ` --name NAME` for `token get`/`exec`, nothing for the default name.
pub(super) fn name_flag(name: &str) -> String {
    if name == slots::HF_DEFAULT {
        String::new()
    } else {
        format!(" --name {name}")
    }
}

/// The marker that replaces a redacted secret: says what was there, does not look like it.
pub fn marker(secret: &Secret) -> String {
    format!(
        "{}{}]",
        crate::rules::REDACTED_MARKER,
        secret.redacted().replace('…', "...")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13, item 13: planning 4,000 secrets of one history costs one read of the file,
    /// not a search of the whole file per secret (which took 24 s): each finding's span says
    /// where its secret is, and the file is never searched again.
    #[test]
    fn planning_finds_each_secret_by_its_span_without_searching_the_file_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = String::new();
        for i in 0..4000 {
            let body: String = crate::fingerprint::legacy(format!("t{i}").as_bytes())
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(34)
                .collect();
            history.push_str(&format!("hf auth login --token hf_{body:0<34}\nls\n"));
        }
        std::fs::write(dir.path().join(".bash_history"), &history).unwrap();
        let home = Home::new(dir.path(), Vec::<(String, std::ffi::OsString)>::new());
        let options = crate::audit::ScanOptions {
            quick: true,
            skip_probes: vec!["processes".into(), "environment".into()],
            ..Default::default()
        };
        let report = crate::audit::run(&home, &options, &crate::audit::NoSink);
        let choices: Vec<(Finding, FixKind)> = report
            .findings
            .iter()
            .filter(|f| f.fingerprint.is_some())
            .map(|f| (f.clone(), FixKind::Redact))
            .collect();
        assert_eq!(choices.len(), 4000);
        super::super::locate::RESCANS.with(|r| r.set(0));
        let plan = plan_in(&home, &choices, &report.findings);
        assert_eq!(plan.findings.len(), 4000, "{:?}", plan.refused.first());
        assert_eq!(super::super::locate::RESCANS.with(|r| r.get()), 0);
    }

    #[test]
    fn markers_do_not_look_like_tokens() {
        let s = Secret::new("hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh".into(), 3);
        let m = marker(&s);
        assert_eq!(m, "[hfguard:redacted:hf_...EfGh]");
        let mut out = Vec::new();
        crate::rules::builtin().find(m.as_bytes(), None, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn edits_apply_in_order_and_skip_overlaps() {
        let mut edits = vec![
            Edit::replace(6, 9, "X"),
            Edit::insert(0, "# n\n"),
            Edit::replace(7, 8, "Y"),
        ];
        assert_eq!(apply_edits(b"a = 1\nbcd\n", &mut edits), b"# n\na = 1\nX\n");
    }
}
