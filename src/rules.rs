//! What a secret looks like: the rules in `assets/rules.toml`, compiled once into a literal
//! prefilter over every rule's keywords and one regex per rule.
//!
//! [`RuleSet::find`] makes one pass over a buffer ([`prefilter`]): it learns which keywords
//! occur (ignoring ASCII case) and where the long base64 runs are; only rules whose keywords
//! occur run their regex. Base64-encoded secrets (Kubernetes Secrets, Docker `auth`) are found
//! through the base64 forms of the keywords inside those runs, decoded, and searched again.

mod prefilter;

use crate::kind::FileKind;
use crate::secret::Secret;
use base64::Engine;
use prefilter::{KeywordSearch, LiteralSet, MIN_RUN};
use regex::bytes::Regex;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

const RULES_TOML: &str = include_str!("../assets/rules.toml");

#[derive(Deserialize)]
struct RulesFile {
    rule: Vec<RuleSpec>,
    hosts: HashMap<String, String>,
    rotate: HashMap<String, String>,
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
    not_in: Option<Vec<FileKind>>,
    #[serde(default)]
    decode: Option<Decode>,
    #[serde(default)]
    password: bool,
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
    pattern: String,
    /// Compiled on first use: most rules never meet their keyword in a run, and compiling
    /// all of them is most of a quick audit's start-up.
    regex: OnceLock<Regex>,
    prefix: usize,
    min_entropy: f64,
    only_in: Option<Vec<FileKind>>,
    /// Kinds of file the rule skips: the bulk of a walk (source code), where its keywords
    /// would cost every file a pass while its secrets live in configuration and histories.
    not_in: Option<Vec<FileKind>>,
    decode: Option<Decode>,
    /// The pattern names a `secret` group (context rule): the boundary is the pattern's.
    has_secret_group: bool,
    /// A person chose the secret: see [`RuleSet::is_placeholder_password`].
    password: bool,
}

impl Rule {
    fn regex(&self) -> &Regex {
        self.regex.get_or_init(|| {
            Regex::new(&self.pattern)
                .expect("every rule compiles (rules::tests::every_rule_compiles)")
        })
    }

    /// The rule's regex, in the `regex` crate's syntax, as written in `assets/rules.toml`.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether the rule applies to every kind of file (a history among them), not only in
    /// its context (`only_in`).
    pub fn applies_everywhere(&self) -> bool {
        self.only_in.is_none()
    }

    /// Whether the pattern names a `secret` group, so the boundary before the secret is the
    /// pattern's own (see the header of `assets/rules.toml`).
    pub fn has_secret_group(&self) -> bool {
        self.has_secret_group
    }

    fn applies_to(&self, kind: Option<FileKind>) -> bool {
        match (&self.only_in, kind) {
            (None, Some(k)) => self.not_in.as_ref().is_none_or(|n| !n.contains(&k)),
            (None, None) => true,
            (Some(kinds), Some(k)) => kinds.contains(&k),
            (Some(_), None) => false,
        }
    }

    /// Whether the rule applies to every kind of file (neither `only_in` nor `not_in`): the
    /// rules of the one-pass search most files get, and of decoded base64.
    fn is_general(&self) -> bool {
        self.only_in.is_none() && self.not_in.is_none()
    }
}

/// How a secret that `hfguard fix` redacted starts (`[hfguard:redacted:hf_...kXyZ]`): never
/// a secret itself.
pub const REDACTED_MARKER: &str = "[hfguard:redacted:";

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

/// Where the secret of `m` lies in `data`: the secret itself, or, when it was found encoded,
/// the whole base64 run it was decoded from.
pub fn extent(data: &[u8], m: &SecretMatch) -> (usize, usize) {
    let s = m.offset;
    if data[s..].starts_with(m.secret.expose().as_bytes()) {
        (s, s + m.secret.expose().len())
    } else {
        let e = data[s..]
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || b"+/=-_".contains(b)))
            .map_or(data.len(), |i| s + i);
        (s, e)
    }
}

