-- body_metrics (users) and the activity tables (activities, exercise_sets,
-- activity_templates): owner-only access, ranges and vocabularies, the
-- idempotency keys, children that cannot point into another user's data,
-- and the cascades when a user is deleted. Writes are made as the signed-in
-- user (tests.authenticate_as), the way PostgREST runs them.
begin;
set search_path = public, extensions;

select plan(83);

-- Actors:
--   ann  a1500000-0000-4000-8000-00000000000a
--   bob  b1500000-0000-4000-8000-00000000000b
-- Rows with known ids:
--   ann's activity  a1500000-0000-4000-8000-0000000000a1
--   bob's activity  b1500000-0000-4000-8000-0000000000b1

select tests.create_user('a1500000-0000-4000-8000-00000000000a', 'ann15@example.com', 'Ann');
select tests.create_user('b1500000-0000-4000-8000-00000000000b', 'bob15@example.com', 'Bob');

-- Catalogue exercises of this test (the reference data may or may not be loaded).
insert into public.exercises (id, name, category, level, primary_muscles)
values
('Pgtap15_Bench_Press', 'Pgtap bench press', 'strength', 'beginner', '{chest}'),
('Pgtap15_Row', 'Pgtap row', 'strength', 'beginner', '{middle_back}')
on conflict (id) do nothing;

-- ============================================================ body_metrics

select tests.authenticate_as('a1500000-0000-4000-8000-00000000000a');

select lives_ok(
    $$ insert into public.body_metrics (user_id, measured_at, weight_kg, body_fat_pct, waist_cm)
       values ('a1500000-0000-4000-8000-00000000000a', '2026-01-05 07:00+00', 80.5, 18.5, 86) $$,
    'ann logs a weigh-in'
);
select lives_ok(
    $$ insert into public.body_metrics (user_id, measured_at, weight_kg, body_fat_pct)
       values ('a1500000-0000-4000-8000-00000000000a', '2026-01-06 07:00+00', 30, 3),
              ('a1500000-0000-4000-8000-00000000000a', '2026-01-07 07:00+00', 300, 60) $$,
    'the bounds weight_kg 30/300 and body_fat_pct 3/60 are accepted'
);
select lives_ok(
    $$ insert into public.body_metrics (user_id, measured_at, waist_cm, source)
       values ('a1500000-0000-4000-8000-00000000000a', '2026-01-08 07:00+00', 85, 'device') $$,
    'a row with only a tape measurement is accepted'
);
select is(
    (select count(*)::int from public.body_metrics where user_id = 'a1500000-0000-4000-8000-00000000000a'),
    4,
    'ann sees her four measurements'
);

