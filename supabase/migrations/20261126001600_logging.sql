-- Logging (issue 6, items 1-3): totals computed by trigger from the foods tables, MET calories for
-- activities without calories, and the logging RPCs (template, quick meal, copy a day) with
-- idempotent retries by client_id. Matching, adherence, rollups and views come later.

-- 1. Meal item nutrients and meal totals

create function private.meal_items_compute_nutrients()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    per_100g record;
begin
    if least(new.kcal, new.protein_g, new.carbs_g, new.fat_g) < 0 then
        return new;  -- malformed input: rejected by the check constraints (23514)
    end if;
    if new.food_id is not null then
        select f.kcal_per_100g, f.protein_g_per_100g, f.carbs_g_per_100g, f.fat_g_per_100g
        into per_100g
        from public.foods as f
        where f.id = new.food_id;
    else
        select c.kcal_per_100g, c.protein_g_per_100g, c.carbs_g_per_100g, c.fat_g_per_100g
        into per_100g
        from public.custom_foods as c
        where c.id = new.custom_food_id and c.user_id = new.user_id;
    end if;
    if not found then
        -- No food, an unknown one or another user's custom food: the row is rejected by
        -- meal_items_one_food (23514) or the foreign keys (23503); never keep client values.
        new.kcal := 0;
        new.protein_g := 0;
        new.carbs_g := 0;
        new.fat_g := 0;
        return new;
    end if;
    new.kcal := round(new.grams * per_100g.kcal_per_100g / 100, 1);
    new.protein_g := round(new.grams * per_100g.protein_g_per_100g / 100, 1);
    new.carbs_g := round(new.grams * per_100g.carbs_g_per_100g / 100, 1);
    new.fat_g := round(new.grams * per_100g.fat_g_per_100g / 100, 1);
    return new;
end;
$$;

comment on function private.meal_items_compute_nutrients() is
'BEFORE INSERT/UPDATE on meal_items: kcal and macros = grams x the food''s (or the owner''s custom '
'food''s) value per 100 g / 100, rounded to 0.1; what the client sent is ignored (negative values are left '
'for the check constraints to reject, 23514). A missing, '
'unknown or foreign food is left to the check and foreign key constraints (23514, 23503).';

create trigger meal_items_compute_nutrients
before insert or update on public.meal_items
for each row execute function private.meal_items_compute_nutrients();

create function private.meals_compute_totals()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if least(new.total_kcal, new.total_protein_g, new.total_carbs_g, new.total_fat_g) < 0 then
        return new;  -- malformed input: rejected by the check constraints (23514)
    end if;
    if tg_op = 'INSERT' then
        -- A new meal has no items yet (they reference it).
        new.total_kcal := 0;
        new.total_protein_g := 0;
        new.total_carbs_g := 0;
        new.total_fat_g := 0;
        return new;
    end if;
    select
        coalesce(sum(i.kcal), 0),
        coalesce(sum(i.protein_g), 0),
        coalesce(sum(i.carbs_g), 0),
        coalesce(sum(i.fat_g), 0)
    into new.total_kcal, new.total_protein_g, new.total_carbs_g, new.total_fat_g
    from public.meal_items as i
    where i.meal_id = new.id;
    return new;
end;
$$;

comment on function private.meals_compute_totals() is
'BEFORE INSERT/UPDATE on meals: total_* = the sums of the meal''s items (0 on insert), so totals a client '
'writes are replaced (negative ones are left for the check constraints to reject, 23514).';

create trigger meals_compute_totals
before insert or update on public.meals
for each row execute function private.meals_compute_totals();

create function private.meal_items_refresh_meal_totals()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    -- Touching the meal fires meals_compute_totals, which recomputes the sums.
    if tg_op = 'INSERT' then
        update public.meals as m set total_kcal = m.total_kcal
        where m.id in (select n.meal_id from new_items as n);
    elsif tg_op = 'DELETE' then
        update public.meals as m set total_kcal = m.total_kcal
        where m.id in (select o.meal_id from old_items as o);
    else
        update public.meals as m set total_kcal = m.total_kcal
        where m.id in (
            select n.meal_id from new_items as n
            union
            select o.meal_id from old_items as o
        );
    end if;
    return null;
