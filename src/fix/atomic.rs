//! Changes to a user's files that cannot half-happen, and cannot be redirected.
//!
//! Every operation runs as the home's owner ([`Target::act`]), walks from the home to the
//! file's folder one component at a time with `O_NOFOLLOW` ([`crate::confined`]) — or, for a
//! credential file outside the home that the environment names, opens only that file's
//! folder — and works relative to that descriptor, so a path component swapped for a
//! symlink, at any depth, cannot redirect it. A file is only touched when it is a regular
//! file owned by the home's owner with one link and — for content changes — still exactly
//! what the plan saw ([`Snapshot`]). Rewrites go to a temporary file in the same folder (same
//! mode and owner), are `fsync`ed, `rename`d over the original, and the folder is `fsync`ed:
//! after a crash the file is old or new. A file put back by undo is moved in with
//! `renameat2(RENAME_NOREPLACE)`, never over a file that appeared meanwhile. Temporary files
//! of a run that was killed (`.NAME.hfguard-PID-N.tmp`, PID no longer running) are removed
//! by the next change in their folder.

use super::owner;
use super::target::{Place, Target};
use nix::errno::Errno;
use nix::fcntl::{openat, renameat, OFlag};
use nix::sys::stat::{fchmod, fstat, FileStat, Mode};
use nix::unistd::{fchown, fsync, unlinkat, Gid, Uid, UnlinkatFlags};
use sha2::{Digest, Sha256};
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// Why a change was refused or failed, with the path.
#[derive(Debug)]
pub struct FixError {
    pub path: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for FixError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}",
            crate::term::safe_line(&self.path.display().to_string()),
            crate::term::safe_line(&self.reason)
        )
    }
}

fn err(path: &Path, reason: impl Into<String>) -> FixError {
    FixError {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

const GONE: &str = "no longer exists";

fn errno(path: &Path, what: &str, e: Errno) -> FixError {
    let reason = match e {
        Errno::ELOOP => {
            format!("{what}: is a symlink; hfguard does not change files through links")
        }
        Errno::ENOENT => format!("{what}: {GONE}"),
        Errno::EACCES | Errno::EPERM => format!("{what}: permission denied"),
        other => format!("{what}: {}", other.desc()),
    };
    err(path, reason)
}

fn blocked(path: &Path, b: crate::confined::Blocked) -> FixError {
    if b.errno == Errno::ENOENT {
        return err(path, format!("{} {GONE}", b.at.display()));
    }
    err(path, b.reason())
}

/// What a file was when the plan was made.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    pub len: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// SHA-256 of the content, hex.
    pub sha256: String,
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The folder a change happens in, and the name in it (`None`: the home itself).
struct Parent<'p> {
    dir: OwnedFd,
    name: Option<&'p OsStr>,
    place: Place,
}

impl Parent<'_> {
    /// Writes `data` as the file `path` names in this folder (see [`write_in`]).
    fn write(
        &self,
        path: &Path,
        data: &[u8],
        mode: u32,
        owner: Option<(u32, u32)>,
        rename: Rename,
    ) -> Result<(), FixError> {
        let name = file_of(path, self)?;
        write_in(path, self.dir.as_fd(), name, data, mode, owner, rename)
    }
}

/// Opens the folder of `path` the way its place allows: from the home without following a
/// link, or (a credential file outside the home) that file's own folder.
fn parent<'p>(t: &Target, path: &'p Path, is_dir: bool) -> Result<Parent<'p>, FixError> {
    let place = t.place(path, is_dir)?;
    match place {
        Place::Inside => match crate::confined::open_parent(&t.home, path) {
            Ok(Some((dir, name))) => Ok(Parent {
                dir,
                name: Some(name),
                place,
            }),
            Ok(None) => Ok(Parent {
                dir: crate::confined::open_root(&t.home).map_err(|b| blocked(path, b))?,
                name: None,
                place,
            }),
            Err(b) => Err(blocked(path, b)),
        },
        Place::External => {
            let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
                return Err(err(path, "not a file path"));
            };
            let dir = nix::fcntl::open(
                dir,
                OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| errno(path, "cannot open its folder", e))?;
            Ok(Parent {
                dir,
                name: Some(name),
                place,
            })
        }
    }
}

