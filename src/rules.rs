//! What a secret looks like: the rules in `assets/rules.toml`, compiled once into a literal
//! prefilter (Aho-Corasick over every rule's keywords) and one regex per rule.
//!
//! [`RuleSet::find`] makes one pass of the prefilter over a buffer; only rules whose keywords
//! occur run their regex. Base64-encoded secrets (Kubernetes Secrets, Docker `auth`) are found
//! through the base64 forms of the keywords, decoded, and searched again.

use crate::kind::FileKind;
use crate::secret::Secret;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use base64::Engine;
use regex::bytes::Regex;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

const RULES_TOML: &str = include_str!("../assets/rules.toml");

#[derive(Deserialize)]
struct RulesFile {
    rule: Vec<RuleSpec>,
    hosts: HashMap<String, String>,
    placeholders: PlaceholderSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    name: String,
    provider: String,
    pattern: String,
    keywords: Vec<String>,
    prefix: usize,
    min_entropy: f64,
    #[serde(default)]
    only_in: Option<Vec<FileKind>>,
    #[serde(default)]
    decode: Option<Decode>,
}

#[derive(Deserialize)]
struct PlaceholderSpec {
    words: Vec<String>,
}

/// How a matched value is turned into the secret.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Decode {
    /// base64 of `user:password`; the password is the secret.
    Base64Userpass,
}

/// One compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub name: String,
    /// `None` when the provider comes from the URL host.
    provider: Option<String>,
    regex: Regex,
    prefix: usize,
    min_entropy: f64,
    only_in: Option<Vec<FileKind>>,
    decode: Option<Decode>,
    /// The pattern names a `secret` group (context rule): the boundary is the pattern's.
    has_secret_group: bool,
}

impl Rule {
    fn applies_to(&self, kind: Option<FileKind>) -> bool {
        match (&self.only_in, kind) {
            (None, _) => true,
            (Some(kinds), Some(k)) => kinds.contains(&k),
            (Some(_), None) => false,
        }
    }
}

/// A secret found in a buffer.
#[derive(Debug)]
pub struct SecretMatch {
    /// Index into [`RuleSet::rules`]; lower wins when several rules find the same secret.
    pub rule: usize,
    /// Byte offset in the searched buffer of the secret's first byte (for a base64-encoded
    /// secret, of the encoded run).
    pub offset: usize,
    pub secret: Secret,
    pub provider: Option<String>,
}

/// All rules, compiled.
pub struct RuleSet {
    pub rules: Vec<Rule>,
    prefilter: AhoCorasick,
    /// Prefilter pattern index → rules that keyword belongs to.
    keyword_rules: Vec<Vec<usize>>,
    /// Case-sensitive base64 forms of the keywords of rules that apply everywhere.
    base64_prefilter: AhoCorasick,
    hosts: HashMap<String, String>,
    placeholder_words: Vec<String>,
}

/// The built-in rules, compiled on first use.
pub fn builtin() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::from_toml(RULES_TOML).expect("assets/rules.toml is valid"))
}

