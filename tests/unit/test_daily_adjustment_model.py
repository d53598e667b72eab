"""The daily adjustment reference model (tests/daily_adjustment_model.py) against hand-worked
DOMAIN §7 values."""

from __future__ import annotations

import itertools
from decimal import Decimal
from fractions import Fraction

import pytest

from daily_adjustment_model import (
    DEFAULTS,
    TRIGGERS,
    Adherence,
    Context,
    Day,
    Exercise,
    Proposal,
    Reason,
    adjust_exercise,
    adjust_meal,
    analyse,
    cap_kcal,
    floor_kcal,
    mode,
    severities,
    sleep_severity,
)

D = Decimal
NO_SESSION = Day(has_session=False)
NO_MEALS = Day(planned_kcal=None)


def _only(proposal: Proposal | None) -> Proposal:
    assert proposal is not None
    return proposal


# ------------------------------------------------------------- each trigger alone


@pytest.mark.parametrize(
    ("hours", "quality", "severity", "volume"),
    [
        (D("4.5"), None, "3", "0.94"),
        (None, 4, "5", "0.9"),
        (D(2), None, "8", "0.84"),
        (D(0), None, "10", "0.8"),
        (D("5.5"), None, "1", "0.98"),
        (D(5), 3, "5", "0.9"),  # both: the greater (2 vs 5)
        (D(3), 4, "6", "0.88"),  # both: the greater (6 vs 5)
        (D("5.9"), None, "0.2", "0.996"),
    ],
)
def test_poor_sleep_alone(
    hours: Decimal | None, quality: int | None, severity: str, volume: str
) -> None:
    p = _only(analyse(Context(sleep_hours=hours, sleep_quality=quality)))
    assert p.reasons == (Reason("poor_sleep", D(severity), "auto_apply", None),)
    assert p.modifications == {"volume_multiplier": D(volume), "intensity_multiplier": D("0.9")}
    assert p.approval == "auto_apply"
    assert p.confidence == D(severity) / 10


@pytest.mark.parametrize(("hours", "quality"), [(D(6), 5), (D(8), 10), (None, None), (D(6), None)])
def test_enough_sleep_is_no_trigger(hours: Decimal | None, quality: int | None) -> None:
    assert sleep_severity(hours, quality) is None
    assert analyse(Context(sleep_hours=hours, sleep_quality=quality)) is None


def test_high_stress_alone() -> None:
    p = _only(analyse(Context(stress_level=8)))
    assert p.reasons == (Reason("high_stress", D(8), "auto_apply", "ask"),)
    assert p.modifications == {
        "volume_multiplier": D("0.85"),
        "kcal_delta": 150,
        "carbs_delta_g": 38,
    }
    assert (p.approval, p.confidence) == ("ask", D("0.8"))
    assert analyse(Context(stress_level=7)) is None


def test_high_soreness_alone() -> None:
    p = _only(analyse(Context(soreness_level=9)))
    assert p.reasons == (Reason("high_soreness", D(9), "auto_apply", None),)
    assert p.modifications == {"volume_multiplier": D("0.75"), "rir_delta": 1}
    assert (p.approval, p.confidence) == ("auto_apply", D("0.9"))
    assert analyse(Context(soreness_level=7)) is None


def test_injury_alone() -> None:
    p = _only(analyse(Context(injury_notes="left knee")))
    assert p.reasons == (Reason("injury", D(9), "ask", None),)
    assert p.modifications == {"replace_session": "mobility"}
    assert (p.approval, p.confidence) == ("ask", D("0.9"))


def test_missed_workout_alone() -> None:
    p = _only(analyse(Context(energy_level=5), missed_yesterday=True))
    assert p.reasons == (Reason("missed_workout", D(6), None, "auto_apply"),)
    assert p.modifications == {"kcal_delta": -240, "carbs_delta_g": -60}
    assert (p.approval, p.confidence) == ("auto_apply", D("0.6"))


