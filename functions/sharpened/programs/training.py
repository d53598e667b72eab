"""The training plan (DOMAIN §4): a pure generator, no I/O.

``generate_training_plan(TrainingInputs) -> TrainingPlan`` lays out every week of a program:

- the split from the number of usable training days (available weekdays minus the
  non-negotiable rest weekdays; at most one session per day, at most 6 per week):
  1-3 full body, 4 upper/lower, 5 upper/lower + full body, 6 push/pull/legs x2;
- weekly hard sets per landmark muscle group (RP MEV/MAV/MRV) starting at MEV (beginner),
  MEV+2 (intermediate) or midway MEV-MAV (advanced), +1 (beginner) or +2 sets per week,
  never above MAV as a target; the planned volume (primary muscle = 1 set, secondary = 0.5)
  never exceeds MRV;
- mesocycles of 6/5/4 weeks whose last week is a deload (every exercise's sets halved,
  same load); target RIR 3 -> 0 across the accumulation weeks;
- rep zones and %1RM by goal, rest 120-180 s for compounds and 60-90 s for isolation;
- exercises from the catalogue: equipment available at the slot's location, the user's
  familiar exercises first, compounds first, nothing that works an injured/avoided muscle,
  varied across the week; each session fits the slot's minutes (sets x (40 s work + rest));
  lowest-priority sets are dropped to fit and later sessions of the week make up for them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from sharpened.consultation.models import GoalType, Location, Proficiency, TimeOfDay
from sharpened.programs.bundle import Goal, PlannedExercise, PlannedSession

GENERATOR_VERSION = "training-1.0.0"

Experience = Literal["beginner", "intermediate", "advanced"]
Muscle = Literal[
    "abdominals", "abductors", "adductors", "biceps", "calves", "chest", "forearms",
    "glutes", "hamstrings", "lats", "lower_back", "middle_back", "neck", "quadriceps",
    "shoulders", "traps", "triceps",
]  # fmt: skip
Equipment = Literal[
    "body_only", "barbell", "dumbbell", "cable", "machine", "kettlebells", "bands",
    "medicine_ball", "exercise_ball", "foam_roll", "e_z_curl_bar", "other",
]  # fmt: skip
Category = Literal[
    "strength", "stretching", "plyometrics", "powerlifting", "olympic_weightlifting",
    "strongman", "cardio",
]  # fmt: skip
MuscleGroup = Literal[
    "chest", "back", "shoulders", "quads", "hamstrings", "glutes", "biceps", "triceps",
    "calves", "abs",
]  # fmt: skip
SplitDay = Literal["full_body", "upper", "lower", "push", "pull", "legs"]
RepZoneName = Literal["strength", "hypertrophy", "endurance"]


# ------------------------------------------------------------------ reference numbers


@dataclass(frozen=True)
class Landmarks:
    """RP volume landmarks: weekly hard sets."""

    mev: int
    mav: int
    mrv: int


LANDMARKS: dict[MuscleGroup, Landmarks] = {
    "chest": Landmarks(10, 16, 22),
    "back": Landmarks(10, 18, 25),
    "shoulders": Landmarks(8, 16, 26),
    "quads": Landmarks(8, 14, 20),
    "hamstrings": Landmarks(6, 12, 20),
    "glutes": Landmarks(0, 8, 16),
    "biceps": Landmarks(6, 14, 24),
    "triceps": Landmarks(6, 12, 18),
    "calves": Landmarks(6, 12, 20),
    "abs": Landmarks(0, 12, 25),
}

#: DOMAIN's muscle groups in the catalogue's 17-muscle vocabulary.
GROUP_MUSCLES: dict[MuscleGroup, tuple[Muscle, ...]] = {
    "chest": ("chest",),
    "back": ("lats", "middle_back"),
    "shoulders": ("shoulders",),
    "quads": ("quadriceps",),
    "hamstrings": ("hamstrings",),
    "glutes": ("glutes",),
    "biceps": ("biceps",),
    "triceps": ("triceps",),
    "calves": ("calves",),
    "abs": ("abdominals",),
}
MUSCLE_GROUP: dict[str, MuscleGroup] = {m: g for g, ms in GROUP_MUSCLES.items() for m in ms}

#: Priority when filling a session: big muscles (and their compounds) first.
GROUP_PRIORITY: tuple[MuscleGroup, ...] = (
    "back", "chest", "quads", "hamstrings", "shoulders", "glutes", "triceps", "biceps",
    "calves", "abs",
)  # fmt: skip

SPLIT_GROUPS: dict[SplitDay, tuple[MuscleGroup, ...]] = {
    "full_body": GROUP_PRIORITY,
    "upper": ("back", "chest", "shoulders", "triceps", "biceps"),
    "lower": ("quads", "hamstrings", "glutes", "calves", "abs"),
    "push": ("chest", "shoulders", "triceps"),
    "pull": ("back", "biceps", "abs"),
    "legs": ("quads", "hamstrings", "glutes", "calves", "abs"),
}
SPLIT_TITLES: dict[SplitDay, str] = {
    "full_body": "Full body",
    "upper": "Upper body",
    "lower": "Lower body",
    "push": "Push",
    "pull": "Pull",
    "legs": "Legs",
}
SPLITS: dict[int, tuple[str, tuple[SplitDay, ...]]] = {
    1: ("full_body", ("full_body",)),
    2: ("full_body", ("full_body",) * 2),
    3: ("full_body", ("full_body",) * 3),
    4: ("upper_lower", ("upper", "lower", "upper", "lower")),
    5: ("upper_lower_full_body", ("upper", "lower", "full_body", "upper", "lower")),
    6: ("push_pull_legs_x2", ("push", "pull", "legs", "push", "pull", "legs")),
}
MAX_SESSIONS_PER_WEEK = 6

#: Equipment usable at each location (office: like outdoor; flexible: like home).
_HOME: frozenset[str] = frozenset(
    {
        "body_only", "dumbbell", "kettlebells", "bands", "exercise_ball", "foam_roll",
        "medicine_ball", "other",
    }
)  # fmt: skip
_OUTDOOR: frozenset[str] = frozenset({"body_only", "bands", "other"})
LOCATION_EQUIPMENT: dict[str, frozenset[str] | None] = {
    "gym": None,  # anything
    "home": _HOME,
    "outdoor": _OUTDOOR,
    "office": _OUTDOOR,
    "flexible": _HOME,
}

TRAINING_CATEGORIES: frozenset[str] = frozenset(
    {"strength", "powerlifting", "olympic_weightlifting", "strongman"}
)

DELOAD_EVERY: dict[Experience, int] = {"beginner": 6, "intermediate": 5, "advanced": 4}
WEEKLY_INCREMENT: dict[Experience, int] = {"beginner": 1, "intermediate": 2, "advanced": 2}
DELOAD_RIR = 3
WORK_SECONDS = 40
MAX_SETS_PER_EXERCISE = 5
MAX_SETS_TOP_UP = 8
SMALL_REMAINDER = 2
MAX_EXERCISES_PER_SESSION = 12
SECONDARY_WEIGHT = 0.5


class RepZone(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    zone: RepZoneName
    reps_min: int
    reps_max: int
    pct_1rm_min: float | None
    pct_1rm_max: float | None


REP_ZONES: dict[RepZoneName, RepZone] = {
    "strength": RepZone(zone="strength", reps_min=3, reps_max=6, pct_1rm_min=80, pct_1rm_max=90),
    "hypertrophy": RepZone(
        zone="hypertrophy", reps_min=6, reps_max=12, pct_1rm_min=67, pct_1rm_max=80
    ),
    "endurance": RepZone(
        zone="endurance", reps_min=12, reps_max=20, pct_1rm_min=None, pct_1rm_max=None
    ),
}
#: Rest in seconds (compound, isolation) by zone: within 120-180 s and 60-90 s.
REST_SECONDS: dict[RepZoneName, tuple[int, int]] = {
    "strength": (180, 90),
    "hypertrophy": (120, 75),
    "endurance": (120, 60),
}


def experience_from_proficiency(level: Proficiency) -> Experience:
    """Map the consultation's 5-level proficiency onto the generator's 3 levels."""
    if level in ("beginner", "novice"):
        return "beginner"
    if level == "intermediate":
        return "intermediate"
    return "advanced"


def rep_zone_for(goal: Goal | GoalType) -> RepZoneName:
    """Strength/performance goals train heavy, endurance light, everything else hypertrophy."""
    if goal in ("strength", "performance"):
        return "strength"
    if goal == "endurance":
        return "endurance"
    return "hypertrophy"


def muscles_for(name: str) -> tuple[Muscle, ...]:
    """A DOMAIN group name ('back', 'abs', 'quads', ...) or a catalogue muscle -> muscles."""
    key = name.strip().lower().replace(" ", "_")
    groups: dict[str, MuscleGroup] = {g: g for g in GROUP_MUSCLES}
    groups["core"] = "abs"
    if key in groups:
        return GROUP_MUSCLES[groups[key]]
    for muscle in get_args(Muscle):
        if key == muscle:
            return (muscle,)
    return ()


# ------------------------------------------------------------------ inputs and outputs


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExerciseRow(_Model):
    """One row of public.exercises (the columns the generator reads)."""

    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,100}$")
    name: str = Field(min_length=1, max_length=200)
    category: Category
    level: Literal["beginner", "intermediate", "expert"]
    mechanic: Literal["compound", "isolation"] | None = None
    force: Literal["push", "pull", "static"] | None = None
    equipment: Equipment | None = None
    primary_muscles: tuple[Muscle, ...] = Field(min_length=1)
    secondary_muscles: tuple[Muscle, ...] = ()


class AvailabilitySlot(_Model):
    """An available training slot: ISO weekday (1 = Monday), time of day, minutes, location."""

    weekday: int = Field(ge=1, le=7)
    time_of_day: TimeOfDay
    minutes: int = Field(ge=15, le=300)
    location: Location


class TrainingInputs(_Model):
    experience: Experience
    primary_goal: Goal | GoalType
    slots: tuple[AvailabilitySlot, ...]
    rest_weekdays: frozenset[int] = frozenset()
    familiar_exercise_ids: frozenset[str] = frozenset()
    avoided_muscles: frozenset[Muscle] = frozenset()
    blocked_dates: frozenset[dt.date] = Field(
        default=frozenset(), description="no session on these dates (upcoming events, travel)"
    )
    start_date: dt.date
    duration_weeks: int = Field(ge=1, le=52)
    catalogue: tuple[ExerciseRow, ...]


class TrainingDay(_Model):
    day_index: int = Field(ge=0, le=6)
    weekday: int = Field(ge=1, le=7)
    split_day: SplitDay
    time_of_day: TimeOfDay
    minutes: int
    location: Location


class WeekExplanation(_Model):
    week_index: int
    deload: bool
    target_rir: int
    target_sets: dict[MuscleGroup, int]
    planned_sets: dict[MuscleGroup, float]
    shortfalls: dict[MuscleGroup, float] = Field(
        default_factory=dict, description="target minus planned, where the plan fell short"
    )


class TrainingExplanation(_Model):
    generator_version: str
    split: str
    days: tuple[TrainingDay, ...]
    experience: Experience
    rep_zone: RepZone
    rest_seconds_compound: int
    rest_seconds_isolation: int
    work_seconds_per_set: int
    landmarks: dict[MuscleGroup, dict[str, int]]
    mesocycle_weeks: int
    deload_weeks: tuple[int, ...]
    weeks: tuple[WeekExplanation, ...]
    excluded_groups: tuple[MuscleGroup, ...] = Field(
        description="groups with no usable exercise (all their muscles avoided)"
    )
    notes: tuple[str, ...] = ()


class TrainingPlan(_Model):
    sessions: tuple[PlannedSession, ...]
    explanation: TrainingExplanation


# ------------------------------------------------------------------ schedule and volume


def training_days(inputs: TrainingInputs) -> tuple[str, tuple[TrainingDay, ...]]:
    """The split and the training days: one per available weekday that is not a rest day."""
    best: dict[int, AvailabilitySlot] = {}
    for slot in inputs.slots:
        if slot.weekday in inputs.rest_weekdays:
            continue
        current = best.get(slot.weekday)
        if current is None or slot.minutes > current.minutes:
            best[slot.weekday] = slot
    start = inputs.start_date.isoweekday()
    ordered = sorted(best.values(), key=lambda s: (s.weekday - start) % 7)
    while len(ordered) > MAX_SESSIONS_PER_WEEK:  # drop the shortest slot (latest on ties)
        shortest = min(reversed(ordered), key=lambda s: s.minutes)
        ordered.remove(shortest)
    if not ordered:
        return "none", ()
    split, split_days = SPLITS[len(ordered)]
    days = tuple(
        TrainingDay(
            day_index=(slot.weekday - start) % 7,
            weekday=slot.weekday,
            split_day=kind,
            time_of_day=slot.time_of_day,
            minutes=slot.minutes,
            location=slot.location,
        )
        for slot, kind in zip(ordered, split_days, strict=True)
    )
    return split, days


def mesocycle_weeks(experience: Experience) -> int:
    return DELOAD_EVERY[experience]


def is_deload(week_index: int, experience: Experience) -> bool:
    """The last week of every mesocycle is a deload (weeks 6, 12, ... for beginners)."""
    return (week_index + 1) % DELOAD_EVERY[experience] == 0


def target_rir(week_index: int, experience: Experience) -> int:
    """RIR falls 3 -> 0 across a mesocycle's accumulation weeks; a deload week is RIR 3.

    Accumulation week k of A: ``3 - floor(4k / A)``: 5 weeks 3,3,2,1,0; 4 weeks 3,2,1,0;
    3 weeks 3,2,1.
    """
    length = DELOAD_EVERY[experience]
    if is_deload(week_index, experience):
        return DELOAD_RIR
    accumulation = length - 1
    return 3 - (4 * (week_index % length)) // accumulation


def start_sets(group: MuscleGroup, experience: Experience) -> int:
    lm = LANDMARKS[group]
    if experience == "beginner":
        return lm.mev
    if experience == "intermediate":
        return min(lm.mev + 2, lm.mav)
    return (lm.mev + lm.mav) // 2


def target_sets(group: MuscleGroup, week_index: int, experience: Experience) -> int:
    """Weekly target for an accumulation week (a deload halves the week before it)."""
    k = week_index % DELOAD_EVERY[experience]
    value = start_sets(group, experience) + WEEKLY_INCREMENT[experience] * k
    return min(value, LANDMARKS[group].mav)


# ------------------------------------------------------------------ exercise selection


def _groups(muscles: Iterable[str]) -> set[MuscleGroup]:
    return {MUSCLE_GROUP[m] for m in muscles if m in MUSCLE_GROUP}


@dataclass(frozen=True)
class _Candidate:
    row: ExerciseRow
    compound: bool
    primary: frozenset[MuscleGroup]
    secondary: frozenset[MuscleGroup]

    def weight(self, group: MuscleGroup) -> float:
        if group in self.primary:
            return 1.0
        if group in self.secondary:
            return SECONDARY_WEIGHT
        return 0.0


@dataclass
class _Item:
    cand: _Candidate
    sets: int
    seq: int


@dataclass
class _Week:
    volume: dict[MuscleGroup, float] = field(default_factory=lambda: dict.fromkeys(LANDMARKS, 0.0))
    uses: dict[str, int] = field(default_factory=dict)


def usable_exercises(inputs: TrainingInputs) -> list[_Candidate]:
    """Training exercises that work no avoided muscle."""
    out: list[_Candidate] = []
    for row in inputs.catalogue:
        if row.category not in TRAINING_CATEGORIES:
            continue
        if inputs.avoided_muscles & (set(row.primary_muscles) | set(row.secondary_muscles)):
            continue
        primary = frozenset(_groups(row.primary_muscles))
        if not primary:
            continue
        secondary = frozenset(_groups(row.secondary_muscles) - primary)
        out.append(_Candidate(row, row.mechanic == "compound", primary, secondary))
    return out


def _allowed(cand: _Candidate, location: str) -> bool:
    allowed = LOCATION_EQUIPMENT[location]
    equipment = cand.row.equipment or "body_only"
    return allowed is None or equipment in allowed


_CATEGORY_RANK: dict[str, int] = {
    "strength": 0,
    "powerlifting": 1,
    "olympic_weightlifting": 2,
    "strongman": 3,
}
_LEVEL_FIT: dict[Experience, dict[str, int]] = {
    "beginner": {"beginner": 0, "intermediate": 1, "expert": 2},
    "intermediate": {"intermediate": 0, "beginner": 1, "expert": 1},
    "advanced": {"expert": 0, "intermediate": 0, "beginner": 1},
}


def _seconds_per_set(cand: _Candidate, rest: tuple[int, int]) -> int:
    return WORK_SECONDS + (rest[0] if cand.compound else rest[1])


def _session_seconds(items: Sequence[_Item], rest: tuple[int, int]) -> int:
    return sum(i.sets * _seconds_per_set(i.cand, rest) for i in items)


def _top_up(items: list[_Item], group: MuscleGroup, need: float, week: _Week, cap: int) -> bool:
    """Add sets to an exercise already in the session for ``group`` (up to ``cap`` sets)."""
    for item in items:
        cand = item.cand
        if group not in cand.primary:
            continue
        sets = min(cap - item.sets, math.ceil(need - 1e-9))
        while sets > 0 and any(
            week.volume[g] + sets * cand.weight(g) > LANDMARKS[g].mrv
            for g in cand.primary | cand.secondary
        ):
            sets -= 1
        if sets > 0:
            item.sets += sets
            for g in cand.primary | cand.secondary:
                week.volume[g] += sets * cand.weight(g)
            return True
    return False


def _plan_session(
    day: TrainingDay,
    quota: dict[MuscleGroup, float],
    week: _Week,
    candidates: list[_Candidate],
    inputs: TrainingInputs,
    rest: tuple[int, int],
) -> list[_Item]:
    """Fill one session up to the cumulative weekly quota of its groups, then fit its minutes."""
    items: list[_Item] = []
    used_ids: set[str] = set()
    pool = [c for c in candidates if _allowed(c, day.location)]
    seq = 0
    for group in SPLIT_GROUPS[day.split_day]:
        while len(items) < MAX_EXERCISES_PER_SESSION:
            need = quota[group] - week.volume[group]
            if need < 0.5:
                break
            # a small remainder goes to an exercise already planned rather than a new one
            if need <= SMALL_REMAINDER and _top_up(items, group, need, week, MAX_SETS_PER_EXERCISE):
                continue
            options = [c for c in pool if group in c.primary and c.row.id not in used_ids]
            options.sort(
                key=lambda c: (
                    c.row.id not in inputs.familiar_exercise_ids,
                    week.uses.get(c.row.id, 0),
                    not c.compound,
                    _LEVEL_FIT[inputs.experience][c.row.level],
                    _CATEGORY_RANK[c.row.category],
                    c.row.id,
                )
            )
            placed = False
            for cand in options:
                sets = min(MAX_SETS_PER_EXERCISE, math.ceil(need - 1e-9))
                while sets > 0 and any(
                    week.volume[g] + sets * cand.weight(g) > LANDMARKS[g].mrv
                    for g in cand.primary | cand.secondary
                ):
                    sets -= 1
                if sets == 0:
                    continue
                items.append(_Item(cand, sets, seq))
                seq += 1
                used_ids.add(cand.row.id)
                week.uses[cand.row.id] = week.uses.get(cand.row.id, 0) + 1
                for g in cand.primary | cand.secondary:
                    week.volume[g] += sets * cand.weight(g)
                placed = True
                break
            if not placed:
                placed = _top_up(items, group, need, week, MAX_SETS_TOP_UP)
            if not placed:
                break
    # compounds first, then in the order chosen (big muscles first)
    items.sort(key=lambda i: (not i.cand.compound, i.seq))
    # fit the slot: drop sets from the lowest-priority (last) exercise
    while items and _session_seconds(items, rest) > day.minutes * 60:
        last = items[-1]
        last.sets -= 1
        for g in last.cand.primary | last.cand.secondary:
            week.volume[g] -= last.cand.weight(g)
        if last.sets == 0:
            items.pop()
    return items


# ------------------------------------------------------------------ the generator


def _exercise(
    order: int, item: _Item, sets: int, rir: int, zone: RepZone, rest: tuple[int, int]
) -> PlannedExercise:
    pct = None
    if zone.pct_1rm_min is not None and zone.pct_1rm_max is not None:
        # heavier as RIR falls: 3 RIR -> bottom of the zone, 0 RIR -> top
        span = zone.pct_1rm_max - zone.pct_1rm_min
        pct = round(zone.pct_1rm_min + span * (3 - min(rir, 3)) / 3, 1)
    return PlannedExercise(
        order_index=order,
        exercise_id=item.cand.row.id,
        name=item.cand.row.name,
        sets=sets,
        reps_min=zone.reps_min,
        reps_max=zone.reps_max,
        target_rir=rir,
        target_pct_1rm=pct,
        rest_seconds=rest[0] if item.cand.compound else rest[1],
    )


def _quotas(
    days: Sequence[TrainingDay], targets: dict[MuscleGroup, int]
) -> list[dict[MuscleGroup, float]]:
    """Cumulative weekly quota per session: a group's target spread over its sessions."""
    counts = {g: sum(g in SPLIT_GROUPS[d.split_day] for d in days) for g in LANDMARKS}
    seen = dict.fromkeys(LANDMARKS, 0)
    out: list[dict[MuscleGroup, float]] = []
    for d in days:
        quota: dict[MuscleGroup, float] = {}
        for g in LANDMARKS:
            if g in SPLIT_GROUPS[d.split_day]:
                seen[g] += 1
            quota[g] = targets[g] * seen[g] / counts[g] if counts[g] else 0.0
        out.append(quota)
    return out


