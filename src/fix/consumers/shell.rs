//! Shell start-up files (`.bashrc`, `.zshrc`, `.profile`, `config.fish`, what they source):
//! the token becomes a lookup in the OS keyring that runs where the token stood.
//!
//! An assignment on a line of its own (`export HF_TOKEN=hf_…`, `set -gx HF_TOKEN hf_…`) becomes
//! a lookup that leaves the variable unset when no keyring answers —
//! `HF_TOKEN="$(hfguard token get)" && export HF_TOKEN || unset HF_TOKEN` — so a new shell on a
//! box without a Secret Service neither breaks nor exports an empty token (`token get` says
//! one short line, only on a terminal). A token elsewhere on a line (an alias, a command) is
//! replaced by `"$(hfguard token get)"` in place. When a token file's token moves, the shells'
//! start-up files get a lookup block, so `hf` and the hub in a new shell keep their token.

use super::super::locate::Located;
use super::super::plan::{line_bounds, name_flag, Edit, Planner};
use crate::finding::Finding;
use crate::kind::FileKind;
use crate::slots::Consumer;
use regex::bytes::Regex;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The shell context at the end of `prefix` (a start-up file up to the token).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    /// Inside double quotes opened at this index of `prefix`.
    Double(usize),
    /// Somewhere a lookup cannot be reasoned about: inside `$(…)` or backticks, or a
    /// here-document.
    Other,
}

/// Follows the shell's quoting from the start of the file to the end of `prefix`: quotes
/// (a string may span lines), comments, `$(…)` and backtick substitutions (which nest their
/// own quotes), and here-documents. Fish has only quotes and comments here.
fn quote_at(prefix: &[u8], fish: bool) -> Quote {
    // A stack of contexts: `$(` opens a fresh unquoted one inside a string.
    let mut stack: Vec<Quote> = vec![Quote::None];
    let mut subst = 0usize; // open `$(…)` / backticks
    let mut heredoc: Option<(String, bool)> = None; // terminator, `<<-`
    let mut pending: Option<(String, bool)> = None;
    let mut i = 0;
    while i < prefix.len() {
        let b = prefix[i];
        let top = *stack.last().expect("never empty");
        if let Some((word, dash)) = &heredoc {
            // Whole lines until the terminator.
            let end = prefix[i..].iter().position(|&c| c == b'\n').map(|n| i + n);
            let Some(end) = end else {
                return Quote::Other;
            };
            let line = String::from_utf8_lossy(&prefix[i..end]);
            let line = if *dash {
                line.trim_start_matches('\t')
            } else {
                &line
            };
            if line == word.as_str() {
                heredoc = None;
            }
            i = end + 1;
            continue;
        }
        match top {
            Quote::None | Quote::Other => match b {
                b'\\' => i += 1,
                b'\'' => stack.push(Quote::Single),
                b'"' => stack.push(Quote::Double(i)),
                b'#' if i == 0 || prefix[i - 1].is_ascii_whitespace() => {
                    // A comment: to the end of the line.
                    match prefix[i..].iter().position(|&c| c == b'\n') {
                        Some(n) => i += n - 1,
                        None => return *stack.last().expect("never empty"),
                    }
                }
                b'$' if !fish && prefix.get(i + 1) == Some(&b'(') => {
                    stack.push(Quote::Other);
                    subst += 1;
                    i += 1;
                }
                b')' if !fish && top == Quote::Other && subst > 0 => {
                    stack.pop();
                    subst -= 1;
                }
                b'`' if !fish => {
                    if top == Quote::Other && subst > 0 {
                        stack.pop();
                        subst -= 1;
                    } else {
                        stack.push(Quote::Other);
                        subst += 1;
                    }
                }
                b'<' if !fish
                    && prefix.get(i + 1) == Some(&b'<')
                    && prefix.get(i + 2) != Some(&b'<')
                    && (i == 0 || prefix[i - 1] != b'<') =>
                {
                    let rest = &prefix[i + 2..];
                    let dash = rest.first() == Some(&b'-');
                    let rest = &rest[usize::from(dash)..];
                    let word: String = String::from_utf8_lossy(rest)
                        .trim_start()
                        .trim_start_matches(['\'', '"'])
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !word.is_empty() {
                        pending = Some((word, dash));
                    }
                    i += 1;
                }
                b'\n' => heredoc = pending.take(),
                _ => {}
            },
            // bash and zsh: no escapes inside '…'; fish: \' and \\.
            Quote::Single => match b {
                b'\\' if fish => i += 1,
                b'\'' => {
                    stack.pop();
                }
                _ => {}
            },
            Quote::Double(_) => match b {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'$' if !fish && prefix.get(i + 1) == Some(&b'(') => {
                    stack.push(Quote::Other);
                    subst += 1;
                    i += 1;
                }
                b'`' if !fish => {
                    stack.push(Quote::Other);
                    subst += 1;
                }
                _ => {}
            },
        }
        i += 1;
    }
    if heredoc.is_some() || subst > 0 {
        return Quote::Other;
    }
    *stack.last().expect("never empty")
}

