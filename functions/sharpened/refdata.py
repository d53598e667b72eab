"""Reference data: parse ``data/`` and render the reference-data migration.

``python -m sharpened.refdata`` writes
``supabase/migrations/20261126000300_reference_data.sql`` from the source files
in ``data/`` (USDA SR28 foods, free-exercise-db exercises, the 2011 Compendium
of Physical Activities) and the curated vocabularies below (training
modalities, meal times, event types, common activities per activity category).
``--check`` exits 1 when the committed file differs from what it would write.

The parsers take the files' bytes or text and return typed records; only
:func:`load`, :func:`write` and :func:`main` touch the file system. The
rendering is deterministic: the same inputs give byte-identical SQL.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import html
import io
import json
import re
import sys
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sharpened.settings import PROJECT_ROOT

DATA_DIR = PROJECT_ROOT / "data"
MIGRATION = PROJECT_ROOT / "supabase" / "migrations" / "20261126000300_reference_data.sql"
COMMAND = "python -m sharpened.refdata"
BATCH_SIZE = 500

# Food ids are uuid5(FOOD_ID_NAMESPACE, "usda-sr28:<NDB_No>"): every database
# gets the same id for the same food. Never change this value.
FOOD_ID_NAMESPACE = uuid.UUID("6f1b7a52-3c0e-5d8a-9b41-2e7c5a9d0f13")
# Same scheme for the rows of activity_category_mets: "<category>:<code>".
ACTIVITY_MET_ID_NAMESPACE = uuid.UUID("0c8e4d3a-91f2-5b67-a4d0-7e3b2f6c1a58")

SR28_DIR = "usda-sr28"
EXERCISES_DIR = "exercises"
COMPENDIUM_DIR = "met-compendium-2011"

# ABBREV.txt and FOOD_DES.txt field order (data/usda-sr28/SOURCE.md).
ABBREV_FIELDS = (
    "NDB_No", "Shrt_Desc", "Water", "Energ_Kcal", "Protein", "Lipid_Tot", "Ash", "Carbohydrt",
    "Fiber_TD", "Sugar_Tot", "Calcium", "Iron", "Magnesium", "Phosphorus", "Potassium", "Sodium",
    "Zinc", "Copper", "Manganese", "Selenium", "Vit_C", "Thiamin", "Riboflavin", "Niacin",
    "Panto_acid", "Vit_B6", "Folate_Tot", "Folic_acid", "Food_Folate", "Folate_DFE",
    "Choline_Tot", "Vit_B12", "Vit_A_IU", "Vit_A_RAE", "Retinol", "Alpha_Carot", "Beta_Carot",
    "Beta_Crypt", "Lycopene", "Lut+Zea", "Vit_E", "Vit_D_mcg", "Vit_D_IU", "Vit_K", "FA_Sat",
    "FA_Mono", "FA_Poly", "Cholestrl", "GmWt_1", "GmWt_Desc1", "GmWt_2", "GmWt_Desc2",
    "Refuse_Pct",
)  # fmt: skip
FOOD_DES_FIELDS = (
    "NDB_No", "FdGrp_Cd", "Long_Desc", "Shrt_Desc", "ComName", "ManufacName", "Survey",
    "Ref_desc", "Refuse", "SciName", "N_Factor", "Pro_Factor", "Fat_Factor", "CHO_Factor",
)  # fmt: skip

ACTIVITY_CATEGORIES = ("cardio_steady", "cardio_interval", "strength", "sports", "flexibility")


class RefDataError(ValueError):
    """A source file does not look the way data/README.md and its SOURCE.md say."""


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Serving:
    description: str
    grams: Decimal


@dataclass(frozen=True)
class Food:
    id: uuid.UUID
    ndb_no: str
    name: str
    brand: str | None
    food_group: str
    kcal: Decimal
    protein_g: Decimal
    carbs_g: Decimal
    fat_g: Decimal
    fiber_g: Decimal | None
    sugar_g: Decimal | None
    sodium_mg: Decimal | None
    servings: tuple[Serving, ...]


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str
    category: str
    level: str
    mechanic: str | None
    force: str | None
    equipment: str | None
    primary_muscles: tuple[str, ...]
    secondary_muscles: tuple[str, ...]


@dataclass(frozen=True)
class MetValue:
    code: str
    heading: str
    description: str
    met: Decimal


@dataclass(frozen=True)
class ActivityCategoryMet:
    category: str
    met_code: str
    is_default: bool = False

    @property
    def id(self) -> uuid.UUID:
        return uuid.uuid5(ACTIVITY_MET_ID_NAMESPACE, f"{self.category}:{self.met_code}")


@dataclass(frozen=True)
class Modality:
    id: str
    name: str
    category: str
    activity_category: str
    met_code: str
    description: str


@dataclass(frozen=True)
class MealTime:
    id: str
    name: str
    typical_time: str
    sort_order: int
    description: str


@dataclass(frozen=True)
class EventType:
    id: str
    name: str
    category: str
    description: str


@dataclass(frozen=True)
class SourceFile:
    path: str
    sha256: str


@dataclass(frozen=True)
class ReferenceData:
    met_values: tuple[MetValue, ...]
    activity_category_mets: tuple[ActivityCategoryMet, ...]
    training_modalities: tuple[Modality, ...]
    meal_times: tuple[MealTime, ...]
    event_types: tuple[EventType, ...]
    exercises: tuple[Exercise, ...]
    foods: tuple[Food, ...]
    sources: tuple[SourceFile, ...]


# ------------------------------------------------------------ curated vocabularies
# Slugs are stable: other tables store them. Rename a label, never a slug.

ACTIVITY_CATEGORY_METS: tuple[ActivityCategoryMet, ...] = (
    # cardio_steady (default: 12020 "jogging, general", 7.0 MET)
    ActivityCategoryMet("cardio_steady", "12020", is_default=True),
    ActivityCategoryMet("cardio_steady", "12150"),  # running, (Taylor code 200)
    ActivityCategoryMet("cardio_steady", "17200"),  # walking, 3.5 mph, brisk, for exercise
    ActivityCategoryMet("cardio_steady", "17080"),  # hiking, cross country
    ActivityCategoryMet("cardio_steady", "01015"),  # bicycling, general
    ActivityCategoryMet("cardio_steady", "02010"),  # bicycling, stationary, general
    ActivityCategoryMet("cardio_steady", "02048"),  # elliptical trainer, moderate effort
    ActivityCategoryMet("cardio_steady", "02071"),  # rowing, stationary, general, moderate
    ActivityCategoryMet("cardio_steady", "02065"),  # stair-treadmill ergometer, general
    ActivityCategoryMet("cardio_steady", "18240"),  # swimming laps, freestyle, slow/moderate
    # cardio_interval (default: 02040 "circuit training ... minimal rest, vigorous", 8.0 MET)
    ActivityCategoryMet("cardio_interval", "02040", is_default=True),
    ActivityCategoryMet("cardio_interval", "02020"),  # calisthenics, vigorous effort
    ActivityCategoryMet("cardio_interval", "02019"),  # bicycling, stationary, RPM/Spin class
    ActivityCategoryMet("cardio_interval", "02062"),  # health club, conditioning classes
    ActivityCategoryMet("cardio_interval", "02068"),  # rope skipping, general
    ActivityCategoryMet("cardio_interval", "02008"),  # obstacle course, boot camp
    # strength (default: 02054 "resistance training, multiple exercises, 8-15 reps", 3.5 MET)
    ActivityCategoryMet("strength", "02054", is_default=True),
    ActivityCategoryMet("strength", "02050"),  # weight lifting, power lifting/body building
    ActivityCategoryMet("strength", "02052"),  # resistance training, squats
    ActivityCategoryMet("strength", "02022"),  # calisthenics, moderate effort
    ActivityCategoryMet("strength", "02035"),  # circuit training, moderate effort
    # sports (default: 15610 "soccer, casual, general", 7.0 MET)
    ActivityCategoryMet("sports", "15610", is_default=True),
    ActivityCategoryMet("sports", "15055"),  # basketball, general
    ActivityCategoryMet("sports", "15675"),  # tennis, general
    ActivityCategoryMet("sports", "15711"),  # volleyball, competitive, in gymnasium
    ActivityCategoryMet("sports", "15430"),  # martial arts, moderate pace
    ActivityCategoryMet("sports", "15110"),  # boxing, punching bag
    ActivityCategoryMet("sports", "15652"),  # squash, general
    ActivityCategoryMet("sports", "15255"),  # golf, general
    ActivityCategoryMet("sports", "15537"),  # rock climbing, low-to-moderate difficulty
    # flexibility (default: 02101 "stretching, mild", 2.3 MET)
    ActivityCategoryMet("flexibility", "02101", is_default=True),
    ActivityCategoryMet("flexibility", "02150"),  # yoga, Hatha
    ActivityCategoryMet("flexibility", "02160"),  # yoga, Power
    ActivityCategoryMet("flexibility", "02105"),  # pilates, general
    ActivityCategoryMet("flexibility", "15670"),  # tai chi, qi gong, general
)

TRAINING_MODALITIES: tuple[Modality, ...] = (
    Modality("strength_training", "Strength training", "strength", "strength", "02054",
             "General resistance training with free weights, machines or cables."),
    Modality("bodybuilding", "Bodybuilding", "strength", "strength", "02050",
             "Hypertrophy-focused resistance training, usually split by muscle group."),
    Modality("powerlifting", "Powerlifting", "strength", "strength", "02050",
             "Training the squat, bench press and deadlift for maximal strength."),
    Modality("olympic_weightlifting", "Olympic weightlifting", "strength", "strength", "02050",
             "The snatch and the clean and jerk, with their assistance lifts."),
    Modality("strongman", "Strongman", "strength", "strength", "02050",
             "Carries, stones, yoke, log and other odd-object strength events."),
    Modality("calisthenics", "Calisthenics", "strength", "strength", "02022",
             "Bodyweight strength training: push-ups, pull-ups, dips, squats, skills."),
    Modality("kettlebell_training", "Kettlebell training", "mixed", "cardio_interval", "02040",
             "Swings, snatches, get-ups and complexes with kettlebells."),
    Modality("functional_fitness", "Functional fitness", "mixed", "cardio_interval", "02062",
             "Mixed-modal conditioning classes combining lifting, gymnastics and cardio."),
    Modality("hiit", "High-intensity interval training", "mixed", "cardio_interval", "02040",
             "Short hard work intervals with short rests (HIIT, Tabata, intervals)."),
    Modality("circuit_training", "Circuit training", "mixed", "cardio_interval", "02035",
             "Stations of strength and conditioning exercises done back to back."),
    Modality("running", "Running", "endurance", "cardio_steady", "12150",
             "Road, track, trail or treadmill running."),
    Modality("walking", "Walking", "endurance", "cardio_steady", "17200",
             "Brisk walking for exercise, including treadmill walking."),
    Modality("hiking", "Hiking", "endurance", "cardio_steady", "17080",
             "Walking over hills and trails, with or without a pack."),
    Modality("cycling", "Cycling", "endurance", "cardio_steady", "01015",
             "Road, mountain or stationary cycling."),
    Modality("swimming", "Swimming", "endurance", "cardio_steady", "18240",
             "Pool or open-water swimming."),
    Modality("rowing", "Rowing", "endurance", "cardio_steady", "02071",
             "On-water rowing or the rowing ergometer."),
    Modality("triathlon", "Triathlon", "endurance", "cardio_steady", "12150",
             "Combined swim, bike and run training."),
    Modality("yoga", "Yoga", "mind_body", "flexibility", "02150",
             "Hatha, vinyasa, power or other yoga practice."),
    Modality("pilates", "Pilates", "mind_body", "flexibility", "02105",
             "Mat or reformer Pilates."),
    Modality("tai_chi", "Tai chi and qigong", "mind_body", "flexibility", "15670",
             "Slow, flowing movement practice."),
    Modality("mobility", "Mobility and stretching", "mobility", "flexibility", "02101",
             "Stretching, foam rolling and joint mobility work."),
    Modality("martial_arts", "Martial arts", "sport", "sports", "15430",
             "Judo, jiu-jitsu, karate, kickboxing, Muay Thai and similar."),
    Modality("boxing", "Boxing", "sport", "sports", "15110",
             "Bag work, pad work and sparring."),
    Modality("team_sports", "Team sports", "sport", "sports", "15610",
             "Soccer, basketball, volleyball, rugby, hockey and other team games."),
    Modality("racket_sports", "Racket sports", "sport", "sports", "15675",
             "Tennis, squash, badminton, padel and table tennis."),
    Modality("climbing", "Climbing", "sport", "sports", "15537",
             "Bouldering, indoor and outdoor rock climbing."),
    Modality("dance", "Dance", "mixed", "cardio_steady", "03031",
             "Dance classes and social dancing."),
)  # fmt: skip

MEAL_TIMES: tuple[MealTime, ...] = (
    MealTime("breakfast", "Breakfast", "07:30", 10, "The first meal of the day."),
    MealTime("morning_snack", "Morning snack", "10:00", 20,
             "A snack between breakfast and lunch."),
    MealTime("brunch", "Brunch", "10:30", 25,
             "A late breakfast that replaces breakfast and lunch."),
    MealTime("lunch", "Lunch", "12:30", 30, "The midday meal."),
    MealTime("snack", "Snack", "15:00", 35, "A snack at any time of day."),
    MealTime("afternoon_snack", "Afternoon snack", "15:30", 40,
             "A snack between lunch and dinner."),
    MealTime("pre_workout", "Pre-workout meal", "16:30", 50,
             "Eaten 1 to 3 hours before training."),
    MealTime("post_workout", "Post-workout meal", "18:30", 60,
             "Eaten within 2 hours after training."),
    MealTime("dinner", "Dinner", "19:30", 70, "The evening meal."),
    MealTime("evening_snack", "Evening snack", "21:30", 80, "A snack before bed."),
)  # fmt: skip

EVENT_TYPES: tuple[EventType, ...] = (
    EventType("powerlifting_meet", "Powerlifting meet", "competition",
              "A powerlifting competition (squat, bench press, deadlift)."),
    EventType("weightlifting_meet", "Weightlifting meet", "competition",
              "An Olympic weightlifting competition (snatch, clean and jerk)."),
    EventType("combat_sports_bout", "Combat sports bout", "competition",
              "A fight or grading with a weigh-in (boxing, MMA, judo, wrestling)."),
    EventType("sports_tournament", "Sports tournament", "competition",
              "A tournament or important match in a team or racket sport."),
    EventType("sports_season", "Start of a sports season", "competition",
              "The start of a competitive season to be in shape for."),
    EventType("race_5k", "5K race", "endurance_race", "A 5-kilometre running race."),
    EventType("race_10k", "10K race", "endurance_race", "A 10-kilometre running race."),
    EventType("half_marathon", "Half marathon", "endurance_race", "A 21.1-kilometre running race."),
    EventType("marathon", "Marathon", "endurance_race", "A 42.2-kilometre running race."),
    EventType("triathlon", "Triathlon", "endurance_race", "A swim-bike-run race at any distance."),
    EventType("cycling_event", "Cycling event", "endurance_race",
              "A cycling race, gran fondo or sportive."),
    EventType("obstacle_race", "Obstacle course race", "endurance_race",
              "An obstacle course race (e.g. Spartan, Tough Mudder)."),
    EventType("physique_competition", "Physique competition", "aesthetic",
              "A bodybuilding, physique or bikini show."),
    EventType("photoshoot", "Photoshoot", "aesthetic", "A planned photoshoot."),
    EventType("beach_holiday", "Beach holiday", "travel", "A holiday to look and feel good for."),
    EventType("hiking_trip", "Hiking or trekking trip", "travel",
              "A multi-day hike, trek or mountain trip."),
    EventType("ski_trip", "Ski trip", "travel", "A skiing or snowboarding holiday."),
    EventType("business_travel", "Business travel", "travel",
              "Travel that disrupts training and meals."),
    EventType("wedding", "Wedding", "life_event", "A wedding (one's own or as a guest)."),
    EventType("special_occasion", "Special occasion", "life_event",
              "A reunion, birthday or other occasion."),
    EventType("medical_procedure", "Medical procedure", "life_event",
              "A planned surgery or procedure that interrupts training."),
    EventType("fitness_test", "Fitness test", "test",
              "A physical test to pass (military, police, firefighter, school)."),
    EventType("strength_test", "Strength test day", "test",
              "A planned one-repetition-maximum or rep-max test."),
    EventType("other", "Other event", "other", "Any other dated goal."),
)  # fmt: skip


# ------------------------------------------------------------------------ USDA SR28


def _decimal(value: str | None, what: str) -> Decimal:
    if value is None or not re.fullmatch(r"\d+(\.\d+)?", value):
        raise RefDataError(f"{what}: expected a non-negative number, got {value!r}")
    return Decimal(value)


def _optional_decimal(value: str | None, what: str) -> Decimal | None:
    return None if value is None else _decimal(value, what)


def _sr28_field(raw: str, where: str) -> str | None:
    """One ``^``-separated field: ``~text~`` or a bare number; empty means missing."""
    if raw.startswith("~"):
        if len(raw) < 2 or not raw.endswith("~") or "~" in raw[1:-1]:
            raise RefDataError(f"{where}: malformed text field {raw!r}")
        raw = raw[1:-1]
    return raw or None


def parse_sr28_file(data: bytes, fields: Sequence[str], name: str) -> list[dict[str, str | None]]:
    """The records of an SR28 ``^``/``~`` file (CRLF lines, Windows-1252 text, no header)."""
    text = data.decode("cp1252")
    if not text.endswith("\r\n"):
        raise RefDataError(f"{name}: expected CRLF line ends")
    records: list[dict[str, str | None]] = []
    for number, line in enumerate(text[:-2].split("\r\n"), start=1):
        if "\n" in line or "\r" in line:
            raise RefDataError(f"{name}:{number}: a bare CR or LF inside a line")
        values = line.split("^")
        if len(values) != len(fields):
            raise RefDataError(f"{name}:{number}: {len(values)} fields, expected {len(fields)}")
        where = f"{name}:{number}"
        records.append(
            {field: _sr28_field(value, where) for field, value in zip(fields, values, strict=True)}
        )
    return records


def parse_food_groups(source_md: str) -> dict[str, tuple[str, int]]:
    """FdGrp_Cd → (name, number of foods), from the table in usda-sr28/SOURCE.md."""
    groups = {
        code: (name.strip(), int(count.replace(",", "")))
        for code, name, count in re.findall(
            r"^\| (\d{4}) \| ([^|]+) \| ([\d,]+) \|$", source_md, flags=re.MULTILINE
        )
    }
    if not groups:
        raise RefDataError("usda-sr28/SOURCE.md: no food group table found")
    return groups


def _servings(record: dict[str, str | None], ndb_no: str) -> tuple[Serving, ...]:
    servings: list[Serving] = []
    for n in (1, 2):
        grams, description = record[f"GmWt_{n}"], record[f"GmWt_Desc{n}"]
        if grams is None:  # a measure without a gram weight cannot be used (NDB 42063)
            continue
        if description is None:
            raise RefDataError(f"ABBREV.txt {ndb_no}: GmWt_{n} without a description")
        weight = _decimal(grams, f"ABBREV.txt {ndb_no} GmWt_{n}")
        if weight <= 0:
            raise RefDataError(f"ABBREV.txt {ndb_no}: GmWt_{n} is not positive")
        servings.append(Serving(description, weight))
    return tuple(servings)


def food_id(ndb_no: str) -> uuid.UUID:
    """The stable id of a USDA SR28 food in public.foods."""
    return uuid.uuid5(FOOD_ID_NAMESPACE, f"usda-sr28:{ndb_no}")


def parse_sr28(abbrev: bytes, food_des: bytes, source_md: str) -> tuple[Food, ...]:
    """All SR28 foods, ordered by NDB_No."""
    groups = parse_food_groups(source_md)
    descriptions: dict[str, dict[str, str | None]] = {}
    for record in parse_sr28_file(food_des, FOOD_DES_FIELDS, "FOOD_DES.txt"):
        key = record["NDB_No"]
        if key is None or key in descriptions:
            raise RefDataError(f"FOOD_DES.txt: missing or repeated NDB_No {key!r}")
        descriptions[key] = record
    foods: dict[str, Food] = {}
    for record in parse_sr28_file(abbrev, ABBREV_FIELDS, "ABBREV.txt"):
        ndb_no = record["NDB_No"]
        if ndb_no is None or not re.fullmatch(r"\d{5}", ndb_no) or ndb_no in foods:
            raise RefDataError(f"ABBREV.txt: bad or repeated NDB_No {ndb_no!r}")
        described = descriptions.get(ndb_no)
        if described is None:
            raise RefDataError(f"ABBREV.txt: NDB_No {ndb_no} is not in FOOD_DES.txt")
        name, group_code = described["Long_Desc"], described["FdGrp_Cd"]
        if name is None or group_code not in groups:
            raise RefDataError(f"FOOD_DES.txt {ndb_no}: no Long_Desc or unknown FdGrp_Cd")

        foods[ndb_no] = Food(
            id=food_id(ndb_no),
            ndb_no=ndb_no,
            name=name,
            brand=described["ManufacName"],
            food_group=groups[group_code][0],
            kcal=_decimal(record["Energ_Kcal"], f"ABBREV.txt {ndb_no} Energ_Kcal"),
            protein_g=_decimal(record["Protein"], f"ABBREV.txt {ndb_no} Protein"),
            carbs_g=_decimal(record["Carbohydrt"], f"ABBREV.txt {ndb_no} Carbohydrt"),
            fat_g=_decimal(record["Lipid_Tot"], f"ABBREV.txt {ndb_no} Lipid_Tot"),
            fiber_g=_optional_decimal(record["Fiber_TD"], f"ABBREV.txt {ndb_no} Fiber_TD"),
            sugar_g=_optional_decimal(record["Sugar_Tot"], f"ABBREV.txt {ndb_no} Sugar_Tot"),
            sodium_mg=_optional_decimal(record["Sodium"], f"ABBREV.txt {ndb_no} Sodium"),
            servings=_servings(record, ndb_no),
        )
    if foods.keys() != descriptions.keys():
        raise RefDataError("ABBREV.txt and FOOD_DES.txt do not hold the same NDB_No keys")
    counts = Counter(
        described["FdGrp_Cd"] for described in descriptions.values() if described["FdGrp_Cd"]
    )
    expected = {code: count for code, (_name, count) in groups.items()}
    if dict(counts) != expected:
        raise RefDataError("food group counts differ from the table in usda-sr28/SOURCE.md")
    return tuple(foods[key] for key in sorted(foods))


# ------------------------------------------------------------------------ exercises


def snake_case(value: str) -> str:
    """``"lower back"`` → ``lower_back``, ``"e-z curl bar"`` → ``e_z_curl_bar``."""
    return re.sub(r"[^a-z0-9]+", "_", value.strip().lower()).strip("_")


def _optional_slug(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise RefDataError(f"{what}: expected a non-empty string or null, got {value!r}")
    return snake_case(value)


def _slugs(value: object, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RefDataError(f"{what}: expected a list of strings")
    return tuple(snake_case(item) for item in value)


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RefDataError(f"{what}: expected a non-empty string, got {value!r}")
    return value


def parse_exercises(text: str) -> tuple[Exercise, ...]:
    """The free-exercise-db records, vocabulary values snake_cased, ordered by id."""
    records = json.loads(text)
    if not isinstance(records, list):
        raise RefDataError("exercises.json: expected a JSON array")
    exercises: dict[str, Exercise] = {}
    for number, record in enumerate(records):
        if not isinstance(record, dict):
            raise RefDataError(f"exercises.json[{number}]: expected an object")
        exercise_id = _text(record.get("id"), f"exercises.json[{number}].id")
        where = f"exercises.json {exercise_id}"
        if exercise_id in exercises:
            raise RefDataError(f"{where}: repeated id")
        exercises[exercise_id] = Exercise(
            id=exercise_id,
            name=_text(record.get("name"), f"{where} name"),
            category=snake_case(_text(record.get("category"), f"{where} category")),
            level=snake_case(_text(record.get("level"), f"{where} level")),
            mechanic=_optional_slug(record.get("mechanic"), f"{where} mechanic"),
            force=_optional_slug(record.get("force"), f"{where} force"),
            equipment=_optional_slug(record.get("equipment"), f"{where} equipment"),
            primary_muscles=_slugs(record.get("primaryMuscles"), f"{where} primaryMuscles"),
            secondary_muscles=_slugs(record.get("secondaryMuscles"), f"{where} secondaryMuscles"),
        )
    return tuple(exercises[key] for key in sorted(exercises))


# ----------------------------------------------------------------------- Compendium

COMPENDIUM_HEADER = (
    ["1993 Compendium", "1993 Compendium", "2000 Compendium", "2000 Compendium",
     "2011 Compendium", "2011 Compendium", "Description", "Category"],
    ["Codes", "METs", "Codes", "METs", "Codes", "METs", "", ""],
)  # fmt: skip


def _repair_text(value: str) -> str:
    """Undo the scrape's artifacts: HTML entities, double-encoded UTF-8, runs of spaces."""
    value = html.unescape(value)
    if any("\u0080" <= char <= "\u00ff" for char in value):
        with contextlib.suppress(UnicodeError):  # genuine Latin-1 text stays as it is
            value = value.encode("latin-1").decode("utf-8")
    return " ".join(value.split())


