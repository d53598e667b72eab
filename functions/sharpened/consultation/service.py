"""One consultation turn, end to end: the work behind ``POST /functions/v1/consultation-chat``.

1. Read (as the user): the session (RLS: another user's session is simply not
   found), the limits, the section status, what is known, the recent history.
2. Ask the engine for the turn, outside any transaction (an LLM call may take
   seconds; no connection is held meanwhile). An engine failure writes nothing.
3. Write (as the user, one transaction, the user's turns serialised): re-check
   the session and the limits, store the user message, the validated
   extraction and the assistant message, refresh the section and progress.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, ExitStack
from typing import Any

from psycopg.types.json import Jsonb
from pydantic import BaseModel

from sharpened.consultation.engine import (
    ConsultationEngine,
    EngineError,
    ReferenceLookup,
    ReferenceMatch,
)
from sharpened.consultation.models import (
    ChatMessage,
    ConsultationState,
    Section,
    SectionStatus,
)
from sharpened.consultation.writer import write_extraction
from sharpened.db import Connection, Database
from sharpened.errors import ApiError
from sharpened.limits import check_message_length, enforce_message_limits, lock_user

HISTORY_MESSAGES = 20

EngineFactory = Callable[[ReferenceLookup], ConsultationEngine]
LookupFactory = Callable[[Connection], ReferenceLookup]

# Short lines of what is recorded, per section, for the engine's prompt.
_KNOWN_SQL = """
select section, line from (
    select 'training_modalities' as section, t.created_at,
        m.name || coalesce(' (' || t.proficiency_level || ')', '')
            || case when t.is_primary then ', primary' else '' end as line
    from public.user_training_modalities t
    join public.training_modalities m on m.id = t.modality_id
    union all
    select 'exercise_familiarity', f.created_at,
        e.name || coalesce(', comfort ' || f.comfort_level || '/5', '')
    from public.user_familiar_exercises f join public.exercises e on e.id = f.exercise_id
    union all
    select 'training_schedule', a.created_at, 'day ' || a.day_of_week || ' ' || a.time_of_day
        || coalesce(', ' || a.typical_duration_minutes || ' min', '')
        || coalesce(', ' || a.location_type, '')
    from public.user_training_availability a
    union all
    select 'meal_timing', p.created_at,
        mt.name || coalesce(' at ' || to_char(p.typical_time, 'HH24:MI'), '')
    from public.user_preferred_meal_times p join public.meal_times mt on mt.id = p.meal_time_id
    union all
    select 'typical_foods', tf.created_at, fd.name || coalesce(' at ' || mt.name, '')
    from public.user_typical_meal_foods tf
    join public.foods fd on fd.id = tf.food_id
    left join public.meal_times mt on mt.id = tf.meal_time_id
    union all
    select 'goals_events', g.created_at, g.goal_type || ': ' || g.target_description
    from public.user_improvement_goals g
    union all
    select 'goals_events', ev.created_at, 'event: ' || ev.event_name || ' on ' || ev.event_date
    from public.user_upcoming_events ev
    union all
    select 'challenges', d.created_at, d.category || ': ' || d.description
    from public.user_difficulties d
    union all
    select 'challenges', n.created_at, 'non-negotiable: ' || n.description
    from public.user_non_negotiables n
) as known
order by created_at, line
"""


class LazyLookup:
    """A ReferenceLookup that opens its read transaction only when first used.

    An engine that never looks anything up (the OpenAI engine, while it waits
    for the model) holds no database connection; the offline engine gets one
    transaction for the whole turn.
    """

    def __init__(
        self,
        open_transaction: Callable[[], AbstractContextManager[Connection]],
        factory: LookupFactory,
    ) -> None:
        self._open_transaction = open_transaction
        self._factory = factory
        self._stack = ExitStack()
        self._lookup: ReferenceLookup | None = None

    def _target(self) -> ReferenceLookup:
        if self._lookup is None:
            self._lookup = self._factory(self._stack.enter_context(self._open_transaction()))
        return self._lookup

    def close(self) -> None:
        self._stack.close()

    def exercises(self, text: str, limit: int = 5) -> list[ReferenceMatch]:
        return self._target().exercises(text, limit)

    def foods(self, text: str, limit: int = 5) -> list[ReferenceMatch]:
        return self._target().foods(text, limit)

    def modalities(self) -> list[ReferenceMatch]:
        return self._target().modalities()

    def meal_times(self) -> list[ReferenceMatch]:
        return self._target().meal_times()

    def event_types(self) -> list[ReferenceMatch]:
        return self._target().event_types()


class TurnResult(BaseModel):
    """What the consultation-chat function answers."""

    session_id: uuid.UUID
    reply: str
    section: int
    section_slug: str
    progress: int
    completed_sections: list[int]
    extracted: dict[str, list[dict[str, Any]]]
    unresolved: list[str]


def _load_session(conn: Connection, session_id: uuid.UUID) -> dict[str, Any]:
    session = conn.execute(
        "select id, user_id, status, current_section, progress_percentage "
        "from public.consultation_sessions where id = %s",
        (session_id,),
    ).fetchone()
    if session is None:
        raise ApiError(404, "session_not_found", "no consultation session with this id")
    if session["status"] != "active":
        raise ApiError(
            409, "session_closed", f"this consultation is {session['status']}; it takes no messages"
        )
    return dict(session)


def _open_session_within_limits(
    conn: Connection, session_id: uuid.UUID, user_id: uuid.UUID
) -> dict[str, Any]:
    """The caller's active session, if its message limits allow one more turn (else 4xx)."""
    session = _load_session(conn, session_id)
    enforce_message_limits(
        conn,
        table="consultation_messages",
        thread_column="session_id",
        thread_id=session_id,
        user_id=user_id,
    )
    return session


