"""The offline engine's parsers on tricky inputs, including inputs that must not match."""

from __future__ import annotations

import datetime as dt
import random
import string
from typing import Any

import pytest

from sharpened.consultation import parsers as p
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

TODAY = dt.date(2026, 11, 26)  # a Thursday


# ------------------------------------------------------------------ weekdays ---


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("Mon, Wed and Fri", [1, 3, 5]),
        ("monday wednesday friday", [1, 3, 5]),
        ("weekdays", [1, 2, 3, 4, 5]),
        ("during the week", [1, 2, 3, 4, 5]),
        ("weekends", [6, 7]),
        ("on the weekend", [6, 7]),
        ("every day except Sunday", [1, 2, 3, 4, 5, 6]),
        ("every day except Sunday and Wednesday", [1, 2, 4, 5, 6]),
        ("any day but not on Wednesdays", [1, 2, 4, 5, 6, 7]),
        ("weekdays but Friday", [1, 2, 3, 4]),
        ("daily", [1, 2, 3, 4, 5, 6, 7]),
        ("7 days a week", [1, 2, 3, 4, 5, 6, 7]),
        ("tuesdays/thursdays", [2, 4]),
        ("Tues & Thurs", [2, 4]),
        ("mon-thu", [1, 2, 3, 4]),
        ("Mon\u2013Thu", [1, 2, 3, 4]),
        ("Monday to Friday", [1, 2, 3, 4, 5]),
        ("monday through thursday", [1, 2, 3, 4]),
        ("Fri-Mon", [1, 5, 6, 7]),
        ("Monday to Friday but not Wednesday", [1, 2, 4, 5]),
        ("Mon-Fri except Wed, and I also train Saturday", [1, 2, 4, 5, 6]),
        ("Sat and Sun", [6, 7]),
        ("sat/sun", [6, 7]),
        ("Sun", [7]),
        ("weekdays. Not on Wednesdays though", [1, 2, 4, 5]),
        ("Monday, Wednesday and Friday evenings, plus Saturday mornings", [1, 3, 5, 6]),
        ("THURSDAY", [4]),
        # must not match
        ("I sat in the sun", []),
        ("we wed in June", []),
        ("my wedding is soon", []),
        ("I monitor my food", []),
        ("Saturated fat", []),
        ("fries with everything", []),
        ("three times a week", []),
        ("", []),
        ("Sundays off", []),
        ("I can't train on Sundays", []),
    ],
)
def test_weekdays(text: str, days: list[int]) -> None:
    assert p.parse_weekdays(text) == days


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("Sundays off", [7]),
        ("Sunday is my rest day", [7]),
        ("Saturday and Sunday are rest days", [6, 7]),
        ("every day except Sunday", [7]),
        ("I can't train on Fridays", [5]),
        ("never on Mondays", [1]),
        ("Monday and Friday", []),
    ],
)
def test_excluded_weekdays(text: str, days: list[int]) -> None:
    assert p.parse_excluded_weekdays(text) == days


def test_weekday_lists_keep_their_spans() -> None:
    text = "Mon and Wed evenings, plus Saturday mornings"
    lists = p.find_weekday_lists(text)
    assert [(f.value.days, text[f.start : f.end]) for f in lists] == [
        ((1, 3), "Mon and Wed"),
        ((6,), "Saturday"),
    ]


# -------------------------------------------------------------- time of day ---


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("early morning", ["early_morning"]),
        ("first thing, before work", ["early_morning"]),
        ("6am", ["early_morning"]),
        ("at 6:15 a.m.", ["early_morning"]),
        ("mornings", ["morning"]),
        ("late morning", ["morning"]),
        ("around 18:30", ["evening"]),
        ("after work", ["evening"]),
        ("lunchtime", ["midday"]),
        ("during my lunch break", ["midday"]),
        ("noon", ["midday"]),
        ("late afternoon", ["afternoon"]),
        ("late evening", ["night"]),
        ("at night, before bed", ["night"]),
        ("mornings or evenings", ["morning", "evening"]),
        ("at 7", ["morning"]),
        ("at 5", ["evening"]),  # an ambiguous 1-5 o'clock reads as p.m.
        ("19h30", []),  # "19h30" alone could be a duration; a time needs "at 19h30"
        ("at 19h30", ["evening"]),
        # must not match
        ("for 45 minutes", []),
        ("100 kg", []),
        ("3 times a week", []),
        ("I train hard", []),
        ("good mornings are an exercise", ["morning"]),
    ],
)
def test_times_of_day(text: str, parts: list[TimeOfDay]) -> None:
    assert p.parse_times_of_day(text) == parts


