"""Energy, calorie and macro targets, the safety gate and feasibility (DOMAIN §1-§3), and e1RM.

Pure functions, no I/O. Inputs are frozen dataclasses that validate their bounds
(a :class:`DomainError` names the offending field); outputs are frozen pydantic
models whose ``model_dump(mode="json")`` is what a ``ProgramBundle`` stores in
``tdee``, ``macros``, ``safety`` and ``feasibility``: each carries its inputs,
the formula/version and the intermediate values.

Entry points: :func:`compute_tdee`, :func:`compute_calorie_target`,
:func:`compute_macros`, :func:`safety_gate`, :func:`assess_feasibility`,
:func:`compute_energy` (all four of the first in one call), :func:`epley`,
:func:`brzycki`, :func:`activity_kcal`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sharpened.programs.bundle import Goal

ENERGY_VERSION = "energy/1.0"

Sex = Literal["male", "female"]
ActivityLevel = Literal["sedentary", "light", "moderate", "very", "extra"]
DietaryPreference = Literal[
    "omnivore", "vegetarian", "vegan", "pescatarian", "keto", "paleo", "halal", "kosher"
]
Severity = Literal["block", "warn", "info"]

# §1
PAL: dict[ActivityLevel, float] = {
    "sedentary": 1.2,
    "light": 1.375,
    "moderate": 1.55,
    "very": 1.725,
    "extra": 1.9,
}
AGE_RANGE = (13, 100)
WEIGHT_RANGE = (30.0, 300.0)
HEIGHT_RANGE = (120.0, 230.0)
BODY_FAT_RANGE = (3.0, 60.0)

# §2
KCAL_PER_KG = 7700.0
# goal -> (default, min, max) rate in % body weight per week
GOAL_RATES: dict[Goal, tuple[float, float, float]] = {
    "fat_loss": (0.7, 0.25, 1.0),
    "muscle_gain": (0.35, 0.25, 0.5),
}
GOAL_FACTORS: dict[Goal, float] = {"recomposition": 0.95, "maintenance": 1.0, "performance": 1.05}
DEFICIT_CAP = 0.25
MINOR_DEFICIT_CAP = 0.10
SURPLUS_CAP = 0.15
MAX_LOSS_PCT_PER_WEEK = 1.0
FLOORS: dict[Sex, int] = {"female": 1200, "male": 1500}
PROTEIN_G_PER_KG: dict[Goal, float] = {
    "fat_loss": 2.0,
    "muscle_gain": 1.8,
    "recomposition": 2.2,
    "maintenance": 1.6,
    "performance": 1.6,
}
PROTEIN_HIGH_DEFICIT_G_PER_KG = 2.3
HIGH_DEFICIT_FRACTION = 0.20
PROTEIN_OLDER_BONUS = 0.2
OLDER_AGE = 65
PROTEIN_RANGE = (1.6, 2.4)
FAT_MIN_G_PER_KG = 0.6
FAT_MIN_KCAL_FRACTION = 0.20
FAT_DEFAULT_RANGE = (0.8, 1.0)
FAT_DEFAULT_KCAL_FRACTION = 0.25
FIBER_G_PER_1000_KCAL = 14.0
KCAL_PER_G = {"protein": 4, "carbs": 4, "fat": 9}

# §3
BMI_BLOCK = 16.0
BMI_UNDERWEIGHT = 18.5
BMI_SEVERE_OBESITY = 40.0
MINOR_AGE = 18


class DomainError(ValueError):
    """An input outside the domain's bounds; ``field`` names it (maps to a 422)."""

    def __init__(self, field: str, value: object, message: str) -> None:
        super().__init__(f"{field}: {message} (got {value!r})")
        self.field = field
        self.value = value
        self.message = message


def _check_range(field: str, value: float, lo: float, hi: float, unit: str = "") -> None:
    if not math.isfinite(value) or not lo <= value <= hi:
        raise DomainError(field, value, f"must be between {lo:g} and {hi:g}{unit}")


def round_kcal(kcal: float) -> int:
    """Round kcal to the nearest 10 (halves up)."""
    return math.floor(kcal / 10 + 0.5) * 10


def round_g(grams: float) -> int:
    """Round grams to the nearest 1 (halves up)."""
    return math.floor(grams + 0.5)


def age_on(date_of_birth: dt.date, on: dt.date) -> int:
    """Completed years on ``on`` (profiles store date_of_birth, the equations take age)."""
    return (
        on.year
        - date_of_birth.year
        - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    )