def parse_compendium(text: str) -> tuple[MetValue, ...]:
    """The current (2011) codes of the Compendium CSV, ordered by code."""
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter="|"))
    if [rows[0], rows[1]] != list(COMPENDIUM_HEADER):
        raise RefDataError("compendiumofphysicalactivities.csv: unexpected header rows")
    values: dict[str, MetValue] = {}
    for number, row in enumerate(rows[2:], start=3):
        where = f"compendiumofphysicalactivities.csv:{number}"
        if len(row) != len(COMPENDIUM_HEADER[0]):
            raise RefDataError(f"{where}: {len(row)} columns")
        code, met, description, category = row[4], row[5], row[6], row[7]
        if code in ("", "."):  # retired before 2011
            continue
        if not re.fullmatch(r"\d{5}", code) or code in values:
            raise RefDataError(f"{where}: bad or repeated 2011 code {code!r}")
        values[code] = MetValue(
            code=code,
            heading=_text(category, f"{where} Category"),
            description=_repair_text(_text(description, f"{where} Description")),
            met=_decimal(met, f"{where} 2011 METs"),
        )
    return tuple(values[key] for key in sorted(values))


# ---------------------------------------------------------------------- all sources


def _check_curated(met_codes: set[str]) -> None:
    for modality in TRAINING_MODALITIES:
        if modality.met_code not in met_codes:
            raise RefDataError(f"modality {modality.id}: unknown Compendium code")
    defaults = Counter(row.category for row in ACTIVITY_CATEGORY_METS if row.is_default)
    if sorted(defaults) != sorted(ACTIVITY_CATEGORIES) or set(defaults.values()) != {1}:
        raise RefDataError("every activity category needs exactly one default MET")
    for row in ACTIVITY_CATEGORY_METS:
        if row.met_code not in met_codes:
            raise RefDataError(f"activity category {row.category}: unknown code {row.met_code}")
    for name, keys in (
        ("training modalities", [m.id for m in TRAINING_MODALITIES]),
        ("meal times", [m.id for m in MEAL_TIMES]),
        ("event types", [e.id for e in EVENT_TYPES]),
        ("activity category METs", [(r.category, r.met_code) for r in ACTIVITY_CATEGORY_METS]),
    ):
        if len(set(keys)) != len(keys):
            raise RefDataError(f"repeated key in the {name}")


