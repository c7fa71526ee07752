//! The history filters' patterns, generated from the audit's own rules
//! (`assets/rules.toml`): every rule that applies to a history (the ones without `only_in`),
//! with the boundaries the audit checks in code written into the pattern, in the regex
//! dialect each shell speaks.
//!
//! - **Rust `regex`** (atuin's `history_filter`): the rules' own syntax.
//! - **PCRE2** (fish's `string match -r`): a superset of what the rules use; the same text
//!   with group names dropped (PCRE2 refuses a name used twice in the alternation, and fish
//!   would set a variable for each named group).
//! - **POSIX ERE** (bash's and zsh's `[[ … =~ … ]]`): translated here — `(?:…)` and named
//!   groups become plain groups, `\s`/`\S`/`\d`/`\w` become bracket expressions, a
//!   case-insensitive group `(?i:abc)` becomes `[aA][bB][cC]`. A construct ERE cannot say
//!   (a lazy quantifier, a case-insensitive class, an escape it lacks) is an error, caught
//!   by the tests when a rule is added, never a silently wrong filter.

use crate::rules::{self, Rule};

/// A regex dialect a history filter is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// The `regex` crate (atuin).
    Rust,
    /// PCRE2 (fish).
    Pcre2,
    /// POSIX extended regular expressions (bash, zsh).
    Ere,
}

/// What the audit requires around a secret (`rules.rs`: `boundary_before`,
/// `boundary_after`), as pattern text.
const BEFORE: (&str, &str) = ("(?:^|[^A-Za-z0-9_])", "(^|[^A-Za-z0-9_])");
const AFTER: (&str, &str) = ("(?:[^A-Za-z0-9]|$)", "([^A-Za-z0-9]|$)");

/// The rules a history is searched with.
fn history_rules() -> impl Iterator<Item = &'static Rule> {
    rules::builtin()
        .rules
        .iter()
        .filter(|r| r.applies_everywhere())
}

/// One pattern per rule that applies to histories, in `dialect`: a line matching any of
/// them holds a secret the audit would report.
pub fn patterns(dialect: Dialect) -> Result<Vec<String>, String> {
    history_rules()
        .map(|r| {
            let (body, before, after) = match dialect {
                Dialect::Rust => (format!("(?:{})", r.pattern()), BEFORE.0, AFTER.0),
                Dialect::Pcre2 => (format!("(?:{})", unnamed(r.pattern())), BEFORE.0, AFTER.0),
                Dialect::Ere => (
                    format!(
                        "({})",
                        to_ere(r.pattern()).map_err(|e| format!("rule {}: {e}", r.id))?
                    ),
                    BEFORE.1,
                    AFTER.1,
                ),
            };
            // A context rule's pattern holds what comes before its secret.
            let before = if r.has_secret_group() { "" } else { before };
            Ok(format!("{before}{body}{after}"))
        })
        .collect()
}

/// All of [`patterns`] as one alternation.
pub fn combined(dialect: Dialect) -> Result<String, String> {
    Ok(patterns(dialect)?.join("|"))
}

