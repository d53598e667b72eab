"""The offline consultation engine: deterministic, no network, no LLM.

Used when no OpenAI API key is configured. For the section in progress it
asks that section's questions and extracts facts from each answer with the
parsers (:mod:`sharpened.consultation.parsers`: weekdays, times of day,
durations, dates, quantities, numbers, vocabularies) and the reference search
(:mod:`sharpened.consultation.lookup`: exercises, foods, modalities, meal times,
event types). It also picks up obvious facts of other unfinished sections
(a dated event, training days with a time of day). Then it asks for what is
still missing *after* this message, moving on to the next section's opening
question once the current one will be complete.

What is already recorded comes from ``state.known`` (one line per row, as
``ConsultationService`` writes them, e.g. ``"Barbell Squat, comfort 5/5"``,
``"day 1 evening, 60 min, gym"``, ``"Breakfast at 07:00"``) and the section's
earlier user messages in ``state.history``. A fact about something named
earlier is re-emitted with what is known about it, so the writer's upsert
completes the row.

The user's text is data only: nothing in it changes what the engine does
besides the facts it states about the user; text that tries to ("ignore
previous instructions ...") yields no extraction. Odd input never raises: it
gets an empty extraction and a clarifying question.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast, get_args

import psycopg
from pydantic import BaseModel, ValidationError

from sharpened.consultation import parsers as p
from sharpened.consultation.engine import EngineError, ReferenceLookup
from sharpened.consultation.lookup import (
    TextMatch,
    find_event_types_in_text,
    find_exercises_in_text,
    find_foods_in_text,
    find_meal_times_in_text,
    find_modalities_in_text,
)
from sharpened.consultation.models import (
    REQUIRED_FACTS,
    AvailabilityFact,
    ConsultationState,
    DifficultyFact,
    EventFact,
    ExerciseFact,
    Extraction,
    GoalFact,
    GoalType,
    MealTimeFact,
    ModalityFact,
    NonNegotiableFact,
    Section,
    TimeOfDay,
    Turn,
    TypicalFoodFact,
)

F = TypeVar("F", bound=BaseModel)

MAX_MESSAGE = 2000
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_TOD_WORDS: dict[str, str] = {
    "early_morning": "early mornings", "morning": "mornings", "midday": "middays",
    "afternoon": "afternoons", "evening": "evenings", "night": "nights",
}  # fmt: skip
# Typical clock time of each meal (public.meal_times.typical_time): reads "at 7" as
# 7:00 for breakfast and 19:00 for dinner.
MEAL_CLOCK: dict[str, dt.time] = {
    "breakfast": dt.time(7, 30), "morning_snack": dt.time(10, 0), "brunch": dt.time(10, 30),
    "lunch": dt.time(12, 30), "snack": dt.time(15, 0), "afternoon_snack": dt.time(15, 30),
    "pre_workout": dt.time(16, 30), "post_workout": dt.time(18, 30), "dinner": dt.time(19, 30),
    "evening_snack": dt.time(21, 30),
}  # fmt: skip

TITLES: dict[Section, str] = {
    Section.TRAINING_MODALITIES: "how you train",
    Section.EXERCISE_FAMILIARITY: "the exercises you know",
    Section.TRAINING_SCHEDULE: "your training schedule",
    Section.MEAL_TIMING: "your meal times",
    Section.TYPICAL_FOODS: "what you usually eat",
    Section.GOALS_EVENTS: "your goals",
    Section.CHALLENGES: "what gets in your way",
}

# The opening question of each section (also how the engine finds, in the
# history, where the section started).
OPENINGS: dict[Section, str] = {
    Section.TRAINING_MODALITIES: (
        "Let's start with how you train. What kinds of training do you do (for example strength "
        "training, running, yoga or cycling), which one is your main one, how would you rate "
        "your level at it and for how many years have you been doing it?"
    ),
    Section.EXERCISE_FAMILIARITY: (
        "Which exercises do you know well? Name at least three, and tell me how comfortable you "
        "are with each, on a 1-5 scale or in words (e.g. 'very comfortable with squats')."
    ),
    Section.TRAINING_SCHEDULE: (
        "When can you train? Tell me the days, the time of day, how long a session usually lasts "
        "and where you train (home, gym, outdoors, office)."
    ),
    Section.MEAL_TIMING: (
        "Now food. Which meals do you usually eat, and at what time? "
        "For example 'breakfast at 7:30, lunch at 12:30, dinner at 19:00'."
    ),
    Section.TYPICAL_FOODS: (
        "What do you typically eat at those meals? Name at least three foods and the meal each "
        "one is for, for example 'oats and a banana for breakfast'."
    ),
    Section.GOALS_EVENTS: (
        "What would you like to improve, and by how much or by when? For example 'squat 140 kg "
        "by June 14' or 'lose 4 kg in 12 weeks'. Any events coming up, like a race or a wedding?"
    ),
    Section.CHALLENGES: (
        "Last part: what makes training or eating well hard for you (time, energy, an injury, "
        "motivation...)? And is there anything a plan must respect, like a rest day or foods "
        "you never eat?"
    ),
}
ASK_PRIMARY = "Which of those is your main one?"
_INJECTION = re.compile(
    r"ignore\s+(?:all\s+|any\s+|the\s+|your\s+)*(?:previous|prior|above|earlier|preceding|system)?"
    r"\s*(?:instructions|messages|prompts?|rules)|disregard\s+(?:all\s+|the\s+|your\s+)*"
    r"(?:previous|above|prior|instructions|rules)|system\s+prompt|developer\s+mode|you\s+are\s+now"
    r"|pretend\s+(?:to\s+be|you\s+are)|jailbreak|other\s+(?:users?|people|members|accounts?)'?s?\s+"
    r"(?:data|info\w*|details|messages|accounts?|records|answers|rows)|(?:every|any)one'?s\s+data"
    r"|all\s+users|admin(?:istrator)?\s+(?:mode|access|rights)|\bsql\b|drop\s+table|select\s+\*"
    r"|<\s*script|\buser_id\b|service[_\s]role|api\s+key|password",
    re.IGNORECASE,
)
_TRAINING_WORDS = re.compile(
    r"\b(?:train\w*|work\s?outs?|working\s+out|gym|sessions?|lift\w*|run|runs|running|practi[cs]e"
    r"|exercis\w*|classes?)\b",
    re.IGNORECASE,
)
_PRIMARY_BEFORE = re.compile(
    r"(?:mostly|mainly|primarily|main(?:\s+(?:one|thing|sport|focus|training))?\s*(?:is|are|:)?"
    r"|focus\s+on|my\s+thing\s+is|especially|above\s+all|first\s+and\s+foremost|mostly\s+do"
    r"|mainly\s+do|primarily\s+do)\s+(?:\w+\s+){0,2}$",
    re.IGNORECASE,
)
_PRIMARY_AFTER = re.compile(
    r"^\s*(?:is|are)\s+(?:my\s+)?(?:main|primary|number\s+one|focus|favou?rite)|^\s*\((?:main|primary)\)"
    r"|^\s*(?:mostly|mainly|primarily)\b",
    re.IGNORECASE,
)
_YEARS = re.compile(
    rf"(?P<n>{p.NUMBER}|an?|half\s+a)\s+(?P<u>years?|yrs?|months?)\b"
    r"|\bsince\s+(?P<y>(?:19|20)\d{2})\b",
    re.IGNORECASE,
)
_CURRENT_BEFORE = re.compile(
    r"\b(?:i'?m\s+(?:at|currently\s+at|on)|currently(?:\s+at)?|right\s+now(?:\s+i'?m\s+at)?|at\s+the\s+moment"
    r"|now\s+at|i\s+can\s+(?:do|lift|squat|bench|deadlift|run)|my\s+(?:best|max|pb|pr)\s+is|max\s+is"
    r"|from|i\s+weigh|weigh(?:ing)?|i'?m|at)\s*(?:about|around|roughly)?\s*$",
    re.IGNORECASE,
)
_CURRENT_AFTER = re.compile(r"^\s*(?:now|currently|at\s+the\s+moment|right\s+now|today)\b", re.I)
_TARGET_BEFORE = re.compile(
    r"(?:to|reach|hit|get\s+to|down\s+to|up\s+to)\s*(?:about|around)?\s*$", re.I
)
_NON_NEGOTIABLE_MEAL = re.compile(
    r"\b(?:never\s+skip|non-?negotiable|must|have\s+to|no\s+matter\s+what|strict(?:ly)?)\b",
    re.IGNORECASE,
)
_FLEXIBILITY = re.compile(
    r"(?:give\s+or\s+take|\+/-|±|plus\s+or\s+minus|flexible\s+by|within)\s+(?P<d>[^.,;]{1,30})",
    re.IGNORECASE,
)
_PREFERRED = re.compile(r"\b(?:ideally|preferably|prefer(?:ably)?|best|favou?rite)\b", re.I)
_FLEXIBLE = re.compile(r"\b(?:flexible|whenever|any\s+time|anytime|varies|depends)\b", re.I)
_LEAD_IN = re.compile(
    r"^(?:\s*(?:and|but|also|so|plus|then|oh|well|ok(?:ay)?|yes|yeah|hmm|um)\b[\s,]*)+", re.I
)


# ----------------------------------------------------------------- helpers ---


def _fact(cls: type[F], **values: Any) -> F | None:
    """Build a fact; values the model rejects are dropped (a required one drops the fact)."""
    values = {k: v for k, v in values.items() if v is not None}
    for _ in range(len(values) + 1):
        try:
            return cls(**values)
        except ValidationError as error:
            bad = {str(e["loc"][0]) for e in error.errors() if e.get("loc")}
            required = {name for name, info in cls.model_fields.items() if info.is_required()}
            if not bad or bad & required or not bad & values.keys():
                return None
            values = {k: v for k, v in values.items() if k not in bad}
    return None


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _join(items: Sequence[str]) -> str:
    items = [i for i in items if i]
    if len(items) > 8:
        items = [*items[:7], f"{len(items) - 7} more"]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _days(days: Iterable[int]) -> str:
    ordered = sorted(set(days))
    if ordered == list(range(1, 8)):
        return "every day"
    if ordered == list(range(1, 6)):
        return "weekdays"
    return _join([_WEEKDAYS[d - 1] for d in ordered])


def _clean_clause(text: str) -> str:
    return _LEAD_IN.sub("", text.strip(" ,.;:-")).strip(" ,.;:-")


@dataclass
class _Known:
    """What ``state.known`` says is recorded for the sections (parsed leniently)."""

    lines: dict[str, list[str]]

    def count(self, section: Section) -> int:
        return len(self.lines.get(section.slug, []))

    def exercises(self) -> dict[str, int | None]:
        """Recorded exercise names → comfort level (None when not recorded)."""
        out: dict[str, int | None] = {}
        for line in self.lines.get(Section.EXERCISE_FAMILIARITY.slug, []):
            m = re.match(r"^(?P<name>.+?)(?:,\s*comfort\s+(?P<c>[1-5])/5)?\s*$", line)
            if m:
                out[m.group("name")] = int(m.group("c")) if m.group("c") else None
        return out

    def slots(self) -> dict[tuple[int, TimeOfDay], tuple[int | None, str | None]]:
        """Recorded (day, time of day) → (typical minutes, location)."""
        out: dict[tuple[int, TimeOfDay], tuple[int | None, str | None]] = {}
        for line in self.lines.get(Section.TRAINING_SCHEDULE.slug, []):
            m = re.match(
                r"^day\s+(?P<d>[1-7])\s+(?P<t>early_morning|morning|midday|afternoon|evening|night)"
                r"(?:,\s*(?P<m>\d+)\s*min)?(?:,\s*(?P<l>home|gym|outdoor|office|flexible))?",
                line,
            )
            if m:
                tod: TimeOfDay = m.group("t")  # type: ignore[assignment]
                minutes = int(m.group("m")) if m.group("m") else None
                out[(int(m.group("d")), tod)] = (minutes, m.group("l"))
        return out

    def meals(self) -> dict[str, str | None]:
        """Recorded meal names → "HH:MM" (None when no clock time is recorded)."""
        out: dict[str, str | None] = {}
        for line in self.lines.get(Section.MEAL_TIMING.slug, []):
            m = re.match(r"^(?P<name>.+?)(?:\s+at\s+(?P<t>\d{1,2}:\d{2}))?\s*$", line)
            if m:
                out[m.group("name")] = m.group("t")
        return out

    def foods(self) -> dict[str, str | None]:
        """Recorded food names → meal name (None when no meal is recorded)."""
        out: dict[str, str | None] = {}
        for line in self.lines.get(Section.TYPICAL_FOODS.slug, []):
            name, _, meal = line.rpartition(" at ")
            out[name or line] = meal if name else None
        return out

    def primary_modality(self) -> str | None:
        for line in self.lines.get(Section.TRAINING_MODALITIES.slug, []):
            if line.endswith(", primary"):
                return re.sub(r"\s*\(.*\)$", "", line.removesuffix(", primary")).strip()
        return None

    def goal_types(self) -> list[tuple[str, bool]]:
        """Recorded goals as (goal_type, has a line) in order; events are skipped."""
        out: list[tuple[str, bool]] = []
        for line in self.lines.get(Section.GOALS_EVENTS.slug, []):
            if not line.startswith("event:"):
                kind, _, _ = line.partition(":")
                out.append((kind.strip(), True))
        return out


@dataclass
class _Turn:
    """One message being read: the text, the state and helpers shared by the extractors."""

    text: str
    state: ConsultationState
    lookup: ReferenceLookup
    known: _Known
    earlier: list[str] = field(default_factory=list)  # the section's earlier user messages
    labels: dict[str, str] = field(default_factory=dict)  # catalogue name → the user's words

    @property
    def today(self) -> dt.date:
        return self.state.today

    def meal_slug(self, name: str) -> str:
        """The meal_times slug of a meal named by slug or name ("Post-workout meal")."""
        wanted = re.sub(r"[^a-z0-9]+", "_", name.casefold()).strip("_")
        for row in self.lookup.meal_times():
            if wanted in (row.id, re.sub(r"[^a-z0-9]+", "_", row.name.casefold()).strip("_")):
                return row.id
        return wanted


def _missing(state: ConsultationState, section: Section) -> list[str]:
    """The section's missing codes as the state says (all of them when it says nothing)."""
    status = next((s for s in state.sections if s.section == section), None)
    return list(REQUIRED_FACTS[section]) if status is None else list(status.missing)


