//! History guards: keep the next `hf auth login --token hf_…` out of the history.
//!
//! A guard is a marked block in the file each shell reads at start-up (atuin: its
//! configuration) holding a filter, generated from the audit's rules ([`patterns`]), that
//! keeps a command line holding a secret out of the history from then on:
//!
//! | shell | file | how |
//! |---|---|---|
//! | bash | `~/.bashrc` | a `PROMPT_COMMAND` hook deletes the last entry when it matches (POSIX ERE) |
//! | zsh | `$ZDOTDIR/.zshrc` | a `zshaddhistory` hook returns 1 for a matching line (POSIX ERE) |
//! | fish | `config.fish` | fish ≥ 4: `fish_should_add_to_history`; fish 3: a `fish_postexec` handler running `history delete --exact --case-sensitive` (PCRE2) |
//! | atuin | `config.toml` | `history_filter` regexes (Rust `regex`) |
//!
//! This module says where each guard lives, what it says, whether it is there
//! ([`status`]) and how a file's text changes to add or remove it ([`edit`]); the fix
//! engine applies those changes (`fix::guard`), journaled and undoable.

pub mod edit;
pub mod patterns;

use crate::home::Home;
use patterns::Dialect;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// First and last line of every guard block.
pub const BEGIN: &str = "# >>> hfguard history guard >>>";
pub const END: &str = "# <<< hfguard history guard <<<";

/// A shell (or history tool) whose history can be guarded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Atuin,
}

impl Shell {
    pub const ALL: [Shell; 4] = [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Atuin];

    pub fn as_str(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
            Shell::Atuin => "atuin",
        }
    }

    fn zdotdir(home: &Home) -> PathBuf {
        home.var("ZDOTDIR")
            .map(|v| home.expand(Path::new(v)))
            .unwrap_or_else(|| home.dir.clone())
    }

    fn atuin_dir(home: &Home) -> PathBuf {
        home.var("ATUIN_CONFIG_DIR")
            .map(|v| home.expand(Path::new(v)))
            .unwrap_or_else(|| home.xdg_config().join("atuin"))
    }

    /// The file the guard goes in.
    pub fn guard_file(self, home: &Home) -> PathBuf {
        match self {
            Shell::Bash => home.dir.join(".bashrc"),
            Shell::Zsh => Self::zdotdir(home).join(".zshrc"),
            Shell::Fish => home.xdg_config().join("fish/config.fish"),
            Shell::Atuin => Self::atuin_dir(home).join("config.toml"),
        }
    }

    /// Files whose presence says the shell is used in this home: its start-up or
    /// configuration file, or its history.
    fn traces(self, home: &Home) -> Vec<PathBuf> {
        let mut v = vec![self.guard_file(home)];
        match self {
            Shell::Bash => v.extend([".bash_history", ".bash_profile"].map(|f| home.dir.join(f))),
            Shell::Zsh => {
                let z = Self::zdotdir(home);
                v.extend([".zsh_history", ".zhistory", ".zshenv"].map(|f| z.join(f)));
            }
            Shell::Fish => v.extend([
                home.xdg_data().join("fish/fish_history"),
                // fish creates its configuration folder on its first start.
                home.xdg_config().join("fish"),
            ]),
            Shell::Atuin => v.push(home.xdg_data().join("atuin/history.db")),
        }
        v
    }

    /// Whether the shell leaves traces in this home (nothing is run to find out).
    pub fn in_use(self, home: &Home) -> bool {
        self.traces(home)
            .iter()
            .any(|p| std::fs::symlink_metadata(p).is_ok())
    }

    /// The shell whose history `path` is, for the "guard" fix of a history finding.
    pub fn of_history(home: &Home, path: &Path) -> Option<Shell> {
        let name = path.file_name()?.to_str()?;
        match name {
            ".bash_history" => return Some(Shell::Bash),
            ".zsh_history" | ".zhistory" | ".histfile" => return Some(Shell::Zsh),
            "fish_history" => return Some(Shell::Fish),
            "history.db" | "history.db-wal"
                if path.parent()?.file_name()? == std::ffi::OsStr::new("atuin") =>
            {
                return Some(Shell::Atuin)
            }
            _ => {}
        }
        // `$HISTFILE`: the history of the login shell.
        let histfile = home.var("HISTFILE").map(|v| home.expand(Path::new(v)))?;
        (histfile == path).then(|| match home.var("SHELL") {
            Some(s) if s.to_string_lossy().ends_with("zsh") => Shell::Zsh,
            _ => Shell::Bash,
        })
    }

    /// The regex dialect of the shell's filter.
    pub fn dialect(self) -> Dialect {
        match self {
            Shell::Bash | Shell::Zsh => Dialect::Ere,
            Shell::Fish => Dialect::Pcre2,
            Shell::Atuin => Dialect::Rust,
        }
    }
}

/// Single-quoted for bash and zsh.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Single-quoted for fish (only `\\` and `\'` are escapes there).
fn fish_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'"))
}

fn header(shell: Shell, what: &str) -> String {
    format!(
        "{BEGIN}\n# {what}\n# Patterns generated from hfguard's rules by `hfguard guard`; remove with\n# `hfguard guard --shell {} --remove`.\n",
        shell.as_str()
    )
}