@pytest.mark.parametrize(
    ("text", "clock", "ambiguous"),
    [
        ("6am", dt.time(6, 0), False),
        ("6 pm", dt.time(18, 0), False),
        ("6.30 pm", dt.time(18, 30), False),
        ("6:30PM", dt.time(18, 30), False),
        ("12am", dt.time(0, 0), False),
        ("12pm", dt.time(12, 0), False),
        ("18:30", dt.time(18, 30), False),
        ("07:30", dt.time(7, 30), False),
        ("7:30", dt.time(7, 30), True),
        ("around 7", dt.time(7, 0), True),
        ("at about 7", dt.time(7, 0), True),
        ("7 o'clock", dt.time(7, 0), True),
        ("seven o'clock", dt.time(7, 0), True),
        ("half past six", dt.time(6, 30), True),
        ("quarter to eight", dt.time(7, 45), True),
        ("noon", dt.time(12, 0), False),
        ("midnight", dt.time(0, 0), False),
        ("at 19h30", dt.time(19, 30), False),
    ],
)
def test_clock_times(text: str, clock: dt.time, ambiguous: bool) -> None:
    found = p.find_clock_times(text)
    assert [(f.value.time, f.value.ambiguous) for f in found] == [(clock, ambiguous)]


@pytest.mark.parametrize(
    "text",
    [
        "1.5 hours",
        "6.30",  # a decimal number without am/pm
        "45 min",
        "at 7 eggs",
        "around 12 reps",
        "5/3/1",
        "14/06/2027",
        "25:00",
        "13pm",
        "at 7:75",
        "2027-06-14",
        "100kg",
    ],
)
def test_not_clock_times(text: str) -> None:
    assert p.find_clock_times(text) == []


@pytest.mark.parametrize(
    ("text", "near", "clock"),
    [
        ("7:30", dt.time(7, 30), dt.time(7, 30)),
        ("7:30", dt.time(19, 30), dt.time(19, 30)),
        ("at 7", dt.time(19, 30), dt.time(19, 0)),
        ("at 12:30", dt.time(19, 30), dt.time(12, 30)),
        ("at 7pm", dt.time(7, 30), dt.time(19, 0)),
        ("at 3", None, dt.time(15, 0)),
        ("at 8", None, dt.time(8, 0)),
    ],
)
def test_ambiguous_clock_times_resolve_near_the_meal(
    text: str, near: dt.time | None, clock: dt.time
) -> None:
    assert p.parse_clock_time(text, near) == clock


@pytest.mark.parametrize(
    ("clock", "part"),
    [
        (dt.time(3, 59), "night"),
        (dt.time(4, 0), "early_morning"),
        (dt.time(6, 59), "early_morning"),
        (dt.time(7, 0), "morning"),
        (dt.time(11, 0), "midday"),
        (dt.time(14, 0), "afternoon"),
        (dt.time(17, 0), "evening"),
        (dt.time(20, 59), "evening"),
        (dt.time(21, 0), "night"),
    ],
)
def test_time_of_day_buckets(clock: dt.time, part: TimeOfDay) -> None:
    assert p.time_of_day_for(clock) == part


