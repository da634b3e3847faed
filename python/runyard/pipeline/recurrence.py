"""``ScheduleRecurrence``: when a schedule fires, and the fire times ("slots") it gives.

Azure ML's rules for what may be combined: ``hours``, ``minutes`` and ``time_of_day`` only
with ``"Day"`` or ``"Week"``, ``week_days`` only with ``"Week"``, ``time_of_day`` or
``hours``/``minutes``, not both. What runyard decides where Azure said nothing:

- **Anchor.** The recurrence counts from ``start_time`` (read in ``time_zone``, default
  UTC) or, without one, from the moment its schedule was created (to the second), which
  is then its first slot: Azure's "the first workload runs at once". A slot at exactly
  ``start_time`` is a slot; none is earlier.
- **"Minute" and "Hour"** step in elapsed time (``interval`` x 60 s or x 3600 s), so a
  DST change neither doubles nor drops a slot. **"Day", "Week" and "Month"** follow the
  local wall clock of ``time_zone``: 09:00 stays 09:00 across DST. A wall time the clock
  skips (02:30 on the spring-forward night) fires at the same instant shifted by the gap
  (03:30); one it shows twice (the fall-back night) fires once, the first time.
- **Times of a day.** ``time_of_day="15:30"``; or every ``hours`` x ``minutes`` pair (hours
  alone: on the hour; minutes alone: every hour at those minutes); or, with none of
  them, the anchor's time of day. "Week" without ``week_days`` fires on the anchor's
  weekday; weeks start on Monday and every ``interval``-th week counts from the anchor's.
- **"Month"** fires on the anchor's day of the month at its time; a month without that
  day (the 31st in April) fires on its last day.

>>> r = ScheduleRecurrence("Day", 1, start_time="2030-03-30T09:00:00", time_zone="Europe/Berlin")
>>> [s.isoformat() for s in r.slots_between("2030-03-30T00:00:00+00:00", "2030-04-01T00:00:00+00:00")]
['2030-03-30T08:00:00+00:00', '2030-03-31T07:00:00+00:00']
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ConfigError

FREQUENCIES = ("Minute", "Hour", "Day", "Week", "Month")
WEEK_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_STEP_SECONDS = {"Minute": 60, "Hour": 3600}
_TIME_OF_DAY_RE = re.compile(r"^(\d{1,2}):(\d{2})$")
# Periods looked at around an instant before giving up (a period holds at least one slot,
# except the anchor's own, which may hold none after the anchor).
_PERIODS_TRIED = 5

#: Azure's ``TimeZone`` values (Windows names) for the most used zones -> IANA names (the
#: "001" mapping of CLDR's windowsZones). The enum's member names (no spaces) work too.
WINDOWS_TIME_ZONES = {
    "UTC": "UTC", "Dateline Standard Time": "Etc/GMT+12", "Hawaiian Standard Time": "Pacific/Honolulu",
    "Alaskan Standard Time": "America/Anchorage", "Pacific Standard Time": "America/Los_Angeles",
    "US Mountain Standard Time": "America/Phoenix", "Mountain Standard Time": "America/Denver",
    "Central Standard Time": "America/Chicago", "Eastern Standard Time": "America/New_York",
    "Atlantic Standard Time": "America/Halifax", "E. South America Standard Time": "America/Sao_Paulo",
    "GMT Standard Time": "Europe/London", "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin", "Central Europe Standard Time": "Europe/Budapest",
    "Romance Standard Time": "Europe/Paris", "Central European Standard Time": "Europe/Warsaw",
    "GTB Standard Time": "Europe/Bucharest", "FLE Standard Time": "Europe/Kiev",
    "E. Europe Standard Time": "Europe/Chisinau", "Russian Standard Time": "Europe/Moscow",
    "Israel Standard Time": "Asia/Jerusalem", "South Africa Standard Time": "Africa/Johannesburg",
    "Arabian Standard Time": "Asia/Dubai", "India Standard Time": "Asia/Kolkata",
    "China Standard Time": "Asia/Shanghai", "Singapore Standard Time": "Asia/Singapore",
    "Tokyo Standard Time": "Asia/Tokyo", "Korea Standard Time": "Asia/Seoul",
    "AUS Eastern Standard Time": "Australia/Sydney", "New Zealand Standard Time": "Pacific/Auckland",
}
_WINDOWS_BY_KEY = {re.sub(r"[^a-z]", "", k.lower()): v for k, v in WINDOWS_TIME_ZONES.items()}


class ScheduleRecurrence:
    """How often a ``Schedule`` fires: every ``interval`` ``frequency`` units, optionally at
    set ``hours``/``minutes`` (or ``time_of_day``) on set ``week_days``, in ``time_zone``.
    Invalid combinations raise ``ConfigError`` (a ``ValueError``, as in Azure ML) at once.

    >>> ScheduleRecurrence("Week", 1, week_days=["Monday", "Thursday"], time_of_day="06:30").week_days
    ['Monday', 'Thursday']
    >>> ScheduleRecurrence("Hour", 2, hours=[6])
    Traceback (most recent call last):
    ...
    runyard.errors.ConfigError: ScheduleRecurrence: hours can only be given with frequency 'Day' or 'Week' (got 'Hour')
    """

    def __init__(self, frequency: str, interval: int, start_time: datetime | str | None = None,
                 time_zone: Any = None, hours: int | list[int] | None = None,
                 minutes: int | list[int] | None = None, week_days: str | list[str] | None = None,
                 time_of_day: str | None = None):
        if frequency not in FREQUENCIES:
            raise ConfigError(f"ScheduleRecurrence: frequency must be one of {', '.join(FREQUENCIES)}, "
                              f"got {frequency!r}")
        if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
            raise ConfigError(f"ScheduleRecurrence: interval must be a whole number >= 1, got {interval!r}")
        self.frequency = frequency
        self.interval = interval
        self.time_zone, self._tz = _time_zone(time_zone)
        with_times = ("Day", "Week")
        for field, value in (("hours", hours), ("minutes", minutes), ("time_of_day", time_of_day)):
            if value is not None and frequency not in with_times:
                raise ConfigError(f"ScheduleRecurrence: {field} can only be given with frequency 'Day' or "
                                  f"'Week' (got {frequency!r})")
        if week_days is not None and frequency != "Week":
            raise ConfigError(f"ScheduleRecurrence: week_days can only be given with frequency 'Week' "
                              f"(got {frequency!r})")
        if time_of_day is not None and (hours is not None or minutes is not None):
            raise ConfigError("ScheduleRecurrence: give time_of_day or hours/minutes, not both")
        self.hours = _whole_numbers("hours", hours, 23)
        self.minutes = _whole_numbers("minutes", minutes, 59)
        self.week_days = _week_days(week_days)
        self.time_of_day = _time_of_day(time_of_day)
        self.start_time = _start_time(start_time, self._tz)

    # -- what it is ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"frequency": self.frequency, "interval": self.interval, "start_time": self.start_time,
                "time_zone": self.time_zone, "hours": self.hours, "minutes": self.minutes,
                "week_days": self.week_days, "time_of_day": self.time_of_day}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ScheduleRecurrence":
        return cls(**data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScheduleRecurrence) and other.to_dict() == self.to_dict()

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if v is not None)
        return f"ScheduleRecurrence({shown})"

    # -- its slots -----------------------------------------------------------------------
    def slots_between(self, start: datetime | float | str, end: datetime | float | str, *,
                      created_at: datetime | float | None = None) -> list[datetime]:
        """The fire times ``t`` with ``start <= t < end``, in UTC, oldest first. ``start`` and
        ``end`` are aware datetimes, ISO texts with an offset, or POSIX seconds; ``created_at``
        (when the schedule was created) is needed without a ``start_time``.

        >>> r = ScheduleRecurrence("Minute", 15, start_time="2030-01-01T00:00:00")
        >>> " ".join(s.strftime("%H:%M") for s in r.slots_between("2030-01-01T00:10:00Z", "2030-01-01T01:00:00Z"))
        '00:15 00:30 00:45'
        """
        start_at, end_at = _instant("start", start), _instant("end", end)
        return list(self._iter(start_at, end_at, self._anchor(created_at)))

    def next_slot(self, after: datetime | float | str, *, created_at: datetime | float | None = None
                  ) -> datetime | None:
        """The first fire time strictly after ``after`` (None past year 9999)."""
        return self._next(_instant("after", after), self._anchor(created_at))

    def previous_slot(self, at: datetime | float | str, *, created_at: datetime | float | None = None
                      ) -> datetime | None:
        """The newest fire time at or before ``at``, or None if there is none yet."""
        return self._previous(_instant("at", at), self._anchor(created_at))

    def _iter(self, start: datetime, end: datetime, anchor: datetime) -> Iterator[datetime]:
        slot = self._next(start - timedelta(microseconds=1), anchor)
        while slot is not None and slot < end:
            yield slot
            slot = self._next(slot, anchor)

    def _anchor(self, created_at: datetime | float | None) -> datetime:
        """Where the recurrence counts from, as a local time of its zone."""
        if self.start_time is not None:
            return datetime.fromisoformat(self.start_time).replace(tzinfo=self._tz)
        if created_at is None:
            raise ConfigError("this recurrence has no start_time: it starts when its schedule was created, "
                              "so pass created_at")
        return _instant("created_at", created_at).replace(microsecond=0).astimezone(self._tz)

    def _next(self, after: datetime, anchor: datetime) -> datetime | None:
        try:
            if self.frequency in _STEP_SECONDS:
                first = anchor.astimezone(timezone.utc)
                if after < first:
                    return first
                step = timedelta(seconds=_STEP_SECONDS[self.frequency] * self.interval)
                return first + ((after - first) // step + 1) * step
            k = max(0, self._period_index(after, anchor) - 1)
            for index in range(k, k + _PERIODS_TRIED):
                for slot in self._period(index, anchor):
                    if slot > after:
                        return slot
        except OverflowError:
            return None
        return None

    def _previous(self, at: datetime, anchor: datetime) -> datetime | None:
        try:
            if self.frequency in _STEP_SECONDS:
                first = anchor.astimezone(timezone.utc)
                if at < first:
                    return None
                step = timedelta(seconds=_STEP_SECONDS[self.frequency] * self.interval)
                return first + ((at - first) // step) * step
            k = self._period_index(at, anchor) + 1
            for index in range(k, max(k - _PERIODS_TRIED, -1), -1):
                earlier = [slot for slot in self._period(index, anchor) if slot <= at]
                if earlier:
                    return earlier[-1]
        except OverflowError:
            return None
        return None

    def _period_index(self, instant: datetime, anchor: datetime) -> int:
        """Which period (day, week or month, counted in intervals from the anchor's) holds
        ``instant``'s local date; negative before the anchor's."""
        day = instant.astimezone(self._tz).date()
        if self.frequency == "Day":
            return (day - anchor.date()).days // self.interval
        if self.frequency == "Week":
            return ((_monday(day) - _monday(anchor.date())).days // 7) // self.interval
        return ((day.year * 12 + day.month) - (anchor.year * 12 + anchor.month)) // self.interval

    def _period(self, index: int, anchor: datetime) -> list[datetime]:
        """The slots of period ``index``, in UTC, oldest first, none before the anchor (none
        past year 9999)."""
        if index < 0:
            return []
        try:
            return self._period_slots(index, anchor)
        except (OverflowError, ValueError):
            return []

    def _period_slots(self, index: int, anchor: datetime) -> list[datetime]:
        if self.frequency == "Day":
            days = [anchor.date() + timedelta(days=index * self.interval)]
        elif self.frequency == "Week":
            monday = _monday(anchor.date()) + timedelta(weeks=index * self.interval)
            wanted = self.week_days or [WEEK_DAYS[anchor.weekday()]]
            days = [monday + timedelta(days=WEEK_DAYS.index(d)) for d in wanted]
        else:
            year, month = divmod(anchor.year * 12 + anchor.month - 1 + index * self.interval, 12)
            days = [date(year, month + 1, min(anchor.day, calendar.monthrange(year, month + 1)[1]))]
        # fold=0: a skipped wall time lands after the gap, a repeated one is taken the first time
        slots = {datetime.combine(day, clock, tzinfo=self._tz).astimezone(timezone.utc)
                 for day in days for clock in self._times(anchor)}
        first = anchor.astimezone(timezone.utc)
        return sorted(s for s in slots if s >= first)

    def _times(self, anchor: datetime) -> list[time]:
        if self.time_of_day is not None:
            hour, minute = map(int, self.time_of_day.split(":"))
            return [time(hour, minute)]
        if self.hours is None and self.minutes is None:
            return [anchor.time().replace(tzinfo=None)]
        hours = self.hours if self.hours is not None else list(range(24))
        minutes = self.minutes if self.minutes is not None else [0]
        return [time(h, m) for h in hours for m in minutes]


# -- checking the arguments ------------------------------------------------------------
def _time_zone(value: Any) -> tuple[str, ZoneInfo | timezone]:
    """(the name kept, the zone): an IANA name, or one of Azure's TimeZone names or values."""
    if value is None:
        return "UTC", timezone.utc
    name = getattr(value, "value", value)  # Azure's TimeZone members are an Enum
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"ScheduleRecurrence: time_zone must be a time zone name such as 'Europe/Berlin', "
                          f"got {value!r}")
    if name.upper() == "UTC":
        return "UTC", timezone.utc
    iana = _WINDOWS_BY_KEY.get(re.sub(r"[^a-z]", "", name.lower())) if "/" not in name else None
    try:
        return name, ZoneInfo(iana or name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"ScheduleRecurrence: time_zone {name!r} is not a known time zone; give an IANA name "
                          f"such as 'Europe/Berlin' or 'America/New_York', 'UTC', or an Azure TimeZone name "
                          f"such as 'Pacific Standard Time'") from None


