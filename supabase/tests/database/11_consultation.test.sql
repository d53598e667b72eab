-- Consultation domain: integrity constraints of consultation_keys,
-- consultation_sessions, consultation_key_usage, consultation_messages and
-- the nine user_* extraction tables (ranges, vocabularies, uniqueness, the
-- composite keys that keep a child in its owner's data, on delete actions,
-- the one-active-session and active-session-only message rules), and the
-- owner's access class on each, acting as PostgREST would (tests.* helpers).
begin;
set search_path = public, extensions;

select plan(142);

-- Actors:
--   ann  a0000000-0000-4000-8000-00000000000a
--   bob  b0000000-0000-4000-8000-00000000000b
--   cid  c0000000-0000-4000-8000-00000000000c (staff user, deleted below)
-- Keys:       k1 ...0001 (created by cid), k2 ...0002 (assigned to cid)
-- Sessions:   ann active 5...0001, bob active 5...0002, ann completed 5...0003

select tests.create_user('a0000000-0000-4000-8000-00000000000a', 'ann@example.com');
select tests.create_user('b0000000-0000-4000-8000-00000000000b', 'bob@example.com');
select tests.create_user('c0000000-0000-4000-8000-00000000000c', 'cid@example.com');

-- Reference rows of our own (the catalogues may be empty or loaded).
insert into public.training_modalities (id, name, category)
values ('pgtap_modality_a', 'pgTAP modality A', 'strength'),
('pgtap_modality_b', 'pgTAP modality B', 'endurance');
insert into public.exercises (id, name, category, level, primary_muscles)
values ('pgtap_exercise_a', 'pgTAP exercise A', 'strength', 'beginner', '{quadriceps}'),
('pgtap_exercise_b', 'pgTAP exercise B', 'strength', 'beginner', '{chest}');
insert into public.meal_times (id, name, typical_time, sort_order)
select
    'pgtap_meal_' || free.i as id,
    'pgTAP meal ' || free.i as name,
    time '08:00' as typical_time,
    free.n as sort_order
from (
    select
        g.n,
        row_number() over (order by g.n) as i
    from generate_series(1, 100) as g (n)
    where
        not exists (
            select from public.meal_times as mt
            where mt.sort_order = g.n
        )
    order by g.n limit 2
) as free;
insert into public.foods (
    id, name, kcal_per_100g, protein_g_per_100g, carbs_g_per_100g, fat_g_per_100g, source
)
values ('f0000000-0000-4000-8000-000000000001', 'pgTAP oats', 380, 13, 60, 7, 'sharpened');
insert into public.event_types (id, name, category)
values ('pgtap_event', 'pgTAP event', 'other');

-- ================================================================== keys

insert into public.consultation_keys (id, key_code, max_uses, created_by)
values (
    '10000000-0000-4000-8000-000000000001', 'SHARP-2026-AB12CD34E', 3,
    'c0000000-0000-4000-8000-00000000000c'
);
insert into public.consultation_keys (id, key_code, assigned_to_user_id)
values (
    '10000000-0000-4000-8000-000000000002', 'SHARP-2026-ZZZZZZZZ9',
    'c0000000-0000-4000-8000-00000000000c'
);

select is(
    (
        select count(*)::int from public.consultation_keys
        where key_code like 'SHARP-2026-%'
    ),
    2,
    'two well-formed keys are stored'
);
select throws_ok(
    $$ insert into public.consultation_keys (key_code) values ('SHARP-2026-ab12cd34e') $$,
    '23514', null, 'a key_code with lower-case letters is rejected'
);
select throws_ok(
    $$ insert into public.consultation_keys (key_code) values ('SHARP-2026-AB12CD34') $$,
    '23514', null, 'a key_code with 8 characters after the year is rejected'
);
select throws_ok(
    $$ insert into public.consultation_keys (key_code) values ('SHARP-2026-AB12CD34EF') $$,
    '23514', null, 'a key_code with 10 characters after the year is rejected'
);
select throws_ok(
    $$ insert into public.consultation_keys (key_code) values ('SHARP-26-AB12CD34E') $$,
    '23514', null, 'a key_code with a 2-digit year is rejected'
);
select throws_ok(
    $$ insert into public.consultation_keys (key_code) values ('KEY-2026-AB12CD34E') $$,
    '23514', null, 'a key_code without the SHARP- prefix is rejected'
);
select throws_ok(
    $$ insert into public.consultation_keys (key_code) values (' SHARP-2026-AB12CD34E') $$,
    '23514', null, 'a key_code with surrounding text is rejected (anchored pattern)'
);
select throws_ok(
    $$ insert into public.consultation_keys (key_code) values ('SHARP-2026-AB12CD34E') $$,
    '23505', null, 'key_code is unique'
);
select throws_ok(
    $$ insert into public.consultation_keys (key_code, max_uses) values ('SHARP-2026-MAXUSES00', 0) $$,
    '23514', null, 'max_uses 0 is rejected'
);
select throws_ok(
    $$ insert into public.consultation_keys (key_code, max_uses, current_uses, first_used_at, last_used_at)
       values ('SHARP-2026-OVERUSED0', 2, 3, now(), now()) $$,
    '23514', null, 'current_uses above max_uses is rejected'
);
select throws_ok(
    $$ insert into public.consultation_keys (key_code, current_uses) values ('SHARP-2026-NEGATIVE0', -1) $$,
    '23514', null, 'negative current_uses is rejected'
);
select throws_ok(
    $$ insert into public.consultation_keys (key_code, current_uses) values ('SHARP-2026-NOUSEDAT0', 1) $$,
    '23514', null, 'a used key without first_used_at/last_used_at is rejected'
);
select throws_ok(
    $$ insert into public.consultation_keys (key_code, first_used_at, last_used_at)
       values ('SHARP-2026-UNUSEDAT0', now(), now()) $$,
    '23514', null, 'an unused key with first_used_at set is rejected'
);
select throws_ok(
    $$ insert into public.consultation_keys (key_code, current_uses, first_used_at, last_used_at)
       values ('SHARP-2026-BACKWARD0', 1, now(), now() - interval '1 day') $$,
    '23514', null, 'last_used_at before first_used_at is rejected'
);
select lives_ok(
    $$ update public.consultation_keys
       set current_uses = 3, first_used_at = now() - interval '1 day', last_used_at = now()
       where id = '10000000-0000-4000-8000-000000000001' $$,
    'a key may be used up to max_uses'
);

