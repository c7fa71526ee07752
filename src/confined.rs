//! Paths opened beneath a root folder (the audited home) one component at a time.
//!
//! The root itself is opened as given (an admin's `--home /home/alice` may go through
//! `/home → /var/home`); every component below it is opened with `openat(…, O_NOFOLLOW)`
//! relative to the folder before, so a symlink anywhere below the root — `~/.cache` linked
//! to another user's cache, `~/proj` swapped for a link while `fix` waits at its prompt —
//! is never passed through. [`open_dir`] refuses every link (what changes use);
//! [`resolve`] follows links only while they stay inside the root (what reading known
//! locations uses, so that a `.bashrc` or `.config` linked into `~/dotfiles` keeps working),
//! and the file it names is then opened strictly.

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{mkdirat, Mode};
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

/// Why a path below the root could not be opened, and where.
#[derive(Debug)]
pub struct Blocked {
    /// The path that failed: the root, or the root joined with the components up to the
    /// one that failed.
    pub at: PathBuf,
    pub errno: Errno,
}

impl Blocked {
    /// Words for people: "~/.cache is a symlink", "… does not exist".
    pub fn reason(&self) -> String {
        let at = self.at.display();
        match self.errno {
            Errno::ELOOP => {
                format!("{at} is a symlink; hfguard does not go through links below the home")
            }
            Errno::ENOENT => format!("{at} does not exist"),
            Errno::ENOTDIR => format!("{at} is not a folder"),
            Errno::EACCES | Errno::EPERM => format!("{at}: permission denied"),
            e => format!("{at}: {}", e.desc()),
        }
    }
}

/// The components of `rel`, which must be a plain relative path: no `..`, no root.
pub fn plain_components(rel: &Path) -> Result<Vec<&OsStr>, Errno> {
    let mut out = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(Errno::EINVAL)
            }
        }
    }
    Ok(out)
}

const DIR_FLAGS: OFlag = OFlag::O_DIRECTORY
    .union(OFlag::O_RDONLY)
    .union(OFlag::O_CLOEXEC)
    .union(OFlag::O_NOFOLLOW);

/// Opens the root folder itself (following links in its own path: it is what was asked for).
pub fn open_root(root: &Path) -> Result<OwnedFd, Blocked> {
    nix::fcntl::open(
        root,
        OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|errno| Blocked {
        at: root.to_path_buf(),
        errno,
    })
}

/// Opens the folder `rel` below `root`, every component with `O_NOFOLLOW`: a symlink on
/// the way is `ELOOP`, never followed.
pub fn open_dir(root: &Path, rel: &Path) -> Result<OwnedFd, Blocked> {
    walk(root, rel, None)
}

/// Like [`open_dir`], creating missing components (`mkdirat`, mode `mode` before the umask)
/// on the way; an existing component must be a real folder.
pub fn create_dirs(root: &Path, rel: &Path, mode: u32) -> Result<OwnedFd, Blocked> {
    walk(root, rel, Some(mode))
}

fn walk(root: &Path, rel: &Path, create: Option<u32>) -> Result<OwnedFd, Blocked> {
    let comps = plain_components(rel).map_err(|errno| Blocked {
        at: root.join(rel),
        errno,
    })?;
    let mut fd = open_root(root)?;
    let mut at = root.to_path_buf();
    for name in comps {
        at.push(name);
        let next = match openat(fd.as_fd(), name, DIR_FLAGS, Mode::empty()) {
            Err(Errno::ENOENT) if create.is_some() => {
                let mode = Mode::from_bits_truncate(create.unwrap_or(0o700));
                match mkdirat(fd.as_fd(), name, mode) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(errno) => return Err(Blocked { at, errno }),
                }
                openat(fd.as_fd(), name, DIR_FLAGS, Mode::empty())
            }
            other => other,
        };
        fd = next.map_err(|errno| Blocked {
            at: at.clone(),
            errno: symlink_or(fd.as_fd(), name, errno),
        })?;
    }
    Ok(fd)
}

/// `O_DIRECTORY|O_NOFOLLOW` on a symlink says `ENOTDIR` on Linux (the link is not a folder);
/// tell the two apart so the reason names the link.
fn symlink_or(dir: std::os::fd::BorrowedFd<'_>, name: &OsStr, errno: Errno) -> Errno {
    if errno != Errno::ENOTDIR {
        return errno;
    }
    match nix::sys::stat::fstatat(dir, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) if st.st_mode & 0o170000 == 0o120000 => Errno::ELOOP,
        _ => errno,
    }
}

/// The folder holding `path` (below `root`) opened strictly, and the last component.
/// `path` equal to `root` has no parent here: `Ok(None)`.
pub fn open_parent<'p>(
    root: &Path,
    path: &'p Path,
) -> Result<Option<(OwnedFd, &'p OsStr)>, Blocked> {
    let Ok(rel) = path.strip_prefix(root) else {
        return Err(Blocked {
            at: path.to_path_buf(),
            errno: Errno::EXDEV,
        });
    };
    if plain_components(rel).is_ok_and(|c| c.is_empty()) {
        return Ok(None);
    }
    let (Some(dir), Some(name)) = (rel.parent(), path.file_name()) else {
        return Err(Blocked {
            at: path.to_path_buf(),
            errno: Errno::EINVAL,
        });
    };
    Ok(Some((open_dir(root, dir)?, name)))
}

/// Where a path below the root really is, following links only while they stay inside.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    /// The path, under the root as given, with no symlink left in it below the root.
    Inside(PathBuf),
    /// A component is a symlink leading out of the root: `link` (under the root) points at
    /// `target`.
    Outside { link: PathBuf, target: PathBuf },
    /// A component does not exist (or is not a folder where one is needed).
    Missing,
}

