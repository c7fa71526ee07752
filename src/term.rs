//! The one gate for human-readable output.
//!
//! File names, file contents, other users' process names and journal entries can hold
//! terminal control sequences (ESC, OSC 52 clipboard writes, CSI 2J, bidi overrides that
//! reorder what the reader sees) and, in a name, a secret. Nothing of that may reach a
//! terminal, a Markdown checklist or a text report raw.
//!
//! **The gate.** Every byte the program writes to standard output or standard error passes
//! through this module, and text for people passes through [`Text`]:
//!
//! - [`Text`] can only be made here, by [`text`] (one string) or a [`Doc`] (a document with
//!   hfguard's own colours). Both mask every secret the rules recognise ([`crate::redact`])
//!   and show every control character, DEL, C1 control and bidi override escaped (`\x1b`,
//!   `\u{202e}`). The only escape sequences a `Text` can hold are the colours a [`Doc`] adds
//!   itself from a [`Style`].
//! - [`out`], [`err`] and [`prompt`] write a `Text`; [`say`] and [`warn`] gate a string and
//!   write it; [`stdout`] and [`stderr`] gate each piece `write!` gives them; [`progress`]
//!   draws the progress line.
//! - [`data`] writes bytes for programs, not people: a token `$(hfguard token get)` reads, the
//!   git credential protocol. Machine formats are `Text` too: [`json`] escapes controls, DEL,
//!   C1 and bidi characters itself (`\u009b`), so a report is safe to `cat`.
//!
//! `clippy.toml` disallows `println!`, `eprintln!`, `print!`, `eprint!`, `std::io::stdout`
//! and `std::io::stderr` outside this module (the dashboard's terminal, drawn cell by cell
//! by ratatui, which drops control characters, is the one allowed exception): output that
//! does not pass the gate does not pass the lints.
//!
//! Fields (a path, a process name, a variable) are made one line with [`safe_line`] where
//! they are put into text, so that a value can never forge a line of the report.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fmt;
use std::io::{IsTerminal, Write};
use std::os::unix::ffi::OsStrExt;

/// Whether `c` must not reach a terminal raw: C0 and C1 controls (and DEL), the Unicode
/// bidirectional overrides and isolates that make text display in another order than it
/// reads, and the byte-order mark and other invisible format characters that hide text.
fn is_unsafe(c: char, keep_newlines: bool) -> bool {
    match c {
        '\n' | '\t' => !keep_newlines && c == '\n',
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => true,
        '\u{061c}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}' => true,
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

/// Bytes that may not be UTF-8 (a file name), made safe for one line of output. A byte that
/// is not part of valid UTF-8 is shown as `\xNN`, so two names that differ only there stay
/// two names.
pub fn safe_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        out.push_str(&safe_line(chunk.valid()));
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

/// A name or path for one line of output: [`safe_bytes`] of its raw bytes.
pub fn safe_os(s: &OsStr) -> String {
    safe_bytes(s.as_bytes())
}

/// Text that has passed the gate: secrets masked, control characters escaped. Only this
/// module makes one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text(String);

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends more gated text.
    pub fn push(&mut self, more: &Text) {
        self.0.push_str(&more.0);
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `s` through the gate: every secret masked, every control character but newline and tab
/// escaped.
pub fn text(s: &str) -> Text {
    let masked = crate::redact::mask_text(s);
    Text(safe_text(&masked).into_owned())
}

/// hfguard's own colours: the only escape sequences that reach a terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Bold,
    Dim,
    Good,
    Critical,
    High,
    Medium,
    Low,
}

impl Style {
    fn sgr(self) -> &'static str {
        match self {
            Style::Bold => "1",
            Style::Dim => "2",
            Style::Good => "1;32",
            Style::Critical => "1;35",
            Style::High => "1;31",
            Style::Medium => "1;33",
            Style::Low => "1;36",
        }
    }
}

/// A document for people, written piece by piece (it implements [`fmt::Write`]): every piece
/// passes the gate as it is written, and [`Doc::styled`] adds hfguard's colours around one
/// when colour is on.
pub struct Doc {
    out: String,
    color: bool,
}

impl Doc {
    pub fn new(color: bool) -> Self {
        Doc {
            out: String::new(),
            color,
        }
    }

    /// Writes `s` in `style` (plain when colour is off).
    pub fn styled(&mut self, style: Style, s: &str) {
        let gated = text(s);
        if self.color {
            self.out.push_str("\x1b[");
            self.out.push_str(style.sgr());
            self.out.push('m');
            self.out.push_str(&gated.0);
            self.out.push_str("\x1b[0m");
        } else {
            self.out.push_str(&gated.0);
        }
    }

    pub fn finish(self) -> Text {
        Text(self.out)
    }
}

impl fmt::Write for Doc {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.out.push_str(&text(s).0);
        Ok(())
    }
}

fn write_to(mut w: impl Write, bytes: &[u8]) -> std::io::Result<()> {
    w.write_all(bytes)?;
    w.flush()
}

/// Writes gated text to standard output (a closed pipe is an error the caller may ignore).
#[allow(clippy::disallowed_methods)]
pub fn out(t: &Text) -> std::io::Result<()> {
    write_to(std::io::stdout().lock(), t.0.as_bytes())
}

/// Writes gated text to standard error.
#[allow(clippy::disallowed_methods)]
pub fn err(t: &Text) {
    let _ = write_to(std::io::stderr().lock(), t.0.as_bytes());
}

