//! Permission checks: credential files private to the user (0600, owned by them), the
//! folders that hold them (0700), start-up files and the home folder not writable by others.

use crate::collect::Collector;
use crate::finding::{mode_string, Category, Finding, FixKind, Severity};
use crate::fsread::{self, mode_bits, Entry};
use crate::kind::FileKind;
use crate::probes::files::{current_uid, owner};
use std::fs::Metadata;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn provider_of(kind: FileKind, found: &[Option<String>]) -> Option<String> {
    if kind.is_hf_token_file() || kind == FileKind::HfStoredTokens {
        return Some("huggingface".into());
    }
    found
        .iter()
        .flatten()
        .next()
        .cloned()
        .or_else(|| kind.owner().map(str::to_string))
}

#[allow(clippy::too_many_arguments)]
fn permission_finding(
    c: &Collector,
    rule: String,
    severity: Severity,
    provider: Option<String>,
    path: &Path,
    mode: Option<u32>,
    message: String,
    fixes: Vec<FixKind>,
) {
    let id = Finding::compute_id(&rule, path.as_os_str().as_bytes(), None, 1);
    let legacy = Finding::legacy_id(&rule, path.as_os_str().as_bytes(), None, 1);
    c.add_legacy(
        Finding {
            id,
            rule,
            category: Category::Permissions,
            severity,
            provider,
            path: Some(path.to_path_buf()),
            line: None,
            variable: None,
            pid: None,
            mode: mode.map(mode_string),
            secret: None,
            fingerprint: None,
            message,
            fixes,
            ignored: None,
            label: None,
            span: None,
        },
        legacy,
    );
}

/// The user the audited home belongs to: whose credentials must be private. Root auditing
/// `/home/alice` judges her files against alice, not against root.
fn home_owner(c: &Collector) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(&c.home.dir).map_or_else(|_| current_uid(), |m| m.uid())
}

/// A file that holds secrets must be private. `non_empty` and `found` (providers of the
/// secrets found in it) decide whether it holds any.
pub fn check_file(
    c: &Collector,
    path: &Path,
    kind: FileKind,
    meta: &Metadata,
    non_empty: bool,
    found: Vec<Option<String>>,
) {
    let holds_secret = !found.is_empty() || (kind.holds_secrets_by_nature() && non_empty);
    if !holds_secret || !(kind.should_be_private() || kind == FileKind::EnvFile) {
        return;
    }
    let mode = mode_bits(meta);
    let provider = provider_of(kind, &found);
    if mode & 0o077 != 0 {
        let (severity, who) = if mode & 0o002 != 0 {
            (Severity::Critical, "every user can change it")
        } else if mode & 0o004 != 0 {
            (Severity::High, "every user on this machine can read it")
        } else {
            (Severity::Medium, "its group can read it")
        };
        let severity = if kind == FileKind::EnvFile {
            severity.min(Severity::Medium)
        } else {
            severity
        };
        permission_finding(
            c,
            format!("{}-permissions", kind.slug()),
            severity,
            provider.clone(),
            path,
            Some(mode),
            format!(
                "{} holds a secret and has mode {}: {who}; it should be 0600 (and rotate the secret if others could read it).",
                capitalize(kind.description()),
                mode_string(mode)
            ),
            vec![FixKind::Chmod],
        );
    }
    if owner(meta) != home_owner(c) {
        permission_finding(
            c,
            format!("{}-owner", kind.slug()),
            Severity::High,
            provider.clone(),
            path,
            Some(mode),
            format!(
                "{} holds a secret but is owned by user id {}, not by the home's owner: that user can read and replace it.",
                capitalize(kind.description()),
                owner(meta)
            ),
            vec![],
        );
    }
    if kind.is_credential_store() {
        check_folder(c, path, kind, provider);
    }
}

/// The folder holding a credential file should be 0700 (the home folder itself excepted).
fn check_folder(c: &Collector, file: &Path, kind: FileKind, provider: Option<String>) {
    let Some(dir) = file.parent() else { return };
    if dir == c.home.dir {
        return;
    }
    if let Ok(Entry::Dir(m)) = fsread::lstat(dir) {
        let mode = mode_bits(&m);
        if mode & 0o077 != 0 && owner(&m) == home_owner(c) {
            permission_finding(
                c,
                "credential-folder-permissions".into(),
                Severity::Low,
                provider,
                dir,
                Some(mode),
                format!(
                    "The folder holding {} has mode {}: others can see what it holds and when it changes; it should be 0700.",
                    kind.description(),
                    mode_string(mode)
                ),
                vec![FixKind::Chmod],
            );
        }
    }
}

/// Start-up files run as the user: if others can write one, they can run code as the user.
pub fn check_startup(c: &Collector, path: &Path, meta: &Metadata) {
    let mode = mode_bits(meta);
    if mode & 0o022 != 0 {
        permission_finding(
            c,
            "startup-file-writable".into(),
            Severity::Critical,
            None,
            path,
            Some(mode),
            format!(
                "This shell start-up file has mode {}: other users can write to it and run commands as you.",
                mode_string(mode)
            ),
            vec![FixKind::Chmod],
        );
    }
}

