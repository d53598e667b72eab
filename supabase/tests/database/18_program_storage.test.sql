-- Program storage: store_program_bundle (service_role only, atomic, versions
-- and supersedes, shape errors naming the path), the calendar triggers
-- (one event per session and meal, dated start + week * 7 + day) and the
-- client views calendar_day and program_summary (security_invoker, own rows).
begin;
set search_path = public, extensions;

select plan(37);

select tests.create_user('a1000000-0000-4000-8000-00000000000a', 'ann18@example.com', 'Ann');
select tests.create_user('b1000000-0000-4000-8000-00000000000b', 'bob18@example.com', 'Bob');

-- bundle(user, weeks, first food): two sessions a week (days 0 and 3, two
-- exercises each) and breakfast + dinner every day (two foods each), starting
-- Monday 2026-12-07.
create function pg_temp.bundle(owner uuid, weeks int, food uuid) returns jsonb
language sql
as $$
    select jsonb_build_object(
        'user_id', owner, 'source', 'onboarding', 'source_session_id', null,
        'primary_goal', 'fat_loss', 'program_start_date', '2026-12-07',
        'program_duration_weeks', weeks, 'next_reassessment_date', '2026-12-21',
        'tdee', '{"tdee_kcal": 2759}'::jsonb, 'macros', '{"kcal": 2140}'::jsonb,
        'safety', '{}'::jsonb, 'feasibility', '{"score": 1}'::jsonb, 'provenance', '{}'::jsonb,
        'sessions', (
            select jsonb_agg(jsonb_build_object(
                'week_index', w, 'day_index', d, 'session_kind', 'strength',
                'title', format('Full body %s.%s', w, d), 'planned_duration_minutes', 60,
                'time_of_day', 'evening', 'parameters', '{}'::jsonb,
                'exercises', (
                    select jsonb_agg(jsonb_build_object(
                        'order_index', i, 'exercise_id', null, 'name', format('Lift %s', i),
                        'sets', 3, 'reps_min', 6, 'reps_max', 10
                    ) order by i)
                    from generate_series(0, 1) as i
                )
            ) order by w, d)
            from generate_series(0, weeks - 1) as w cross join (values (0), (3)) as ds (d)
        ),
        'meals', (
            select jsonb_agg(jsonb_build_object(
                'week_index', w, 'day_index', d, 'meal_type', mt, 'meal_time', null,
                'targets', '{"kcal": 700, "protein_g": 50, "carbs_g": 70, "fat_g": 20}'::jsonb,
                'totals', '{"kcal": 690, "protein_g": 49, "carbs_g": 71, "fat_g": 19}'::jsonb,
                'items', (
                    select jsonb_agg(jsonb_build_object(
                        'food_id', f.id, 'food_name', f.name, 'grams', 100, 'serving_description', null,
                        'kcal', 345, 'protein_g', 24.5, 'carbs_g', 35.5, 'fat_g', 9.5
                    ))
                    from (
                        select food as id, 'First food' as name
                        union all
                        select x.id, x.name from (select id, name from public.foods order by id limit 1) as x
                    ) as f
                )
            ) order by w, d, mt)
            from generate_series(0, weeks - 1) as w
            cross join generate_series(0, 6) as d
            cross join (values ('breakfast'), ('dinner')) as m (mt)
        )
    )
$$;

select id as food from public.foods order by id limit 1 offset 1 \gset
select pg_temp.bundle('a1000000-0000-4000-8000-00000000000a', 2, :'food') as ann_bundle \gset

-- ------------------------------------------------------------- privileges ---

select function_privs_are('public', 'store_program_bundle', array['jsonb'], 'service_role', array['EXECUTE'],
    'service_role may execute store_program_bundle');
select function_privs_are('public', 'store_program_bundle', array['jsonb'], 'authenticated', array[]::text[],
    'authenticated may not execute store_program_bundle');
select function_privs_are('public', 'store_program_bundle', array['jsonb'], 'anon', array[]::text[],
    'anon may not execute store_program_bundle');
select is(
    (select prosecdef from pg_proc where oid = 'public.store_program_bundle(jsonb)'::regprocedure), false,
    'store_program_bundle runs with the caller''s rights'
);
select ok(
    (select 'security_invoker=true' = any(reloptions) from pg_class where oid = 'public.calendar_day'::regclass),
    'calendar_day is security_invoker'
);
select ok(
    (select 'security_invoker=true' = any(reloptions) from pg_class where oid = 'public.program_summary'::regclass),
    'program_summary is security_invoker'
);
select table_privs_are('public', 'calendar_day', 'authenticated', array['SELECT'],
    'authenticated may only read calendar_day');
select table_privs_are('public', 'program_summary', 'authenticated', array['SELECT'],
    'authenticated may only read program_summary');
