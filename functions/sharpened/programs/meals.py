"""The meal plan (DOMAIN §5): per-meal targets, filtered foods and solved portions.

Pure: ``plan_meals(MealPlanInput) -> MealPlanResult`` reads only its arguments.

1. Meals per day come from the preferred meal times (default breakfast, lunch, dinner,
   snack), ordered by clock time. The day's targets are split by meal with ``MEAL_WEIGHTS``
   (breakfast 25, lunch 35, dinner 30, snack 10, ...) normalised to the meals present.
2. Foods are filtered by the dietary preference (``DIET_RULES``: excluded USDA food groups
   and name keywords, plus a carb cap for keto) and by the allergies (``ALLERGEN_RULES``;
   an allergy not in the table excludes foods whose name contains its words). The filter
   is conservative: a food whose composition is unknown (mixed dishes) is left out.
3. Each food gets roles by its energy shares: protein (>= 35 % of kcal from protein),
   carb (>= 50 % from carbs), fat (>= 50 % from fat). A meal is one protein, one carb and
   one fat source (then two- and four-food fallbacks). Candidates per role: the meal's
   typical foods first, then everyday staples (``STAPLES``), then the role's usual food
   groups, whole foods before ingredients and brands, one food per kind (name prefix).
4. Grams are solved by box-constrained weighted least squares (exact coordinate descent
   on the convex quadratic) so that kcal and protein land within 5 % and carbs and fat
   within 10 % (or 1 g, the precision DOMAIN rounds grams to). Combinations that miss
   are replaced by the next; up to ``VARIANTS`` feasible combinations rotate across days.
   A meal that no combination can fit is planned with the closest one and reported.
   Kosher meals never combine meat and dairy.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sharpened.programs.bundle import Macros, PlannedMeal, PlannedMealItem

DietaryPreference = Literal[
    "omnivore", "vegetarian", "vegan", "pescatarian", "keto", "paleo", "halal", "kosher"
]
FoodGroup = Literal[
    "Dairy and Egg Products",
    "Spices and Herbs",
    "Baby Foods",
    "Fats and Oils",
    "Poultry Products",
    "Soups, Sauces, and Gravies",
    "Sausages and Luncheon Meats",
    "Breakfast Cereals",
    "Fruits and Fruit Juices",
    "Pork Products",
    "Vegetables and Vegetable Products",
    "Nut and Seed Products",
    "Beef Products",
    "Beverages",
    "Finfish and Shellfish Products",
    "Legumes and Legume Products",
    "Lamb, Veal, and Game Products",
    "Baked Products",
    "Sweets",
    "Cereal Grains and Pasta",
    "Fast Foods",
    "Meals, Entrees, and Side Dishes",
    "Snacks",
    "American Indian/Alaska Native Foods",
    "Restaurant Foods",
]
Role = Literal["protein", "carb", "fat"]

GENERATOR = "sharpened.meals/1"
VARIANTS = 7  # distinct feasible combinations per meal, rotated across days
MAX_ATTEMPTS = 60  # solver runs per meal before giving up on finding more variants
CANDIDATES_PER_ROLE = 8
TOLERANCE: dict[str, float] = {"kcal": 0.05, "protein_g": 0.05, "carbs_g": 0.10, "fat_g": 0.10}
ABS_SLACK_G = 1.0  # grams of a macro are planned to 1 g (DOMAIN §2)
NUTRIENTS = ("kcal", "protein_g", "carbs_g", "fat_g")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- inputs ---


class DailyTargets(_Model):
    kcal: float = Field(gt=0, le=10000)
    protein_g: float = Field(ge=0, le=1000)
    carbs_g: float = Field(ge=0, le=2000)
    fat_g: float = Field(ge=0, le=1000)


class MealSlot(_Model):
    """A preferred meal time: a public.meal_times id and the user's clock time."""

    meal_type: str = Field(pattern=r"^[a-z][a-z0-9_]{1,60}$")
    time: dt.time | None = None


DEFAULT_MEAL_SLOTS: tuple[MealSlot, ...] = (
    MealSlot(meal_type="breakfast", time=dt.time(7, 30)),
    MealSlot(meal_type="lunch", time=dt.time(12, 30)),
    MealSlot(meal_type="snack", time=dt.time(15, 0)),
    MealSlot(meal_type="dinner", time=dt.time(19, 30)),
)


class Serving(_Model):
    description: str = Field(min_length=1)
    grams: float = Field(gt=0)


