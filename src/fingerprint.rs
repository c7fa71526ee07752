//! Fingerprints that cannot be reversed: the same secret gives the same fingerprint wherever
//! it is found, for the same user, and nobody without that user's key can test a guess
//! against one.
//!
//! A fingerprint is `k1-` and 32 hex digits: HMAC-SHA256, keyed with a per-user secret key,
//! of the secret, cut to 128 bits. (An unkeyed hash, as hfguard used before, lets anyone who
//! has a report test a dictionary of passwords against it: `Summer2024!` falls in under a
//! second.) Finding ids are keyed the same way ([`id`]).
//!
//! **The key** lives in `$XDG_STATE_HOME/hfguard/fingerprint.key` (64 hex digits, 0600, in
//! a 0700 folder) under the audited home, read and made without following a link on the way
//! ([`crate::confined`]). It is taken from the first place that works:
//!
//! 1. the audited home's key, when it is a regular file owned by the home's owner (or by
//!    whoever runs hfguard) and writable by nobody else;
//! 2. when there is none and the home belongs to whoever runs hfguard, a new one, made
//!    there once (the only thing an audit ever writes, and only in one's own home);
//! 3. the key in the home of whoever runs hfguard (root auditing `--home /home/alice`,
//!    which has no key, uses root's own: hfguard never writes into a home it audits as
//!    another user);
//! 4. otherwise a key for this run only, and the report says that its fingerprints match
//!    no other report.
//!
//! Fingerprints and ids written by earlier versions (unkeyed SHA-256, 32 hex digits, no
//! prefix) are told apart by the missing `k1-`: [`matches`] compares a stored fingerprint of
//! either scheme with a secret, and [`legacy_id`] gives the id a finding had then, so
//! `[[ignore]]` entries written with it keep working.

use crate::home::Home;
use hmac::{Hmac, Mac};
use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{mkdirat, Mode};
use nix::unistd::{linkat, unlinkat, UnlinkatFlags};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use zeroize::Zeroizing;

/// What starts a keyed fingerprint.
pub const PREFIX: &str = "k1-";

/// The key's folder, under a home's `$XDG_STATE_HOME`, and its file.
const KEY_DIR: &str = "hfguard";
const KEY_NAME: &str = "fingerprint.key";

/// A fingerprint key and where it came from.
struct Key {
    mac: Hmac<Sha256>,
    /// Why this run's key is its own, when it is: said in the report.
    note: Option<String>,
}

impl Key {
    fn new(bytes: &[u8], note: Option<String>) -> Key {
        Key {
            mac: Hmac::<Sha256>::new_from_slice(bytes).expect("HMAC takes a key of any size"),
            note,
        }
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut m = self.mac.clone();
        for p in parts {
            m.update(&(p.len() as u64).to_le_bytes());
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }
}

/// Where the key comes from (set by [`use_home`]) and, once loaded, the key.
struct State {
    home: Option<Home>,
    key: Option<Arc<Key>>,
}

static STATE: RwLock<State> = RwLock::new(State {
    home: None,
    key: None,
});

/// Keys fingerprints with the key of `home` (loaded, or made, when the first fingerprint is
/// needed). Without it, a process uses a key of its own, for this run only.
pub fn use_home(home: &Home) {
    let mut st = STATE.write().unwrap_or_else(|e| e.into_inner());
    st.home = Some(home.clone());
    st.key = None;
}

fn key() -> Arc<Key> {
    if let Some(k) = &STATE.read().unwrap_or_else(|e| e.into_inner()).key {
        return k.clone();
    }
    let mut st = STATE.write().unwrap_or_else(|e| e.into_inner());
    if let Some(k) = &st.key {
        return k.clone();
    }
    let k = Arc::new(match &st.home {
        Some(home) => load(home),
        None => ephemeral(None),
    });
    st.key = Some(k.clone());
    k
}

/// The keyed fingerprint of a secret.
pub fn of(value: &[u8]) -> String {
    let mac = key().mac(&[b"hfguard-fingerprint", value]);
    format!("{PREFIX}{}", hex::encode(&mac[..16]))
}

/// The unkeyed fingerprint hfguard wrote before keyed fingerprints (salted SHA-256, 32 hex
/// digits). Never printed: only to recognise what earlier versions stored.
pub fn legacy(value: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"hfguard-fingerprint-v1\0");
    h.update(value);
    hex::encode(&h.finalize()[..16])
}

/// Whether `stored` (a fingerprint of either scheme) is the fingerprint of `value`.
pub fn matches(stored: &str, value: &[u8]) -> bool {
    if stored.starts_with(PREFIX) {
        stored == of(value)
    } else {
        stored == legacy(value)
    }
}