# ---------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True, slots=True)
class Person:
    """Who the targets are for. ``body_fat_pct`` in percent (15 = 15 %)."""

    age: int
    sex: Sex
    weight_kg: float
    height_cm: float
    activity_level: ActivityLevel
    body_fat_pct: float | None = None

    def __post_init__(self) -> None:
        _check_range("age", self.age, *AGE_RANGE, " years")
        if self.sex not in FLOORS:
            raise DomainError("sex", self.sex, "must be 'male' or 'female'")
        _check_range("weight_kg", self.weight_kg, *WEIGHT_RANGE, " kg")
        _check_range("height_cm", self.height_cm, *HEIGHT_RANGE, " cm")
        if self.body_fat_pct is not None:
            _check_range("body_fat_pct", self.body_fat_pct, *BODY_FAT_RANGE, " %")
        if self.activity_level not in PAL:
            raise DomainError("activity_level", self.activity_level, f"must be one of {list(PAL)}")

    @property
    def bmi(self) -> float:
        return self.weight_kg / (self.height_cm / 100) ** 2


@dataclass(frozen=True, slots=True)
class MedicalFlags:
    """The profile's medical flags (profiles.is_pregnant_or_breastfeeding, has_*)."""

    pregnant_or_breastfeeding: bool = False
    cardiac_condition: bool = False
    type1_diabetes: bool = False
    eating_disorder_history: bool = False


@dataclass(frozen=True, slots=True)
class GoalInput:
    """The primary goal and, for fat_loss/muscle_gain, the chosen rate (% BW/week)."""

    goal: Goal
    rate_pct_per_week: float | None = None

    def __post_init__(self) -> None:
        if self.goal not in PROTEIN_G_PER_KG:
            raise DomainError("primary_goal", self.goal, f"must be one of {list(PROTEIN_G_PER_KG)}")
        if self.rate_pct_per_week is not None:
            _check_range("goal_rate_pct_per_week", self.rate_pct_per_week, 0.0, 5.0, " %/week")


# ---------------------------------------------------------------------------------------------
# Outputs


class Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BmrEquation(Result):
    equation: Literal["mifflin_st_jeor", "katch_mcardle"]
    formula: str
    bmr_kcal: float


class TdeeResult(Result):
    """Stored in ``programs.tdee``."""

    version: str = ENERGY_VERSION
    inputs: dict[str, Any]
    equations: list[BmrEquation]
    spread_kcal: float = Field(description="max - min BMR over the equations used")
    chosen_equation: Literal["mifflin_st_jeor", "katch_mcardle"]
    reason: str
    bmr_kcal: float
    activity_level: ActivityLevel
    pal: float
    tdee_kcal: float = Field(description="BMR · PAL, unrounded (0.01 kcal)")
    tdee_kcal_rounded: int


class CalorieTarget(Result):
    """The daily kcal target and how it was reached (part of ``programs.macros``)."""

    version: str = ENERGY_VERSION
    goal: Goal
    tdee_kcal: float
    requested_rate_pct_per_week: float | None
    rate_pct_per_week: float | None
    rate_kg_per_week: float | None
    requested_delta_kcal: float = Field(description="negative = deficit")
    max_deficit_kcal: float
    max_deficit_reason: str
    max_surplus_kcal: float
    deficit_cap_kcal: float = Field(description="25 % of TDEE")
    floor_kcal: int
    raw_target_kcal: float
    target_kcal: int
    delta_kcal: int = Field(description="target - TDEE (rounded target)")
    planned_rate_kg_per_week: float = Field(description="delta · 7 / 7700; negative = loss")
    adjustments: list[str] = Field(description="codes: rate_clamped_max, deficit_capped, …")


class MacroTargets(Result):
    """Stored in ``programs.macros``.

    ``kcal`` is the daily target to use: it equals ``calories.target_kcal`` unless the
    protein/fat minimums did not fit, in which case it was raised (never lowered) and
    ``adjustments`` says so.
    """

    version: str = ENERGY_VERSION
    inputs: dict[str, Any]
    calories: CalorieTarget
    kcal: int
    protein_g: int
    carbs_g: int
    fat_g: int
    fiber_g: int
    protein_g_per_kg: float
    fat_g_per_kg: float
    fat_pct_kcal: float
    protein_basis: str
    fat_basis: str
    macro_kcal: int = Field(description="4·P + 4·C + 9·F")
    adjustments: list[str]


