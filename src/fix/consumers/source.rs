//! Jupyter notebooks and Python source: a token written as a string literal
//! (`login(token="hf_…")`, `api_key='sk-…'`) becomes an environment lookup —
//! `os.environ["HF_TOKEN"]`, with `import os` added where the code has none — which works
//! under `hfguard exec`. A marker there would make the call fail with a bogus token. A token
//! in a comment, a Markdown cell or a cell's output is replaced by a marker (nothing runs
//! it). A token inside a longer string (`f"Bearer hf_…"`) is refused with the reason.
//!
//! Notebooks are edited in their JSON text, byte for byte, so their layout stays; a small
//! scanner tells which JSON string (which cell's source, which output) a token sits in.

use super::super::locate::Located;
use super::super::plan::{exec_consumer, line_bounds, marker, name_flag, Edit, Planner};
use crate::finding::Finding;
use crate::kind::FileKind;
use crate::slots;
use std::path::Path;

/// A step in a JSON document: an object key or an array index.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A JSON string value: its bytes (between the quotes) and where it is.
#[derive(Debug)]
struct JsonString {
    start: usize,
    end: usize,
    path: Vec<Step>,
}

/// Every string value of a JSON text with its path, or `None` when the text is not JSON
/// this scanner follows.
fn json_strings(data: &[u8]) -> Option<Vec<JsonString>> {
    enum Frame {
        Object {
            key: Option<String>,
            expect_key: bool,
        },
        Array {
            index: usize,
        },
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut out = Vec::new();
    let mut i = 0;
    let path_of = |stack: &[Frame]| -> Vec<Step> {
        stack
            .iter()
            .filter_map(|f| match f {
                Frame::Object { key, .. } => key.clone().map(Step::Key),
                Frame::Array { index } => Some(Step::Index(*index)),
            })
            .collect()
    };
    while i < data.len() {
        match data[i] {
            b'{' => stack.push(Frame::Object {
                key: None,
                expect_key: true,
            }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop()?;
            }
            b',' => match stack.last_mut()? {
                Frame::Object { key, expect_key } => {
                    *key = None;
                    *expect_key = true;
                }
                Frame::Array { index } => *index += 1,
            },
            b':' => {
                if let Some(Frame::Object { expect_key, .. }) = stack.last_mut() {
                    *expect_key = false;
                }
            }
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < data.len() && data[j] != b'"' {
                    j += if data[j] == b'\\' { 2 } else { 1 };
                }
                if j >= data.len() {
                    return None;
                }
                let is_key = matches!(
                    stack.last(),
                    Some(Frame::Object {
                        expect_key: true,
                        ..
                    })
                );
                if is_key {
                    let k = serde_json::from_slice::<String>(&data[i..=j]).ok()?;
                    if let Some(Frame::Object { key, .. }) = stack.last_mut() {
                        *key = Some(k);
                    }
                } else {
                    out.push(JsonString {
                        start,
                        end: j,
                        path: path_of(&stack),
                    });
                }
                i = j;
            }
            _ => {}
        }
        i += 1;
    }
    Some(out)
}

/// Where a token in a notebook sits.
enum Place {
    /// In the source of code cell `cell`; `line` is the source array's element (or `None`
    /// when the source is one string).
    Code { cell: usize },
    /// Anywhere else: Markdown, outputs, metadata.
    Text,
}

fn place_in_notebook(strings: &[JsonString], data: &[u8], at: usize) -> Place {
    let Some(s) = strings.iter().find(|s| s.start <= at && at < s.end) else {
        return Place::Text;
    };
    match s.path.as_slice() {
        [Step::Key(c), Step::Index(n), Step::Key(src), ..] if c == "cells" && src == "source" => {
            let code = strings.iter().any(|t| {
                t.path
                    == [
                        Step::Key("cells".into()),
                        Step::Index(*n),
                        Step::Key("cell_type".into()),
                    ]
                    && &data[t.start..t.end] == b"code"
            });
            if code {
                Place::Code { cell: *n }
            } else {
                Place::Text
            }
        }
        _ => Place::Text,
    }
}

