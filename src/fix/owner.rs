//! Changes to a home are made as the home's owner.
//!
//! When root fixes `/home/alice`, every file operation of the fix runs with alice's file
//! system identity, so nothing alice controls (a symlink, a forged journal) can make root
//! write where alice could not: root never writes into a tree another user controls.
//!
//! How: the thread doing the change switches its *file system* credentials — supplementary
//! groups, then `setfsgid`, then `setfsuid` — with raw system calls, and switches back when
//! the [`AsOwner`] guard drops. At the system-call level Linux credentials belong to one
//! thread; glibc's `setuid`/`setgroups` wrappers copy a change to every thread of the
//! process, which would also drop the privileges of the dashboard's scanner and keyring
//! threads (and `setresuid` for good would forbid switching back). The raw calls change
//! only the calling thread, and a file system uid other than 0 also clears the file
//! capabilities (`CAP_DAC_OVERRIDE`, `CAP_FOWNER`, `CAP_CHOWN`…) from that thread: it is
//! held to alice's permissions. No `fork` is needed (a multi-threaded program may do little
//! after one). The scan keeps root's identity; it only reads.

use std::marker::PhantomData;
use std::path::Path;

/// The user a home belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    /// The primary group (from the user database, else the home folder's group).
    pub gid: u32,
    /// Every group the user is in (the user database), at least `gid`.
    pub groups: Vec<u32>,
    /// The login name, when the user database knows the uid.
    pub name: Option<String>,
}

impl Owner {
    /// The owner of the folder `home` (following links in its path, as the home is given).
    pub fn of(home: &Path) -> std::io::Result<Owner> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(home)?;
        let uid = meta.uid();
        let user = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
            .ok()
            .flatten();
        let gid = user.as_ref().map_or(meta.gid(), |u| u.gid.as_raw());
        let mut groups = user
            .as_ref()
            .and_then(|u| {
                let name = std::ffi::CString::new(u.name.as_bytes()).ok()?;
                nix::unistd::getgrouplist(&name, u.gid).ok()
            })
            .map(|g| g.into_iter().map(|g| g.as_raw()).collect::<Vec<_>>())
            .unwrap_or_default();
        if !groups.contains(&gid) {
            groups.insert(0, gid);
        }
        Ok(Owner {
            uid,
            gid,
            groups,
            name: user.map(|u| u.name),
        })
    }

    /// `alice (uid 1001)`, or `uid 1001` without a name.
    pub fn describe(&self) -> String {
        match &self.name {
            Some(n) => format!("{} (uid {})", crate::term::safe_line(n), self.uid),
            None => format!("uid {}", self.uid),
        }
    }
}

/// Who the changes to a home are made as.
#[derive(Clone, Debug)]
pub enum Acting {
    /// The home is the caller's own.
    Myself,
    /// Root fixing another user's home: every change is made as that user.
    As(Owner),
    /// Neither: the reason, for the user.
    Refused(String),
}

impl Acting {
    /// Decides for the home `home` and the caller's effective uid.
    pub fn for_home(home: &Path) -> Acting {
        let me = nix::unistd::geteuid().as_raw();
        match Owner::of(home) {
            Ok(o) if o.uid == me => Acting::Myself,
            Ok(o) if me == 0 => Acting::As(o),
            Ok(o) => Acting::Refused(format!(
                "{} belongs to {}, and you are uid {me}: hfguard changes a home only as its owner (or as root, acting as the owner)",
                crate::term::safe_line(&home.display().to_string()),
                o.describe()
            )),
            Err(e) => Acting::Refused(format!(
                "{}: {}",
                crate::term::safe_line(&home.display().to_string()),
                crate::fsread::reason(&e)
            )),
        }
    }

    /// The uid every changed file must belong to.
    pub fn uid(&self) -> Option<u32> {
        match self {
            Acting::Myself => Some(nix::unistd::geteuid().as_raw()),
            Acting::As(o) => Some(o.uid),
            Acting::Refused(_) => None,
        }
    }

    /// Why keyring steps cannot be taken for this home, if they cannot: the keyring a fix
    /// uses must be the one the owner's shells and git will ask later, the Secret Service of
    /// the owner's session, which root has no sensible way to reach.
    pub fn keyring_refusal(&self) -> Option<String> {
        match self {
            Acting::Myself => None,
            Acting::As(o) => {
                let who = o.name.clone().unwrap_or_else(|| format!("#{}", o.uid));
                Some(format!(
                    "this fix needs the OS keyring of {}, which only a session of that user can reach: run it as that user (`sudo -u {} -i hfguard fix …` inside their desktop session), or use the fixes that need no keyring as root: `hfguard fix --only chmod`",
                    o.describe(),
                    crate::term::safe_line(&who)
                ))
            }
            Acting::Refused(r) => Some(r.clone()),
        }
    }

    /// Switches the calling thread to the owner until the guard drops.
    pub fn enter(&self) -> Result<AsOwner, String> {
        match self {
            Acting::Myself => Ok(AsOwner {
                previous: None,
                _thread: PhantomData,
            }),
            Acting::As(o) => switch(o),
            Acting::Refused(r) => Err(r.clone()),
        }
    }
}

