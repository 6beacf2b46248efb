//! `--statistics`: how many findings each rule has, most first, as ruff
//! prints them, then the summary line.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::diagnostic::{Report, RuleMeta, Severity};

pub fn render(report: &Report, noun: &str) -> String {
    let mut counts: BTreeMap<&str, (usize, &RuleMeta, Severity)> = BTreeMap::new();
    for diagnostic in report.files.iter().flat_map(|file| &file.diagnostics) {
        counts.entry(diagnostic.rule.code).or_insert((0, diagnostic.rule, diagnostic.severity)).0 += 1;
    }
    let mut rows: Vec<_> = counts.into_values().collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.code.cmp(b.1.code)));
    let width = rows.first().map_or(1, |row| row.0.to_string().len());
    let mut out = String::new();
    for (count, rule, severity) in rows {
        let _ = writeln!(out, "{count:>width$}  {:<7} {:<8} {}", rule.code, severity.as_str(), rule.name);
    }
    out.push_str(&super::human::summary(report, noun));
    out.push('\n');
    out
}
