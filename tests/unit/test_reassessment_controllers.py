"""DOMAIN §8 reassessment controllers: every number pinned (trend, rate, confidence, expenditure,
calorie PID with its clamps/deadband/gate/floors/anti-windup, macros, volume controller, deload).

The earlier implementation had the sign reversed for fat loss and a gain five times too weak;
the reference and sign tests below pin the corrected behaviour.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sharpened.programs.energy import (
    GoalInput,
    Person,
    compute_calorie_target,
    compute_tdee,
)
from sharpened.programs.training import LANDMARKS, mesocycle_weeks
from sharpened.reassessment import controllers as rc
from sharpened.reassessment.controllers import (
    CalorieGains,
    CalorieInputs,
    ChangeItem,
    ControllerState,
    DayIntake,
    MacroGrams,
    MuscleInput,
    PeriodInputs,
    TrendPoint,
    WeighIn,
    calorie_controller,
    data_confidence,
    deficit_bound,
    expenditure_estimate,
    macros_after,
    muscle_step,
    observed_rate,
    performance_score,
    reassess,
    round_half_away,
    rp_table,
    soreness_score,
    target_rate_kg_per_week,
    tdee_reference,
    trend_after,
    trend_series,
    volume_multiplier,
)

D0 = dt.date(2026, 11, 2)  # a Monday: period day 1
MALE = Person(age=30, sex="male", weight_kg=80, height_cm=180, activity_level="moderate")


def day(n: int) -> dt.date:
    """Period day n (1-based)."""
    return D0 + dt.timedelta(days=n - 1)


def cal(
    observed: float | None,
    target: float = -0.56,
    *,
    c: float = 1.0,
    kcal: int = 2140,
    sex: Any = "male",
    tdee: float | None = None,
    session: float | None = 0.9,
    meal: float | None = 0.9,
) -> CalorieInputs:
    return CalorieInputs(
        goal="fat_loss" if target < 0 else "muscle_gain",
        sex=sex,
        target_rate_kg_per_week=target,
        observed_rate_kg_per_week=observed,
        confidence=c,
        kcal=kcal,
        tdee_reference_kcal=tdee,
        tdee_source="program_tdee" if tdee is not None else "none",
        session_adherence=session,
        meal_adherence=meal,
    )


# --- constants (DOMAIN §8 numbers) ---------------------------------------------------------


def test_domain_constants_are_pinned() -> None:
    g = CalorieGains()
    assert (g.kp, g.ki, g.kd) == (550.0, 110.0, 0.0)
    # Kp is half of the energy-balance equivalent of 1 kg/week (7700 / 7 = 1100 kcal/day)
    assert g.kp == pytest.approx(7700 / 7 / 2)
    v = rc.VolumeGains()
    assert (v.kp, v.ki, v.kd) == (0.5, 0.1, 0.0)
    assert rc.TREND_ALPHA == 0.1
    assert rc.KCAL_CLAMP == 250
    assert rc.KCAL_DEADBAND == 50
    assert rc.INTEGRAL_LIMIT == 2.0
    assert rc.ADHERENCE_GATE == 0.70
    assert rc.ADHERENCE_SETPOINT == 0.85
    assert rc.MULTIPLIER_RANGE == (0.7, 1.1)
    assert rc.MAX_SET_STEP == 2
    assert rc.PERIOD_DAYS == 14
    assert (rc.CONFIDENCE_WEIGH_IN_DAYS, rc.CONFIDENCE_INTAKE_DAYS) == (6, 10)
    assert rc.EXPENDITURE_MIN_INTAKE_DAYS == 10


# --- trend weight ------------------------------------------------------------------------


def test_trend_daily_ewma_alpha_0_1() -> None:
    start = TrendPoint(day(0), 80.0)
    pts = trend_series([WeighIn(day(1), 79.0), WeighIn(day(2), 79.0)], start)
    assert [p.trend_kg for p in pts] == pytest.approx([80.0, 79.9, 79.81])
    assert [p.day for p in pts] == [day(0), day(1), day(2)]


def test_trend_gap_of_g_days_decays_as_0_9_power_g() -> None:
    start = TrendPoint(day(0), 80.0)
    end = trend_after([WeighIn(day(3), 79.0)], start)
    assert end is not None
    assert end.day == day(3)
    assert end.trend_kg == pytest.approx(79.0 + 1.0 * 0.9**3)  # 79.729
    # equivalent to weighing 79.0 on each of the three days
    daily = trend_after([WeighIn(day(n), 79.0) for n in (1, 2, 3)], start)
    assert daily is not None
    assert daily.trend_kg == pytest.approx(end.trend_kg)


def test_trend_several_weigh_ins_a_day_are_averaged() -> None:
    start = TrendPoint(day(0), 80.0)
    end = trend_after([WeighIn(day(1), 79.0), WeighIn(day(1), 79.4)], start)
    assert end is not None
    assert end.trend_kg == pytest.approx(80.0 + 0.1 * (79.2 - 80.0))  # 79.92


def test_trend_without_start_begins_at_the_first_day_and_ignores_old_weigh_ins() -> None:
    pts = trend_series([WeighIn(day(2), 81.0), WeighIn(day(1), 80.0), WeighIn(day(1), 80.4)], None)
    assert pts[0] == TrendPoint(day(1), pytest.approx(80.2))  # type: ignore[arg-type]
    assert pts[1].trend_kg == pytest.approx(81.0 + (80.2 - 81.0) * 0.9)
    # weigh-ins on or before the carried point are already in it
    carried = TrendPoint(day(2), 70.0)
    assert trend_series([WeighIn(day(1), 90.0), WeighIn(day(2), 90.0)], carried) == [carried]
    assert trend_after([], None) is None


def test_observed_rate_is_trend_change_over_days_times_7() -> None:
    assert observed_rate(TrendPoint(day(0), 80.0), TrendPoint(day(14), 79.0)) == pytest.approx(-0.5)
    assert observed_rate(TrendPoint(day(0), 80.0), TrendPoint(day(7), 80.3)) == pytest.approx(0.3)
    assert observed_rate(TrendPoint(day(3), 80.0), TrendPoint(day(3), 79.0)) is None


# --- confidence and expenditure --------------------------------------------------------------


@pytest.mark.parametrize(
    ("weigh_ins", "intake", "expected"),
    [
        (6, 10, 1.0),
        (12, 14, 1.0),
        (3, 10, 0.5),
        (6, 5, 0.5),
        (3, 5, 0.25),
        (0, 14, 0.0),
        (6, 0, 0.0),
        (1, 9, 1 / 6 * 0.9),
    ],
)
def test_data_confidence(weigh_ins: int, intake: int, expected: float) -> None:
    assert data_confidence(weigh_ins, intake) == pytest.approx(expected)


def test_expenditure_estimate_energy_balance() -> None:
    # mean intake 2000, trend -1 kg over 14 days: 2000 + 7700 / 14 = 2550
    assert expenditure_estimate([2000.0] * 10, -1.0, 14) == pytest.approx(2550.0)
    assert expenditure_estimate([1900.0, 2100.0] * 6, 0.5, 14) == pytest.approx(2000 - 275)
    # only when intake was logged on >= 10 days
    assert expenditure_estimate([2000.0] * 9, -1.0, 14) is None


# --- calorie PID: reference, signs, gains ----------------------------------------------------


def test_reference_value_fat_loss_minus_240() -> None:
    """DOMAIN §8: target -0.56, observed -0.20, c = 1, first period (I = e) -> -240 kcal/day."""
    out = calorie_controller(cal(-0.20), integral=0.0, previous_error=None)
    t = out.terms
    assert t["error"] == pytest.approx(-0.36)
    assert out.integral == pytest.approx(-0.36)
    assert t["p_term"] == pytest.approx(550 * -0.36)
    assert t["i_term"] == pytest.approx(110 * -0.36)
    assert t["raw_kcal"] == pytest.approx(-237.6)
    assert t["rounded_kcal"] == -240
    assert out.change_kcal == -240
    assert out.new_kcal == 2140 - 240
    assert out.reason_code == "weight_trend_above_target"
    assert out.previous_error == pytest.approx(-0.36)
    assert t["limits"] == []


def test_fat_loss_too_slow_lowers_kcal_and_too_fast_raises() -> None:
    slow = calorie_controller(cal(-0.20), 0.0, None)
    fast = calorie_controller(cal(-0.90), 0.0, None)
    assert slow.change_kcal < 0  # the earlier implementation raised kcal here
    assert fast.change_kcal > 0
    # -0.56 - (-0.90) = +0.34 -> 660 * 0.34 = 224.4 -> +220
    assert fast.change_kcal == 220
    assert fast.reason_code == "weight_trend_below_target"


def test_muscle_gain_too_slow_raises_kcal_and_too_fast_lowers() -> None:
    slow = calorie_controller(cal(0.05, target=0.28, kcal=3070), 0.0, None)
    # e = 0.23 -> 550*0.23 + 110*0.23 = 151.8 -> +150
    assert slow.terms["raw_kcal"] == pytest.approx(151.8)
    assert slow.change_kcal == 150
    fast = calorie_controller(cal(0.50, target=0.28, kcal=3070), 0.0, None)
    # e = -0.22 -> -145.2 -> -150
    assert fast.change_kcal == -150


def test_gain_is_not_five_times_too_weak() -> None:
    # 0.1 kg/week of error is worth 66 kcal/day in the first period (550 + 110), not ~13
    out = calorie_controller(cal(-0.46), 0.0, None)
    assert out.terms["raw_kcal"] == pytest.approx(-66.0)
    assert out.change_kcal == -70


def test_integral_and_derivative_terms_use_the_state() -> None:
    gains = CalorieGains(kp=550, ki=110, kd=100)
    out = calorie_controller(cal(-0.36), integral=-0.5, previous_error=-0.4, gains=gains)
    # e = -0.2, I = -0.7, D = -0.2 - (-0.4) = 0.2
    assert out.terms["error"] == pytest.approx(-0.2)
    assert out.integral == pytest.approx(-0.7)
    assert out.terms["derivative"] == pytest.approx(0.2)
    assert out.terms["raw_kcal"] == pytest.approx(550 * -0.2 + 110 * -0.7 + 100 * 0.2)  # -167
    assert out.change_kcal == -170
    # Kd = 0 by default: the derivative is reported but contributes nothing
    default = calorie_controller(cal(-0.36), integral=-0.5, previous_error=-0.4)
    assert default.terms["d_term"] == 0
    assert default.terms["raw_kcal"] == pytest.approx(550 * -0.2 + 110 * -0.7)


def test_confidence_scales_the_output() -> None:
    out = calorie_controller(cal(-0.20, c=0.5), 0.0, None)
    assert out.terms["raw_kcal"] == pytest.approx(-118.8)
    assert out.change_kcal == -120
    none = calorie_controller(cal(-0.20, c=0.0), 0.0, None)
    assert none.change_kcal == 0
    assert none.integral == pytest.approx(-0.36)  # the state still learns the error


# --- clamps, rounding, deadband, anti-windup -------------------------------------------------


def test_output_clamped_to_plus_minus_250() -> None:
    down = calorie_controller(cal(0.5), 0.0, None)  # e = -1.06 -> -699.6
    assert down.terms["raw_kcal"] == pytest.approx(-699.6)
    assert down.terms["clamped_kcal"] == -250
    assert down.change_kcal == -250
    up = calorie_controller(cal(-1.6), 0.0, None)  # e = +1.04
    assert up.change_kcal == 250


def test_deadband_below_50_is_no_change() -> None:
    # e = -0.065 -> -42.9 -> -40 -> no change
    small = calorie_controller(cal(-0.495), 0.0, None)
    assert small.terms["rounded_kcal"] == -40
    assert small.change_kcal == 0
    assert small.reason_code is None
    assert small.terms["limits"] == ["deadband"]
    # e = -0.07 -> -46.2 -> -50: applied
    edge = calorie_controller(cal(-0.49), 0.0, None)
    assert edge.change_kcal == -50


def test_rounding_to_10() -> None:
    assert calorie_controller(cal(-0.30), 0.0, None).terms["raw_kcal"] == pytest.approx(-171.6)
    assert calorie_controller(cal(-0.30), 0.0, None).change_kcal == -170
    assert calorie_controller(cal(-0.29), 0.0, None).change_kcal == -180  # -178.2


def test_anti_windup_integral_clamped_to_2() -> None:
    state_i, prev = 0.0, None
    integrals = []
    for _ in range(4):
        out = calorie_controller(cal(0.44), state_i, prev)  # e = -1.0 every period
        state_i, prev = out.integral, out.previous_error
        integrals.append(out.integral)
        assert out.change_kcal == -250
    assert integrals == pytest.approx([-1.0, -2.0, -2.0, -2.0])
    # once the error turns, the clamped integral unwinds in one period (no hidden windup)
    up = calorie_controller(cal(-1.56), state_i, prev)  # e = +1.0
    assert up.integral == pytest.approx(-1.0)
    assert up.terms["raw_kcal"] == pytest.approx(550 - 110)
    assert up.change_kcal == 250
    assert calorie_controller(cal(-3.0), 1.9, None).integral == pytest.approx(2.0)


# --- guards: direction, adherence, floors ----------------------------------------------------


def test_direction_guard_never_raises_kcal_while_losing_slower_than_target() -> None:
    # a large positive integral (lost too fast earlier) and a small negative error now:
    # 550*(-0.05) + 110*1.95 = +187 -> would raise kcal while losing slower than planned
    out = calorie_controller(cal(-0.51), integral=2.0, previous_error=0.3)
    assert out.terms["rounded_kcal"] == 190
    assert out.change_kcal == 0
    assert out.terms["limits"] == ["direction_guard"]
    assert out.integral == pytest.approx(1.95)
    # and never lowers kcal for a muscle-gain user who gains slower than planned
    gain = calorie_controller(cal(0.23, target=0.28, kcal=3000), integral=-2.0, previous_error=0)
    assert gain.terms["rounded_kcal"] < 0
    assert gain.change_kcal == 0


@pytest.mark.parametrize(
    ("session", "meal", "gated"),
    [
        (0.9, 0.9, False),
        (0.70, 0.70, False),
        (0.69, 0.9, True),
        (0.9, 0.69, True),
        (0.5, 0.5, True),
        (None, 0.9, True),
        (0.9, None, True),
    ],
)
def test_adherence_gate_blocks_a_larger_deficit(
    session: float | None, meal: float | None, gated: bool
) -> None:
    out = calorie_controller(cal(-0.20, session=session, meal=meal), 0.0, None)
    assert out.change_kcal == (0 if gated else -240)
    assert ("adherence_gate" in out.terms["limits"]) is gated
    # a decrease of the deficit (kcal up) is never gated
    up = calorie_controller(cal(-0.90, session=session, meal=meal), 0.0, None)
    assert up.change_kcal == 220


def test_sex_floors_1500_male_1200_female() -> None:
    assert deficit_bound("male", None) == (1500, "sex_floor")
    assert deficit_bound("female", None) == (1200, "sex_floor")
    male = calorie_controller(cal(-0.20, kcal=1600), 0.0, None)
    assert male.change_kcal == -100
    assert male.new_kcal == 1500
    assert "sex_floor" in male.terms["limits"]
    female = calorie_controller(cal(-0.20, kcal=1300, sex="female"), 0.0, None)
    assert female.new_kcal == 1200
    # a decrease that the floor cuts below 50 kcal is no change at all
    near = calorie_controller(cal(-0.20, kcal=1540), 0.0, None)
    assert near.change_kcal == 0
    assert near.terms["limits"] == ["sex_floor", "deadband"]


def test_below_the_sex_floor_is_raised_to_it() -> None:
    out = calorie_controller(cal(-0.20, kcal=1480), 0.0, None)
    assert out.new_kcal == 1500
    assert out.change_kcal == 20
    assert out.reason_code == "floor_applied"
    no_rate = calorie_controller(cal(None, kcal=1150, sex="female"), 0.3, -0.1)
    assert no_rate.new_kcal == 1200
    assert no_rate.reason_code == "floor_applied"
    assert (no_rate.integral, no_rate.previous_error) == (0.3, -0.1)


def test_deficit_never_above_25_percent_of_the_tdee_reference() -> None:
    # TDEE 2759 -> 75 % = 2069.25 -> bound 2070
    assert deficit_bound("male", 2759.0) == (2070, "deficit_cap_25pct_tdee")
    out = calorie_controller(cal(-0.20, kcal=2140, tdee=2759.0), 0.0, None)
    assert out.new_kcal == 2070
    assert out.change_kcal == -70
    assert out.terms["limits"] == ["deficit_cap_25pct_tdee"]
    assert out.terms["lower_bound_kcal"] == 2070
    # already below the bound: no decrease, but no forced increase either
    below = calorie_controller(cal(-0.20, kcal=2000, tdee=2759.0), 0.0, None)
    assert below.change_kcal == 0
    # the cap never limits an increase
    assert calorie_controller(cal(-0.90, kcal=2000, tdee=2759.0), 0.0, None).change_kcal == 220
    # the sex floor wins when it is higher than 75 % of TDEE
    assert deficit_bound("female", 1500.0) == (1200, "sex_floor")


def test_tdee_reference_starts_at_program_tdee_and_moves_half_way() -> None:
    assert tdee_reference(None, 2759.0, None) == (2759.0, "program_tdee")
    assert tdee_reference(None, 2759.0, 2459.0) == (2609.0, "blended_expenditure_estimate")
    assert tdee_reference(2609.0, 2759.0, 2409.0) == (2509.0, "blended_expenditure_estimate")
    assert tdee_reference(2509.0, 2759.0, None) == (2509.0, "carried")
    assert tdee_reference(None, None, 2400.0) == (2400.0, "expenditure_estimate")
    assert tdee_reference(None, None, None) == (None, "none")


@settings(max_examples=200, deadline=None)
@given(
    target=st.floats(-1.0, 0.6),
    observed=st.floats(-2.0, 2.0),
    c=st.floats(0.0, 1.0),
    integral=st.floats(-2.0, 2.0),
    prev=st.one_of(st.none(), st.floats(-2.0, 2.0)),
    kcal=st.integers(100, 400).map(lambda k: k * 10),
    sex=st.sampled_from(["male", "female"]),
    tdee=st.one_of(st.none(), st.floats(1200.0, 4500.0)),
    session=st.one_of(st.none(), st.floats(0.0, 1.0)),
    meal=st.one_of(st.none(), st.floats(0.0, 1.0)),
)
def test_calorie_controller_properties(
    target: float,
    observed: float,
    c: float,
    integral: float,
    prev: float | None,
    kcal: int,
    sex: Any,
    tdee: float | None,
    session: float | None,
    meal: float | None,
) -> None:
    inp = replace(
        cal(observed, target, c=c, kcal=kcal, tdee=tdee, session=session, meal=meal), sex=sex
    )
    out = calorie_controller(inp, integral, prev)
    floor = 1500 if sex == "male" else 1200
    step = out.change_kcal
    assert out.new_kcal == kcal + step
    assert out.new_kcal >= floor
    assert abs(out.integral) <= 2.0
    if kcal >= floor:
        assert abs(step) <= 250
        assert step % 10 == 0
        assert step == 0 or abs(step) >= 50
        e = target - observed
        assert not (e < 0 < step)
        assert not (step < 0 < e)
        if step < 0:
            assert session is not None
            assert session >= 0.7
            assert meal is not None
            assert meal >= 0.7
            bound, _ = deficit_bound(sex, tdee)
            assert out.new_kcal >= bound
    json.dumps(out.terms)


# --- macros ------------------------------------------------------------------------------


def test_macros_keep_protein_and_fat_carbs_take_the_change() -> None:
    m = MacroGrams(protein_g=160, carbs_g=220, fat_g=71, fiber_g=30)
    assert macros_after(m, -240) == MacroGrams(160, 160, 71, 30)
    assert macros_after(m, 150) == MacroGrams(160, 258, 71, 30)  # 220 + 37.5 -> 258 (halves up)
    assert macros_after(m, 0) == m


def test_macros_carbs_never_below_zero_fat_takes_the_rest() -> None:
    m = MacroGrams(protein_g=160, carbs_g=20, fat_g=60, fiber_g=20)
    # carbs can give 80 kcal of the 240: fat gives 160 kcal = 17.8 g -> 60 - 17.8 = 42.2 -> 42
    assert macros_after(m, -240) == MacroGrams(160, 0, 42, 20)


# --- volume: multiplier --------------------------------------------------------------------


def test_volume_multiplier_pid_on_adherence_minus_0_85() -> None:
    at = volume_multiplier(0.85, 0.0, None)
    assert at.multiplier == pytest.approx(1.0)
    high = volume_multiplier(1.0, 0.0, None)  # e = .15, I = .15: 1 + .075 + .015
    assert high.multiplier == pytest.approx(1.09)
    assert high.integral == pytest.approx(0.15)
    assert high.previous_error == pytest.approx(0.15)
    low = volume_multiplier(0.6, 0.0, None)  # e = -.25: 1 - .125 - .025
    assert low.multiplier == pytest.approx(0.85)
    with_state = volume_multiplier(0.75, -0.3, -0.3)  # e = -.1, I = -.4: 1 - .05 - .04
    assert with_state.multiplier == pytest.approx(0.91)
    assert with_state.integral == pytest.approx(-0.4)


def test_volume_multiplier_clamped_0_7_to_1_1_and_integral_to_2() -> None:
    floor = volume_multiplier(0.2, 0.0, None)  # 1 - .325 - .065 = .61
    assert floor.terms["unclamped_multiplier"] == pytest.approx(0.61)
    assert floor.multiplier == 0.7
    ceiling = volume_multiplier(1.0, 2.0, 0.15)  # I stays 2: 1 + .075 + .2
    assert ceiling.integral == 2.0
    assert ceiling.multiplier == 1.1
    unknown = volume_multiplier(None, 0.7, 0.1)
    assert (unknown.multiplier, unknown.integral, unknown.previous_error) == (1.0, 0.7, 0.1)


# --- volume: soreness, performance, RP table -----------------------------------------------


@pytest.mark.parametrize(
    ("avg", "score"),
    [(1, 0), (2.9, 0), (3, 1), (4.9, 1), (5, 2), (7, 2), (7.01, 3), (10, 3), (None, None)],
)
def test_soreness_mapping_from_the_1_10_context_log(avg: float | None, score: int | None) -> None:
    assert soreness_score(avg) == score


@pytest.mark.parametrize(
    ("trend", "score"),
    [(5.0, 0), (2.5, 0), (2.49, 1), (0.0, 1), (-0.01, 2), (-2.5, 2), (-2.51, 3), (None, None)],
)
def test_performance_from_e1rm_trend(trend: float | None, score: int | None) -> None:
    assert performance_score(trend) == score


def test_rp_table() -> None:
    r = "recovery"
    expected = [[2, 1, 0, r], [1, 0, 0, r], [0, 0, 0, r], [0, 0, 0, r]]
    assert [[rp_table(s, p) for p in range(4)] for s in range(4)] == expected


def test_round_half_away_from_zero() -> None:
    assert [round_half_away(x) for x in (0.5, -0.5, 1.49, -1.5, 2.5, 0.0)] == [1, -1, 1, -2, 3, 0]


# --- volume: per muscle ----------------------------------------------------------------------


def test_muscle_step_from_table_with_neutral_multiplier() -> None:
    up = muscle_step(MuscleInput("chest", 12, e1rm_trend_pct=3.0), 1.0, 1.0)  # soreness 0, perf 0
    assert (up.old_sets, up.new_sets, up.reason_code) == (12, 14, "recovered_and_progressing")
    hold = muscle_step(MuscleInput("chest", 12, e1rm_trend_pct=1.0, soreness_avg=4), 1.0, None)
    assert hold.new_sets == 12  # soreness 1 x perf 1 -> 0
    assert hold.reason_code is None
    rec = muscle_step(MuscleInput("chest", 14, e1rm_trend_pct=-3.0), 1.0, 1.0)
    assert (rec.new_sets, rec.recovery, rec.reason_code) == (12, True, "recovery_needed")


def test_muscle_soreness_falls_back_to_the_period_average_then_row_2() -> None:
    own = muscle_step(MuscleInput("back", 12, e1rm_trend_pct=3.0, soreness_avg=9), 1.0, 1.0)
    assert own.terms["soreness"] == 3
    assert own.new_sets == 12
    period = muscle_step(MuscleInput("back", 12, e1rm_trend_pct=3.0), 1.0, 4.0)
    assert period.terms["soreness"] == 1
    assert period.new_sets == 13
    unknown = muscle_step(MuscleInput("back", 12, e1rm_trend_pct=3.0), 1.0, None)
    assert unknown.terms["soreness_row_used"] == 2
    assert unknown.new_sets == 12
    no_perf = muscle_step(MuscleInput("back", 12), 1.0, 1.0)
    assert (no_perf.new_sets, no_perf.recovery, no_perf.terms["table"]) == (12, False, None)


def test_muscle_multiplier_adds_sets_and_step_is_at_most_2() -> None:
    # 12 sets x (1.09 - 1) = 1.08 -> +1 from adherence alone
    assert muscle_step(MuscleInput("chest", 12), 1.09, None).new_sets == 13
    # 12 x (0.85 - 1) = -1.8 -> -2
    low = muscle_step(MuscleInput("chest", 12), 0.85, None)
    assert (low.new_sets, low.reason_code) == (10, "low_session_adherence")
    # 20 x 0.1 = 2 sets + table +2 = 4 -> capped at +2, then MRV 22
    big = muscle_step(MuscleInput("chest", 20, e1rm_trend_pct=3.0), 1.1, 1.0)
    assert big.terms["raw_sets"] == pytest.approx(4.0)
    assert big.terms["step"] == 2
    assert big.new_sets == 22
    assert "max_step" in big.terms["limits"]


def test_muscle_bounded_mev_to_mrv() -> None:
    chest = LANDMARKS["chest"]
    assert (chest.mev, chest.mrv) == (10, 22)
    at_mrv = muscle_step(MuscleInput("chest", 21, e1rm_trend_pct=3.0), 1.0, 1.0)
    assert at_mrv.new_sets == 22
    assert at_mrv.terms["limits"] == ["mrv"]
    at_mev = muscle_step(MuscleInput("chest", 10, e1rm_trend_pct=-5.0), 1.0, 1.0)
    assert at_mev.new_sets == 10
    assert at_mev.recovery
    assert at_mev.reason_code is None
    # outside the landmarks: brought back at most 2 sets per period
    above = muscle_step(MuscleInput("chest", 30), 1.0, 1.0)
    assert (above.new_sets, above.reason_code) == (28, "outside_landmarks")
    below = muscle_step(MuscleInput("chest", 4, e1rm_trend_pct=-5.0), 1.0, 1.0)
    assert (below.new_sets, below.reason_code) == (6, "outside_landmarks")
    # recovery outweighed by the multiplier (25 x (1.1 - 1) - 2 = +0.5): the sets stay
    held = muscle_step(MuscleInput("shoulders", 25, e1rm_trend_pct=-3.0), 1.1, None)
    assert held.recovery
    assert (held.new_sets, held.reason_code) == (25, None)
    assert held.terms["raw_sets"] == 0.5
    assert (held.terms["step"], held.terms["limits"]) == (0, ["recovery"])


@settings(max_examples=200, deadline=None)
@given(
    muscle=st.sampled_from(sorted(LANDMARKS)),
    sets=st.integers(0, 40),
    trend=st.one_of(st.none(), st.floats(-20, 20)),
    soreness=st.one_of(st.none(), st.floats(1, 10)),
    multiplier=st.floats(0.7, 1.1),
)
def test_muscle_step_properties(
    muscle: Any, sets: int, trend: float | None, soreness: float | None, multiplier: float
) -> None:
    out = muscle_step(MuscleInput(muscle, sets, trend, soreness), multiplier, None)
    lm = LANDMARKS[muscle]
    assert abs(out.new_sets - sets) <= 2
    if lm.mev <= sets <= lm.mrv:
        assert lm.mev <= out.new_sets <= lm.mrv
    if out.recovery:
        assert out.new_sets <= max(sets, lm.mev)


# --- whole reassessment ------------------------------------------------------------------


def period_inputs(**overrides: Any) -> PeriodInputs:
    base: dict[str, Any] = {
        "period_start": day(1),
        "period_end": day(14),
        "goal": "fat_loss",
        "sex": "male",
        "target_rate_kg_per_week": -0.56,
        "kcal": 2140,
        "macros": MacroGrams(protein_g=160, carbs_g=220, fat_g=71, fiber_g=30),
        "tdee_kcal": None,
        "weigh_ins": tuple(WeighIn(day(n), 80.0 - 0.02 * n) for n in range(1, 15, 2)),
        "intake": tuple(DayIntake(day(n), 2100.0) for n in range(1, 13)),
        "session_adherence": 0.9,
        "meal_adherence": 0.85,
        "soreness_avg": 2.0,
        "muscles": (
            MuscleInput("chest", 12, e1rm_trend_pct=3.0),
            MuscleInput("back", 14, e1rm_trend_pct=1.0),
            MuscleInput("quads", 10, e1rm_trend_pct=-4.0),
        ),
        "mesocycle_weeks": mesocycle_weeks("intermediate"),
        "start_weight_kg": 80.0,
    }
    base.update(overrides)
    return PeriodInputs(**base)


def test_reassess_measures_the_period_and_feeds_the_calorie_pid() -> None:
    inp = period_inputs()
    r = reassess(inp)
    m = r.measurements
    # seed 80.0 dated the day before the period; weigh-ins on days 1, 3, ..., 13
    series = trend_series(inp.weigh_ins, TrendPoint(day(0), 80.0))
    assert m.trend_start_day == day(0)
    assert m.trend_end_day == day(13)
    assert m.trend_end_kg == pytest.approx(series[-1].trend_kg)
    rate = (series[-1].trend_kg - 80.0) / 13 * 7
    assert m.observed_rate_kg_per_week == pytest.approx(rate)
    assert (m.weigh_in_days, m.intake_days, m.confidence) == (7, 12, 1.0)
    assert m.mean_intake_kcal == pytest.approx(2100.0)
    assert m.expenditure_kcal == pytest.approx(2100 - (series[-1].trend_kg - 80.0) * 7700 / 13)
    expected = calorie_controller(
        cal(rate, session=0.9, meal=0.85, tdee=None), integral=0.0, previous_error=None
    )
    # the first period's estimate (seeded trend) is not used for the cap; no program TDEE
    assert r.calorie_terms["tdee_source"] == "none"
    kinds = [c.kind for c in r.changes]
    assert kinds[:2] == ["calories", "macros"]
    calories = r.changes[0]
    assert calories.old == {"kcal": 2140}
    assert calories.new == {"kcal": expected.new_kcal}
    assert calories.terms["change_kcal"] == expected.change_kcal < 0
    macros = r.changes[1]
    assert macros.old == {"protein_g": 160, "carbs_g": 220, "fat_g": 71, "fiber_g": 30}
    new_carbs = round(220 + expected.change_kcal / 4)
    assert macros.new == {
        "protein_g": 160,
        "carbs_g": new_carbs,
        "fat_g": 71,
        "fiber_g": round(14 * expected.new_kcal / 1000),
    }
    assert r.state.calorie_integral == pytest.approx(expected.integral)
    assert r.state.calorie_previous_error == pytest.approx(expected.previous_error)
    assert r.state.trend_day == day(13)
    assert r.state.periods == 1
    # a second weigh-in on a day counts once (and is averaged into that day)
    doubled = reassess(replace(inp, weigh_ins=(*inp.weigh_ins, WeighIn(day(13), 79.0))))
    assert doubled.measurements.weigh_in_days == 7
    assert doubled.measurements.trend_end_kg != m.trend_end_kg


def test_reassess_volume_items_and_reasons() -> None:
    r = reassess(period_inputs())
    volume = {c.muscle: c for c in r.changes if c.kind == "volume"}
    # adherence 0.9: e = .05, m = 1 + .025 + .005 = 1.03; soreness 2.0 -> 0
    assert r.volume_terms["multiplier"]["multiplier"] == pytest.approx(1.03)
    # chest 12: 0.36 + 2 = 2.36 -> +2 ; back 14: 0.42 + 1 -> +1 ; quads 10 recovery at MEV 8 -> 8
    assert volume["chest"].old == {"muscle": "chest", "sets": 12}
    assert volume["chest"].new == {"muscle": "chest", "sets": 14}
    assert volume["chest"].reason_code == "recovered_and_progressing"
    assert volume["back"].new == {"muscle": "back", "sets": 15}
    assert volume["quads"].new == {"muscle": "quads", "sets": 8}
    assert volume["quads"].reason_code == "recovery_needed"
    assert r.state.volume_integral == pytest.approx(0.05)
    assert r.volume_terms["recoveries"] == 1
    assert not [c for c in r.changes if c.kind == "deload"]  # 1 of 3, and 2 + 2 < 5 weeks


def test_deload_when_more_than_half_of_the_muscles_need_recovery() -> None:
    muscles = (
        MuscleInput("chest", 12, e1rm_trend_pct=-3.0),
        MuscleInput("back", 14, e1rm_trend_pct=-3.0),
        MuscleInput("quads", 10, e1rm_trend_pct=1.0),
    )
    r = reassess(period_inputs(muscles=muscles))
    deload = [c for c in r.changes if c.kind == "deload"]
    assert len(deload) == 1
    assert deload[0].reason_code == "deload_recovery_needed"
    assert deload[0].new == {"deload": True, "starts_in_weeks": 0, "weeks": 1}
    assert deload[0].old == {"deload": False}
    assert deload[0].event()["entity_type"] == "program"
    # exactly half is not more than half
    half = (*muscles, MuscleInput("biceps", 10, e1rm_trend_pct=1.0))
    half_run = reassess(period_inputs(muscles=half))
    assert half_run.volume_terms["recoveries"] == 2
    assert half_run.volume_terms["muscles"] == 4
    assert not [c for c in half_run.changes if c.kind == "deload"]


@pytest.mark.parametrize(
    ("experience", "due_at_period", "starts_in"),
    [("beginner", 2, 1), ("intermediate", 2, 0), ("advanced", 1, 1)],
)
def test_deload_when_the_mesocycle_length_is_reached(
    experience: Any, due_at_period: int, starts_in: int
) -> None:
    n = mesocycle_weeks(experience)
    assert n == {"beginner": 6, "intermediate": 5, "advanced": 4}[experience]
    state = ControllerState()
    neutral = (MuscleInput("chest", 12, e1rm_trend_pct=1.0),)
    for k in range(1, due_at_period + 1):
        start = day(1) + dt.timedelta(days=14 * (k - 1))
        inp = period_inputs(
            period_start=start,
            period_end=start + dt.timedelta(days=13),
            weigh_ins=(),
            muscles=neutral,
            mesocycle_weeks=n,
        )
        r = reassess(inp, state)
        deloads = [c for c in r.changes if c.kind == "deload"]
        if k < due_at_period:
            assert deloads == []
        else:
            assert len(deloads) == 1
            assert deloads[0].reason_code == "deload_mesocycle_end"
            assert deloads[0].new["starts_in_weeks"] == starts_in
            # the deload is the mesocycle's last week: weeks done + offset + 1 == n
            assert r.state.weeks_since_deload + starts_in + 1 == n
        state = r.state
    # the next period counts from the deload week
    nxt = reassess(
        period_inputs(
            period_start=day(1) + dt.timedelta(days=14 * due_at_period),
            period_end=day(14) + dt.timedelta(days=14 * due_at_period),
            weigh_ins=(),
            muscles=neutral,
            mesocycle_weeks=n,
        ),
        state,
    )
    assert nxt.state.weeks_since_deload == 2 - starts_in - 1
    assert nxt.state.deload_starts_in_weeks is None
    assert [c for c in nxt.changes if c.kind == "deload"] == []


def test_seed_day_sets_the_first_gap_and_the_rate_days() -> None:
    inp = period_inputs(start_weight_day=day(-4))  # the seed is the trend of 5 days earlier
    r = reassess(inp)
    series = trend_series(inp.weigh_ins, TrendPoint(day(-4), 80.0))
    assert r.measurements.trend_start_day == day(-4)
    assert r.measurements.trend_days == 17
    assert r.measurements.trend_end_kg == pytest.approx(series[-1].trend_kg)
    assert series[1].trend_kg == pytest.approx(79.98 + (80.0 - 79.98) * 0.9**5)
    with pytest.raises(ValueError, match="start_weight_day"):
        period_inputs(start_weight_day=day(1))


def test_no_weigh_ins_means_no_calorie_change_and_state_kept() -> None:
    state = ControllerState(
        calorie_integral=-0.4,
        calorie_previous_error=-0.2,
        trend_day=day(0),
        trend_kg=80.0,
        tdee_reference_kcal=2600.0,
    )
    r = reassess(period_inputs(weigh_ins=()), state)
    assert [c for c in r.changes if c.kind in ("calories", "macros")] == []
    assert r.measurements.observed_rate_kg_per_week is None
    assert r.calorie_terms["skipped"] == "no_observed_rate"
    assert (r.state.calorie_integral, r.state.calorie_previous_error) == (-0.4, -0.2)
    assert (r.state.trend_day, r.state.trend_kg) == (day(0), 80.0)
    assert r.state.tdee_reference_kcal == 2600.0


def test_carried_state_uses_the_blended_expenditure_for_the_cap() -> None:
    state = ControllerState(trend_day=day(0), trend_kg=80.0, periods=1)
    r = reassess(period_inputs(tdee_kcal=2759.0), state)
    est = r.measurements.expenditure_kcal
    assert est is not None
    assert r.calorie_terms["tdee_source"] == "blended_expenditure_estimate"
    assert r.state.tdee_reference_kcal == pytest.approx((2759.0 + est) / 2)
    bound = math.ceil(0.75 * (2759.0 + est) / 2 / 10 - 1e-9) * 10
    assert r.calorie_terms["lower_bound_kcal"] == bound


def test_reassess_is_deterministic_and_json_ready() -> None:
    inp = period_inputs(tdee_kcal=2759.0)
    state = ControllerState(calorie_integral=-0.1, calorie_previous_error=-0.1)
    a = reassess(inp, state)
    b = reassess(inp, state)
    assert a.model_dump(mode="json") == b.model_dump(mode="json")
    text = json.dumps(a.model_dump(mode="json"), sort_keys=True)
    assert json.loads(text)["changes"][0]["kind"] == "calories"
    for change in a.changes:
        event = change.event()
        assert set(event) == {
            "entity_type",
            "change_type",
            "old_value",
            "new_value",
            "reason_code",
            "controller_terms",
        }
        assert event["entity_type"] == ("muscle_group" if change.kind == "volume" else "program")
        json.dumps(event)
    restored = ControllerState.model_validate(json.loads(a.state.model_dump_json()))
    assert restored == a.state


def test_change_item_reason_code_is_a_slug() -> None:
    with pytest.raises(ValueError, match="reason_code"):
        ChangeItem(kind="calories", old={}, new={}, reason_code="Not a slug", terms={})


def test_inputs_are_validated() -> None:
    with pytest.raises(ValueError, match="session_adherence"):
        period_inputs(session_adherence=1.5)
    with pytest.raises(ValueError, match="soreness_avg"):
        period_inputs(soreness_avg=0)
    with pytest.raises(ValueError, match="twice"):
        period_inputs(muscles=(MuscleInput("chest", 10), MuscleInput("chest", 12)))
    with pytest.raises(ValueError, match="period_start"):
        period_inputs(period_start=day(15))
    with pytest.raises(ValueError, match="weight_kg"):
        WeighIn(day(1), float("nan"))
    with pytest.raises(ValueError, match="unknown muscle"):
        MuscleInput("neck", 3)  # type: ignore[arg-type]


# --- target rate from the program's calorie target ------------------------------------------


def test_target_rate_from_the_generated_program() -> None:
    tdee = compute_tdee(MALE)
    loss = compute_calorie_target(MALE, tdee, GoalInput("fat_loss"))
    assert target_rate_kg_per_week(loss) == pytest.approx(-0.56)
    gain = compute_calorie_target(MALE, tdee, GoalInput("muscle_gain"))
    assert target_rate_kg_per_week(gain) == pytest.approx(0.28)
    assert (
        target_rate_kg_per_week(compute_calorie_target(MALE, tdee, GoalInput("maintenance"))) == 0
    )
    # a capped deficit: the plan's own rate (1 %/week asked, 25 % cap = 689.75 kcal)
    capped = compute_calorie_target(MALE, tdee, GoalInput("fat_loss", 1.0))
    assert "deficit_capped" in capped.adjustments
    assert target_rate_kg_per_week(capped) == pytest.approx(capped.planned_rate_kg_per_week, 1e-3)
    assert target_rate_kg_per_week(capped) > -0.8
