//! Text for the dashboard as data: lines of spans with a semantic [`Tone`] (never a raw
//! colour: the theme in [`super::ui`] maps tones to styles, and `NO_COLOR` is one more theme),
//! and word wrapping by display width. State and drawing wrap the same way, so the state
//! knows where a scrolled pane ends without drawing it.

use unicode_width::UnicodeWidthChar;

/// What a piece of text means, for the theme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Plain,
    Strong,
    Muted,
    /// Done, safe, added.
    Good,
    /// Worth attention: a rotation to do.
    Warn,
    /// Broken, exposed, removed.
    Bad,
    Severity(crate::finding::Severity),
}

/// One line: spans of text, each with its tone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TLine(pub Vec<(Tone, String)>);

impl TLine {
    pub fn new(tone: Tone, text: impl Into<String>) -> TLine {
        TLine(vec![(tone, text.into())])
    }

    pub fn plain(text: impl Into<String>) -> TLine {
        TLine::new(Tone::Plain, text)
    }

    pub fn blank() -> TLine {
        TLine(Vec::new())
    }

    pub fn push(mut self, tone: Tone, text: impl Into<String>) -> TLine {
        self.0.push((tone, text.into()));
        self
    }

    /// The text without tones.
    pub fn text(&self) -> String {
        self.0.iter().map(|(_, s)| s.as_str()).collect()
    }
}

/// Columns `s` takes on a terminal.
pub fn width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `s` cut to `max` columns, with `…` when something was cut.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw + 1 > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

/// `line` broken into lines of at most `width` columns: at spaces where it can, inside a word
/// (a long path, a diff line without spaces) where it must. Continuation lines keep the tone
/// of the text they continue; an empty line stays one empty line.
pub fn wrap(line: &TLine, width: usize) -> Vec<TLine> {
    let width = width.max(1);
    // Characters with their tone, then break points.
    let chars: Vec<(Tone, char)> = line
        .0
        .iter()
        .flat_map(|(t, s)| s.chars().map(move |c| (*t, c)))
        .collect();
    if chars.is_empty() {
        return vec![TLine::blank()];
    }
    let mut out = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let mut w = 0;
        let mut end = start;
        let mut last_space = None;
        while end < chars.len() {
            let cw = chars[end].1.width().unwrap_or(0);
            if w + cw > width {
                break;
            }
            if chars[end].1 == ' ' {
                last_space = Some(end);
            }
            w += cw;
            end += 1;
        }
        if end == start {
            // A character wider than the line: give it a line of its own.
            end = start + 1;
        } else if end < chars.len() && chars[end].1 != ' ' {
            if let Some(sp) = last_space.filter(|&sp| sp > start) {
                end = sp + 1;
            }
        }
        out.push(spans_of(&chars[start..end]));
        start = end;
        // A break at spaces: the next line does not start with them.
        while start < chars.len() && chars[start].1 == ' ' && !out.is_empty() {
            start += 1;
        }
    }
    out
}

/// Every line of `lines`, wrapped to `width`.
pub fn wrap_all(lines: &[TLine], width: usize) -> Vec<TLine> {
    lines.iter().flat_map(|l| wrap(l, width)).collect()
}

fn spans_of(chars: &[(Tone, char)]) -> TLine {
    let mut spans: Vec<(Tone, String)> = Vec::new();
    for (t, c) in chars {
        match spans.last_mut() {
            Some((lt, s)) if lt == t => s.push(*c),
            _ => spans.push((*t, c.to_string())),
        }
    }
    // Trailing spaces of a wrapped line are not drawn.
    if let Some((_, s)) = spans.last_mut() {
        let trimmed = s.trim_end_matches(' ').len();
        s.truncate(trimmed);
    }
    TLine(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(v: &[TLine]) -> Vec<String> {
        v.iter().map(TLine::text).collect()
    }

    #[test]
    fn wraps_at_spaces_and_inside_long_words() {
        let l = TLine::plain("the quick brown fox jumps");
        assert_eq!(texts(&wrap(&l, 10)), ["the quick", "brown fox", "jumps"]);
        let l = TLine::plain("+/home/alice/a/very/long/path");
        assert_eq!(
            texts(&wrap(&l, 10)),
            ["+/home/ali", "ce/a/very/", "long/path"]
        );
        assert_eq!(texts(&wrap(&TLine::blank(), 10)), [""]);
        // Wide characters count twice.
        assert_eq!(
            texts(&wrap(&TLine::plain("日本語日本語"), 4)),
            ["日本", "語日", "本語"]
        );
    }

    #[test]
    fn tones_survive_wrapping() {
        let l = TLine::new(Tone::Bad, "-old line").push(Tone::Good, " new words");
        let w = wrap(&l, 9);
        assert_eq!(w[0].0, vec![(Tone::Bad, "-old line".to_string())]);
        assert_eq!(w[1].0, vec![(Tone::Good, "new words".to_string())]);
    }

    #[test]
    fn truncates_to_a_width() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
