-- Program storage: public.store_program_bundle(bundle jsonb) writes a
-- generated ProgramBundle (functions/sharpened/programs/bundle.py, dumped with
-- model_dump(mode="json")) in one statement's transaction: programs,
-- session_instances, exercise_plan_items, meal_instances and meal_item_plan.
-- AFTER INSERT statement triggers lay every new session and meal out on
-- calendar_events.
-- Only service code (service_role) may call it; clients never write plans.

-- --------------------------------------------------- store_program_bundle ---

create or replace function public.store_program_bundle(bundle jsonb) returns uuid
language plpgsql
set search_path = ''
as $$
declare
    shape_error text;
    owner_id uuid;
    source_session uuid;
    new_program_id uuid;
    previous_id uuid;
    next_version integer;
    session_ids uuid[];
    meal_ids uuid[];
begin
    -- The first shape error as "<path> must be a JSON <type>", if any; ranges and
    -- vocabularies are left to the tables' CHECK constraints.
    with
    top_keys (key, kind) as (
        values
        ('user_id', 'string'), ('source', 'string'), ('primary_goal', 'string'),
        ('program_start_date', 'string'), ('program_duration_weeks', 'number'),
        ('next_reassessment_date', 'string'), ('tdee', 'object'), ('macros', 'object'),
        ('safety', 'object'), ('feasibility', 'object'), ('provenance', 'object'),
        ('sessions', 'array'), ('meals', 'array')
    ),
    session_keys (key, kind) as (
        values
        ('week_index', 'number'), ('day_index', 'number'), ('session_kind', 'string'),
        ('title', 'string'), ('planned_duration_minutes', 'number'), ('exercises', 'array')
    ),
    exercise_keys (key, kind) as (
        values ('order_index', 'number'), ('name', 'string'), ('sets', 'number')
    ),
    meal_keys (key, kind) as (
        values
        ('week_index', 'number'), ('day_index', 'number'), ('meal_type', 'string'),
        ('targets', 'object'), ('totals', 'object'), ('items', 'array')
    ),
    item_keys (key, kind) as (
        values
        ('food_id', 'string'), ('food_name', 'string'), ('grams', 'number'), ('kcal', 'number'),
        ('protein_g', 'number'), ('carbs_g', 'number'), ('fat_g', 'number')
    ),
    macro_keys (key) as (values ('kcal'), ('protein_g'), ('carbs_g'), ('fat_g')),
    sessions as (
        select s.ord - 1 as i, s.value
        from pg_catalog.jsonb_array_elements(
            case when pg_catalog.jsonb_typeof(bundle -> 'sessions') = 'array' then bundle -> 'sessions' end
        ) with ordinality as s (value, ord)
    ),
    meals as (
        select m.ord - 1 as i, m.value
        from pg_catalog.jsonb_array_elements(
            case when pg_catalog.jsonb_typeof(bundle -> 'meals') = 'array' then bundle -> 'meals' end
        ) with ordinality as m (value, ord)
    ),
    problems (n, path, message) as (
        select 0, 'bundle', 'must be a JSON object'
        where pg_catalog.jsonb_typeof(bundle) is distinct from 'object'
        union all
        select 1, 'bundle.' || k.key, 'must be a JSON ' || k.kind
        from top_keys as k
        where pg_catalog.jsonb_typeof(bundle) = 'object'
            and pg_catalog.jsonb_typeof(bundle -> k.key) is distinct from k.kind
        union all
        select 2, pg_catalog.format('bundle.sessions[%s]', s.i), 'must be a JSON object'
        from sessions as s
        where pg_catalog.jsonb_typeof(s.value) <> 'object'
        union all
        select 3, pg_catalog.format('bundle.sessions[%s].%s', s.i, k.key), 'must be a JSON ' || k.kind
        from sessions as s cross join session_keys as k
        where pg_catalog.jsonb_typeof(s.value) = 'object'
            and pg_catalog.jsonb_typeof(s.value -> k.key) is distinct from k.kind
        union all
        select 4, pg_catalog.format('bundle.sessions[%s].exercises[%s]', s.i, e.ord - 1),
            'must be a JSON object'
        from sessions as s
        cross join lateral pg_catalog.jsonb_array_elements(
            case
                when pg_catalog.jsonb_typeof(s.value -> 'exercises') = 'array' then s.value -> 'exercises'
            end
        ) with ordinality as e (value, ord)
        where pg_catalog.jsonb_typeof(e.value) <> 'object'
        union all
        select 5, pg_catalog.format('bundle.sessions[%s].exercises[%s].%s', s.i, e.ord - 1, k.key),
            'must be a JSON ' || k.kind
        from sessions as s
        cross join lateral pg_catalog.jsonb_array_elements(
            case
                when pg_catalog.jsonb_typeof(s.value -> 'exercises') = 'array' then s.value -> 'exercises'
            end
        ) with ordinality as e (value, ord)
        cross join exercise_keys as k
        where pg_catalog.jsonb_typeof(e.value) = 'object'
            and pg_catalog.jsonb_typeof(e.value -> k.key) is distinct from k.kind
        union all
        select 6, pg_catalog.format('bundle.meals[%s]', m.i), 'must be a JSON object'
        from meals as m
        where pg_catalog.jsonb_typeof(m.value) <> 'object'
        union all
        select 7, pg_catalog.format('bundle.meals[%s].%s', m.i, k.key), 'must be a JSON ' || k.kind
        from meals as m cross join meal_keys as k
        where pg_catalog.jsonb_typeof(m.value) = 'object'
            and pg_catalog.jsonb_typeof(m.value -> k.key) is distinct from k.kind
        union all
        select 8, pg_catalog.format('bundle.meals[%s].%s.%s', m.i, t.part, k.key), 'must be a JSON number'
        from meals as m
        cross join (values ('targets'), ('totals')) as t (part)
        cross join macro_keys as k
        where pg_catalog.jsonb_typeof(m.value -> t.part) = 'object'
            and pg_catalog.jsonb_typeof(m.value -> t.part -> k.key) is distinct from 'number'
        union all
        select 9, pg_catalog.format('bundle.meals[%s].items[%s]', m.i, e.ord - 1), 'must be a JSON object'
        from meals as m
        cross join lateral pg_catalog.jsonb_array_elements(
            case when pg_catalog.jsonb_typeof(m.value -> 'items') = 'array' then m.value -> 'items' end
        ) with ordinality as e (value, ord)
        where pg_catalog.jsonb_typeof(e.value) <> 'object'
        union all
        select 10, pg_catalog.format('bundle.meals[%s].items[%s].%s', m.i, e.ord - 1, k.key),
            'must be a JSON ' || k.kind
        from meals as m
        cross join lateral pg_catalog.jsonb_array_elements(
            case when pg_catalog.jsonb_typeof(m.value -> 'items') = 'array' then m.value -> 'items' end
        ) with ordinality as e (value, ord)
        cross join item_keys as k
        where pg_catalog.jsonb_typeof(e.value) = 'object'
            and pg_catalog.jsonb_typeof(e.value -> k.key) is distinct from k.kind
    )
    select p.path || ' ' || p.message into shape_error
    from problems as p
    order by p.n, p.path
    limit 1;
    if shape_error is not null then
        raise exception 'invalid program bundle: %', shape_error
            using errcode = 'invalid_parameter_value';
    end if;
    begin
        owner_id := (bundle ->> 'user_id')::uuid;
        source_session := (bundle ->> 'source_session_id')::uuid;
    exception when invalid_text_representation then
        raise exception 'invalid program bundle: bundle.user_id and bundle.source_session_id must be uuids'
            using errcode = 'invalid_parameter_value';
    end;

    -- One writer per user at a time: versions and the active program stay consistent.
    perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('store_program_bundle:' || owner_id::text, 0)
    );

    -- Idempotent per consultation: a retry returns the program already stored.
    if source_session is not null then
        select p.id into new_program_id
        from public.programs as p
        where p.source_session_id = source_session and p.user_id = owner_id;
        if found then
            return new_program_id;
        end if;
    end if;

    select coalesce(max(p.version), 0) + 1 into next_version
    from public.programs as p
    where p.user_id = owner_id;

    update public.programs as p
    set status = 'superseded'
    where p.user_id = owner_id and p.status = 'active'
    returning p.id into previous_id;

    insert into public.programs (
        user_id, version, supersedes_program_id, source, source_session_id, primary_goal,
        program_start_date, program_duration_weeks, next_reassessment_date,
        tdee, macros, safety, feasibility, provenance, full_bundle
    )
    values (
        owner_id, next_version, previous_id, bundle ->> 'source', source_session,
        bundle ->> 'primary_goal', (bundle ->> 'program_start_date')::date,
        (bundle ->> 'program_duration_weeks')::smallint, (bundle ->> 'next_reassessment_date')::date,
        bundle -> 'tdee', bundle -> 'macros', bundle -> 'safety', bundle -> 'feasibility',
        bundle -> 'provenance', bundle
    )
    returning id into new_program_id;

    -- Ids are drawn first so that the children can name their parent by position.
    session_ids := array(
        select gen_random_uuid()
        from pg_catalog.generate_series(1, pg_catalog.jsonb_array_length(bundle -> 'sessions'))
    );
    meal_ids := array(
        select gen_random_uuid()
        from pg_catalog.generate_series(1, pg_catalog.jsonb_array_length(bundle -> 'meals'))
    );

    insert into public.session_instances (
        id, program_id, user_id, week_index, day_index, session_kind, title,
        planned_duration_minutes, time_of_day, parameters
    )
    select
        session_ids[e.ord], new_program_id, owner_id, r.week_index, r.day_index, r.session_kind, r.title,
        r.planned_duration_minutes, r.time_of_day, coalesce(r.parameters, '{}')
    from pg_catalog.jsonb_array_elements(bundle -> 'sessions') with ordinality as e (value, ord)
    cross join lateral pg_catalog.jsonb_to_record(e.value) as r (
        week_index smallint, day_index smallint, session_kind text, title text,
        planned_duration_minutes smallint, time_of_day text, parameters jsonb
    );

    insert into public.exercise_plan_items (
        session_instance_id, user_id, order_index, exercise_id, name, sets, reps_min, reps_max,
        target_rir, target_pct_1rm, rest_seconds, notes
    )
    select
        session_ids[e.ord], owner_id, x.order_index, x.exercise_id, x.name, x.sets, x.reps_min, x.reps_max,
        x.target_rir, x.target_pct_1rm, x.rest_seconds, x.notes
    from pg_catalog.jsonb_array_elements(bundle -> 'sessions') with ordinality as e (value, ord)
    cross join lateral pg_catalog.jsonb_to_recordset(e.value -> 'exercises') as x (
        order_index smallint, exercise_id text, name text, sets smallint, reps_min smallint,
        reps_max smallint, target_rir smallint, target_pct_1rm numeric, rest_seconds smallint, notes text
    );

    insert into public.meal_instances (
        id, program_id, user_id, week_index, day_index, meal_type, meal_time, targets, totals
    )
    select
        meal_ids[e.ord], new_program_id, owner_id, r.week_index, r.day_index, r.meal_type, r.meal_time,
        r.targets, r.totals
    from pg_catalog.jsonb_array_elements(bundle -> 'meals') with ordinality as e (value, ord)
    cross join lateral pg_catalog.jsonb_to_record(e.value) as r (
        week_index smallint, day_index smallint, meal_type text, meal_time time, targets jsonb, totals jsonb
    );

    insert into public.meal_item_plan (
        meal_instance_id, user_id, food_id, food_name, grams, serving_description,
        kcal, protein_g, carbs_g, fat_g
    )
    select
        meal_ids[e.ord], owner_id, x.food_id, x.food_name, x.grams, x.serving_description,
        x.kcal, x.protein_g, x.carbs_g, x.fat_g
    from pg_catalog.jsonb_array_elements(bundle -> 'meals') with ordinality as e (value, ord)
    cross join lateral pg_catalog.jsonb_to_recordset(e.value -> 'items') as x (
        food_id uuid, food_name text, grams numeric, serving_description text,
        kcal numeric, protein_g numeric, carbs_g numeric, fat_g numeric
    );

    return new_program_id;