# ---------------------------------------------------------------- durations ---


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("45 min", p.Duration(45)),
        ("45mins", p.Duration(45)),
        ("an hour", p.Duration(60)),
        ("about an hour, at the gym", p.Duration(60)),
        ("one hour", p.Duration(60)),
        ("1.5 hours", p.Duration(90)),
        ("1,5 hours", p.Duration(90)),
        ("1h30", p.Duration(90)),
        ("1h 30m", p.Duration(90)),
        ("1 hour 30 minutes", p.Duration(90)),
        ("an hour and 15 minutes", p.Duration(75)),
        ("an hour and a half", p.Duration(90)),
        ("one and a half hours", p.Duration(90)),
        ("half an hour", p.Duration(30)),
        ("2 hrs", p.Duration(120)),
        ("90'", p.Duration(90)),
        ("seventeen minutes", p.Duration(17)),
        ("between 45 and 60 minutes", p.Duration(55, 45, 60)),
        ("45-60 min", p.Duration(55, 45, 60)),
        ("45 to 60 minutes", p.Duration(55, 45, 60)),
        ("45 minutes to an hour", p.Duration(55, 45, 60)),
        ("1-2 hours", p.Duration(90, 60, 120)),
        ("at least 45 minutes", p.Duration(45, min_minutes=45)),
        ("up to 90 minutes", p.Duration(90, max_minutes=90)),
        ("around 18:30 for 60 min", p.Duration(60)),
    ],
)
def test_durations(text: str, duration: p.Duration) -> None:
    assert p.parse_duration(text) == duration


@pytest.mark.parametrize(
    "text",
    [
        "5 times a week",
        "12 weeks",
        "6am",
        "18:30",
        "100kg",
        "3 sets of 10",
        "60 - 45 minutes",  # a range must go up
        "an h",
        "2 days",
        "",
    ],
)
def test_not_durations(text: str) -> None:
    assert p.parse_duration(text) is None


# -------------------------------------------------------------------- dates ---


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("June 14", dt.date(2027, 6, 14)),
        ("june 14th", dt.date(2027, 6, 14)),
        ("14 June", dt.date(2027, 6, 14)),
        ("the 14th of June", dt.date(2027, 6, 14)),
        ("June 14th, 2028", dt.date(2028, 6, 14)),
        ("14 June 2028", dt.date(2028, 6, 14)),
        ("Dec 3", dt.date(2026, 12, 3)),
        ("Nov 26", dt.date(2026, 11, 26)),  # today counts
        ("Nov 25", dt.date(2027, 11, 25)),  # already past: next year
        ("May 5", dt.date(2027, 5, 5)),
        ("Sept. 3", dt.date(2027, 9, 3)),
        ("14/06/2027", dt.date(2027, 6, 14)),
        ("06/14/2027", dt.date(2027, 6, 14)),  # the second number cannot be a month
        ("03/04/2027", dt.date(2027, 4, 3)),  # day first when both could be
        ("14.06.27", dt.date(2027, 6, 14)),
        ("2027-06-14", dt.date(2027, 6, 14)),
        ("on 14/06", dt.date(2027, 6, 14)),
        ("in 12 weeks", dt.date(2027, 2, 18)),
        ("in twelve weeks", dt.date(2027, 2, 18)),
        ("within 3 months", dt.date(2027, 2, 26)),
        ("in about 3 months", dt.date(2027, 2, 26)),
        ("in a month", dt.date(2026, 12, 26)),
        ("in a year", dt.date(2027, 11, 26)),
        ("in 10 days", dt.date(2026, 12, 6)),
        ("two weeks from now", dt.date(2026, 12, 10)),
        ("next week", dt.date(2026, 12, 3)),
        ("next month", dt.date(2026, 12, 26)),
        ("next year", dt.date(2027, 11, 26)),
        ("tomorrow", dt.date(2026, 11, 27)),
        ("next Saturday", dt.date(2026, 11, 28)),
        ("next Thursday", dt.date(2026, 12, 3)),  # today is a Thursday: the next one
        ("by Christmas", dt.date(2026, 12, 25)),
        ("New Year's Eve", dt.date(2026, 12, 31)),
        ("by the end of the year", dt.date(2026, 12, 31)),
        ("end of the month", dt.date(2026, 11, 30)),
    ],
)
def test_dates(text: str, date: dt.date) -> None:
    assert p.parse_date(text, TODAY) == date