select throws_ok(
    $$ insert into public.body_metrics (user_id, measured_at, weight_kg)
       values ('a1500000-0000-4000-8000-00000000000a', '2026-01-09 07:00+00', 29.99) $$,
    '23514', null, 'weight_kg below 30 is rejected'
);
select throws_ok(
    $$ insert into public.body_metrics (user_id, measured_at, weight_kg)
       values ('a1500000-0000-4000-8000-00000000000a', '2026-01-09 07:00+00', 300.01) $$,
    '23514', null, 'weight_kg above 300 is rejected'
);
select throws_ok(
    $$ insert into public.body_metrics (user_id, measured_at, body_fat_pct)
       values ('a1500000-0000-4000-8000-00000000000a', '2026-01-09 07:00+00', 2.9) $$,
    '23514', null, 'body_fat_pct below 3 is rejected'
);
select throws_ok(
    $$ insert into public.body_metrics (user_id, measured_at, body_fat_pct)
       values ('a1500000-0000-4000-8000-00000000000a', '2026-01-09 07:00+00', 60.1) $$,
    '23514', null, 'body_fat_pct above 60 is rejected'
);
select throws_ok(
    $$ insert into public.body_metrics (user_id, measured_at, waist_cm)
       values ('a1500000-0000-4000-8000-00000000000a', '2026-01-09 07:00+00', 39.9) $$,
    '23514', null, 'waist_cm below 40 is rejected'
);
select throws_ok(
    $$ insert into public.body_metrics (user_id, measured_at, weight_kg, source)
       values ('a1500000-0000-4000-8000-00000000000a', '2026-01-09 07:00+00', 80, 'scale') $$,
    '23514', null, 'an unknown source is rejected'
);
select throws_ok(
    $$ insert into public.body_metrics (user_id, measured_at, notes)
       values ('a1500000-0000-4000-8000-00000000000a', '2026-01-09 07:00+00', 'forgot to weigh') $$,
    '23514', 'new row for relation "body_metrics" violates check constraint "body_metrics_has_measurement"',
    'a row without any measurement is rejected'
);
select throws_ok(
    $$ update public.body_metrics set weight_kg = null, body_fat_pct = null, waist_cm = null
       where measured_at = '2026-01-05 07:00+00' $$,
    '23514', 'new row for relation "body_metrics" violates check constraint "body_metrics_has_measurement"',
    'clearing every measurement of a row is rejected'
);
select throws_ok(
    $$ insert into public.body_metrics (user_id, measured_at, weight_kg)
       values ('a1500000-0000-4000-8000-00000000000a', '2026-01-05 07:00+00', 81) $$,
    '23505', 'duplicate key value violates unique constraint "body_metrics_user_id_measured_at_key"',
    'a second measurement at the same instant is rejected'
);
select throws_ok(
    $$ insert into public.body_metrics (user_id, measured_at, weight_kg)
       values ('b1500000-0000-4000-8000-00000000000b', '2026-01-10 07:00+00', 90) $$,
    '42501', 'new row violates row-level security policy for table "body_metrics"',
    'ann cannot log a measurement for bob'
);
select throws_ok(
    $$ update public.body_metrics set user_id = 'b1500000-0000-4000-8000-00000000000b'
       where measured_at = '2026-01-05 07:00+00' $$,
    '42501', 'new row violates row-level security policy for table "body_metrics"',
    'ann cannot hand her measurement over to bob'
);

select tests.authenticate_as('b1500000-0000-4000-8000-00000000000b');

select lives_ok(
    $$ insert into public.body_metrics (user_id, measured_at, weight_kg)
       values ('b1500000-0000-4000-8000-00000000000b', '2026-01-05 07:00+00', 90) $$,
    'bob may measure at the same instant as ann (unique per user)'
);
select is(
    (select count(*)::int from public.body_metrics where user_id = 'a1500000-0000-4000-8000-00000000000a'),
    0,
    'bob sees none of ann''s measurements'
);
with updated as (
    update public.body_metrics set weight_kg = 50
    where user_id = 'a1500000-0000-4000-8000-00000000000a'
    returning 1
)
select is((select count(*)::int from updated), 0, 'bob''s update of ann''s measurements affects 0 rows');
with deleted as (
    delete from public.body_metrics where user_id = 'a1500000-0000-4000-8000-00000000000a' returning 1
)
select is((select count(*)::int from deleted), 0, 'bob''s delete of ann''s measurements affects 0 rows');

select tests.authenticate_as_anon();
select throws_ok(
    'select * from public.body_metrics', '42501', 'permission denied for table body_metrics',
    'anon cannot read body_metrics'
);

-- ============================================================== activities

select tests.authenticate_as('a1500000-0000-4000-8000-00000000000a');

select lives_ok(
    $$ insert into public.activities (
           id, user_id, category, name, start_time, end_time, duration_minutes, calories_burned,
           intensity_mets, metrics, client_id
       )
       values (
           'a1500000-0000-4000-8000-0000000000a1', 'a1500000-0000-4000-8000-00000000000a', 'strength',
           'Push day', '2026-01-05 18:00+00', '2026-01-05 19:00+00', 55, null, 5.0,
           '{"exercises": ["Pgtap15_Bench_Press"]}', 'ann-phone-1'
       ) $$,
    'ann logs a strength session'
);
select results_eq(
    $$ select calories_burned, metrics, source from public.activities
       where id = 'a1500000-0000-4000-8000-0000000000a1' $$,
    $$ values (369.0::numeric, '{"exercises": ["Pgtap15_Bench_Press"]}'::jsonb, 'manual'::text) $$,
    'calories_burned computed when absent: 5.0 MET x 80.5 kg (that morning''s weigh-in) x 55/60 h; '
    'source defaults to manual'
);

