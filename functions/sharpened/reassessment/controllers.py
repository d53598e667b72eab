"""The reassessment controllers (DOMAIN §8): pure, typed, deterministic, no I/O.

Every 14 days a program's period is summarised into plain values (what one set-based SQL
aggregate can produce: weigh-ins, logged intake per day, session/meal adherence, the context
log's soreness average, the e1RM trend per muscle group) and :func:`reassess` turns them and the
program's stored :class:`ControllerState` into a list of :class:`ChangeItem` (one
``plan_change_events`` row each) and the next state. Nothing here reads a clock or a database.

Rules, with the choices DOMAIN leaves open made explicit (the unit tests pin each one):

Trend weight (:func:`trend_after`)
    EWMA with alpha = 0.1 per day. Several weigh-ins on one day are averaged first (one update
    per day). A weigh-in ``w`` that follows the previous trend point by ``g`` days gives
    ``T = w + (T_prev - w)·(1 - alpha)^g``: the old trend decays by ``(1 - alpha)`` per elapsed
    day, as if ``w`` had been weighed on each missed day; ``g = 1`` is the ordinary daily update.
    Days without a weigh-in do not move the trend. Weigh-ins on or before the date of the trend
    point carried in the state are ignored (they are already in it). Without a carried trend
    the period's seed is ``start_weight_kg`` (the weight the program was generated with, or the
    trend of earlier weigh-ins) dated ``start_weight_day`` (default: the day before the period)
    or, failing that, the first day's mean weigh-in.

Observed rate (:func:`observed_rate`)
    ``(T_end - T_start) / days · 7`` kg/week, where ``T_start`` is the carried (or seed) trend
    point, ``T_end`` the trend after the period's last weigh-in and ``days`` the days between the
    two points. No weigh-in after the start point -> no rate -> no calorie change.

Data confidence (:func:`data_confidence`)
    ``c = min(1, weigh-in days / 6) · min(1, logged intake days / 10)`` (a day counts once).

Expenditure estimate (:func:`expenditure_estimate`)
    Only with intake logged on >= 10 days: ``mean intake - ΔT · 7700 / days`` (same ΔT and days
    as the observed rate).

Calorie PID (:func:`calorie_controller`)
    ``e = target - observed`` (kg/week, negative targets for loss), ``I = clamp(I_prev + e, ±2)``,
    ``D = e - e_prev`` (0 in the first period), ``raw = c·(550·e + 110·I + 0·D)``, clamped to
    ±250, rounded to 10 (:func:`sharpened.programs.energy.round_kcal`). Then, in this order:

    1. direction guard: the change never opposes the current error (``e < 0``: the weight trend
       is above plan -> kcal may only go down or stay; ``e > 0`` -> only up). The integral term
       alone can otherwise raise kcal for a fat-loss user who is losing slower than planned.
    2. adherence gate: a decrease (a larger deficit / smaller surplus) needs session AND meal
       adherence >= 70 %; an unknown adherence counts as below.
    3. floors: a decrease never takes kcal below ``max(sex floor, 75 % of the TDEE reference
       rounded up to 10)`` (and never happens when kcal already is below that bound). The TDEE
       reference (:func:`tdee_reference`, kept in the state) starts at the program's TDEE and
       moves half way to each period's energy-balance estimate (none for a period whose trend
       was seeded); with neither there is no deficit cap. The deficit cap only limits
       decreases; the sex floor (1500 male / 1200 female) is hard: kcal below it is raised to it.
    4. deadband: a final change smaller than 50 kcal in magnitude is no change (except a raise
       to the sex floor).

    The state (integral, previous error) is updated whenever the observed rate exists, whatever
    the guards decided (they limit the output, not the controller's memory).

Macros after a calorie change (:func:`macros_after`)
    Protein and fat grams are kept, carbs take the change (``Δkcal / 4``, rounded to 1 g). If
    carbs would fall below 0 they become 0 and fat takes the rest (``/ 9``, rounded to 1 g, not
    below 0). Fiber follows the kcal (14 g per 1000 kcal).

Volume controller (:func:`volume_controller`)
    Global multiplier: PID on ``e = session adherence - 0.85`` with Kp 0.5, Ki 0.1, Kd 0,
    ``I = clamp(I_prev + e, ±2)``, ``m = clamp(1 + 0.5·e + 0.1·I + 0·D, 0.7, 1.1)``; unknown
    adherence -> ``m = 1`` and the volume state is kept. Like the calorie controller it is
    incremental: per muscle ``raw = sets·(m - 1) + table``, where ``table`` is the RP table entry
    (+2/+1/0, "recovery" = -2 sets); ``step = clamp(round(raw), ±2)`` (halves away from zero);
    ``new = clamp(clamp(sets + step, MEV, MRV), sets - 2, sets + 2)``, so landmarks are respected
    and a muscle never moves more than 2 sets in a period (a muscle outside its landmarks is
    brought back 2 sets at a time). Muscles the program does not train are not passed in.

    Soreness 0-3 from the context log's 1-10 soreness average (1 = none, 10 = extreme;
    :func:`soreness_score`): < 3 -> 0, < 5 -> 1, <= 7 -> 2, > 7 -> 3 (3 starts where DOMAIN §7's
    ``high_soreness`` trigger starts). A muscle without soreness data uses row 2 (hold unless
    recovery). Performance 0-3 from the e1RM trend in % (:func:`performance_score`): >= +2.5 -> 0,
    >= 0 -> 1, >= -2.5 -> 2, else 3; a muscle without e1RM data is held (no table change, no
    recovery; the multiplier still applies).

Deload
    Mesocycle of N weeks (:func:`sharpened.programs.training.mesocycle_weeks`) = N - 1
    accumulation weeks + 1 deload week. The state counts the weeks since the last deload; a
    deload is scheduled when week N falls within the next period (``starts_in_weeks`` = 0 or 1
    for a 14-day period) or, immediately, when more than half of the passed muscles needed a
    recovery.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from sharpened.programs.bundle import Goal
from sharpened.programs.energy import (
    DEFICIT_CAP,
    FIBER_G_PER_1000_KCAL,
    FLOORS,
    KCAL_PER_G,
    KCAL_PER_KG,
    CalorieTarget,
    Sex,
    round_g,
    round_kcal,
)
from sharpened.programs.training import LANDMARKS, Landmarks, MuscleGroup

CONTROLLER_VERSION: Final = "reassessment/1.0"

#: Reassessment period (DOMAIN §8: every 14 days).
PERIOD_DAYS: Final = 14

# Trend, rate, confidence, expenditure
TREND_ALPHA: Final = 0.1
CONFIDENCE_WEIGH_IN_DAYS: Final = 6
CONFIDENCE_INTAKE_DAYS: Final = 10
EXPENDITURE_MIN_INTAKE_DAYS: Final = 10

# Calorie controller
KCAL_CLAMP: Final = 250
KCAL_DEADBAND: Final = 50
INTEGRAL_LIMIT: Final = 2.0
ADHERENCE_GATE: Final = 0.70

# Volume controller
ADHERENCE_SETPOINT: Final = 0.85
MULTIPLIER_RANGE: Final = (0.7, 1.1)
VOLUME_INTEGRAL_LIMIT: Final = 2.0
MAX_SET_STEP: Final = 2
RECOVERY_SET_STEP: Final = -2
RECOVERY: Final = "recovery"

#: RP table: soreness (0-3) x performance (0-3) -> set change, or "recovery".
RP_TABLE: Final[tuple[tuple[int | str, ...], ...]] = (
    (2, 1, 0, RECOVERY),
    (1, 0, 0, RECOVERY),
    (0, 0, 0, RECOVERY),
    (0, 0, 0, RECOVERY),
)
#: Soreness row used for a muscle without soreness data: hold unless recovery.
UNKNOWN_SORENESS_ROW: Final = 2

ChangeKind = Literal["calories", "macros", "volume", "deload"]
EntityType = Literal["program", "muscle_group"]


@dataclass(frozen=True, slots=True)
class CalorieGains:
    """Calorie PID gains: kcal/day per kg/week (DOMAIN §8; Kp is half of 1100, for damping)."""

    kp: float = 550.0
    ki: float = 110.0
    kd: float = 0.0


@dataclass(frozen=True, slots=True)
class VolumeGains:
    """Volume multiplier PID gains, per unit of (session adherence - 0.85)."""

    kp: float = 0.5
    ki: float = 0.1
    kd: float = 0.0


DEFAULT_CALORIE_GAINS: Final = CalorieGains()
DEFAULT_VOLUME_GAINS: Final = VolumeGains()


def _clamp(value: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, value))


def _r(value: float) -> float:
    """Terms are reported to 6 decimals (the computation itself is unrounded)."""
    return round(value, 6)


def round_half_away(value: float) -> int:
    """Nearest integer, halves away from zero (symmetric for set increases and decreases)."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


