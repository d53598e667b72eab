"""A plain-Python reference model of the daily adjustment analysis (DOMAIN §7, issue 7).

Used only by tests: from the day's context log, yesterday's missed session, the 7-day adherence
counts, what the day plans (a session, the meals' kcal), the kcal floor, the TDEE and the user's
preferences, it derives what private.propose_day_override stores: reason codes, severities, the
modes each part was kept with, modifications, approval and confidence (or None: no override).
It also derives what calendar_day shows for an active override (exercises and meal targets).

Arithmetic is exact (fractions.Fraction, built from Decimal inputs); rounded values are Decimal,
rounded half away from zero as PostgreSQL's numeric round() does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from adherence_model import round_half_up

ZERO = Fraction(0)
ONE = Fraction(1)

# The analysis order (reason_codes are listed in it).
TRIGGERS: tuple[str, ...] = (
    "poor_sleep",
    "high_stress",
    "high_soreness",
    "injury",
    "missed_workout",
    "low_adherence",
    "high_adherence",
)
DOMAINS: tuple[str, str] = ("training", "nutrition")
MODES: tuple[str, str, str] = ("auto_apply", "ask", "disable")

# DOMAIN §7 defaults: trigger -> (training mode, nutrition mode).
DEFAULTS: Mapping[str, tuple[str, str]] = {
    "poor_sleep": ("auto_apply", "auto_apply"),
    "high_stress": ("auto_apply", "ask"),
    "high_soreness": ("auto_apply", "disable"),
    "injury": ("ask", "disable"),
    "missed_workout": ("disable", "auto_apply"),
    "low_adherence": ("ask", "ask"),
    "high_adherence": ("auto_apply", "auto_apply"),
}

# Which triggers have an effect in each domain (a part without one is dropped).
TRAINING_EFFECT = frozenset(
    {"poor_sleep", "high_stress", "high_soreness", "injury", "low_adherence"}
)
NUTRITION_EFFECT = frozenset({"high_stress", "missed_workout", "high_adherence"})

# A word of each reason the explanation must contain (lower case).
REASON_WORDS: Mapping[str, str] = {
    "poor_sleep": "sleep",
    "high_stress": "stress",
    "high_soreness": "soreness",
    "injury": "injury",
    "missed_workout": "missed",
    "low_adherence": "adherence",
    "high_adherence": "adherence",
}

KCAL_CAP = 500
TDEE_MARGIN = 500
GRACE_MINUTES = 120
UNDO_HOURS = 24

Number = Fraction | Decimal | int
Preferences = Mapping[tuple[str, str], str]


def floor_kcal(sex: str | None) -> int:
    """The daily kcal floor: 1200 for women, 1500 for men and when the sex is unknown."""
    return 1200 if sex == "female" else 1500


def mode(preferences: Preferences, trigger: str, domain: str) -> str:
    """The user's mode for (trigger, domain), else the DOMAIN §7 default."""
    default = DEFAULTS[trigger][0 if domain == "training" else 1]
    return preferences.get((trigger, domain), default)


# ------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Context:
    """One user_context_log row (the fields the analysis reads)."""

    sleep_hours: Decimal | None = None
    sleep_quality: int | None = None
    stress_level: int | None = None
    soreness_level: int | None = None
    energy_level: int | None = None
    injury_notes: str | None = None


@dataclass(frozen=True)
class Adherence:
    """Sums of adherence_daily counts (both kinds) over the 7 days before the day."""

    completed: int = 0
    similar: int = 0
    partial: int = 0
    skipped: int = 0

    @property
    def pct(self) -> Fraction | None:
        """100 x (completed + 0.75 similar + 0.4 partial) / decided, exact; None if none."""
        decided = self.completed + self.similar + self.partial + self.skipped
        if decided == 0:
            return None
        points = self.completed + Fraction(3, 4) * self.similar + Fraction(2, 5) * self.partial
        return 100 * points / decided


@dataclass(frozen=True)
class Day:
    """What the day plans, and the bounds of its kcal."""

    has_session: bool = True  # a planned non-rest session of the program in force
    planned_kcal: Decimal | None = Decimal(2000)  # sum of the meals' kcal; None: no meal
    floor_kcal: int = 1500
    tdee_kcal: Decimal | None = Decimal(2500)