/// `pattern` with every named group `(?P<name>…)` / `(?<name>…)` made a plain `(?:…)`.
fn unnamed(pattern: &str) -> String {
    static NAMED: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re =
        NAMED.get_or_init(|| regex::Regex::new(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>").expect("valid"));
    re.replace_all(pattern, "(?:").into_owned()
}

/// Translates a pattern in the `regex` crate's syntax (the subset the rules use) to POSIX
/// ERE.
pub fn to_ere(pattern: &str) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    // Open groups: true when the group is case-insensitive.
    let mut groups: Vec<bool> = Vec::new();
    let mut last_was_quantifier = false;
    while i < chars.len() {
        let c = chars[i];
        let nocase = groups.iter().any(|&g| g);
        let mut quantifier = false;
        match c {
            '\\' => {
                let e = *chars.get(i + 1).ok_or("a trailing backslash")?;
                out.push_str(&match e {
                    's' => "[[:space:]]".to_string(),
                    'S' => "[^[:space:]]".to_string(),
                    'd' => "[0-9]".to_string(),
                    'w' => "[A-Za-z0-9_]".to_string(),
                    c if "\\.+*?()[]{}|^$/-".contains(c) => format!("\\{c}"),
                    c => return Err(format!("the escape \\{c} has no ERE form")),
                });
                i += 2;
                last_was_quantifier = false;
                continue;
            }
            '(' if chars.get(i + 1) == Some(&'?') => {
                let rest: String = chars[i..].iter().collect();
                if let Some(r) = rest.strip_prefix("(?:") {
                    i += rest.len() - r.len();
                    groups.push(false);
                } else if let Some(r) = rest.strip_prefix("(?i:") {
                    i += rest.len() - r.len();
                    groups.push(true);
                } else if rest.starts_with("(?P<") || rest.starts_with("(?<") {
                    let close = rest.find('>').ok_or("an unterminated group name")?;
                    i += rest[..=close].chars().count();
                    groups.push(false);
                } else {
                    return Err(format!(
                        "the group {} has no ERE form",
                        &rest[..3.min(rest.len())]
                    ));
                }
                out.push('(');
                last_was_quantifier = false;
                continue;
            }
            '(' => {
                groups.push(false);
                out.push('(');
            }
            ')' => {
                groups.pop().ok_or("an unbalanced `)`")?;
                out.push(')');
            }
            '[' => {
                if nocase {
                    return Err("a bracket expression inside (?i:…)".into());
                }
                let (class, used) = class_to_ere(&chars[i..])?;
                out.push_str(&class);
                i += used;
                last_was_quantifier = false;
                continue;
            }
            '*' | '+' | '?' => {
                if last_was_quantifier {
                    return Err("a lazy or possessive quantifier".into());
                }
                out.push(c);
                quantifier = true;
            }
            '{' => {
                let close = chars[i..]
                    .iter()
                    .position(|&x| x == '}')
                    .ok_or("an unterminated `{`")?;
                out.extend(&chars[i..=i + close]);
                i += close + 1;
                last_was_quantifier = true;
                continue;
            }
            c if nocase && c.is_ascii_alphabetic() => {
                out.push('[');
                out.push(c.to_ascii_lowercase());
                out.push(c.to_ascii_uppercase());
                out.push(']');
            }
            c => out.push(c),
        }
        last_was_quantifier = quantifier;
        i += 1;
    }
    if !groups.is_empty() {
        return Err("an unclosed group".into());
    }
    Ok(out)
}

/// A bracket expression at the start of `chars`, in ERE, and how many characters it took.
/// Inside brackets a backslash is literal in ERE, so escapes become the characters (or
/// character classes) they stand for.
fn class_to_ere(chars: &[char]) -> Result<(String, usize), String> {
    let mut out = String::from("[");
    let mut i = 1;
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    // A `-` written escaped goes last, where ERE reads it as itself.
    let mut dash = false;
    let mut first = true;
    loop {
        let c = *chars.get(i).ok_or("an unterminated bracket expression")?;
        match c {
            ']' if !first => break,
            '\\' => {
                let e = *chars.get(i + 1).ok_or("a trailing backslash")?;
                match e {
                    's' => out.push_str("[:space:]"),
                    'd' => out.push_str("0-9"),
                    'w' => out.push_str("A-Za-z0-9_"),
                    '-' => dash = true,
                    c if "./+*?(){}|$@#'\"<>".contains(c) => out.push(c),
                    c => return Err(format!("the escape \\{c} in brackets has no ERE form")),
                }
                i += 2;
                first = false;
                continue;
            }
            '[' if chars.get(i + 1) == Some(&':') => {
                let close = chars[i..]
                    .windows(2)
                    .position(|w| w == [':', ']'])
                    .ok_or("an unterminated character class")?;
                out.extend(&chars[i..i + close + 2]);
                i += close + 2;
                first = false;
                continue;
            }
            c => out.push(c),
        }
        first = false;
        i += 1;
    }
    if dash {
        out.push('-');
    }
    out.push(']');
    Ok((out, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_syntax_becomes_ere() {
        assert_eq!(to_ere("hf_[A-Za-z0-9]{34}").unwrap(), "hf_[A-Za-z0-9]{34}");
        assert_eq!(
            to_ere("sk-(?:(?:proj|admin)-[A-Za-z0-9_-]{20,200}|[A-Za-z0-9]{20})T3").unwrap(),
            "sk-((proj|admin)-[A-Za-z0-9_-]{20,200}|[A-Za-z0-9]{20})T3"
        );
        assert_eq!(
            to_ere(r#"(?i:key)["']?\s*[:=]\s*(?P<secret>[^\s@]{40})"#).unwrap(),
            r#"([kK][eE][yY])["']?[[:space:]]*[:=][[:space:]]*([^[:space:]@]{40})"#
        );
        assert_eq!(
            to_ere(r"machine\s+api\.wandb\.ai").unwrap(),
            r"machine[[:space:]]+api\.wandb\.ai"
        );
        assert!(to_ere("a+?").is_err());
        assert!(to_ere("(?i:[a-z])").is_err());
        assert!(to_ere(r"\bword").is_err());
        assert!(to_ere("(?=x)").is_err());
    }

    /// Every rule a history is searched with has a filter in every dialect, and the Rust
    /// form compiles and finds what the rule finds.
    #[test]
    fn every_history_rule_has_a_filter_in_every_dialect() {
        let n = history_rules().count();
        assert!(n >= 10, "{n}");
        for d in [Dialect::Rust, Dialect::Pcre2, Dialect::Ere] {
            assert_eq!(patterns(d).unwrap().len(), n, "{d:?}");
        }
        let set = regex::RegexSet::new(patterns(Dialect::Rust).unwrap()).unwrap();
        let token = "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";
        assert!(set.is_match(&format!("hf auth login --token {token}")));
        assert!(set.is_match(&format!("export HF_TOKEN=\"{token}\"")));
        assert!(!set.is_match("python -c 'from huggingface_hub import hf_hub_download'"));
        assert!(!set.is_match(&format!("x{token}")));
    }
}
