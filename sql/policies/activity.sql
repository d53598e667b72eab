-- RLS policies for the activity subsystem (repeatable: re-applied when this
-- file changes). Deny by default: RLS is enabled in the migration. Every table
-- is user data: a signed-in user selects, inserts, updates and deletes only
-- rows whose user_id is theirs; anon sees nothing. exercise_sets rows can
-- only point at their owner's activity (composite foreign key), so the
-- policies need no join.

-- activities

drop policy if exists activities_select_own on public.activities;
create policy activities_select_own on public.activities
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists activities_insert_own on public.activities;
create policy activities_insert_own on public.activities
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists activities_update_own on public.activities;
create policy activities_update_own on public.activities
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists activities_delete_own on public.activities;
create policy activities_delete_own on public.activities
for delete to authenticated
using (user_id = (select auth.uid()));

-- exercise_sets

drop policy if exists exercise_sets_select_own on public.exercise_sets;
create policy exercise_sets_select_own on public.exercise_sets
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists exercise_sets_insert_own on public.exercise_sets;
create policy exercise_sets_insert_own on public.exercise_sets
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists exercise_sets_update_own on public.exercise_sets;
create policy exercise_sets_update_own on public.exercise_sets
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists exercise_sets_delete_own on public.exercise_sets;
create policy exercise_sets_delete_own on public.exercise_sets
for delete to authenticated
using (user_id = (select auth.uid()));

-- activity_templates

drop policy if exists activity_templates_select_own on public.activity_templates;
create policy activity_templates_select_own on public.activity_templates
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists activity_templates_insert_own on public.activity_templates;
create policy activity_templates_insert_own on public.activity_templates
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists activity_templates_update_own on public.activity_templates;
create policy activity_templates_update_own on public.activity_templates
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists activity_templates_delete_own on public.activity_templates;
create policy activity_templates_delete_own on public.activity_templates
for delete to authenticated
using (user_id = (select auth.uid()));
