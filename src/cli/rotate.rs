//! `hfguard rotate`: replace a slot's token with a new one in one flow — open the provider's
//! token page, read the new token without echo, check it, replace the slot's value, rewire or
//! redact every plaintext copy of the old token, and say where to revoke the old one.

use super::Fatal;
use clap::Args;
use hfguard::audit::{self, NoSink, ScanOptions};
use hfguard::config::Config;
use hfguard::finding::{FixKind, Severity};
use hfguard::fix::{self, Journal};
use hfguard::home::Home;
use hfguard::keystore::{KeyError, KeyStore};
use hfguard::secret::Secret;
use hfguard::slots::{self, HF_DEFAULT};
use hfguard::term;
use std::fmt::Write as _;
use std::io::{IsTerminal, Read};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct RotateArgs {
    /// The slot whose token to replace (`hfguard token list` shows them).
    #[arg(default_value = HF_DEFAULT)]
    slot: String,
    /// Read the new token from standard input instead of a hidden prompt.
    #[arg(long)]
    stdin: bool,
    /// Do not open the provider's token page in a browser (it is printed anyway).
    #[arg(long)]
    no_open: bool,
    /// Apply without asking (required when not on a terminal).
    #[arg(long, short)]
    yes: bool,
    /// Say that the old token is revoked: its rotation is done. With verification on, the
    /// old token is asked first and must answer "revoked" (or pass --force).
    #[arg(long, conflicts_with_all = ["stdin", "no_open"])]
    done: bool,
    /// Ask the provider whether the new token is live and whose it is before using it (and,
    /// with --done, whether the old one is revoked): one request each, the token only in its
    /// Authorization header. Default: `[verify] enabled` in the configuration.
    #[arg(long, conflicts_with = "no_verify")]
    verify: bool,
    /// Do not ask the provider, whatever the configuration says.
    #[arg(long)]
    no_verify: bool,
    /// Go ahead although verification could not confirm the token (or says it belongs to
    /// another account, or that the old one is still live).
    #[arg(long)]
    force: bool,
}

/// Opens `url` in the user's browser when there is a display, without waiting for it.
fn open(home: &Home, url: &str) -> bool {
    let display = home.var("DISPLAY").is_some() || home.var("WAYLAND_DISPLAY").is_some();
    if !display {
        return false;
    }
    let mut cmd = std::process::Command::new("xdg-open");
    cmd.arg(url).stdin(std::process::Stdio::null());
    // Bounded like every child: a browser launcher that hangs is killed, not waited for.
    match hfguard::child::start(&mut cmd, std::time::Duration::from_secs(30)) {
        Ok(running) => {
            running.detach();
            true
        }
        Err(_) => false,
    }
}

fn read_token(stdin: bool) -> Result<zeroize::Zeroizing<String>, Fatal> {
    let raw = if stdin || !std::io::stdin().is_terminal() {
        if !stdin {
            return Err(Fatal(
                "not on a terminal: pass --stdin and the new token on standard input".into(),
            ));
        }
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map(|_| s)
            .map_err(|e| Fatal(format!("cannot read the token: {e}")))?
    } else {
        super::token::prompt_no_echo("New token (input hidden): ")
            .map_err(|e| Fatal(format!("cannot read the token: {e}")))?
    };
    Ok(zeroize::Zeroizing::new(raw.trim().to_string()))
}

/// With verification on: the new token must be live, and belong to the same account as the
/// old one (when both are known), unless `force`.
fn check_new(
    settings: &hfguard::verify::Settings,
    provider: &str,
    new: &Secret,
    old: &Secret,
    force: bool,
) -> Result<(), Fatal> {
    use hfguard::verify::{verify_secret, Status};
    let v = verify_secret(settings, Some(provider), new);
    match v.status {
        Status::Live => {}
        Status::Revoked => return Err(Fatal(
            "the provider refuses the new token (revoked, expired or mistyped); nothing changed"
                .into(),
        )),
        Status::Unknown if !force => {
            return Err(Fatal(format!(
                "could not check the new token ({}); pass --force to use it anyway",
                v.reason.unwrap_or_else(|| "no answer".into())
            )))
        }
        _ => {}
    }
    term::warn(&format!("The new token is {}.", v.summary()));
    if force {
        return Ok(());
    }
    let before = verify_secret(settings, Some(provider), old);
    if let (Some(a), Some(b)) = (&before.owner, &v.owner) {
        if a != b {
            return Err(Fatal(format!(
                "the new token belongs to {}, the old one to {}: pass --force to switch accounts",
                hfguard::term::safe_line(b),
                hfguard::term::safe_line(a)
            )));
        }
    }
    Ok(())
}

/// The provider a token's shape says it is from (`hf_…` → huggingface), if any rule knows it.
fn shape_provider(value: &str) -> Option<String> {
    let mut found = Vec::new();
    hfguard::rules::builtin().find(value.as_bytes(), None, &mut found);
    found
        .into_iter()
        .find(|m| m.offset == 0 && m.secret.expose() == value)
        .and_then(|m| m.provider)
}

/// Whether this run may ask the provider.
fn verifying(config: &Config, args: &RotateArgs) -> bool {
    (args.verify || config.verify.enabled) && !args.no_verify
}

