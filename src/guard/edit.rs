//! How a file's text changes to add, update or remove a guard. Pure functions over bytes,
//! so that every change is a plan the fix engine previews, journals and can undo.
//!
//! A shell guard is appended at the end of the file after a `\n` (which ends an unfinished
//! last line, or leaves a blank line before the block); removing it takes out that `\n` and
//! the block, so adding and removing gives the file back byte for byte. atuin's
//! configuration is TOML, where `history_filter` may be set only once: the block defining it
//! goes first in the file when the user has none, else the patterns go into the user's
//! array, right after its `[`, between marker comments. Either way the result is parsed
//! again and must hold exactly the user's settings plus the patterns.

use super::{block, GuardState, Shell, BEGIN, END};
use serde::Deserialize;

/// A guard block in a file: from the start of its first marker line to the end of its last
/// (newline included); `indented` when it sits inside atuin's `history_filter` array.
struct Found {
    start: usize,
    end: usize,
    indented: bool,
}

/// The line holding `marker` (only spaces before it), at or after `from`.
fn marker_line(data: &[u8], marker: &str, from: usize) -> Option<(usize, usize)> {
    let mut at = from;
    while let Some(i) = memchr::memmem::find(&data[at..], marker.as_bytes()) {
        let pos = at + i;
        let line_start = memchr::memrchr(b'\n', &data[..pos]).map_or(0, |n| n + 1);
        if data[line_start..pos]
            .iter()
            .all(|&b| b == b' ' || b == b'\t')
        {
            let line_end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |n| pos + n + 1);
            return Some((line_start, line_end));
        }
        at = pos + marker.len();
    }
    None
}

fn find(data: &[u8]) -> Result<Option<Found>, String> {
    let Some((start, begin_end)) = marker_line(data, BEGIN, 0) else {
        return Ok(None);
    };
    let (_, end) = marker_line(data, END, begin_end).ok_or(
        "its hfguard guard block has no end marker line; mend or delete the block by hand",
    )?;
    if marker_line(data, BEGIN, end).is_some() {
        return Err("it holds two hfguard guard blocks; delete one by hand".into());
    }
    Ok(Some(Found {
        start,
        end,
        indented: data[start] == b' ',
    }))
}

