"""Closed-loop simulation (issue 8, item 5): the calorie controller against synthetic users.

A fixed, seeded population (DOMAIN §1's two reference people x fat loss / muscle gain /
maintenance x true expenditure -20 %, -10 %, 0, +10 %, +20 % of the generator's estimate),
noisy daily weights, missed weigh-ins and intake days, 12 periods of 14 days. Asserted:

- kcal never below the §2 floors (sex floor; a decrease never below 75 % of the controller's
  TDEE reference) and no change beyond the ±250 clamp;
- never the wrong way for fat loss: kcal is never raised while losing slower than the target.

Not asserted here: the issue's "observed rate within 0.1 kg/week of the target by period 4". It
cannot hold for every user under any controller: weigh-in noise alone moves a period's observed
rate by about 0.08 kg/week (SD). The simulation measures that noise floor with an oracle that eats
exactly what the true expenditure calls for: 27 of these 30 users are within at period 4, and
75 % over 600 seeded replicas (`python -m sharpened.reassessment.simulation --replicas 20`). The
DOMAIN §8 controller reaches 16/30 (53 % of the replicas): the trend's lag of about nine days, the
±250 clamp and the 50 kcal deadband slow it further. `make simulate` prints every trajectory and
these counts; the conflict is reported on the issue for a decision on DOMAIN or on the
requirement.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from sharpened.reassessment.simulation import (
    PERIODS,
    Trajectory,
    default_population,
    main,
    simulate,
    within_tolerance,
)

POPULATION = default_population()


@pytest.fixture(scope="module")
def trajectories() -> dict[str, Trajectory]:
    return {u.name: simulate(u) for u in POPULATION}


def test_population_is_the_specified_one(trajectories: dict[str, Trajectory]) -> None:
    goals = Counter(u.goal for u in POPULATION)
    assert goals == {"fat_loss": 10, "muscle_gain": 10, "maintenance": 10}
    assert sorted({u.expenditure_error for u in POPULATION}) == [-0.2, -0.1, 0.0, 0.1, 0.2]
    assert len({u.seed for u in POPULATION}) == len(POPULATION)
    for t in trajectories.values():
        assert len(t.periods) == PERIODS == 12
        assert t.true_tdee_kcal == pytest.approx(
            t.tdee_estimate_kcal * (1 + t.user.expenditure_error), abs=0.01
        )
    periods = [p for t in trajectories.values() for p in t.periods]
    # imperfect logging: weigh-ins and intake days are missed, but the data is usable
    assert min(p.weigh_in_days for p in periods) < 14
    assert min(p.intake_days for p in periods) < 10  # some periods have reduced confidence
    assert any(p.confidence < 1 for p in periods)
    assert all(p.observed_rate_kg_per_week is not None for p in periods)


def test_simulation_is_deterministic() -> None:
    user = POPULATION[0]
    assert simulate(user) == simulate(user)
    other = dataclasses.replace(user, seed=user.seed + 999)
    assert simulate(other) != simulate(user)


def test_never_below_the_floors_nor_beyond_the_clamp(
    trajectories: dict[str, Trajectory],
) -> None:
    for name, t in trajectories.items():
        kcal = t.start_kcal
        for p in t.periods:
            assert p.kcal == kcal, name
            assert abs(p.change_kcal) <= 250, (name, p.period)
            assert p.change_kcal % 10 == 0, (name, p.period)
            assert p.change_kcal == 0 or abs(p.change_kcal) >= 50, (name, p.period)
            assert p.new_kcal >= t.sex_floor_kcal, (name, p.period)
            if p.change_kcal < 0:
                assert p.new_kcal >= p.lower_bound_kcal, (name, p.period)
            kcal = p.new_kcal


def test_never_moves_the_wrong_way_for_fat_loss(trajectories: dict[str, Trajectory]) -> None:
    checked = 0
    for name, t in trajectories.items():
        if t.user.goal != "fat_loss":
            continue
        for p in t.periods:
            assert p.observed_rate_kg_per_week is not None
            if p.observed_rate_kg_per_week > p.target_rate_kg_per_week:  # losing slower
                checked += 1
                assert p.change_kcal <= 0, (name, p.period, p.observed_rate_kg_per_week)
    assert checked > 0  # the population does lose slower than planned at times


def test_the_oracle_eats_at_the_target_rate() -> None:
    """The noise-floor reference is right: with expenditure known, the true rate is the target."""
    deviations = []
    for user in POPULATION:
        t = simulate(user, oracle=True)
        assert all(p.change_kcal == 0 for p in t.periods), user.name
        if t.best_safe_rate_kg_per_week == pytest.approx(t.target_rate_kg_per_week, abs=1e-3):
            deviations += [
                abs(p.true_rate_kg_per_week - t.target_rate_kg_per_week) for p in t.periods
            ]
    assert len(deviations) >= 20 * PERIODS
    # only the intake noise remains: 150 kcal/day SD over 14 days is about 0.036 kg/week
    assert sum(deviations) / len(deviations) < 0.05
    # and the controller's users do worse on the same criterion, which is the controller's share
    controlled = sum(within_tolerance(simulate(u)) for u in POPULATION)
    known = sum(within_tolerance(simulate(u, oracle=True)) for u in POPULATION)
    assert controlled <= known


def test_main_prints_every_trajectory(capsys: pytest.CaptureFixture[str]) -> None:
    main([])
    out = capsys.readouterr().out
    for u in POPULATION:
        assert f"{u.name}:" in out
    assert out.count("\n") > len(POPULATION) * (PERIODS + 2)
    assert "within 0.1 kg/week of the target at period 4" in out
    assert "Noise floor:" in out


def test_replicas_print_both_shares(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--replicas", "1"])
    out = capsys.readouterr().out
    assert f"Over {len(POPULATION)} seeded replicas: controller " in out
    assert "oracle (measurement noise only)" in out