class SafetyFinding(Result):
    code: str
    severity: Severity
    message: str
    constraint: str | None = None


class SafetyResult(Result):
    """Stored in ``programs.safety``; ``blocked`` = some finding has severity block."""

    version: str = ENERGY_VERSION
    inputs: dict[str, Any]
    bmi: float
    blocked: bool
    findings: list[SafetyFinding]


class FeasibilityIssue(Result):
    code: str
    message: str
    factor: float = Field(ge=0, le=1, description="multiplies the score")
    trade_off: str


class FeasibilityResult(Result):
    """Stored in ``programs.feasibility``."""

    version: str = ENERGY_VERSION
    inputs: dict[str, Any]
    score: float = Field(ge=0, le=1)
    issues: list[FeasibilityIssue]
    trade_offs: list[str]


class EnergyPlan(Result):
    tdee: TdeeResult
    macros: MacroTargets
    safety: SafetyResult


# ---------------------------------------------------------------------------------------------
# §1 Energy expenditure


def mifflin_st_jeor(person: Person) -> float:
    """BMR = 10·kg + 6.25·cm - 5·age + 5 (male) / - 161 (female)."""
    base = 10 * person.weight_kg + 6.25 * person.height_cm - 5 * person.age
    return base + (5 if person.sex == "male" else -161)


def katch_mcardle(weight_kg: float, body_fat_pct: float) -> float:
    """BMR = 370 + 21.6·LBM, LBM = kg·(1 - bf)."""
    return 370 + 21.6 * weight_kg * (1 - body_fat_pct / 100)


def compute_tdee(person: Person) -> TdeeResult:
    """Every BMR equation that applies, their spread, the chosen one, and TDEE = BMR · PAL."""
    equations = [
        BmrEquation(
            equation="mifflin_st_jeor",
            formula="10*kg + 6.25*cm - 5*age + (5 male | -161 female)",
            bmr_kcal=round(mifflin_st_jeor(person), 2),
        )
    ]
    if person.body_fat_pct is not None:
        equations.append(
            BmrEquation(
                equation="katch_mcardle",
                formula="370 + 21.6*kg*(1 - bf)",
                bmr_kcal=round(katch_mcardle(person.weight_kg, person.body_fat_pct), 2),
            )
        )
        chosen = equations[1]
        reason = "body fat is known: Katch-McArdle uses lean body mass"
    else:
        chosen = equations[0]
        reason = "body fat unknown: Mifflin-St Jeor (primary)"
    values = [e.bmr_kcal for e in equations]
    pal = PAL[person.activity_level]
    tdee = chosen.bmr_kcal * pal
    return TdeeResult(
        inputs=asdict(person),
        equations=equations,
        spread_kcal=round(max(values) - min(values), 2),
        chosen_equation=chosen.equation,
        reason=reason,
        bmr_kcal=chosen.bmr_kcal,
        activity_level=person.activity_level,
        pal=pal,
        tdee_kcal=round(tdee, 2),
        tdee_kcal_rounded=round_kcal(tdee),
    )


def activity_kcal(met: float, weight_kg: float, minutes: float) -> float:
    """kcal = MET · kg · hours (Compendium 2011)."""
    _check_range("met", met, 0.0, 30.0)
    _check_range("weight_kg", weight_kg, *WEIGHT_RANGE, " kg")
    _check_range("minutes", minutes, 0.0, 24 * 60.0, " min")
    return met * weight_kg * minutes / 60


# ---------------------------------------------------------------------------------------------
# §2 Calorie and macro targets


