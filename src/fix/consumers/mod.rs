//! How the programs that read a file keep working once its secret is gone: one module per
//! kind of consumer.
//!
//! | file | module | what happens |
//! |---|---|---|
//! | token files, `stored_tokens` | [`token_file`] | the token goes to its slot; new shells look it up; `hfguard exec` serves it |
//! | `.bashrc`, `.zshrc`, `config.fish`, … | [`shell`] | the token becomes a lookup that leaves the variable unset when no keyring answers |
//! | `~/.git-credentials`, remote URLs | [`git`] | git's credential helper serves the slot, globally or for that one repository |
//! | `.netrc` | [`netrc`] | a Hugging Face entry goes whole; other hosts' entries stay (their clients read only `.netrc`) |
//! | `.env`, `environment.d` | [`dotenv`] | the line is commented out; `hfguard exec` sets the variable |
//! | notebooks, Python source | [`source`] | the literal becomes `os.environ["HF_TOKEN"]` |
//! | histories, logs, databases | [`redact`] | the secret is replaced by a marker (same-length filler in a database) |
//! | base64 runs (Kubernetes, Docker) | [`encoded`] | decoded, redacted, encoded again: the file keeps its layout |

pub mod dotenv;
pub mod encoded;
pub mod git;
pub mod netrc;
pub mod redact;
pub mod shell;
pub mod source;
pub mod token_file;

use super::locate::Located;
use super::plan::Planner;
use crate::finding::{Finding, FixKind};
use crate::kind::FileKind;
use std::path::Path;

/// The fixes a finding offers (the audit fills [`Finding::fixes`] with the same list).
pub fn fixes_for(kind: FileKind, path: &Path, f: &Finding) -> Vec<FixKind> {
    kind.secret_fixes_at(path, f.provider.as_deref())
}

/// Plans `fix` of `f`'s secret, found at `loc` in `path`.
pub(super) fn plan(
    p: &mut Planner,
    f: &Finding,
    path: &Path,
    kind: FileKind,
    fix: FixKind,
    loc: &Located,
    container: bool,
) -> Result<(), String> {
    use FileKind::*;
    if fix == FixKind::Redact || container {
        if fix == FixKind::Keyring {
            return Err("the secret is inside a binary file, which hfguard only redacts".into());
        }
        return redact::plan(p, f, path, kind, loc, container);
    }
    if loc.encoded.is_some() {
        return encoded::plan(p, f, path, loc, true);
    }
    match kind {
        HfTokenFile | HfStagingToken | HfLegacyToken => {
            token_file::plan_file(p, f, path, kind, loc)
        }
        HfStoredTokens => token_file::plan_stored(p, f, path, loc),
        GitCredentials => git::plan_store_line(p, f, path, loc),
        GitRemote => git::plan_remote(p, f, path, loc),
        StartupFile if !dotenv::is_plain_list(path) => shell::plan(p, f, path, loc),
        StartupFile | EnvFile => dotenv::plan(p, f, path, loc),
        Netrc => netrc::plan(p, f, path, loc),
        Notebook | ProjectFile => source::plan(p, f, path, kind, loc),
        _ => Err(format!(
            "the keyring fix does not apply to {}",
            kind.description()
        )),
    }
}

/// Refuses a rewrite that would break the file for the program that reads it.
pub(super) fn check_result(
    kind: FileKind,
    path: &Path,
    before: &[u8],
    after: &[u8],
) -> Result<(), String> {
    let json = kind == FileKind::Notebook
        || kind == FileKind::DockerConfig
        || path
            .extension()
            .is_some_and(|e| e == "json" || e == "ipynb");
    if json
        && serde_json::from_slice::<serde::de::IgnoredAny>(before).is_ok()
        && serde_json::from_slice::<serde::de::IgnoredAny>(after).is_err()
    {
        return Err("the changed file would not be valid JSON; edit it by hand".into());
    }
    Ok(())
}
