-- public.profiles: signup trigger, RLS and column privileges, CHECK rules,
-- and the complete_onboarding() RPC, exercised the way PostgREST calls the
-- database: the tests.* helpers of supabase/tests/helpers.sql switch the role
-- and set request.jwt.claims transaction-locally, and switch back to postgres
-- between actors.
begin;
set search_path = public, extensions;

select plan(78);

-- Actors:
--   ann  a0000000-0000-4000-8000-00000000000a
--   bob  b0000000-0000-4000-8000-00000000000b
--   cid  c0000000-0000-4000-8000-00000000000c (signs up without metadata)
--   dee  d0000000-0000-4000-8000-00000000000d (over-long display name)

-- ======================================================= signup (postgres)

select is(
    (select count(*)::int from public.profiles
     where id in ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-00000000000b',
                  'c0000000-0000-4000-8000-00000000000c', 'd0000000-0000-4000-8000-00000000000d')),
    0,
    'precondition: the test users have no profiles yet'
);

select tests.create_user('a0000000-0000-4000-8000-00000000000a', 'ann@example.com', '  Ann  ');
select tests.create_user('b0000000-0000-4000-8000-00000000000b', 'bob@example.com', 'Bob');

-- Edge cases of the signup trigger, inserted by hand: raw_user_meta_data NULL
-- (tests.create_user would store '{}') and an over-long display name.
insert into auth.users (id, aud, role, email, raw_user_meta_data, created_at, updated_at)
values
    ('c0000000-0000-4000-8000-00000000000c', 'authenticated', 'authenticated', 'cid@example.com',
     null, now(), now()),
    ('d0000000-0000-4000-8000-00000000000d', 'authenticated', 'authenticated', 'dee@example.com',
     jsonb_build_object('display_name', repeat('x', 150)), now(), now());

select set_eq(
    'select id from public.profiles',
    'select id from auth.users',
    'every auth user has a profile and every profile an auth user'
);
select is(
    (select count(*)::int from public.profiles) - (select count(distinct id)::int from public.profiles),
    0,
    'no user got more than one profile'
);
select results_eq(
    $$ select id, display_name from public.profiles
       where id in ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-00000000000b',
                    'c0000000-0000-4000-8000-00000000000c')
       order by id $$,
    $$ values ('a0000000-0000-4000-8000-00000000000a'::uuid, 'Ann'::text),
              ('b0000000-0000-4000-8000-00000000000b'::uuid, 'Bob'::text),
              ('c0000000-0000-4000-8000-00000000000c'::uuid, null::text) $$,
    'display_name comes from raw_user_meta_data->>''display_name'' (trimmed; NULL without metadata)'
);
select is(
    (select char_length(display_name) from public.profiles where id = 'd0000000-0000-4000-8000-00000000000d'),
    100,
    'an over-long display_name from signup is cut to 100 characters instead of failing the signup'
);
select results_eq(
    $$ select onboarding_completed, consultation_completed, timezone, units, allergies
       from public.profiles where id = 'a0000000-0000-4000-8000-00000000000a' $$,
    $$ values (false, false, 'UTC'::text, 'metric'::text, '{}'::text[]) $$,
    'a new profile starts with onboarding and consultation not completed and the defaults'
);

select ok(
    (select relrowsecurity from pg_catalog.pg_class where oid = 'public.profiles'::regclass),
    'RLS is enabled on public.profiles'
);
select policies_are(
    'public', 'profiles', array['profiles_select_own', 'profiles_update_own'],
    'profiles has only the select-own and update-own policies (no insert/delete policy)'
);

-- PostgREST runs STABLE/IMMUTABLE RPCs in a read-only transaction: the RPC
-- that writes must be VOLATILE. It writes a column clients cannot, so it is
-- SECURITY DEFINER.
select volatility_is('public', 'complete_onboarding', array[]::text[], 'volatile',
    'complete_onboarding is VOLATILE (PostgREST calls it read-write)');
select is_definer('public', 'complete_onboarding', array[]::text[],
    'complete_onboarding is SECURITY DEFINER');

-- =============================================================== as ann

select tests.authenticate_as('a0000000-0000-4000-8000-00000000000a');

