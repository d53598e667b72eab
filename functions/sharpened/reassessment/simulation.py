"""Closed-loop simulation of the calorie controller (issue 8, item 5).

Synthetic users get a program from the generator's energy model (DOMAIN §1-§2), but their true
expenditure differs from the generator's estimate by ``expenditure_error`` (up to ±20 %). They
then live through 12 periods of 14 days; after each period :func:`reassess` sees only what the
backend would see (weigh-ins, logged intake, adherence) and the next period is eaten at the
new target.

Defaults per user: scale noise 0.4 kg (SD, independent days), a weigh-in on 70 % of days (a
second one on 10 % of those), intake logged on 80 % of days, eaten kcal = target ± 150 (SD),
session adherence 0.90, meal adherence 0.85 (above the 70 % gate).

The body model, per day:

- true expenditure ``E = (1 + error) · TDEE_est · BMR(M) / BMR(M0)`` (the generator's equation
  at the current true mass ``M``: expenditure falls as weight is lost);
- eaten ``= kcal target + N(0, intake_noise_sd_kcal)``; ``M += (eaten - E) / 7700``;
- each day a weigh-in with probability ``weigh_in_probability`` (a second one that day with
  ``double_weigh_in_probability``), scale reading ``M + N(0, weight_noise_sd_kg)``;
- intake logged (exactly what was eaten) with probability ``intake_log_probability``.

Before the program the user ate at maintenance (stable weight); the program's starting weight
(the profile weight, a single noisy reading) seeds the trend. Everything is drawn from a
``random.Random(seed)`` per user: the same population gives the same trajectories.

``python -m sharpened.reassessment.simulation`` prints every user's trajectory, who is within
0.1 kg/week of the target at period 4, and the noise floor: how many of the same users would be
within it if they ate exactly what their true expenditure calls for (``simulate(oracle=True)``).
``--replicas N`` repeats both over N more seeds per user.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import random
from dataclasses import dataclass

from sharpened.programs.bundle import Goal
from sharpened.programs.energy import (
    ActivityLevel,
    GoalInput,
    Person,
    Sex,
    compute_macros,
    compute_tdee,
    katch_mcardle,
    mifflin_st_jeor,
)
from sharpened.reassessment.controllers import (
    KCAL_CLAMP,
    PERIOD_DAYS,
    ControllerState,
    DayIntake,
    MacroGrams,
    PeriodInputs,
    WeighIn,
    deficit_bound,
    reassess,
    target_rate_kg_per_week,
)

PERIODS = 12
START = dt.date(2026, 1, 5)


@dataclass(frozen=True, slots=True)
class SimUser:
    name: str
    sex: Sex
    age: int
    weight_kg: float
    height_cm: float
    activity_level: ActivityLevel
    goal: Goal
    expenditure_error: float
    seed: int
    weigh_in_probability: float = 0.7
    double_weigh_in_probability: float = 0.1
    intake_log_probability: float = 0.8
    weight_noise_sd_kg: float = 0.4
    intake_noise_sd_kcal: float = 150.0
    session_adherence: float = 0.9
    meal_adherence: float = 0.85

    @property
    def person(self) -> Person:
        return Person(
            age=self.age,
            sex=self.sex,
            weight_kg=self.weight_kg,
            height_cm=self.height_cm,
            activity_level=self.activity_level,
        )


@dataclass(frozen=True, slots=True)
class PeriodRecord:
    """One period of one user: what happened and what the controller did after it."""

    period: int
    kcal: int
    true_expenditure_kcal: float
    true_rate_kg_per_week: float
    observed_rate_kg_per_week: float | None
    target_rate_kg_per_week: float
    confidence: float
    expenditure_estimate_kcal: float | None
    change_kcal: int
    new_kcal: int
    lower_bound_kcal: int
    limits: tuple[str, ...]
    weigh_in_days: int
    intake_days: int


@dataclass(frozen=True, slots=True)
class Trajectory:
    user: SimUser
    tdee_estimate_kcal: float
    true_tdee_kcal: float
    start_kcal: int
    sex_floor_kcal: int
    target_rate_kg_per_week: float
    #: the rate the safety bounds allow at best (floor / 25 % deficit cap on true expenditure)
    best_safe_rate_kg_per_week: float
    periods: tuple[PeriodRecord, ...]


def _bmr(person: Person, mass_kg: float) -> float:
    p = dataclasses.replace(person, weight_kg=mass_kg)
    if p.body_fat_pct is not None:
        return katch_mcardle(mass_kg, p.body_fat_pct)
    return mifflin_st_jeor(p)


def simulate(user: SimUser, periods: int = PERIODS, *, oracle: bool = False) -> Trajectory:
    """Run one user through ``periods`` reassessments; deterministic for a given user.

    With ``oracle``, the controller still measures every period but its change is ignored:
    each period the user eats what their true expenditure and the target rate call for (within
    the safety bounds), as if expenditure were known exactly. What such a user's observed rate
    still misses by is measurement noise, which no controller can remove.
    """
    rng = random.Random(user.seed)  # noqa: S311 - a seeded simulation, not cryptography
    person = user.person
    tdee = compute_tdee(person)
    macros = compute_macros(person, tdee, GoalInput(goal=user.goal))
    target = target_rate_kg_per_week(macros.calories)
    kcal = macros.kcal
    grams = MacroGrams(macros.protein_g, macros.carbs_g, macros.fat_g, macros.fiber_g)
    bmr0 = _bmr(person, person.weight_kg)
    mass = person.weight_kg
    true_tdee = (1 + user.expenditure_error) * tdee.tdee_kcal
    floor, _ = deficit_bound(user.sex, None)
    best_bound, _ = deficit_bound(user.sex, true_tdee)
    best_kcal = max(best_bound, true_tdee + target * 7700 / 7)
    best_rate = (best_kcal - true_tdee) * 7 / 7700
    profile_weight = round(mass + rng.gauss(0, user.weight_noise_sd_kg), 1)
    state = ControllerState()
    records: list[PeriodRecord] = []
    day = START
    for k in range(1, periods + 1):
        period_start = day
        if oracle:
            expenditure_now = true_tdee * _bmr(person, mass) / bmr0
            kcal = round(max(best_bound, expenditure_now + target * 7700 / 7))
        weigh_ins: list[WeighIn] = []
        intake: list[DayIntake] = []
        mass_start = mass
        expenditure_sum = 0.0
        for _ in range(PERIOD_DAYS):
            expenditure = true_tdee * _bmr(person, mass) / bmr0
            eaten = max(0.0, kcal + rng.gauss(0, user.intake_noise_sd_kcal))
            expenditure_sum += expenditure
            mass += (eaten - expenditure) / 7700
            if rng.random() < user.intake_log_probability:
                intake.append(DayIntake(day, round(eaten)))
            if rng.random() < user.weigh_in_probability:
                weigh_ins.append(
                    WeighIn(day, round(mass + rng.gauss(0, user.weight_noise_sd_kg), 1))
                )
                if rng.random() < user.double_weigh_in_probability:
                    reading = mass + rng.gauss(0, user.weight_noise_sd_kg)
                    weigh_ins.append(WeighIn(day, round(reading, 1)))
            day += dt.timedelta(days=1)
        inputs = PeriodInputs(
            period_start=period_start,
            period_end=day - dt.timedelta(days=1),
            goal=user.goal,
            sex=user.sex,
            target_rate_kg_per_week=target,
            kcal=kcal,
            macros=grams,
            tdee_kcal=tdee.tdee_kcal,
            weigh_ins=tuple(weigh_ins),
            intake=tuple(intake),
            session_adherence=user.session_adherence,
            meal_adherence=user.meal_adherence,
            start_weight_kg=profile_weight,
        )
        result = reassess(inputs, state)
        terms = result.calorie_terms
        change = 0 if oracle else int(terms["change_kcal"])
        new_kcal = kcal + change
        for item in result.changes:
            if item.kind == "macros":
                grams = MacroGrams(**item.new)
        m = result.measurements
        records.append(
            PeriodRecord(
                period=k,
                kcal=kcal,
                true_expenditure_kcal=round(expenditure_sum / PERIOD_DAYS, 1),
                true_rate_kg_per_week=round((mass - mass_start) / PERIOD_DAYS * 7, 4),
                observed_rate_kg_per_week=m.observed_rate_kg_per_week,
                target_rate_kg_per_week=target,
                confidence=m.confidence,
                expenditure_estimate_kcal=m.expenditure_kcal,
                change_kcal=change,
                new_kcal=new_kcal,
                lower_bound_kcal=int(terms["lower_bound_kcal"]),
                limits=tuple(terms["limits"]),
                weigh_in_days=m.weigh_in_days,
                intake_days=m.intake_days,
            )
        )
        kcal = new_kcal
        state = result.state
    return Trajectory(
        user=user,
        tdee_estimate_kcal=tdee.tdee_kcal,
        true_tdee_kcal=round(true_tdee, 2),
        start_kcal=macros.kcal,
        sex_floor_kcal=floor,
        target_rate_kg_per_week=target,
        best_safe_rate_kg_per_week=round(best_rate, 4),
        periods=tuple(records),
    )


ERRORS: tuple[float, ...] = (-0.20, -0.10, 0.0, 0.10, 0.20)
GOALS: tuple[Goal, ...] = ("fat_loss", "muscle_gain", "maintenance")
#: DOMAIN §1's two reference people: sex, age, kg, cm, activity level.
PEOPLE: tuple[tuple[Sex, int, float, float, ActivityLevel], ...] = (
    ("male", 30, 80.0, 180.0, "moderate"),
    ("female", 25, 60.0, 165.0, "light"),
)


def default_population() -> list[SimUser]:
    """Both DOMAIN reference people x fat loss / muscle gain / maintenance x -20..+20 %."""
    users: list[SimUser] = []
    seed = 1000
    for goal in GOALS:
        for error in ERRORS:
            for sex, age, kg, cm, level in PEOPLE:
                seed += 1
                users.append(
                    SimUser(
                        name=f"{goal}/{sex}/{error:+.0%}",
                        sex=sex,
                        age=age,
                        weight_kg=kg,
                        height_cm=cm,
                        activity_level=level,
                        goal=goal,
                        expenditure_error=error,
                        seed=seed,
                    )
                )
    return users


def format_trajectory(t: Trajectory) -> str:
    u = t.user
    head = (
        f"{u.name}: TDEE estimate {t.tdee_estimate_kcal:.0f}, true {t.true_tdee_kcal:.0f} "
        f"({u.expenditure_error:+.0%}); start {t.start_kcal} kcal; target "
        f"{t.target_rate_kg_per_week:+.3f} kg/wk (best safe {t.best_safe_rate_kg_per_week:+.3f}); "
        f"floor {t.sex_floor_kcal}; clamp ±{KCAL_CLAMP}"
    )
    lines = [
        head,
        "  per  kcal  true_E  true_rate  observed  error   c     est_E   change  limits",
    ]
    for r in t.periods:
        obs = (
            "   -   "
            if r.observed_rate_kg_per_week is None
            else f"{r.observed_rate_kg_per_week:+.3f}"
        )
        err = (
            "  -   "
            if r.observed_rate_kg_per_week is None
            else f"{r.observed_rate_kg_per_week - r.target_rate_kg_per_week:+.3f}"
        )
        est = (
            "   -  "
            if r.expenditure_estimate_kcal is None
            else f"{r.expenditure_estimate_kcal:6.0f}"
        )
        lines.append(
            f"  {r.period:>3}  {r.kcal:>4}  {r.true_expenditure_kcal:6.0f}  "
            f"{r.true_rate_kg_per_week:+.3f}     {obs}    {err}  {r.confidence:.2f}  {est}  "
            f"{r.change_kcal:+5d}   {','.join(r.limits)}"
        )
    return "\n".join(lines)


CONVERGED_BY = 4
TOLERANCE_KG_PER_WEEK = 0.1


def period_deviation(t: Trajectory, period: int) -> float | None:
    """Observed minus target rate (kg/week) of a period (1-based)."""
    observed = t.periods[period - 1].observed_rate_kg_per_week
    return None if observed is None else observed - t.target_rate_kg_per_week


def within_tolerance(t: Trajectory) -> bool:
    """The issue's convergence criterion: observed rate within 0.1 kg/week at period 4."""
    dev = period_deviation(t, CONVERGED_BY)
    return dev is not None and abs(dev) <= TOLERANCE_KG_PER_WEEK


