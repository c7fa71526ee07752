//! `hfguard fix`, `undo` and `history`.

use super::Fatal;
use clap::{Args, ValueEnum};
use hfguard::audit::{self, NoSink, ScanOptions};
use hfguard::config::Config;
use hfguard::finding::{Finding, FixKind, Severity};
use hfguard::fix::{self, Journal};
use hfguard::home::Home;
use hfguard::keystore::KeyStore;
use hfguard::term;
use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

/// An error for one line of output: a path in it masked and escaped by the gate, its line
/// breaks escaped here.
fn one_line(e: &impl std::fmt::Display) -> String {
    term::safe_line(&e.to_string()).into_owned()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Only {
    Chmod,
    Keyring,
    Redact,
}

impl Only {
    fn kind(self) -> FixKind {
        match self {
            Only::Chmod => FixKind::Chmod,
            Only::Keyring => FixKind::Keyring,
            Only::Redact => FixKind::Redact,
        }
    }
}

#[derive(Args, Debug)]
pub struct FixArgs {
    /// Finding ids to fix (`hfg-…`, from `hfguard scan`).
    #[arg(value_name = "ID")]
    ids: Vec<String>,
    /// Fix every finding that has a fix.
    #[arg(long, conflicts_with = "ids")]
    all: bool,
    /// Use only this kind of fix (default: the recommended fix of each finding).
    #[arg(long, value_enum)]
    only: Option<Only>,
    /// Show the plan and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Apply without asking (required when not on a terminal).
    #[arg(long, short)]
    yes: bool,
    /// Only the known locations (do not walk the home to find the findings).
    #[arg(long)]
    quick: bool,
}

fn choose(findings: &[Finding], args: &FixArgs) -> Result<Vec<(Finding, FixKind)>, Fatal> {
    let pick = |f: &Finding| -> Option<FixKind> {
        match args.only {
            Some(o) => f.fixes.contains(&o.kind()).then_some(o.kind()),
            None => f.fixes.first().copied(),
        }
    };
    if args.all {
        // `info` findings are credentials kept where their own tool reads them (wandb's key
        // in .netrc): moving or redacting them breaks that tool, so only an explicit id
        // fixes one.
        return Ok(findings
            .iter()
            .filter(|f| f.ignored.is_none() && f.severity != Severity::Info)
            .filter_map(|f| pick(f).map(|k| (f.clone(), k)))
            .collect());
    }
    if args.ids.is_empty() {
        return Err(Fatal("say which findings to fix: `hfguard fix ID…` (ids from `hfguard scan`) or `hfguard fix --all`".into()));
    }
    let mut out = Vec::new();
    for id in &args.ids {
        let f = findings.iter().find(|f| &f.id == id).ok_or_else(|| {
            Fatal(format!(
                "no finding {id} on this machine now (run `hfguard scan` for the current ids)"
            ))
        })?;
        match pick(f) {
            Some(k) => out.push((f.clone(), k)),
            None => {
                let what = match args.only {
                    Some(o) => format!("the {} fix does not apply to it", o.kind().as_str()),
                    None => "it has no automatic fix; the message says what to do".into(),
                };
                return Err(Fatal(format!("{id}: {what}")));
            }
        }
    }
    Ok(out)
}

fn confirm(question: &str) -> bool {
    term::prompt(&format!("{question} [y/N] "));
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).is_ok() && matches!(line.trim(), "y" | "Y" | "yes")
}

