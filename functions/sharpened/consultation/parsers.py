"""Deterministic parsers for free text (the offline consultation engine). Pure: no I/O.

Every parser reads what a user typed and returns a typed value, or ``None`` /
``[]`` when the text does not say it. They are deliberately conservative: a
parser that is unsure returns nothing (the engine then asks), because a wrong
fact written into a user's plan is worse than one more question.

Most parsers come in two forms: ``find_*`` returns every occurrence with its
character span (:class:`Found`), so the engine can tie values to the names
they belong to (:func:`assign_attributes`); ``parse_*`` returns the first value.

Vocabularies returned (time of day, proficiency, frequencies, locations, goal
types, difficulty categories, ...) are exactly the ``Literal`` types of
:mod:`sharpened.consultation.models`, which mirror the database CHECKs.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sharpened.consultation.models import (
    ConstraintType,
    DifficultyCategory,
    ExerciseFrequency,
    FoodFrequency,
    GoalType,
    Location,
    PortionSize,
    Proficiency,
    TimeOfDay,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Found(Generic[T]):
    """A value recognised in a text, with the span ``text[start:end]`` it came from."""

    value: T
    start: int
    end: int


# ------------------------------------------------------------------ helpers ---


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start < s_end and s_start < end for s_start, s_end in spans)


class _Phrases(Generic[T]):
    """An ordered phrase table: earlier rows win overlaps (put longer phrases first).

    Patterns are regular expressions matched case-insensitively on word
    boundaries. With ``negatable``, a match right after a negation ("not",
    "never", "n't", "no") is ignored ("I'm not a beginner" says no level).
    """

    _NEGATION = re.compile(r"(?:\bnot|\bnever|n't|\bno|\bnor)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)

    def __init__(self, table: Sequence[tuple[str, T]], *, negatable: bool = False) -> None:
        self._table = [(re.compile(rf"\b(?:{p})\b", re.IGNORECASE), v) for p, v in table]
        self._negatable = negatable

    def find(self, text: str) -> list[Found[T]]:
        found: list[Found[T]] = []
        taken: list[tuple[int, int]] = []
        for pattern, value in self._table:
            for m in pattern.finditer(text):
                if _overlaps(m.start(), m.end(), taken):
                    continue
                taken.append((m.start(), m.end()))
                if self._negatable and self._NEGATION.search(
                    text[max(0, m.start() - 20) : m.start()]
                ):
                    continue
                found.append(Found(value, m.start(), m.end()))
        return sorted(found, key=lambda f: f.start)

    def first(self, text: str) -> T | None:
        found = self.find(text)
        return found[0].value if found else None


def normalize(text: str) -> str:
    """Lower-case, typographic quotes and dashes made plain, whitespace collapsed."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u2013", "-")
    text = text.replace("\u2014", " - ").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip().lower()


def _plain(text: str) -> str:
    """Like :func:`normalize` but keeps the length (spans stay valid) and the case."""
    table = str.maketrans(
        {"\u2019": "'", "\u2018": "'", "\u2013": "-", "\u2014": "-", "\u00a0": " "}
    )
    return text.translate(table)


# ------------------------------------------------------------------ numbers ---

_SMALL = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_FUZZY = {"a couple of": 2.0, "a couple": 2.0, "couple of": 2.0, "a few": 3.0, "a dozen": 12.0}

_WORD_NUMBER = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
    r"(?:[ -](?:one|two|three|four|five|six|seven|eight|nine))?"
    r"|(?:a|one)\s+hundred|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
    r"|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
)
_DIGITS = r"\d+(?:[.,]\d+)?"
# A number: digits (decimal point or comma) or words, optionally "... and a half".
NUMBER = (
    rf"(?:(?:{_DIGITS}|{_WORD_NUMBER})(?:\s+and\s+a\s+half)?"
    r"|a\s+couple(?:\s+of)?|a\s+few|a\s+dozen)"
)


def number_value(words: str) -> float | None:
    """The value of a number written in digits or words ("2,5" → 2.5; "twenty-five" → 25).

    Also "a couple" → 2, "a few" → 3, "a dozen" → 12, "one and a half" → 1.5,
    "1,000" → 1000 (a comma followed by exactly three digits groups thousands).
    """
    s = normalize(words)
    half = 0.0
    if s.endswith("and a half"):
        half, s = 0.5, s[: -len("and a half")].strip()
    if s in _FUZZY:
        return _FUZZY[s] + half
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", s):
        return float(s.replace(",", "")) + half
    if re.fullmatch(_DIGITS, s):
        return float(s.replace(",", ".")) + half
    if s in _SMALL:
        return _SMALL[s] + half
    if s in ("a hundred", "one hundred"):
        return 100.0 + half
    parts = re.split(r"[ -]", s)
    if parts[0] in _TENS and (len(parts) == 1 or (len(parts) == 2 and parts[1] in _SMALL)):
        return _TENS[parts[0]] + (_SMALL[parts[1]] if len(parts) == 2 else 0) + half
    return None


_NUMBER_RE = re.compile(rf"(?<![\w.,:/-])({NUMBER})(?![\w]|[.,:/]\d)", re.IGNORECASE)


def find_numbers(text: str) -> list[Found[float]]:
    """Every standalone number (digits or words), outside clock times and dates.

    "5/3/1", "18:30", "2027-06-14" and "100kg" hold no standalone number ("100kg"
    is a measurement: :func:`find_measurements`).
    """
    text = _plain(text)
    protected = [(f.start, f.end) for f in find_clock_times(text)]
    protected += [(m.start(), m.end()) for m in _NUMERIC_DATE_SPAN.finditer(text)]
    found: list[Found[float]] = []
    for m in _NUMBER_RE.finditer(text):
        if _overlaps(m.start(), m.end(), protected):
            continue
        value = number_value(m.group(1))
        if value is not None:
            found.append(Found(value, m.start(1), m.end(1)))
    return found


def parse_number_with_unit(text: str) -> tuple[float, str | None] | None:
    """The first number, with its unit if it has one.

    "100kg" → (100.0, "kg"); "five" → (5.0, None).
    """
    candidates: list[tuple[int, float, str | None]] = [
        (f.start, f.value.value, f.value.unit) for f in find_measurements(text)
    ]
    candidates += [(f.start, f.value, None) for f in find_numbers(text)]
    if not candidates:
        return None
    _, value, unit = min(candidates, key=lambda c: c[0])
    return value, unit


def parse_number(text: str) -> float | None:
    """The first standalone number ("five" → 5.0, "2.5" → 2.5, "a couple" → 2.0)."""
    found = find_numbers(text)
    return found[0].value if found else None


@dataclass(frozen=True)
class Measurement:
    """A number with its unit, normalised: kg, lb, g, ml, km, mi, m, cm, min, h, reps, %."""

    value: float
    unit: str

    def as_kg(self) -> float | None:
        """The value in kilograms for a mass (kg, lb, g), otherwise None."""
        factor = {"kg": 1.0, "lb": 0.45359237, "g": 0.001}.get(self.unit)
        return None if factor is None else round(self.value * factor, 2)


_UNITS: dict[str, str] = {
    "kilograms": "kg", "kilogram": "kg", "kilos": "kg", "kilo": "kg", "kgs": "kg", "kg": "kg",
    "pounds": "lb", "pound": "lb", "lbs": "lb", "lb": "lb",
    "grams": "g", "gram": "g", "gr": "g", "g": "g",
    "millilitres": "ml", "milliliters": "ml", "ml": "ml",
    "kilometres": "km", "kilometers": "km", "kilometre": "km", "kilometer": "km", "km": "km",
    "k": "km",
    "miles": "mi", "mile": "mi", "mi": "mi",
    "metres": "m", "meters": "m", "metre": "m", "meter": "m", "m": "m",
    "centimetres": "cm", "centimeters": "cm", "cm": "cm",
    "minutes": "min", "minute": "min", "mins": "min", "min": "min",
    "hours": "h", "hour": "h", "hrs": "h", "hr": "h", "h": "h",
    "repetitions": "reps", "reps": "reps", "rep": "reps",
    "percent": "%", "per cent": "%", "%": "%",
}  # fmt: skip
_UNIT_ALT = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_MEASUREMENT_RE = re.compile(rf"(?<![\w.,:/-])({NUMBER})\s*({_UNIT_ALT})(?![\w])", re.IGNORECASE)


def find_measurements(text: str) -> list[Found[Measurement]]:
    """Every number with a unit: "80 kg", "100kg", "176 lbs", "5k" (km), "45 min", "12%".

    Units are normalised (see :class:`Measurement`); values are not converted.
    "5k" counts as kilometres only for a whole number directly followed by k.
    """
    text = _plain(text)
    found: list[Found[Measurement]] = []
    for m in _MEASUREMENT_RE.finditer(text):
        unit = _UNITS[m.group(2).lower()]
        raw_unit = m.group(2).lower()
        if raw_unit == "k" and not re.fullmatch(r"\d+k", m.group(0).lower()):
            continue
        if raw_unit in ("m", "h", "g") and m.group(2) != raw_unit and len(raw_unit) == 1:
            continue  # "5 M", "2 H": not units
        value = number_value(m.group(1))
        if value is not None:
            found.append(Found(Measurement(value, unit), m.start(), m.end()))
    return found


