//! The dashboard: `hfguard` on a terminal.
//!
//! - [`app`]: the state machine (`App::update(action) -> effects`), pure and tested without a
//!   terminal; it derives [`model`] (what the lists show, from its findings and the user's
//!   choices), [`detail`] and [`preview`] (the details pane and the fix preview, as semantic
//!   [`text`] lines it can scroll to their end) and asks [`layout`] where things are.
//! - [`layout`], [`model`], [`detail`], [`preview`], [`text`], [`score`], [`keys`] (the key
//!   registry) depend on no state: they take what they need.
//! - [`ui`] draws, reading the state and never changing it; [`next`] words the next step.
//! - [`worker`] runs the effects (scan, plan, apply, undo, re-audit, keyring, watch, verify,
//!   rotate) off the UI thread. This module owns the terminal and the event loop.

// The terminal the dashboard draws on: ratatui writes cell by cell and drops control
// characters; the text it shows (locations, context lines) is escaped where it is made.
#![allow(clippy::disallowed_methods)]

pub mod app;
pub mod detail;
pub mod keys;
pub mod layout;
pub mod model;
pub mod next;
pub mod preview;
pub mod score;
pub mod text;
pub mod ui;
pub mod worker;

use crate::audit::ScanOptions;
use crate::home::Home;
use app::{Action, App, Effect};
use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use crossterm::execute;
use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use worker::Worker;

static TERMINATED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigterm(_: nix::libc::c_int) {
    TERMINATED.store(true, Ordering::SeqCst);
}

fn restore_terminal() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// `user@host`, for the header. The user name comes from `$USER` when it is set: asking the
/// user database can take a directory server (LDAP, SSSD) a noticeable while, and this runs
/// before the first frame.
pub fn who() -> String {
    let user = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| {
            nix::unistd::User::from_uid(nix::unistd::getuid())
                .ok()
                .flatten()
                .map(|u| u.name)
        })
        .unwrap_or_else(|| "?".to_string());
    let host = nix::unistd::gethostname()
        .ok()
        .map_or_else(|| "?".to_string(), |h| h.to_string_lossy().into_owned());
    format!("{user}@{host}")
}

/// Opens the dashboard and runs it until the user quits; the terminal is restored on quit,
/// on panic and on SIGTERM.
pub fn run(home: Home, options: ScanOptions, config_path: PathBuf) -> std::io::Result<()> {
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut app = App::for_home(home.clone(), who(), color);
    // `[verify] enabled = true`: the user opted in to verification; `v` does not ask.
    app.may_verify = options.config.verify.enabled;
    let (tx, rx) = mpsc::channel();
    let worker = Worker::new(home, options, config_path, tx.clone());

    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        prev(info);
    }));
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGTERM,
            nix::sys::signal::SigHandler::Handler(on_sigterm),
        );
    }
    terminal::enable_raw_mode()?;
    execute!(std::io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    let result = event_loop(&mut app, &worker, tx, &rx);
    restore_terminal();
    result
}

/// The longest the loop sleeps with nothing to do: how soon it notices SIGTERM.
const IDLE: Duration = Duration::from_millis(250);
/// The shortest time between two frames drawn for worker news (about 60 per second), so a
/// scan streaming findings does not spend its CPU on drawing; keys and mouse draw at once.
const FRAME: Duration = Duration::from_millis(16);

/// Reads the terminal on a thread of its own and sends keys, mouse and resizes down the same
/// channel as the workers' results, so the loop sleeps until anything happens and then
/// draws at once, instead of waking on a timer. A failed read ends the dashboard with the
/// error: without input the user could not quit.
fn read_input(tx: Sender<Action>, failed: Arc<Mutex<Option<std::io::Error>>>) {
    std::thread::spawn(move || loop {
        let action = match event::read() {
            Ok(Event::Key(k)) => Action::Key(k),
            Ok(Event::Mouse(m)) => Action::Mouse(m),
            Ok(Event::Resize(w, h)) => Action::Resize(w, h),
            Ok(_) => continue,
            Err(e) => {
                *failed.lock().unwrap() = Some(e);
                TERMINATED.store(true, Ordering::SeqCst);
                return;
            }
        };
        if tx.send(action).is_err() {
            return;
        }
    });
}

fn event_loop(
    app: &mut App,
    worker: &Worker,
    tx: Sender<Action>,
    rx: &mpsc::Receiver<Action>,
) -> std::io::Result<()> {
    // Clear with a plain escape rather than `Terminal::clear`, which asks the terminal where
    // the cursor is and waits for the answer: that costs a round trip before the first frame,
    // and a terminal that never answers would fail the dashboard after two seconds.
    execute!(
        std::io::stdout(),
        terminal::Clear(terminal::ClearType::All),
        crossterm::cursor::MoveTo(0, 0)
    )?;
    let mut term = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    let size = term.size()?;
    app.update(Action::Resize(size.width, size.height));
    let input_failed = Arc::new(Mutex::new(None));
    read_input(tx, input_failed.clone());
    worker.run(Effect::Scan);
    let (mut dirty, mut urgent) = (true, true);
    let mut last_draw = Instant::now();
    loop {
        if dirty && (urgent || last_draw.elapsed() >= FRAME) {
            term.draw(|f| ui::draw(app, f))?;
            last_draw = Instant::now();
            (dirty, urgent) = (false, false);
        }
        let wait = if dirty {
            FRAME.saturating_sub(last_draw.elapsed())
        } else {
            IDLE
        };
        let mut effects = Vec::new();
        let first = rx.recv_timeout(wait).ok();
        // Many findings may be waiting: take them all before the next frame.
        for a in first
            .into_iter()
            .chain(std::iter::from_fn(|| rx.try_recv().ok()).take(10_000))
        {
            urgent |= matches!(a, Action::Key(_) | Action::Mouse(_) | Action::Resize(..));
            effects.extend(app.update(a));
            dirty = true;
        }
        // Findings streamed in this batch: the lists are rebuilt once.
        effects.extend(app.settle());
        if TERMINATED.load(Ordering::SeqCst) {
            return match input_failed.lock().unwrap().take() {
                Some(e) => Err(e),
                None => Ok(()),
            };
        }
        for e in effects {
            if e == Effect::Quit {
                return Ok(());
            }
            worker.run(e);
        }
        if app.quit {
            return Ok(());
        }
    }
}