def compute_calorie_target(
    person: Person, tdee: TdeeResult, goal: GoalInput, flags: MedicalFlags | None = None
) -> CalorieTarget:
    """The daily kcal target: goal rate → deficit/surplus, caps, floors, rounding to 10."""
    flags = flags or MedicalFlags()
    t = tdee.tdee_kcal
    adjustments: list[str] = []
    requested_rate = goal.rate_pct_per_week
    rate: float | None = None
    rate_kg: float | None = None
    if goal.goal in GOAL_RATES:
        default, lo, hi = GOAL_RATES[goal.goal]
        rate = default if requested_rate is None else requested_rate
        if rate > hi:
            adjustments.append("rate_clamped_max")
            rate = hi
        elif rate < lo:
            adjustments.append("rate_raised_min")
            rate = lo
        rate_kg = person.weight_kg * rate / 100
        sign = -1.0 if goal.goal == "fat_loss" else 1.0
        requested_delta = sign * rate_kg * KCAL_PER_KG / 7
    else:
        requested_delta = t * (GOAL_FACTORS[goal.goal] - 1)

    deficit_cap = DEFICIT_CAP * t
    max_loss_deficit = person.weight_kg * MAX_LOSS_PCT_PER_WEEK / 100 * KCAL_PER_KG / 7
    max_deficit, max_reason = deficit_cap, "25 % of TDEE"
    if max_loss_deficit < max_deficit:
        max_deficit, max_reason = max_loss_deficit, "1 % body weight per week"
    if person.age < MINOR_AGE and MINOR_DEFICIT_CAP * t < max_deficit:
        max_deficit, max_reason = MINOR_DEFICIT_CAP * t, "age < 18: 10 % of TDEE"
    if flags.pregnant_or_breastfeeding:
        max_deficit, max_reason = 0.0, "pregnancy/breastfeeding: no deficit"
    max_surplus = SURPLUS_CAP * t

    delta = requested_delta
    if -delta > max_deficit:
        adjustments.append("no_deficit" if max_deficit == 0 else "deficit_capped")
        delta = -max_deficit
    if delta > max_surplus:
        adjustments.append("surplus_capped")
        delta = max_surplus
    raw = t + delta
    target = round_kcal(raw)
    # rounding never crosses a cap
    while t - target > max_deficit + 1e-9:
        target += 10
    while target - t > max_surplus + 1e-9:
        target -= 10
    floor = FLOORS[person.sex]
    if target < floor:
        adjustments.append("floor_applied")
        target = floor
    return _calorie_result(
        goal=goal.goal,
        t=t,
        requested_rate=requested_rate,
        rate=rate,
        rate_kg=rate_kg,
        requested_delta=requested_delta,
        max_deficit=max_deficit,
        max_reason=max_reason,
        max_surplus=max_surplus,
        deficit_cap=deficit_cap,
        floor=floor,
        raw=raw,
        target=target,
        adjustments=adjustments,
    )


def _calorie_result(
    *,
    goal: Goal,
    t: float,
    requested_rate: float | None,
    rate: float | None,
    rate_kg: float | None,
    requested_delta: float,
    max_deficit: float,
    max_reason: str,
    max_surplus: float,
    deficit_cap: float,
    floor: int,
    raw: float,
    target: int,
    adjustments: list[str],
) -> CalorieTarget:
    return CalorieTarget(
        goal=goal,
        tdee_kcal=t,
        requested_rate_pct_per_week=requested_rate,
        rate_pct_per_week=rate,
        rate_kg_per_week=None if rate_kg is None else round(rate_kg, 4),
        requested_delta_kcal=round(requested_delta, 2),
        max_deficit_kcal=round(max_deficit, 2),
        max_deficit_reason=max_reason,
        max_surplus_kcal=round(max_surplus, 2),
        deficit_cap_kcal=round(deficit_cap, 2),
        floor_kcal=floor,
        raw_target_kcal=round(raw, 2),
        target_kcal=target,
        delta_kcal=round(target - t),
        planned_rate_kg_per_week=round((target - t) * 7 / KCAL_PER_KG, 4),
        adjustments=adjustments,
    )


def protein_g_per_kg(goal: Goal, age: int, deficit_fraction: float) -> tuple[float, str]:
    """Protein g/kg per goal (2.3 when the deficit > 20 %), +0.2 at age ≥ 65, clamp 1.6-2.4."""
    base = PROTEIN_G_PER_KG[goal]
    basis = f"{goal} {base} g/kg"
    if goal == "fat_loss" and deficit_fraction > HIGH_DEFICIT_FRACTION:
        base = PROTEIN_HIGH_DEFICIT_G_PER_KG
        basis = f"fat_loss with deficit > 20 %: {base} g/kg"
    if age >= OLDER_AGE:
        base += PROTEIN_OLDER_BONUS
        basis += " +0.2 (age >= 65)"
    lo, hi = PROTEIN_RANGE
    clamped = min(hi, max(lo, base))
    if clamped != base:
        basis += f", clamped to {clamped}"
    return round(clamped, 2), basis