/// Opens `name` in `dir` without following a link or blocking (a FIFO), and stats it.
fn open_nofollow(
    path: &Path,
    dir: BorrowedFd<'_>,
    name: &OsStr,
) -> Result<(OwnedFd, FileStat), FixError> {
    let fd = openat(
        dir,
        name,
        OFlag::O_RDONLY
            | OFlag::O_NOFOLLOW
            | OFlag::O_NONBLOCK
            | OFlag::O_CLOEXEC
            | OFlag::O_NOCTTY,
        Mode::empty(),
    )
    .map_err(|e| errno(path, "cannot open", e))?;
    let st = fstat(fd.as_fd()).map_err(|e| errno(path, "cannot stat", e))?;
    Ok((fd, st))
}

/// The object `path` names, opened (the home itself, or a name in its folder).
fn open_object(path: &Path, p: &Parent<'_>) -> Result<(OwnedFd, FileStat), FixError> {
    match p.name {
        Some(name) => open_nofollow(path, p.dir.as_fd(), name),
        None => {
            let fd = p.dir.try_clone().map_err(|e| err(path, e.to_string()))?;
            let st = fstat(fd.as_fd()).map_err(|e| errno(path, "cannot stat", e))?;
            Ok((fd, st))
        }
    }
}

fn file_of<'p>(path: &Path, p: &Parent<'p>) -> Result<&'p OsStr, FixError> {
    p.name
        .ok_or_else(|| err(path, "is the home folder, not a file"))
}

fn open_checked(path: &Path, p: &Parent<'_>) -> Result<(OwnedFd, FileStat), FixError> {
    let (fd, st) = open_nofollow(path, p.dir.as_fd(), file_of(path, p)?)?;
    check_stat(path, &st)?;
    Ok((fd, st))
}

fn check_owner(path: &Path, st: &FileStat) -> Result<(), FixError> {
    let me = owner::fsuid();
    if st.st_uid != me {
        return Err(err(
            path,
            format!(
                "owned by user id {}, not by the home's owner ({me}); refusing to change it",
                st.st_uid
            ),
        ));
    }
    Ok(())
}

fn check_stat(path: &Path, st: &FileStat) -> Result<(), FixError> {
    if st.st_mode & S_IFMT != S_IFREG {
        return Err(err(path, "not a regular file; hfguard leaves it alone"));
    }
    check_owner(path, st)?;
    if st.st_nlink != 1 {
        return Err(err(
            path,
            format!("has {} hard links; changing it here would change it elsewhere too, so hfguard refuses", st.st_nlink),
        ));
    }
    Ok(())
}

const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;

fn read_all(path: &Path, fd: OwnedFd) -> Result<Vec<u8>, FixError> {
    let mut f = std::fs::File::from(fd);
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)
        .map_err(|e| err(path, format!("cannot read: {e}")))?;
    Ok(buf)
}

fn snapshot(data: &[u8], st: &FileStat) -> Snapshot {
    Snapshot {
        len: data.len() as u64,
        mode: st.st_mode & 0o7777,
        uid: st.st_uid,
        gid: st.st_gid,
        sha256: sha256_hex(data),
    }
}

/// Reads `path` the safe way (as the owner, no link on the way) and returns its content and
/// snapshot.
pub fn read(t: &Target, path: &Path) -> Result<(Vec<u8>, Snapshot), FixError> {
    let _as = t.act(path)?;
    let p = parent(t, path, false)?;
    let (fd, st) = open_checked(path, &p)?;
    let data = read_all(path, fd)?;
    let snap = snapshot(&data, &st);
    Ok((data, snap))
}