def parse_weight_kg(text: str) -> float | None:
    """The first mass in ``text``, in kilograms ("80 kg" → 80.0, "176 lbs" → 79.83)."""
    for found in find_measurements(text):
        kg = found.value.as_kg() if found.value.unit in ("kg", "lb") else None
        if kg is not None:
            return kg
    return None


# ----------------------------------------------------------------- weekdays ---

_DAY_NAMES: dict[str, int] = {
    "monday": 1, "mon": 1, "tuesday": 2, "tues": 2, "tue": 2, "wednesday": 3, "weds": 3,
    "wed": 3, "thursday": 4, "thurs": 4, "thur": 4, "thu": 4, "friday": 5, "fri": 5,
    "saturday": 6, "sat": 6, "sunday": 7, "sun": 7,
}  # fmt: skip
_AMBIGUOUS_DAYS = {"sat", "sun", "wed"}  # "I sat", "the sun", "we wed"
_DAY_RE = rf"(?:{'|'.join(sorted(_DAY_NAMES, key=len, reverse=True))})"
_ALL_DAYS = (1, 2, 3, 4, 5, 6, 7)
_COLLECTIVES: list[tuple[str, tuple[int, ...]]] = [
    (r"every\s+single\s+day|every\s*day(?:\s+of\s+the\s+week)?|each\s+day|daily|all\s+week"
     r"(?:\s+long)?|any\s+day|all\s+days|(?:7|seven)\s+days\s+a\s+week", _ALL_DAYS),
    (r"week\s?days|work\s?days|working\s+days|during\s+the\s+week", (1, 2, 3, 4, 5)),
    (r"(?:the\s+)?week\s?-?ends?", (6, 7)),
]  # fmt: skip
_DAY_TOKEN = re.compile(
    rf"(?P<range>\b(?P<a>{_DAY_RE})s?\b\.?\s*(?:-|to|through|thru|till|until)\s*"
    rf"\b(?P<b>{_DAY_RE})s?\b)"
    rf"|(?P<single>\b(?P<d>{_DAY_RE})s?\b)"
    + "".join(f"|(?P<c{i}>\\b(?:{p})\\b)" for i, (p, _) in enumerate(_COLLECTIVES)),
    re.IGNORECASE,
)
_EXCLUDE = re.compile(
    r"\b(?:except(?:\s+(?:for|on))?|but\s+not(?:\s+on)?|apart\s+from|other\s+than|excluding|"
    r"not\s+on|never\s+on|(?:can't|cannot|can\s+not)\s+(?:train\s+|do\s+)?on)\b",
    re.IGNORECASE,
)
_LIST_GLUE = re.compile(
    r"^(?:\s|,|&|/|\+|\band\b|\bor\b|\bplus\b|\bnor\b|\bon\b|\bor\s+on\b)*$", re.I
)


@dataclass(frozen=True)
class DayList:
    """Days named together ("Mon, Wed and Fri", "every day except Sunday")."""

    days: tuple[int, ...]
    excluded: tuple[int, ...] = ()


def _range(a: int, b: int) -> tuple[int, ...]:
    return tuple(range(a, b + 1)) if a <= b else (*range(a, 8), *range(1, b + 1))


def _glue(text: str) -> bool:
    return bool(_LIST_GLUE.match(text))


def find_weekday_lists(text: str) -> list[Found[DayList]]:
    """Lists of weekdays with their spans; ISO numbers (1 = Monday ... 7 = Sunday).

    Understands names, abbreviations and plurals ("Mon", "tues", "thursdays"),
    ranges ("mon-thu", "Monday to Friday", wrapping "Fri-Mon"), collectives
    ("weekdays", "weekends", "every day", "daily"), lists joined by commas, "and",
    "or", "&", "/" or "plus", and exclusions ("every day except Sunday", "any day
    but not Wednesday", "weekdays but Friday", "Sundays off", "can't on Fridays").
    The ambiguous short forms "sat", "sun" and "wed" count only when capitalised
    or listed next to another day ("I sat in the sun" names no day).
    """
    text = _plain(text)
    tokens: list[tuple[int, int, tuple[int, ...], bool, bool]] = []
    for m in _DAY_TOKEN.finditer(text):
        if m.group("range"):
            days = _range(_DAY_NAMES[m.group("a").lower()], _DAY_NAMES[m.group("b").lower()])
            tokens.append((m.start(), m.end(), days, False, False))
        elif m.group("single"):
            word = m.group("d")
            ambiguous = word.lower() in _AMBIGUOUS_DAYS and not word[0].isupper()
            tokens.append((m.start(), m.end(), (_DAY_NAMES[word.lower()],), False, ambiguous))
        else:
            index = next(i for i in range(len(_COLLECTIVES)) if m.group(f"c{i}"))
            tokens.append((m.start(), m.end(), _COLLECTIVES[index][1], True, False))
    kept = []
    for i, token in enumerate(tokens):
        if token[4]:
            joined_before = i > 0 and _glue(text[tokens[i - 1][1] : token[0]])
            joined_after = i + 1 < len(tokens) and _glue(text[token[1] : tokens[i + 1][0]])
            if not (joined_before or joined_after):
                continue
        kept.append(token)

    lists: list[Found[DayList]] = []
    start = end = -1
    included: list[int] = []
    excluded: list[int] = []
    excluding = last_collective = False

    def close() -> None:
        if start >= 0:
            days = tuple(sorted(set(included) - set(excluded)))
            lists.append(Found(DayList(days, tuple(sorted(set(excluded)))), start, end))

    for t_start, t_end, days, collective, _ in kept:
        if start >= 0:
            gap = text[end:t_start]
            marker = _EXCLUDE.search(gap)
            if (marker and _glue(gap[: marker.start()]) and _glue(gap[marker.end() :])) or (
                last_collective and re.fullmatch(r"\s*,?\s*but\s*", gap, re.IGNORECASE)
            ):
                excluding = True
                excluded.extend(days)
                end = t_end
                continue
            if _glue(gap):
                (excluded if excluding else included).extend(days)
                end, last_collective = t_end, collective
                continue
            close()
        before = text[:t_start]
        markers = [m for m in _EXCLUDE.finditer(before) if _glue(before[m.end() :])]
        start, end, included, excluded = t_start, t_end, [], []
        excluding, last_collective = bool(markers), collective
        if markers:
            start = markers[-1].start()
            excluded.extend(days)
        else:
            included.extend(days)
    close()
    # "Sundays off", "Sunday is my rest day": the list names days without training.
    result: list[Found[DayList]] = []
    for found in lists:
        after = text[found.end : found.end + 30]
        if _DAYS_OFF.match(after):
            off = {*found.value.excluded, *found.value.days}
            result.append(Found(DayList((), tuple(sorted(off))), found.start, found.end))
        else:
            result.append(found)
    return result


_DAYS_OFF = re.compile(
    r"\s*(?:are|is)?\s*(?:always\s+)?(?:off|my\s+(?:rest|day\s+off|days\s+off)|a\s+rest"
    r"|rest\s+days?"
    r"|(?:are|is)\s+for\s+rest)\b",
    re.IGNORECASE,
)


def parse_weekdays(text: str) -> list[int]:
    """ISO weekdays (1 = Monday) the text names, sorted: "Mon, Wed and Fri" → [1, 3, 5].

    Exclusions apply to the whole text ("weekdays. Not on Wednesdays" → [1, 2, 4, 5]);
    a text with only exclusions says nothing about which days are possible → [].
    """
    lists = find_weekday_lists(text)
    included = {d for f in lists for d in f.value.days}
    excluded = {d for f in lists for d in f.value.excluded}
    return sorted(included - excluded)


def parse_excluded_weekdays(text: str) -> list[int]:
    """Weekdays the text rules out ("every day except Sunday", "Sundays off") → [7]."""
    return sorted({d for f in find_weekday_lists(text) for d in f.value.excluded})


# -------------------------------------------------------------- time of day ---

_PERIODS = _Phrases[TimeOfDay](
    [
        (r"early\s+(?:in\s+the\s+)?mornings?|first\s+thing(?:\s+in\s+the\s+morning)?|before\s+work"
         r"|(?:at\s+)?dawn|sunrise|crack\s+of\s+dawn", "early_morning"),
        (r"late\s+evenings?|late\s+at\s+night|late\s+nights?|at\s+night|nights?|before\s+bed"
         r"|bedtime|after\s+dinner", "night"),
        (r"late\s+mornings?|mid-?\s?mornings?|mornings?|in\s+the\s+a\.?m\.?"
         r"|before\s+noon", "morning"),
        (r"lunch\s?times?|lunch\s?breaks?|during\s+lunch|mid-?\s?day|noon", "midday"),
        (r"early\s+afternoons?|late\s+afternoons?|afternoons?|after\s+school", "afternoon"),
        (r"early\s+evenings?|evenings?|after\s+work|after\s+the\s+office|after\s+my\s+shift"
         r"|tonight", "evening"),
    ]
)  # fmt: skip