select is((select count(*)::int from public.profiles), 1, 'ann sees exactly one profile');
select results_eq(
    'select id from public.profiles',
    $$ values ('a0000000-0000-4000-8000-00000000000a'::uuid) $$,
    'the one profile ann sees is her own'
);
select is_empty(
    $$ select 1 from public.profiles where id = 'b0000000-0000-4000-8000-00000000000b' $$,
    'bob''s profile is invisible to ann even when asked for by id'
);

-- Ann edits her own demographics.
with updated as (
    update public.profiles
    set sex = 'female', height_cm = 165.5, weight_kg = 60.25, body_fat_pct = 24.5,
        date_of_birth = date '1990-05-01', primary_goal = 'fat_loss', goal_rate_pct_per_week = 0.5,
        timezone = 'Europe/Berlin', units = 'imperial', allergies = '{peanuts}'
    where id = 'a0000000-0000-4000-8000-00000000000a'
    returning 1
)
select is((select count(*)::int from updated), 1, 'ann updates her own demographics (1 row)');

select results_eq(
    $$ select sex, height_cm, weight_kg, body_fat_pct, date_of_birth, primary_goal,
              goal_rate_pct_per_week, timezone, units, allergies
       from public.profiles where id = 'a0000000-0000-4000-8000-00000000000a' $$,
    $$ values ('female'::text, 165.5::numeric, 60.25::numeric, 24.5::numeric, date '1990-05-01',
               'fat_loss'::text, 0.50::numeric, 'Europe/Berlin'::text, 'imperial'::text, '{peanuts}'::text[]) $$,
    'ann reads back her updated demographics'
);

-- Ann tries to edit bob's row: RLS filters it out, nothing happens.
with updated as (
    update public.profiles set weight_kg = 99, display_name = 'pwned'
    where id = 'b0000000-0000-4000-8000-00000000000b'
    returning 1
)
select is((select count(*)::int from updated), 0, 'ann''s update of bob''s row affects 0 rows');

-- An update with no WHERE and no RETURNING reads nothing, so only the UPDATE
-- policy (not the SELECT policy) limits it; checked as postgres further down.
update public.profiles set display_name = 'Ann B.';

-- Columns only the backend writes: column privileges refuse them.
select throws_ok(
    $$ update public.profiles set onboarding_completed = true where id = 'a0000000-0000-4000-8000-00000000000a' $$,
    '42501', 'permission denied for table profiles', 'ann cannot set onboarding_completed');
select throws_ok(
    $$ update public.profiles set consultation_completed = true where id = 'a0000000-0000-4000-8000-00000000000a' $$,
    '42501', 'permission denied for table profiles', 'ann cannot set consultation_completed');
select throws_ok(
    $$ update public.profiles set estimated_tdee = 2500 where id = 'a0000000-0000-4000-8000-00000000000a' $$,
    '42501', 'permission denied for table profiles', 'ann cannot set estimated_tdee');
select throws_ok(
    $$ update public.profiles set daily_calorie_goal = 2000 where id = 'a0000000-0000-4000-8000-00000000000a' $$,
    '42501', 'permission denied for table profiles', 'ann cannot set daily_calorie_goal');
select throws_ok(
    $$ update public.profiles set protein_g = 150 where id = 'a0000000-0000-4000-8000-00000000000a' $$,
    '42501', 'permission denied for table profiles', 'ann cannot set protein_g');
select throws_ok(
    $$ update public.profiles set carbs_g = 200 where id = 'a0000000-0000-4000-8000-00000000000a' $$,
    '42501', 'permission denied for table profiles', 'ann cannot set carbs_g');
select throws_ok(
    $$ update public.profiles set fat_g = 70 where id = 'a0000000-0000-4000-8000-00000000000a' $$,
    '42501', 'permission denied for table profiles', 'ann cannot set fat_g');
select throws_ok(
    $$ update public.profiles set id = 'c0000000-0000-4000-8000-00000000000c' where id = 'a0000000-0000-4000-8000-00000000000a' $$,
    '42501', 'permission denied for table profiles', 'ann cannot change her profile''s id');
