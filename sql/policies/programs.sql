-- RLS policies for the programs subsystem (repeatable). Deny by default:
-- RLS is enabled in the migrations. Programs and their plan instances are
-- written only by service code (service_role bypasses RLS); a signed-in user
-- reads their own rows, nothing else.

-- --------------------------------------------------------------- programs ---

drop policy if exists programs_select_own on public.programs;
create policy programs_select_own on public.programs
for select to authenticated
using (user_id = (select auth.uid()));

-- ------------------------------------------------------ session_instances ---

drop policy if exists session_instances_select_own on public.session_instances;
create policy session_instances_select_own on public.session_instances
for select to authenticated
using (user_id = (select auth.uid()));

-- ---------------------------------------------------- exercise_plan_items ---

drop policy if exists exercise_plan_items_select_own on public.exercise_plan_items;
create policy exercise_plan_items_select_own on public.exercise_plan_items
for select to authenticated
using (user_id = (select auth.uid()));

-- --------------------------------------------------------- meal_instances ---

drop policy if exists meal_instances_select_own on public.meal_instances;
create policy meal_instances_select_own on public.meal_instances
for select to authenticated
using (user_id = (select auth.uid()));

-- --------------------------------------------------------- meal_item_plan ---

drop policy if exists meal_item_plan_select_own on public.meal_item_plan;
create policy meal_item_plan_select_own on public.meal_item_plan
for select to authenticated
using (user_id = (select auth.uid()));
