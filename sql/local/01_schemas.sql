-- Supabase-compatibility bootstrap, part 2: schemas and extensions.

create schema if not exists extensions;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;

create schema if not exists auth;
comment on schema auth is
'SHARPENED local Supabase-compatibility bootstrap (sql/local): stands in for Supabase Auth';

grant usage on schema public to anon, authenticated, service_role;
grant usage on schema extensions to anon, authenticated, service_role;
grant usage on schema auth to anon, authenticated, service_role;