end;
$$;

comment on function public.store_program_bundle(jsonb) is
'Stores a ProgramBundle (model_dump(mode="json")) atomically: a new program version for bundle.user_id '
'that supersedes the active one, with its sessions, exercises, meals and foods; triggers fill '
'calendar_events. Returns the program id (the existing one when bundle.source_session_id already has '
'a program). Shape errors raise 22023 naming the path; range errors raise the tables'' CHECK (23514) '
'or foreign key (23503) errors. service_role only.';

revoke execute on function public.store_program_bundle(jsonb) from public, anon, authenticated;
grant execute on function public.store_program_bundle(jsonb) to service_role;

-- ---------------------------------------------------- calendar triggers ---

create or replace function private.session_instances_to_calendar() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    insert into public.calendar_events (
        user_id, program_id, date, event_type, ref_table, ref_id, title, time_of_day
    )
    select
        n.user_id, n.program_id, p.program_start_date + n.week_index * 7 + n.day_index,
        'training', 'session_instances', n.id, n.title, n.time_of_day
    from new_rows as n
    inner join public.programs as p on n.program_id = p.id;
    return null;
end;
$$;

comment on function private.session_instances_to_calendar() is
'AFTER INSERT statement trigger on session_instances: one training calendar event per new session, '
'dated program_start_date + week_index * 7 + day_index.';