/// Python string-literal quotes around `s..e`: the bytes to replace (prefix letters and
/// quotes included), or why the token cannot become a lookup. `esc` is the escaping of a
/// double quote where the source is stored (`\"` inside a notebook's JSON).
fn literal_bounds(data: &[u8], s: usize, e: usize, esc: &[u8]) -> Result<(usize, usize), String> {
    let longer = "the token is part of a longer string, where a lookup cannot stand; move it by hand (for example to os.environ[\"HF_TOKEN\"])";
    for quote in [esc, b"'".as_slice()] {
        let q = quote.len();
        if s >= q && data[s - q..s] == *quote && data[e..].starts_with(quote) {
            // Triple quotes, or a bytes literal: not an environment lookup's place.
            if data[..s - q].ends_with(quote) || data[e + q..].starts_with(quote) {
                return Err(longer.into());
            }
            let mut start = s - q;
            // String prefixes: r"", u"", f"" (a bytes literal b"" cannot become a str).
            while start > 0 && b"rRuUfF".contains(&data[start - 1]) {
                start -= 1;
            }
            if start > 0 && b"bB".contains(&data[start - 1]) {
                return Err("the token is a bytes literal; move it by hand".into());
            }
            if start > 0 && (data[start - 1].is_ascii_alphanumeric() || data[start - 1] == b'_') {
                return Err(longer.into());
            }
            return Ok((start, e + q));
        }
    }
    Err(longer.into())
}

/// Whether `s` is in a Python comment on its line (a `#` before it, outside quotes).
fn in_comment(line: &[u8]) -> bool {
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'#' => return true,
            None => {}
        }
        i += 1;
    }
    false
}

/// Whether Python text imports `os` as a name.
fn imports_os(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        (l.starts_with("import ") && l[7..].split(',').any(|m| m.trim() == "os"))
            || l == "import os"
    })
}

/// Where `import os` goes in a module: after a shebang, comments, blank lines, a module
/// docstring and `from __future__` imports.
fn import_point(data: &[u8]) -> usize {
    let mut pos = 0;
    let mut in_doc: Option<&[u8]> = None;
    let mut seen_code = false;
    for line in data.split_inclusive(|&b| b == b'\n') {
        let t = String::from_utf8_lossy(line);
        let tt = t.trim();
        if let Some(q) = in_doc {
            pos += line.len();
            if tt.as_bytes().windows(3).any(|w| w == q) {
                in_doc = None;
            }
            continue;
        }
        if tt.is_empty() || tt.starts_with('#') || tt.starts_with("from __future__") {
            pos += line.len();
            continue;
        }
        if !seen_code && (tt.starts_with("\"\"\"") || tt.starts_with("'''")) {
            let q: &[u8] = if tt.starts_with("\"\"\"") {
                b"\"\"\""
            } else {
                b"'''"
            };
            pos += line.len();
            seen_code = true;
            if !tt.as_bytes()[3..].windows(3).any(|w| w == q) {
                in_doc = Some(q);
            }
            continue;
        }
        break;
    }
    pos
}

