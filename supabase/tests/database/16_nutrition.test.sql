-- The nutrition tables (custom_foods, meals, meal_items, quick_meals):
-- owner-only access, nutrient ranges, the servings and components JSON
-- shapes, the idempotency key, meal items that cannot point into another
-- user's meals or custom foods, the delete rules and the cascades when a
-- user is deleted. Writes are made as the signed-in user
-- (tests.authenticate_as), the way PostgREST runs them.
begin;
set search_path = public, extensions;

select plan(74);

-- Actors:
--   ann  a1600000-0000-4000-8000-00000000000a
--   bob  b1600000-0000-4000-8000-00000000000b
-- Rows with known ids:
--   ann's custom food  a1600000-0000-4000-8000-0000000000cf, ann's meal a1600000-0000-4000-8000-0000000000e1
--   bob's custom food  b1600000-0000-4000-8000-0000000000cf, bob's meal b1600000-0000-4000-8000-0000000000e1
--   shared food        f1600000-0000-4000-8000-000000000001 (meal time pgtap16_meal)

select tests.create_user('a1600000-0000-4000-8000-00000000000a', 'ann16@example.com', 'Ann');
select tests.create_user('b1600000-0000-4000-8000-00000000000b', 'bob16@example.com', 'Bob');

-- Reference rows of this test (the reference data may or may not be loaded).
insert into public.meal_times (id, name, typical_time, sort_order)
select 'pgtap16_meal', 'Pgtap16 meal', time '12:00', coalesce(max(m.sort_order), 0) + 1
from public.meal_times as m;
insert into public.foods (
    id, name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g, fat_g_per_100g, servings, source, source_id
)
values (
    'f1600000-0000-4000-8000-000000000001', 'Pgtap16 oats', 389, 16.89, 66.27, 6.9,
    '[{"description": "1 cup", "grams": 81}]', 'sharpened', 'pgtap16-oats'
);

-- ============================================================ custom_foods

select tests.authenticate_as('a1600000-0000-4000-8000-00000000000a');

select lives_ok(
    $$ insert into public.custom_foods (
           id, user_id, name, brand, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g, fat_g_per_100g,
           fiber_g_per_100g, sodium_mg_per_100g, servings
       )
       values (
           'a1600000-0000-4000-8000-0000000000cf', 'a1600000-0000-4000-8000-00000000000a', 'Protein bar',
           'Acme', 350, 30, 40, 8, 5, 200, '[{"description": "1 bar", "grams": 60}]'
       ) $$,
    'ann creates a custom food with a serving'
);
select lives_ok(
    $$ insert into public.custom_foods (
           user_id, name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g, fat_g_per_100g
       )
       values ('a1600000-0000-4000-8000-00000000000a', 'Olive oil', 902, 0, 0, 100) $$,
    'the bounds kcal 902 and fat 100 g per 100 g are accepted; servings default to []'
);

