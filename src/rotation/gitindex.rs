//! Which files git tracks in a work tree, read from the repository's index file (versions
//! 2, 3 and 4, SHA-1 or SHA-256 object names) without running git: an audit of someone
//! else's home must not run their repository's configured commands (`core.fsmonitor`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The index file of the repository whose work tree holds `dir`, and that work tree:
/// the nearest `.git` folder (or `.git` file with `gitdir: …`, as in worktrees and
/// submodules) at or above `dir`, not above `stop`.
pub fn repository_of(dir: &Path, stop: &Path) -> Option<(PathBuf, PathBuf)> {
    let mut d = dir;
    loop {
        let dot = d.join(".git");
        match crate::fsread::lstat(&dot) {
            Ok(crate::fsread::Entry::Dir(_)) => return Some((d.to_path_buf(), dot.join("index"))),
            Ok(crate::fsread::Entry::Regular(_)) => {
                let mut buf = Vec::new();
                crate::fsread::read_regular(&dot, 4096, &mut buf).ok()?;
                let text = std::str::from_utf8(&buf).ok()?;
                let target = text.strip_prefix("gitdir:")?.trim();
                return Some((d.to_path_buf(), d.join(target).join("index")));
            }
            _ => {}
        }
        if d == stop {
            return None;
        }
        d = d.parent()?;
    }
}

/// The paths (relative to the work tree, `/`-separated bytes) an index lists; `None` when
/// the file is not an index this reader understands (it then proves nothing either way).
pub fn tracked(index: &[u8]) -> Option<HashSet<Vec<u8>>> {
    // Object names are 20 bytes (SHA-1) or 32 (SHA-256); only one reading gets through the
    // whole entry table.
    parse(index, 20).or_else(|| parse(index, 32))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn parse(b: &[u8], hash_len: usize) -> Option<HashSet<Vec<u8>>> {
    if b.get(..4)? != b"DIRC" {
        return None;
    }
    let version = u32_at(b, 4)?;
    if !(2..=4).contains(&version) {
        return None;
    }
    let count = u32_at(b, 8)? as usize;
    let mut paths = HashSet::with_capacity(count.min(1 << 20));
    let mut pos = 12;
    let mut previous: Vec<u8> = Vec::new();
    for _ in 0..count {
        let start = pos;
        // ctime, mtime (8 each), dev, ino, mode, uid, gid, size (4 each), name, flags.
        let flags_at = start + 40 + hash_len;
        let flags = u16::from_be_bytes(b.get(flags_at..flags_at + 2)?.try_into().ok()?);
        let mut name_at = flags_at + 2;
        if version >= 3 && flags & 0x4000 != 0 {
            name_at += 2; // extended flags
        }
        let name = if version == 4 {
            // The name is the previous one minus N trailing bytes, plus a NUL-ended suffix.
            let (strip, used) = varint(b.get(name_at..)?)?;
            let suffix_at = name_at + used;
            let len = b.get(suffix_at..)?.iter().position(|&c| c == 0)?;
            let keep = previous.len().checked_sub(strip)?;
            let mut name = previous[..keep].to_vec();
            name.extend_from_slice(&b[suffix_at..suffix_at + len]);
            pos = suffix_at + len + 1;
            name
        } else {
            let len = b.get(name_at..)?.iter().position(|&c| c == 0)?;
            let name = b[name_at..name_at + len].to_vec();
            // Entries are padded with 1 to 8 NULs to a multiple of 8 bytes.
            pos = start + ((name_at - start + len + 8) & !7);
            name
        };
        if pos > b.len() {
            return None;
        }
        previous.clone_from(&name);
        paths.insert(name);
    }
    Some(paths)
}

/// Git's offset varint (index v4): 7 bits a byte, each continuation adding one.
fn varint(b: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    let mut c = *b.first()?;
    let mut val = (c & 0x7f) as usize;
    while c & 0x80 != 0 {
        i += 1;
        c = *b.get(i)?;
        val = val.checked_add(1)?.checked_shl(7)? | (c & 0x7f) as usize;
    }
    Some((val, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {:?}", out);
    }

    /// Real indexes written by git, in every version, with names that share prefixes (v4
    /// compresses them) and one long enough to need padding.
    #[test]
    fn reads_the_indexes_git_writes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q"]);
        let names = [
            ".env",
            "notebooks/train.ipynb",
            "notebooks/train_v2.ipynb",
            "a/very/long/path/name/that/needs/some/padding/beyond/the/usual/entry.py",
        ];
        for n in names {
            let p = d.join(n);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, n).unwrap();
        }
        std::fs::write(d.join("untracked.txt"), "x").unwrap();
        git(d, &["add", ".env", "notebooks", "a"]);
        for version in ["2", "3", "4"] {
            git(d, &["update-index", "--index-version", version]);
            let index = std::fs::read(d.join(".git/index")).unwrap();
            let paths = tracked(&index).unwrap_or_else(|| panic!("v{version} not read"));
            assert_eq!(paths.len(), names.len(), "v{version}");
            for n in names {
                assert!(paths.contains(n.as_bytes()), "v{version}: {n}");
            }
            assert!(!paths.contains(b"untracked.txt".as_slice()));
        }
        assert_eq!(
            repository_of(&d.join("notebooks"), d).map(|(w, _)| w),
            Some(d.to_path_buf())
        );
        assert!(tracked(b"DIRC\0\0\0\x02\0\0\0\x05short").is_none());
        assert!(tracked(b"not an index").is_none());
    }
}