impl RuleSet {
    /// Compiles rules from the TOML format of `assets/rules.toml`.
    pub fn from_toml(text: &str) -> Result<RuleSet, String> {
        let file: RulesFile = toml::from_str(text).map_err(|e| format!("rules: {e}"))?;
        let mut rules = Vec::new();
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut b64_keywords: Vec<String> = Vec::new();
        for (idx, spec) in file.rule.into_iter().enumerate() {
            let regex = Regex::new(&spec.pattern)
                .map_err(|e| format!("rule {}: bad pattern: {e}", spec.id))?;
            if spec.keywords.is_empty() {
                return Err(format!("rule {}: needs at least one keyword", spec.id));
            }
            for kw in &spec.keywords {
                let lower = kw.to_ascii_lowercase();
                match keywords.iter().position(|k| *k == lower) {
                    Some(p) => keyword_rules[p].push(idx),
                    None => {
                        keywords.push(lower);
                        keyword_rules.push(vec![idx]);
                    }
                }
                if spec.only_in.is_none() && kw.len() >= 3 {
                    b64_keywords.extend(base64_forms(kw.as_bytes()));
                }
            }
            let has_secret_group = regex.capture_names().any(|n| n == Some("secret"));
            rules.push(Rule {
                provider: (spec.provider != "host").then_some(spec.provider),
                id: spec.id,
                name: spec.name,
                regex,
                prefix: spec.prefix,
                min_entropy: spec.min_entropy,
                only_in: spec.only_in,
                decode: spec.decode,
                has_secret_group,
            });
        }
        let prefilter = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&keywords)
            .map_err(|e| e.to_string())?;
        b64_keywords.sort();
        b64_keywords.dedup();
        let base64_prefilter = AhoCorasick::new(&b64_keywords).map_err(|e| e.to_string())?;
        Ok(RuleSet {
            rules,
            prefilter,
            keyword_rules,
            base64_prefilter,
            hosts: file.hosts,
            placeholder_words: file
                .placeholders
                .words
                .iter()
                .map(|w| w.to_ascii_lowercase())
                .collect(),
        })
    }

    /// The rule with this detector id.
    /// How many leading characters of `value` are a public marker (`hf_`, `sk-ant-`): the
    /// prefix of the first rule that matches the whole value, else none.
    pub fn prefix_of(&self, value: &str) -> usize {
        let mut out = Vec::new();
        self.find(value.as_bytes(), None, &mut out);
        out.iter()
            .find(|m| m.offset == 0 && m.secret.expose() == value)
            .map_or(0, |m| self.rules[m.rule].prefix)
    }

    pub fn by_id(&self, id: &str) -> Option<usize> {
        self.rules.iter().position(|r| r.id == id)
    }

    /// Provider of a host (`huggingface.co` → `huggingface`), subdomains included.
    pub fn provider_for_host(&self, host: &str) -> Option<String> {
        let host = host.to_ascii_lowercase();
        let mut h = host.as_str();
        loop {
            if let Some(p) = self.hosts.get(h) {
                return Some(p.clone());
            }
            match h.find('.') {
                Some(i) => h = &h[i + 1..],
                None => return None,
            }
        }
    }

    /// Cheap test: could `data` hold any secret at all? (The prefilter alone.)
    pub fn might_match(&self, data: &[u8]) -> bool {
        self.prefilter.is_match(data) || self.base64_prefilter.is_match(data)
    }

    /// Finds every secret in `data` (a file of `kind`, or a variable/command line when `kind`
    /// is `None`), appending to `out` sorted by offset.
    pub fn find(&self, data: &[u8], kind: Option<FileKind>, out: &mut Vec<SecretMatch>) {
        let start_len = out.len();
        let mut triggered = vec![false; self.rules.len()];
        let mut any = false;
        for m in self.prefilter.find_overlapping_iter(data) {
            for &r in &self.keyword_rules[m.pattern().as_usize()] {
                if !triggered[r] && self.rules[r].applies_to(kind) {
                    triggered[r] = true;
                    any = true;
                }
            }
        }
        if any {
            for (idx, rule) in self.rules.iter().enumerate() {
                if triggered[idx] {
                    self.run_rule(idx, rule, data, 0, None, out);
                }
            }
        }
        self.find_base64(data, out);
        out[start_len..].sort_by_key(|m| (m.offset, m.rule));
    }

    fn run_rule(
        &self,
        idx: usize,
        rule: &Rule,
        data: &[u8],
        base: usize,
        encoded_at: Option<usize>,
        out: &mut Vec<SecretMatch>,
    ) {
        for caps in rule.regex.captures_iter(data) {
            let m = match caps.name("secret") {
                Some(m) => m,
                None => caps.get(0).expect("group 0"),
            };
            if !rule.has_secret_group && !boundary_before(data, m.start()) {
                continue;
            }
            if !boundary_after(data, m.end()) {
                continue;
            }
            let (value, prefix) = match rule.decode {
                Some(Decode::Base64Userpass) => match decode_userpass(m.as_bytes()) {
                    Some(pass) => (pass, 0),
                    None => continue,
                },
                None => (m.as_bytes().to_vec(), rule.prefix),
            };
            if self.is_placeholder(&value, prefix, rule.min_entropy) {
                continue;
            }
            let provider = match &rule.provider {
                Some(p) => Some(p.clone()),
                None => caps
                    .name("host")
                    .and_then(|h| std::str::from_utf8(h.as_bytes()).ok())
                    .and_then(|h| self.provider_for_host(h)),
            };
            out.push(SecretMatch {
                rule: idx,
                offset: encoded_at.unwrap_or(base + m.start()),
                secret: Secret::from_bytes(&value, prefix),
                provider,
            });
        }
    }

    /// Decodes base64 runs that contain the encoded form of a keyword and searches them.
    fn find_base64(&self, data: &[u8], out: &mut Vec<SecretMatch>) {
        let mut done_until = 0usize;
        for m in self.base64_prefilter.find_iter(data) {
            if m.start() < done_until {
                continue;
            }
            let (start, end) = base64_run(data, m.start(), m.end());
            done_until = end;
            if end - start < 20 {
                continue;
            }
            let Some(decoded) = decode_base64_lenient(&data[start..end]) else {
                continue;
            };
            let mut triggered = vec![false; self.rules.len()];
            for k in self.prefilter.find_overlapping_iter(&decoded) {
                for &r in &self.keyword_rules[k.pattern().as_usize()] {
                    triggered[r] = self.rules[r].only_in.is_none();
                }
            }
            for (idx, rule) in self.rules.iter().enumerate() {
                if triggered[idx] {
                    self.run_rule(idx, rule, &decoded, 0, Some(start), out);
                }
            }
        }
    }

    /// Placeholders, examples and template references are not secrets.
    fn is_placeholder(&self, value: &[u8], prefix: usize, min_entropy: f64) -> bool {
        if value.is_empty() {
            return true;
        }
        if value.iter().any(|b| {
            matches!(
                b,
                b'$' | b'{' | b'}' | b'*' | b'<' | b'>' | b'(' | b')' | b'%'
            )
        }) {
            return true;
        }
        let lower = value.to_ascii_lowercase();
        if self
            .placeholder_words
            .iter()
            .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
        {
            return true;
        }
        let body = &value[prefix.min(value.len())..];
        if min_entropy > 0.0 {
            if shannon_entropy(body) < min_entropy {
                return true;
            }
            if has_run(body, 6) {
                return true;
            }
        }
        false
    }
}