def format_summary(trajectories: list[Trajectory], oracles: list[Trajectory]) -> str:
    """Who is within 0.1 kg/week of the target at period 4, the floor/clamp, the noise floor."""
    lines = [
        f"Observed rate within {TOLERANCE_KG_PER_WEEK} kg/week of the target at period "
        f"{CONVERGED_BY}:"
    ]
    ok = 0
    for t in trajectories:
        dev = period_deviation(t, CONVERGED_BY)
        hit = within_tolerance(t)
        ok += hit
        p = t.periods[CONVERGED_BY - 1]
        lines.append(
            f"  {'ok  ' if hit else 'MISS'} {t.user.name:<26} deviation "
            f"{'-' if dev is None else f'{dev:+.3f}'}  true rate {p.true_rate_kg_per_week:+.3f}"
            f"  target {t.target_rate_kg_per_week:+.3f}  best safe "
            f"{t.best_safe_rate_kg_per_week:+.3f}"
        )
    lines.append(f"  {ok}/{len(trajectories)} within")
    changes = [p.change_kcal for t in trajectories for p in t.periods]
    lowest = min(p.new_kcal - t.sex_floor_kcal for t in trajectories for p in t.periods)
    lines.append(
        f"Largest change {max(map(abs, changes))} kcal (clamp {KCAL_CLAMP}); "
        f"closest to the sex floor: {lowest} kcal above it"
    )
    floor_hits = sum(map(within_tolerance, oracles))
    lines.append(
        f"Noise floor: the same users eating exactly what their true expenditure calls for "
        f"(no controller): {floor_hits}/{len(oracles)} within at period {CONVERGED_BY}"
    )
    return "\n".join(lines)


