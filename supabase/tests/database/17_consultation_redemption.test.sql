-- Consultation keys: redeem_consultation_key (refusal codes and HTTP statuses,
-- order of checks, usage from request.headers, throttling), mint_consultation_keys
-- (service role only, code format) and the progress RPCs' privileges, acting
-- as PostgREST would (tests.* helpers). Refusals are answered, not raised: the
-- tests read the body and response.status inside the transaction.
begin;
set search_path = public, extensions;

select plan(52);

-- Actors:
--   ann  a1700000-0000-4000-8000-00000000000a
--   bob  b1700000-0000-4000-8000-00000000000b
--   eve  e1700000-0000-4000-8000-00000000000e (throttled)
select tests.create_user('a1700000-0000-4000-8000-00000000000a', 'ann17@example.com');
select tests.create_user('b1700000-0000-4000-8000-00000000000b', 'bob17@example.com');
select tests.create_user('e1700000-0000-4000-8000-00000000000e', 'eve17@example.com');

insert into public.consultation_keys (key_code, max_uses, is_active, expires_at, assigned_to_user_id)
values
('SHARP-2026-PGTAPGOOD', 2, true, null, null),
('SHARP-2026-PGTAPOFF2', 1, false, null, null),
('SHARP-2026-PGTAPOLD2', 1, true, now() - interval '1 second', null),
('SHARP-2026-PGTAPBOBS', 1, true, null, 'b1700000-0000-4000-8000-00000000000b'),
-- expired and used up and another user's: expiry is checked first
('SHARP-2026-PGTAPMANY', 1, true, now() - interval '1 day', 'b1700000-0000-4000-8000-00000000000b');
insert into public.consultation_keys (key_code, max_uses, current_uses, first_used_at, last_used_at)
values ('SHARP-2026-PGTAPUSED', 1, 1, now(), now());
update public.consultation_keys set current_uses = 1, first_used_at = now(), last_used_at = now()
where key_code = 'SHARP-2026-PGTAPMANY';

-- ============================================================ functions

select function_privs_are(
    'public', 'redeem_consultation_key', array['text'], 'authenticated', array['EXECUTE'],
    'authenticated may redeem'
);
select function_privs_are(
    'public', 'redeem_consultation_key', array['text'], 'anon', array[]::text[],
    'anon may not redeem'
);
select function_privs_are(
    'public', 'redeem_consultation_key', array['text'], 'service_role', array[]::text[],
    'the service role does not redeem (it has no user)'
);
select is_definer('public', 'redeem_consultation_key', array['text'], 'redeem runs as its owner');
select function_privs_are(
    'public', 'mint_consultation_keys', array['integer', 'integer', 'timestamp with time zone', 'uuid'],
    'service_role', array['EXECUTE'], 'the service role mints'
);
select function_privs_are(
    'public', 'mint_consultation_keys', array['integer', 'integer', 'timestamp with time zone', 'uuid'],
    'authenticated', array[]::text[], 'authenticated may not mint'
);
select function_privs_are(
    'public', 'consultation_progress', array['uuid'], 'authenticated', array['EXECUTE'],
    'authenticated reads progress'
);
select isnt_definer('public', 'consultation_progress', array['uuid'], 'progress runs as the caller (RLS)');
select function_privs_are(
    'public', 'refresh_consultation_progress', array['uuid', 'text', 'text'], 'authenticated', array['EXECUTE'],
    'authenticated refreshes progress'
);
select function_privs_are(
    'public', 'refresh_consultation_progress', array['uuid', 'text', 'text'], 'anon', array[]::text[],
    'anon may not refresh progress'
);

-- ============================================================ refusals

select tests.authenticate_as('a1700000-0000-4000-8000-00000000000a');