-- CHECKs on ann's own rows (SQLSTATE 23514).
select throws_ok(
    $$ insert into public.activities (user_id, category, name, start_time, duration_minutes)
       values ('a1500000-0000-4000-8000-00000000000a', 'yoga', 'Yoga', now(), 30) $$,
    '23514', null, 'an unknown category is rejected'
);
select throws_ok(
    $$ insert into public.activities (user_id, category, name, start_time, duration_minutes)
       values ('a1500000-0000-4000-8000-00000000000a', 'sports', '  ', now(), 30) $$,
    '23514', null, 'a blank name is rejected'
);
select throws_ok(
    $$ insert into public.activities (user_id, category, name, start_time, end_time, duration_minutes)
       values ('a1500000-0000-4000-8000-00000000000a', 'cardio_steady', 'Run', '2026-01-05 08:00+00',
               '2026-01-05 07:59+00', 30) $$,
    '23514', 'new row for relation "activities" violates check constraint "activities_end_after_start"',
    'an end_time before start_time is rejected'
);
select lives_ok(
    $$ insert into public.activities (user_id, category, name, start_time, end_time, duration_minutes)
       values ('a1500000-0000-4000-8000-00000000000a', 'flexibility', 'Stretch', '2026-01-05 08:00+00',
               '2026-01-05 08:00+00', 1) $$,
    'end_time equal to start_time and a 1-minute duration are accepted'
);
select throws_ok(
    $$ insert into public.activities (user_id, category, name, start_time, duration_minutes)
       values ('a1500000-0000-4000-8000-00000000000a', 'cardio_steady', 'Run', now(), 0) $$,
    '23514', null, 'duration_minutes 0 is rejected'
);
select throws_ok(
    $$ insert into public.activities (user_id, category, name, start_time, duration_minutes)
       values ('a1500000-0000-4000-8000-00000000000a', 'cardio_steady', 'Run', now(), 1441) $$,
    '23514', null, 'duration_minutes above 1440 is rejected'
);
select throws_ok(
    $$ insert into public.activities (user_id, category, name, start_time, duration_minutes, calories_burned)
       values ('a1500000-0000-4000-8000-00000000000a', 'cardio_steady', 'Run', now(), 30, 10000.1) $$,
    '23514', null, 'calories_burned above 10000 is rejected'
);
select throws_ok(
    $$ insert into public.activities (user_id, category, name, start_time, duration_minutes, calories_burned)
       values ('a1500000-0000-4000-8000-00000000000a', 'cardio_steady', 'Run', now(), 30, -1) $$,
    '23514', null, 'negative calories_burned is rejected'
);
select throws_ok(
    $$ insert into public.activities (user_id, category, name, start_time, duration_minutes, intensity_mets)
       values ('a1500000-0000-4000-8000-00000000000a', 'cardio_steady', 'Walk', now(), 30, 0.4) $$,
    '23514', null, 'intensity_mets below 0.5 is rejected'
);
select throws_ok(
    $$ insert into public.activities (user_id, category, name, start_time, duration_minutes, intensity_mets)
       values ('a1500000-0000-4000-8000-00000000000a', 'cardio_steady', 'Sprint', now(), 30, 25.1) $$,
    '23514', null, 'intensity_mets above 25 is rejected'
);
select throws_ok(
    $$ insert into public.activities (user_id, category, name, start_time, duration_minutes, metrics)
       values ('a1500000-0000-4000-8000-00000000000a', 'cardio_steady', 'Run', now(), 30, '[1, 2]') $$,
    '23514', null, 'metrics that are not a JSON object are rejected'
);
select throws_ok(
    $$ insert into public.activities (user_id, category, name, start_time, duration_minutes, source)
       values ('a1500000-0000-4000-8000-00000000000a', 'cardio_steady', 'Run', now(), 30, 'watch') $$,
    '23514', null, 'an unknown source is rejected'
);