end;
$$;

comment on function private.meal_items_refresh_meal_totals() is
'AFTER INSERT/UPDATE/DELETE (per statement, transition tables) on meal_items: recomputes the totals of '
'every affected meal, including the old meal of an item moved to another meal.';

create trigger meal_items_refresh_totals_insert
after insert on public.meal_items
referencing new table as new_items
for each statement execute function private.meal_items_refresh_meal_totals();

create trigger meal_items_refresh_totals_update
after update on public.meal_items
referencing old table as old_items new table as new_items
for each statement execute function private.meal_items_refresh_meal_totals();

create trigger meal_items_refresh_totals_delete
after delete on public.meal_items
referencing old table as old_items
for each statement execute function private.meal_items_refresh_meal_totals();

revoke execute on function private.meal_items_compute_nutrients(),
private.meals_compute_totals(), private.meal_items_refresh_meal_totals()
from public, anon, authenticated;

-- 2. MET calories

create function private.activities_compute_calories()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    met numeric;
    weight numeric;
begin
    if new.calories_burned is not null then
        return new;
    end if;
    met := new.intensity_mets;
    if met is null then
        select v.met into met
        from public.activity_category_mets as c
        inner join public.met_values as v on c.met_value_id = v.id
        where c.category = new.category and c.is_default;
    end if;
    select b.weight_kg into weight
    from public.body_metrics as b
    where
        b.user_id = new.user_id
        and b.weight_kg is not null
        and b.measured_at <= new.start_time
    order by b.measured_at desc
    limit 1;
    if weight is null then
        select p.weight_kg into weight
        from public.profiles as p
        where p.id = new.user_id;
    end if;
    if met is not null and weight is not null then
        new.calories_burned := least(round(met * weight * new.duration_minutes / 60.0, 1), 10000);
    end if;
    return new;
end;
$$;

comment on function private.activities_compute_calories() is
'BEFORE INSERT/UPDATE on activities: when calories_burned is NULL, kcal = MET x kg x hours (DOMAIN §1); '
'MET = intensity_mets or the category default (activity_category_mets), weight = the latest '
'body_metrics weight at or before start_time, else profiles.weight_kg; no weight or MET: stays NULL.';

create trigger activities_compute_calories
before insert or update on public.activities
for each row execute function private.activities_compute_calories();

revoke execute on function private.activities_compute_calories() from public, anon, authenticated;

-- 3. Logging RPCs

create function public.log_activity_from_template(
    template_id uuid,
    start_time timestamptz default now(),
    client_id text default null
)
returns public.activities
language plpgsql
security invoker
set search_path = ''
as $$
declare
    template public.activity_templates;
    logged public.activities;
    data jsonb;