select throws_ok(
    $$ insert into public.custom_foods (user_id, name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g,
                                        fat_g_per_100g)
       values ('a1600000-0000-4000-8000-00000000000a', 'Too dense', 902.1, 0, 0, 100) $$,
    '23514', null, 'kcal_per_100g above 902 is rejected'
);
select throws_ok(
    $$ insert into public.custom_foods (user_id, name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g,
                                        fat_g_per_100g)
       values ('a1600000-0000-4000-8000-00000000000a', 'Negative', -1, 0, 0, 0) $$,
    '23514', null, 'negative kcal_per_100g is rejected'
);
select throws_ok(
    $$ insert into public.custom_foods (user_id, name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g,
                                        fat_g_per_100g)
       values ('a1600000-0000-4000-8000-00000000000a', 'Impossible', 400, 100.01, 0, 0) $$,
    '23514', null, 'protein above 100 g per 100 g is rejected'
);
select throws_ok(
    $$ insert into public.custom_foods (user_id, name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g,
                                        fat_g_per_100g)
       values ('a1600000-0000-4000-8000-00000000000a', 'Negative fat', 100, 0, 10, -0.01) $$,
    '23514', null, 'negative fat is rejected'
);
select throws_ok(
    $$ insert into public.custom_foods (user_id, name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g,
                                        fat_g_per_100g, sodium_mg_per_100g)
       values ('a1600000-0000-4000-8000-00000000000a', 'Salt+', 0, 0, 0, 0, 40000.1) $$,
    '23514', null, 'sodium above 40000 mg per 100 g is rejected'
);
select throws_ok(
    $$ insert into public.custom_foods (user_id, name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g,
                                        fat_g_per_100g)
       values ('a1600000-0000-4000-8000-00000000000a', ' ', 100, 0, 10, 0) $$,
    '23514', null, 'a blank name is rejected'
);
select throws_ok(
    $$ insert into public.custom_foods (user_id, name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g,
                                        fat_g_per_100g, servings)
       values ('a1600000-0000-4000-8000-00000000000a', 'Rice', 130, 2.7, 28, 0.3,
               '{"description": "1 cup", "grams": 158}') $$,
    '23514', 'new row for relation "custom_foods" violates check constraint "custom_foods_servings_valid"',
    'servings that are not an array are rejected'
);
select throws_ok(
    $$ insert into public.custom_foods (user_id, name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g,
                                        fat_g_per_100g, servings)
       values ('a1600000-0000-4000-8000-00000000000a', 'Rice', 130, 2.7, 28, 0.3,
               '[{"description": "1 cup", "grams": 158}, {"description": "1 bowl"}]') $$,
    '23514', 'new row for relation "custom_foods" violates check constraint "custom_foods_servings_valid"',
    'a serving without grams is rejected'
);
select throws_ok(
    $$ insert into public.custom_foods (user_id, name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g,
                                        fat_g_per_100g, servings)
       values ('a1600000-0000-4000-8000-00000000000a', 'Rice', 130, 2.7, 28, 0.3,
               '[{"description": "1 cup", "grams": 0}]') $$,
    '23514', 'new row for relation "custom_foods" violates check constraint "custom_foods_servings_valid"',
    'a serving of 0 g is rejected'
);
select throws_ok(
    $$ insert into public.custom_foods (user_id, name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g,
                                        fat_g_per_100g, servings)
       values ('a1600000-0000-4000-8000-00000000000a', 'Rice', 130, 2.7, 28, 0.3,
               '[{"description": ["1 cup"], "grams": 158}]') $$,
    '23514', 'new row for relation "custom_foods" violates check constraint "custom_foods_servings_valid"',
    'a serving whose description is not a string is rejected'
);
select throws_ok(
    $$ insert into public.custom_foods (user_id, name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g,
                                        fat_g_per_100g, servings)
       values ('a1600000-0000-4000-8000-00000000000a', 'Rice', 130, 2.7, 28, 0.3, '[158]') $$,
    '23514', 'new row for relation "custom_foods" violates check constraint "custom_foods_servings_valid"',
    'a serving that is not an object is rejected'
);
select throws_ok(
    $$ insert into public.custom_foods (user_id, name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g,
                                        fat_g_per_100g)
       values ('b1600000-0000-4000-8000-00000000000b', 'Bob''s bar', 350, 30, 40, 8) $$,
    '42501', 'new row violates row-level security policy for table "custom_foods"',
    'ann cannot create a custom food for bob'
);

-- =================================================================== meals