SOURCE_FILES = (
    f"{SR28_DIR}/ABBREV.txt",
    f"{SR28_DIR}/FOOD_DES.txt",
    f"{SR28_DIR}/SOURCE.md",
    f"{EXERCISES_DIR}/exercises.json",
    f"{COMPENDIUM_DIR}/compendiumofphysicalactivities.csv",
)


def load(data_dir: Path = DATA_DIR) -> ReferenceData:
    """Read and parse every source under ``data_dir``."""
    raw = {name: (data_dir / name).read_bytes() for name in SOURCE_FILES}
    met_values = parse_compendium(raw[SOURCE_FILES[4]].decode("utf-8"))
    _check_curated({value.code for value in met_values})
    return ReferenceData(
        met_values=met_values,
        activity_category_mets=tuple(
            sorted(ACTIVITY_CATEGORY_METS, key=lambda row: (row.category, row.met_code))
        ),
        training_modalities=tuple(sorted(TRAINING_MODALITIES, key=lambda row: row.id)),
        meal_times=tuple(sorted(MEAL_TIMES, key=lambda row: row.id)),
        event_types=tuple(sorted(EVENT_TYPES, key=lambda row: row.id)),
        exercises=parse_exercises(raw[SOURCE_FILES[3]].decode("utf-8")),
        foods=parse_sr28(raw[SOURCE_FILES[0]], raw[SOURCE_FILES[1]], raw[SOURCE_FILES[2]].decode()),
        sources=tuple(
            SourceFile(f"data/{name}", hashlib.sha256(content).hexdigest())
            for name, content in raw.items()
        ),
    )


