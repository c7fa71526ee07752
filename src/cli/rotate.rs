//! `hfguard rotate`: replace a slot's token with a new one in one flow — open the provider's
//! token page, read the new token without echo, check it, replace the slot's value, rewire or
//! redact every plaintext copy of the old token, and say where to revoke the old one.

use super::Fatal;
use clap::Args;
use hfguard::audit::{self, NoSink, ScanOptions};
use hfguard::config::Config;
use hfguard::fix::{self, Journal};
use hfguard::home::Home;
use hfguard::keystore::{KeyError, KeyStore};
use hfguard::rotation;
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

/// Whether this run may ask the provider.
fn verifying(config: &Config, args: &RotateArgs) -> bool {
    (args.verify || config.verify.enabled) && !args.no_verify
}

pub fn rotate(home: &Home, config: Config, args: RotateArgs) -> Result<ExitCode, Fatal> {
    let verify = verifying(&config, &args);
    let settings = hfguard::verify::Settings::for_home(home);
    let provider = slots::provider_of(&slots::load(home), &args.slot);
    let url = hfguard::rules::builtin()
        .rotation_url(&provider)
        .map(str::to_string);
    if args.done {
        let check = (verify && !args.force).then_some(&settings);
        let marked = rotation::confirm_revoked(home, &args.slot, None, check).map_err(|e| {
            Fatal(match e {
                e @ rotation::NotRevoked::StillLive { .. } => format!("{e}, or pass --force"),
                e @ rotation::NotRevoked::Unchecked { .. } => {
                    format!("{e}; pass --force to mark it revoked anyway")
                }
                e => e.to_string(),
            })
        })?;
        if marked.is_empty() {
            term::say(&format!(
                "`{}` has no replaced token waiting to be revoked.",
                args.slot
            ));
        } else {
            term::say(&format!(
                "Rotation of `{}` done: {} old token(s) marked revoked.",
                args.slot,
                marked.len()
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
            let opened = !args.no_open
                && std::io::stdin().is_terminal()
                && hfguard::child::open_in_browser(home, u);
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
    let check = verify.then_some(&settings);
    let checked = rotation::check_new_token(&raw, &args.slot, &provider, &old, check, args.force)
        .map_err(|r| {
        Fatal(match r.force_hint() {
            Some(hint) => format!("{r}; {hint}"),
            None => r.to_string(),
        })
    })?;
    drop(raw);
    if let Some(v) = &checked.verification {
        term::warn(&format!("The new token is {}.", v.summary()));
    }
    let new = checked.secret;
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
    let choices = fix::rotation_choices(&report.findings, &old);
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