def test_low_adherence_alone() -> None:
    low = Adherence(completed=1, skipped=2)  # 33.3 %
    p = _only(analyse(Context(), adherence=low))
    assert p.reasons == (Reason("low_adherence", D(6), "ask", None),)
    assert p.modifications == {"set_delta": -1}
    assert (p.approval, p.confidence) == ("ask", D("0.6"))


def test_high_adherence_alone() -> None:
    high = Adherence(completed=20)
    p = _only(analyse(Context(), adherence=high))
    assert p.reasons == (Reason("high_adherence", D(3), None, "auto_apply"),)
    assert p.modifications == {"kcal_delta": 200, "carbs_delta_g": 50}
    assert (p.approval, p.confidence) == ("auto_apply", D("0.3"))


@pytest.mark.parametrize(
    ("counts", "pct", "trigger"),
    [
        (Adherence(completed=1, skipped=1), Fraction(50), None),  # exactly 50: not below
        (Adherence(completed=19, skipped=1), Fraction(95), None),  # exactly 95: not above
        (Adherence(completed=2, partial=1, skipped=2), Fraction(48), "low_adherence"),
        (Adherence(completed=24, similar=1), Fraction(99), "high_adherence"),
        (Adherence(similar=4), Fraction(75), None),
        (Adherence(partial=10), Fraction(40), "low_adherence"),
        (Adherence(), None, None),  # nothing decided: undefined
    ],
)
def test_adherence_thresholds(counts: Adherence, pct: Fraction | None, trigger: str | None) -> None:
    assert counts.pct == pct
    found = severities(Context(), adherence=counts)
    assert list(found) == ([trigger] if trigger else [])


# ------------------------------------------------------------------ combinations


def test_sleep_soreness_stress_multiply_volume() -> None:
    # 5.5 h: severity 1 -> 0.98; 0.98 x 0.85 x 0.75 = 0.62475 -> 0.625 (half away from zero).
    p = _only(analyse(Context(sleep_hours=D("5.5"), stress_level=9, soreness_level=8)))
    assert p.reason_codes == ["poor_sleep", "high_stress", "high_soreness"]
    assert p.modifications == {
        "volume_multiplier": D("0.625"),
        "intensity_multiplier": D("0.9"),
        "rir_delta": 1,
        "kcal_delta": 150,
        "carbs_delta_g": 38,
    }
    assert (p.approval, p.confidence) == ("ask", D("0.9"))
    # 5 h: severity 2 -> 0.96; 0.96 x 0.85 x 0.75 = 0.612.
    p5 = _only(analyse(Context(sleep_hours=D(5), stress_level=9, soreness_level=8)))
    assert p5.modifications["volume_multiplier"] == D("0.612")


def test_volume_never_reaches_the_lower_cap() -> None:
    # The smallest product of the defined factors: 0.8 x 0.85 x 0.75 = 0.51 > 0.5.
    worst = _only(analyse(Context(sleep_hours=D(0), stress_level=10, soreness_level=10)))
    assert worst.modifications["volume_multiplier"] == D("0.51")
    for hours, stress, soreness in itertools.product(
        [D(h) / 2 for h in range(13)], range(1, 11), range(1, 11)
    ):
        p = analyse(Context(sleep_hours=hours, stress_level=stress, soreness_level=soreness))
        if p is not None and "volume_multiplier" in p.modifications:
            assert D("0.51") <= D(p.modifications["volume_multiplier"]) <= 1


@pytest.mark.parametrize(
    ("stress", "missed", "counts", "kcal", "carbs"),
    [
        (8, False, Adherence(completed=10), 350, 88),  # +150 +200; 87.5 -> 88
        (8, True, Adherence(completed=1, similar=1), -90, -23),  # -240 +150; -22.5 -> -23
        (None, True, Adherence(completed=10), -40, -10),  # -240 +200
        (8, True, Adherence(completed=10), 110, 28),  # +150 -240 +200; 27.5 -> 28
    ],
)
def test_kcal_parts_add(
    stress: int | None, missed: bool, counts: Adherence, kcal: int, carbs: int
) -> None:
    p = _only(analyse(Context(stress_level=stress), missed_yesterday=missed, adherence=counts))
    assert (p.modifications["kcal_delta"], p.modifications["carbs_delta_g"]) == (kcal, carbs)


