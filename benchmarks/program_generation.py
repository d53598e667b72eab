"""A 12-week program: generation time, storage time, and storage against a COPY baseline.

Generation runs the real generator on the real catalogues (873 exercises,
8,789 foods) for a 4-day, 4-meal profile. Storage runs
``store_program_bundle`` (one transaction, triggers laying out the calendar).
The baseline inserts the same rows into the same tables with ``COPY`` and
triggers and foreign-key checks disabled (``session_replication_role =
replica``), rolled back. Targets (issue 5): generation + storage median
≤ 300 ms; storage within 3x of the COPY baseline.

Run: ``make bench`` (or ``.venv/bin/python -m benchmarks.program_generation``).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from benchmarks.common import Figure, throwaway_database
from sharpened.auth import user_claims
from sharpened.db import Database
from sharpened.programs.bundle import ProgramBundle
from sharpened.programs.generator import generate_program
from sharpened.programs.loader import load_generator_inputs
from sharpened.users import create_user

RUNS = 7
TARGET_TOTAL_MS = 300.0
TARGET_STORAGE_RATIO = 3.0
START = dt.date(2026, 12, 7)


@dataclass
class Result:
    rows: int
    generation_ms: float
    storage_ms: float
    copy_ms: float

    def lines(self) -> list[str]:
        total = self.generation_ms + self.storage_ms
        ratio = self.storage_ms / self.copy_ms
        return [
            f"12-week program ({self.rows} rows incl. calendar), median of {RUNS} runs",
            f"  generation: {self.generation_ms:.0f} ms; storage: {self.storage_ms:.0f} ms "
            f"({self.rows / self.storage_ms * 1000:.0f} rows/s)",
            f"  generation + storage: {total:.0f} ms "
            f"({'meets' if total <= TARGET_TOTAL_MS else 'MISSES'} the <= {TARGET_TOTAL_MS:.0f} ms "
            "target)",
            f"  COPY baseline (same rows, triggers off): {self.copy_ms:.0f} ms "
            f"({self.rows / self.copy_ms * 1000:.0f} rows/s)",
            f"  storage / COPY: {ratio:.2f}x "
            f"({'meets' if ratio <= TARGET_STORAGE_RATIO else 'MISSES'} the <= "
            f"{TARGET_STORAGE_RATIO:.0f}x target)",
        ]

    def figures(self) -> list[Figure]:
        name = "program generation (issue 5)"
        total = self.generation_ms + self.storage_ms
        copy = f"COPY, triggers off {self.copy_ms:.0f} ms"
        return [
            Figure(
                name, f"generation + storage, median ({self.rows} rows)", total, "ms", copy,
                total / self.copy_ms, f"<= {TARGET_TOTAL_MS:.0f} ms", total <= TARGET_TOTAL_MS,
            ),
            Figure(
                name, "storage (store_program_bundle), median", self.storage_ms, "ms", copy,
                self.storage_ms / self.copy_ms, f"<= {TARGET_STORAGE_RATIO:.0f}x COPY",
                self.storage_ms / self.copy_ms <= TARGET_STORAGE_RATIO,
            ),
        ]  # fmt: skip


def _copy_rows(conn: psycopg.Connection[Any], bundle: dict[str, Any], user_id: uuid.UUID) -> None:
    """The bundle's rows with COPY, as the storage RPC would write them (rolled back by caller)."""
    program_id = uuid.uuid4()
    start = dt.date.fromisoformat(bundle["program_start_date"])
    cursor = conn.cursor()
    with cursor.copy(
        "copy public.programs (id, user_id, version, source, primary_goal, program_start_date, "
        "program_duration_weeks, next_reassessment_date, status, tdee, macros, safety, "
        "feasibility, provenance, full_bundle) from stdin"
    ) as copy:
        copy.write_row(
            (program_id, user_id, 999, bundle["source"], bundle["primary_goal"], start,
             bundle["program_duration_weeks"], bundle["next_reassessment_date"], "archived",
             json.dumps(bundle["tdee"]), json.dumps(bundle["macros"]),
             json.dumps(bundle["safety"]), json.dumps(bundle["feasibility"]),
             json.dumps(bundle["provenance"]), json.dumps(bundle))
        )  # fmt: skip
    session_ids = [uuid.uuid4() for _ in bundle["sessions"]]
    meal_ids = [uuid.uuid4() for _ in bundle["meals"]]
    with cursor.copy(
        "copy public.session_instances (id, program_id, user_id, week_index, day_index, "
        "session_kind, title, planned_duration_minutes, time_of_day, parameters) from stdin"
    ) as copy:
        for sid, s in zip(session_ids, bundle["sessions"], strict=True):
            copy.write_row(
                (sid, program_id, user_id, s["week_index"], s["day_index"], s["session_kind"],
                 s["title"], s["planned_duration_minutes"], s["time_of_day"],
                 json.dumps(s["parameters"]))
            )  # fmt: skip
    with cursor.copy(
        "copy public.exercise_plan_items (session_instance_id, user_id, order_index, "
        "exercise_id, name, sets, reps_min, reps_max, target_rir, target_pct_1rm, rest_seconds) "
        "from stdin"
    ) as copy:
        for sid, s in zip(session_ids, bundle["sessions"], strict=True):
            for e in s["exercises"]:
                copy.write_row(
                    (sid, user_id, e["order_index"], e["exercise_id"], e["name"], e["sets"],
                     e["reps_min"], e["reps_max"], e["target_rir"], e["target_pct_1rm"],
                     e["rest_seconds"])
                )  # fmt: skip
    with cursor.copy(
        "copy public.meal_instances (id, program_id, user_id, week_index, day_index, meal_type, "
        "meal_time, targets, totals) from stdin"
    ) as copy:
        for mid, m in zip(meal_ids, bundle["meals"], strict=True):
            copy.write_row(
                (mid, program_id, user_id, m["week_index"], m["day_index"], m["meal_type"],
                 m["meal_time"], json.dumps(m["targets"]), json.dumps(m["totals"]))
            )  # fmt: skip
    with cursor.copy(
        "copy public.meal_item_plan (meal_instance_id, user_id, food_id, food_name, grams, "
        "serving_description, kcal, protein_g, carbs_g, fat_g) from stdin"
    ) as copy:
        for mid, m in zip(meal_ids, bundle["meals"], strict=True):
            for i in m["items"]:
                copy.write_row(
                    (mid, user_id, i["food_id"], i["food_name"], i["grams"],
                     i["serving_description"], i["kcal"], i["protein_g"], i["carbs_g"],
                     i["fat_g"])
                )  # fmt: skip
    with cursor.copy(
        "copy public.calendar_events (user_id, program_id, date, event_type, ref_table, ref_id, "
        "title) from stdin"
    ) as copy:
        for sid, s in zip(session_ids, bundle["sessions"], strict=True):
            day = start + dt.timedelta(days=7 * s["week_index"] + s["day_index"])
            copy.write_row((user_id, program_id, day, "training", "session_instances", sid, "s"))
        for mid, m in zip(meal_ids, bundle["meals"], strict=True):
            day = start + dt.timedelta(days=7 * m["week_index"] + m["day_index"])
            copy.write_row((user_id, program_id, day, "meal", "meal_instances", mid, "m"))


