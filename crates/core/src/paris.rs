//! Legal time in metropolitan France (Europe/Paris), without a time-zone database: UTC+1 in
//! winter, UTC+2 from the last Sunday of March 01:00 UTC to the last Sunday of October
//! 01:00 UTC (EU rule in force since 1996). Meetings are stored in UTC and shown, typed and
//! sent in calendars with this offset. Overseas académies live in other offsets: a known
//! limit, noted in ARCHITECTURE.md.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

fn last_sunday(year: i32, month: Month) -> Option<Date> {
    let mut day = Date::from_calendar_date(year, month, month.length(year)).ok()?;
    while day.weekday() != Weekday::Sunday {
        day = day.previous_day()?;
    }
    Some(day)
}

fn summer_bounds(year: i32) -> Option<(OffsetDateTime, OffsetDateTime)> {
    let one = Time::from_hms(1, 0, 0).ok()?;
    let start = PrimitiveDateTime::new(last_sunday(year, Month::March)?, one).assume_utc();
    let end = PrimitiveDateTime::new(last_sunday(year, Month::October)?, one).assume_utc();
    Some((start, end))
}

/// The offset of Paris at the instant `at`.
pub fn offset_at(at: OffsetDateTime) -> UtcOffset {
    let utc = at.to_offset(UtcOffset::UTC);
    let summer = summer_bounds(utc.year()).is_some_and(|(start, end)| utc >= start && utc < end);
    let hours = if summer { 2 } else { 1 };
    UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// The instant `at` in Paris' legal time.
pub fn local(at: OffsetDateTime) -> OffsetDateTime {
    at.to_offset(offset_at(at))
}

/// A wall-clock time in Paris as an instant. In the autumn's repeated hour the earlier
/// instant is taken; a time in the spring's skipped hour is read with the winter offset.
pub fn from_local(wall: PrimitiveDateTime) -> OffsetDateTime {
    let winter = UtcOffset::from_hms(1, 0, 0).unwrap_or(UtcOffset::UTC);
    let summer = UtcOffset::from_hms(2, 0, 0).unwrap_or(UtcOffset::UTC);
    let as_summer = wall.assume_offset(summer);
    if offset_at(as_summer) == summer {
        as_summer
    } else {
        wall.assume_offset(winter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn winter_and_summer_offsets() {
        assert_eq!(offset_at(datetime!(2026-01-15 12:00 UTC)).whole_hours(), 1);
        assert_eq!(offset_at(datetime!(2026-07-15 12:00 UTC)).whole_hours(), 2);
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(offset_at(datetime!(2026-03-29 00:59 UTC)).whole_hours(), 1);
        assert_eq!(offset_at(datetime!(2026-03-29 01:00 UTC)).whole_hours(), 2);
        assert_eq!(offset_at(datetime!(2026-10-25 00:59 UTC)).whole_hours(), 2);
        assert_eq!(offset_at(datetime!(2026-10-25 01:00 UTC)).whole_hours(), 1);
    }

    #[test]
    fn wall_clock_round_trip() {
        let wall = datetime!(2026-12-03 14:30);
        let at = from_local(wall);
        assert_eq!(at.to_offset(UtcOffset::UTC), datetime!(2026-12-03 13:30 UTC));
        let wall = datetime!(2026-06-03 14:30);
        assert_eq!(
            from_local(wall).to_offset(UtcOffset::UTC),
            datetime!(2026-06-03 12:30 UTC)
        );
        assert_eq!(local(from_local(wall)).time(), wall.time());
    }
}
