"""The meal plan (DOMAIN §5): split, filters, solved portions, tolerance; pure, no DB."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sharpened.programs import meals as m
from sharpened.programs.bundle import Macros, PlannedMeal

START = dt.date(2026, 11, 30)


def food(name: str, group: m.FoodGroup, kcal: float, p: float, c: float, f: float) -> m.FoodRow:
    return m.FoodRow(
        id=uuid.uuid5(uuid.NAMESPACE_URL, name),
        name=name,
        food_group=group,
        kcal_per_100g=kcal,
        protein_g_per_100g=p,
        carbs_g_per_100g=c,
        fat_g_per_100g=f,
        servings=[m.Serving(description="1 cup", grams=100)],
    )


# A small hand-made catalogue (USDA SR28 values per 100 g), a few foods per group.
CATALOGUE: list[m.FoodRow] = [
    food(
        "Chicken, broilers or fryers, breast, meat only, cooked",
        "Poultry Products",
        165,
        31.0,
        0.0,
        3.6,
    ),
    food("Turkey, breast, meat only, roasted", "Poultry Products", 147, 30.1, 0.0, 2.1),
    food("Beef, ground, 95% lean meat, cooked", "Beef Products", 164, 25.6, 0.0, 6.0),
    food("Pork, fresh, loin, tenderloin, cooked", "Pork Products", 143, 26.2, 0.0, 3.5),
    food("Fish, cod, Atlantic, cooked", "Finfish and Shellfish Products", 105, 22.8, 0.0, 0.9),
    food(
        "Fish, salmon, Atlantic, wild, cooked",
        "Finfish and Shellfish Products",
        182,
        25.4,
        0.0,
        8.1,
    ),
    food("Crustaceans, shrimp, cooked", "Finfish and Shellfish Products", 99, 24.0, 0.2, 0.3),
    food("Egg, white, raw, fresh", "Dairy and Egg Products", 52, 10.9, 0.7, 0.2),
    food("Cheese, cottage, nonfat", "Dairy and Egg Products", 72, 10.3, 6.7, 0.3),
    food("Yogurt, Greek, plain, nonfat", "Dairy and Egg Products", 59, 10.2, 3.6, 0.4),
    food("Tofu, raw, firm", "Legumes and Legume Products", 144, 17.3, 2.8, 8.7),
    food("Seitan, wheat gluten", "Legumes and Legume Products", 370, 75.0, 14.0, 1.9),
    food("Lentils, mature seeds, cooked", "Legumes and Legume Products", 116, 9.0, 20.1, 0.4),
    food("Rice, white, long-grain, cooked", "Cereal Grains and Pasta", 130, 2.7, 28.2, 0.3),
    food("Oats, regular, dry", "Breakfast Cereals", 379, 13.2, 67.7, 6.5),
    food("Pasta, cooked, enriched", "Cereal Grains and Pasta", 158, 5.8, 30.9, 0.9),
    food(
        "Potatoes, boiled, cooked without skin",
        "Vegetables and Vegetable Products",
        86,
        1.7,
        20.0,
        0.1,
    ),
    food("Bananas, raw", "Fruits and Fruit Juices", 89, 1.1, 22.8, 0.3),
    food("Broccoli, raw", "Vegetables and Vegetable Products", 34, 2.8, 6.6, 0.4),
    food("Spinach, raw", "Vegetables and Vegetable Products", 23, 2.9, 3.6, 0.4),
    food("Oil, olive, salad or cooking", "Fats and Oils", 884, 0.0, 0.0, 100.0),
    food("Butter, salted", "Dairy and Egg Products", 717, 0.9, 0.1, 81.1),
    food("Avocados, raw, all commercial varieties", "Fruits and Fruit Juices", 160, 2.0, 8.5, 14.7),
    food("Nuts, almonds", "Nut and Seed Products", 579, 21.2, 21.6, 49.9),
    food("Peanuts, all types, raw", "Legumes and Legume Products", 567, 25.8, 16.1, 49.2),
    food("Seeds, sesame seeds, whole, dried", "Nut and Seed Products", 573, 17.7, 23.5, 49.7),
    food("Bacon, pork, cooked", "Pork Products", 541, 37.0, 1.4, 41.8),
]
BY_NAME = {f.name: f for f in CATALOGUE}
TARGETS = m.DailyTargets(kcal=2140, protein_g=160, carbs_g=224, fat_g=68)


def plan(**kw: object) -> m.MealPlanResult:
    args: dict[str, object] = {"targets": TARGETS, "foods": CATALOGUE, "start_date": START}
    args.setdefault("weeks", 1)
    args.update(kw)
    return m.plan_meals(m.MealPlanInput.model_validate(args))


def assert_within(meal: PlannedMeal) -> None:
    t, a = meal.targets, meal.totals
    assert abs(a.kcal - t.kcal) <= 0.05 * t.kcal + 1e-9
    assert abs(a.protein_g - t.protein_g) <= max(0.05 * t.protein_g, 1.0) + 1e-9
    assert abs(a.carbs_g - t.carbs_g) <= max(0.10 * t.carbs_g, 1.0) + 1e-9
    assert abs(a.fat_g - t.fat_g) <= max(0.10 * t.fat_g, 1.0) + 1e-9


def assert_totals_are_sums(meal: PlannedMeal) -> None:
    for key in m.NUTRIENTS:
        assert getattr(meal.totals, key) == pytest.approx(
            sum(getattr(i, key) for i in meal.items), abs=0.01
        )


# ------------------------------------------------------------------------ the split ---


def test_default_split_is_domain_25_35_30_10() -> None:
    shares = m.meal_shares(m.DEFAULT_MEAL_SLOTS)
    assert shares == pytest.approx(
        {"breakfast": 0.25, "lunch": 0.35, "dinner": 0.30, "snack": 0.10}
    )


def test_split_normalised_to_meals_present() -> None:
    slots = [m.MealSlot(meal_type="breakfast"), m.MealSlot(meal_type="dinner")]
    assert m.meal_shares(slots) == pytest.approx({"breakfast": 25 / 55, "dinner": 30 / 55})
    t = m.split_targets(TARGETS, 25 / 55)
    assert t == Macros(kcal=972.7, protein_g=72.7, carbs_g=101.8, fat_g=30.9)


def test_default_plan_targets_sum_to_the_day() -> None:
    result = plan()
    day = [x for x in result.meals if x.week_index == 0 and x.day_index == 0]
    assert [x.meal_type for x in day] == ["breakfast", "lunch", "snack", "dinner"]
    assert [x.targets.kcal for x in day] == [535.0, 749.0, 214.0, 642.0]
    assert sum(x.targets.protein_g for x in day) == pytest.approx(160, abs=0.2)
    assert day[0].meal_time == dt.time(7, 30)


# ---------------------------------------------------------------------------- plan ---


def test_every_meal_within_tolerance_and_every_day_planned() -> None:
    result = plan(weeks=2)
    assert len(result.meals) == 2 * 7 * 4
    assert result.explanation.misses == []
    for meal in result.meals:
        assert_within(meal)
        assert_totals_are_sums(meal)
        assert 3 <= len(meal.items) <= 4 or len(meal.items) == 2
        for item in meal.items:
            lo, hi = m.grams_bounds(BY_NAME[item.food_name])
            assert lo <= item.grams <= hi
    assert result.explanation.end_date == dt.date(2026, 12, 13)


def test_foods_vary_across_days() -> None:
    result = plan()
    lunches = {tuple(i.food_name for i in x.items) for x in result.meals if x.meal_type == "lunch"}
    assert len(lunches) >= 3


def test_typical_foods_preferred() -> None:
    cod = BY_NAME["Fish, cod, Atlantic, cooked"]
    result = plan(typical_foods=[{"food_id": cod.id, "meal_type": "dinner"}])
    first_dinner = next(x for x in result.meals if x.meal_type == "dinner")
    assert first_dinner.items[0].food_id == cod.id
    first_lunch = next(x for x in result.meals if x.meal_type == "lunch")
    assert cod.id not in {i.food_id for i in first_lunch.items}


def test_solver_pins_a_simple_system() -> None:
    # chicken + rice + oil for 535 kcal / 40 p / 56 c / 17 f has an interior solution
    combo = [
        BY_NAME["Chicken, broilers or fryers, breast, meat only, cooked"],
        BY_NAME["Rice, white, long-grain, cooked"],
        BY_NAME["Oil, olive, salad or cooking"],
    ]
    target = Macros(kcal=535, protein_g=40, carbs_g=56, fat_g=17)
    grams = m.solve_grams(combo, target)
    assert grams == [112.0, 194.0, 12.0]
    items = [m.make_item(f, g) for f, g in zip(combo, grams, strict=True)]
    # 1.12*31 + 1.94*2.7 = 39.96 g protein; 1.94*28.2 = 54.71 g carbs;
    # 1.12*3.6 + 1.94*0.3 + 12 = 16.61 g fat; 184.8 + 252.2 + 106.08 = 543.08 kcal
    assert m.totals_of(items) == Macros(kcal=543.08, protein_g=39.96, carbs_g=54.71, fat_g=16.61)
    assert m.misses(target, m.totals_of(items)) == []


def test_misses_reports_nutrients_outside_tolerance() -> None:
    t = Macros(kcal=500, protein_g=40, carbs_g=50, fat_g=15)
    assert m.misses(t, Macros(kcal=525, protein_g=42, carbs_g=55, fat_g=16.5)) == []
    assert m.misses(t, Macros(kcal=526, protein_g=42.1, carbs_g=55.1, fat_g=16.6)) == [
        "kcal",
        "protein_g",
        "carbs_g",
        "fat_g",
    ]
    # below 10 g, carbs/fat may be 1 g off (DOMAIN rounds grams to 1)
    assert (
        m.misses(
            Macros(kcal=100, protein_g=5, carbs_g=5, fat_g=5),
            Macros(kcal=100, protein_g=6, carbs_g=4, fat_g=6),
        )
        == []
    )


def test_impossible_meal_is_reported_not_hidden() -> None:
    # Only oil: protein and carbs can never be met.
    only_oil = [BY_NAME["Oil, olive, salad or cooking"], BY_NAME["Butter, salted"]]
    result = plan(foods=only_oil)
    assert len(result.explanation.misses) == len(result.meals) == 28
    assert all("protein" in x.reason or "no food" in x.reason for x in result.explanation.misses)


def test_no_food_left_gives_empty_meals_and_misses() -> None:
    meat_only = [BY_NAME["Beef, ground, 95% lean meat, cooked"]]
    result = plan(foods=meat_only, dietary_preference="vegan")
    assert all(x.items == [] for x in result.meals)
    assert result.explanation.foods_allowed == 0
    assert result.explanation.misses[0].reason.startswith("no food")


# ---------------------------------------------------------------------- the filters ---


def allowed_names(pref: m.DietaryPreference, allergies: list[str] | None = None) -> set[str]:
    flt = m.build_filter(pref, allergies or [])
    return {f.name for f in CATALOGUE if flt.allows(f)}


def test_vegetarian_vegan_pescatarian() -> None:
    veg = allowed_names("vegetarian")
    assert not any(
        n.startswith(("Chicken", "Turkey", "Beef", "Pork", "Fish", "Crus", "Bacon")) for n in veg
    )
    assert "Egg, white, raw, fresh" in veg
    assert "Tofu, raw, firm" in veg
    vegan = allowed_names("vegan")
    assert vegan <= veg
    assert not {"Egg, white, raw, fresh", "Butter, salted", "Yogurt, Greek, plain, nonfat"} & vegan
    assert "Lentils, mature seeds, cooked" in vegan
    pesc = allowed_names("pescatarian")
    assert "Fish, cod, Atlantic, cooked" in pesc
    assert "Crustaceans, shrimp, cooked" in pesc
    assert "Chicken, broilers or fryers, breast, meat only, cooked" not in pesc


def test_halal_kosher_keto_paleo() -> None:
    halal = allowed_names("halal")
    assert "Pork, fresh, loin, tenderloin, cooked" not in halal
    assert "Bacon, pork, cooked" not in halal
    assert "Crustaceans, shrimp, cooked" in halal
    kosher = allowed_names("kosher")
    assert "Crustaceans, shrimp, cooked" not in kosher
    assert "Pork, fresh, loin, tenderloin, cooked" not in kosher
    assert "Fish, cod, Atlantic, cooked" in kosher
    keto = allowed_names("keto")
    assert (
        not {
            "Rice, white, long-grain, cooked",
            "Bananas, raw",
            "Oats, regular, dry",
            "Potatoes, boiled, cooked without skin",
        }
        & keto
    )
    assert "Broccoli, raw" in keto
    assert "Oil, olive, salad or cooking" in keto
    paleo = allowed_names("paleo")
    assert (
        not {
            "Rice, white, long-grain, cooked",
            "Lentils, mature seeds, cooked",
            "Butter, salted",
            "Peanuts, all types, raw",
        }
        & paleo
    )
    assert "Egg, white, raw, fresh" in paleo


def test_ranking_prefers_staples_and_whole_foods() -> None:
    roasted = food(
        "Chicken, broilers or fryers, breast, meat only, cooked, roasted",
        "Poultry Products",
        165,
        31.0,
        0.0,
        3.6,
    )
    fried = food(
        "Chicken, broilers or fryers, breast, meat only, cooked, fried",
        "Poultry Products",
        187,
        33.4,
        0.5,
        4.7,
    )
    gelatin = food("Gelatins, dry powder, unsweetened", "Sweets", 335, 85.6, 0.0, 0.1)
    frog = food("Frog legs, raw", "Finfish and Shellfish Products", 73, 16.4, 0.0, 0.3)
    pool = m.rank_pool([gelatin, frog, fried, roasted], "protein")
    assert [f.name for f in pool] == [roasted.name, frog.name, gelatin.name]
    assert m.staple_rank(roasted, "protein") == 0
    kosher = m.build_filter("kosher", [])
    assert not kosher.allows(frog)
    assert kosher.allows(roasted)


def test_kosher_never_mixes_meat_and_dairy() -> None:
    chicken = BY_NAME["Chicken, broilers or fryers, breast, meat only, cooked"]
    butter = BY_NAME["Butter, salted"]
    assert m.mixes_meat_and_dairy([chicken, butter])
    assert not m.mixes_meat_and_dairy([chicken, BY_NAME["Oil, olive, salad or cooking"]])
    typical = [{"food_id": f.id, "meal_type": None} for f in (chicken, butter)]
    omni = plan(typical_foods=typical)
    assert any({chicken.id, butter.id} <= {i.food_id for i in x.items} for x in omni.meals)
    kosher = plan(dietary_preference="kosher", typical_foods=typical)
    assert kosher.explanation.misses == []
    for meal in kosher.meals:
        assert not m.mixes_meat_and_dairy([BY_NAME[i.food_name] for i in meal.items])


@pytest.mark.parametrize(
    ("allergy", "gone", "kept"),
    [
        ("peanut", "Peanuts, all types, raw", "Nuts, almonds"),
        ("Tree nuts", "Nuts, almonds", "Peanuts, all types, raw"),
        ("dairy", "Yogurt, Greek, plain, nonfat", "Egg, white, raw, fresh"),
        ("lactose intolerance", "Butter, salted", "Tofu, raw, firm"),
        ("eggs", "Egg, white, raw, fresh", "Spinach, raw"),
        ("gluten", "Seitan, wheat gluten", "Rice, white, long-grain, cooked"),
        ("wheat", "Pasta, cooked, enriched", "Potatoes, boiled, cooked without skin"),
        ("soy", "Tofu, raw, firm", "Lentils, mature seeds, cooked"),
        ("fish", "Fish, salmon, Atlantic, wild, cooked", "Turkey, breast, meat only, roasted"),
        ("shellfish", "Crustaceans, shrimp, cooked", "Fish, cod, Atlantic, cooked"),
        ("sesame", "Seeds, sesame seeds, whole, dried", "Nuts, almonds"),
        ("bananas", "Bananas, raw", "Avocados, raw, all commercial varieties"),
    ],
)
def test_allergies(allergy: str, gone: str, kept: str) -> None:
    names = allowed_names("omnivore", [allergy])
    assert gone not in names
    assert kept in names


def test_explanation_records_rules() -> None:
    result = plan(dietary_preference="kosher", allergies=["peanut"])
    e = result.explanation
    assert "Pork Products" in e.excluded_food_groups
    assert "shrimp" in e.excluded_keywords
    assert e.allergy_keywords == {"peanut": ["peanut"]}
    assert [s.meal_type for s in e.slots] == ["breakfast", "lunch", "snack", "dinner"]
    assert e.slots[1].share == 0.35
    assert e.slots[1].variants


# ------------------------------------------------------------------ property tests ---

PREFS: list[m.DietaryPreference] = [
    "omnivore",
    "vegetarian",
    "vegan",
    "pescatarian",
    "keto",
    "paleo",
    "halal",
    "kosher",
]
ALLERGIES = ["peanut", "tree nuts", "milk", "egg", "gluten", "soy", "fish", "shellfish", "sesame"]
# Independent oracle: words that must never appear in a planned food's name.
FORBIDDEN = {
    "vegetarian": ("chicken", "turkey", "beef", "pork", "fish", "shrimp", "bacon"),
    "vegan": (
        "chicken",
        "turkey",
        "beef",
        "pork",
        "fish",
        "shrimp",
        "bacon",
        "egg",
        "cheese",
        "yogurt",
        "butter",
    ),
    "pescatarian": ("chicken", "turkey", "beef", "pork", "bacon"),
    "halal": ("pork", "bacon"),
    "kosher": ("pork", "bacon", "shrimp"),
    "keto": ("rice", "oats", "pasta", "potatoes", "bananas", "lentils"),
    "paleo": ("rice", "oats", "pasta", "lentils", "peanuts", "butter", "cheese", "yogurt"),
    "omnivore": (),
    "peanut": ("peanut",),
    "tree nuts": ("almonds",),
    "milk": ("cheese", "yogurt", "butter"),
    "egg": ("egg",),
    "gluten": ("seitan", "pasta", "oats"),
    "soy": ("tofu",),
    "fish": ("fish",),
    "shellfish": ("shrimp",),
    "sesame": ("sesame",),
}
MEAL_IDS = [
    "breakfast",
    "lunch",
    "dinner",
    "snack",
    "brunch",
    "pre_workout",
    "post_workout",
    "evening_snack",
]


@st.composite
def daily_targets(draw: st.DrawFn) -> m.DailyTargets:
    kcal = draw(st.integers(min_value=150, max_value=350)) * 10
    protein_share = draw(st.floats(min_value=0.2, max_value=0.35))
    fat_share = draw(st.floats(min_value=0.2, max_value=0.35))
    return m.DailyTargets(
        kcal=kcal,
        protein_g=round(kcal * protein_share / 4),
        fat_g=round(kcal * fat_share / 9),
        carbs_g=round(kcal * (1 - protein_share - fat_share) / 4),
    )


@given(
    targets=daily_targets(),
    slots=st.lists(st.sampled_from(MEAL_IDS), min_size=2, max_size=5, unique=True),
)
@settings(max_examples=40, deadline=None)
def test_property_omnivore_meals_within_tolerance(
    targets: m.DailyTargets, slots: list[str]
) -> None:
    # The catalogue allows it: no single meal above 1600 kcal (grams are capped per food).
    slot_models = [m.MealSlot(meal_type=s) for s in slots]
    assume(max(m.meal_shares(slot_models).values()) * targets.kcal <= 1600)
    result = plan(targets=targets, meal_slots=[{"meal_type": s} for s in slots])
    assert result.explanation.misses == []
    assert len(result.meals) == 7 * len(slots)
    for meal in result.meals:
        assert_within(meal)
        assert_totals_are_sums(meal)


@given(
    targets=daily_targets(),
    pref=st.sampled_from(PREFS),
    allergies=st.lists(st.sampled_from(ALLERGIES), max_size=3, unique=True),
    weeks=st.integers(min_value=1, max_value=3),
)
@settings(max_examples=30, deadline=None)
def test_property_filters_never_violated_and_grams_bounded(
    targets: m.DailyTargets, pref: m.DietaryPreference, allergies: list[str], weeks: int
) -> None:
    result = plan(targets=targets, dietary_preference=pref, allergies=allergies, weeks=weeks)
    forbidden = [w for key in [pref, *allergies] for w in FORBIDDEN[key]]
    assert len(result.meals) == weeks * 7 * 4
    missed = {(x.week_index, x.day_index, x.meal_type) for x in result.explanation.misses}
    for meal in result.meals:
        assert_totals_are_sums(meal)
        if (meal.week_index, meal.day_index, meal.meal_type) not in missed:
            assert_within(meal)
        if pref == "kosher":
            assert not m.mixes_meat_and_dairy([BY_NAME[i.food_name] for i in meal.items])
        for item in meal.items:
            name = item.food_name.lower()
            assert not any(w in name for w in forbidden), (pref, allergies, name)
            lo, hi = m.grams_bounds(BY_NAME[item.food_name])
            assert lo <= item.grams <= hi
            assert 1 <= item.grams <= 2000