-- ============================================================== sessions

insert into public.consultation_sessions (id, user_id, key_id)
values
(
    '50000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
    '10000000-0000-4000-8000-000000000001'
),
('50000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-00000000000b', null);
insert into public.consultation_sessions (
    id, user_id, key_id, status, current_section, completed_sections, progress_percentage, completed_at
)
values (
    '50000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-00000000000a',
    '10000000-0000-4000-8000-000000000002', 'completed', 7, '{1,2,3,4,5,6,7}', 100, now()
);

select results_eq(
    $$ select status, current_section, progress_percentage, completed_sections, engine
       from public.consultation_sessions where id = '50000000-0000-4000-8000-000000000001' $$,
    $$ values ('active'::text, 1::smallint, 0::smallint, '{}'::smallint[], 'openai'::text) $$,
    'a new session starts active in section 1 at 0 % with the openai engine'
);
select throws_ok(
    $$ insert into public.consultation_sessions (user_id, status)
       values ('a0000000-0000-4000-8000-00000000000a', 'active') $$,
    '23505', null, 'a user cannot have two active sessions'
);
select lives_ok(
    $$ insert into public.consultation_sessions (user_id, status)
       values ('a0000000-0000-4000-8000-00000000000a', 'abandoned') $$,
    'an abandoned session next to the active one is accepted'
);
select throws_ok(
    $$ update public.consultation_sessions set current_section = 0
       where id = '50000000-0000-4000-8000-000000000001' $$,
    '23514', null, 'current_section 0 is rejected'
);
select throws_ok(
    $$ update public.consultation_sessions set current_section = 8
       where id = '50000000-0000-4000-8000-000000000001' $$,
    '23514', null, 'current_section 8 is rejected'
);
select throws_ok(
    $$ update public.consultation_sessions set progress_percentage = 101
       where id = '50000000-0000-4000-8000-000000000001' $$,
    '23514', null, 'progress_percentage above 100 is rejected'
);
select throws_ok(
    $$ update public.consultation_sessions set progress_percentage = -1
       where id = '50000000-0000-4000-8000-000000000001' $$,
    '23514', null, 'negative progress_percentage is rejected'
);
select throws_ok(
    $$ update public.consultation_sessions set completed_sections = '{1,8}'
       where id = '50000000-0000-4000-8000-000000000001' $$,
    '23514', null, 'a completed section outside 1-7 is rejected'
);
select throws_ok(
    $$ update public.consultation_sessions set status = 'paused'
       where id = '50000000-0000-4000-8000-000000000001' $$,
    '23514', null, 'an unknown status is rejected'
);
select throws_ok(
    $$ update public.consultation_sessions set engine = 'anthropic'
       where id = '50000000-0000-4000-8000-000000000001' $$,
    '23514', null, 'an unknown engine is rejected'
);
select throws_ok(
    $$ update public.consultation_sessions set status = 'completed', progress_percentage = 100
       where id = '50000000-0000-4000-8000-000000000001' $$,
    '23514', null, 'completed without completed_at is rejected'
);
select throws_ok(
    $$ update public.consultation_sessions set completed_at = now()
       where id = '50000000-0000-4000-8000-000000000001' $$,
    '23514', null, 'completed_at on an active session is rejected'
);
select throws_ok(
    $$ update public.consultation_sessions set status = 'completed', completed_at = now(),
        progress_percentage = 90
       where id = '50000000-0000-4000-8000-000000000001' $$,
    '23514', null, 'a completed session below 100 % is rejected'
);
select throws_ok(
    $$ update public.consultation_sessions
       set status = 'completed', progress_percentage = 100, completed_at = started_at - interval '1 minute'
       where id = '50000000-0000-4000-8000-000000000001' $$,
    '23514', null, 'completed_at before started_at is rejected'
);

-- ============================================================= key usage

insert into public.consultation_key_usage (key_id, user_id, session_id, ip_address, user_agent)
values (
    '10000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
    '50000000-0000-4000-8000-000000000001', '203.0.113.5', 'Mozilla/5.0'
);