@pytest.mark.parametrize(
    "text",
    [
        "3/4 sit-up",
        "1/2 cup of oats",
        "5/3/1 program",
        "14",
        "in 3 sets",
        "2 weeks ago",
        "I may 5 times",
        "may 5",
        "30/02/2027",  # no such day
        "version 1.2.3",
        "I decline",
        "18:30",
        "",
    ],
)
def test_not_dates(text: str) -> None:
    assert p.parse_date(text, TODAY) is None


def test_month_arithmetic_clamps() -> None:
    assert p.add_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert p.add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert p.parse_date("next month", dt.date(2027, 1, 31)) == dt.date(2027, 2, 28)


# --------------------------------------------------------------- quantities ---


@pytest.mark.parametrize(
    ("text", "food", "grams"),
    [
        ("200 g", None, 200.0),
        ("150g", None, 150.0),
        ("200 grams", None, 200.0),
        ("0.2 kg", None, 200.0),
        ("8 oz steak", None, 226.8),
        ("250 ml of milk", None, 250.0),
        ("2 eggs", None, 100.0),
        ("an egg", None, 50.0),
        ("a couple of eggs", None, 100.0),
        ("three large eggs", None, 150.0),
        ("a banana", None, 118.0),
        ("2 bananas", None, 236.0),
        ("an apple", None, 182.0),
        ("a chicken breast", None, 170.0),
        ("a cup of oats", None, 80.0),
        ("a cup of milk", None, 245.0),
        ("a cup", "rice", 160.0),
        ("a cup", None, 240.0),
        ("half a cup of rice", None, 80.0),
        ("two slices of toast", None, 60.0),
        ("a scoop of whey", None, 30.0),
        ("2 tbsp peanut butter", None, 30.0),
        ("a handful of almonds", None, 30.0),
        ("a glass of orange juice", None, 250.0),
    ],
)
def test_quantities(text: str, food: str | None, grams: float) -> None:
    assert p.parse_quantity_grams(text, food) == grams


@pytest.mark.parametrize(
    "text",
    [
        "2 times",
        "3 meals",
        "a lot of rice",
        "some chicken",
        "100 kg squat",  # 100,000 g: no food portion
        "5 days a week",
        "0.5 g",  # under a gram
        "I can",
    ],
)
def test_not_quantities(text: str) -> None:
    assert p.parse_quantity_grams(text) is None


# ------------------------------------------------------------------ numbers ---


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("five", 5.0),
        ("Five", 5.0),
        ("2.5", 2.5),
        ("2,5", 2.5),
        ("1,000", 1000.0),
        ("a couple", 2.0),
        ("a few", 3.0),
        ("a dozen", 12.0),
        ("twenty-five", 25.0),
        ("twenty five", 25.0),
        ("seventeen", 17.0),
        ("one and a half", 1.5),
        ("a hundred", 100.0),
        ("I'm 34", 34.0),
    ],
)
def test_numbers(text: str, value: float) -> None:
    assert p.parse_number(text) == value


@pytest.mark.parametrize(
    "text", ["someone", "none", "often", "18:30", "5/3/1", "2027-06-14", "100kg", "", "tenth"]
)
def test_not_numbers(text: str) -> None:
    assert p.parse_number(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("80 kg", (80.0, "kg")),
        ("100kg", (100.0, "kg")),
        ("176 lbs", (176.0, "lb")),
        ("a 5k", (5.0, "km")),
        ("10 km", (10.0, "km")),
        ("12%", (12.0, "%")),
        ("8 reps", (8.0, "reps")),
        ("five", (5.0, None)),
        ("I did 3 sets at 100 kg", (3.0, None)),
    ],
)
def test_numbers_with_units(text: str, expected: tuple[float, str | None]) -> None:
    assert p.parse_number_with_unit(text) == expected


@pytest.mark.parametrize(
    ("text", "kg"),
    [("I weigh 80 kg", 80.0), ("176 lbs", 79.83), ("100kg", 100.0), ("84.5 kilos", 84.5)],
)
def test_weights_in_kg(text: str, kg: float) -> None:
    assert p.parse_weight_kg(text) == kg


