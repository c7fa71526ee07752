//! What the user's login shell sets: assignments in start-up files (`export HF_HOME=~/hf`,
//! fish's `set -gx`, `environment.d/*.conf`, `~/.pam_environment`) whose value can be known
//! without running anything — a literal, `~`, `$HOME`, `${HOME}`, `$USER`, or a variable a
//! start-up file set that way before. hfguard often runs where those files were never read
//! (cron, a systemd service, `sudo`), so the credential locations they move are audited as
//! the login shell sees them ([`moved_files`]).

use crate::home::{Home, KnownFile, LOCATION_VARIABLES};
use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// A location variable a start-up file sets, with its value as the shell would compute it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub name: String,
    pub value: String,
    /// The start-up file and the 1-based line that set it.
    pub file: PathBuf,
    pub line: u64,
}

impl Assignment {
    /// The sentence findings about a location it moved carry.
    pub fn origin(&self, home: &Path) -> String {
        let file = match self.file.strip_prefix(home) {
            Ok(rel) => format!("~/{}", rel.display()),
            Err(_) => self.file.display().to_string(),
        };
        format!(
            "This location comes from {}, set in {file} line {}: it is where your login shell sends the tool, even when hfguard runs without that variable.",
            self.name, self.line
        )
    }
}

/// The values assignments are evaluated against: the home, the user's name (cron and
/// systemd set it too), and the location variables assigned so far.
pub struct Known(HashMap<String, String>);

impl Known {
    pub fn new(home: &Home) -> Known {
        let mut vars = HashMap::new();
        vars.insert("HOME".to_string(), home.dir.to_string_lossy().into_owned());
        for name in ["USER", "LOGNAME"] {
            if let Some(v) = home.var(name).and_then(|v| v.to_str()) {
                vars.insert(name.to_string(), v.to_string());
            }
        }
        Known(vars)
    }
}

/// The assignments of location variables in `text`, the start-up file `file`, in order.
/// Each one's value becomes known to those after it (here and in files parsed later).
pub fn parse(text: &str, file: &Path, known: &mut Known) -> Vec<Assignment> {
    let pam = file.file_name().is_some_and(|n| n == ".pam_environment");
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let parsed = if pam {
            pam_assignment(raw, known)
        } else {
            shell_assignment(raw, known)
        };
        let Some((name, value)) = parsed else {
            continue;
        };
        known.0.insert(name.clone(), value.clone());
        out.push(Assignment {
            name,
            value,
            file: file.to_path_buf(),
            line: i as u64 + 1,
        });
    }
    out
}

/// `export NAME=VALUE`, `NAME=VALUE`, `declare -x NAME=VALUE` (bash, zsh, sh,
/// `environment.d`), `set -gx NAME VALUE` (fish).
fn shell_assignment(line: &str, known: &Known) -> Option<(String, String)> {
    let line = line.trim_start();
    let mut words = line.split_ascii_whitespace();
    let first = words.next()?;
    if first == "set" {
        // fish: only exported variables reach the programs that use them.
        let mut exported = false;
        let mut rest = line["set".len()..].trim_start();
        while let Some(flag) = rest.strip_prefix('-') {
            let end = flag.find(char::is_whitespace)?;
            let f = &flag[..end];
            exported |= f == "-export" || (!f.starts_with('-') && f.contains('x'));
            rest = flag[end..].trim_start();
        }
        let end = rest.find(char::is_whitespace)?;
        let (name, value) = (&rest[..end], rest[end..].trim_start());
        return (exported && is_location(name))
            .then(|| Some((name.to_string(), eval(value, known)?)))
            .flatten();
    }
    let mut rest = line;
    for prefix in ["export ", "declare ", "typeset ", "readonly ", "local "] {
        if let Some(r) = rest.strip_prefix(prefix) {
            rest = r.trim_start();
            // `declare -x`, `typeset -gx`: flags before the name.
            while let Some(flag) = rest.strip_prefix('-') {
                rest = flag[flag.find(char::is_whitespace)?..].trim_start();
            }
            break;
        }
    }
    let (name, value) = rest.split_once('=')?;
    is_location(name).then(|| Some((name.to_string(), eval(value, known)?)))?
}

