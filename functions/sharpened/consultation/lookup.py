"""Reference lookups: recognise exercises, foods, modalities, meal times and event types.

- :class:`DatabaseLookup` implements :class:`~sharpened.consultation.engine.ReferenceLookup`
  over a psycopg connection that is already inside the caller's transaction
  (``Database.as_user``): exercises and foods through the trigram-search RPCs
  ``public.search_exercises`` / ``public.search_foods`` (security invoker: the
  caller's grants and RLS apply, so it works as ``authenticated``); the small
  vocabularies (modalities, meal times, event types) read once per instance.
- :class:`StaticLookup`: the same behaviour over in-memory rows (unit tests).
- ``find_*_in_text``: recognise several names inside a sentence ("I do squats,
  bench press and deadlifts" → three exercises), with their spans.

Everyday names ("squats", "bench press", "oats", "chicken breast") resolve
through :data:`EXERCISE_ALIASES` / :data:`FOOD_ALIASES` to one sensible
catalogue row (typos included: "chiken brest"); other names go to the search,
whose candidates are re-ranked (:func:`rank`) so that the closest, plainest
name wins ("Romanian Deadlift", not "Romanian Deadlift from Deficit"). An exact
catalogue name always ranks first, so a name this module returned resolves to
the same row when looked up again (the writer does exactly that).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from psycopg.rows import tuple_row

from sharpened.consultation.engine import ReferenceLookup, ReferenceMatch

Kind = Literal["exercise", "food"]

# Everyday phrase (lower case, hyphens as spaces, singular) → exact catalogue name.
EXERCISE_ALIASES: dict[str, str] = {
    "squat": "Barbell Squat", "back squat": "Barbell Squat", "barbell squat": "Barbell Squat",
    "squatting": "Barbell Squat", "front squat": "Front Squat (Clean Grip)",
    "goblet squat": "Goblet Squat", "deadlift": "Barbell Deadlift",
    "barbell deadlift": "Barbell Deadlift", "conventional deadlift": "Barbell Deadlift",
    "deadlifting": "Barbell Deadlift", "romanian deadlift": "Romanian Deadlift",
    "rdl": "Romanian Deadlift", "sumo deadlift": "Sumo Deadlift",
    "trap bar deadlift": "Trap Bar Deadlift", "hex bar deadlift": "Trap Bar Deadlift",
    "bench press": "Barbell Bench Press - Medium Grip",
    "bench": "Barbell Bench Press - Medium Grip",
    "benching": "Barbell Bench Press - Medium Grip",
    "barbell bench press": "Barbell Bench Press - Medium Grip",
    "flat bench": "Barbell Bench Press - Medium Grip",
    "incline bench press": "Barbell Incline Bench Press - Medium Grip",
    "incline bench": "Barbell Incline Bench Press - Medium Grip",
    "dumbbell bench press": "Dumbbell Bench Press", "overhead press": "Standing Military Press",
    "ohp": "Standing Military Press", "military press": "Standing Military Press",
    "shoulder press": "Standing Military Press", "strict press": "Standing Military Press",
    "dumbbell shoulder press": "Dumbbell Shoulder Press", "pull up": "Pullups",
    "pullup": "Pullups", "chin up": "Chin-Up", "chinup": "Chin-Up", "push up": "Pushups",
    "pushup": "Pushups", "press up": "Pushups", "dip": "Dips - Triceps Version",
    "barbell row": "Bent Over Barbell Row", "bent over row": "Bent Over Barbell Row",
    "dumbbell row": "One-Arm Dumbbell Row", "lat pulldown": "Wide-Grip Lat Pulldown",
    "lat pull down": "Wide-Grip Lat Pulldown", "pulldown": "Wide-Grip Lat Pulldown",
    "cable row": "Seated Cable Rows", "seated cable row": "Seated Cable Rows",
    "lunge": "Dumbbell Lunges", "walking lunge": "Barbell Walking Lunge",
    "hip thrust": "Barbell Hip Thrust", "leg press": "Leg Press", "leg curl": "Lying Leg Curls",
    "hamstring curl": "Lying Leg Curls", "leg extension": "Leg Extensions",
    "bicep curl": "Barbell Curl", "biceps curl": "Barbell Curl", "barbell curl": "Barbell Curl",
    "curl": "Barbell Curl", "hammer curl": "Hammer Curls", "tricep pushdown": "Triceps Pushdown",
    "triceps pushdown": "Triceps Pushdown", "skull crusher": "EZ-Bar Skullcrusher",
    "skullcrusher": "EZ-Bar Skullcrusher", "lateral raise": "Side Lateral Raise",
    "side raise": "Side Lateral Raise", "face pull": "Face Pull", "plank": "Plank",
    "crunch": "Crunches", "sit up": "Sit-Up", "kettlebell swing": "One-Arm Kettlebell Swings",
    "kb swing": "One-Arm Kettlebell Swings", "power clean": "Power Clean",
    "clean and jerk": "Clean and Jerk", "clean and press": "Clean and Press", "snatch": "Snatch",
    "calf raise": "Standing Calf Raises", "box jump": "Front Box Jump",
    "mountain climber": "Mountain Climbers", "shrug": "Barbell Shrug",
    "good morning": "Good Morning", "farmer walk": "Farmer's Walk",
    "farmers walk": "Farmer's Walk", "farmer's walk": "Farmer's Walk",
    "russian twist": "Russian Twist", "rowing machine": "Rowing, Stationary",
    "rower": "Rowing, Stationary", "erg": "Rowing, Stationary", "jump rope": "Rope Jumping",
    "skipping rope": "Rope Jumping",
}  # fmt: skip

FOOD_ALIASES: dict[str, str] = {
    "egg": "Egg, whole, raw, fresh", "whole egg": "Egg, whole, raw, fresh",
    "scrambled egg": "Egg, whole, cooked, scrambled",
    "boiled egg": "Egg, whole, cooked, hard-boiled",
    "hard boiled egg": "Egg, whole, cooked, hard-boiled", "fried egg": "Egg, whole, cooked, fried",
    "omelette": "Egg, whole, cooked, omelet", "omelet": "Egg, whole, cooked, omelet",
    "egg white": "Egg, white, raw, fresh",
    "chicken breast": "Chicken, broilers or fryers, breast, meat only, cooked, roasted",
    "chicken": "Chicken, broilers or fryers, breast, meat only, cooked, roasted",
    "grilled chicken": "Chicken, broilers or fryers, breast, meat only, cooked, roasted",
    "oat": "Cereals, oats, regular and quick, not fortified, dry",
    "oatmeal": "Cereals, oats, regular and quick, not fortified, dry",
    "porridge": "Cereals, oats, regular and quick, not fortified, dry",
    "rolled oat": "Cereals, oats, regular and quick, not fortified, dry",
    "rice": "Rice, white, long-grain, regular, enriched, cooked",
    "white rice": "Rice, white, long-grain, regular, enriched, cooked",
    "brown rice": "Rice, brown, long-grain, cooked", "banana": "Bananas, raw",
    "apple": "Apples, raw, with skin", "orange": "Oranges, raw, all commercial varieties",
    "blueberry": "Blueberries, raw", "blueberrie": "Blueberries, raw",
    "strawberry": "Strawberries, raw", "strawberrie": "Strawberries, raw",
    "avocado": "Avocados, raw, all commercial varieties",
    "milk": "Milk, reduced fat, fluid, 2% milkfat, with added vitamin A and vitamin D",
    "whole milk": "Milk, whole, 3.25% milkfat, with added vitamin D",
    "skim milk": "Milk, nonfat, fluid, with added vitamin A and vitamin D (fat free or skim)",
    "skimmed milk": "Milk, nonfat, fluid, with added vitamin A and vitamin D (fat free or skim)",
    "greek yogurt": "Yogurt, Greek, plain, nonfat", "greek yoghurt": "Yogurt, Greek, plain, nonfat",
    "yogurt": "Yogurt, plain, whole milk, 8 grams protein per 8 ounce",
    "yoghurt": "Yogurt, plain, whole milk, 8 grams protein per 8 ounce",
    "salmon": "Fish, salmon, Atlantic, farmed, cooked, dry heat",
    "tuna": "Fish, tuna, light, canned in water, drained solids",
    "cod": "Fish, cod, Atlantic, cooked, dry heat",
    "broccoli": "Broccoli, cooked, boiled, drained, without salt", "spinach": "Spinach, raw",
    "carrot": "Carrots, raw", "cucumber": "Cucumber, with peel, raw",
    "tomato": "Tomatoes, red, ripe, raw, year round average",
    "tomatoe": "Tomatoes, red, ripe, raw, year round average",
    "salad": "Lettuce, cos or romaine, raw", "lettuce": "Lettuce, cos or romaine, raw",
    "bread": "Bread, whole-wheat, commercially prepared",
    "whole wheat bread": "Bread, whole-wheat, commercially prepared",
    "wholemeal bread": "Bread, whole-wheat, commercially prepared",
    "toast": "Bread, whole-wheat, commercially prepared, toasted",
    "white bread": "Bread, white, commercially prepared (includes soft bread crumbs)",
    "pasta": "Pasta, cooked, enriched, without added salt",
    "coffee": "Beverages, coffee, brewed, prepared with tap water",
    "peanut butter": "Peanut butter, smooth style, without salt", "almond": "Nuts, almonds",
    "sweet potato": "Sweet potato, cooked, baked in skin, flesh, without salt",
    "sweet potatoe": "Sweet potato, cooked, baked in skin, flesh, without salt",
    "potato": "Potatoes, baked, flesh and skin, without salt",
    "potatoe": "Potatoes, baked, flesh and skin, without salt",
    "whey": "Beverages, Whey protein powder isolate",
    "whey protein": "Beverages, Whey protein powder isolate",
    "protein shake": "Beverages, Whey protein powder isolate",
    "protein powder": "Beverages, Whey protein powder isolate",
    "cottage cheese": "Cheese, cottage, lowfat, 2% milkfat", "cheese": "Cheese, cheddar",
    "cheddar": "Cheese, cheddar", "mozzarella": "Cheese, mozzarella, whole milk",
    "tofu": "Tofu, raw, firm, prepared with calcium sulfate",
    "lentil": "Lentils, mature seeds, cooked, boiled, without salt",
    "black bean": "Beans, black, mature seeds, cooked, boiled, without salt",
    "kidney bean": "Beans, kidney, all types, mature seeds, cooked, boiled, without salt",
    "chickpea": (
        "Chickpeas (garbanzo beans, bengal gram), mature seeds, cooked, boiled, without salt"
    ),
    "hummus": "Hummus, commercial", "quinoa": "Quinoa, cooked",
    "ground beef": "Beef, ground, 90% lean meat / 10% fat, crumbles, cooked, pan-browned",
    "minced beef": "Beef, ground, 90% lean meat / 10% fat, crumbles, cooked, pan-browned",
    "mince": "Beef, ground, 90% lean meat / 10% fat, crumbles, cooked, pan-browned",
    "olive oil": "Oil, olive, salad or cooking", "butter": "Butter, salted", "honey": "Honey",
    "orange juice": "Orange juice, raw", "granola": "Cereals ready-to-eat, granola, homemade",
}  # fmt: skip

# Everyday words for the curated vocabularies, by slug (used only when the slug exists).
MODALITY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "strength_training": ("strength training", "strength", "weight training", "weightlifting",
                          "weight lifting", "lifting weights", "lifting", "lift", "weights",
                          "resistance training", "gym training"),
    "olympic_weightlifting": ("olympic weightlifting", "olympic lifting", "oly lifting"),
    "running": ("running", "run", "jogging", "jog", "runs"),
    "cycling": ("cycling", "biking", "bike", "spinning", "spin class", "cycle"),
    "swimming": ("swimming", "swim", "laps in the pool"),
    "functional_fitness": ("crossfit", "functional fitness", "functional training"),
    "hiit": ("hiit", "high intensity interval training", "interval training", "intervals"),
    "martial_arts": ("martial arts", "bjj", "jiu jitsu", "judo", "karate", "mma", "taekwondo",
                     "kickboxing", "muay thai"),
    "team_sports": ("team sports", "football", "soccer", "basketball", "rugby", "volleyball",
                    "hockey", "netball", "handball"),
    "racket_sports": ("racket sports", "tennis", "squash", "badminton", "padel",
                      "table tennis"),
    "climbing": ("climbing", "bouldering", "rock climbing", "climb", "boulder"),
    "mobility": ("mobility", "stretching", "flexibility work"),
    "dance": ("dance", "dancing", "zumba", "ballet"),
    "tai_chi": ("tai chi", "qigong"),
    "kettlebell_training": ("kettlebell training", "kettlebells", "kettlebell"),
    "calisthenics": ("calisthenics", "bodyweight training", "street workout"),
    "circuit_training": ("circuit training", "circuits", "bootcamp", "boot camp"),
    "walking": ("walking", "walks", "walk"), "hiking": ("hiking", "hikes", "hike", "trekking"),
}  # fmt: skip
MEAL_TIME_SYNONYMS: dict[str, tuple[str, ...]] = {
    "breakfast": ("breakfast", "breakfasts"),
    "morning_snack": ("morning snack", "mid-morning snack", "mid morning snack", "elevenses"),
    "brunch": ("brunch",), "lunch": ("lunch", "lunches", "lunchtime"),
    "afternoon_snack": ("afternoon snack",),
    "snack": ("snack", "snacks"),
    "pre_workout": ("pre-workout meal", "pre-workout", "pre workout", "preworkout",
                    "before training", "before my workout", "before the gym"),
    "post_workout": ("post-workout meal", "post-workout", "post workout", "postworkout",
                     "after training", "after my workout", "after the gym"),
    "dinner": ("dinner", "dinners", "supper", "evening meal"),
    "evening_snack": ("evening snack", "late snack", "bedtime snack", "snack before bed"),
}  # fmt: skip
EVENT_TYPE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "half_marathon": ("half marathon", "half-marathon"),
    "marathon": ("marathon",), "race_10k": ("10k", "10 k", "10 km race", "10k race"),
    "race_5k": ("5k", "5 k", "5 km race", "5k race", "parkrun"),
    "wedding": ("wedding",), "photoshoot": ("photoshoot", "photo shoot"),
    "physique_competition": ("physique competition", "bodybuilding show",
                             "bodybuilding competition", "bikini competition"),
    "powerlifting_meet": ("powerlifting meet", "powerlifting competition", "powerlifting comp"),
    "weightlifting_meet": ("weightlifting meet", "weightlifting competition"),
    "beach_holiday": ("beach holiday", "holiday", "vacation", "beach trip"),
    "ski_trip": ("ski trip", "skiing trip", "ski holiday"),
    "hiking_trip": ("hiking trip", "trek", "trekking trip", "hike"),
    "triathlon": ("triathlon", "ironman"),
    "obstacle_race": ("obstacle race", "obstacle course race", "spartan race", "tough mudder"),
    "combat_sports_bout": ("fight", "bout", "boxing match"),
    "sports_tournament": ("tournament",), "sports_season": ("season",),
    "fitness_test": ("fitness test", "army test", "police test", "beep test"),
    "strength_test": ("strength test", "testing day", "mock meet"),
    "medical_procedure": ("surgery", "operation", "medical procedure"),
    "business_travel": ("business trip", "business travel", "work trip"),
    "cycling_event": ("cycling event", "sportive", "gran fondo", "bike race"),
    "special_occasion": ("birthday", "reunion", "party", "special occasion", "anniversary"),
}  # fmt: skip

# ------------------------------------------------------------ text helpers ---

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_ARTICLES = re.compile(r"^(?:(?:the|a|an|some|my|of|with)\s+)+")


def _key(text: str) -> str:
    """An alias key: lower case, punctuation and hyphens as spaces, no leading article."""
    text = re.sub(r"[^a-z0-9' ]+", " ", text.casefold().replace("\u2019", "'"))
    return _ARTICLES.sub("", re.sub(r"\s+", " ", text).strip())


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def words(text: str) -> list[str]:
    """Lower-case stemmed words of ``text`` ("Pull-Ups" → ["pull", "up"])."""
    return [_stem(w) for w in _WORD.findall(text.casefold().replace("\u2019", "'"))]


def _similar(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if min(len(a), len(b)) >= 4 and (b.startswith(a) or a.startswith(b)):
        return 0.9  # "deadlift" / "deadlifting"
    return difflib.SequenceMatcher(None, a, b).ratio()


def alias(text: str, aliases: dict[str, str]) -> str | None:
    """The catalogue name an everyday phrase stands for ("Pull-ups" → "Pullups"), typos
    tolerated for phrases of 5+ letters ("chiken brest" → the chicken breast row)."""
    key = _key(text)
    if not key:
        return None
    candidates = [key, " ".join(_stem(w) for w in key.split())]
    candidates += [c.rstrip("s") for c in candidates]
    for candidate in candidates:
        if candidate in aliases:
            return aliases[candidate]
    if len(key) >= 5:
        close = difflib.get_close_matches(candidates[1], list(aliases), n=1, cutoff=0.8)
        if close and close[0][0] == candidates[1][0]:
            return aliases[close[0]]
    return None


_BRAND = re.compile(r"\b[A-Z][A-Z'&.]{2,}\b")
_NICHE_FOOD = re.compile(
    r"babyfood|baby food|fast foods?|restaurant|alaska native|navajo|hopi|shoshone|apache|"
    r"candies|infant formula|snacks,|school lunch|usda commodity|industrial",
    re.IGNORECASE,
)


def score(query: str, name: str, kind: Kind) -> float:
    """How well catalogue ``name`` answers ``query`` (higher is better; 10 for an exact name).

    Mean best similarity of the query's words to the name's words, minus a
    little for every name word the query does not mention (plainer names win);
    for foods, a bonus when the query names the food's head (before the first
    comma) and a penalty for brands and niche groups (baby food, restaurants)
    the query does not ask for.
    """
    if _key(query) == _key(name):
        return 10.0
    q, n = words(query), words(name)
    if not q or not n:
        return 0.0
    coverage = sum(max(_similar(w, x) for x in n) for w in q) / len(q)
    matched = sum(1 for x in n if max(_similar(w, x) for w in q) >= 0.8)
    value = coverage - 0.06 * (len(n) - matched)
    if kind == "food":
        head = words(name.split(",")[0])
        if head and all(max(_similar(h, w) for w in q) >= 0.8 for h in head):
            value += 0.25
        lowered = _key(query)
        if _BRAND.search(name) and not _BRAND.search(query):
            value -= 0.3
        niche = _NICHE_FOOD.search(name)
        if niche and _key(niche.group(0)) not in lowered:
            value -= 0.5
        if re.search(r"\braw\b", name, re.IGNORECASE):
            value += 0.02
    return value


def covers(query: str, name: str, kind: Kind = "exercise") -> bool:
    """Whether ``name`` plausibly is what ``query`` names: every query word (stemmed)
    matches a word of the name closely, and for a food, one of them matches a word
    of the food's head (the part before the first comma: "Dates, medjool" is no "data")."""
    q, n = words(query), words(name)
    if not q or not n or not all(max(_similar(w, x) for x in n) >= 0.8 for w in q):
        return False
    if kind == "food":
        head = words(name.split(",")[0])
        return any(max(_similar(w, h) for h in head) >= 0.8 for w in q)
    return True