begin
    if client_id is not null then
        select a.* into logged
        from public.activities as a
        where a.user_id = (select auth.uid()) and a.client_id = log_activity_from_template.client_id;
        if found then
            return logged;
        end if;
    end if;
    select t.* into template
    from public.activity_templates as t
    where t.id = log_activity_from_template.template_id;
    if not found then
        raise exception using errcode = 'PT404', message = 'activity template not found';
    end if;
    data := template.template_data;
    if jsonb_typeof(data -> 'duration_minutes') is distinct from 'number' then
        raise exception using
            errcode = '22023', message = 'the template has no duration_minutes';
    end if;
    insert into public.activities as a (
        user_id, category, name, start_time, duration_minutes, intensity_mets, metrics, source,
        client_id, notes
    )
    values (
        template.user_id,
        template.category,
        coalesce(nullif(btrim(data ->> 'name'), ''), template.template_name),
        coalesce(log_activity_from_template.start_time, now()),
        (data ->> 'duration_minutes')::integer,
        (data ->> 'intensity_mets')::numeric,
        coalesce(data -> 'metrics', '{}'),
        'template',
        log_activity_from_template.client_id,
        data ->> 'notes'
    )
    on conflict on constraint activities_user_id_client_id_key do nothing
    returning a.* into logged;
    if logged.id is null then
        -- A concurrent retry with the same client_id won the race.
        select a.* into logged
        from public.activities as a
        where a.user_id = template.user_id and a.client_id = log_activity_from_template.client_id;
        return logged;
    end if;
    if jsonb_typeof(data -> 'sets') = 'array' then
        insert into public.exercise_sets (
            activity_id, user_id, exercise_id, exercise_name, set_number, reps, weight_kg, rpe, rir,
            duration_seconds, distance_m, is_warmup
        )
        select
            logged.id,
            logged.user_id,
            s.value ->> 'exercise_id',
            s.value ->> 'exercise_name',
            coalesce(
                (s.value ->> 'set_number')::smallint,
                row_number() over (
                    partition by
                        coalesce(s.value ->> 'exercise_id', lower(btrim(s.value ->> 'exercise_name')))
                    order by s.ordinality
                )::smallint
            ),
            (s.value ->> 'reps')::smallint,
            (s.value ->> 'weight_kg')::numeric,
            (s.value ->> 'rpe')::numeric,
            (s.value ->> 'rir')::smallint,
            (s.value ->> 'duration_seconds')::integer,
            (s.value ->> 'distance_m')::numeric,
            coalesce((s.value ->> 'is_warmup')::boolean, false)
        from jsonb_array_elements(data -> 'sets') with ordinality as s (value, ordinality);
    end if;
    return logged;
end;
$$;

comment on function public.log_activity_from_template(uuid, timestamptz, text) is
'Logs one of the caller''s activity_templates as an activity at start_time (source template): category, '
'name, duration_minutes, intensity_mets, metrics and notes from template_data, and its sets '
'(template_data.sets: [{exercise_id or exercise_name, set_number?, reps, weight_kg, rpe, rir, ...}]) '
'as exercise_sets. With a client_id, a retry returns the activity already logged. Not found: PT404.';

create function public.log_quick_meal(
    quick_meal_id uuid,
    logged_at timestamptz default now(),
    meal_type text default null,
    client_id text default null
)
returns public.meals
language plpgsql
security invoker
set search_path = ''
as $$
declare
    quick public.quick_meals;
    logged public.meals;
    slot text;
begin
    if client_id is not null then
        select m.* into logged
        from public.meals as m
        where m.user_id = (select auth.uid()) and m.client_id = log_quick_meal.client_id;
        if found then
            return logged;
        end if;
    end if;
    select q.* into quick
    from public.quick_meals as q
    where q.id = log_quick_meal.quick_meal_id;
    if not found then
        raise exception using errcode = 'PT404', message = 'quick meal not found';
    end if;
    if exists (
        select 1
        from jsonb_array_elements(quick.components) as c (value)
        where
            not exists (
                select 1 from public.foods as f
                where f.id = (c.value ->> 'food_id')::uuid
            )
            and not exists (
                select 1 from public.custom_foods as cf
                where cf.id = (c.value ->> 'custom_food_id')::uuid and cf.user_id = quick.user_id
            )
    ) then
        raise exception using errcode = 'PT404', message = 'food of the quick meal not found';
    end if;
    slot := coalesce(log_quick_meal.meal_type, 'snack');
    insert into public.meals as m (user_id, logged_at, meal_type, client_id)
    values (quick.user_id, coalesce(log_quick_meal.logged_at, now()), slot, log_quick_meal.client_id)
    on conflict on constraint meals_user_id_client_id_key do nothing
    returning m.* into logged;
    if logged.id is null then
        select m.* into logged
        from public.meals as m
        where m.user_id = quick.user_id and m.client_id = log_quick_meal.client_id;
        return logged;
    end if;
    insert into public.meal_items (
        meal_id, user_id, food_id, custom_food_id, grams, serving_quantity, serving_description
    )
    select
        logged.id,
        logged.user_id,
        (c.value ->> 'food_id')::uuid,
        (c.value ->> 'custom_food_id')::uuid,
        (c.value ->> 'grams')::numeric,
        case when c.value ? 'serving_description' then (c.value ->> 'serving_quantity')::numeric end,
        case when c.value ? 'serving_quantity' then c.value ->> 'serving_description' end
    from jsonb_array_elements(quick.components) as c (value);
    select m.* into logged from public.meals as m where m.id = logged.id;
    return logged;
