"""Sections, facts and turns of the consultation (pydantic: LLM output is untrusted input).

Every fact mirrors one row of a ``user_*`` table and uses that table's
vocabularies and ranges, so a validated fact always satisfies the database's
CHECK constraints. Reference rows are named, not id'd: ``ExerciseFact.exercise``
is what the user said ("bench press"); the writer resolves names to ids with
the reference search and drops what it cannot resolve.
"""

from __future__ import annotations

import datetime as dt
from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class Section(IntEnum):
    """The seven sections, in order (consultation_sessions.current_section)."""

    TRAINING_MODALITIES = 1
    EXERCISE_FAMILIARITY = 2
    TRAINING_SCHEDULE = 3
    MEAL_TIMING = 4
    TYPICAL_FOODS = 5
    GOALS_EVENTS = 6
    CHALLENGES = 7

    @property
    def slug(self) -> str:
        return self.name.lower()


# The facts that make each section complete (computed in SQL by
# public.consultation_progress from the user's rows; the codes are shared).
REQUIRED_FACTS: dict[Section, tuple[str, ...]] = {
    # ≥1 modality; one marked primary; the primary's proficiency and years of experience
    Section.TRAINING_MODALITIES: (
        "modality",
        "primary_modality",
        "proficiency",
        "years_experience",
    ),
    # ≥3 familiar exercises; a comfort level (1-5) for every one
    Section.EXERCISE_FAMILIARITY: ("familiar_exercises", "comfort_levels"),
    # ≥2 distinct training days; a typical session length and a location for every slot
    Section.TRAINING_SCHEDULE: ("training_days", "session_duration", "training_location"),
    # ≥2 meal times; a clock time for every one
    Section.MEAL_TIMING: ("meal_times", "meal_clock_times"),
    # ≥3 typical foods; the meal each is eaten at, for every one
    Section.TYPICAL_FOODS: ("typical_foods", "food_meal_times"),
    # ≥1 improvement goal; ≥1 goal with a target value or a target date (events are optional)
    Section.GOALS_EVENTS: ("goal", "goal_target"),
    # ≥1 difficulty (non-negotiables are optional: many users have none)
    Section.CHALLENGES: ("difficulty",),
}

# The nine tables a consultation fills, in section order.
EXTRACTION_TABLES: tuple[str, ...] = (
    "user_training_modalities",
    "user_familiar_exercises",
    "user_training_availability",
    "user_preferred_meal_times",
    "user_typical_meal_foods",
    "user_improvement_goals",
    "user_upcoming_events",
    "user_difficulties",
    "user_non_negotiables",
)

TimeOfDay = Literal["early_morning", "morning", "midday", "afternoon", "evening", "night"]
Proficiency = Literal["beginner", "novice", "intermediate", "advanced", "expert"]
ExerciseFrequency = Literal["never_done", "rarely", "occasionally", "regularly", "frequently"]
Location = Literal["home", "gym", "outdoor", "office", "flexible"]
PortionSize = Literal["small", "medium", "large"]
FoodFrequency = Literal["daily", "most_days", "weekly", "occasionally"]
GoalType = Literal[
    "strength", "hypertrophy", "fat_loss", "endurance", "mobility", "skill", "health",
    "performance", "body_composition",
]  # fmt: skip
DifficultyCategory = Literal[
    "time", "motivation", "energy", "injury", "nutrition", "sleep", "stress", "equipment",
    "knowledge", "consistency", "other",
]  # fmt: skip
ConstraintType = Literal["rest_day", "time_window", "dietary", "equipment", "location", "other"]


class Fact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModalityFact(Fact):
    """user_training_modalities. ``modality``: a training_modalities slug or name."""

    modality: Name
    is_primary: bool | None = None
    proficiency_level: Proficiency | None = None
    years_experience: float | None = Field(default=None, ge=0, le=50)
    enjoys_it: bool | None = None
    willing_to_continue: bool | None = None


