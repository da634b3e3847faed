"""ScheduleRecurrence: the slots it gives (minutes to months, set hours, minutes and week
days, time zones across DST) and the recurrences it refuses."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from runyard import ConfigError
from runyard.pipeline import ScheduleRecurrence

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(slots: list[datetime], zone=UTC, fmt: str = "%Y-%m-%d %H:%M") -> list[str]:
    return [s.astimezone(zone).strftime(fmt) for s in slots]


def test_minutes_step_from_the_start_and_the_range_is_half_open():
    r = ScheduleRecurrence("Minute", 15, start_time="2030-01-01T00:05:00")
    slots = r.slots_between(utc("2030-01-01T00:05:00"), utc("2030-01-01T01:05:00"))
    assert local(slots, fmt="%H:%M") == ["00:05", "00:20", "00:35", "00:50"]
    assert all(s.tzinfo == UTC for s in slots)
    assert r.slots_between(utc("2029-12-31T00:00:00"), utc("2030-01-01T00:05:00")) == []  # nothing before the start


def test_hours_step_in_elapsed_time_across_the_fall_back_night():
    r = ScheduleRecurrence("Hour", 1, start_time="2030-10-27T00:00:00", time_zone="Europe/Berlin")
    slots = r.slots_between(utc("2030-10-26T22:00:00"), utc("2030-10-27T03:00:00"))
    # 02:00 is shown twice that night, and each is a slot: hours are elapsed time
    assert local(slots, BERLIN, "%H:%M%z") == ["00:00+0200", "01:00+0200", "02:00+0200", "02:00+0100",
                                                "03:00+0100"]
    assert [(b - a).total_seconds() for a, b in zip(slots, slots[1:])] == [3600.0] * 4


def test_without_start_time_the_first_slot_is_the_creation_second():
    r = ScheduleRecurrence("Hour", 6)
    created = utc("2030-05-01T10:20:30.750000").timestamp()
    slots = r.slots_between(created - 60, created + 13 * 3600, created_at=created)
    assert local(slots, fmt="%H:%M:%S") == ["10:20:30", "16:20:30", "22:20:30"]
    with pytest.raises(ConfigError, match="created_at"):
        r.slots_between(created, created + 60)


def test_days_at_set_hours_and_minutes():
    r = ScheduleRecurrence("Day", 2, start_time="2030-01-01T12:00:00", hours=[18, 6], minutes=[30, 0])
    slots = r.slots_between(utc("2030-01-01T00:00:00"), utc("2030-01-06T00:00:00"))
    # the start day's times before noon are before the start; then every other day
    assert local(slots) == ["2030-01-01 18:00", "2030-01-01 18:30", "2030-01-03 06:00", "2030-01-03 06:30",
                            "2030-01-03 18:00", "2030-01-03 18:30", "2030-01-05 06:00", "2030-01-05 06:30",
                            "2030-01-05 18:00", "2030-01-05 18:30"]


def test_hours_alone_are_on_the_hour_and_minutes_alone_every_hour():
    on_the_hour = ScheduleRecurrence("Day", 1, start_time="2030-01-01T00:00:00", hours=[9, 17])
    assert local(on_the_hour.slots_between(utc("2030-01-01T00:00:00"), utc("2030-01-02T00:00:00")),
                 fmt="%H:%M") == ["09:00", "17:00"]
    every_hour = ScheduleRecurrence("Day", 1, start_time="2030-01-01T00:00:00", minutes=[45])
    assert len(every_hour.slots_between(utc("2030-01-01T00:00:00"), utc("2030-01-02T00:00:00"))) == 24


def test_day_without_set_times_keeps_the_start_time_of_day():
    r = ScheduleRecurrence("Day", 1, start_time=datetime(2030, 1, 1, 7, 45, 10))
    assert local(r.slots_between(utc("2030-01-01T00:00:00"), utc("2030-01-04T00:00:00")), fmt="%d %H:%M:%S") == \
        ["01 07:45:10", "02 07:45:10", "03 07:45:10"]


def test_weeks_on_set_days_every_other_week():
    # 2030-01-01 is a Tuesday; weeks start on Monday, so Monday the 31st is before the start
    r = ScheduleRecurrence("Week", 2, start_time="2030-01-01T00:00:00", week_days=["Friday", "monday"],
                           time_of_day="09:15")
    assert r.week_days == ["Monday", "Friday"]
    slots = r.slots_between(utc("2029-12-30T00:00:00"), utc("2030-01-29T00:00:00"))
    assert local(slots, fmt="%a %d %H:%M") == ["Fri 04 09:15", "Mon 14 09:15", "Fri 18 09:15", "Mon 28 09:15"]


def test_week_without_week_days_is_the_start_weekday():
    r = ScheduleRecurrence("Week", 1, start_time="2030-01-02T08:00:00")  # a Wednesday
    assert local(r.slots_between(utc("2030-01-01T00:00:00"), utc("2030-01-20T00:00:00")), fmt="%a %d") == \
        ["Wed 02", "Wed 09", "Wed 16"]


def test_months_fall_back_to_the_last_day_of_shorter_months():
    r = ScheduleRecurrence("Month", 1, start_time="2030-01-31T12:00:00")
    assert local(r.slots_between(utc("2030-01-01T00:00:00"), utc("2030-06-01T00:00:00")), fmt="%m-%d") == \
        ["01-31", "02-28", "03-31", "04-30", "05-31"]
    quarterly = ScheduleRecurrence("Month", 3, start_time="2030-02-15T00:00:00")
    assert local(quarterly.slots_between(utc("2030-01-01T00:00:00"), utc("2031-01-01T00:00:00")), fmt="%m-%d") == \
        ["02-15", "05-15", "08-15", "11-15"]


def test_daily_wall_clock_time_across_both_dst_changes():
    spring = ScheduleRecurrence("Day", 1, start_time="2030-03-30T09:00:00", time_zone="Europe/Berlin")
    slots = spring.slots_between(utc("2030-03-30T00:00:00"), utc("2030-04-02T00:00:00"))
    assert local(slots, BERLIN, "%d %H:%M") == ["30 09:00", "31 09:00", "01 09:00"]
    assert local(slots, UTC, "%d %H:%M") == ["30 08:00", "31 07:00", "01 07:00"]  # 23 h between the first two
    autumn = ScheduleRecurrence("Day", 1, start_time="2030-10-26T09:00:00", time_zone="Europe/Berlin")
    slots = autumn.slots_between(utc("2030-10-26T00:00:00"), utc("2030-10-29T00:00:00"))
    assert local(slots, UTC, "%d %H:%M") == ["26 07:00", "27 08:00", "28 08:00"]


def test_a_skipped_wall_time_fires_after_the_gap_and_a_repeated_one_fires_once():
    r = ScheduleRecurrence("Day", 1, start_time="2030-03-30T00:00:00", time_zone="Europe/Berlin",
                           hours=[2], minutes=[30])
    spring = r.slots_between(utc("2030-03-29T00:00:00"), utc("2030-04-02T00:00:00"))
    assert local(spring, BERLIN, "%d %H:%M%z") == ["30 02:30+0100", "31 03:30+0200", "01 02:30+0200"]
    r = ScheduleRecurrence("Day", 1, start_time="2030-10-26T00:00:00", time_zone="Europe/Berlin",
                           hours=[2], minutes=[30])
    autumn = r.slots_between(utc("2030-10-25T00:00:00"), utc("2030-10-29T00:00:00"))
    assert local(autumn, BERLIN, "%d %H:%M%z") == ["26 02:30+0200", "27 02:30+0200", "28 02:30+0100"]


def test_time_zones_by_iana_and_azure_names_and_aware_start_times():
    new_york = ScheduleRecurrence("Day", 1, start_time="2030-01-01T09:00:00", time_zone="Eastern Standard Time")
    assert new_york.slots_between(utc("2030-01-01T00:00:00"), utc("2030-01-02T00:00:00")) == \
        [utc("2030-01-01T14:00:00")]
    assert ScheduleRecurrence("Day", 1, time_zone="PacificStandardTime").time_zone == "PacificStandardTime"
    # an aware start_time is the same instant, read in time_zone
    aware = ScheduleRecurrence("Day", 1, start_time=datetime(2030, 1, 1, 12, 0, tzinfo=UTC), time_zone="Asia/Tokyo")
    assert aware.start_time == "2030-01-01T21:00:00"


def test_previous_and_next_slot_around_an_instant():
    r = ScheduleRecurrence("Week", 1, start_time="2030-01-07T06:00:00", week_days=["Monday", "Thursday"],
                           hours=[6])
    assert r.previous_slot(utc("2030-01-07T05:59:59")) is None
    assert r.previous_slot(utc("2030-01-07T06:00:00")) == utc("2030-01-07T06:00:00")
    assert r.previous_slot(utc("2030-01-13T00:00:00")) == utc("2030-01-10T06:00:00")
    assert r.next_slot(utc("2030-01-10T06:00:00")) == utc("2030-01-14T06:00:00")
    far = r.previous_slot(utc("2035-06-01T00:00:00"))  # years later: no walk over every slot between
    assert far.strftime("%a %H:%M") in ("Mon 06:00", "Thu 06:00") and far <= utc("2035-06-01T00:00:00")
    assert r.next_slot(far) - far <= (utc("2030-01-14T00:00:00") - utc("2030-01-10T00:00:00"))


def test_stored_and_loaded_it_is_the_same_recurrence():
    r = ScheduleRecurrence("Week", 1, start_time="2030-01-01T00:00:00", time_zone="Europe/Berlin",
                           week_days="Sunday", hours=5, minutes=[0, 30])
    assert ScheduleRecurrence.from_dict(r.to_dict()) == r
    assert r.hours == [5] and r.week_days == ["Sunday"]


@pytest.mark.parametrize("arguments, message", [
    (dict(frequency="Fortnight", interval=1), "frequency must be one of"),
    (dict(frequency="Day", interval=0), "interval must be a whole number >= 1"),
    (dict(frequency="Day", interval=1.5), "interval must be a whole number"),
    (dict(frequency="Hour", interval=1, hours=[1]), "hours can only be given with frequency 'Day' or 'Week'"),
    (dict(frequency="Month", interval=1, minutes=[1]), "minutes can only be given"),
    (dict(frequency="Day", interval=1, week_days=["Monday"]), "week_days can only be given with frequency 'Week'"),
    (dict(frequency="Day", interval=1, hours=[24]), "hours must be whole numbers 0-23, got 24"),
    (dict(frequency="Day", interval=1, minutes=[-1]), "minutes must be whole numbers 0-59"),
    (dict(frequency="Day", interval=1, hours=[]), "hours is empty, so the schedule would never fire"),
    (dict(frequency="Week", interval=1, week_days=[]), "week_days is empty, so the schedule would never fire"),
    (dict(frequency="Week", interval=1, week_days=["Funday"]), "'Funday' is not a day"),
    (dict(frequency="Day", interval=1, time_of_day="25:00"), "time_of_day must be 'hh:mm'"),
    (dict(frequency="Day", interval=1, time_of_day="9:30", hours=[9]), "time_of_day or hours/minutes, not both"),
    (dict(frequency="Day", interval=1, time_zone="Mars/Olympus_Mons"), "is not a known time zone"),
    (dict(frequency="Day", interval=1, start_time="next tuesday"), "start_time 'next tuesday' is not a date"),
    (dict(frequency="Day", interval=1, start_time=20300101), "start_time must be a datetime"),
])
def test_impossible_recurrences_are_refused_at_once(arguments, message):
    with pytest.raises(ConfigError, match=message):
        ScheduleRecurrence(**arguments)


def test_the_range_needs_instants_with_a_time_zone():
    r = ScheduleRecurrence("Day", 1, start_time="2030-01-01T00:00:00")
    with pytest.raises(ConfigError, match="aware datetime"):
        r.slots_between(datetime(2030, 1, 1), datetime(2030, 1, 2))


def test_no_slot_after_year_9999():
    daily = ScheduleRecurrence("Day", 1, start_time="9999-12-31T00:00:00")
    assert daily.next_slot(utc("9999-12-31T12:00:00")) is None
    assert daily.previous_slot(utc("9999-12-31T12:00:00")) == utc("9999-12-31T00:00:00")
