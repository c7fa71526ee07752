//! Reading files the way an audit of someone's home must: never following a symlink, never
//! opening a FIFO, socket or device (`lstat` first, then `O_NONBLOCK|O_NOFOLLOW`, then `fstat`
//! on the descriptor), bounded in size, and with errors that say what failed where. The home
//! walk takes the file type from the directory entry instead of an `lstat` of its own, and
//! calls [`open_regular`] and [`read_opened`] directly: open, `fstat`, one `read` per file.

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::Mode;
use std::ffi::OsStr;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::fd::BorrowedFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

/// What `lstat` said about a path, before anything is opened.
#[derive(Debug)]
pub enum Entry {
    Missing,
    Regular(Metadata),
    Symlink,
    Dir(Metadata),
    /// FIFO, socket, device: never opened.
    Special(&'static str),
}

/// `lstat` without following the last component. Missing or vanished paths are `Missing`.
pub fn lstat(path: &Path) -> io::Result<Entry> {
    match std::fs::symlink_metadata(path) {
        Ok(m) => Ok(entry_of(m)),
        Err(e) if is_vanished(&e) => Ok(Entry::Missing),
        Err(e) => Err(e),
    }
}

fn entry_of(m: Metadata) -> Entry {
    let ft = m.file_type();
    if ft.is_symlink() {
        Entry::Symlink
    } else if ft.is_file() {
        Entry::Regular(m)
    } else if ft.is_dir() {
        Entry::Dir(m)
    } else {
        Entry::Special(special(ft))
    }
}

/// Errors that mean the file is simply not there (any more).
pub fn is_vanished(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::NotFound) || e.raw_os_error() == Some(nix::libc::ENOTDIR)
}

/// Outcome of reading a regular file.
#[derive(Debug)]
pub enum ReadOutcome {
    /// Read into the buffer; `truncated` when the file was larger than the limit.
    Read { meta: Metadata, truncated: bool },
    /// Gone between listing and opening, or no longer a regular file.
    Vanished,
}

/// Opens `path` without following a symlink or blocking on a FIFO, checks on the descriptor
/// that it is (still) a regular file, and reads at most `limit` bytes into `buf`.
pub fn read_regular(path: &Path, limit: u64, buf: &mut Vec<u8>) -> io::Result<ReadOutcome> {
    buf.clear();
    match open_regular(path)? {
        Some((file, meta)) => read_opened(&file, meta, limit, buf),
        None => Ok(ReadOutcome::Vanished),
    }
}

/// Opens `path` for reading without following a symlink (`O_NOFOLLOW`) or blocking on a FIFO
/// (`O_NONBLOCK`), and returns it with the metadata of the descriptor (`fstat`, no second path
/// lookup); `None` when it is gone or is not a regular file.
pub fn open_regular(path: &Path) -> io::Result<Option<(File, Metadata)>> {
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOFOLLOW | nix::libc::O_NOCTTY)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if is_vanished(&e) || e.raw_os_error() == Some(nix::libc::ELOOP) => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    Ok(meta.file_type().is_file().then_some((file, meta)))
}

/// Reads at most `limit` bytes of a file opened by [`open_regular`] into `buf` (replacing
/// its content).
///
/// A file is read in one `read` of the size `fstat` gave (the buffer is reused, so only its
/// growth is zeroed), without the extra `read` that would only confirm the end: one system
/// call per file where `read_to_end` makes two or more. A file that reports size 0
/// (procfs-like) is read to its end.
pub fn read_opened(
    mut file: &File,
    meta: Metadata,
    limit: u64,
    buf: &mut Vec<u8>,
) -> io::Result<ReadOutcome> {
    let truncated = meta.len() > limit;
    if meta.len() == 0 {
        buf.clear();
        file.take(limit).read_to_end(buf)?;
        return Ok(ReadOutcome::Read { meta, truncated });
    }
    let want = meta.len().min(limit) as usize;
    if buf.len() < want {
        buf.resize(want, 0);
    } else {
        buf.truncate(want);
    }
    let mut filled = 0;
    while filled < want {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.clear();
                return Err(e);
            }
        }
    }
    buf.truncate(filled);
    Ok(ReadOutcome::Read { meta, truncated })
}

/// Reads one of hfguard's own files (its configuration, the token index, a journal entry):
/// opened without blocking (a FIFO there must not hang every command, `token get` in every
/// new shell included), checked on the descriptor to be a regular file, and at most `limit`
/// bytes long. `Ok(None)` when it does not exist. A symlink is followed (dotfile managers
/// link configuration files); what it names must be a regular file too.
pub fn read_own(path: &Path, limit: u64) -> io::Result<Option<Vec<u8>>> {
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    let ft = meta.file_type();
    if !ft.is_file() {
        let what = if ft.is_dir() { "a folder" } else { special(ft) };
        return Err(io::Error::other(format!("is {what}, not a regular file")));
    }
    if meta.len() > limit {
        return Err(io::Error::other(format!(
            "larger than {} KiB, more than hfguard ever writes there",
            limit >> 10
        )));
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    (&file).take(limit + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(io::Error::other("grew while it was read"));
    }
    Ok(Some(buf))
}

/// What a file that is neither regular, a folder nor a symlink is, for messages.
fn special(ft: std::fs::FileType) -> &'static str {
    if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "a device"
    }
}

/// [`lstat`] of `name` in the folder `dir` (an `O_PATH|O_NOFOLLOW` open, which neither
/// follows a link nor touches a FIFO or device, then `fstat`).
pub fn lstat_in(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Entry> {
    let fd = match openat(
        dir,
        name,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(e) if e == Errno::ENOENT || e == Errno::ENOTDIR => return Ok(Entry::Missing),
        Err(e) => return Err(e.into()),
    };
    let m = File::from(fd).metadata()?;
    Ok(entry_of(m))
}

/// [`open_regular`] of `name` in the folder `dir`.
pub fn open_regular_in(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Option<(File, Metadata)>> {
    let fd = match openat(
        dir,
        name,
        OFlag::O_RDONLY
            | OFlag::O_NONBLOCK
            | OFlag::O_NOFOLLOW
            | OFlag::O_NOCTTY
            | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(e) if e == Errno::ENOENT || e == Errno::ENOTDIR || e == Errno::ELOOP => {
            return Ok(None)
        }
        Err(e) => return Err(e.into()),
    };
    let file = File::from(fd);
    let meta = file.metadata()?;
    Ok(meta.file_type().is_file().then_some((file, meta)))
}

/// A reason for people: "permission denied", "is a directory", …
pub fn reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        // hfguard's own words ("is a FIFO, not a regular file"), as written.
        _ if e.raw_os_error().is_none() && e.get_ref().is_some() => e.to_string(),
        _ => {
            let s = e.to_string();
            // std appends " (os error N)"; users do not need it.
            match s.find(" (os error") {
                Some(i) => s[..i].to_lowercase(),
                None => s.to_lowercase(),
            }
        }
    }
}

/// Permission bits of a metadata.
pub fn mode_bits(meta: &Metadata) -> u32 {
    meta.mode() & 0o7777
}