select throws_ok(
    $$ insert into public.consultation_key_usage (key_id, user_id, session_id)
       values ('10000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               '50000000-0000-4000-8000-000000000002') $$,
    '23503', null, 'a usage row of ann cannot point at bob''s session'
);
select throws_ok(
    $$ insert into public.consultation_key_usage (key_id, user_id, session_id)
       values ('10000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               '50000000-0000-4000-8000-000000000001') $$,
    '23505', null, 'a session is started by one redemption only'
);
select throws_ok(
    $$ insert into public.consultation_key_usage (key_id, user_id, user_agent)
       values ('10000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               repeat('x', 513)) $$,
    '23514', null, 'a user_agent over 512 characters is rejected'
);
select throws_ok(
    $$ insert into public.consultation_key_usage (key_id, user_id)
       values ('10000000-0000-4000-8000-0000000000ff', 'a0000000-0000-4000-8000-00000000000a') $$,
    '23503', null, 'a usage row needs an existing key'
);

-- ============================================================== messages

insert into public.consultation_messages (session_id, user_id, role, content, section, extraction, tokens)
values (
    '50000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a', 'assistant',
    'Which kinds of training have you done?', 1, null, 20
),
(
    '50000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-00000000000b', 'assistant',
    'Hello Bob.', 1, '{"note": "greeting"}', 5
);

select throws_ok(
    $$ insert into public.consultation_messages (session_id, user_id, role, content, section)
       values ('50000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-00000000000a',
               'user', 'hi', 1) $$,
    '23503', null, 'a message of ann cannot point at bob''s session'
);
select throws_ok(
    $$ insert into public.consultation_messages (session_id, user_id, role, content, section)
       values ('50000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-00000000000a',
               'user', 'one more thing', 7) $$,
    '23514', 'consultation session 50000000-0000-4000-8000-000000000003 is not active',
    'a completed session takes no more messages (even from postgres)'
);
select throws_ok(
    $$ insert into public.consultation_messages (session_id, user_id, role, content, section)
       values ('50000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               'tool', 'x', 1) $$,
    '23514', null, 'an unknown message role is rejected'
);
select throws_ok(
    $$ insert into public.consultation_messages (session_id, user_id, role, content, section)
       values ('50000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               'user', E'  \n\t ', 1) $$,
    '23514', null, 'a blank message is rejected'
);
select throws_ok(
    $$ insert into public.consultation_messages (session_id, user_id, role, content, section)
       values ('50000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               'user', repeat('x', 20001), 1) $$,
    '23514', null, 'a message over 20,000 characters is rejected'
);
select lives_ok(
    $$ insert into public.consultation_messages (session_id, user_id, role, content, section)
       values ('50000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               'user', repeat('x', 20000), 1) $$,
    'a message of exactly 20,000 characters is accepted'
);
select throws_ok(
    $$ insert into public.consultation_messages (session_id, user_id, role, content, section)
       values ('50000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               'user', 'x', 0) $$,
    '23514', null, 'message section 0 is rejected'
);
select throws_ok(
    $$ insert into public.consultation_messages (session_id, user_id, role, content, section)
       values ('50000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               'user', 'x', 8) $$,
    '23514', null, 'message section 8 is rejected'
);
select throws_ok(
    $$ insert into public.consultation_messages (session_id, user_id, role, content, section, extraction)
       values ('50000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               'assistant', 'x', 1, '[1, 2]') $$,
    '23514', null, 'an extraction that is not a JSON object is rejected'
);
select throws_ok(
    $$ insert into public.consultation_messages (session_id, user_id, role, content, section, tokens)
       values ('50000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               'assistant', 'x', 1, -1) $$,
    '23514', null, 'negative tokens are rejected'
);

-- ==================================================== extraction tables

-- Ann's answers, linked to her active session.
insert into public.user_training_modalities (user_id, session_id, modality_id, is_primary)
values (
    'a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000001',
    'pgtap_modality_a', true
);
insert into public.user_familiar_exercises (user_id, session_id, exercise_id, comfort_level)
values (
    'a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000001',
    'pgtap_exercise_a', 4
);
insert into public.user_training_availability (user_id, session_id, day_of_week, time_of_day)
values ('a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000001', 1, 'morning');
insert into public.user_preferred_meal_times (user_id, session_id, meal_time_id)
values ('a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000001', 'pgtap_meal_1');
insert into public.user_typical_meal_foods (user_id, session_id, food_id, meal_time_id)
values (
    'a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000001',
    'f0000000-0000-4000-8000-000000000001', 'pgtap_meal_1'
),
(
    'a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000001',
    'f0000000-0000-4000-8000-000000000001', null
);
insert into public.user_improvement_goals (user_id, session_id, goal_type, target_description)
values (
    'a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000001',
    'strength', 'Squat 120 kg'
);
insert into public.user_difficulties (user_id, session_id, category, description)
values (
    'a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000001',
    'time', 'Long working days'
);
insert into public.user_non_negotiables (user_id, session_id, constraint_type, description, rule)
values (
    'a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000001',
    'rest_day', 'No training on Sundays', '{"day_of_week": 7, "rule": "rest"}'
);
insert into public.user_upcoming_events (user_id, session_id, event_type_id, event_name, event_date)
values (
    'a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000001',
    'pgtap_event', 'City 10K', current_date + 60
);

select results_eq(
    $$ select flexibility_minutes, is_non_negotiable from public.user_preferred_meal_times
       where user_id = 'a0000000-0000-4000-8000-00000000000a' $$,
    $$ values (30::smallint, false) $$,
    'flexibility_minutes defaults to 30 and is_non_negotiable to false'
);

-- Composite keys: an answer of ann cannot point at bob's session (as ann, through the API).
select tests.authenticate_as('a0000000-0000-4000-8000-00000000000a');

select throws_ok(
    $$ insert into public.user_training_modalities (user_id, session_id, modality_id)
       values ('a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000002',
               'pgtap_modality_b') $$,
    '23503', null, 'user_training_modalities: ann cannot link bob''s session'
);
select throws_ok(
    $$ insert into public.user_familiar_exercises (user_id, session_id, exercise_id)
       values ('a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000002',
               'pgtap_exercise_b') $$,
    '23503', null, 'user_familiar_exercises: ann cannot link bob''s session'
);
select throws_ok(
    $$ insert into public.user_training_availability (user_id, session_id, day_of_week, time_of_day)
       values ('a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000002', 5, 'night') $$,
    '23503', null, 'user_training_availability: ann cannot link bob''s session'
);
select throws_ok(
    $$ insert into public.user_preferred_meal_times (user_id, session_id, meal_time_id)
       values ('a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000002',
               'pgtap_meal_2') $$,
    '23503', null, 'user_preferred_meal_times: ann cannot link bob''s session'
);
select throws_ok(
    $$ insert into public.user_typical_meal_foods (user_id, session_id, food_id, meal_time_id)
       values ('a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000002',
               'f0000000-0000-4000-8000-000000000001', 'pgtap_meal_2') $$,
    '23503', null, 'user_typical_meal_foods: ann cannot link bob''s session'
);
select throws_ok(
    $$ insert into public.user_improvement_goals (user_id, session_id, goal_type, target_description)
       values ('a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000002',
               'health', 'x') $$,
    '23503', null, 'user_improvement_goals: ann cannot link bob''s session'
);
select throws_ok(
    $$ insert into public.user_difficulties (user_id, session_id, category, description)
       values ('a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000002',
               'sleep', 'x') $$,
    '23503', null, 'user_difficulties: ann cannot link bob''s session'
);
select throws_ok(
    $$ insert into public.user_non_negotiables (user_id, session_id, constraint_type, description)
       values ('a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000002',
               'other', 'x') $$,
    '23503', null, 'user_non_negotiables: ann cannot link bob''s session'
);
select throws_ok(
    $$ insert into public.user_upcoming_events (user_id, session_id, event_name, event_date)
       values ('a0000000-0000-4000-8000-00000000000a', '50000000-0000-4000-8000-000000000002',
               'x', current_date) $$,
    '23503', null, 'user_upcoming_events: ann cannot link bob''s session'
);
select throws_ok(
    $$ insert into public.user_difficulties (user_id, category, description)
       values ('b0000000-0000-4000-8000-00000000000b', 'sleep', 'planted for bob') $$,
    '42501', 'new row violates row-level security policy for table "user_difficulties"',
    'ann cannot insert an answer owned by bob'
);
select lives_ok(
    $$ insert into public.user_difficulties (user_id, category, description, severity)
       values ('a0000000-0000-4000-8000-00000000000a', 'stress', 'Exams in June', 4) $$,
    'ann adds an answer outside any consultation (session_id NULL)'
);
select lives_ok(
    $$ update public.user_training_modalities set years_experience = 2.5, enjoys_it = true
       where modality_id = 'pgtap_modality_a' $$,
    'ann corrects one of her answers'
);
select throws_ok(
    $$ update public.user_training_modalities set user_id = 'b0000000-0000-4000-8000-00000000000b' $$,
    '42501', 'new row violates row-level security policy for table "user_training_modalities"',
    'ann cannot hand an answer over to bob'
);

-- Ranges and vocabularies (23514), as ann on her own rows.
select throws_ok(
    $$ update public.user_training_modalities set proficiency_level = 'guru' $$,
    '23514', null, 'user_training_modalities: unknown proficiency_level rejected'
);
select lives_ok(
    $$ update public.user_training_modalities set proficiency_level = 'novice' $$,
    'user_training_modalities: proficiency_level novice accepted'
);
select throws_ok(
    $$ update public.user_training_modalities set years_experience = 50.1 $$,
    '23514', null, 'user_training_modalities: years_experience above 50 rejected'
);
select throws_ok(
    $$ update public.user_training_modalities set years_experience = -1 $$,
    '23514', null, 'user_training_modalities: negative years_experience rejected'
);
select throws_ok(
    $$ update public.user_familiar_exercises set comfort_level = 0 $$,
    '23514', null, 'user_familiar_exercises: comfort_level 0 rejected'
);
select throws_ok(
    $$ update public.user_familiar_exercises set comfort_level = 6 $$,
    '23514', null, 'user_familiar_exercises: comfort_level 6 rejected'
);
select throws_ok(
    $$ update public.user_familiar_exercises set frequency = 'sometimes' $$,
    '23514', null, 'user_familiar_exercises: unknown frequency rejected'
);
select lives_ok(
    $$ update public.user_familiar_exercises set frequency = 'never_done' $$,
    'user_familiar_exercises: frequency never_done accepted'
);
select throws_ok(
    $$ update public.user_familiar_exercises set typical_weight_kg = 500.01 $$,
    '23514', null, 'user_familiar_exercises: typical_weight_kg above 500 rejected'
);
select throws_ok(
    $$ update public.user_familiar_exercises set typical_weight_kg = -1 $$,
    '23514', null, 'user_familiar_exercises: negative typical_weight_kg rejected'
);
select throws_ok(
    $$ update public.user_familiar_exercises set typical_reps = 0 $$,
    '23514', null, 'user_familiar_exercises: typical_reps 0 rejected'
);
select throws_ok(
    $$ update public.user_familiar_exercises set typical_reps = 101 $$,
    '23514', null, 'user_familiar_exercises: typical_reps 101 rejected'
);
select throws_ok(
    $$ update public.user_familiar_exercises set typical_duration_minutes = 601 $$,
    '23514', null, 'user_familiar_exercises: typical_duration_minutes above 600 rejected'
);
select throws_ok(
    $$ update public.user_familiar_exercises set typical_duration_minutes = 0 $$,
    '23514', null, 'user_familiar_exercises: typical_duration_minutes 0 rejected'
);
select throws_ok(
    $$ update public.user_training_availability set day_of_week = 0 $$,
    '23514', null, 'user_training_availability: day_of_week 0 rejected'
);
select throws_ok(
    $$ update public.user_training_availability set day_of_week = 8 $$,
    '23514', null, 'user_training_availability: day_of_week 8 rejected'
);
select throws_ok(
    $$ update public.user_training_availability set time_of_day = 'noon' $$,
    '23514', null, 'user_training_availability: unknown time_of_day rejected'
);
select throws_ok(
    $$ update public.user_training_availability set typical_duration_minutes = 14 $$,
    '23514', null, 'user_training_availability: typical duration below 15 rejected'
);
select throws_ok(
    $$ update public.user_training_availability set max_duration_minutes = 241 $$,
    '23514', null, 'user_training_availability: max duration above 240 rejected'
);
select throws_ok(
    $$ update public.user_training_availability set min_duration_minutes = 10 $$,
    '23514', null, 'user_training_availability: min duration below 15 rejected'
);
select throws_ok(
    $$ update public.user_training_availability set min_duration_minutes = 60,
        typical_duration_minutes = 45 $$,
    '23514', null, 'user_training_availability: min above typical rejected'
);
select throws_ok(
    $$ update public.user_training_availability set typical_duration_minutes = 90,
        max_duration_minutes = 60 $$,
    '23514', null, 'user_training_availability: typical above max rejected'
);
select throws_ok(
    $$ update public.user_training_availability set min_duration_minutes = 90, max_duration_minutes = 60 $$,
    '23514', null, 'user_training_availability: min above max rejected (typical unknown)'
);
select lives_ok(
    $$ update public.user_training_availability
       set min_duration_minutes = 30, typical_duration_minutes = 45, max_duration_minutes = 90 $$,
    'user_training_availability: min <= typical <= max accepted'
);
select throws_ok(
    $$ update public.user_training_availability set location_type = 'car' $$,
    '23514', null, 'user_training_availability: unknown location_type rejected'
);
select throws_ok(
    $$ update public.user_preferred_meal_times set portion_size = 'xl' $$,
    '23514', null, 'user_preferred_meal_times: unknown portion_size rejected'
);
select throws_ok(
    $$ update public.user_preferred_meal_times set flexibility_minutes = 241 $$,
    '23514', null, 'user_preferred_meal_times: flexibility_minutes above 240 rejected'
);
select throws_ok(
    $$ update public.user_preferred_meal_times set flexibility_minutes = -1 $$,
    '23514', null, 'user_preferred_meal_times: negative flexibility_minutes rejected'
);
select throws_ok(
    $$ update public.user_typical_meal_foods set frequency = 'hourly' $$,
    '23514', null, 'user_typical_meal_foods: unknown frequency rejected'
);
select throws_ok(
    $$ update public.user_typical_meal_foods set typical_quantity_grams = 0.5 $$,
    '23514', null, 'user_typical_meal_foods: quantity below 1 g rejected'
);
select throws_ok(
    $$ update public.user_typical_meal_foods set typical_quantity_grams = 2000.1 $$,
    '23514', null, 'user_typical_meal_foods: quantity above 2000 g rejected'
);
select throws_ok(
    $$ update public.user_improvement_goals set goal_type = 'vanity' $$,
    '23514', null, 'user_improvement_goals: unknown goal_type rejected'
);
select throws_ok(
    $$ update public.user_improvement_goals set priority = 0 $$,
    '23514', null, 'user_improvement_goals: priority 0 rejected'
);
select throws_ok(
    $$ update public.user_improvement_goals set priority = 6 $$,
    '23514', null, 'user_improvement_goals: priority 6 rejected'
);
select throws_ok(
    $$ update public.user_improvement_goals set target_description = ' ' $$,
    '23514', null, 'user_improvement_goals: blank target_description rejected'
);
select throws_ok(
    $$ update public.user_improvement_goals set current_value = 'NaN' $$,
    '23514', null, 'user_improvement_goals: NaN current_value rejected'
);
select throws_ok(
    $$ update public.user_improvement_goals set target_value = 'NaN' $$,
    '23514', null, 'user_improvement_goals: NaN target_value rejected'
);
select throws_ok(
    $$ update public.user_difficulties set category = 'weather' $$,
    '23514', null, 'user_difficulties: unknown category rejected'
);
select throws_ok(
    $$ update public.user_difficulties set severity = 6 $$,
    '23514', null, 'user_difficulties: severity 6 rejected'
);
select throws_ok(
    $$ update public.user_difficulties set severity = 0 $$,
    '23514', null, 'user_difficulties: severity 0 rejected'
);
select throws_ok(
    $$ update public.user_difficulties set description = '' $$,
    '23514', null, 'user_difficulties: empty description rejected'
);
select throws_ok(
    $$ update public.user_non_negotiables set constraint_type = 'religious' $$,
    '23514', null, 'user_non_negotiables: unknown constraint_type rejected'
);
select throws_ok(
    $$ update public.user_non_negotiables set rule = '"rest on sundays"' $$,
    '23514', null, 'user_non_negotiables: a rule that is not a JSON object rejected'
);
select throws_ok(
    $$ update public.user_upcoming_events set priority = 6 $$,
    '23514', null, 'user_upcoming_events: priority 6 rejected'
);
select throws_ok(
    $$ update public.user_upcoming_events set event_name = '  ' $$,
    '23514', null, 'user_upcoming_events: blank event_name rejected'
);
select throws_ok(
    $$ update public.user_upcoming_events set specific_goals = array['sub 50', null] $$,
    '23514', null, 'user_upcoming_events: a NULL element in specific_goals rejected'
);
select throws_ok(
    $$ update public.user_upcoming_events set specific_goals = array_fill('goal'::text, array[21]) $$,
    '23514', null, 'user_upcoming_events: more than 20 specific_goals rejected'
);
select lives_ok(
    $$ update public.user_upcoming_events set specific_goals = '{"sub 50 minutes", "no walking"}',
        is_completed = true $$,
    'user_upcoming_events: a list of goals accepted'
);

-- Uniqueness (23505).
select throws_ok(
    $$ insert into public.user_training_modalities (user_id, modality_id)
       values ('a0000000-0000-4000-8000-00000000000a', 'pgtap_modality_a') $$,
    '23505', null, 'user_training_modalities: one row per user and modality'
);
select throws_ok(
    $$ insert into public.user_training_modalities (user_id, modality_id, is_primary)
       values ('a0000000-0000-4000-8000-00000000000a', 'pgtap_modality_b', true) $$,
    '23505', null, 'user_training_modalities: at most one primary modality per user'
);
select lives_ok(
    $$ insert into public.user_training_modalities (user_id, modality_id, is_primary)
       values ('a0000000-0000-4000-8000-00000000000a', 'pgtap_modality_b', false) $$,
    'user_training_modalities: a second, non-primary modality accepted'
);
select throws_ok(
    $$ insert into public.user_familiar_exercises (user_id, exercise_id)
       values ('a0000000-0000-4000-8000-00000000000a', 'pgtap_exercise_a') $$,
    '23505', null, 'user_familiar_exercises: one row per user and exercise'
);
select throws_ok(
    $$ insert into public.user_training_availability (user_id, day_of_week, time_of_day)
       values ('a0000000-0000-4000-8000-00000000000a', 1, 'morning') $$,
    '23505', null, 'user_training_availability: one row per user, day and part of day'
);
select lives_ok(
    $$ insert into public.user_training_availability (user_id, day_of_week, time_of_day)
       values ('a0000000-0000-4000-8000-00000000000a', 1, 'evening') $$,
    'user_training_availability: a second slot on the same day accepted'
);
select throws_ok(
    $$ insert into public.user_preferred_meal_times (user_id, meal_time_id)
       values ('a0000000-0000-4000-8000-00000000000a', 'pgtap_meal_1') $$,
    '23505', null, 'user_preferred_meal_times: one row per user and meal time'
);
select throws_ok(
    $$ insert into public.user_typical_meal_foods (user_id, food_id, meal_time_id)
       values ('a0000000-0000-4000-8000-00000000000a', 'f0000000-0000-4000-8000-000000000001',
        'pgtap_meal_1') $$,
    '23505', null, 'user_typical_meal_foods: one row per user, food and meal'
);
select throws_ok(
    $$ insert into public.user_typical_meal_foods (user_id, food_id)
       values ('a0000000-0000-4000-8000-00000000000a', 'f0000000-0000-4000-8000-000000000001') $$,
    '23505', null, 'user_typical_meal_foods: one row per user and food without a meal (nulls not distinct)'
);

-- Foreign keys to the catalogues (23503).
select throws_ok(
    $$ insert into public.user_training_modalities (user_id, modality_id)
       values ('a0000000-0000-4000-8000-00000000000a', 'no_such_modality') $$,
    '23503', null, 'user_training_modalities: an unknown modality is rejected'
);
select throws_ok(
    $$ insert into public.user_upcoming_events (user_id, event_type_id, event_name, event_date)
       values ('a0000000-0000-4000-8000-00000000000a', 'no_such_event', 'x', current_date) $$,
    '23503', null, 'user_upcoming_events: an unknown event type is rejected'
);

-- The owner's access class on the consultation tables.
select throws_ok(
    'select * from public.consultation_keys',
    '42501', 'permission denied for table consultation_keys',
    'a signed-in user cannot read consultation_keys'
);
select throws_ok(
    $$ insert into public.consultation_sessions (user_id) values ('a0000000-0000-4000-8000-00000000000a') $$,
    '42501', 'permission denied for table consultation_sessions',
    'ann cannot create a session herself'
);
select throws_ok(
    $$ update public.consultation_sessions set progress_percentage = 100 $$,
    '42501', 'permission denied for table consultation_sessions',
    'ann cannot advance her session herself'
);
select throws_ok(
    $$ delete from public.consultation_key_usage $$,
    '42501', 'permission denied for table consultation_key_usage',
    'ann cannot delete her key usage'
);
select throws_ok(
    $$ update public.consultation_messages set content = 'rewritten' $$,
    '42501', 'permission denied for table consultation_messages',
    'ann cannot rewrite her messages'
);
select throws_ok(
    $$ delete from public.consultation_messages $$,
    '42501', 'permission denied for table consultation_messages',
    'ann cannot delete her messages'
);
select lives_ok(
    $$ insert into public.consultation_messages (session_id, user_id, role, content, section)
       values ('50000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               'user', 'Mostly weightlifting.', 1) $$,
    'ann appends a message to her active session'
);
select throws_ok(
    $$ insert into public.consultation_messages (session_id, user_id, role, content, section)
       values ('50000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-00000000000b',
               'user', 'planted', 1) $$,
    '42501', 'new row violates row-level security policy for table "consultation_messages"',
    'ann cannot append a message to bob''s session'
);
select results_eq(
    $$ select (select count(*)::int from public.consultation_sessions),
              (select count(*)::int from public.consultation_key_usage),
              (select count(*)::int from public.consultation_messages) $$,
    $$ values (3, 1, 3) $$,
    'ann sees exactly her 3 sessions, 1 key usage and 3 messages'
);

select tests.authenticate_as('b0000000-0000-4000-8000-00000000000b');
select results_eq(
    $$ select (select count(*)::int from public.consultation_sessions),
              (select count(*)::int from public.consultation_messages),
              (select count(*)::int from public.user_training_modalities),
              (select count(*)::int from public.user_difficulties) $$,
    $$ values (1, 1, 0, 0) $$,
    'bob sees his own session and message and none of ann''s answers'
);
with deleted as (
    delete from public.user_difficulties returning 1
)

select is((select count(*)::int from deleted), 0, 'bob''s delete of every difficulty removes none of ann''s');
select lives_ok(
    $$ insert into public.user_training_modalities (user_id, modality_id, is_primary)
       values ('b0000000-0000-4000-8000-00000000000b', 'pgtap_modality_a', true) $$,
    'bob may pick the same primary modality as ann (uniqueness is per user)'
);

select tests.clear_authentication();

-- ================================================== deletes and cascades

-- The catalogues cannot lose a row that answers point at.
select throws_ok(
    $$ delete from public.training_modalities where id = 'pgtap_modality_a' $$,
    '23503', null, 'a training modality in use cannot be deleted (on delete restrict)'
);
select throws_ok(
    $$ delete from public.foods where id = 'f0000000-0000-4000-8000-000000000001' $$,
    '23503', null, 'a food in use cannot be deleted (on delete restrict)'
);

-- Deleting a session keeps the answers and the redemption (only session_id is
-- nulled) and deletes its messages.
delete from public.consultation_sessions
where id = '50000000-0000-4000-8000-000000000001';
select is(
    (
        select count(*)::int from public.consultation_messages
        where session_id = '50000000-0000-4000-8000-000000000001'
    ),
    0,
    'deleting a session deletes its messages'
);
select results_eq(
    $$ select user_id, session_id from public.consultation_key_usage
       where key_id = '10000000-0000-4000-8000-000000000001' $$,
    $$ values ('a0000000-0000-4000-8000-00000000000a'::uuid, null::uuid) $$,
    'deleting a session keeps its key usage row, owner intact, session_id NULL'
);
select results_eq(
    $$ select (select count(*)::int from public.user_training_modalities
               where user_id = 'a0000000-0000-4000-8000-00000000000a' and session_id is null),
              (select count(*)::int from public.user_familiar_exercises where session_id is null),
              (select count(*)::int from public.user_training_availability
               where user_id = 'a0000000-0000-4000-8000-00000000000a' and session_id is null),
              (select count(*)::int from public.user_preferred_meal_times where session_id is null),
              (select count(*)::int from public.user_typical_meal_foods where session_id is null),
              (select count(*)::int from public.user_improvement_goals where session_id is null),
              (select count(*)::int from public.user_difficulties where session_id is null),
              (select count(*)::int from public.user_non_negotiables where session_id is null),
              (select count(*)::int from public.user_upcoming_events where session_id is null) $$,
    $$ values (2, 1, 2, 1, 2, 1, 2, 1, 1) $$,
    'deleting a session keeps every answer it produced, with session_id NULL'
);
select is(
    (
        select count(*)::int from public.user_training_modalities
        where user_id = 'a0000000-0000-4000-8000-00000000000a' and session_id is not null
    ),
    0,
    'no answer of ann still points at the deleted session'
);

-- Deleting a key nulls the sessions' key_id and deletes its usage rows.
delete from public.consultation_keys
where id = '10000000-0000-4000-8000-000000000002';
select is(
    (
        select key_id from public.consultation_sessions
        where id = '50000000-0000-4000-8000-000000000003'
    ),
    null,
    'deleting a key sets consultation_sessions.key_id to NULL'
);
delete from public.consultation_keys
where id = '10000000-0000-4000-8000-000000000001';
select is(
    (select count(*)::int from public.consultation_key_usage),
    0,
    'deleting a key deletes its usage rows'
);

-- Keys follow their users: assigned_to_user_id cascades, created_by is nulled.
insert into public.consultation_keys (id, key_code, created_by)
values (
    '10000000-0000-4000-8000-000000000003', 'SHARP-2027-CREATED01',
    'c0000000-0000-4000-8000-00000000000c'
);
insert into public.consultation_keys (id, key_code, assigned_to_user_id)
values (
    '10000000-0000-4000-8000-000000000004', 'SHARP-2027-ASSIGNED1',
    'c0000000-0000-4000-8000-00000000000c'
);
delete from auth.users
where id = 'c0000000-0000-4000-8000-00000000000c';
select results_eq(
    $$ select id, created_by from public.consultation_keys
       where id in ('10000000-0000-4000-8000-000000000003', '10000000-0000-4000-8000-000000000004') $$,
    $$ values ('10000000-0000-4000-8000-000000000003'::uuid, null::uuid) $$,
    'deleting a user deletes the keys assigned to them and keeps the ones they created (created_by NULL)'
);

-- Deleting a user deletes all their consultation data, and nobody else's.
insert into public.consultation_keys (id, key_code)
values ('10000000-0000-4000-8000-000000000005', 'SHARP-2027-ANNUSAGE1');
insert into public.consultation_key_usage (key_id, user_id, session_id)
values (
    '10000000-0000-4000-8000-000000000005', 'a0000000-0000-4000-8000-00000000000a',
    '50000000-0000-4000-8000-000000000003'
);
delete from auth.users
where id = 'a0000000-0000-4000-8000-00000000000a';
select results_eq(
    $$ select
           (select count(*)::int from public.consultation_sessions
            where user_id = 'a0000000-0000-4000-8000-00000000000a')
           + (select count(*)::int from public.consultation_key_usage
              where user_id = 'a0000000-0000-4000-8000-00000000000a')
           + (select count(*)::int from public.consultation_messages
              where user_id = 'a0000000-0000-4000-8000-00000000000a')
           + (select count(*)::int from public.user_training_modalities
              where user_id = 'a0000000-0000-4000-8000-00000000000a')
           + (select count(*)::int from public.user_familiar_exercises
              where user_id = 'a0000000-0000-4000-8000-00000000000a')
           + (select count(*)::int from public.user_training_availability
              where user_id = 'a0000000-0000-4000-8000-00000000000a')
           + (select count(*)::int from public.user_preferred_meal_times
              where user_id = 'a0000000-0000-4000-8000-00000000000a')
           + (select count(*)::int from public.user_typical_meal_foods
              where user_id = 'a0000000-0000-4000-8000-00000000000a')
           + (select count(*)::int from public.user_improvement_goals
              where user_id = 'a0000000-0000-4000-8000-00000000000a')
           + (select count(*)::int from public.user_difficulties
              where user_id = 'a0000000-0000-4000-8000-00000000000a')
           + (select count(*)::int from public.user_non_negotiables
              where user_id = 'a0000000-0000-4000-8000-00000000000a')
           + (select count(*)::int from public.user_upcoming_events
              where user_id = 'a0000000-0000-4000-8000-00000000000a'),
           (select count(*)::int from public.consultation_keys
            where id = '10000000-0000-4000-8000-000000000005') $$,
    $$ values (0, 1) $$,
    'deleting a user deletes their sessions, usage, messages and answers (the unassigned key stays)'
);
select results_eq(
    $$ select (select count(*)::int from public.consultation_sessions
               where user_id = 'b0000000-0000-4000-8000-00000000000b'),
              (select count(*)::int from public.consultation_messages
               where user_id = 'b0000000-0000-4000-8000-00000000000b'),
              (select count(*)::int from public.user_training_modalities
               where user_id = 'b0000000-0000-4000-8000-00000000000b') $$,
    $$ values (1, 1, 1) $$,
    'bob''s consultation data is untouched by the deletion of ann'
);

-- =============================================================== fixture

-- tests.seed_consultation: seeds every user-scoped table, and each sample
-- inserts as the service role, for two owners in one transaction.
select tests.create_user('d0000000-0000-4000-8000-00000000000d', 'dee@example.com');
create temporary table fixture_samples on commit drop as
select
    o.owner,
    s.table_name,
    s.sample
from (values ('b0000000-0000-4000-8000-00000000000b'::uuid), ('d0000000-0000-4000-8000-00000000000d'::uuid))
    as o (owner),
    lateral tests.seed_consultation(o.owner) as s;
grant select on fixture_samples to service_role;

select set_eq(
    $$ select distinct table_name from fixture_samples $$,
    array[
        'consultation_keys', 'consultation_sessions', 'consultation_key_usage', 'consultation_messages',
        'user_training_modalities', 'user_familiar_exercises', 'user_training_availability',
        'user_preferred_meal_times', 'user_typical_meal_foods', 'user_improvement_goals',
        'user_difficulties', 'user_non_negotiables', 'user_upcoming_events'
    ],
    'seed_consultation returns a sample for each of the 13 consultation tables'
);
select is(
    (
        select count(*)::int from fixture_samples
        where coalesce(sample ->> 'user_id', sample ->> 'assigned_to_user_id') = owner::text
    ),
    26,
    'every sample belongs to the owner it was seeded for'
);

select tests.authenticate_as_service_role();
select lives_ok(
    $$ do $insert_samples$
       declare
           r record;
           cols text;
       begin
           for r in select * from fixture_samples loop
               select string_agg(format('%I', k), ', ') into cols from jsonb_object_keys(r.sample) as k;
               execute format(
                   'insert into public.%I (%s) select %s from jsonb_populate_record(null::public.%I, $1)',
                   r.table_name, cols, cols, r.table_name
               ) using r.sample;
           end loop;
       end
       $insert_samples$ $$,
    'every sample inserts cleanly as the service role'
);
select tests.clear_authentication();

select finish();
rollback;