fn is_fish(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "fish")
}

/// `prefix` and `suffix` of a line around a token that is the whole value of an assignment:
/// (indent, `export ` or fish's `set` flags, the variable, the comment after it).
struct Assignment {
    indent: String,
    export: bool,
    fish_flags: String,
    var: String,
    rest: String,
}

fn assignment(prefix: &[u8], suffix: &[u8], fish: bool) -> Option<Assignment> {
    static SH: OnceLock<Regex> = OnceLock::new();
    static FISH: OnceLock<Regex> = OnceLock::new();
    static END: OnceLock<Regex> = OnceLock::new();
    let end = END.get_or_init(|| {
        Regex::new(r#"^(["']?)([ \t]*(?:[ \t]#[^\n]*)?)\r?\n?$"#).expect("valid regex")
    });
    let (caps, quote_at_end) = if fish {
        let re = FISH.get_or_init(|| {
            Regex::new(r#"^([ \t]*)set[ \t]+((?:-[A-Za-z]+[ \t]+)*)([A-Za-z_][A-Za-z0-9_]*)[ \t]+(["']?)$"#)
                .expect("valid regex")
        });
        let c = re.captures(prefix)?;
        let q = c.get(4).map_or(&b""[..], |m| m.as_bytes()).to_vec();
        (
            Assignment {
                indent: String::from_utf8_lossy(&c[1]).into_owned(),
                export: false,
                fish_flags: String::from_utf8_lossy(&c[2]).into_owned(),
                var: String::from_utf8_lossy(&c[3]).into_owned(),
                rest: String::new(),
            },
            q,
        )
    } else {
        let re = SH.get_or_init(|| {
            Regex::new(r#"^([ \t]*)(export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=(["']?)$"#)
                .expect("valid regex")
        });
        let c = re.captures(prefix)?;
        let q = c.get(4).map_or(&b""[..], |m| m.as_bytes()).to_vec();
        (
            Assignment {
                indent: String::from_utf8_lossy(&c[1]).into_owned(),
                export: c.get(2).is_some(),
                fish_flags: String::new(),
                var: String::from_utf8_lossy(&c[3]).into_owned(),
                rest: String::new(),
            },
            q,
        )
    };
    let e = end.captures(suffix)?;
    if e[1] != quote_at_end[..] {
        return None;
    }
    Some(Assignment {
        rest: String::from_utf8_lossy(&e[2]).into_owned(),
        ..caps
    })
}

/// The line that sets `var` from the keyring, or leaves it unset.
fn guarded_line(a: &Assignment, lookup: &str, fish: bool) -> String {
    let var = &a.var;
    if fish {
        format!(
            "{}set {}{var} ({lookup}); or set -e {var}{}\n",
            a.indent, a.fish_flags, a.rest
        )
    } else if a.export {
        format!(
            "{}{var}=\"$({lookup})\" && export {var} || unset {var}{}\n",
            a.indent, a.rest
        )
    } else {
        format!(
            "{}{var}=\"$({lookup})\" || unset {var}{}\n",
            a.indent, a.rest
        )
    }
}

pub(in crate::fix) fn plan(
    p: &mut Planner,
    f: &Finding,
    path: &Path,
    loc: &Located,
) -> Result<(), String> {
    let fish = is_fish(path);
    let data: &[u8] = &p.file(path).data;
    let (s0, _) = loc.first();
    let (ls, le) = line_bounds(data, s0);
    if ls >= 2 && data[ls - 2] == b'\\' && data[ls - 1] == b'\n' {
        return Err(
            "the line continues a command from the line before; move the token by hand".into(),
        );
    }
    let var = f.variable.clone();
    let want = p.want(
        f,
        format!("env:{}", var.as_deref().unwrap_or("?")),
        var.as_deref().map(str::to_ascii_lowercase),
        Consumer::Shell {
            path: path.to_path_buf(),
            variable: var.clone().unwrap_or_default(),
        },
    );
    let name = p.slot_name(&want, &loc.secret);
    let cmd = p.command();
    let lookup = format!("{cmd} token get{}", name_flag(&name));
    let data: &[u8] = &p.file(path).data;
    let mut edits = Vec::new();
    let whole = (loc.spans.len() == 1 && quote_at(&data[..ls], fish) == Quote::None)
        .then(|| assignment(&data[ls..s0], &data[loc.spans[0].1..le], fish))
        .flatten();
    if let Some(a) = whole {
        edits.push(Edit::replace(ls, le, guarded_line(&a, &lookup, fish)));
    } else {
        // Every copy of the token on the line (`export A=tok B=tok`), each replaced by a
        // lookup that runs where it stands.
        for &(s, e) in &loc.spans {
            let word = if fish {
                format!("({lookup})")
            } else {
                format!("\"$({lookup})\"")
            };
            let at = s - ls;
            let edit = match quote_at(&data[..s], fish) {
                Quote::None => Edit::replace(s, e, word),
                // 'tok' or "tok": the quoted word is the token, quotes and all.
                Quote::Single if at > 0 && data[s - 1] == b'\'' && data.get(e) == Some(&b'\'') => {
                    Edit::replace(s - 1, e + 1, word)
                }
                Quote::Double(open) if open + 1 == s && data.get(e) == Some(&b'"') => {
                    Edit::replace(s - 1, e + 1, word)
                }
                // Inside "…" with other text: bash and zsh run `$(…)` there too.
                Quote::Double(_) if !fish => Edit::replace(s, e, format!("$({lookup})")),
                _ => {
                    return Err("the token is inside a quoted string with other text, where no lookup would run; move it by hand".into());
                }
            };
            edits.push(edit);
        }
    }
    let indent: String = String::from_utf8_lossy(&data[ls..])
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    edits.push(Edit::insert(
        ls,
        format!(
            "{indent}# hfguard {}: the token now lives in the OS keyring (undo: hfguard undo {})\n",
            p.today, p.plan.id
        ),
    ));
    let stored = p.store(&want, &loc.secret);
    debug_assert_eq!(stored, name);
    p.commit(path, edits, &f.id);
    p.note("New shells look the token up in the OS keyring (or leave the variable unset when none answers); open shells keep the old value until restarted.");
    Ok(())
}

/// Lookup blocks to add to the shells' start-up files: slot name → (variables, slot's
/// finding) for each token file whose token moved.
#[derive(Default)]
pub struct Blocks {
    wanted: BTreeMap<String, Vec<String>>,
}

impl Blocks {
    /// New shells should get `vars` from slot `name`.
    pub fn want(&mut self, name: &str, vars: &[&str]) {
        let e = self.wanted.entry(name.to_string()).or_default();
        for v in vars {
            if !e.iter().any(|x| x == v) {
                e.push(v.to_string());
            }
        }
    }
}

/// Whether a start-up file's text already sets `var` (an uncommented assignment, or fish's
/// `set`).
fn sets_var(text: &str, var: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        !l.starts_with('#')
            && (l.contains(&format!("{var}="))
                || (l.starts_with("set ") && l.split_whitespace().any(|w| w == var)))
    })
}

/// The start-up files a lookup block goes to: the shells the user has (bash, zsh, fish by
/// their rc files), `.profile` when there is none of those.
fn rc_files(p: &Planner) -> Vec<PathBuf> {
    let home = p.home;
    let zdot = home
        .var("ZDOTDIR")
        .map(|z| home.expand(Path::new(z)))
        .unwrap_or_else(|| home.dir.clone());
    let candidates = [
        home.dir.join(".bashrc"),
        zdot.join(".zshrc"),
        home.xdg_config().join("fish/config.fish"),
    ];
    let mut out: Vec<PathBuf> = candidates
        .into_iter()
        .filter(|c| {
            matches!(
                crate::fsread::lstat(c),
                Ok(crate::fsread::Entry::Regular(_))
            )
        })
        .collect();
    if out.is_empty() {
        let profile = home.dir.join(".profile");
        if matches!(
            crate::fsread::lstat(&profile),
            Ok(crate::fsread::Entry::Regular(_))
        ) {
            out.push(profile);
        }
    }
    out
}

/// Adds the lookup blocks.
pub(in crate::fix) fn finish(p: &mut Planner) {
    let wanted = std::mem::take(&mut p.lookups.wanted);
    if wanted.is_empty() {
        return;
    }
    let files = rc_files(p);
    if files.is_empty() {
        for (name, vars) in &wanted {
            let cmd = p.command();
            p.note(format!(
                "No shell start-up file was found to look the token up in: add `export {}=\"$({cmd} token get{})\"` to yours, or run programs with `{cmd} exec{} -- CMD`.",
                vars[0], name_flag(name), name_flag(name)
            ));
        }
        return;
    }
    let cmd = p.command();
    for path in files {
        if p.load(&path, FileKind::StartupFile).is_err() {
            continue;
        }
        let fish = is_fish(&path);
        let text = String::from_utf8_lossy(&p.file(&path).data).into_owned();
        let mut block = String::new();
        let mut served = Vec::new();
        for (name, vars) in &wanted {
            if vars.iter().any(|v| sets_var(&text, v)) {
                continue;
            }
            let lookup = format!("{cmd} token get{}", name_flag(name));
            let (first, others) = (&vars[0], &vars[1..]);
            block.push_str(&format!(
                "\n# hfguard {}: the Hugging Face token from the OS keyring, unset when none answers (undo: hfguard undo {})\n",
                p.today, p.plan.id
            ));
            if fish {
                block.push_str(&format!("set -gx {first} ({lookup})"));
                for o in others {
                    block.push_str(&format!("; and set -gx {o} ${first}"));
                }
                block.push_str(&format!("; or set -e {first}\n"));
            } else {
                block.push_str(&format!("{first}=\"$({lookup})\" && export {first}"));
                for o in others {
                    block.push_str(&format!(" {o}=\"${first}\""));
                }
                block.push_str(&format!(" || unset {first}\n"));
            }
            served.push((name.clone(), first.clone()));
        }
        if block.is_empty() {
            continue;
        }
        let st = p.file_mut(&path);
        let end = st.data.len();
        if end > 0 && st.data[end - 1] != b'\n' {
            block.insert(0, '\n');
        }
        st.edits.push(Edit::insert(end, block));
        for (name, var) in served {
            p.slots.serve(
                &name,
                Consumer::Shell {
                    path: path.clone(),
                    variable: var,
                },
            );
        }
        p.note(format!(
            "{} looks the token up for new shells.",
            crate::report::display_path(&p.home.dir, &path)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_context_of_a_token() {
        let q = |s: &str| quote_at(s.as_bytes(), false);
        assert_eq!(q("export A="), Quote::None);
        assert_eq!(q("export A=\"Bearer "), Quote::Double(9));
        assert_eq!(q("export A='x "), Quote::Single);
        assert_eq!(q("# it's mine\nexport A="), Quote::None);
        assert_eq!(q("eval \"$(pyenv init -)\"\nexport A="), Quote::None);
        assert_eq!(q("export A=\"one\ntwo "), Quote::Double(9));
        assert_eq!(q("export B=\"$(printf '%s' '"), Quote::Other);
        assert_eq!(q("export B=`echo "), Quote::Other);
        assert_eq!(q("cat > f <<END\ntoken="), Quote::Other);
        assert_eq!(q("cat > f <<-'END'\nx\n\tEND\nexport A="), Quote::None);
        assert_eq!(q("grep x <<< 'y'\nexport A="), Quote::None);
        assert_eq!(quote_at(b"set -gx A 'x ", true), Quote::Single);
    }

    #[test]
    fn whole_line_assignments_are_recognised() {
        let a = assignment(b"  export HF_TOKEN=\"", b"\"  # mine\n", false).unwrap();
        assert_eq!(
            (a.indent.as_str(), a.export, a.var.as_str()),
            ("  ", true, "HF_TOKEN")
        );
        assert_eq!(a.rest, "  # mine");
        assert_eq!(
            guarded_line(&a, "hfguard token get", false),
            "  HF_TOKEN=\"$(hfguard token get)\" && export HF_TOKEN || unset HF_TOKEN  # mine\n"
        );
        assert!(assignment(b"export A=\"", b"'\n", false).is_none());
        assert!(assignment(b"alias x='login --token ", b"'\n", false).is_none());
        let f = assignment(b"set -gx HF_TOKEN ", b"\n", true).unwrap();
        assert_eq!(
            guarded_line(&f, "hfguard token get", true),
            "set -gx HF_TOKEN (hfguard token get); or set -e HF_TOKEN\n"
        );
    }
}