select table_privs_are('public', 'calendar_day', 'anon', array[]::text[], 'anon may not read calendar_day');
select table_privs_are('public', 'program_summary', 'anon', array[]::text[],
    'anon may not read program_summary');
select has_trigger('public', 'session_instances', 'session_instances_to_calendar',
    'sessions lay themselves out on the calendar');
select has_trigger('public', 'meal_instances', 'meal_instances_to_calendar',
    'meals lay themselves out on the calendar');

select tests.authenticate_as('a1000000-0000-4000-8000-00000000000a');
select throws_ok(format('select public.store_program_bundle(%L::jsonb)', :'ann_bundle'), '42501', null,
    'a client cannot store a program');
select tests.clear_authentication();

-- ------------------------------------------------------ storing a bundle ---

select tests.authenticate_as_service_role();
select public.store_program_bundle(:'ann_bundle') as ann_v1 \gset
select tests.clear_authentication();

select results_eq(
    $$ select
        (select count(*)::int from public.programs where user_id = 'a1000000-0000-4000-8000-00000000000a'),
        (select count(*)::int from public.session_instances where user_id = 'a1000000-0000-4000-8000-00000000000a'),
        (select count(*)::int from public.exercise_plan_items where user_id = 'a1000000-0000-4000-8000-00000000000a'),
        (select count(*)::int from public.meal_instances where user_id = 'a1000000-0000-4000-8000-00000000000a'),
        (select count(*)::int from public.meal_item_plan where user_id = 'a1000000-0000-4000-8000-00000000000a'),
        (select count(*)::int from public.calendar_events where user_id = 'a1000000-0000-4000-8000-00000000000a') $$,
    $$ values (1, 4, 8, 28, 56, 32) $$,
    'a 2-week bundle stores 1 program, 4 sessions, 8 exercises, 28 meals, 56 foods and 32 calendar events'
);
select results_eq(
    format($$ select version, status, supersedes_program_id, full_bundle = %L::jsonb
        from public.programs where id = %L $$, :'ann_bundle', :'ann_v1'),
    $$ values (1, 'active', null::uuid, true) $$,
    'version 1 is active, supersedes nothing and keeps the whole bundle'
);
select is_empty(
    $$ select from public.calendar_events as ce
       join public.programs as p on p.id = ce.program_id
       left join public.session_instances as s on s.id = ce.ref_id
       left join public.meal_instances as m on m.id = ce.ref_id
       where ce.date <> p.program_start_date
           + 7 * coalesce(s.week_index, m.week_index) + coalesce(s.day_index, m.day_index)
           or ce.status <> 'planned' $$,
    'every calendar event is planned on start + 7 * week + day'
);
select results_eq(
    $$ select date, event_type, title, time_of_day from public.calendar_events
       where user_id = 'a1000000-0000-4000-8000-00000000000a' and date = '2026-12-17'
       order by event_type, title $$,
    $$ values ('2026-12-17'::date, 'meal', 'Breakfast', 'morning'),
              ('2026-12-17'::date, 'meal', 'Dinner', 'evening'),
              ('2026-12-17'::date, 'training', 'Full body 1.3', 'evening') $$,
    'week 1, day 3: breakfast, dinner and the session, with their time slots'
);

insert into public.session_instances (
    id, program_id, user_id, week_index, day_index, session_kind, title, planned_duration_minutes
)
select 'c1000000-0000-4000-8000-000000000001', id, user_id, 1, 6, 'rest', 'Rest', 0
from public.programs where id = :'ann_v1';
select is(
    (select count(*)::integer from public.calendar_events
     where ref_id = 'c1000000-0000-4000-8000-000000000001'),
    1,
    'a session inserted outside store_program_bundle is laid out too (exactly one event)'
);
select is(
    (select ce.date - p.program_start_date from public.calendar_events as ce
     inner join public.programs as p on ce.program_id = p.id
     where ce.ref_id = 'c1000000-0000-4000-8000-000000000001'),
    13,
    'and dated program_start_date + 7 * 1 + 6'
);
delete from public.calendar_events where ref_id = 'c1000000-0000-4000-8000-000000000001';
delete from public.session_instances where id = 'c1000000-0000-4000-8000-000000000001';

-- ------------------------------------------------------------- atomicity ---

