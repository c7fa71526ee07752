//! Global git configuration: `credential.helper = store` keeps every credential git is
//! given in plaintext; that matters once a Hugging Face entry sits in the store.

use crate::audit::Collector;
use crate::finding::{Category, Finding, FixKind, Severity};
use crate::kind::FileKind;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The `store` helper lines of a git config text: (1-based line, helper value).
pub fn store_helpers(text: &str) -> Vec<(u64, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            section = line
                .trim_start_matches('[')
                .split([']', ' ', '"'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            continue;
        }
        if section != "credential" {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        if key.trim().eq_ignore_ascii_case("helper")
            && (value == "store" || value.starts_with("store "))
        {
            out.push((i as u64 + 1, value.to_string()));
        }
    }
    out
}

fn global_configs(c: &Collector) -> Vec<PathBuf> {
    vec![
        c.home.dir.join(".gitconfig"),
        c.home.xdg_config().join("git/config"),
    ]
}

/// Reports the `store` helper when a Hugging Face credential is in git's store.
pub fn check_store_helper(c: &Collector) {
    let hf_in_store = c.any_finding(|f| {
        f.rule
            .ends_with(&format!("-in-{}", FileKind::GitCredentials.slug()))
            && f.provider.as_deref() == Some("huggingface")
    });
    if !hf_in_store {
        return;
    }
    for path in global_configs(c) {
        report_helpers(c, &path);
    }
}

fn report_helpers(c: &Collector, path: &Path) {
    let mut buf = Vec::new();
    if !matches!(
        crate::fsread::read_regular(path, 4 << 20, &mut buf),
        Ok(crate::fsread::ReadOutcome::Read { .. })
    ) {
        return;
    }
    let text = String::from_utf8_lossy(&buf);
    for (line, _) in store_helpers(&text) {
        let rule = "git-credential-helper-store".to_string();
        let legacy = Finding::legacy_id(&rule, path.as_os_str().as_bytes(), None, 1);
        c.add_legacy(
            Finding {
                id: Finding::compute_id(&rule, path.as_os_str().as_bytes(), None, 1),
                rule,
                category: Category::Git,
                severity: Severity::Medium,
                provider: Some("huggingface".into()),
                path: Some(path.to_path_buf()),
                line: Some(line),
                variable: None,
                pid: None,
                mode: None,
                secret: None,
                fingerprint: None,
                message: "git's credential.helper is `store`, which writes your Hugging Face token unencrypted to disk: the keyring fix moves the Hugging Face credentials out of the store and sends git to the OS keyring for huggingface.co (the setting stays for other hosts).".into(),
                fixes: vec![FixKind::Keyring],
                ignored: None,
                span: None,
            },
            legacy,
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_store_helper_in_credential_section_only() {
        let text = "[user]\n\thelper = store\n[credential]\n\thelper = store --file ~/.x\n[credential \"https://huggingface.co\"]\n\thelper=store\n";
        let h = super::store_helpers(text);
        assert_eq!(h.iter().map(|x| x.0).collect::<Vec<_>>(), vec![4, 6]);
    }
}
