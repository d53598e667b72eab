"""Write a validated extraction into the nine ``user_*`` tables, as the calling user.

Runs inside the caller's ``as_user`` transaction, so RLS and the tables'
constraints guard every row: a prompt injection can at worst change that
user's own answers. Names are resolved to reference rows with the lookup;
facts whose names do not resolve are reported back, not written.

Facts with a natural key are upserted (a later message refines an earlier
answer: stated values win, unstated ones are kept); free-text facts (goals,
events, difficulties, non-negotiables) are added unless the same one exists.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from sharpened.consultation.engine import ReferenceLookup, ReferenceMatch
from sharpened.consultation.models import (
    AvailabilityFact,
    DifficultyFact,
    EventFact,
    ExerciseFact,
    Extraction,
    Fact,
    GoalFact,
    MealTimeFact,
    ModalityFact,
    NonNegotiableFact,
    TypicalFoodFact,
)

Connection = psycopg.Connection[Any]


@dataclass
class WriteReport:
    """What was written, per table, and the names that matched no reference row."""

    written: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.written.setdefault(table, []).append(row)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")


def match_vocabulary(name: str, options: Sequence[ReferenceMatch]) -> ReferenceMatch | None:
    """The option whose slug or name is ``name`` (case- and punctuation-insensitive)."""
    wanted = _slug(name)
    for option in options:
        if wanted in (_slug(option.id), _slug(option.name)):
            return option
    singular = wanted.removesuffix("s")
    for option in options:
        if singular and singular in (_slug(option.id), _slug(option.name).removesuffix("s")):
            return option
    return None


def _first(matches: Sequence[ReferenceMatch]) -> ReferenceMatch | None:
    return matches[0] if matches else None


def _upsert(conn: Connection, table: str, row: dict[str, Any], key: Sequence[str]) -> None:
    """Insert ``row``; on a key conflict overwrite only the columns the fact states."""
    columns = [column for column, value in row.items() if value is not None or column in key]
    updates = [column for column in columns if column not in (*key, "user_id")]
    action = (
        sql.SQL("update set {}").format(
            sql.SQL(", ").join(
                sql.SQL("{0} = excluded.{0}").format(sql.Identifier(column)) for column in updates
            )
        )
        if updates
        else sql.SQL("nothing")
    )
    conn.execute(
        sql.SQL(
            "insert into public.{table} ({columns}) values ({values}) "
            "on conflict ({key}) do {action}"
        ).format(
            table=sql.Identifier(table),
            columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
            values=sql.SQL(", ").join(sql.Placeholder(column) for column in columns),
            key=sql.SQL(", ").join(map(sql.Identifier, key)),
            action=action,
        ),
        {column: row[column] for column in columns},
    )


def _insert_unless_present(
    conn: Connection, table: str, row: dict[str, Any], same: Sequence[str]
) -> bool:
    """Insert ``row`` unless the user already has a row equal on the ``same`` columns."""
    exists = sql.SQL("select 1 from public.{} where user_id = %(user_id)s and {}").format(
        sql.Identifier(table),
        sql.SQL(" and ").join(
            sql.SQL("{0} is not distinct from {1}").format(
                sql.Identifier(column), sql.Placeholder(column)
            )
            for column in same
        ),
    )
    if conn.execute(exists, row).fetchone():
        return False
    columns = [column for column, value in row.items() if value is not None]
    conn.execute(
        sql.SQL("insert into public.{} ({}) values ({})").format(
            sql.Identifier(table),
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder(column) for column in columns),
        ),
        {column: row[column] for column in columns},
    )
    return True


def _fields(fact: Fact, *exclude: str) -> dict[str, Any]:
    """The fact's columns as Python values (for the database)."""
    return fact.model_dump(exclude=set(exclude))


def _shown(fact: Fact, *exclude: str, **names: str | None) -> dict[str, Any]:
    """The fact as JSON values, with resolved reference names (for the report)."""
    return {**names, **fact.model_dump(mode="json", exclude=set(exclude))}


