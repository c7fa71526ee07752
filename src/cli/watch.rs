//! `hfguard watch`: report regressions as they land.

use super::Fatal;
use clap::{Args, ValueEnum};
use hfguard::audit::ScanOptions;
use hfguard::config::Config;
use hfguard::finding::Finding;
use hfguard::home::Home;
use hfguard::redact::show_path;
use hfguard::report::{display_path, location};
use hfguard::term::{self, safe_line};
use hfguard::watch::{self, Event, WatchOptions};
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum WatchFormat {
    Text,
    /// One JSON object per line: {"event", "finding", "at"}.
    Jsonl,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AutoFix {
    Chmod,
}

#[derive(Args, Debug)]
pub struct WatchArgs {
    #[arg(long, value_enum, default_value_t = WatchFormat::Text)]
    format: WatchFormat,
    /// Repair permission regressions at once (journaled; `hfguard undo` reverses them).
    #[arg(long, value_enum)]
    auto_fix: Option<AutoFix>,
    /// Also send a desktop notification for each regression (when `notify-send` exists).
    #[arg(long)]
    notify: bool,
    /// Also watch P and everything under it (repeatable).
    #[arg(long = "path", value_name = "P")]
    paths: Vec<std::path::PathBuf>,
    /// Write a systemd user unit (launchd agent on macOS) that runs `hfguard watch --notify`.
    #[arg(long, conflicts_with = "uninstall_service")]
    install_service: bool,
    /// Remove that unit.
    #[arg(long)]
    uninstall_service: bool,
}

/// How long `notify-send` may take (a desktop bus that never answers must not pile up
/// children).
const NOTIFY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn notify(f: &Finding, home: &Home, warned: &mut bool) {
    // The notification is text for people too: through the gate.
    let body = term::text(&format!(
        "{}\n{}",
        location(&home.dir, f),
        safe_line(&f.message)
    ));
    let mut cmd = std::process::Command::new("notify-send");
    cmd.args([
        "--app-name=hfguard",
        &format!("hfguard: {} exposure", f.severity),
        body.as_str(),
    ])
    .stdin(std::process::Stdio::null());
    let ok = match hfguard::child::start(&mut cmd, NOTIFY_TIMEOUT) {
        Ok(running) => {
            running.detach();
            true
        }
        Err(_) => false,
    };
    if !ok && !*warned {
        term::warn("hfguard: no desktop notifications here (notify-send not found); reporting on standard output only");
        *warned = true;
    }
}

pub fn watch(home: &Home, config: Config, args: WatchArgs) -> Result<ExitCode, Fatal> {
    if args.install_service || args.uninstall_service {
        let (path, body) = watch::service_file(home);
        if args.uninstall_service {
            match std::fs::remove_file(&path) {
                Ok(()) => term::say(&format!("Removed {}. Stop it with: systemctl --user disable --now hfguard-watch.service", show_path(&path))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => term::say(&format!("No service installed ({} does not exist).", show_path(&path))),
                Err(e) => return Err(Fatal(format!("{}: {}", show_path(&path), hfguard::fsread::reason(&e)))),
            }
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                Fatal(format!(
                    "{}: {}",
                    show_path(dir),
                    hfguard::fsread::reason(&e)
                ))
            })?;
        }
        hfguard::fix::atomic::write_new(&path, body.as_bytes(), 0o644)
            .map_err(|e| Fatal(e.to_string()))?;
        if cfg!(target_os = "macos") {
            term::say(&format!(
                "Wrote {}. Start it with: launchctl load {}",
                show_path(&path),
                show_path(&path)
            ));
        } else {
            term::say(&format!(
                "Wrote {}. Start it now and at every login with:\n  systemctl --user daemon-reload && systemctl --user enable --now hfguard-watch.service",
                show_path(&path)
            ));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let options = ScanOptions {
        extra_roots: super::absolute_paths(&args.paths),
        config,
        ..Default::default()
    };
    let wopts = WatchOptions {
        auto_fix_chmod: args.auto_fix == Some(AutoFix::Chmod),
        ..Default::default()
    };
    let mut warned = false;
    // Every event leaves through the output gate: text lines are masked and escaped, JSON
    // Lines escape what a terminal would act on.
    let mut emit = |e: Event| -> bool {
        let at = hfguard::time::now_rfc3339();
        let line = match (&e, args.format) {
            (
                Event::Ready {
                    watched,
                    polled,
                    unwatched,
                    projects,
                },
                _,
            ) => {
                let shown = |ps: &[std::path::PathBuf]| -> String {
                    ps.iter()
                        .map(|p| display_path(&home.dir, p))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                term::warn(&format!(
                    "hfguard: watching {watched} folders under {} (Ctrl-C stops)",
                    show_path(&home.dir)
                ));
                if !projects.is_empty() {
                    term::warn(&format!(
                        "hfguard: project folders watched with everything under them: {}",
                        shown(projects)
                    ));
                }
                if !polled.is_empty() {
                    term::warn(&format!(
                        "hfguard: past the inotify budget; polling every 2 s instead: {}",
                        shown(polled)
                    ));
                }
                if !unwatched.is_empty() {
                    term::warn(&format!(
                        "hfguard: not watched (too many folders; raise fs.inotify.max_user_watches): {}",
                        shown(unwatched)
                    ));
                }
                return true;
            }
            (Event::Regression(f), WatchFormat::Jsonl) => {
                term::json_line(&serde_json::json!({"event": "regression", "finding": f, "at": at}))
            }
            (Event::Resolved { finding, fixed_by }, WatchFormat::Jsonl) => term::json_line(
                &serde_json::json!({"event": "resolved", "finding": finding, "at": at, "fixed_by": fixed_by}),
            ),
            (
                Event::Undone {
                    finding,
                    fix_id,
                    detail,
                },
                WatchFormat::Jsonl,
            ) => term::json_line(&serde_json::json!({
                "event": "undone", "finding": finding, "at": at, "fix_id": fix_id, "detail": detail
            })),
            (Event::Error(msg), WatchFormat::Jsonl) => term::json_line(
                &serde_json::json!({"event": "error", "finding": null, "message": hfguard::redact::mask_text(msg), "at": at}),
            ),
            (Event::Regression(f), WatchFormat::Text) => {
                let fix = f
                    .fixes
                    .first()
                    .map(|k| format!(" (fix: {} · id {})", k.as_str(), f.id))
                    .unwrap_or_default();
                let secret = f
                    .secret
                    .as_deref()
                    .map(|s| format!("  {}", safe_line(s)))
                    .unwrap_or_default();
                term::text(&format!(
                    "{at} REGRESSION {} {}{secret}: {}{fix}\n",
                    f.severity,
                    location(&home.dir, f),
                    safe_line(&f.message)
                ))
            }
            (Event::Resolved { finding, fixed_by }, WatchFormat::Text) => {
                let by = fixed_by
                    .as_ref()
                    .map(|id| format!(" (fixed by hfguard: {})", safe_line(id)))
                    .unwrap_or_default();
                term::text(&format!(
                    "{at} RESOLVED {} {}{by}\n",
                    finding.rule,
                    location(&home.dir, finding)
                ))
            }
            (Event::Undone { fix_id, detail, .. }, WatchFormat::Text) => term::text(&format!(
                "{at} UNDONE {} (hfguard undid {})\n",
                safe_line(detail),
                safe_line(fix_id)
            )),
            (Event::Error(msg), WatchFormat::Text) => {
                term::text(&format!("{at} ERROR {}\n", safe_line(msg)))
            }
        };
        if let (Event::Regression(f), true) = (&e, args.notify) {
            notify(f, home, &mut warned);
        }
        term::out(&line).is_ok()
    };
    watch::watch(home, &options, &wopts, &mut emit).map_err(Fatal)?;
    Ok(ExitCode::SUCCESS)
}