def _earlier_messages(state: ConsultationState, section: Section, limit: int = 6) -> list[str]:
    """The user's earlier messages of ``section`` (oldest first), from the history."""
    out: list[str] = []
    marker = OPENINGS[section][:60]
    for message in reversed(state.history):
        if message.role == "assistant" and marker in message.content:
            break
        if message.role == "user":
            out.append(message.content[:MAX_MESSAGE])
            if len(out) >= limit:
                break
    return list(reversed(out))


# ----------------------------------------------------- section 1: modalities ---


def _nearest_entity(position: int, spans: Sequence[tuple[int, int, str]], text: str) -> str | None:
    """The entity named in the same sentence as ``position``: the one just before, else after."""
    start, end = p.sentence_of(position, text)
    inside = [s for s in spans if start <= s[0] <= end]
    before = [s for s in inside if s[1] <= position]
    if before:
        return before[-1][2]
    after = [s for s in inside if s[0] >= position]
    return after[0][2] if after else None


def _years(text: str, today: dt.date) -> list[p.Found[float]]:
    found: list[p.Found[float]] = []
    for m in _YEARS.finditer(text):
        if m.group("y"):
            value = float(today.year - int(m.group("y")))
        else:
            words = p.normalize(m.group("n"))
            number = 0.5 if words == "half a" else (1.0 if words in ("a", "an") else None)
            number = number if number is not None else p.number_value(words)
            if number is None:
                continue
            value = number / 12 if m.group("u").lower().startswith("m") else number
        found.append(p.Found(round(value, 1), m.start(), m.end()))
    return found


