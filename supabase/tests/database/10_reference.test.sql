-- Reference data: the rows the reference-data migration loads (counts and
-- values pinned from data/), who may read and write the reference tables,
-- their integrity constraints (vocabularies, ranges, keys, references) and
-- the search RPCs, acting as PostgREST does through the tests.* helpers.
begin;
set search_path = public, extensions;

select plan(96);

-- ============================================================ loaded rows

select is((select count(*)::int from public.foods), 8789, 'all 8,789 USDA SR28 foods are loaded');
select is(
    (
        select count(*)::int from public.foods
        where source = 'usda_sr28' and source_id ~ '^[0-9]{5}$'
    ),
    8789, 'every food carries its USDA NDB number as source_id'
);
select is((select count(*)::int from public.exercises), 873, 'all 873 free-exercise-db exercises are loaded');
select
    is(
        (select count(*)::int from public.met_values), 820, 'all 820 current 2011 Compendium codes are loaded'
    );
select
    cmp_ok(
        (select count(*)::int from public.training_modalities), '>=', 15, 'at least 15 training modalities'
    );
select cmp_ok((select count(*)::int from public.meal_times), '>=', 8, 'at least 8 meal times');
select cmp_ok((select count(*)::int from public.event_types), '>=', 10, 'at least 10 event types');
select results_eq(
    $$ select category, count(*) filter (where is_default)::int
       from public.activity_category_mets group by category order by category $$,
    $$ values ('cardio_interval'::text, 1), ('cardio_steady', 1), ('flexibility', 1), ('sports', 1),
              ('strength', 1) $$,
    'each of the five activity categories has exactly one default MET'
);

-- Values pinned from data/usda-sr28 (NDB 01001, ABBREV.txt + FOOD_DES.txt).
select results_eq(
    $$ select id, name, brand, food_group, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g,
              fat_g_per_100g, fiber_g_per_100g, sugar_g_per_100g, sodium_mg_per_100g, servings
       from public.foods where source = 'usda_sr28' and source_id = '01001' $$,
    $$ values ('27d6fdcc-2ae8-5bac-b7e7-15a14f9a0f5f'::uuid, 'Butter, salted'::text, null::text,
               'Dairy and Egg Products'::text, 717::numeric, 0.85::numeric, 0.06::numeric, 81.11::numeric,
               0.0::numeric, 0.06::numeric, 643::numeric,
               '[{"description": "1 pat,  (1\" sq, 1/3\" high)", "grams": 5.0},
                 {"description": "1 tbsp", "grams": 14.2}]'::jsonb) $$,
    'NDB 01001 "Butter, salted": stable id, 717 kcal, 0.85 g protein, 81.11 g fat, 0.06 g carbs, servings'
);
select is(
    (
        select fiber_g_per_100g from public.foods
        where source_id = '02069'
    ),
    null, 'a fiber value missing in SR28 (NDB 02069, balsamic vinegar) is NULL, not 0'
);
select is(
    (
        select count(*)::int from public.foods
        where fiber_g_per_100g is null
    ), 594,
    'the 594 foods without Fiber_TD have NULL fiber'
);
select is(
    (
        select count(*)::int from public.foods
        where sugar_g_per_100g is null
    ), 1832,
    'the 1,832 foods without Sugar_Tot have NULL sugar'
);
select is(
    (
        select count(*)::int from public.foods
        where sodium_mg_per_100g is null
    ), 83,
    'the 83 foods without Sodium have NULL sodium'
);
select results_eq(
    $$ select jsonb_array_length(servings), count(*)::int from public.foods group by 1 order by 1 $$,
    $$ values (0, 297), (1, 3668), (2, 4824) $$,
    'household servings: 4,824 foods with two, 3,668 with one, 297 with none'
);
select is(
    (
        select brand from public.foods
        where source_id = '22996'
    ), 'Kellogg, Co.',
    'the brand comes from ManufacName (NDB 22996)'
);
select is(
    (
        select servings from public.foods
        where source_id = '22996'
    ),
    '[{"description": "1 Entrée", "grams": 269}]'::jsonb,
    'the ISO-8859-1 byte 0xE9 of ABBREV.txt is decoded as é'
);
select is(
    (
        select count(*)::int from public.foods
        where brand is not null
    ), 1707, '1,707 branded foods'
);
select results_eq(
    $$ select name, category, level, mechanic, force, equipment, primary_muscles, secondary_muscles
       from public.exercises where id = 'Barbell_Squat' $$,
    $$ values ('Barbell Squat'::text, 'strength'::text, 'beginner'::text, 'compound'::text, 'push'::text,
               'barbell'::text, '{quadriceps}'::text[], '{calves,glutes,hamstrings,lower_back}'::text[]) $$,
    'exercise Barbell_Squat with its muscles (lower back → lower_back)'
);
select is(
    (
        select count(*)::int from public.exercises
        where mechanic is null
    ), 87,
    'the 87 exercises without a mechanic keep NULL'
);
select is((
    select met from public.met_values
    where id = '12150'
), 8.0::numeric, 'running 12150 = 8.0 MET');
select
    is((
        select met from public.met_values
        where id = '07030'
    ), 0.95::numeric, 'sleeping 07030 = 0.95 MET (two decimals kept)');