class FoodRow(_Model):
    """A public.foods row (nutrients per 100 g)."""

    id: uuid.UUID
    name: str = Field(min_length=1, max_length=300)
    food_group: FoodGroup | None = None
    kcal_per_100g: float = Field(ge=0, le=902)
    protein_g_per_100g: float = Field(ge=0, le=100)
    carbs_g_per_100g: float = Field(ge=0, le=100)
    fat_g_per_100g: float = Field(ge=0, le=100)
    servings: list[Serving] = Field(default_factory=list)


class TypicalFood(_Model):
    """A user's typical food; ``meal_type`` None means any meal."""

    food_id: uuid.UUID
    meal_type: str | None = None


class MealPlanInput(_Model):
    targets: DailyTargets
    meal_slots: list[MealSlot] = Field(default_factory=lambda: list(DEFAULT_MEAL_SLOTS))
    dietary_preference: DietaryPreference = "omnivore"
    allergies: list[str] = Field(default_factory=list, max_length=30)
    typical_foods: list[TypicalFood] = Field(default_factory=list)
    foods: list[FoodRow]
    start_date: dt.date
    weeks: int = Field(ge=1, le=52)


# -------------------------------------------------------------------------- outputs ---


class MealMiss(_Model):
    """A planned meal outside tolerance (the closest combination found)."""

    week_index: int
    day_index: int
    meal_type: str
    reason: str
    targets: Macros
    totals: Macros


class MealSlotExplanation(_Model):
    meal_type: str
    time: dt.time | None
    weight: float
    share: float
    targets: Macros
    variants: list[list[str]]  # food names of each rotated combination
    attempts: int


class MealPlanExplanation(_Model):
    generator: str = GENERATOR
    dietary_preference: DietaryPreference
    excluded_food_groups: list[str]
    excluded_keywords: list[str]
    allergy_keywords: dict[str, list[str]]
    foods_in_catalogue: int
    foods_allowed: int
    tolerance: dict[str, float]
    absolute_slack_g: float
    solver: str
    slots: list[MealSlotExplanation]
    misses: list[MealMiss]
    start_date: dt.date
    end_date: dt.date


class MealPlanResult(_Model):
    meals: list[PlannedMeal]
    explanation: MealPlanExplanation


# -------------------------------------------------------------------------- the split ---

MEAL_WEIGHTS: dict[str, float] = {
    "breakfast": 25.0,
    "brunch": 45.0,
    "lunch": 35.0,
    "dinner": 30.0,
    "snack": 10.0,
    "morning_snack": 10.0,
    "afternoon_snack": 10.0,
    "evening_snack": 10.0,
    "pre_workout": 15.0,
    "post_workout": 20.0,
}
DEFAULT_WEIGHT = 15.0


def meal_shares(slots: Sequence[MealSlot]) -> dict[str, float]:
    """Each meal's share of the day (sums to 1), from MEAL_WEIGHTS normalised."""
    weights = {s.meal_type: MEAL_WEIGHTS.get(s.meal_type, DEFAULT_WEIGHT) for s in slots}
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items()}


def split_targets(targets: DailyTargets, share: float) -> Macros:
    return Macros(
        kcal=round(targets.kcal * share, 1),
        protein_g=round(targets.protein_g * share, 1),
        carbs_g=round(targets.carbs_g * share, 1),
        fat_g=round(targets.fat_g * share, 1),
    )


# -------------------------------------------------------------------- food filtering ---

MEAT_GROUPS = frozenset(
    {
        "Beef Products",
        "Pork Products",
        "Poultry Products",
        "Lamb, Veal, and Game Products",
        "Sausages and Luncheon Meats",
    }
)
FISH_GROUP = "Finfish and Shellfish Products"
# Mixed dishes of unknown composition, and groups that are not meal foods.
MIXED_GROUPS = frozenset(
    {
        "Fast Foods",
        "Restaurant Foods",
        "Meals, Entrees, and Side Dishes",
        "Soups, Sauces, and Gravies",
        "American Indian/Alaska Native Foods",
        "Baby Foods",
    }
)
NEVER_PLANNED = frozenset({"Spices and Herbs", "Baby Foods", "Beverages"})

