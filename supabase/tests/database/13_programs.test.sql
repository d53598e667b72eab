-- Programs domain: programs, session_instances, exercise_plan_items,
-- meal_instances and meal_item_plan. Integrity (ranges and vocabularies,
-- one active program per user, versions, one program per consultation,
-- composite keys that keep a child inside its owner's program, immutability,
-- restrict and cascade deletes) and access (owner reads only, anon nothing).
begin;
set search_path = public, extensions;

select plan(123);

-- Actors: ann a0000000-0000-4000-8000-00000000000a, bob b0000000-0000-4000-8000-00000000000b.
select tests.create_user('a0000000-0000-4000-8000-00000000000a', 'ann@example.com', 'Ann');
select tests.create_user('b0000000-0000-4000-8000-00000000000b', 'bob@example.com', 'Bob');

-- Reference rows of our own (rolled back with the test).
insert into public.exercises (id, name, category, level, primary_muscles)
values ('plans_test_squat', 'Plans test squat', 'strength', 'beginner', '{quadriceps}');
insert into public.meal_times (id, name, typical_time, sort_order)
select 'plans_test_breakfast', 'Plans test breakfast', time '07:30', min(n)
from generate_series(1, 100) as n
where not exists (select from public.meal_times as t where t.sort_order = n);
insert into public.foods (
    id, name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g, fat_g_per_100g, source, source_id
)
values (
    '50000000-0000-4000-8000-000000000001', 'Plans test oats', 389, 16.9, 66.3, 6.9, 'sharpened',
    'plans_test_oats'
);

-- One consultation session each.
insert into public.consultation_sessions (id, user_id)
values
    ('40000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a'),
    ('40000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-00000000000b');

-- insert_row(table, row): inserts the keys of a JSON object as columns, so
-- each assertion below states only what it changes from a valid base row.
create function pg_temp.insert_row(tbl text, r jsonb) returns void
language plpgsql
as $$
declare
    cols text;
begin
    select string_agg(quote_ident(k), ', ') into cols from jsonb_object_keys(r) as k;
    execute format(
        'insert into public.%I (%s) select %s from jsonb_populate_record(null::public.%I, $1)',
        tbl, cols, cols, tbl
    ) using r;
end;
$$;

create temp table base (tbl text primary key, r jsonb not null);
insert into base values
    ('programs', '{"user_id": "a0000000-0000-4000-8000-00000000000a", "version": 50, "source": "onboarding",
      "primary_goal": "fat_loss", "program_start_date": "2026-01-05", "program_duration_weeks": 12,
      "next_reassessment_date": "2026-01-19", "status": "archived", "tdee": {"tdee_kcal": 2759},
      "macros": {"kcal": 2140}, "safety": {}, "feasibility": {}, "provenance": {}, "full_bundle": {}}'),
    ('session_instances', '{"program_id": "10000000-0000-4000-8000-000000000001",
      "user_id": "a0000000-0000-4000-8000-00000000000a", "week_index": 0, "day_index": 0,
      "session_kind": "strength", "title": "Full body", "planned_duration_minutes": 60}'),
    ('exercise_plan_items', '{"session_instance_id": "20000000-0000-4000-8000-000000000001",
      "user_id": "a0000000-0000-4000-8000-00000000000a", "order_index": 50, "exercise_id": "plans_test_squat",
      "name": "Squat", "sets": 3, "reps_min": 6, "reps_max": 10}'),
    ('meal_instances', '{"program_id": "10000000-0000-4000-8000-000000000001",
      "user_id": "a0000000-0000-4000-8000-00000000000a", "week_index": 0, "day_index": 0,
      "meal_type": "plans_test_breakfast",
      "targets": {"kcal": 535, "protein_g": 40, "carbs_g": 54, "fat_g": 18}}'),
    ('meal_item_plan', '{"meal_instance_id": "30000000-0000-4000-8000-000000000001",
      "user_id": "a0000000-0000-4000-8000-00000000000a", "food_id": "50000000-0000-4000-8000-000000000001",
      "food_name": "Oats", "grams": 80, "kcal": 311, "protein_g": 13.5, "carbs_g": 53, "fat_g": 5.5}');

