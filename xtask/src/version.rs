//! Versions, and version constraints as Packer reads them
//! (hashicorp/go-version): `>= 1.7.0`, `~> 1.2`, several separated by commas.

/// A release: `1.11.2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// `v1.2.3` or `1.2.3`; `None` for anything else (pre-releases included).
    pub fn parse(text: &str) -> Option<Version> {
        let mut parts = text.strip_prefix('v').unwrap_or(text).split('.');
        let mut next = || parts.next()?.parse().ok();
        let version = Version(next()?, next()?, next()?);
        parts.next().is_none().then_some(version)
    }

    /// A version as `packer version` prints it or a lock records it
    /// (`1.16.0`, `1.10.0-dev`): a pre-release stands for its release.
    pub fn of_packer(text: &str) -> Option<Version> {
        Version::parse(text.trim().split(['-', '+']).next()?)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// Checks a constraint as hashicorp/go-version reads it.
pub fn parse_constraints(text: &str) -> Result<(), String> {
    constraints(text).map(drop)
}

/// Does `version` (`1.6.6`, `1.10.0-dev`) meet every constraint of `text`,
/// as Packer's go-version decides? `None` when the constraint or the
/// version does not parse (the lint reports the constraint).
pub fn allows(text: &str, version: &str) -> Option<bool> {
    let constraints = constraints(text).ok()?;
    let version = GoVersion::parse(version.trim()).ok()?;
    Some(constraints.iter().all(|(operator, wanted)| operator.check(&version, wanted)))
}

/// Does some release (`X.Y.Z`), newer than `above` when given, meet every
/// constraint of `text`? `false` for a constraint that does not parse.
/// The releases that meet a list of constraints, when there are any,
/// include one at or just after a version the list names (or 0.0.0, or one
/// beyond every bound), so those are the ones tried.
pub fn some_release_meets(text: &str, above: Option<Version>) -> bool {
    let Ok(constraints) = constraints(text) else { return false };
    let mut bounds: Vec<Version> = constraints
        .iter()
        .map(|(_, named)| {
            let at = |index: usize| named.segments[index].clamp(0, i64::from(u32::MAX - 1)) as u32;
            Version(at(0), at(1), at(2))
        })
        .collect();
    bounds.extend(above);
    bounds.push(Version(0, 0, 0));
    let mut tried = vec![Version(u32::MAX, 0, 0)];
    for Version(major, minor, patch) in bounds {
        // Each `!=` may exclude one more of the releases after a bound.
        tried.extend((0..=constraints.len() as u32 + 1).map(|step| Version(major, minor, patch.saturating_add(step))));
        tried.extend([Version(major, minor + 1, 0), Version(major + 1, 0, 0)]);
    }
    tried.iter().filter(|release| above.is_none_or(|above| **release > above)).any(|release| {
        let release = GoVersion {
            segments: vec![release.0.into(), release.1.into(), release.2.into()],
            given: 3,
            pre: String::new(),
        };
        constraints.iter().all(|(operator, wanted)| operator.check(&release, wanted))
    })
}

/// The operators go-version knows; none is `=`.
#[derive(Clone, Copy)]
enum Operator {
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
    Pessimistic,
}

impl Operator {
    fn parse(text: &str) -> Option<Operator> {
        Some(match text {
            "" | "=" => Operator::Equal,
            "!=" => Operator::NotEqual,
            ">" => Operator::Greater,
            ">=" => Operator::GreaterOrEqual,
            "<" => Operator::Less,
            "<=" => Operator::LessOrEqual,
            "~>" => Operator::Pessimistic,
            _ => return None,
        })
    }

    fn check(self, have: &GoVersion, want: &GoVersion) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        let order = have.compare(want);
        match self {
            Operator::Equal => order == Equal,
            Operator::NotEqual => order != Equal,
            Operator::Greater => prerelease_fits(have, want) && order == Greater,
            Operator::GreaterOrEqual => prerelease_fits(have, want) && order != Less,
            Operator::Less => prerelease_fits(have, want) && order == Less,
            Operator::LessOrEqual => prerelease_fits(have, want) && order != Greater,
            Operator::Pessimistic => {
                // `~> 1.2` is `>= 1.2, < 2`, `~> 1.2.3` is `>= 1.2.3, < 1.3`;
                // a pre-release constraint only meets pre-releases.
                prerelease_fits(have, want)
                    && (want.pre.is_empty() || !have.pre.is_empty())
                    && order != Less
                    && want.segments.len() <= have.segments.len()
                    && want.segments[..want.given - 1] == have.segments[..want.given - 1]
                    && want.segments[want.segments.len() - 1] <= have.segments[want.segments.len() - 1]
            }
        }
    }
}

/// go-version's rule for the ordering operators: a pre-release meets only
/// a constraint on a pre-release of the same release.
fn prerelease_fits(have: &GoVersion, want: &GoVersion) -> bool {
    match (have.pre.is_empty(), want.pre.is_empty()) {
        (false, false) => have.segments == want.segments,
        (false, true) => false,
        _ => true,
    }
}