select is(
    public.redeem_consultation_key('SHARP-2026') -> 'error' ->> 'code', 'invalid_key_code',
    'a malformed code is invalid_key_code'
);
select is(current_setting('response.status', true), '400', '... with status 400');
select is(
    public.redeem_consultation_key(null) -> 'error' ->> 'code', 'invalid_key_code',
    'a NULL code is invalid_key_code'
);
select is(
    public.redeem_consultation_key('SHARP-2026-NOSUCHKEY') -> 'error' ->> 'code', 'key_not_found',
    'an unknown code is key_not_found'
);
select is(current_setting('response.status', true), '404', '... with status 404');
select is(
    public.redeem_consultation_key('SHARP-2026-PGTAPOFF2') -> 'error' ->> 'code', 'key_inactive',
    'a deactivated key is key_inactive'
);
select is(current_setting('response.status', true), '403', '... with status 403');
select is(
    public.redeem_consultation_key('SHARP-2026-PGTAPOLD2') -> 'error' ->> 'code', 'key_expired',
    'an expired key is key_expired'
);
select is(current_setting('response.status', true), '410', '... with status 410');
select is(
    public.redeem_consultation_key('SHARP-2026-PGTAPBOBS') -> 'error' ->> 'code', 'key_not_assigned_to_you',
    'another user''s key is key_not_assigned_to_you'
);
select is(current_setting('response.status', true), '403', '... with status 403');
select is(
    public.redeem_consultation_key('SHARP-2026-PGTAPUSED') -> 'error' ->> 'code', 'key_exhausted',
    'a used-up key is key_exhausted'
);
select is(current_setting('response.status', true), '410', '... with status 410');
select is(
    public.redeem_consultation_key('SHARP-2026-PGTAPMANY') -> 'error' ->> 'code', 'key_expired',
    'an expired, used-up key of another user reports key_expired (order of checks)'
);
select ok(
    (
        select pg_catalog.array_agg(k order by k) = '{code,details,message}'
        from pg_catalog.jsonb_object_keys(
            public.redeem_consultation_key('SHARP-2026-NOSUCHKEY') -> 'error'
        ) as k
    ),
    'a refusal body is {"error": {code, message, details}}'
);

-- ============================================================== success

select set_config(
    'request.headers',
    '{"x-forwarded-for": "203.0.113.17, 10.0.0.1", "user-agent": "pgTAP/1.0"}',
    true
);
-- response.status is transaction-local: clear what the refusals above set.
select set_config('response.status', '', true);
select set_config(
    'pgtap.redeemed', public.redeem_consultation_key(' sharp-2026-pgtapgood ')::text, true
);
select is(
    current_setting('pgtap.redeemed')::jsonb,
    pg_catalog.jsonb_build_object(
        'session_id', (
            select s.id from public.consultation_sessions as s
            where s.status = 'active'
        ),
        'uses_remaining', 1
    ),
    'a valid key (any case, spaces around) starts a session: {session_id, uses_remaining}'
);
select is(current_setting('response.status', true), '', '... and sets no status');
select results_eq(
    $$ select host(u.ip_address), u.user_agent, s.user_id
       from public.consultation_key_usage as u
       inner join public.consultation_sessions as s on u.session_id = s.id $$,
    $$ values ('203.0.113.17', 'pgTAP/1.0', 'a1700000-0000-4000-8000-00000000000a'::uuid) $$,
    'the usage row has the first forwarded address and the user agent'
);
select is(
    public.redeem_consultation_key('SHARP-2026-PGTAPGOOD') -> 'error' ->> 'code', 'consultation_in_progress',
    'a second redemption while a consultation is open is consultation_in_progress'
);
select is(current_setting('response.status', true), '409', '... with status 409');
select throws_ok(
    $$ select key_code from public.consultation_keys $$,
    '42501', null, 'a user cannot read the keys'
);
select tests.clear_authentication();

select results_eq(
    $$ select current_uses, first_used_at is not null, last_used_at is not null
       from public.consultation_keys where key_code = 'SHARP-2026-PGTAPGOOD' $$,
    $$ values (1, true, true) $$,
    'the key was used once'
);
select results_eq(
    $$ select outcome, count(*)::int from private.consultation_key_attempts
       where user_id = 'a1700000-0000-4000-8000-00000000000a'
       group by outcome order by outcome $$,
    $$ values
       ('consultation_in_progress', 1), ('invalid_key_code', 2), ('key_exhausted', 1),
       ('key_expired', 2), ('key_inactive', 1), ('key_not_assigned_to_you', 1),
       ('key_not_found', 2), ('redeemed', 1) $$,
    'every attempt is on record with its outcome'
);

-- ============================================================ throttling