select throws_ok(
    $$ update public.profiles set created_at = now() - interval '1 year' where id = 'a0000000-0000-4000-8000-00000000000a' $$,
    '42501', 'permission denied for table profiles', 'ann cannot rewrite created_at');

select throws_ok(
    $$ insert into public.profiles (id) values ('a0000000-0000-4000-8000-0000000000ff') $$,
    '42501', 'permission denied for table profiles', 'ann cannot insert a profile');
select throws_ok(
    $$ delete from public.profiles where id = 'a0000000-0000-4000-8000-00000000000a' $$,
    '42501', 'permission denied for table profiles', 'ann cannot delete her own profile');
select throws_ok(
    $$ delete from public.profiles where id = 'b0000000-0000-4000-8000-00000000000b' $$,
    '42501', 'permission denied for table profiles', 'ann cannot delete another profile');

-- complete_onboarding() with fields still missing: PT422 naming them.
select throws_ok(
    'select public.complete_onboarding()',
    'PT422',
    'onboarding is incomplete: experience_level, workout_frequency, activity_level, dietary_preference, meals_per_day missing',
    'complete_onboarding raises PT422 listing exactly the missing fields'
);

do $capture$
declare
    detail text;
begin
    perform public.complete_onboarding();
    perform set_config('sharpened_test.pt422_detail', 'no error raised', true);
exception when sqlstate 'PT422' then
    get stacked diagnostics detail = pg_exception_detail;
    perform set_config('sharpened_test.pt422_detail', detail, true);
end
$capture$;
select is(
    current_setting('sharpened_test.pt422_detail')::jsonb,
    '{"code": "onboarding_incomplete", "missing": ["experience_level", "workout_frequency", "activity_level", "dietary_preference", "meals_per_day"]}'::jsonb,
    'the PT422 detail is JSON with the missing field names'
);
select is(
    (select onboarding_completed from public.profiles where id = 'a0000000-0000-4000-8000-00000000000a'),
    false,
    'a refused complete_onboarding leaves onboarding_completed false'
);

update public.profiles
set experience_level = 'beginner', workout_frequency = 3, activity_level = 'moderate',
    dietary_preference = 'omnivore'
where id = 'a0000000-0000-4000-8000-00000000000a';

select throws_ok(
    'select public.complete_onboarding()',
    'PT422',
    'onboarding is incomplete: meals_per_day missing',
    'complete_onboarding still refuses with one field missing'
);

update public.profiles set meals_per_day = 4 where id = 'a0000000-0000-4000-8000-00000000000a';

select lives_ok('select public.complete_onboarding()', 'complete_onboarding succeeds once every required field is set');
select results_eq(
    'select id, onboarding_completed from public.complete_onboarding()',
    $$ values ('a0000000-0000-4000-8000-00000000000a'::uuid, true) $$,
    'complete_onboarding returns the caller''s profile with onboarding_completed = true'
);
select is(
    (select onboarding_completed from public.profiles where id = 'a0000000-0000-4000-8000-00000000000a'),
    true,
    'ann''s profile is stored with onboarding_completed = true'
);

-- ======================================================= authenticated, no sub

-- A token without a sub: tests.authenticate_as always sets one, so build the
-- claims with the helper it is made of.
select tests.act_as('authenticated', '{"aud":"authenticated"}');
select is((select count(*)::int from public.profiles), 0, 'an authenticated request without a sub sees no profile');
select throws_ok(
    'select public.complete_onboarding()',
    '42501', 'complete_onboarding needs a signed-in user',
    'complete_onboarding without a sub claim is refused'
);

-- A signed-in user whose profile is gone (deleted account, stale token).
select tests.authenticate_as('e0000000-0000-4000-8000-00000000000e');
select throws_ok(
    'select public.complete_onboarding()',
    'PT404', 'no profile for the calling user',
    'complete_onboarding for a user without a profile raises PT404'
);

-- =============================================================== as bob

select tests.authenticate_as('b0000000-0000-4000-8000-00000000000b');