@pytest.mark.parametrize("text", ["5k race", "5 M", "80", "200 g of rice is 0.2 kg"])
def test_weights_need_a_body_weight_unit(text: str) -> None:
    expected = 0.2 if "0.2 kg" in text else None
    assert p.parse_weight_kg(text) == expected


# ---------------------------------------------------------------- yes / no ---


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("yes", True),
        ("Yeah, definitely", True),
        ("sure", True),
        ("of course", True),
        ("I love it", True),
        ("no", False),
        ("nope", False),
        ("not really", False),
        ("absolutely not", False),
        ("I don't", False),
        ("not sure", None),
        ("maybe", None),
        ("it depends", None),
        ("squats", None),
    ],
)
def test_yes_no(text: str, answer: bool | None) -> None:
    assert p.parse_yes_no(text) is answer


# ------------------------------------------------------------- vocabularies ---


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("I'd say I'm intermediate", "intermediate"),
        ("complete beginner", "beginner"),
        ("I just started", "beginner"),
        ("novice", "novice"),
        ("still learning", "novice"),
        ("pretty experienced", "advanced"),
        ("ADVANCED", "advanced"),
        ("I compete", "expert"),
        ("not a beginner, intermediate", "intermediate"),
        ("not a beginner", None),
        ("no idea", None),
    ],
)
def test_proficiency(text: str, level: Proficiency | None) -> None:
    assert p.parse_proficiency(text) == level


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("I'm fairly comfortable", 4),
        ("comfortable", 4),
        ("pretty confident", 4),
        ("very comfortable", 5),
        ("totally confident", 5),
        ("second nature", 5),
        ("I feel ok with them", 3),
        ("somewhat comfortable", 3),
        ("not very confident", 2),
        ("a bit shaky", 2),
        ("uncomfortable", 2),
        ("not comfortable at all", 1),
        ("4/5", 4),
        ("4 / 5", 4),
        ("4 out of 5", 4),
        ("comfort level 3", 3),
        ("I'd say a 4 for both", 4),
        # must not match
        ("a 4 kg dumbbell", None),
        ("6/5", None),
        ("ok, I do squats", None),
        ("4 sets", None),
    ],
)
def test_comfort_levels(text: str, level: int | None) -> None:
    assert p.parse_comfort_level(text) == level


@pytest.mark.parametrize(
    ("text", "frequency"),
    [
        ("never done it", "never_done"),
        ("I haven't tried them", "never_done"),
        ("rarely", "rarely"),
        ("once in a while", "rarely"),
        ("sometimes", "occasionally"),
        ("every week", "regularly"),
        ("twice a week", "regularly"),
        ("every session", "frequently"),
        ("all the time", "frequently"),
        ("squats", None),
    ],
)
def test_exercise_frequency(text: str, frequency: ExerciseFrequency | None) -> None:
    assert p.parse_exercise_frequency(text) == frequency


@pytest.mark.parametrize(
    ("text", "frequency"),
    [
        ("every day", "daily"),
        ("every morning", "daily"),
        ("most days", "most_days"),
        ("usually", "most_days"),
        ("once a week", "weekly"),
        ("on weekends", "weekly"),
        ("every Friday", "weekly"),
        ("now and then", "occasionally"),
        ("oats", None),
    ],
)
def test_food_frequency(text: str, frequency: FoodFrequency | None) -> None:
    assert p.parse_food_frequency(text) == frequency


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("at the gym", "gym"),
        ("my local gym", "gym"),
        ("home gym", "home"),
        ("at home", "home"),
        ("in my garage", "home"),
        ("outdoors", "outdoor"),
        ("in the park", "outdoor"),
        ("at the office", "office"),
        ("anywhere", "flexible"),
        ("after work", None),
        ("I train hard", None),
    ],
)
def test_locations(text: str, location: Location | None) -> None:
    assert p.parse_location(text) == location


@pytest.mark.parametrize(
    ("text", "size"),
    [("a small snack", "small"), ("a big dinner", "large"), ("normal lunch", "medium")],
)
def test_portion_sizes(text: str, size: PortionSize) -> None:
    assert p.parse_portion_size(text) == size