select lives_ok(
    $$ insert into public.meals (id, user_id, logged_at, meal_type, client_id)
       values ('a1600000-0000-4000-8000-0000000000e1', 'a1600000-0000-4000-8000-00000000000a',
               '2026-01-05 12:30+00', 'pgtap16_meal', 'ann-meal-1') $$,
    'ann logs a meal'
);
select results_eq(
    $$ select total_kcal, total_protein_g, total_carbs_g, total_fat_g from public.meals
       where id = 'a1600000-0000-4000-8000-0000000000e1' $$,
    $$ values (0::numeric, 0::numeric, 0::numeric, 0::numeric) $$,
    'a new meal''s totals start at 0'
);
select throws_ok(
    $$ insert into public.meals (user_id, meal_type)
       values ('a1600000-0000-4000-8000-00000000000a', 'second_breakfast_xyz') $$,
    '23503', null, 'a meal_type that is not a meal_times slug is rejected'
);
select throws_ok(
    $$ insert into public.meals (user_id, meal_type, client_id)
       values ('a1600000-0000-4000-8000-00000000000a', 'pgtap16_meal', 'ann-meal-1') $$,
    '23505', 'duplicate key value violates unique constraint "meals_user_id_client_id_key"',
    'a retried upload with the same client_id is rejected'
);
select lives_ok(
    $$ insert into public.meals (user_id, meal_type)
       values ('a1600000-0000-4000-8000-00000000000a', 'pgtap16_meal'),
              ('a1600000-0000-4000-8000-00000000000a', 'pgtap16_meal') $$,
    'meals without a client_id do not conflict with each other'
);
select throws_ok(
    $$ insert into public.meals (user_id, meal_type, total_kcal)
       values ('a1600000-0000-4000-8000-00000000000a', 'pgtap16_meal', -1) $$,
    '42501', null, 'a client cannot write a meal''s total_kcal (computed)'
);
select throws_ok(
    $$ insert into public.meals (user_id, meal_type, total_protein_g)
       values ('a1600000-0000-4000-8000-00000000000a', 'pgtap16_meal', -0.1) $$,
    '42501', null, 'a client cannot write a meal''s total_protein_g (computed)'
);
select throws_ok(
    $$ insert into public.meals (user_id, meal_type)
       values ('b1600000-0000-4000-8000-00000000000b', 'pgtap16_meal') $$,
    '42501', 'new row violates row-level security policy for table "meals"',
    'ann cannot log a meal for bob'
);

-- ============================================================== bob's data

select tests.authenticate_as('b1600000-0000-4000-8000-00000000000b');

select lives_ok(
    $$ insert into public.custom_foods (
           id, user_id, name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g, fat_g_per_100g
       )
       values ('b1600000-0000-4000-8000-0000000000cf', 'b1600000-0000-4000-8000-00000000000b', 'Bob''s shake',
               120, 20, 5, 2) $$,
    'bob creates a custom food'
);
select lives_ok(
    $$ insert into public.meals (id, user_id, meal_type, client_id)
       values ('b1600000-0000-4000-8000-0000000000e1', 'b1600000-0000-4000-8000-00000000000b',
               'pgtap16_meal', 'ann-meal-1') $$,
    'bob may use the same client_id as ann (unique per user)'
);
select lives_ok(
    $$ insert into public.meal_items (meal_id, user_id, food_id, custom_food_id, grams)
       values ('b1600000-0000-4000-8000-0000000000e1', 'b1600000-0000-4000-8000-00000000000b',
               null, 'b1600000-0000-4000-8000-0000000000cf', 300),
              ('b1600000-0000-4000-8000-0000000000e1', 'b1600000-0000-4000-8000-00000000000b',
               'f1600000-0000-4000-8000-000000000001', null, 40) $$,
    'bob logs his custom food and a shared food in his meal'
);
select is_empty(
    $$ select 1 from public.custom_foods where user_id = 'a1600000-0000-4000-8000-00000000000a'
       union all select 1 from public.meals where user_id = 'a1600000-0000-4000-8000-00000000000a' $$,
    'bob sees none of ann''s custom foods and meals'
);

-- ============================================================== meal_items

select tests.authenticate_as('a1600000-0000-4000-8000-00000000000a');

