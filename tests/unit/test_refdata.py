"""The reference-data generator: the committed migration is its output, and its
values match the source files in data/ and the CHECKs of the reference tables."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from sharpened import refdata
from sharpened.settings import PROJECT_ROOT

TABLES_MIGRATION = PROJECT_ROOT / "supabase" / "migrations" / "20261126000200_reference_tables.sql"


@cache
def data() -> refdata.ReferenceData:
    return refdata.load()


def foods() -> dict[str, refdata.Food]:
    return {food.ndb_no: food for food in data().foods}


def met(code: str) -> refdata.MetValue:
    return next(value for value in data().met_values if value.code == code)


# ------------------------------------------------------ the committed migration


def test_committed_migration_equals_the_generator_output() -> None:
    committed = refdata.MIGRATION.read_text(encoding="utf-8")
    assert committed == refdata.render(data()), "run `python -m sharpened.refdata`"


def test_check_mode_accepts_the_committed_file_and_refuses_a_stale_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(refdata, "load", lambda data_dir=refdata.DATA_DIR: data())
    assert refdata.main(["--check"]) == 0
    stale = tmp_path / "stale.sql"
    stale.write_text(refdata.MIGRATION.read_text(encoding="utf-8") + "-- edited by hand\n")
    assert refdata.main(["--check", "--output", str(stale)]) == 1
    assert refdata.main(["--check", "--output", str(tmp_path / "missing.sql")]) == 1
    errors = capsys.readouterr().err
    assert "foods: 8789 (USDA SR28)" in errors
    assert "differs from the generator's output" in errors


def test_writing_reproduces_the_committed_file(tmp_path: Path) -> None:
    output = tmp_path / "reference_data.sql"
    assert refdata.main(["--output", str(output)]) == 0
    assert output.read_bytes() == refdata.MIGRATION.read_bytes()


def test_rendering_is_deterministic_and_batched() -> None:
    text = refdata.render(data())
    assert text == refdata.render(refdata.load())
    assert text.startswith("-- GENERATED FILE: do not edit.")
    assert "python -m sharpened.refdata" in text.splitlines()[0]
    for source in data().sources:
        assert f"{source.path}  sha256 {source.sha256}" in text
    # 8,789 foods in statements of at most 500 rows.
    assert text.count("insert into public.foods ") == 18
    assert "\x00" not in text
    assert "\r" not in text


# ------------------------------------------------------------------ row counts


def test_counts() -> None:
    assert len(data().foods) == 8789
    assert len(data().exercises) == 873
    assert len(data().met_values) == 820
    assert len(data().training_modalities) >= 15
    assert len(data().meal_times) >= 8
    assert len(data().event_types) >= 10
    defaults = [row.category for row in data().activity_category_mets if row.is_default]
    assert sorted(defaults) == sorted(refdata.ACTIVITY_CATEGORIES)


def test_keys_are_unique_and_sorted() -> None:
    for keys in (
        [food.ndb_no for food in data().foods],
        [exercise.id for exercise in data().exercises],
        [value.code for value in data().met_values],
        [modality.id for modality in data().training_modalities],
        [meal.id for meal in data().meal_times],
        [event.id for event in data().event_types],
    ):
        assert keys == sorted(set(keys))
    assert len({meal.sort_order for meal in data().meal_times}) == len(data().meal_times)


# ------------------------------------------------------- values from the sources


def test_butter_salted_per_100_g() -> None:
    butter = foods()["01001"]
    assert butter.name == "Butter, salted"
    assert butter.food_group == "Dairy and Egg Products"
    assert butter.brand is None
    assert (butter.kcal, butter.protein_g, butter.fat_g, butter.carbs_g) == (
        Decimal("717"),
        Decimal("0.85"),
        Decimal("81.11"),
        Decimal("0.06"),
    )
    assert (butter.fiber_g, butter.sugar_g, butter.sodium_mg) == (
        Decimal("0.0"),
        Decimal("0.06"),
        Decimal("643"),
    )
    assert butter.id == uuid.UUID("27d6fdcc-2ae8-5bac-b7e7-15a14f9a0f5f")


def test_missing_values_are_none_not_zero() -> None:
    vinegar = foods()["02069"]  # Vinegar, balsamic: Fiber_TD is empty in ABBREV.txt
    assert vinegar.name == "Vinegar, balsamic"
    assert vinegar.fiber_g is None
    assert sum(food.fiber_g is None for food in data().foods) == 594
    assert sum(food.sugar_g is None for food in data().foods) == 1832
    assert sum(food.sodium_mg is None for food in data().foods) == 83


def test_household_servings() -> None:
    egg = foods()["01123"]
    assert egg.name == "Egg, whole, raw, fresh"
    assert egg.servings == (
        refdata.Serving("1 large", Decimal("50")),
        refdata.Serving("1 extra large", Decimal("56")),
    )
    # A measure without a gram weight is left out; a second measure alone is kept.
    assert foods()["42063"].servings == ()
    assert foods()["06509"].servings == (refdata.Serving("1 serving", Decimal("245")),)
    counts = [len(food.servings) for food in data().foods]
    assert (counts.count(0), counts.count(1), counts.count(2)) == (297, 3668, 4824)
    assert refdata.servings_json(egg.servings) == (
        '[{"description": "1 large", "grams": 50}, {"description": "1 extra large", "grams": 56}]'
    )


def test_brand_and_latin1_text() -> None:
    penne = foods()["22996"]
    assert penne.brand == "Kellogg, Co."
    assert penne.servings == (refdata.Serving("1 Entrée", Decimal("269")),)
    assert sum(food.brand is not None for food in data().foods) == 1707


def test_food_groups_come_from_the_source_table() -> None:
    assert foods()["05062"].food_group == "Poultry Products"
    assert foods()["05062"].name == (
        "Chicken, broiler or fryers, breast, skinless, boneless, meat only, raw"
    )
    assert len({food.food_group for food in data().foods}) == 25


def test_food_ids_are_uuid5_of_the_ndb_number() -> None:
    assert refdata.food_id("01001") == uuid.uuid5(refdata.FOOD_ID_NAMESPACE, "usda-sr28:01001")
    assert len({food.id for food in data().foods}) == 8789


def test_exercise_with_its_muscles() -> None:
    squat = next(e for e in data().exercises if e.id == "Barbell_Squat")
    assert squat == refdata.Exercise(
        id="Barbell_Squat",
        name="Barbell Squat",
        category="strength",
        level="beginner",
        mechanic="compound",
        force="push",
        equipment="barbell",
        primary_muscles=("quadriceps",),
        secondary_muscles=("calves", "glutes", "hamstrings", "lower_back"),
    )
    assert sum(e.mechanic is None for e in data().exercises) == 87
    assert sum(e.equipment is None for e in data().exercises) == 77


def test_met_values() -> None:
    assert met("12150").met == Decimal("8.0")
    assert met("12150").heading == "running"
    assert met("07030").met == Decimal("0.95")  # sleeping: the one value with two decimals
    assert met("02030").description.startswith(
        "calisthenics, light or moderate effort, general (example: back exercises), going up & down"
    )
    assert met("15135").description.startswith("children\u2019s games, adults playing")
    assert "≥ 50 lbs" in met("20095").description
    assert all("  " not in value.description for value in data().met_values)


@pytest.mark.parametrize(
    ("raw", "slug"),
    [
        ("lower back", "lower_back"),
        ("body only", "body_only"),
        ("olympic weightlifting", "olympic_weightlifting"),
        ("e-z curl bar", "e_z_curl_bar"),
        ("barbell", "barbell"),
    ],
)
def test_snake_case(raw: str, slug: str) -> None:
    assert refdata.snake_case(raw) == slug


# ------------------------------------------------ vocabularies against the CHECKs


@cache
def table_sql(table: str) -> str:
    text = TABLES_MIGRATION.read_text()
    match = re.search(rf"create table public\.{table} \((.*?)\n\);", text, flags=re.DOTALL)
    assert match, f"create table public.{table} not found"
    return match.group(1)


def _quoted(text: str) -> list[str]:
    return [value.replace("''", "'") for value in re.findall(r"'((?:[^']|'')*)'", text)]


def allowed(table: str, column: str) -> set[str]:
    """The values of ``column in (...)`` or ``column <@ array[...]`` in the table's CHECK."""
    body = table_sql(table)
    match = re.search(rf"\b{column} in \((.*?)\)\n", body, flags=re.DOTALL) or re.search(
        rf"\b{column} <@ array\[(.*?)\]", body, flags=re.DOTALL
    )
    assert match, f"no vocabulary CHECK for {table}.{column}"
    values = set(_quoted(match.group(1)))
    assert values
    return values