@pytest.mark.parametrize(
    ("text", "goal"),
    [
        ("get stronger", "strength"),
        ("squat 140 kg", "strength"),
        ("lose 5 kg", "fat_loss"),
        ("lose a bit of weight", "fat_loss"),
        ("from 84 kg down to 80 kg", "fat_loss"),
        ("build muscle", "hypertrophy"),
        ("run a marathon", "endurance"),
        ("touch my toes", "mobility"),
        ("learn to do a handstand", "skill"),
        ("run faster", "performance"),
        ("lower my blood pressure", "health"),
        ("drop my body fat to 15%", "body_composition"),
        ("I like turtles", None),
    ],
)
def test_goal_types(text: str, goal: GoalType | None) -> None:
    assert p.parse_goal_type(text) == goal


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I work long hours", "time"),
        ("I get bad cravings for sweets", "nutrition"),
        ("my knee hurts", "injury"),
        ("I sleep badly", "sleep"),
        ("stress at work", "stress"),
        ("I'm always tired", "energy"),
        ("I lose motivation", "motivation"),
        ("no weights at home", "equipment"),
        ("I don't know how to squat properly", "knowledge"),
        ("I can't stick to a routine", "consistency"),
        ("everything is great", None),
    ],
)
def test_difficulty_categories(text: str, category: DifficultyCategory | None) -> None:
    assert p.parse_difficulty_category(text) == category


@pytest.mark.parametrize(
    ("text", "severity"),
    [("my biggest problem", 4), ("a bit", 2), ("severe", 5), ("time", None)],
)
def test_severity(text: str, severity: int | None) -> None:
    assert p.parse_severity(text) == severity


@pytest.mark.parametrize(
    ("text", "priority"),
    [("my main goal", 1), ("secondary", 2), ("nice to have", 4), ("a goal", None)],
)
def test_priority(text: str, priority: int | None) -> None:
    assert p.parse_priority(text) == priority


@pytest.mark.parametrize(
    ("text", "kind", "rule"),
    [
        ("Sundays are my rest day", "rest_day", None),
        ("I don't eat pork", "dietary", {"exclude": "pork"}),
        ("I'm vegetarian", "dietary", {"diet": "vegetarian"}),
        ("allergic to peanuts", "dietary", {"exclude": "peanuts"}),
        ("no dairy", "dietary", {"diet": "dairy_free"}),
        ("I never eat red meat", "dietary", {"exclude": "red meat"}),
        ("I only have dumbbells", "equipment", None),
        ("only at home", "location", None),
        ("not before 6am", "time_window", None),
    ],
)
def test_constraints(text: str, kind: ConstraintType, rule: dict[str, str] | None) -> None:
    assert [f.value for f in p.find_constraint_types(text)][:1] == [kind]
    if rule is not None:
        assert p.dietary_rule(text) == rule


@pytest.mark.parametrize(
    ("text", "enjoys"),
    [("I love it", True), ("I really enjoy running", True), ("I hate cardio", False),
     ("I don't really like yoga", False), ("boring", False)],
)  # fmt: skip
def test_enjoyment(text: str, enjoys: bool) -> None:
    assert [f.value for f in p.find_enjoyment(text)][:1] == [enjoys]


# ------------------------------------------------ tying values to names ---


def _spans(text: str, names: list[str]) -> list[tuple[int, int]]:
    return [(text.index(n), text.index(n) + len(n)) for n in names]


@pytest.mark.parametrize(
    ("text", "names", "levels"),
    [
        (
            "I'm very comfortable with squats and deadlifts, fairly comfortable with the bench "
            "press, and I can do pull-ups but I'm not very confident with them.",
            ["squats", "deadlifts", "bench press", "pull-ups"],
            [5, 5, 4, 2],
        ),
        ("Squats 5/5, bench 4/5, deadlifts 3/5", ["Squats", "bench", "deadlifts"], [5, 4, 3]),
        (
            "squats, deadlifts and bench press are all a 4",
            ["squats", "deadlifts", "bench"],
            [4] * 3,
        ),
        ("lunges and planks, I'd say a 3 for both", ["lunges", "planks"], [3, 3]),
        ("squats (very comfortable) and lunges", ["squats", "lunges"], [5, 5]),
        ("squats: 5/5. Lunges: 2/5.", ["squats", "Lunges"], [5, 2]),
    ],
)
def test_comfort_levels_go_to_the_right_exercises(
    text: str, names: list[str], levels: list[int]
) -> None:
    assert p.assign_attributes(text, _spans(text, names), p.find_comfort_levels(text)) == levels