def compute_macros(
    person: Person, tdee: TdeeResult, goal: GoalInput, flags: MedicalFlags | None = None
) -> MacroTargets:
    """Protein, fat, carbs (the rest) and fiber for the calorie target; grams rounded to 1."""
    cal = compute_calorie_target(person, tdee, goal, flags)
    w = person.weight_kg
    kcal = cal.target_kcal
    adjustments: list[str] = []
    deficit_fraction = max(0.0, -cal.delta_kcal / cal.tdee_kcal)
    p_per_kg, protein_basis = protein_g_per_kg(goal.goal, person.age, deficit_fraction)
    p_min = math.ceil(PROTEIN_RANGE[0] * w - 1e-9)
    p_max = math.floor(PROTEIN_RANGE[1] * w + 1e-9)
    protein = min(p_max, max(p_min, round_g(p_per_kg * w)))

    def fat_min_for(k: int) -> int:
        return math.ceil(max(FAT_MIN_G_PER_KG * w, FAT_MIN_KCAL_FRACTION * k / 9) - 1e-9)

    fat_min = fat_min_for(kcal)
    fat_default = min(
        FAT_DEFAULT_RANGE[1] * w,
        max(FAT_DEFAULT_RANGE[0] * w, FAT_DEFAULT_KCAL_FRACTION * kcal / 9),
    )
    fat = max(fat_min, round_g(fat_default))
    fat_basis = "25 % of kcal within 0.8-1.0 g/kg, at least 0.6 g/kg and 20 % of kcal"

    # Carbs are the rest; when the rest is negative give up fat, then protein, down to their
    # minimums, then raise kcal (never lowers it: floors and deficit caps stay respected).
    if 4 * protein + 9 * fat > kcal:
        adjustments.append("fat_reduced_to_minimum")
        fat = max(fat_min, math.floor((kcal - 4 * protein) / 9))
    if 4 * protein + 9 * fat > kcal:
        adjustments.append("protein_reduced")
        protein = max(p_min, math.floor((kcal - 9 * fat) / 4))
    if 4 * protein + 9 * fat > kcal:
        adjustments.append("kcal_raised_for_macro_minimums")
        kcal = int(math.ceil((4 * protein + 9 * fat) / 10) * 10)
        fat = max(fat, fat_min_for(kcal))
        while 4 * protein + 9 * fat > kcal:
            kcal += 10
            fat = max(fat, fat_min_for(kcal))
    carbs = max(0, round_g((kcal - 4 * protein - 9 * fat) / 4))
    macro_kcal = 4 * protein + 4 * carbs + 9 * fat
    return MacroTargets(
        inputs={"person": asdict(person), "goal": asdict(goal)},
        calories=cal,
        kcal=kcal,
        protein_g=protein,
        carbs_g=carbs,
        fat_g=fat,
        fiber_g=round_g(FIBER_G_PER_1000_KCAL * kcal / 1000),
        protein_g_per_kg=round(protein / w, 3),
        fat_g_per_kg=round(fat / w, 3),
        fat_pct_kcal=round(900 * fat / kcal, 2),
        protein_basis=protein_basis,
        fat_basis=fat_basis,
        macro_kcal=macro_kcal,
        adjustments=adjustments,
    )


# ---------------------------------------------------------------------------------------------
# §3 Safety gate