/// At most this many links are followed, as the kernel's own limit.
const MAX_LINKS: usize = 40;

/// Resolves `path` (below `root`), following a symlink only when where it points is still
/// below the root (as given, or as the root really is after its own links). A link that
/// climbs above the root or names a place elsewhere makes the whole path [`Resolved::Outside`].
pub fn resolve(root: &Path, path: &Path) -> std::io::Result<Resolved> {
    let Ok(rel) = path.strip_prefix(root) else {
        return Ok(Resolved::Outside {
            link: path.to_path_buf(),
            target: path.to_path_buf(),
        });
    };
    // The root as it really is, for absolute links that name it so (only when one is met).
    let mut real_root: Option<PathBuf> = None;
    let mut pending: Vec<OsString> = rel
        .components()
        .rev()
        .map(|c| c.as_os_str().to_os_string())
        .collect();
    let mut done: Vec<OsString> = Vec::new();
    let mut links = 0;
    let here = |done: &[OsString]| {
        let mut p = root.to_path_buf();
        p.extend(done);
        p
    };
    while let Some(name) = pending.pop() {
        if name == "." {
            continue;
        }
        if name == ".." {
            if done.pop().is_none() {
                let at = here(&done);
                return Ok(Resolved::Outside {
                    link: at.clone(),
                    target: at.join(".."),
                });
            }
            continue;
        }
        done.push(name);
        let at = here(&done);
        let meta = match std::fs::symlink_metadata(&at) {
            Ok(m) => m,
            Err(e) if crate::fsread::is_vanished(&e) => return Ok(Resolved::Missing),
            Err(e) => return Err(e),
        };
        if !meta.file_type().is_symlink() {
            continue;
        }
        links += 1;
        if links > MAX_LINKS {
            return Err(std::io::Error::from_raw_os_error(nix::libc::ELOOP));
        }
        let target = std::fs::read_link(&at)?;
        done.pop();
        let rest: Vec<OsString> = if target.is_absolute() {
            let real_root = real_root.get_or_insert_with(|| {
                std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf())
            });
            let inside = target
                .strip_prefix(root)
                .or_else(|_| target.strip_prefix(&*real_root));
            match inside {
                Ok(r) => {
                    done.clear();
                    r.components()
                        .map(|c| c.as_os_str().to_os_string())
                        .collect()
                }
                Err(_) => return Ok(Resolved::Outside { link: at, target }),
            }
        } else {
            // Relative to the folder holding the link; `..` that climbs out is caught above.
            let mut climbed = done.len();
            for c in target.components() {
                match c {
                    Component::ParentDir if climbed == 0 => {
                        return Ok(Resolved::Outside { link: at, target })
                    }
                    Component::ParentDir => climbed -= 1,
                    Component::Normal(_) => climbed += 1,
                    _ => {}
                }
            }
            target
                .components()
                .map(|c| c.as_os_str().to_os_string())
                .collect()
        };
        pending.extend(rest.into_iter().rev());
    }
    Ok(Resolved::Inside(here(&done)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_are_followed_only_while_inside() {
        let home = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let h = home.path();
        std::fs::create_dir_all(h.join("dotfiles/config/git")).unwrap();
        std::fs::write(h.join("dotfiles/bashrc"), "x").unwrap();
        std::fs::write(h.join("dotfiles/config/git/config"), "x").unwrap();
        symlink("dotfiles/bashrc", h.join(".bashrc")).unwrap();
        symlink(h.join("dotfiles/config"), h.join(".config")).unwrap();
        symlink(out.path(), h.join(".cache")).unwrap();
        symlink("../../etc", h.join("up")).unwrap();
        assert_eq!(
            resolve(h, &h.join(".bashrc")).unwrap(),
            Resolved::Inside(h.join("dotfiles/bashrc"))
        );
        assert_eq!(
            resolve(h, &h.join(".config/git/config")).unwrap(),
            Resolved::Inside(h.join("dotfiles/config/git/config"))
        );
        assert_eq!(
            resolve(h, &h.join(".cache/huggingface/token")).unwrap(),
            Resolved::Outside {
                link: h.join(".cache"),
                target: out.path().to_path_buf()
            }
        );
        assert!(matches!(
            resolve(h, &h.join("up/passwd")).unwrap(),
            Resolved::Outside { .. }
        ));
        assert_eq!(
            resolve(h, &h.join("nothing/here")).unwrap(),
            Resolved::Missing
        );
    }

    #[test]
    fn strict_walks_never_pass_a_link() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        std::fs::create_dir_all(h.join("real/sub")).unwrap();
        symlink("real", h.join("proj")).unwrap();
        assert!(open_dir(h, Path::new("real/sub")).is_ok());
        let e = open_dir(h, Path::new("proj/sub")).unwrap_err();
        assert_eq!(e.errno, Errno::ELOOP);
        assert_eq!(e.at, h.join("proj"));
        assert!(e.reason().contains("is a symlink"));
        assert_eq!(
            open_dir(h, Path::new("real/../real")).unwrap_err().errno,
            Errno::EINVAL
        );
        let e = create_dirs(h, Path::new("proj/new"), 0o700).unwrap_err();
        assert_eq!(e.errno, Errno::ELOOP);
        assert!(!h.join("real/new").exists());
        create_dirs(h, Path::new("a/b/c"), 0o700).unwrap();
        assert!(h.join("a/b/c").is_dir());
    }
}