# ------------------------------------------------------------------ outputs


@dataclass(frozen=True)
class Reason:
    """One element of day_overrides.triggers."""

    trigger: str
    severity: Decimal
    training: str | None
    nutrition: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "trigger": self.trigger,
            "severity": self.severity,
            "training": self.training,
            "nutrition": self.nutrition,
        }


@dataclass(frozen=True)
class Proposal:
    reasons: tuple[Reason, ...]
    modifications: Mapping[str, Decimal | int | str] = field(default_factory=dict)

    @property
    def reason_codes(self) -> list[str]:
        return [r.trigger for r in self.reasons]

    @property
    def approval(self) -> str:
        """ask when any kept part asks, else auto_apply."""
        modes = {m for r in self.reasons for m in (r.training, r.nutrition)}
        return "ask" if "ask" in modes else "auto_apply"

    @property
    def confidence(self) -> Decimal:
        """The greatest severity / 10, to 3 places."""
        return round_half_up(max(Fraction(r.severity) for r in self.reasons) / 10, 3)

    @property
    def triggers(self) -> list[dict[str, object]]:
        return [r.as_json() for r in self.reasons]


# ----------------------------------------------------------------- analysis


def sleep_severity(hours: Number | None, quality: int | None) -> Fraction | None:
    """min(10, (6 - h) x 2) below 6 h, 5 for quality below 5, the greater of both; None if fine."""
    candidates = []
    if hours is not None and hours < 6:
        candidates.append(min(Fraction(10), (6 - Fraction(hours)) * 2))
    if quality is not None and quality < 5:
        candidates.append(Fraction(5))
    return max(candidates) if candidates else None


def severities(
    context: Context, *, missed_yesterday: bool = False, adherence: Adherence = Adherence()
) -> dict[str, Fraction]:
    """The triggers that fire, in TRIGGERS order, with their severity."""
    found: dict[str, Fraction] = {}
    sleep = sleep_severity(context.sleep_hours, context.sleep_quality)
    if sleep is not None:
        found["poor_sleep"] = sleep
    if context.stress_level is not None and context.stress_level > 7:
        found["high_stress"] = Fraction(context.stress_level)
    if context.soreness_level is not None and context.soreness_level > 7:
        found["high_soreness"] = Fraction(context.soreness_level)
    if context.injury_notes is not None:
        found["injury"] = Fraction(9)
    if missed_yesterday:
        found["missed_workout"] = Fraction(6)
    pct = adherence.pct
    if pct is not None and pct < 50:
        found["low_adherence"] = Fraction(6)
    elif pct is not None and pct > 95:
        found["high_adherence"] = Fraction(3)
    return found


def sleep_volume_factor(severity: Fraction) -> Fraction:
    return 1 - min(Fraction(3, 10), severity / 50)


def volume_factor(trigger: str, severity: Fraction) -> Fraction | None:
    """The training volume factor of a trigger (None: it does not touch volume)."""
    if trigger == "poor_sleep":
        return sleep_volume_factor(severity)
    return {"high_stress": Fraction(85, 100), "high_soreness": Fraction(3, 4)}.get(trigger)


def kcal_part(trigger: str, severity: Fraction) -> Fraction | None:
    """The kcal change of a trigger's nutrition part (None: no nutrition effect)."""
    if trigger == "high_stress":
        return Fraction(150)
    if trigger == "missed_workout":
        return -min(Fraction(400), 40 * severity)
    if trigger == "high_adherence":
        return Fraction(200)
    return None


def cap_kcal(total: Fraction, day: Day) -> Fraction:
    """+-500, then the floor (a cut) / TDEE + 500 (a raise) without turning the change around,
    then truncated toward zero to a multiple of 10."""
    capped = max(Fraction(-KCAL_CAP), min(Fraction(KCAL_CAP), total))
    planned = Fraction(day.planned_kcal or 0)
    if capped < 0:
        capped = min(ZERO, max(capped, day.floor_kcal - planned))
    elif capped > 0 and day.tdee_kcal is not None:
        capped = max(ZERO, min(capped, Fraction(day.tdee_kcal) + TDEE_MARGIN - planned))
    return Fraction(math.trunc(capped / 10) * 10)


