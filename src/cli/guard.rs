//! `hfguard guard`: keep secrets out of shell histories from now on.

use super::fix::{apply_failed, review};
use super::Fatal;
use clap::{Args, ValueEnum};
use hfguard::fix::{self, Journal};
use hfguard::guard::Shell;
use hfguard::home::Home;
use hfguard::keystore::KeyStore;
use hfguard::term;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShellArg {
    Bash,
    Zsh,
    Fish,
    /// atuin's `history_filter` (`~/.config/atuin/config.toml`).
    Atuin,
    /// Every shell used in this home (its start-up file or history exists), and the shell of
    /// `$SHELL`.
    All,
}

/// `hfguard guard` (its help is on the `Guard` command in main.rs).
#[derive(Args, Debug)]
pub struct GuardArgs {
    /// Which shell (repeatable).
    #[arg(long, value_enum, default_value = "all", value_name = "SHELL")]
    shell: Vec<ShellArg>,
    /// Take the guard out again.
    #[arg(long)]
    remove: bool,
    /// Show the plan and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Apply without asking (required when not on a terminal).
    #[arg(long, short)]
    yes: bool,
}

/// The shells `args` names; `all` is every shell in use (for `--remove`: every shell with a
/// guard file) and the login shell.
fn shells(home: &Home, args: &GuardArgs) -> Vec<Shell> {
    let mut out = Vec::new();
    for a in &args.shell {
        let chosen: Vec<Shell> = match a {
            ShellArg::Bash => vec![Shell::Bash],
            ShellArg::Zsh => vec![Shell::Zsh],
            ShellArg::Fish => vec![Shell::Fish],
            ShellArg::Atuin => vec![Shell::Atuin],
            ShellArg::All => {
                let login = home.var("SHELL").and_then(|s| {
                    let name = std::path::Path::new(s).file_name()?.to_str()?.to_string();
                    Shell::ALL.into_iter().find(|sh| sh.as_str() == name)
                });
                Shell::ALL
                    .into_iter()
                    .filter(|s| s.in_use(home) || Some(*s) == login)
                    .collect()
            }
        };
        for s in chosen {
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

pub fn guard(home: &Home, args: GuardArgs) -> Result<ExitCode, Fatal> {
    let shells = shells(home, &args);
    if shells.is_empty() {
        term::say("No shell is used in this home yet: name one with --shell bash|zsh|fish|atuin.");
        return Ok(ExitCode::SUCCESS);
    }
    let plan = fix::guard::plan(home, &shells, args.remove);
    let journal = Journal::new(home);
    let again = if args.remove {
        "hfguard guard --remove --yes"
    } else {
        "hfguard guard --yes"
    };
    if let Some(code) = review(&plan, &journal, args.dry_run, args.yes, again)? {
        return Ok(code);
    }
    let keys = KeyStore::new(home);
    let outcome = fix::apply(&plan, &keys, &journal).map_err(|e| apply_failed(e, false))?;
    let files = outcome
        .changed
        .iter()
        .map(|p| term::safe_line(&hfguard::report::display_path(&home.dir, p)).into_owned())
        .collect::<Vec<_>>()
        .join(", ");
    if args.remove {
        term::say(&format!(
            "Guard removed from {files}. Undo with `hfguard undo {}`.",
            plan.id
        ));
    } else {
        term::say(&format!(
            "Guarded: {files}. New shells keep secrets out of their history; open shells keep the old settings until restarted. Undo with `hfguard undo {}` or `hfguard guard --remove`.",
            plan.id
        ));
    }
    for e in &outcome.failed {
        term::warn(&format!(
            "hfguard: not changed: {}",
            term::safe_line(&e.to_string())
        ));
    }
    Ok(if outcome.failed.is_empty() && plan.refused.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
