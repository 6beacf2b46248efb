//! The one clock: now, by this machine, as seconds and in the lock's time
//! format (`2026-11-27T14:03:11Z`), that format read back, and durations
//! as `xtask.toml` writes them and as people read them. The lifecycle
//! measures with it when an image entered a channel, how long it has
//! soaked, how old it is.
//!
//! Soak is measured by clocks, which the rest of the lock avoids (results
//! are ordered by what they replace): the time an image entered a channel
//! is the clock of the machine whose write put it there (`images`, or
//! `promote` and `rollback`), and the time it is compared with is the clock
//! of the machine that promotes. Both are trusted to be right within
//! [`TOLERANCE`]; what can be checked is: an entry dated ahead of this
//! machine's clock by more than that is refused (a clock running ahead
//! wrote it, or this one runs behind), and so is an entry dated before the
//! image was built.

use std::time::{SystemTime, UNIX_EPOCH};

/// How far ahead of this machine's clock a recorded time may be before it
/// is refused as written by a wrong clock: the skew of two machines that
/// keep time with NTP, with room to spare.
pub const TOLERANCE: u64 = 5 * 60;

/// Seconds since the Unix epoch, by this machine's clock.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

/// Now, as `2026-11-27T14:03:11Z`.
pub fn utc_now() -> String {
    utc_timestamp(now())
}

pub fn utc_timestamp(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// Reads the lock's time format, `2026-11-27T14:03:11Z`, as seconds since
/// the Unix epoch.
pub fn parse_timestamp(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let shape = bytes.len() == 20
        && bytes.iter().enumerate().all(|(at, b)| match at {
            4 | 7 => *b == b'-',
            10 => *b == b'T',
            13 | 16 => *b == b':',
            19 => *b == b'Z',
            _ => b.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<i64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    // Days since 1970-01-01 from the civil date (Howard Hinnant's algorithm).
    let year_from_march = if month <= 2 { year - 1 } else { year };
    let era = year_from_march.div_euclid(400);
    let year_of_era = year_from_march - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    u64::try_from(days * 86_400 + hour * 3600 + minute * 60 + second).ok()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Reads a duration as `xtask.toml` and the command line write it: one or
/// more of a number and a unit, `d`, `h`, `m` or `s` (`48h`, `2d`,
/// `1d12h`, `90m`, `0s`), in seconds.
pub fn parse_duration(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            'd' => 86_400,
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let number: u64 = digits.parse().ok()?;
        total = total.checked_add(number.checked_mul(unit)?)?;
        digits.clear();
    }
    digits.is_empty().then_some(total)
}

/// A duration for people: `2d 3h`, `5h 12m`, `3m 4s`, `12s`.
pub fn describe(seconds: u64) -> String {
    let (days, hours, minutes, rest) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{rest}s"),
        (0, 0, _) => format!("{minutes}m {rest}s"),
        (0, _, _) => format!("{hours}h {minutes}m"),
        _ => format!("{days}d {hours}h"),
    }
}

/// A recorded time checked against this machine's clock: its seconds, or
/// why it cannot be used (not a time, or ahead of `now`).
pub fn recorded(text: &str, now: u64) -> Result<u64, String> {
    let Some(at) = parse_timestamp(text) else {
        return Err(format!("`{}` is not a time like 2026-11-27T14:03:11Z", crate::printable::escape(text)));
    };
    if at > now + TOLERANCE {
        return Err(format!(
            "{text} is {} ahead of this machine's clock ({}): the clock that wrote it ran ahead, or this one runs \
             behind; check both, and correct the time in packer/images.lock if it is wrong",
            describe(at - now),
            utc_timestamp(now)
        ));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_timestamp(1_795_787_993), "2026-11-27T13:59:53Z");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_timestamp(253_402_300_799), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn timestamps_read_back_what_the_lock_writes() {
        for seconds in [0, 951_782_400, 1_795_787_993, 253_402_300_799, 4_107_542_399] {
            assert_eq!(parse_timestamp(&utc_timestamp(seconds)), Some(seconds));
        }
        for text in ["2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-27 14:03:11Z", "2026-11-27T24:00:00Z", ""]
        {
            assert_eq!(parse_timestamp(text), None, "{text}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("48h"), Some(172_800));
        assert_eq!(parse_duration("1d12h"), Some(129_600));
        assert_eq!(parse_duration("90m"), Some(5400));
        assert_eq!(parse_duration("0s"), Some(0));
        for text in ["", "48", "h", "2 days", "1.5h", "-1h", "99999999999999999999d"] {
            assert_eq!(parse_duration(text), None, "{text}");
        }
        assert_eq!(describe(172_799), "1d 23h");
        assert_eq!(describe(3 * 3600 + 60), "3h 1m");
        assert_eq!(describe(61), "1m 1s");
        assert_eq!(describe(5), "5s");
    }

    #[test]
    fn a_time_ahead_of_the_clock_is_refused() {
        let now = 1_795_787_993;
        assert_eq!(recorded(&utc_timestamp(now + TOLERANCE), now), Ok(now + TOLERANCE));
        let ahead = recorded(&utc_timestamp(now + 86_400), now).unwrap_err();
        assert!(ahead.contains("is 1d 0h ahead of this machine's clock"), "{ahead}");
        assert!(recorded("yesterday", now).unwrap_err().contains("is not a time"));
    }
}
