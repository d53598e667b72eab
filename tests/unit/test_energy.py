"""DOMAIN §1-§3: energy, targets, safety, feasibility and e1RM (reference values, properties)."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sharpened.programs.bundle import Goal
from sharpened.programs.energy import (
    DomainError,
    FeasibilityInputs,
    GoalInput,
    MedicalFlags,
    Person,
    activity_kcal,
    age_on,
    assess_feasibility,
    brzycki,
    compute_calorie_target,
    compute_energy,
    compute_macros,
    compute_tdee,
    epley,
    protein_g_per_kg,
    round_kcal,
    safety_gate,
)

MALE = Person(age=30, sex="male", weight_kg=80, height_cm=180, activity_level="moderate")
FEMALE = Person(age=25, sex="female", weight_kg=60, height_cm=165, activity_level="light")
GOALS: list[Goal] = ["fat_loss", "muscle_gain", "recomposition", "maintenance", "performance"]


# --- §1 reference values -------------------------------------------------------------------


def test_male_reference_bmr_and_tdee() -> None:
    r = compute_tdee(MALE)
    assert r.bmr_kcal == pytest.approx(1780)
    assert r.tdee_kcal == pytest.approx(2759)
    assert r.chosen_equation == "mifflin_st_jeor"
    assert [e.equation for e in r.equations] == ["mifflin_st_jeor"]
    assert r.spread_kcal == 0
    assert r.pal == 1.55


def test_female_reference_bmr_and_tdee() -> None:
    r = compute_tdee(FEMALE)
    assert r.bmr_kcal == pytest.approx(1345.25)
    assert round(r.tdee_kcal, 1) == pytest.approx(1849.7)
    assert r.pal == 1.375


def test_katch_mcardle_chosen_when_body_fat_known() -> None:
    p = Person(
        age=30, sex="male", weight_kg=80, height_cm=180, activity_level="moderate", body_fat_pct=15
    )
    r = compute_tdee(p)
    assert r.chosen_equation == "katch_mcardle"
    assert r.bmr_kcal == pytest.approx(1838.8)
    values = {e.equation: e.bmr_kcal for e in r.equations}
    assert values == {"mifflin_st_jeor": pytest.approx(1780), "katch_mcardle": 1838.8}
    assert r.spread_kcal == pytest.approx(58.8)
    assert "body fat" in r.reason
    assert r.tdee_kcal == pytest.approx(1838.8 * 1.55)


@pytest.mark.parametrize(
    ("level", "pal"),
    [("sedentary", 1.2), ("light", 1.375), ("moderate", 1.55), ("very", 1.725), ("extra", 1.9)],
)
def test_pal_multipliers(level: str, pal: float) -> None:
    p = Person(age=30, sex="male", weight_kg=80, height_cm=180, activity_level=level)  # type: ignore[arg-type]
    assert compute_tdee(p).tdee_kcal == pytest.approx(1780 * pal)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("age", {"age": 12}),
        ("age", {"age": 101}),
        ("weight_kg", {"weight_kg": 29.9}),
        ("weight_kg", {"weight_kg": 300.1}),
        ("height_cm", {"height_cm": 119}),
        ("height_cm", {"height_cm": 231}),
        ("body_fat_pct", {"body_fat_pct": 2.9}),
        ("body_fat_pct", {"body_fat_pct": 61}),
        ("weight_kg", {"weight_kg": math.nan}),
        ("sex", {"sex": "other"}),
        ("activity_level", {"activity_level": "couch"}),
    ],
)
def test_input_bounds_name_the_field(field: str, kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {
        "age": 30,
        "sex": "male",
        "weight_kg": 80.0,
        "height_cm": 180.0,
        "activity_level": "moderate",
    }
    with pytest.raises(DomainError) as info:
        Person(**{**base, **kwargs})  # type: ignore[arg-type]
    assert info.value.field == field
    assert field in str(info.value)
    assert isinstance(info.value, ValueError)


def test_input_bounds_are_inclusive() -> None:
    low = Person(
        age=13, sex="female", weight_kg=30, height_cm=120, activity_level="light", body_fat_pct=3
    )
    high = Person(
        age=100, sex="male", weight_kg=300, height_cm=230, activity_level="extra", body_fat_pct=60
    )
    assert compute_tdee(low).tdee_kcal < compute_tdee(high).tdee_kcal


def test_age_on() -> None:
    dob = dt.date(1996, 11, 27)
    assert age_on(dob, dt.date(2026, 11, 26)) == 29
    assert age_on(dob, dt.date(2026, 11, 27)) == 30
    assert age_on(dt.date(2000, 2, 29), dt.date(2026, 2, 28)) == 25
    assert age_on(dt.date(2000, 2, 29), dt.date(2026, 3, 1)) == 26


def test_activity_kcal_reference() -> None:
    assert activity_kcal(8.0, 70, 30) == pytest.approx(280)


# --- §2 reference values -------------------------------------------------------------------


def test_fat_loss_reference_example() -> None:
    c = compute_calorie_target(MALE, compute_tdee(MALE), GoalInput("fat_loss"))
    assert c.rate_pct_per_week == 0.7
    assert c.rate_kg_per_week == pytest.approx(0.56)
    assert c.requested_delta_kcal == pytest.approx(-616)
    assert c.deficit_cap_kcal == pytest.approx(689.75)
    assert c.raw_target_kcal == pytest.approx(2143)
    assert c.target_kcal == 2140
    assert c.adjustments == []


def test_rounding_to_ten() -> None:
    assert round_kcal(2143) == 2140
    assert round_kcal(2145) == 2150
    assert round_kcal(2759) == 2760


def test_muscle_gain_default_and_surplus_cap() -> None:
    tdee = compute_tdee(MALE)
    c = compute_calorie_target(MALE, tdee, GoalInput("muscle_gain"))
    # 80 kg · 0.35 % = 0.28 kg/wk → 308 kcal/day < 15 % cap (413.85)
    assert c.requested_delta_kcal == pytest.approx(308)
    assert c.target_kcal == round_kcal(2759 + 308) == 3070
    light = Person(age=30, sex="male", weight_kg=150, height_cm=180, activity_level="sedentary")
    c2 = compute_calorie_target(light, compute_tdee(light), GoalInput("muscle_gain", 0.5))
    assert "surplus_capped" in c2.adjustments
    assert c2.target_kcal - c2.tdee_kcal <= 0.15 * c2.tdee_kcal


@pytest.mark.parametrize(
    ("goal", "factor"), [("recomposition", 0.95), ("maintenance", 1.0), ("performance", 1.05)]
)
def test_goal_factors(goal: Goal, factor: float) -> None:
    c = compute_calorie_target(MALE, compute_tdee(MALE), GoalInput(goal))
    assert c.raw_target_kcal == pytest.approx(2759 * factor)
    assert c.target_kcal == round_kcal(2759 * factor)


def test_deficit_capped_at_25_percent_and_warned() -> None:
    # 300 kg → 1 % BW = 3 kg/wk ≈ 3300 kcal; 25 % of TDEE is the binding cap
    p = Person(age=40, sex="male", weight_kg=200, height_cm=180, activity_level="sedentary")
    plan = compute_energy(p, GoalInput("fat_loss", 1.0))
    c = plan.macros.calories
    assert "deficit_capped" in c.adjustments
    assert c.max_deficit_reason == "25 % of TDEE"
    assert c.tdee_kcal - c.target_kcal <= 0.25 * c.tdee_kcal
    codes = {f.code: f.severity for f in plan.safety.findings}
    assert codes["deficit_clamped"] == "warn"


def test_loss_rate_clamped_to_one_percent() -> None:
    plan = compute_energy(MALE, GoalInput("fat_loss", 2.0))
    c = plan.macros.calories
    assert c.rate_pct_per_week == 1.0
    assert "rate_clamped_max" in c.adjustments
    assert -c.planned_rate_kg_per_week <= 0.01 * MALE.weight_kg
    assert {f.code for f in plan.safety.findings} >= {"loss_rate_clamped"}


def test_female_floor() -> None:
    p = Person(age=70, sex="female", weight_kg=45, height_cm=150, activity_level="sedentary")
    c = compute_calorie_target(p, compute_tdee(p), GoalInput("fat_loss", 1.0))
    assert c.target_kcal == 1200
    assert "floor_applied" in c.adjustments


def test_male_floor() -> None:
    p = Person(age=80, sex="male", weight_kg=55, height_cm=160, activity_level="sedentary")
    c = compute_calorie_target(p, compute_tdee(p), GoalInput("fat_loss", 1.0))
    assert c.target_kcal == 1500


def test_minor_deficit_limited_to_ten_percent() -> None:
    p = Person(age=16, sex="male", weight_kg=90, height_cm=175, activity_level="moderate")
    plan = compute_energy(p, GoalInput("fat_loss"))
    c = plan.macros.calories
    assert c.max_deficit_reason.startswith("age < 18")
    assert c.tdee_kcal - c.target_kcal <= 0.10 * c.tdee_kcal
    assert "minor" in {f.code for f in plan.safety.findings}


def test_pregnancy_means_no_deficit() -> None:
    flags = MedicalFlags(pregnant_or_breastfeeding=True)
    plan = compute_energy(FEMALE, GoalInput("fat_loss"), flags)
    c = plan.macros.calories
    assert c.target_kcal >= c.tdee_kcal
    assert "no_deficit" in c.adjustments
    finding = next(f for f in plan.safety.findings if f.code == "pregnancy_no_deficit")
    assert finding.severity == "warn"
    assert not plan.safety.blocked


# --- macros --------------------------------------------------------------------------------


def test_reference_macros() -> None:
    m = compute_macros(MALE, compute_tdee(MALE), GoalInput("fat_loss"))
    # deficit 619/2759 = 22 % > 20 % → 2.3 g/kg
    assert m.protein_g == 184
    assert m.fat_g == 64  # 25 % of 2140 / 9 = 59.4 → within 0.8-1.0 g/kg → 64
    assert m.carbs_g == 207
    assert m.fiber_g == 30  # 14 · 2.14 = 29.96
    assert m.macro_kcal == 2140 == m.kcal
    assert m.protein_basis.startswith("fat_loss with deficit > 20 %")


@pytest.mark.parametrize(
    ("goal", "age", "deficit", "expected"),
    [
        ("fat_loss", 30, 0.15, 2.0),
        ("fat_loss", 30, 0.21, 2.3),
        ("fat_loss", 70, 0.21, 2.4),  # 2.5 clamped
        ("muscle_gain", 30, 0.0, 1.8),
        ("recomposition", 30, 0.05, 2.2),
        ("recomposition", 70, 0.05, 2.4),
        ("maintenance", 30, 0.0, 1.6),
        ("performance", 65, 0.0, 1.8),
    ],
)
def test_protein_per_goal(goal: Goal, age: int, deficit: float, expected: float) -> None:
    assert protein_g_per_kg(goal, age, deficit)[0] == pytest.approx(expected)


def test_macros_keep_minimums_when_kcal_is_tight() -> None:
    p = Person(
        age=60, sex="female", weight_kg=140, height_cm=175, activity_level="sedentary",
        body_fat_pct=60,
    )  # fmt: skip
    m = compute_macros(p, compute_tdee(p), GoalInput("fat_loss", 1.0))
    assert m.protein_g >= 1.6 * 140
    assert m.fat_g >= 0.6 * 140
    assert 9 * m.fat_g >= 0.2 * m.kcal
    assert m.carbs_g >= 0
    assert abs(m.macro_kcal - m.kcal) <= 2
    assert m.adjustments  # the trade-off is recorded


# --- §3 safety gate -------------------------------------------------------------------------


def _person(weight: float, height: float = 170, age: int = 30) -> Person:
    return Person(age=age, sex="female", weight_kg=weight, height_cm=height, activity_level="light")


def test_bmi_below_16_blocks() -> None:
    s = safety_gate(_person(45, 170), GoalInput("maintenance"))  # BMI 15.6
    assert s.blocked
    assert s.findings[0].code == "bmi_below_16"
    assert s.findings[0].severity == "block"
    assert s.findings[0].constraint


def test_underweight_blocks_fat_loss_only() -> None:
    p = _person(52, 170)  # BMI 18.0
    assert safety_gate(p, GoalInput("fat_loss")).blocked
    assert not safety_gate(p, GoalInput("muscle_gain")).blocked


def test_bmi_above_40_warns() -> None:
    s = safety_gate(_person(120, 170), GoalInput("fat_loss"))  # BMI 41.5
    assert not s.blocked
    assert [(f.code, f.severity) for f in s.findings] == [("bmi_above_40", "warn")]


def test_age_findings() -> None:
    minor = safety_gate(_person(60, age=16), GoalInput("maintenance")).findings
    assert [f.code for f in minor] == ["minor"]
    older = safety_gate(_person(60, age=65), GoalInput("maintenance")).findings
    assert [(f.code, f.severity, f.constraint) for f in older] == [
        ("older_adult", "warn", "protein +0.2 g/kg")
    ]


def test_medical_flags_require_clearance() -> None:
    flags = MedicalFlags(cardiac_condition=True, type1_diabetes=True, eating_disorder_history=True)
    s = safety_gate(_person(60), GoalInput("maintenance"), flags)
    assert not s.blocked
    assert {f.code for f in s.findings} == {
        "cardiac_condition",
        "type1_diabetes",
        "eating_disorder_history",
    }
    assert all(f.severity == "warn" and f.constraint == "clearance required" for f in s.findings)


def test_healthy_profile_has_no_findings() -> None:
    plan = compute_energy(MALE, GoalInput("fat_loss"))
    assert plan.safety.findings == []
    assert not plan.safety.blocked


def test_results_dump_to_json_with_provenance() -> None:
    plan = compute_energy(FEMALE, GoalInput("recomposition"), MedicalFlags())
    for part in (plan.tdee, plan.macros, plan.safety):
        doc = json.loads(json.dumps(part.model_dump(mode="json")))
        assert doc["version"].startswith("energy/")
        assert "inputs" in doc
    assert plan.tdee.model_dump(mode="json")["equations"][0]["formula"]
    assert plan.macros.model_dump(mode="json")["calories"]["raw_target_kcal"] > 0


# --- §3 feasibility -------------------------------------------------------------------------

TODAY = dt.date(2026, 11, 26)


def test_feasible_plan_scores_one() -> None:
    r = assess_feasibility(
        FeasibilityInputs(
            today=TODAY, weight_kg=80, available_training_days=4, required_sessions_per_week=4,
            available_session_minutes=60, required_session_minutes=55, protein_target_g=160,
        )
    )  # fmt: skip
    assert r.score == 1.0
    assert r.issues == []


def test_feasibility_issues_and_trade_offs() -> None:
    r = assess_feasibility(
        FeasibilityInputs(
            today=TODAY,
            weight_kg=80,
            available_training_days=3,
            required_sessions_per_week=4,
            available_session_minutes=45,
            required_session_minutes=60,
            event_date=TODAY + dt.timedelta(weeks=4),
            event_target_change_kg=-8,
            dietary_preference="vegan",
            protein_target_g=184,
        )
    )
    codes = [i.code for i in r.issues]
    assert codes == [
        "sessions_exceed_days",
        "session_too_long",
        "event_rate_unsafe",
        "protein_unreachable",
    ]
    factors = [i.factor for i in r.issues]
    # 3/4, 45/60, (0.8 kg/wk · 4 wk)/8 kg = 0.4, (1.8·80)/184
    assert factors == pytest.approx([0.75, 0.75, 0.4, 144 / 184], abs=1e-3)
    assert r.score == pytest.approx(math.prod(factors), abs=1e-3)
    assert len(r.trade_offs) == 4
    assert all(r.trade_offs)
    json.dumps(r.model_dump(mode="json"))


def test_feasibility_measured_protein_overrides_default() -> None:
    base = {"today": TODAY, "weight_kg": 80.0, "available_training_days": 3}
    ok = FeasibilityInputs(
        **base, required_sessions_per_week=3, dietary_preference="vegan",  # type: ignore[arg-type]
        protein_target_g=184, max_protein_reachable_g=200,
    )  # fmt: skip
    assert assess_feasibility(ok).score == 1.0


def test_feasibility_event_in_past_scores_zero() -> None:
    r = assess_feasibility(
        FeasibilityInputs(
            today=TODAY, weight_kg=80, available_training_days=3, required_sessions_per_week=3,
            event_date=TODAY, event_target_change_kg=-2,
        )
    )  # fmt: skip
    assert r.score == 0.0
    assert r.issues[0].code == "event_passed"


def test_feasibility_rejects_bad_inputs() -> None:
    with pytest.raises(DomainError) as info:
        FeasibilityInputs(
            today=TODAY, weight_kg=80, available_training_days=8, required_sessions_per_week=3
        )
    assert info.value.field == "available_training_days"


# --- e1RM -----------------------------------------------------------------------------------


def test_e1rm_reference() -> None:
    assert round(epley(100, 5), 1) == 116.7
    assert round(brzycki(100, 5), 1) == 112.5
    assert epley(100, 1) == brzycki(100, 1) == 100


@pytest.mark.parametrize("reps", [0, 11, 20])
def test_e1rm_valid_only_up_to_ten_reps(reps: int) -> None:
    for f in (epley, brzycki):
        with pytest.raises(DomainError) as info:
            f(100, reps)
        assert info.value.field == "reps"


# --- properties -----------------------------------------------------------------------------

persons = st.builds(
    Person,
    age=st.integers(13, 100),
    sex=st.sampled_from(["male", "female"]),
    weight_kg=st.floats(30, 300),
    height_cm=st.floats(120, 230),
    activity_level=st.sampled_from(["sedentary", "light", "moderate", "very", "extra"]),
    body_fat_pct=st.none() | st.floats(3, 60),
)
goals = st.builds(
    GoalInput,
    goal=st.sampled_from(GOALS),
    rate_pct_per_week=st.none() | st.floats(0.0, 3.0),
)
flag_sets = st.builds(
    MedicalFlags,
    pregnant_or_breastfeeding=st.booleans(),
    cardiac_condition=st.booleans(),
    type1_diabetes=st.booleans(),
    eating_disorder_history=st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(persons, goals, flag_sets)
def test_floors_and_caps_never_crossed(
    person: Person, goal: GoalInput, flags: MedicalFlags
) -> None:
    plan = compute_energy(person, goal, flags)
    c = plan.macros.calories
    tdee = c.tdee_kcal
    kcal = plan.macros.kcal
    assert kcal % 10 == 0
    assert kcal >= (1200 if person.sex == "female" else 1500)
    deficit = tdee - kcal
    assert deficit <= 0.25 * tdee + 1e-6
    assert deficit * 7 / 7700 <= 0.01 * person.weight_kg + 1e-6
    if person.age < 18:
        assert deficit <= 0.10 * tdee + 1e-6
    if flags.pregnant_or_breastfeeding:
        assert deficit <= 0
    raised = {"floor_applied"} & set(c.adjustments) or plan.macros.adjustments
    if not raised:
        assert kcal - tdee <= 0.15 * tdee + 1e-6
    if c.rate_pct_per_week is not None:
        lo, hi = (0.25, 1.0) if goal.goal == "fat_loss" else (0.25, 0.5)
        assert lo <= c.rate_pct_per_week <= hi
    if plan.safety.blocked:
        assert any(f.severity == "block" for f in plan.safety.findings)


@settings(max_examples=400, deadline=None)
@given(persons, goals, flag_sets)
def test_macros_add_up_and_stay_in_bounds(
    person: Person, goal: GoalInput, flags: MedicalFlags
) -> None:
    m = compute_macros(person, compute_tdee(person), goal, flags)
    w = person.weight_kg
    assert m.macro_kcal == 4 * m.protein_g + 4 * m.carbs_g + 9 * m.fat_g
    assert abs(m.macro_kcal - m.kcal) <= 2  # carbs rounded to 1 g
    assert 1.6 * w - 1e-9 <= m.protein_g <= 2.4 * w + 1e-9
    assert m.fat_g >= 0.6 * w - 1e-9
    assert 9 * m.fat_g >= 0.2 * m.kcal - 1e-9
    assert m.carbs_g >= 0
    assert m.fiber_g == round(14 * m.kcal / 1000) or abs(m.fiber_g - 14 * m.kcal / 1000) <= 0.5
    assert m.kcal >= m.calories.target_kcal


@settings(max_examples=200, deadline=None)
@given(st.floats(1, 500), st.integers(1, 10))
def test_e1rm_properties(weight: float, reps: int) -> None:
    assert epley(weight, reps) >= weight
    assert brzycki(weight, reps) >= weight
    assert brzycki(weight, reps) == pytest.approx(weight * 36 / (37 - reps))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 7),
    st.integers(0, 14),
    st.none() | st.integers(0, 600),
    st.none() | st.integers(0, 600),
    st.none() | st.integers(-30, 60),
    st.none() | st.floats(-30, 30),
)
def test_feasibility_score_in_unit_interval(
    days: int,
    sessions: int,
    avail_min: int | None,
    req_min: int | None,
    event_in: int | None,
    change: float | None,
) -> None:
    r = assess_feasibility(
        FeasibilityInputs(
            today=TODAY,
            weight_kg=80,
            available_training_days=days,
            required_sessions_per_week=sessions,
            available_session_minutes=avail_min,
            required_session_minutes=req_min,
            event_date=None if event_in is None else TODAY + dt.timedelta(days=event_in),
            event_target_change_kg=change,
            protein_target_g=150,
        )
    )
    assert 0 <= r.score <= 1
    assert (r.score == 1) == (not r.issues) or any(i.factor == 1 for i in r.issues)
    assert len(r.trade_offs) == len(r.issues)
