-- Computed meal columns become read-only for clients, and log_meal writes a meal with its items,
-- nutrients and totals in one statement (issue 6, performance).
--
-- Before, the meal totals and item nutrients were writable by clients and reset by triggers:
-- meals_compute_totals zeroed a new meal's totals and re-summed its items on every update, and
-- meal_items_compute_nutrients looked up each item's food on every insert and update. log_meal ran
-- through all of it: the meal inserted with zero totals, each item's food read by its own trigger
-- call, then the items' statement trigger updated the meal (re-summing its items again, and
-- re-checking the foreign keys of a row inserted in the same transaction), and that update's
-- trigger re-scored the day.
--
-- Now:
--
--   * clients (authenticated and service_role) may insert and update every column of meals and
--     meal_items except the computed ones (meals.total_*, meal_items.kcal/protein_g/carbs_g/fat_g):
--     a request that sends one is refused (42501, HTTP 403) instead of being silently corrected.
--     Only the owner's code writes them, so meals_compute_totals is dropped;
--   * an item's nutrients are computed when it is inserted with none (all four 0, the defaults a
--     client insert always has) and whenever its food or grams change;
--   * the items' statement trigger locks the touched meals, then sets their totals to the sums of
--     their items where they differ. A meal whose totals change is re-scored by its own update
--     trigger, as before; the days of the other touched meals are re-scored by this trigger (their
--     items changed even if the sums did not: an item of 0 kcal, or a meal logged with its totals
--     by log_meal);
--   * log_meal is SECURITY DEFINER and inserts the meal with its totals and the items with their
--     nutrients in one statement, reading the foods once; the items' trigger then finds the totals
--     right and re-scores the day. It checks the caller as the table policies did: the meal and its
--     items are the caller's (user_id), a custom food must be the caller's (the composite foreign
--     key), and the catalogue foods are public.
--
-- Server CPU per POST /rpc/log_meal (perf stat task-clock on the backend, 1,500 logs of the
-- logging benchmark in a copy of the same database per variant, four rounds each):
--   * this migration: 1,745 -> 1,670 µs a log (-4.3 %). Before the touched meals were locked
--     first (which keeps two concurrent item inserts into one meal exact, see the trigger), the
--     same measure gave -7.8 % and -5.4 %;
--   * a variant in which log_meal re-scored the day itself instead of leaving it to the items'
--     trigger: -10.7 %. Not kept: the matching must stay in the triggers, so that every way of
--     logging re-scores and the benchmark's copy without triggers does none;
--   * the refresh with custom plans (without plan_cache_mode): +6 %, its statement being planned
--     again for every log.
-- Throughput: docs/scaling.md §1.

-- --------------------------------------------------------- computed columns read-only

revoke insert, update on public.meals, public.meal_items from authenticated, service_role;
grant insert (
    id, user_id, logged_at, local_date, meal_type, notes, client_id, created_at, updated_at
) on public.meals to authenticated, service_role;
grant update (
    id, user_id, logged_at, local_date, meal_type, notes, client_id, created_at, updated_at
) on public.meals to authenticated, service_role;
grant insert (
    id, meal_id, user_id, food_id, custom_food_id, grams, serving_quantity, serving_description,
    created_at, updated_at
) on public.meal_items to authenticated, service_role;
grant update (
    id, meal_id, user_id, food_id, custom_food_id, grams, serving_quantity, serving_description,
    created_at, updated_at
) on public.meal_items to authenticated, service_role;

comment on column public.meals.total_kcal is
'Sum of the items'' kcal, kept by the items'' trigger (0 while the meal is empty). Read-only for clients.';
comment on column public.meal_items.kcal is
'kcal of this item (grams x food kcal per 100 g / 100), computed from the food. Read-only for clients.';

drop trigger meals_compute_totals on public.meals;
drop function private.meals_compute_totals();

-- ------------------------------------------------------------------- item nutrients

drop trigger meal_items_compute_nutrients on public.meal_items;

-- A client's insert has the defaults (0); log_meal sends the nutrients it read with the items
-- (an item of a food with no nutrients at all is computed again, to the same zeros).
create trigger meal_items_compute_nutrients
before insert on public.meal_items
for each row
when (new.kcal = 0 and new.protein_g = 0 and new.carbs_g = 0 and new.fat_g = 0)
execute function private.meal_items_compute_nutrients();

create trigger meal_items_recompute_nutrients
before update of food_id, custom_food_id, grams, user_id on public.meal_items
for each row execute function private.meal_items_compute_nutrients();

-- ------------------------------------------------------------------- meal totals

create or replace function private.meal_items_refresh_meal_totals()
returns trigger
language plpgsql
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
as $$
declare
    touched uuid[];
    entry record;
