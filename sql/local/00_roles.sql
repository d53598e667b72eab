-- Supabase-compatibility bootstrap, part 1: the API roles.
-- Applied only to a bare PostgreSQL (the local stack and the test clusters),
-- never to a real Supabase project, which has these roles already.
-- Idempotent: roles are cluster-wide, so every statement tolerates a rerun.

do $roles$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'authenticator') then
        create role authenticator login noinherit;
    end if;
end
$roles$;

-- Attributes as Supabase sets them (re-asserted on every run).
alter role anon nologin inherit;
alter role authenticated nologin inherit;
alter role service_role nologin inherit bypassrls;
alter role authenticator login noinherit;

-- PostgREST logs in as authenticator and switches to the JWT's role;
-- postgres may switch too, as the Python functions do.
grant anon, authenticated, service_role to authenticator;  -- noqa: PRS
grant anon, authenticated, service_role to postgres;  -- noqa: PRS

-- Timeouts Supabase applies to the API roles.
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