-- Idempotency: client_id is unique per user.
select throws_ok(
    $$ insert into public.activities (user_id, category, name, start_time, duration_minutes, client_id)
       values ('a1500000-0000-4000-8000-00000000000a', 'strength', 'Push day (retry)', now(), 55,
               'ann-phone-1') $$,
    '23505', 'duplicate key value violates unique constraint "activities_user_id_client_id_key"',
    'a retried upload with the same client_id is rejected'
);
select lives_ok(
    $$ insert into public.activities (user_id, category, name, start_time, duration_minutes)
       values ('a1500000-0000-4000-8000-00000000000a', 'sports', 'Football', now(), 90),
              ('a1500000-0000-4000-8000-00000000000a', 'sports', 'Tennis', now(), 60) $$,
    'activities without a client_id do not conflict with each other'
);
select throws_ok(
    $$ insert into public.activities (user_id, category, name, start_time, duration_minutes)
       values ('b1500000-0000-4000-8000-00000000000b', 'sports', 'Football', now(), 90) $$,
    '42501', 'new row violates row-level security policy for table "activities"',
    'ann cannot log an activity for bob'
);

select tests.authenticate_as('b1500000-0000-4000-8000-00000000000b');

select lives_ok(
    $$ insert into public.activities (id, user_id, category, name, start_time, duration_minutes, client_id)
       values ('b1500000-0000-4000-8000-0000000000b1', 'b1500000-0000-4000-8000-00000000000b', 'strength',
               'Pull day', '2026-01-05 18:00+00', 50, 'ann-phone-1') $$,
    'bob may use the same client_id as ann (unique per user)'
);
select is_empty(
    $$ select 1 from public.activities where user_id = 'a1500000-0000-4000-8000-00000000000a' $$,
    'bob sees none of ann''s activities'
);

-- =========================================================== exercise_sets

select tests.authenticate_as('a1500000-0000-4000-8000-00000000000a');

select lives_ok(
    $$ insert into public.exercise_sets (
           activity_id, user_id, exercise_id, set_number, reps, weight_kg, rpe, rir
       )
       values ('a1500000-0000-4000-8000-0000000000a1', 'a1500000-0000-4000-8000-00000000000a',
               'Pgtap15_Bench_Press', 1, 8, 100, 8.5, 2),
              ('a1500000-0000-4000-8000-0000000000a1', 'a1500000-0000-4000-8000-00000000000a',
               'Pgtap15_Bench_Press', 2, 8, 100, 9, 1) $$,
    'ann logs two sets of a catalogue exercise in her activity'
);
select lives_ok(
    $$ insert into public.exercise_sets (activity_id, user_id, exercise_name, set_number, duration_seconds,
                                         is_warmup)
       values ('a1500000-0000-4000-8000-0000000000a1', 'a1500000-0000-4000-8000-00000000000a',
               'Wall sit', 1, 60, true) $$,
    'a custom exercise (name only) with a timed set is accepted'
);
select lives_ok(
    $$ insert into public.exercise_sets (activity_id, user_id, exercise_id, set_number, reps)
       values ('a1500000-0000-4000-8000-0000000000a1', 'a1500000-0000-4000-8000-00000000000a',
               'Pgtap15_Row', 1, 10) $$,
    'set_number 1 again is accepted for another exercise of the same activity'
);

-- A child cannot point into another user's data.
select throws_ok(
    $$ insert into public.exercise_sets (activity_id, user_id, exercise_id, set_number, reps)
       values ('b1500000-0000-4000-8000-0000000000b1', 'a1500000-0000-4000-8000-00000000000a',
               'Pgtap15_Row', 1, 10) $$,
    '23503',
    'insert or update on table "exercise_sets" violates foreign key constraint "exercise_sets_activity_fkey"',
    'ann cannot attach a set to bob''s activity'
);
select throws_ok(
    $$ insert into public.exercise_sets (activity_id, user_id, exercise_id, set_number, reps)
       values ('b1500000-0000-4000-8000-0000000000b1', 'b1500000-0000-4000-8000-00000000000b',
               'Pgtap15_Row', 1, 10) $$,
    '42501', 'new row violates row-level security policy for table "exercise_sets"',
    'ann cannot write a set as bob into bob''s activity'
);
select throws_ok(
    $$ update public.exercise_sets set activity_id = 'b1500000-0000-4000-8000-0000000000b1'
       where exercise_id = 'Pgtap15_Row' $$,
    '23503',
    'insert or update on table "exercise_sets" violates foreign key constraint "exercise_sets_activity_fkey"',
    'ann cannot move her set into bob''s activity'
);