def plausible(query: str, name: str) -> bool:
    """Whether every word of ``query`` (2+ letters) is close to some word of ``name``: what
    the search RPCs accept, a little stricter (typos pass, look-alike noise does not)."""
    q = [w for w in words(query) if len(w) >= 2]
    n = words(name)
    return bool(q) and bool(n) and all(max(_similar(w, x) for x in n) >= 0.7 for w in q)


def rank(query: str, candidates: Iterable[ReferenceMatch], kind: Kind) -> list[ReferenceMatch]:
    """Candidates best first (see :func:`score`); ties keep the search's order."""
    listed = list(candidates)
    order = {id(c): i for i, c in enumerate(listed)}
    return sorted(listed, key=lambda c: (-score(query, c.name, kind), order[id(c)]))


# ---------------------------------------------------------------- lookups ---


class DatabaseLookup:
    """ReferenceLookup over a connection inside the caller's transaction (as the user).

    Exercises and foods go through ``public.search_exercises`` /
    ``public.search_foods`` (typo-tolerant trigram search, security invoker);
    results are re-ranked (:func:`rank`) and cached per instance. Everyday
    names and exact catalogue names resolve by an exact-name query first.
    """

    CANDIDATES = 30

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn
        self._cache: dict[tuple[str, str, int], list[ReferenceMatch]] = {}
        self._vocabularies: dict[str, list[ReferenceMatch]] = {}

    def _rows(self, query: str, params: Sequence[object]) -> list[ReferenceMatch]:
        with self._conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(query, params)
            return [ReferenceMatch(id=str(row[0]), name=str(row[1])) for row in cur.fetchall()]

    def _search(self, kind: Kind, text: str, limit: int) -> list[ReferenceMatch]:
        text = " ".join(text.split())[:200]
        key = (kind, text.casefold(), limit)
        if key in self._cache:
            return self._cache[key]
        table, function = (
            ("exercises", "search_exercises")
            if kind == "exercise"
            else (
                "foods",
                "search_foods",
            )
        )
        aliases = EXERCISE_ALIASES if kind == "exercise" else FOOD_ALIASES
        exact = [name for name in (text, alias(text, aliases)) if name]
        found = self._rows(
            f"select id, name from public.{table} where name = any(%s)",  # noqa: S608
            (exact,),
        )
        found.sort(key=lambda m: exact.index(m.name))
        if len(found) < limit and any(len(w) >= 2 for w in words(text)):
            searched = self._rows(
                f"select id, name from public.{function}(%s, %s)",  # noqa: S608
                (text, self.CANDIDATES),
            )
            seen = {m.id for m in found}
            found += [
                m
                for m in rank(text, searched, kind)
                if m.id not in seen and plausible(text, m.name)
            ]
        result = found[: max(limit, 0)]
        self._cache[key] = result
        return result

    def exercises(self, text: str, limit: int = 5) -> list[ReferenceMatch]:
        """Up to ``limit`` exercises named ``text``, best first ([] when none is plausible)."""
        return self._search("exercise", text, limit)

    def foods(self, text: str, limit: int = 5) -> list[ReferenceMatch]:
        """Up to ``limit`` foods named ``text``, best first ([] when none is plausible)."""
        return self._search("food", text, limit)

    def _vocabulary(self, table: str) -> list[ReferenceMatch]:
        if table not in self._vocabularies:
            self._vocabularies[table] = self._rows(
                f"select id, name from public.{table} order by id",  # noqa: S608
                (),
            )
        return list(self._vocabularies[table])

    def modalities(self) -> list[ReferenceMatch]:
        return self._vocabulary("training_modalities")

    def meal_times(self) -> list[ReferenceMatch]:
        return self._vocabulary("meal_times")

    def event_types(self) -> list[ReferenceMatch]:
        return self._vocabulary("event_types")