select tests.authenticate_as('e1700000-0000-4000-8000-00000000000e');
select is(
    (
        select pg_catalog.count(*)::int
        from pg_catalog.generate_series(1, 10) as attempt (n)
        where
            attempt.n > 0
            and public.redeem_consultation_key('SHARP-2026-NOSUCHKEY') -> 'error' ->> 'code' = 'key_not_found'
    ),
    10,
    'ten failed attempts are refused for what they are'
);
select is(
    public.redeem_consultation_key('SHARP-2026-PGTAPGOOD') -> 'error' ->> 'code', 'too_many_attempts',
    'the eleventh attempt within the hour is too_many_attempts, even with a valid key'
);
select is(current_setting('response.status', true), '429', '... with status 429');
select is(
    current_setting('response.headers', true)::jsonb -> 0 ->> 'Retry-After', '3600',
    '... and a Retry-After header'
);
select tests.clear_authentication();
select is(
    (
        select pg_catalog.count(*)::int from private.consultation_key_attempts
        where user_id = 'e1700000-0000-4000-8000-00000000000e'
    ),
    10,
    'the throttled attempt is not stored'
);
update private.consultation_key_attempts set attempted_at = now() - interval '61 minutes'
where user_id = 'e1700000-0000-4000-8000-00000000000e';
select tests.authenticate_as('e1700000-0000-4000-8000-00000000000e');
select is(
    public.redeem_consultation_key('SHARP-2026-PGTAPGOOD') ->> 'uses_remaining', '0',
    'failures older than an hour no longer count'
);
select tests.clear_authentication();

-- ================================================================ minting

select tests.authenticate_as_service_role();
create temporary table minted on commit drop as
select
    m.id,
    m.key_code,
    m.max_uses,
    m.current_uses,
    m.is_active,
    m.expires_at
from public.mint_consultation_keys(20, 3, now() + interval '7 days') as m;
select tests.clear_authentication();

select is((select count(*)::int from minted), 20, 'the service role mints 20 keys');
select is(
    (select count(distinct key_code)::int from minted), 20, 'the minted codes are distinct'
);
select is(
    (
        select count(*)::int from minted
        where key_code ~ ('^SHARP-' || to_char(now() at time zone 'utc', 'YYYY') || '-[2-9A-HJ-NP-Z]{9}$')
    ),
    20,
    'every code is SHARP-<this year>-<9 symbols without 0, O, 1, I>'
);
select results_eq(
    $$ select distinct max_uses, current_uses, is_active, expires_at > now() from minted $$,
    $$ values (3, 0, true, true) $$,
    'minted keys carry max_uses and the expiry, unused and active'
);
select is(
    (
        select count(*)::int from public.consultation_keys as k
        where k.id in (select m.id from minted as m)
    ),
    20,
    'the minted keys are stored'
);

select tests.authenticate_as('a1700000-0000-4000-8000-00000000000a');
select throws_ok(
    $$ select * from public.mint_consultation_keys(1) $$,
    '42501', null, 'a signed-in user cannot mint'
);
select tests.clear_authentication();
select tests.authenticate_as_anon();
select throws_ok(
    $$ select * from public.mint_consultation_keys(1) $$,
    '42501', null, 'anon cannot mint'
);
select throws_ok(
    $$ select public.redeem_consultation_key('SHARP-2026-PGTAPGOOD') $$,
    '42501', null, 'anon cannot redeem'
);
select tests.clear_authentication();
select tests.authenticate_as_service_role();
select throws_ok(
    $$ select * from public.mint_consultation_keys(0) $$,
    '22023', null, 'how_many must be positive'
);
select throws_ok(
    $$ select private.generate_consultation_key_code() $$,
    '42501', null, 'the code generator is private'
);
select tests.clear_authentication();

-- ============================================================== progress

select tests.authenticate_as('a1700000-0000-4000-8000-00000000000a');
select results_eq(
    $$ select section::int, slug, complete, cardinality(missing)
       from public.consultation_progress(
           (select s.id from public.consultation_sessions as s where s.status = 'active')
       ) $$,
    $$ values
       (1, 'training_modalities', false, 4), (2, 'exercise_familiarity', false, 2),
       (3, 'training_schedule', false, 3), (4, 'meal_timing', false, 2),
       (5, 'typical_foods', false, 2), (6, 'goals_events', false, 2), (7, 'challenges', false, 1) $$,
    'a new session: seven incomplete sections with all their facts missing'
);
select tests.clear_authentication();
-- Session ids read as postgres, used below as another user.
select set_config(
    'pgtap.ann_session',
    (
        select s.id::text from public.consultation_sessions as s
        where s.user_id = 'a1700000-0000-4000-8000-00000000000a'
    ),
    true
);
select tests.authenticate_as('b1700000-0000-4000-8000-00000000000b');
select throws_ok(
    $$ select * from public.consultation_progress(current_setting('pgtap.ann_session')::uuid) $$,
    'PT404', null, 'another user''s session is not found'
);
select throws_ok(
    $$ select public.refresh_consultation_progress(current_setting('pgtap.ann_session')::uuid) $$,
    'PT404', null, 'another user''s session cannot be refreshed'
);
select tests.clear_authentication();

select finish();
rollback;
