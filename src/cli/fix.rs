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

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Only {
    Chmod,
    Keyring,
    Redact,
    /// Keep secrets out of the history of the finding's shell from now on (history findings).
    Guard,
}

impl Only {
    fn kind(self) -> FixKind {
        match self {
            Only::Chmod => FixKind::Chmod,
            Only::Keyring => FixKind::Keyring,
            Only::Redact => FixKind::Redact,
            Only::Guard => FixKind::Guard,
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

pub fn confirm(question: &str) -> bool {
    term::prompt(&format!("{question} [y/N] "));
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).is_ok() && matches!(line.trim(), "y" | "Y" | "yes")
}

pub fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

pub fn fix(home: &Home, config: Config, args: FixArgs) -> Result<ExitCode, Fatal> {
    let options = ScanOptions {
        quick: args.quick,
        config,
        ..Default::default()
    };
    let report = audit::run(home, &options, &NoSink);
    let choices = choose(&report.findings, &args)?;
    hfguard::slots::migrate_fingerprints(home, &KeyStore::new(home));
    let plan = fix::plan_in(home, &choices, &report.findings);
    let journal = Journal::new(home);
    if let Some(code) = review(&plan, &journal, args.dry_run, args.yes, "hfguard fix --yes")? {
        return Ok(code);
    }
    let mut out = term::stdout();
    let keys = KeyStore::new(home);
    let outcome = fix::apply(&plan, &keys, &journal).map_err(|e| apply_failed(e, true))?;
    let _ = writeln!(
        out,
        "Changed {}. Undo with `hfguard undo {}`.",
        plural(outcome.changed.len(), "file"),
        plan.id
    );
    for e in &outcome.failed {
        term::warn(&format!(
            "hfguard: not changed: {}",
            term::safe_line(&e.to_string())
        ));
    }
    for w in &outcome.warnings {
        term::warn(&format!("hfguard: {w}"));
    }
    // Whether everything asked for is fixed is what a fresh audit says, not what the plan
    // hoped: a finding that is still there is named, with why. One whose file could not be
    // changed is not fixed either, even when the audit no longer sees it (its folder was
    // swapped for a link meanwhile).
    let after = audit::run(home, &options, &NoSink);
    let not_changed: Vec<&String> = plan
        .files
        .iter()
        .filter(|fc| outcome.failed.iter().any(|e| e.path == fc.path))
        .flat_map(|fc| &fc.findings)
        .collect();
    // A guard leaves the history as it is: its finding is fixed when the shell is guarded.
    let guarded = |f: &Finding| {
        let shell = f
            .path
            .as_deref()
            .and_then(|p| hfguard::guard::Shell::of_history(home, p));
        after
            .guards
            .iter()
            .any(|g| Some(g.shell) == shell && g.state == hfguard::guard::GuardState::Guarded)
    };
    let left: Vec<&Finding> = choices
        .iter()
        .filter(|(f, k)| {
            if *k == FixKind::Guard {
                !guarded(f) || not_changed.contains(&&f.id)
            } else {
                after.findings.iter().any(|g| g.id == f.id) || not_changed.contains(&&f.id)
            }
        })
        .map(|(f, _)| f)
        .collect();
    if left.is_empty() {
        let _ = writeln!(out, "Fixed {}.", plural(choices.len(), "finding"));
        return Ok(ExitCode::SUCCESS);
    }
    let _ = writeln!(
        out,
        "Fixed {} of {}; still there:",
        choices.len() - left.len(),
        choices.len()
    );
    for f in left {
        let why = plan
            .refused
            .iter()
            .find(|(id, _)| *id == f.id)
            .map(|(_, why)| why.clone())
            .or_else(|| {
                let changes = plan.files.iter().filter(|fc| fc.findings.contains(&f.id));
                let mut paths = f.path.iter().chain(changes.map(|fc| &fc.path));
                paths.find_map(|p| {
                    outcome
                        .failed
                        .iter()
                        .find(|e| &e.path == p)
                        .map(|e| e.reason.clone())
                })
            })
            .unwrap_or_else(|| "the fix did not remove it; scan again to see it".into());
        let _ = writeln!(
            out,
            "  {}  {}: {}",
            f.id,
            term::safe_line(&hfguard::report::location(&home.dir, f)),
            term::safe_line(&why)
        );
    }
    Ok(ExitCode::from(1))
}

/// Shows `plan` and decides whether to apply it: `Some(code)` when not (nothing to change, a
/// dry run, the user said no), `None` to go on. A plan that cannot be applied here is a fatal
/// error; off a terminal `--yes` is required. `again` is the command that applies the same
/// selection without asking.
pub fn review(
    plan: &fix::Plan,
    journal: &Journal,
    dry_run: bool,
    yes: bool,
    again: &str,
) -> Result<Option<ExitCode>, Fatal> {
    let mut out = term::stdout();
    let _ = write!(out, "{}", fix::preview(plan));
    if plan.is_empty() {
        let _ = writeln!(out, "Nothing to change.");
        return Ok(Some(if plan.refused.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }));
    }
    if dry_run {
        if let Some(why) = fix::refusal(plan, journal) {
            let _ = writeln!(
                out,
                "This plan cannot be applied here: {}",
                term::safe_line(&why)
            );
        }
        let _ = writeln!(
            out,
            "Dry run: nothing changed. Apply with `{again}` and the same selection."
        );
        return Ok(Some(ExitCode::SUCCESS));
    }
    if let Some(why) = fix::refusal(plan, journal) {
        return Err(Fatal(format!(
            "{}. Nothing was changed.",
            term::safe_line(&why)
        )));
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Fatal(
                "not on a terminal: pass --yes to apply this plan, or --dry-run to only show it"
                    .into(),
            ));
        }
        if !confirm(&format!(
            "Apply these {}?",
            plural(plan.change_count(), "change")
        )) {
            let _ = writeln!(out, "Nothing changed.");
            return Ok(Some(ExitCode::SUCCESS));
        }
    }
    Ok(None)
}