-- Which exercise.
select throws_ok(
    $$ insert into public.exercise_sets (activity_id, user_id, set_number, reps)
       values ('a1500000-0000-4000-8000-0000000000a1', 'a1500000-0000-4000-8000-00000000000a', 1, 10) $$,
    '23514', 'new row for relation "exercise_sets" violates check constraint "exercise_sets_exercise_given"',
    'a set without exercise_id or exercise_name is rejected'
);
select throws_ok(
    $$ insert into public.exercise_sets (activity_id, user_id, exercise_id, set_number, reps)
       values ('a1500000-0000-4000-8000-0000000000a1', 'a1500000-0000-4000-8000-00000000000a',
               'No_Such_Exercise', 1, 10) $$,
    '23503', null, 'an exercise_id outside the catalogue is rejected'
);

-- Unique set number per activity and exercise.
select throws_ok(
    $$ insert into public.exercise_sets (activity_id, user_id, exercise_id, set_number, reps)
       values ('a1500000-0000-4000-8000-0000000000a1', 'a1500000-0000-4000-8000-00000000000a',
               'Pgtap15_Bench_Press', 2, 6) $$,
    '23505', 'duplicate key value violates unique constraint "exercise_sets_activity_exercise_set_key"',
    'a second set 2 of the same exercise in the same activity is rejected'
);
select throws_ok(
    $$ insert into public.exercise_sets (activity_id, user_id, exercise_name, set_number, duration_seconds)
       values ('a1500000-0000-4000-8000-0000000000a1', 'a1500000-0000-4000-8000-00000000000a',
               ' WALL SIT ', 1, 45) $$,
    '23505', 'duplicate key value violates unique constraint "exercise_sets_activity_exercise_set_key"',
    'custom exercise names are compared case- and space-insensitively for the set number'
);

-- Ranges.
select throws_ok(
    $$ insert into public.exercise_sets (activity_id, user_id, exercise_id, set_number, reps)
       values ('a1500000-0000-4000-8000-0000000000a1', 'a1500000-0000-4000-8000-00000000000a',
               'Pgtap15_Row', 0, 10) $$,
    '23514', null, 'set_number 0 is rejected'
);
select throws_ok(
    $$ insert into public.exercise_sets (activity_id, user_id, exercise_id, set_number, reps)
       values ('a1500000-0000-4000-8000-0000000000a1', 'a1500000-0000-4000-8000-00000000000a',
               'Pgtap15_Row', 101, 10) $$,
    '23514', null, 'set_number above 100 is rejected'
);
select throws_ok(
    $$ insert into public.exercise_sets (activity_id, user_id, exercise_id, set_number, reps)
       values ('a1500000-0000-4000-8000-0000000000a1', 'a1500000-0000-4000-8000-00000000000a',
               'Pgtap15_Row', 5, 201) $$,
    '23514', null, 'reps above 200 are rejected'
);
select throws_ok(
    $$ insert into public.exercise_sets (activity_id, user_id, exercise_id, set_number, reps, weight_kg)
       values ('a1500000-0000-4000-8000-0000000000a1', 'a1500000-0000-4000-8000-00000000000a',
               'Pgtap15_Row', 5, 5, 1000.01) $$,
    '23514', null, 'weight_kg above 1000 is rejected'
);
select throws_ok(
    $$ insert into public.exercise_sets (activity_id, user_id, exercise_id, set_number, reps, rpe)
       values ('a1500000-0000-4000-8000-0000000000a1', 'a1500000-0000-4000-8000-00000000000a',
               'Pgtap15_Row', 5, 5, 10.5) $$,
    '23514', null, 'rpe above 10 is rejected'
);
select throws_ok(
    $$ insert into public.exercise_sets (activity_id, user_id, exercise_id, set_number, reps, rir)
       values ('a1500000-0000-4000-8000-0000000000a1', 'a1500000-0000-4000-8000-00000000000a',
               'Pgtap15_Row', 5, 5, 11) $$,
    '23514', null, 'rir above 10 is rejected'
);
select throws_ok(
    $$ insert into public.exercise_sets (activity_id, user_id, exercise_id, set_number, weight_kg)
       values ('a1500000-0000-4000-8000-0000000000a1', 'a1500000-0000-4000-8000-00000000000a',
               'Pgtap15_Row', 5, 60) $$,
    '23514', 'new row for relation "exercise_sets" violates check constraint "exercise_sets_has_work"',
    'a set without reps, duration or distance is rejected'
);
select lives_ok(
    $$ insert into public.exercise_sets (activity_id, user_id, exercise_id, set_number, reps, weight_kg)
       values ('a1500000-0000-4000-8000-0000000000a1', 'a1500000-0000-4000-8000-00000000000a',
               'Pgtap15_Row', 100, 0, 0) $$,
    'set 100 with 0 reps at 0 kg (a failed attempt) is accepted'
);