/// Standard output for people, for `write!`: each piece passes the gate as it is written.
pub struct Stdout;

/// Standard error for people, for `write!`: each piece passes the gate as it is written.
pub struct Stderr;

/// [`Stdout`].
pub fn stdout() -> Stdout {
    Stdout
}

/// [`Stderr`].
pub fn stderr() -> Stderr {
    Stderr
}

impl fmt::Write for Stdout {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        out(&text(s)).map_err(|_| fmt::Error)
    }
}

impl fmt::Write for Stderr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        err(&text(s));
        Ok(())
    }
}

/// Gates `line` and writes it, with a newline, to standard output.
pub fn say(line: &str) {
    let _ = out(&text(&format!("{line}\n")));
}

/// Gates `line` and writes it, with a newline, to standard error.
pub fn warn(line: &str) {
    err(&text(&format!("{line}\n")));
}

/// A question on standard error, without a newline (the answer is typed after it).
pub fn prompt(question: &str) {
    err(&text(question));
}

/// Bytes for a program rather than a person (a token read by `$(hfguard token get)`, git's
/// credential protocol): written as they are. Nothing a person reads goes here.
#[allow(clippy::disallowed_methods)]
pub fn data(bytes: &[u8]) -> std::io::Result<()> {
    write_to(std::io::stdout().lock(), bytes)
}

/// Whether standard output is a terminal.
#[allow(clippy::disallowed_methods)]
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Whether standard error is a terminal.
#[allow(clippy::disallowed_methods)]
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// Draws (or, with `None`, clears) the one-line progress indicator on standard error: the
/// line-clearing sequence is hfguard's own, the text is gated.
pub fn progress(line: Option<&str>) {
    let mut s = String::from("\r\x1b[2K");
    if let Some(l) = line {
        s.push_str(&text(&safe_line(l)).0);
    }
    err(&Text(s));
}

/// JSON with every character a terminal could act on escaped (`\u001b`, `\u009b`,
/// `\u202e`): serde_json escapes C0 controls itself, this adds DEL, C1 controls and the
/// characters [`safe_text`] escapes.
struct SafeJson<F>(F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for SafeJson<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe(c, false) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                write!(w, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

fn json_with<F: serde_json::ser::Formatter>(value: &impl serde::Serialize, f: F) -> Text {
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, SafeJson(f));
    value
        .serialize(&mut ser)
        .expect("hfguard's documents always serialize");
    buf.push(b'\n');
    // serde_json writes UTF-8; every character a terminal acts on is escaped above, and a
    // secret never reaches a document (paths are masked as they are serialized).
    Text(String::from_utf8(buf).expect("serde_json writes UTF-8"))
}

/// `value` as pretty-printed JSON, safe on a terminal, with a final newline.
pub fn json(value: &impl serde::Serialize) -> Text {
    json_with(value, serde_json::ser::PrettyFormatter::new())
}

/// `value` as one line of JSON (JSON Lines), safe on a terminal, with a final newline.
pub fn json_line(value: &impl serde::Serialize) -> Text {
    json_with(value, serde_json::ser::CompactFormatter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    #[test]
    fn control_sequences_are_shown_escaped() {
        assert_eq!(safe_line("a\x1b]52;c;aGk=\x07b"), "a\\x1b]52;c;aGk=\\x07b");
        assert_eq!(safe_line("x\x1b[2Jy"), "x\\x1b[2Jy");
        assert_eq!(safe_line("one\ntwo"), "one\\x0atwo");
        assert_eq!(safe_text("one\ntwo\tthree"), "one\ntwo\tthree");
        assert_eq!(safe_text("\u{9b}31m"), "\\x9b31m");
        assert_eq!(safe_line("abc\u{202e}txt.exe"), "abc\\u{202e}txt.exe");
        assert!(matches!(safe_line("plain ~/.bashrc:2"), Cow::Borrowed(_)));
        assert_eq!(safe_bytes(b"a\xffb\x1b"), "a\\xffb\\x1b");
        assert_ne!(safe_bytes(b"a\xff"), safe_bytes(b"a\xfe"));
    }

    #[test]
    fn only_a_doc_adds_escape_sequences() {
        let mut d = Doc::new(true);
        d.styled(Style::Bold, "~/x\x1b[2J");
        let _ = writeln!(d, " and \x1b]0;title\x07");
        let t = d.finish();
        assert_eq!(
            t.as_str(),
            "\x1b[1m~/x\\x1b[2J\x1b[0m and \\x1b]0;title\\x07\n"
        );
        let mut plain = Doc::new(false);
        plain.styled(Style::High, "HIGH");
        assert_eq!(plain.finish().as_str(), "HIGH");
    }

    #[test]
    fn json_escapes_what_a_terminal_acts_on() {
        let v = serde_json::json!({"path": "a\x1b[2J\u{9b}b\u{202e}c\u{7f}", "n": 1});
        let s = json(&v).into_string();
        assert!(s.is_ascii() && !s.contains('\x1b'), "{s}");
        assert!(s.contains(r"a\u001b[2J\u009bb\u202ec\u007f"), "{s}");
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
        assert_eq!(json_line(&v).as_str().lines().count(), 1);
    }

    #[test]
    fn secrets_in_text_are_masked() {
        let t = text("open ~/notes/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.txt failed");
        assert_eq!(t.as_str(), "open ~/notes/hf_…KjHg.txt failed");
    }
}
