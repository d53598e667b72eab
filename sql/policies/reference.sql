-- RLS policies for the reference subsystem (repeatable). Every signed-in user
-- reads the shared catalogues; only the service role (bypassrls) writes them.

drop policy if exists exercises_select_authenticated on public.exercises;
create policy exercises_select_authenticated on public.exercises
for select to authenticated using (true);

drop policy if exists training_modalities_select_authenticated on public.training_modalities;
create policy training_modalities_select_authenticated on public.training_modalities
for select to authenticated using (true);

drop policy if exists meal_times_select_authenticated on public.meal_times;
create policy meal_times_select_authenticated on public.meal_times
for select to authenticated using (true);

drop policy if exists event_types_select_authenticated on public.event_types;
create policy event_types_select_authenticated on public.event_types
for select to authenticated using (true);

drop policy if exists foods_select_authenticated on public.foods;
create policy foods_select_authenticated on public.foods
for select to authenticated using (true);

drop policy if exists met_values_select_authenticated on public.met_values;
create policy met_values_select_authenticated on public.met_values
for select to authenticated using (true);

drop policy if exists activity_category_mets_select_authenticated on public.activity_category_mets;
create policy activity_category_mets_select_authenticated on public.activity_category_mets
for select to authenticated using (true);