# ---------------------------------------------------------------------------------------------
# Inputs


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ValueError(message)


@dataclass(frozen=True, slots=True)
class WeighIn:
    day: dt.date
    weight_kg: float

    def __post_init__(self) -> None:
        _check(
            math.isfinite(self.weight_kg) and 20 <= self.weight_kg <= 400,
            f"weight_kg out of range: {self.weight_kg}",
        )


@dataclass(frozen=True, slots=True)
class DayIntake:
    """Logged intake of one day (kcal summed over the day's logged meals)."""

    day: dt.date
    kcal: float

    def __post_init__(self) -> None:
        _check(math.isfinite(self.kcal) and self.kcal >= 0, f"kcal out of range: {self.kcal}")


@dataclass(frozen=True, slots=True)
class TrendPoint:
    day: dt.date
    trend_kg: float


@dataclass(frozen=True, slots=True)
class MacroGrams:
    """A program's daily macro targets (grams)."""

    protein_g: int
    carbs_g: int
    fat_g: int
    fiber_g: int

    def as_json(self) -> dict[str, int]:
        return {
            "protein_g": self.protein_g,
            "carbs_g": self.carbs_g,
            "fat_g": self.fat_g,
            "fiber_g": self.fiber_g,
        }


@dataclass(frozen=True, slots=True)
class MuscleInput:
    """One trained muscle group: its current weekly hard sets and the period's signals.

    ``e1rm_trend_pct``: % change of the e1RM of the muscle's exercises over the period (None:
    no data). ``soreness_avg``: a per-muscle 1-10 average when one exists, else the period's.
    """

    muscle: MuscleGroup
    sets: int
    e1rm_trend_pct: float | None = None
    soreness_avg: float | None = None

    def __post_init__(self) -> None:
        _check(self.muscle in LANDMARKS, f"unknown muscle group: {self.muscle}")
        _check(0 <= self.sets <= 60, f"sets out of range: {self.sets}")
        _check(
            self.soreness_avg is None or 1 <= self.soreness_avg <= 10,
            f"soreness_avg must be 1-10: {self.soreness_avg}",
        )