/// A finding id, `hfg-` and 12 hex digits, keyed like the fingerprints: from the rule, the
/// place (raw bytes), the secret's fingerprint and the occurrence.
pub fn id(rule: &str, place: &[u8], fingerprint: Option<&str>, occurrence: u32) -> String {
    let mac = key().mac(&[
        b"hfguard-id",
        rule.as_bytes(),
        place,
        fingerprint.unwrap_or("-").as_bytes(),
        &occurrence.to_le_bytes(),
    ]);
    format!("hfg-{}", &hex::encode(mac)[..12])
}

/// The id hfguard gave a finding before ids were keyed (the place as text, lossy; the
/// secret's unkeyed fingerprint): to honour `[[ignore]]` entries written then.
pub fn legacy_id(rule: &str, place: &[u8], legacy_fp: Option<&str>, occurrence: u32) -> String {
    let place = String::from_utf8_lossy(place);
    let mut h = Sha256::new();
    for part in [rule, &place, legacy_fp.unwrap_or("-")] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.update(occurrence.to_le_bytes());
    format!("hfg-{}", &hex::encode(h.finalize())[..12])
}

/// Why this run's fingerprints match no other report, when they do not (for the report's
/// warnings).
pub fn note() -> Option<String> {
    key().note.clone()
}

fn ephemeral(why: Option<String>) -> Key {
    let mut bytes = Zeroizing::new([0u8; 32]);
    // Without the OS's randomness there is nothing safe to key with: a fixed key is the old
    // unkeyed scheme under another name.
    getrandom::fill(bytes.as_mut()).expect("the OS gives random bytes");
    Key::new(bytes.as_ref(), why)
}

/// The owner of a folder (following a symlink to it: `/home` → `/var/home`).
fn owner_of(dir: &Path) -> Option<u32> {
    std::fs::metadata(dir).ok().map(|m| m.uid())
}

/// Where a home's key lives: a root folder and the key's folder below it, walked to one
/// component at a time without following a link ([`crate::confined`]). The root is the home
/// when `$XDG_STATE_HOME` is in it, else `$XDG_STATE_HOME` itself.
struct Place {
    root: PathBuf,
    dir: PathBuf,
}

impl Place {
    fn of(home: &Home) -> Place {
        let state = home.xdg_state();
        match state.strip_prefix(&home.dir) {
            Ok(rel) => Place {
                root: home.dir.clone(),
                dir: rel.join(KEY_DIR),
            },
            Err(_) => Place {
                root: state,
                dir: PathBuf::from(KEY_DIR),
            },
        }
    }

    fn shown(&self) -> String {
        self.root
            .join(&self.dir)
            .join(KEY_NAME)
            .display()
            .to_string()
    }
}

/// The key for an audit of `home` (module docs: the order).
fn load(home: &Home) -> Key {
    let me = nix::unistd::geteuid().as_raw();
    let owner = owner_of(&home.dir);
    let place = Place::of(home);
    let mut notes = Vec::new();
    match read_key(&place, owner, me) {
        Ok(Some(k)) => return Key::new(k.as_ref(), None),
        Ok(None) if owner == Some(me) => match create_key(&place) {
            Ok(k) => return Key::new(k.as_ref(), None),
            Err(e) => notes.push(format!(
                "cannot keep a fingerprint key at {}: {e}",
                place.shown()
            )),
        },
        Ok(None) => {}
        Err(e) => notes.push(format!("ignored {}: {e}", place.shown())),
    }
    // The key of whoever runs hfguard, in their own home.
    if let Some(own) = Home::from_process(None).filter(|h| owner_of(&h.dir) == Some(me)) {
        let own_place = Place::of(&own);
        if own_place.shown() != place.shown() {
            match read_key(&own_place, Some(me), me) {
                Ok(Some(k)) => return Key::new(k.as_ref(), None),
                Ok(None) => {
                    if let Ok(k) = create_key(&own_place) {
                        return Key::new(k.as_ref(), None);
                    }
                }
                Err(e) => notes.push(format!("ignored {}: {e}", own_place.shown())),
            }
        }
    }
    notes.push("fingerprints and finding ids in this report are keyed for this run only and match no other report".into());
    ephemeral(Some(notes.join("; ")))
}

