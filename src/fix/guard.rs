//! History guards as fixes: the change to each shell's guard file (`.bashrc`, `.zshrc`,
//! `config.fish`, atuin's `config.toml`) as a [`FileChange`], for `hfguard guard` and for
//! the "guard" fix of a history finding. Applied with [`super::apply`] like every fix:
//! previewed, atomic, journaled, undoable.

use super::atomic;
use super::{Change, FileChange, Plan, Target};
use crate::finding::Finding;
use crate::guard::{edit, Shell};
use crate::home::Home;
use crate::report::display_path;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// The changes that add (or update) the guard of `shell`, or remove it: the folders a new
/// file needs (`~/.config/fish`), then the file; none when the file is already as asked.
pub fn change(
    home: &Home,
    shell: Shell,
    remove: bool,
    findings: Vec<String>,
) -> Result<Vec<FileChange>, String> {
    let path = shell.guard_file(home);
    let shown = display_path(&home.dir, &path);
    let fail = |e: String| format!("{shown}: {e}");
    let target = Target::of(home);
    if let Some(why) = target.refusal(&path, false) {
        return Err(fail(why));
    }
    if atomic::current(&target, &path)
        .map_err(|e| fail(e.reason))?
        .is_none()
    {
        if remove {
            return Ok(Vec::new());
        }
        let after = edit::install(shell, b"")
            .map_err(fail)?
            .expect("an empty file has no guard");
        let mut changes = super::model::folders_for(&home.dir, &path);
        let needs = changes.last().map(|fc| fc.path.clone());
        changes.push(FileChange {
            path,
            change: Change::Create { after, mode: 0o644 },
            findings,
            needs,
            secrets: Vec::new(),
        });
        return Ok(changes);
    }
    let (data, before) = atomic::read(&target, &path).map_err(|e| fail(e.reason))?;
    let new = if remove {
        edit::remove(shell, &data)
    } else {
        edit::install(shell, &data)
    }
    .map_err(fail)?;
    let original = Zeroizing::new(data);
    Ok(Vec::from_iter(new.map(|after| FileChange {
        path,
        // Nothing but the guard was in it: it goes (undo brings it back).
        change: if after.is_empty() && remove {
            Change::Remove { before, original }
        } else {
            Change::Rewrite {
                before,
                original,
                after,
            }
        },
        findings,
        needs: None,
        secrets: Vec::new(),
    })))
}

/// The plan of `hfguard guard`: add (or with `remove`, take out) the guard of each of
/// `shells`. A shell whose file is already as asked gets a note; one that cannot be changed
/// is refused with the reason.
pub fn plan(home: &Home, shells: &[Shell], remove: bool) -> Plan {
    let mut plan = Plan::new(home.dir.clone());
    for &shell in shells {
        match change(home, shell, remove, Vec::new()) {
            Ok(changes) if !changes.is_empty() => plan.files.extend(changes),
            Ok(_) => plan.notes.push(format!(
                "{}'s history {} guarded.",
                shell.as_str(),
                if remove { "is not" } else { "is already" }
            )),
            Err(e) => plan.refused.push((shell.as_str().to_string(), e)),
        }
    }
    plan
}

/// Adds the "guard" fixes of history `findings` to `plan` (one guard per shell, however many
/// findings are in its history). A guard file the plan already rewrites (a `.bashrc` whose
/// token becomes a lookup) gets the guard on top of that rewrite.
pub fn add_to(plan: &mut Plan, home: &Home, findings: &[&Finding]) {
    let mut by_shell: Vec<(Shell, Vec<String>)> = Vec::new();
    for f in findings {
        match f.path.as_deref().and_then(|p| Shell::of_history(home, p)) {
            Some(shell) => match by_shell.iter_mut().find(|(s, _)| *s == shell) {
                Some((_, ids)) => ids.push(f.id.clone()),
                None => by_shell.push((shell, vec![f.id.clone()])),
            },
            None => plan.refused.push((
                f.id.clone(),
                "not the history of a shell hfguard can guard (bash, zsh, fish, atuin)".into(),
            )),
        }
    }
    for (shell, ids) in by_shell {
        let path: PathBuf = shell.guard_file(home);
        let done = match plan.files.iter_mut().find(|fc| fc.path == path) {
            Some(fc) => on_top(fc, shell, &ids),
            None => match change(home, shell, false, ids.clone()) {
                Ok(changes) if !changes.is_empty() => {
                    plan.files.extend(changes);
                    Ok(())
                }
                Ok(_) => {
                    plan.notes
                        .push(format!("{}'s history is already guarded.", shell.as_str()));
                    Ok(())
                }
                Err(e) => Err(e),
            },
        };
        match done {
            Ok(()) => plan.findings.extend(ids),
            Err(e) => plan
                .refused
                .extend(ids.into_iter().map(|id| (id, e.clone()))),
        }
    }
    plan.findings.sort();
    plan.findings.dedup();
}

/// The guard added to a change the plan already makes to the same file.
fn on_top(fc: &mut FileChange, shell: Shell, ids: &[String]) -> Result<(), String> {
    let after = match &mut fc.change {
        Change::Rewrite { after, .. } | Change::Create { after, .. } => after,
        _ => return Err("the plan removes or re-modes this file; guard it afterwards".into()),
    };
    if let Some(new) = edit::install(shell, after)? {
        *after = new;
    }
    fc.findings.extend(ids.iter().cloned());
    Ok(())
}