def extract_modalities(turn: _Turn) -> list[ModalityFact]:
    """Section 1: modalities, which is primary, the primary's level and years."""
    text = turn.text
    mentions = find_modalities_in_text(turn.lookup, text)
    ids = list(dict.fromkeys(m.match.id for m in mentions))
    primary: str | None = None
    for mention in mentions:
        before = text[max(0, mention.start - 40) : mention.start]
        if _PRIMARY_BEFORE.search(before) or _PRIMARY_AFTER.match(text[mention.end :]):
            primary = mention.match.id
            break
    missing = _missing(turn.state, Section.TRAINING_MODALITIES)
    known_primary = turn.known.primary_modality()
    if known_primary is not None:  # the recorded name, as the slug the mentions use
        wanted = p.normalize(known_primary)
        known_primary = next(
            (m.id for m in turn.lookup.modalities() if wanted in (p.normalize(m.name), m.id)),
            known_primary,
        )
    if primary is None and len(ids) == 1 and "primary_modality" in missing:
        primary = ids[0]
    if primary is None and known_primary is None and ids and "primary_modality" in missing:
        # The answer to "Which of those is your main one?": the first one named.
        asked = next((m for m in reversed(turn.state.history) if m.role == "assistant"), None)
        if asked is not None and ASK_PRIMARY in asked.content:
            primary = ids[0]
    fallback_target = primary or known_primary
    spans = [(m.start, m.end, m.match.id) for m in mentions]

    details: dict[str, dict[str, Any]] = {}

    def put(position: int, field_name: str, value: object) -> None:
        target = _nearest_entity(position, spans, text) or fallback_target
        if target is None and len(ids) == 1:
            target = ids[0]
        if target is not None:
            details.setdefault(target, {}).setdefault(field_name, value)

    for found in p.find_proficiency(text):
        put(found.start, "proficiency_level", found.value)
    for years in _years(text, turn.today):
        put(years.start, "years_experience", years.value)
    for enjoys in p.find_enjoyment(text):
        put(enjoys.start, "enjoys_it", enjoys.value)
    for cont in p.find_willing_to_continue(text):
        put(cont.start, "willing_to_continue", cont.value)

    facts: list[ModalityFact] = []
    targets = ids + [t for t in details if t not in ids]
    for target in targets:
        is_primary: bool | None = None
        if target == primary or (primary is None and target == known_primary):
            is_primary = True
        elif primary is not None:
            is_primary = False
        fact = _fact(
            ModalityFact, modality=target, is_primary=is_primary, **details.get(target, {})
        )
        if fact is not None:
            facts.append(fact)
    return facts


# ----------------------------------------------------- section 2: exercises ---


_REPS = re.compile(
    rf"(?:(?P<sets>\d{{1,2}})\s*x\s*(?P<r1>\d{{1,3}})\b|(?P<r2>{p.NUMBER})\s*(?:reps?|repetitions)\b"
    r"|\bsets?\s+of\s+(?P<r3>\d{1,3})\b)",
    re.IGNORECASE,
)


def _reps(text: str) -> list[p.Found[int]]:
    found: list[p.Found[int]] = []
    for m in _REPS.finditer(text):
        raw = m.group("r1") or m.group("r2") or m.group("r3")
        value = p.number_value(raw) if raw else None
        if value is not None and value == int(value):
            found.append(p.Found(int(value), m.start(), m.end()))
    return found


def extract_exercises(turn: _Turn) -> list[ExerciseFact]:
    """Section 2: exercises with comfort (1-5), frequency, typical weight, reps, minutes."""
    text = turn.text
    matches = find_exercises_in_text(turn.lookup, text)
    spans = [(m.start, m.end) for m in matches]
    comfort = p.assign_attributes(text, spans, p.find_comfort_levels(text))
    frequency = p.assign_attributes(text, spans, p.find_exercise_frequency(text))
    masses = [
        p.Found(kg, f.start, f.end)
        for f in p.find_measurements(text)
        if (kg := f.value.as_kg()) is not None and f.value.unit in ("kg", "lb")
    ]
    weight = p.assign_attributes(text, spans, masses, nearest=True, fallback=False)
    reps = p.assign_attributes(text, spans, _reps(text), nearest=True, fallback=False)
    minutes = p.assign_attributes(
        text,
        spans,
        [p.Found(d.value.minutes, d.start, d.end) for d in p.find_durations(text)],
        nearest=True,
        fallback=False,
    )
    merged: dict[str, dict[str, Any]] = {}
    for i, match in enumerate(matches):
        entry = merged.setdefault(match.match.name, {})
        for key, value in (
            ("comfort_level", comfort[i]),
            ("frequency", frequency[i]),
            ("typical_weight_kg", weight[i]),
            ("typical_reps", reps[i]),
            ("typical_duration_minutes", minutes[i]),
        ):
            if value is not None:
                entry.setdefault(key, value)
    # "All of them are a 4": a comfort level with no exercise named completes the recorded ones.
    levels = {f.value for f in p.find_comfort_levels(text)}
    if not matches and len(levels) == 1:
        level = next(iter(levels))
        for name, recorded in turn.known.exercises().items():
            if recorded is None:
                merged[name] = {"comfort_level": level}
    facts = [_fact(ExerciseFact, exercise=name, **values) for name, values in merged.items()]
    return [f for f in facts if f is not None]