def _whole_numbers(field: str, value: Any, highest: int) -> list[int] | None:
    if value is None:
        return None
    values = [value] if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(values, (list, tuple, set)):
        raise ConfigError(f"ScheduleRecurrence: {field} must be a list of whole numbers 0-{highest}, got {value!r}")
    if not values:
        raise ConfigError(f"ScheduleRecurrence: {field} is empty, so the schedule would never fire; leave "
                          f"{field} out or list at least one value 0-{highest}")
    for item in values:
        if not isinstance(item, int) or isinstance(item, bool) or not 0 <= item <= highest:
            raise ConfigError(f"ScheduleRecurrence: {field} must be whole numbers 0-{highest}, got {item!r}")
    return sorted(set(values))


def _week_days(value: Any) -> list[str] | None:
    if value is None:
        return None
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, (list, tuple, set)):
        raise ConfigError(f"ScheduleRecurrence: week_days must be a list of day names, got {value!r}")
    if not values:
        raise ConfigError("ScheduleRecurrence: week_days is empty, so the schedule would never fire; leave "
                          "week_days out (the start's weekday) or list days such as 'Monday'")
    by_name = {d.lower(): d for d in WEEK_DAYS}
    days = set()
    for item in values:
        day = by_name.get(item.lower()) if isinstance(item, str) else None
        if day is None:
            raise ConfigError(f"ScheduleRecurrence: week_days: {item!r} is not a day; use {', '.join(WEEK_DAYS)}")
        days.add(day)
    return sorted(days, key=WEEK_DAYS.index)