def _state(conn: Connection, session: Mapping[str, Any], today: dt.date) -> ConsultationState:
    sections = [
        SectionStatus(
            section=Section(row["section"]), complete=row["complete"], missing=row["missing"]
        )
        for row in conn.execute(
            "select section, complete, missing from public.consultation_progress(%s)",
            (session["id"],),
        )
    ]
    known: dict[str, list[str]] = {}
    for row in conn.execute(_KNOWN_SQL):
        known.setdefault(row["section"], []).append(row["line"])
    history = [
        ChatMessage(role=row["role"], content=row["content"])
        for row in reversed(
            conn.execute(
                "select role, content from public.consultation_messages where session_id = %s "
                "order by created_at desc, id desc limit %s",
                (session["id"], HISTORY_MESSAGES),
            ).fetchall()
        )
    ]
    return ConsultationState(
        current_section=Section(session["current_section"]),
        sections=sections,
        known=known,
        history=history,
        today=today,
    )


class ConsultationService:
    """Runs consultation turns for signed-in users (every query under their RLS)."""

    def __init__(
        self, db: Database, engine_factory: EngineFactory, lookup_factory: LookupFactory
    ) -> None:
        self.db = db
        self.engine_factory = engine_factory
        self.lookup_factory = lookup_factory

    def chat(
        self,
        claims: Mapping[str, Any],
        headers: Mapping[str, str],
        session_id: uuid.UUID,
        message: str,
    ) -> TurnResult:
        text = check_message_length(message)
        user_id = uuid.UUID(str(claims["sub"]))
        path = "/functions/v1/consultation-chat"

        with self.db.as_user(claims, headers, "POST", path) as conn:
            session = _open_session_within_limits(conn, session_id, user_id)
            state = _state(conn, session, dt.date.today())

        lookup = LazyLookup(
            lambda: self.db.as_user(claims, headers, "POST", path), self.lookup_factory
        )
        engine = self.engine_factory(lookup)
        try:
            turn = engine.next_turn(state, text)
        except EngineError as error:
            raise error.api_error() from error
        finally:
            lookup.close()

        with self.db.as_user(claims, headers, "POST", path) as conn:
            lock_user(conn, user_id)
            session = _open_session_within_limits(conn, session_id, user_id)
            asked_in = session["current_section"]
            conn.execute(
                "insert into public.consultation_messages "
                "(session_id, user_id, role, content, section) values (%s, %s, 'user', %s, %s)",
                (session_id, user_id, text, asked_in),
            )
            report = write_extraction(
                conn, user_id, session_id, turn.extraction, self.lookup_factory(conn)
            )
            progress = conn.execute(
                "select current_section, progress_percentage, completed_sections "
                "from public.refresh_consultation_progress(%s, %s, %s)",
                (session_id, engine.name, engine.model),
            ).fetchone()
            assert progress is not None
            conn.execute(
                "insert into public.consultation_messages "
                "(session_id, user_id, role, content, section, extraction) "
                "values (%s, %s, 'assistant', %s, %s, %s)",
                (
                    session_id,
                    user_id,
                    turn.reply,
                    progress["current_section"],
                    Jsonb({"written": report.written, "unresolved": report.unresolved}),
                ),
            )
        section = Section(progress["current_section"])
        return TurnResult(
            session_id=session_id,
            reply=turn.reply,
            section=int(section),
            section_slug=section.slug,
            progress=progress["progress_percentage"],
            completed_sections=sorted(progress["completed_sections"]),
            extracted=report.written,
            unresolved=report.unresolved,
        )
