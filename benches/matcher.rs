//! Throughput of the matcher ([`hfguard::rules::RuleSet::find`]) on the kinds of text a home
//! holds: source code with no secret, source code with secrets and the keywords that trigger
//! regexes, notebooks full of base64 images, and the short strings (variables, command lines)
//! the environment and process probes pass one at a time.
//!
//! `cargo bench --bench matcher`; `scripts/bench` times the whole audit against ripgrep.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hfguard::kind::FileKind;
use hfguard::rules::{self, SecretMatch};
use std::hint::black_box;

/// A deterministic xorshift generator: the same text on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn alnum(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| ALPHABET[(self.next() % 62) as usize] as char)
            .collect()
    }
}

const WORDS: &[&str] = &[
    "def",
    "self",
    "return",
    "import",
    "from",
    "numpy",
    "np",
    "torch",
    "model",
    "config",
    "tokenizer",
    "from_pretrained",
    "os.environ.get",
    "dataset",
    "train",
    "loss",
    "optimizer",
    "for",
    "in",
    "range",
    "if",
    "else",
    "None",
    "True",
    "print",
    "logger",
    "args",
    "kwargs",
    "batch_size",
    "learning_rate",
    "_init_weights",
    "AutoModel",
    "request",
    "url",
    "path",
    "open",
    "with",
    "as",
    "json.loads",
    "cache_dir",
    "repo_id",
    "revision",
    "device",
    "cuda",
];

/// Words that contain a keyword of some rule (so its regex runs) without being a secret:
/// one word in a hundred, as in ML code.
const KEYWORD_WORDS: &[&str] = &[
    "hf_hub_download",
    "api_key",
    "\"key\"",
    "HF_TOKEN",
    "refresh_token",
    "password",
    "github_pat_url",
    "AWS_SECRET_ACCESS_KEY",
];

/// Python-like source: identifiers, calls, strings, comments, URLs; every `secret_every`-th
/// line (0: none) assigns a random Hugging Face or OpenAI token.
fn source(len: usize, seed: u64, secret_every: usize) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut out = String::with_capacity(len + 200);
    let mut line = 0;
    while out.len() < len {
        line += 1;
        if secret_every > 0 && line % secret_every == 0 {
            match rng.next() % 2 {
                0 => out.push_str(&format!("HF_TOKEN = \"hf_{}\"\n", rng.alnum(34))),
                _ => out.push_str(&format!(
                    "client = OpenAI(api_key=\"sk-proj-{}T3BlbkFJ{}\")\n",
                    rng.alnum(40),
                    rng.alnum(40)
                )),
            }
            continue;
        }
        let indent = (rng.next() % 3) as usize * 4;
        out.push_str(&" ".repeat(indent));
        match rng.next() % 6 {
            0 => out.push_str(&format!(
                "# {} {} {}",
                rng.pick(WORDS),
                rng.pick(WORDS),
                rng.pick(WORDS)
            )),
            1 => out.push_str(&format!(
                "url = \"https://huggingface.co/{}/{}\"",
                rng.pick(WORDS),
                rng.pick(WORDS)
            )),
            _ => {
                let n = 3 + rng.next() % 6;
                for i in 0..n {
                    if i > 0 {
                        out.push_str(if rng.next() % 3 == 0 { "(" } else { " " });
                    }
                    out.push_str(if rng.next() % 100 == 0 {
                        rng.pick(KEYWORD_WORDS)
                    } else {
                        rng.pick(WORDS)
                    });
                }
                out.push(')');
            }
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// A notebook whose outputs are base64 PNGs (random bytes), between short code cells.
fn notebook(len: usize, seed: u64) -> Vec<u8> {
    use base64::Engine;
    let mut rng = Rng(seed);
    let mut out = String::from("{\n \"cells\": [\n");
    while out.len() < len {
        out.push_str(
            "  {\"cell_type\": \"code\", \"source\": [\"import torch\\n\", \"model.eval()\"],\n",
        );
        let png: Vec<u8> = (0..24 * 1024).map(|_| rng.next() as u8).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
        out.push_str(&format!(
            "   \"outputs\": [{{\"data\": {{\"image/png\": \"{b64}\"}}}}]}},\n"
        ));
    }
    out.push_str(" ]\n}\n");
    out.into_bytes()
}

fn find(data: &[u8], kind: Option<FileKind>, out: &mut Vec<SecretMatch>) -> usize {
    out.clear();
    rules::builtin().find(black_box(data), kind, out);
    out.len()
}

fn bench_find(c: &mut Criterion) {
    let mut group = c.benchmark_group("find");
    let inputs: Vec<(&str, Vec<u8>, FileKind)> = vec![
        (
            "source, no secret",
            source(1 << 20, 1, 0),
            FileKind::ProjectFile,
        ),
        (
            "source, a secret per 200 lines",
            source(1 << 20, 2, 200),
            FileKind::ProjectFile,
        ),
        (
            "notebook with base64 images",
            notebook(1 << 20, 3),
            FileKind::Notebook,
        ),
        (
            "source as a git config",
            source(1 << 20, 4, 0),
            FileKind::GitConfig,
        ),
    ];
    let mut out = Vec::new();
    for (name, data, kind) in &inputs {
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_with_input(BenchmarkId::new("1 MiB", name), data, |b, data| {
            b.iter(|| find(data, Some(*kind), &mut out))
        });
    }
    // The floor: one memchr-backed substring search for a single literal, no matcher at all.
    let plain = &inputs[0].1;
    group.throughput(Throughput::Bytes(plain.len() as u64));
    group.bench_function(BenchmarkId::new("1 MiB", "floor: memmem for hf_"), |b| {
        let finder = memchr::memmem::Finder::new("hf_");
        b.iter(|| finder.find_iter(black_box(plain)).count())
    });
    group.finish();
}

fn bench_small(c: &mut Criterion) {
    // What the environment and process probes do: many short strings, one call each.
    let mut rng = Rng(5);
    let lines: Vec<Vec<u8>> = (0..1000)
        .map(|i| match i % 50 {
            0 => format!("HF_TOKEN=hf_{}", rng.alnum(34)).into_bytes(),
            _ => format!("PATH_{i}=/usr/local/{}/bin:/usr/bin", rng.pick(WORDS)).into_bytes(),
        })
        .collect();
    let bytes: usize = lines.iter().map(Vec::len).sum();
    let mut group = c.benchmark_group("find");
    group.throughput(Throughput::Bytes(bytes as u64));
    let mut out = Vec::new();
    group.bench_function("1000 variables, one call each", |b| {
        b.iter(|| lines.iter().map(|l| find(l, None, &mut out)).sum::<usize>())
    });
    group.finish();
}

fn bench_compile(c: &mut Criterion) {
    // Paid once per run, before the first file: part of every audit's start-up. (Each rule's
    // regex compiles later, the first time its keyword is met.)
    let text = include_str!("../assets/rules.toml");
    c.bench_function("load the built-in rules", |b| {
        b.iter(|| rules::RuleSet::from_toml(black_box(text)).map(|r| r.rules.len()))
    });
}

criterion_group!(benches, bench_find, bench_small, bench_compile);
criterion_main!(benches);