class StaticLookup:
    """ReferenceLookup over in-memory rows: the same aliases, matching and ranking."""

    def __init__(
        self,
        *,
        exercises: Sequence[ReferenceMatch] = (),
        foods: Sequence[ReferenceMatch] = (),
        modalities: Sequence[ReferenceMatch] = (),
        meal_times: Sequence[ReferenceMatch] = (),
        event_types: Sequence[ReferenceMatch] = (),
    ) -> None:
        self._exercises = list(exercises)
        self._foods = list(foods)
        self._modalities = list(modalities)
        self._meal_times = list(meal_times)
        self._event_types = list(event_types)
        self.queries = 0

    def _search(
        self, rows: Sequence[ReferenceMatch], kind: Kind, text: str, limit: int
    ) -> list[ReferenceMatch]:
        self.queries += 1
        aliases = EXERCISE_ALIASES if kind == "exercise" else FOOD_ALIASES
        exact = [name for name in (text.strip(), alias(text, aliases)) if name]
        found = sorted((r for r in rows if r.name in exact), key=lambda r: exact.index(r.name))
        seen = {r.id for r in found}
        found += rank(text, [r for r in rows if r.id not in seen and plausible(text, r.name)], kind)
        return found[: max(limit, 0)]

    def exercises(self, text: str, limit: int = 5) -> list[ReferenceMatch]:
        return self._search(self._exercises, "exercise", text, limit)

    def foods(self, text: str, limit: int = 5) -> list[ReferenceMatch]:
        return self._search(self._foods, "food", text, limit)

    def modalities(self) -> list[ReferenceMatch]:
        return list(self._modalities)

    def meal_times(self) -> list[ReferenceMatch]:
        return list(self._meal_times)

    def event_types(self) -> list[ReferenceMatch]:
        return list(self._event_types)


