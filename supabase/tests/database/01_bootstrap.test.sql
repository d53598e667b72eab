-- The Supabase-compatibility bootstrap (sql/local) behaves like a Supabase
-- database: the API roles and their attributes, and the auth.* helpers that
-- RLS policies call, read the JWT claims exactly as Supabase Auth's do.
-- Needs supabase/tests/helpers.sql (pgTAP, granted to the API roles).
-- The auth.* checks below set the role and the request.jwt.claims /
-- request.jwt.claim.sub GUCs by hand on purpose, rather than through the
-- tests.* helpers: they test the mechanism the helpers rely on.
begin;
set search_path = public, extensions;

select plan(53);

-- ---------------------------------------------------------------- roles ---

select has_role('anon');
select has_role('authenticated');
select has_role('service_role');
select has_role('authenticator');

select results_eq(
    $$ select rolname::text collate "default", rolcanlogin, rolinherit, rolbypassrls, rolsuper, rolcreaterole, rolcreatedb
       from pg_catalog.pg_roles
       where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')
       order by rolname $$,
    $$ values ('anon', false, true, false, false, false, false),
              ('authenticated', false, true, false, false, false, false),
              ('authenticator', true, false, false, false, false, false),
              ('service_role', false, true, true, false, false, false) $$,
    'API roles have Supabase''s attributes: anon/authenticated nologin, service_role bypassrls, authenticator login noinherit, none superuser'
);

select is_member_of('anon', array['authenticator', 'postgres'],
    'authenticator and postgres can switch to anon');
select is_member_of('authenticated', array['authenticator', 'postgres'],
    'authenticator and postgres can switch to authenticated');
select is_member_of('service_role', array['authenticator', 'postgres'],
    'authenticator and postgres can switch to service_role');

select ok(
    not exists (
        select from pg_catalog.pg_auth_members m
        where m.member = 'authenticator'::regrole
          and m.roleid not in ('anon'::regrole, 'authenticated'::regrole, 'service_role'::regrole)
    ),
    'authenticator is a member of exactly the three API roles (nothing more privileged)'
);
select ok(
    not exists (
        select from pg_catalog.pg_auth_members m
        where m.member in ('anon'::regrole, 'authenticated'::regrole)
    ),
    'anon and authenticated are members of no other role'
);

select ok(
    (select 'statement_timeout=3s' = any (rolconfig) from pg_catalog.pg_roles where rolname = 'anon'),
    'anon has Supabase''s 3s statement_timeout'
);
select ok(
    (select 'statement_timeout=8s' = any (rolconfig) from pg_catalog.pg_roles where rolname = 'authenticated'),
    'authenticated has Supabase''s 8s statement_timeout'
);

-- ------------------------------------------------------- schemas, tables ---

select has_schema('auth');
select has_schema('extensions');
select has_extension('extensions', 'pgcrypto', 'pgcrypto lives in schema extensions');
select has_extension('extensions', 'uuid-ossp', 'uuid-ossp lives in schema extensions');
select ok(
    has_schema_privilege('anon', 'public', 'usage')
    and has_schema_privilege('authenticated', 'public', 'usage')
    and has_schema_privilege('service_role', 'public', 'usage'),
    'the API roles can use schema public'
);
select ok(
    has_schema_privilege('anon', 'extensions', 'usage')
    and has_schema_privilege('authenticated', 'extensions', 'usage')
    and has_schema_privilege('service_role', 'extensions', 'usage'),
    'the API roles can use schema extensions'
);

select has_table('auth', 'users', 'auth.users exists');
select col_is_pk('auth', 'users', 'id', 'auth.users.id is the primary key');
select col_type_is('auth', 'users', 'raw_user_meta_data', 'jsonb', 'auth.users.raw_user_meta_data is jsonb');
select ok(
    (select relrowsecurity from pg_catalog.pg_class where oid = 'auth.users'::regclass),
    'RLS is enabled on auth.users'
);
select ok(
    not has_table_privilege('anon', 'auth.users', 'select,insert,update,delete')
    and not has_table_privilege('authenticated', 'auth.users', 'select,insert,update,delete'),
    'anon and authenticated have no privilege on auth.users'
);

-- ------------------------------------------------------- auth.* helpers ---

select ok(
    has_function_privilege('anon', 'auth.uid()', 'execute')
    and has_function_privilege('authenticated', 'auth.uid()', 'execute')
    and has_function_privilege('authenticated', 'auth.role()', 'execute')
    and has_function_privilege('authenticated', 'auth.email()', 'execute')
    and has_function_privilege('authenticated', 'auth.jwt()', 'execute'),
    'the API roles can execute auth.uid/role/email/jwt'
);
select function_returns('auth', 'uid', array[]::text[], 'uuid');
select function_returns('auth', 'role', array[]::text[], 'text');
select function_returns('auth', 'email', array[]::text[], 'text');
select function_returns('auth', 'jwt', array[]::text[], 'jsonb');
select volatility_is('auth', 'uid', array[]::text[], 'stable');