def generate_training_plan(inputs: TrainingInputs) -> TrainingPlan:
    """Every week's sessions and the explanation of every number."""
    split, days = training_days(inputs)
    zone = REP_ZONES[rep_zone_for(inputs.primary_goal)]
    rest = REST_SECONDS[zone.zone]
    exp = inputs.experience
    candidates = usable_exercises(inputs)
    covered = {g for c in candidates for g in c.primary}
    excluded = tuple(g for g in LANDMARKS if g not in covered)
    notes: list[str] = []
    if 0 < len(days) < 2:
        notes.append("only one usable training day: full body once a week")
    if not days:
        notes.append("no usable training day (every available day is a rest day)")
    if len({s.weekday for s in inputs.slots} - inputs.rest_weekdays) > MAX_SESSIONS_PER_WEEK:
        notes.append("7 available days: the shortest slot is kept as a rest day")

    sessions: list[PlannedSession] = []
    weeks: list[WeekExplanation] = []
    previous: list[list[_Item]] = [[] for _ in days]
    previous_volume: dict[MuscleGroup, float] = dict.fromkeys(LANDMARKS, 0.0)
    for w in range(inputs.duration_weeks):
        deload = is_deload(w, exp)
        rir = target_rir(w, exp)
        if deload:
            # the week before, each exercise's sets halved (at least 1), same load
            week_items = [
                [_Item(i.cand, max(1, i.sets // 2), i.seq) for i in items] for items in previous
            ]
            if w == 0 or all(not items for items in previous):
                week_items = [[] for _ in days]
            targets = {g: math.floor(previous_volume[g] / 2) for g in LANDMARKS}
        else:
            targets = {g: 0 if g in excluded else target_sets(g, w, exp) for g in LANDMARKS}
            state = _Week()
            week_items = [
                _plan_session(day, quota, state, candidates, inputs, rest)
                for day, quota in zip(days, _quotas(days, targets), strict=True)
            ]
            previous = week_items
        volume = dict.fromkeys(LANDMARKS, 0.0)
        for day, items in zip(days, week_items, strict=True):
            date = inputs.start_date + dt.timedelta(days=7 * w + day.day_index)
            if date in inputs.blocked_dates:
                if items:
                    notes.append(f"{date.isoformat()}: no session (blocked date)")
                continue
            for item in items:
                for g in item.cand.primary | item.cand.secondary:
                    volume[g] += item.sets * item.cand.weight(g)
            if not items:
                continue
            seconds = _session_seconds(items, rest)
            sessions.append(
                PlannedSession(
                    week_index=w,
                    day_index=day.day_index,
                    session_kind="strength",
                    title=SPLIT_TITLES[day.split_day] + (" (deload)" if deload else ""),
                    planned_duration_minutes=math.ceil(seconds / 60),
                    time_of_day=day.time_of_day,
                    parameters={
                        "split_day": day.split_day,
                        "location": day.location,
                        "deload": deload,
                        "target_rir": rir,
                        "rep_zone": zone.zone,
                        "available_minutes": day.minutes,
                    },
                    exercises=[
                        _exercise(n, item, item.sets, rir, zone, rest)
                        for n, item in enumerate(items)
                    ],
                )
            )
        if not deload:
            previous_volume = volume
        shortfalls = {
            g: targets[g] - volume[g]
            for g in LANDMARKS
            if not deload and volume[g] < targets[g] - 0.5
        }
        weeks.append(
            WeekExplanation(
                week_index=w,
                deload=deload,
                target_rir=rir,
                target_sets=targets,
                planned_sets=volume,
                shortfalls=shortfalls,
            )
        )

    explanation = TrainingExplanation(
        generator_version=GENERATOR_VERSION,
        split=split,
        days=days,
        experience=exp,
        rep_zone=zone,
        rest_seconds_compound=rest[0],
        rest_seconds_isolation=rest[1],
        work_seconds_per_set=WORK_SECONDS,
        landmarks={g: {"mev": lm.mev, "mav": lm.mav, "mrv": lm.mrv} for g, lm in LANDMARKS.items()},
        mesocycle_weeks=mesocycle_weeks(exp),
        deload_weeks=tuple(w for w in range(inputs.duration_weeks) if is_deload(w, exp)),
        weeks=tuple(weeks),
        excluded_groups=excluded,
        notes=tuple(notes),
    )
    return TrainingPlan(sessions=tuple(sessions), explanation=explanation)