/// Reads a key: `None` when there is none; an error when it is there but cannot be trusted
/// (reached through a symlink, not a regular file, owned by someone else, writable by
/// others, not a key).
fn read_key(
    place: &Place,
    owner: Option<u32>,
    me: u32,
) -> Result<Option<Zeroizing<[u8; 32]>>, String> {
    let dir = match crate::confined::open_dir(&place.root, &place.dir) {
        Ok(fd) => fd,
        Err(b) if matches!(b.errno, Errno::ENOENT | Errno::ENOTDIR) => return Ok(None),
        Err(b) => return Err(b.reason()),
    };
    let fd = match openat(
        dir.as_fd(),
        KEY_NAME,
        OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Ok(None),
        Err(Errno::ELOOP) => return Err("it is a symlink".into()),
        Err(e) => return Err(e.desc().to_lowercase()),
    };
    let file = std::fs::File::from(fd);
    let meta = file.metadata().map_err(|e| crate::fsread::reason(&e))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.uid() != me && Some(meta.uid()) != owner {
        return Err(format!(
            "owned by user id {}, not by the home's owner",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err("others can write to it".into());
    }
    let mut text = Zeroizing::new(Vec::new());
    std::io::Read::read_to_end(&mut std::io::Read::take(&file, 128), &mut text)
        .map_err(|e| crate::fsread::reason(&e))?;
    let hex_digits = std::str::from_utf8(&text)
        .map(str::trim)
        .map_err(|_| "not a key".to_string())?;
    let mut key = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(hex_digits, key.as_mut()).map_err(|_| "not a key".to_string())?;
    Ok(Some(key))
}

/// Makes a new key (its folder 0700, the file 0600), every folder on the way created or
/// opened without following a link, and published whole or not at all: a temporary file is
/// linked into place, and when another hfguard made one first, that one is used.
fn create_key(place: &Place) -> Result<Zeroizing<[u8; 32]>, String> {
    let (Some(parent), Some(name)) = (place.dir.parent(), place.dir.file_name()) else {
        return Err("no folder".into());
    };
    let up = crate::confined::create_dirs(&place.root, parent, 0o777).map_err(|b| b.reason())?;
    match mkdirat(up.as_fd(), name, Mode::from_bits_truncate(0o700)) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(e.desc().to_lowercase()),
    }
    let dir = crate::confined::open_dir(&place.root, &place.dir).map_err(|b| b.reason())?;
    let mut key = Zeroizing::new([0u8; 32]);
    getrandom::fill(key.as_mut()).map_err(|e| e.to_string())?;
    let tmp = format!(".fingerprint.key.{}.tmp", std::process::id());
    let _ = unlinkat(dir.as_fd(), tmp.as_str(), UnlinkatFlags::NoRemoveDir);
    let written = (|| -> Result<(), Errno> {
        let fd = openat(
            dir.as_fd(),
            tmp.as_str(),
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )?;
        let mut f = std::fs::File::from(fd);
        f.write_all(format!("{}\n", hex::encode(key.as_ref())).as_bytes())
            .map_err(|_| Errno::EIO)?;
        f.sync_all().map_err(|_| Errno::EIO)?;
        linkat(
            dir.as_fd(),
            tmp.as_str(),
            dir.as_fd(),
            KEY_NAME,
            AtFlags::empty(),
        )
    })();
    let _ = unlinkat(dir.as_fd(), tmp.as_str(), UnlinkatFlags::NoRemoveDir);
    match written {
        Ok(()) => Ok(key),
        Err(Errno::EEXIST) => {
            let me = nix::unistd::geteuid().as_raw();
            read_key(place, Some(me), me)?.ok_or_else(|| "it vanished".to_string())
        }
        Err(e) => Err(e.desc().to_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_fingerprints_and_ids() {
        let a = of(b"Summer2024!");
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 32, "{a}");
        assert_eq!(a, of(b"Summer2024!"));
        assert_ne!(a, of(b"Summer2025!"));
        // Not the unkeyed hash a dictionary can be run against.
        assert_ne!(&a[PREFIX.len()..], legacy(b"Summer2024!"));
        assert!(matches(&a, b"Summer2024!"));
        assert!(matches(&legacy(b"Summer2024!"), b"Summer2024!"));
        assert!(!matches(&legacy(b"Summer2024!"), b"Summer2025!"));
        let id1 = id("r", b"/h/x", Some(&a), 1);
        assert!(id1.starts_with("hfg-") && id1.len() == 16);
        assert_ne!(id1, id("r", b"/h/x", Some(&a), 2));
    }

    #[test]
    fn a_key_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let place = Place {
            root: dir.path().to_path_buf(),
            dir: PathBuf::from("state/hfguard"),
        };
        let path = dir.path().join("state/hfguard/fingerprint.key");
        let k1 = create_key(&place).unwrap();
        let me = nix::unistd::geteuid().as_raw();
        let k2 = read_key(&place, Some(me), me).unwrap().unwrap();
        assert_eq!(*k1, *k2);
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        assert_eq!(
            std::fs::metadata(path.parent().unwrap()).unwrap().mode() & 0o777,
            0o700
        );
        // A second maker finds the first one's key.
        assert_eq!(*create_key(&place).unwrap(), *k1);
        // A key others can write is not trusted.
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .unwrap();
        assert!(read_key(&place, Some(me), me).is_err());
    }

    #[test]
    fn a_key_is_never_made_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let shared = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(shared.path(), dir.path().join("state")).unwrap();
        let place = Place {
            root: dir.path().to_path_buf(),
            dir: PathBuf::from("state/hfguard"),
        };
        assert!(create_key(&place).is_err());
        assert_eq!(std::fs::read_dir(shared.path()).unwrap().count(), 0);
    }
}