/// `NAME DEFAULT=VALUE [OVERRIDE=VALUE]` in `~/.pam_environment` (`@{HOME}` is the home).
fn pam_assignment(line: &str, known: &Known) -> Option<(String, String)> {
    let mut words = line.split_ascii_whitespace();
    let name = words.next()?;
    if !is_location(name) {
        return None;
    }
    let mut value = None;
    for w in words {
        if let Some(v) = w.strip_prefix("OVERRIDE=") {
            value = Some(v);
        } else if let Some(v) = w.strip_prefix("DEFAULT=") {
            value = value.or(Some(v));
        }
    }
    let home = known.0.get("HOME")?;
    let value = value?.replace("@{HOME}", home);
    Some((name.to_string(), eval(&value, known)?))
}

fn is_location(name: &str) -> bool {
    LOCATION_VARIABLES.contains(&name)
}

/// The value of a shell word as the shell would compute it, when no command has to run:
/// quotes removed, `~` at its start kept for the tool to expand (they do, as `~` is what
/// users write), `$NAME`, `${NAME}` and `${NAME:-default}` taken from `known`. `None` for
/// anything else (command substitution, an unknown variable, an unterminated quote).
fn eval(word: &str, known: &Known) -> Option<String> {
    let mut out = String::new();
    let mut chars = word.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() || matches!(c, ';' | '&' | '|' | ')') => break,
            (None, '#') if out.is_empty() => break,
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => out.push(c),
            (_, '`') => return None,
            (_, '\\') => out.push(chars.next()?),
            (_, '$') => out.push_str(&expand(&mut chars, known)?),
            (_, c) => out.push(c),
        }
    }
    (quote.is_none() && !out.is_empty()).then_some(out)
}

/// `$NAME`, `${NAME}`, `${NAME:-default}` / `${NAME-default}` after a `$`.
fn expand(chars: &mut std::iter::Peekable<std::str::Chars>, known: &Known) -> Option<String> {
    let braced = chars.peek() == Some(&'{');
    if braced {
        chars.next();
    }
    let mut name = String::new();
    while let Some(&c) = chars.peek() {
        if !(c.is_ascii_alphanumeric() || c == '_') {
            break;
        }
        name.push(c);
        chars.next();
    }
    if name.is_empty() {
        return None; // `$(`, `$$`, `${#…}`: not static
    }
    if !braced {
        return known.0.get(&name).cloned();
    }
    let mut default = None;
    match chars.next()? {
        '}' => {}
        ':' | '-' => {
            if chars.peek() == Some(&'-') {
                chars.next();
            }
            let mut d = String::new();
            for c in chars.by_ref() {
                if c == '}' {
                    break;
                }
                d.push(c);
            }
            default = Some(eval(&d, known).unwrap_or_default());
        }
        _ => return None,
    }
    known.0.get(&name).cloned().or(default)
}