class _Writer:
    """One extraction's writes for one user (see write_extraction)."""

    def __init__(
        self,
        conn: Connection,
        user_id: uuid.UUID,
        session_id: uuid.UUID | None,
        lookup: ReferenceLookup,
    ) -> None:
        self.conn = conn
        self.user_id = user_id
        self.owner = {"user_id": user_id, "session_id": session_id}
        self.lookup = lookup
        self.report = WriteReport()

    def resolve(
        self, name: str, finder: Callable[[str], ReferenceMatch | None], kind: str
    ) -> ReferenceMatch | None:
        match = finder(name)
        if match is None:
            self.report.unresolved.append(f"{kind}: {name}")
        return match

    def exercise(self, name: str) -> ReferenceMatch | None:
        return _first(self.lookup.exercises(name, 1))

    def modalities(self, facts: Sequence[ModalityFact]) -> None:
        options = self.lookup.modalities()
        for fact in facts:
            modality = self.resolve(
                fact.modality, lambda n: match_vocabulary(n, options), "modality"
            )
            if modality is None:
                continue
            if fact.is_primary:  # one primary per user: the new one replaces the old
                self.conn.execute(
                    "update public.user_training_modalities set is_primary = false "
                    "where user_id = %s and is_primary and modality_id <> %s",
                    (self.user_id, modality.id),
                )
            fields = _fields(fact, "modality")
            row = {**self.owner, "modality_id": modality.id, **fields}
            _upsert(self.conn, "user_training_modalities", row, ("user_id", "modality_id"))
            self.report.add(
                "user_training_modalities", _shown(fact, "modality", modality=modality.name)
            )

    def exercises(self, facts: Sequence[ExerciseFact]) -> None:
        for fact in facts:
            exercise = self.resolve(fact.exercise, self.exercise, "exercise")
            if exercise is None:
                continue
            fields = _fields(fact, "exercise")
            row = {**self.owner, "exercise_id": exercise.id, **fields}
            _upsert(self.conn, "user_familiar_exercises", row, ("user_id", "exercise_id"))
            self.report.add(
                "user_familiar_exercises", _shown(fact, "exercise", exercise=exercise.name)
            )

    def availability(self, facts: Sequence[AvailabilityFact]) -> None:
        for fact in facts:
            row = {**self.owner, **_fields(fact)}
            key = ("user_id", "day_of_week", "time_of_day")
            _upsert(self.conn, "user_training_availability", row, key)
            self.report.add("user_training_availability", _shown(fact))

    def meal_times(self, facts: Sequence[MealTimeFact], options: Sequence[ReferenceMatch]) -> None:
        for fact in facts:
            meal = self.resolve(fact.meal_time, lambda n: match_vocabulary(n, options), "meal time")
            if meal is None:
                continue
            fields = _fields(fact, "meal_time")
            row = {**self.owner, "meal_time_id": meal.id, **fields}
            _upsert(self.conn, "user_preferred_meal_times", row, ("user_id", "meal_time_id"))
            self.report.add(
                "user_preferred_meal_times", _shown(fact, "meal_time", meal_time=meal.name)
            )

    def typical_foods(
        self, facts: Sequence[TypicalFoodFact], options: Sequence[ReferenceMatch]
    ) -> None:
        for fact in facts:
            food = self.resolve(fact.food, lambda n: _first(self.lookup.foods(n, 1)), "food")
            if food is None:
                continue
            meal = match_vocabulary(fact.meal_time, options) if fact.meal_time else None
            fields = _fields(fact, "food", "meal_time")
            row = {
                **self.owner,
                "food_id": uuid.UUID(food.id),
                "meal_time_id": meal.id if meal else None,
                **fields,
            }
            key = ("user_id", "food_id", "meal_time_id")
            _upsert(self.conn, "user_typical_meal_foods", row, key)
            shown = _shown(
                fact, "food", "meal_time", food=food.name, meal_time=meal.name if meal else None
            )
            self.report.add("user_typical_meal_foods", shown)

    def goals(self, facts: Sequence[GoalFact]) -> None:
        for fact in facts:
            exercise = self.exercise(fact.exercise) if fact.exercise else None
            fields = _fields(fact, "exercise")
            row = {**self.owner, "exercise_id": exercise.id if exercise else None, **fields}
            same = ("goal_type", "target_description")
            if _insert_unless_present(self.conn, "user_improvement_goals", row, same):
                self.report.add("user_improvement_goals", _shown(fact))

    def events(self, facts: Sequence[EventFact]) -> None:
        options = self.lookup.event_types()
        for fact in facts:
            event_type = self.resolve(
                fact.event_type, lambda n: match_vocabulary(n, options), "event type"
            )
            if event_type is None:
                continue
            fields = _fields(fact, "event_type")
            row = {**self.owner, "event_type_id": event_type.id, **fields}
            if _insert_unless_present(
                self.conn, "user_upcoming_events", row, ("event_name", "event_date")
            ):
                self.report.add(
                    "user_upcoming_events", _shown(fact, "event_type", event_type=event_type.name)
                )

    def difficulties(self, facts: Sequence[DifficultyFact]) -> None:
        for fact in facts:
            row = {**self.owner, **_fields(fact)}
            same = ("category", "description")
            if _insert_unless_present(self.conn, "user_difficulties", row, same):
                self.report.add("user_difficulties", _shown(fact))

    def non_negotiables(self, facts: Sequence[NonNegotiableFact]) -> None:
        for fact in facts:
            rule = Jsonb(fact.rule) if fact.rule is not None else None
            row = {**self.owner, **_fields(fact, "rule"), "rule": rule}
            same = ("constraint_type", "description")
            if _insert_unless_present(self.conn, "user_non_negotiables", row, same):
                self.report.add("user_non_negotiables", _shown(fact))


def write_extraction(
    conn: Connection,
    user_id: uuid.UUID,
    session_id: uuid.UUID | None,
    extraction: Extraction,
    lookup: ReferenceLookup,
) -> WriteReport:
    """Write every fact of ``extraction`` for ``user_id``; returns what was written."""
    writer = _Writer(conn, user_id, session_id, lookup)
    meal_times = lookup.meal_times() if extraction.meal_times or extraction.typical_foods else []
    writer.modalities(extraction.training_modalities)
    writer.exercises(extraction.familiar_exercises)
    writer.availability(extraction.availability)
    writer.meal_times(extraction.meal_times, meal_times)
    writer.typical_foods(extraction.typical_foods, meal_times)
    writer.goals(extraction.goals)
    writer.events(extraction.events)
    writer.difficulties(extraction.difficulties)
    writer.non_negotiables(extraction.non_negotiables)
    return writer.report