end;
$$;

comment on function public.log_quick_meal(uuid, timestamptz, text, text) is
'Logs one of the caller''s quick_meals as a meal at logged_at (meal_type defaults to snack) with one item '
'per component; nutrients and totals come from the foods tables. With a client_id, a retry returns the '
'meal already logged. Unknown quick meal, or a component food that is unknown or not the caller''s: PT404.';

create function public.copy_meals(
    from_date date,
    to_date date,
    time_zone text default 'UTC'
)
returns setof public.meals
language plpgsql
security invoker
set search_path = ''
as $$
declare
    uid uuid := (select auth.uid());
    source_meal public.meals;
    copied public.meals;
    key text;
begin
    if uid is null then
        raise exception using errcode = '42501', message = 'sign in to copy meals';
    end if;
    if from_date is null or to_date is null or from_date = to_date then
        raise exception using errcode = '22023', message = 'from_date and to_date must be two different days';
    end if;
    perform now() at time zone copy_meals.time_zone;  -- invalid time zone: 22023
    for source_meal in
        select m.*
        from public.meals as m
        where
            m.user_id = uid
            and m.logged_at >= (copy_meals.from_date::timestamp at time zone copy_meals.time_zone)
            and m.logged_at < ((copy_meals.from_date + 1)::timestamp at time zone copy_meals.time_zone)
        order by m.logged_at, m.id
    loop
        key := 'copy:' || source_meal.id || ':' || copy_meals.to_date;
        insert into public.meals as m (user_id, logged_at, meal_type, notes, client_id)
        values (
            uid,
            ((source_meal.logged_at at time zone copy_meals.time_zone)
                + (copy_meals.to_date - copy_meals.from_date) * interval '1 day')
            at time zone copy_meals.time_zone,
            source_meal.meal_type,
            source_meal.notes,
            key
        )
        on conflict on constraint meals_user_id_client_id_key do nothing
        returning m.* into copied;
        if copied.id is null then
            select m.* into copied from public.meals as m where m.user_id = uid and m.client_id = key;
        else
            insert into public.meal_items (
                meal_id, user_id, food_id, custom_food_id, grams, serving_quantity, serving_description
            )
            select
                copied.id, uid, i.food_id, i.custom_food_id, i.grams, i.serving_quantity,
                i.serving_description
            from public.meal_items as i
            where i.meal_id = source_meal.id
            order by i.created_at, i.id;
            select m.* into copied from public.meals as m where m.id = copied.id;
        end if;
        return next copied;
        copied := null;
    end loop;
end;
$$;

comment on function public.copy_meals(date, date, text) is
'Copies every meal the caller logged on from_date (a day in time_zone) to to_date at the same time of day, '
'items included, and returns the copies. Idempotent: each copy carries client_id '
'''copy:<source meal id>:<to_date>'', so copying the same day again returns the existing copies.';

revoke execute on function public.log_activity_from_template(uuid, timestamptz, text),
public.log_quick_meal(uuid, timestamptz, text, text), public.copy_meals(date, date, text)
from public, anon;
grant execute on function public.log_activity_from_template(uuid, timestamptz, text),
public.log_quick_meal(uuid, timestamptz, text, text), public.copy_meals(date, date, text)
to authenticated, service_role;
