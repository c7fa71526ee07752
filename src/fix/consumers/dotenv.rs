//! `.env` files and the plain `NAME=value` lists a session reads (`environment.d`,
//! `.pam_environment`), where no command can run.
//!
//! python-dotenv's `load_dotenv(override=True)`, `dotenv run` and `set -a; . ./.env` replace
//! a variable the environment already has with the file's value — a marker there would
//! override the real token `hfguard exec` set. So the line is commented out, with a note,
//! and the program gets the variable from `hfguard exec`.

use super::super::locate::Located;
use super::super::plan::{exec_consumer, line_bounds, marker, name_flag, Edit, Planner};
use crate::finding::Finding;
use crate::slots;
use regex::bytes::Regex;
use std::path::Path;
use std::sync::OnceLock;

/// Files read as plain `NAME=value` lists, where no command can run.
pub fn is_plain_list(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "environment.d")
        || path.file_name().is_some_and(|n| n == ".pam_environment")
}

/// The variable the line assigns, when the secret is its whole value.
fn whole_value(line: &[u8], s: usize, e: usize) -> Option<String> {
    static BEFORE: OnceLock<Regex> = OnceLock::new();
    static AFTER: OnceLock<Regex> = OnceLock::new();
    let before = BEFORE.get_or_init(|| {
        Regex::new(r#"^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.]*)(?:[ \t]+DEFAULT)?[ \t]*=[ \t]*(["']?)$"#)
            .expect("valid regex")
    });
    let after = AFTER
        .get_or_init(|| Regex::new(r#"^(["']?)[ \t]*(?:#[^\n]*)?\r?\n?$"#).expect("valid regex"));
    let b = before.captures(&line[..s])?;
    let a = after.captures(&line[e..])?;
    (b[2] == a[1]).then(|| String::from_utf8_lossy(&b[1]).into_owned())
}

fn comment_out(
    p: &mut Planner,
    f: &Finding,
    path: &Path,
    loc: &Located,
    slot: Option<&str>,
) -> Result<String, String> {
    let data: &[u8] = &p.file(path).data;
    let (s, e) = loc.first();
    let (ls, le) = line_bounds(data, s);
    let var = whole_value(&data[ls..le], s - ls, e - ls).ok_or(
        "the secret is part of a longer value on its line; move it by hand, so the value stays whole",
    )?;
    let mut commented = data[ls..s].to_vec();
    commented.extend_from_slice(marker(&loc.secret).as_bytes());
    commented.extend_from_slice(&data[e..le]);
    let moved = match slot {
        Some(name) => format!(
            "moved to the OS keyring as `{name}` (run programs with `hfguard exec{} -- CMD`)",
            name_flag(name)
        ),
        None => "removed".to_string(),
    };
    let mut text = format!(
        "# hfguard {}: {var} {moved}; undo: hfguard undo {}\n# ",
        p.today, p.plan.id
    );
    text.push_str(&String::from_utf8_lossy(&commented));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    p.commit(path, vec![Edit::replace(ls, le, text)], &f.id);
    Ok(var)
}

/// The keyring fix: the line commented out, the secret in a slot `hfguard exec` serves.
pub(in crate::fix) fn plan(
    p: &mut Planner,
    f: &Finding,
    path: &Path,
    loc: &Located,
) -> Result<(), String> {
    let data: &[u8] = &p.file(path).data;
    let (s, e) = loc.first();
    let (ls, le) = line_bounds(data, s);
    let var = whole_value(&data[ls..le], s - ls, e - ls).unwrap_or_default();
    let want = p.want(
        f,
        format!("dotenv:{}:{var}", path.display()),
        path.parent()
            .and_then(|d| d.file_name())
            .map(|n| n.to_string_lossy().into_owned()),
        exec_consumer(path),
    );
    let name = p.slot_name(&want, &loc.secret);
    let var = comment_out(p, f, path, loc, Some(&name))?;
    p.store(&want, &loc.secret);
    let cmd = p.command();
    let provider_vars = f
        .provider
        .as_deref()
        .map(slots::variables_for)
        .unwrap_or_default();
    let var_flag = if provider_vars.contains(&var) {
        String::new()
    } else {
        format!(" --var {var}")
    };
    p.note(format!(
        "{} no longer sets {var}: run the program with `{cmd} exec{}{var_flag} -- CMD` (python-dotenv's load_dotenv() keeps a variable that is already set).",
        crate::report::display_path(&p.home.dir, path),
        name_flag(&name)
    ));
    Ok(())
}

/// The redaction: the line commented out, nothing kept but the journal's backup.
pub(in crate::fix) fn plan_redact(
    p: &mut Planner,
    f: &Finding,
    path: &Path,
    loc: &Located,
) -> Result<(), String> {
    let var = comment_out(p, f, path, loc, None)?;
    p.note(format!(
        "{} no longer sets {var}.",
        crate::report::display_path(&p.home.dir, path)
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_values_are_moved() {
        let l = b"export HF_TOKEN=\"hf_x\"  # mine\n";
        let s = 17;
        assert_eq!(whole_value(l, s, s + 4).as_deref(), Some("HF_TOKEN"));
        let l = b"DATABASE_URL=postgres://u:pw@h/db\n";
        let s = memchr::memmem::find(l, b"pw").unwrap();
        assert_eq!(whole_value(l, s, s + 2), None);
        let l = b"HF_TOKEN DEFAULT=hf_x\n";
        assert_eq!(whole_value(l, 17, 21).as_deref(), Some("HF_TOKEN"));
    }
}