@pytest.mark.parametrize(
    ("total", "day", "capped"),
    [
        (Fraction(-240), Day(planned_kcal=D(2000)), -240),
        (Fraction(-240), Day(planned_kcal=D(1300), floor_kcal=1200), -100),  # floor
        (Fraction(-240), Day(planned_kcal=D(1655)), -150),  # -155 truncated toward zero
        (Fraction(-240), Day(planned_kcal=D(1150), floor_kcal=1200), 0),  # below: never turned
        (Fraction(-240), Day(planned_kcal=D(1500)), 0),
        (Fraction(350), Day(planned_kcal=D(2400), tdee_kcal=D(2000)), 100),  # TDEE + 500
        (Fraction(350), Day(planned_kcal=D(2345), tdee_kcal=D(2000)), 150),  # 155 -> 150
        (Fraction(350), Day(planned_kcal=D(2600), tdee_kcal=D(2000)), 0),  # above: never turned
        (Fraction(350), Day(planned_kcal=D(2000), tdee_kcal=None), 350),  # no TDEE: no bound
        (Fraction(800), Day(planned_kcal=D(2000), tdee_kcal=D(3000)), 500),  # +-500
        (Fraction(-800), Day(planned_kcal=D(3000)), -500),
        (Fraction(-155), Day(planned_kcal=D(3000)), -150),
        (Fraction(155), Day(planned_kcal=D(2000)), 150),
    ],
)
def test_kcal_caps(total: Fraction, day: Day, capped: int) -> None:
    assert cap_kcal(total, day) == capped


def test_a_capped_kcal_change_of_zero_keeps_its_key() -> None:
    day = Day(planned_kcal=D(1100), floor_kcal=1200)
    p = _only(analyse(Context(), missed_yesterday=True, day=day))
    assert p.modifications == {"kcal_delta": 0, "carbs_delta_g": 0}


def test_floor_of_each_sex() -> None:
    assert (floor_kcal("male"), floor_kcal("female"), floor_kcal(None)) == (1500, 1200, 1500)


# ------------------------------------------------------------------- preferences


def test_defaults_of_domain_7() -> None:
    assert set(DEFAULTS) == set(TRIGGERS)
    assert mode({}, "high_stress", "nutrition") == "ask"
    assert mode({}, "missed_workout", "training") == "disable"
    assert mode({("high_stress", "nutrition"): "auto_apply"}, "high_stress", "nutrition") == (
        "auto_apply"
    )


def test_disabling_the_only_part_drops_the_reason() -> None:
    prefs = {("poor_sleep", "training"): "disable"}
    assert analyse(Context(sleep_hours=D(4)), preferences=prefs) is None
    both = _only(analyse(Context(sleep_hours=D(4), soreness_level=9), preferences=prefs))
    assert both.reason_codes == ["high_soreness"]
    assert both.modifications == {"volume_multiplier": D("0.75"), "rir_delta": 1}
    assert both.confidence == D("0.9")


def test_disabling_one_part_keeps_the_other() -> None:
    no_kcal = _only(
        analyse(Context(stress_level=8), preferences={("high_stress", "nutrition"): "disable"})
    )
    assert no_kcal.reasons == (Reason("high_stress", D(8), "auto_apply", None),)
    assert no_kcal.modifications == {"volume_multiplier": D("0.85")}
    assert no_kcal.approval == "auto_apply"
    no_volume = _only(
        analyse(Context(stress_level=8), preferences={("high_stress", "training"): "disable"})
    )
    assert no_volume.reasons == (Reason("high_stress", D(8), None, "ask"),)
    assert no_volume.modifications == {"kcal_delta": 150, "carbs_delta_g": 38}


