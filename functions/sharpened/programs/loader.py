"""Load the generator's inputs from the database, as the calling user (RLS applies).

The profile and the nine consultation tables are read under the caller's RLS;
the catalogues (exercises, foods) are reference data every signed-in user may
read and are cached for the life of the process (they change only by migration).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import threading
import uuid
from typing import Any, Literal

import psycopg

from sharpened.errors import ApiError
from sharpened.programs.energy import MedicalFlags
from sharpened.programs.generator import GeneratorInputs
from sharpened.programs.meals import DEFAULT_MEAL_SLOTS, FoodRow, MealSlot, TypicalFood
from sharpened.programs.training import (
    AvailabilitySlot,
    ExerciseRow,
    Muscle,
    experience_from_proficiency,
    muscles_for,
)

Connection = psycopg.Connection[Any]

REQUIRED_PROFILE_FIELDS = (
    "sex", "date_of_birth", "height_cm", "weight_kg", "activity_level", "primary_goal",
    "experience_level", "workout_frequency",
)  # fmt: skip

# Training days when the user gave no availability (onboarding only): spread over the week.
DEFAULT_DAYS: dict[int, tuple[int, ...]] = {
    0: (), 1: (1,), 2: (1, 4), 3: (1, 3, 5), 4: (1, 2, 4, 5), 5: (1, 2, 3, 4, 5),
    6: (1, 2, 3, 4, 5, 6), 7: (1, 2, 3, 4, 5, 6),
}  # fmt: skip
DEFAULT_SESSION_MINUTES = 60

_catalogue_lock = threading.Lock()
_catalogues: tuple[tuple[ExerciseRow, ...], tuple[FoodRow, ...]] | None = None


def load_catalogues(conn: Connection) -> tuple[tuple[ExerciseRow, ...], tuple[FoodRow, ...]]:
    """The exercise and food catalogues (read once per process)."""
    global _catalogues
    with _catalogue_lock:
        if _catalogues is None:
            exercises = tuple(
                ExerciseRow.model_validate(row)
                for row in conn.execute(
                    "select id, name, category, level, mechanic, force, equipment, "
                    "primary_muscles, secondary_muscles from public.exercises order by id"
                )
            )
            foods = tuple(
                FoodRow.model_validate({**row, **_numbers(row)})
                for row in conn.execute(
                    "select id, name, food_group, kcal_per_100g, protein_g_per_100g, "
                    "carbs_g_per_100g, fat_g_per_100g, servings from public.foods order by id"
                )
            )
            _catalogues = (exercises, foods)
        return _catalogues


def _numbers(row: dict[str, Any]) -> dict[str, float]:
    return {
        key: float(value)
        for key, value in row.items()
        if key.endswith("_per_100g") and value is not None
    }


def _profile(conn: Connection) -> dict[str, Any]:
    profile = conn.execute("select * from public.profiles").fetchone()
    if profile is None:
        raise ApiError(404, "profile_not_found", "the caller has no profile")
    missing = [field for field in REQUIRED_PROFILE_FIELDS if profile[field] is None]
    if missing:
        raise ApiError(
            422,
            "profile_incomplete",
            f"the profile is missing {', '.join(missing)}",
            {"missing": missing},
        )
    return dict(profile)


def _slots(conn: Connection, frequency: int) -> tuple[AvailabilitySlot, ...]:
    rows = conn.execute(
        "select day_of_week, time_of_day, coalesce(typical_duration_minutes, "
        "max_duration_minutes, %s) as minutes, coalesce(location_type, 'gym') as location "
        "from public.user_training_availability order by day_of_week, time_of_day",
        (DEFAULT_SESSION_MINUTES,),
    ).fetchall()
    if rows:
        return tuple(
            AvailabilitySlot(
                weekday=row["day_of_week"],
                time_of_day=row["time_of_day"],
                minutes=row["minutes"],
                location=row["location"],
            )
            for row in rows
        )
    return tuple(
        AvailabilitySlot(
            weekday=day, time_of_day="evening", minutes=DEFAULT_SESSION_MINUTES, location="gym"
        )
        for day in DEFAULT_DAYS[frequency]
    )


def _rest_weekdays(conn: Connection) -> frozenset[int]:
    days: set[int] = set()
    for row in conn.execute(
        "select rule from public.user_non_negotiables where constraint_type = 'rest_day'"
    ):
        rule = row["rule"] or {}
        day = rule.get("day_of_week")
        if isinstance(day, int) and 1 <= day <= 7:
            days.add(day)
    return frozenset(days)


def _avoided_muscles(conn: Connection) -> frozenset[Muscle]:
    """Muscles named in the user's injury difficulties ("sore lower back" → lower_back)."""
    avoided: set[Muscle] = set()
    for row in conn.execute(
        "select description from public.user_difficulties where category = 'injury'"
    ):
        words = re.findall(r"[a-z]+", row["description"].lower())
        phrases = words + [f"{a}_{b}" for a, b in itertools.pairwise(words)]
        for phrase in phrases:
            avoided.update(muscles_for(phrase))
    return frozenset(avoided)


