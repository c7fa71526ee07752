//! The hygiene score: 100 only when nothing is left, and every fix raises it.
//!
//! Each open finding weighs by its severity (critical 40, high 15, medium 5, low 1, info 0),
//! twice as much when others can reach it right now (a file or folder other users can read
//! or write, a token on a command line every user can list). The score is the share of the
//! weight seen in this session that is gone, measured against that weight plus a constant,
//! so a home with one low finding scores about 95 and one with a critical about 25, while
//! fixing one finding of a dozen moves the score by a few points. The weight seen only grows
//! (a rescan does not take the progress away).

use crate::finding::{Category, Finding, Severity};

/// Keeps the score of a nearly clean home near 100, and of a bad one near 0.
const ALLOWANCE: f64 = 20.0;

/// What one open finding costs.
pub fn weight(f: &Finding) -> f64 {
    let severity = match f.severity {
        Severity::Critical => 40.0,
        Severity::High => 15.0,
        Severity::Medium => 5.0,
        Severity::Low => 1.0,
        Severity::Info => 0.0,
    };
    severity * if reachable_by_others(f) { 2.0 } else { 1.0 }
}

/// A mode that lets group or others read or write, or a process anyone can list.
fn reachable_by_others(f: &Finding) -> bool {
    match f.category {
        Category::Process => true,
        Category::Permissions => f
            .mode
            .as_deref()
            .and_then(|m| u32::from_str_radix(m, 8).ok())
            .is_some_and(|m| m & 0o066 != 0),
        _ => false,
    }
}

/// The score for `open` weight left of `seen` weight met in this session.
pub fn score(open: f64, seen: f64) -> u8 {
    if open <= 0.0 {
        return 100;
    }
    let s = 100.0 * (1.0 - open / (seen.max(open) + ALLOWANCE));
    (s.floor() as u8).min(99)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fix_moves_it_and_only_a_clean_home_scores_100() {
        assert_eq!(score(0.0, 0.0), 100);
        assert_eq!(score(0.0, 500.0), 100);
        assert!(score(0.01, 0.01) < 100);
        // A dozen high findings: each fix of one shows.
        let seen = 12.0 * 15.0;
        let mut last = score(seen, seen);
        for left in (1..12).rev() {
            let now = score(left as f64 * 15.0, seen);
            assert!(now > last, "{left} left: {now} after {last}");
            last = now;
        }
        // One low finding is a small blot; a critical one a large one.
        assert!(score(1.0, 1.0) >= 90);
        assert!(score(80.0, 80.0) <= 25);
    }
}