def time_of_day_for(clock: dt.time) -> TimeOfDay:
    """The part of the day a clock time falls in.

    04:00-06:59 early_morning, 07:00-10:59 morning, 11:00-13:59 midday,
    14:00-16:59 afternoon, 17:00-20:59 evening, 21:00-03:59 night.
    """
    hour = clock.hour
    if 4 <= hour < 7:
        return "early_morning"
    if 7 <= hour < 11:
        return "morning"
    if 11 <= hour < 14:
        return "midday"
    if 14 <= hour < 17:
        return "afternoon"
    if 17 <= hour < 21:
        return "evening"
    return "night"


def find_times_of_day(text: str) -> list[Found[TimeOfDay]]:
    """Parts of the day, from words ("early morning", "after work", "lunchtime",
    "late evening" → night) or from clock times ("6am" → early_morning)."""
    text = _plain(text)
    found = _PERIODS.find(text)
    taken = [(f.start, f.end) for f in found]
    for clock in find_clock_times(text):
        if not _overlaps(clock.start, clock.end, taken):
            found.append(Found(time_of_day_for(clock.value.resolved()), clock.start, clock.end))
    return sorted(found, key=lambda f: f.start)


def parse_times_of_day(text: str) -> list[TimeOfDay]:
    """Distinct parts of the day in order of appearance ("mornings or evenings")."""
    seen: list[TimeOfDay] = []
    for found in find_times_of_day(text):
        if found.value not in seen:
            seen.append(found.value)
    return seen


def parse_time_of_day(text: str) -> TimeOfDay | None:
    """The first part of the day the text names ("around 18:30" → evening)."""
    values = parse_times_of_day(text)
    return values[0] if values else None


@dataclass(frozen=True)
class ClockTime:
    """A clock time; ``ambiguous`` when it could be a.m. or p.m. ("at 7", "7:30")."""

    time: dt.time
    ambiguous: bool = False

    def resolved(self, near: dt.time | None = None) -> dt.time:
        """The reading (a.m. or p.m.) closest to ``near`` when ambiguous; without
        ``near``, 1-5 o'clock read as p.m. (nobody trains or eats at 3 a.m.)."""
        if not self.ambiguous or self.time.hour >= 12:
            return self.time
        if near is None:
            return self.time.replace(hour=self.time.hour + 12) if self.time.hour <= 5 else self.time
        pm = self.time.replace(hour=self.time.hour + 12)
        return pm if _minutes_apart(pm, near) < _minutes_apart(self.time, near) else self.time


def _minutes_apart(a: dt.time, b: dt.time) -> int:
    delta = abs((a.hour * 60 + a.minute) - (b.hour * 60 + b.minute))
    return min(delta, 24 * 60 - delta)


_UNIT_AFTER = (
    r"(?!\s*(?:h\b|hrs?\b|hours?\b|mins?\b|minutes?\b|kgs?\b|lbs?\b|km\b|k\b|%|g\b|reps?\b"
    r"|sets?\b|x\b|times\b|days?\b|weeks?\b|months?\b|years?\b))"
)
_AMPM = r"(?P<ampm>a\.?\s?m\.?|p\.?\s?m\.?)"
_CLOCK = re.compile(
    "|".join(
        [
            rf"(?P<hm>\b(?P<h1>\d{{1,2}})[:.](?P<m1>\d{{2}})(?:\s*{_AMPM.replace('ampm', 'ap1')})?"
            rf"(?![\w:.]\d)){_UNIT_AFTER}",
            rf"(?P<ha>\b(?P<h2>\d{{1,2}})\s*{_AMPM.replace('ampm', 'ap2')}(?!\w))",
            r"(?P<hh>(?<=\bat\s)|(?<=\baround\s)|(?<=\babout\s)|(?<=\bfrom\s)|(?<=\bby\s))"
            r"(?P<h3>\d{1,2})h(?P<m3>\d{2})?\b",
            rf"(?P<oc>\b(?P<h4>\d{{1,2}}|{_WORD_NUMBER})\s+o'?\s?clock\b)",
            r"(?P<noon>\b(?:noon|midday)\b)",
            r"(?P<midnight>\bmidnight\b)",
            rf"(?P<past>\b(?P<frac>half|quarter)\s+(?P<rel>past|to)\s+"
            rf"(?P<h5>\d{{1,2}}|{_WORD_NUMBER})\b)",
            r"(?P<bare>(?<=\bat\s)|(?<=\baround\s)|(?<=\babout\s)|(?<=\bby\s)|(?<=\buntil\s)"
            r"|(?<=\btill\s)|(?<=\bbefore\s)|(?<=\bafter\s)|(?<=~)|(?<=@)|(?<=@\s))"
            r"(?P<h6>\d{1,2})(?![\w:/]|[.,]\d|\s*[-/]\s*\d"
            r"|\s+(?!and\b|or\b|for\b|on\b|in\b|then\b|with\b"
            r"|every\b|each\b|usually\b|most\b|i\b|-)[a-z])",
        ]
    ),
    re.IGNORECASE,
)


def _hour_word(word: str) -> int | None:
    value = number_value(word)
    return int(value) if value is not None and value == int(value) else None


def find_clock_times(text: str) -> list[Found[ClockTime]]:
    """Clock times: "6am", "6:30 pm", "18:30", "around 7", "7 o'clock", "19h30",
    "noon", "midnight", "half past six", "quarter to eight".

    Bare hours count only after "at", "around", "about", "by", "until", "before",
    "after" and not before a word ("around 7 eggs" is no time). "7:30" and
    "at 7" are ambiguous (a.m. or p.m.; see :meth:`ClockTime.resolved`); "07:30",
    "18:30" and "6pm" are not. Durations ("1.5 hours"), fractions and dates are no times.
    """
    text = _plain(text)
    found: list[Found[ClockTime]] = []
    for m in _CLOCK.finditer(text):
        clock: ClockTime | None = None
        if m.group("hm"):
            hour, minute = int(m.group("h1")), int(m.group("m1"))
            sep = text[m.start("h1") + len(m.group("h1"))]
            if sep == "." and not m.group("ap1"):
                continue  # "6.30" without am/pm reads as a decimal number
            clock = _clock(hour, minute, m.group("ap1"), zero_padded=m.group("h1").startswith("0"))
        elif m.group("ha"):
            clock = _clock(int(m.group("h2")), 0, m.group("ap2"))
        elif m.group("h3") is not None:
            clock = _clock(int(m.group("h3")), int(m.group("m3") or 0), None, zero_padded=True)
        elif m.group("oc") is not None:
            hour_value = _hour_word(m.group("h4"))
            clock = None if hour_value is None else _clock(hour_value, 0, None)
        elif m.group("noon"):
            clock = ClockTime(dt.time(12, 0))
        elif m.group("midnight"):
            clock = ClockTime(dt.time(0, 0))
        elif m.group("past"):
            hour_value = _hour_word(m.group("h5"))
            if hour_value is not None and 1 <= hour_value <= 12:
                minutes = 30 if m.group("frac").lower() == "half" else 15
                if m.group("rel").lower() == "to":
                    hour_value, minutes = (hour_value - 1) % 12 or 12, 60 - minutes
                clock = ClockTime(dt.time(hour_value % 24, minutes), ambiguous=hour_value < 12)
        elif m.group("h6") is not None:
            clock = _clock(int(m.group("h6")), 0, None)
        if clock is not None:
            found.append(Found(clock, m.start(), m.end()))
    return found


def _clock(
    hour: int, minute: int, ampm: str | None, *, zero_padded: bool = False
) -> ClockTime | None:
    if minute > 59:
        return None
    if ampm:
        if not 1 <= hour <= 12:
            return None
        pm = ampm.lower().startswith("p")
        hour = (hour % 12) + (12 if pm else 0)
        return ClockTime(dt.time(hour, minute))
    if hour > 23:
        return None
    ambiguous = 1 <= hour <= 12 and not zero_padded
    return ClockTime(dt.time(hour, minute), ambiguous=ambiguous and hour < 12)


def parse_clock_time(text: str, near: dt.time | None = None) -> dt.time | None:
    """The first clock time; an ambiguous one is read as the a.m./p.m. closest to ``near``."""
    found = find_clock_times(text)
    return found[0].value.resolved(near) if found else None


# ---------------------------------------------------------------- durations ---


@dataclass(frozen=True)
class Duration:
    """A session length in minutes: ``minutes`` typical, optional ``min``/``max`` for a range."""

    minutes: int
    min_minutes: int | None = None
    max_minutes: int | None = None


