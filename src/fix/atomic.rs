//! Changes to a user's files that cannot half-happen.
//!
//! Every operation opens the parent folder with `O_DIRECTORY|O_NOFOLLOW` and works relative
//! to that descriptor, so a path component swapped for a symlink mid-way cannot redirect it.
//! A file is only touched when it is a regular file owned by the user with one link and —
//! for content changes — still exactly what the plan saw ([`Snapshot`]). Rewrites go to a
//! temporary file in the same folder (same mode and owner), are `fsync`ed, `rename`d over
//! the original, and the folder is `fsync`ed: after a crash the file is old or new.

use nix::errno::Errno;
use nix::fcntl::{openat, renameat, OFlag};
use nix::sys::stat::{fchmod, fstat, FileStat, Mode};
use nix::unistd::{fchown, fsync, unlinkat, Gid, Uid, UnlinkatFlags};
use sha2::{Digest, Sha256};
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Why a change was refused or failed, with the path.
#[derive(Debug)]
pub struct FixError {
    pub path: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for FixError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

fn err(path: &Path, reason: impl Into<String>) -> FixError {
    FixError {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn errno(path: &Path, what: &str, e: Errno) -> FixError {
    let reason = match e {
        Errno::ELOOP => {
            format!("{what}: is a symlink; hfguard does not change files through links")
        }
        Errno::ENOENT => format!("{what}: no longer exists"),
        Errno::EACCES | Errno::EPERM => format!("{what}: permission denied"),
        other => format!("{what}: {}", other.desc()),
    };
    err(path, reason)
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

fn split(path: &Path) -> Result<(&Path, &OsStr), FixError> {
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => Ok((
            if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            },
            name,
        )),
        _ => Err(err(path, "not a file path")),
    }
}

fn open_dir(path: &Path, dir: &Path) -> Result<OwnedFd, FixError> {
    nix::fcntl::open(
        dir,
        OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| errno(path, "cannot open its folder", e))
}

/// Opens `name` in `dir` for reading without following links or blocking, and checks it is
/// a regular file owned by the user with a single link.
/// Opens `name` in `dir` without following a link or blocking (a FIFO), and stats it.
fn open_nofollow(
    path: &Path,
    dir: &OwnedFd,
    name: &OsStr,
) -> Result<(OwnedFd, FileStat), FixError> {
    let fd = openat(
        dir.as_fd(),
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

fn open_checked(path: &Path, dir: &OwnedFd, name: &OsStr) -> Result<(OwnedFd, FileStat), FixError> {
    let (fd, st) = open_nofollow(path, dir, name)?;
    check_stat(path, &st)?;
    Ok((fd, st))
}

fn check_stat(path: &Path, st: &FileStat) -> Result<(), FixError> {
    if st.st_mode & libc_s_ifmt() != libc_s_ifreg() {
        return Err(err(path, "not a regular file; hfguard leaves it alone"));
    }
    let me = nix::unistd::geteuid().as_raw();
    if st.st_uid != me {
        return Err(err(
            path,
            format!(
                "owned by user id {}, not by you ({me}); refusing to change it",
                st.st_uid
            ),
        ));
    }
    if st.st_nlink != 1 {
        return Err(err(
            path,
            format!("has {} hard links; changing it here would change it elsewhere too, so hfguard refuses", st.st_nlink),
        ));
    }
    Ok(())
}

const fn libc_s_ifmt() -> u32 {
    0o170000
}
const fn libc_s_ifreg() -> u32 {
    0o100000
}

fn read_all(path: &Path, fd: OwnedFd) -> Result<Vec<u8>, FixError> {
    let mut f = std::fs::File::from(fd);
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)
        .map_err(|e| err(path, format!("cannot read: {e}")))?;
    Ok(buf)
}

/// Reads `path` the safe way and returns its content and snapshot.
pub fn read(path: &Path) -> Result<(Vec<u8>, Snapshot), FixError> {
    let (dir, name) = split(path)?;
    let dfd = open_dir(path, dir)?;
    let (fd, st) = open_checked(path, &dfd, name)?;
    let data = read_all(path, fd)?;
    let snap = Snapshot {
        len: data.len() as u64,
        mode: st.st_mode & 0o7777,
        uid: st.st_uid,
        gid: st.st_gid,
        sha256: sha256_hex(&data),
    };
    Ok((data, snap))
}

/// The current snapshot of `path`, or `None` when it does not exist.
pub fn current(path: &Path) -> Result<Option<Snapshot>, FixError> {
    match read(path) {
        Ok((_, s)) => Ok(Some(s)),
        Err(e) if e.reason.ends_with("no longer exists") => Ok(None),
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
pub fn chmod(path: &Path, expected_mode: u32, mode: u32) -> Result<(), FixError> {
    let (dir, name) = split(path)?;
    let dfd = open_dir(path, dir)?;
    let (fd, st) = open_nofollow(path, &dfd, name)?;
    let is_dir = st.st_mode & libc_s_ifmt() == 0o040000;
    if is_dir {
        let me = nix::unistd::geteuid().as_raw();
        if st.st_uid != me {
            return Err(err(
                path,
                format!(
                    "owned by user id {}, not by you; refusing to change it",
                    st.st_uid
                ),
            ));
        }
    } else {
        check_stat(path, &st)?;
    }
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
    path: &Path,
    expected: &Snapshot,
    data: &[u8],
    mode: Option<u32>,
) -> Result<(), FixError> {
    let (dir, name) = split(path)?;
    let dfd = open_dir(path, dir)?;
    let (fd, st) = open_checked(path, &dfd, name)?;
    let old = read_all(path, fd)?;
    verify(path, expected, &old, &st)?;
    let mode = mode.unwrap_or(expected.mode);
    write_in(path, &dfd, name, data, mode, Some((st.st_uid, st.st_gid)))
}

/// Creates or replaces `path` with `data` (hfguard's own files, and undo of a removal).
pub fn write_new(path: &Path, data: &[u8], mode: u32) -> Result<(), FixError> {
    let (dir, name) = split(path)?;
    let dfd = open_dir(path, dir)?;
    write_in(path, &dfd, name, data, mode, None)
}

/// Restores a file that must not exist now (undo of a removal).
pub fn create(path: &Path, data: &[u8], mode: u32) -> Result<(), FixError> {
    let (dir, name) = split(path)?;
    let dfd = open_dir(path, dir)?;
    match nix::sys::stat::fstatat(dfd.as_fd(), name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
        Err(Errno::ENOENT) => {}
        Ok(_) => return Err(err(path, "exists again; not overwriting it")),
        Err(e) => return Err(errno(path, "cannot stat", e)),
    }
    write_in(path, &dfd, name, data, mode, None)
}

fn write_in(
    path: &Path,
    dfd: &OwnedFd,
    name: &OsStr,
    data: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), FixError> {
    let mut tmp_name = None;
    let mut tmp_fd = None;
    for attempt in 0..100u32 {
        let candidate = format!(
            ".{}.hfguard-{}-{attempt}.tmp",
            name.to_string_lossy(),
            std::process::id()
        );
        match openat(
            dfd.as_fd(),
            candidate.as_str(),
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        ) {
            Ok(fd) => {
                tmp_name = Some(candidate);
                tmp_fd = Some(fd);
                break;
            }
            Err(Errno::EEXIST) => continue,
            Err(e) => return Err(errno(path, "cannot create a temporary file next to it", e)),
        }
    }
    let (tmp_name, fd) = match (tmp_name, tmp_fd) {
        (Some(n), Some(f)) => (n, f),
        _ => return Err(err(path, "cannot create a temporary file next to it")),
    };
    let cleanup = |e: FixError| {
        let _ = unlinkat(dfd.as_fd(), tmp_name.as_str(), UnlinkatFlags::NoRemoveDir);
        e
    };
    if let Some((uid, gid)) = owner {
        fchown(
            fd.as_fd(),
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
        )
        .map_err(|e| cleanup(errno(path, "cannot set the owner of the new copy", e)))?;
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
    renameat(dfd.as_fd(), tmp_name.as_str(), dfd.as_fd(), name)
        .map_err(|e| cleanup(errno(path, "cannot replace", e)))?;
    fsync(dfd.as_fd()).map_err(|e| errno(path, "cannot sync its folder", e))?;
    Ok(())
}

/// Removes `path`, which must still match `expected`.
pub fn remove(path: &Path, expected: &Snapshot) -> Result<(), FixError> {
    let (dir, name) = split(path)?;
    let dfd = open_dir(path, dir)?;
    let (fd, st) = open_checked(path, &dfd, name)?;
    let old = read_all(path, fd)?;
    verify(path, expected, &old, &st)?;
    unlinkat(dfd.as_fd(), name, UnlinkatFlags::NoRemoveDir)
        .map_err(|e| errno(path, "cannot remove", e))?;
    fsync(dfd.as_fd()).map_err(|e| errno(path, "cannot sync its folder", e))?;
    Ok(())
}

/// Creates `dir` (and parents) and makes the last component 0700.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}