class ExerciseFact(Fact):
    """user_familiar_exercises. ``exercise``: a name the exercise search resolves."""

    exercise: Name
    comfort_level: int | None = Field(default=None, ge=1, le=5)
    frequency: ExerciseFrequency | None = None
    typical_weight_kg: float | None = Field(default=None, ge=0, le=500)
    typical_reps: int | None = Field(default=None, ge=1, le=100)
    typical_duration_minutes: int | None = Field(default=None, ge=1, le=600)


class AvailabilityFact(Fact):
    """user_training_availability: one ISO weekday (1 = Monday) and time of day."""

    day_of_week: int = Field(ge=1, le=7)
    time_of_day: TimeOfDay
    typical_duration_minutes: int | None = Field(default=None, ge=15, le=240)
    min_duration_minutes: int | None = Field(default=None, ge=15, le=240)
    max_duration_minutes: int | None = Field(default=None, ge=15, le=240)
    location_type: Location | None = None
    is_flexible: bool | None = None
    is_preferred: bool | None = None


class MealTimeFact(Fact):
    """user_preferred_meal_times. ``meal_time``: a meal_times slug or name."""

    meal_time: Name
    typical_time: dt.time | None = None
    portion_size: PortionSize | None = None
    flexibility_minutes: int | None = Field(default=None, ge=0, le=240)
    is_non_negotiable: bool | None = None


class TypicalFoodFact(Fact):
    """user_typical_meal_foods. ``food``: a name the food search resolves."""

    food: Name
    meal_time: Name | None = None
    frequency: FoodFrequency | None = None
    typical_quantity_grams: float | None = Field(default=None, ge=1, le=2000)


class GoalFact(Fact):
    """user_improvement_goals."""

    goal_type: GoalType
    target_description: Text
    metric: Name | None = None
    current_value: float | None = None
    target_value: float | None = None
    target_date: dt.date | None = None
    priority: int | None = Field(default=None, ge=1, le=5)
    exercise: Name | None = None


class EventFact(Fact):
    """user_upcoming_events. ``event_type``: an event_types slug or name."""

    event_type: Name
    event_name: Name
    event_date: dt.date
    priority: int | None = Field(default=None, ge=1, le=5)
    specific_goals: list[Name] = Field(default_factory=list, max_length=20)


class DifficultyFact(Fact):
    """user_difficulties."""

    category: DifficultyCategory
    description: Text
    severity: int | None = Field(default=None, ge=1, le=5)


class NonNegotiableFact(Fact):
    """user_non_negotiables, e.g. rule {"day_of_week": 7, "rule": "rest"}."""

    constraint_type: ConstraintType
    description: Text
    rule: dict[str, Any] | None = None


class Extraction(BaseModel):
    """Everything one user message told us, grouped by table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    training_modalities: list[ModalityFact] = Field(default_factory=list, max_length=20)
    familiar_exercises: list[ExerciseFact] = Field(default_factory=list, max_length=50)
    availability: list[AvailabilityFact] = Field(default_factory=list, max_length=21)
    meal_times: list[MealTimeFact] = Field(default_factory=list, max_length=10)
    typical_foods: list[TypicalFoodFact] = Field(default_factory=list, max_length=50)
    goals: list[GoalFact] = Field(default_factory=list, max_length=10)
    events: list[EventFact] = Field(default_factory=list, max_length=10)
    difficulties: list[DifficultyFact] = Field(default_factory=list, max_length=10)
    non_negotiables: list[NonNegotiableFact] = Field(default_factory=list, max_length=10)

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in type(self).model_fields)


class Turn(BaseModel):
    """An engine's answer to one user message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reply: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
    extraction: Extraction = Field(default_factory=Extraction)


class SectionStatus(BaseModel):
    """What the database knows of one section (public.consultation_progress)."""

    section: Section
    complete: bool
    missing: list[str] = Field(default_factory=list)


class ChatMessage(BaseModel):
    role: Literal["user", "assistant", "system"]
    content: str


class ConsultationState(BaseModel):
    """What an engine sees: where the consultation is, what is known, the recent history."""

    current_section: Section
    sections: list[SectionStatus]
    known: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Per section slug, short lines of what is already recorded (for the prompt).",
    )
    history: list[ChatMessage] = Field(default_factory=list)
    today: dt.date

    def status(self, section: Section) -> SectionStatus:
        return next(status for status in self.sections if status.section == section)