MEAT_WORDS = (
    "beef",
    "pork",
    "ham",
    "bacon",
    "lard",
    "chicken",
    "turkey",
    "duck",
    "goose",
    "lamb",
    "veal",
    "mutton",
    "venison",
    "sausage",
    "salami",
    "pepperoni",
    "bologna",
    "frankfurter",
    "meat",
    "gelatin",
    "gelatine",
    "broth",
    "bouillon",
    "tallow",
    "suet",
    "liver",
)
FISH_WORDS = (
    "fish",
    "salmon",
    "tuna",
    "cod",
    "anchovy",
    "anchovies",
    "sardine",
    "herring",
    "mackerel",
    "trout",
    "tilapia",
    "halibut",
    "pollock",
    "haddock",
    "catfish",
    "eel",
    "roe",
    "caviar",
)
SHELLFISH_WORDS = (
    "shellfish",
    "shrimp",
    "prawn",
    "crab",
    "lobster",
    "crayfish",
    "clam",
    "oyster",
    "mussel",
    "scallop",
    "squid",
    "octopus",
    "abalone",
    "whelk",
    "conch",
    "snail",
    "crustacean",
)
DAIRY_WORDS = (
    "milk",
    "cheese",
    "butter",
    "cream",
    "yogurt",
    "yoghurt",
    "whey",
    "casein",
    "lactose",
    "ghee",
    "kefir",
    "buttermilk",
)
EGG_WORDS = ("egg", "eggnog", "mayonnaise", "meringue")
PORK_WORDS = ("pork", "ham", "bacon", "lard", "gelatin", "gelatine", "pepperoni", "salami")
ALCOHOL_WORDS = ("wine", "beer", "rum", "whiskey", "liquor", "liqueur", "alcohol", "vodka")


@dataclass(frozen=True)
class FoodRule:
    groups: frozenset[str] = frozenset()
    keywords: tuple[str, ...] = ()
    max_carbs_g_per_100g: float | None = None


DIET_RULES: dict[str, FoodRule] = {
    "omnivore": FoodRule(),
    "vegetarian": FoodRule(MEAT_GROUPS | {FISH_GROUP} | MIXED_GROUPS, MEAT_WORDS + FISH_WORDS),
    "vegan": FoodRule(
        MEAT_GROUPS
        | {FISH_GROUP, "Dairy and Egg Products", "Baked Products", "Sweets"}
        | MIXED_GROUPS,
        MEAT_WORDS + FISH_WORDS + SHELLFISH_WORDS + DAIRY_WORDS + EGG_WORDS + ("honey",),
    ),
    "pescatarian": FoodRule(MEAT_GROUPS | MIXED_GROUPS, MEAT_WORDS),
    "keto": FoodRule(
        frozenset(
            {
                "Cereal Grains and Pasta",
                "Breakfast Cereals",
                "Baked Products",
                "Sweets",
                "Fruits and Fruit Juices",
                "Legumes and Legume Products",
                "Snacks",
            }
        ),
        ("sugar", "honey", "syrup"),
        max_carbs_g_per_100g=15.0,
    ),
    "paleo": FoodRule(
        frozenset(
            {
                "Cereal Grains and Pasta",
                "Breakfast Cereals",
                "Baked Products",
                "Legumes and Legume Products",
                "Sweets",
                "Snacks",
            }
        )
        | MIXED_GROUPS,
        (*DAIRY_WORDS, "sugar", "syrup", "soy", "peanut", "bread", "flour"),
    ),
    "halal": FoodRule(
        frozenset({"Pork Products", "Sausages and Luncheon Meats"}) | MIXED_GROUPS,
        (*PORK_WORDS, *ALCOHOL_WORDS, "frog", "turtle"),
    ),
    "kosher": FoodRule(
        frozenset({"Pork Products", "Sausages and Luncheon Meats"}) | MIXED_GROUPS,
        PORK_WORDS
        + SHELLFISH_WORDS
        + ("catfish", "eel", "shark", "swordfish", "sturgeon", "frog", "turtle", "rabbit"),
    ),
}