pub fn rotate(home: &Home, config: Config, args: RotateArgs) -> Result<ExitCode, Fatal> {
    let verify = verifying(&config, &args);
    let settings = hfguard::verify::Settings::for_home(home);
    let index = slots::load(home);
    let slot = index.iter().find(|s| s.name == args.slot).cloned();
    let provider = slot
        .as_ref()
        .and_then(|s| s.provider.clone())
        .unwrap_or_else(|| args.slot.split('-').next().unwrap_or("").to_string());
    let url = hfguard::rules::builtin()
        .rotation_url(&provider)
        .map(str::to_string);
    if args.done {
        if verify && !args.force {
            // The old values wait in the keyring as the rotation's undo backups.
            let keys = KeyStore::new(home);
            for p in slot
                .iter()
                .flat_map(|s| &s.previous)
                .filter(|p| p.revoked_at.is_none())
            {
                let Ok(old) = keys.get_backup(&p.fingerprint) else {
                    continue;
                };
                let v = hfguard::verify::verify_secret(&settings, Some(&provider), &old);
                match v.status {
                    hfguard::verify::Status::Revoked => {}
                    hfguard::verify::Status::Live => {
                        return Err(Fatal(format!(
                            "{} still works (the provider accepts it): revoke it{} first, or pass --force",
                            p.redacted,
                            url.as_deref().map(|u| format!(" at {u}")).unwrap_or_default()
                        )))
                    }
                    _ => {
                        return Err(Fatal(format!(
                            "could not check {}: {}; pass --force to mark it revoked anyway",
                            p.redacted,
                            v.reason.unwrap_or_else(|| "no answer".into())
                        )))
                    }
                }
            }
        }
        let now = hfguard::time::now_rfc3339();
        let mut marked = 0;
        slots::update(home, |list| {
            for s in list.iter_mut().filter(|s| s.name == args.slot) {
                for p in s.previous.iter_mut().filter(|p| p.revoked_at.is_none()) {
                    p.revoked_at = Some(now.clone());
                    marked += 1;
                }
            }
        })
        .map_err(Fatal)?;
        if marked == 0 {
            term::say(&format!(
                "`{}` has no replaced token waiting to be revoked.",
                args.slot
            ));
        } else {
            term::say(&format!(
                "Rotation of `{}` done: {marked} old token(s) marked revoked.",
                args.slot
            ));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let keys = KeyStore::new(home);
    let old = keys.get(&args.slot).map_err(|e| match e {
        KeyError::NotFound(_) => Fatal(format!(
            "no slot `{}` in the OS keyring to rotate: `hfguard fix` moves exposed tokens into slots, `hfguard token list` shows them",
            args.slot
        )),
        e => Fatal(e.to_string()),
    })?;
    let mut err = term::stderr();
    match &url {
        Some(u) => {
            let opened = !args.no_open && std::io::stdin().is_terminal() && open(home, u);
            let _ = writeln!(
                err,
                "Create a new token at {u}{} — with the same permissions as {} if that one did the job — and paste it below.",
                if opened { " (opened in your browser)" } else { "" },
                old.redacted()
            );
        }
        None => {
            let _ = writeln!(
                err,
                "Create a new token with {provider}, and paste it below."
            );
        }
    }
    let raw = read_token(args.stdin)?;
    if raw.is_empty() || raw.chars().any(char::is_whitespace) {
        return Err(Fatal(
            "that is not a token (empty, or more than one word); nothing changed".into(),
        ));
    }
    if raw.as_str() == old.expose() {
        return Err(Fatal(format!(
            "that is the token `{}` holds already; create a new one first",
            args.slot
        )));
    }
    let shape = shape_provider(&raw);
    if !provider.is_empty() && shape.as_deref().is_some_and(|p| p != provider) {
        return Err(Fatal(format!(
            "that looks like a token of {}, not of {provider}; nothing changed",
            shape.unwrap_or_default()
        )));
    }
    if provider == "huggingface" && !raw.starts_with("hf_") {
        return Err(Fatal(
            "a Hugging Face token starts with hf_; nothing changed".into(),
        ));
    }
    let new = Secret::new(raw.to_string(), hfguard::rules::builtin().prefix_of(&raw));
    if verify {
        check_new(&settings, &provider, &new, &old, args.force)?;
    }
    // Every place that still holds the old token in plaintext goes too: a lookup of the slot
    // where a program reads it, a redaction where it is only recorded.
    let report = audit::run(
        home,
        &ScanOptions {
            config,
            ..Default::default()
        },
        &NoSink,
    );
    let old_fp = old.fingerprint();
    let choices: Vec<(hfguard::finding::Finding, FixKind)> = report
        .findings
        .iter()
        .filter(|f| f.fingerprint.as_deref() == Some(old_fp.as_str()) && f.ignored.is_none())
        .filter(|f| f.severity != Severity::Info || f.fixes.contains(&FixKind::Keyring))
        .filter_map(|f| f.fixes.first().map(|k| (f.clone(), *k)))
        .collect();
    let plan = fix::plan_rotation(home, &args.slot, &new, &old, &choices, &report.findings);
    let mut out = term::stdout();
    let _ = write!(out, "{}", fix::preview(&plan));
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Fatal(
                "not on a terminal: pass --yes to apply this rotation".into(),
            ));
        }
        if !super::fix::confirm("Replace the token and apply these changes?") {
            let _ = writeln!(out, "Nothing changed.");
            return Ok(ExitCode::SUCCESS);
        }
    }
    let journal = Journal::new(home);
    let outcome =
        fix::apply(&plan, &keys, &journal).map_err(|e| super::fix::apply_failed(e, false))?;
    for e in &outcome.failed {
        term::warn(&format!(
            "hfguard: not changed: {}",
            term::safe_line(&e.to_string())
        ));
    }
    let _ = writeln!(
        out,
        "`{}` now holds {}; everything that looks it up gets the new token (undo: hfguard undo {}).",
        args.slot,
        new.redacted(),
        plan.id
    );
    let _ = writeln!(
        out,
        "Now revoke the old token {}{}, then run `hfguard rotate --done {}`.",
        old.redacted(),
        url.map(|u| format!(" at {u}")).unwrap_or_default(),
        args.slot
    );
    Ok(if outcome.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