/// Each constraint of a comma-separated list, or what is wrong with one.
fn constraints(text: &str) -> Result<Vec<(Operator, GoVersion)>, String> {
    // go-version's `\s`: space, tab, newline, form feed, carriage return.
    let space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r');
    text.split(',')
        .map(|part| {
            let part = part.trim_matches(space);
            let operator: String = part.chars().take_while(|c| "<>=!~".contains(*c)).collect();
            let Some(parsed) = Operator::parse(&operator) else {
                return Err(format!("`{operator}` is not an operator (use =, !=, >, >=, <, <= or ~>)"));
            };
            let version = part[operator.len()..].trim_start_matches(space);
            if version.is_empty() {
                return Err(format!("`{part}` has no version"));
            }
            Ok((parsed, GoVersion::parse(version)?))
        })
        .collect()
}

/// A version as go-version reads it: any number of numeric segments
/// (padded to three), an optional pre-release (`-rc1`, also `rc1`) and
/// build metadata (`+abc`, which no comparison reads).
struct GoVersion {
    segments: Vec<i64>,
    /// How many segments the text gave (`~>` reads it).
    given: usize,
    pre: String,
}

impl GoVersion {
    fn parse(text: &str) -> Result<GoVersion, String> {
        let not_a_version = || format!("`{text}` is not a version");
        let body = text.strip_prefix('v').unwrap_or(text);
        let numbers_end = body.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(body.len());
        let (numbers, rest) = body.split_at(numbers_end);
        // A trailing dot belongs to no segment (`1.2.beta` is not a version).
        if numbers.is_empty() || numbers.split('.').any(str::is_empty) {
            return Err(not_a_version());
        }
        let mut segments = Vec::new();
        for number in numbers.split('.') {
            segments.push(number.parse::<i64>().map_err(|_| format!("`{number}` in `{text}` is too large"))?);
        }
        let given = segments.len();
        segments.resize(given.max(3), 0);
        let (pre, metadata) = rest.split_once('+').unwrap_or((rest, ""));
        let identifiers = |text: &str| {
            text.split('.').all(|part| {
                !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '~'))
            })
        };
        let pre_ok = pre.is_empty()
            || (pre.starts_with('-') && identifiers(pre))
            || (pre.starts_with(|c: char| c.is_ascii_alphabetic() || c == '~') && identifiers(pre));
        if !pre_ok || (rest.contains('+') && !identifiers(metadata)) {
            return Err(not_a_version());
        }
        let pre = match pre.strip_prefix('-') {
            Some(stripped) if !stripped.is_empty() && identifiers(stripped) => stripped,
            _ => pre,
        };
        Ok(GoVersion { segments, given, pre: pre.to_owned() })
    }

    /// go-version's order: segments (a shorter list padded with zeros), then
    /// a release above its pre-releases, pre-releases part by part.
    fn compare(&self, other: &GoVersion) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        let longest = self.segments.len().max(other.segments.len());
        let at = |segments: &[i64], index: usize| segments.get(index).copied().unwrap_or(0);
        let by_segments =
            (0..longest).map(|index| at(&self.segments, index).cmp(&at(&other.segments, index))).find(|o| o.is_ne());
        if let Some(order) = by_segments {
            return order;
        }
        // go-version compares pre-releases only of equally long segment lists.
        if self.segments.len() != other.segments.len() {
            return Ordering::Equal;
        }
        match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => compare_prereleases(&self.pre, &other.pre),
        }
    }
}

