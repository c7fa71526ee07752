//! The OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on
//! Windows, through the `keyring` crate), and hfguard's index of the names it stored there.
//!
//! Tokens live under the service `hfguard` (or `$HFGUARD_KEYRING_SERVICE`), one entry per
//! slot name (`huggingface`, `openai`, …; see [`crate::slots`], whose index lists them).
//! Backups of redacted or replaced secrets, kept so that `undo` can restore them, live under
//! `<service>-backup`, one entry per fingerprint.

use crate::home::Home;
use crate::secret::Secret;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// How long a keyring call may take before hfguard gives up (an unlock prompt can wait for
/// the user; a dead D-Bus must not hang the program).
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// A keyring failure, said plainly.
#[derive(Debug)]
pub enum KeyError {
    /// No entry under that name.
    NotFound(String),
    /// No keyring service could be reached (no Secret Service, locked and not unlockable…).
    Unavailable(String),
    /// The keyring did not answer in time.
    Timeout,
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::NotFound(name) => write!(f, "no token named `{name}` in the OS keyring"),
            KeyError::Unavailable(why) => write!(
                f,
                "the OS keyring is not reachable ({why}); on Linux hfguard needs a Secret Service such as gnome-keyring or KeePassXC running in your session"
            ),
            KeyError::Timeout => write!(f, "the OS keyring did not answer within {} s", TIMEOUT.as_secs()),
        }
    }
}

/// The keyring as hfguard uses it.
#[derive(Clone, Debug)]
pub struct KeyStore {
    service: String,
}

fn classify(e: keyring::Error, name: &str) -> KeyError {
    match e {
        keyring::Error::NoEntry => KeyError::NotFound(name.to_string()),
        // Never echo the error's payload: some variants carry the bad value.
        keyring::Error::BadEncoding(_) => {
            KeyError::Unavailable("the stored value is not text".into())
        }
        other => KeyError::Unavailable(match other {
            keyring::Error::PlatformFailure(e) | keyring::Error::NoStorageAccess(e) => {
                e.to_string()
            }
            keyring::Error::Ambiguous(_) => "several entries match".into(),
            _ => "unexpected keyring error".into(),
        }),
    }
}

/// Runs `f` on a worker thread, giving up after [`TIMEOUT`].
fn with_timeout<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, KeyError> + Send + 'static,
) -> Result<T, KeyError> {
    within(TIMEOUT, f)
}

fn within<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> Result<T, KeyError> + Send + 'static,
) -> Result<T, KeyError> {
    let (tx, rx) = mpsc::channel();
    IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
    std::thread::spawn(move || {
        let turn = one_at_a_time();
        let r = f();
        drop(turn);
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        let _ = tx.send(r);
    });
    rx.recv_timeout(limit).unwrap_or(Err(KeyError::Timeout))
}

/// How long a request waits for its turn (see [`one_at_a_time`]) before it goes ahead anyway.
const TURN_WAIT: Duration = Duration::from_secs(5);

/// Waits for this request's turn among every hfguard process of the user: an exclusive
/// `flock` on `$XDG_RUNTIME_DIR/hfguard-keyring.lock` (else `hfguard-keyring-<uid>.lock` in
/// the temporary folder), held while the request runs.
///
/// gnome-keyring 42 (Debian 12) can abort — and take every application's secrets with it —
/// when new clients open sessions while others come and go at the same moment. Several
/// hfguard processes at once can make that traffic (git asking the credential helper while a
/// fix runs; the parallel keyring tests killed the daemon within a few runs). Taken one at a
/// time, they never did. Other applications' requests are not affected.
///
/// Best effort: a lock file that is not a regular file of this user, or a turn not given
/// within [`TURN_WAIT`] (another request waiting for an unlock prompt), lets the request go
/// ahead without it.
fn one_at_a_time() -> Option<nix::fcntl::Flock<std::fs::File>> {
    let uid = nix::unistd::geteuid().as_raw();
    let path = match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => std::path::PathBuf::from(dir).join("hfguard-keyring.lock"),
        None => std::env::temp_dir().join(format!("hfguard-keyring-{uid}.lock")),
    };
    turn_at(&path, TURN_WAIT)
}