# ------------------------------------------------------ names inside text ---


@dataclass(frozen=True)
class TextMatch:
    """A reference row recognised inside a text: the row, the span and the words used."""

    match: ReferenceMatch
    start: int
    end: int
    phrase: str


# Words that never start, end or make up a name inside a sentence.
_STOPWORD_TEXT = """
    i i'm im i've ive i'd id i'll me my mine myself we our you your it its it's they them
    their those these this that the a an some any all both each every either few couple lot
    lots plenty of with without and or plus but also too as well at in on for to from by
    about around roughly approx approximately usually normally typically often sometimes
    always never mostly mainly mostly really very fairly pretty quite rather somewhat bit
    little much more less most do does did doing done have has had having eat eats eating ate
    drink drinks drinking like likes love loves enjoy enjoys know knows can could would will
    should shall am is are was were be been being get gets got go goes going went feel feels
    felt make makes made try tried not no yes yeah okay ok comfortable confident comfort
    level rate rating say think guess maybe probably just only then than so because when
    while if there here what which who how out up down over under into off again already
    still now today day days week weeks month months year years time times morning mornings
    evening evenings afternoon afternoons night nights daily weekly regularly rarely
    occasionally frequently every each rep reps set sets x kg kgs lb lbs g gram grams min
    mins minute minutes hour hours exercise exercises movement movements stuff thing things
    train training workout workouts gym home session sessions cup cups glass bowl slice
    slices piece pieces scoop handful tablespoon tbsp teaspoon tsp portion serving big small
    large medium beginner intermediate advanced expert good great fine decent ok unsure
    nervous shaky confident well new old usual meal meals breakfast lunch dinner supper
    snack snacks brunch food foods diet typical typically include includes including
    sure definitely done lately recently since ago last next first second main favourite
    favorite kind sort type types other others else etc one two three four five six seven
    eight nine ten dozen half quarter twice once
    """
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_SEPARATORS = frozenset({"and", "or", "plus", "with", "then", "but", "also", "nor", "&"})
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['\u2019-][A-Za-z0-9]+)*|[^\sA-Za-z0-9]")
_MAX_RUN = 5


def _content_runs(text: str, blocked: Sequence[tuple[int, int]]) -> list[list[re.Match[str]]]:
    runs: list[list[re.Match[str]]] = []
    current: list[re.Match[str]] = []
    for m in _TOKEN.finditer(text):
        token = m.group(0).casefold().replace("\u2019", "'")
        inside = any(s < m.end() and m.start() < e for s, e in blocked)
        content = (
            not inside
            and token[0].isalpha()
            and token not in STOPWORDS
            and token not in _SEPARATORS
            and len(token) >= 2
        )
        if content:
            current.append(m)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _find_names(
    text: str,
    search: Callable[[str, int], list[ReferenceMatch]],
    aliases: dict[str, str],
    kind: Kind,
    max_queries: int,
) -> list[TextMatch]:
    found: list[TextMatch] = []
    # 1. Everyday names, longest first (also those holding "and": "clean and jerk").
    for key in sorted(aliases, key=len, reverse=True):
        if " and " not in key:
            continue
        body = r"[\s-]+".join(re.escape(part) for part in key.split())
        pattern = re.compile(rf"\b{body}s?\b", re.IGNORECASE)
        for m in pattern.finditer(text):
            if any(f.start < m.end() and m.start() < f.end for f in found):
                continue
            matches = search(m.group(0), 1)
            if matches:
                found.append(TextMatch(matches[0], m.start(), m.end(), m.group(0)))
    # 2. Runs of content words; the longest window that names a row wins.
    queries = 0
    blocked = [(f.start, f.end) for f in found]
    for run in _content_runs(text, blocked):
        pending = [run]
        while pending and queries < max_queries:
            tokens = pending.pop(0)
            hit = None
            for size in range(min(len(tokens), _MAX_RUN), 0, -1):
                for first in range(0, len(tokens) - size + 1):
                    window = tokens[first : first + size]
                    phrase = text[window[0].start() : window[-1].end()]
                    if size == 1 and len(phrase) < 3:
                        continue
                    known = alias(phrase, aliases)
                    if known is None and queries >= max_queries:
                        continue
                    queries += 1
                    matches = search(phrase, 1 if known else 5)
                    best = next(
                        (
                            match
                            for match in matches
                            if match.name == known or covers(phrase, match.name, kind)
                        ),
                        None,
                    )
                    if best is not None:
                        hit = (first, size, best, phrase)
                        break
                if hit:
                    break
            if hit is None:
                continue
            first, size, best, phrase = hit
            window = tokens[first : first + size]
            found.append(TextMatch(best, window[0].start(), window[-1].end(), phrase))
            for rest in (tokens[:first], tokens[first + size :]):
                if rest:
                    pending.append(rest)
    return sorted(found, key=lambda f: f.start)


def find_exercises_in_text(
    lookup: ReferenceLookup, text: str, *, max_queries: int = 12
) -> list[TextMatch]:
    """Every exercise named in ``text`` ("I do squats, bench press and deadlifts" → 3).

    Candidate phrases are runs of content words between separators (commas,
    "and", "plus", "with", ...) and filler words; in each run the longest window
    (up to five words) whose best search result covers all its words is taken,
    then the rest of the run is searched again. At most ``max_queries`` searches.
    """
    return _find_names(text, lookup.exercises, EXERCISE_ALIASES, "exercise", max_queries)


def find_foods_in_text(
    lookup: ReferenceLookup, text: str, *, max_queries: int = 12
) -> list[TextMatch]:
    """Every food named in ``text`` ("oats with milk and a banana" → 3 foods)."""
    return _find_names(text, lookup.foods, FOOD_ALIASES, "food", max_queries)


@functools.lru_cache(maxsize=32)
def _vocabulary_matcher(
    rows: tuple[ReferenceMatch, ...], synonyms: tuple[tuple[str, tuple[str, ...]], ...]
) -> tuple[re.Pattern[str], dict[str, ReferenceMatch]]:
    """One compiled pattern for a vocabulary (longest phrases first) and phrase → row."""
    extra = dict(synonyms)
    table: dict[str, ReferenceMatch] = {}
    for row in rows:
        for name in (row.name, row.id.replace("_", " "), *extra.get(row.id, ())):
            if _key(name):
                table.setdefault(_key(name), row)
    bodies = [
        r"[\s-]+".join(re.escape(part) for part in key.split())
        for key in sorted(table, key=len, reverse=True)
    ]
    pattern = re.compile(
        rf"(?<![\w-])(?:{'|'.join(bodies) or '(?!)'})(?:s|es)?(?![\w-])", re.IGNORECASE
    )
    return pattern, table


def _find_vocabulary(
    rows: Sequence[ReferenceMatch], synonyms: dict[str, tuple[str, ...]], text: str
) -> list[TextMatch]:
    pattern, table = _vocabulary_matcher(tuple(rows), tuple(sorted(synonyms.items())))
    found: list[TextMatch] = []
    for m in pattern.finditer(text):
        key = _key(m.group(0))
        row = table.get(key) or table.get(key[:-1]) or table.get(key[:-2])
        if row is not None:
            found.append(TextMatch(row, m.start(), m.end(), m.group(0)))
    return found


def find_modalities_in_text(lookup: ReferenceLookup, text: str) -> list[TextMatch]:
    """Training modalities named in ``text``, by name, slug or everyday word ("lifting")."""
    return _find_vocabulary(lookup.modalities(), MODALITY_SYNONYMS, text)


def find_meal_times_in_text(lookup: ReferenceLookup, text: str) -> list[TextMatch]:
    """Meal times named in ``text`` ("breakfast", "supper" → dinner, "after the gym")."""
    return _find_vocabulary(lookup.meal_times(), MEAL_TIME_SYNONYMS, text)


def find_event_types_in_text(lookup: ReferenceLookup, text: str) -> list[TextMatch]:
    """Event types named in ``text`` ("half marathon", "10k", "wedding")."""
    return _find_vocabulary(lookup.event_types(), EVENT_TYPE_SYNONYMS, text)