/// OpenSSH's StrictModes: `~/.ssh/config` and `authorized_keys` must not be writable by
/// group or others, nor belong to anyone but the user or root; the same holds for `~/.ssh`
/// itself (checked with any file in it). ssh refuses a config that breaks this; sshd refuses
/// logins. (Private keys, which must not even be readable, are checked as credential files.)
pub fn check_ssh(c: &Collector, path: &Path, kind: FileKind, meta: &Metadata) {
    let why = match kind {
        FileKind::SshConfig => Some("other users can make ssh run commands as you (ProxyCommand, LocalCommand), and ssh refuses to use it (\"Bad owner or permissions\")"),
        FileKind::SshAuthorizedKeys => Some("other users can add their key and log in as you, and sshd's StrictModes refuses it"),
        _ => None,
    };
    if let Some(why) = why {
        strict_mode(
            c,
            path,
            kind.slug(),
            &capitalize(kind.description()),
            meta,
            why,
        );
    }
    let ssh_dir = c.home.dir.join(".ssh");
    if path.parent() == Some(ssh_dir.as_path()) {
        if let Ok(Entry::Dir(m)) = fsread::lstat(&ssh_dir) {
            strict_mode(
                c,
                &ssh_dir,
                "ssh-folder",
                "Your ~/.ssh folder",
                &m,
                "other users can replace your keys, authorized_keys and config, and sshd's StrictModes refuses logins",
            );
        }
    }
}

/// `<place>-writable` (critical, chmod go-w) and `<place>-owner` (high) as StrictModes
/// judges them: group- or world-writable, or owned by neither the user nor root.
fn strict_mode(c: &Collector, path: &Path, place: &str, what: &str, meta: &Metadata, why: &str) {
    let mode = mode_bits(meta);
    if mode & 0o022 != 0 {
        permission_finding(
            c,
            format!("{place}-writable"),
            Severity::Critical,
            Some("ssh".into()),
            path,
            Some(mode),
            format!(
                "{what} has mode {}: {why}. Remove write access for group and others.",
                mode_string(mode)
            ),
            vec![FixKind::Chmod],
        );
    }
    let who = owner(meta);
    if who != current_uid() && who != 0 {
        permission_finding(
            c,
            format!("{place}-owner"),
            Severity::High,
            Some("ssh".into()),
            path,
            Some(mode),
            format!(
                "{what} is owned by user id {who}, not by you: that user can change it, and ssh and sshd refuse it."
            ),
            vec![],
        );
    }
}

/// The home folder must not be writable by others (they could replace any dotfile).
pub fn check_home(c: &Collector) {
    // The home may itself be a symlink (`--home /home/alice` with /home → /var/home): the
    // folder it names is the home.
    let entry = match fsread::lstat(&c.home.dir) {
        Ok(Entry::Symlink) => std::fs::metadata(&c.home.dir).map(|m| {
            if m.is_dir() {
                Entry::Dir(m)
            } else {
                Entry::Missing
            }
        }),
        other => other,
    };
    match entry {
        Ok(Entry::Dir(m)) => {
            let mode = mode_bits(&m);
            if mode & 0o022 != 0 {
                permission_finding(
                    c,
                    "home-writable".into(),
                    Severity::Critical,
                    None,
                    &c.home.dir,
                    Some(mode),
                    format!(
                        "Your home folder has mode {}: other users can replace your start-up files and credential files.",
                        mode_string(mode)
                    ),
                    vec![FixKind::Chmod],
                );
            }
        }
        Ok(_) => c.warn(format!("not a folder: {}", c.home.dir.display())),
        Err(e) => c.warn(format!(
            "unreadable: {} ({})",
            c.home.dir.display(),
            fsread::reason(&e)
        )),
    }
}

/// A credential location that is a symlink leaving the home, or is reached through one
/// (`link`, a folder above it): reported, not followed.
pub fn symlink_outside_home(c: &Collector, path: &Path, kind: FileKind, link: &Path) {
    let how = if link == path {
        "is a symlink to a place outside your home".to_string()
    } else {
        let shown = match link.strip_prefix(&c.home.dir) {
            Ok(rel) => format!("~/{}", rel.display()),
            Err(_) => link.display().to_string(),
        };
        format!("is reached through {shown}, a symlink to a place outside your home")
    };
    permission_finding(
        c,
        "credential-symlink-outside-home".into(),
        Severity::Medium,
        provider_of(kind, &[]),
        path,
        None,
        format!(
            "{} {how}: hfguard did not follow it; check who controls the target.",
            capitalize(kind.description())
        ),
        vec![],
    );
}

fn capitalize(s: &str) -> String {
    let mut ch = s.chars();
    match ch.next() {
        Some(f) => f.to_uppercase().chain(ch).collect(),
        None => String::new(),
    }
}