@dataclass(frozen=True, slots=True)
class PeriodInputs:
    """Everything one program's reassessment needs for one period, as plain values.

    ``kcal``/``macros``/``muscles[].sets``: the program's effective targets before this period's
    changes. ``target_rate_kg_per_week``: signed (negative = loss; see
    :func:`target_rate_kg_per_week`). ``tdee_kcal``: the program's TDEE, if known.
    Adherences are fractions 0-1; ``soreness_avg`` is the context log's 1-10 average.
    """

    period_start: dt.date
    period_end: dt.date
    goal: Goal
    sex: Sex
    target_rate_kg_per_week: float
    kcal: int
    macros: MacroGrams
    tdee_kcal: float | None = None
    weigh_ins: tuple[WeighIn, ...] = ()
    intake: tuple[DayIntake, ...] = ()
    session_adherence: float | None = None
    meal_adherence: float | None = None
    soreness_avg: float | None = None
    muscles: tuple[MuscleInput, ...] = ()
    mesocycle_weeks: int = 5
    start_weight_kg: float | None = None
    start_weight_day: dt.date | None = None

    def __post_init__(self) -> None:
        _check(self.period_start <= self.period_end, "period_start must be <= period_end")
        _check(self.sex in FLOORS, f"unknown sex: {self.sex}")
        _check(abs(self.target_rate_kg_per_week) <= 3, "target rate out of range")
        _check(0 < self.kcal <= 10000, f"kcal out of range: {self.kcal}")
        for name in ("session_adherence", "meal_adherence"):
            value = getattr(self, name)
            _check(value is None or 0 <= value <= 1, f"{name} must be 0-1: {value}")
        _check(
            self.soreness_avg is None or 1 <= self.soreness_avg <= 10,
            f"soreness_avg must be 1-10: {self.soreness_avg}",
        )
        _check(self.mesocycle_weeks >= 2, "mesocycle_weeks must be >= 2")
        _check(
            self.start_weight_day is None or self.start_weight_day < self.period_start,
            "start_weight_day must be before period_start",
        )
        names = [m.muscle for m in self.muscles]
        _check(len(names) == len(set(names)), "a muscle group is listed twice")

    @property
    def days(self) -> int:
        return (self.period_end - self.period_start).days + 1

    @property
    def weeks(self) -> int:
        return self.days // 7


# ---------------------------------------------------------------------------------------------
# State and outputs


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ControllerState(_Model):
    """Per-program controller memory, stored by the caller (JSON) between reassessments."""

    version: str = CONTROLLER_VERSION
    calorie_integral: float = 0.0
    calorie_previous_error: float | None = None
    tdee_reference_kcal: float | None = Field(
        default=None, description="the TDEE the 25 % deficit cap uses (see tdee_reference)"
    )
    volume_integral: float = 0.0
    volume_previous_error: float | None = None
    trend_day: dt.date | None = None
    trend_kg: float | None = None
    weeks_since_deload: int = Field(default=0, ge=0)
    deload_starts_in_weeks: int | None = Field(
        default=None, ge=0, description="a deload scheduled by the last reassessment"
    )
    periods: int = Field(default=0, ge=0)

    @property
    def trend(self) -> TrendPoint | None:
        if self.trend_day is None or self.trend_kg is None:
            return None
        return TrendPoint(self.trend_day, self.trend_kg)


class ChangeItem(_Model):
    """One change = one ``plan_change_events`` row (see :meth:`event`)."""

    kind: ChangeKind
    muscle: MuscleGroup | None = None
    old: dict[str, Any]
    new: dict[str, Any]
    reason_code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")
    terms: dict[str, Any]

    @property
    def entity_type(self) -> EntityType:
        return "muscle_group" if self.kind == "volume" else "program"

    def event(self) -> dict[str, Any]:
        """The ``plan_change_events`` columns this change fills (JSON-ready)."""
        return {
            "entity_type": self.entity_type,
            "change_type": self.kind,
            "old_value": self.old,
            "new_value": self.new,
            "reason_code": self.reason_code,
            "controller_terms": self.terms,
        }


class Measurements(_Model):
    """What the period's data says, reported with the changes (and when nothing changed)."""

    weigh_in_days: int
    intake_days: int
    confidence: float
    trend_start_day: dt.date | None
    trend_start_kg: float | None
    trend_end_day: dt.date | None
    trend_end_kg: float | None
    trend_days: int | None
    observed_rate_kg_per_week: float | None
    mean_intake_kcal: float | None
    expenditure_kcal: float | None


