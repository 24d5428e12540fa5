//! HTTP dates (IMF-fixdate, RFC 9110 §5.6.7) without a calendar crate.
//!
//! Formatting runs for the `Date` header of every response, so [`DateCache`]
//! keeps the 29 bytes and reformats only when the second changes.

use std::time::{SystemTime, UNIX_EPOCH};

/// Length of an IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub const HTTP_DATE_LEN: usize = 29;

/// Last second IMF-fixdate can express (9999-12-31T23:59:59Z): its year has
/// four digits, so later times are clamped to it rather than misprinted.
const MAX_SECS: u64 = 253_402_300_799;

const DAY_NAMES: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
const MONTH_NAMES: [&[u8; 3]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

/// Civil date (year, month 1-12, day 1-31) of a day count since 1970-01-01.
/// Howard Hinnant's `civil_from_days`, restricted to non-negative days.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 of a civil date; the inverse of `civil_from_days`.
/// Only called with year >= 1970, so the arithmetic stays unsigned.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn put2(out: &mut [u8], n: u64) {
    out[0] = b'0' + (n / 10) as u8;
    out[1] = b'0' + (n % 10) as u8;
}

/// IMF-fixdate of `secs` seconds after the Unix epoch (clamped to year 9999).
pub fn format_http_date(secs: u64) -> [u8; HTTP_DATE_LEN] {
    let secs = secs.min(MAX_SECS);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    // 1970-01-01 was a Thursday; DAY_NAMES starts on Sunday.
    out[0..3].copy_from_slice(DAY_NAMES[((days + 4) % 7) as usize]);
    put2(&mut out[5..7], day);
    out[8..11].copy_from_slice(MONTH_NAMES[(month - 1) as usize]);
    put2(&mut out[12..14], year / 100);
    put2(&mut out[14..16], year % 100);
    put2(&mut out[17..19], rem / 3600);
    put2(&mut out[20..22], rem / 60 % 60);
    put2(&mut out[23..25], rem % 60);
    out
}

/// IMF-fixdate of a `SystemTime`; times before the epoch print as the epoch.
pub fn http_date(t: SystemTime) -> [u8; HTTP_DATE_LEN] {
    format_http_date(unix_secs(t))
}

/// Whole seconds since the Unix epoch, 0 for earlier times.
pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The formatted `Date` value of the current second, reused by every
/// response produced within that second.
#[derive(Clone, Debug)]
pub struct DateCache {
    secs: Option<u64>,
    text: [u8; HTTP_DATE_LEN],
}

impl DateCache {
    /// An empty cache; the first [`DateCache::get`] formats.
    pub fn new() -> Self {
        DateCache { secs: None, text: [b' '; HTTP_DATE_LEN] }
    }

    /// The IMF-fixdate of `now_secs`, reformatted only when the second changed.
    pub fn get(&mut self, now_secs: u64) -> &[u8; HTTP_DATE_LEN] {
        if self.secs != Some(now_secs) {
            self.text = format_http_date(now_secs);
            self.secs = Some(now_secs);
        }
        &self.text
    }
}

impl Default for DateCache {
    fn default() -> Self {
        Self::new()
    }
}

fn digits(b: &[u8]) -> Option<u64> {
    b.iter().try_fold(0u64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u64::from(c - b'0')))
}

/// Unix seconds of an IMF-fixdate such as an `If-Modified-Since` value.
///
/// Only the IMF-fixdate form is accepted (not the obsolete RFC 850 and
/// asctime forms): every current client sends it, and a date we cannot read
/// only costs a full response instead of a 304. Dates before 1970 give `None`.
pub fn parse_http_date(b: &[u8]) -> Option<u64> {
    if b.len() != HTTP_DATE_LEN
        || &b[3..5] != b", "
        || b[7] != b' '
        || b[11] != b' '
        || b[16] != b' '
        || b[19] != b':'
        || b[22] != b':'
        || &b[25..] != b" GMT"
    {
        return None;
    }
    if !DAY_NAMES.iter().any(|d| d[..] == b[0..3]) {
        return None;
    }
    let month = MONTH_NAMES.iter().position(|m| m[..] == b[8..11])? as u64 + 1;
    let day = digits(&b[5..7])?;
    let year = digits(&b[12..16])?;
    let (hour, min, sec) = (digits(&b[17..19])?, digits(&b[20..22])?, digits(&b[23..25])?);
    // Second 60 is a leap second in the grammar; it counts as the next second.
    if year < 1970 || day == 0 || day > days_in_month(year, month) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_the_rfc_example() {
        assert_eq!(&format_http_date(784_111_777), b"Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn formats_epoch_leap_day_and_end_of_range() {
        assert_eq!(&format_http_date(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(&format_http_date(951_782_400), b"Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(&format_http_date(4_102_444_799), b"Thu, 31 Dec 2099 23:59:59 GMT");
        assert_eq!(&format_http_date(u64::MAX), b"Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn system_time_before_epoch_is_epoch() {
        let t = UNIX_EPOCH - Duration::from_secs(5);
        assert_eq!(&http_date(t), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(&http_date(UNIX_EPOCH + Duration::from_secs(784_111_777)), b"Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn parse_inverts_format_across_many_days() {
        // One sample every ~3.7 days over 400 years covers every month and
        // leap-year rule.
        let mut secs = 0u64;
        while secs < 12_700_000_000 {
            let text = format_http_date(secs);
            assert_eq!(parse_http_date(&text), Some(secs), "{}", String::from_utf8_lossy(&text));
            secs += 321_987;
        }
    }

    #[test]
    fn parse_rejects_other_forms_and_impossible_dates() {
        assert_eq!(parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        for bad in [
            &b"Sunday, 06-Nov-94 08:49:37 GMT"[..],
            b"Sun Nov  6 08:49:37 1994",
            b"Sun, 06 Nov 1994 08:49:37 UTC",
            b"Sun, 06 Nov 1994 08:49:37 GMT ",
            b"Xyz, 06 Nov 1994 08:49:37 GMT",
            b"Sun, 06 Foo 1994 08:49:37 GMT",
            b"Sun, 31 Nov 1994 08:49:37 GMT",
            b"Sun, 29 Feb 1900 08:49:37 GMT",
            b"Sun, 00 Nov 1994 08:49:37 GMT",
            b"Sun, 06 Nov 1994 24:49:37 GMT",
            b"Sun, 06 Nov 1994 08:60:37 GMT",
            b"Sun, 06 Nov 1994 08:49:61 GMT",
            b"Sun, 06 Nov 1969 08:49:37 GMT",
            b"Sun, 0x Nov 1994 08:49:37 GMT",
            b"Sun, 06 Nov +994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn cache_reformats_only_when_the_second_changes() {
        let mut c = DateCache::new();
        assert_eq!(c.get(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(c.get(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(c.get(784_111_777), b"Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(c.get(784_111_778), b"Sun, 06 Nov 1994 08:49:38 GMT");
    }
}
