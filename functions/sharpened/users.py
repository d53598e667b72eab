"""Users as Supabase Auth creates them (local stack, demo and tests only)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg

DEMO_EMAIL = "demo@sharpened.local"


def create_user(
    conn: psycopg.Connection[Any], email: str, *, display_name: str | None = None
) -> uuid.UUID:
    """Sign up a confirmed email user in ``auth.users``; its trigger creates the profile."""
    user_id = uuid.uuid4()
    conn.execute(
        """
        insert into auth.users (
            instance_id, id, aud, role, email, email_confirmed_at,
            raw_app_meta_data, raw_user_meta_data, created_at, updated_at
        )
        values (
            '00000000-0000-0000-0000-000000000000', %s, 'authenticated', 'authenticated', %s,
            now(), '{"provider": "email", "providers": ["email"]}', %s, now(), now()
        )
        """,
        (user_id, email, json.dumps({"display_name": display_name} if display_name else {})),
    )
    return user_id


def find_user(conn: psycopg.Connection[Any], email: str) -> uuid.UUID | None:
    row = conn.execute("select id from auth.users where email = %s", (email,)).fetchone()
    if row is None:
        return None
    value = row["id"] if isinstance(row, dict) else row[0]
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