pub fn fix(home: &Home, config: Config, args: FixArgs) -> Result<ExitCode, Fatal> {
    let options = ScanOptions {
        quick: args.quick,
        config,
        ..Default::default()
    };
    let report = audit::run(home, &options, &NoSink);
    let choices = choose(&report.findings, &args)?;
    let plan = fix::plan(home, &choices);
    let _ = term::out(&term::text(&fix::preview(&plan)));
    if plan.is_empty() {
        term::say("Nothing to change.");
        return Ok(if plan.refused.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    if args.dry_run {
        term::say(
            "Dry run: nothing changed. Apply with `hfguard fix --yes` and the same selection.",
        );
        return Ok(ExitCode::SUCCESS);
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Fatal(
                "not on a terminal: pass --yes to apply this plan, or --dry-run to only show it"
                    .into(),
            ));
        }
        if !confirm(&format!(
            "Apply these {} changes?",
            plan.files.len() + plan.tokens.len()
        )) {
            term::say("Nothing changed.");
            return Ok(ExitCode::SUCCESS);
        }
    }
    let keys = KeyStore::new(home);
    let journal = Journal::new(home);
    match fix::apply(&plan, &keys, &journal) {
        Ok(outcome) => {
            term::say(&format!(
                "Fixed {} finding(s): {} file(s) changed. Undo with `hfguard undo {}`.",
                plan.findings.len(),
                outcome.changed.len(),
                plan.id
            ));
            for e in &outcome.failed {
                term::warn(&format!("hfguard: not changed: {}", one_line(e)));
            }
            Ok(if outcome.failed.is_empty() && plan.refused.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Err(fix::ApplyError::Key(e)) => Err(Fatal(format!(
            "{e}. Nothing was changed. Fixes that need no keyring: `hfguard fix --only chmod`."
        ))),
        Err(e) => Err(Fatal(format!("{e}. Nothing was changed."))),
    }
}

#[derive(Args, Debug)]
pub struct UndoArgs {
    /// The fix to undo (`fix-…`, from `hfguard history`). Default: the last one.
    #[arg(value_name = "FIX-ID", conflicts_with_all = ["last", "all"])]
    id: Option<String>,
    /// Undo the most recent fix that is still applied.
    #[arg(long)]
    last: bool,
    /// Undo every applied fix, newest first.
    #[arg(long)]
    all: bool,
}

pub fn undo(home: &Home, args: UndoArgs) -> Result<ExitCode, Fatal> {
    let keys = KeyStore::new(home);
    let journal = Journal::new(home);
    journal.recover().map_err(Fatal)?;
    let applied: Vec<String> = journal
        .entries()
        .map_err(Fatal)?
        .into_iter()
        .filter(|e| e.state == fix::journal::State::Applied)
        .map(|e| e.id)
        .rev()
        .collect();
    let ids: Vec<String> = match (&args.id, args.all) {
        (Some(id), _) => vec![id.clone()],
        (None, true) => applied,
        (None, false) => applied.into_iter().take(1).collect(),
    };
    if ids.is_empty() {
        term::say("Nothing to undo.");
        return Ok(ExitCode::SUCCESS);
    }
    let mut code = ExitCode::SUCCESS;
    for id in ids {
        match fix::undo(&id, &keys, &journal) {
            Ok(o) if o.failed.is_empty() => term::say(&format!(
                "Undid {}: {} file(s) restored.",
                term::safe_line(&id),
                o.changed.len()
            )),
            Ok(o) => {
                for e in &o.failed {
                    term::warn(&format!(
                        "hfguard: {}: not restored: {}",
                        term::safe_line(&id),
                        one_line(e)
                    ));
                }
                code = ExitCode::from(1);
            }
            Err(e) => {
                term::warn(&format!(
                    "hfguard: {}: {}",
                    term::safe_line(&id),
                    one_line(&e)
                ));
                code = ExitCode::from(1);
            }
        }
    }
    Ok(code)
}

pub fn history(home: &Home) -> Result<ExitCode, Fatal> {
    let journal = Journal::new(home);
    journal.recover().map_err(Fatal)?;
    let entries = journal.entries().map_err(Fatal)?;
    if entries.is_empty() {
        term::say("No fixes yet.");
        return Ok(ExitCode::SUCCESS);
    }
    // The journal is data from the home (another user's, when root runs this): every field
    // is one line through the gate; paths are masked as they are shown.
    let mut out = String::new();
    for e in &entries {
        let state = format!("{:?}", e.state).to_lowercase();
        let _ = writeln!(
            out,
            "{}  {}  {state}",
            term::safe_line(&e.id),
            term::safe_line(&e.at)
        );
        for r in &e.files {
            let op = match &r.op {
                fix::journal::Op::Chmod { from, to } => format!("chmod {from:04o} → {to:04o}"),
                fix::journal::Op::Rewrite => "rewrite".into(),
                fix::journal::Op::Remove => "remove".into(),
                fix::journal::Op::Create => "create".into(),
            };
            let skipped = if r.skipped { " (skipped)" } else { "" };
            let _ = writeln!(
                out,
                "    {op:<16} {}{skipped}",
                hfguard::report::display_path(&home.dir, &r.path)
            );
        }
        if e.state == fix::journal::State::Applied {
            let _ = writeln!(out, "    undo: hfguard undo {}", term::safe_line(&e.id));
        }
    }
    let _ = term::out(&term::text(&out));
    Ok(ExitCode::SUCCESS)
}