def safety_gate(
    person: Person,
    goal: GoalInput,
    flags: MedicalFlags | None = None,
    calories: CalorieTarget | None = None,
) -> SafetyResult:
    """Findings (code, severity, message, constraint); any ``block`` stops generation."""
    flags = flags or MedicalFlags()
    bmi = person.bmi
    f: list[SafetyFinding] = []

    def add(code: str, severity: Severity, message: str, constraint: str | None = None) -> None:
        f.append(
            SafetyFinding(code=code, severity=severity, message=message, constraint=constraint)
        )

    if bmi < BMI_BLOCK:
        add(
            "bmi_below_16",
            "block",
            f"BMI {bmi:.1f} is below 16: seek medical advice before a training/diet program.",
            "no program",
        )
    elif bmi < BMI_UNDERWEIGHT and goal.goal == "fat_loss":
        add(
            "underweight_fat_loss",
            "block",
            f"BMI {bmi:.1f} is below 18.5: a fat-loss goal is not safe.",
            "no fat-loss goal",
        )
    if bmi > BMI_SEVERE_OBESITY:
        add(
            "bmi_above_40",
            "warn",
            f"BMI {bmi:.1f} is above 40: medical clearance is advised.",
            "clearance advised",
        )
    if person.age < MINOR_AGE:
        add(
            "minor",
            "warn",
            "Under 18: any deficit is limited to 10 % of TDEE.",
            "deficit <= 10 % of TDEE",
        )
    if person.age >= OLDER_AGE:
        add(
            "older_adult",
            "warn",
            "Age 65 or over: protein raised by 0.2 g/kg.",
            "protein +0.2 g/kg",
        )
    if flags.pregnant_or_breastfeeding:
        add(
            "pregnancy_no_deficit",
            "warn",
            "Pregnant or breastfeeding: no caloric deficit is planned.",
            "no deficit",
        )
    medical = {
        "cardiac_condition": (flags.cardiac_condition, "a cardiac condition"),
        "type1_diabetes": (flags.type1_diabetes, "type-1 diabetes"),
        "eating_disorder_history": (flags.eating_disorder_history, "an eating disorder history"),
    }
    for code, (present, label) in medical.items():
        if present:
            add(code, "warn", f"With {label}, medical clearance is required.", "clearance required")
    if calories is not None:
        adj = set(calories.adjustments)
        if "rate_clamped_max" in adj:
            add(
                "loss_rate_clamped" if goal.goal == "fat_loss" else "gain_rate_clamped",
                "warn",
                f"Requested {calories.requested_rate_pct_per_week} % BW/week exceeds the safe "
                f"maximum; planned at {calories.rate_pct_per_week} %.",
                f"rate <= {calories.rate_pct_per_week} % BW/week",
            )
        if "deficit_capped" in adj:
            add(
                "deficit_clamped",
                "warn",
                f"The deficit was limited to {calories.max_deficit_kcal:.0f} kcal/day "
                f"({calories.max_deficit_reason}).",
                f"deficit <= {calories.max_deficit_reason}",
            )
        if "floor_applied" in adj:
            add(
                "calorie_floor",
                "info",
                f"Calories raised to the {calories.floor_kcal} kcal floor.",
                f"kcal >= {calories.floor_kcal}",
            )
    return SafetyResult(
        inputs={"person": asdict(person), "goal": asdict(goal), "flags": asdict(flags)},
        bmi=round(bmi, 2),
        blocked=any(x.severity == "block" for x in f),
        findings=f,
    )


def compute_energy(
    person: Person, goal: GoalInput, flags: MedicalFlags | None = None
) -> EnergyPlan:
    """TDEE, calorie/macro targets and the safety gate in one call."""
    tdee = compute_tdee(person)
    macros = compute_macros(person, tdee, goal, flags)
    safety = safety_gate(person, goal, flags, macros.calories)
    return EnergyPlan(tdee=tdee, macros=macros, safety=safety)


# ---------------------------------------------------------------------------------------------
# §3 Feasibility

# Protein (g/kg) that is comfortably reachable from whole foods per dietary preference,
# used when the meal planner has not measured it from the available foods.
PROTEIN_REACHABLE_G_PER_KG: dict[DietaryPreference, float] = {
    "omnivore": 2.4,
    "pescatarian": 2.4,
    "halal": 2.4,
    "kosher": 2.4,
    "paleo": 2.4,
    "keto": 2.4,
    "vegetarian": 2.2,
    "vegan": 1.8,
}


@dataclass(frozen=True, slots=True)
class FeasibilityInputs:
    """What the plan needs versus what the user has.

    ``max_protein_reachable_g``: measured from the available foods by the meal planner;
    when None the per-preference default (g/kg) applies.
    """

    today: dt.date
    weight_kg: float
    available_training_days: int
    required_sessions_per_week: int
    available_session_minutes: int | None = None
    required_session_minutes: int | None = None
    event_date: dt.date | None = None
    event_target_change_kg: float | None = None
    max_safe_rate_pct_per_week: float = MAX_LOSS_PCT_PER_WEEK
    dietary_preference: DietaryPreference = "omnivore"
    protein_target_g: float | None = None
    max_protein_reachable_g: float | None = None

    def __post_init__(self) -> None:
        _check_range("weight_kg", self.weight_kg, *WEIGHT_RANGE, " kg")
        _check_range("available_training_days", self.available_training_days, 0, 7)
        _check_range("required_sessions_per_week", self.required_sessions_per_week, 0, 14)
        for name in ("available_session_minutes", "required_session_minutes"):
            value = getattr(self, name)
            if value is not None:
                _check_range(name, value, 0, 600, " min")
        if self.dietary_preference not in PROTEIN_REACHABLE_G_PER_KG:
            raise DomainError("dietary_preference", self.dietary_preference, "unknown")


