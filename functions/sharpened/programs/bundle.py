"""The ProgramBundle: everything a generated program stores, in one validated document.

``public.store_program_bundle(bundle jsonb)`` takes ``ProgramBundle.model_dump(mode="json")``
and writes programs, session_instances, exercise_plan_items, meal_instances and
meal_item_plan in one transaction; the field names are the columns' names.
Ranges mirror the tables' CHECK constraints.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Goal = Literal["fat_loss", "muscle_gain", "recomposition", "maintenance", "performance"]
SessionKind = Literal["strength", "cardio", "hiit", "mobility", "sport", "active_recovery", "rest"]
TimeOfDay = Literal["early_morning", "morning", "midday", "afternoon", "evening", "night"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Macros(Strict):
    kcal: float = Field(ge=0)
    protein_g: float = Field(ge=0)
    carbs_g: float = Field(ge=0)
    fat_g: float = Field(ge=0)


class PlannedExercise(Strict):
    order_index: int = Field(ge=0, le=99)
    exercise_id: str | None = None
    name: str = Field(min_length=1, max_length=200)
    sets: int = Field(ge=1, le=20)
    reps_min: int | None = Field(default=None, ge=1, le=100)
    reps_max: int | None = Field(default=None, ge=1, le=100)
    target_rir: int | None = Field(default=None, ge=0, le=5)
    target_pct_1rm: float | None = Field(default=None, ge=30, le=100)
    rest_seconds: int | None = Field(default=None, ge=0, le=600)
    notes: str | None = Field(default=None, max_length=1000)


class PlannedSession(Strict):
    week_index: int = Field(ge=0, le=51)
    day_index: int = Field(ge=0, le=6, description="0 = the program's start date's weekday + 0")
    session_kind: SessionKind
    title: str = Field(min_length=1, max_length=200)
    planned_duration_minutes: int = Field(ge=0, le=300)
    time_of_day: TimeOfDay | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    exercises: list[PlannedExercise] = Field(default_factory=list, max_length=30)


class PlannedMealItem(Strict):
    food_id: uuid.UUID
    food_name: str = Field(min_length=1, max_length=300)
    grams: float = Field(ge=1, le=2000)
    serving_description: str | None = Field(default=None, max_length=200)
    kcal: float = Field(ge=0)
    protein_g: float = Field(ge=0)
    carbs_g: float = Field(ge=0)
    fat_g: float = Field(ge=0)


class PlannedMeal(Strict):
    week_index: int = Field(ge=0, le=51)
    day_index: int = Field(ge=0, le=6)
    meal_type: str = Field(description="a meal_times id, e.g. breakfast")
    meal_time: dt.time | None = None
    targets: Macros
    totals: Macros
    items: list[PlannedMealItem] = Field(default_factory=list, max_length=20)


class ProgramBundle(Strict):
    """A complete program; tdee/macros/safety/feasibility/provenance explain every number."""

    user_id: uuid.UUID
    source: Literal["consultation", "onboarding", "reassessment"]
    source_session_id: uuid.UUID | None = None
    primary_goal: Goal
    program_start_date: dt.date
    program_duration_weeks: int = Field(ge=1, le=52)
    next_reassessment_date: dt.date
    tdee: dict[str, Any]
    macros: dict[str, Any]
    safety: dict[str, Any]
    feasibility: dict[str, Any]
    provenance: dict[str, Any]
    sessions: list[PlannedSession]
    meals: list[PlannedMeal]
