-- RLS policies for the users subsystem (repeatable: re-applied when this file
-- changes). Deny by default: RLS is enabled in the migration; a user sees and
-- edits only their own profile, anon sees nothing.

drop policy if exists profiles_select_own on public.profiles;
create policy profiles_select_own on public.profiles
for select to authenticated
using (id = (select auth.uid()));

drop policy if exists profiles_update_own on public.profiles;
create policy profiles_update_own on public.profiles
for update to authenticated
using (id = (select auth.uid()))
with check (id = (select auth.uid()));

-- body_metrics: user data, the owner selects, inserts, updates and deletes own rows.

drop policy if exists body_metrics_select_own on public.body_metrics;
create policy body_metrics_select_own on public.body_metrics
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists body_metrics_insert_own on public.body_metrics;
create policy body_metrics_insert_own on public.body_metrics
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists body_metrics_update_own on public.body_metrics;
create policy body_metrics_update_own on public.body_metrics
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists body_metrics_delete_own on public.body_metrics;
create policy body_metrics_delete_own on public.body_metrics
for delete to authenticated
using (user_id = (select auth.uid()));
