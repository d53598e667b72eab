"""The generator assembles energy, training and meals into one valid ProgramBundle."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sharpened.programs.bundle import ProgramBundle
from sharpened.programs.energy import MedicalFlags
from sharpened.programs.generator import (
    REASSESSMENT_DAYS,
    GeneratorInputs,
    SafetyBlocked,
    generate_program,
)
from sharpened.programs.meals import FoodRow, misses
from sharpened.programs.training import AvailabilitySlot, ExerciseRow

START = dt.date(2026, 11, 30)  # a Monday


def exercise(id_: str, primary: str, secondary: tuple[str, ...] = (), **kw: str) -> ExerciseRow:
    return ExerciseRow.model_validate(
        {
            "id": id_,
            "name": id_.replace("_", " ").title(),
            "category": "strength",
            "level": "beginner",
            "mechanic": kw.get("mechanic", "compound"),
            "force": "push",
            "equipment": kw.get("equipment", "barbell"),
            "primary_muscles": (primary,),
            "secondary_muscles": secondary,
        }
    )


EXERCISES = (
    exercise("bench_press", "chest", ("shoulders", "triceps")),
    exercise("row", "middle_back", ("biceps", "lats")),
    exercise("pull_up", "lats", ("biceps",), equipment="body_only"),
    exercise("overhead_press", "shoulders", ("triceps",)),
    exercise("squat", "quadriceps", ("glutes", "hamstrings")),
    exercise("romanian_deadlift", "hamstrings", ("glutes", "lower_back")),
    exercise("hip_thrust", "glutes", mechanic="isolation"),
    exercise("curl", "biceps", mechanic="isolation", equipment="dumbbell"),
    exercise("pushdown", "triceps", mechanic="isolation", equipment="cable"),
    exercise("calf_raise", "calves", mechanic="isolation", equipment="machine"),
    exercise("crunch", "abdominals", mechanic="isolation", equipment="body_only"),
)


def food(name: str, group: str, kcal: float, p: float, c: float, f: float) -> FoodRow:
    return FoodRow.model_validate(
        {
            "id": uuid.uuid5(uuid.NAMESPACE_URL, name),
            "name": name,
            "food_group": group,
            "kcal_per_100g": kcal,
            "protein_g_per_100g": p,
            "carbs_g_per_100g": c,
            "fat_g_per_100g": f,
        }
    )


FOODS = (  # USDA SR28 values per 100 g
    food(
        "Chicken, broilers or fryers, breast, meat only, cooked",
        "Poultry Products",
        165,
        31,
        0,
        3.6,
    ),
    food(
        "Fish, salmon, Atlantic, wild, cooked", "Finfish and Shellfish Products", 182, 25.4, 0, 8.1
    ),
    food("Yogurt, Greek, plain, nonfat", "Dairy and Egg Products", 59, 10.2, 3.6, 0.4),
    food("Tofu, raw, firm", "Legumes and Legume Products", 144, 17.3, 2.8, 8.7),
    food("Rice, white, long-grain, cooked", "Cereal Grains and Pasta", 130, 2.7, 28.2, 0.3),
    food("Oats, regular, dry", "Breakfast Cereals", 379, 13.2, 67.7, 6.5),
    food(
        "Potatoes, boiled, cooked without skin",
        "Vegetables and Vegetable Products",
        86,
        1.7,
        20,
        0.1,
    ),
    food("Bananas, raw", "Fruits and Fruit Juices", 89, 1.1, 22.8, 0.3),
    food("Oil, olive, salad or cooking", "Fats and Oils", 884, 0, 0, 100),
    food("Nuts, almonds", "Nut and Seed Products", 579, 21.2, 21.6, 49.9),
)


def inputs(**overrides: Any) -> GeneratorInputs:
    base: dict[str, Any] = {
        "user_id": uuid.uuid4(),
        "source": "onboarding",
        "start_date": START,
        "duration_weeks": 4,
        "sex": "male",
        "date_of_birth": dt.date(1996, 11, 1),
        "weight_kg": 80,
        "height_cm": 180,
        "activity_level": "moderate",
        "primary_goal": "fat_loss",
        "experience": "intermediate",
        "workout_frequency": 3,
        "slots": tuple(
            AvailabilitySlot(weekday=day, time_of_day="evening", minutes=75, location="gym")
            for day in (1, 3, 5)
        ),
        "exercises": EXERCISES,
        "foods": FOODS,
    }
    base.update(overrides)
    return GeneratorInputs.model_validate(base)


def test_a_complete_bundle_from_onboarding_data() -> None:
    bundle = generate_program(inputs())
    ProgramBundle.model_validate(bundle.model_dump(mode="json"))  # round-trips as stored
    assert bundle.next_reassessment_date == START + dt.timedelta(days=REASSESSMENT_DAYS)
    # DOMAIN §2 reference: the 80 kg male's fat-loss target (30 y at the start date).
    assert bundle.macros["kcal"] == 2140
    assert round(bundle.tdee["tdee_kcal"]) == 2759
    weeks = {session.week_index for session in bundle.sessions}
    assert weeks == {0, 1, 2, 3}
    for week in weeks:
        days = [s.day_index for s in bundle.sessions if s.week_index == week]
        assert sorted(days) == [0, 2, 4]  # Monday, Wednesday, Friday
    assert all(s.planned_duration_minutes <= 75 for s in bundle.sessions)
    assert len(bundle.meals) == 4 * 7 * 4  # weeks x days x default meal slots
    assert all(misses(meal.targets, meal.totals) == [] for meal in bundle.meals)
    assert bundle.safety["blocked"] is False
    assert 0 <= bundle.feasibility["score"] <= 1
    assert bundle.provenance["generator_version"].startswith("sharpened-generator/")
    assert bundle.provenance["catalogues"] == {"exercises": len(EXERCISES), "foods": len(FOODS)}


def test_rest_days_and_preferences_are_respected() -> None:
    bundle = generate_program(
        inputs(
            rest_weekdays=frozenset({5}),
            dietary_preference="vegan",
        )
    )
    assert all(s.day_index != 4 for s in bundle.sessions)  # no Friday session
    animal = {"Chicken", "Fish", "Yogurt"}
    for meal in bundle.meals:
        assert not any(item.food_name.split(",")[0] in animal for item in meal.items)


def test_a_blocking_safety_finding_stops_generation() -> None:
    with pytest.raises(SafetyBlocked) as raised:
        generate_program(inputs(weight_kg=45, height_cm=180))  # BMI 13.9
    codes = {finding.code for finding in raised.value.safety.findings}
    assert "bmi_below_16" in codes


def test_medical_flags_reach_the_safety_document() -> None:
    bundle = generate_program(inputs(flags=MedicalFlags(cardiac_condition=True)))
    codes = {finding["code"] for finding in bundle.safety["findings"]}
    assert "cardiac_condition" in codes


@settings(max_examples=25, deadline=None)
@given(
    sex=st.sampled_from(["male", "female"]),
    age=st.integers(min_value=18, max_value=70),
    weight=st.floats(min_value=55, max_value=120),
    height=st.floats(min_value=155, max_value=200),
    goal=st.sampled_from(["fat_loss", "muscle_gain", "recomposition", "maintenance"]),
    days=st.sets(st.integers(min_value=1, max_value=7), min_size=1, max_size=6),
    rest=st.sets(st.integers(min_value=1, max_value=7), max_size=2),
    minutes=st.integers(min_value=30, max_value=120),
    preference=st.sampled_from(["omnivore", "vegetarian", "vegan", "pescatarian"]),
)
def test_generated_programs_keep_every_hard_rule(
    sex: str,
    age: int,
    weight: float,
    height: float,
    goal: str,
    days: set[int],
    rest: set[int],
    minutes: int,
    preference: str,
) -> None:
    bmi = weight / (height / 100) ** 2
    assume(bmi >= 18.5)  # below it the safety gate blocks fat loss (tested above)
    try:
        bundle = generate_program(
            inputs(
                sex=sex,
                date_of_birth=dt.date(START.year - age, 1, 15),
                weight_kg=weight,
                height_cm=height,
                primary_goal=goal,
                slots=tuple(
                    AvailabilitySlot(
                        weekday=d, time_of_day="morning", minutes=minutes, location="gym"
                    )
                    for d in sorted(days)
                ),
                rest_weekdays=frozenset(rest),
                workout_frequency=len(days),
                dietary_preference=preference,
                duration_weeks=2,
            )
        )
    except SafetyBlocked:
        return
    floor = 1500 if sex == "male" else 1200
    assert bundle.macros["kcal"] >= floor
    usable = days - rest
    for week in range(2):
        sessions = [s for s in bundle.sessions if s.week_index == week]
        assert len(sessions) <= len(usable)
        for session in sessions:
            weekday = (START + dt.timedelta(days=session.day_index)).isoweekday()
            assert weekday in usable  # only on available days, never on a rest day
            assert session.planned_duration_minutes <= minutes
    forbidden = {
        "omnivore": set(),
        "pescatarian": {"Chicken"},
        "vegetarian": {"Chicken", "Fish"},
        "vegan": {"Chicken", "Fish", "Yogurt"},
    }[preference]
    for meal in bundle.meals:
        assert not any(item.food_name.split(",")[0] in forbidden for item in meal.items)
        totals = sum(item.kcal for item in meal.items)
        assert abs(totals - meal.totals.kcal) < 1