class Reassessment(_Model):
    version: str = CONTROLLER_VERSION
    changes: list[ChangeItem]
    state: ControllerState
    measurements: Measurements
    calorie_terms: dict[str, Any]
    volume_terms: dict[str, Any]


# ---------------------------------------------------------------------------------------------
# Trend weight, observed rate, confidence, expenditure


def daily_means(weigh_ins: Sequence[WeighIn]) -> list[tuple[dt.date, float]]:
    """One value per day (the mean of that day's weigh-ins), in date order."""
    by_day: dict[dt.date, list[float]] = {}
    for w in weigh_ins:
        by_day.setdefault(w.day, []).append(w.weight_kg)
    return [(day, math.fsum(v) / len(v)) for day, v in sorted(by_day.items())]


def trend_series(
    weigh_ins: Sequence[WeighIn], start: TrendPoint | None, alpha: float = TREND_ALPHA
) -> list[TrendPoint]:
    """The trend after each weigh-in day (``start`` first when given); see the module doc."""
    days = daily_means(weigh_ins)
    points: list[TrendPoint] = []
    if start is not None:
        points.append(start)
        days = [(d, w) for d, w in days if d > start.day]
    elif days:
        d0, w0 = days.pop(0)
        points.append(TrendPoint(d0, w0))
    for day, weight in days:
        prev = points[-1]
        gap = (day - prev.day).days
        points.append(TrendPoint(day, weight + (prev.trend_kg - weight) * (1 - alpha) ** gap))
    return points


def trend_after(
    weigh_ins: Sequence[WeighIn], start: TrendPoint | None, alpha: float = TREND_ALPHA
) -> TrendPoint | None:
    """The trend point after the last weigh-in (``start`` when there is none after it)."""
    series = trend_series(weigh_ins, start, alpha)
    return series[-1] if series else None


def observed_rate(start: TrendPoint, end: TrendPoint) -> float | None:
    """Trend change / days · 7 (kg/week); None when the points are on the same day."""
    days = (end.day - start.day).days
    if days <= 0:
        return None
    return (end.trend_kg - start.trend_kg) / days * 7


def data_confidence(weigh_in_days: int, intake_days: int) -> float:
    """c = min(1, weigh-in days / 6) · min(1, logged intake days / 10)."""
    return min(1.0, weigh_in_days / CONFIDENCE_WEIGH_IN_DAYS) * min(
        1.0, intake_days / CONFIDENCE_INTAKE_DAYS
    )


def expenditure_estimate(
    intake_kcal: Sequence[float], delta_trend_kg: float, days: int
) -> float | None:
    """Energy balance: mean intake - ΔT · 7700 / days; None with intake on fewer than 10 days."""
    if len(intake_kcal) < EXPENDITURE_MIN_INTAKE_DAYS or days <= 0:
        return None
    return math.fsum(intake_kcal) / len(intake_kcal) - delta_trend_kg * KCAL_PER_KG / days


def target_rate_kg_per_week(calories: CalorieTarget) -> float:
    """The signed weekly rate a program aims at (negative = loss), from its calorie target.

    fat_loss / muscle_gain: the chosen rate in kg/week (after the rate clamps), or, when a
    deficit/surplus cap limited the plan, the capped plan's rate (the controller should chase
    what the plan can safely deliver); maintenance: 0; recomposition/performance: the planned
    rate of their TDEE factor.
    """
    capped = {"deficit_capped", "no_deficit", "surplus_capped"} & set(calories.adjustments)
    if calories.goal in ("fat_loss", "muscle_gain") and calories.rate_kg_per_week is not None:
        if capped:
            return round(calories.planned_rate_kg_per_week, 4)
        sign = -1.0 if calories.goal == "fat_loss" else 1.0
        return round(sign * calories.rate_kg_per_week, 4)
    if calories.goal == "maintenance":
        return 0.0
    return round(calories.planned_rate_kg_per_week, 4)


@dataclass(frozen=True, slots=True)
class _PeriodData:
    start: TrendPoint | None
    end: TrendPoint | None
    rate: float | None
    confidence: float
    expenditure: float | None
    seeded: bool
    measurements: Measurements