_DUR_NUM = rf"(?:{NUMBER}|an?|half\s+an?|a\s+half)"
_DUR_UNIT = r"(?:hours?|hrs?|h|minutes?|mins?|min|')"
_DURATION_PATTERNS: list[tuple[str, str]] = [
    # between 45 and 60 minutes / 45-60 min / 45 to 60 minutes / 1-2 hours
    ("range", rf"(?:between\s+)?(?P<a>{NUMBER})\s*(?:-|to|and|or)\s*(?P<b>{NUMBER})\s*"
              rf"(?P<u>{_DUR_UNIT})(?!\w)"),
    # 45 minutes to an hour
    ("range2", rf"(?P<a>{_DUR_NUM})\s*(?P<ua>{_DUR_UNIT})\s*(?:-|to|or)\s*(?P<b>{_DUR_NUM})\s*"
               rf"(?P<u>{_DUR_UNIT})(?!\w)"),
    # 1h30 / 1h 30m / 1 hour 30 minutes / an hour and 15 minutes
    ("hm", r"(?P<a>\d{1,2})\s?h\s?(?P<b>\d{2})\s?(?:m|min|mins)?(?![\w:])"),
    ("hm", rf"(?P<a>{_DUR_NUM})\s*(?:hours?|hrs?|h)\s*(?:and\s+)?(?P<b>{NUMBER})\s*"
           r"(?:minutes?|mins?|min|m)(?!\w)"),
    # an hour and a half / hour and a half
    ("half", r"(?P<a>an?|one|\d+)?\s*hours?\s+and\s+a\s+half"),
    ("single", rf"(?P<a>{_DUR_NUM})\s*(?P<u>{_DUR_UNIT})(?!\w)"),
]  # fmt: skip
_DURATION_RE = [
    (kind, re.compile(rf"(?<![\w:.,]){p}", re.IGNORECASE)) for kind, p in _DURATION_PATTERNS
]
_AT_LEAST = re.compile(r"(?:at\s+least|min(?:imum)?\.?|no\s+less\s+than)\s*$", re.IGNORECASE)
_AT_MOST = re.compile(
    r"(?:up\s+to|at\s+most|max(?:imum)?\.?|no\s+more\s+than|under)\s*$", re.IGNORECASE
)


def _dur_value(words: str | None) -> float | None:
    if words is None:
        return 1.0
    s = normalize(words)
    if s in ("a", "an"):
        return 1.0
    if s in ("half a", "half an", "a half"):
        return 0.5
    return number_value(s)


def _to_minutes(value: float, unit: str) -> float:
    return value * 60 if unit.lower().startswith("h") else value


def _round5(value: float) -> int:
    return int(5 * math.floor(value / 5 + 0.5))


def find_durations(text: str) -> list[Found[Duration]]:
    """Session lengths: "45 min", "an hour", "1.5 hours", "1h30", "half an hour",
    "an hour and a half", "between 45 and 60 minutes", "45 minutes to an hour",
    "at least 45 minutes" (a minimum), "up to 90 minutes" (a maximum).

    A range's typical length is its middle rounded to 5 minutes. Clock times
    ("6am", "18:30"), weights, weeks and counts ("5 times") are not durations.
    """
    text = _plain(text)
    clocks = [(f.start, f.end) for f in find_clock_times(text)]
    found: list[Found[Duration]] = []
    taken: list[tuple[int, int]] = list(clocks)
    for kind, pattern in _DURATION_RE:
        for m in pattern.finditer(text):
            if _overlaps(m.start(), m.end(), taken):
                continue
            duration = _duration(kind, m, text)
            if duration is not None or kind.startswith("range"):
                taken.append((m.start(), m.end()))  # a reversed range is no duration at all
            if duration is not None:
                found.append(Found(duration, m.start(), m.end()))
    return sorted(found, key=lambda f: f.start)


def _duration(kind: str, m: re.Match[str], text: str) -> Duration | None:
    """The duration a pattern match says (None when it makes no sense)."""
    if kind == "range":
        a, b = number_value(m.group("a")), number_value(m.group("b"))
        if a is None or b is None or a >= b:
            return None
        low, high = _to_minutes(a, m.group("u")), _to_minutes(b, m.group("u"))
    elif kind == "range2":
        a, b = _dur_value(m.group("a")), _dur_value(m.group("b"))
        if a is None or b is None:
            return None
        low, high = _to_minutes(a, m.group("ua")), _to_minutes(b, m.group("u"))
        if low >= high:
            return None
    elif kind == "hm":
        a, b = _dur_value(m.group("a")), number_value(m.group("b"))
        if a is None or b is None or b >= 60:
            return None
        return _single(a * 60 + b, m, text)
    elif kind == "half":
        a = _dur_value(m.group("a"))
        return None if a is None else _single(a * 60 + 30, m, text)
    else:
        a = _dur_value(m.group("a"))
        unit = m.group("u")
        if a is None or (unit == "'" and a < 5):
            return None
        if unit.lower() == "h" and not re.fullmatch(r"\d+(?:[.,]\d+)?\s*h", m.group(0), re.I):
            return None
        return _single(_to_minutes(a, unit), m, text)
    if high > 24 * 60:
        return None
    return Duration(_round5((low + high) / 2), round(low), round(high))


def _single(minutes: float, m: re.Match[str], text: str) -> Duration | None:
    if not 0 < minutes <= 24 * 60:
        return None
    before = text[max(0, m.start() - 20) : m.start()]
    value = round(minutes)
    if _AT_LEAST.search(before):
        return Duration(value, min_minutes=value)
    if _AT_MOST.search(before):
        return Duration(value, max_minutes=value)
    return Duration(value)


def parse_duration(text: str) -> Duration | None:
    """The first session length in ``text`` (see :func:`find_durations`)."""
    found = find_durations(text)
    return found[0].value if found else None


# -------------------------------------------------------------------- dates ---

