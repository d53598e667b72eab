"""The program generator: energy, training and meals assembled into one ProgramBundle.

Pure (no I/O): the caller loads the profile, the consultation's facts and the
catalogues, and stores the bundle. Every number is explained by the bundle's
``tdee``, ``macros``, ``safety``, ``feasibility`` and ``provenance`` documents.
A blocking safety finding stops generation (:class:`SafetyBlocked`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sharpened.programs.bundle import Goal, ProgramBundle
from sharpened.programs.energy import (
    ActivityLevel,
    FeasibilityInputs,
    GoalInput,
    MedicalFlags,
    Person,
    SafetyResult,
    Sex,
    age_on,
    assess_feasibility,
    compute_energy,
)
from sharpened.programs.meals import (
    DEFAULT_MEAL_SLOTS,
    DailyTargets,
    DietaryPreference,
    FoodRow,
    MealPlanInput,
    MealSlot,
    TypicalFood,
    plan_meals,
)
from sharpened.programs.training import (
    AvailabilitySlot,
    ExerciseRow,
    Experience,
    Muscle,
    TrainingInputs,
    generate_training_plan,
)

GENERATOR_VERSION = "sharpened-generator/1.0"
REASSESSMENT_DAYS = 14  # DOMAIN §8


class SafetyBlocked(Exception):  # noqa: N818 - a refusal, named for what it is
    """The safety gate blocks this program (answered 422 with the findings)."""

    def __init__(self, safety: SafetyResult) -> None:
        super().__init__("the safety gate blocks generating a program")
        self.safety = safety


class GeneratorInputs(BaseModel):
    """Everything the generator reads; the catalogues are passed in, not looked up."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: uuid.UUID
    source: Literal["consultation", "onboarding", "reassessment"]
    source_session_id: uuid.UUID | None = None
    start_date: dt.date
    duration_weeks: int = Field(default=12, ge=1, le=52)
    # profile
    sex: Sex
    date_of_birth: dt.date
    weight_kg: float
    height_cm: float
    body_fat_pct: float | None = None
    activity_level: ActivityLevel
    primary_goal: Goal
    goal_rate_pct_per_week: float | None = None
    experience: Experience
    workout_frequency: int = Field(ge=0, le=7)
    dietary_preference: DietaryPreference = "omnivore"
    allergies: tuple[str, ...] = ()
    flags: MedicalFlags = Field(default_factory=MedicalFlags)
    # training facts
    slots: tuple[AvailabilitySlot, ...]
    rest_weekdays: frozenset[int] = frozenset()
    familiar_exercise_ids: frozenset[str] = frozenset()
    avoided_muscles: frozenset[Muscle] = frozenset()
    event_dates: frozenset[dt.date] = frozenset()
    # nutrition facts
    meal_slots: tuple[MealSlot, ...] = DEFAULT_MEAL_SLOTS
    typical_foods: tuple[TypicalFood, ...] = ()
    # catalogues
    exercises: tuple[ExerciseRow, ...]
    foods: tuple[FoodRow, ...]


def generate_program(inputs: GeneratorInputs) -> ProgramBundle:
    """The complete program for ``inputs``; raises SafetyBlocked or energy.DomainError."""
    person = Person(
        age=age_on(inputs.date_of_birth, inputs.start_date),
        sex=inputs.sex,
        weight_kg=inputs.weight_kg,
        height_cm=inputs.height_cm,
        activity_level=inputs.activity_level,
        body_fat_pct=inputs.body_fat_pct,
    )
    energy = compute_energy(
        person, GoalInput(inputs.primary_goal, inputs.goal_rate_pct_per_week), inputs.flags
    )
    if energy.safety.blocked:
        raise SafetyBlocked(energy.safety)

    training = generate_training_plan(
        TrainingInputs(
            experience=inputs.experience,
            primary_goal=inputs.primary_goal,
            slots=inputs.slots,
            rest_weekdays=inputs.rest_weekdays,
            familiar_exercise_ids=inputs.familiar_exercise_ids,
            avoided_muscles=inputs.avoided_muscles,
            blocked_dates=inputs.event_dates,
            start_date=inputs.start_date,
            duration_weeks=inputs.duration_weeks,
            catalogue=inputs.exercises,
        )
    )
    macros = energy.macros
    meals = plan_meals(
        MealPlanInput(
            targets=DailyTargets(
                kcal=macros.kcal, protein_g=macros.protein_g, carbs_g=macros.carbs_g,
                fat_g=macros.fat_g,
            ),
            meal_slots=list(inputs.meal_slots),
            dietary_preference=inputs.dietary_preference,
            allergies=list(inputs.allergies),
            typical_foods=list(inputs.typical_foods),
            foods=list(inputs.foods),
            start_date=inputs.start_date,
            weeks=inputs.duration_weeks,
        )
    )  # fmt: skip

    training_days = {slot.weekday for slot in inputs.slots} - inputs.rest_weekdays
    first_week = [session for session in training.sessions if session.week_index == 0]
    feasibility = assess_feasibility(
        FeasibilityInputs(
            today=inputs.start_date,
            weight_kg=inputs.weight_kg,
            available_training_days=len(training_days),
            required_sessions_per_week=inputs.workout_frequency,
            available_session_minutes=max((slot.minutes for slot in inputs.slots), default=None),
            required_session_minutes=max(
                (session.planned_duration_minutes for session in first_week), default=None
            ),
            dietary_preference=inputs.dietary_preference,
            protein_target_g=macros.protein_g,
        )
    )

    return ProgramBundle(
        user_id=inputs.user_id,
        source=inputs.source,
        source_session_id=inputs.source_session_id,
        primary_goal=inputs.primary_goal,
        program_start_date=inputs.start_date,
        program_duration_weeks=inputs.duration_weeks,
        next_reassessment_date=inputs.start_date + dt.timedelta(days=REASSESSMENT_DAYS),
        tdee=energy.tdee.model_dump(mode="json"),
        macros=macros.model_dump(mode="json"),
        safety=energy.safety.model_dump(mode="json"),
        feasibility=feasibility.model_dump(mode="json"),
        provenance={
            "generator_version": GENERATOR_VERSION,
            "inputs": inputs.model_dump(mode="json", exclude={"exercises", "foods"}),
            "catalogues": {"exercises": len(inputs.exercises), "foods": len(inputs.foods)},
            "training": training.explanation.model_dump(mode="json"),
            "meals": meals.explanation.model_dump(mode="json"),
        },
        sessions=list(training.sessions),
        meals=meals.meals,
    )