def pattern(table: str, column: str) -> str:
    match = re.search(rf"\b{column} ~ '([^']+)'", table_sql(table))
    assert match, f"no pattern CHECK for {table}.{column}"
    return match.group(1)


def test_exercise_vocabularies_match_the_checks() -> None:
    exercises = data().exercises
    for column in ("category", "level", "mechanic", "force", "equipment"):
        values = {getattr(e, column) for e in exercises} - {None}
        assert values <= allowed("exercises", column), column
    muscles = {m for e in exercises for m in e.primary_muscles + e.secondary_muscles}
    assert muscles == allowed("exercises", "primary_muscles")
    assert allowed("exercises", "primary_muscles") == allowed("exercises", "secondary_muscles")
    assert all(re.fullmatch(pattern("exercises", "id"), e.id) for e in exercises)
    assert all(1 <= len(e.name) <= 200 and e.primary_muscles for e in exercises)


def test_food_values_match_the_checks() -> None:
    groups = {food.food_group for food in data().foods}
    assert groups == allowed("foods", "food_group")
    for food in data().foods:
        assert 1 <= len(food.name) <= 300
        assert food.brand is None or 1 <= len(food.brand) <= 200
        assert 0 <= food.kcal <= 902
        for grams in (food.protein_g, food.carbs_g, food.fat_g, food.fiber_g, food.sugar_g):
            assert grams is None or 0 <= grams <= 100
        assert food.sodium_mg is None or 0 <= food.sodium_mg <= 40000
        assert all(s.grams > 0 and s.description.strip() for s in food.servings)
        assert re.fullmatch(r"[0-9]{5}", food.ndb_no)