select tests.authenticate_as_service_role();
select throws_ok(
    format('select public.store_program_bundle(%L::jsonb)',
        jsonb_set(:'ann_bundle'::jsonb, '{meals,27,items,1,grams}', '0')),
    '23514', null, 'a 0 g food in the last meal is refused'
);
select throws_ok(
    format('select public.store_program_bundle(%L::jsonb)',
        jsonb_set(:'ann_bundle'::jsonb, '{meals,13,items,0,food_id}', '"00000000-0000-4000-8000-000000000000"')),
    '23503', null, 'an unknown food is refused'
);
select throws_ok(
    format('select public.store_program_bundle(%L::jsonb)', :'ann_bundle'::jsonb #- '{meals,3,items,1,kcal}'),
    '22023', 'invalid program bundle: bundle.meals[3].items[1].kcal must be a JSON number',
    'a missing field is refused naming its path'
);
select throws_ok(
    format('select public.store_program_bundle(%L::jsonb)', jsonb_set(:'ann_bundle'::jsonb, '{sessions}', '{}')),
    '22023', 'invalid program bundle: bundle.sessions must be a JSON array',
    'sessions must be an array'
);
select throws_ok('select public.store_program_bundle(''[]'')', '22023',
    'invalid program bundle: bundle must be a JSON object', 'a bundle is an object');
select tests.clear_authentication();
select results_eq(
    $$ select
        (select count(*)::int from public.programs where user_id = 'a1000000-0000-4000-8000-00000000000a'),
        (select count(*)::int from public.meal_item_plan where user_id = 'a1000000-0000-4000-8000-00000000000a'),
        (select count(*)::int from public.calendar_events where user_id = 'a1000000-0000-4000-8000-00000000000a') $$,
    $$ values (1, 56, 32) $$,
    'the refused bundles left no row behind'
);

-- ------------------------------------------------------------ supersedes ---

select
    pg_temp.bundle('a1000000-0000-4000-8000-00000000000a', 1, :'food') as ann_bundle_2,
    pg_temp.bundle('b1000000-0000-4000-8000-00000000000b', 1, :'food') as bob_bundle \gset
select tests.authenticate_as_service_role();
select public.store_program_bundle(:'ann_bundle_2') as ann_v2 \gset
select public.store_program_bundle(:'bob_bundle') as bob_v1 \gset
select tests.clear_authentication();

select results_eq(
    $$ select version, status, supersedes_program_id is not null from public.programs
       where user_id = 'a1000000-0000-4000-8000-00000000000a' order by version $$,
    $$ values (1, 'superseded', false), (2, 'active', true) $$,
    'the second bundle is version 2, supersedes the first and is the only active one'
);
select is(
    (select supersedes_program_id from public.programs where id = :'ann_v2'), :'ann_v1'::uuid,
    'version 2 names version 1'
);
select is(
    (select version from public.programs where id = :'bob_v1'), 1, 'bob''s versions are his own'
);

-- ------------------------------------------------------------ immutability ---

select tests.authenticate_as_service_role();
select throws_ok(format('update public.programs set primary_goal = %L where id = %L', 'maintenance', :'ann_v2'),
    '23514', null, 'the service cannot rewrite a stored program');
select lives_ok(format('update public.programs set next_reassessment_date = %L where id = %L', '2026-12-28',
    :'ann_v2'), 'the service moves the reassessment date');
select tests.clear_authentication();

-- ----------------------------------------------------------------- views ---

select tests.authenticate_as('a1000000-0000-4000-8000-00000000000a');
select results_eq(
    $$ select event_type, title, jsonb_array_length(coalesce(exercises, items)), targets ->> 'kcal'
       from public.calendar_day where date = '2026-12-10' order by event_type, title $$,
    $$ values ('meal', 'Breakfast', 2, '700'), ('meal', 'Dinner', 2, '700'),
              ('training', 'Full body 0.3', 2, null) $$,
    'ann''s day: two meals with their foods and targets, the session with its exercises'
);
select is(
    (select count(distinct program_id)::int from public.calendar_day), 1,
    'calendar_day shows only the active program'
);
select is(
    (select count(*)::int from public.calendar_day where user_id <> 'a1000000-0000-4000-8000-00000000000a'), 0,
    'ann sees none of bob''s calendar'
);
select results_eq(
    $$ select program_id, version, weekly_schedule -> 1 ->> 'weekday', jsonb_array_length(daily_meals)
       from public.program_summary $$,
    format($$ values (%L::uuid, 2, 'Thursday', 2) $$, :'ann_v2'),
    'ann''s summary: her active program, the weekly schedule and a day''s meals'
);
select throws_ok('insert into public.session_instances (program_id, user_id, week_index, day_index,
    session_kind, title, planned_duration_minutes) select id, user_id, 0, 1, ''rest'', ''Rest'', 0
    from public.programs', '42501', null, 'ann cannot add a session');
select tests.authenticate_as('b1000000-0000-4000-8000-00000000000b');
select results_eq(
    $$ select program_id from public.program_summary $$,
    format($$ values (%L::uuid) $$, :'bob_v1'),
    'bob sees only his own summary'
);
select tests.authenticate_as_anon();
select throws_ok('select * from public.calendar_day', '42501', null, 'anon cannot read calendar_day');
select tests.clear_authentication();

select * from finish();
rollback;