_MONTHS: dict[str, int] = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
_MONTH_RE = rf"(?:{'|'.join(sorted(_MONTHS, key=len, reverse=True))})\.?"
_ORD = r"(?:st|nd|rd|th)?"
_NUMERIC_DATE_SPAN = re.compile(
    r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}[/.]\d{1,2}[/.](?:\d{4}|\d{2})\b"
)
_UNIT_DAYS = {"day": 1, "week": 7, "fortnight": 14}
_DATE_PATTERNS: list[tuple[str, str]] = [
    ("iso", r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"),
    ("dmy", r"\b(?P<d>\d{1,2})(?P<sep>[/.])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})\b(?![/.]\d)"),
    ("dm", r"(?<=\bon\s|\bby\s)(?P<d>\d{1,2})/(?P<m>\d{1,2})\b(?![/.]\d)"),
    ("mdy_words", rf"\b(?P<mon>{_MONTH_RE})\s+(?:the\s+)?(?P<d>\d{{1,2}}){_ORD}\b"
                  r"(?:,?\s+(?P<y>\d{4}))?"),
    ("dmy_words", rf"\b(?:the\s+)?(?P<d>\d{{1,2}}){_ORD}\s+(?:of\s+)?(?P<mon>{_MONTH_RE})"
                  r"(?:,?\s+(?P<y>\d{4}))?\b"),
    ("relative", r"\b(?:in|within)\s+(?:(?:about|around|roughly|the\s+next)\s+)?"
                 rf"(?P<n>{NUMBER}|an?)\s+"
     r"(?P<u>days?|weeks?|fortnights?|months?|years?)\b"),
    ("from_now", rf"\b(?P<n>{NUMBER}|an?)\s+(?P<u>days?|weeks?|months?|years?)\s+from\s+"
                 r"(?:now|today)\b"),
    ("next", r"\bnext\s+(?P<u>week|month|year)\b"),
    ("next_day", rf"\b(?:next|this|on|coming)\s+(?P<wd>{_DAY_RE})\b"),
    ("fixed", r"\b(?P<f>tomorrow|christmas(?:\s+day)?|new\s+year'?s\s+eve|new\s+year'?s(?:\s+day)?"
     r"|(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?(?:year|month))\b"),
]  # fmt: skip
_DATE_RE = [(kind, re.compile(p, re.IGNORECASE)) for kind, p in _DATE_PATTERNS]


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, clamped to the month's last day (Jan 31 + 1 → Feb 28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _next_occurrence(month: int, day: int, today: dt.date) -> dt.date | None:
    for year in range(today.year, today.year + 5):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _full_year(year: str) -> int:
    return int(year) + 2000 if len(year) == 2 else int(year)


def find_dates(text: str, today: dt.date) -> list[Found[dt.date]]:
    """Calendar dates, resolved against ``today``.

    - absolute: "2027-06-14", "14/06/2027" and "14.06.27" (day first, unless the
      first number cannot be a month day and the second can: "06/14/2027"),
      "June 14", "June 14th, 2027", "14 June", "the 14th of June"; without a year,
      the next occurrence on or after ``today``;
    - "on 14/06" (only after "on" or "by": "1/2 cup" and "5/3/1" are no dates);
    - relative: "in 12 weeks", "within a month", "in a year", "3 months from now",
      "next week" (+7 days), "next month" (+1 month), "next year", "tomorrow",
      "next Saturday" (the first Saturday after today), "Christmas",
      "New Year's Eve", "the end of the year", "the end of the month".
    """
    text = _plain(text)
    found: list[Found[dt.date]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _DATE_RE:
        for m in pattern.finditer(text):
            if _overlaps(m.start(), m.end(), taken):
                continue
            month = m.group("mon") if kind in ("mdy_words", "dmy_words") else ""
            if month.lower() == "may" and not month.startswith("M"):
                continue  # "I may 5 ..." is no date; "May 5" is
            try:
                value = _date(kind, m, today)
            except (ValueError, OverflowError):
                value = None
            if value is not None:
                taken.append((m.start(), m.end()))
                found.append(Found(value, m.start(), m.end()))
    return sorted(found, key=lambda f: f.start)


def _date(kind: str, m: re.Match[str], today: dt.date) -> dt.date | None:
    if kind == "iso":
        return dt.date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
    if kind in ("dmy", "dm"):
        day, month = int(m.group("d")), int(m.group("m"))
        if month > 12 >= day:
            day, month = month, day
        if kind == "dm":
            return _next_occurrence(month, day, today)
        return dt.date(_full_year(m.group("y")), month, day)
    if kind in ("mdy_words", "dmy_words"):
        month = _MONTHS[m.group("mon").lower().rstrip(".")]
        day = int(m.group("d"))
        if m.group("y"):
            return dt.date(int(m.group("y")), month, day)
        return _next_occurrence(month, day, today)
    if kind in ("relative", "from_now", "next"):
        unit = m.group("u").lower().rstrip("s")
        amount = 1.0 if kind == "next" else _dur_value(m.group("n"))
        if amount is None or amount <= 0 or amount > 1000:
            return None
        if unit in _UNIT_DAYS:
            return today + dt.timedelta(days=round(amount * _UNIT_DAYS[unit]))
        months = amount * (12 if unit == "year" else 1)
        if months != int(months):
            return today + dt.timedelta(days=round(months * 30.4375))
        return add_months(today, int(months))
    if kind == "next_day":
        weekday = _DAY_NAMES[m.group("wd").lower()]
        ahead = (weekday - today.isoweekday()) % 7 or 7
        return today + dt.timedelta(days=ahead)
    word = normalize(m.group("f"))
    if word == "tomorrow":
        return today + dt.timedelta(days=1)
    if word.startswith("christmas"):
        return _next_occurrence(12, 25, today)
    if word.startswith("new year") and word.endswith("eve"):
        return _next_occurrence(12, 31, today)
    if word.startswith("new year"):
        return _next_occurrence(1, 1, today + dt.timedelta(days=1))
    if word.endswith("year"):
        return dt.date(today.year, 12, 31)
    return dt.date(today.year, today.month, calendar.monthrange(today.year, today.month)[1])


def parse_date(text: str, today: dt.date) -> dt.date | None:
    """The first date in ``text`` (see :func:`find_dates`)."""
    found = find_dates(text, today)
    return found[0].value if found else None


# --------------------------------------------------------------- quantities ---

# Approximate grams per household measure (USDA SR28 typical servings).
_MEASURE_GRAMS: dict[str, float] = {
    "cup": 240, "glass": 250, "mug": 250, "bowl": 250, "scoop": 30, "tablespoon": 15,
    "tbsp": 15, "teaspoon": 5, "tsp": 5, "slice": 30, "handful": 30, "can": 140, "tin": 140,
    "piece": 100, "portion": 150, "serving": 150, "plate": 300, "shot": 30,
}  # fmt: skip
# A cup of a dry or light food weighs much less than a cup of a liquid.
_CUP_OVERRIDES: list[tuple[str, float]] = [
    ("oat", 80), ("rice", 160), ("pasta", 140), ("berr", 148), ("spinach", 30),
    ("broccoli", 90), ("yogurt", 245), ("yoghurt", 245), ("milk", 245), ("cereal", 30),
    ("almond", 95), ("nut", 140), ("bean", 175), ("lentil", 200), ("quinoa", 185),
]  # fmt: skip
# Approximate grams per item for foods counted in pieces ("2 eggs", "a banana").
_ITEM_GRAMS: dict[str, float] = {
    "egg": 50, "banana": 118, "apple": 182, "orange": 131, "pear": 178, "avocado": 150,
    "sweet potato": 130, "potato": 173, "chicken breast": 170, "tortilla": 45, "bagel": 100,
    "muffin": 60, "croissant": 60, "kiwi": 75, "peach": 150, "tomato": 120, "carrot": 60,
    "date": 8, "cookie": 15, "protein bar": 60, "bar": 50, "toast": 30, "steak": 220,
    "fillet": 150, "filet": 150, "burger": 150, "sandwich": 150, "wrap": 200, "pizza slice": 110,
    "clementine": 74, "mandarin": 88, "plum": 66, "onion": 110, "pepper": 120,
}  # fmt: skip
_MASS_UNITS = {
    "g": 1.0, "gr": 1.0, "gram": 1.0, "grams": 1.0, "kg": 1000.0, "kgs": 1000.0, "kilo": 1000.0,
    "kilos": 1000.0, "oz": 28.35, "ounce": 28.35, "ounces": 28.35, "lb": 453.6, "lbs": 453.6,
    "pound": 453.6, "pounds": 453.6, "ml": 1.0, "millilitre": 1.0, "milliliter": 1.0,
    "millilitres": 1.0, "milliliters": 1.0, "cl": 10.0, "l": 1000.0, "litre": 1000.0,
    "liter": 1000.0, "litres": 1000.0, "liters": 1000.0,
}  # fmt: skip
_QTY_NUM = rf"(?:{NUMBER}|an?|half\s+an?|a\s+half|one\s+and\s+a\s+half)"
_MASS_RE = re.compile(
    rf"(?<![\w.,])(?P<n>{NUMBER})\s*"
    rf"(?P<u>{'|'.join(sorted(_MASS_UNITS, key=len, reverse=True))})(?!\w)",
    re.IGNORECASE,
)
_MEASURE_RE = re.compile(
    rf"(?<![\w.,])(?P<n>{_QTY_NUM})\s+(?:(?:small|large|big|full|heaped|level)\s+)?"
    rf"(?P<u>{'|'.join(sorted(_MEASURE_GRAMS, key=len, reverse=True))})(?:e?s)?\b",
    re.IGNORECASE,
)
_ITEM_RE = re.compile(
    rf"(?<![\w.,])(?P<n>{_QTY_NUM})\s+(?:(?:small|medium|large|big|boiled|fried|scrambled|poached|"
    r"hard-boiled|whole|ripe|grilled|baked)\s+)*"
    rf"(?P<u>{'|'.join(sorted(_ITEM_GRAMS, key=len, reverse=True))})"
    r"(?:e?s)?\b",
    re.IGNORECASE,
)


def find_quantities(text: str, food: str | None = None) -> list[Found[float]]:
    """Food amounts in grams: "200 g", "150g", "0.2 kg", "8 oz", "250 ml" (1 ml ≈ 1 g),
    household measures ("a cup", "2 tbsp", "a scoop", "two slices", "a handful")
    and counted foods ("2 eggs", "a banana", "an apple").

    Approximate weights: a cup depends on ``food`` when given (a cup of oats
    is 80 g, of milk 245 g); items use typical USDA sizes (egg 50 g, banana
    118 g). Amounts outside 1-2000 g are dropped. "2 times" or "3 meals" are
    no quantities.
    """
    text = _plain(text)
    found: list[Found[float]] = []
    taken: list[tuple[int, int]] = []
    for m in _MASS_RE.finditer(text):
        value = number_value(m.group("n"))
        if value is not None:
            taken.append((m.start(), m.end()))
            found.append(Found(value * _MASS_UNITS[m.group("u").lower()], m.start(), m.end()))
    for m in _MEASURE_RE.finditer(text):
        if _overlaps(m.start(), m.end(), taken):
            continue
        count = _dur_value(m.group("n"))
        unit = m.group("u").lower()
        grams = _MEASURE_GRAMS[unit]
        if unit == "cup":
            subject = normalize(food or text[m.end() : m.end() + 30])
            grams = next((g for key, g in _CUP_OVERRIDES if key in subject), grams)
        if count is not None:
            taken.append((m.start(), m.end()))
            found.append(Found(count * grams, m.start(), m.end()))
    for m in _ITEM_RE.finditer(text):
        if _overlaps(m.start(), m.end(), taken):
            continue
        count = _dur_value(m.group("n"))
        if count is not None:
            taken.append((m.start(), m.end()))
            found.append(Found(count * _ITEM_GRAMS[m.group("u").lower()], m.start(), m.end()))
    return sorted(
        (Found(round(f.value, 1), f.start, f.end) for f in found if 1 <= f.value <= 2000),
        key=lambda f: f.start,
    )


def parse_quantity_grams(text: str, food: str | None = None) -> float | None:
    """The first food amount in ``text``, in grams (see :func:`find_quantities`)."""
    found = find_quantities(text, food)
    return found[0].value if found else None


# ------------------------------------------------------------- yes / no -------

_YES_NO = _Phrases[bool](
    [
        (r"not\s+sure|no\s+idea|maybe|perhaps|don't\s+know|dunno|depends", False),  # undecided
        (r"not\s+really|no|nope|nah|never|not\s+at\s+all|i\s+don't|i\s+do\s+not|i\s+hate\s+it"
         r"|absolutely\s+not|definitely\s+not|of\s+course\s+not|not\s+anymore", False),
        (r"yes|yeah|yep|yup|sure|definitely|absolutely|of\s+course|certainly|i\s+do|i\s+love\s+it"
         r"|i\s+(?:really\s+)?enjoy\s+it|correct|right|ok|okay|for\s+sure|totally", True),
    ]
)  # fmt: skip
_UNDECIDED = re.compile(
    r"\b(?:not\s+sure|no\s+idea|maybe|perhaps|don't\s+know|dunno|depends)\b", re.I
)


def parse_yes_no(text: str) -> bool | None:
    """A yes or no answer ("yeah, definitely" → True, "not really" → False,
    "not sure" / "maybe" → None, no answer → None)."""
    if _UNDECIDED.search(_plain(text)):
        return None
    return _YES_NO.first(text)


_ENJOYS = _Phrases[bool](
    [
        (r"(?:don't|do\s+not|doesn't|never)\s+(?:really\s+)?(?:enjoy|like|love)|hate|boring|dread"
         r"|not\s+(?:a\s+)?fan", False),
        (r"enjoy|love|like|fun|favou?rite|passion|into\s+it", True),
    ]
)  # fmt: skip
_CONTINUE = _Phrases[bool](
    [
        (r"(?:want|like|plan|going)\s+to\s+(?:stop|quit|drop|give\s+up)|done\s+with"
         r"|not\s+(?:going|planning)"
         r"\s+to\s+continue|quit", False),
        (r"keep\s+(?:doing|going|at\s+it)|continue|stick\s+with|carry\s+on|want\s+to\s+keep", True),
    ]
)  # fmt: skip


def find_enjoyment(text: str) -> list[Found[bool]]:
    """Whether the user enjoys something ("I love it" → True, "I hate running" → False)."""
    return _ENJOYS.find(_plain(text))


def find_willing_to_continue(text: str) -> list[Found[bool]]:
    """Whether the user wants to keep doing something ("want to keep lifting" → True)."""
    return _CONTINUE.find(_plain(text))


# ------------------------------------------------------------- vocabularies ---

_PROFICIENCY = _Phrases[Proficiency](
    [
        (r"complete\s+beginner|total\s+beginner|beginner|newbie|just\s+(?:started|starting)"
         r"|new\s+to\s+(?:it|this)|starting\s+out|never\s+(?:done|tried)\s+it", "beginner"),
        (r"novice|some\s+experience|a\s+little\s+experience|still\s+learning", "novice"),
        (r"intermediate|in\s+between|moderately\s+experienced|decent|average|not\s+bad",
         "intermediate"),
        (r"advanced|very\s+experienced|experienced|seasoned|very\s+good", "advanced"),
        (r"expert|elite|professional|competitive|compete|coach\s+it|i\s+coach", "expert"),
    ],
    negatable=True,
)  # fmt: skip


def find_proficiency(text: str) -> list[Found[Proficiency]]:
    """Proficiency words: beginner/novice/intermediate/advanced/expert and synonyms
    ("just started" → beginner, "experienced" → advanced); negated ones are skipped."""
    return _PROFICIENCY.find(_plain(text))


def parse_proficiency(text: str) -> Proficiency | None:
    """The first proficiency level ("I'd say I'm intermediate" → "intermediate")."""
    return _PROFICIENCY.first(_plain(text))


_EXERCISE_FREQUENCY = _Phrases[ExerciseFrequency](
    [
        (r"never\s+(?:done|tried|did)|haven't\s+(?:ever\s+)?(?:done|tried)"
         r"|not\s+done\s+(?:it|them)",
         "never_done"),
        (r"rarely|seldom|hardly\s+ever|once\s+in\s+a\s+while|not\s+(?:very\s+)?often"
         r"|a\s+few\s+times",
         "rarely"),
        (r"occasionally|sometimes|now\s+and\s+(?:then|again)|every\s+so\s+often"
         r"|from\s+time\s+to\s+time",
         "occasionally"),
        (r"frequently|all\s+the\s+time|every\s+(?:session|workout|training)"
         r"|several\s+times\s+a\s+week"
         r"|(?:almost\s+)?daily|constantly|a\s+lot", "frequently"),
        (r"regularly|every\s+week|weekly|often|routinely|once\s+a\s+week|twice\s+a\s+week"
         r"|(?:one|two|three|\d)\s+times?\s+a\s+week", "regularly"),
    ]
)  # fmt: skip


def find_exercise_frequency(text: str) -> list[Found[ExerciseFrequency]]:
    """How often an exercise is done: never_done, rarely, occasionally, regularly, frequently."""
    return _EXERCISE_FREQUENCY.find(_plain(text))


def parse_exercise_frequency(text: str) -> ExerciseFrequency | None:
    """The first exercise frequency ("I do them every week" → "regularly")."""
    return _EXERCISE_FREQUENCY.first(_plain(text))


_FOOD_FREQUENCY = _Phrases[FoodFrequency](
    [
        (r"most\s+(?:days|mornings|evenings|nights|weekdays)|usually|normally|typically|often"
         r"|(?:4|5|6|four|five|six)\s+times\s+a\s+week|on\s+weekdays", "most_days"),
        (r"every\s*day|each\s+day|daily|every\s+(?:morning|evening|night|lunch|meal)|always",
         "daily"),
        (r"once\s+a\s+week|twice\s+a\s+week|weekly|every\s+week|on\s+(?:the\s+)?weekends?"
         r"|(?:1|2|3|one|two|three)\s+times\s+a\s+week|every\s+(?:monday|tuesday|wednesday|thursday"
         r"|friday|saturday|sunday)", "weekly"),
        (r"occasionally|sometimes|now\s+and\s+(?:then|again)|once\s+in\s+a\s+while|rarely"
         r"|every\s+so\s+often|from\s+time\s+to\s+time", "occasionally"),
    ]
)  # fmt: skip


def find_food_frequency(text: str) -> list[Found[FoodFrequency]]:
    """How often a food is eaten: daily, most_days, weekly, occasionally."""
    return _FOOD_FREQUENCY.find(_plain(text))


def parse_food_frequency(text: str) -> FoodFrequency | None:
    """The first food frequency ("oats every morning" → "daily")."""
    return _FOOD_FREQUENCY.first(_plain(text))


_COMFORT_WORDS = _Phrases[int](
    [
        (r"not\s+(?:at\s+all\s+)?(?:comfortable|confident)\s+at\s+all"
         r"|not\s+at\s+all\s+(?:comfortable|confident)"
         r"|(?:very|really)\s+uncomfortable|no\s+idea\s+how|terrified|can't\s+do\s+(?:it|them)", 1),
        (r"uncomfortable|not\s+(?:very\s+|really\s+|too\s+|that\s+|so\s+)?(?:comfortable|confident)"
         r"|a\s+bit\s+(?:unsure|shaky|nervous)|unsure|shaky|still\s+learning|struggle\s+with"
         r"|nervous", 2),
        (r"(?:very|really|super|totally|completely|fully|extremely)\s+(?:comfortable|confident)"
         r"|(?:have|got)\s+(?:it|them)\s+(?:nailed|down)|second\s+nature|mastered|no\s+problem", 5),
        (r"somewhat\s+(?:comfortable|confident)|moderately\s+(?:comfortable|confident)"
         r"|(?:feel|feels|i'?m|am)\s+(?:ok|okay|alright)(?:\s+with)?"
         r"|so-so|kind\s+of\s+(?:comfortable|confident)|a\s+bit\s+(?:comfortable|confident)"
         r"|reasonably\s+(?:comfortable|confident)", 3),
        (r"(?:fairly|pretty|quite|rather|mostly)\s+(?:comfortable|confident)|comfortable|confident"
         r"|good\s+(?:at|with)", 4),
    ]
)  # fmt: skip
_COMFORT_NUMBER = re.compile(
    r"(?<![\w.])(?P<n>[1-5])\s*(?:/|out\s+of)\s*5\b"
    r"|\bcomfort(?:\s+level)?\s*(?:of|is|=|:|at|around|about)?\s*(?:a\s+)?(?P<c>[1-5])\b"
    r"(?![.,]\d|\s*/)"
    r"|\b(?:an?\s+|rate\s+(?:it|them|myself)\s+(?:an?\s+)?|say\s+(?:an?\s+)?)(?P<r>[1-5])\b"
    r"(?![.,]\d|\s*(?:/|kgs?\b|lbs?\b|reps?\b|sets?\b|times\b|days?\b|weeks?\b|min|hours?\b"
    r"|x\b|am\b|pm\b))",
    re.IGNORECASE,
)


def find_comfort_levels(text: str) -> list[Found[int]]:
    """Comfort levels 1-5: numbers ("4/5", "4 out of 5", "comfort 3", "a 4") and words
    ("very comfortable" → 5, "fairly comfortable" → 4, "okay" → 3, "not very confident" → 2,
    "not comfortable at all" → 1)."""
    text = _plain(text)
    found: list[Found[int]] = []
    for m in _COMFORT_NUMBER.finditer(text):
        digit = m.group("n") or m.group("c") or m.group("r")
        found.append(Found(int(digit), m.start(), m.end()))
    taken = [(f.start, f.end) for f in found]
    found += [f for f in _COMFORT_WORDS.find(text) if not _overlaps(f.start, f.end, taken)]
    return sorted(found, key=lambda f: f.start)


def parse_comfort_level(text: str) -> int | None:
    """The first comfort level ("I'm fairly comfortable" → 4)."""
    found = find_comfort_levels(text)
    return found[0].value if found else None


_LOCATIONS = _Phrases[Location](
    [
        (r"home\s+gym|garage\s+gym|(?:at|from)\s+home|my\s+(?:garage|living\s+room|basement|flat"
         r"|apartment|house)|home", "home"),
        (r"anywhere|wherever|depends|varies|flexible|a\s+mix", "flexible"),
        (r"(?:the|a|my|local)\s+gym|gyms?|fitness\s+(?:center|centre|studio|club)|health\s+club"
         r"|leisure\s+cent(?:re|er)|crossfit\s+box|studio", "gym"),
        (r"outdoors?|outside|(?:the|a|local)\s+park|parks|(?:the|a)\s+track|trails?|on\s+the\s+road"
         r"|in\s+nature|the\s+beach", "outdoor"),
        (r"(?:the|my|at)\s+office|at\s+work|workplace|office", "office"),
    ]
)  # fmt: skip


def find_locations(text: str) -> list[Found[Location]]:
    """Where the user trains: home, gym, outdoor, office, flexible ("home gym" → home)."""
    return _LOCATIONS.find(_plain(text))


def parse_location(text: str) -> Location | None:
    """The first training location ("at the gym" → "gym")."""
    return _LOCATIONS.first(_plain(text))


_PORTIONS = _Phrases[PortionSize](
    [
        (r"small|light|little|tiny|quick", "small"),
        (r"medium|normal|regular|average|moderate", "medium"),
        (r"large|big|huge|heavy|massive|hearty|proper", "large"),
    ]
)  # fmt: skip


def find_portion_sizes(text: str) -> list[Found[PortionSize]]:
    """Portion sizes: small, medium, large ("a light lunch" → small)."""
    return _PORTIONS.find(_plain(text))


def parse_portion_size(text: str) -> PortionSize | None:
    """The first portion size."""
    return _PORTIONS.first(_plain(text))


_GOAL_TYPES = _Phrases[GoalType](
    [
        (r"body\s+composition|recomp|body\s+fat|tone\s+up|toned|get\s+lean(?:er)?",
         "body_composition"),
        (r"lose\s+(?:some\s+)?(?:weight|fat|\d+)|lose|fat\s+loss|weight\s+loss|drop\s+(?:some\s+)?"
         r"(?:weight|fat|\d+)|get\s+(?:down|back)\s+to|slim\s+down|cut(?:ting)?|shed|leaner|lighter"
         r"|down\s+to\s+\d+", "fat_loss"),
        (r"build\s+muscle|gain\s+muscle|more\s+muscle|muscle\s+mass|muscular|bigger|bulk(?:ing)?"
         r"|hypertrophy|put\s+on\s+(?:size|muscle)|gain\s+(?:some\s+)?(?:size|weight|mass)",
         "hypertrophy"),
        (r"stronger|strength|get\s+strong|1\s?rm|one[- ]rep\s+max|personal\s+(?:best|record)|\bpr\b"
         r"|lift\s+(?:more|heavier)|squat|deadlift|bench|press", "strength"),
        (r"endurance|stamina|marathon|half[- ]marathon|(?:5|10)k|run\s+(?:a|\d)|run\s+further"
         r"|longer"
         r"\s+runs?|cardio|aerobic|fitter|triathlon", "endurance"),
        (r"mobility|flexib(?:le|ility)|stretch|touch\s+my\s+toes|the\s+splits|range\s+of\s+motion",
         "mobility"),
        (r"learn\s+(?:to|how)|skill|handstand|muscle[- ]up|pistol\s+squat|technique|master",
         "skill"),
        (r"faster|speed|quicker|jump\s+higher|performance|sprint|compete\s+better|agility",
         "performance"),
        (r"health(?:ier|y)?|blood\s+pressure|cholesterol|blood\s+sugar|feel\s+better|live\s+longer"
         r"|longevity|energy\s+levels", "health"),
    ]
)  # fmt: skip


def find_goal_types(text: str) -> list[Found[GoalType]]:
    """Kinds of goal: strength, hypertrophy, fat_loss, endurance, mobility, skill,
    health, performance, body_composition ("get stronger" → strength,
    "lose 5 kg" → fat_loss)."""
    return _GOAL_TYPES.find(_plain(text))


def parse_goal_type(text: str) -> GoalType | None:
    """The first kind of goal the text names."""
    return _GOAL_TYPES.first(_plain(text))


_DIFFICULTIES = _Phrases[DifficultyCategory](
    [
        (r"injur(?:y|ies|ed)|hurts?|pain(?:ful)?|sore\s+(?:knee|back|shoulder)|bad\s+(?:knee|back"
         r"|shoulder|hip|ankle|wrist)s?|tendon\w*|sprain\w*|surgery|physio", "injury"),
        (r"sleep\w*|insomnia|rest(?:less)?\s+nights?|wake\s+up\s+(?:a\s+lot|at\s+night)", "sleep"),
        (r"stress\w*|anxi\w+|overwhelm\w*|pressure\s+at\s+work|burn(?:ed|t)?\s+out", "stress"),
        (r"no\s+time|time|busy|long\s+hours|schedule|shifts?|commut\w+|kids|children|travel\w*",
         "time"),
        (r"motivat\w*|lazy|can't\s+be\s+bothered|procrastinat\w*|boredom|bored|drive",
         "motivation"),
        (r"tired|energy|exhaust\w*|fatigue\w*|drained|sluggish", "energy"),
        (r"crav\w+|snack\w*|sweets|sugar|junk\s+food|takeaways?|take-?outs?|fast\s+food"
         r"|over\s?eat\w*"
         r"|binge\w*|eating|diet|nutrition|portion\w*|alcohol|drinking|beer|wine", "nutrition"),
        (r"equipment|no\s+(?:gym|weights|dumbbells|barbell)|small\s+(?:flat|apartment|space)"
         r"|crowded\s+gym", "equipment"),
        (r"don't\s+know\s+(?:how|what)|not\s+sure\s+(?:how|what)|knowledge|confus\w+|technique"
         r"|form", "knowledge"),
        (r"consisten\w+|stick\s+(?:to|with)|fall\s+off|falling\s+off|on\s+and\s+off|keep\s+it\s+up"
         r"|routine|habit", "consistency"),
    ]
)  # fmt: skip


def find_difficulty_categories(text: str) -> list[Found[DifficultyCategory]]:
    """What makes things hard: time, motivation, energy, injury, nutrition, sleep,
    stress, equipment, knowledge, consistency ("I work long hours" → time)."""
    return _DIFFICULTIES.find(_plain(text))


def parse_difficulty_category(text: str) -> DifficultyCategory | None:
    """The first difficulty category the text names."""
    return _DIFFICULTIES.first(_plain(text))


_SEVERITY = _Phrases[int](
    [
        (r"severe|terrible|awful|impossible|constant(?:ly)?|can't\s+(?:train|sleep|stop)"
         r"|extremely|huge\s+problem|massive", 5),
        (r"a\s+bit|slight(?:ly)?|minor|sometimes|occasional(?:ly)?|a\s+little|mild(?:ly)?"
         r"|small", 2),
        (r"biggest|big|major|really|very|bad(?:ly)?|a\s+lot|serious(?:ly)?|main|struggle", 4),
    ]
)  # fmt: skip


def parse_severity(text: str) -> int | None:
    """How bad a difficulty is, 1-5 ("my biggest problem" → 4, "a bit" → 2, "severe" → 5)."""
    return _SEVERITY.first(_plain(text))


_PRIORITY = _Phrases[int](
    [
        (r"main|top\s+priority|most\s+important|number\s+one|#1|first\s+priority|primary|biggest"
         r"|above\s+all", 1),
        (r"secondary|second\s+priority|also\s+important", 2),
        (r"nice\s+to\s+have|bonus|if\s+possible|not\s+a\s+priority|low\s+priority"
         r"|would\s+be\s+nice",
         4),
    ]
)  # fmt: skip


def parse_priority(text: str) -> int | None:
    """A stated priority, 1 (highest) to 5 ("my main goal" → 1, "nice to have" → 4)."""
    return _PRIORITY.first(_plain(text))


_CONSTRAINTS = _Phrases[ConstraintType](
    [
        (r"rest\s+days?|days?\s+off|no\s+training|never\s+train|don't\s+train|can't\s+train\s+on"
         r"|sabbath|family\s+day", "rest_day"),
        (r"vegan|vegetarian|pescatarian|halal|kosher|gluten|lactose|dairy[- ]free|allerg\w+"
         r"|intoleran\w+|(?:don't|do\s+not|never|won't|can't)\s+eat"
         r"|no\s+(?:pork|meat|beef|fish|dairy"
         r"|eggs|alcohol|nuts)|fasting|ramadan", "dietary"),
        (r"only\s+(?:have\s+)?(?:dumbbells|kettlebells|bands|a\s+barbell)|no\s+(?:equipment|weights"
         r"|barbell|machines)|bodyweight\s+only", "equipment"),
        (r"only\s+(?:at\s+)?home|can't\s+(?:go\s+to|get\s+to)\s+(?:a|the)\s+gym|only\s+outdoors"
         r"|only\s+at\s+the\s+gym", "location"),
        (r"(?:not|never)\s+(?:before|after)\s+\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm)?"
         r"|no\s+(?:earlier|later)\s+than|must\s+(?:be\s+)?(?:done|finish\w*)\s+by"
         r"|only\s+(?:after|before)\s+\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm)?|pick\s+up\s+the\s+kids"
         r"|school\s+run", "time_window"),
    ]
)  # fmt: skip


def find_constraint_types(text: str) -> list[Found[ConstraintType]]:
    """Non-negotiables: rest_day ("Sundays off"), dietary ("I don't eat pork"), equipment,
    location, time_window ("not before 6am")."""
    return _CONSTRAINTS.find(_plain(text))


_DIETS = [
    ("vegan", "vegan"), ("vegetarian", "vegetarian"), ("pescatarian", "pescatarian"),
    ("halal", "halal"), ("kosher", "kosher"), ("gluten", "gluten_free"),
    ("lactose", "lactose_free"), ("dairy", "dairy_free"),
]  # fmt: skip
_EXCLUDED_FOOD = re.compile(
    r"\b(?:don't|do\s+not|never|won't|can't|cannot)\s+eat\s+(?:any\s+)?(?P<a>[a-z][a-z -]{1,30}?)\b"
    r"(?=[.,;!?]|\s+(?:and|or|but|because|since|as)\b|$)"
    r"|\bno\s+(?P<b>pork|meat|beef|fish|dairy|eggs|alcohol|nuts|red\s+meat|seafood|shellfish)\b"
    r"|\ballergic\s+to\s+(?P<c>[a-z][a-z -]{1,30}?)\b(?=[.,;!?]|\s+(?:and|or|but)\b|$)",
    re.IGNORECASE,
)


def dietary_rule(text: str) -> dict[str, str] | None:
    """A machine-readable dietary rule: {"diet": "vegetarian"} or {"exclude": "pork"}."""
    plain = normalize(text)
    for word, diet in _DIETS:
        if re.search(rf"\b{word}", plain):
            return {"diet": diet}
    m = _EXCLUDED_FOOD.search(plain)
    if m:
        food = (m.group("a") or m.group("b") or m.group("c") or "").strip()
        if food:
            return {"exclude": food}
    return None


# ------------------------------------------------------------ text structure ---

_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|[;\n]+")
_CLAUSE_BREAK = re.compile(
    r"[.!?]+(?=\s|$)|[;\n]+|,\s*(?:and|but|then)\b|\s(?:but|whereas|while)\s|\s-\s", re.I
)
_CLAUSE_START = re.compile(
    r"(?:^|[.!?;\n,:(]|\b(?:and|but|then|plus|also)\b)\s*"
    r"(?:(?:and|but|then|plus|also|for|at|on|in|with|i'?m|i\s+am|i'?d\s+say|i\s+would\s+say|my|a|an"
    r"|the|usually|normally|typically|mostly|often|generally|around|about|every|each|so)\s+)*$",
    re.I,
)
_FORWARD_LINK = re.compile(
    r"^\s*(?:with|at|on|doing|using|for|of|about|when\s+(?:doing|it\s+comes\s+to))\s+"
    r"(?!(?:it|them|those|these|that|this|both|all|each|either)\b)",
    re.IGNORECASE,
)
_BACK_REFERENCE = re.compile(
    r"^\s*(?:with|for|at|on|about|doing)?\s*(?:it|them|those|these|that|this|both|all\s+of\s+them"
    r"|all\s+three|all\s+four|each\s+of\s+them|either)\b",
    re.IGNORECASE,
)


def sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences (split at . ! ? ; and new lines, not at decimal points)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if text[start : m.start()].strip():
            spans.append((start, m.start()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def clauses(text: str) -> list[tuple[int, int]]:
    """Spans of the clauses: sentences further split at "; ", " - ", ", and", ", but", " but "."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _CLAUSE_BREAK.finditer(text):
        if text[start : m.start()].strip():
            spans.append((start, m.start()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def sentence_of(position: int, text: str) -> tuple[int, int]:
    """The span of the sentence holding ``position``."""
    for start, end in sentences(text):
        if start <= position <= end:
            return start, end
    return 0, len(text)


def by_sentence(
    text: str,
    entities: Sequence[tuple[int, int]],
    attributes: Sequence[Found[T]],
    *,
    fallback: bool = True,
) -> list[T | None]:
    """For each entity, the first attribute in its sentence ("for lunch I usually have
    chicken" → usually); with ``fallback``, a value alone in the text holds for all."""
    spans = sentences(text) or [(0, len(text))]
    result: list[T | None] = []
    for start, _ in entities:
        sentence = next(((s, e) for s, e in spans if s <= start <= e), (0, len(text)))
        inside = [a for a in attributes if sentence[0] <= a.start <= sentence[1]]
        result.append(inside[0].value if inside else None)
    if fallback:
        values = {repr(a.value): a.value for a in attributes}
        if len(values) == 1:
            only = next(iter(values.values()))
            result = [only if value is None else value for value in result]
    return result


def assign_attributes(
    text: str,
    entities: Sequence[tuple[int, int]],
    attributes: Sequence[Found[T]],
    *,
    adjacent: bool = False,
    nearest: bool = False,
    fallback: bool = True,
) -> list[T | None]:
    """Tie each attribute value to the names (entity spans) it describes.

    An attribute governs *forward* when it opens its clause ("For breakfast I
    have oats and eggs", "I'm very comfortable with squats and deadlifts") or
    is followed by with/at/for/of and a name (with ``adjacent``, also when a name
    follows directly: "200 g chicken"); it applies to the following names up to
    the next attribute or clause break (". ; , and , but"). Otherwise, or when
    it points back ("... but I'm not confident with them"), it governs
    *backward* ("oats and eggs for breakfast", "squats 5/5, bench 4/5"): it
    applies to the names before it, back to the previous attribute, that have
    none yet. With ``nearest``, an attribute describes only the closest name
    (amounts: "80 g of oats with milk"). With ``fallback``, when the text holds exactly one distinct
    value, names left without one take it. Returns one value (or None) per
    entity, in the order given.
    """
    result: list[T | None] = [None] * len(entities)
    attrs = sorted(attributes, key=lambda a: a.start)
    breaks = [m.start() for m in _CLAUSE_BREAK.finditer(text)]
    sentence_ends = [m.start() for m in _SENTENCE_END.finditer(text)]

    def scope(index: int) -> tuple[int, int]:
        attr = attrs[index]
        limit = attrs[index + 1].start if index + 1 < len(attrs) else len(text)
        return attr.end, min([limit, *(b for b in breaks if b >= attr.end)])

    def forward(index: int) -> bool:
        attr = attrs[index]
        after = text[attr.end :]
        if _BACK_REFERENCE.match(after):
            return False
        opens = bool(_CLAUSE_START.search(text[: attr.start]))
        links = bool(_FORWARD_LINK.match(after))
        first, last = scope(index)
        direct = adjacent and any(
            re.fullmatch(r"\s*(?:of\s+)?", text[attr.end : s]) for s, _ in entities
        )
        return (opens or links or direct) and any(first <= s < last for s, _ in entities)

    directions = [forward(i) for i in range(len(attrs))]
    for index, attr in enumerate(attrs):
        if directions[index]:
            first, last = scope(index)
            inside = sorted(
                (start, i) for i, (start, _) in enumerate(entities) if first <= start < last
            )
            for _, i in inside[:1] if nearest else inside:
                if result[i] is None:
                    result[i] = attr.value
    for index, attr in enumerate(attrs):
        if directions[index]:
            continue
        floor = attrs[index - 1].end if index > 0 else 0
        floor = max([floor, *(e for e in sentence_ends if e < attr.start)])
        before = sorted(
            (start, i)
            for i, (start, end) in enumerate(entities)
            if floor <= start and end <= attr.start and result[i] is None
        )
        for _, i in before[-1:] if nearest else before:
            result[i] = attr.value
    if fallback:
        values = {repr(a.value): a.value for a in attrs}
        if len(values) == 1:
            only = next(iter(values.values()))
            result = [only if value is None else value for value in result]
    return result
