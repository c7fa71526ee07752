//! `hfguard watch`: report regressions as they land.

use super::Fatal;
use clap::{Args, ValueEnum};
use hfguard::audit::ScanOptions;
use hfguard::config::Config;
use hfguard::finding::Finding;
use hfguard::home::Home;
use hfguard::report::location;
use hfguard::watch::{self, Event, WatchOptions};
use std::io::Write;
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

fn notify(f: &Finding, home: &Home, warned: &mut bool) {
    let ok = std::process::Command::new("notify-send")
        .args([
            "--app-name=hfguard",
            &format!("hfguard: {} exposure", f.severity),
            &format!("{}\n{}", location(&home.dir, f), f.message),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok();
    if !ok && !*warned {
        eprintln!("hfguard: no desktop notifications here (notify-send not found); reporting on standard output only");
        *warned = true;
    }
}

pub fn watch(home: &Home, config: Config, args: WatchArgs) -> Result<ExitCode, Fatal> {
    if args.install_service || args.uninstall_service {
        let (path, body) = watch::service_file(home);
        if args.uninstall_service {
            match std::fs::remove_file(&path) {
                Ok(()) => println!("Removed {}. Stop it with: systemctl --user disable --now hfguard-watch.service", path.display()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => println!("No service installed ({} does not exist).", path.display()),
                Err(e) => return Err(Fatal(format!("{}: {}", path.display(), hfguard::fsread::reason(&e)))),
            }
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                Fatal(format!(
                    "{}: {}",
                    dir.display(),
                    hfguard::fsread::reason(&e)
                ))
            })?;
        }
        hfguard::fix::atomic::write_new(&path, body.as_bytes(), 0o644)
            .map_err(|e| Fatal(e.to_string()))?;
        if cfg!(target_os = "macos") {
            println!(
                "Wrote {}. Start it with: launchctl load {}",
                path.display(),
                path.display()
            );
        } else {
            println!(
                "Wrote {}. Start it now and at every login with:\n  systemctl --user daemon-reload && systemctl --user enable --now hfguard-watch.service",
                path.display()
            );
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
    let mut out = std::io::stdout();
    let mut emit = |e: Event| -> bool {
        let at = hfguard::time::now_rfc3339();
        let line = match (&e, args.format) {
            (Event::Ready { watched, polled }, _) => {
                eprintln!("hfguard: watching {watched} folders under {} (Ctrl-C stops)", home.dir.display());
                if !polled.is_empty() {
                    let list: Vec<String> = polled.iter().map(|p| p.display().to_string()).collect();
                    eprintln!("hfguard: the OS refused more watches; polling every 2 s instead: {}", list.join(", "));
                }
                return true;
            }
            (Event::Regression(f), WatchFormat::Jsonl) => serde_json::json!({"event": "regression", "finding": f, "at": at}).to_string(),
            (Event::Resolved { finding, fixed_by }, WatchFormat::Jsonl) => {
                serde_json::json!({"event": "resolved", "finding": finding, "at": at, "fixed_by": fixed_by}).to_string()
            }
            (Event::Error(msg), WatchFormat::Jsonl) => serde_json::json!({"event": "error", "finding": null, "message": msg, "at": at}).to_string(),
            (Event::Regression(f), WatchFormat::Text) => {
                let fix = f.fixes.first().map(|k| format!(" (fix: {} · id {})", k.as_str(), f.id)).unwrap_or_default();
                let secret = f.secret.as_deref().map(|s| format!("  {s}")).unwrap_or_default();
                format!("{at} REGRESSION {} {}{secret}: {}{fix}", f.severity, location(&home.dir, f), f.message)
            }
            (Event::Resolved { finding, fixed_by }, WatchFormat::Text) => {
                let by = fixed_by.as_ref().map(|id| format!(" (fixed by hfguard: {id})")).unwrap_or_default();
                format!("{at} RESOLVED {} {}{by}", finding.rule, location(&home.dir, finding))
            }
            (Event::Error(msg), WatchFormat::Text) => format!("{at} ERROR {msg}"),
        };
        if let (Event::Regression(f), true) = (&e, args.notify) {
            notify(f, home, &mut warned);
        }
        writeln!(out, "{line}").and_then(|_| out.flush()).is_ok()
    };
    watch::watch(home, &options, &wopts, &mut emit).map_err(Fatal)?;
    Ok(ExitCode::SUCCESS)
}