/// The guard block of `shell` (for atuin, the one that defines `history_filter`), from the
/// first marker line to the last, newline-terminated.
pub fn block(shell: Shell) -> Result<String, String> {
    let re = patterns::combined(shell.dialect())?;
    let mut b = match shell {
        Shell::Bash => format!(
            "{}__hfguard_history_re={}\n{}",
            header(
                shell,
                "Keeps command lines that hold a secret out of bash's history."
            ),
            sh_quote(&re),
            BASH_HOOK
        ),
        Shell::Zsh => format!(
            "{}__hfguard_history_re={}\n{}",
            header(
                shell,
                "Keeps command lines that hold a secret out of zsh's history."
            ),
            sh_quote(&re),
            ZSH_HOOK
        ),
        Shell::Fish => format!(
            "{}set -g __hfguard_history_re {}\n{}",
            header(
                shell,
                "Keeps command lines that hold a secret out of fish's history."
            ),
            fish_quote(&re),
            FISH_HOOK
        ),
        Shell::Atuin => format!(
            "{}history_filter = [\n{}]\n",
            header(
                shell,
                "atuin does not save a command that matches one of these."
            ),
            atuin_entries("  ")?
        ),
    };
    b.push_str(END);
    b.push('\n');
    Ok(b)
}

/// atuin's filter patterns as TOML array entries, one a line.
pub(crate) fn atuin_entries(indent: &str) -> Result<String, String> {
    Ok(patterns::patterns(Dialect::Rust)?
        .into_iter()
        .map(|p| format!("{indent}{},\n", toml::Value::String(p)))
        .collect())
}

/// bash: after each command, before the prompt, the newest history entry goes when it
/// matches; the hook keeps `$?` for the rest of `PROMPT_COMMAND` and is added only once.
const BASH_HOOK: &str = r#"__hfguard_history_guard() {
  local status=$? entry
  entry=$(HISTTIMEFORMAT='' builtin history 1)
  if [[ $entry =~ $__hfguard_history_re ]] && [[ $entry =~ ^[[:space:]]*([0-9]+) ]]; then
    builtin history -d "${BASH_REMATCH[1]}"
  fi
  return $status
}
case ";${PROMPT_COMMAND-};" in
  *";__hfguard_history_guard;"*) ;;
  *) PROMPT_COMMAND="__hfguard_history_guard${PROMPT_COMMAND:+;$PROMPT_COMMAND}" ;;
esac
"#;

/// zsh: a `zshaddhistory` hook; status 1 keeps the line out of the history.
const ZSH_HOOK: &str = r#"__hfguard_zshaddhistory() {
  emulate -L zsh
  [[ $1 =~ $__hfguard_history_re ]] && return 1
  return 0
}
autoload -Uz add-zsh-hook && add-zsh-hook zshaddhistory __hfguard_zshaddhistory
"#;

/// fish: fish 4 asks `fish_should_add_to_history` before saving a line (the line is never
/// written; a function of the user's own is kept and asked after ours); fish 3 has no such
/// hook, so the line is deleted after it ran.
const FISH_HOOK: &str = r#"if not set -q __hfguard_history_guarded
    set -g __hfguard_history_guarded 1
    if string match -qr -- '^([4-9]|[1-9][0-9]+)\.' $version
        if functions -q fish_should_add_to_history
            functions -c fish_should_add_to_history __hfguard_previous_should_add
        end
        function fish_should_add_to_history
            string match -qr -- $__hfguard_history_re $argv[1]; and return 1
            if functions -q __hfguard_previous_should_add
                __hfguard_previous_should_add $argv
                return $status
            end
            # fish's own rule when the function does not exist: a leading space is private.
            string match -q -- ' *' $argv[1]; and return 1
            return 0
        end
    else
        function __hfguard_history_guard --on-event fish_postexec
            string match -qr -- $__hfguard_history_re $argv[1]
            and builtin history delete --exact --case-sensitive -- $argv[1]
        end
    end
end
"#;

/// Whether a shell's guard is there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GuardState {
    /// The current guard is in place.
    Guarded,
    /// A guard from an older set of rules: `hfguard guard` updates it.
    Outdated,
    Unguarded,
}

/// One shell in use and its guard: an item of the report's `guards`.
#[derive(Clone, Debug, Serialize)]
pub struct ShellGuard {
    pub shell: Shell,
    #[serde(serialize_with = "crate::finding::path_text::one")]
    pub file: PathBuf,
    pub state: GuardState,
}

/// The guard of `shell` in `home` as it is now (the file read safely, never run).
pub fn state_of(shell: Shell, home: &Home) -> GuardState {
    let mut buf = Vec::new();
    match crate::fsread::read_regular(&shell.guard_file(home), 4 << 20, &mut buf) {
        Ok(crate::fsread::ReadOutcome::Read { .. }) => edit::state(shell, &buf),
        _ => GuardState::Unguarded,
    }
}

/// Each shell used in `home` and whether its history is guarded.
pub fn status(home: &Home) -> Vec<ShellGuard> {
    Shell::ALL
        .into_iter()
        .filter(|s| s.in_use(home))
        .map(|shell| ShellGuard {
            shell,
            file: shell.guard_file(home),
            state: state_of(shell, home),
        })
        .collect()
}