select lives_ok(
    $$ insert into public.meal_items (meal_id, user_id, food_id, grams, serving_quantity, serving_description)
       values ('a1600000-0000-4000-8000-0000000000e1', 'a1600000-0000-4000-8000-00000000000a',
               'f1600000-0000-4000-8000-000000000001', 81, 1, '1 cup') $$,
    'ann logs a shared food by serving (grams sent with it)'
);
select lives_ok(
    $$ insert into public.meal_items (meal_id, user_id, custom_food_id, grams)
       values ('a1600000-0000-4000-8000-0000000000e1', 'a1600000-0000-4000-8000-00000000000a',
               'a1600000-0000-4000-8000-0000000000cf', 60) $$,
    'ann logs her own custom food'
);

-- Items cannot point into another user's data.
select throws_ok(
    $$ insert into public.meal_items (meal_id, user_id, food_id, grams)
       values ('b1600000-0000-4000-8000-0000000000e1', 'a1600000-0000-4000-8000-00000000000a',
               'f1600000-0000-4000-8000-000000000001', 50) $$,
    '23503', 'insert or update on table "meal_items" violates foreign key constraint "meal_items_meal_fkey"',
    'ann cannot attach an item to bob''s meal'
);
select throws_ok(
    $$ insert into public.meal_items (meal_id, user_id, custom_food_id, grams)
       values ('a1600000-0000-4000-8000-0000000000e1', 'a1600000-0000-4000-8000-00000000000a',
               'b1600000-0000-4000-8000-0000000000cf', 50) $$,
    '23503',
    'insert or update on table "meal_items" violates foreign key constraint "meal_items_custom_food_fkey"',
    'ann cannot log bob''s custom food'
);
select throws_ok(
    $$ insert into public.meal_items (meal_id, user_id, food_id, grams)
       values ('b1600000-0000-4000-8000-0000000000e1', 'b1600000-0000-4000-8000-00000000000b',
               'f1600000-0000-4000-8000-000000000001', 50) $$,
    '42501', 'new row violates row-level security policy for table "meal_items"',
    'ann cannot write an item as bob into bob''s meal'
);
select throws_ok(
    $$ update public.meal_items set meal_id = 'b1600000-0000-4000-8000-0000000000e1'
       where food_id = 'f1600000-0000-4000-8000-000000000001' $$,
    '23503', 'insert or update on table "meal_items" violates foreign key constraint "meal_items_meal_fkey"',
    'ann cannot move her item into bob''s meal'
);
select throws_ok(
    $$ update public.meal_items set custom_food_id = 'b1600000-0000-4000-8000-0000000000cf'
       where custom_food_id = 'a1600000-0000-4000-8000-0000000000cf' $$,
    '23503',
    'insert or update on table "meal_items" violates foreign key constraint "meal_items_custom_food_fkey"',
    'ann cannot switch her item to bob''s custom food'
);

