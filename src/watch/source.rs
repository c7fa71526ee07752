//! Where change events come from: inotify on Linux, one watch per folder, subscribed only to
//! changes — writes, attribute changes, creations, deletions, renames — and never to opens or
//! reads, so the watcher's own reads wake nothing. Folders past the watch budget (the
//! inotify limit is shared by every program of the user), and every folder on a system
//! without inotify, are polled instead: their entries are compared every two seconds. Past
//! the polling cap, folders are not watched at all, and [`Source::unwatched`] names them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often polled folders are compared.
pub const POLL_EVERY: Duration = Duration::from_secs(2);
/// At most this many folders are polled; more would cost CPU every two seconds.
pub const POLL_CAP: usize = 1024;

/// What a folder's entries looked like: name → (inode, size, mtime, ctime, mode).
type Listing = BTreeMap<OsString, (u64, u64, i64, i64, u32)>;

/// What happened since the last call: paths that changed (files, or folders themselves), and
/// whether the kernel dropped events (its queue overflowed), in which case anything may
/// have changed.
#[derive(Debug, Default)]
pub struct Changes {
    pub paths: BTreeSet<PathBuf>,
    pub overflow: bool,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty() && !self.overflow
    }

    pub fn extend(&mut self, other: Changes) {
        self.paths.extend(other.paths);
        self.overflow |= other.overflow;
    }
}

/// How a folder is watched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Armed {
    /// By the kernel (inotify).
    Watched,
    /// Compared every [`POLL_EVERY`].
    Polled,
    /// Past the budget and the polling cap: not watched.
    Not,
}

pub struct Source {
    #[cfg(target_os = "linux")]
    inotify: Option<nix::sys::inotify::Inotify>,
    #[cfg(target_os = "linux")]
    wds: HashMap<nix::sys::inotify::WatchDescriptor, PathBuf>,
    armed: HashMap<PathBuf, Armed>,
    /// Kernel watches this source may still add.
    budget: usize,
    polled: BTreeMap<PathBuf, Listing>,
    next_poll: Instant,
}

#[cfg(target_os = "linux")]
fn change_mask() -> nix::sys::inotify::AddWatchFlags {
    use nix::sys::inotify::AddWatchFlags as F;
    F::IN_MODIFY
        | F::IN_ATTRIB
        | F::IN_CLOSE_WRITE
        | F::IN_CREATE
        | F::IN_DELETE
        | F::IN_MOVED_FROM
        | F::IN_MOVED_TO
        | F::IN_DELETE_SELF
        | F::IN_MOVE_SELF
        | F::IN_ONLYDIR
        | F::IN_DONT_FOLLOW
}

fn listing(dir: &Path) -> Listing {
    let mut out = Listing::new();
    if let Ok(m) = std::fs::symlink_metadata(dir) {
        // The folder itself, under an empty name: its mode matters (credential folders).
        out.insert(
            OsString::new(),
            (
                m.ino(),
                0,
                0,
                m.ctime() * 1_000_000_000 + m.ctime_nsec(),
                m.mode(),
            ),
        );
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        if let Ok(m) = e.metadata() {
            out.insert(
                e.file_name(),
                (
                    m.ino(),
                    m.len(),
                    m.mtime() * 1_000_000_000 + m.mtime_nsec(),
                    m.ctime() * 1_000_000_000 + m.ctime_nsec(),
                    m.mode(),
                ),
            );
        }
    }
    out
}