def _rows(bundle: ProgramBundle) -> int:
    sessions, meals = len(bundle.sessions), len(bundle.meals)
    exercises = sum(len(s.exercises) for s in bundle.sessions)
    items = sum(len(m.items) for m in bundle.meals)
    return 1 + sessions + exercises + meals + items + sessions + meals  # + calendar


def run() -> Result:
    with throwaway_database() as db_url:
        with psycopg.connect(db_url) as conn:
            user_id = create_user(conn, "bench-program@example.test")
            conn.execute(
                "update public.profiles set sex = 'male', date_of_birth = '1994-05-01', "
                "height_cm = 180, weight_kg = 82, activity_level = 'moderate', "
                "primary_goal = 'fat_loss', experience_level = 'intermediate', "
                "workout_frequency = 4 where id = %s",
                (user_id,),
            )
        database = Database(db_url, min_size=1, max_size=2)
        try:
            with database.as_user(user_claims(user_id)) as conn:
                inputs = load_generator_inputs(
                    conn, user_id, source="onboarding", source_session_id=None,
                    start_date=START, duration_weeks=12,
                )  # fmt: skip
            generation, storage, copying = [], [], []
            bundle = generate_program(inputs)
            for _ in range(RUNS):
                started = time.perf_counter()
                bundle = generate_program(inputs)
                generation.append(time.perf_counter() - started)
            document = bundle.model_dump(mode="json")
            with psycopg.connect(db_url) as conn:
                for _ in range(RUNS):
                    started = time.perf_counter()
                    with conn.transaction():
                        conn.execute("set local role service_role")
                        conn.execute("select public.store_program_bundle(%s)", (Jsonb(document),))
                    storage.append(time.perf_counter() - started)
                for _ in range(RUNS):
                    started = time.perf_counter()
                    with conn.transaction(force_rollback=True):
                        conn.execute("set local session_replication_role = replica")
                        _copy_rows(conn, document, user_id)
                    copying.append(time.perf_counter() - started)
        finally:
            database.close()
    return Result(
        rows=_rows(bundle),
        generation_ms=statistics.median(generation) * 1000,
        storage_ms=statistics.median(storage) * 1000,
        copy_ms=statistics.median(copying) * 1000,
    )


if __name__ == "__main__":
    for line in run().lines():
        print(line)
