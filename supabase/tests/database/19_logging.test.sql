-- Logging (issue 6, items 1-3): meal item nutrients and meal totals computed
-- from the foods tables (clients cannot write them), MET calories
-- for activities without calories, and the logging RPCs (quick meal, template,
-- copy a day) with their idempotency, ownership checks and grants. Writes are
-- made as the signed-in user (tests.authenticate_as), the way PostgREST runs
-- them.
begin;
set search_path = public, extensions;

select plan(24);

-- Actors:
--   ann  a1900000-0000-4000-8000-00000000000a
--   bob  b1900000-0000-4000-8000-00000000000b
-- Rows with known ids:
--   shared food   f1900000-0000-4000-8000-000000000001 (389 kcal, 16.89 P, 66.27 C, 6.9 F per 100 g)
--   ann's meal    a1900000-0000-4000-8000-0000000000e1
--   bob's quick meal b1900000-0000-4000-8000-0000000000a1
--   bob's template   b1900000-0000-4000-8000-0000000000b1

select tests.create_user('a1900000-0000-4000-8000-00000000000a', 'ann19@example.com', 'Ann');
select tests.create_user('b1900000-0000-4000-8000-00000000000b', 'bob19@example.com', 'Bob');

insert into public.foods (
    id, name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g, fat_g_per_100g, source, source_id
)
values (
    'f1900000-0000-4000-8000-000000000001', 'Pgtap19 oats', 389, 16.89, 66.27, 6.9,
    'sharpened', 'pgtap19-oats'
);

-- ============================================================ function privileges

select ok(
    not has_function_privilege('anon', 'public.log_quick_meal(uuid, timestamptz, text, text)', 'execute'),
    'anon cannot execute log_quick_meal'
);
select ok(
    not has_function_privilege(
        'anon', 'public.log_activity_from_template(uuid, timestamptz, text)', 'execute'
    ),
    'anon cannot execute log_activity_from_template'
);
select ok(
    not has_function_privilege('anon', 'public.copy_meals(date, date, text)', 'execute'),
    'anon cannot execute copy_meals'
);
select ok(
    has_function_privilege('authenticated', 'public.copy_meals(date, date, text)', 'execute'),
    'authenticated can execute copy_meals'
);
select ok(
    not has_function_privilege('authenticated', 'private.meal_items_compute_nutrients()', 'execute'),
    'trigger functions are not executable by clients'
);

-- ============================================================ totals

select tests.authenticate_as('a1900000-0000-4000-8000-00000000000a');

select throws_ok(
    $$ insert into public.meals (user_id, meal_type, logged_at, total_kcal)
       values ('a1900000-0000-4000-8000-00000000000a', 'breakfast', '2026-11-20 07:00+00', 5000) $$,
    '42501', null, 'a client cannot send a meal''s totals'
);
insert into public.meals (id, user_id, meal_type, logged_at)
values (
    'a1900000-0000-4000-8000-0000000000e1', 'a1900000-0000-4000-8000-00000000000a', 'breakfast',
    '2026-11-20 07:00+00'
);

select is(
    (
        select total_kcal from public.meals
        where id = 'a1900000-0000-4000-8000-0000000000e1'
    ),
    0.0::numeric,
    'a new meal starts with zero totals'
);

select throws_ok(
    $$ insert into public.meal_items (meal_id, user_id, food_id, grams, kcal)
       values ('a1900000-0000-4000-8000-0000000000e1', 'a1900000-0000-4000-8000-00000000000a',
               'f1900000-0000-4000-8000-000000000001', 150, 1) $$,
    '42501', null, 'a client cannot send an item''s nutrients'
);
insert into public.meal_items (meal_id, user_id, food_id, grams)
values (
    'a1900000-0000-4000-8000-0000000000e1', 'a1900000-0000-4000-8000-00000000000a',
    'f1900000-0000-4000-8000-000000000001', 150
);

select results_eq(
    $$ select kcal, protein_g, carbs_g, fat_g from public.meal_items
       where meal_id = 'a1900000-0000-4000-8000-0000000000e1' $$,
    $$ values (583.5::numeric, 25.3::numeric, 99.4::numeric, 10.4::numeric) $$,
    'item nutrients = grams x food per 100 g'
);
select results_eq(
    $$ select total_kcal, total_protein_g, total_carbs_g, total_fat_g from public.meals
       where id = 'a1900000-0000-4000-8000-0000000000e1' $$,
    $$ values (583.5::numeric, 25.3::numeric, 99.4::numeric, 10.4::numeric) $$,
    'meal totals = the sum of its items'
);