pub(in crate::fix) fn plan(
    p: &mut Planner,
    f: &Finding,
    path: &Path,
    kind: FileKind,
    loc: &Located,
) -> Result<(), String> {
    let provider = f.provider.as_deref().unwrap_or("token");
    let var = slots::variables_for(provider)
        .into_iter()
        .next()
        .unwrap_or_else(|| "TOKEN".into());
    let notebook = kind == FileKind::Notebook;
    let data: &[u8] = &p.file(path).data;
    let lookup_py = format!("os.environ[\"{var}\"]");
    let lookup = if notebook {
        format!("os.environ[\\\"{var}\\\"]")
    } else {
        lookup_py.clone()
    };
    let strings = if notebook {
        Some(
            json_strings(data)
                .ok_or("the notebook is not JSON hfguard can follow; edit it by hand")?,
        )
    } else {
        None
    };
    let mut edits = Vec::new();
    let mut code_cells: Vec<usize> = Vec::new();
    let mut in_code = false;
    for &(s, e) in &loc.spans {
        let place = match &strings {
            Some(st) => place_in_notebook(st, data, s),
            None => {
                let (ls, _) = line_bounds(data, s);
                if in_comment(&data[ls..s]) {
                    Place::Text
                } else {
                    Place::Code { cell: 0 }
                }
            }
        };
        match place {
            Place::Text => edits.push(Edit::replace(s, e, marker(&loc.secret))),
            Place::Code { cell } => {
                let esc: &[u8] = if notebook { b"\\\"" } else { b"\"" };
                let (ls, le) = literal_bounds(data, s, e, esc)?;
                edits.push(Edit::replace(ls, le, lookup.clone()));
                if !code_cells.contains(&cell) {
                    code_cells.push(cell);
                }
                in_code = true;
            }
        }
    }
    // `import os` where the code has none: at the top of a module; in a notebook, at the top
    // of the first cell that needs it, unless an earlier (or that) cell imports it.
    if in_code {
        if let Some(st) = &strings {
            let first = *code_cells.iter().min().expect("a code cell");
            let cell_text = |n: usize| -> String {
                st.iter()
                    .filter(|t| {
                        matches!(t.path.as_slice(), [Step::Key(c), Step::Index(i), Step::Key(s), ..] if c == "cells" && *i == n && s == "source")
                    })
                    .map(|t| serde_json::from_slice::<String>(&data[t.start - 1..=t.end]).unwrap_or_default())
                    .collect()
            };
            if !(0..=first).any(|n| imports_os(&cell_text(n))) {
                let lines: Vec<&JsonString> = st
                    .iter()
                    .filter(|t| {
                        matches!(t.path.as_slice(), [Step::Key(c), Step::Index(i), Step::Key(s), ..] if c == "cells" && *i == first && s == "source")
                    })
                    .collect();
                let head = lines.first().ok_or("the cell has no source")?;
                let text = cell_text(first);
                if text.starts_with("%%") {
                    return Err("the cell starts with a cell magic, before which nothing may go; move the token by hand".into());
                }
                if head.path.len() == 4 {
                    // An array of lines: a new first element, on a line of its own indented
                    // like the first one when that has a line of its own.
                    let at = head.start - 1;
                    let ls = memchr::memrchr(b'\n', &data[..at]).map_or(0, |i| i + 1);
                    let before = &data[ls..at];
                    let sep = if before.iter().all(|b| *b == b' ' || *b == b'\t') {
                        format!("\n{}", String::from_utf8_lossy(before))
                    } else {
                        " ".to_string()
                    };
                    edits.push(Edit::insert(at, format!("\"import os\\n\",{sep}")));
                } else {
                    edits.push(Edit::insert(head.start, "import os\\n"));
                }
            }
        } else if !imports_os(&String::from_utf8_lossy(data)) {
            edits.push(Edit::insert(import_point(data), "import os\n"));
        }
    }
    let want = p.want(
        f,
        format!("code:{}", path.display()),
        path.file_stem().map(|n| n.to_string_lossy().into_owned()),
        exec_consumer(path),
    );
    let name = p.store(&want, &loc.secret);
    p.commit(path, edits, &f.id);
    if in_code {
        let cmd = p.command();
        p.note(format!(
            "{} now reads the token from the environment ({lookup_py}){}: start it with `{cmd} exec{} -- CMD` (for a notebook: `{cmd} exec{} -- jupyter lab`).",
            crate::report::display_path(&p.home.dir, path),
            if notebook { "; the changed cell must run again" } else { "" },
            name_flag(&name),
            name_flag(&name)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_know_their_place() {
        let nb = br#"{"cells": [{"cell_type": "code", "source": ["from x import y\n", "login(token=\"hf_T\")"], "outputs": [{"text": ["hf_T"]}]}], "nbformat": 4}"#;
        let st = json_strings(nb).unwrap();
        let at = memchr::memmem::find(nb, b"hf_T").unwrap();
        assert!(matches!(
            place_in_notebook(&st, nb, at),
            Place::Code { cell: 0 }
        ));
        let out = memchr::memmem::rfind(nb, b"hf_T").unwrap();
        assert!(matches!(place_in_notebook(&st, nb, out), Place::Text));
    }

    #[test]
    fn literals_and_comments() {
        let src = b"login(token=\"hf_T\")\n";
        let s = memchr::memmem::find(src, b"hf_T").unwrap();
        assert_eq!(literal_bounds(src, s, s + 4, b"\""), Ok((s - 1, s + 5)));
        let src = b"x = f'hf_T'\n";
        let s = memchr::memmem::find(src, b"hf_T").unwrap();
        assert_eq!(literal_bounds(src, s, s + 4, b"\"").unwrap().0, s - 2);
        let src = b"h = \"Bearer hf_T\"\n";
        let s = memchr::memmem::find(src, b"hf_T").unwrap();
        assert!(literal_bounds(src, s, s + 4, b"\"").is_err());
        assert!(in_comment(b"x = 1  # token: "));
        assert!(!in_comment(b"x = '#' + "));
    }

    #[test]
    fn imports_go_after_the_module_header() {
        let src = b"#!/usr/bin/env python\n\"\"\"Doc.\n\nMore.\n\"\"\"\nfrom __future__ import annotations\nimport sys\n";
        let at = import_point(src);
        assert!(src[at..].starts_with(b"import sys"));
        assert!(imports_os("import sys, os\n"));
        assert!(!imports_os("import osmosis\n"));
    }
}