def load_generator_inputs(
    conn: Connection,
    user_id: uuid.UUID,
    *,
    source: Literal["consultation", "onboarding", "reassessment"],
    source_session_id: uuid.UUID | None,
    start_date: dt.date,
    duration_weeks: int,
) -> GeneratorInputs:
    """Everything the generator needs for the calling user (``conn`` acts as that user)."""
    profile = _profile(conn)
    exercises, foods = load_catalogues(conn)
    meal_slots = tuple(
        MealSlot(meal_type=row["meal_time_id"], time=row["typical_time"])
        for row in conn.execute(
            "select meal_time_id, typical_time from public.user_preferred_meal_times "
            "order by typical_time nulls last"
        )
    )
    typical_foods = tuple(
        TypicalFood(food_id=row["food_id"], meal_type=row["meal_time_id"])
        for row in conn.execute("select food_id, meal_time_id from public.user_typical_meal_foods")
    )
    # The consultation's proficiency in the primary modality refines the onboarding answer.
    primary = conn.execute(
        "select proficiency_level from public.user_training_modalities "
        "where is_primary and proficiency_level is not null"
    ).fetchone()
    experience = (
        experience_from_proficiency(primary["proficiency_level"])
        if primary is not None
        else profile["experience_level"]
    )
    events = frozenset(
        row["event_date"]
        for row in conn.execute(
            "select event_date from public.user_upcoming_events "
            "where not is_completed and event_date >= %s",
            (start_date,),
        )
    )
    return GeneratorInputs(
        user_id=user_id,
        source=source,
        source_session_id=source_session_id,
        start_date=start_date,
        duration_weeks=duration_weeks,
        sex=profile["sex"],
        date_of_birth=profile["date_of_birth"],
        weight_kg=float(profile["weight_kg"]),
        height_cm=float(profile["height_cm"]),
        body_fat_pct=float(profile["body_fat_pct"]) if profile["body_fat_pct"] else None,
        activity_level=profile["activity_level"],
        primary_goal=profile["primary_goal"],
        goal_rate_pct_per_week=(
            float(profile["goal_rate_pct_per_week"])
            if profile["goal_rate_pct_per_week"] is not None
            else None
        ),
        experience=experience,
        workout_frequency=profile["workout_frequency"],
        dietary_preference=profile["dietary_preference"] or "omnivore",
        allergies=tuple(profile["allergies"] or ()),
        flags=MedicalFlags(
            pregnant_or_breastfeeding=profile["is_pregnant_or_breastfeeding"],
            cardiac_condition=profile["has_cardiac_condition"],
            type1_diabetes=profile["has_type1_diabetes"],
            eating_disorder_history=profile["has_eating_disorder_history"],
        ),
        slots=_slots(conn, profile["workout_frequency"]),
        rest_weekdays=_rest_weekdays(conn),
        familiar_exercise_ids=frozenset(
            row["exercise_id"]
            for row in conn.execute("select exercise_id from public.user_familiar_exercises")
        ),
        avoided_muscles=_avoided_muscles(conn),
        event_dates=events,
        meal_slots=meal_slots or DEFAULT_MEAL_SLOTS,
        typical_foods=typical_foods,
        exercises=exercises,
        foods=foods,
    )
