-- Schema-wide privilege rules, checked from the catalogs so that they also
-- cover every function and table later migrations add:
--   * no function in public or private is executable by PUBLIC or anon,
--     and nothing in private by authenticated either;
--   * every table in public has RLS enabled, and every view in public runs
--     with the caller's rights (security_invoker);
--   * every function in public and private pins its search_path.
begin;
set search_path = public, extensions;

select plan(11);

-- Guard against vacuous passes: the catalog queries below must see the
-- project's objects (complete_onboarding, the private trigger functions,
-- profiles).
select ok(
    (select count(*) from pg_catalog.pg_proc
     where pronamespace in ('public'::regnamespace, 'private'::regnamespace)) >= 4,
    'the catalog queries see the functions of schemas public and private'
);
select ok(
    exists (
        select from pg_catalog.pg_class
        where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')
    ),
    'the catalog queries see the tables of schema public'
);

-- ------------------------------------------------------------ functions ---

select is_empty(
    $$ select p.oid::regprocedure::text
       from pg_catalog.pg_proc p
       where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
         and pg_catalog.has_function_privilege('public', p.oid, 'execute')
       order by 1 $$,
    'no function in public or private is executable by PUBLIC'
);
select is_empty(
    $$ select p.oid::regprocedure::text
       from pg_catalog.pg_proc p
       where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
         and pg_catalog.has_function_privilege('anon', p.oid, 'execute')
       order by 1 $$,
    'no function in public or private is executable by anon'
);
select is_empty(
    $$ select p.oid::regprocedure::text
       from pg_catalog.pg_proc p
       where p.pronamespace = 'private'::regnamespace
         and pg_catalog.has_function_privilege('authenticated', p.oid, 'execute')
       order by 1 $$,
    'no function in private is executable by authenticated'
);
select ok(
    not has_schema_privilege('anon', 'private', 'usage')
    and not has_schema_privilege('authenticated', 'private', 'usage')
    and not has_schema_privilege('public', 'private', 'usage'),
    'schema private is not usable by PUBLIC, anon or authenticated'
);
select is_empty(
    $$ select p.oid::regprocedure::text
       from pg_catalog.pg_proc p
       where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
         and not exists (
             select from pg_catalog.unnest(coalesce(p.proconfig, '{}')) as setting
             where setting like 'search\_path=%'
         )
       order by 1 $$,
    'every function in public and private sets search_path'
);
select ok(
    has_function_privilege('authenticated', 'public.complete_onboarding()', 'execute'),
    'authenticated can execute the complete_onboarding RPC (the revokes are not blanket)'
);

-- --------------------------------------------------------------- tables ---

select is_empty(
    $$ select c.oid::regclass::text
       from pg_catalog.pg_class c
       where c.relnamespace = 'public'::regnamespace
         and c.relkind in ('r', 'p')
         and not c.relrowsecurity
       order by 1 $$,
    'every table in public has RLS enabled'
);
select is_empty(
    $$ select c.oid::regclass::text
       from pg_catalog.pg_class c
       where c.relnamespace = 'public'::regnamespace
         and c.relkind = 'v'
         and not coalesce('security_invoker=true' = any (c.reloptions), false)
       order by 1 $$,
    'every view in public runs with the caller''s rights (security_invoker = true)'
);
select is_empty(
    $$ select c.oid::regclass::text
       from pg_catalog.pg_class c
       where c.relnamespace = 'public'::regnamespace
         and c.relkind in ('r', 'p', 'v', 'm')
         and pg_catalog.has_table_privilege('public', c.oid, 'select,insert,update,delete,truncate,references,trigger')
       order by 1 $$,
    'no table or view in public grants anything to PUBLIC'
);

select * from finish();
rollback;