select results_eq(
    'select id, display_name from public.profiles',
    $$ values ('b0000000-0000-4000-8000-00000000000b'::uuid, 'Bob'::text) $$,
    'bob sees only his own profile, unchanged by ann''s attempts'
);
select is_empty(
    $$ select 1 from public.profiles where id = 'a0000000-0000-4000-8000-00000000000a' $$,
    'ann''s profile is invisible to bob'
);
select throws_ok(
    'select public.complete_onboarding()',
    'PT422',
    'onboarding is incomplete: date_of_birth, sex, height_cm, weight_kg, primary_goal, experience_level, workout_frequency, activity_level, dietary_preference, meals_per_day missing',
    'complete_onboarding on an empty profile lists all ten required fields'
);

-- CHECK constraints (SQLSTATE 23514) on bob's own row.
select throws_ok($$ update public.profiles set height_cm = 119.9 $$, '23514', null, 'height_cm below 120 is rejected');
select throws_ok($$ update public.profiles set height_cm = 230.1 $$, '23514', null, 'height_cm above 230 is rejected');
select lives_ok($$ update public.profiles set height_cm = 230 $$, 'height_cm 230 is accepted');
select throws_ok($$ update public.profiles set weight_kg = 29.99 $$, '23514', null, 'weight_kg below 30 is rejected');
select throws_ok($$ update public.profiles set weight_kg = 300.01 $$, '23514', null, 'weight_kg above 300 is rejected');
select throws_ok($$ update public.profiles set body_fat_pct = 2.9 $$, '23514', null, 'body_fat_pct below 3 is rejected');
select throws_ok($$ update public.profiles set body_fat_pct = 60.1 $$, '23514', null, 'body_fat_pct above 60 is rejected');
select throws_ok($$ update public.profiles set sex = 'other' $$, '23514', null, 'an unknown sex value is rejected');
select throws_ok($$ update public.profiles set primary_goal = 'bulk' $$, '23514', null, 'an unknown primary_goal is rejected');
select throws_ok($$ update public.profiles set display_name = '' $$, '23514', null, 'an empty display_name is rejected');
select throws_ok($$ update public.profiles set workout_frequency = 8 $$, '23514', null, 'workout_frequency above 7 is rejected');
select throws_ok($$ update public.profiles set meals_per_day = 0 $$, '23514', null, 'meals_per_day below 1 is rejected');
select throws_ok($$ update public.profiles set units = 'furlongs' $$, '23514', null, 'an unknown units value is rejected');

-- goal_rate_pct_per_week must fit the goal (DOMAIN §2).
select lives_ok(
    $$ update public.profiles set primary_goal = 'muscle_gain', goal_rate_pct_per_week = 0.5 $$,
    'muscle_gain at 0.5 %/week is accepted');
select throws_ok(
    $$ update public.profiles set goal_rate_pct_per_week = 0.75 $$,
    '23514', 'new row for relation "profiles" violates check constraint "profiles_goal_rate_matches_goal"',
    'muscle_gain at 0.75 %/week (a fat_loss rate) is rejected');
select throws_ok(
    $$ update public.profiles set primary_goal = 'maintenance' $$,
    '23514', 'new row for relation "profiles" violates check constraint "profiles_goal_rate_matches_goal"',
    'switching to maintenance while a weekly rate is set is rejected');
select lives_ok(
    $$ update public.profiles set primary_goal = 'maintenance', goal_rate_pct_per_week = null $$,
    'maintenance without a weekly rate is accepted');
select throws_ok(
    $$ update public.profiles set primary_goal = 'fat_loss', goal_rate_pct_per_week = 1.5 $$,
    '23514', 'new row for relation "profiles" violates check constraint "profiles_goal_rate_matches_goal"',
    'fat_loss at 1.5 %/week is rejected');
select throws_ok(
    $$ update public.profiles set primary_goal = 'fat_loss', goal_rate_pct_per_week = 0.2 $$,
    '23514', 'new row for relation "profiles" violates check constraint "profiles_goal_rate_matches_goal"',
    'fat_loss at 0.2 %/week is rejected');
select lives_ok(
    $$ update public.profiles set primary_goal = 'fat_loss', goal_rate_pct_per_week = 1.0 $$,
    'fat_loss at 1.0 %/week is accepted');