def measure(inputs: PeriodInputs, state: ControllerState) -> _PeriodData:
    """Trend, observed rate, confidence and expenditure for the period."""
    in_period = [w for w in inputs.weigh_ins if inputs.period_start <= w.day <= inputs.period_end]
    intake = [i for i in inputs.intake if inputs.period_start <= i.day <= inputs.period_end]
    intake_by_day: dict[dt.date, float] = {}
    for i in intake:
        intake_by_day[i.day] = intake_by_day.get(i.day, 0.0) + i.kcal
    weigh_in_days = len({w.day for w in in_period})
    start = state.trend
    if start is None and inputs.start_weight_kg is not None:
        seed_day = inputs.start_weight_day or inputs.period_start - dt.timedelta(days=1)
        start = TrendPoint(seed_day, inputs.start_weight_kg)
    series = trend_series(in_period, start)
    first = series[0] if series else None
    last = series[-1] if series else None
    rate = None if first is None or last is None else observed_rate(first, last)
    trend_days = None if first is None or last is None else (last.day - first.day).days
    intake_values = [intake_by_day[d] for d in sorted(intake_by_day)]
    mean_intake = math.fsum(intake_values) / len(intake_values) if intake_values else None
    expenditure = None
    if first is not None and last is not None and rate is not None and trend_days:
        expenditure = expenditure_estimate(
            intake_values, last.trend_kg - first.trend_kg, trend_days
        )
    confidence = data_confidence(weigh_in_days, len(intake_values))
    m = Measurements(
        weigh_in_days=weigh_in_days,
        intake_days=len(intake_values),
        confidence=_r(confidence),
        trend_start_day=None if first is None else first.day,
        trend_start_kg=None if first is None else _r(first.trend_kg),
        trend_end_day=None if last is None else last.day,
        trend_end_kg=None if last is None else _r(last.trend_kg),
        trend_days=trend_days,
        observed_rate_kg_per_week=None if rate is None else _r(rate),
        mean_intake_kcal=None if mean_intake is None else _r(mean_intake),
        expenditure_kcal=None if expenditure is None else _r(expenditure),
    )
    return _PeriodData(
        start=first,
        end=last,
        rate=rate,
        confidence=confidence,
        expenditure=expenditure,
        seeded=state.trend is None,
        measurements=m,
    )


# ---------------------------------------------------------------------------------------------
# Calorie controller


@dataclass(frozen=True, slots=True)
class CalorieInputs:
    """The calorie controller's inputs (what :func:`reassess` derives from PeriodInputs)."""

    goal: Goal
    sex: Sex
    target_rate_kg_per_week: float
    observed_rate_kg_per_week: float | None
    confidence: float
    kcal: int
    tdee_reference_kcal: float | None = None
    tdee_source: str = "none"
    session_adherence: float | None = None
    meal_adherence: float | None = None


@dataclass(frozen=True, slots=True)
class CalorieOutcome:
    new_kcal: int
    change_kcal: int
    reason_code: str | None
    integral: float
    previous_error: float | None
    terms: dict[str, Any] = field(default_factory=dict)


def tdee_reference(
    previous: float | None, program_tdee: float | None, estimate: float | None
) -> tuple[float | None, str]:
    """The TDEE the 25 % deficit cap is measured against, and where it comes from.

    Starts at the program's TDEE; every period with an energy-balance estimate moves it half
    way to that estimate (``(previous + estimate) / 2``): one period's estimate is noisy, and
    halving each step keeps the cap stable while following a true expenditure that differs
    from the equations. :func:`reassess` passes no estimate for a period whose trend was
    seeded (no carried trend): the lagging EWMA sees only about half of that period's weight
    change, which biases the estimate towards the intake.
    """
    base = previous if previous is not None else program_tdee
    if estimate is None:
        if base is None:
            return None, "none"
        return base, "carried" if previous is not None else "program_tdee"
    if base is None:
        return estimate, "expenditure_estimate"
    return (base + estimate) / 2, "blended_expenditure_estimate"


def deficit_bound(sex: Sex, tdee_estimate: float | None) -> tuple[int, str]:
    """The lowest kcal a decrease may reach: the sex floor and 75 % of the TDEE estimate."""
    floor = FLOORS[sex]
    if tdee_estimate is None:
        return floor, "sex_floor"
    cap = int(math.ceil((1 - DEFICIT_CAP) * tdee_estimate / 10 - 1e-9) * 10)
    return (cap, "deficit_cap_25pct_tdee") if cap > floor else (floor, "sex_floor")