select throws_ok(
    $$ update public.meals set total_kcal = 1 where id = 'a1900000-0000-4000-8000-0000000000e1' $$,
    '42501', null, 'a client cannot overwrite a meal''s totals'
);

update public.meal_items set grams = 50
where meal_id = 'a1900000-0000-4000-8000-0000000000e1';
select is(
    (
        select total_kcal from public.meals
        where id = 'a1900000-0000-4000-8000-0000000000e1'
    ),
    194.5::numeric,
    'totals follow an item update'
);

-- ============================================================ MET calories

insert into public.body_metrics (user_id, measured_at, weight_kg)
values ('a1900000-0000-4000-8000-00000000000a', '2026-11-19 07:00+00', 70);

insert into public.activities (
    user_id, category, name, start_time, duration_minutes, intensity_mets, client_id
)
values (
    'a1900000-0000-4000-8000-00000000000a', 'cardio_steady', 'Run', '2026-11-20 08:00+00', 30, 8.0, 'run-1'
);
select is(
    (
        select calories_burned from public.activities
        where client_id = 'run-1'
    ),
    280.0::numeric,
    'MET calories: 8.0 MET x 70 kg x 0.5 h = 280 kcal'
);

insert into public.activities (user_id, category, name, start_time, duration_minutes, client_id)
values ('a1900000-0000-4000-8000-00000000000a', 'strength', 'Lift', '2026-11-20 09:00+00', 60, 'lift-1');
select is(
    (
        select calories_burned from public.activities
        where client_id = 'lift-1'
    ),
    (
        select round(v.met * 70, 1) from public.activity_category_mets as c
        inner join public.met_values as v on c.met_value_id = v.id
        where c.category = 'strength' and c.is_default
    ),
    'without intensity_mets the category default MET is used'
);

select throws_ok(
    $$ insert into public.activities (user_id, category, name, start_time, duration_minutes, client_id)
       values ('a1900000-0000-4000-8000-00000000000a', 'strength', 'Again', now(), 10, 'lift-1') $$,
    '23505',
    null,
    'a direct insert with a duplicate client_id conflicts (409)'
);

-- ============================================================ RPCs

select tests.authenticate_as('b1900000-0000-4000-8000-00000000000b');
insert into public.quick_meals (id, user_id, meal_name, components)
values (
    'b1900000-0000-4000-8000-0000000000a1', 'b1900000-0000-4000-8000-00000000000b', 'Oats',
    '[{"food_id": "f1900000-0000-4000-8000-000000000001", "grams": 100}]'
);
insert into public.activity_templates (id, user_id, template_name, category, template_data)
values (
    'b1900000-0000-4000-8000-0000000000b1', 'b1900000-0000-4000-8000-00000000000b', 'Ride',
    'cardio_steady', '{"duration_minutes": 60, "intensity_mets": 6.8}'
);

select is(
    (
        select total_kcal
        from public.log_quick_meal('b1900000-0000-4000-8000-0000000000a1', client_id => 'q-1')
    ),
    389.0::numeric,
    'log_quick_meal logs the quick meal with totals from the foods'
);
select is(
    (
        select count(*)::int from
            public.log_quick_meal('b1900000-0000-4000-8000-0000000000a1', client_id => 'q-1')
                as m
        inner join public.meals as existing on m.id = existing.id
    ),
    1,
    'a retry with the same client_id returns the existing meal'
);
select is(
    (select count(*)::int from public.meals),
    1,
    '... and does not log a second one'
);
select is(
    (select source from public.log_activity_from_template('b1900000-0000-4000-8000-0000000000b1')),
    'template',
    'log_activity_from_template logs the template'
);

select tests.authenticate_as('a1900000-0000-4000-8000-00000000000a');

select throws_ok(
    $$ select public.log_quick_meal('b1900000-0000-4000-8000-0000000000a1') $$,
    'PT404',
    'quick meal not found',
    'another user''s quick meal is not found'
);
select throws_ok(
    $$ select public.log_activity_from_template('b1900000-0000-4000-8000-0000000000b1') $$,
    'PT404',
    'activity template not found',
    'another user''s template is not found'
);

select is(
    (select array_agg(m.total_kcal) from public.copy_meals('2026-11-20', '2026-11-21') as m),
    array[194.5]::numeric[],
    'copy_meals copies the day''s meals with their items'
);
select is(
    (select array_agg(m.logged_at) from public.copy_meals('2026-11-20', '2026-11-21') as m),
    array['2026-11-21 07:00+00']::timestamptz[],
    'copying again returns the copy at the same time of day'
);
select is(
    (select count(*)::int from public.meals),
    2,
    '... without duplicating it'
);

select tests.clear_authentication();
select finish();
rollback;
