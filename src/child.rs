//! Running other programs (`git`, `notify-send`, `xdg-open`), bounded in time: every child hfguard
//! starts goes through [`start`], which runs it in a process group of its own and kills the
//! whole group when it outlives its limit. A `git config` stuck reading a FIFO, or a
//! `notify-send` waiting for a D-Bus that never answers, must not hang hfguard.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Output kept from a child, per stream: what hfguard reads from `git config` is small; more
/// is read and dropped, so the child never blocks on a full pipe.
const OUTPUT_LIMIT: usize = 4 << 20;

/// Why a child gave no result.
#[derive(Debug)]
pub enum ChildError {
    /// It could not be started (not installed, not executable).
    Start(std::io::Error),
    /// It ran longer than its limit and was killed, with its process group.
    Timeout(Duration),
    Wait(std::io::Error),
}

impl std::fmt::Display for ChildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChildError::Start(e) => write!(f, "cannot start it: {}", crate::fsread::reason(e)),
            ChildError::Timeout(limit) => {
                write!(f, "stopped after {} s without an answer", limit.as_secs())
            }
            ChildError::Wait(e) => write!(f, "{}", crate::fsread::reason(e)),
        }
    }
}

/// What a finished child printed and how it ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// A child that is running, with its deadline.
pub struct Running {
    pid: i32,
    deadline: Instant,
    limit: Duration,
    exited: mpsc::Receiver<std::io::Result<ExitStatus>>,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

fn drain(mut r: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let _ = (&mut r).take(OUTPUT_LIMIT as u64).read_to_end(&mut kept);
        let _ = std::io::copy(&mut r, &mut std::io::sink());
        kept
    })
}

/// Starts `cmd` (standard input closed unless the caller set it; standard output and error
/// captured), to be killed after `limit`.
pub fn start(cmd: &mut Command, limit: Duration) -> Result<Running, ChildError> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(ChildError::Start)?;
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let pid = child.id() as i32;
    let (tx, exited) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    Ok(Running {
        pid,
        deadline: Instant::now() + limit,
        limit,
        exited,
        stdout,
        stderr,
    })
}

impl Running {
    /// Waits until the child ends or its deadline passes (then its process group is killed).
    pub fn wait(mut self) -> Result<Finished, ChildError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        let status = match self.exited.recv_timeout(left) {
            Ok(r) => r.map_err(ChildError::Wait)?,
            Err(_) => {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(self.pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
                // Reaped by the waiting thread; the pipes close with the group.
                let _ = self.exited.recv();
                return Err(ChildError::Timeout(self.limit));
            }
        };
        let join =
            |h: Option<JoinHandle<Vec<u8>>>| h.and_then(|h| h.join().ok()).unwrap_or_default();
        Ok(Finished {
            status,
            stdout: join(self.stdout.take()),
            stderr: join(self.stderr.take()),
        })
    }

    /// Lets the child finish on its own (a notification), still killed at its deadline and
    /// reaped, by a thread of its own.
    pub fn detach(self) {
        std::thread::spawn(move || {
            let _ = self.wait();
        });
    }
}

/// Runs `cmd` to its end, at most `limit`.
pub fn output(cmd: &mut Command, limit: Duration) -> Result<Finished, ChildError> {
    start(cmd, limit)?.wait()
}

/// Whether the user's session has a display a browser can open on (`DISPLAY` or
/// `WAYLAND_DISPLAY`): on a headless box (SSH to a GPU server) a URL is only shown.
pub fn has_display(home: &crate::home::Home) -> bool {
    home.var("DISPLAY").is_some() || home.var("WAYLAND_DISPLAY").is_some()
}

/// Opens `url` in the user's browser with `xdg-open` when there is a display, without
/// waiting for it (still killed after 30 s, like every child); whether it was started.
pub fn open_in_browser(home: &crate::home::Home, url: &str) -> bool {
    if !has_display(home) {
        return false;
    }
    let mut cmd = Command::new("xdg-open");
    cmd.arg(url).stdin(Stdio::null());
    match start(&mut cmd, Duration::from_secs(30)) {
        Ok(running) => {
            running.detach();
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_that_hangs_is_killed_with_its_group() {
        // `sh` starts a grandchild that holds the pipe open: killing only `sh` would leave
        // it running with the pipe.
        let marker = std::env::temp_dir().join(format!("hfguard-child-{}", std::process::id()));
        let script = format!("(sleep 1; touch {}) & sleep 30", marker.display());
        let r = output(
            Command::new("sh").args(["-c", &script]),
            Duration::from_millis(200),
        );
        assert!(matches!(r, Err(ChildError::Timeout(_))), "{r:?}");
        std::thread::sleep(Duration::from_millis(1500));
        assert!(!marker.exists(), "the grandchild outlived the kill");
    }

    #[test]
    fn output_and_status_come_back() {
        let r = output(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(20),
        )
        .unwrap();
        assert_eq!(r.stdout, b"out\n");
        assert_eq!(r.stderr, b"err\n");
        assert_eq!(r.status.code(), Some(3));
        assert!(matches!(
            output(&mut Command::new("/nonexistent/x"), Duration::from_secs(1)),
            Err(ChildError::Start(_))
        ));
    }
}