# ---------------------------------------------------- section 3: schedule ---


@dataclass
class _Slots:
    """Training slots read from one message: day lists with their attributes."""

    groups: list[tuple[tuple[int, ...], list[TimeOfDay], dict[str, Any]]]
    pending_days: list[int]  # days named without any time of day


def _attach(
    text: str,
    lists: Sequence[p.Found[p.DayList]],
    attributes: Sequence[p.Found[Any]],
) -> tuple[dict[int, list[Any]], list[Any]]:
    """Attributes → the day list they describe (same sentence: the list just before,
    else just after), or to no list (then they hold for every list)."""
    attached: dict[int, list[Any]] = {}
    loose: list[Any] = []
    for attr in attributes:
        start, end = p.sentence_of(attr.start, text)
        inside = [i for i, f in enumerate(lists) if start <= f.start <= end]
        before = [i for i in inside if lists[i].end <= attr.start]
        after = [i for i in inside if lists[i].start >= attr.end]
        target = before[-1] if before else (after[0] if after else None)
        if target is None:
            loose.append(attr.value)
        else:
            attached.setdefault(target, []).append(attr.value)
    return attached, loose


def _read_slots(text: str) -> _Slots:
    lists = [f for f in p.find_weekday_lists(text) if f.value.days]
    tods = p.find_times_of_day(text)
    durations = p.find_durations(text)
    locations = p.find_locations(text)
    tod_of, tod_loose = _attach(text, lists, tods)
    dur_of, dur_loose = _attach(text, lists, durations)
    loc_of, loc_loose = _attach(text, lists, locations)
    groups: list[tuple[tuple[int, ...], list[TimeOfDay], dict[str, Any]]] = []
    pending: list[int] = []
    for i, found in enumerate(lists):
        day_tods: list[TimeOfDay] = list(dict.fromkeys(tod_of.get(i) or tod_loose))
        duration: p.Duration | None = (dur_of.get(i) or dur_loose or [None])[0]
        location = (loc_of.get(i) or loc_loose or [None])[0]
        extra: dict[str, Any] = {"location_type": location}
        if duration is not None:
            extra.update(
                typical_duration_minutes=duration.minutes,
                min_duration_minutes=duration.min_minutes,
                max_duration_minutes=duration.max_minutes,
            )
        sentence = text[slice(*p.sentence_of(found.start, text))]
        if len(day_tods) > 1 or _FLEXIBLE.search(sentence):
            extra["is_flexible"] = True
        if _PREFERRED.search(sentence):
            extra["is_preferred"] = True
        if day_tods:
            groups.append((found.value.days, day_tods, extra))
        else:
            pending.extend(found.value.days)
    # Attributes with no day at all (a follow-up: "about an hour, at the gym").
    if not lists:
        extra = {}
        if durations:
            d = durations[0].value
            extra.update(
                typical_duration_minutes=d.minutes,
                min_duration_minutes=d.min_minutes,
                max_duration_minutes=d.max_minutes,
            )
        if locations:
            extra["location_type"] = locations[0].value
        groups.append(((), list(dict.fromkeys(t.value for t in tods)), extra))
    return _Slots(groups, pending)


def extract_availability(turn: _Turn) -> list[AvailabilityFact]:
    """Section 3: (day, time of day) slots with session length and location."""
    slots = _read_slots(turn.text)
    known = turn.known.slots()
    earlier_pending: list[int] = []
    for message in turn.earlier:
        earlier_pending += _read_slots(message).pending_days
    facts: dict[tuple[int, str], dict[str, Any]] = {}
    follow_up: dict[str, Any] = {}
    for days, tods, extra in slots.groups:
        if not days:  # attributes only: complete what is recorded or pending
            follow_up = {k: v for k, v in extra.items() if v is not None}
            if tods:
                for day in earlier_pending:
                    for tod in tods:
                        facts[(day, tod)] = dict(follow_up)
            continue
        for day in days:
            for tod in tods:
                facts[(day, tod)] = {k: v for k, v in extra.items() if v is not None}
    if follow_up:
        for (day, tod), (minutes, location) in known.items():
            values = {"typical_duration_minutes": minutes, "location_type": location}
            values = {k: v for k, v in values.items() if v is not None}
            if (day, tod) not in facts:
                facts[(day, tod)] = {**values, **follow_up}
    if slots.pending_days and not any(days for days, _, _ in slots.groups):
        # Days without a time of day: wait for it (asked next), unless one is recorded.
        recorded_tods = sorted({tod for (_, tod) in known})
        if len(recorded_tods) == 1:
            for day in slots.pending_days:
                facts.setdefault((day, recorded_tods[0]), {})
    out = [
        _fact(AvailabilityFact, day_of_week=d, time_of_day=t, **v) for (d, t), v in facts.items()
    ]
    return [f for f in out if f is not None][:21]


def explicit_slots(text: str) -> list[AvailabilityFact]:
    """Slots stated outright, days and time of day together ("Mon and Wed evenings")."""
    facts: dict[tuple[int, str], dict[str, Any]] = {}
    for days, tods, extra in _read_slots(text).groups:
        for day in days:
            for tod in tods:
                facts[(day, tod)] = {k: v for k, v in extra.items() if v is not None}
    out = [
        _fact(AvailabilityFact, day_of_week=d, time_of_day=t, **v) for (d, t), v in facts.items()
    ]
    return [f for f in out if f is not None][:21]


def pending_days(turn: _Turn, extraction: Extraction) -> list[int]:
    """Days the user named (now or earlier in the section) that still lack a time of day."""
    named = set(_read_slots(turn.text).pending_days)
    for message in turn.earlier:
        named |= set(_read_slots(message).pending_days)
    covered = {f.day_of_week for f in extraction.availability} | {d for d, _ in turn.known.slots()}
    return sorted(named - covered)


# ---------------------------------------------------- section 4: meal times ---


def extract_meal_times(turn: _Turn) -> list[MealTimeFact]:
    """Section 4: meals with their clock time, portion size and flexibility."""
    text = turn.text
    mentions = find_meal_times_in_text(turn.lookup, text)
    spans = [(m.start, m.end) for m in mentions]
    clocks = p.find_clock_times(text)
    times = p.assign_attributes(
        text, spans, [p.Found(c.value, c.start, c.end) for c in clocks], fallback=False
    )
    portions = p.assign_attributes(text, spans, p.find_portion_sizes(text), fallback=False)
    flexibility: int | None = None
    m = _FLEXIBILITY.search(text)
    if m:
        duration = p.parse_duration(m.group("d"))
        flexibility = duration.minutes if duration else None
    merged: dict[str, dict[str, Any]] = {}
    for i, mention in enumerate(mentions):
        slug = mention.match.id
        entry = merged.setdefault(slug, {})
        clock = times[i]
        listed = _LISTED_HOUR.match(text[mention.end :])  # "Lunch: 12"
        if clock is None and listed:
            clock = p.ClockTime(dt.time(int(listed.group(1)), 0), int(listed.group(1)) < 12)
        if clock is not None:
            entry.setdefault("typical_time", clock.resolved(MEAL_CLOCK.get(slug)))
        if portions[i] is not None:
            entry.setdefault("portion_size", portions[i])
        sentence = text[slice(*p.sentence_of(mention.start, text))]
        if _NON_NEGOTIABLE_MEAL.search(sentence):
            entry.setdefault("is_non_negotiable", True)
        if flexibility is not None:
            entry.setdefault("flexibility_minutes", flexibility)
    if not mentions and clocks and _only_times(text, clocks):
        # Clock times after naming the meals ("7, 12:30 and 7pm"): in the order named.
        waiting = [name for name, clock in turn.known.meals().items() if clock is None]
        for name, said in zip(waiting, clocks, strict=False):
            slug = turn.meal_slug(name)
            merged[slug] = {"typical_time": said.value.resolved(MEAL_CLOCK.get(slug))}
    facts = [_fact(MealTimeFact, meal_time=name, **values) for name, values in merged.items()]
    return [f for f in facts if f is not None]


