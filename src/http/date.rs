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

/// Unix seconds of an HTTP-date such as an `If-Modified-Since` value, in
/// any of the three forms recipients must accept (RFC 9110 §5.6.7):
/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete RFC 850
/// form (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime's
/// (`Sun Nov  6 08:49:37 1994`). Dates before 1970 give `None`.
pub fn parse_http_date(b: &[u8]) -> Option<u64> {
    parse_http_date_at(b, unix_secs(SystemTime::now()))
}

/// [`parse_http_date`] with the current time given: an RFC 850 two-digit
/// year is read in the century that puts it at most 50 years ahead of `now`.
pub fn parse_http_date_at(b: &[u8], now: u64) -> Option<u64> {
    let fields = if b.get(3) == Some(&b',') {
        imf_fixdate(b)?
    } else if b.get(3) == Some(&b' ') {
        asctime(b)?
    } else {
        rfc850(b, civil_from_days(now / 86_400).0)?
    };
    to_secs(fields)
}

/// Year, month (1-12), day, hour, minute, second.
type Fields = (u64, u64, u64, u64, u64, u64);

/// `Sun, 06 Nov 1994 08:49:37 GMT`.
fn imf_fixdate(b: &[u8]) -> Option<Fields> {
    if b.len() != HTTP_DATE_LEN || &b[3..5] != b", " || b[7] != b' ' || b[11] != b' ' || b[16] != b' ' {
        return None;
    }
    short_day(&b[0..3])?;
    let (hour, min, sec) = time_of_day(&b[17..25])?;
    (&b[25..] == b" GMT").then_some(())?;
    Some((digits(&b[12..16])?, month(&b[8..11])?, digits(&b[5..7])?, hour, min, sec))
}

/// `Sunday, 06-Nov-94 08:49:37 GMT`.
fn rfc850(b: &[u8], this_year: u64) -> Option<Fields> {
    let comma = b.iter().position(|&c| c == b',')?;
    const LONG_DAYS: [&[u8]; 7] = [b"Sunday", b"Monday", b"Tuesday", b"Wednesday", b"Thursday", b"Friday", b"Saturday"];
    LONG_DAYS.contains(&&b[..comma]).then_some(())?;
    let r = &b[comma..];
    if r.len() != 24 || r[1] != b' ' || r[4] != b'-' || r[8] != b'-' || r[11] != b' ' || &r[20..] != b" GMT" {
        return None;
    }
    let (hour, min, sec) = time_of_day(&r[12..20])?;
    // RFC 9110 §5.6.7: a year more than 50 years ahead is in the past century.
    let mut year = this_year / 100 * 100 + digits(&r[9..11])?;
    if year > this_year + 50 {
        year -= 100;
    }
    Some((year, month(&r[5..8])?, digits(&r[2..4])?, hour, min, sec))
}

/// `Sun Nov  6 08:49:37 1994` (the day padded with a space).
fn asctime(b: &[u8]) -> Option<Fields> {
    if b.len() != 24 || b[3] != b' ' || b[7] != b' ' || b[10] != b' ' || b[19] != b' ' {
        return None;
    }
    short_day(&b[0..3])?;
    let day = match &b[8..10] {
        [b' ', d] => digits(&[*d])?,
        d => digits(d)?,
    };
    let (hour, min, sec) = time_of_day(&b[11..19])?;
    Some((digits(&b[20..24])?, month(&b[4..7])?, day, hour, min, sec))
}

fn short_day(b: &[u8]) -> Option<()> {
    DAY_NAMES.iter().any(|d| d[..] == *b).then_some(())
}

fn month(b: &[u8]) -> Option<u64> {
    MONTH_NAMES.iter().position(|m| m[..] == *b).map(|m| m as u64 + 1)
}

/// `HH:MM:SS`.
fn time_of_day(b: &[u8]) -> Option<(u64, u64, u64)> {
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    Some((digits(&b[0..2])?, digits(&b[3..5])?, digits(&b[6..8])?))
}

fn to_secs((year, month, day, hour, min, sec): Fields) -> Option<u64> {
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
    fn parse_accepts_the_three_forms_of_the_rfc_example() {
        assert_eq!(parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse_http_date(b"Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse_http_date(b"Sun Nov  6 08:49:37 1994"), Some(784_111_777));
        assert_eq!(parse_http_date(b"Thu Jan 01 00:00:00 1970"), Some(0));
    }

    #[test]
    fn rfc850_years_are_at_most_50_years_ahead() {
        let now_2026 = 1_780_000_000; // in 2026
        let year = |yy: &str| {
            let t = parse_http_date_at(format!("Friday, 01-Jan-{yy} 00:00:00 GMT").as_bytes(), now_2026).unwrap();
            civil_from_days(t / 86_400).0
        };
        assert_eq!(year("70"), 2070);
        assert_eq!(year("76"), 2076);
        assert_eq!(year("77"), 1977);
        assert_eq!(year("99"), 1999);
        assert_eq!(year("00"), 2000);
        assert_eq!(year("26"), 2026);
    }

    #[test]
    fn parse_rejects_malformed_forms_and_impossible_dates() {
        for bad in [
            &b"Sunday, 06-Nov-1994 08:49:37 GMT"[..],
            b"Sun, 06-Nov-94 08:49:37 GMT",
            b"Sunday, 06 Nov 94 08:49:37 GMT",
            b"Sunday, 06-Nov-94 08:49:37 UTC",
            b"Sunday, 31-Nov-94 08:49:37 GMT",
            b"Sun Nov 6 08:49:37 1994",
            b"Sun Nov  6 08:49:37 1994 ",
            b"Sun Nov  x 08:49:37 1994",
            b"Sun Foo  6 08:49:37 1994",
            b"Sun Nov  6 08:49 37 1994",
            b"",
            b"Sun",
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
