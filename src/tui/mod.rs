//! The dashboard: `hfguard` on a terminal. [`app`] is the state machine, [`ui`] draws it,
//! [`keys`] is the key registry; this module owns the terminal, the event loop and the
//! workers that run effects (scan, plan, apply, undo, keyring) off the UI thread.

// The terminal the dashboard draws on: ratatui writes cell by cell and drops control
// characters; the text it shows (locations, context lines) is escaped where it is made.
#![allow(clippy::disallowed_methods)]

pub mod app;
pub mod keys;
pub mod ui;

use crate::audit::{self, ScanOptions, Sink};
use crate::finding::Finding;
use crate::fix::{self, Journal, Plan};
use crate::home::Home;
use crate::keystore::KeyStore;
use app::{Action, App, Effect};
use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use crossterm::execute;
use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

struct ChannelSink(Sender<Action>);

impl Sink for ChannelSink {
    fn finding(&self, f: &Finding) {
        let _ = self.0.send(Action::Found(f.clone()));
    }
    fn warning(&self, w: &str) {
        let _ = self.0.send(Action::Warning(w.to_string()));
    }
    fn progress(&self, files: u64) {
        let _ = self.0.send(Action::Progress(files));
    }
}

/// Runs effects on threads; results come back as actions.
pub struct Worker {
    home: Arc<Home>,
    options: Arc<ScanOptions>,
    config_path: PathBuf,
    tx: Sender<Action>,
    plans: Arc<Mutex<HashMap<String, Plan>>>,
    /// Watcher generation: a watcher thread whose number is no longer current stops at its
    /// next event.
    watch_gen: Arc<std::sync::atomic::AtomicU64>,
}

impl Worker {
    pub fn new(home: Home, options: ScanOptions, config_path: PathBuf, tx: Sender<Action>) -> Self {
        Worker {
            home: Arc::new(home),
            options: Arc::new(options),
            config_path,
            tx,
            plans: Arc::default(),
            watch_gen: Arc::default(),
        }
    }

    pub fn run(&self, effect: Effect) {
        let (home, options, tx, plans) = (
            self.home.clone(),
            self.options.clone(),
            self.tx.clone(),
            self.plans.clone(),
        );
        let config_path = self.config_path.clone();
        let watch_gen = self.watch_gen.clone();
        std::thread::spawn(move || match effect {
            Effect::Watch(on) => {
                let mine = watch_gen.fetch_add(1, Ordering::SeqCst) + 1;
                if !on {
                    return;
                }
                let wopts = crate::watch::WatchOptions::default();
                let mut emit = |ev: crate::watch::Event| {
                    watch_gen.load(Ordering::SeqCst) == mine && tx.send(Action::Watch(ev)).is_ok()
                };
                if let Err(e) = crate::watch::watch(&home, &options, &wopts, &mut emit) {
                    let _ = tx.send(Action::Failed(e));
                }
            }
            Effect::Scan => {
                let _ = tx.send(Action::ScanStarted);
                let report = audit::run(&home, &options, &ChannelSink(tx.clone()));
                let _ = tx.send(Action::ScanDone(Box::new(report)));
            }
            Effect::Plan(choices) => {
                let plan = fix::plan(&home, &choices);
                let preview = fix::preview(&plan);
                let refused = plan
                    .refused
                    .iter()
                    .map(|(id, why)| format!("{id}: {why}"))
                    .collect();
                let msg = Action::PlanReady {
                    plan_id: plan.id.clone(),
                    preview,
                    findings: plan.findings.clone(),
                    empty: plan.is_empty(),
                    refused,
                };
                plans.lock().unwrap().insert(plan.id.clone(), plan);
                let _ = tx.send(msg);
            }
            Effect::Discard(id) => {
                plans.lock().unwrap().remove(&id);
            }
            Effect::Apply(id) => {
                let Some(plan) = plans.lock().unwrap().remove(&id) else {
                    return;
                };
                let keys = KeyStore::new(&home);
                let journal = Journal::new(&home);
                let msg = match fix::apply(&plan, &keys, &journal) {
                    Ok(outcome) => {
                        let findings = if outcome.failed.is_empty() {
                            plan.findings.clone()
                        } else {
                            plan.files
                                .iter()
                                .filter(|fc| outcome.changed.contains(&fc.path))
                                .flat_map(|fc| fc.findings.clone())
                                .collect()
                        };
                        Action::Applied {
                            fix_id: plan.id.clone(),
                            findings,
                            failed: outcome.failed.iter().map(|e| e.to_string()).collect(),
                        }
                    }
                    Err(fix::ApplyError::Key(e)) => Action::Failed(format!(
                        "{e}. No file changed; chmod fixes (c) need no keyring."
                    )),
                    Err(e @ fix::ApplyError::Unrecorded { .. }) => Action::Failed(e.to_string()),
                    Err(e) => Action::Failed(format!("{e}. No file changed.")),
                };
                let _ = tx.send(msg);
            }
            Effect::Undo(id) => {
                let keys = KeyStore::new(&home);
                let journal = Journal::new(&home);
                let findings = journal.load(&id).map(|e| e.findings).unwrap_or_default();
                let msg = match fix::undo(&id, &keys, &journal) {
                    Ok(o) => Action::Undone {
                        fix_id: id,
                        findings,
                        failed: o
                            .failed
                            .iter()
                            .chain(&o.notes)
                            .map(|e| e.to_string())
                            .collect(),
                    },
                    Err(e) => Action::Failed(format!("Undo {id}: {e}")),
                };
                let _ = tx.send(msg);
            }
            Effect::Ignore { id, reason } => {
                let msg = match crate::config::set_ignore(&config_path, &id, reason.as_deref()) {
                    Ok(()) => Action::IgnoreSaved { id, reason },
                    Err(e) => Action::Failed(e),
                };
                let _ = tx.send(msg);
            }
            Effect::LoadContext(f) => {
                if let (Some(path), Some(line)) = (&f.path, f.line) {
                    let mut buf = Vec::new();
                    if let Ok(crate::fsread::ReadOutcome::Read { .. }) =
                        crate::fsread::read_regular(path, 8 << 20, &mut buf)
                    {
                        if let Some(text) = crate::fix::context_line(&buf, line) {
                            let _ = tx.send(Action::Context {
                                id: f.id.clone(),
                                line: text,
                            });
                        }
                    }
                }
            }
            Effect::Quit => {}
        });
    }
}

/// Opens the dashboard and runs it until the user quits; the terminal is restored on quit,
/// on panic and on SIGTERM.
pub fn run(home: Home, options: ScanOptions, config_path: PathBuf) -> std::io::Result<()> {
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut app = App::new(home.dir.clone(), who(), color);
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
            Ok(Event::Resize(..)) => Action::Resize,
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
    let input_failed = Arc::new(Mutex::new(None));
    read_input(tx, input_failed.clone());
    worker.run(Effect::Scan);
    let (mut dirty, mut urgent) = (true, true);
    let mut last_draw = Instant::now();
    loop {
        if dirty && (urgent || last_draw.elapsed() >= FRAME) {
            let size = term.size()?;
            app.page = (size.height as usize).saturating_sub(10).max(1);
            app.size = (size.width, size.height);
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
            urgent |= matches!(a, Action::Key(_) | Action::Mouse(_) | Action::Resize);
            effects.extend(app.update(a));
            dirty = true;
        }
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
