"""A plain-Python reference model of adherence matching (DOMAIN §6, issue 6 item 4).

Used only by tests: it scores planned sessions against activities and planned meals against
logged meals, assigns logs to plan items greedily, and recomputes the daily and weekly rollups,
so the SQL (private.rematch_day and the rollup tables) can be checked against it.

The terms are exact (fractions.Fraction, built from the Decimal inputs); the rounded values
(scores to 3 places, breakdown terms to 4) are Decimal, rounded half away from zero as PostgreSQL's
numeric round() does.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

ZERO = Fraction(0)
ONE = Fraction(1)
HALF = Fraction(1, 2)

# Session kind -> activity categories that count as "the right category".
CATEGORY_MAP: Mapping[str, frozenset[str]] = {
    "strength": frozenset({"strength"}),
    "cardio": frozenset({"cardio_steady"}),
    "hiit": frozenset({"cardio_interval"}),
    "mobility": frozenset({"flexibility"}),
    "sport": frozenset({"sports"}),
    "active_recovery": frozenset({"cardio_steady", "flexibility"}),
}

# [from, to) local hours of each slot; everything else is night.
SLOTS: tuple[tuple[int, int, str], ...] = (
    (4, 7, "early_morning"),
    (7, 11, "morning"),
    (11, 14, "midday"),
    (14, 17, "afternoon"),
    (17, 21, "evening"),
)


Number = Fraction | Decimal | int


def round_half_up(value: Number, places: int) -> Decimal:
    """PostgreSQL round(numeric, places) of the exact value: half away from zero."""
    scaled = abs(Fraction(value)) * 10**places
    rounded = math.floor(scaled + HALF) * (1 if value >= 0 else -1)
    return Decimal(rounded).scaleb(-places)


def exercise_key(exercise_id: str | None, name: str | None) -> str:
    """The catalogue id, else 'custom:' || lower(btrim(name))."""
    if exercise_id is not None:
        return exercise_id
    assert name is not None
    return "custom:" + name.strip(" ").lower()


def slot_of(local_time: dt.time) -> str:
    for start, end, slot in SLOTS:
        if start <= local_time.hour < end:
            return slot
    return "night"


# ------------------------------------------------------------------ sessions


@dataclass(frozen=True)
class PlannedExercise:
    key: str
    sets: int
    reps_min: int | None = None
    reps_max: int | None = None


@dataclass(frozen=True)
class PlannedSession:
    id: uuid.UUID  # session_instances.id (the planned_entity_id)
    kind: str
    planned_duration_minutes: int
    time_of_day: str | None  # the calendar event's
    exercises: tuple[PlannedExercise, ...] = ()


@dataclass(frozen=True)
class LoggedSet:
    key: str
    reps: int | None
    weight_kg: Decimal | None = None
    is_warmup: bool = False

    @property
    def load(self) -> Fraction:
        """weight_kg when > 0, else 1 (body weight)."""
        return (
            Fraction(self.weight_kg) if self.weight_kg is not None and self.weight_kg > 0 else ONE
        )


@dataclass(frozen=True)
class LoggedActivity:
    id: uuid.UUID
    category: str
    duration_minutes: int
    local_start: dt.time  # start_time in the owner's time zone
    sets: tuple[LoggedSet, ...] = ()


def _ratio(a: Fraction, b: Fraction) -> Fraction:
    high = max(a, b)
    return min(a, b) / high if high > 0 else ZERO


def _mean(values: list[Fraction]) -> Fraction:
    return sum(values, ZERO) / len(values)


def volume_ratio(plan: PlannedSession, activity: LoggedActivity) -> Fraction:
    work = [s for s in activity.sets if not s.is_warmup]
    rep_sets = [s for s in work if s.reps is not None and s.reps > 0]
    planned_reps = [e for e in plan.exercises if e.reps_min is not None]
    if not planned_reps or not rep_sets:
        return _ratio(Fraction(plan.planned_duration_minutes), Fraction(activity.duration_minutes))
    actual = sum(((s.reps or 0) * s.load for s in work), ZERO)
    overall_kg = _mean([s.load for s in rep_sets])
    planned = ZERO
    for item in planned_reps:
        assert item.reps_min is not None
        assert item.reps_max is not None
        own = [s.load for s in rep_sets if s.key == item.key]
        kg = _mean(own) if own else overall_kg
        planned += item.sets * Fraction(item.reps_min + item.reps_max, 2) * kg
    return _ratio(planned, actual)


def session_terms(plan: PlannedSession, activity: LoggedActivity) -> dict[str, Fraction]:
    """The exact terms (category, exercises, volume, time_of_day)."""
    category = Fraction("0.4") if activity.category in CATEGORY_MAP.get(plan.kind, ()) else ZERO
    planned_keys = {e.key for e in plan.exercises}
    done_keys = {s.key for s in activity.sets if not s.is_warmup}
    if planned_keys:
        exercises = Fraction("0.3") * len(planned_keys & done_keys) / len(planned_keys)
    else:
        exercises = Fraction("0.3")
    volume = Fraction("0.2") * volume_ratio(plan, activity)
    on_time = plan.time_of_day is None or plan.time_of_day == slot_of(activity.local_start)
    return {
        "category": category,
        "exercises": exercises,
        "volume": volume,
        "time_of_day": Fraction("0.1") if on_time else ZERO,
    }


# --------------------------------------------------------------------- meals


@dataclass(frozen=True)
class Nutrients:
    kcal: Decimal
    protein_g: Decimal
    carbs_g: Decimal
    fat_g: Decimal


@dataclass(frozen=True)
class PlannedMeal:
    id: uuid.UUID  # meal_instances.id (the planned_entity_id)
    meal_type: str
    targets: Nutrients


@dataclass(frozen=True)
class LoggedMeal:
    id: uuid.UUID
    meal_type: str
    totals: Nutrients
    has_items: bool = True  # a meal without items is not a log yet: it matches nothing


def accuracy(actual: Number, target: Number) -> Fraction:
    """max(0, 1 - |a - t| / t); a zero target is met only by zero."""
    a, t = Fraction(actual), Fraction(target)
    if t > 0:
        return max(ZERO, 1 - abs(a - t) / t)
    return ONE if a == 0 else ZERO


def meal_terms(plan: PlannedMeal, meal: LoggedMeal) -> dict[str, Fraction]:
    """The exact terms (meal_type, kcal, protein, carbs, fat)."""
    t, a = plan.targets, meal.totals
    return {
        "meal_type": Fraction("0.3") if plan.meal_type == meal.meal_type else ZERO,
        "kcal": Fraction("0.25") * accuracy(a.kcal, t.kcal),
        "protein": Fraction("0.20") * accuracy(a.protein_g, t.protein_g),
        "carbs": Fraction("0.15") * accuracy(a.carbs_g, t.carbs_g),
        "fat": Fraction("0.10") * accuracy(a.fat_g, t.fat_g),
    }


# ------------------------------------------------------------ score, status


def score(terms: Mapping[str, Fraction]) -> Decimal:
    """round(sum of the unrounded terms, 3)."""
    return round_half_up(sum(terms.values(), ZERO), 3)


def breakdown(terms: Mapping[str, Fraction]) -> dict[str, Decimal]:
    """Each term rounded to 4 decimals, as stored in adherence_records.breakdown."""
    return {name: round_half_up(value, 4) for name, value in terms.items()}


def status_for(value: Decimal) -> str | None:
    """completed >= 0.8, similar >= 0.6, partial >= 0.3, else no match (None)."""
    if value >= Decimal("0.8"):
        return "completed"
    if value >= Decimal("0.6"):
        return "similar"
    if value >= Decimal("0.3"):
        return "partial"
    return None


# ---------------------------------------------------------------- assignment


@dataclass(frozen=True)
class Verdict:
    """What an item ends up with: a status, and for a match its score, terms and log; manual
    for the user's own verdict (kept as it is)."""

    status: str
    score: Decimal | None = None
    terms: Mapping[str, Fraction] | None = None
    log_id: uuid.UUID | None = None
    manual: bool = False