def assess_feasibility(inp: FeasibilityInputs) -> FeasibilityResult:
    """Score 0-1 (product of the issues' factors) with each issue's trade-off."""
    issues: list[FeasibilityIssue] = []
    req, avail = inp.required_sessions_per_week, inp.available_training_days
    if req > avail:
        issues.append(
            FeasibilityIssue(
                code="sessions_exceed_days",
                message=f"{req} sessions/week needed but {avail} training days available.",
                factor=round(avail / req, 3),
                trade_off=f"plan {avail} sessions/week; weekly volume is spread over them",
            )
        )
    if (
        inp.available_session_minutes is not None
        and inp.required_session_minutes
        and inp.required_session_minutes > inp.available_session_minutes
    ):
        a, r = inp.available_session_minutes, inp.required_session_minutes
        issues.append(
            FeasibilityIssue(
                code="session_too_long",
                message=f"Sessions need {r} min but {a} min are available.",
                factor=round(a / r, 3),
                trade_off=f"sessions capped at {a} min (fewer sets, shorter rests)",
            )
        )
    if inp.event_date is not None and inp.event_target_change_kg:
        weeks = (inp.event_date - inp.today).days / 7
        safe_kg_week = inp.weight_kg * inp.max_safe_rate_pct_per_week / 100
        change = abs(inp.event_target_change_kg)
        if weeks <= 0:
            issues.append(
                FeasibilityIssue(
                    code="event_passed",
                    message="The event date is not in the future.",
                    factor=0.0,
                    trade_off="the event target is ignored",
                )
            )
        elif change / weeks > safe_kg_week:
            reachable = safe_kg_week * weeks
            issues.append(
                FeasibilityIssue(
                    code="event_rate_unsafe",
                    message=(
                        f"{change:.1f} kg by {inp.event_date} needs {change / weeks:.2f} kg/week; "
                        f"the safe maximum is {safe_kg_week:.2f} kg/week."
                    ),
                    factor=round(reachable / change, 3),
                    trade_off=f"plan at the safe maximum: about {reachable:.1f} kg by the event",
                )
            )
    if inp.protein_target_g:
        reach = inp.max_protein_reachable_g
        if reach is None:
            reach = PROTEIN_REACHABLE_G_PER_KG[inp.dietary_preference] * inp.weight_kg
        if inp.protein_target_g > reach:
            issues.append(
                FeasibilityIssue(
                    code="protein_unreachable",
                    message=(
                        f"{inp.protein_target_g:.0f} g protein/day is hard to reach on a "
                        f"{inp.dietary_preference} diet (about {reach:.0f} g)."
                    ),
                    factor=round(max(0.0, reach) / inp.protein_target_g, 3),
                    trade_off=f"protein planned at about {reach:.0f} g; carbs fill the rest",
                )
            )
    score = 1.0
    for issue in issues:
        score *= issue.factor
    raw_inputs = asdict(inp)
    raw_inputs["today"] = inp.today.isoformat()
    raw_inputs["event_date"] = None if inp.event_date is None else inp.event_date.isoformat()
    return FeasibilityResult(
        inputs=raw_inputs,
        score=round(min(1.0, max(0.0, score)), 3),
        issues=issues,
        trade_offs=[i.trade_off for i in issues],
    )


# ---------------------------------------------------------------------------------------------
# e1RM (§4)

MAX_E1RM_REPS = 10


def _check_lift(weight_kg: float, reps: int) -> None:
    _check_range("weight_kg", weight_kg, 0.0, 1000.0, " kg")
    if not 1 <= reps <= MAX_E1RM_REPS:
        raise DomainError("reps", reps, f"e1RM is valid for 1 to {MAX_E1RM_REPS} reps")


def epley(weight_kg: float, reps: int) -> float:
    """Epley e1RM = w·(1 + r/30); a single (r = 1) is its own 1RM."""
    _check_lift(weight_kg, reps)
    return weight_kg if reps == 1 else weight_kg * (1 + reps / 30)


def brzycki(weight_kg: float, reps: int) -> float:
    """Brzycki e1RM = w·36/(37 - r); a single (r = 1) is its own 1RM (exactly, no float noise)."""
    _check_lift(weight_kg, reps)
    return weight_kg if reps == 1 else weight_kg * 36 / (37 - reps)