create trigger session_instances_to_calendar
after insert on public.session_instances
referencing new table as new_rows
for each statement execute function private.session_instances_to_calendar();

create or replace function private.meal_instances_to_calendar() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    insert into public.calendar_events (
        user_id, program_id, date, event_type, ref_table, ref_id, title, time_of_day
    )
    select
        n.user_id, n.program_id, p.program_start_date + n.week_index * 7 + n.day_index,
        'meal', 'meal_instances', n.id, mt.name,
        case
            when coalesce(n.meal_time, mt.typical_time) is null then null
            when coalesce(n.meal_time, mt.typical_time) < time '04:00' then 'night'
            when coalesce(n.meal_time, mt.typical_time) < time '07:00' then 'early_morning'
            when coalesce(n.meal_time, mt.typical_time) < time '11:00' then 'morning'
            when coalesce(n.meal_time, mt.typical_time) < time '14:00' then 'midday'
            when coalesce(n.meal_time, mt.typical_time) < time '17:00' then 'afternoon'
            when coalesce(n.meal_time, mt.typical_time) < time '21:00' then 'evening'
            else 'night'
        end
    from new_rows as n
    inner join public.programs as p on n.program_id = p.id
    inner join public.meal_times as mt on n.meal_type = mt.id;
    return null;
end;
$$;

comment on function private.meal_instances_to_calendar() is
'AFTER INSERT statement trigger on meal_instances: one meal calendar event per new meal, dated '
'program_start_date + week_index * 7 + day_index, titled with the meal occasion''s name; '
'time_of_day from the meal''s time (or the occasion''s typical time): early_morning [04,07), '
'morning [07,11), midday [11,14), afternoon [14,17), evening [17,21), night otherwise.';

create trigger meal_instances_to_calendar
after insert on public.meal_instances
referencing new table as new_rows
for each statement execute function private.meal_instances_to_calendar();