def test_meals_forward_and_backward() -> None:
    text = "For breakfast I have oats with milk; lunch is chicken and rice; salmon for dinner."
    meals = [
        p.Found(m, text.index(m), text.index(m) + len(m)) for m in ("breakfast", "lunch", "dinner")
    ]
    spans = _spans(text, ["oats", "milk", "chicken", "rice", "salmon"])
    assert p.assign_attributes(text, spans, meals) == [
        "breakfast", "breakfast", "lunch", "lunch", "dinner",
    ]  # fmt: skip


def test_amounts_go_to_the_nearest_food_only() -> None:
    text = "80 g of oats with milk, and 200g chicken"
    spans = _spans(text, ["oats", "milk", "chicken"])
    amounts = p.find_quantities(text)
    got = p.assign_attributes(text, spans, amounts, adjacent=True, nearest=True, fallback=False)
    assert got == [80.0, None, 200.0]


def test_clock_times_go_to_their_meals() -> None:
    text = "I eat breakfast at 7:00, lunch around 12:30 and dinner at about 7:30pm"
    spans = _spans(text, ["breakfast", "lunch", "dinner"])
    clocks = [p.Found(c.value.time, c.start, c.end) for c in p.find_clock_times(text)]
    assert p.assign_attributes(text, spans, clocks) == [
        dt.time(7, 0), dt.time(12, 30), dt.time(19, 30),
    ]  # fmt: skip


def test_by_sentence() -> None:
    text = "Oats every day. Chicken usually. Rice."
    spans = _spans(text, ["Oats", "Chicken", "Rice"])
    found = p.find_food_frequency(text)
    assert p.by_sentence(text, spans, found) == ["daily", "most_days", None]


def test_sentences_and_clauses() -> None:
    text = "I lift 1.5 hours. Then I rest; done - really, and then sleep"
    assert [text[s:e] for s, e in p.sentences(text)] == [
        "I lift 1.5 hours", " Then I rest", " done - really, and then sleep",
    ]  # fmt: skip
    assert [text[s:e].strip() for s, e in p.clauses(text)] == [
        "I lift 1.5 hours", "Then I rest", "done", "really", "then sleep",
    ]  # fmt: skip


# --------------------------------------------------------- never raises ---


PARSERS: list[Any] = [
    p.parse_weekdays,
    p.parse_excluded_weekdays,
    p.parse_times_of_day,
    p.find_clock_times,
    p.parse_duration,
    lambda t: p.parse_date(t, TODAY),
    p.parse_quantity_grams,
    p.parse_number,
    p.parse_number_with_unit,
    p.find_measurements,
    p.parse_yes_no,
    p.parse_proficiency,
    p.parse_comfort_level,
    p.parse_exercise_frequency,
    p.parse_food_frequency,
    p.parse_location,
    p.parse_goal_type,
    p.parse_difficulty_category,
    p.dietary_rule,
    p.clauses,
]


def test_parsers_never_raise_on_random_text() -> None:
    rng = random.Random(4)
    alphabet = string.ascii_letters + string.digits + " .,;:/-'\u2019\u2013\u2014%&()?!\n" + "éü🙂"
    samples = ["", " ", "\x00", "9" * 500, "at " * 300, "Monday-" * 50]
    samples += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 120))) for _ in range(300)
    ]
    for text in samples:
        for parser in PARSERS:
            parser(text)


def test_several_clock_times_in_a_list() -> None:
    found = p.find_clock_times("At 7, 12:30 and 7pm. Then at 9.")
    assert [f.value.time for f in found] == [
        dt.time(7, 0), dt.time(12, 30), dt.time(19, 0), dt.time(9, 0),
    ]  # fmt: skip