/// While alive, the calling thread's file system identity is the home owner's. Dropped on
/// the thread that made it (it is not `Send`).
pub struct AsOwner {
    previous: Option<Creds>,
    _thread: PhantomData<*const ()>,
}

struct Creds {
    fsuid: u32,
    fsgid: u32,
    groups: Vec<u32>,
}

/// The calling thread's file system uid (what the kernel checks and gives new files).
pub fn fsuid() -> u32 {
    // An invalid id changes nothing and returns the current one.
    unsafe { nix::libc::syscall(nix::libc::SYS_setfsuid, u32::MAX) as u32 }
}

fn fsgid() -> u32 {
    unsafe { nix::libc::syscall(nix::libc::SYS_setfsgid, u32::MAX) as u32 }
}

fn thread_groups() -> Result<Vec<u32>, String> {
    nix::unistd::getgroups()
        .map(|g| g.into_iter().map(|g| g.as_raw()).collect())
        .map_err(|e| format!("cannot read the groups of this process: {}", e.desc()))
}

/// `setgroups` for this thread only (glibc's wrapper would change every thread).
fn set_thread_groups(groups: &[u32]) -> Result<(), String> {
    let r = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_setgroups,
            groups.len() as nix::libc::size_t,
            groups.as_ptr(),
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(format!(
            "cannot take the groups of the home's owner: {}",
            nix::errno::Errno::last().desc()
        ))
    }
}

fn set_ids(uid: u32, gid: u32) -> Result<(), String> {
    unsafe {
        nix::libc::syscall(nix::libc::SYS_setfsgid, gid);
        nix::libc::syscall(nix::libc::SYS_setfsuid, uid);
    }
    if fsgid() == gid && fsuid() == uid {
        Ok(())
    } else {
        Err(format!("cannot act as uid {uid}/gid {gid}"))
    }
}

fn switch(o: &Owner) -> Result<AsOwner, String> {
    let previous = Creds {
        fsuid: fsuid(),
        fsgid: fsgid(),
        groups: thread_groups()?,
    };
    set_thread_groups(&o.groups)?;
    let guard = AsOwner {
        previous: Some(previous),
        _thread: PhantomData,
    };
    // From here the guard puts everything back, even when this fails half-way.
    set_ids(o.uid, o.gid)?;
    Ok(guard)
}

impl Drop for AsOwner {
    fn drop(&mut self) {
        let Some(p) = self.previous.take() else {
            return;
        };
        // uid first: back to 0 gives the file capabilities back, then groups can be set.
        if set_ids(p.fsuid, p.fsgid)
            .and_then(|()| set_thread_groups(&p.groups))
            .is_err()
        {
            // Carrying on with another user's identity would be worse than stopping.
            crate::term::warn(
                "hfguard: cannot switch back from the home owner's identity; stopping",
            );
            std::process::abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The switch is per thread: another thread keeps root's identity meanwhile, and the
    /// thread itself gets it back when the guard drops.
    #[test]
    fn acting_as_the_owner_changes_only_this_thread_and_only_for_a_while() {
        assert!(
            nix::unistd::geteuid().is_root(),
            "acting as another user needs root: run the tests as root, as CI does"
        );
        let dir = tempfile::tempdir().unwrap();
        let roots = dir.path().join("roots");
        std::fs::write(&roots, "x").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&roots, std::fs::Permissions::from_mode(0o600)).unwrap();
        nix::unistd::chown(
            dir.path(),
            Some(nix::unistd::Uid::from_raw(54_321)),
            Some(nix::unistd::Gid::from_raw(54_321)),
        )
        .unwrap();
        let acting = Acting::for_home(dir.path());
        assert!(
            matches!(&acting, Acting::As(o) if o.uid == 54_321),
            "{acting:?}"
        );
        let (to_main, from_other) = std::sync::mpsc::channel();
        let (to_other, from_main) = std::sync::mpsc::channel::<()>();
        let other = std::thread::spawn(move || {
            from_main.recv().unwrap();
            to_main.send(fsuid()).unwrap();
        });
        {
            let _as = acting.enter().unwrap();
            assert_eq!(fsuid(), 54_321);
            assert_eq!(fsgid(), 54_321);
            // A file made now belongs to the owner; root's override is gone.
            let f = dir.path().join("made");
            std::fs::write(&f, "x").unwrap();
            use std::os::unix::fs::MetadataExt;
            assert_eq!(std::fs::metadata(&f).unwrap().uid(), 54_321);
            assert!(
                std::fs::read(&roots).is_err(),
                "root's override is still on"
            );
            to_other.send(()).unwrap();
            assert_eq!(from_other.recv().unwrap(), 0, "another thread changed too");
        }
        other.join().unwrap();
        assert_eq!(fsuid(), 0);
        assert_eq!(fsgid(), 0);
        assert!(std::fs::read(&roots).is_ok());
    }
}