def calorie_controller(
    inp: CalorieInputs,
    integral: float,
    previous_error: float | None,
    gains: CalorieGains = DEFAULT_CALORIE_GAINS,
) -> CalorieOutcome:
    """The calorie PID with its clamps, guards, floors and deadband (see the module doc)."""
    floor = FLOORS[inp.sex]
    bound, bound_reason = deficit_bound(inp.sex, inp.tdee_reference_kcal)
    base: dict[str, Any] = {
        "version": CONTROLLER_VERSION,
        "goal": inp.goal,
        "target_rate_kg_per_week": _r(inp.target_rate_kg_per_week),
        "observed_rate_kg_per_week": (
            None if inp.observed_rate_kg_per_week is None else _r(inp.observed_rate_kg_per_week)
        ),
        "confidence": _r(inp.confidence),
        "kp": gains.kp,
        "ki": gains.ki,
        "kd": gains.kd,
        "integral_prev": _r(integral),
        "error_prev": None if previous_error is None else _r(previous_error),
        "kcal_before": inp.kcal,
        "sex_floor_kcal": floor,
        "tdee_reference_kcal": (
            None if inp.tdee_reference_kcal is None else _r(inp.tdee_reference_kcal)
        ),
        "tdee_source": inp.tdee_source,
        "lower_bound_kcal": bound,
        "lower_bound_reason": bound_reason,
        "session_adherence": inp.session_adherence,
        "meal_adherence": inp.meal_adherence,
    }
    if inp.observed_rate_kg_per_week is None:
        # No trend over the period: nothing to control on; only the hard floor applies.
        change = floor - inp.kcal if inp.kcal < floor else 0
        terms = {**base, "skipped": "no_observed_rate", "limits": [], "change_kcal": change}
        return CalorieOutcome(
            new_kcal=inp.kcal + change,
            change_kcal=change,
            reason_code="floor_applied" if change else None,
            integral=integral,
            previous_error=previous_error,
            terms=terms,
        )

    e = inp.target_rate_kg_per_week - inp.observed_rate_kg_per_week
    new_integral = _clamp(integral + e, -INTEGRAL_LIMIT, INTEGRAL_LIMIT)
    d = 0.0 if previous_error is None else e - previous_error
    p_term, i_term, d_term = gains.kp * e, gains.ki * new_integral, gains.kd * d
    raw = inp.confidence * (p_term + i_term + d_term)
    clamped = _clamp(raw, -KCAL_CLAMP, KCAL_CLAMP)
    step = round_kcal(clamped)
    limits: list[str] = []

    if (e < 0 < step) or (step < 0 < e):
        limits.append("direction_guard")
        step = 0
    adherent = (
        inp.session_adherence is not None
        and inp.meal_adherence is not None
        and inp.session_adherence >= ADHERENCE_GATE
        and inp.meal_adherence >= ADHERENCE_GATE
    )
    if step < 0 and not adherent:
        limits.append("adherence_gate")
        step = 0
    if step < 0 and inp.kcal + step < bound:
        limits.append(bound_reason)
        step = min(0, bound - inp.kcal)
    if step != 0 and abs(step) < KCAL_DEADBAND:
        limits.append("deadband")
        step = 0
    if inp.kcal + step < floor:
        limits.append("sex_floor_raise")
        step = floor - inp.kcal

    reason: str | None = None
    if "sex_floor_raise" in limits:
        reason = "floor_applied"
    elif step < 0:
        reason = "weight_trend_above_target"
    elif step > 0:
        reason = "weight_trend_below_target"
    terms = {
        **base,
        "error": _r(e),
        "integral": _r(new_integral),
        "derivative": _r(d),
        "p_term": _r(p_term),
        "i_term": _r(i_term),
        "d_term": _r(d_term),
        "raw_kcal": _r(raw),
        "clamped_kcal": _r(clamped),
        "rounded_kcal": round_kcal(clamped),
        "limits": limits,
        "change_kcal": step,
    }
    return CalorieOutcome(
        new_kcal=inp.kcal + step,
        change_kcal=step,
        reason_code=reason,
        integral=new_integral,
        previous_error=e,
        terms=terms,
    )


def macros_after(macros: MacroGrams, change_kcal: int) -> MacroGrams:
    """Protein and fat kept, carbs take Δkcal/4; below 0 carbs, fat takes the rest (/9)."""
    new_kcal_delta_carbs = macros.carbs_g + change_kcal / KCAL_PER_G["carbs"]
    carbs = round_g(new_kcal_delta_carbs)
    fat = macros.fat_g
    if carbs < 0:
        rest_kcal = new_kcal_delta_carbs * KCAL_PER_G["carbs"]  # negative: what carbs cannot give
        carbs = 0
        fat = max(0, round_g(macros.fat_g + rest_kcal / KCAL_PER_G["fat"]))
    return MacroGrams(protein_g=macros.protein_g, carbs_g=carbs, fat_g=fat, fiber_g=macros.fiber_g)


def _with_fiber(macros: MacroGrams, kcal: int) -> MacroGrams:
    return MacroGrams(
        protein_g=macros.protein_g,
        carbs_g=macros.carbs_g,
        fat_g=macros.fat_g,
        fiber_g=round_g(FIBER_G_PER_1000_KCAL * kcal / 1000),
    )


# ---------------------------------------------------------------------------------------------
# Volume controller


def soreness_score(avg_1_10: float | None) -> int | None:
    """Context-log soreness average (1-10) -> RP soreness 0-3: <3 0, <5 1, <=7 2, >7 3."""
    if avg_1_10 is None:
        return None
    if avg_1_10 < 3:
        return 0
    if avg_1_10 < 5:
        return 1
    if avg_1_10 <= 7:
        return 2
    return 3


def performance_score(e1rm_trend_pct: float | None) -> int | None:
    """e1RM trend (%) -> 0-3: >= +2.5 0, >= 0 1, >= -2.5 2, else 3."""
    if e1rm_trend_pct is None:
        return None
    if e1rm_trend_pct >= 2.5:
        return 0
    if e1rm_trend_pct >= 0:
        return 1
    if e1rm_trend_pct >= -2.5:
        return 2
    return 3


def rp_table(soreness: int, performance: int) -> int | str:
    """The RP table entry: a set change or ``"recovery"``."""
    return RP_TABLE[soreness][performance]


@dataclass(frozen=True, slots=True)
class MultiplierOutcome:
    multiplier: float
    integral: float
    previous_error: float | None
    terms: dict[str, Any]