def test_met_values_match_the_checks() -> None:
    headings = {value.heading for value in data().met_values}
    assert headings == allowed("met_values", "heading")
    for value in data().met_values:
        assert re.fullmatch(pattern("met_values", "id"), value.code)
        assert 0 < value.met <= 25
        assert value.met == value.met.quantize(Decimal("0.01"))  # numeric(4, 2)
        assert 1 <= len(value.description) <= 400


def test_curated_vocabularies_match_the_checks() -> None:
    codes = {value.code for value in data().met_values}
    categories = allowed("activity_category_mets", "category")
    assert categories == set(refdata.ACTIVITY_CATEGORIES)
    assert allowed("training_modalities", "activity_category") == categories
    for row in data().activity_category_mets:
        assert row.category in categories
        assert row.met_code in codes
    for modality in data().training_modalities:
        assert re.fullmatch(pattern("training_modalities", "id"), modality.id)
        assert modality.category in allowed("training_modalities", "category")
        assert modality.activity_category in categories
        assert modality.met_code in codes
        assert 1 <= len(modality.name) <= 100
    for meal in data().meal_times:
        assert re.fullmatch(pattern("meal_times", "id"), meal.id)
        assert re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", meal.typical_time)
        assert 1 <= meal.sort_order <= 100
    by_order = sorted(data().meal_times, key=lambda meal: meal.sort_order)
    assert [m.typical_time for m in by_order] == sorted(m.typical_time for m in by_order)
    assert {"breakfast", "lunch", "dinner", "snack"} <= {m.id for m in data().meal_times}
    for event in data().event_types:
        assert re.fullmatch(pattern("event_types", "id"), event.id)
        assert event.category in allowed("event_types", "category")
    for names in (
        [m.name for m in data().training_modalities],
        [m.name for m in data().meal_times],
        [e.name for e in data().event_types],
    ):
        assert len(set(names)) == len(names)  # name is unique in each table


# ------------------------------------------------------------ quoting and parsing


def test_quote_doubles_single_quotes_and_refuses_nul() -> None:
    assert refdata.quote("KRAFT BREAKSTONE'S") == "'KRAFT BREAKSTONE''S'"
    assert refdata.quote("back\\slash") == "'back\\slash'"  # standard_conforming_strings
    with pytest.raises(refdata.RefDataError, match="NUL"):
        refdata.quote("a\x00b")


def test_literals() -> None:
    assert refdata.literal(None) == "null"
    assert refdata.literal(True) == "true"
    assert refdata.literal(Decimal("0.95")) == "0.95"
    assert refdata.literal(("chest", "lower_back")) == "array['chest', 'lower_back']::text[]"
    assert refdata.literal(()) == "array[]::text[]"
    assert refdata.literal(uuid.UUID(int=1)) == "'00000000-0000-0000-0000-000000000001'"


def test_sr28_parser_rules() -> None:
    fields = ("NDB_No", "Name", "Value")
    records = refdata.parse_sr28_file(b"~01001~^~Caf\xe9~^1.5\r\n~01002~^~~^\r\n", fields, "x")
    assert records == [
        {"NDB_No": "01001", "Name": "Café", "Value": "1.5"},
        {"NDB_No": "01002", "Name": None, "Value": None},
    ]
    with pytest.raises(refdata.RefDataError, match="CRLF"):
        refdata.parse_sr28_file(b"~01001~^~x~^1\n", fields, "x")
    with pytest.raises(refdata.RefDataError, match="fields"):
        refdata.parse_sr28_file(b"~01001~^1\r\n", fields, "x")
    with pytest.raises(refdata.RefDataError, match="malformed"):
        refdata.parse_sr28_file(b"~01001~^~x^1\r\n", fields, "x")


def test_compendium_parser_skips_retired_codes() -> None:
    header = "\n".join("|".join(row) for row in refdata.COMPENDIUM_HEADER)
    text = header + "\n.|.|01015|8.0|01015|7.5|bicycling, general|bicycling\n1|1|||||old|running\n"
    assert refdata.parse_compendium(text) == (
        refdata.MetValue("01015", "bicycling", "bicycling, general", Decimal("7.5")),
    )
    with pytest.raises(refdata.RefDataError, match="header"):
        refdata.parse_compendium("a|b\nc|d\n")
