-- pgTAP helpers, installed into a test copy of the database before pg_prove
-- runs supabase/tests/database/ (never deployed). They reproduce PostgREST's
-- per-request prelude: the role switch and request.jwt.claims, both
-- transaction-local, so a test can act as anon, a user or service_role and
-- switch back to postgres between actors.

create extension if not exists pgtap with schema extensions;

-- pgTAP was created after the foundation migration revoked EXECUTE from PUBLIC
-- by default: let the API roles run assertions while a test acts as them.
do $grant_pgtap$
declare
    fn regprocedure;
begin
    for fn in
        select d.objid::regprocedure
        from pg_catalog.pg_depend as d
        inner join pg_catalog.pg_extension as e on d.refobjid = e.oid
        where
            d.classid = 'pg_catalog.pg_proc'::regclass
            and d.refclassid = 'pg_catalog.pg_extension'::regclass
            and d.deptype = 'e'
            and e.extname = 'pgtap'
    loop
        execute format('grant execute on function %s to anon, authenticated, service_role', fn);
    end loop;
end
$grant_pgtap$;

create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

-- Sign a user up as Supabase Auth does (the profile trigger fires).
create or replace function tests.create_user(
    user_id uuid, email text, display_name text default null
) returns uuid
language sql
set search_path = ''
as $$
    insert into auth.users (
        instance_id, id, aud, role, email, email_confirmed_at,
        raw_app_meta_data, raw_user_meta_data, created_at, updated_at
    )
    values (
        '00000000-0000-0000-0000-000000000000', user_id, 'authenticated', 'authenticated',
        email, pg_catalog.now(), '{"provider": "email", "providers": ["email"]}',
        case when display_name is null then '{}'::jsonb
            else pg_catalog.jsonb_build_object('display_name', display_name) end,
        pg_catalog.now(), pg_catalog.now()
    )
    returning id
$$;

-- Act as PostgREST does for a request with this role and these claims.
create or replace function tests.act_as(role_name text, claims jsonb default '{}')
returns void
language sql
as $$
    select
        pg_catalog.set_config(
            'request.jwt.claims', (claims || pg_catalog.jsonb_build_object('role', role_name))::text, true
        ),
        pg_catalog.set_config('role', role_name, true)
$$;

-- A signed-in user: the claims Supabase Auth puts in an access token.
create or replace function tests.authenticate_as(user_id uuid) returns void
language sql
as $$
    select tests.act_as(
        'authenticated',
        pg_catalog.jsonb_build_object('sub', user_id, 'aud', 'authenticated', 'role', 'authenticated')
    )
$$;

create or replace function tests.authenticate_as_anon() returns void
language sql
as $$ select tests.act_as('anon') $$;

create or replace function tests.authenticate_as_service_role() returns void
language sql
as $$ select tests.act_as('service_role') $$;

-- Back to the test's own role (postgres) with no claims.
create or replace function tests.clear_authentication() returns void
language sql
as $$
    select
        pg_catalog.set_config('role', 'none', true),
        pg_catalog.set_config('request.jwt.claims', '', true)
$$;

grant execute on all functions in schema tests to anon, authenticated, service_role;
