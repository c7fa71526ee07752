//! `hfguard guard`: keep secrets out of shell histories from now on.

use super::fix::{review_and_apply, Review};
use super::Fatal;
use clap::{Args, ValueEnum};
use hfguard::guard::Shell;
use hfguard::home::Home;
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

/// Installs, in each shell's start-up file (atuin: its config), a marked block with a filter
/// generated from hfguard's rules that keeps a command line holding a secret out of the
/// history: bash a `PROMPT_COMMAND` hook in ~/.bashrc, zsh a `zshaddhistory` hook in
/// ~/.zshrc, fish `fish_should_add_to_history` (fish 4) or a `fish_postexec` handler (fish 3)
/// in config.fish, atuin `history_filter` regexes. Journaled like every fix: `hfguard undo`
/// reverts it, `--remove` takes the block out and leaves each file byte for byte as before.
/// Secrets already in a history stay there: `hfguard fix` redacts them.
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
        println!("No shell is used in this home yet: name one with --shell bash|zsh|fish|atuin.");
        return Ok(ExitCode::SUCCESS);
    }
    let plan = hfguard::fix::guard::plan(home, &shells, args.remove);
    let review = Review {
        dry_run: args.dry_run,
        yes: args.yes,
        again: if args.remove {
            "hfguard guard --remove --yes"
        } else {
            "hfguard guard --yes"
        },
        make_folders: !args.remove,
        keyring_hint: "The file holds a secret, and the copy that lets `undo` restore it needs the keyring: move the secret into the keyring first (`hfguard fix`).",
    };
    let remove = args.remove;
    review_and_apply(home, &plan, review, |plan, outcome| {
        let files = outcome
            .changed
            .iter()
            .map(|p| hfguard::report::display_path(&home.dir, p))
            .collect::<Vec<_>>()
            .join(", ");
        if remove {
            format!(
                "Guard removed from {files}. Undo with `hfguard undo {}`.",
                plan.id
            )
        } else {
            format!(
                "Guarded: {files}. New shells keep secrets out of their history; open shells keep the old settings until restarted. Undo with `hfguard undo {}` or `hfguard guard --remove`.",
                plan.id
            )
        }
    })
}