def analyse(
    context: Context,
    *,
    missed_yesterday: bool = False,
    adherence: Adherence = Adherence(),
    day: Day = Day(),
    preferences: Preferences | None = None,
) -> Proposal | None:
    """The override the day gets, or None."""
    preferences = preferences or {}
    reasons: list[Reason] = []
    volume: Fraction | None = None
    kcal: Fraction | None = None
    mods: dict[str, Decimal | int | str] = {}
    found = severities(context, missed_yesterday=missed_yesterday, adherence=adherence)
    for trigger, severity in found.items():
        training: str | None = None
        nutrition: str | None = None
        if day.has_session and trigger in TRAINING_EFFECT:
            training = mode(preferences, trigger, "training")
        if day.planned_kcal is not None and trigger in NUTRITION_EFFECT:
            nutrition = mode(preferences, trigger, "nutrition")
        training = None if training == "disable" else training
        nutrition = None if nutrition == "disable" else nutrition
        if training is None and nutrition is None:
            continue
        if training is not None:
            factor = volume_factor(trigger, severity)
            if factor is not None:
                volume = (volume if volume is not None else ONE) * factor
            if trigger == "poor_sleep":
                mods["intensity_multiplier"] = Decimal("0.9")
            elif trigger == "high_soreness":
                mods["rir_delta"] = 1
            elif trigger == "injury":
                mods["replace_session"] = "mobility"
            elif trigger == "low_adherence":
                mods["set_delta"] = -1
        if nutrition is not None:
            part = kcal_part(trigger, severity)
            assert part is not None
            kcal = (kcal if kcal is not None else ZERO) + part
        reasons.append(Reason(trigger, _decimal(severity), training, nutrition))
    if not reasons:
        return None
    if volume is not None:
        mods["volume_multiplier"] = round_half_up(max(Fraction(1, 2), min(ONE, volume)), 3)
    if kcal is not None:
        delta = cap_kcal(kcal, day)
        mods["kcal_delta"] = int(delta)
        mods["carbs_delta_g"] = int(round_half_up(delta / 4, 0))
    return Proposal(tuple(reasons), mods)


def _decimal(value: Fraction) -> Decimal:
    """An exact Decimal of a severity (a multiple of 0.2 or an integer)."""
    result = round_half_up(value, 1)
    assert Fraction(result) == value
    return result


# ------------------------------------------------------ the adjusted plan


@dataclass(frozen=True)
class Exercise:
    sets: int
    target_rir: int | None = None
    target_pct_1rm: Decimal | None = None


def adjust_exercise(
    exercise: Exercise, modifications: Mapping[str, Decimal | int | str] | None
) -> tuple[int, int | None, Decimal | None]:
    """(sets, target_rir, target_pct_1rm) under an active override's modifications (None: none)."""
    mods = modifications or {}
    if "replace_session" in mods:
        sets = 0
    else:
        volume = Fraction(Decimal(mods.get("volume_multiplier", 1)))
        sets = max(1, int(round_half_up(exercise.sets * volume, 0)) + int(mods.get("set_delta", 0)))
    rir = exercise.target_rir
    if rir is not None:
        rir = min(5, rir + int(mods.get("rir_delta", 0)))
    pct = exercise.target_pct_1rm
    if pct is not None:
        intensity = Fraction(Decimal(mods.get("intensity_multiplier", 1)))
        pct = round_half_up(Fraction(pct) * intensity, 1)
    return sets, rir, pct


def adjust_meal(
    targets: Mapping[str, Decimal], day_kcal: Decimal, kcal_delta: int
) -> dict[str, Decimal]:
    """A meal's targets after the day's kcal change, shared by its part of the day's kcal and
    taken from or given to carbs (kcal / 4 per gram); to 1 decimal."""
    share = Fraction(kcal_delta) * Fraction(targets["kcal"]) / Fraction(day_kcal)
    return {
        **targets,
        "kcal": round_half_up(Fraction(targets["kcal"]) + share, 1),
        "carbs_g": round_half_up(Fraction(targets["carbs_g"]) + share / 4, 1),
    }
