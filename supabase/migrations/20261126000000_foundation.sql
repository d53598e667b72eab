-- Foundation shared by every later migration: the private schema for
-- privileged helpers, the shared updated_at trigger, and default privileges.

-- Functions are EXECUTE-able by PUBLIC unless revoked: every function this
-- project creates gets explicit grants instead. This covers every function
-- the migration role creates, in any schema, so an extension created by a
-- later migration needs explicit grants for the API roles.
alter default privileges revoke execute on functions from public;

-- Privileged helpers live here: not exposed by PostgREST, no client access.
create schema if not exists private;
revoke all on schema private from public;
comment on schema private is
'Privileged helpers (trigger functions, security definer internals); never exposed through the Data API.';

create or replace function private.set_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.updated_at := pg_catalog.now();
    return new;
end;
$$;

comment on function private.set_updated_at() is
'Shared BEFORE UPDATE trigger: keeps updated_at current on every table that has it.';
