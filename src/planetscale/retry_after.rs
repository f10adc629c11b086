//! The `Retry-After` header (RFC 9110, section 10.2.3): a number of
//! seconds, or an HTTP date. Dates come in the preferred IMF-fixdate form
//! (`Sun, 06 Nov 1994 08:49:37 GMT`) or one of the two obsolete forms a
//! recipient must still accept (RFC 850, `Sunday, 06-Nov-94 08:49:37 GMT`,
//! and asctime, `Sun Nov  6 08:49:37 1994`).

use std::time::{Duration, SystemTime};

use time::{Date, Month, PrimitiveDateTime, Time};

/// How long to wait from `now`, or `None` when the value is neither
/// form. A date in the past means no wait.
pub fn parse(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than a u64 holds is "very long" all the same.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = http_date(value)?;
    let at = SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(
        u64::try_from(at.assume_utc().unix_timestamp()).ok()?,
    ))?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month(name: &str) -> Option<Month> {
    let index = MONTHS.iter().position(|m| *m == name)?;
    Month::try_from(u8::try_from(index + 1).ok()?).ok()
}

/// `HH:MM:SS`
fn clock(text: &str) -> Option<Time> {
    let mut parts = text.split(':').map(|p| p.parse::<u8>().ok());
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some() {
        return None;
    }
    Time::from_hms(h, m, s).ok()
}

fn at(year: i32, month: Month, day: u8, time: Time) -> Option<PrimitiveDateTime> {
    Some(PrimitiveDateTime::new(
        Date::from_calendar_date(year, month, day).ok()?,
        time,
    ))
}

fn http_date(text: &str) -> Option<PrimitiveDateTime> {
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        [weekday, day, mon, year, time, "GMT"] if weekday.ends_with(',') => at(
            year.parse().ok()?,
            month(mon)?,
            day.parse().ok()?,
            clock(time)?,
        ),
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT. A two-digit year that
        // looks more than 50 years ahead is in the past century.
        [weekday, date, time, "GMT"] if weekday.ends_with(',') => {
            let mut parts = date.split('-');
            let (day, mon, year) = (parts.next()?, parts.next()?, parts.next()?);
            let year: i32 = year.parse().ok()?;
            let year = if year < 100 {
                let this_year = time::OffsetDateTime::now_utc().year();
                let century = this_year - this_year % 100;
                if century + year > this_year + 50 {
                    century - 100 + year
                } else {
                    century + year
                }
            } else {
                year
            };
            at(year, month(mon)?, day.parse().ok()?, clock(time)?)
        }
        // asctime: Sun Nov  6 08:49:37 1994
        [_weekday, mon, day, time, year] => at(
            year.parse().ok()?,
            month(mon)?,
            day.parse().ok()?,
            clock(time)?,
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1994-11-06 08:49:37 UTC, the date RFC 9110's examples use.
    fn example() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777)
    }

    #[test]
    fn seconds() {
        let now = SystemTime::now();
        assert_eq!(parse("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        for bad in ["", "-5", "1.5", "soon", "12 s"] {
            assert_eq!(parse(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn every_date_form() {
        let before = example() - Duration::from_secs(7);
        for form in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse(form, before), Some(Duration::from_secs(7)), "{form}");
        }
    }

    #[test]
    fn a_past_date_means_now_and_nonsense_means_nothing() {
        let after = example() + Duration::from_secs(60);
        assert_eq!(
            parse("Sun, 06 Nov 1994 08:49:37 GMT", after),
            Some(Duration::ZERO)
        );
        for bad in [
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "06 Nov 1994",
        ] {
            assert_eq!(parse(bad, after), None, "{bad:?}");
        }
    }
}