def volume_multiplier(
    session_adherence: float | None,
    integral: float,
    previous_error: float | None,
    gains: VolumeGains = DEFAULT_VOLUME_GAINS,
) -> MultiplierOutcome:
    """m = clamp(1 + Kp·e + Ki·I + Kd·D, 0.7, 1.1), e = adherence - 0.85, I clamped to ±2."""
    if session_adherence is None:
        return MultiplierOutcome(
            1.0,
            integral,
            previous_error,
            {"skipped": "no_session_adherence", "multiplier": 1.0, "integral_prev": _r(integral)},
        )
    e = session_adherence - ADHERENCE_SETPOINT
    new_integral = _clamp(integral + e, -VOLUME_INTEGRAL_LIMIT, VOLUME_INTEGRAL_LIMIT)
    d = 0.0 if previous_error is None else e - previous_error
    u = gains.kp * e + gains.ki * new_integral + gains.kd * d
    m = _clamp(1 + u, *MULTIPLIER_RANGE)
    terms = {
        "session_adherence": _r(session_adherence),
        "setpoint": ADHERENCE_SETPOINT,
        "error": _r(e),
        "integral_prev": _r(integral),
        "integral": _r(new_integral),
        "derivative": _r(d),
        "kp": gains.kp,
        "ki": gains.ki,
        "kd": gains.kd,
        "p_term": _r(gains.kp * e),
        "i_term": _r(gains.ki * new_integral),
        "d_term": _r(gains.kd * d),
        "unclamped_multiplier": _r(1 + u),
        "multiplier": _r(m),
    }
    return MultiplierOutcome(m, new_integral, e, terms)


@dataclass(frozen=True, slots=True)
class MuscleOutcome:
    muscle: MuscleGroup
    old_sets: int
    new_sets: int
    recovery: bool
    reason_code: str | None
    terms: dict[str, Any]


def muscle_step(
    muscle: MuscleInput, multiplier: float, default_soreness_avg: float | None
) -> MuscleOutcome:
    """One muscle's set change: multiplier + RP table, ±2 sets, MEV..MRV."""
    lm: Landmarks = LANDMARKS[muscle.muscle]
    soreness_avg = muscle.soreness_avg if muscle.soreness_avg is not None else default_soreness_avg
    soreness = soreness_score(soreness_avg)
    performance = performance_score(muscle.e1rm_trend_pct)
    row = UNKNOWN_SORENESS_ROW if soreness is None else soreness
    entry: int | str | None = None if performance is None else rp_table(row, performance)
    recovery = entry == RECOVERY
    table_delta = RECOVERY_SET_STEP if recovery else (entry if isinstance(entry, int) else 0)
    multiplier_sets = muscle.sets * (multiplier - 1)
    raw = multiplier_sets + table_delta
    step = int(_clamp(round_half_away(raw), -MAX_SET_STEP, MAX_SET_STEP))
    limits: list[str] = []
    if round_half_away(raw) != step:
        limits.append("max_step")
    if recovery and step > 0:
        # A high multiplier can outweigh the recovery's -2 on a big volume (25 sets x 1.1 = +2.5):
        # a muscle that needs recovery keeps its sets at most (MEV still applies below).
        step = 0
        limits.append("recovery")
    bounded = int(_clamp(muscle.sets + step, lm.mev, lm.mrv))
    new = int(_clamp(bounded, muscle.sets - MAX_SET_STEP, muscle.sets + MAX_SET_STEP))
    if bounded != muscle.sets + step:
        limits.append("mrv" if muscle.sets + step > lm.mrv else "mev")
    reason: str | None = None
    if new != muscle.sets:
        if step == 0 or (new - muscle.sets) * step < 0:
            reason = "outside_landmarks"
        elif recovery:
            reason = "recovery_needed"
        elif table_delta > 0 and new > muscle.sets:
            reason = "recovered_and_progressing"
        elif new > muscle.sets:
            reason = "high_session_adherence"
        else:
            reason = "low_session_adherence"
    terms = {
        "soreness_avg": None if soreness_avg is None else _r(soreness_avg),
        "soreness": soreness,
        "soreness_row_used": row,
        "e1rm_trend_pct": None if muscle.e1rm_trend_pct is None else _r(muscle.e1rm_trend_pct),
        "performance": performance,
        "table": entry,
        "table_sets": table_delta,
        "multiplier": _r(multiplier),
        "multiplier_sets": _r(multiplier_sets),
        "raw_sets": _r(raw),
        "step": step,
        "mev": lm.mev,
        "mrv": lm.mrv,
        "limits": limits,
        "change_sets": new - muscle.sets,
    }
    return MuscleOutcome(muscle.muscle, muscle.sets, new, recovery, reason, terms)


@dataclass(frozen=True, slots=True)
class VolumeOutcome:
    multiplier: MultiplierOutcome
    muscles: tuple[MuscleOutcome, ...]
    deload: bool
    deload_reason: str | None
    deload_starts_in_weeks: int | None
    weeks_since_deload: int
    terms: dict[str, Any]