def greedy(
    scored: Iterable[tuple[uuid.UUID, uuid.UUID, Decimal]],
) -> dict[uuid.UUID, tuple[uuid.UUID, Decimal]]:
    """Pairs (item, log, score) with score >= 0.3, best first (ties: item id, then log id)."""
    ordered = sorted(
        (c for c in scored if c[2] >= Decimal("0.3")), key=lambda c: (-c[2], c[0], c[1])
    )
    taken_logs: set[uuid.UUID] = set()
    chosen: dict[uuid.UUID, tuple[uuid.UUID, Decimal]] = {}
    for item, log, value in ordered:
        if item in chosen or log in taken_logs:
            continue
        chosen[item] = (log, value)
        taken_logs.add(log)
    return chosen


def candidates(
    sessions: Iterable[PlannedSession],
    activities: Iterable[LoggedActivity],
    meals: Iterable[PlannedMeal],
    logged_meals: Iterable[LoggedMeal],
    manual: Mapping[uuid.UUID, str],
) -> dict[tuple[uuid.UUID, uuid.UUID], dict[str, Fraction]]:
    """The terms of every (planned item, log) pair that may match: sessions with activities,
    meals with meals that have items; items with a manual verdict take no part."""
    activities, logged_meals = list(activities), list(logged_meals)
    terms: dict[tuple[uuid.UUID, uuid.UUID], dict[str, Fraction]] = {}
    for s in sessions:
        if s.id not in manual:
            for a in activities:
                terms[s.id, a.id] = session_terms(s, a)
    for m in meals:
        if m.id not in manual:
            for lm in logged_meals:
                if lm.has_items:
                    terms[m.id, lm.id] = meal_terms(m, lm)
    return terms