-- Exactly one food, grams required and bounded.
select throws_ok(
    $$ insert into public.meal_items (meal_id, user_id, food_id, custom_food_id, grams)
       values ('a1600000-0000-4000-8000-0000000000e1', 'a1600000-0000-4000-8000-00000000000a',
               'f1600000-0000-4000-8000-000000000001', 'a1600000-0000-4000-8000-0000000000cf', 50) $$,
    '23514', 'new row for relation "meal_items" violates check constraint "meal_items_one_food"',
    'an item with both a shared and a custom food is rejected'
);
select throws_ok(
    $$ insert into public.meal_items (meal_id, user_id, grams)
       values ('a1600000-0000-4000-8000-0000000000e1', 'a1600000-0000-4000-8000-00000000000a', 50) $$,
    '23514', 'new row for relation "meal_items" violates check constraint "meal_items_one_food"',
    'an item without a food is rejected'
);
select throws_ok(
    $$ insert into public.meal_items (meal_id, user_id, food_id, grams)
       values ('a1600000-0000-4000-8000-0000000000e1', 'a1600000-0000-4000-8000-00000000000a',
               'f1600000-0000-4000-8000-0000000000ff', 50) $$,
    '23503', null, 'an item with an unknown food_id is rejected'
);
select throws_ok(
    $$ insert into public.meal_items (meal_id, user_id, food_id, serving_quantity, serving_description)
       values ('a1600000-0000-4000-8000-0000000000e1', 'a1600000-0000-4000-8000-00000000000a',
               'f1600000-0000-4000-8000-000000000001', 1, '1 cup') $$,
    '23502', null, 'an item without grams (serving only) is rejected: grams are required'
);
select throws_ok(
    $$ insert into public.meal_items (meal_id, user_id, food_id, grams)
       values ('a1600000-0000-4000-8000-0000000000e1', 'a1600000-0000-4000-8000-00000000000a',
               'f1600000-0000-4000-8000-000000000001', 0.09) $$,
    '23514', null, 'grams below 0.1 are rejected'
);
select throws_ok(
    $$ insert into public.meal_items (meal_id, user_id, food_id, grams)
       values ('a1600000-0000-4000-8000-0000000000e1', 'a1600000-0000-4000-8000-00000000000a',
               'f1600000-0000-4000-8000-000000000001', 5000.1) $$,
    '23514', null, 'grams above 5000 are rejected'
);
select throws_ok(
    $$ insert into public.meal_items (meal_id, user_id, food_id, grams, serving_quantity)
       values ('a1600000-0000-4000-8000-0000000000e1', 'a1600000-0000-4000-8000-00000000000a',
               'f1600000-0000-4000-8000-000000000001', 162, 2) $$,
    '23514', 'new row for relation "meal_items" violates check constraint "meal_items_serving_complete"',
    'a serving quantity without its description is rejected'
);
select throws_ok(
    $$ insert into public.meal_items (meal_id, user_id, food_id, grams, kcal)
       values ('a1600000-0000-4000-8000-0000000000e1', 'a1600000-0000-4000-8000-00000000000a',
               'f1600000-0000-4000-8000-000000000001', 50, -1) $$,
    '42501', null, 'a client cannot write an item''s kcal (computed)'
);
select is(
    (select count(*)::int from public.meal_items where meal_id = 'a1600000-0000-4000-8000-0000000000e1'),
    2,
    'ann''s meal has exactly her two accepted items'
);

-- ============================================================= quick_meals