impl Source {
    /// A source that may place `budget` kernel watches.
    pub fn new(budget: usize) -> Result<Source, String> {
        #[cfg(target_os = "linux")]
        let inotify = {
            use nix::sys::inotify::{InitFlags, Inotify};
            Some(
                Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)
                    .map_err(|e| format!("cannot start watching (inotify): {e}"))?,
            )
        };
        Ok(Source {
            #[cfg(target_os = "linux")]
            inotify,
            #[cfg(target_os = "linux")]
            wds: HashMap::new(),
            armed: HashMap::new(),
            budget,
            polled: BTreeMap::new(),
            next_poll: Instant::now() + POLL_EVERY,
        })
    }

    pub fn is_armed(&self, dir: &Path) -> bool {
        self.armed.contains_key(dir)
    }

    /// Watches the folder `dir` (its entries, not what lies deeper): with the kernel while
    /// the budget lasts, else by polling while the cap allows.
    pub fn add(&mut self, dir: &Path) -> Armed {
        if let Some(a) = self.armed.get(dir) {
            return *a;
        }
        let how = if self.budget > 0 && self.kernel_watch(dir) {
            self.budget -= 1;
            Armed::Watched
        } else if self.polled.len() < POLL_CAP {
            self.polled.insert(dir.to_path_buf(), listing(dir));
            Armed::Polled
        } else {
            Armed::Not
        };
        self.armed.insert(dir.to_path_buf(), how);
        how
    }

    #[cfg(target_os = "linux")]
    fn kernel_watch(&mut self, dir: &Path) -> bool {
        let Some(ino) = &self.inotify else {
            return false;
        };
        match ino.add_watch(dir, change_mask()) {
            Ok(wd) => {
                self.wds.insert(wd, dir.to_path_buf());
                true
            }
            // ENOSPC: the user's inotify limit is reached; poll from now on.
            Err(nix::errno::Errno::ENOSPC) => {
                self.budget = 0;
                false
            }
            Err(_) => false,
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn kernel_watch(&mut self, _dir: &Path) -> bool {
        false
    }

    /// Forgets `dir` and every folder under it (they went away).
    pub fn remove_under(&mut self, dir: &Path) {
        let gone: Vec<PathBuf> = self
            .armed
            .keys()
            .filter(|p| p.starts_with(dir))
            .cloned()
            .collect();
        for p in gone {
            if self.armed.remove(&p) == Some(Armed::Watched) {
                self.budget += 1;
                #[cfg(target_os = "linux")]
                if let Some(ino) = &self.inotify {
                    if let Some((wd, _)) = self.wds.iter().find(|(_, d)| **d == p) {
                        let wd = *wd;
                        let _ = ino.rm_watch(wd);
                        self.wds.remove(&wd);
                    }
                }
            }
            self.polled.remove(&p);
        }
    }

    /// Folders watched by the kernel.
    pub fn watched(&self) -> usize {
        self.armed
            .values()
            .filter(|a| **a == Armed::Watched)
            .count()
    }

    /// Folders polled instead.
    pub fn polled(&self) -> Vec<PathBuf> {
        self.polled.keys().cloned().collect()
    }

    /// Folders not watched at all.
    pub fn unwatched(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self
            .armed
            .iter()
            .filter(|(_, a)| **a == Armed::Not)
            .map(|(p, _)| p.clone())
            .collect();
        v.sort();
        v
    }

    /// Waits until something changes, at most `timeout` (`None`: as long as it takes), and
    /// returns what did. Idle with nothing polled, the thread sleeps in the kernel.
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<Changes, String> {
        let started = Instant::now();
        loop {
            let mut changes = self.read_kernel()?;
            if !self.polled.is_empty() && Instant::now() >= self.next_poll {
                changes.extend(self.poll());
                self.next_poll = Instant::now() + POLL_EVERY;
            }
            if !changes.is_empty() {
                return Ok(changes);
            }
            let left = timeout.map(|t| t.saturating_sub(started.elapsed()));
            if left == Some(Duration::ZERO) {
                return Ok(changes);
            }
            let until_poll = (!self.polled.is_empty())
                .then(|| self.next_poll.saturating_duration_since(Instant::now()));
            let sleep = match (left, until_poll) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            self.sleep(sleep)?;
        }
    }

    #[cfg(target_os = "linux")]
    fn sleep(&self, d: Option<Duration>) -> Result<(), String> {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        use std::os::fd::AsFd;
        let Some(ino) = &self.inotify else {
            std::thread::sleep(d.unwrap_or(POLL_EVERY));
            return Ok(());
        };
        let timeout = match d {
            None => PollTimeout::NONE,
            // Rounded up, so a wait never spins on a zero timeout.
            Some(d) => PollTimeout::try_from(d.as_millis().clamp(1, 60_000) as u64)
                .unwrap_or(PollTimeout::MAX),
        };
        let mut fds = [PollFd::new(ino.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => Ok(()),
            Err(e) => Err(format!("watch error: {e}")),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn sleep(&self, d: Option<Duration>) -> Result<(), String> {
        std::thread::sleep(d.unwrap_or(POLL_EVERY));
        Ok(())
    }

    #[cfg(target_os = "linux")]
    fn read_kernel(&mut self) -> Result<Changes, String> {
        use nix::sys::inotify::AddWatchFlags as F;
        let mut out = Changes::default();
        let Some(ino) = &self.inotify else {
            return Ok(out);
        };
        loop {
            let events = match ino.read_events() {
                Ok(ev) => ev,
                Err(nix::errno::Errno::EAGAIN) => return Ok(out),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(format!("watch error: {e}")),
            };
            if events.is_empty() {
                return Ok(out);
            }
            for ev in events {
                if ev.mask.contains(F::IN_Q_OVERFLOW) {
                    out.overflow = true;
                    continue;
                }
                let Some(dir) = self.wds.get(&ev.wd).cloned() else {
                    continue;
                };
                if ev.mask.contains(F::IN_IGNORED) {
                    // The kernel dropped the watch: its folder is gone.
                    self.wds.remove(&ev.wd);
                    if self.armed.remove(&dir) == Some(Armed::Watched) {
                        self.budget += 1;
                    }
                    out.paths.insert(dir);
                    continue;
                }
                out.paths.insert(match ev.name {
                    Some(name) => dir.join(name),
                    None => dir,
                });
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn read_kernel(&mut self) -> Result<Changes, String> {
        Ok(Changes::default())
    }

    /// Compares every polled folder with its last listing.
    fn poll(&mut self) -> Changes {
        let mut out = Changes::default();
        for (dir, before) in self.polled.iter_mut() {
            let now = listing(dir);
            if now == *before {
                continue;
            }
            for (name, meta) in now.iter() {
                if before.get(name) != Some(meta) {
                    out.paths.insert(if name.is_empty() {
                        dir.clone()
                    } else {
                        dir.join(name)
                    });
                }
            }
            for name in before.keys().filter(|n| !now.contains_key(*n)) {
                out.paths.insert(if name.is_empty() {
                    dir.clone()
                } else {
                    dir.join(name)
                });
            }
            *before = now;
        }
        out
    }
}