/// The current snapshot of `path`, or `None` when it does not exist.
pub fn current(t: &Target, path: &Path) -> Result<Option<Snapshot>, FixError> {
    match read(t, path) {
        Ok((_, s)) => Ok(Some(s)),
        Err(e) if e.reason.ends_with(GONE) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The permission bits of `path` (file or folder) now, `None` when it does not exist.
pub fn mode_of(t: &Target, path: &Path) -> Result<Option<u32>, FixError> {
    let _as = t.act(path)?;
    // Asked before knowing whether it is a folder: a folder outside the home is refused by
    // the change itself.
    let p = match parent(t, path, false) {
        Ok(p) => p,
        Err(e) if e.reason.ends_with(GONE) => return Ok(None),
        Err(e) => return Err(e),
    };
    match open_object(path, &p) {
        Ok((_, st)) => Ok(Some(st.st_mode & 0o7777)),
        Err(e) if e.reason.ends_with(GONE) => Ok(None),
        Err(e) => Err(e),
    }
}

fn verify(path: &Path, expected: &Snapshot, data: &[u8], st: &FileStat) -> Result<(), FixError> {
    if data.len() as u64 != expected.len || sha256_hex(data) != expected.sha256 {
        return Err(err(
            path,
            "changed since the plan was made; skipped (run the fix again to see the new plan)",
        ));
    }
    if st.st_mode & 0o7777 != expected.mode {
        return Err(err(
            path,
            "its mode changed since the plan was made; skipped",
        ));
    }
    Ok(())
}

/// Sets the mode of `path` to `mode`, race-free; `expected_mode` is what the plan saw.
pub fn chmod(t: &Target, path: &Path, expected_mode: u32, mode: u32) -> Result<(), FixError> {
    let _as = t.act(path)?;
    let p = parent(t, path, false)?;
    let (fd, st) = open_object(path, &p)?;
    let is_dir = st.st_mode & S_IFMT == S_IFDIR;
    if is_dir {
        // A folder outside the home is never changed (a shared 1777 folder must stay so).
        t.place(path, true)?;
        check_owner(path, &st)?;
    } else {
        check_stat(path, &st)?;
    }
    debug_assert!(p.place == Place::Inside || !is_dir);
    if st.st_mode & 0o7777 != expected_mode {
        return Err(err(
            path,
            format!(
                "its mode is now {:04o}, not {expected_mode:04o} as planned; skipped",
                st.st_mode & 0o7777
            ),
        ));
    }
    fchmod(fd.as_fd(), Mode::from_bits_truncate(mode))
        .map_err(|e| errno(path, "cannot change the mode", e))?;
    let after = fstat(fd.as_fd()).map_err(|e| errno(path, "cannot stat", e))?;
    if after.st_mode & 0o7777 != mode {
        return Err(err(
            path,
            "the mode did not change (file system ignores modes?)",
        ));
    }
    Ok(())
}

/// Replaces the content of `path` (which must still match `expected`) with `data`, keeping
/// its mode and owner unless `mode` says otherwise.
pub fn replace(
    t: &Target,
    path: &Path,
    expected: &Snapshot,
    data: &[u8],
    mode: Option<u32>,
) -> Result<(), FixError> {
    let _as = t.act(path)?;
    let p = parent(t, path, false)?;
    let (fd, st) = open_checked(path, &p)?;
    let old = read_all(path, fd)?;
    verify(path, expected, &old, &st)?;
    let mode = mode.unwrap_or(expected.mode);
    p.write(
        path,
        data,
        mode,
        Some((st.st_uid, st.st_gid)),
        Rename::Replace,
    )
}

/// Restores a file that must not exist now (undo of a removal): it is never moved over a
/// file that appears meanwhile.
pub fn create(t: &Target, path: &Path, data: &[u8], mode: u32) -> Result<(), FixError> {
    let _as = t.act(path)?;
    let p = parent(t, path, false)?;
    let name = file_of(path, &p)?;
    match nix::sys::stat::fstatat(
        p.dir.as_fd(),
        name,
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    ) {
        Err(Errno::ENOENT) => {}
        Ok(_) => return Err(err(path, EXISTS_AGAIN)),
        Err(e) => return Err(errno(path, "cannot stat", e)),
    }
    crate::fix::failpoint("create-checked");
    p.write(path, data, mode, None, Rename::NoReplace)
}

const EXISTS_AGAIN: &str = "exists again; not overwriting it";

/// Creates the folder `path` (its parent must exist) with `mode`, without following a link.
pub fn mkdir(t: &Target, path: &Path, mode: u32) -> Result<(), FixError> {
    let _as = t.act(path)?;
    let p = parent(t, path, true)?;
    let name = file_of(path, &p)?;
    nix::sys::stat::mkdirat(p.dir.as_fd(), name, Mode::from_bits_truncate(mode)).map_err(|e| {
        match e {
            Errno::EEXIST => err(path, "exists already"),
            e => errno(path, "cannot create the folder", e),
        }
    })?;
    // The umask may have taken bits away: the mode planned is the mode made.
    let fd = openat(
        p.dir.as_fd(),
        name,
        OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| errno(path, "cannot open the new folder", e))?;
    fchmod(fd.as_fd(), Mode::from_bits_truncate(mode))
        .map_err(|e| errno(path, "cannot set the mode", e))?;
    fsync(p.dir.as_fd()).map_err(|e| errno(path, "cannot sync its folder", e))
}

/// Removes the empty folder `path` (undo of [`mkdir`]); a folder that holds something now
/// stays.
pub fn rmdir(t: &Target, path: &Path) -> Result<bool, FixError> {
    let _as = t.act(path)?;
    let p = parent(t, path, true)?;
    let name = file_of(path, &p)?;
    match unlinkat(p.dir.as_fd(), name, UnlinkatFlags::RemoveDir) {
        Ok(()) => Ok(true),
        Err(Errno::ENOENT) => Ok(false),
        Err(Errno::ENOTEMPTY | Errno::EEXIST) => Err(err(path, "holds files now; left as it is")),
        Err(e) => Err(errno(path, "cannot remove the folder", e)),
    }
}

/// Removes `path`, which must still match `expected`.
pub fn remove(t: &Target, path: &Path, expected: &Snapshot) -> Result<(), FixError> {
    let _as = t.act(path)?;
    let p = parent(t, path, false)?;
    let (fd, st) = open_checked(path, &p)?;
    let old = read_all(path, fd)?;
    verify(path, expected, &old, &st)?;
    unlinkat(
        p.dir.as_fd(),
        file_of(path, &p)?,
        UnlinkatFlags::NoRemoveDir,
    )
    .map_err(|e| errno(path, "cannot remove", e))?;
    fsync(p.dir.as_fd()).map_err(|e| errno(path, "cannot sync its folder", e))?;
    Ok(())
}

/// Creates the folder `dir` below `root` (and the folders on the way, without following a
/// link), makes it 0700 when it is not, and returns it open. hfguard's own state folders.
/// Runs as the caller: [`Target::act`] first for another user's home.
pub fn create_private_dir_in(root: &Path, dir: &Path) -> Result<OwnedFd, FixError> {
    let rel = dir
        .strip_prefix(root)
        .map_err(|_| err(dir, "is not below the folder it belongs to"))?;
    let (parent_rel, name) = match (rel.parent(), rel.file_name()) {
        (Some(p), Some(n)) => (p, n),
        _ => return Err(err(dir, "not a folder path")),
    };
    let up = crate::confined::create_dirs(root, parent_rel, 0o777).map_err(|b| blocked(dir, b))?;
    match nix::sys::stat::mkdirat(up.as_fd(), name, Mode::from_bits_truncate(0o700)) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(errno(dir, "cannot create it", e)),
    }
    let fd = openat(
        up.as_fd(),
        name,
        OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| {
        let e = if e == Errno::ENOTDIR && is_symlink(up.as_fd(), name) {
            Errno::ELOOP
        } else {
            e
        };
        errno(dir, "cannot open it", e)
    })?;
    let st = fstat(fd.as_fd()).map_err(|e| errno(dir, "cannot stat", e))?;
    check_owner(dir, &st)?;
    if st.st_mode & 0o7777 != 0o700 {
        fchmod(fd.as_fd(), Mode::from_bits_truncate(0o700))
            .map_err(|e| errno(dir, "cannot make it private", e))?;
    }
    Ok(fd)
}

fn is_symlink(dir: BorrowedFd<'_>, name: &OsStr) -> bool {
    nix::sys::stat::fstatat(dir, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
        .is_ok_and(|st| st.st_mode & S_IFMT == 0o120000)
}

/// Creates `dir` (and parents) and makes the last component 0700: hfguard's own folders
/// outside a fix (the keyring index). Nothing on the way below the home is followed when
/// `dir` is in `home`; elsewhere the folder holding it is taken as given.
pub fn create_private_dir(home: &Path, dir: &Path) -> Result<OwnedFd, FixError> {
    if dir.starts_with(home) {
        return create_private_dir_in(home, dir);
    }
    let parent = dir.parent().ok_or_else(|| err(dir, "not a folder path"))?;
    std::fs::create_dir_all(parent).map_err(|e| err(parent, crate::fsread::reason(&e)))?;
    create_private_dir_in(parent, dir)
}

/// Creates or replaces `name` in the open folder `dir` (hfguard's own files).
pub fn write_new_in(
    path: &Path,
    dir: BorrowedFd<'_>,
    name: &OsStr,
    data: &[u8],
    mode: u32,
) -> Result<(), FixError> {
    // Never over a symlink or a FIFO planted in hfguard's own folder.
    match nix::sys::stat::fstatat(dir, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) if st.st_mode & S_IFMT != S_IFREG => {
            return Err(err(
                path,
                "is not a regular file; hfguard does not replace it",
            ))
        }
        Ok(st) => check_owner(path, &st)?,
        Err(Errno::ENOENT) => {}
        Err(e) => return Err(errno(path, "cannot stat", e)),
    }
    write_in(path, dir, name, data, mode, None, Rename::Replace)
}

/// Creates or replaces `path` with `data`: hfguard's files at a place the user chose (its
/// configuration, a service file). The folder is opened without following its last
/// component.
pub fn write_new(path: &Path, data: &[u8], mode: u32) -> Result<(), FixError> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(err(path, "not a file path"));
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let dfd = nix::fcntl::open(
        dir,
        OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| errno(path, "cannot open its folder", e))?;
    write_in(path, dfd.as_fd(), name, data, mode, None, Rename::Replace)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Rename {
    /// Over the file (atomic replacement).
    Replace,
    /// Only where nothing is (`RENAME_NOREPLACE`): a file that appears meanwhile stays.
    NoReplace,
}

/// The longest part of a file name kept in a temporary file's name (names are at most 255
/// bytes; the suffix needs the rest).
const TMP_NAME_PART: usize = 200;

/// `.NAME.hfguard-` — what every temporary file for `name` starts with.
fn tmp_prefix(name: &OsStr) -> Vec<u8> {
    let b = name.as_bytes();
    let mut out = b".".to_vec();
    out.extend_from_slice(&b[..b.len().min(TMP_NAME_PART)]);
    out.extend_from_slice(b".hfguard-");
    out
}

/// The PID in a temporary file name of hfguard's (`.NAME.hfguard-PID-N.tmp`), or `None`
/// when the name is not one.
fn tmp_pid(file: &[u8]) -> Option<i32> {
    let rest = file.strip_suffix(b".tmp")?;
    let at = rest.windows(9).rposition(|w| w == b".hfguard-")?;
    if at == 0 || file[0] != b'.' {
        return None;
    }
    let (pid, n) = std::str::from_utf8(&rest[at + 9..]).ok()?.split_once('-')?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok().filter(|p| *p > 0)
}

fn pid_is_running(pid: i32) -> bool {
    !matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
        Err(Errno::ESRCH)
    )
}