begin
    -- The touched meals, locked first (in id order) so that the sums below, read by the next
    -- statement with a new snapshot, include the items of any concurrent transaction that held
    -- the lock before: two clients adding items to one meal at once both count.
    if tg_op = 'INSERT' then
        touched := array(
            select m.id from public.meals as m
            where m.id in (select n.meal_id from new_items as n)
            order by m.id
            for update of m
        );
    elsif tg_op = 'DELETE' then
        touched := array(
            select m.id from public.meals as m
            where m.id in (select o.meal_id from old_items as o)
            order by m.id
            for update of m
        );
    else
        touched := array(
            select m.id from public.meals as m
            where m.id in (select n.meal_id from new_items as n union select o.meal_id from old_items as o)
            order by m.id
            for update of m
        );
    end if;
    -- Each touched meal's totals become the sums of its items (one generic plan: custom plans,
    -- sized for the meals at hand, would be made again for every statement). A meal whose totals
    -- change is re-scored by its own update trigger (meals_rematch_update); the days of the others
    -- are re-scored here, in (user, date) order as every re-scoring takes its week lock.
    for entry in
        with changed as (
            update public.meals as m
            set
                total_kcal = s.kcal,
                total_protein_g = s.protein_g,
                total_carbs_g = s.carbs_g,
                total_fat_g = s.fat_g
            from unnest(touched) as t (meal_id)
            cross join lateral (
                select
                    coalesce(sum(i.kcal), 0) as kcal,
                    coalesce(sum(i.protein_g), 0) as protein_g,
                    coalesce(sum(i.carbs_g), 0) as carbs_g,
                    coalesce(sum(i.fat_g), 0) as fat_g
                from public.meal_items as i
                where i.meal_id = t.meal_id
            ) as s
            where
                m.id = t.meal_id
                and (m.total_kcal, m.total_protein_g, m.total_carbs_g, m.total_fat_g)
                is distinct from (s.kcal, s.protein_g, s.carbs_g, s.fat_g)
            returning m.id
        )

        select distinct m.user_id, m.local_date
        from public.meals as m
        where m.id = any(touched) and m.id not in (select c.id from changed as c)
        order by m.user_id, m.local_date
    loop
        perform private.rematch_day(entry.user_id, entry.local_date, 'meal');
    end loop;
    return null;
end;
$$;

-- ------------------------------------------------------------------------ log_meal

create or replace function public.log_meal(
    meal_type text,
    items jsonb,
    logged_at timestamptz default now(),
    notes text default null,
    client_id text default null
)
returns public.meals
language plpgsql
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
    uid uuid := (select auth.uid());
    logged public.meals;
begin
    if uid is null then
        raise exception using errcode = '42501', message = 'sign in to log meals';
    end if;
    if jsonb_typeof(log_meal.items) is distinct from 'array' or jsonb_array_length(log_meal.items) = 0 then
        raise exception using
            errcode = '22023',
            message = 'items must be a non-empty array of {food_id | custom_food_id, grams}';
    end if;
    -- The nutrients as meal_items_compute_nutrients computes them. An item whose food is not
    -- found (none, an unknown one, another user's custom food) gets zeros: its trigger then looks
    -- again and the row is refused by meal_items_one_food (23514) or a foreign key (23503).
    with item as (
        select
            i.food_id,
            i.custom_food_id,
            i.grams,
            i.serving_quantity,
            i.serving_description,
            coalesce(round(i.grams * coalesce(f.kcal_per_100g, c.kcal_per_100g) / 100, 1), 0) as kcal,
            coalesce(round(i.grams * coalesce(f.protein_g_per_100g, c.protein_g_per_100g) / 100, 1), 0)
            as protein_g,
            coalesce(round(i.grams * coalesce(f.carbs_g_per_100g, c.carbs_g_per_100g) / 100, 1), 0)
            as carbs_g,
            coalesce(round(i.grams * coalesce(f.fat_g_per_100g, c.fat_g_per_100g) / 100, 1), 0) as fat_g
        from jsonb_to_recordset(log_meal.items) as i (
            food_id uuid,
            custom_food_id uuid,
            grams numeric,
            serving_quantity numeric,
            serving_description text
        )
        left join public.foods as f on i.food_id = f.id
        left join public.custom_foods as c
            on i.food_id is null and i.custom_food_id = c.id and c.user_id = uid
    ),

    meal as (
        insert into public.meals as m (
            user_id, logged_at, meal_type, notes, client_id, total_kcal, total_protein_g,
            total_carbs_g, total_fat_g
        )
        select
            uid,
            coalesce(log_meal.logged_at, now()),
            log_meal.meal_type,
            log_meal.notes,
            log_meal.client_id,
            sum(item.kcal),
            sum(item.protein_g),
            sum(item.carbs_g),
            sum(item.fat_g)
        from item
        on conflict on constraint meals_user_id_client_id_key do nothing
        returning m.*
    ),

    saved as (
        insert into public.meal_items (
            meal_id, user_id, food_id, custom_food_id, grams, serving_quantity, serving_description,
            kcal, protein_g, carbs_g, fat_g
        )
        select
            meal.id,
            uid,
            item.food_id,
            item.custom_food_id,
            item.grams,
            item.serving_quantity,
            item.serving_description,
            item.kcal,
            item.protein_g,
            item.carbs_g,
            item.fat_g
        from meal
        cross join item
    )

    select meal.* into logged from meal;
    if logged.id is null then
        -- A retry (same client_id): the meal as first logged, items and all.
        select m.* into logged
        from public.meals as m
        where m.user_id = uid and m.client_id = log_meal.client_id;
    end if;
    return logged;
end;
$$;

comment on function public.log_meal(text, jsonb, timestamptz, text, text) is
'Logs a meal of the caller at logged_at (default now) with its items in one transaction: items is a '
'non-empty array of {food_id or custom_food_id, grams, serving_quantity?, serving_description?} '
'(else 22023); nutrients and totals come from the foods tables, as for POST /meal_items, and the day '
'is re-scored against the plan. Returns the meal with its totals. With a client_id, a retry returns '
'the meal already logged, unchanged. SECURITY DEFINER: writes only rows of the caller (auth.uid()).';

revoke execute on function public.log_meal(text, jsonb, timestamptz, text, text) from public, anon;
grant execute on function public.log_meal(text, jsonb, timestamptz, text, text) to authenticated;
