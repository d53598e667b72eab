-- A meal and its items in one request (issue 6): public.log_meal.
--
-- Through the tables a client logs a meal in two requests, POST /meals and then POST /meal_items.
-- A connection lost between the two leaves an empty meal (never matched to the plan) for the
-- client to find and fill or delete, and the second request pays a second transaction. log_meal
-- inserts the meal and its items in one transaction: all of it or nothing, one round trip, and the
-- day is re-scored once, when the items' statement updates the meal's totals. With a client_id a
-- retry returns the meal already logged, as log_quick_meal does.
--
-- The logging benchmark sends the same meal logs both ways (benchmarks/logging_throughput.py;
-- figures in docs/scaling.md §1).

create function public.log_meal(
    meal_type text,
    items jsonb,
    logged_at timestamptz default now(),
    notes text default null,
    client_id text default null
)
returns public.meals
language plpgsql
security invoker
set search_path = ''
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
    insert into public.meals as m (user_id, logged_at, meal_type, notes, client_id)
    values (uid, coalesce(log_meal.logged_at, now()), log_meal.meal_type, log_meal.notes, log_meal.client_id)
    on conflict on constraint meals_user_id_client_id_key do nothing
    returning m.* into logged;
    if logged.id is null then
        -- A retry (same client_id): the meal as first logged, items and all.
        select m.* into logged
        from public.meals as m
        where m.user_id = uid and m.client_id = log_meal.client_id;
        return logged;
    end if;
    insert into public.meal_items (
        meal_id, user_id, food_id, custom_food_id, grams, serving_quantity, serving_description
    )
    select
        logged.id,
        uid,
        i.food_id,
        i.custom_food_id,
        i.grams,
        i.serving_quantity,
        i.serving_description
    from jsonb_to_recordset(log_meal.items) as i (
        food_id uuid,
        custom_food_id uuid,
        grams numeric,
        serving_quantity numeric,
        serving_description text
    );
    -- Read back: the totals the items' trigger computed.
    select m.* into logged from public.meals as m where m.id = logged.id;
    return logged;
end;
$$;

comment on function public.log_meal(text, jsonb, timestamptz, text, text) is
'Logs a meal of the caller at logged_at (default now) with its items in one transaction: items is a '
'non-empty array of {food_id or custom_food_id, grams, serving_quantity?, serving_description?} '
'(else 22023); nutrients and totals come from the foods tables, as for POST /meal_items. Returns the '
'meal with its totals. With a client_id, a retry returns the meal already logged, unchanged.';

revoke execute on function public.log_meal(text, jsonb, timestamptz, text, text) from public, anon;
grant execute on function public.log_meal(text, jsonb, timestamptz, text, text) to authenticated;