/// Known locations as the login shell sees them, each with the assignment that moves it
/// there: a location counts as moved by an assignment when it is there with the assignment
/// and not without it. Every value a variable is given somewhere is tried.
pub fn moved_files(home: &Home, assignments: &[Assignment]) -> Vec<(KnownFile, Assignment)> {
    if assignments.is_empty() {
        return Vec::new();
    }
    // The shell's view: each variable at the last value assigned.
    let mut last: HashMap<&str, OsString> = HashMap::new();
    for a in assignments {
        last.insert(&a.name, OsString::from(&a.value));
    }
    let shell: Vec<(&str, Option<&OsString>)> = last.iter().map(|(k, v)| (*k, Some(v))).collect();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut tried: HashSet<(&str, &str)> = HashSet::new();
    let mut out = Vec::new();
    for a in assignments {
        if !tried.insert((&a.name, &a.value)) {
            continue;
        }
        let value = OsString::from(&a.value);
        let with = home.with_vars(
            shell
                .iter()
                .copied()
                .chain([(a.name.as_str(), Some(&value))]),
        );
        let without: HashSet<PathBuf> = with
            .with_vars([(a.name.as_str(), None)])
            .known_files()
            .into_iter()
            .map(|k| k.path)
            .collect();
        for k in with.known_files() {
            if without.contains(&k.path) || !seen.insert(k.path.clone()) {
                continue;
            }
            // Also when hfguard's own environment gives the same place: the finding still says
            // where the value comes from.
            out.push((k, a.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::FileKind;

    fn home() -> Home {
        Home::new("/h", [("USER".to_string(), OsString::from("alice"))])
    }

    fn values(text: &str, file: &str) -> Vec<(String, String, u64)> {
        let h = home();
        let mut known = Known::new(&h);
        parse(text, Path::new(file), &mut known)
            .into_iter()
            .map(|a| (a.name, a.value, a.line))
            .collect()
    }

    #[test]
    fn static_values_are_evaluated_and_the_rest_left_out() {
        let text = r#"
export HF_HOME=~/models/hf
export NETRC="$HOME/.secrets/netrc"
XDG_CONFIG_HOME=${HOME}/cfg # moved
export KAGGLE_CONFIG_DIR="$XDG_CONFIG_HOME/kaggle"
declare -x DOCKER_CONFIG='/scratch/$USER'
export AWS_SHARED_CREDENTIALS_FILE=/scratch/$USER/aws
export HF_TOKEN_PATH=$(mktemp)
export GH_CONFIG_DIR="$UNKNOWN/gh"
export CLOUDSDK_CONFIG="${CLOUDSDK_CONFIG:-$HOME/gcloud}"
export PATH=$HOME/bin:$PATH
HISTFILE=~/.histories/bash
"#;
        assert_eq!(
            values(text, "/h/.bashrc"),
            [
                ("HF_HOME", "~/models/hf", 2),
                ("NETRC", "/h/.secrets/netrc", 3),
                ("XDG_CONFIG_HOME", "/h/cfg", 4),
                ("KAGGLE_CONFIG_DIR", "/h/cfg/kaggle", 5),
                ("DOCKER_CONFIG", "/scratch/$USER", 6),
                ("AWS_SHARED_CREDENTIALS_FILE", "/scratch/alice/aws", 7),
                ("CLOUDSDK_CONFIG", "/h/gcloud", 10),
                ("HISTFILE", "~/.histories/bash", 12),
            ]
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c))
        );
    }

    #[test]
    fn fish_pam_environment_and_environment_d() {
        assert_eq!(
            values(
                "set -gx HF_HOME $HOME/hf\nset -g NETRC ~/n\nset --export DOCKER_CONFIG ~/d\n",
                "/h/.config/fish/config.fish"
            ),
            [("HF_HOME", "/h/hf", 1), ("DOCKER_CONFIG", "~/d", 3)].map(|(a, b, c)| (
                a.to_string(),
                b.to_string(),
                c
            ))
        );
        assert_eq!(
            values(
                "HF_HOME DEFAULT=@{HOME}/hf\nNETRC DEFAULT=/x OVERRIDE=${HOME}/netrc\n",
                "/h/.pam_environment"
            ),
            [("HF_HOME", "/h/hf", 1), ("NETRC", "/h/netrc", 2)].map(|(a, b, c)| (
                a.to_string(),
                b.to_string(),
                c
            ))
        );
    }

    #[test]
    fn moved_locations_name_their_assignment() {
        let h = home();
        let mut known = Known::new(&h);
        let a = parse(
            "export HF_HOME=/h/hf\nexport XDG_CONFIG_HOME=/h/cfg\n",
            Path::new("/h/.profile"),
            &mut known,
        );
        let moved = moved_files(&h, &a);
        let by = |p: &str| {
            moved
                .iter()
                .find(|(k, _)| k.path == Path::new(p))
                .map(|(k, a)| (k.kind, a.name.as_str()))
        };
        assert_eq!(by("/h/hf/token"), Some((FileKind::HfTokenFile, "HF_HOME")));
        assert_eq!(
            by("/h/cfg/gh/hosts.yml"),
            Some((FileKind::GhConfig, "XDG_CONFIG_HOME"))
        );
        assert_eq!(by("/h/.cache/huggingface/token"), None, "not moved");
        assert!(moved_files(&h, &[]).is_empty());
    }
}
