//! Unified diffs of patched deployments, for the run's summary.

/// A unified diff between two texts with the same number of lines (a patch
/// only replaces scalars, so lines never move), with three lines of context.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let changed: Vec<usize> =
        (0..old_lines.len().max(new_lines.len())).filter(|&i| old_lines.get(i) != new_lines.get(i)).collect();
    if changed.is_empty() {
        return String::new();
    }
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    let context = 3;
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for &line in &changed {
        let start = line.saturating_sub(context);
        let end = (line + context + 1).min(old_lines.len());
        match hunks.last_mut() {
            Some((_, last_end)) if start <= *last_end => *last_end = end,
            _ => hunks.push((start, end)),
        }
    }
    for (start, end) in hunks {
        out.push_str(&format!("@@ -{},{} +{},{} @@\n", start + 1, end - start, start + 1, end - start));
        for i in start..end {
            let (before, after) = (old_lines.get(i).copied().unwrap_or(""), new_lines.get(i).copied().unwrap_or(""));
            if before == after {
                push_line(&mut out, ' ', before);
            } else {
                push_line(&mut out, '-', before);
                push_line(&mut out, '+', after);
            }
        }
    }
    out
}

fn push_line(out: &mut String, sign: char, line: &str) {
    out.push(sign);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_of_one_changed_line() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\n";
        assert_eq!(
            unified_diff("x.yaml", old, new),
            "--- a/x.yaml\n+++ b/x.yaml\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n"
        );
        assert_eq!(unified_diff("x.yaml", old, old), "");
    }
}