def _time_of_day(value: Any) -> str | None:
    if value is None:
        return None
    match = _TIME_OF_DAY_RE.match(value) if isinstance(value, str) else None
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ConfigError(f"ScheduleRecurrence: time_of_day must be 'hh:mm' (00:00-23:59), got {value!r}")
    return f"{int(match[1]):02d}:{match[2]}"


def _start_time(value: Any, tz: ZoneInfo | timezone) -> str | None:
    """The start as a wall time of the recurrence's zone, 'YYYY-MM-DDThh:mm:ss'."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"ScheduleRecurrence: start_time {value!r} is not a date and time; use "
                              f"'YYYY-MM-DDThh:mm:ss'") from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if not isinstance(value, datetime):
        raise ConfigError(f"ScheduleRecurrence: start_time must be a datetime or 'YYYY-MM-DDThh:mm:ss', "
                          f"got {type(value).__name__}")
    if value.tzinfo is not None:  # an aware start: the same instant, read in time_zone
        value = value.astimezone(tz).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat()


def _instant(what: str, value: Any) -> datetime:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"{what}: {value!r} is not an ISO date and time") from None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ConfigError(f"{what}: give an aware datetime (with tzinfo), an ISO text with an offset, or "
                          f"POSIX seconds; got {value!r}")
    return value.astimezone(timezone.utc)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())
