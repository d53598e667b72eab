-- RLS policies for the nutrition subsystem (repeatable: re-applied when this
-- file changes). Deny by default: RLS is enabled in the migration. Every table
-- is user data: a signed-in user selects, inserts, updates and deletes only
-- rows whose user_id is theirs; anon sees nothing. meal_items rows can only
-- point at their owner's meal and custom foods (composite foreign keys), so
-- the policies need no join. The shared foods are in reference.sql.

-- custom_foods

drop policy if exists custom_foods_select_own on public.custom_foods;
create policy custom_foods_select_own on public.custom_foods
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists custom_foods_insert_own on public.custom_foods;
create policy custom_foods_insert_own on public.custom_foods
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists custom_foods_update_own on public.custom_foods;
create policy custom_foods_update_own on public.custom_foods
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists custom_foods_delete_own on public.custom_foods;
create policy custom_foods_delete_own on public.custom_foods
for delete to authenticated
using (user_id = (select auth.uid()));

-- meals

drop policy if exists meals_select_own on public.meals;
create policy meals_select_own on public.meals
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists meals_insert_own on public.meals;
create policy meals_insert_own on public.meals
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists meals_update_own on public.meals;
create policy meals_update_own on public.meals
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists meals_delete_own on public.meals;
create policy meals_delete_own on public.meals
for delete to authenticated
using (user_id = (select auth.uid()));

-- meal_items

drop policy if exists meal_items_select_own on public.meal_items;
create policy meal_items_select_own on public.meal_items
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists meal_items_insert_own on public.meal_items;
create policy meal_items_insert_own on public.meal_items
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists meal_items_update_own on public.meal_items;
create policy meal_items_update_own on public.meal_items
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists meal_items_delete_own on public.meal_items;
create policy meal_items_delete_own on public.meal_items
for delete to authenticated
using (user_id = (select auth.uid()));

-- quick_meals

drop policy if exists quick_meals_select_own on public.quick_meals;
create policy quick_meals_select_own on public.quick_meals
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists quick_meals_insert_own on public.quick_meals;
create policy quick_meals_insert_own on public.quick_meals
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists quick_meals_update_own on public.quick_meals;
create policy quick_meals_update_own on public.quick_meals
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists quick_meals_delete_own on public.quick_meals;
create policy quick_meals_delete_own on public.quick_meals
for delete to authenticated
using (user_id = (select auth.uid()));