/// atuin's block inside the user's `history_filter` array: markers and patterns, indented.
fn atuin_inner_block() -> Result<String, String> {
    let top = block(Shell::Atuin)?;
    let mut out = String::new();
    for line in top.lines() {
        if line.starts_with("history_filter") || line == "]" {
            continue;
        }
        if line.starts_with('#') {
            out.push_str("  ");
        }
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}

fn expected(shell: Shell, indented: bool) -> Result<String, String> {
    if indented {
        atuin_inner_block()
    } else {
        block(shell)
    }
}

/// Whether `data` (the shell's guard file) holds the current guard.
pub fn state(shell: Shell, data: &[u8]) -> GuardState {
    match find(data) {
        Ok(None) => GuardState::Unguarded,
        Ok(Some(f)) => match expected(shell, f.indented) {
            Ok(want) if &data[f.start..f.end] == want.as_bytes() => GuardState::Guarded,
            _ => GuardState::Outdated,
        },
        Err(_) => GuardState::Outdated,
    }
}

/// `data` with the current guard of `shell` in place; `None` when it already is.
pub fn install(shell: Shell, data: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let new = match find(data)? {
        Some(f) => {
            let want = expected(shell, f.indented)?;
            if &data[f.start..f.end] == want.as_bytes() {
                return Ok(None);
            }
            [&data[..f.start], want.as_bytes(), &data[f.end..]].concat()
        }
        None if shell == Shell::Atuin => atuin_insert(data)?,
        None if data.is_empty() => block(shell)?.into_bytes(),
        None => [data, b"\n", block(shell)?.as_bytes()].concat(),
    };
    if shell == Shell::Atuin {
        check_atuin(data, &new)?;
    }
    Ok(Some(new))
}

/// `data` without the guard; `None` when it has none.
pub fn remove(shell: Shell, data: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let Some(f) = find(data)? else {
        return Ok(None);
    };
    // The `\n` added before the block goes with it.
    let start = if f.start > 0 && data[f.start - 1] == b'\n' {
        f.start - 1
    } else {
        f.start
    };
    let new = [&data[..start], &data[f.end..]].concat();
    if shell == Shell::Atuin {
        check_atuin(&new, data)?;
    }
    Ok(Some(new))
}

#[derive(Deserialize)]
struct AtuinTop {
    history_filter: Option<toml::Spanned<toml::Value>>,
}

fn parse(data: &[u8]) -> Result<toml::Table, String> {
    let text = std::str::from_utf8(data).map_err(|_| "it is not UTF-8 text".to_string())?;
    toml::from_str(text).map_err(|e| format!("it is not valid TOML ({})", e.message()))
}

/// The user's atuin configuration with the patterns added.
fn atuin_insert(data: &[u8]) -> Result<Vec<u8>, String> {
    parse(data)?;
    let text = std::str::from_utf8(data).map_err(|_| "it is not UTF-8 text")?;
    let top: AtuinTop = toml::from_str(text).map_err(|e| e.message().to_string())?;
    match top.history_filter {
        None => Ok([block(Shell::Atuin)?.as_bytes(), data].concat()),
        Some(v) => {
            let open = v.span().start;
            if !v.get_ref().is_array() || data.get(open) != Some(&b'[') {
                return Err("its history_filter is not a plain array; add hfguard's patterns by hand (`hfguard guard --shell atuin` prints none)".into());
            }
            let inner = atuin_inner_block()?;
            Ok([&data[..=open], b"\n", inner.as_bytes(), &data[open + 1..]].concat())
        }
    }
}

/// `guarded` must be `plain` with the patterns first in `history_filter` and nothing else
/// changed (checked on the parsed TOML, after adding and before removing).
fn check_atuin(plain: &[u8], guarded: &[u8]) -> Result<(), String> {
    let mut want = parse(plain)?;
    let got = parse(guarded)?;
    let mut filters: Vec<toml::Value> = super::patterns::patterns(super::Dialect::Rust)?
        .into_iter()
        .map(toml::Value::String)
        .collect();
    if let Some(toml::Value::Array(user)) = want.get("history_filter") {
        filters.extend(user.iter().cloned());
    }
    want.insert("history_filter".into(), toml::Value::Array(filters));
    if want == got {
        Ok(())
    } else {
        Err("the change would alter other atuin settings; edit the file by hand".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_then_removing_gives_the_bytes_back() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            for original in ["", "alias ll='ls -l'\n", "no newline at the end", "\n\n"] {
                let guarded = install(shell, original.as_bytes()).unwrap().unwrap();
                assert_eq!(state(shell, &guarded), GuardState::Guarded);
                assert!(install(shell, &guarded).unwrap().is_none(), "idempotent");
                let back = remove(shell, &guarded).unwrap().unwrap();
                assert_eq!(back, original.as_bytes(), "{shell:?} {original:?}");
                assert!(remove(shell, original.as_bytes()).unwrap().is_none());
            }
        }
    }

    #[test]
    fn an_older_guard_is_replaced_in_place() {
        let guarded = install(Shell::Zsh, b"a\n").unwrap().unwrap();
        let old = String::from_utf8(guarded)
            .unwrap()
            .replace("__hfguard_history_re='", "__hfguard_history_re='OLD|")
            + "b\n";
        assert_eq!(state(Shell::Zsh, old.as_bytes()), GuardState::Outdated);
        let new = install(Shell::Zsh, old.as_bytes()).unwrap().unwrap();
        assert_eq!(state(Shell::Zsh, &new), GuardState::Guarded);
        assert!(new.ends_with(b"<<<\nb\n"));
        let broken = format!("x\n{BEGIN}\nno end\n");
        assert!(install(Shell::Bash, broken.as_bytes()).is_err());
    }

    #[test]
    fn atuin_keeps_the_users_settings_and_filters() {
        let cases = [
            "",
            "# mine\nstyle = \"compact\"\n\n[sync]\nrecords = true\n",
            "history_filter = [\n  \"^secret-cmd\",\n]\nstyle = \"full\"\n",
            "history_filter = [\"^a\", '^b'] # inline\n[stats]\ncommon_prefix = [\"sudo\"]\n",
            "history_filter = []\n",
        ];
        for original in cases {
            let guarded = install(Shell::Atuin, original.as_bytes()).unwrap().unwrap();
            let t = parse(&guarded).unwrap();
            let filters = t["history_filter"].as_array().unwrap();
            assert!(filters.len() >= 10, "{original:?}");
            assert_eq!(state(Shell::Atuin, &guarded), GuardState::Guarded);
            assert!(install(Shell::Atuin, &guarded).unwrap().is_none());
            assert_eq!(
                remove(Shell::Atuin, &guarded).unwrap().unwrap(),
                original.as_bytes()
            );
        }
        assert!(install(Shell::Atuin, b"history_filter = \"x\"\n").is_err());
        assert!(install(Shell::Atuin, b"not [toml").is_err());
    }
}