-- A fresh session: the GUCs were never set.
select ok(current_setting('request.jwt.claims', true) is null, 'precondition: request.jwt.claims is unset');
select is(auth.uid(), null::uuid, 'auth.uid() is NULL when no claims were ever set');
select is(auth.jwt(), null::jsonb, 'auth.jwt() is NULL when no claims were ever set');

-- A request whose transaction ended: the transaction-local setting is gone,
-- but the GUC now exists with the value '' (not NULL).
savepoint request_1;
select set_config('request.jwt.claims', '{"sub":"c1a1b2c3-0000-4000-8000-000000000004","role":"authenticated"}', true);
rollback to savepoint request_1;
select is(current_setting('request.jwt.claims', true), '',
    'after the setting transaction ends, request.jwt.claims is '''' (not NULL)');
select lives_ok($$ select auth.uid(), auth.role(), auth.email(), auth.jwt() $$,
    'the helpers do not fail after the request that set the claims ended');
select is(auth.uid(), null::uuid, 'auth.uid() is NULL after the request that set the claims ended');
select is(auth.jwt(), null::jsonb, 'auth.jwt() is NULL after the request that set the claims ended');

-- As PostgREST >= 12 does: only request.jwt.claims, set transaction-locally.
set local role authenticated;
select set_config(
    'request.jwt.claims',
    '{"sub":"c1a1b2c3-0000-4000-8000-000000000001","role":"authenticated","aud":"authenticated","email":"ann@example.com"}',
    true
);
select is(auth.uid(), 'c1a1b2c3-0000-4000-8000-000000000001'::uuid, 'auth.uid() is the sub claim of request.jwt.claims');
select is(auth.role(), 'authenticated', 'auth.role() is the role claim');
select is(auth.email(), 'ann@example.com', 'auth.email() is the email claim');
select is(auth.jwt() ->> 'aud', 'authenticated', 'auth.jwt() returns the whole claims object');
select is(
    auth.jwt(),
    '{"sub":"c1a1b2c3-0000-4000-8000-000000000001","role":"authenticated","aud":"authenticated","email":"ann@example.com"}'::jsonb,
    'auth.jwt() equals the claims set by the request'
);
select is(current_user::text, 'authenticated', 'the helpers were called as role authenticated');

-- The legacy per-claim GUC wins over the claims object for the sub.
select set_config('request.jwt.claim.sub', 'c1a1b2c3-0000-4000-8000-000000000002', true);
select is(auth.uid(), 'c1a1b2c3-0000-4000-8000-000000000002'::uuid,
    'auth.uid() prefers the legacy request.jwt.claim.sub');

-- Legacy GUC alone (claims emptied) still yields the uid.
select set_config('request.jwt.claims', '', true);
select is(auth.uid(), 'c1a1b2c3-0000-4000-8000-000000000002'::uuid,
    'auth.uid() falls back to request.jwt.claim.sub when request.jwt.claims is empty');
select is(auth.role(), null::text, 'auth.role() is NULL when the claims are empty');

-- An empty legacy GUC is ignored: back to the claims object.
select set_config('request.jwt.claim.sub', '', true);
select set_config('request.jwt.claims', '{"sub":"c1a1b2c3-0000-4000-8000-000000000003","role":"anon"}', true);
select is(auth.uid(), 'c1a1b2c3-0000-4000-8000-000000000003'::uuid,
    'an empty request.jwt.claim.sub is ignored in favour of request.jwt.claims');
select is(auth.role(), 'anon', 'auth.role() follows the claims');
select is(auth.email(), null::text, 'auth.email() is NULL when the claims have no email');

-- Both GUCs '' (their value after a transaction that set them ends): NULL, no error.
select set_config('request.jwt.claims', '', true);
select lives_ok($$ select auth.uid(), auth.role(), auth.email(), auth.jwt() $$,
    'the helpers do not fail when the GUCs are empty strings');
select is(auth.uid(), null::uuid, 'auth.uid() is NULL when the GUCs are ''''');
select is(auth.role(), null::text, 'auth.role() is NULL when the GUCs are ''''');
select is(auth.email(), null::text, 'auth.email() is NULL when the GUCs are ''''');
select is(auth.jwt(), null::jsonb, 'auth.jwt() is NULL when the GUCs are ''''');

select * from finish();
rollback;
