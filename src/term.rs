//! The one gate for human-readable output.
//!
//! File names, file contents, other users' process names and journal entries can hold
//! terminal control sequences (ESC, OSC 52 clipboard writes, CSI 2J, bidi overrides that
//! reorder what the reader sees). Every byte of text meant for a person passes through
//! [`safe_text`] (several lines) or [`safe_line`] (one field) before it is written, so that
//! such sequences are shown escaped (`\x1b`, `\u{202e}`) instead of being interpreted.
//! Machine formats (JSON, SARIF) escape control characters themselves.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal raw: C0 and C1 controls (and DEL), and the Unicode
/// bidirectional overrides and isolates that make text display in another order than it reads.
fn is_unsafe(c: char, keep_newlines: bool) -> bool {
    match c {
        '\n' | '\t' => !keep_newlines && c == '\n',
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => true,
        _ => false,
    }
}

fn escape(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_unsafe(c, keep_newlines)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !is_unsafe(c, keep_newlines) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

/// Text of several lines, for a terminal or a Markdown file: newlines and tabs stay, every
/// other control character and bidi override is shown escaped.
pub fn safe_text(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

/// One field (a path, a process name, a variable): newlines are escaped too, so a value can
/// never forge a line of the report.
pub fn safe_line(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// Bytes that may not be UTF-8 (a file name), made safe for one line of output.
pub fn safe_bytes(b: &[u8]) -> String {
    safe_line(&String::from_utf8_lossy(b)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_sequences_are_shown_escaped() {
        assert_eq!(safe_line("a\x1b]52;c;aGk=\x07b"), "a\\x1b]52;c;aGk=\\x07b");
        assert_eq!(safe_line("x\x1b[2Jy"), "x\\x1b[2Jy");
        assert_eq!(safe_line("one\ntwo"), "one\\x0atwo");
        assert_eq!(safe_text("one\ntwo\tthree"), "one\ntwo\tthree");
        assert_eq!(safe_text("\u{9b}31m"), "\\x9b31m");
        assert_eq!(safe_line("abc\u{202e}txt.exe"), "abc\\u{202e}txt.exe");
        assert!(matches!(safe_line("plain ~/.bashrc:2"), Cow::Borrowed(_)));
        assert_eq!(safe_bytes(b"a\xffb\x1b"), "a\u{fffd}b\\x1b");
    }
}