# ------------------------------------------------------------------------ rendering

SqlValue = str | int | bool | Decimal | uuid.UUID | tuple[str, ...] | None


def quote(value: str) -> str:
    """A standard SQL string literal: single quotes doubled; NUL is refused."""
    if "\x00" in value:
        raise RefDataError(f"NUL character in {value[:40]!r}")
    return "'" + value.replace("'", "''") + "'"


def literal(value: SqlValue) -> str:
    """``value`` as a PostgreSQL literal (text arrays as ``array[...]::text[]``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return quote(str(value))
    if isinstance(value, tuple):
        return "array[" + ", ".join(quote(item) for item in value) + "]::text[]"
    return quote(value)


def servings_json(servings: Iterable[Serving]) -> str:
    """``[{"description": ..., "grams": ...}]`` with the grams written as in the source."""
    items = [
        "{" + f'"description": {json.dumps(s.description, ensure_ascii=False)}, '
        f'"grams": {s.grams}' + "}"
        for s in servings
    ]
    return "[" + ", ".join(items) + "]"


def insert_statements(
    table: str, columns: Sequence[str], rows: Sequence[Sequence[SqlValue]]
) -> list[str]:
    """``insert … values`` statements of at most BATCH_SIZE rows each."""
    statements = []
    for start in range(0, len(rows), BATCH_SIZE):
        batch = rows[start : start + BATCH_SIZE]
        values = ",\n".join("(" + ", ".join(literal(v) for v in row) + ")" for row in batch)
        statements.append(f"insert into public.{table} ({', '.join(columns)}) values\n{values};\n")
    return statements


def _header(data: ReferenceData) -> str:
    sources = "\n".join(f"--   {s.path}  sha256 {s.sha256}" for s in data.sources)
    counts = (
        f"--   met_values {len(data.met_values)}, activity_category_mets "
        f"{len(data.activity_category_mets)}, training_modalities "
        f"{len(data.training_modalities)}, meal_times {len(data.meal_times)},\n"
        f"--   event_types {len(data.event_types)}, exercises {len(data.exercises)}, "
        f"foods {len(data.foods)}"
    )
    return f"""\