_LISTED_HOUR = re.compile(r"^\s*[:=-]\s*([01]?\d|2[0-3])(?![\d:.])\b")
_TIME_FILLER = frozenset(
    {
        "at", "and", "then", "around", "about", "for", "the", "is", "are", "its", "it's",
        "usually", "normally", "typically", "roughly", "ish", "o", "clock", "respectively",
        "am", "pm", "or",
    }
)  # fmt: skip


def _only_times(text: str, clocks: Sequence[p.Found[p.ClockTime]]) -> bool:
    """Whether ``text`` says nothing but clock times ("At 7, 12:30 and 7pm.")."""
    rest = text
    for clock in sorted(clocks, key=lambda c: c.start, reverse=True):
        rest = rest[: clock.start] + " " + rest[clock.end :]
    return all(w in _TIME_FILLER for w in re.findall(r"[a-z']+", rest.casefold()))


# -------------------------------------------------- section 5: typical foods ---


def _foods_with_meals(
    turn: _Turn, text: str
) -> tuple[list[tuple[TextMatch, str | None, dict[str, Any]]], list[TextMatch]]:
    foods = find_foods_in_text(turn.lookup, text)
    meals = find_meal_times_in_text(turn.lookup, text)
    spans = [(f.start, f.end) for f in foods]
    meal_of = p.assign_attributes(text, spans, [p.Found(m.match.id, m.start, m.end) for m in meals])
    frequency = p.by_sentence(text, spans, p.find_food_frequency(text))
    quantities = p.find_quantities(text)
    # "2 eggs", "a banana": an amount whose span holds a food's name is that food's.
    holds = [q for q in quantities if any(q.start < e and s < q.end for s, e in spans)]
    loose = [q for q in quantities if q not in holds]
    near = p.assign_attributes(text, spans, loose, adjacent=True, nearest=True, fallback=False)
    out: list[tuple[TextMatch, str | None, dict[str, Any]]] = []
    for i, food in enumerate(foods):
        own = [q for q in holds if q.start < food.end and food.start < q.end]
        grams = own[0].value if own else near[i]
        out.append((food, meal_of[i], {"frequency": frequency[i], "typical_quantity_grams": grams}))
    return out, meals


def extract_typical_foods(turn: _Turn) -> list[TypicalFoodFact]:
    """Section 5: foods with the meal they are eaten at, how often and how much.

    A food is only recorded with its meal (a food row without one never
    completes the section); foods named without a meal wait for it (asked next).
    """
    found, meals = _foods_with_meals(turn, turn.text)
    facts: dict[tuple[str, str], dict[str, Any]] = {}
    for food, meal, extra in found:
        turn.labels.setdefault(food.match.name, food.phrase)
        if meal is not None:
            facts.setdefault((food.match.name, meal), {k: v for k, v in extra.items() if v})
    if meals and not found:
        # "Those are all for lunch": the foods named earlier without a meal.
        slugs = list(dict.fromkeys(m.match.id for m in meals))
        if len(slugs) == 1:
            for name in waiting_foods(turn, Extraction()):
                facts.setdefault((name, slugs[0]), {})
    out = [
        _fact(TypicalFoodFact, food=name, meal_time=meal, **values)
        for (name, meal), values in facts.items()
    ]
    return [f for f in out if f is not None][:50]


def waiting_foods(turn: _Turn, extraction: Extraction) -> list[str]:
    """Foods named (now or earlier in the section) without a meal, not recorded since."""
    names: list[str] = []
    for message in [*turn.earlier[-2:], turn.text]:
        for food, meal, _ in _foods_with_meals(turn, message)[0]:
            turn.labels.setdefault(food.match.name, food.phrase)
            if meal is None and food.match.name not in names:
                names.append(food.match.name)
    recorded = set(turn.known.foods()) | {f.food for f in extraction.typical_foods}
    return [n for n in names if n not in recorded]


# ------------------------------------------------------ section 6: goals ---


_PART_BREAK = re.compile(r",\s*|\s+and\s+(?:also\s+)?|\s+plus\s+", re.IGNORECASE)


