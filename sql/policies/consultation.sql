-- RLS policies for the consultation subsystem (repeatable). Deny by default:
-- RLS is enabled in the migrations. consultation_keys is secret and has no
-- policy at all. A signed-in user reads their own sessions and key usage
-- (written by service code and RPCs), reads and appends their own messages,
-- and reads, adds, edits and deletes their own extracted answers.

-- ------------------------------------------------- consultation_key_usage ---

drop policy if exists consultation_key_usage_select_own on public.consultation_key_usage;
create policy consultation_key_usage_select_own on public.consultation_key_usage
for select to authenticated
using (user_id = (select auth.uid()));

-- -------------------------------------------------- consultation_sessions ---

drop policy if exists consultation_sessions_select_own on public.consultation_sessions;
create policy consultation_sessions_select_own on public.consultation_sessions
for select to authenticated
using (user_id = (select auth.uid()));

-- -------------------------------------------------- consultation_messages ---

drop policy if exists consultation_messages_select_own on public.consultation_messages;
create policy consultation_messages_select_own on public.consultation_messages
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists consultation_messages_insert_own on public.consultation_messages;
create policy consultation_messages_insert_own on public.consultation_messages
for insert to authenticated
with check (user_id = (select auth.uid()));

-- ------------------------------------- the nine extraction tables (SIUD) ---

-- user_training_modalities
drop policy if exists user_training_modalities_select_own on public.user_training_modalities;
create policy user_training_modalities_select_own on public.user_training_modalities
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists user_training_modalities_insert_own on public.user_training_modalities;
create policy user_training_modalities_insert_own on public.user_training_modalities
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists user_training_modalities_update_own on public.user_training_modalities;
create policy user_training_modalities_update_own on public.user_training_modalities
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists user_training_modalities_delete_own on public.user_training_modalities;
create policy user_training_modalities_delete_own on public.user_training_modalities
for delete to authenticated
using (user_id = (select auth.uid()));

-- user_familiar_exercises
drop policy if exists user_familiar_exercises_select_own on public.user_familiar_exercises;
create policy user_familiar_exercises_select_own on public.user_familiar_exercises
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists user_familiar_exercises_insert_own on public.user_familiar_exercises;
create policy user_familiar_exercises_insert_own on public.user_familiar_exercises
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists user_familiar_exercises_update_own on public.user_familiar_exercises;
create policy user_familiar_exercises_update_own on public.user_familiar_exercises
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists user_familiar_exercises_delete_own on public.user_familiar_exercises;
create policy user_familiar_exercises_delete_own on public.user_familiar_exercises
for delete to authenticated
using (user_id = (select auth.uid()));

-- user_training_availability
drop policy if exists user_training_availability_select_own on public.user_training_availability;
create policy user_training_availability_select_own on public.user_training_availability
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists user_training_availability_insert_own on public.user_training_availability;
create policy user_training_availability_insert_own on public.user_training_availability
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists user_training_availability_update_own on public.user_training_availability;
create policy user_training_availability_update_own on public.user_training_availability
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists user_training_availability_delete_own on public.user_training_availability;
create policy user_training_availability_delete_own on public.user_training_availability
for delete to authenticated
using (user_id = (select auth.uid()));

-- user_preferred_meal_times
drop policy if exists user_preferred_meal_times_select_own on public.user_preferred_meal_times;
create policy user_preferred_meal_times_select_own on public.user_preferred_meal_times
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists user_preferred_meal_times_insert_own on public.user_preferred_meal_times;
create policy user_preferred_meal_times_insert_own on public.user_preferred_meal_times
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists user_preferred_meal_times_update_own on public.user_preferred_meal_times;
create policy user_preferred_meal_times_update_own on public.user_preferred_meal_times
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists user_preferred_meal_times_delete_own on public.user_preferred_meal_times;
create policy user_preferred_meal_times_delete_own on public.user_preferred_meal_times
for delete to authenticated
using (user_id = (select auth.uid()));

-- user_typical_meal_foods
drop policy if exists user_typical_meal_foods_select_own on public.user_typical_meal_foods;
create policy user_typical_meal_foods_select_own on public.user_typical_meal_foods
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists user_typical_meal_foods_insert_own on public.user_typical_meal_foods;
create policy user_typical_meal_foods_insert_own on public.user_typical_meal_foods
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists user_typical_meal_foods_update_own on public.user_typical_meal_foods;
create policy user_typical_meal_foods_update_own on public.user_typical_meal_foods
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists user_typical_meal_foods_delete_own on public.user_typical_meal_foods;
create policy user_typical_meal_foods_delete_own on public.user_typical_meal_foods
for delete to authenticated
using (user_id = (select auth.uid()));

-- user_improvement_goals
drop policy if exists user_improvement_goals_select_own on public.user_improvement_goals;
create policy user_improvement_goals_select_own on public.user_improvement_goals
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists user_improvement_goals_insert_own on public.user_improvement_goals;
create policy user_improvement_goals_insert_own on public.user_improvement_goals
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists user_improvement_goals_update_own on public.user_improvement_goals;
create policy user_improvement_goals_update_own on public.user_improvement_goals
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists user_improvement_goals_delete_own on public.user_improvement_goals;
create policy user_improvement_goals_delete_own on public.user_improvement_goals
for delete to authenticated
using (user_id = (select auth.uid()));

-- user_difficulties
drop policy if exists user_difficulties_select_own on public.user_difficulties;
create policy user_difficulties_select_own on public.user_difficulties
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists user_difficulties_insert_own on public.user_difficulties;
create policy user_difficulties_insert_own on public.user_difficulties
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists user_difficulties_update_own on public.user_difficulties;
create policy user_difficulties_update_own on public.user_difficulties
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists user_difficulties_delete_own on public.user_difficulties;
create policy user_difficulties_delete_own on public.user_difficulties
for delete to authenticated
using (user_id = (select auth.uid()));

-- user_non_negotiables
drop policy if exists user_non_negotiables_select_own on public.user_non_negotiables;
create policy user_non_negotiables_select_own on public.user_non_negotiables
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists user_non_negotiables_insert_own on public.user_non_negotiables;
create policy user_non_negotiables_insert_own on public.user_non_negotiables
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists user_non_negotiables_update_own on public.user_non_negotiables;
create policy user_non_negotiables_update_own on public.user_non_negotiables
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists user_non_negotiables_delete_own on public.user_non_negotiables;
create policy user_non_negotiables_delete_own on public.user_non_negotiables
for delete to authenticated
using (user_id = (select auth.uid()));

-- user_upcoming_events
drop policy if exists user_upcoming_events_select_own on public.user_upcoming_events;
create policy user_upcoming_events_select_own on public.user_upcoming_events
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists user_upcoming_events_insert_own on public.user_upcoming_events;
create policy user_upcoming_events_insert_own on public.user_upcoming_events
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists user_upcoming_events_update_own on public.user_upcoming_events;
create policy user_upcoming_events_update_own on public.user_upcoming_events
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists user_upcoming_events_delete_own on public.user_upcoming_events;
create policy user_upcoming_events_delete_own on public.user_upcoming_events
for delete to authenticated
using (user_id = (select auth.uid()));
