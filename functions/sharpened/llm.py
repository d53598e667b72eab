"""The LLM edge: a small typed wrapper over the official ``openai`` client.

Any OpenAI-compatible server works (``OPENAI_BASE_URL``). The client's own
retry loop handles 408/409/429/5xx answers, timeouts and network errors with
exponential backoff (honouring ``retry-after-ms`` / ``retry-after``); the
timeout applies to each attempt. Every failure leaves this module as an
:class:`~sharpened.consultation.engine.EngineError` with a stable code:

- ``llm_timeout``: the server did not answer in time (retryable);
- ``llm_rate_limited``: still 429 after the retries (retryable);
- ``llm_unavailable``: 5xx, network error, or the server refused the request
  (retryable only for the transient ones);
- ``llm_invalid_output``: an answer came but is unusable (empty, refused,
  truncated, not JSON, or not valid for the expected model).

Structured outputs use Chat Completions with ``response_format`` of type
``json_schema`` and ``strict: true``. The schema is derived from the pydantic
model by :func:`strict_json_schema` (every property required, optional ones
nullable, ``additionalProperties: false``, only keywords every strict
implementation accepts); the answer is validated with the pydantic model
itself, so nothing the model says is trusted before validation.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, TypeVar

import openai
import pydantic
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema

from sharpened.consultation.engine import EngineError
from sharpened.settings import Settings, get_settings

log = logging.getLogger("sharpened.llm")

Message = ChatCompletionMessageParam
ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)

NOT_A_COMPLETION = "the server's answer is not a chat completion"


class InvalidOutputError(EngineError):
    """The model answered, but not with what was asked (the engine may ask once more)."""

    def __init__(self, problems: str, raw: str | None) -> None:
        super().__init__(
            "llm_invalid_output",
            "the AI service gave an answer that could not be used; please try again",
            retryable=True,
        )
        self.problems = problems
        self.raw = raw


class LLMClient:
    """One configured OpenAI client (thread-safe: share it across requests)."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout_seconds: float = 20.0,
        max_retries: int = 2,
    ) -> None:
        self.model = model
        self.timeout_seconds = timeout_seconds
        self.max_retries = max_retries
        self._client = openai.OpenAI(
            api_key=api_key,
            base_url=base_url or None,  # None: OpenAI's API
            timeout=timeout_seconds,
            max_retries=max_retries,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMClient:
        """The client the settings describe (``OPENAI_API_KEY`` must be set)."""
        if not settings.openai_api_key:
            raise ValueError("OPENAI_API_KEY is not set; use the offline engine")
        return cls(
            api_key=settings.openai_api_key,
            model=settings.openai_model,
            base_url=settings.openai_base_url,
            timeout_seconds=settings.openai_timeout_seconds,
            max_retries=settings.openai_max_retries,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def text_completion(self, messages: Sequence[Message]) -> str:
        """The assistant's plain-text answer to ``messages`` (stripped, never empty)."""
        return self._complete(messages, response_format=None)

    def structured_completion(
        self,
        messages: Sequence[Message],
        response_model: type[ModelT],
        schema_name: str,
        *,
        schema: Mapping[str, Any] | None = None,
        prepare: Callable[[Any], Any] | None = None,
    ) -> ModelT:
        """The answer to ``messages`` as a validated ``response_model``.

        ``schema`` is the strict JSON schema sent to the server (default:
        ``strict_json_schema(response_model)``); ``prepare`` may reshape the
        decoded JSON before validation. Raises :class:`InvalidOutputError` when
        the answer does not validate, :class:`EngineError` for the rest.
        """
        if schema is None:
            schema = strict_json_schema(response_model)
        response_format: ResponseFormatJSONSchema = {
            "type": "json_schema",
            "json_schema": {"name": schema_name, "schema": dict(schema), "strict": True},
        }
        raw = self._complete(messages, response_format=response_format)
        return parse_structured(raw, response_model, prepare=prepare)

    def _complete(
        self, messages: Sequence[Message], *, response_format: ResponseFormatJSONSchema | None
    ) -> str:
        try:
            if response_format is None:
                completion = self._client.chat.completions.create(
                    model=self.model, messages=list(messages)
                )
            else:
                completion = self._client.chat.completions.create(
                    model=self.model, messages=list(messages), response_format=response_format
                )
        except openai.OpenAIError as error:
            raise engine_error(error) from error
        except ValueError as error:  # a 2xx body that is not JSON
            raise InvalidOutputError(NOT_A_COMPLETION, None) from error
        try:
            return _content(completion)
        except (AttributeError, TypeError, IndexError) as error:  # JSON of another shape
            raise InvalidOutputError(NOT_A_COMPLETION, None) from error


@lru_cache(maxsize=1)
def get_llm_client() -> LLMClient | None:
    """The process-wide client (one connection pool), or None without ``OPENAI_API_KEY``."""
    settings = get_settings()
    return LLMClient.from_settings(settings) if settings.openai_api_key else None


def _content(completion: ChatCompletion) -> str:
    """The first choice's text, or InvalidOutputError when there is none to use."""
    if not completion.choices:
        raise InvalidOutputError("the answer has no choices", None)
    choice = completion.choices[0]
    message = choice.message
    if message.refusal:
        raise InvalidOutputError("the model refused to answer", None)
    content = (message.content or "").strip()
    if choice.finish_reason == "length":
        raise InvalidOutputError("the answer was cut off (token limit)", content or None)
    if choice.finish_reason == "content_filter":
        raise InvalidOutputError("the answer was withheld by a content filter", None)
    if not content:
        raise InvalidOutputError("the answer is empty", None)
    return content


def parse_structured(
    raw: str, response_model: type[ModelT], *, prepare: Callable[[Any], Any] | None = None
) -> ModelT:
    """Decode and validate ``raw`` JSON into ``response_model`` (InvalidOutputError if not)."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise InvalidOutputError(f"the answer is not valid JSON ({error.msg})", raw) from error
    if prepare is not None:
        data = prepare(data)
    try:
        return response_model.model_validate(data)
    except pydantic.ValidationError as error:
        raise InvalidOutputError(validation_summary(error), raw) from error


def validation_summary(error: pydantic.ValidationError, limit: int = 10) -> str:
    """``path: message`` for the first ``limit`` problems, without the offending values."""
    problems = [
        f"{'.'.join(str(part) for part in item['loc']) or '(root)'}: {item['msg']}"
        for item in error.errors(include_url=False, include_input=False)
    ]
    more = len(problems) - limit
    text = "; ".join(problems[:limit])
    return f"{text}; and {more} more" if more > 0 else text


def engine_error(error: openai.OpenAIError) -> EngineError:
    """The EngineError for an error of the ``openai`` client (raised after its retries)."""
    if isinstance(error, openai.APITimeoutError):
        log.warning("LLM request timed out")
        return EngineError(
            "llm_timeout", "the AI service did not answer in time; please try again", retryable=True
        )
    if isinstance(error, openai.APIConnectionError):
        log.warning("LLM server unreachable: %s", error)
        return EngineError(
            "llm_unavailable", "the AI service is unreachable; please try again", retryable=True
        )
    if isinstance(error, openai.RateLimitError):
        log.warning("LLM rate limited (request id %s)", error.request_id)
        return EngineError(
            "llm_rate_limited",
            "the AI service is busy right now; please try again in a moment",
            retryable=True,
        )
    if isinstance(error, openai.APIStatusError):
        transient = error.status_code >= 500 or error.status_code in (408, 409)
        log.warning(
            "LLM request failed with HTTP %s (request id %s): %s",
            error.status_code,
            error.request_id,
            error.message,
        )
        message = (
            "the AI service is unavailable; please try again"
            if transient
            else "the AI service refused the request"
        )
        return EngineError("llm_unavailable", message, retryable=transient)
    if isinstance(error, openai.APIResponseValidationError):
        return InvalidOutputError(NOT_A_COMPLETION, None)
    log.warning("LLM client error: %s", error)
    return EngineError("llm_unavailable", "the AI service is unavailable", retryable=False)


# Keywords kept as they are in a strict schema. The other constraints (ranges,
# lengths, item counts, formats but ``date``) become words in the description:
# every model reads them, no strict implementation rejects them, and pydantic
# still enforces them on the answer.
_STRUCTURAL_KEYS = frozenset({"type", "enum", "const", "$ref", "description"})
_KEPT_FORMATS = frozenset({"date"})
_FORMAT_HINTS = {
    "time": "24-hour clock time HH:MM",
    "date-time": "ISO 8601 date and time",
    "duration": "ISO 8601 duration",
}


def strict_json_schema(
    model: type[pydantic.BaseModel], *, overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """A JSON schema for ``model`` that strict structured outputs accept.

    Every object lists all its properties as required and forbids others; a
    field that may be omitted is already nullable in pydantic's schema
    (``X | None = None``) or is a list / object the model emits empty. Titles
    and defaults are dropped; constraints other than the structure, the enums
    and the ``date`` format are written into the description. ``overrides``
    replaces the node at a JSON pointer (e.g. ``/$defs/Fact/properties/rule``)
    with a ready strict schema; a free-form object (``dict[str, Any]``)
    without an override is an error.
    """
    source = model.model_json_schema()
    replacements = dict(overrides or {})
    unknown = set(replacements) - _pointers(source, "")
    if unknown:
        raise ValueError(f"overrides for paths not in the schema: {sorted(unknown)}")
    result: dict[str, Any] = _strict_node(source, "", replacements)
    return result


def _strict_node(node: Any, pointer: str, overrides: Mapping[str, Mapping[str, Any]]) -> Any:
    if pointer in overrides:
        return copy.deepcopy(dict(overrides[pointer]))
    if not isinstance(node, dict):
        raise TypeError(f"unexpected schema node at {pointer or '/'}: {node!r}")
    result: dict[str, Any] = {}
    hints: list[str] = []
    for key, value in node.items():
        if key in ("$defs", "properties"):
            result[key] = {
                name: _strict_node(sub, f"{pointer}/{key}/{name}", overrides)
                for name, sub in value.items()
            }
        elif key == "items":
            result[key] = _strict_node(value, f"{pointer}/items", overrides)
        elif key == "anyOf":
            result[key] = [
                _strict_node(sub, f"{pointer}/anyOf/{index}", overrides)
                for index, sub in enumerate(value)
            ]
        elif key == "format":
            if value in _KEPT_FORMATS:
                result[key] = value
            else:
                hints.append(_FORMAT_HINTS.get(value, f"format {value}"))
        elif key in _STRUCTURAL_KEYS:
            result[key] = copy.deepcopy(value)
        # Dropped: title, default, examples, the constraints (hinted below);
        # required and additionalProperties are rebuilt.
    hints.extend(_constraint_hints(node))
    if node.get("type") == "object" or "properties" in node:
        if not isinstance(node.get("properties"), dict) or not node["properties"]:
            raise TypeError(
                f"free-form object at {pointer or '/'} cannot be strict; pass an override"
            )
        result["required"] = list(result["properties"])
        result["additionalProperties"] = False
    if "$ref" in result:
        # A $ref stands alone in strict mode; the referenced definition keeps its text.
        return {"$ref": result["$ref"]}
    if hints:
        text = "; ".join(hints)
        description = result.get("description")
        result["description"] = f"{description} ({text})" if description else text
    return result


def _constraint_hints(node: Mapping[str, Any]) -> list[str]:
    """The node's numeric, length, item-count and pattern constraints, in words."""
    hints: list[str] = []
    for low_key, high_key, unit in (
        ("minimum", "maximum", ""),
        ("minLength", "maxLength", " characters"),
        ("minItems", "maxItems", " items"),
    ):
        low, high = node.get(low_key), node.get(high_key)
        if low is not None and high is not None:
            hints.append(f"from {low} to {high}{unit}")
        elif high is not None:
            hints.append(f"at most {high}{unit}")
        elif low is not None:
            hints.append(f"at least {low}{unit}")
    words = {
        "exclusiveMinimum": "more than {}",
        "exclusiveMaximum": "less than {}",
        "multipleOf": "a multiple of {}",
        "pattern": "matching the regular expression {}",
    }
    hints.extend(template.format(node[key]) for key, template in words.items() if key in node)
    return hints


def _pointers(node: Any, pointer: str) -> set[str]:
    """The JSON pointer of every schema node (to check that overrides point somewhere)."""
    found = {pointer}
    if isinstance(node, dict):
        for key in ("$defs", "properties"):
            for name, sub in (node.get(key) or {}).items():
                found |= _pointers(sub, f"{pointer}/{key}/{name}")
        if isinstance(node.get("items"), dict):
            found |= _pointers(node["items"], f"{pointer}/items")
        for index, sub in enumerate(node.get("anyOf") or []):
            found |= _pointers(sub, f"{pointer}/anyOf/{index}")
    return found
