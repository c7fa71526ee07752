//! Histories, logs and other files nothing reads a credential from: the secret is replaced
//! by a marker that says what was there (`[hfguard:redacted:hf_...AbCd]`). In a database or
//! `.pyc`, whose record lengths must not change, by filler of the secret's own length.

use super::super::locate::Located;
use super::super::plan::{marker, Edit, Planner};
use crate::finding::Finding;
use crate::kind::FileKind;
use std::path::Path;

pub(in crate::fix) fn plan(
    p: &mut Planner,
    f: &Finding,
    path: &Path,
    kind: FileKind,
    loc: &Located,
    container: bool,
) -> Result<(), String> {
    if loc.encoded.is_some() {
        return super::encoded::plan(p, f, path, loc, false);
    }
    if matches!(kind, FileKind::EnvFile)
        || (kind == FileKind::StartupFile && super::dotenv::is_plain_list(path))
    {
        return super::dotenv::plan_redact(p, f, path, loc);
    }
    let data: &[u8] = &p.file(path).data;
    let mut edits = Vec::new();
    if container {
        // A write-ahead log's frames are checksummed: not edited at all.
        if crate::probes::files::is_sqlite_wal(data) {
            return Err("the secret is in a SQLite write-ahead log, whose frames are checksummed: open the program that owns it (atuin, IPython) so it moves the rows into the database, then scan and fix again".into());
        }
        // Only IPython's history is known to keep its text out of any index; in another
        // database an index could hold the text too, sorted, and an edit would break it.
        if data.starts_with(b"SQLite format 3\0")
            && path.file_name().is_none_or(|n| n != "history.sqlite")
        {
            return Err("the secret is in a SQLite database that may index its text, where an edit in place could break it: delete the entry with the program that owns the database".into());
        }
        let v = loc.secret.expose();
        let keep = loc.secret.prefix_len();
        for &(s, e) in &loc.spans {
            edits.push(Edit::replace(
                s,
                e,
                [&v.as_bytes()[..keep], &vec![b'x'; v.len() - keep]].concat(),
            ));
        }
    } else {
        for &(s, e) in &loc.spans {
            edits.push(Edit::replace(s, e, marker(&loc.secret)));
        }
    }
    if kind == FileKind::ShellHistory {
        p.note("Open shells keep their history in memory and may write the token back when they exit: close them, or run `history -c` (bash), `fc -p` (zsh) or `history clear-session` (fish) in each.");
    }
    p.commit(path, edits, &f.id);
    Ok(())
}