def replicas(users: list[SimUser], count: int) -> list[SimUser]:
    """``count`` copies of each user with other seeds (same people, other noise)."""
    return [
        dataclasses.replace(u, name=f"{u.name}#{r}", seed=u.seed * 1000 + r)
        for u in users
        for r in range(1, count + 1)
    ]


def format_replica_rates(users: list[SimUser]) -> str:
    """Share within tolerance at period 4, controller against oracle, over many seeds."""
    controlled = sum(within_tolerance(simulate(u)) for u in users)
    known = sum(within_tolerance(simulate(u, oracle=True)) for u in users)
    n = len(users)
    return (
        f"Over {n} seeded replicas: controller {controlled / n:.0%} within, "
        f"oracle (measurement noise only) {known / n:.0%} within"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument(
        "--replicas",
        type=int,
        default=0,
        metavar="N",
        help="also run N more seeds per user and print the share within tolerance",
    )
    args = parser.parse_args(argv)
    population = default_population()
    trajectories = [simulate(user) for user in population]
    for t in trajectories:
        print(format_trajectory(t))
        print()
    print(format_summary(trajectories, [simulate(u, oracle=True) for u in population]))
    if args.replicas > 0:
        print(format_replica_rates(replicas(population, args.replicas)))


if __name__ == "__main__":
    main()