select is(
    (
        select description from public.met_values
        where id = '15135'
    ),
    'children’s games, adults playing (e.g., hopscotch, 4-square, dodge ball, playground apparatus, '
    || 't-ball, tetherball, marbles, jacks, arcade games), moderate effort',
    'double-encoded UTF-8 of the Compendium scrape is repaired (15135)'
);
select results_eq(
    $$ select a.met_value_id, m.met from public.activity_category_mets as a
       inner join public.met_values as m on a.met_value_id = m.id
       where a.category = 'strength' and a.is_default $$,
    $$ values ('02054'::text, 3.5::numeric) $$,
    'the default strength MET is Compendium 02054 (resistance training, 8-15 reps), 3.5'
);
select is_empty(
    $$ select 1 from public.training_modalities where activity_category is null or met_value_id is null $$,
    'every curated modality maps to an activity category and a Compendium code'
);
select is_empty(
    $$ select 1 from public.meal_times as a inner join public.meal_times as b
       on a.sort_order < b.sort_order and a.typical_time > b.typical_time $$,
    'meal times sort in the order of their typical clock times'
);
select ok(
    (
        select bool_and(id in (select id from public.meal_times))
        from unnest(array['breakfast', 'lunch', 'dinner', 'snack']) as id
    ),
    'breakfast, lunch, dinner and snack are meal time slugs'
);

-- ============================================================== privileges

select tests.create_user('a0000000-0000-4000-8000-0000000000a1', 'ref-ann@example.com', 'Ann');

select tests.authenticate_as('a0000000-0000-4000-8000-0000000000a1');
select is((select count(*)::int from public.foods), 8789, 'a signed-in user reads every food');
select is((select count(*)::int from public.exercises), 873, 'a signed-in user reads every exercise');
select cmp_ok(
    (select count(*)::int from public.activity_category_mets), '>=', 5,
    'a signed-in user reads the activity category METs'
);
select throws_ok(
    $$ insert into public.event_types (id, name, category) values ('tests_hack', 'Hack', 'other') $$,
    '42501', 'permission denied for table event_types', 'a signed-in user cannot insert reference rows'
);
select throws_ok(
    $$ update public.foods set kcal_per_100g = 1 where source_id = '01001' $$,
    '42501', 'permission denied for table foods', 'a signed-in user cannot update foods'
);
select throws_ok(
    $$ delete from public.activity_category_mets $$,
    '42501',
    'permission denied for table activity_category_mets',
    'a signed-in user cannot delete reference rows'
);

-- Search RPCs (security invoker, as the signed-in user).
select ok(
    (
        select count(*) = 5 and bool_and(name ilike '%chicken%' and name ilike '%breast%')
        from public.search_foods('chiken breast', 5)
    ),
    'search_foods is typo-tolerant: "chiken breast" finds 5 chicken breast foods'
);
select ok(
    'Chicken, broiler or fryers, breast, skinless, boneless, meat only, raw'
    in (select name from public.search_foods('raw chicken breast boneless skinless', 5)),
    'search_foods matches words in any order (raw boneless skinless chicken breast)'
);
select is(
    (select name from public.search_foods('broccoli raw', 1)), 'Broccoli, raw',
    'search_foods ranks the closest name first'
);
select is(
    (select count(*)::int from public.search_foods('egg', 0)), 1, 'max_results below 1 returns one row'
);
select is(
    (select count(*)::int from public.search_foods('chicken', 1000)), 100, 'max_results is capped at 100'
);
select is(
    (select count(*)::int from public.search_foods('chicken', null)), 20, 'max_results defaults to 20'
);
select is_empty($$ select * from public.search_foods('  - ') $$, 'a query without words finds nothing');
select is_empty($$ select * from public.search_foods(null) $$, 'a null query finds nothing');
select is_empty(
    $$ select * from public.search_foods('zzqxjv') $$, 'a query that matches nothing finds nothing'
);
select is(
    (select id from public.search_exercises('barbel squat', 1)), 'Barbell_Squat',
    'search_exercises: "barbel squat" finds Barbell_Squat first'
);