/// All rules, compiled.
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// Keywords of the rules that apply everywhere (neither `only_in` nor `not_in`): the
    /// search for the kinds of file only they apply to (the bulk of a walk: source code,
    /// archives) and for decoded runs.
    general: Keywords,
    /// Keywords of every rule: the search for the kinds of file a context rule applies to,
    /// and for variables and command lines (`not_in` rules apply to them).
    all: Keywords,
    /// The kinds of file some rule that is not general applies to.
    context_kinds: Vec<FileKind>,
    /// Case-sensitive base64 forms of the keywords of rules that apply everywhere.
    base64_forms: LiteralSet,
    hosts: HashMap<String, String>,
    /// Provider → the page where its tokens are revoked and replaced.
    rotate: HashMap<String, String>,
    placeholder_words: Vec<String>,
}

/// A keyword search and the rules each of its keywords belongs to.
struct Keywords {
    search: KeywordSearch,
    /// Keyword index → rules.
    rules: Vec<Vec<usize>>,
}

impl Keywords {
    /// The distinct keywords (ignoring case) of the rules `pick` selects.
    fn new(specs: &[(Vec<String>, bool)], pick: impl Fn(bool) -> bool) -> Result<Self, String> {
        let mut keywords: Vec<String> = Vec::new();
        let mut rules: Vec<Vec<usize>> = Vec::new();
        for (idx, (kws, general)) in specs.iter().enumerate() {
            if !pick(*general) {
                continue;
            }
            for kw in kws {
                let lower = kw.to_ascii_lowercase();
                match keywords.iter().position(|k| *k == lower) {
                    Some(p) => rules[p].push(idx),
                    None => {
                        keywords.push(lower);
                        rules.push(vec![idx]);
                    }
                }
            }
        }
        Ok(Keywords {
            search: KeywordSearch::new(&keywords)?,
            rules,
        })
    }
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
        let mut specs: Vec<(Vec<String>, bool)> = Vec::new();
        let mut b64_keywords: Vec<String> = Vec::new();
        for spec in file.rule {
            if spec.keywords.is_empty() {
                return Err(format!("rule {}: needs at least one keyword", spec.id));
            }
            let general = spec.only_in.is_none() && spec.not_in.is_none();
            if spec.only_in.is_some() && spec.not_in.is_some() {
                return Err(format!(
                    "rule {}: only_in and not_in exclude each other",
                    spec.id
                ));
            }
            for kw in &spec.keywords {
                if general && kw.len() >= 3 {
                    b64_keywords.extend(base64_forms(kw.as_bytes()));
                }
            }
            specs.push((spec.keywords, general));
            let has_secret_group = spec.pattern.contains("(?P<secret>");
            rules.push(Rule {
                provider: (spec.provider != "host").then_some(spec.provider),
                id: spec.id,
                name: spec.name,
                pattern: spec.pattern,
                regex: OnceLock::new(),
                prefix: spec.prefix,
                min_entropy: spec.min_entropy,
                only_in: spec.only_in,
                not_in: spec.not_in,
                decode: spec.decode,
                has_secret_group,
                password: spec.password,
            });
        }
        let context_kinds = FileKind::ALL
            .into_iter()
            .filter(|&k| {
                rules
                    .iter()
                    .any(|r| !r.is_general() && r.applies_to(Some(k)))
            })
            .collect();
        b64_keywords.sort();
        b64_keywords.dedup();
        let base64_forms = LiteralSet::new(&b64_keywords)?;
        Ok(RuleSet {
            general: Keywords::new(&specs, |general| general)?,
            all: Keywords::new(&specs, |_| true)?,
            rules,
            context_kinds,
            base64_forms,
            hosts: file.hosts,
            rotate: file.rotate,
            placeholder_words: file
                .placeholders
                .words
                .iter()
                .map(|w| w.to_ascii_lowercase())
                .collect(),
        })
    }

    /// Whether a value that no rule matched, found where a Hugging Face token is expected
    /// (a token file, `HF_TOKEN`), is a placeholder rather than a token of an unknown format.
    pub fn is_placeholder_token(&self, value: &str) -> bool {
        let prefix = if value.starts_with("hf_") { 3 } else { 0 };
        self.is_placeholder(value.as_bytes(), prefix, 3.0)
    }

    /// How many leading characters of `value` are a public marker (`hf_`, `sk-ant-`): the
    /// prefix of the first rule that matches the whole value, else none.
    pub fn prefix_of(&self, value: &str) -> usize {
        let mut out = Vec::new();
        self.find(value.as_bytes(), None, &mut out);
        out.iter()
            .find(|m| m.offset == 0 && m.secret.expose() == value)
            .map_or(0, |m| self.rules[m.rule].prefix)
    }

    /// The rule with this detector id.
    pub fn by_id(&self, id: &str) -> Option<usize> {
        self.rules.iter().position(|r| r.id == id)
    }

    /// Every secret in `data` whatever kind of file it is: the rules that apply everywhere,
    /// and each context rule (URL, `.netrc`, Docker passwords) as if `data` were its kind of
    /// file. For what must never show or be kept: previews, the journal, context lines.
    ///
    /// A prefixed token needs no boundary before it here (as in containers): cutting out or
    /// masking a little too much is harmless, showing a token glued to a byte is not.
    pub fn find_everywhere(&self, data: &[u8], out: &mut Vec<SecretMatch>) {
        self.find_with(data, None, true, out);
        for &kind in &self.context_kinds {
            self.find_with(data, Some(kind), true, out);
        }
    }

    /// Where `provider`'s tokens are revoked and replaced.
    pub fn rotation_url(&self, provider: &str) -> Option<&str> {
        self.rotate.get(provider).map(String::as_str)
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

    /// Cheap test: could `data` hold any secret at all? (The prefilter alone: a keyword of
    /// any rule, or the base64 form of one, anywhere.)
    pub fn might_match(&self, data: &[u8]) -> bool {
        let mut any = false;
        self.all
            .search
            .scan(data, &mut |_| any = true, &mut |_, _| {});
        any || self.base64_forms.leftmost(data).is_some()
    }

    /// Finds every secret in `data` (a file of `kind`, or a variable/command line when `kind`
    /// is `None`), appending to `out` sorted by offset.
    pub fn find(&self, data: &[u8], kind: Option<FileKind>, out: &mut Vec<SecretMatch>) {
        self.find_with(data, kind, false, out);
    }

    /// [`RuleSet::find`] over the raw bytes of a container (SQLite, `.pyc`, tar): the byte
    /// before a value is a record header or a length there (SQLite's type byte for a 37-byte
    /// text is `W`), so a token with a public prefix (`hf_`, `sk-`) needs no boundary before
    /// it; its prefix is anchor enough.
    pub fn find_in_container(
        &self,
        data: &[u8],
        kind: Option<FileKind>,
        out: &mut Vec<SecretMatch>,
    ) {
        self.find_with(data, kind, true, out);
    }

    fn find_with(
        &self,
        data: &[u8],
        kind: Option<FileKind>,
        container: bool,
        out: &mut Vec<SecretMatch>,
    ) {
        let start_len = out.len();
        let keywords = match kind {
            Some(k) if !self.context_kinds.contains(&k) => &self.general,
            _ => &self.all,
        };
        // Allocated only when a keyword occurs: most buffers have none.
        let mut triggered: Vec<bool> = Vec::new();
        let mut encoded: Vec<(usize, usize)> = Vec::new();
        keywords.search.scan(
            data,
            &mut |k| {
                for &r in &keywords.rules[k] {
                    if self.rules[r].applies_to(kind) {
                        if triggered.is_empty() {
                            triggered = vec![false; self.rules.len()];
                        }
                        triggered[r] = true;
                    }
                }
            },
            &mut |start, end| {
                if let Some(run) = self.encoded_run(data, start, end) {
                    encoded.push(run);
                }
            },
        );
        for (idx, _) in triggered.iter().enumerate().filter(|(_, t)| **t) {
            self.run_rule(idx, &self.rules[idx], data, None, container, out);
        }
        for (start, end) in encoded {
            self.find_encoded(data, start, end, out);
        }
        out[start_len..].sort_by_key(|m| (m.offset, m.rule));
    }

    fn run_rule(
        &self,
        idx: usize,
        rule: &Rule,
        data: &[u8],
        encoded_at: Option<usize>,
        container: bool,
        out: &mut Vec<SecretMatch>,
    ) {
        for caps in rule.regex().captures_iter(data) {
            let m = match caps.name("secret") {
                Some(m) => m,
                None => caps.get(0).expect("group 0"),
            };
            let anchored = container && rule.prefix > 0;
            if !rule.has_secret_group && !anchored && !boundary_before(data, m.start()) {
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
            let placeholder = if rule.password {
                self.is_placeholder_password(&value)
            } else {
                self.is_placeholder(&value, prefix, rule.min_entropy)
            };
            if placeholder {
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
                offset: encoded_at.unwrap_or(m.start()),
                secret: Secret::from_bytes(&value, prefix),
                provider,
            });
        }
    }

    /// The part of the base64 run `data[start..end]` to decode, if it holds the encoded form
    /// of a keyword: from the first form found (back to the run's start or its last `=`) to
    /// the run's end, when that is at least [`MIN_RUN`] long.
    ///
    /// "First" is the leftmost-starting form; the first-ending one gives the same start,
    /// since the leftmost-starting form spans it and no form holds a `=`.
    fn encoded_run(&self, data: &[u8], start: usize, end: usize) -> Option<(usize, usize)> {
        let form = start + self.base64_forms.leftmost(&data[start..end])?;
        // Back from the form over base64 bytes, stopping after a `=`: within the run, all
        // bytes are base64, so that is the last `=` before the form, or the run's start.
        let s = memchr::memrchr(b'=', &data[start..form]).map_or(start, |i| start + i + 1);
        (end - s >= MIN_RUN).then_some((s, end))
    }

    /// Decodes `data[start..end]` and searches it with the rules that apply everywhere.
    fn find_encoded(&self, data: &[u8], start: usize, end: usize, out: &mut Vec<SecretMatch>) {
        let Some(decoded) = decode_base64_lenient(&data[start..end]) else {
            return;
        };
        let mut triggered = vec![false; self.rules.len()];
        self.general.search.scan(
            &decoded,
            &mut |k| {
                for &r in &self.general.rules[k] {
                    triggered[r] = true;
                }
            },
            &mut |_, _| {},
        );
        for (idx, rule) in self.rules.iter().enumerate() {
            if triggered[idx] {
                self.run_rule(idx, rule, &decoded, Some(start), false, out);
            }
        }
    }

    /// Whether a password a person chose is a placeholder. Passwords hold `%` (URL-encoded),
    /// `*`, `$` and words such as "password" often enough that the token tests above would
    /// drop real ones; only a value that is a template as a whole, one character repeated, or
    /// nothing but placeholder words is dropped.
    fn is_placeholder_password(&self, value: &[u8]) -> bool {
        let find = |needle: &[u8]| memchr::memmem::find(value, needle).is_some();
        if value.is_empty()
            || find(b"${")
            || find(b"{{")
            || find(b"%(")
            || find(REDACTED_MARKER.as_bytes())
            || is_env_reference(value)
            || (value[0] == b'<' && value.last() == Some(&b'>'))
            || value.iter().all(|&b| b == value[0])
        {
            return true;
        }
        // Nothing left once placeholder words and a few fillers are taken off, longest first:
        // "your_password_here", "changeme", "<MY-TOKEN>" go; "hunter2", "Passw0rd!" stay.
        let mut rest: Vec<u8> = value
            .iter()
            .filter(|b| b.is_ascii_alphanumeric())
            .map(u8::to_ascii_lowercase)
            .collect();
        if rest.is_empty() {
            return false; // all punctuation, and not one character repeated: a real password
        }
        const FILLERS: [&str; 9] = [
            "my", "the", "here", "pass", "passwd", "secret", "token", "user", "api",
        ];
        let mut words: Vec<&str> = self
            .placeholder_words
            .iter()
            .map(String::as_str)
            .chain(FILLERS)
            .collect();
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        'strip: while !rest.is_empty() {
            for w in &words {
                let w: Vec<u8> = w.bytes().filter(u8::is_ascii_alphanumeric).collect();
                if !w.is_empty() && rest.starts_with(&w) {
                    rest.drain(..w.len());
                    continue 'strip;
                }
            }
            return false;
        }
        true
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

/// `$NAME` or `${NAME}` as a whole value, with a conventional variable name (capitals,
/// digits, `_`): a template. `$ecretPa55` is a password.
fn is_env_reference(value: &[u8]) -> bool {
    let Some(rest) = value.strip_prefix(b"$") else {
        return false;
    };
    let name = rest
        .strip_prefix(b"{")
        .and_then(|r| r.strip_suffix(b"}"))
        .unwrap_or(rest);
    name.first()
        .is_some_and(|b| b.is_ascii_uppercase() || *b == b'_')
        && name
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
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

/// No identifier character right before the secret (`myhf_…` is not a token). An escape
/// counts as a boundary: `\n` in a JSON string, and a percent-escape in a URL or a logged
/// request (`Bearer%20hf_…`, `token%3Dhf_…`, `%22hf_…`).
fn boundary_before(data: &[u8], start: usize) -> bool {
    if start == 0 || !is_ident_byte(data[start - 1]) {
        return true;
    }
    if start >= 2 && data[start - 2] == b'\\' && matches!(data[start - 1], b'n' | b't' | b'r') {
        return true;
    }
    start >= 3
        && data[start - 3] == b'%'
        && data[start - 2].is_ascii_hexdigit()
        && data[start - 1].is_ascii_hexdigit()
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

/// Decodes standard or URL-safe base64, padded or not.
fn decode_base64_lenient(run: &[u8]) -> Option<Vec<u8>> {
    use base64::engine::{general_purpose, DecodePaddingMode, GeneralPurposeConfig};
    // Padding may sit anywhere in a run (concatenated values); most runs have none.
    let trimmed: std::borrow::Cow<[u8]> = if memchr::memchr(b'=', run).is_some() {
        run.iter().copied().filter(|&b| b != b'=').collect()
    } else {
        run.into()
    };
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

    /// Rules compile on first use; this compiles them all, so a bad pattern in
    /// assets/rules.toml fails here and not in a user's scan.
    #[test]
    fn every_rule_compiles() {
        for r in &builtin().rules {
            let re = Regex::new(&r.pattern).unwrap_or_else(|e| panic!("{}: {e}", r.id));
            assert_eq!(
                re.capture_names().any(|n| n == Some("secret")),
                r.has_secret_group,
                "{}",
                r.id
            );
        }
    }

    #[test]
    fn passwords_people_chose_are_kept_and_templates_dropped() {
        let creds = |pw: &str| {
            secrets(
                &format!("https://alice:{pw}@git.example.org\n"),
                Some(FileKind::GitCredentials),
            )
        };
        // Real passwords, including URL-encoded ones and ones with placeholder words in them.
        for pw in [
            "Tr0ub4dor%263xK9",
            "MyPassword123",
            "hunter2-Example!",
            "p*ss(w0rd)",
            "!#$^&*~",
            "$ecretPa55",
        ] {
            assert_eq!(creds(pw), [("url-credentials".into(), pw.into())], "{pw}");
        }
        // Templates and placeholders.
        for pw in [
            "${GIT_TOKEN}",
            "$GIT_TOKEN",
            "{{ token }}",
            "%(password)s",
            "<password>",
            "********",
            "your_password_here",
            "changeme",
            "PASSWORD",
            "my-secret-token",
            "[hfguard:redacted:...Xq9Z]",
        ] {
            assert!(creds(pw).is_empty(), "{pw} is a placeholder");
        }
        let netrc = |pw: &str| {
            secrets(
                &format!("machine example.org login me password {pw}\n"),
                Some(FileKind::Netrc),
            )
        };
        assert_eq!(netrc("Passw0rd%21").len(), 1);
        assert!(netrc("changeme").is_empty());
    }

    #[test]
    fn hf_token_found_with_boundaries() {
        assert_eq!(secrets(&format!("export HF_TOKEN={HF}\n"), None)[0].1, HF);
        assert!(secrets(&format!("myhf_{}", &HF[3..]), None).is_empty());
        assert!(secrets(&format!("{HF}Z"), None).is_empty());
        assert_eq!(secrets(&format!("\"Token:\\n{HF}\""), None).len(), 1);
    }

    #[test]
    fn a_token_may_follow_a_percent_escape() {
        for before in ["Bearer%20", "token%3D", "%22", "x%2f", "%0A"] {
            let found = secrets(&format!("GET /api?{before}{HF}&x=1\n"), None);
            assert_eq!(found.len(), 1, "after {before}");
            assert_eq!(found[0].1, HF);
        }
        // Not an escape: two hex digits without the `%`, or a `%` without two hex digits.
        assert!(secrets(&format!("x3D{HF}"), None).is_empty());
        assert!(secrets(&format!("%G1{HF}"), None).is_empty());
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

    /// The matcher as it was before the one-pass prefilter (a case-insensitive Aho-Corasick
    /// automaton over every keyword, overlapping matches, then the base64 forms over the whole
    /// buffer), kept here to check that the fast path finds exactly the same secrets.
    fn find_reference(data: &[u8], kind: Option<FileKind>) -> Vec<(usize, usize, String)> {
        use super::prefilter::is_base64_byte;
        use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
        let rs = builtin();
        let file: RulesFile = toml::from_str(RULES_TOML).unwrap();
        let (mut keywords, mut keyword_rules, mut b64): (
            Vec<String>,
            Vec<Vec<usize>>,
            Vec<String>,
        ) = Default::default();
        for (idx, spec) in file.rule.iter().enumerate() {
            for kw in &spec.keywords {
                let lower = kw.to_ascii_lowercase();
                match keywords.iter().position(|k| *k == lower) {
                    Some(p) => keyword_rules[p].push(idx),
                    None => {
                        keywords.push(lower);
                        keyword_rules.push(vec![idx]);
                    }
                }
                if spec.only_in.is_none() && spec.not_in.is_none() && kw.len() >= 3 {
                    b64.extend(base64_forms(kw.as_bytes()));
                }
            }
        }
        b64.sort();
        b64.dedup();
        let prefilter = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&keywords)
            .unwrap();
        let b64 = AhoCorasick::new(&b64).unwrap();
        let mut out = Vec::new();
        let mut triggered = vec![false; rs.rules.len()];
        for m in prefilter.find_overlapping_iter(data) {
            for &r in &keyword_rules[m.pattern().as_usize()] {
                triggered[r] |= rs.rules[r].applies_to(kind);
            }
        }
        for (idx, rule) in rs.rules.iter().enumerate() {
            if triggered[idx] {
                rs.run_rule(idx, rule, data, None, false, &mut out);
            }
        }
        let mut done_until = 0usize;
        for m in b64.find_iter(data) {
            if m.start() < done_until {
                continue;
            }
            let (mut start, mut end) = (m.start(), m.end());
            while start > 0 && is_base64_byte(data[start - 1]) && data[start - 1] != b'=' {
                start -= 1;
            }
            while end < data.len() && is_base64_byte(data[end]) {
                end += 1;
            }
            done_until = end;
            if end - start < 20 {
                continue;
            }
            let Some(decoded) = decode_base64_lenient(&data[start..end]) else {
                continue;
            };
            let mut triggered = vec![false; rs.rules.len()];
            for k in prefilter.find_overlapping_iter(&decoded) {
                for &r in &keyword_rules[k.pattern().as_usize()] {
                    triggered[r] = rs.rules[r].is_general();
                }
            }
            for (idx, rule) in rs.rules.iter().enumerate() {
                if triggered[idx] {
                    rs.run_rule(idx, rule, &decoded, Some(start), false, &mut out);
                }
            }
        }
        out.sort_by_key(|m| (m.offset, m.rule));
        out.iter()
            .map(|m| (m.rule, m.offset, m.secret.expose().to_string()))
            .collect()
    }

    /// Buffers made of the pieces secrets hide among: keywords in any case, tokens of every
    /// rule, base64 of tokens at every alignment, `=`, base64 noise, words and separators.
    fn random_buffer(seed: u64, len: usize) -> Vec<u8> {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        struct Rng(u64);
        impl Rng {
            fn next(&mut self) -> u64 {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                self.0
            }
            fn below(&mut self, n: usize) -> usize {
                (self.next() % n as u64) as usize
            }
            fn alnum(&mut self, n: usize) -> String {
                const ALNUM: &[u8] =
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
                (0..n).map(|_| ALNUM[self.below(62)] as char).collect()
            }
        }
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut out = Vec::with_capacity(len + 256);
        while out.len() < len {
            let token = match rng.below(8) {
                0 => format!("hf_{}", rng.alnum(34)),
                1 => format!("api_org_{}", rng.alnum(34)),
                2 => format!("sk-proj-{}T3BlbkFJ{}", rng.alnum(30), rng.alnum(30)),
                3 => format!("AKIA{}", "ABCDEFGHIJKLMNOP".repeat(1 + rng.below(2))),
                4 => format!("aws_secret_access_key = {}", rng.alnum(40)),
                5 => format!("ghp_{}", rng.alnum(36)),
                6 => format!("\"key\": \"{}\"", "0123456789abcdef0123456789abcdef"),
                _ => format!("gsk_{}", rng.alnum(52)),
            };
            let piece: Vec<u8> = match rng.below(12) {
                0 => token.into_bytes(),
                1 | 2 => {
                    let raw = format!("{}{token}", &"xy:"[..rng.below(3)]);
                    if rng.below(2) == 0 {
                        STANDARD.encode(raw).into_bytes()
                    } else {
                        URL_SAFE_NO_PAD.encode(raw).into_bytes()
                    }
                }
                3 => {
                    let kws = [
                        "HF_",
                        "hf_",
                        "Api_Org_",
                        "t3blbkfj",
                        "AKIA",
                        "asia",
                        "\"KEY\"",
                        "Refresh_Token",
                        "github_PAT_",
                        "://",
                        "machine",
                        "password",
                        "aiza",
                    ];
                    kws[rng.below(kws.len())].as_bytes().to_vec()
                }
                4 => b"=".to_vec(),
                5 => {
                    let n = rng.below(80);
                    rng.alnum(n).into_bytes()
                }
                6 => b"\n".to_vec(),
                7 => b"  ".to_vec(),
                8 => b"\"auth\": \"dXNlcjpwYXNzd29yZDEyMw==\"".to_vec(),
                9 => b"https://user:s3cr3tpass@huggingface.co/x".to_vec(),
                _ => b"import torch; model = AutoModel.from_pretrained(path)".to_vec(),
            };
            out.extend_from_slice(&piece);
        }
        out
    }

    #[test]
    fn one_pass_finds_what_the_reference_matcher_finds() {
        let rs = builtin();
        let kinds = [
            None,
            Some(FileKind::ProjectFile),
            Some(FileKind::Notebook),
            Some(FileKind::GitRemote),
            Some(FileKind::DockerConfig),
            Some(FileKind::Netrc),
        ];
        let mut total = 0;
        for seed in 0..120u64 {
            // Mostly small buffers; some cross the prefilter's 64 KiB chunks.
            let len = if seed % 10 == 0 {
                200_000
            } else {
                (seed as usize * 37) % 3000
            };
            let data = random_buffer(seed, len);
            for kind in kinds {
                let mut out = Vec::new();
                rs.find(&data, kind, &mut out);
                let got: Vec<(usize, usize, String)> = out
                    .iter()
                    .map(|m| (m.rule, m.offset, m.secret.expose().to_string()))
                    .collect();
                assert_eq!(
                    got,
                    find_reference(&data, kind),
                    "seed {seed} kind {kind:?}"
                );
                total += got.len();
            }
        }
        assert!(
            total > 1000,
            "the buffers should hold many secrets, found {total}"
        );
    }
}
