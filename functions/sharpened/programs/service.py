"""Generate, store and summarise a program: the work behind ``generate-program`` and
``consultation-complete``.

Reads run as the calling user (RLS); the bundle is generated outside any
transaction; storage is service code (``store_program_bundle`` is service-only)
in one transaction that also records the profile's targets and, for a
consultation, completes the session. ``store_program_bundle`` keeps one program
per consultation, so a retry or a concurrent second call returns the same program.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal

from psycopg.types.json import Jsonb

from sharpened.db import Connection, Database, get_database
from sharpened.errors import ApiError
from sharpened.programs.energy import DomainError
from sharpened.programs.generator import SafetyBlocked, generate_program
from sharpened.programs.loader import load_generator_inputs

DEFAULT_WEEKS = 12


def _summary(conn: Connection, program_id: uuid.UUID) -> dict[str, Any]:
    """What the functions answer: targets, weekly schedule and the first week's plan."""
    program = conn.execute(
        "select program_id, version, source, primary_goal, program_start_date, "
        "program_end_date, next_reassessment_date, tdee, macros, feasibility, weekly_schedule, "
        "daily_meals from public.program_summary where program_id = %s",
        (program_id,),
    ).fetchone()
    if program is None:  # superseded since: report it from the table itself
        raise ApiError(409, "program_superseded", "this program has been superseded")
    macros = program["macros"]
    first_week = conn.execute(
        "select date, event_type, title, time_of_day, planned_duration_minutes, targets "
        "from public.calendar_day where program_id = %s and date < %s "
        "order by date, array_position(array['early_morning', 'morning', 'midday', "
        "'afternoon', 'evening', 'night'], time_of_day), meal_time nulls last, event_type",
        (program_id, program["program_start_date"] + dt.timedelta(days=7)),
    ).fetchall()
    return {
        "program_id": program["program_id"],
        "version": program["version"],
        "source": program["source"],
        "primary_goal": program["primary_goal"],
        "program_start_date": program["program_start_date"],
        "program_end_date": program["program_end_date"],
        "next_reassessment_date": program["next_reassessment_date"],
        "targets": {
            key: macros[key] for key in ("kcal", "protein_g", "carbs_g", "fat_g", "fiber_g")
        },
        "tdee_kcal": program["tdee"]["tdee_kcal_rounded"],
        "feasibility": {
            "score": program["feasibility"]["score"],
            "issues": program["feasibility"].get("issues", []),
        },
        "weekly_schedule": program["weekly_schedule"],
        "first_week": first_week,
    }


class ProgramService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def generate(
        self,
        claims: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        path: str,
        source: Literal["consultation", "onboarding"],
        session_id: uuid.UUID | None = None,
        start_date: dt.date | None = None,
        duration_weeks: int = DEFAULT_WEEKS,
    ) -> dict[str, Any]:
        user_id = uuid.UUID(str(claims["sub"]))
        with self.db.as_user(claims, headers, "POST", path) as conn:
            # Without a start date: the user's own today (their time zone), as the calendar is.
            start = start_date or _local_today(conn, user_id)
            inputs = load_generator_inputs(
                conn,
                user_id,
                source=source,
                source_session_id=session_id,
                start_date=start,
                duration_weeks=duration_weeks,
            )
        try:
            bundle = generate_program(inputs)
        except SafetyBlocked as blocked:
            raise ApiError(
                422,
                "safety_blocked",
                "the safety gate does not allow a program for this profile",
                blocked.safety.model_dump(mode="json"),
            ) from blocked
        except DomainError as error:
            raise ApiError(
                422, "profile_out_of_range", error.message, {"field": error.field}
            ) from error

        with self.db.as_service() as conn:
            row = conn.execute(
                "select public.store_program_bundle(%s) as program_id",
                (Jsonb(bundle.model_dump(mode="json")),),
            ).fetchone()
            assert row is not None
            program_id = row["program_id"]
            conn.execute(
                "update public.profiles set estimated_tdee = %(tdee)s, "
                "daily_calorie_goal = %(kcal)s, protein_g = %(p)s, carbs_g = %(c)s, "
                "fat_g = %(f)s, consultation_completed = consultation_completed or %(done)s "
                "where id = %(user)s",
                {
                    "tdee": bundle.tdee["tdee_kcal_rounded"],
                    "kcal": bundle.macros["kcal"],
                    "p": bundle.macros["protein_g"],
                    "c": bundle.macros["carbs_g"],
                    "f": bundle.macros["fat_g"],
                    "done": source == "consultation",
                    "user": user_id,
                },
            )
            if session_id is not None:
                conn.execute(
                    "update public.consultation_sessions set status = 'completed', "
                    "completed_at = coalesce(completed_at, now()), progress_percentage = 100 "
                    "where id = %s and user_id = %s and status <> 'completed'",
                    (session_id, user_id),
                )
        with self.db.as_user(claims, headers, "GET", path) as conn:
            return _summary(conn, program_id)

    def complete_consultation(
        self,
        claims: Mapping[str, Any],
        headers: Mapping[str, str],
        session_id: uuid.UUID,
        *,
        start_date: dt.date | None = None,
    ) -> dict[str, Any]:
        """Generate the consultation's program (once): 422 until every section is complete.

        The program starts on start_date (default: the user's local today); a retry answers
        with the program already stored, whatever start_date it brings.
        """
        path = "/functions/v1/consultation-complete"
        with self.db.as_user(claims, headers, "POST", path) as conn:
            session = conn.execute(
                "select status from public.consultation_sessions where id = %s", (session_id,)
            ).fetchone()
            if session is None:
                raise ApiError(404, "session_not_found", "no consultation session with this id")
            existing = conn.execute(
                "select id from public.programs where source_session_id = %s", (session_id,)
            ).fetchone()
            if existing is not None:  # a retry: the same answer
                return _summary(conn, existing["id"])
            if session["status"] != "active":
                raise ApiError(409, "session_closed", f"this consultation is {session['status']}")
            incomplete = {
                row["slug"]: row["missing"]
                for row in conn.execute(
                    "select slug, missing from public.consultation_progress(%s) "
                    "where not complete order by section",
                    (session_id,),
                )
            }
        if incomplete:
            raise ApiError(
                422,
                "consultation_incomplete",
                f"sections still incomplete: {', '.join(incomplete)}",
                {"missing": incomplete},
            )
        return self.generate(
            claims,
            headers,
            path=path,
            source="consultation",
            session_id=session_id,
            start_date=start_date,
        )


@lru_cache(maxsize=1)
def program_service() -> ProgramService:
    return ProgramService(get_database())


def _local_today(conn: Connection, user_id: uuid.UUID) -> dt.date:
    """The user's calendar date now (profiles.timezone; UTC without a profile)."""
    row = conn.execute(
        "select (now() at time zone coalesce("
        "(select p.timezone from public.profiles as p where p.id = %s), 'UTC'))::date as today",
        (user_id,),
    ).fetchone()
    assert row is not None
    today: dt.date = row["today"]
    return today
