//! Which backups to keep: the newest of each of the last 7 days that have a backup, and the
//! newest of each of the last 4 ISO weeks that have one (UTC), plus always the newest overall.
//! "Days that have a backup", not calendar days before now: a computer that was off for a month
//! keeps its older backups instead of losing them all at the next run.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use std::collections::HashSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub daily: usize,
    pub weekly: usize,
}

pub const DEFAULT: Policy = Policy {
    daily: 7,
    weekly: 4,
};

/// The ids among `backups` (id, creation time) that the policy does not keep. Pure: the same
/// input always gives the same answer. Ties in time are broken by id (ids sort by time).
pub fn to_delete(backups: &[(String, DateTime<Utc>)], policy: Policy) -> Vec<String> {
    let mut sorted: Vec<&(String, DateTime<Utc>)> = backups.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    let mut keep: HashSet<&str> = HashSet::new();
    if let Some(newest) = sorted.first() {
        keep.insert(&newest.0);
    }
    keep_newest_per_bucket(&sorted, policy.daily, |t| t.date_naive(), &mut keep);
    keep_newest_per_bucket(&sorted, policy.weekly, week_start, &mut keep);
    sorted
        .iter()
        .filter(|(id, _)| !keep.contains(id.as_str()))
        .map(|(id, _)| id.clone())
        .collect()
}

fn week_start(t: DateTime<Utc>) -> NaiveDate {
    let week = t.iso_week();
    NaiveDate::from_isoywd_opt(week.year(), week.week(), chrono::Weekday::Mon)
        .unwrap_or_else(|| t.date_naive())
}

fn keep_newest_per_bucket<'a, B: PartialEq>(
    newest_first: &[&'a (String, DateTime<Utc>)],
    buckets: usize,
    bucket: impl Fn(DateTime<Utc>) -> B,
    keep: &mut HashSet<&'a str>,
) {
    let mut last: Option<B> = None;
    let mut kept = 0;
    for (id, time) in newest_first {
        if kept == buckets {
            break;
        }
        let b = bucket(*time);
        if last.as_ref() != Some(&b) {
            keep.insert(id);
            kept += 1;
            last = Some(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn backups(times: &[&str]) -> Vec<(String, DateTime<Utc>)> {
        times.iter().map(|t| (t.to_string(), at(t))).collect()
    }

    #[test]
    fn nothing_and_one_are_kept() {
        assert!(to_delete(&[], DEFAULT).is_empty());
        assert!(to_delete(&backups(&["2025-03-01T10:00:00Z"]), DEFAULT).is_empty());
    }

    #[test]
    fn keeps_the_newest_of_each_day() {
        let list = backups(&[
            "2025-03-05T08:00:00Z",
            "2025-03-05T18:00:00Z",
            "2025-03-05T12:00:00Z",
            "2025-03-04T23:59:59Z",
            "2025-03-04T00:00:00Z",
        ]);
        let mut gone = to_delete(&list, DEFAULT);
        gone.sort();
        assert_eq!(
            gone,
            vec![
                "2025-03-04T00:00:00Z".to_string(),
                "2025-03-05T08:00:00Z".to_string(),
                "2025-03-05T12:00:00Z".to_string(),
            ]
        );
    }

    #[test]
    fn a_month_of_daily_backups_keeps_seven_days_and_four_weeks() {
        // One backup a day at noon, 1–31 March 2025 (1 March is a Saturday).
        let times: Vec<String> = (1..=31)
            .map(|d| format!("2025-03-{d:02}T12:00:00Z"))
            .collect();
        let list: Vec<_> = times.iter().map(|t| (t.clone(), at(t))).collect();
        let gone: HashSet<String> = to_delete(&list, DEFAULT).into_iter().collect();
        let mut kept: Vec<&String> = times.iter().filter(|t| !gone.contains(*t)).collect();
        kept.sort();
        // Daily: 25–31 March. Weekly (ISO weeks start on Monday): the newest of the weeks of
        // 31 Mar (already kept), 24 Mar (the 30th, kept), 17 Mar (the 23rd), 10 Mar (the 16th).
        let expect: Vec<String> = [16, 23, 25, 26, 27, 28, 29, 30, 31]
            .iter()
            .map(|d| format!("2025-03-{d:02}T12:00:00Z"))
            .collect();
        assert_eq!(kept, expect.iter().collect::<Vec<_>>());
    }

    #[test]
    fn old_backups_survive_a_long_pause() {
        // Nothing for two months, then one new backup: the old days still count.
        let list = backups(&[
            "2025-01-01T12:00:00Z",
            "2025-01-02T12:00:00Z",
            "2025-03-10T12:00:00Z",
        ]);
        assert!(to_delete(&list, DEFAULT).is_empty());
    }

    #[test]
    fn never_deletes_the_newest() {
        let list = backups(&["2025-03-01T12:00:00Z", "2025-03-01T13:00:00Z"]);
        let policy = Policy {
            daily: 0,
            weekly: 0,
        };
        assert_eq!(to_delete(&list, policy), vec!["2025-03-01T12:00:00Z"]);
    }
}