select tests.authenticate_as_anon();
select throws_ok(
    $$ select count(*) from public.foods $$, '42501', 'permission denied for table foods',
    'anon cannot read foods'
);
select throws_ok(
    $$ select count(*) from public.activity_category_mets $$, '42501',
    'permission denied for table activity_category_mets', 'anon cannot read activity_category_mets'
);
select throws_ok(
    $$ select * from public.search_foods('egg') $$, '42501',
    'permission denied for function search_foods', 'anon cannot call search_foods'
);
select throws_ok(
    $$ select * from public.search_exercises('squat') $$, '42501',
    'permission denied for function search_exercises', 'anon cannot call search_exercises'
);

select tests.clear_authentication();

select isnt_definer('public', 'search_foods', array['text', 'integer'], 'search_foods is SECURITY INVOKER');
select volatility_is('public', 'search_foods', array['text', 'integer'], 'stable', 'search_foods is STABLE');
select isnt_definer(
    'public', 'search_exercises', array['text', 'integer'],
    'search_exercises is SECURITY INVOKER'
);
select ok(
    (
        select bool_and('search_path=""' = any(proconfig)) from pg_catalog.pg_proc
        where
            oid in (
                'public.search_foods(text, integer)'::regprocedure,
                'public.search_exercises(text, integer)'::regprocedure
            )
    ),
    'both search functions pin search_path to empty'
);
select policies_are(
    'public', 'activity_category_mets', array['activity_category_mets_select_authenticated'],
    'activity_category_mets has only the select policy for signed-in users'
);

-- ====================================================== integrity (service_role)

select tests.authenticate_as_service_role();

-- exercises
select throws_ok(
    $$ insert into public.exercises (id, name, category, level, primary_muscles)
       values ('Tests_X1', 'X', 'yoga', 'beginner', '{chest}') $$,
    '23514', null, 'an unknown exercise category is rejected'
);
select throws_ok(
    $$ insert into public.exercises (id, name, category, level, primary_muscles)
       values ('Tests_X2', 'X', 'strength', 'novice', '{chest}') $$,
    '23514', null, 'an unknown exercise level is rejected'
);
select throws_ok(
    $$ insert into public.exercises (id, name, category, level, equipment, primary_muscles)
       values ('Tests_X3', 'X', 'strength', 'beginner', 'body only', '{chest}') $$,
    '23514', null, 'equipment must be snake_case ("body only" is rejected)'
);
select throws_ok(
    $$ insert into public.exercises (id, name, category, level, primary_muscles)
       values ('Tests_X4', 'X', 'strength', 'beginner', '{lower back}') $$,
    '23514', null, 'an unknown muscle is rejected'
);
select throws_ok(
    $$ insert into public.exercises (id, name, category, level, primary_muscles)
       values ('Tests_X5', 'X', 'strength', 'beginner', '{}') $$,
    '23514', null, 'an exercise needs at least one primary muscle'
);
select throws_ok(
    $$ insert into public.exercises (id, name, category, level, primary_muscles, secondary_muscles)
       values ('Tests_X6', 'X', 'strength', 'beginner', '{chest}', '{wings}') $$,
    '23514', null, 'an unknown secondary muscle is rejected'
);
select throws_ok(
    $$ insert into public.exercises (id, name, category, level, primary_muscles)
       values ('Tests X7', 'X', 'strength', 'beginner', '{chest}') $$,
    '23514', null, 'an exercise id with a space is rejected'
);
select throws_ok(
    $$ insert into public.exercises (id, name, category, level, primary_muscles)
       values ('Barbell_Squat', 'Again', 'strength', 'beginner', '{chest}') $$,
    '23505', null, 'exercise ids are unique'
);