-- t(table, changes): the base row of the table with these keys replaced.
create function pg_temp.t(tbl text, changes jsonb default '{}') returns text
language sql
as $$
    select format(
        'select pg_temp.insert_row(%L, %L::jsonb)', tbl,
        ((select b.r from base as b where b.tbl = t.tbl) || changes)::text
    )
$$;

-- Ann: program v1 (active, 12 weeks) with a session, an exercise, a meal and a food.
-- Bob: program v1 (active) with a session and a meal.
select lives_ok(pg_temp.t('programs', '{"id": "10000000-0000-4000-8000-000000000001", "version": 1,
    "status": "active"}'), 'ann''s first program (active) is stored');
select lives_ok(pg_temp.t('programs', '{"id": "10000000-0000-4000-8000-000000000002", "version": 1,
    "status": "active", "user_id": "b0000000-0000-4000-8000-00000000000b"}'),
    'bob''s first program is stored');
select lives_ok(pg_temp.t('session_instances', '{"id": "20000000-0000-4000-8000-000000000001",
    "time_of_day": "evening", "parameters": {"split": "full_body"}}'), 'ann''s session is stored');
select lives_ok(pg_temp.t('session_instances', '{"id": "20000000-0000-4000-8000-000000000002",
    "program_id": "10000000-0000-4000-8000-000000000002",
    "user_id": "b0000000-0000-4000-8000-00000000000b"}'),
    'bob''s session is stored');
select lives_ok(pg_temp.t('exercise_plan_items', '{"order_index": 0, "target_rir": 3, "rest_seconds": 150}'),
    'ann''s exercise is stored');
select lives_ok(pg_temp.t('meal_instances', '{"id": "30000000-0000-4000-8000-000000000001",
    "meal_time": "07:30"}'), 'ann''s meal is stored');
select lives_ok(pg_temp.t('meal_instances', '{"id": "30000000-0000-4000-8000-000000000002",
    "program_id": "10000000-0000-4000-8000-000000000002",
    "user_id": "b0000000-0000-4000-8000-00000000000b"}'),
    'bob''s meal is stored');
select lives_ok(pg_temp.t('meal_item_plan'), 'ann''s planned food is stored');

select is(
    (select totals from public.meal_instances where id = '30000000-0000-4000-8000-000000000001'),
    '{"kcal": 0, "protein_g": 0, "carbs_g": 0, "fat_g": 0}'::jsonb,
    'a meal''s totals default to zeros'
);

-- ============================================================= programs

select throws_ok(pg_temp.t('programs', '{"version": 0}'), '23514', null, 'version 0 is rejected');
select throws_ok(pg_temp.t('programs', '{"program_duration_weeks": 0}'), '23514', null,
    'a program of 0 weeks is rejected');
select throws_ok(pg_temp.t('programs', '{"program_duration_weeks": 53}'), '23514', null,
    'a program of 53 weeks is rejected');
select lives_ok(pg_temp.t('programs', '{"program_duration_weeks": 52, "version": 51}'),
    'a program of 52 weeks is accepted');
select throws_ok(pg_temp.t('programs', '{"status": "draft"}'), '23514', null,
    'an unknown status is rejected');
select throws_ok(pg_temp.t('programs', '{"source": "import"}'), '23514', null,
    'an unknown source is rejected');
select throws_ok(pg_temp.t('programs', '{"primary_goal": "bulk"}'), '23514', null,
    'an unknown primary_goal is rejected');
select throws_ok(pg_temp.t('programs', '{"tdee": [2759]}'), '23514', null, 'tdee must be a JSON object');
select throws_ok(pg_temp.t('programs', '{"full_bundle": "x"}'), '23514', null,
    'full_bundle must be a JSON object');
select throws_ok(pg_temp.t('programs', '{"macros": null}'), '23502', null, 'macros is required');
select throws_ok(pg_temp.t('programs', '{"next_reassessment_date": "2026-01-05"}'), '23514', null,
    'the next reassessment cannot be on or before the start date');
select throws_ok(pg_temp.t('programs', '{"status": "active"}'), '23505', null,
    'a second active program for the same user is rejected');
select throws_ok(pg_temp.t('programs', '{"version": 1}'), '23505', null,
    'a version number is unique per user');

-- Supersession: only the same user's program, a later version, not itself.
select throws_ok(pg_temp.t('programs', '{"version": 2,
    "supersedes_program_id": "10000000-0000-4000-8000-000000000002"}'), '23503', null,
    'ann''s program cannot supersede bob''s program');
select throws_ok(pg_temp.t('programs', '{"version": 1, "user_id": "b0000000-0000-4000-8000-00000000000b",
    "supersedes_program_id": "10000000-0000-4000-8000-000000000002"}'), '23514', null,
    'version 1 cannot supersede anything');
select throws_ok(pg_temp.t('programs', '{"version": 2, "id": "10000000-0000-4000-8000-000000000008",
    "supersedes_program_id": "10000000-0000-4000-8000-000000000008"}'), '23514', null,
    'a program cannot supersede itself');
select lives_ok(
    $$ update public.programs set status = 'superseded' where id = '10000000-0000-4000-8000-000000000001' $$,
    'the lifecycle status of a stored program can change');
select lives_ok(pg_temp.t('programs', '{"id": "10000000-0000-4000-8000-000000000003", "version": 2,
    "status": "active", "source": "reassessment",
    "supersedes_program_id": "10000000-0000-4000-8000-000000000001"}'),
    'ann''s version 2 supersedes her version 1 and becomes the active program');

-- Source: a consultation program names its (own) session, once.
select throws_ok(pg_temp.t('programs', '{"source": "consultation"}'), '23514', null,
    'a consultation program without its session is rejected');
select throws_ok(pg_temp.t('programs', '{"source_session_id": "40000000-0000-4000-8000-000000000001"}'),
    '23514', null, 'an onboarding program cannot name a consultation session');
select throws_ok(pg_temp.t('programs', '{"source": "consultation",
    "source_session_id": "40000000-0000-4000-8000-000000000002"}'), '23503', null,
    'ann''s program cannot come from bob''s consultation session');
select lives_ok(pg_temp.t('programs', '{"id": "10000000-0000-4000-8000-000000000004", "version": 3,
    "source": "consultation", "source_session_id": "40000000-0000-4000-8000-000000000001"}'),
    'ann''s program from her own consultation session is stored');
select throws_ok(pg_temp.t('programs', '{"version": 4, "source": "consultation",
    "source_session_id": "40000000-0000-4000-8000-000000000001"}'), '23505', null,
    'a second program from the same consultation session is rejected');

-- Immutability: only status and next_reassessment_date change after the insert.
select throws_ok(
    $$ update public.programs set tdee = '{"tdee_kcal": 3000}'
       where id = '10000000-0000-4000-8000-000000000003' $$,
    '23514', 'programs are immutable: only status and next_reassessment_date may change',
    'a stored program''s tdee cannot be rewritten');
select throws_ok(
    $$ update public.programs set program_duration_weeks = 4
       where id = '10000000-0000-4000-8000-000000000003' $$,
    '23514', 'programs are immutable: only status and next_reassessment_date may change',
    'a stored program''s duration cannot be changed');
select throws_ok(
    $$ update public.programs set full_bundle = full_bundle || '{"x": 1}'
       where id = '10000000-0000-4000-8000-000000000003' $$,
    '23514', 'programs are immutable: only status and next_reassessment_date may change',
    'a stored program''s bundle cannot be rewritten');
select lives_ok(
    $$ update public.programs set next_reassessment_date = date '2026-02-02'
       where id = '10000000-0000-4000-8000-000000000003' $$,
    'the next reassessment date of a stored program can move');

-- Deletes that would break history are refused.
select throws_ok(
    $$ delete from public.programs where id = '10000000-0000-4000-8000-000000000001' $$,
    '23503', null, 'a program superseded by a newer version cannot be deleted');
select throws_ok(
    $$ delete from public.consultation_sessions where id = '40000000-0000-4000-8000-000000000001' $$,
    '23503', null, 'the consultation session a program came from cannot be deleted');

-- ==================================================== session_instances

select throws_ok(pg_temp.t('session_instances', '{"program_id": "10000000-0000-4000-8000-000000000002"}'),
    '23503', null, 'ann''s session cannot point into bob''s program');
select throws_ok(pg_temp.t('session_instances', '{"user_id": "b0000000-0000-4000-8000-00000000000b"}'),
    '23503', null, 'a session of bob cannot point into ann''s program');
select throws_ok(pg_temp.t('session_instances', '{"day_index": 7}'), '23514', null,
    'day_index 7 is rejected');
select throws_ok(pg_temp.t('session_instances', '{"day_index": -1}'), '23514', null,
    'day_index -1 is rejected');
select throws_ok(pg_temp.t('session_instances', '{"week_index": -1}'), '23514', null,
    'week_index -1 is rejected');
select throws_ok(pg_temp.t('session_instances', '{"week_index": 12}'), '23514',
    'session_instances week_index 12 is outside its program of 12 weeks',
    'a session in week 12 of a 12-week program is rejected');
select lives_ok(pg_temp.t('session_instances', '{"week_index": 11, "day_index": 6}'),
    'a session in the last week and day of the program is accepted');
select throws_ok(
    $$ update public.session_instances set week_index = 12
       where id = '20000000-0000-4000-8000-000000000001' $$,
    '23514', null, 'a session cannot be moved past the program''s last week');
select throws_ok(pg_temp.t('session_instances', '{"planned_duration_minutes": 301}'), '23514', null,
    'a planned duration over 300 minutes is rejected');
select throws_ok(pg_temp.t('session_instances', '{"planned_duration_minutes": -1}'), '23514', null,
    'a negative planned duration is rejected');
select throws_ok(pg_temp.t('session_instances', '{"session_kind": "yoga"}'), '23514', null,
    'an unknown session_kind is rejected');
select throws_ok(pg_temp.t('session_instances', '{"time_of_day": "dawn"}'), '23514', null,
    'an unknown time_of_day is rejected');
select throws_ok(pg_temp.t('session_instances', '{"state": "done"}'), '23514', null,
    'an unknown state is rejected');
select throws_ok(pg_temp.t('session_instances', '{"parameters": []}'), '23514', null,
    'parameters must be a JSON object');
select throws_ok(pg_temp.t('session_instances', '{"title": "  "}'), '23514', null,
    'a blank title is rejected');

-- ================================================== exercise_plan_items

select throws_ok(
    pg_temp.t('exercise_plan_items', '{"session_instance_id": "20000000-0000-4000-8000-000000000002"}'),
    '23503', null, 'ann''s exercise cannot point into bob''s session');
select throws_ok(pg_temp.t('exercise_plan_items', '{"order_index": 0}'), '23505', null,
    'order_index is unique per session');
select throws_ok(pg_temp.t('exercise_plan_items', '{"exercise_id": "plans_no_such_exercise"}'), '23503', null,
    'an unknown exercise_id is rejected');
select lives_ok(
    pg_temp.t('exercise_plan_items', '{"order_index": 1, "exercise_id": null, "name": "Sled push"}'),
    'a custom exercise without a catalogue id is accepted');
select throws_ok(pg_temp.t('exercise_plan_items', '{"sets": 0}'), '23514', null, '0 sets are rejected');
select throws_ok(pg_temp.t('exercise_plan_items', '{"sets": 21}'), '23514', null, '21 sets are rejected');
select throws_ok(pg_temp.t('exercise_plan_items', '{"reps_min": 10, "reps_max": 8}'), '23514', null,
    'reps_min above reps_max is rejected');
select throws_ok(pg_temp.t('exercise_plan_items', '{"reps_max": null}'), '23514', null,
    'a rep range needs both ends');
select throws_ok(pg_temp.t('exercise_plan_items', '{"reps_min": 0}'), '23514', null,
    'reps_min 0 is rejected');
select throws_ok(pg_temp.t('exercise_plan_items', '{"reps_max": 101}'), '23514', null,
    'reps_max 101 is rejected');
select lives_ok(pg_temp.t('exercise_plan_items', '{"order_index": 2, "reps_min": null, "reps_max": null,
    "name": "Plank"}'), 'an exercise without a rep range (a timed hold) is accepted');
select throws_ok(pg_temp.t('exercise_plan_items', '{"target_rir": 6}'), '23514', null,
    'target_rir 6 is rejected');
select throws_ok(pg_temp.t('exercise_plan_items', '{"target_rir": -1}'), '23514', null,
    'target_rir -1 is rejected');
select throws_ok(pg_temp.t('exercise_plan_items', '{"target_pct_1rm": 29.9}'), '23514', null,
    'target_pct_1rm below 30 is rejected');
select throws_ok(pg_temp.t('exercise_plan_items', '{"target_pct_1rm": 100.1}'), '23514', null,
    'target_pct_1rm above 100 is rejected');
select throws_ok(pg_temp.t('exercise_plan_items', '{"rest_seconds": 601}'), '23514', null,
    'rest_seconds above 600 is rejected');
select lives_ok(pg_temp.t('exercise_plan_items', '{"order_index": 3, "target_pct_1rm": 82.5, "target_rir": 2,
    "rest_seconds": 600}'), 'an exercise with both %1RM and RIR targets and 600 s rest is accepted');
select throws_ok($$ delete from public.exercises where id = 'plans_test_squat' $$, '23503', null,
    'a catalogue exercise used by a plan cannot be deleted');

-- ======================================================= meal_instances

select throws_ok(pg_temp.t('meal_instances', '{"program_id": "10000000-0000-4000-8000-000000000002"}'),
    '23503', null, 'ann''s meal cannot point into bob''s program');
select throws_ok(pg_temp.t('meal_instances', '{"meal_type": "elevenses_unknown"}'), '23503', null,
    'a meal_type that is not a meal_times slug is rejected');
select throws_ok(pg_temp.t('meal_instances', '{"week_index": 12}'), '23514', null,
    'a meal in week 12 of a 12-week program is rejected');
select throws_ok(pg_temp.t('meal_instances', '{"day_index": 7}'), '23514', null,
    'a meal on day 7 is rejected');
select throws_ok(pg_temp.t('meal_instances', '{"targets": {"kcal": 535, "protein_g": 40, "carbs_g": 54}}'),
    '23514', null, 'targets without fat_g are rejected');
select throws_ok(pg_temp.t('meal_instances', '{"targets": {"kcal": -1, "protein_g": 40, "carbs_g": 54,
    "fat_g": 18}}'), '23514', null, 'negative target kcal are rejected');
select throws_ok(pg_temp.t('meal_instances', '{"targets": {"kcal": "535", "protein_g": 40, "carbs_g": 54,
    "fat_g": 18}}'), '23514', null, 'target kcal as a string are rejected');
select throws_ok(pg_temp.t('meal_instances', '{"totals": {"kcal": 500}}'), '23514', null,
    'totals need all four values');
select throws_ok(pg_temp.t('meal_instances', '{"targets": [535]}'), '23514', null,
    'targets must be a JSON object');

-- ======================================================= meal_item_plan

select throws_ok(pg_temp.t('meal_item_plan', '{"meal_instance_id": "30000000-0000-4000-8000-000000000002"}'),
    '23503', null, 'ann''s planned food cannot point into bob''s meal');
select throws_ok(pg_temp.t('meal_item_plan', '{"food_id": "50000000-0000-4000-8000-0000000000ff"}'),
    '23503', null, 'an unknown food_id is rejected');
select throws_ok(pg_temp.t('meal_item_plan', '{"grams": 0.9}'), '23514', null, 'less than 1 g is rejected');
select throws_ok(pg_temp.t('meal_item_plan', '{"grams": 2000.1}'), '23514', null,
    'more than 2000 g is rejected');
select throws_ok(pg_temp.t('meal_item_plan', '{"kcal": -1}'), '23514', null, 'negative kcal are rejected');
select throws_ok(pg_temp.t('meal_item_plan', '{"protein_g": -0.1}'), '23514', null,
    'negative protein is rejected');
select throws_ok(pg_temp.t('meal_item_plan', '{"food_name": ""}'), '23514', null,
    'an empty food_name is rejected');
select throws_ok(
    $$ delete from public.foods where id = '50000000-0000-4000-8000-000000000001' $$, '23503', null,
    'a food used by a meal plan cannot be deleted');

-- ============================================================ access

select is(
    (select count(*)::int from pg_catalog.pg_class
     where oid in ('public.programs'::regclass, 'public.session_instances'::regclass,
                   'public.exercise_plan_items'::regclass, 'public.meal_instances'::regclass,
                   'public.meal_item_plan'::regclass)
       and relrowsecurity),
    5,
    'RLS is enabled on the five programs tables'
);
select policies_are('public', 'programs', array['programs_select_own'],
    'programs: only the select-own policy');
select policies_are('public', 'session_instances', array['session_instances_select_own'],
    'session_instances: only the select-own policy');
select policies_are('public', 'exercise_plan_items', array['exercise_plan_items_select_own'],
    'exercise_plan_items: only the select-own policy');
select policies_are('public', 'meal_instances', array['meal_instances_select_own'],
    'meal_instances: only the select-own policy');
select policies_are('public', 'meal_item_plan', array['meal_item_plan_select_own'],
    'meal_item_plan: only the select-own policy');
select table_privs_are('public', 'programs', 'authenticated', array['SELECT'],
    'authenticated may only read programs');
select table_privs_are('public', 'session_instances', 'authenticated', array['SELECT'],
    'authenticated may only read session_instances');
select table_privs_are('public', 'exercise_plan_items', 'authenticated', array['SELECT'],
    'authenticated may only read exercise_plan_items');
select table_privs_are('public', 'meal_instances', 'authenticated', array['SELECT'],
    'authenticated may only read meal_instances');
select table_privs_are('public', 'meal_item_plan', 'authenticated', array['SELECT'],
    'authenticated may only read meal_item_plan');
select is(
    (select count(*)::int from information_schema.role_table_grants
     where grantee = 'anon' and table_schema = 'public'
       and table_name in ('programs', 'session_instances', 'exercise_plan_items', 'meal_instances',
                          'meal_item_plan')),
    0,
    'anon has no privilege on any programs table'
);

-- ---------------------------------------------------------------- ann
select tests.authenticate_as('a0000000-0000-4000-8000-00000000000a');

select results_eq(
    $$ select
         (select count(*)::int from public.programs),
         (select count(*)::int from public.session_instances),
         (select count(*)::int from public.exercise_plan_items),
         (select count(*)::int from public.meal_instances),
         (select count(*)::int from public.meal_item_plan) $$,
    $$ select
         (select count(*)::int from public.programs where user_id = 'a0000000-0000-4000-8000-00000000000a'),
         2, 4, 1, 1 $$,
    'ann sees exactly her own programs, sessions, exercises, meals and foods'
);
select is(
    (select count(*)::int from public.programs where user_id = 'a0000000-0000-4000-8000-00000000000a'),
    4,
    'ann sees all four of her programs'
);
select is_empty(
    $$ select 1 from public.programs where id = '10000000-0000-4000-8000-000000000002'
       union all select 1 from public.session_instances where id = '20000000-0000-4000-8000-000000000002'
       union all select 1 from public.meal_instances where id = '30000000-0000-4000-8000-000000000002' $$,
    'bob''s program, session and meal are invisible to ann even by id'
);
select throws_ok(
    $$ insert into public.programs (user_id, version, source, primary_goal, program_start_date,
         program_duration_weeks, tdee, macros, safety, feasibility, provenance, full_bundle)
       values ('a0000000-0000-4000-8000-00000000000a', 99, 'onboarding', 'fat_loss', current_date, 4,
         '{}', '{}', '{}', '{}', '{}', '{}') $$,
    '42501', 'permission denied for table programs', 'ann cannot insert a program');
select throws_ok(
    $$ update public.programs set status = 'archived' where id = '10000000-0000-4000-8000-000000000003' $$,
    '42501', 'permission denied for table programs', 'ann cannot update her program');
select throws_ok(
    $$ delete from public.programs where id = '10000000-0000-4000-8000-000000000003' $$,
    '42501', 'permission denied for table programs', 'ann cannot delete her program');
select throws_ok(
    $$ update public.session_instances set state = 'completed' $$,
    '42501', 'permission denied for table session_instances', 'ann cannot update her sessions');
select throws_ok(
    $$ delete from public.exercise_plan_items $$,
    '42501', 'permission denied for table exercise_plan_items', 'ann cannot delete her planned exercises');
select throws_ok(
    $$ insert into public.meal_item_plan (meal_instance_id, user_id, food_id, food_name, grams, kcal,
         protein_g, carbs_g, fat_g)
       values ('30000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
         '50000000-0000-4000-8000-000000000001', 'Oats', 50, 195, 8, 33, 3) $$,
    '42501', 'permission denied for table meal_item_plan', 'ann cannot add a food to her meal plan');
select throws_ok(
    $$ update public.meal_instances
       set targets = '{"kcal": 9000, "protein_g": 0, "carbs_g": 0, "fat_g": 0}' $$,
    '42501', 'permission denied for table meal_instances', 'ann cannot change her meal targets');

-- ---------------------------------------------------------------- bob
select tests.authenticate_as('b0000000-0000-4000-8000-00000000000b');

select results_eq(
    $$ select
         (select count(*)::int from public.programs),
         (select count(*)::int from public.session_instances),
         (select count(*)::int from public.exercise_plan_items),
         (select count(*)::int from public.meal_instances),
         (select count(*)::int from public.meal_item_plan) $$,
    $$ values (1, 1, 0, 1, 0) $$,
    'bob sees only his own program, session and meal (none of ann''s rows)'
);

-- --------------------------------------------------------------- anon
select tests.authenticate_as_anon();

select throws_ok('select 1 from public.programs', '42501', 'permission denied for table programs',
    'anon cannot read programs');
select throws_ok('select 1 from public.meal_item_plan', '42501', 'permission denied for table meal_item_plan',
    'anon cannot read meal_item_plan');

-- ------------------------------------------------------- service_role
select tests.authenticate_as_service_role();

select is(
    (select count(*)::int from public.programs
     where user_id in ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-00000000000b')),
    5,
    'service_role sees the programs of both users'
);
select lives_ok(
    $$ update public.session_instances set state = 'completed'
       where id = '20000000-0000-4000-8000-000000000001' $$,
    'service_role updates a session''s state'
);

-- ==================================================== deletes (postgres)
select tests.clear_authentication();

-- Deleting a program removes its plan (children cascade).
select lives_ok(pg_temp.t('programs', '{"id": "10000000-0000-4000-8000-000000000005", "version": 5}'),
    'a disposable program is stored');
select lives_ok(pg_temp.t('session_instances', '{"id": "20000000-0000-4000-8000-000000000005",
    "program_id": "10000000-0000-4000-8000-000000000005"}'), 'with a session');
select lives_ok(
    pg_temp.t('exercise_plan_items', '{"session_instance_id": "20000000-0000-4000-8000-000000000005"}'),
    'with an exercise');
select lives_ok(pg_temp.t('meal_instances', '{"id": "30000000-0000-4000-8000-000000000005",
    "program_id": "10000000-0000-4000-8000-000000000005"}'), 'with a meal');
select lives_ok(pg_temp.t('meal_item_plan', '{"meal_instance_id": "30000000-0000-4000-8000-000000000005"}'),
    'with a food');
delete from public.programs where id = '10000000-0000-4000-8000-000000000005';
select is(
    (select count(*)::int from public.session_instances
     where program_id = '10000000-0000-4000-8000-000000000005')
    + (select count(*)::int from public.exercise_plan_items
       where session_instance_id = '20000000-0000-4000-8000-000000000005')
    + (select count(*)::int from public.meal_instances
       where program_id = '10000000-0000-4000-8000-000000000005')
    + (select count(*)::int from public.meal_item_plan
       where meal_instance_id = '30000000-0000-4000-8000-000000000005'),
    0,
    'deleting a program deletes its sessions, exercises, meals and planned foods'
);

-- Deleting the user removes everything of hers, including the superseded
-- program and the program from her consultation (the restrict keys do not
-- block the cascade).
delete from auth.users where id = 'a0000000-0000-4000-8000-00000000000a';
select is(
    (select count(*)::int from (
        select user_id from public.programs
        union all select user_id from public.session_instances
        union all select user_id from public.exercise_plan_items
        union all select user_id from public.meal_instances
        union all select user_id from public.meal_item_plan
    ) as rows_left
    where user_id = 'a0000000-0000-4000-8000-00000000000a'),
    0,
    'deleting ann deletes all her programs and plan rows'
);
select results_eq(
    $$ select
         (select count(*)::int from public.programs as p
          where p.user_id = 'b0000000-0000-4000-8000-00000000000b'),
         (select count(*)::int from public.session_instances as s
          where s.user_id = 'b0000000-0000-4000-8000-00000000000b'),
         (select count(*)::int from public.meal_instances as m
          where m.user_id = 'b0000000-0000-4000-8000-00000000000b') $$,
    $$ values (1, 1, 1) $$,
    'bob''s program, session and meal are untouched'
);

select * from finish();
rollback;