/// What a failed apply says: that no file was changed — unless files were, and then which
/// and how to put them back. `chmod_hint`: mention the fixes that need no keyring.
pub(super) fn apply_failed(e: fix::ApplyError, chmod_hint: bool) -> Fatal {
    match e {
        fix::ApplyError::Unrecorded { .. } => Fatal(e.to_string()),
        fix::ApplyError::Key(_) if chmod_hint => Fatal(format!(
            "{e}. No file was changed. Fixes that need no keyring: `hfguard fix --only chmod`."
        )),
        e => Fatal(format!("{e}. No file was changed.")),
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
            Ok(o) => {
                if o.failed.is_empty() {
                    term::say(&format!(
                        "Undid {id}: {} restored.",
                        plural(o.changed.len(), "file")
                    ));
                }
                for e in &o.failed {
                    term::warn(&format!("hfguard: {id}: not restored: {e}"));
                }
                for e in &o.notes {
                    term::warn(&format!("hfguard: {id}: {e}"));
                }
                for w in &o.warnings {
                    term::warn(&format!("hfguard: {w}"));
                }
                if !o.failed.is_empty() || !o.notes.is_empty() {
                    code = ExitCode::from(1);
                }
            }
            Err(e) => {
                term::warn(&format!("hfguard: {id}: {e}"));
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
    for e in &entries {
        let state = format!("{:?}", e.state).to_lowercase();
        term::say(&format!("{}  {}  {state}", e.id, e.at));
        for r in &e.files {
            let op = match &r.op {
                fix::journal::Op::Chmod { from, to } => format!("chmod {from:04o} → {to:04o}"),
                fix::journal::Op::Rewrite => "rewrite".into(),
                fix::journal::Op::Remove => "remove".into(),
                fix::journal::Op::Create => "create".into(),
                fix::journal::Op::Mkdir { .. } => "mkdir".into(),
            };
            let skipped = if r.skipped { " (skipped)" } else { "" };
            term::say(&format!(
                "    {op:<16} {}{skipped}",
                hfguard::report::display_path(&home.dir, &r.path)
            ));
        }
        if let Some(why) = &e.distrust {
            term::say(&format!("    not acted on: {}", term::safe_line(why)));
        } else if e.state == fix::journal::State::Applied {
            term::say(&format!("    undo: hfguard undo {}", e.id));
        }
    }
    Ok(ExitCode::SUCCESS)
}
