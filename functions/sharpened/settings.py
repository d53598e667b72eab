"""Configuration from environment variables, with documented defaults.

Every setting can be overridden by the environment variable named in its
``validation_alias``; README.md lists them all.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The Supabase CLI's well-known local development secret: tokens minted by
# other Supabase tooling for a local stack verify here too. Never use it in production.
SUPABASE_DEV_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"  # noqa: S105

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Runtime settings shared by the functions, the CLI and the local stack."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    db_url: str = Field(
        default="postgresql://postgres:postgres@127.0.0.1:54322/postgres",
        validation_alias=AliasChoices("SHARPENED_DB_URL", "SUPABASE_DB_URL"),
        description="PostgreSQL URL the functions connect to.",
    )
    jwt_secret: str = Field(
        default=SUPABASE_DEV_JWT_SECRET,
        validation_alias="SUPABASE_JWT_SECRET",
        description="HS256 secret that signs the project's JWTs.",
    )
    jwks_url: str | None = Field(
        default=None,
        validation_alias="SUPABASE_JWKS_URL",
        description="JWKS URL (asymmetric signing keys); when set, tokens are checked against it.",
    )
    jwt_issuer: str = Field(
        default="http://127.0.0.1:54321/auth/v1",
        validation_alias="SHARPENED_JWT_ISSUER",
        description="Issuer written into locally minted user tokens.",
    )
    functions_host: str = Field(default="127.0.0.1", validation_alias="SHARPENED_FUNCTIONS_HOST")
    functions_port: int = Field(default=54321, validation_alias="SHARPENED_FUNCTIONS_PORT")
    db_port: int = Field(default=54322, validation_alias="SHARPENED_DB_PORT")
    local_dir: Path = Field(
        default=PROJECT_ROOT / ".local",
        validation_alias="SHARPENED_LOCAL_DIR",
        description="Where the local stack keeps its cluster, logs and pid files (git-ignored).",
    )
    pool_min_size: int = Field(default=1, validation_alias="SHARPENED_POOL_MIN")
    pool_max_size: int = Field(default=10, validation_alias="SHARPENED_POOL_MAX")
    db_prepared_statements: bool = Field(
        default=True,
        validation_alias="SHARPENED_DB_PREPARED_STATEMENTS",
        description=(
            "Let psycopg prepare repeated statements server-side; false behind a transaction-mode "
            "pooler (Supabase's Supavisor on port 6543), which cannot keep them."
        ),
    )
    max_body_bytes: int = Field(default=1_000_000, validation_alias="SHARPENED_MAX_BODY_BYTES")
    log_level: str = Field(default="INFO", validation_alias="SHARPENED_LOG_LEVEL")
    openai_api_key: str | None = Field(
        default=None,
        validation_alias="OPENAI_API_KEY",
        repr=False,
        description="OpenAI API key; when unset the functions use the offline engine.",
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias="OPENAI_BASE_URL",
        description="Base URL of any OpenAI-compatible server (default: OpenAI's API).",
    )
    openai_model: str = Field(
        default="gpt-4o-mini",
        validation_alias="SHARPENED_OPENAI_MODEL",
        min_length=1,
        max_length=100,
        description="Chat model for the consultation and the coach (structured outputs needed).",
    )
    openai_timeout_seconds: float = Field(
        default=20.0,
        validation_alias="SHARPENED_OPENAI_TIMEOUT",
        gt=0,
        description="Timeout of one LLM request, in seconds (each retry gets its own).",
    )
    openai_max_retries: int = Field(
        default=2,
        validation_alias="SHARPENED_OPENAI_MAX_RETRIES",
        ge=0,
        le=10,
        description="Retries with backoff after 408/409/429/5xx, timeouts and network errors.",
    )
    chat_messages_per_minute: int = Field(
        default=10,
        validation_alias="SHARPENED_CHAT_MESSAGES_PER_MINUTE",
        ge=1,
        description="Messages a user may send per minute to each chat (consultation, coach).",
    )
    chat_messages_per_thread: int = Field(
        default=200,
        validation_alias="SHARPENED_CHAT_MESSAGES_PER_THREAD",
        ge=1,
        description="User messages one consultation or coach conversation may hold.",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