def match_day(
    sessions: Iterable[PlannedSession],
    activities: Iterable[LoggedActivity],
    meals: Iterable[PlannedMeal],
    logged_meals: Iterable[LoggedMeal],
    *,
    day_passed: bool,
    manual: Mapping[uuid.UUID, str] | None = None,
) -> dict[uuid.UUID, Verdict | None]:
    """The verdict of every planned item of one day (None: no record, the item stays planned).

    Items with a manual verdict keep it and take no log; rest sessions are not planned items
    (the caller leaves them out, as the SQL does); meals without items match nothing.
    """
    manual = manual or {}
    sessions, meals = list(sessions), list(meals)
    terms = candidates(sessions, activities, meals, logged_meals, manual)
    chosen = greedy((item, log, score(t)) for (item, log), t in terms.items())
    verdicts: dict[uuid.UUID, Verdict | None] = {}
    for item in [s.id for s in sessions] + [m.id for m in meals]:
        if item in manual:
            verdicts[item] = Verdict(manual[item], manual=True)
        elif item in chosen:
            log, value = chosen[item]
            status = status_for(value)
            assert status is not None
            verdicts[item] = Verdict(status, value, terms[item, log], log)
        else:
            verdicts[item] = Verdict("skipped") if day_passed else None
    return verdicts


# ------------------------------------------------------------------- rollups


@dataclass(frozen=True)
class Counts:
    planned: int = 0
    completed: int = 0
    similar: int = 0
    partial: int = 0
    skipped: int = 0

    @property
    def pending(self) -> int:
        return self.planned - self.completed - self.similar - self.partial - self.skipped

    @property
    def adherence_pct(self) -> Decimal | None:
        """round(100 x (completed + 0.75 similar + 0.4 partial) / decided, 1); None if none."""
        decided = self.completed + self.similar + self.partial + self.skipped
        if decided == 0:
            return None
        points = self.completed + Fraction(3, 4) * self.similar + Fraction(2, 5) * self.partial
        return round_half_up(100 * points / decided, 1)

    def plus(self, status: str | None) -> Counts:
        """These counts with one more planned item of this status (None or 'planned': pending)."""
        return Counts(
            self.planned + 1,
            self.completed + (status == "completed"),
            self.similar + (status == "similar"),
            self.partial + (status == "partial"),
            self.skipped + (status == "skipped"),
        )

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.planned + other.planned,
            self.completed + other.completed,
            self.similar + other.similar,
            self.partial + other.partial,
            self.skipped + other.skipped,
        )


def iso_monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def rollups(
    items: Iterable[tuple[dt.date, str, str | None]],
) -> tuple[dict[tuple[dt.date, str], Counts], dict[tuple[dt.date, str], Counts]]:
    """(daily, weekly) counts from planned items (date, kind 'session'|'meal', status or None).

    Keys are (date, kind) and (ISO Monday, kind); only keys with a planned item appear.
    """
    daily: dict[tuple[dt.date, str], Counts] = {}
    for day, kind, status in items:
        daily[day, kind] = daily.get((day, kind), Counts()).plus(status)
    weekly: dict[tuple[dt.date, str], Counts] = {}
    for (day, kind), counts in daily.items():
        key = (iso_monday(day), kind)
        weekly[key] = weekly.get(key, Counts()) + counts
    return daily, weekly