select lives_ok(
    $$ insert into public.quick_meals (user_id, meal_name, components, total_kcal)
       values ('a1600000-0000-4000-8000-00000000000a', 'Oats and bar',
               '[{"food_id": "f1600000-0000-4000-8000-000000000001", "grams": 81, "name": "Oats"},
                 {"custom_food_id": "a1600000-0000-4000-8000-0000000000cf", "grams": 60}]', 525) $$,
    'ann saves a quick meal of a shared and a custom food'
);
select throws_ok(
    $$ insert into public.quick_meals (user_id, meal_name)
       values ('a1600000-0000-4000-8000-00000000000a', 'Oats and bar') $$,
    '23505', 'duplicate key value violates unique constraint "quick_meals_user_id_meal_name_key"',
    'a second quick meal with the same name is rejected'
);
select throws_ok(
    $$ insert into public.quick_meals (user_id, meal_name, components)
       values ('a1600000-0000-4000-8000-00000000000a', 'Bad 1',
               '{"food_id": "f1600000-0000-4000-8000-000000000001", "grams": 81}') $$,
    '23514', 'new row for relation "quick_meals" violates check constraint "quick_meals_components_valid"',
    'components that are not an array are rejected'
);
select throws_ok(
    $$ insert into public.quick_meals (user_id, meal_name, components)
       values ('a1600000-0000-4000-8000-00000000000a', 'Bad 2',
               '[{"food_id": "f1600000-0000-4000-8000-000000000001"}]') $$,
    '23514', 'new row for relation "quick_meals" violates check constraint "quick_meals_components_valid"',
    'a component without grams is rejected'
);
select throws_ok(
    $$ insert into public.quick_meals (user_id, meal_name, components)
       values ('a1600000-0000-4000-8000-00000000000a', 'Bad 3', '[{"grams": 100}]') $$,
    '23514', 'new row for relation "quick_meals" violates check constraint "quick_meals_components_valid"',
    'a component without a food is rejected'
);
select throws_ok(
    $$ insert into public.quick_meals (user_id, meal_name, components)
       values ('a1600000-0000-4000-8000-00000000000a', 'Bad 4',
               '[{"food_id": "f1600000-0000-4000-8000-000000000001",
                  "custom_food_id": "a1600000-0000-4000-8000-0000000000cf", "grams": 100}]') $$,
    '23514', 'new row for relation "quick_meals" violates check constraint "quick_meals_components_valid"',
    'a component with two foods is rejected'
);
select throws_ok(
    $$ insert into public.quick_meals (user_id, meal_name, components)
       values ('a1600000-0000-4000-8000-00000000000a', 'Bad 5', '[{"food_id": "oats", "grams": 100}]') $$,
    '23514', 'new row for relation "quick_meals" violates check constraint "quick_meals_components_valid"',
    'a component whose food id is not a uuid is rejected'
);
select throws_ok(
    $$ insert into public.quick_meals (user_id, meal_name, components)
       values ('a1600000-0000-4000-8000-00000000000a', 'Bad 6',
               '[{"food_id": "f1600000-0000-4000-8000-000000000001", "grams": 0}]') $$,
    '23514', 'new row for relation "quick_meals" violates check constraint "quick_meals_components_valid"',
    'a component of 0 g is rejected'
);
select throws_ok(
    $$ insert into public.quick_meals (user_id, meal_name, total_fat_g)
       values ('a1600000-0000-4000-8000-00000000000a', 'Bad 7', -1) $$,
    '23514', null, 'a negative total is rejected'
);
select throws_ok(
    $$ insert into public.quick_meals (user_id, meal_name)
       values ('a1600000-0000-4000-8000-00000000000a', '') $$,
    '23514', null, 'an empty meal_name is rejected'
);

select tests.authenticate_as('b1600000-0000-4000-8000-00000000000b');

select lives_ok(
    $$ insert into public.quick_meals (user_id, meal_name)
       values ('b1600000-0000-4000-8000-00000000000b', 'Oats and bar') $$,
    'bob may name a quick meal like ann''s (unique per user)'
);
select is_empty(
    $$ select 1 from public.meal_items where user_id = 'a1600000-0000-4000-8000-00000000000a'
       union all select 1 from public.quick_meals where user_id = 'a1600000-0000-4000-8000-00000000000a' $$,
    'bob sees none of ann''s meal items and quick meals'
);
with deleted as (
    delete from public.meal_items where user_id = 'a1600000-0000-4000-8000-00000000000a' returning 1
)
select is((select count(*)::int from deleted), 0, 'bob''s delete of ann''s meal items affects 0 rows');

select tests.authenticate_as_anon();

select throws_ok(
    'select * from public.custom_foods', '42501', 'permission denied for table custom_foods',
    'anon cannot read custom_foods'
);
select throws_ok(
    'select * from public.meals', '42501', 'permission denied for table meals',
    'anon cannot read meals'
);
select throws_ok(
    'select * from public.meal_items', '42501', 'permission denied for table meal_items',
    'anon cannot read meal_items'
);
select throws_ok(
    'select * from public.quick_meals', '42501', 'permission denied for table quick_meals',
    'anon cannot read quick_meals'
);

-- ============================================================ delete rules

select tests.authenticate_as('a1600000-0000-4000-8000-00000000000a');