ALLERGEN_RULES: dict[str, FoodRule] = {
    "peanut": FoodRule(keywords=("peanut",)),
    "tree_nut": FoodRule(
        keywords=(
            "nut",
            "almond",
            "cashew",
            "walnut",
            "pecan",
            "pistachio",
            "hazelnut",
            "filbert",
            "macadamia",
            "brazilnut",
            "pine nut",
            "chestnut",
            "praline",
            "marzipan",
            "nutella",
        )
    ),
    "milk": FoodRule(keywords=DAIRY_WORDS),
    "egg": FoodRule(keywords=EGG_WORDS),
    "gluten": FoodRule(
        frozenset({"Baked Products", "Breakfast Cereals"}),
        (
            "wheat",
            "barley",
            "rye",
            "gluten",
            "semolina",
            "bread",
            "pasta",
            "spaghetti",
            "macaroni",
            "noodle",
            "spelt",
            "couscous",
            "bulgur",
            "malt",
            "seitan",
            "flour",
            "cracker",
            "triticale",
        ),
    ),
    "soy": FoodRule(keywords=("soy", "soya", "soybean", "tofu", "tempeh", "edamame", "miso")),
    "fish": FoodRule(frozenset({FISH_GROUP}), FISH_WORDS),
    "shellfish": FoodRule(keywords=SHELLFISH_WORDS),
    "sesame": FoodRule(keywords=("sesame", "tahini", "halvah")),
}
ALLERGEN_SYNONYMS: dict[str, str] = {
    "peanut": "peanut",
    "peanuts": "peanut",
    "groundnut": "peanut",
    "tree nut": "tree_nut",
    "tree nuts": "tree_nut",
    "treenut": "tree_nut",
    "nut": "tree_nut",
    "nuts": "tree_nut",
    "milk": "milk",
    "dairy": "milk",
    "lactose": "milk",
    "lactose intolerance": "milk",
    "egg": "egg",
    "eggs": "egg",
    "gluten": "gluten",
    "wheat": "gluten",
    "celiac": "gluten",
    "coeliac": "gluten",
    "soy": "soy",
    "soya": "soy",
    "fish": "fish",
    "shellfish": "shellfish",
    "crustacean": "shellfish",
    "crustaceans": "shellfish",
    "seafood": "shellfish",
    "sesame": "sesame",
}


