//! Running processes: a secret in any process's command line is visible to every user
//! (`/proc/<pid>/cmdline` is world-readable, and `ps` shows it) — `critical`. A secret in the
//! environment of one of the user's own processes is how tokens are meant to be passed —
//! `info`, one finding per secret.

use crate::collect::Collector;
use crate::finding::{Category, Finding, Severity};
use crate::rules;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Where process information lives (Linux). Elsewhere the probe finds nothing.
const PROC: &str = "/proc";

pub fn scan(c: &Collector) {
    let rules = rules::builtin();
    let me = std::process::id();
    let uid = crate::probes::files::current_uid();
    let Ok(rd) = std::fs::read_dir(PROC) else {
        return;
    };
    let mut pids: Vec<u32> = rd
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|&p| p != me)
        .collect();
    pids.sort_unstable();
    // Environment secrets, grouped: fingerprint → (rule, variable, provider, redacted, pids, name).
    let mut env_hits: BTreeMap<String, EnvHit> = BTreeMap::new();
    let mut buf = Vec::new();
    for pid in pids {
        let dir = Path::new(PROC).join(pid.to_string());
        let name = std::fs::read_to_string(dir.join("comm"))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "?".into());
        buf.clear();
        if read_small(&dir.join("cmdline"), &mut buf) {
            let mut matches = Vec::new();
            rules.find(&buf, None, &mut matches);
            let mut seen = std::collections::HashSet::new();
            for m in matches {
                let fp = m.secret.fingerprint();
                if !seen.insert(fp.clone()) {
                    continue;
                }
                c.keep(&m.secret, m.provider.as_deref());
                let rule = &rules.rules[m.rule];
                let rule_id = format!("{}-in-process-cmdline", rule.id);
                let legacy = Finding::legacy_id(&rule_id, name.as_bytes(), Some(&m.secret), 1);
                c.add_legacy(
                    Finding {
                        id: Finding::compute_id(&rule_id, name.as_bytes(), Some(&fp), 1),
                        rule: rule_id,
                        category: Category::Process,
                        severity: Severity::Critical,
                        provider: m.provider.clone(),
                        path: None,
                        line: None,
                        variable: None,
                        pid: Some(pid),
                        mode: None,
                        secret: Some(m.secret.redacted()),
                        fingerprint: Some(fp),
                        message: format!(
                            "{} in the command line of process {pid} ({name}): every user can read it with `ps`, and it may be in logs; pass it through the environment instead and rotate it.",
                            rule.name
                        ),
                        fixes: vec![],
                        ignored: None,
                        label: None,
                        span: None,
                    },
                    legacy,
                );
            }
        }
        let owned = std::fs::metadata(&dir).is_ok_and(|m| m.uid() == uid);
        if !owned {
            continue;
        }
        buf.clear();
        if !read_small(&dir.join("environ"), &mut buf) {
            continue;
        }
        for var in buf.split(|&b| b == 0) {
            let Some(eq) = memchr::memchr(b'=', var) else {
                continue;
            };
            let Ok(vname) = std::str::from_utf8(&var[..eq]) else {
                continue;
            };
            for m in crate::probes::environment::secrets_in_assignment(vname, &var[eq + 1..]) {
                c.keep(&m.secret, m.provider.as_deref());
                let hit = env_hits
                    .entry(m.secret.fingerprint())
                    .or_insert_with(|| EnvHit {
                        rule: m.rule,
                        variable: vname.to_string(),
                        provider: m.provider.clone(),
                        redacted: m.secret.redacted(),
                        legacy_fp: m.secret.legacy_fingerprint(),
                        first: (pid, name.clone()),
                        count: 0,
                    });
                hit.count += 1;
            }
        }
    }
    for (fp, hit) in env_hits {
        let rule = &rules.rules[hit.rule];
        let rule_id = format!("{}-in-process-environment", rule.id);
        let (pid, name) = &hit.first;
        let legacy = crate::fingerprint::legacy_id(
            &rule_id,
            hit.variable.as_bytes(),
            Some(&hit.legacy_fp),
            1,
        );
        c.add_legacy(
            Finding {
                id: Finding::compute_id(&rule_id, hit.variable.as_bytes(), Some(&fp), 1),
                rule: rule_id,
                category: Category::Process,
                severity: Severity::Info,
                provider: hit.provider,
                path: None,
                line: None,
                variable: Some(hit.variable.clone()),
                pid: Some(*pid),
                mode: None,
                secret: Some(hit.redacted),
                fingerprint: Some(fp),
                message: format!(
                    "{} is in the environment ({}) of {} of your processes, e.g. {name} (pid {pid}): that is how tokens are meant to be passed; make sure it comes from the keyring, not a start-up file.",
                    rule.name, hit.variable, hit.count
                ),
                fixes: vec![],
                ignored: None,
                label: None,
                span: None,
            },
            legacy,
        );
    }
}

struct EnvHit {
    rule: usize,
    variable: String,
    provider: Option<String>,
    redacted: String,
    /// For the id earlier versions gave the finding.
    legacy_fp: String,
    first: (u32, String),
    count: usize,
}

/// Reads a /proc file (they report size 0, so read to the end, bounded).
fn read_small(path: &Path, buf: &mut Vec<u8>) -> bool {
    use std::io::Read;
    match std::fs::File::open(path) {
        Ok(f) => f.take(1 << 20).read_to_end(buf).is_ok() && !buf.is_empty(),
        Err(_) => false,
    }
}