select tests.authenticate_as('b1500000-0000-4000-8000-00000000000b');

select is_empty(
    $$ select 1 from public.exercise_sets where user_id = 'a1500000-0000-4000-8000-00000000000a' $$,
    'bob sees none of ann''s sets'
);
select lives_ok(
    $$ insert into public.exercise_sets (activity_id, user_id, exercise_id, set_number, reps)
       values ('b1500000-0000-4000-8000-0000000000b1', 'b1500000-0000-4000-8000-00000000000b',
               'Pgtap15_Row', 1, 12) $$,
    'bob logs a set in his own activity'
);

-- ====================================================== activity_templates

select tests.authenticate_as('a1500000-0000-4000-8000-00000000000a');

select lives_ok(
    $$ insert into public.activity_templates (user_id, template_name, category, template_data)
       values ('a1500000-0000-4000-8000-00000000000a', 'Push day', 'strength',
               '{"duration_minutes": 55, "sets": [{"exercise_id": "Pgtap15_Bench_Press", "reps": 8}]}') $$,
    'ann saves a template'
);
select throws_ok(
    $$ insert into public.activity_templates (user_id, template_name, category)
       values ('a1500000-0000-4000-8000-00000000000a', 'Push day', 'strength') $$,
    '23505', 'duplicate key value violates unique constraint "activity_templates_user_id_template_name_key"',
    'a second template with the same name is rejected'
);
select throws_ok(
    $$ insert into public.activity_templates (user_id, template_name, category)
       values ('a1500000-0000-4000-8000-00000000000a', 'Stretching', 'mobility') $$,
    '23514', null, 'a template with an unknown category is rejected'
);
select throws_ok(
    $$ insert into public.activity_templates (user_id, template_name, category, template_data)
       values ('a1500000-0000-4000-8000-00000000000a', 'Run', 'cardio_steady', '"run"') $$,
    '23514', null, 'template_data that is not a JSON object is rejected'
);
select throws_ok(
    $$ insert into public.activity_templates (user_id, template_name, category)
       values ('a1500000-0000-4000-8000-00000000000a', '', 'cardio_steady') $$,
    '23514', null, 'an empty template_name is rejected'
);

select tests.authenticate_as('b1500000-0000-4000-8000-00000000000b');

select lives_ok(
    $$ insert into public.activity_templates (user_id, template_name, category)
       values ('b1500000-0000-4000-8000-00000000000b', 'Push day', 'strength') $$,
    'bob may name a template like ann''s (unique per user)'
);
select is_empty(
    $$ select 1 from public.activity_templates where user_id = 'a1500000-0000-4000-8000-00000000000a' $$,
    'bob sees none of ann''s templates'
);

select tests.authenticate_as_anon();
select throws_ok(
    'select * from public.activities', '42501', 'permission denied for table activities',
    'anon cannot read activities'
);
select throws_ok(
    'select * from public.exercise_sets', '42501', 'permission denied for table exercise_sets',
    'anon cannot read exercise_sets'
);
select throws_ok(
    'select * from public.activity_templates', '42501', 'permission denied for table activity_templates',
    'anon cannot read activity_templates'
);

-- ============================================================= as postgres

