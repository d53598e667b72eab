"""A scripted consultation in plain English (the demo and the end-to-end tests use it).

Run through the :class:`~sharpened.consultation.offline.OfflineEngine` with the
real reference data, one user message per turn, it completes all seven
sections and fills all nine ``user_*`` tables. Ten messages: the chat
function's default limit is 10 user messages a minute, so the whole script
runs without waiting. :func:`expected` gives the rows
those tables must then hold (dates are relative to the consultation's day:
"June 14" is the next June 14, "in 12 weeks" counts from ``today``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

SCRIPTED_CONSULTATION: list[str] = [
    # 1 training_modalities
    "I mostly do strength training, and I also go running and do a bit of yoga.",
    "I'd say I'm intermediate. I've been lifting for about 4 years and I really enjoy it.",
    # 2 exercise_familiarity
    "I know squats, deadlifts, the bench press and pull-ups.",
    "I'm very comfortable with squats and deadlifts, fairly comfortable with the bench press, "
    "and I can do pull-ups but I'm not very confident with them.",
    # 3 training_schedule
    "I can train on Monday, Wednesday and Friday evenings after work, plus Saturday mornings.",
    "Sessions are usually about an hour, at the gym.",
    # 4 meal_timing
    "I have breakfast at 7:00, lunch around 12:30 and dinner at about 7:30pm, "
    "plus a small snack around 4pm.",
    # 5 typical_foods
    "For breakfast I have 80 g of oats with milk and a banana every day; for lunch I usually "
    "have 200 g of chicken breast with rice; dinner is often salmon with broccoli.",
    # 6 goals_events
    "My main goal is to get stronger: I want to squat 140 kg by June 14, I'm at 120 kg now. "
    "I'd also like to lose a bit of weight, from 84 kg down to 80 kg in 12 weeks. "
    "And I have a half marathon on October 4th.",
    # 7 challenges
    "My biggest problem is time - I work long hours, and I get bad cravings for sweets in the "
    "evening. Sundays are my rest day, and I don't eat pork.",
]


def _next(month: int, day: int, today: dt.date) -> dt.date:
    candidate = dt.date(today.year, month, day)
    return candidate if candidate >= today else dt.date(today.year + 1, month, day)


def expected(today: dt.date) -> dict[str, list[dict[str, Any]]]:
    """The rows the nine tables hold after the script, per table, as column values.

    Reference rows are given by catalogue name (exercises, foods) or slug
    (modalities, meal times, event types); only the columns the script states
    are listed (the others keep their defaults or are NULL).
    """
    oats = "Cereals, oats, regular and quick, not fortified, dry"
    milk = "Milk, reduced fat, fluid, 2% milkfat, with added vitamin A and vitamin D"
    chicken = "Chicken, broilers or fryers, breast, meat only, cooked, roasted"
    rice = "Rice, white, long-grain, regular, enriched, cooked"
    salmon = "Fish, salmon, Atlantic, farmed, cooked, dry heat"
    broccoli = "Broccoli, cooked, boiled, drained, without salt"
    slot = {"typical_duration_minutes": 60, "location_type": "gym"}
    return {
        "user_training_modalities": [
            {
                "modality": "strength_training",
                "is_primary": True,
                "proficiency_level": "intermediate",
                "years_experience": 4.0,
                "enjoys_it": True,
            },
            {"modality": "running", "is_primary": False},
            {"modality": "yoga", "is_primary": False},
        ],
        "user_familiar_exercises": [
            {"exercise": "Barbell Squat", "comfort_level": 5},
            {"exercise": "Barbell Deadlift", "comfort_level": 5},
            {"exercise": "Barbell Bench Press - Medium Grip", "comfort_level": 4},
            {"exercise": "Pullups", "comfort_level": 2},
        ],
        "user_training_availability": [
            {"day_of_week": 1, "time_of_day": "evening", **slot},
            {"day_of_week": 3, "time_of_day": "evening", **slot},
            {"day_of_week": 5, "time_of_day": "evening", **slot},
            {"day_of_week": 6, "time_of_day": "morning", **slot},
        ],
        "user_preferred_meal_times": [
            {"meal_time": "breakfast", "typical_time": dt.time(7, 0)},
            {"meal_time": "lunch", "typical_time": dt.time(12, 30)},
            {"meal_time": "dinner", "typical_time": dt.time(19, 30)},
            {"meal_time": "snack", "typical_time": dt.time(16, 0), "portion_size": "small"},
        ],
        "user_typical_meal_foods": [
            {
                "food": oats,
                "meal_time": "breakfast",
                "frequency": "daily",
                "typical_quantity_grams": 80.0,
            },
            {"food": milk, "meal_time": "breakfast", "frequency": "daily"},
            {
                "food": "Bananas, raw",
                "meal_time": "breakfast",
                "frequency": "daily",
                "typical_quantity_grams": 118.0,
            },
            {
                "food": chicken,
                "meal_time": "lunch",
                "frequency": "most_days",
                "typical_quantity_grams": 200.0,
            },
            {"food": rice, "meal_time": "lunch", "frequency": "most_days"},
            {"food": salmon, "meal_time": "dinner", "frequency": "most_days"},
            {"food": broccoli, "meal_time": "dinner", "frequency": "most_days"},
        ],
        "user_improvement_goals": [
            {
                "goal_type": "strength",
                "exercise": "Barbell Squat",
                "metric": "Barbell Squat (kg)",
                "current_value": 120.0,
                "target_value": 140.0,
                "target_date": _next(6, 14, today),
                "priority": 1,
            },
            {
                "goal_type": "fat_loss",
                "metric": "body weight (kg)",
                "current_value": 84.0,
                "target_value": 80.0,
                "target_date": today + dt.timedelta(weeks=12),
            },
        ],
        "user_upcoming_events": [
            {
                "event_type": "half_marathon",
                "event_name": "Half marathon",
                "event_date": _next(10, 4, today),
            },
        ],
        "user_difficulties": [
            {"category": "time", "severity": 4},
            {"category": "nutrition", "severity": 4},
        ],
        "user_non_negotiables": [
            {"constraint_type": "rest_day", "rule": {"day_of_week": 7, "rule": "rest"}},
            {"constraint_type": "dietary", "rule": {"exclude": "pork"}},
        ],
    }


# The rows as of the day this module is imported (the dates move with the day:
# call ``expected(today)`` with the consultation's day to compare dates).
EXPECTED: dict[str, list[dict[str, Any]]] = expected(dt.date.today())