/// The lock of [`one_at_a_time`] at `path`, waiting at most `wait`.
fn turn_at(path: &std::path::Path, wait: Duration) -> Option<nix::fcntl::Flock<std::fs::File>> {
    use nix::fcntl::{Flock, FlockArg};
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let uid = nix::unistd::geteuid().as_raw();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc_flags())
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.uid() != uid {
        return None;
    }
    let started = std::time::Instant::now();
    let mut file = file;
    loop {
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => return Some(lock),
            Err((f, _)) if started.elapsed() < wait => {
                file = f;
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(_) => return None,
        }
    }
}

/// The lock file is opened without following a link and without waiting on a FIFO.
fn libc_flags() -> i32 {
    (nix::fcntl::OFlag::O_NOFOLLOW | nix::fcntl::OFlag::O_NONBLOCK | nix::fcntl::OFlag::O_CLOEXEC)
        .bits()
}

/// Keyring requests still running on their threads (one given up on after its timeout).
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Waits, at most `limit`, until no keyring request is running. Called before the process
/// exits or replaces itself: gnome-keyring (42, Debian 12) aborts when a client that opened
/// a session is gone before its request is answered, taking every user's keyring down with
/// it — so hfguard never leaves one half-asked, even one it stopped waiting for.
pub fn settle(limit: Duration) {
    let started = std::time::Instant::now();
    while IN_FLIGHT.load(Ordering::SeqCst) > 0 && started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// How long [`KeyStore::available`] waits: a Secret Service answers a lookup in milliseconds
/// (a busy one in seconds); one that takes longer is as good as absent for planning. Absent
/// altogether, the answer is immediate.
const PROBE_TIMEOUT: Duration = Duration::from_secs(15);

/// The name looked up to see whether the keyring answers (never stored).
const PROBE_NAME: &str = "hfguard-availability-probe";

impl KeyStore {
    pub fn new(home: &Home) -> Self {
        let service = home
            .var("HFGUARD_KEYRING_SERVICE")
            .and_then(|v| v.to_str())
            .unwrap_or("hfguard")
            .to_string();
        KeyStore { service }
    }

    fn backup_service(&self) -> String {
        format!("{}-backup", self.service)
    }

    fn entry(service: &str, name: &str) -> Result<keyring::Entry, KeyError> {
        keyring::Entry::new(service, name).map_err(|e| classify(e, name))
    }

    fn get_in(service: String, name: String) -> Result<Secret, KeyError> {
        with_timeout(move || {
            let e = Self::entry(&service, &name)?;
            let v = e.get_password().map_err(|e| classify(e, &name))?;
            let prefix = crate::rules::builtin().prefix_of(&v);
            Ok(Secret::new(v, prefix))
        })
    }

    fn set_in(service: String, name: String, secret: &Secret) -> Result<(), KeyError> {
        let value = zeroize::Zeroizing::new(secret.expose().to_string());
        with_timeout(move || {
            let e = Self::entry(&service, &name)?;
            e.set_password(&value).map_err(|e| classify(e, &name))
        })
    }

    fn delete_in(service: String, name: String) -> Result<(), KeyError> {
        with_timeout(move || {
            let e = Self::entry(&service, &name)?;
            match e.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(classify(e, &name)),
            }
        })
    }

    /// Whether the keyring answers at all, asked before a plan is shown: `Ok` when a lookup
    /// comes back (found or not), the reason otherwise. No value is read or written.
    pub fn available(&self) -> Result<(), KeyError> {
        let service = self.service.clone();
        match within(PROBE_TIMEOUT, move || {
            let e = Self::entry(&service, PROBE_NAME)?;
            e.get_password()
                .map(drop)
                .map_err(|e| classify(e, PROBE_NAME))
        }) {
            Ok(()) | Err(KeyError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The token stored under `name`.
    pub fn get(&self, name: &str) -> Result<Secret, KeyError> {
        Self::get_in(self.service.clone(), name.to_string())
    }

    /// Stores `secret` under `name`, then reads it back and compares: a keyring that
    /// accepted the value but cannot return it must not be trusted with the only copy.
    pub fn set(&self, name: &str, secret: &Secret) -> Result<(), KeyError> {
        Self::set_in(self.service.clone(), name.to_string(), secret)?;
        let back = self.get(name)?;
        if back.expose() != secret.expose() {
            return Err(KeyError::Unavailable(
                "the value read back differs from the one stored".into(),
            ));
        }
        Ok(())
    }

    pub fn delete(&self, name: &str) -> Result<(), KeyError> {
        Self::delete_in(self.service.clone(), name.to_string())
    }

    /// Keeps a copy of a secret that is about to be redacted, under its fingerprint.
    pub fn backup(&self, secret: &Secret) -> Result<String, KeyError> {
        let key = secret.fingerprint();
        Self::set_in(self.backup_service(), key.clone(), secret)?;
        let back = Self::get_in(self.backup_service(), key.clone())?;
        if back.expose() != secret.expose() {
            return Err(KeyError::Unavailable(
                "the value read back differs from the one stored".into(),
            ));
        }
        Ok(key)
    }

    /// Keeps the secrets one fix cuts out of the files it changes, as one keyring item named
    /// `name` (a JSON map fingerprint → secret), read back and compared. One item per fix,
    /// not one per secret: gnome-keyring rewrites its whole file on every change, so a fix
    /// redacting 4,000 tokens of a history would otherwise write it 4,000 times.
    pub fn backup_bundle(&self, name: &str, secrets: &[Secret]) -> Result<(), KeyError> {
        let map: std::collections::BTreeMap<String, &str> = secrets
            .iter()
            .map(|s| (s.fingerprint(), s.expose()))
            .collect();
        let body = zeroize::Zeroizing::new(serde_json::to_string(&map).expect("a map serializes"));
        let value = Secret::new(body.to_string(), 0);
        Self::set_in(self.backup_service(), name.to_string(), &value)?;
        let back = Self::get_in(self.backup_service(), name.to_string())?;
        if back.expose() != value.expose() {
            return Err(KeyError::Unavailable(
                "the value read back differs from the one stored".into(),
            ));
        }
        Ok(())
    }

    /// The secrets of [`KeyStore::backup_bundle`]`(name)`, by fingerprint.
    pub fn get_bundle(
        &self,
        name: &str,
    ) -> Result<std::collections::BTreeMap<String, Secret>, KeyError> {
        let raw = Self::get_in(self.backup_service(), name.to_string())?;
        let map: std::collections::BTreeMap<String, String> = serde_json::from_str(raw.expose())
            .map_err(|_| KeyError::Unavailable("a saved bundle of secrets is damaged".into()))?;
        Ok(map
            .into_iter()
            .map(|(fp, v)| {
                let prefix = crate::rules::builtin().prefix_of(&v);
                (fp, Secret::new(v, prefix))
            })
            .collect())
    }

    pub fn get_backup(&self, key: &str) -> Result<Secret, KeyError> {
        Self::get_in(self.backup_service(), key.to_string())
    }

    pub fn delete_backup(&self, key: &str) -> Result<(), KeyError> {
        Self::delete_in(self.backup_service(), key.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn settle_waits_for_a_request_given_up_on() {
        let r: Result<(), KeyError> = within(Duration::from_millis(10), || {
            std::thread::sleep(Duration::from_millis(300));
            Ok(())
        });
        assert!(matches!(r, Err(KeyError::Timeout)));
        assert!(IN_FLIGHT.load(Ordering::SeqCst) > 0);
        settle(Duration::from_secs(10));
        assert_eq!(IN_FLIGHT.load(Ordering::SeqCst), 0);
    }

    /// Requests take turns: while one holds the lock, another gets it only once it is let
    /// go (or, after the wait, goes ahead without it).
    #[test]
    fn requests_take_turns_on_the_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hfguard-keyring.lock");
        let first = turn_at(&path, Duration::from_secs(5)).expect("the first gets its turn");
        assert!(
            turn_at(&path, Duration::from_millis(50)).is_none(),
            "a second turn while the first is held"
        );
        let (tx, rx) = mpsc::channel();
        let p = path.clone();
        let waiter = std::thread::spawn(move || {
            let turn = turn_at(&p, Duration::from_secs(30));
            tx.send(()).unwrap();
            turn.is_some()
        });
        assert!(
            rx.recv_timeout(Duration::from_millis(200)).is_err(),
            "the second went ahead while the first held the lock"
        );
        drop(first);
        assert!(waiter.join().unwrap(), "the second never got its turn");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    /// A link or a FIFO planted at the lock's path is not followed or waited on: the request
    /// goes ahead without a turn.
    #[test]
    fn a_planted_lock_path_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "keep").unwrap();
        let link = dir.path().join("hfguard-keyring.lock");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(turn_at(&link, Duration::from_millis(10)).is_none());
        let fifo = dir.path().join("fifo.lock");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert!(turn_at(&fifo, Duration::from_millis(10)).is_none());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    }
}