-- foods (checked on updates of NDB 01001; the transaction is rolled back)
select throws_ok(
    $$ update public.foods set kcal_per_100g = 903 where source_id = '01001' $$,
    '23514', null, 'more than 902 kcal per 100 g is rejected'
);
select throws_ok(
    $$ update public.foods set protein_g_per_100g = 100.01 where source_id = '01001' $$,
    '23514', null, 'more than 100 g protein per 100 g is rejected'
);
select throws_ok(
    $$ update public.foods set fiber_g_per_100g = -0.1 where source_id = '01001' $$,
    '23514', null, 'negative fiber is rejected'
);
select throws_ok(
    $$ update public.foods set sodium_mg_per_100g = 40001 where source_id = '01001' $$,
    '23514', null, 'more than 40 g sodium per 100 g is rejected'
);
select throws_ok(
    $$ update public.foods set food_group = 'Junk Food' where source_id = '01001' $$,
    '23514', null, 'an unknown food group is rejected'
);
select throws_ok(
    $$ update public.foods set source = 'openfoodfacts' where source_id = '01001' $$,
    '23514', null, 'an unknown food source is rejected'
);
select throws_ok(
    $$ update public.foods set source_id = 'butter' where source_id = '01001' $$,
    '23514', null, 'a USDA food needs a 5-digit NDB number'
);
select throws_ok(
    $$ update public.foods set source_id = '01002' where source_id = '01001' $$,
    '23505', null, 'a source id is unique per source'
);
select throws_ok(
    $$ update public.foods set servings = '{"description": "1 cup", "grams": 240}'
       where source_id = '01001' $$,
    '23514', null, 'servings must be an array'
);
select throws_ok(
    $$ update public.foods set servings = '[{"description": "1 cup", "grams": 0}]'
       where source_id = '01001' $$,
    '23514', null, 'a serving of 0 g is rejected'
);
select throws_ok(
    $$ update public.foods set servings = '[{"description": "1 cup", "grams": "240"}]'
       where source_id = '01001' $$,
    '23514', null, 'serving grams must be a JSON number'
);
select throws_ok(
    $$ update public.foods set servings = '[{"description": "1 cup", "grams": 240}, {"grams": 30}]'
       where source_id = '01001' $$,
    '23514', null, 'every serving needs a description'
);
select throws_ok(
    $$ update public.foods set servings = '[{"description": "  ", "grams": 30}]' where source_id = '01001' $$,
    '23514', null, 'a blank serving description is rejected'
);
select lives_ok(
    $$ insert into public.foods (
           name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g, fat_g_per_100g, source, source_id, servings
       )
       values (
           'Tests food', 100, 1, 1, 1, 'sharpened', 'tests-food-1',
           '[{"description": "1 cup", "grams": 240}, {"description": "1 tbsp", "grams": 15.5}]'
       ) $$,
    'a valid food with two servings is accepted'
);

-- met_values
select throws_ok(
    $$ insert into public.met_values (id, heading, description, met) values ('9900', 'sports', 'x', 3) $$,
    '23514', null, 'a Compendium code must have 5 digits'
);
select throws_ok(
    $$ insert into public.met_values (id, heading, description, met) values ('99001', 'gaming', 'x', 3) $$,
    '23514', null, 'an unknown Compendium heading is rejected'
);
select throws_ok(
    $$ insert into public.met_values (id, heading, description, met) values ('99002', 'sports', 'x', 0) $$,
    '23514', null, 'a MET of 0 is rejected'
);
select throws_ok(
    $$ insert into public.met_values (id, heading, description, met)
       values ('99003', 'sports', 'x', 25.01) $$,
    '23514', null, 'a MET above 25 is rejected'
);