select throws_ok(
    $$ delete from public.custom_foods where id = 'a1600000-0000-4000-8000-0000000000cf' $$,
    '23503',
    'update or delete on table "custom_foods" violates foreign key constraint "meal_items_custom_food_fkey" '
    || 'on table "meal_items"',
    'a custom food that has been logged cannot be deleted (restrict)'
);
with deleted as (
    delete from public.meals where id = 'a1600000-0000-4000-8000-0000000000e1' returning 1
)
select is((select count(*)::int from deleted), 1, 'ann deletes her meal');
select is_empty(
    $$ select 1 from public.meal_items where meal_id = 'a1600000-0000-4000-8000-0000000000e1' $$,
    'deleting a meal deletes its items (on delete cascade)'
);
with deleted as (
    delete from public.custom_foods where id = 'a1600000-0000-4000-8000-0000000000cf' returning 1
)
select is((select count(*)::int from deleted), 1, 'once no item uses it, the custom food can be deleted');

select tests.clear_authentication();

-- The owner's code writes the computed columns; they stay non-negative.
select throws_ok(
    $$ insert into public.meals (user_id, meal_type, total_kcal)
       values ('a1600000-0000-4000-8000-00000000000a', 'pgtap16_meal', -1) $$,
    '23514', null, 'a negative total_kcal is rejected'
);
select throws_ok(
    $$ insert into public.meal_items (meal_id, user_id, food_id, grams, kcal)
       values ('a1600000-0000-4000-8000-0000000000e1', 'a1600000-0000-4000-8000-00000000000a',
               'f1600000-0000-4000-8000-000000000001', 50, -1) $$,
    '23514', null, 'a negative item kcal is rejected'
);

select throws_ok(
    $$ delete from public.foods where id = 'f1600000-0000-4000-8000-000000000001' $$,
    '23503', null, 'a shared food that has been logged cannot be deleted (restrict)'
);
select throws_ok(
    $$ delete from public.meal_times where id = 'pgtap16_meal' $$,
    '23503', null, 'a meal time used by logged meals cannot be deleted (restrict)'
);

update public.meals set updated_at = timestamptz '2000-01-01 00:00+00', notes = 'late lunch'
where id = 'b1600000-0000-4000-8000-0000000000e1';
select is(
    (select updated_at from public.meals where id = 'b1600000-0000-4000-8000-0000000000e1'),
    now(),
    'the updated_at trigger stamps meals'
);

-- Deleting a user deletes all of their nutrition data, including items that
-- use their custom foods (the restrict rule does not block the cascade).
delete from auth.users where id = 'b1600000-0000-4000-8000-00000000000b';
select is_empty(
    $$ select 1 from public.custom_foods where user_id = 'b1600000-0000-4000-8000-00000000000b' $$,
    'deleting the user deletes their custom_foods'
);
select is_empty(
    $$ select 1 from public.meals where user_id = 'b1600000-0000-4000-8000-00000000000b' $$,
    'deleting the user deletes their meals'
);
select is_empty(
    $$ select 1 from public.meal_items where user_id = 'b1600000-0000-4000-8000-00000000000b' $$,
    'deleting the user deletes their meal_items'
);
select is_empty(
    $$ select 1 from public.quick_meals where user_id = 'b1600000-0000-4000-8000-00000000000b' $$,
    'deleting the user deletes their quick_meals'
);
select results_eq(
    $$ select
           (select count(*)::int from public.custom_foods as c
            where c.user_id = 'a1600000-0000-4000-8000-00000000000a'),
           (select count(*)::int from public.meals as m
            where m.user_id = 'a1600000-0000-4000-8000-00000000000a'),
           (select count(*)::int from public.quick_meals as q
            where q.user_id = 'a1600000-0000-4000-8000-00000000000a') $$,
    $$ values (1, 2, 1) $$,
    'ann''s rows are untouched by bob''s deletion'
);

select policies_are(
    'public', 'meal_items',
    array['meal_items_select_own', 'meal_items_insert_own', 'meal_items_update_own', 'meal_items_delete_own'],
    'meal_items has exactly the four own-row policies'
);

select * from finish();
rollback;
