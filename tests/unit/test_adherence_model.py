"""The adherence reference model (tests/adherence_model.py) against hand-computed DOMAIN §6
cases."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from fractions import Fraction

import pytest

from adherence_model import (
    Counts,
    LoggedActivity,
    LoggedMeal,
    LoggedSet,
    Nutrients,
    PlannedExercise,
    PlannedMeal,
    PlannedSession,
    Verdict,
    accuracy,
    breakdown,
    exercise_key,
    greedy,
    match_day,
    meal_terms,
    rollups,
    round_half_up,
    score,
    session_terms,
    slot_of,
    status_for,
)

D = Decimal
SQUAT, BENCH = "barbell_squat", "bench_press"
EVENING = dt.time(18, 0)


def _id(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def _strength_plan(**fields: object) -> PlannedSession:
    values: dict[str, object] = {
        "id": _id(1),
        "kind": "strength",
        "planned_duration_minutes": 60,
        "time_of_day": "evening",
        "exercises": (PlannedExercise(SQUAT, 3, 8, 12), PlannedExercise(BENCH, 3, 8, 12)),
        **fields,
    }
    return PlannedSession(**values)  # type: ignore[arg-type]


def _sets(key: str, count: int, reps: int, kg: str | None) -> tuple[LoggedSet, ...]:
    return tuple(LoggedSet(key, reps, D(kg) if kg else None) for _ in range(count))


def _activity(sets: tuple[LoggedSet, ...], **fields: object) -> LoggedActivity:
    values: dict[str, object] = {
        "id": _id(100),
        "category": "strength",
        "duration_minutes": 60,
        "local_start": EVENING,
        "sets": sets,
        **fields,
    }
    return LoggedActivity(**values)  # type: ignore[arg-type]


def _n(kcal: str, protein: str, carbs: str, fat: str) -> Nutrients:
    return Nutrients(D(kcal), D(protein), D(carbs), D(fat))


TARGETS = _n("500", "40", "50", "20")
LUNCH = PlannedMeal(_id(2), "lunch", TARGETS)
LUNCH_60 = PlannedMeal(_id(2), "lunch", _n("500", "40", "60", "18"))


def test_rounding_is_half_away_from_zero_of_the_exact_value() -> None:
    assert round_half_up(D("0.0005"), 3) == D("0.001")
    assert round_half_up(D("0.12345"), 4) == D("0.1235")
    assert round_half_up(D("66.65"), 1) == D("66.7")
    assert round_half_up(D("-0.0005"), 3) == D("-0.001")
    assert round_half_up(Fraction(2, 3), 3) == D("0.667")


def test_an_exact_half_rounds_up_even_through_a_repeating_division() -> None:
    # carbs 85 of 60: 0.15 x (1 - 25/60) = 0.0875 exactly; 0.3 + 0.0875 = 0.3875 -> 0.388.
    terms = meal_terms(LUNCH_60, LoggedMeal(_id(200), "lunch", _n("1000", "90", "85", "38")))
    assert terms["carbs"] == D("0.0875")
    assert score(terms) == D("0.388")


def test_slots_and_keys() -> None:
    assert [slot_of(dt.time(h, 59)) for h in (3, 4, 6, 7, 10, 11, 13, 14, 16, 17, 20, 21)] == [
        "night",
        "early_morning",
        "early_morning",
        "morning",
        "morning",
        "midday",
        "midday",
        "afternoon",
        "afternoon",
        "evening",
        "evening",
        "night",
    ]
    assert exercise_key(None, "  Sled PUSH ") == "custom:sled push"
    assert exercise_key(SQUAT, "ignored") == SQUAT


def test_session_done_exactly_as_planned_scores_1() -> None:
    # 3 x 10 (the middle of 8-12) at 100 kg squat and 60 kg bench.
    done = _activity(_sets(SQUAT, 3, 10, "100") + _sets(BENCH, 3, 10, "60"))
    terms = session_terms(_strength_plan(), done)
    assert terms == {
        "category": D("0.4"),
        "exercises": D("0.3"),
        "volume": D("0.2"),
        "time_of_day": D("0.1"),
    }
    assert score(terms) == D("1.000")
    assert status_for(score(terms)) == "completed"


def test_half_the_volume_in_the_wrong_slot_is_exactly_08_completed() -> None:
    # 0.4 + 0.3 + 0.2 x 0.5 + 0 = 0.8: planned 3 x 10 x 100 = 3000 kg, done 3 x 5 x 100 = 1500.
    plan = _strength_plan(exercises=(PlannedExercise(SQUAT, 3, 8, 12),))
    done = _activity(_sets(SQUAT, 3, 5, "100"), local_start=dt.time(7, 30))
    terms = session_terms(plan, done)
    assert terms["volume"] == D("0.1")
    assert terms["time_of_day"] == 0
    assert score(terms) == D("0.800")
    assert status_for(score(terms)) == "completed"


def test_warm_up_sets_do_not_count_and_body_weight_is_1_kg() -> None:
    plan = _strength_plan(exercises=(PlannedExercise("pull_up", 3, 8, 12),))
    warmup = (LoggedSet(SQUAT, 10, D("40"), is_warmup=True),)
    done = _activity(warmup + _sets("pull_up", 3, 10, None) + (LoggedSet("pull_up", 10, D(0)),))
    terms = session_terms(plan, done)
    # planned 3 x 10 x 1 = 30, actual 4 x 10 x 1 = 40 -> 0.2 x 0.75; the warm-up squat is no
    # exercise of the activity (exercises stay 0.3 x 1/1).
    assert terms["volume"] == D("0.15")
    assert terms["exercises"] == D("0.3")
    assert score(terms) == D("0.950")


def test_missing_exercise_uses_the_mean_load_of_all_sets() -> None:
    # Squat planned 3 x 10, only bench done 3 x 5 at 60 kg: squat's kg is 60 (the mean of all),
    # planned 1800, actual 900. 0.4 + 0 + 0.1 + 0.1 = 0.6 exactly: similar.
    plan = _strength_plan(exercises=(PlannedExercise(SQUAT, 3, 8, 12),))
    terms = session_terms(plan, _activity(_sets(BENCH, 3, 5, "60")))
    assert terms == {
        "category": D("0.4"),
        "exercises": D(0),
        "volume": D("0.1"),
        "time_of_day": D("0.1"),
    }
    assert status_for(score(terms)) == "similar"


def test_one_of_two_exercises_and_per_exercise_loads() -> None:
    # Squat 3 x 10 at 100 kg done; bench not done -> its kg is the mean of all sets (100).
    # planned 3000 + 3000, actual 3000 -> ratio 0.5; exercises 0.3 x 1/2.
    terms = session_terms(_strength_plan(), _activity(_sets(SQUAT, 3, 10, "100")))
    assert terms["exercises"] == D("0.15")
    assert terms["volume"] == D("0.1")
    assert score(terms) == D("0.750")
    assert status_for(score(terms)) == "similar"


def test_cardio_as_cardio_steady_30_of_45_minutes() -> None:
    # 0.4 + 0.3 (nothing planned to miss) + 0.2 x 30/45 + 0.1 = 0.9333... -> 0.933
    plan = PlannedSession(_id(3), "cardio", 45, None)
    run = LoggedActivity(_id(101), "cardio_steady", 30, dt.time(6, 15))
    terms = session_terms(plan, run)
    assert breakdown(terms) == {
        "category": D("0.4"),
        "exercises": D("0.3"),
        "volume": D("0.1333"),
        "time_of_day": D("0.1"),
    }
    assert score(terms) == D("0.933")
    assert status_for(score(terms)) == "completed"
    # Logged as intervals in the wrong slot: 0 + 0.3 + 0.1333 + 0 -> partial.
    intervals = LoggedActivity(_id(102), "cardio_interval", 30, dt.time(6, 15))
    wrong = session_terms(PlannedSession(_id(3), "cardio", 45, "evening"), intervals)
    assert score(wrong) == D("0.433")
    assert status_for(score(wrong)) == "partial"


def test_active_recovery_accepts_steady_cardio_and_flexibility() -> None:
    plan = PlannedSession(_id(4), "active_recovery", 20, None)
    for category, expected in [("cardio_steady", "0.4"), ("flexibility", "0.4"), ("sports", "0")]:
        walk = LoggedActivity(_id(103), category, 20, EVENING)
        assert session_terms(plan, walk)["category"] == D(expected)


def test_strength_plan_with_a_timed_activity_compares_durations() -> None:
    # Sets without reps (timed): no rep work, so the ratio is duration 60 vs 90.
    timed = (LoggedSet(SQUAT, None), LoggedSet(BENCH, None))
    terms = session_terms(_strength_plan(), _activity(timed, duration_minutes=90))
    assert breakdown(terms)["volume"] == D("0.1333")
    assert score(terms) == D("0.933")


def test_meal_hitting_targets_exactly_scores_1() -> None:
    terms = meal_terms(LUNCH, LoggedMeal(_id(200), "lunch", TARGETS))
    assert score(terms) == D("1.000")
    assert status_for(score(terms)) == "completed"


def test_wrong_type_and_80_percent_of_everything_is_056_partial() -> None:
    # 0 + (0.25 + 0.20 + 0.15 + 0.10) x 0.8 = 0.56
    terms = meal_terms(LUNCH, LoggedMeal(_id(200), "dinner", _n("400", "32", "40", "16")))
    assert score(terms) == D("0.560")
    assert status_for(score(terms)) == "partial"


def test_meal_scores_exactly_at_06_and_03_and_below() -> None:
    # type 0.3 + kcal 0.25 + protein 0.2 x (1 - 30/40) = 0.6; carbs 100 of 50 and fat 0 give 0.
    at_06 = meal_terms(LUNCH, LoggedMeal(_id(200), "lunch", _n("500", "10", "100", "0")))
    assert score(at_06) == D("0.600")
    assert status_for(score(at_06)) == "similar"
    at_03 = meal_terms(LUNCH, LoggedMeal(_id(200), "snack", _n("500", "10", "100", "0")))
    assert score(at_03) == D("0.300")
    assert status_for(score(at_03)) == "partial"
    below = meal_terms(LUNCH, LoggedMeal(_id(200), "snack", _n("500", "0", "100", "0")))
    assert score(below) == D("0.250")
    assert status_for(score(below)) is None


def test_a_meal_without_items_matches_nothing() -> None:
    empty = LoggedMeal(_id(200), "lunch", _n("0", "0", "0", "0"), has_items=False)
    assert score(meal_terms(LUNCH, empty)) == D("0.300")  # it would be partial on its type
    assert match_day([], [], [LUNCH], [empty], day_passed=True) == {LUNCH.id: Verdict("skipped")}


def test_accuracy_of_zero_targets_and_overshoot() -> None:
    assert accuracy(D(0), D(0)) == 1
    assert accuracy(D("0.1"), D(0)) == 0
    assert accuracy(D(60), D(40)) == D("0.5")
    assert accuracy(D(200), D(40)) == 0


def test_status_bands() -> None:
    assert [status_for(D(v)) for v in ("1", "0.8", "0.799", "0.6", "0.599", "0.3", "0.299")] == [
        "completed",
        "completed",
        "similar",
        "similar",
        "partial",
        "partial",
        None,
    ]


def test_greedy_takes_best_pairs_first_and_breaks_ties_by_ids() -> None:
    a, b, x, y = _id(1), _id(2), _id(10), _id(11)
    # a-x is best; b would like x too but takes y. Below 0.3 never pairs.
    pairs = [(a, x, D("0.9")), (b, x, D("0.8")), (b, y, D("0.5")), (a, y, D("0.2"))]
    assert greedy(pairs) == {a: (x, D("0.9")), b: (y, D("0.5"))}
    # Equal scores: the smaller item id first, then the smaller log id.
    ties = [(b, y, D("0.7")), (b, x, D("0.7")), (a, y, D("0.7")), (a, x, D("0.7"))]
    assert greedy(ties) == {
        a: (x, D("0.7")),
        b: (y, D("0.7")),
    }
    assert greedy([(a, x, D("0.29"))]) == {}


def test_match_day_past_and_today_and_manual() -> None:
    plan = PlannedSession(_id(3), "cardio", 45, None)
    other = PlannedSession(_id(4), "mobility", 30, None)
    run = LoggedActivity(_id(101), "cardio_steady", 30, dt.time(6, 15))
    today = match_day([plan, other], [run], [LUNCH], [], day_passed=False)
    assert today[plan.id] == Verdict("completed", D("0.933"), session_terms(plan, run), run.id)
    assert today[other.id] is None
    assert today[LUNCH.id] is None
    past = match_day([plan, other], [run], [LUNCH], [], day_passed=True)
    assert past[other.id] == Verdict("skipped")
    assert past[LUNCH.id] == Verdict("skipped")
    # A manual verdict is kept and takes no log, so the run is free for the mobility session
    # (flexibility category fails: 0 + 0.3 + 0.2 x 30/30 + 0.1 = 0.6).
    manual = match_day([plan, other], [run], [], [], day_passed=True, manual={plan.id: "partial"})
    assert manual[plan.id] == Verdict("partial", manual=True)
    assert manual[other.id] == Verdict("similar", D("0.600"), session_terms(other, run), run.id)


def test_rollups_daily_weekly_and_percentages() -> None:
    mon, sun, next_mon = dt.date(2026, 11, 23), dt.date(2026, 11, 29), dt.date(2026, 11, 30)
    items: list[tuple[dt.date, str, str | None]] = [
        (mon, "session", "completed"),
        (mon, "session", "similar"),
        (mon, "session", "partial"),
        (mon, "meal", None),
        (sun, "session", "skipped"),
        (sun, "session", "planned"),
        (next_mon, "meal", "completed"),
    ]
    daily, weekly = rollups(items)
    assert daily[mon, "session"] == Counts(3, 1, 1, 1, 0)
    # (1 + 0.75 + 0.4) / 3 = 71.666... -> 71.7
    assert daily[mon, "session"].adherence_pct == D("71.7")
    assert daily[mon, "meal"] == Counts(1)
    assert daily[mon, "meal"].adherence_pct is None
    assert daily[mon, "meal"].pending == 1
    assert daily[sun, "session"].adherence_pct == D("0.0")
    assert weekly == {
        (mon, "session"): Counts(5, 1, 1, 1, 1),
        (mon, "meal"): Counts(1),
        (next_mon, "meal"): Counts(1, 1),
    }
    # (1 + 0.75 + 0.4) / 4 = 53.75 -> 53.8 (half away from zero)
    assert weekly[mon, "session"].adherence_pct == D("53.8")
    assert weekly[mon, "session"].pending == 1


@pytest.mark.parametrize(
    ("counts", "expected"),
    [(Counts(3, 0, 2, 0, 1), "50.0"), (Counts(3, 0, 0, 1, 2), "13.3"), (Counts(2, 2), "100.0")],
)
def test_adherence_pct(counts: Counts, expected: str) -> None:
    assert counts.adherence_pct == D(expected)