def volume_controller(
    inputs: PeriodInputs, state: ControllerState, gains: VolumeGains = DEFAULT_VOLUME_GAINS
) -> VolumeOutcome:
    """The multiplier, every muscle's set change and the deload decision."""
    mult = volume_multiplier(
        inputs.session_adherence, state.volume_integral, state.volume_previous_error, gains
    )
    outcomes = tuple(muscle_step(m, mult.multiplier, inputs.soreness_avg) for m in inputs.muscles)
    recoveries = sum(o.recovery for o in outcomes)
    n = inputs.mesocycle_weeks
    if state.deload_starts_in_weeks is not None:
        # The deload scheduled last time took place inside this period.
        weeks_done = max(0, inputs.weeks - state.deload_starts_in_weeks - 1)
    else:
        weeks_done = state.weeks_since_deload + inputs.weeks
    deload_reason: str | None = None
    starts: int | None = None
    if 2 * recoveries > len(outcomes) > 0:
        deload_reason, starts = "deload_recovery_needed", 0
    elif weeks_done + inputs.weeks >= n:
        deload_reason, starts = "deload_mesocycle_end", max(0, n - 1 - weeks_done)
    terms = {
        "mesocycle_weeks": n,
        "weeks_since_deload": weeks_done,
        "period_weeks": inputs.weeks,
        "muscles": len(outcomes),
        "recoveries": recoveries,
        "multiplier": mult.terms,
    }
    return VolumeOutcome(
        multiplier=mult,
        muscles=outcomes,
        deload=deload_reason is not None,
        deload_reason=deload_reason,
        deload_starts_in_weeks=starts,
        weeks_since_deload=weeks_done,
        terms=terms,
    )


# ---------------------------------------------------------------------------------------------
# The whole reassessment


def reassess(
    inputs: PeriodInputs,
    state: ControllerState | None = None,
    *,
    calorie_gains: CalorieGains = DEFAULT_CALORIE_GAINS,
    volume_gains: VolumeGains = DEFAULT_VOLUME_GAINS,
) -> Reassessment:
    """One program, one period: the change items and the next controller state."""
    state = state or ControllerState()
    data = measure(inputs, state)
    m = data.measurements
    tdee_ref, tdee_source = tdee_reference(
        state.tdee_reference_kcal,
        inputs.tdee_kcal,
        None if data.seeded else data.expenditure,
    )
    cal = calorie_controller(
        CalorieInputs(
            goal=inputs.goal,
            sex=inputs.sex,
            target_rate_kg_per_week=inputs.target_rate_kg_per_week,
            observed_rate_kg_per_week=data.rate,
            confidence=data.confidence,
            kcal=inputs.kcal,
            tdee_reference_kcal=tdee_ref,
            tdee_source=tdee_source,
            session_adherence=inputs.session_adherence,
            meal_adherence=inputs.meal_adherence,
        ),
        state.calorie_integral,
        state.calorie_previous_error,
        calorie_gains,
    )
    cal_terms = {**cal.terms, "measurements": m.model_dump(mode="json")}
    changes: list[ChangeItem] = []
    if cal.change_kcal != 0 and cal.reason_code is not None:
        changes.append(
            ChangeItem(
                kind="calories",
                old={"kcal": inputs.kcal},
                new={"kcal": cal.new_kcal},
                reason_code=cal.reason_code,
                terms=cal_terms,
            )
        )
        new_macros = _with_fiber(macros_after(inputs.macros, cal.change_kcal), cal.new_kcal)
        changes.append(
            ChangeItem(
                kind="macros",
                old=inputs.macros.as_json(),
                new=new_macros.as_json(),
                reason_code="calories_changed",
                terms={
                    "kcal_before": inputs.kcal,
                    "kcal_after": cal.new_kcal,
                    "change_kcal": cal.change_kcal,
                    "rule": "protein and fat kept; carbs take change/4 (then fat, /9, below 0 g)",
                    "fiber_rule": "14 g per 1000 kcal",
                },
            )
        )

    vol = volume_controller(inputs, state, volume_gains)
    for o in vol.muscles:
        if o.new_sets != o.old_sets and o.reason_code is not None:
            changes.append(
                ChangeItem(
                    kind="volume",
                    muscle=o.muscle,
                    old={"muscle": o.muscle, "sets": o.old_sets},
                    new={"muscle": o.muscle, "sets": o.new_sets},
                    reason_code=o.reason_code,
                    terms={**o.terms, "multiplier_terms": vol.multiplier.terms},
                )
            )
    if vol.deload and vol.deload_reason is not None:
        changes.append(
            ChangeItem(
                kind="deload",
                old={"deload": False},
                new={"deload": True, "starts_in_weeks": vol.deload_starts_in_weeks, "weeks": 1},
                reason_code=vol.deload_reason,
                terms=vol.terms,
            )
        )

    end = data.end
    new_state = ControllerState(
        calorie_integral=cal.integral,
        calorie_previous_error=cal.previous_error,
        tdee_reference_kcal=tdee_ref,
        volume_integral=vol.multiplier.integral,
        volume_previous_error=vol.multiplier.previous_error,
        trend_day=None if end is None else end.day,
        trend_kg=None if end is None else end.trend_kg,
        weeks_since_deload=vol.weeks_since_deload,
        deload_starts_in_weeks=vol.deload_starts_in_weeks,
        periods=state.periods + 1,
    )
    return Reassessment(
        changes=changes,
        state=new_state,
        measurements=m,
        calorie_terms=cal_terms,
        volume_terms={
            **vol.terms,
            "per_muscle": {o.muscle: o.terms for o in vol.muscles},
        },
    )
