-- RLS policies for the planning subsystem (repeatable). Deny by default:
-- RLS is enabled in the migrations. A signed-in user reads their own calendar, adherence (records
-- and rollups), plan changes and reassessments, day overrides and their transitions (written by
-- service code), reads and writes their own context log and adjustment preferences, and reads
-- their notifications and marks them (the column privileges limit
-- the update to read_at and action_taken).

-- -------------------------------------------------------- calendar_events ---

drop policy if exists calendar_events_select_own on public.calendar_events;
create policy calendar_events_select_own on public.calendar_events
for select to authenticated
using (user_id = (select auth.uid()));

-- ------------------------------------------------------ adherence_records ---

drop policy if exists adherence_records_select_own on public.adherence_records;
create policy adherence_records_select_own on public.adherence_records
for select to authenticated
using (user_id = (select auth.uid()));

-- -------------------------------------------------------- adherence_daily ---
-- (adherence_weekly and adherence_summary are security_invoker views over it.)

drop policy if exists adherence_daily_select_own on public.adherence_daily;
create policy adherence_daily_select_own on public.adherence_daily
for select to authenticated
using (user_id = (select auth.uid()));

-- ----------------------------------------------------- plan_change_events ---

drop policy if exists plan_change_events_select_own on public.plan_change_events;
create policy plan_change_events_select_own on public.plan_change_events
for select to authenticated
using (user_id = (select auth.uid()));

-- ---------------------------------------------------------- reassessments ---

drop policy if exists reassessments_select_own on public.reassessments;
create policy reassessments_select_own on public.reassessments
for select to authenticated
using (user_id = (select auth.uid()));

-- ---------------------------------------------------------- day_overrides ---

drop policy if exists day_overrides_select_own on public.day_overrides;
create policy day_overrides_select_own on public.day_overrides
for select to authenticated
using (user_id = (select auth.uid()));

-- ----------------------------------------------- day_override_transitions ---

drop policy if exists day_override_transitions_select_own on public.day_override_transitions;
create policy day_override_transitions_select_own on public.day_override_transitions
for select to authenticated
using (user_id = (select auth.uid()));

-- ------------------------------------------------------- user_context_log ---

drop policy if exists user_context_log_select_own on public.user_context_log;
create policy user_context_log_select_own on public.user_context_log
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists user_context_log_insert_own on public.user_context_log;
create policy user_context_log_insert_own on public.user_context_log
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists user_context_log_update_own on public.user_context_log;
create policy user_context_log_update_own on public.user_context_log
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists user_context_log_delete_own on public.user_context_log;
create policy user_context_log_delete_own on public.user_context_log
for delete to authenticated
using (user_id = (select auth.uid()));

-- ------------------------------------------------- adjustment_preferences ---

drop policy if exists adjustment_preferences_select_own on public.adjustment_preferences;
create policy adjustment_preferences_select_own on public.adjustment_preferences
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists adjustment_preferences_insert_own on public.adjustment_preferences;
create policy adjustment_preferences_insert_own on public.adjustment_preferences
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists adjustment_preferences_update_own on public.adjustment_preferences;
create policy adjustment_preferences_update_own on public.adjustment_preferences
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists adjustment_preferences_delete_own on public.adjustment_preferences;
create policy adjustment_preferences_delete_own on public.adjustment_preferences
for delete to authenticated
using (user_id = (select auth.uid()));

-- ---------------------------------------------------------- notifications ---

drop policy if exists notifications_select_own on public.notifications;
create policy notifications_select_own on public.notifications
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists notifications_update_own on public.notifications;
create policy notifications_update_own on public.notifications
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));