/// Removes temporary files of hfguard's naming in `dir` whose process is gone (killed before
/// it could rename or remove them): for `name` only, or every one when `name` is `None`.
/// Only regular files owned by whoever runs this (the home's owner during a fix) go.
pub fn sweep_leftovers(dir: BorrowedFd<'_>, name: Option<&OsStr>) {
    // A fresh open of the folder: its own read position, not the caller's descriptor's.
    let Ok(fd) = openat(
        dir,
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) else {
        return;
    };
    let Ok(mut list) = nix::dir::Dir::from_fd(fd) else {
        return;
    };
    let prefix = name.map(tmp_prefix);
    let mut gone: Vec<OsString> = Vec::new();
    for entry in list.iter().flatten() {
        let file = entry.file_name().to_bytes();
        if prefix.as_ref().is_some_and(|p| !file.starts_with(p)) {
            continue;
        }
        if tmp_pid(file).is_some_and(|pid| !pid_is_running(pid)) {
            gone.push(OsString::from_vec(file.to_vec()));
        }
    }
    let me = owner::fsuid();
    for f in gone {
        let ours =
            nix::sys::stat::fstatat(dir, f.as_os_str(), nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
                .is_ok_and(|st| st.st_mode & S_IFMT == S_IFREG && st.st_uid == me);
        if ours {
            let _ = unlinkat(dir, f.as_os_str(), UnlinkatFlags::NoRemoveDir);
        }
    }
}

/// Sweeps the folder of `path` (see [`sweep_leftovers`]) for temporary files of its name.
pub fn sweep_leftovers_of(t: &Target, path: &Path) {
    let Ok(_as) = t.act(path) else { return };
    if let Ok(p) = parent(t, path, false) {
        if let Some(name) = p.name {
            sweep_leftovers(p.dir.as_fd(), Some(name));
        }
    }
}

fn write_in(
    path: &Path,
    dfd: BorrowedFd<'_>,
    name: &OsStr,
    data: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
    rename: Rename,
) -> Result<(), FixError> {
    sweep_leftovers(dfd, Some(name));
    let mut tmp = None;
    for attempt in 0..100u32 {
        let mut candidate = tmp_prefix(name);
        candidate.extend_from_slice(format!("{}-{attempt}.tmp", std::process::id()).as_bytes());
        let candidate = OsString::from_vec(candidate);
        match openat(
            dfd,
            candidate.as_os_str(),
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        ) {
            Ok(fd) => {
                tmp = Some((candidate, fd));
                break;
            }
            Err(Errno::EEXIST) => continue,
            Err(e) => return Err(errno(path, "cannot create a temporary file next to it", e)),
        }
    }
    let Some((tmp_name, fd)) = tmp else {
        return Err(err(path, "cannot create a temporary file next to it"));
    };
    let cleanup = |e: FixError| {
        let _ = unlinkat(dfd, tmp_name.as_os_str(), UnlinkatFlags::NoRemoveDir);
        e
    };
    if let Some((uid, gid)) = owner {
        let st =
            fstat(fd.as_fd()).map_err(|e| cleanup(errno(path, "cannot stat the new copy", e)))?;
        if st.st_uid != uid || st.st_gid != gid {
            fchown(
                fd.as_fd(),
                Some(Uid::from_raw(uid)),
                Some(Gid::from_raw(gid)),
            )
            .map_err(|e| cleanup(errno(path, "cannot set the owner of the new copy", e)))?;
        }
    }
    fchmod(fd.as_fd(), Mode::from_bits_truncate(mode))
        .map_err(|e| cleanup(errno(path, "cannot set the mode", e)))?;
    let mut f = std::fs::File::from(fd);
    f.write_all(data)
        .map_err(|e| cleanup(err(path, format!("cannot write: {e}"))))?;
    f.sync_all()
        .map_err(|e| cleanup(err(path, format!("cannot sync: {e}"))))?;
    drop(f);
    crate::fix::failpoint("before-rename");
    match rename {
        Rename::Replace => renameat(dfd, tmp_name.as_os_str(), dfd, name)
            .map_err(|e| cleanup(errno(path, "cannot replace", e)))?,
        Rename::NoReplace => rename_noreplace(dfd, &tmp_name, name).map_err(|e| match e {
            Errno::EEXIST => cleanup(err(path, EXISTS_AGAIN)),
            e => cleanup(errno(path, "cannot put it back", e)),
        })?,
    }
    fsync(dfd).map_err(|e| errno(path, "cannot sync its folder", e))?;
    Ok(())
}

/// `renameat2(RENAME_NOREPLACE)`; on a file system without it, `linkat` (which never replaces
/// either) and the temporary name removed.
fn rename_noreplace(dir: BorrowedFd<'_>, from: &OsStr, to: &OsStr) -> Result<(), Errno> {
    match nix::fcntl::renameat2(
        dir,
        from,
        dir,
        to,
        nix::fcntl::RenameFlags::RENAME_NOREPLACE,
    ) {
        Err(Errno::EINVAL) | Err(Errno::ENOSYS) => {
            nix::unistd::linkat(dir, from, dir, to, nix::fcntl::AtFlags::empty())?;
            let _ = unlinkat(dir, from, UnlinkatFlags::NoRemoveDir);
            Ok(())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_recognised_and_nothing_else() {
        assert_eq!(tmp_pid(b".bashrc.hfguard-123-0.tmp"), Some(123));
        assert_eq!(tmp_pid(b".a.b.hfguard-9-12.tmp"), Some(9));
        assert_eq!(tmp_pid(b"bashrc.hfguard-123-0.tmp"), None);
        assert_eq!(tmp_pid(b".bashrc.hfguard-123-0.tmp.bak"), None);
        assert_eq!(tmp_pid(b".bashrc.hfguard-x-0.tmp"), None);
        assert_eq!(tmp_pid(b".bashrc.hfguard-123-.tmp"), None);
        assert_eq!(tmp_pid(b".bashrc.hfguard-0-1.tmp"), None);
        let long = OsString::from_vec(vec![b'\xff'; 255]);
        let mut name = tmp_prefix(&long);
        name.extend_from_slice(b"77-0.tmp");
        assert!(name.len() <= 255);
        assert_eq!(tmp_pid(&name), Some(77));
    }
}
