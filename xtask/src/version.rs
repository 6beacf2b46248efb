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
    for part in text.split(',') {
        let part = part.trim();
        let operator: String = part.chars().take_while(|c| "<>=!~".contains(*c)).collect();
        if !["", "=", "!=", ">", ">=", "<", "<=", "~>"].contains(&operator.as_str()) {
            return Err(format!("`{operator}` is not an operator (use =, !=, >, >=, <, <= or ~>)"));
        }
        let version = part[operator.len()..].trim();
        if version.is_empty() {
            return Err(format!("`{part}` has no version"));
        }
        if !is_version(version) {
            return Err(format!("`{version}` is not a version"));
        }
    }
    Ok(())
}

/// `1`, `1.2`, `v1.2.3`, `1.2.3-beta.1+build`.
fn is_version(text: &str) -> bool {
    let text = text.strip_prefix('v').unwrap_or(text);
    let core = text.split(['-', '+']).next().unwrap_or_default();
    let suffix_ok = text[core.len()..].chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'));
    !core.is_empty()
        && core.split('.').count() <= 3
        && core.split('.').all(|number| !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
        && suffix_ok
        && !text.ends_with(['-', '+'])
}

/// Does `version` (`1.6.6`) meet every constraint of `text`? `None` when
/// the constraint does not parse (the lint reports it).
pub fn allows(text: &str, version: &str) -> Option<bool> {
    parse_constraints(text).ok()?;
    let have = numbers(version)?;
    for part in text.split(',') {
        let part = part.trim();
        let operator: String = part.chars().take_while(|c| "<>=!~".contains(*c)).collect();
        let wanted = part[operator.len()..].trim();
        let want = numbers(wanted)?;
        let given = wanted.trim_start_matches('v').split(['-', '+']).next()?.split('.').count();
        let ok = match operator.as_str() {
            "" | "=" => have == want,
            "!=" => have != want,
            ">" => have > want,
            ">=" => have >= want,
            "<" => have < want,
            "<=" => have <= want,
            // `~> 1.2` is >= 1.2, < 2.0; `~> 1.2.3` is >= 1.2.3, < 1.3.0.
            _ => {
                let mut upper = want;
                let bump = given.saturating_sub(2).min(2);
                upper[bump] += 1;
                for later in &mut upper[bump + 1..] {
                    *later = 0;
                }
                have >= want && (given == 1 || have < upper)
            }
        };
        if !ok {
            return Some(false);
        }
    }
    Some(true)
}

/// `[1, 6, 6]` of `1.6.6`, `v1.6`, `1.6.6-dev`; missing parts are 0.
fn numbers(version: &str) -> Option<[u64; 3]> {
    let core = version.trim().trim_start_matches('v').split(['-', '+']).next()?;
    let mut out = [0; 3];
    for (slot, part) in out.iter_mut().zip(core.split('.')) {
        *slot = part.parse().ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::allows;

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