def test_ask_versus_auto_apply_and_ask_wins() -> None:
    auto = _only(
        analyse(Context(stress_level=8), preferences={("high_stress", "nutrition"): "auto_apply"})
    )
    assert auto.approval == "auto_apply"
    asked = _only(
        analyse(Context(sleep_hours=D(4)), preferences={("poor_sleep", "training"): "ask"})
    )
    assert asked.approval == "ask"
    mixed = _only(analyse(Context(sleep_hours=D(4), soreness_level=9, injury_notes="wrist")))
    assert [(r.trigger, r.training) for r in mixed.reasons] == [
        ("poor_sleep", "auto_apply"),
        ("high_soreness", "auto_apply"),
        ("injury", "ask"),
    ]
    assert mixed.approval == "ask"


def test_a_mode_for_a_domain_without_effect_changes_nothing() -> None:
    # Missed workout has no training part and poor sleep no nutrition part, whatever the mode.
    prefs = {("missed_workout", "training"): "ask", ("poor_sleep", "nutrition"): "ask"}
    p = _only(analyse(Context(sleep_hours=D(4)), missed_yesterday=True, preferences=prefs))
    assert p.reasons == (
        Reason("poor_sleep", D(4), "auto_apply", None),
        Reason("missed_workout", D(6), None, "auto_apply"),
    )
    assert p.approval == "auto_apply"


def test_parts_need_something_to_adjust() -> None:
    assert analyse(Context(sleep_hours=D(4)), day=NO_SESSION) is None
    stress = _only(analyse(Context(stress_level=9), day=NO_SESSION))
    assert stress.reasons == (Reason("high_stress", D(9), None, "ask"),)
    assert stress.modifications == {"kcal_delta": 150, "carbs_delta_g": 38}
    assert analyse(Context(), missed_yesterday=True, day=NO_MEALS) is None
    no_meal = _only(analyse(Context(stress_level=9), day=NO_MEALS))
    assert no_meal.reasons == (Reason("high_stress", D(9), "auto_apply", None),)
    assert no_meal.modifications == {"volume_multiplier": D("0.85")}


# -------------------------------------------------------------- the adjusted plan


@pytest.mark.parametrize(
    ("exercise", "mods", "adjusted"),
    [
        (Exercise(4, 2, D(80)), None, (4, 2, D(80))),
        (Exercise(4, 2, D(80)), {"volume_multiplier": D("0.94")}, (4, 2, D(80))),  # 3.76 -> 4
        (Exercise(3, 2, None), {"volume_multiplier": D("0.625")}, (2, 2, None)),  # 1.875 -> 2
        (Exercise(2, 2, None), {"volume_multiplier": D("0.75")}, (2, 2, None)),  # 1.5 -> 2
        (Exercise(1, None, None), {"set_delta": -1}, (1, None, None)),  # never below 1
        (Exercise(4, 4, None), {"rir_delta": 1}, (4, 5, None)),
        (Exercise(4, 5, None), {"rir_delta": 1}, (4, 5, None)),  # at most 5
        (Exercise(4, None, D("77.5")), {"intensity_multiplier": D("0.9")}, (4, None, D("69.8"))),
        (Exercise(5, 1, D(80)), {"replace_session": "mobility"}, (0, 1, D(80))),
    ],
)
def test_adjust_exercise(
    exercise: Exercise,
    mods: dict[str, Decimal | int | str] | None,
    adjusted: tuple[int, int | None, Decimal | None],
) -> None:
    assert adjust_exercise(exercise, mods) == adjusted


def test_adjust_meal_shares_the_change_by_kcal() -> None:
    targets = {"kcal": D(600), "protein_g": D(40), "carbs_g": D(60), "fat_g": D(20)}
    # 600 of 2000 kcal: 150 x 0.3 = 45 kcal, 11.25 g carbs.
    assert adjust_meal(targets, D(2000), 150) == {
        "kcal": D("645.0"),
        "protein_g": D(40),
        "carbs_g": D("71.3"),
        "fat_g": D(20),
    }
    # 600 of 1800 kcal, -240: -80 kcal, -20 g carbs.
    assert adjust_meal(targets, D(1800), -240)["kcal"] == D("520.0")
    assert adjust_meal(targets, D(1800), -240)["carbs_g"] == D("40.0")