-- activity_category_mets
select throws_ok(
    $$ insert into public.activity_category_mets (category, met_value_id) values ('swimming', '18240') $$,
    '23514', null, 'an unknown activity category is rejected'
);
select throws_ok(
    $$ insert into public.activity_category_mets (category, met_value_id) values ('sports', '99999') $$,
    '23503', null, 'an activity category MET must reference a Compendium code'
);
select throws_ok(
    $$ insert into public.activity_category_mets (category, met_value_id)
       values ('cardio_steady', '12150') $$,
    '23505', null, 'a category lists a Compendium code once'
);
select throws_ok(
    $$ insert into public.activity_category_mets (category, met_value_id, is_default)
       values ('cardio_steady', '12030', true) $$,
    '23505', null, 'a category has at most one default MET'
);
select throws_ok(
    $$ delete from public.met_values where id = '12020' $$,
    '23503', null, 'a Compendium code in use by an activity category cannot be deleted (restrict)'
);

-- training_modalities
select throws_ok(
    $$ insert into public.training_modalities (id, name, category)
       values ('Tests-Bad', 'Bad slug', 'mixed') $$,
    '23514', null, 'a modality slug must be lowercase snake_case'
);
select throws_ok(
    $$ insert into public.training_modalities (id, name, category) values ('tests_m1', 'M1', 'cardio') $$,
    '23514', null, 'an unknown modality category is rejected'
);
select throws_ok(
    $$ insert into public.training_modalities (id, name, category, activity_category)
       values ('tests_m2', 'M2', 'mixed', 'cardio') $$,
    '23514', null, 'an unknown activity category of a modality is rejected'
);
select throws_ok(
    $$ insert into public.training_modalities (id, name, category, met_value_id)
       values ('tests_m3', 'M3', 'mixed', '99999') $$,
    '23503', null, 'a modality''s Compendium code must exist'
);
select throws_ok(
    $$ insert into public.training_modalities (id, name, category)
       values ('tests_m4', 'Running', 'endurance') $$,
    '23505', null, 'modality names are unique'
);
select throws_ok(
    $$ delete from public.met_values where id = '03031' $$,
    '23503', null, 'a Compendium code in use by a modality cannot be deleted (restrict)'
);

-- meal_times
select throws_ok(
    $$ insert into public.meal_times (id, name, typical_time, sort_order)
       values ('tests_mt1', 'MT1', '23:00', 0) $$,
    '23514', null, 'a meal time sort_order below 1 is rejected'
);
select throws_ok(
    $$ insert into public.meal_times (id, name, typical_time, sort_order)
       values ('tests_mt2', 'MT2', '23:00', 101) $$,
    '23514', null, 'a meal time sort_order above 100 is rejected'
);
select throws_ok(
    $$ insert into public.meal_times (id, name, typical_time, sort_order)
       values ('tests_mt3', 'MT3', '23:00', (select sort_order from public.meal_times where id = 'lunch')) $$,
    '23505', null, 'meal time sort orders are unique'
);

-- event_types
select throws_ok(
    $$ insert into public.event_types (id, name, category) values ('tests_e1', 'E1', 'party') $$,
    '23514', null, 'an unknown event category is rejected'
);
select throws_ok(
    $$ insert into public.event_types (id, name, category)
       values ('marathon', 'Marathon 2', 'endurance_race') $$,
    '23505', null, 'event type slugs are unique'
);

-- updated_at
update public.foods set updated_at = timestamptz '2000-01-01 00:00:00+00'
where source_id = '01001';
select is(
    (
        select updated_at from public.foods
        where source_id = '01001'
    ), now(),
    'the shared trigger keeps foods.updated_at current'
);

-- Every fixture sample inserts as the service role (tests.seed_reference()).
select tests.clear_authentication();
create temporary table reference_samples on commit drop as
select
    table_name,
    sample
from tests.seed_reference();
grant select on reference_samples to service_role;
select set_eq(
    'select table_name from reference_samples',
    $$ values ('exercises'), ('foods'), ('met_values'), ('activity_category_mets'), ('training_modalities'),
              ('meal_times'), ('event_types') $$,
    'tests.seed_reference() returns one sample per reference table'
);
select tests.authenticate_as_service_role();
select lives_ok(
    $$ do $samples$
       declare
           s record;
           cols text;
       begin
           for s in select * from reference_samples loop
               select string_agg(quote_ident(k), ', ') into cols from jsonb_object_keys(s.sample) as k;
               execute format(
                   'insert into public.%I (%s) select %s from jsonb_populate_record(null::public.%I, $1)',
                   s.table_name, cols, cols, s.table_name
               ) using s.sample;
           end loop;
       end
       $samples$ $$,
    'every reference sample inserts cleanly as service_role'
);

select finish();
rollback;