/// Bits of Shannon entropy per byte.
pub fn shannon_entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let n = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// A run of `len` repeated or consecutive characters (`aaaaaa`, `abcdef`, `123456`) marks a
/// hand-made example.
fn has_run(data: &[u8], len: usize) -> bool {
    let (mut same, mut up, mut down) = (1, 1, 1);
    for w in data.windows(2) {
        let (a, b) = (w[0] as i16, w[1] as i16);
        same = if b == a { same + 1 } else { 1 };
        up = if b == a + 1 { up + 1 } else { 1 };
        down = if b == a - 1 { down + 1 } else { 1 };
        if same >= len || up >= len || down >= len {
            return true;
        }
    }
    false
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// No identifier character right before the secret (`myhf_…` is not a token). An escape such
/// as `\n` in a JSON string counts as a boundary.
fn boundary_before(data: &[u8], start: usize) -> bool {
    if start == 0 || !is_ident_byte(data[start - 1]) {
        return true;
    }
    start >= 2 && data[start - 2] == b'\\' && matches!(data[start - 1], b'n' | b't' | b'r')
}

/// No alphanumeric right after the secret (a longer run is something else).
fn boundary_after(data: &[u8], end: usize) -> bool {
    end >= data.len() || !data[end].is_ascii_alphanumeric()
}

/// The base64 forms of `keyword` at the three alignments: the characters of the encoding
/// that depend only on the keyword's bytes.
fn base64_forms(keyword: &[u8]) -> Vec<String> {
    let mut forms = Vec::new();
    for align in 0..3usize {
        let mut input = vec![0u8; align];
        input.extend_from_slice(keyword);
        let enc = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&input);
        let first = (8 * align).div_ceil(6);
        let last = (8 * (align + keyword.len())) / 6; // exclusive
        if last > first + 2 {
            forms.push(enc[first..last].to_string());
        }
    }
    forms
}

fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'=')
}

/// The maximal base64 run around `[s, e)`.
fn base64_run(data: &[u8], mut s: usize, mut e: usize) -> (usize, usize) {
    while s > 0 && is_base64_byte(data[s - 1]) && data[s - 1] != b'=' {
        s -= 1;
    }
    while e < data.len() && is_base64_byte(data[e]) {
        e += 1;
    }
    (s, e)
}

/// Decodes standard or URL-safe base64, padded or not.
fn decode_base64_lenient(run: &[u8]) -> Option<Vec<u8>> {
    use base64::engine::{general_purpose, DecodePaddingMode, GeneralPurposeConfig};
    let trimmed: Vec<u8> = run.iter().copied().filter(|&b| b != b'=').collect();
    // A single leftover character cannot encode a byte.
    let usable = if trimmed.len() % 4 == 1 {
        trimmed.len() - 1
    } else {
        trimmed.len()
    };
    let cfg = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let std = general_purpose::GeneralPurpose::new(&base64::alphabet::STANDARD, cfg);
    let url = general_purpose::GeneralPurpose::new(&base64::alphabet::URL_SAFE, cfg);
    let input = &trimmed[..usable];
    std.decode(input).or_else(|_| url.decode(input)).ok()
}

/// `base64(user:password)` → password.
fn decode_userpass(b64: &[u8]) -> Option<Vec<u8>> {
    let decoded = decode_base64_lenient(b64)?;
    let colon = memchr::memchr(b':', &decoded)?;
    let pass = decoded[colon + 1..].to_vec();
    (!pass.is_empty()).then_some(pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(data: &str, kind: Option<FileKind>) -> Vec<(String, String)> {
        let rs = builtin();
        let mut out = Vec::new();
        rs.find(data.as_bytes(), kind, &mut out);
        out.iter()
            .map(|m| (rs.rules[m.rule].id.clone(), m.secret.expose().to_string()))
            .collect()
    }

    const HF: &str = "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";

    #[test]
    fn hf_token_found_with_boundaries() {
        assert_eq!(secrets(&format!("export HF_TOKEN={HF}\n"), None)[0].1, HF);
        assert!(secrets(&format!("myhf_{}", &HF[3..]), None).is_empty());
        assert!(secrets(&format!("{HF}Z"), None).is_empty());
        assert_eq!(secrets(&format!("\"Token:\\n{HF}\""), None).len(), 1);
    }

    #[test]
    fn placeholders_are_not_secrets() {
        for p in [
            "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "hf_YOUR_TOKEN_HERE",
            "hf_***",
            "<hf_token>",
            "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
            "hf_YourTokenGoesHereAndItIsVeryLongXX",
            "hf_hub_download",
            "${{ secrets.HF_TOKEN }}",
            "AKIAIOSFODNN7EXAMPLE",
        ] {
            assert!(secrets(p, None).is_empty(), "{p} taken for a secret");
        }
    }

    #[test]
    fn base64_encoded_token_is_found() {
        for pad in ["", " ", "t:"] {
            let raw = format!("{pad}{HF}");
            let enc = base64::engine::general_purpose::STANDARD.encode(raw.as_bytes());
            let found = secrets(&format!("data:\n  token: {enc}\n"), None);
            assert_eq!(found.len(), 1, "alignment {}", pad.len());
            assert_eq!(found[0].1, HF);
        }
    }

    #[test]
    fn context_rules_only_apply_in_their_files() {
        let line = "machine example.org login me password s3cr3tpassw\n";
        assert!(secrets(line, None).is_empty());
        assert_eq!(secrets(line, Some(FileKind::Netrc))[0].1, "s3cr3tpassw");
    }

    #[test]
    fn host_gives_provider() {
        let rs = builtin();
        assert_eq!(
            rs.provider_for_host("huggingface.co").as_deref(),
            Some("huggingface")
        );
        assert_eq!(
            rs.provider_for_host("www.huggingface.co").as_deref(),
            Some("huggingface")
        );
        assert_eq!(rs.provider_for_host("example.org"), None);
    }
}