/// Pre-releases dot-part by dot-part: numbers below words, numbers by
/// value, words by bytes, a missing part below a word and above a number.
fn compare_prereleases(left: &str, right: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let left_parts: Vec<&str> = left.split('.').collect();
    let right_parts: Vec<&str> = right.split('.').collect();
    for index in 0..left_parts.len().max(right_parts.len()) {
        let mine = left_parts.get(index).copied().unwrap_or("");
        let theirs = right_parts.get(index).copied().unwrap_or("");
        if mine == theirs {
            continue;
        }
        let (my_number, their_number) = (mine.parse::<i64>().ok(), theirs.parse::<i64>().ok());
        return if mine.is_empty() {
            if their_number.is_some() { Ordering::Less } else { Ordering::Greater }
        } else if theirs.is_empty() {
            if my_number.is_some() { Ordering::Greater } else { Ordering::Less }
        } else {
            match (my_number, their_number) {
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) if mine > theirs => Ordering::Greater,
                (Some(mine), Some(theirs)) if mine > theirs => Ordering::Greater,
                _ => Ordering::Less,
            }
        };
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::{GoVersion, Version, allows, constraints, some_release_meets};

    /// go-version's own test tables, the oracle for how Packer reads a
    /// constraint: each case decided as go-version decides it.
    #[test]
    fn go_version_cases() {
        let cases = include_str!("../../tests/fixtures/go-version/cases.txt");
        let mut checked = 0;
        for line in cases.lines().filter(|line| !line.starts_with('#') && !line.is_empty()) {
            let (kind, rest) = line.split_once(' ').expect("a kind, then the case");
            let fields: Vec<String> = rest.split(" | ").map(|field| field.replace("\\n", "\n")).collect();
            match (kind, fields.as_slice()) {
                ("version", [text, expected]) => {
                    assert_eq!(GoVersion::parse(text).is_ok(), expected == "ok", "version {text:?}")
                }
                ("constraint", [text, expected]) => {
                    assert_eq!(constraints(text).is_ok(), expected == "ok", "constraint {text:?}")
                }
                ("check", [constraint, version, expected]) => {
                    assert_eq!(allows(constraint, version), Some(expected == "true"), "{constraint} on {version}")
                }
                ("compare", [left, right, expected]) => {
                    let (left_version, right_version) =
                        (GoVersion::parse(left).unwrap(), GoVersion::parse(right).unwrap());
                    let order = left_version.compare(&right_version) as i8;
                    assert_eq!(order.to_string(), *expected, "{left} <=> {right}")
                }
                _ => panic!("unreadable case: {line}"),
            }
            checked += 1;
        }
        assert!(checked > 90, "only {checked} cases read");
    }

    /// The shapes a template writes, with what go-version decides (read
    /// from its constraint.go): a pre-release constraint meets releases only
    /// through the ordering operators, `~>` with one segment has no upper
    /// bound, a `v` and spaces are fine, an impossible range meets nothing.
    #[test]
    fn template_shapes() {
        for (constraint, version, expected) in [
            (">= 1.9, < 2", "1.16.0", true),
            (">=1.9,<2", "2.0.0", false),
            ("~> 1", "1.16.0", true),
            ("~> 1", "2.1.0", true),
            ("~> 1.2", "1.8.2", true),
            ("~> 1.2.0", "1.3.0", false),
            ("= 1.2.3", "1.2.3", true),
            ("!= 1.2.3", "1.2.3", false),
            ("  >=  v1.10  ", "1.10.0", true),
            ("= 1.10.0-dev", "1.10.0", false),
            ("!= 1.10.0-dev", "1.10.0", true),
            ("~> 1.10.0-dev", "1.10.0", false),
            ("> 1.10.0-dev", "1.10.0", true),
            (">= 1.10.0-dev", "1.10.0", true),
            ("< 1.10.0-dev", "1.10.0", false),
            (">= 2, < 1", "1.16.0", false),
            (">= 1.2.3.4", "1.2.4", true),
            ("~> 1.7rc2", "1.7.0", false),
        ] {
            assert_eq!(allows(constraint, version), Some(expected), "{constraint} on {version}");
        }
        for (constraint, above, expected) in [
            (">= 2, < 1", None, false),
            ("> 1.2, < 1.2.1", None, false),
            ("= 1.2.3-dev", None, false),
            ("~> 1.2.0-dev", None, false),
            (">= 1.0, != 1.0.0, != 1.0.1", None, true),
            (">= 1.17", Some(Version(1, 16, 0)), true),
            ("~> 1.16.0", Some(Version(1, 16, 0)), true),
            ("= 1.9.7", Some(Version(1, 16, 0)), false),
            ("~> 1.9", Some(Version(1, 16, 0)), true),
            ("~> 1.9.0", Some(Version(1, 16, 0)), false),
            ("> 1.16.0, != 1.16.1, != 1.16.2", Some(Version(1, 16, 0)), true),
            ("< 1.6", None, true),
            (">= 1.2.3-dev, < 1.2.3", None, false),
        ] {
            assert_eq!(some_release_meets(constraint, above), expected, "{constraint} above {above:?}");
        }
        for malformed in ["", ",", "=> 1", ">= 1.x", "latest", "1.2,", ">= 1.2 <2", "1.2.3+", "\u{a0}1.2"] {
            assert_eq!(allows(malformed, "1.2.0"), None, "{malformed:?}");
        }
    }

    #[test]
    fn constraints_against_a_version() {
        for (constraint, version, expected) in [
            (">= 1.7.0", "1.6.6", false),
            (">= 1.6.0", "1.6.6", true),
            ("~> 1.6", "1.6.6", true),
            ("~> 1.6", "2.0.0", false),
            ("~> 1.6.0", "1.6.6", true),
            ("~> 1.5.0", "1.6.6", false),
            (">= 1.2, < 1.7", "1.6.6", true),
            ("!= 1.6.6", "1.6.6", false),
            ("1.6.6", "1.6.6", true),
            ("> 1.6", "1.6.6", true),
        ] {
            assert_eq!(allows(constraint, version), Some(expected), "{constraint} on {version}");
        }
        assert_eq!(allows("=> 1", "1.6.6"), None);
    }
}