-- Age 13 to 100 from date_of_birth (trigger, 23514).
select throws_ok(
    $$ update public.profiles set date_of_birth = (current_date - interval '13 years')::date + 1 $$,
    '23514', 'date_of_birth gives an age of 12 years; allowed ages are 13 to 100',
    'a user one day short of 13 is rejected');
select lives_ok(
    $$ update public.profiles set date_of_birth = (current_date - interval '13 years')::date $$,
    'a user turning 13 today is accepted');
select throws_ok(
    $$ update public.profiles set date_of_birth = (current_date - interval '101 years')::date $$,
    '23514', 'date_of_birth gives an age of 101 years; allowed ages are 13 to 100',
    'an age over 100 is rejected');
select throws_ok(
    $$ update public.profiles set date_of_birth = current_date + 1 $$,
    '23514', null,
    'a date_of_birth in the future is rejected');

-- Time zone must be known to the tz database (trigger, 23514).
select throws_ok(
    $$ update public.profiles set timezone = 'Mars/Olympus_Mons' $$,
    '23514', 'timezone "Mars/Olympus_Mons" is not a known IANA time zone name',
    'an unknown timezone is rejected');
select lives_ok(
    $$ update public.profiles set timezone = 'America/New_York' $$,
    'a known IANA timezone is accepted');

select results_eq(
    $$ select height_cm, primary_goal, goal_rate_pct_per_week, date_of_birth, timezone
       from public.profiles $$,
    $$ values (230.0::numeric, 'fat_loss'::text, 1.00::numeric, (current_date - interval '13 years')::date,
               'America/New_York'::text) $$,
    'only bob''s accepted updates were stored'
);

-- =================================================================== anon

select tests.authenticate_as_anon();

select throws_ok(
    'select * from public.profiles',
    '42501', 'permission denied for table profiles',
    'anon cannot read profiles at all');
select throws_ok(
    $$ update public.profiles set display_name = 'anon' $$,
    '42501', 'permission denied for table profiles',
    'anon cannot update profiles');
select throws_ok(
    'select public.complete_onboarding()',
    '42501', 'permission denied for function complete_onboarding',
    'anon cannot execute complete_onboarding');

-- =========================================================== service_role

select tests.authenticate_as_service_role();

select is(
    (select count(*)::int from public.profiles),
    (select count(*)::int from auth.users),
    'service_role bypasses RLS and sees every profile'
);
select lives_ok(
    $$ update public.profiles set daily_calorie_goal = 2100, protein_g = 160
       where id = 'b0000000-0000-4000-8000-00000000000b' $$,
    'service_role writes the computed targets'
);

-- =============================================================== postgres

select tests.clear_authentication();

select results_eq(
    $$ select weight_kg, display_name, daily_calorie_goal, protein_g, onboarding_completed
       from public.profiles where id = 'b0000000-0000-4000-8000-00000000000b' $$,
    $$ values (null::numeric, 'Bob'::text, 2100, 160, false) $$,
    'bob''s row: untouched by ann, targets written by service_role, not onboarded'
);

select results_eq(
    $$ select id from public.profiles where display_name = 'Ann B.' $$,
    $$ values ('a0000000-0000-4000-8000-00000000000a'::uuid) $$,
    'ann''s unfiltered update (no WHERE, no RETURNING) changed only her own row'
);

update public.profiles set updated_at = timestamptz '2000-01-01 00:00:00+00'
where id = 'b0000000-0000-4000-8000-00000000000b';
select is(
    (select updated_at from public.profiles where id = 'b0000000-0000-4000-8000-00000000000b'),
    now(),
    'the updated_at trigger overrides a stale updated_at with now()'
);

delete from auth.users where id = 'c0000000-0000-4000-8000-00000000000c';
select is_empty(
    $$ select 1 from public.profiles where id = 'c0000000-0000-4000-8000-00000000000c' $$,
    'deleting the auth user deletes the profile (on delete cascade)'
);
select is(
    (select count(*)::int from public.profiles
     where id in ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-00000000000b',
                  'd0000000-0000-4000-8000-00000000000d')),
    3,
    'the other users'' profiles are untouched by the cascade'
);

select * from finish();
rollback;