-- GENERATED FILE: do not edit. It is written by `{COMMAND}` (functions/sharpened/refdata.py)
-- from data/ and the curated vocabularies in that module; `{COMMAND} --check` and
-- tests/unit/test_refdata.py fail when this file differs from the generator's output.
-- To change reference data after this migration has shipped, add a new migration.
--
-- Sources (licence and provenance: data/README.md and each folder's LICENSE.md / SOURCE.md):
-- * foods: USDA National Nutrient Database for Standard Reference, Release 28 (2015),
--   US Department of Agriculture, Agricultural Research Service, Nutrient Data Laboratory.
--   US Government work, public domain (CC0 1.0). Source: USDA SR28 / FoodData Central.
-- * exercises: free-exercise-db (github.com/yuhonas/free-exercise-db), the Unlicense.
-- * met_values, activity_category_mets, training_modalities.met_value_id: Ainsworth BE,
--   Haskell WL, Herrmann SD, et al. 2011 Compendium of Physical Activities: a second update
--   of codes and MET values. Med Sci Sports Exerc 2011;43(8):1575-1581. No licence stated:
--   cite the Compendium wherever MET values are shown.
-- * training_modalities, meal_times, event_types, activity_category_mets: curated by SHARPENED.
-- Input files:
{sources}
-- Rows:
{counts}

"""


def render(data: ReferenceData) -> str:
    """The whole reference-data migration as text."""
    parts = [_header(data)]

    def section(title: str, statements: list[str]) -> None:
        parts.append(f"-- {title}\n")
        parts.extend(statements)
        parts.append("\n")

    section(
        "2011 Compendium of Physical Activities, current codes",
        insert_statements(
            "met_values",
            ("id", "heading", "description", "met"),
            [(m.code, m.heading, m.description, m.met) for m in data.met_values],
        ),
    )
    section(
        "Common Compendium activities per activity category (one default each)",
        insert_statements(
            "activity_category_mets",
            ("id", "category", "met_value_id", "is_default"),
            [(r.id, r.category, r.met_code, r.is_default) for r in data.activity_category_mets],
        ),
    )
    section(
        "Training modalities (curated)",
        insert_statements(
            "training_modalities",
            ("id", "name", "category", "description", "activity_category", "met_value_id"),
            [
                (m.id, m.name, m.category, m.description, m.activity_category, m.met_code)
                for m in data.training_modalities
            ],
        ),
    )
    section(
        "Meal times (curated)",
        insert_statements(
            "meal_times",
            ("id", "name", "typical_time", "sort_order", "description"),
            [(m.id, m.name, m.typical_time, m.sort_order, m.description) for m in data.meal_times],
        ),
    )
    section(
        "Event types (curated)",
        insert_statements(
            "event_types",
            ("id", "name", "category", "description"),
            [(e.id, e.name, e.category, e.description) for e in data.event_types],
        ),
    )
    section(
        "Exercises (free-exercise-db), by id",
        insert_statements(
            "exercises",
            (
                "id", "name", "category", "level", "mechanic", "force", "equipment",
                "primary_muscles", "secondary_muscles", "source",
            ),
            [
                (
                    e.id, e.name, e.category, e.level, e.mechanic, e.force, e.equipment,
                    e.primary_muscles, e.secondary_muscles, "free-exercise-db",
                )
                for e in data.exercises
            ],
        ),
    )  # fmt: skip
    section(
        "Foods (USDA SR28), per 100 g, by NDB_No",
        insert_statements(
            "foods",
            (
                "id", "name", "brand", "food_group", "kcal_per_100g", "protein_g_per_100g",
                "carbs_g_per_100g", "fat_g_per_100g", "fiber_g_per_100g", "sugar_g_per_100g",
                "sodium_mg_per_100g", "servings", "source", "source_id",
            ),
            [
                (
                    f.id, f.name, f.brand, f.food_group, f.kcal, f.protein_g, f.carbs_g, f.fat_g,
                    f.fiber_g, f.sugar_g, f.sodium_mg, servings_json(f.servings), "usda_sr28",
                    f.ndb_no,
                )
                for f in data.foods
            ],
        ),
    )  # fmt: skip
    return "".join(parts).rstrip("\n") + "\n"


# ----------------------------------------------------------------------------- CLI


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=COMMAND, description="Generate the reference-data migration from data/."
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the committed migration differs"
    )
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--output", type=Path, default=MIGRATION)
    args = parser.parse_args(argv)

    data = load(args.data_dir)
    _say(f"met_values: {len(data.met_values)} (2011 Compendium)")
    _say(f"activity_category_mets: {len(data.activity_category_mets)}")
    _say(f"training_modalities: {len(data.training_modalities)}")
    _say(f"meal_times: {len(data.meal_times)}")
    _say(f"event_types: {len(data.event_types)}")
    _say(f"exercises: {len(data.exercises)} (free-exercise-db)")
    _say(f"foods: {len(data.foods)} (USDA SR28)")
    text = render(data)
    output: Path = args.output
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else None
        if current != text:
            _say(f"{output}: differs from the generator's output; run `{COMMAND}`")
            return 1
        _say(f"{output}: up to date")
        return 0
    output.write_text(text, encoding="utf-8", newline="\n")
    _say(f"wrote {output} ({len(text.encode('utf-8'))} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