def _split_where_each_says(
    text: str, start: int, end: int, separate: Callable[[str, str], bool]
) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` at commas and "and" where the two sides say different
    things (``separate``): "deadlift 200 kg and get my body fat to 12%" → two goals;
    "lose a bit of weight, from 84 kg down to 80 kg" stays one."""
    cuts = [(m.start(), m.end()) for m in _PART_BREAK.finditer(text, start, end)]
    parts: list[tuple[int, int]] = []
    begin = start
    for cut_start, cut_end in cuts:
        left, right_end = text[begin:cut_start], end
        nxt = next((c for c in cuts if c[0] > cut_start), None)
        right = text[cut_end : nxt[0] if nxt else right_end]
        if separate(left, right):
            parts.append((begin, cut_start))
            begin = cut_end
    parts.append((begin, end))
    return parts


_GOAL_METRIC: dict[str, str] = {
    "fat_loss": "body weight", "body_composition": "body fat", "hypertrophy": "body weight",
    "endurance": "distance", "performance": "time", "mobility": "range of motion",
}  # fmt: skip


def _goal_values(clause: str, goal_type: GoalType) -> tuple[float | None, float | None, str | None]:
    """(current, target, unit) from the measurements of a goal clause."""
    measures = [
        f
        for f in p.find_measurements(clause)
        if f.value.unit in ("kg", "lb", "km", "mi", "min", "%", "reps")
    ]
    if not measures:
        return None, None, None
    current: float | None = None
    target: float | None = None
    unit = measures[0].value.unit
    for f in measures:
        before = clause[max(0, f.start - 40) : f.start]
        after = clause[f.end :]
        value = f.value.value
        if current is None and (
            (_CURRENT_BEFORE.search(before) and not _TARGET_BEFORE.search(before))
            or _CURRENT_AFTER.match(after)
        ):
            current = value
        elif target is None:
            target = value
    if target is None and current is not None and len(measures) == 1:
        target, current = current, None
    if goal_type == "fat_loss" and current is None and target is not None:
        return None, target, unit  # "lose 4 kg": the amount to lose
    return current, target, unit


def extract_goals(turn: _Turn) -> tuple[list[GoalFact], list[EventFact]]:
    """Section 6: improvement goals (type, target value and/or date) and dated events."""
    text = turn.text
    goals: list[GoalFact] = []
    events: list[EventFact] = []
    recorded_goals = turn.known.goal_types()

    def has_target(part: str) -> bool:
        return bool(p.find_measurements(part) or p.find_dates(part, turn.today))

    def separate(left: str, right: str) -> bool:
        kinds = p.find_goal_types(left), p.find_goal_types(right)
        if not (kinds[0] and kinds[1]):
            return False
        return kinds[0][0].value != kinds[1][0].value or (has_target(left) and has_target(right))

    spans = [
        part
        for start, end in p.clauses(text)
        for part in _split_where_each_says(text, start, end, separate)
    ]
    for start, end in spans:
        clause = text[start:end]
        event_mentions = find_event_types_in_text(turn.lookup, clause)
        dates = p.find_dates(clause, turn.today)
        event_spans: list[tuple[int, int]] = []
        for mention in event_mentions:
            date = next((d for d in dates if d.start >= mention.end), None) or next(
                (d for d in reversed(dates) if d.end <= mention.start), None
            )
            if date is None:
                continue
            event_spans += [(mention.start, mention.end), (date.start, date.end)]
            name = mention.phrase[:1].upper() + mention.phrase[1:]
            event = _fact(
                EventFact,
                event_type=mention.match.id,
                event_name=_clip(name, 200),
                event_date=date.value,
                priority=p.parse_priority(clause),
            )
            if event is not None:
                events.append(event)
        kinds = [
            g
            for g in p.find_goal_types(clause)
            if not any(s <= g.start < e for s, e in event_spans)
        ]
        goal_dates = [d for d in dates if not any(s <= d.start < e for s, e in event_spans)]
        if not kinds and recorded_goals and not event_mentions:
            # A target for the goal stated before ("140 kg by June").
            has_value = any(
                f.value.unit in ("kg", "lb", "km", "min", "%") for f in p.find_measurements(clause)
            )
            if has_value or goal_dates:
                kind = recorded_goals[-1][0]
                if kind in get_args(GoalType):
                    kinds = [p.Found(cast(GoalType, kind), 0, 0)]
        if not kinds:
            continue
        goal_type: GoalType = kinds[0].value
        exercise: str | None = None
        if goal_type in ("strength", "hypertrophy", "skill"):
            found = find_exercises_in_text(turn.lookup, clause, max_queries=4)
            exercise = found[0].match.name if found else None
        current, target, unit = _goal_values(clause, goal_type)
        metric = None
        if unit is not None:
            subject = exercise or _GOAL_METRIC.get(goal_type, goal_type.replace("_", " "))
            if current is None and goal_type in ("fat_loss", "hypertrophy"):
                subject = "weight to lose" if goal_type == "fat_loss" else "weight to gain"
            metric = f"{subject} ({unit})"
        goal = _fact(
            GoalFact,
            goal_type=goal_type,
            target_description=_clip(_clean_clause(clause), 1000),
            metric=metric,
            current_value=current,
            target_value=target,
            target_date=goal_dates[0].value if goal_dates else None,
            priority=p.parse_priority(clause),
            exercise=exercise,
        )
        if goal is not None:
            goals.append(goal)
    return goals[:10], events[:10]


def extract_dated_events(turn: _Turn) -> list[EventFact]:
    """Dated events ("a half marathon on October 4th"), an obvious fact in any section."""
    events: list[EventFact] = []
    if not p.find_dates(turn.text, turn.today):
        return events
    for start, end in p.sentences(turn.text):
        sentence = turn.text[start:end]
        dates = p.find_dates(sentence, turn.today)
        mentions = find_event_types_in_text(turn.lookup, sentence) if dates else []
        for mention in mentions:
            date = next((d for d in dates if d.start >= mention.end), None)
            if date is None:
                continue
            name = mention.phrase[:1].upper() + mention.phrase[1:]
            event = _fact(
                EventFact, event_type=mention.match.id, event_name=name, event_date=date.value
            )
            if event is not None:
                events.append(event)
    return events


# -------------------------------------------------- section 7: challenges ---


_DIFFICULTY_WORDS = re.compile(
    r"\b(?:problem|issue|struggl\w*|hard|difficult|tough|challenge|obstacle|biggest|bad|can't"
    r"|cannot|hate|never\s+have|no\s+time|injur\w*|pain|tired)\b",
    re.IGNORECASE,
)


def _rule(kind: str, clause: str) -> dict[str, Any] | None:
    if kind == "rest_day":
        days = p.parse_excluded_weekdays(clause) or p.parse_weekdays(clause)
        if len(days) == 1:
            return {"day_of_week": days[0], "rule": "rest"}
        return {"days_of_week": days, "rule": "rest"} if days else None
    if kind == "dietary":
        return p.dietary_rule(clause)
    if kind == "time_window":
        clocks = p.find_clock_times(clause)
        if not clocks:
            return None
        clock = clocks[0].value.resolved().strftime("%H:%M")
        before = clause[: clocks[0].start].lower()
        if re.search(r"(?:not\s+before|only\s+after|no\s+earlier\s+than|after|from)\s*$", before):
            return {"not_before": clock}
        if re.search(r"(?:by|before|no\s+later\s+than|not\s+after|until|till)\s*$", before):
            return {"not_after": clock}
        return {"at": clock}
    return None


def extract_challenges(turn: _Turn) -> tuple[list[DifficultyFact], list[NonNegotiableFact]]:
    """Section 7: difficulties (category, severity) and non-negotiables (with a rule)."""
    text = turn.text
    difficulties: dict[str, dict[str, Any]] = {}
    rules: list[NonNegotiableFact] = []

    def says(part: str) -> bool:
        return bool(p.find_constraint_types(part) or p.find_difficulty_categories(part))

    spans = [
        part
        for start, end in p.clauses(text)
        for part in _split_where_each_says(text, start, end, lambda a, b: says(a) and says(b))
    ]
    for start, end in spans:
        clause = _clean_clause(text[start:end])
        if not clause:
            continue
        constraints = p.find_constraint_types(clause)
        if constraints:
            kind = constraints[0].value
            fact = _fact(
                NonNegotiableFact,
                constraint_type=kind,
                description=_clip(clause, 1000),
                rule=_rule(kind, clause),
            )
            if fact is not None:
                rules.append(fact)
            if not _DIFFICULTY_WORDS.search(clause):
                continue
        categories = p.find_difficulty_categories(clause)
        if not categories:
            continue
        category = categories[0].value
        entry = difficulties.setdefault(category, {"parts": [], "severity": None})
        entry["parts"].append(clause)
        if entry["severity"] is None:
            entry["severity"] = p.parse_severity(clause)
    facts = [
        _fact(
            DifficultyFact,
            category=category,
            description=_clip("; ".join(entry["parts"]), 1000),
            severity=entry["severity"],
        )
        for category, entry in difficulties.items()
    ]
    return [f for f in facts if f is not None][:10], rules[:10]


# ------------------------------------------------------- what is missing ---


def _missing_after(
    section: Section, missing: Sequence[str], ex: Extraction, turn: _Turn
) -> list[str]:
    """The section's missing codes once ``ex`` is written (best estimate; the
    database's consultation_progress stays the authority)."""
    known = turn.known
    left: list[str] = []
    for code in missing:
        if code == "modality":
            done = bool(ex.training_modalities)
        elif code == "primary_modality":
            done = any(f.is_primary for f in ex.training_modalities)
        elif code == "proficiency":
            done = any(f.is_primary and f.proficiency_level for f in ex.training_modalities)
        elif code == "years_experience":
            done = any(
                f.is_primary and f.years_experience is not None for f in ex.training_modalities
            )
        elif code == "familiar_exercises":
            names = set(known.exercises()) | {f.exercise for f in ex.familiar_exercises}
            done = max(len(names), known.count(section)) >= 3 if ex.familiar_exercises else False
        elif code == "comfort_levels":
            rated = {f.exercise for f in ex.familiar_exercises if f.comfort_level}
            unrated_known = {n for n, c in known.exercises().items() if c is None} - rated
            done = bool(ex.familiar_exercises) and (
                all(f.comfort_level for f in ex.familiar_exercises) and not unrated_known
            )
        elif code == "training_days":
            days = {d for d, _ in known.slots()} | {f.day_of_week for f in ex.availability}
            done = len(days) >= 2
        elif code in ("session_duration", "training_location"):
            column = "typical_duration_minutes" if code == "session_duration" else "location_type"
            index = 0 if code == "session_duration" else 1
            slots: dict[tuple[int, str], bool] = {
                key: value[index] is not None for key, value in known.slots().items()
            }
            for f in ex.availability:
                key = (f.day_of_week, f.time_of_day)
                slots[key] = slots.get(key, False) or getattr(f, column) is not None
            done = bool(slots) and all(slots.values())
        elif code == "meal_times":
            names = {turn.meal_slug(n) for n in known.meals()}
            names |= {turn.meal_slug(f.meal_time) for f in ex.meal_times}
            done = len(names) >= 2
        elif code == "meal_clock_times":
            timed = {turn.meal_slug(f.meal_time): f.typical_time is not None for f in ex.meal_times}
            for name, clock in known.meals().items():
                meal = turn.meal_slug(name)
                timed[meal] = timed.get(meal, False) or clock is not None
            done = bool(timed) and all(timed.values())
        elif code == "typical_foods":
            names = set(known.foods()) | {f.food for f in ex.typical_foods}
            done = len(names) >= 3
        elif code == "food_meal_times":
            done = bool(ex.typical_foods or known.foods()) and all(
                meal is not None for meal in known.foods().values()
            )
        elif code == "goal":
            done = bool(ex.goals)
        elif code == "goal_target":
            done = any(g.target_value is not None or g.target_date for g in ex.goals)
        elif code == "difficulty":
            done = bool(ex.difficulties)
        else:
            done = False
        if not done:
            left.append(code)
    return left


# ---------------------------------------------------------------- replies ---


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _ack(ex: Extraction, labels: dict[str, str]) -> list[str]:
    """Short lines saying what was understood."""
    parts: list[str] = []
    if ex.training_modalities:
        items = []
        for f in ex.training_modalities:
            bits = [
                "main" if f.is_primary else "",
                f.proficiency_level or "",
                f"{f.years_experience:g} years" if f.years_experience is not None else "",
            ]
            detail = ", ".join(b for b in bits if b)
            items.append(f.modality.replace("_", " ") + (f" ({detail})" if detail else ""))
        parts.append(_join(items))
    if ex.familiar_exercises:
        parts.append(
            _join(
                [
                    f.exercise + (f" ({f.comfort_level}/5)" if f.comfort_level else "")
                    for f in ex.familiar_exercises
                ]
            )
        )
    if ex.availability:
        groups: dict[tuple[str, int | None, str | None], list[int]] = {}
        for slot in ex.availability:
            key = (slot.time_of_day, slot.typical_duration_minutes, slot.location_type)
            groups.setdefault(key, []).append(slot.day_of_week)
        items = []
        for (tod, minutes, location), days in groups.items():
            item = f"{_days(days)} {_TOD_WORDS[tod]}"
            if minutes:
                item += f", about {minutes} minutes"
            if location:
                item += f" ({location})"
            items.append(item)
        parts.append("; ".join(items))
    if ex.meal_times:
        parts.append(
            _join(
                [
                    f.meal_time.replace("_", " ")
                    + (f" at {f.typical_time.strftime('%H:%M')}" if f.typical_time else "")
                    for f in ex.meal_times
                ]
            )
        )
    if ex.typical_foods:
        by_meal: dict[str, list[str]] = {}
        for food in ex.typical_foods:
            label = labels.get(food.food) or food.food
            if food.typical_quantity_grams:
                label += f" ({food.typical_quantity_grams:g} g)"
            by_meal.setdefault((food.meal_time or "any meal").replace("_", " "), []).append(label)
        parts.append("; ".join(f"{_join(v)} at {k}" for k, v in by_meal.items()))
    for goal in ex.goals:
        item = "goal: " + goal.goal_type.replace("_", " ")
        if goal.target_value is not None:
            values = f"{goal.target_value:g}"
            if goal.current_value is not None:
                values = f"{goal.current_value:g} → {values}"
            item += f", {goal.metric}: {values}" if goal.metric else f", target {values}"
        if goal.target_date:
            item += f", by {_day(goal.target_date)}"
        parts.append(item)
    for event in ex.events:
        parts.append(f"{event.event_name} on {_day(event.event_date)}")
    if ex.difficulties:
        parts.append("challenges: " + _join([d.category for d in ex.difficulties]))
    if ex.non_negotiables:
        parts.append("must respect: " + _join([n.description for n in ex.non_negotiables]))
    return parts


def _question(section: Section, missing: Sequence[str], turn: _Turn, ex: Extraction) -> str:
    code = missing[0] if missing else ""
    if code in ("modality",):
        return OPENINGS[section]
    if code == "primary_modality":
        return ASK_PRIMARY
    if code in ("proficiency", "years_experience"):
        main = next((f.modality for f in ex.training_modalities if f.is_primary), None)
        main = (main or turn.known.primary_modality() or "your main training").replace("_", " ")
        levels = "beginner, novice, intermediate, advanced or expert"
        if "proficiency" in missing and "years_experience" in missing:
            return (
                f"For {main}, how would you rate your level ({levels}), and for how many "
                "years have you been doing it?"
            )
        if "proficiency" in missing:
            return f"For {main}, how would you rate your level: {levels}?"
        return f"For how many years have you been doing {main}?"
    if code == "familiar_exercises":
        return "Which other exercises do you know? I need at least three in total."
    if code == "comfort_levels":
        unrated = [f.exercise for f in ex.familiar_exercises if not f.comfort_level]
        unrated += [n for n, c in turn.known.exercises().items() if c is None and n not in unrated]
        rated = {f.exercise for f in ex.familiar_exercises if f.comfort_level}
        names = _join([n for n in unrated if n not in rated]) or "each of them"
        return f"How comfortable are you with {names}? A 1-5 rating or words are fine."
    if code == "training_days":
        waiting = pending_days(turn, ex)
        if waiting:
            return f"At what time of day do you train on {_days(waiting)}?"
        return "Which days of the week can you train? I need at least two."
    if code == "session_duration":
        return "How long does a typical session last?"
    if code == "training_location":
        return "Where do you usually train: at home, at a gym, outdoors or at the office?"
    if code == "meal_times":
        return "Which meals do you usually eat in a day, and at what time? (at least two)"
    if code == "meal_clock_times":
        timed = {turn.meal_slug(n) for n, c in turn.known.meals().items() if c is not None}
        timed |= {turn.meal_slug(f.meal_time) for f in ex.meal_times if f.typical_time}
        untimed = [turn.meal_slug(f.meal_time) for f in ex.meal_times]
        untimed += [turn.meal_slug(n) for n in turn.known.meals()]
        labels = {m.id: m.name.lower() for m in turn.lookup.meal_times()}
        meals = [
            labels.get(s, s.replace("_", " ")) for s in dict.fromkeys(untimed) if s not in timed
        ]
        return f"At what time do you usually eat {_join(meals) or 'each meal'}?"
    if code in ("typical_foods", "food_meal_times"):
        foods = waiting_foods(turn, ex)
        if foods:
            listed = _join([turn.labels.get(n) or n for n in foods])
            return f"At which meal do you usually have {listed}?"
        if code == "typical_foods":
            return (
                "Tell me a few more foods you eat often, and the meal each is for (three in total)."
            )
        return "At which meal do you usually eat each of those foods?"
    if code == "goal":
        return OPENINGS[section]
    if code == "goal_target":
        return "Do you have a number or a date in mind for that goal, e.g. '140 kg by June 14'?"
    if code == "difficulty":
        return OPENINGS[section]
    return OPENINGS[section]


def _next_section(current: Section, predicted: dict[Section, list[str]]) -> Section | None:
    order = list(Section)
    for section in order[order.index(current) :] + order[: order.index(current)]:
        if predicted[section]:
            return section
    return None


COMPLETE_REPLY = (
    "That's everything I need, thank you! Your consultation is complete: I'll use your training, "
    "schedule, meals, goals and challenges to build your plan."
)


# ----------------------------------------------------------------- engine ---


class OfflineEngine:
    """ConsultationEngine without an LLM (engine 'offline'): parsers + reference search."""

    name = "offline"
    model: str | None = None

    def __init__(self, lookup: ReferenceLookup) -> None:
        self.lookup = lookup

    def opening(self, state: ConsultationState) -> Turn:
        """A greeting and the question of the first unfinished section."""
        predicted = {section: _missing(state, section) for section in Section}
        found = _next_section(state.current_section, predicted)
        if found is None:
            return Turn(reply=COMPLETE_REPLY)
        section = found
        greeting = (
            "Hi! I'm your SHARPENED coach. I'll ask a few questions in seven short parts "
            "(training, exercises, schedule, meals, foods, goals and challenges) to build "
            "your plan."
        )
        missing = _missing(state, section)
        question = OPENINGS[section]
        if missing and missing != list(REQUIRED_FACTS[section]):
            turn = _Turn("", state, self.lookup, _Known(state.known))
            question = _question(section, missing, turn, Extraction())
        return Turn(reply=f"{greeting} {question}")

    def next_turn(self, state: ConsultationState, user_message: str) -> Turn:
        """The facts ``user_message`` states and a reply: what was understood, then the
        question for what is still missing (or the next section's opening question)."""
        text = re.sub(r"[^\S\n]+", " ", str(user_message or "")[:MAX_MESSAGE]).strip()
        predicted_before = {section: _missing(state, section) for section in Section}
        current = _next_section(state.current_section, predicted_before) or state.current_section
        if _INJECTION.search(text):
            turn = _Turn(text, state, self.lookup, _Known(state.known))
            question = self._ask(current, predicted_before[current], turn, Extraction())
            return Turn(
                reply=(
                    "I can only use what you tell me about your own training and eating, "
                    f"so I'll leave that aside. {question}"
                )
            )
        turn = _Turn(
            text, state, self.lookup, _Known(state.known), _earlier_messages(state, current)
        )
        try:
            extraction = (
                self.extract(current, turn) if re.search(r"[A-Za-z0-9]", text) else Extraction()
            )
        except ValueError:  # a fact the models reject (pydantic's ValidationError included)
            extraction = Extraction()
        except psycopg.Error as error:
            raise EngineError(
                "reference_lookup_failed",
                "the reference data could not be searched; try again",
                retryable=True,
            ) from error
        predicted = dict(predicted_before)
        for section in Section:
            if predicted_before[section]:
                predicted[section] = _missing_after(
                    section, predicted_before[section], extraction, turn
                )
        following = _next_section(current, predicted)
        understood = _ack(extraction, turn.labels)
        if extraction.is_empty():
            lead = (
                "Sorry, I couldn't pick anything up from that."
                if text
                else "I didn't get a message."
            )
        else:
            lead = "Got it: " + "; ".join(understood) + "."
        if following is None:
            return Turn(reply=f"{lead} {COMPLETE_REPLY}", extraction=extraction)
        if following == current:
            question = _question(current, predicted[current], turn, extraction)
        else:
            next_turn = _Turn(text, state, self.lookup, _Known(state.known))
            question = f"Thanks, that covers {TITLES[current]}. " + self._ask(
                following, predicted[following], next_turn, extraction
            )
        return Turn(reply=_clip(f"{lead} {question}", 4000), extraction=extraction)

    def _ask(self, section: Section, missing: Sequence[str], turn: _Turn, ex: Extraction) -> str:
        if not missing or list(missing) == list(REQUIRED_FACTS[section]):
            return OPENINGS[section]
        return _question(section, missing, turn, ex)

    def extract(self, section: Section, turn: _Turn) -> Extraction:
        """The facts ``turn.text`` states: the current section's, plus obvious ones of
        other unfinished sections (dated events; training days with a time of day)."""
        values: dict[str, list[Any]] = {}
        done = {s.section for s in turn.state.sections if s.complete}
        if section == Section.TRAINING_MODALITIES:
            values["training_modalities"] = extract_modalities(turn)
        elif section == Section.EXERCISE_FAMILIARITY:
            values["familiar_exercises"] = extract_exercises(turn)
        elif section == Section.TRAINING_SCHEDULE:
            values["availability"] = extract_availability(turn)
        elif section == Section.MEAL_TIMING:
            values["meal_times"] = extract_meal_times(turn)
        elif section == Section.TYPICAL_FOODS:
            values["typical_foods"] = extract_typical_foods(turn)
        elif section == Section.GOALS_EVENTS:
            values["goals"], values["events"] = extract_goals(turn)
        else:
            values["difficulties"], values["non_negotiables"] = extract_challenges(turn)
        if section != Section.GOALS_EVENTS and Section.GOALS_EVENTS not in done:
            values["events"] = extract_dated_events(turn)
        if (
            section != Section.TRAINING_SCHEDULE
            and Section.TRAINING_SCHEDULE not in done
            and _TRAINING_WORDS.search(turn.text)
        ):
            values["availability"] = explicit_slots(turn.text)
        return Extraction(**{k: v for k, v in values.items() if v})