select tests.clear_authentication();

select is(
    (select count(*)::int from public.exercise_sets
     where activity_id = 'a1500000-0000-4000-8000-0000000000a1'),
    5,
    'ann''s activity has the five accepted sets'
);
select results_eq(
    $$ select user_id from public.exercise_sets where activity_id = 'b1500000-0000-4000-8000-0000000000b1' $$,
    $$ values ('b1500000-0000-4000-8000-00000000000b'::uuid) $$,
    'bob''s activity holds only bob''s set'
);

-- The catalogue exercise of a logged set cannot be deleted.
select throws_ok(
    $$ delete from public.exercises where id = 'Pgtap15_Row' $$,
    '23503', null, 'a catalogue exercise with logged sets cannot be deleted (restrict)'
);

-- updated_at is maintained.
update public.activities set updated_at = timestamptz '2000-01-01 00:00+00', name = 'Push day A'
where id = 'a1500000-0000-4000-8000-0000000000a1';
select is(
    (select updated_at from public.activities where id = 'a1500000-0000-4000-8000-0000000000a1'),
    now(),
    'the updated_at trigger stamps activities'
);
update public.body_metrics set updated_at = timestamptz '2000-01-01 00:00+00', notes = 'after breakfast'
where user_id = 'a1500000-0000-4000-8000-00000000000a' and measured_at = '2026-01-05 07:00+00';
select is(
    (select updated_at from public.body_metrics
     where user_id = 'a1500000-0000-4000-8000-00000000000a' and measured_at = '2026-01-05 07:00+00'),
    now(),
    'the updated_at trigger stamps body_metrics'
);

-- Deleting an activity deletes its sets.
select tests.authenticate_as('a1500000-0000-4000-8000-00000000000a');
with deleted as (
    delete from public.activities where id = 'a1500000-0000-4000-8000-0000000000a1' returning 1
)
select is((select count(*)::int from deleted), 1, 'ann deletes her strength session');
select tests.clear_authentication();
select is_empty(
    $$ select 1 from public.exercise_sets where activity_id = 'a1500000-0000-4000-8000-0000000000a1' $$,
    'deleting an activity deletes its sets (on delete cascade)'
);

-- Deleting a user deletes all of their activity data and body metrics.
delete from auth.users where id = 'b1500000-0000-4000-8000-00000000000b';
select is_empty(
    $$ select 1 from public.body_metrics where user_id = 'b1500000-0000-4000-8000-00000000000b' $$,
    'deleting the user deletes their body_metrics'
);
select is_empty(
    $$ select 1 from public.activities where user_id = 'b1500000-0000-4000-8000-00000000000b' $$,
    'deleting the user deletes their activities'
);
select is_empty(
    $$ select 1 from public.exercise_sets where user_id = 'b1500000-0000-4000-8000-00000000000b' $$,
    'deleting the user deletes their exercise_sets'
);
select is_empty(
    $$ select 1 from public.activity_templates where user_id = 'b1500000-0000-4000-8000-00000000000b' $$,
    'deleting the user deletes their activity_templates'
);
select results_eq(
    $$ select
           (select count(*)::int from public.body_metrics as b
            where b.user_id = 'a1500000-0000-4000-8000-00000000000a'),
           (select count(*)::int from public.activities as a
            where a.user_id = 'a1500000-0000-4000-8000-00000000000a'),
           (select count(*)::int from public.activity_templates as t
            where t.user_id = 'a1500000-0000-4000-8000-00000000000a') $$,
    $$ values (4, 3, 1) $$,
    'ann''s rows are untouched by bob''s deletion'
);

-- The policies: one per command, all for authenticated.
select policies_are(
    'public', 'body_metrics',
    array['body_metrics_select_own', 'body_metrics_insert_own', 'body_metrics_update_own',
          'body_metrics_delete_own'],
    'body_metrics has exactly the four own-row policies'
);
select policies_are(
    'public', 'exercise_sets',
    array['exercise_sets_select_own', 'exercise_sets_insert_own', 'exercise_sets_update_own',
          'exercise_sets_delete_own'],
    'exercise_sets has exactly the four own-row policies'
);

select * from finish();
rollback;