@functools.lru_cache(maxsize=65536)
def _normalise(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def allergy_rule(allergy: str) -> FoodRule:
    """The rule for a free-text allergy; unknown text excludes foods naming its words."""
    key = _normalise(allergy)
    for suffix in (" allergy", " intolerance"):
        if key.endswith(suffix) and key[: -len(suffix)] in ALLERGEN_SYNONYMS:
            key = key[: -len(suffix)]
    if key in ALLERGEN_SYNONYMS:
        rule = ALLERGEN_RULES[ALLERGEN_SYNONYMS[key]]
        if key == "seafood":  # seafood: fish and shellfish
            fish = ALLERGEN_RULES["fish"]
            return FoodRule(fish.groups, fish.keywords + rule.keywords)
        return rule
    words = tuple(w for w in key.split() if len(w) >= 3 and w not in {"and", "the", "allergy"})
    return FoodRule(keywords=words)


def _keyword_pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({_normalise(k) for k in keywords if _normalise(k)}, key=len, reverse=True)
    if not words:
        return None
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
    return re.compile(rf"\b(?:{alternatives})(?:s|es)?\b")


@dataclass(frozen=True)
class FoodFilter:
    groups: frozenset[str]
    pattern: re.Pattern[str] | None
    max_carbs_g_per_100g: float | None

    def allows(self, food: FoodRow) -> bool:
        if food.food_group is not None and food.food_group in self.groups:
            return False
        if food.kcal_per_100g <= 0:
            return False
        if (
            self.max_carbs_g_per_100g is not None
            and food.carbs_g_per_100g > self.max_carbs_g_per_100g
        ):
            return False
        return self.pattern is None or self.pattern.search(_normalise(food.name)) is None


def build_filter(preference: DietaryPreference, allergies: Sequence[str]) -> FoodFilter:
    diet = DIET_RULES[preference]
    rules = [diet, *(allergy_rule(a) for a in allergies)]
    groups = frozenset(NEVER_PLANNED).union(*(r.groups for r in rules))
    keywords = [k for r in rules for k in r.keywords]
    return FoodFilter(groups, _keyword_pattern(keywords), diet.max_carbs_g_per_100g)


# ------------------------------------------------------------------------- the solver ---


def grams_bounds(food: FoodRow) -> tuple[float, float]:
    """Sensible grams for one food in one meal."""
    if food.food_group == "Fats and Oils" or food.fat_g_per_100g >= 60:
        return 2.0, 60.0
    if food.food_group == "Nut and Seed Products":
        return 5.0, 120.0
    return 10.0, 500.0


def _vector(food: FoodRow) -> tuple[float, float, float, float]:
    return (
        food.kcal_per_100g / 100,
        food.protein_g_per_100g / 100,
        food.carbs_g_per_100g / 100,
        food.fat_g_per_100g / 100,
    )


def _target_vector(t: Macros) -> tuple[float, float, float, float]:
    return (t.kcal, t.protein_g, t.carbs_g, t.fat_g)


def _allowed_error(target: float, nutrient: str) -> float:
    slack = 0.0 if nutrient == "kcal" else ABS_SLACK_G
    return max(TOLERANCE[nutrient] * target, slack)


def solve_grams(foods: Sequence[FoodRow], targets: Macros, sweeps: int = 400) -> list[float]:
    """Grams minimising sum(((A g - t) / allowed error)^2) within each food's bounds.

    Exact coordinate descent on a convex quadratic with box constraints (converges to the
    minimiser); the weights make every nutrient's tolerance count the same.
    """
    t = _target_vector(targets)
    cols = [_vector(f) for f in foods]
    w = [1.0 / max(_allowed_error(t[k], NUTRIENTS[k]), 1.0) ** 2 for k in range(len(NUTRIENTS))]
    n = len(foods)
    q = [
        [sum(w[k] * cols[i][k] * cols[j][k] for k in range(4)) for j in range(n)] for i in range(n)
    ]
    b = [sum(w[k] * cols[i][k] * t[k] for k in range(4)) for i in range(n)]
    bounds = [grams_bounds(f) for f in foods]
    g = [lo for lo, _ in bounds]
    for _ in range(sweeps):
        change = 0.0
        for i in range(n):
            if q[i][i] <= 0:
                continue
            rest = sum(q[i][j] * g[j] for j in range(n) if j != i)
            lo, hi = bounds[i]
            new = min(max((b[i] - rest) / q[i][i], lo), hi)
            change = max(change, abs(new - g[i]))
            g[i] = new
        if change < 1e-6:
            break
    return [float(round(x)) for x in g]


def make_item(food: FoodRow, grams: float) -> PlannedMealItem:
    factor = grams / 100
    serving: str | None = None
    if food.servings:
        s = min(food.servings, key=lambda s: abs(grams / s.grams - 1))
        count = round(grams / s.grams * 4) / 4
        if count >= 0.25:
            serving = f"about {count:g} x {s.description}"[:200]
    return PlannedMealItem(
        food_id=food.id,
        food_name=food.name,
        grams=grams,
        serving_description=serving,
        kcal=round(food.kcal_per_100g * factor, 2),
        protein_g=round(food.protein_g_per_100g * factor, 2),
        carbs_g=round(food.carbs_g_per_100g * factor, 2),
        fat_g=round(food.fat_g_per_100g * factor, 2),
    )


def totals_of(items: Sequence[PlannedMealItem]) -> Macros:
    return Macros(
        kcal=round(sum(i.kcal for i in items), 2),
        protein_g=round(sum(i.protein_g for i in items), 2),
        carbs_g=round(sum(i.carbs_g for i in items), 2),
        fat_g=round(sum(i.fat_g for i in items), 2),
    )


def misses(targets: Macros, totals: Macros) -> list[str]:
    """The nutrients outside tolerance (kcal/protein 5 %, carbs/fat 10 % or 1 g)."""
    t, a = _target_vector(targets), _target_vector(totals)
    return [
        NUTRIENTS[k]
        for k in range(4)
        if abs(a[k] - t[k]) > _allowed_error(t[k], NUTRIENTS[k]) + 1e-9
    ]


def _score(targets: Macros, totals: Macros) -> float:
    t, a = _target_vector(targets), _target_vector(totals)
    return sum(
        ((a[k] - t[k]) / max(_allowed_error(t[k], NUTRIENTS[k]), 1.0)) ** 2 for k in range(4)
    )


# ---------------------------------------------------------------------- food choice ---


def roles(food: FoodRow) -> set[Role]:
    """A food's roles by the share of its energy from each macro."""
    p, c, f = food.protein_g_per_100g * 4, food.carbs_g_per_100g * 4, food.fat_g_per_100g * 9
    energy = p + c + f
    out: set[Role] = set()
    if energy <= 0:
        return out
    if p / energy >= 0.35:
        out.add("protein")
    if c / energy >= 0.5:
        out.add("carb")
    if f / energy >= 0.5:
        out.add("fat")
    return out


# Groups a meal's source for each role is normally taken from (rank 0), then any group
# except the fallbacks (rank 1), then the fallbacks (rank 2).
ROLE_GROUPS: dict[Role, frozenset[str]] = {
    "protein": frozenset(
        {
            "Poultry Products",
            "Beef Products",
            "Finfish and Shellfish Products",
            "Pork Products",
            "Lamb, Veal, and Game Products",
            "Dairy and Egg Products",
            "Legumes and Legume Products",
        }
    ),
    "carb": frozenset(
        {
            "Cereal Grains and Pasta",
            "Vegetables and Vegetable Products",
            "Fruits and Fruit Juices",
            "Legumes and Legume Products",
            "Breakfast Cereals",
            "Baked Products",
        }
    ),
    "fat": frozenset({"Fats and Oils", "Nut and Seed Products", "Dairy and Egg Products"}),
}
FALLBACK_GROUPS = frozenset({"Sweets", "Snacks"})
# Ingredients rather than meal foods: ranked after everything else.
INGREDIENT_WORDS = (
    "powder",
    "dried",
    "dehydrated",
    "isolate",
    "concentrate",
    "flour",
    "starch",
    "cornstarch",
    "grease",
    "industrial",
    "gelatin",
    "gelatins",
    "candies",
    "candied",
    "fondant",
    "shortening",
    "frozen",
    "canned",
    "infant",
    "meal",
    "mix",
    "imitation",
)
_INGREDIENT_PATTERN = _keyword_pattern(INGREDIENT_WORDS)


# Everyday foods per role (normalised USDA SR28 name prefixes), planned first, in order.
STAPLES: dict[Role, tuple[str, ...]] = {
    "protein": (
        "chicken broilers or fryers breast meat only cooked roasted",
        "fish salmon atlantic wild cooked",
        "turkey breast from whole bird meat only roasted",
        "beef ground 93 lean",
        "yogurt greek plain nonfat",
        "fish cod atlantic cooked",
        "egg white raw fresh",
        "fish tuna light canned in water",
        "cheese cottage lowfat",
        "tofu raw firm",
        "pork fresh loin tenderloin separable lean only cooked",
        "crustaceans shrimp cooked",
        "seitan",
    ),
    "carb": (
        "rice white long grain regular cooked",
        "potatoes boiled cooked without skin",
        "cereals oats regular and quick",
        "pasta cooked",
        "sweet potato cooked baked",
        "rice brown long grain cooked",
        "quinoa cooked",
        "lentils mature seeds cooked",
        "beans black mature seeds cooked",
        "chickpeas",
        "bread whole wheat",
        "bananas raw",
        "apples raw with skin",
        "broccoli cooked",
        "broccoli raw",
        "spinach raw",
    ),
    "fat": (
        "oil olive",
        "nuts almonds",
        "avocados raw all",
        "peanut butter smooth",
        "nuts walnuts english",
        "seeds chia",
        "butter salted",
    ),
}
PREPARED_WORDS = ("cooked", "roasted", "boiled", "baked", "broiled", "grilled", "steamed")
AVOID_WORDS = ("fried", "breaded", "batter", "with salt", "skin only")
_PREPARED_PATTERN = _keyword_pattern(PREPARED_WORDS)
_AVOID_PATTERN = _keyword_pattern(AVOID_WORDS)


def staple_rank(food: FoodRow, role: Role) -> int:
    """The food's place in the role's STAPLES (len(STAPLES[role]) if not a staple)."""
    return _staple_rank(_normalise(food.name), role)


def _staple_rank(name: str, role: Role) -> int:
    for i, prefix in enumerate(STAPLES[role]):
        if name.startswith(prefix):
            return i
    return len(STAPLES[role])


def suitability(food: FoodRow, role: Role) -> tuple[int, int, int, int, int, int]:
    """Lower is better: a staple, the role's usual groups, not an ingredient, not a brand
    (upper-case first word), not fried or salted, prepared rather than raw."""
    return _suitability(food.name, food.food_group, role)


@functools.lru_cache(maxsize=65536)
def _suitability(
    food_name: str, food_group: str | None, role: Role
) -> tuple[int, int, int, int, int, int]:
    """suitability() from the only fields it reads (cached: the catalogue is static)."""
    name = _normalise(food_name)
    group = food_group or ""
    group_rank = 0 if group in ROLE_GROUPS[role] else 2 if group in FALLBACK_GROUPS else 1
    head = food_name.split(",")[0]
    ingredient = bool(_INGREDIENT_PATTERN and _INGREDIENT_PATTERN.search(name))
    brand = len(head) > 2 and head.isupper()
    avoid = bool(_AVOID_PATTERN and _AVOID_PATTERN.search(name))
    prepared = bool(_PREPARED_PATTERN and _PREPARED_PATTERN.search(name))
    return (
        _staple_rank(name, role),
        group_rank,
        int(ingredient),
        int(brand),
        int(avoid),
        int(not prepared),
    )


def _share(f: FoodRow, role: Role) -> float:
    p, c = f.protein_g_per_100g * 4, f.carbs_g_per_100g * 4
    fat = f.fat_g_per_100g * 9
    energy = max(p + c + fat, 1e-9)
    return {"protein": p, "carb": c, "fat": fat}[role] / energy


_RankKey = tuple[str, tuple[tuple[object, ...], ...]]
_RANKED: dict[_RankKey, list[FoodRow]] = {}
_RANKED_MAX = 64


def rank_pool(foods: Sequence[FoodRow], role: Role) -> list[FoodRow]:
    """Every food with the role, best first, one per kind (first two name parts).

    Memoised on the foods' ranking inputs: generating programs re-ranks the same
    (static) catalogue for every user of the same diet.
    """
    key: _RankKey = (
        role,
        tuple(
            (f.id, f.name, f.food_group, f.kcal_per_100g, f.protein_g_per_100g,
             f.carbs_g_per_100g, f.fat_g_per_100g)
            for f in foods
        ),
    )  # fmt: skip
    ranked = _RANKED.get(key)
    if ranked is None:
        if len(_RANKED) >= _RANKED_MAX:
            _RANKED.clear()
        ranked = _RANKED[key] = _rank_pool(foods, role)
    return list(ranked)


def _rank_pool(foods: Sequence[FoodRow], role: Role) -> list[FoodRow]:
    pool = [f for f in foods if role in roles(f)]
    pool.sort(key=lambda f: (suitability(f, role), -round(_share(f, role), 1), len(f.name), f.name))
    out: list[FoodRow] = []
    kinds: set[str] = set()
    for f in pool:
        kind = ",".join(_normalise(part) for part in f.name.split(",")[:2])
        if kind not in kinds:
            kinds.add(kind)
            out.append(f)
    return out


def _candidates(pool: Sequence[FoodRow], typical: dict[uuid.UUID, int]) -> list[FoodRow]:
    """The meal's typical foods of the role first, then the ranked pool."""
    first = sorted((f for f in pool if f.id in typical), key=lambda f: typical[f.id])
    rest = [f for f in pool if f.id not in typical]
    return (first + rest)[:CANDIDATES_PER_ROLE]


def _combinations(pools: Sequence[Sequence[FoodRow]]) -> list[tuple[FoodRow, ...]]:
    """One food per pool, distinct foods; best ranks first, the top two of each pool mixed
    before any third choice (so rotated days vary every role)."""
    ranked = sorted(
        itertools.product(*(range(len(p)) for p in pools)), key=lambda ix: (max(ix), sum(ix), ix)
    )
    out: list[tuple[FoodRow, ...]] = []
    seen: set[frozenset[uuid.UUID]] = set()
    for ix in ranked:
        combo = tuple(pools[k][i] for k, i in enumerate(ix))
        ids = frozenset(f.id for f in combo)
        if len(ids) == len(combo) and ids not in seen:
            seen.add(ids)
            out.append(combo)
    return out


@dataclass(frozen=True)
class _Solution:
    items: tuple[PlannedMealItem, ...]
    totals: Macros
    missed: tuple[str, ...]
    score: float


_MEAT_PATTERN = _keyword_pattern(MEAT_WORDS)
_DAIRY_PATTERN = _keyword_pattern(DAIRY_WORDS)


def _is_meat(food: FoodRow) -> bool:
    name = _normalise(food.name)
    return food.food_group in MEAT_GROUPS or bool(_MEAT_PATTERN and _MEAT_PATTERN.search(name))


def _is_dairy(food: FoodRow) -> bool:
    return bool(_DAIRY_PATTERN and _DAIRY_PATTERN.search(_normalise(food.name)))


def mixes_meat_and_dairy(combo: Sequence[FoodRow]) -> bool:
    """Kosher: meat and dairy are not served in the same meal."""
    return any(_is_meat(f) for f in combo) and any(_is_dairy(f) for f in combo)


def _solve(combo: Sequence[FoodRow], targets: Macros) -> _Solution:
    grams = solve_grams(combo, targets)
    items = tuple(make_item(f, g) for f, g in zip(combo, grams, strict=True))
    totals = totals_of(items)
    return _Solution(items, totals, tuple(misses(targets, totals)), _score(targets, totals))


def _plan_slot(
    pools: dict[Role, list[FoodRow]],
    targets: Macros,
    typical: dict[uuid.UUID, int],
    separate_meat_and_dairy: bool = False,
) -> tuple[list[_Solution], _Solution | None, int]:
    """Up to VARIANTS feasible solutions, else the closest; and the solver runs used."""
    protein = _candidates(pools["protein"], typical)
    carb = _candidates(pools["carb"], typical)
    fat = _candidates(pools["fat"], typical)
    shapes: list[list[Sequence[FoodRow]]] = [
        [protein, carb, fat],
        [protein, carb],
        [protein, fat],
        [protein, carb, fat, carb],
        [protein, carb, fat, protein],
        [protein, carb, fat, fat],
    ]
    feasible: list[_Solution] = []
    best: _Solution | None = None
    attempts = 0
    for shape in shapes:
        if any(not pool for pool in shape):
            continue
        combos = _combinations(shape)
        if separate_meat_and_dairy:
            combos = [c for c in combos if not mixes_meat_and_dairy(c)]
        for combo in combos[:MAX_ATTEMPTS]:
            if len(feasible) >= VARIANTS:
                break
            attempts += 1
            solution = _solve(combo, targets)
            if not solution.missed:
                feasible.append(solution)
            elif best is None or solution.score < best.score:
                best = solution
        if feasible:
            break
    return feasible, best, attempts


# ------------------------------------------------------------------------ the planner ---


def plan_meals(data: MealPlanInput) -> MealPlanResult:
    """The meal plan: one PlannedMeal per preferred meal time per day, and why."""
    food_filter = build_filter(data.dietary_preference, data.allergies)
    allowed = [f for f in data.foods if food_filter.allows(f)]
    allowed_ids = {f.id for f in allowed}
    # Typical foods may be ranked out of a pool's kinds: keep them in.
    typical_ids = {t.food_id for t in data.typical_foods}
    pools: dict[Role, list[FoodRow]] = {}
    for role in ("protein", "carb", "fat"):
        ranked = rank_pool(allowed, role)
        listed = {f.id for f in ranked}
        extra = [f for f in allowed if f.id in typical_ids and f.id not in listed]
        pools[role] = ranked + [f for f in extra if role in roles(f)]
    slots = sorted(
        {s.meal_type: s for s in (data.meal_slots or DEFAULT_MEAL_SLOTS)}.values(),
        key=lambda s: (s.time or dt.time(23, 59), s.meal_type),
    )
    shares = meal_shares(slots)
    meals_by_slot: list[tuple[MealSlot, Macros, list[_Solution], _Solution | None]] = []
    explained: list[MealSlotExplanation] = []
    for slot in slots:
        targets = split_targets(data.targets, shares[slot.meal_type])
        typical: dict[uuid.UUID, int] = {}
        for t in data.typical_foods:
            if t.food_id in allowed_ids:
                rank = 0 if t.meal_type == slot.meal_type else 1 if t.meal_type is None else 2
                typical[t.food_id] = min(typical.get(t.food_id, 2), rank)
        # Typical foods of other meals carry no preference here.
        typical = {k: v for k, v in typical.items() if v < 2}
        feasible, best, attempts = _plan_slot(
            pools, targets, typical, data.dietary_preference == "kosher"
        )
        meals_by_slot.append((slot, targets, feasible, best))
        chosen = feasible or ([best] if best else [])
        explained.append(
            MealSlotExplanation(
                meal_type=slot.meal_type,
                time=slot.time,
                weight=MEAL_WEIGHTS.get(slot.meal_type, DEFAULT_WEIGHT),
                share=round(shares[slot.meal_type], 4),
                targets=targets,
                variants=[[i.food_name for i in s.items] for s in chosen],
                attempts=attempts,
            )
        )
    meals: list[PlannedMeal] = []
    missed: list[MealMiss] = []
    for week in range(data.weeks):
        for day in range(7):
            n = week * 7 + day
            for slot, targets, feasible, best in meals_by_slot:
                solution = feasible[n % len(feasible)] if feasible else best
                items = list(solution.items) if solution else []
                totals = solution.totals if solution else totals_of([])
                meals.append(
                    PlannedMeal(
                        week_index=week,
                        day_index=day,
                        meal_type=slot.meal_type,
                        meal_time=slot.time,
                        targets=targets,
                        totals=totals,
                        items=items,
                    )
                )
                if not feasible:
                    reason = (
                        "no food passes the dietary preference and allergies"
                        if solution is None
                        else "outside tolerance: " + ", ".join(solution.missed)
                    )
                    missed.append(
                        MealMiss(
                            week_index=week,
                            day_index=day,
                            meal_type=slot.meal_type,
                            reason=reason,
                            targets=targets,
                            totals=totals,
                        )
                    )
    explanation = MealPlanExplanation(
        dietary_preference=data.dietary_preference,
        excluded_food_groups=sorted(food_filter.groups),
        excluded_keywords=sorted(DIET_RULES[data.dietary_preference].keywords),
        allergy_keywords={a: list(allergy_rule(a).keywords) for a in data.allergies},
        foods_in_catalogue=len(data.foods),
        foods_allowed=len(allowed),
        tolerance=dict(TOLERANCE),
        absolute_slack_g=ABS_SLACK_G,
        solver="box-constrained weighted least squares, exact coordinate descent",
        slots=explained,
        misses=missed,
        start_date=data.start_date,
        end_date=data.start_date + dt.timedelta(days=7 * data.weeks - 1),
    )
    return MealPlanResult(meals=meals, explanation=explanation)
