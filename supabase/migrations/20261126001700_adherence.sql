-- Adherence (issue 6, item 4): every logged activity and meal is matched to the plan of its day
-- by triggers, scored per DOMAIN §6, and summarised in exact daily and weekly rollups.
--
--   * activities.local_date and meals.local_date: the user's calendar day of a log (in the
--     profile's time zone when it was logged), kept by trigger; the plan is by local date too.
--   * private.rematch_day(user, date): re-scores one user's day from scratch (greedy best pairs
--     first), writes the changed adherence_records and, for the statuses that moved,
--     calendar_events.status, session_instances.state and the rollup counts. Statement triggers
--     on activities, exercise_sets and meals call it for every day a statement touched, so
--     editing or deleting a log re-scores its day.
--   * adherence_daily / adherence_weekly: counts per user, day (ISO week) and kind, laid out
--     with the plan (private.lay_out_adherence) and recounted when a plan or a manual verdict
--     changes a day.
--   * public.set_adherence: a user's own verdict ("done, but different"), kept by re-scoring.
--   * private.close_past_days: marks planned items of ended days without a match as skipped;
--     pg_cron runs it hourly where pg_cron lives (each user's day closes after their midnight).

-- ------------------------------------------------------------ local dates ---

create function private.user_local_date(user_id uuid, at_time timestamptz)
returns date
language plpgsql
stable
set search_path = ''
as $$
begin
    return (
        select (at_time at time zone coalesce(
            (select p.timezone from public.profiles as p where p.id = user_local_date.user_id), 'UTC'
        ))::date
    );
end;
$$;

comment on function private.user_local_date(uuid, timestamptz) is
'The calendar date of at_time in the user''s time zone (profiles.timezone, UTC without a profile).';

alter table public.activities add column local_date date;
alter table public.meals add column local_date date;

update public.activities set local_date = private.user_local_date(user_id, start_time);
update public.meals set local_date = private.user_local_date(user_id, logged_at);

alter table public.activities alter column local_date set not null;
alter table public.meals alter column local_date set not null;

comment on column public.activities.local_date is
'The user''s calendar day of start_time (profiles.timezone when logged); set by trigger, read-only for '
'clients in effect. Plan matching and the day views use it.';
comment on column public.meals.local_date is
'The user''s calendar day of logged_at (profiles.timezone when logged); set by trigger. Plan matching and '
'the day views use it.';

create index activities_user_id_local_date_idx on public.activities (user_id, local_date);
create index meals_user_id_local_date_idx on public.meals (user_id, local_date);

create function private.activities_set_local_date()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    -- Inline (not private.user_local_date): it runs as the client, who may read only their profile.
    new.local_date := (new.start_time at time zone coalesce(
        (select p.timezone from public.profiles as p where p.id = new.user_id), 'UTC'
    ))::date;
    return new;
end;
$$;

comment on function private.activities_set_local_date() is
'BEFORE INSERT/UPDATE on activities: local_date = start_time''s date in the owner''s time zone.';

create trigger activities_set_local_date
before insert or update of user_id, start_time, local_date on public.activities
for each row execute function private.activities_set_local_date();

create function private.meals_set_local_date()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    -- Inline (not private.user_local_date): it runs as the client, who may read only their profile.
    new.local_date := (new.logged_at at time zone coalesce(
        (select p.timezone from public.profiles as p where p.id = new.user_id), 'UTC'
    ))::date;
    return new;
end;
$$;

comment on function private.meals_set_local_date() is
'BEFORE INSERT/UPDATE on meals: local_date = logged_at''s date in the owner''s time zone.';

create trigger meals_set_local_date
before insert or update of user_id, logged_at, local_date on public.meals
for each row execute function private.meals_set_local_date();

-- ------------------------------------------------------ adherence_records ---

-- A user's own verdict (set_adherence) is kept by re-scoring; it names no log.
alter table public.adherence_records
add column source text not null default 'auto' check (source in ('auto', 'manual'));

comment on column public.adherence_records.source is
'auto (the matching triggers) or manual (the user''s own verdict through set_adherence, kept by '
're-scoring; it names no log and has no score).';

alter table public.adherence_records drop constraint adherence_records_skipped_has_no_match;
alter table public.adherence_records add constraint adherence_records_skipped_has_no_match check (
    case source
        when 'auto' then (status = 'skipped') = (actual_ref_id is null)
        else actual_ref_id is null and similarity_score is null
    end
);

-- ---------------------------------------------------------------- rollups ---

create table public.adherence_daily (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    date date not null,
    kind text not null check (kind in ('session', 'meal')),
    planned_items integer not null check (planned_items >= 1),
    completed_items integer not null default 0 check (completed_items >= 0),
    similar_items integer not null default 0 check (similar_items >= 0),
    partial_items integer not null default 0 check (partial_items >= 0),
    skipped_items integer not null default 0 check (skipped_items >= 0),
    pending_items integer generated always as (
        planned_items - completed_items - similar_items - partial_items - skipped_items
    ) stored,
    adherence_pct numeric(4, 1) generated always as (
        round(
            100 * (completed_items + 0.75 * similar_items + 0.4 * partial_items)
            / nullif(completed_items + similar_items + partial_items + skipped_items, 0),
            1
        )
    ) stored,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint adherence_daily_user_id_date_kind_key unique (user_id, date, kind),
    constraint adherence_daily_counts_within_planned check (
        completed_items + similar_items + partial_items + skipped_items <= planned_items
    )
);

comment on table public.adherence_daily is
'Adherence per user, day and kind (session or meal): planned items of the program in force that day and '
'their verdicts. Kept exact by the matching triggers; the owner reads it.';
comment on column public.adherence_daily.date is 'The user''s local date.';
comment on column public.adherence_daily.kind is 'session (training) or meal.';
comment on column public.adherence_daily.planned_items is 'Planned items of that kind on that day (>= 1).';
comment on column public.adherence_daily.completed_items is
'Items matched with a score >= 0.8 (or marked so).';
comment on column public.adherence_daily.similar_items is
'Items matched with a score in [0.6, 0.8) (or marked so).';
comment on column public.adherence_daily.partial_items is
'Items matched with a score in [0.3, 0.6) (or marked so).';
comment on column public.adherence_daily.skipped_items is 'Items without a match once the day has passed.';
comment on column public.adherence_daily.pending_items is
'Items not decided yet (the day is not over, no match).';
comment on column public.adherence_daily.adherence_pct is
'100 x (completed + 0.75 similar + 0.4 partial) / decided items (DOMAIN §6); NULL while none is decided.';

create table public.adherence_weekly (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    week_start date not null check (extract(isodow from week_start) = 1),
    kind text not null check (kind in ('session', 'meal')),
    planned_items integer not null check (planned_items >= 1),
    completed_items integer not null default 0 check (completed_items >= 0),
    similar_items integer not null default 0 check (similar_items >= 0),
    partial_items integer not null default 0 check (partial_items >= 0),
    skipped_items integer not null default 0 check (skipped_items >= 0),
    pending_items integer generated always as (
        planned_items - completed_items - similar_items - partial_items - skipped_items
    ) stored,
    adherence_pct numeric(4, 1) generated always as (
        round(
            100 * (completed_items + 0.75 * similar_items + 0.4 * partial_items)
            / nullif(completed_items + similar_items + partial_items + skipped_items, 0),
            1
        )
    ) stored,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint adherence_weekly_user_id_week_start_kind_key unique (user_id, week_start, kind),
    constraint adherence_weekly_counts_within_planned check (
        completed_items + similar_items + partial_items + skipped_items <= planned_items
    )
);

comment on table public.adherence_weekly is
'Adherence per user, ISO week (Monday to Sunday, local dates) and kind: the sums of adherence_daily. '
'Kept exact by the matching triggers; the owner reads it.';
comment on column public.adherence_weekly.week_start is 'Monday of the ISO week (local date).';
comment on column public.adherence_weekly.kind is 'session (training) or meal.';
comment on column public.adherence_weekly.planned_items is 'Planned items of that kind in the week (>= 1).';
comment on column public.adherence_weekly.completed_items is
'Sum of adherence_daily.completed_items over the week.';
comment on column public.adherence_weekly.similar_items is
'Sum of adherence_daily.similar_items over the week.';
comment on column public.adherence_weekly.partial_items is
'Sum of adherence_daily.partial_items over the week.';
comment on column public.adherence_weekly.skipped_items is
'Sum of adherence_daily.skipped_items over the week.';
comment on column public.adherence_weekly.pending_items is 'Items not decided yet.';
comment on column public.adherence_weekly.adherence_pct is
'100 x (completed + 0.75 similar + 0.4 partial) / decided items (DOMAIN §6); NULL while none is decided.';

create trigger adherence_daily_set_updated_at before update on public.adherence_daily
for each row execute function private.set_updated_at();
create trigger adherence_weekly_set_updated_at before update on public.adherence_weekly
for each row execute function private.set_updated_at();

alter table public.adherence_daily enable row level security;
alter table public.adherence_weekly enable row level security;

revoke all on public.adherence_daily, public.adherence_weekly from anon, authenticated;
grant select on public.adherence_daily, public.adherence_weekly to authenticated;
grant select, insert, update, delete on public.adherence_daily, public.adherence_weekly to service_role;

-- --------------------------------------------------------------- scoring ---
--
-- The matching functions run their statements with generic plans (plan_cache_mode): their
-- queries are per user and day, which an index answers whatever the values, and re-planning them
-- for every log (PL/pgSQL's custom plans) cost more than running them.

create function private.program_in_force(user_id uuid, day date)
returns uuid
language plpgsql
stable
set search_path = ''
as $$
begin
    return (
        select p.id
        from public.programs as p
        where
            p.user_id = program_in_force.user_id
            and p.status <> 'archived'
            and p.program_start_date <= program_in_force.day
        order by p.version desc
        limit 1
    );
end;
$$;

comment on function private.program_in_force(uuid, date) is
'The user''s program that plans a day: the highest version not archived that started on or before it.';

create function private.time_of_day_slot(clock time)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
    return (
        select case
            when clock < time '04:00' then 'night'
            when clock < time '07:00' then 'early_morning'
            when clock < time '11:00' then 'morning'
            when clock < time '14:00' then 'midday'
            when clock < time '17:00' then 'afternoon'
            when clock < time '21:00' then 'evening'
            else 'night'
        end
    );
end;
$$;

comment on function private.time_of_day_slot(time) is
'The planning slot of a local clock time: early_morning [04,07), morning [07,11), midday [11,14), '
'afternoon [14,17), evening [17,21), night otherwise (as the calendar lays out meals).';

create function private.session_pairs(
    user_id uuid, day date, zone text, ids uuid[], kinds text[], minutes integer[], slots text[]
)
returns table (item_id uuid, log_id uuid, score numeric, terms numeric[])
language plpgsql
stable
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
begin
    return query
        with items as materialized (
            select i.id, i.session_kind, i.planned_duration_minutes, i.time_of_day
            from unnest(ids, kinds, minutes, slots)
                as i (id, session_kind, planned_duration_minutes, time_of_day)
            where i.session_kind is not null
        ),

        plan_items as materialized (
            select
                e.session_instance_id,
                coalesce(e.exercise_id, 'custom:' || lower(btrim(e.name))) as exercise_key,
                e.sets,
                (e.reps_min + e.reps_max) / 2.0 as reps
            from public.exercise_plan_items as e
            where
                e.user_id = session_pairs.user_id
                and e.session_instance_id in (select i.id from items as i)
        ),

        activities as materialized (
            select
                a.id,
                a.category,
                a.duration_minutes,
                private.time_of_day_slot((a.start_time at time zone session_pairs.zone)::time) as slot
            from public.activities as a
            where a.user_id = session_pairs.user_id and a.local_date = session_pairs.day
        ),

        -- Working sets; a set's load is its weight, or 1 for body weight.
        work_sets as materialized (
            select
                x.activity_id,
                coalesce(x.exercise_id, 'custom:' || lower(btrim(x.exercise_name))) as exercise_key,
                x.reps,
                case when x.weight_kg > 0 then x.weight_kg else 1 end as load
            from public.exercise_sets as x
            where
                x.user_id = session_pairs.user_id
                and x.activity_id in (select a.id from activities as a)
                and not x.is_warmup
        ),

        performed as (
            select
                w.activity_id,
                array_agg(distinct w.exercise_key) as exercise_keys,
                sum(w.reps * w.load) filter (where w.reps > 0) as volume,
                avg(w.load) filter (where w.reps > 0) as mean_load
            from work_sets as w
            group by w.activity_id
        ),

        exercise_loads as (
            select w.activity_id, w.exercise_key, avg(w.load) as mean_load
            from work_sets as w
            where w.reps > 0
            group by w.activity_id, w.exercise_key
        ),

        planned as (
            select
                p.session_instance_id,
                array_agg(distinct p.exercise_key) as exercise_keys,
                bool_or(p.reps is not null) as has_reps
            from plan_items as p
            group by p.session_instance_id
        ),

        terms as (
            select
                i.id as item_id,
                a.id as log_id,
                case
                    when (i.session_kind, a.category) in (
                        ('strength', 'strength'), ('cardio', 'cardio_steady'),
                        ('hiit', 'cardio_interval'), ('mobility', 'flexibility'), ('sport', 'sports'),
                        ('active_recovery', 'cardio_steady'), ('active_recovery', 'flexibility')
                    ) then 0.4
                    else 0
                end as category,
                case
                    when pl.exercise_keys is null then 0.3
                    else 0.3 * cardinality(array(
                        select unnest(pl.exercise_keys)
                        intersect
                        select unnest(coalesce(pf.exercise_keys, '{}'))
                    )) / cardinality(pl.exercise_keys)
                end as exercises,
                -- Planned kg: the load the user lifted for that exercise, else their mean working load.
                0.2 * case
                    when pl.has_reps and pf.volume > 0 then (
                        select least(sum(p.sets * p.reps * coalesce(l.mean_load, pf.mean_load)), pf.volume)
                            / greatest(sum(p.sets * p.reps * coalesce(l.mean_load, pf.mean_load)), pf.volume)
                        from plan_items as p
                        left join exercise_loads as l
                            on l.activity_id = a.id and p.exercise_key = l.exercise_key
                        where p.session_instance_id = i.id and p.reps is not null
                    )
                    when greatest(i.planned_duration_minutes, a.duration_minutes) > 0
                        then least(i.planned_duration_minutes, a.duration_minutes)::numeric
                        / greatest(i.planned_duration_minutes, a.duration_minutes)
                    else 0
                end as volume,
                case when i.time_of_day is null or i.time_of_day = a.slot then 0.1 else 0 end as time_of_day
            from items as i
            cross join activities as a
            left join planned as pl on i.id = pl.session_instance_id
            left join performed as pf on a.id = pf.activity_id
        )

        select
            t.item_id,
            t.log_id,
            -- Rounded to 12 places first, as in meal_pairs.
            round(round(t.category + t.exercises + t.volume + t.time_of_day, 12), 3),
            array[t.category, t.exercises, t.volume, t.time_of_day]
        from terms as t;
end;
$$;

comment on function private.session_pairs(uuid, date, text, uuid[], text[], integer[], text[]) is
'DOMAIN §6 similarity of every planned session (ids[i] of session kind kinds[i], planned minutes[i], '
'time of day slots[i]; entries with a NULL kind are not sessions) with every activity the user logged '
'on day: category 0.4, exercise overlap 0.3, volume ratio 0.2 (sets x reps x kg, else minutes), '
'time of day 0.1 (zone = the user''s time zone). Returns (session id, activity id, score, the four '
'weighted terms unrounded).';

create function private.meal_pairs(
    user_id uuid,
    day date,
    ids uuid[],
    meal_types text[],
    kcal numeric[],
    protein numeric[],
    carbs numeric[],
    fat numeric[]
)
returns table (item_id uuid, log_id uuid, score numeric, terms numeric[])
language plpgsql
stable
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
begin
    return query
    -- The score is rounded to 12 places first: numeric division leaves ~1e-20 errors, which must
    -- not turn an exact half (e.g. 0.3875) down.
    select
        g.id,
        ml.id,
        round(round(t.meal_type + t.kcal + t.protein + t.carbs + t.fat, 12), 3),
        array[t.meal_type, t.kcal, t.protein, t.carbs, t.fat]
    from unnest(ids, meal_types, kcal, protein, carbs, fat)
        as g (id, meal_type, kcal, protein, carbs, fat)
    inner join public.meals as ml on ml.user_id = meal_pairs.user_id and ml.local_date = meal_pairs.day
    -- weight x accuracy max(0, 1 - |actual - target| / target); a zero target is met only by zero.
    cross join lateral (
        select
            case when ml.meal_type = g.meal_type then 0.3 else 0 end as meal_type,
            0.25 * case
                when g.kcal > 0 then greatest(0, 1 - abs(ml.total_kcal - g.kcal) / g.kcal)
                else (ml.total_kcal = 0)::integer
            end as kcal,
            0.20 * case
                when g.protein > 0 then greatest(0, 1 - abs(ml.total_protein_g - g.protein) / g.protein)
                else (ml.total_protein_g = 0)::integer
            end as protein,
            0.15 * case
                when g.carbs > 0 then greatest(0, 1 - abs(ml.total_carbs_g - g.carbs) / g.carbs)
                else (ml.total_carbs_g = 0)::integer
            end as carbs,
            0.10 * case
                when g.fat > 0 then greatest(0, 1 - abs(ml.total_fat_g - g.fat) / g.fat)
                else (ml.total_fat_g = 0)::integer
            end as fat
    ) as t
    where
        g.meal_type is not null
        and (
            ml.total_kcal > 0
            or exists (select from public.meal_items as x where x.meal_id = ml.id and x.user_id = ml.user_id)
        );
end;
$$;

comment on function private.meal_pairs(
    uuid, date, uuid[], text[], numeric[], numeric[], numeric[], numeric[]
) is
'DOMAIN §6 similarity of every planned meal (ids[i] of meal_types[i] with targets kcal[i], protein[i], '
'carbs[i], fat[i]; entries with a NULL type are not meals) with every meal (with items) the user logged '
'on day: meal type 0.3, then kcal 0.25, protein 0.20, carbs 0.15, fat 0.10, each x max(0, '
'1 - |a - t| / t) (a zero target is met only by zero). Returns (meal instance id, meal id, score, the '
'five weighted terms unrounded).';

-- -------------------------------------------------------------- matching ---

create function private.refresh_adherence_rollups(user_id uuid, day date, kinds text[], program uuid)
returns void
language plpgsql
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
declare
    monday date := pg_catalog.date_trunc('week', day)::date;
begin
    with counts as (
        select
            k.kind,
            count(*) as planned_items,
            count(*) filter (where r.status = 'completed') as completed_items,
            count(*) filter (where r.status = 'similar') as similar_items,
            count(*) filter (where r.status = 'partial') as partial_items,
            count(*) filter (where r.status = 'skipped') as skipped_items
        from public.calendar_events as ce
        cross join lateral (
            select case ce.event_type when 'training' then 'session' else 'meal' end as kind
        ) as k
        left join public.session_instances as s
            on ce.ref_table = 'session_instances' and ce.ref_id = s.id
        left join public.adherence_records as r
            on k.kind = r.planned_entity_type and ce.ref_id = r.planned_entity_id and ce.date = r.date
        where
            ce.user_id = refresh_adherence_rollups.user_id
            and ce.date = refresh_adherence_rollups.day
            and ce.program_id = program
            and k.kind = any(kinds)
            and s.session_kind is distinct from 'rest'
        group by k.kind
    ),

    upserted as (
        insert into public.adherence_daily as d (
            user_id, date, kind, planned_items, completed_items, similar_items, partial_items,
            skipped_items
        )
        select
            refresh_adherence_rollups.user_id, refresh_adherence_rollups.day, c.kind, c.planned_items,
            c.completed_items, c.similar_items, c.partial_items, c.skipped_items
        from counts as c
        on conflict on constraint adherence_daily_user_id_date_kind_key do update set
            planned_items = excluded.planned_items,
            completed_items = excluded.completed_items,
            similar_items = excluded.similar_items,
            partial_items = excluded.partial_items,
            skipped_items = excluded.skipped_items
        where (d.planned_items, d.completed_items, d.similar_items, d.partial_items, d.skipped_items)
        is distinct from (
            excluded.planned_items, excluded.completed_items, excluded.similar_items,
            excluded.partial_items, excluded.skipped_items
        )
        returning d.kind
    )

    delete from public.adherence_daily as d
    where
        d.user_id = refresh_adherence_rollups.user_id
        and d.date = refresh_adherence_rollups.day
        and d.kind = any(kinds)
        and d.kind not in (select c.kind from counts as c);

    with sums as (
        select
            d.kind,
            sum(d.planned_items) as planned_items,
            sum(d.completed_items) as completed_items,
            sum(d.similar_items) as similar_items,
            sum(d.partial_items) as partial_items,
            sum(d.skipped_items) as skipped_items
        from public.adherence_daily as d
        where
            d.user_id = refresh_adherence_rollups.user_id
            and d.date between monday and monday + 6
            and d.kind = any(kinds)
        group by d.kind
    ),

    upserted as (
        insert into public.adherence_weekly as w (
            user_id, week_start, kind, planned_items, completed_items, similar_items, partial_items,
            skipped_items
        )
        select
            refresh_adherence_rollups.user_id, monday, s.kind, s.planned_items, s.completed_items,
            s.similar_items, s.partial_items, s.skipped_items
        from sums as s
        on conflict on constraint adherence_weekly_user_id_week_start_kind_key do update set
            planned_items = excluded.planned_items,
            completed_items = excluded.completed_items,
            similar_items = excluded.similar_items,
            partial_items = excluded.partial_items,
            skipped_items = excluded.skipped_items
        where (w.planned_items, w.completed_items, w.similar_items, w.partial_items, w.skipped_items)
        is distinct from (
            excluded.planned_items, excluded.completed_items, excluded.similar_items,
            excluded.partial_items, excluded.skipped_items
        )
        returning w.kind
    )

    delete from public.adherence_weekly as w
    where
        w.user_id = refresh_adherence_rollups.user_id
        and w.week_start = monday
        and w.kind = any(kinds)
        and w.kind not in (select s.kind from sums as s);
end;
$$;

comment on function private.refresh_adherence_rollups(uuid, date, text[], uuid) is
'Recomputes the user''s adherence_daily rows of a day for kinds (planned items of program, the one in '
'force that day, and their records) and the adherence_weekly rows of its ISO week (sums of the daily rows).';

create function private.rematch_day(
    user_id uuid,
    day date,
    kind text default null,
    as_of timestamptz default now(),
    refresh boolean default false
)
returns void
language plpgsql
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
declare
    kinds text[] := case when kind is null then array['session', 'meal'] else array[kind] end;
    zone text;
    program uuid;
    item_ids uuid[];
    item_kinds text[];
    item_slots text[];
    session_kinds text[];
    session_minutes integer[];
    meal_types text[];
    target_kcal numeric[];
    target_protein numeric[];
    target_carbs numeric[];
    target_fat numeric[];
    pair record;
    matched_items uuid[] := array[]::uuid[];
    matched_logs uuid[] := array[]::uuid[];
    scores numeric[] := array[]::numeric[];
    matched_terms jsonb[] := array[]::jsonb[];
    move_kinds text[];
    move_items uuid[];
    move_old text[];
    move_new text[];
    rollups_current boolean;
begin
    -- One re-scoring at a time per user and week: the day's matches and the week's rollup are
    -- read and written as a whole (READ COMMITTED: the next one sees this one's rows).
    select
        coalesce((select p.timezone from public.profiles as p where p.id = rematch_day.user_id), 'UTC'),
        private.program_in_force(rematch_day.user_id, day)
    into zone, program
    from (
        select pg_catalog.pg_advisory_xact_lock(
            pg_catalog.hashtext('private.rematch_day'),
            pg_catalog.hashtext(rematch_day.user_id::text || pg_catalog.date_trunc('week', day)::date::text)
        )
    ) as locked;
    if program is null then
        -- Nothing planned: only rollup rows of a program that no longer plans the day can be stale.
        if exists (
            select from public.adherence_daily as d
            where d.user_id = rematch_day.user_id and d.date = rematch_day.day
        ) then
            perform private.refresh_adherence_rollups(rematch_day.user_id, day, kinds, null);
        end if;
        return;
    end if;

    -- The items matched automatically: the day's planned items of these kinds without a manual
    -- verdict, with what their scores need (read once, handed to the pair functions as arrays).
    select
        array_agg(ce.ref_id),
        array_agg(k.kind),
        array_agg(ce.time_of_day),
        array_agg(s.session_kind),
        array_agg(s.planned_duration_minutes::integer),
        array_agg(m.meal_type),
        array_agg((m.targets ->> 'kcal')::numeric),
        array_agg((m.targets ->> 'protein_g')::numeric),
        array_agg((m.targets ->> 'carbs_g')::numeric),
        array_agg((m.targets ->> 'fat_g')::numeric)
    into
        item_ids, item_kinds, item_slots, session_kinds, session_minutes, meal_types, target_kcal,
        target_protein, target_carbs, target_fat
    from public.calendar_events as ce
    cross join lateral (
        select case ce.event_type when 'training' then 'session' else 'meal' end as kind
    ) as k
    left join public.session_instances as s
        on ce.ref_table = 'session_instances' and ce.ref_id = s.id
    left join public.meal_instances as m
        on ce.ref_table = 'meal_instances' and ce.ref_id = m.id
    where
        ce.user_id = rematch_day.user_id
        and ce.date = rematch_day.day
        and ce.program_id = program
        and k.kind = any(kinds)
        and s.session_kind is distinct from 'rest'
        and not exists (
            select from public.adherence_records as r
            where
                r.planned_entity_type = k.kind
                and r.planned_entity_id = ce.ref_id
                and r.source = 'manual'
        );

    -- Greedy: best pairs first; a pair is taken when neither side is taken yet.
    if item_ids is not null then
        for pair in
            select 'session' as kind, p.item_id, p.log_id, p.score, p.terms
            from private.session_pairs(
                rematch_day.user_id, day, zone, item_ids, session_kinds, session_minutes, item_slots
            ) as p
            where 'session' = any(kinds) and p.score >= 0.3
            union all
            select 'meal', p.item_id, p.log_id, p.score, p.terms
            from private.meal_pairs(
                rematch_day.user_id, day, item_ids, meal_types, target_kcal, target_protein,
                target_carbs, target_fat
            ) as p
            where 'meal' = any(kinds) and p.score >= 0.3
            order by score desc, item_id asc, log_id asc
        loop
            if pair.item_id = any(matched_items) or pair.log_id = any(matched_logs) then
                continue;
            end if;
            matched_items := matched_items || pair.item_id;
            matched_logs := matched_logs || pair.log_id;
            scores := scores || pair.score;
            matched_terms := matched_terms || to_jsonb(pair.terms);
        end loop;
    end if;

    -- The verdicts of the automatic items: matched, skipped (the day is over) or none yet.
    with verdicts as (
        select
            i.item_id,
            i.kind,
            m.log_id,
            case
                when m.log_id is null then null
                when i.kind = 'session' then 'activity'
                else 'meal'
            end as log_type,
            m.score,
            -- The weighted terms by name, rounded to 12 places first (see meal_pairs), then to 4.
            coalesce(
                (
                    select
                        jsonb_object_agg(
                            n.name, round(round((m.terms ->> (n.ordinal - 1)::integer)::numeric, 12), 4)
                        )
                    from unnest(
                        case i.kind
                            when 'session' then array['category', 'exercises', 'volume', 'time_of_day']
                            else array['meal_type', 'kcal', 'protein', 'carbs', 'fat']
                        end
                    ) with ordinality as n (name, ordinal)
                    where m.terms is not null
                ),
                '{}'
            ) as breakdown,
            -- DOMAIN §6 bands (only pairs scoring >= 0.3 were matched).
            case
                when m.score >= 0.8 then 'completed'
                when m.score >= 0.6 then 'similar'
                when m.score >= 0.3 then 'partial'
                else 'skipped'
            end as status
        from unnest(item_ids, item_kinds) as i (item_id, kind)
        left join unnest(matched_items, matched_logs, scores, matched_terms)
            as m (item_id, log_id, score, terms)
            on i.item_id = m.item_id
        where m.item_id is not null or rematch_day.day < (as_of at time zone zone)::date
    ),

    previous as (
        select i.item_id, i.kind, r.date, r.status, r.actual_ref_id, r.similarity_score, r.breakdown
        from unnest(item_ids, item_kinds) as i (item_id, kind)
        inner join public.adherence_records as r
            on i.kind = r.planned_entity_type and i.item_id = r.planned_entity_id
    ),

    -- Only what changed is written (most re-scorings change one item or none).
    inserted as (
        insert into public.adherence_records (
            user_id, date, planned_entity_type, planned_entity_id, actual_ref_type, actual_ref_id,
            status, similarity_score, breakdown, source
        )
        select
            rematch_day.user_id,
            rematch_day.day,
            v.kind,
            v.item_id,
            v.log_type,
            v.log_id,
            v.status,
            v.score,
            v.breakdown,
            'auto'
        from verdicts as v
        where v.item_id not in (select p.item_id from previous as p)
        returning 1
    ),

    updated as (
        update public.adherence_records as r
        set
            date = rematch_day.day,
            actual_ref_type = v.log_type,
            actual_ref_id = v.log_id,
            status = v.status,
            similarity_score = v.score,
            breakdown = v.breakdown
        from verdicts as v
        inner join previous as p on v.item_id = p.item_id
        where
            r.planned_entity_type = v.kind
            and r.planned_entity_id = v.item_id
            and (p.date, p.actual_ref_id, p.status, p.similarity_score, p.breakdown)
            is distinct from (rematch_day.day, v.log_id, v.status, v.score, v.breakdown)
        returning 1
    ),

    deleted as (
        delete from public.adherence_records as r
        using previous as p
        where
            r.planned_entity_type = p.kind
            and r.planned_entity_id = p.item_id
            and p.item_id not in (select v.item_id from verdicts as v)
        returning 1
    ),

    -- Status changes of the automatic items.
    moves as (
        select
            coalesce(v.kind, p.kind) as kind,
            coalesce(v.item_id, p.item_id) as item_id,
            p.status as old_status,
            v.status as new_status
        from verdicts as v
        full join previous as p on v.item_id = p.item_id
        where v.status is distinct from p.status
    )

    select array_agg(m.kind), array_agg(m.item_id), array_agg(m.old_status), array_agg(m.new_status)
    into move_kinds, move_items, move_old, move_new
    from moves as m;

    if move_items is null and not refresh then
        return;  -- no status changed: the calendar and the rollups stand
    end if;

    -- The calendar, the sessions' own state and the rollups follow the status changes (the
    -- rollups by the difference in counts).
    with moves as (
        select m.kind, m.item_id, m.old_status, m.new_status
        from unnest(move_kinds, move_items, move_old, move_new) as m (kind, item_id, old_status, new_status)
    ),

    deltas as (
        select
            m.kind,
            count(*) filter (where m.new_status = 'completed')
            - count(*) filter (where m.old_status = 'completed') as completed_items,
            count(*) filter (where m.new_status = 'similar')
            - count(*) filter (where m.old_status = 'similar') as similar_items,
            count(*) filter (where m.new_status = 'partial')
            - count(*) filter (where m.old_status = 'partial') as partial_items,
            count(*) filter (where m.new_status = 'skipped')
            - count(*) filter (where m.old_status = 'skipped') as skipped_items
        from moves as m
        group by m.kind
    ),

    daily as (
        update public.adherence_daily as d
        set
            completed_items = d.completed_items + x.completed_items,
            similar_items = d.similar_items + x.similar_items,
            partial_items = d.partial_items + x.partial_items,
            skipped_items = d.skipped_items + x.skipped_items
        from deltas as x
        where
            not rematch_day.refresh  -- a recount follows
            and d.user_id = rematch_day.user_id
            and d.date = rematch_day.day
            and d.kind = x.kind
        returning d.kind
    ),

    weekly as (
        update public.adherence_weekly as w
        set
            completed_items = w.completed_items + x.completed_items,
            similar_items = w.similar_items + x.similar_items,
            partial_items = w.partial_items + x.partial_items,
            skipped_items = w.skipped_items + x.skipped_items
        from deltas as x
        where
            not rematch_day.refresh
            and w.user_id = rematch_day.user_id
            and w.week_start = pg_catalog.date_trunc('week', rematch_day.day)::date
            and w.kind = x.kind
            and x.kind in (select d.kind from daily as d)  -- else both are recounted below
        returning w.kind
    ),

    events as (
        update public.calendar_events as ce
        set status = coalesce(
            m.new_status, case when ce.status = 'modified' then 'modified' else 'planned' end
        )
        from moves as m
        where
            ce.user_id = rematch_day.user_id
            and ce.date = rematch_day.day
            and ce.program_id = program
            and ce.ref_id = m.item_id
        returning ce.id
    ),

    sessions as (
        update public.session_instances as si
        set state = coalesce(
            m.new_status, case when si.state = 'modified' then 'modified' else 'planned' end
        )
        from moves as m
        where m.kind = 'session' and si.id = m.item_id and si.user_id = rematch_day.user_id
        returning si.id
    )

    -- Every kind with a change must have found its rollup rows (laid out with the plan);
    -- otherwise they are recounted below.
    select
        (select count(*) from deltas as x) = (select count(*) from daily as d)
        and (select count(*) from deltas as x) = (select count(*) from weekly as w)
    into rollups_current;

    if rollups_current and not refresh then
        return;
    end if;
    -- Recount: asked for (a manual verdict or a new plan changed the day) or rollup rows missing.
    with statuses as (
        select
            ce.id as event_id,
            ce.ref_table,
            ce.ref_id,
            coalesce(r.status, case when ce.status = 'modified' then 'modified' else 'planned' end) as status
        from public.calendar_events as ce
        cross join lateral (
            select case ce.event_type when 'training' then 'session' else 'meal' end as kind
        ) as k
        left join public.adherence_records as r
            on k.kind = r.planned_entity_type and ce.ref_id = r.planned_entity_id and ce.date = r.date
        where
            ce.user_id = rematch_day.user_id
            and ce.date = rematch_day.day
            and ce.program_id = program
            and k.kind = any(kinds)
    ),

    events as (
        update public.calendar_events as ce
        set status = s.status
        from statuses as s
        where ce.id = s.event_id and ce.status is distinct from s.status
        returning ce.id
    )

    update public.session_instances as si
    set state = s.status
    from statuses as s
    where
        s.ref_table = 'session_instances'
        and si.id = s.ref_id
        and si.user_id = rematch_day.user_id
        and si.state is distinct from s.status;

    perform private.refresh_adherence_rollups(rematch_day.user_id, day, kinds, program);
end;
$$;

comment on function private.rematch_day(uuid, date, text, timestamptz, boolean) is
'Re-scores one user''s day (DOMAIN §6) for kind (session, meal, or NULL for both): every planned item '
'of the program in force (rest sessions and items with a manual verdict aside) against every activity '
'or meal logged that local day, best pairs first; writes adherence_records (matched, or skipped once '
'the day is over at as_of) and, for the items whose status changed, the calendar status, the session '
'state and the rollup counts; with refresh (or rollup rows missing) the whole day''s statuses and rollups '
'are recomputed. Serialized per user and ISO week.';

-- -------------------------------------------------------------- triggers ---

create function private.rematch_days(user_ids uuid[], days date[], kind text default null)
returns void
language plpgsql
set search_path = ''
as $$
declare
    entry record;
begin
    -- In (user, date) order, so concurrent statements take the week locks in the same order.
    for entry in
        select distinct d.user_id, d.day
        from unnest(user_ids, days) as d (user_id, day)
        where d.user_id is not null and d.day is not null
        order by d.user_id, d.day
    loop
        perform private.rematch_day(entry.user_id, entry.day, kind);
    end loop;
end;
$$;

comment on function private.rematch_days(uuid[], date[], text) is
'Re-scores kind (NULL: both) of each distinct (user_ids[i], days[i]) with private.rematch_day, in '
'(user, date) order.';

create function private.logs_rematch()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    user_ids uuid[];
    days date[];
begin
    if tg_op = 'INSERT' then
        select array_agg(n.user_id), array_agg(n.local_date) into user_ids, days from new_rows as n;
    elsif tg_op = 'DELETE' then
        select array_agg(o.user_id), array_agg(o.local_date) into user_ids, days from old_rows as o;
    else
        select array_agg(d.user_id), array_agg(d.local_date) into user_ids, days
        from (
            select o.user_id, o.local_date from old_rows as o
            union
            select n.user_id, n.local_date from new_rows as n
        ) as d;
    end if;
    perform private.rematch_days(
        user_ids, days, case tg_table_name when 'activities' then 'session' else 'meal' end
    );
    return null;
end;
$$;

comment on function private.logs_rematch() is
'AFTER INSERT/UPDATE/DELETE statement trigger on activities and meals (transition tables old_rows, '
'new_rows): re-scores every (owner, local_date) the statement touched, before and after. Security '
'definer: it writes the owner''s adherence, which clients only read; it reads only the owners'' rows.';

create trigger activities_rematch_insert
after insert on public.activities
referencing new table as new_rows
for each statement execute function private.logs_rematch();

create trigger activities_rematch_update
after update on public.activities
referencing old table as old_rows new table as new_rows
for each statement execute function private.logs_rematch();

create trigger activities_rematch_delete
after delete on public.activities
referencing old table as old_rows
for each statement execute function private.logs_rematch();

-- No insert trigger on meals: a new meal has no items yet (its totals are 0 and empty meals are not
-- matched); adding its items updates its totals, which re-scores the day.
create trigger meals_rematch_update
after update on public.meals
referencing old table as old_rows new table as new_rows
for each statement execute function private.logs_rematch();

create trigger meals_rematch_delete
after delete on public.meals
referencing old table as old_rows
for each statement execute function private.logs_rematch();

create function private.exercise_sets_rematch()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    user_ids uuid[];
    days date[];
begin
    -- Sets of a deleted activity are re-scored by the activity's own trigger (it is gone here).
    if tg_op = 'INSERT' then
        select array_agg(a.user_id), array_agg(a.local_date) into user_ids, days
        from public.activities as a
        where a.id in (select n.activity_id from new_rows as n);
    elsif tg_op = 'DELETE' then
        select array_agg(a.user_id), array_agg(a.local_date) into user_ids, days
        from public.activities as a
        where a.id in (select o.activity_id from old_rows as o);
    else
        select array_agg(a.user_id), array_agg(a.local_date) into user_ids, days
        from public.activities as a
        where a.id in (select o.activity_id from old_rows as o union select n.activity_id from new_rows as n);
    end if;
    perform private.rematch_days(user_ids, days, 'session');
    return null;
end;
$$;

comment on function private.exercise_sets_rematch() is
'AFTER INSERT/UPDATE/DELETE statement trigger on exercise_sets: re-scores the days of the activities '
'whose sets changed (security definer, as private.logs_rematch).';

create trigger exercise_sets_rematch_insert
after insert on public.exercise_sets
referencing new table as new_rows
for each statement execute function private.exercise_sets_rematch();

create trigger exercise_sets_rematch_update
after update on public.exercise_sets
referencing old table as old_rows new table as new_rows
for each statement execute function private.exercise_sets_rematch();

create trigger exercise_sets_rematch_delete
after delete on public.exercise_sets
referencing old table as old_rows
for each statement execute function private.exercise_sets_rematch();

create function private.lay_out_adherence(user_ids uuid[], days date[])
returns void
language plpgsql
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
declare
    entry record;
begin
    -- Days that have begun may already have logs to match; later days get their rollup rows
    -- (every item pending), so the rollups count every planned day from the start.
    for entry in
        select distinct d.user_id, d.day, d.day <= private.user_local_date(d.user_id, now()) as begun
        from unnest(user_ids, days) as d (user_id, day)
        order by d.user_id, d.day
    loop
        if entry.begun then
            perform private.rematch_day(entry.user_id, entry.day, null, now(), true);
        else
            perform private.refresh_adherence_rollups(
                entry.user_id, entry.day, array['session', 'meal'],
                private.program_in_force(entry.user_id, entry.day)
            );
        end if;
    end loop;
end;
$$;

comment on function private.lay_out_adherence(uuid[], date[]) is
'For newly planned days (user_ids[i], days[i]): re-scores those that have begun in the user''s time '
'zone (logs may exist) and lays out the rollups of the later ones (every item pending).';

create function private.calendar_events_rematch()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    user_ids uuid[];
    days date[];
begin
    select array_agg(n.user_id), array_agg(n.date) into user_ids, days from new_rows as n;
    perform private.lay_out_adherence(user_ids, days);
    return null;
end;
$$;

comment on function private.calendar_events_rematch() is
'AFTER INSERT statement trigger on calendar_events: private.lay_out_adherence for the new events'' '
'days (a program stored mid-day matches what was already logged).';

create trigger calendar_events_rematch
after insert on public.calendar_events
referencing new table as new_rows
for each statement execute function private.calendar_events_rematch();

-- ---------------------------------------------------- manual adherence ---

create function public.set_adherence(event_id uuid, status text)
returns public.adherence_records
language plpgsql
security definer
set search_path = ''
as $$
declare
    uid uuid := (select auth.uid());
    event public.calendar_events;
    kind text;
    verdict public.adherence_records;
begin
    if uid is null then
        raise exception using errcode = '42501', message = 'sign in to set adherence';
    end if;
    select ce.* into event
    from public.calendar_events as ce
    where ce.id = set_adherence.event_id and ce.user_id = uid;
    if not found then
        raise exception using errcode = 'PT404', message = 'calendar event not found';
    end if;
    if set_adherence.status is not null
        and set_adherence.status not in ('completed', 'similar', 'partial', 'skipped') then
        raise exception using
            errcode = '22023',
            message = 'status must be completed, similar, partial or skipped (or null to clear)';
    end if;
    if event.date > private.user_local_date(uid, now()) then
        raise exception using
            errcode = '22023', message = 'adherence can only be set for today or an earlier day';
    end if;
    if event.program_id is distinct from private.program_in_force(uid, event.date) then
        raise exception using
            errcode = '22023', message = 'this event belongs to a program that no longer plans its day';
    end if;
    kind := case event.event_type when 'training' then 'session' else 'meal' end;
    if set_adherence.status is null then
        delete from public.adherence_records as r
        where r.planned_entity_type = kind and r.planned_entity_id = event.ref_id and r.source = 'manual';
    else
        insert into public.adherence_records as r (
            user_id, date, planned_entity_type, planned_entity_id, status, breakdown, source
        )
        values (uid, event.date, kind, event.ref_id, set_adherence.status, '{"set_by": "user"}', 'manual')
        on conflict on constraint adherence_records_planned_entity_key do update set
            date = excluded.date,
            actual_ref_type = null,
            actual_ref_id = null,
            status = excluded.status,
            similarity_score = null,
            breakdown = excluded.breakdown,
            source = 'manual';
    end if;
    perform private.rematch_day(uid, event.date, kind, now(), true);
    select r.* into verdict
    from public.adherence_records as r
    where r.planned_entity_type = kind and r.planned_entity_id = event.ref_id;
    return verdict;
end;
$$;

comment on function public.set_adherence(uuid, text) is
'The caller''s own verdict on one of their calendar events of today or earlier (e.g. "done, but '
'different" = similar): status completed, similar, partial or skipped is kept by re-scoring; NULL returns '
'the item to automatic matching. Re-scores the day and returns the item''s adherence record (NULL when '
'none). Errors: 42501 not signed in, PT404 not the caller''s event, 22023 bad status, future day or an '
'event of a replaced program.';

-- ------------------------------------------------------- closing days ---

-- The closing job looks for planned items only.
create index calendar_events_open_date_idx on public.calendar_events (date)
where status in ('planned', 'modified');

create function private.close_past_days(as_of timestamptz default now())
returns integer
language plpgsql
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
declare
    entry record;
    closed integer := 0;
begin
    for entry in
        select distinct ce.user_id, ce.date
        from public.calendar_events as ce
        left join public.profiles as p on ce.user_id = p.id
        left join public.session_instances as s
            on ce.ref_table = 'session_instances' and ce.ref_id = s.id
        where
            ce.status in ('planned', 'modified')
            and ce.date < (as_of at time zone coalesce(p.timezone, 'UTC'))::date
            and s.session_kind is distinct from 'rest'
            and ce.program_id = private.program_in_force(ce.user_id, ce.date)
            and not exists (
                select from public.adherence_records as r
                where
                    r.planned_entity_type = case ce.event_type when 'training' then 'session' else 'meal' end
                    and r.planned_entity_id = ce.ref_id
            )
        order by ce.user_id, ce.date
    loop
        perform private.rematch_day(entry.user_id, entry.date, null, as_of);
        closed := closed + 1;
    end loop;
    return closed;
end;
$$;

comment on function private.close_past_days(timestamptz) is
'Closes the days that have ended (in each user''s time zone, at as_of) with planned items still '
'undecided: re-scores them, so unmatched items become skipped. Returns the number of days closed. '
'Run hourly by pg_cron (job sharpened-close-past-days) where pg_cron is installed.';

revoke execute on function private.user_local_date(uuid, timestamptz),
private.activities_set_local_date(), private.meals_set_local_date(),
private.program_in_force(uuid, date), private.time_of_day_slot(time),
private.session_pairs(uuid, date, text, uuid[], text[], integer[], text[]),
private.meal_pairs(uuid, date, uuid[], text[], numeric[], numeric[], numeric[], numeric[]),
private.refresh_adherence_rollups(uuid, date, text[], uuid),
private.rematch_day(uuid, date, text, timestamptz, boolean), private.rematch_days(uuid[], date[], text),
private.logs_rematch(), private.exercise_sets_rematch(), private.lay_out_adherence(uuid[], date[]),
private.calendar_events_rematch(),
private.close_past_days(timestamptz)
from public, anon, authenticated;

revoke execute on function public.set_adherence(uuid, text) from public, anon;
grant execute on function public.set_adherence(uuid, text) to authenticated, service_role;

-- pg_cron lives in one database of the cluster (cron.database_name: `postgres` on Supabase and in
-- the local stack); elsewhere (test databases) the job is not scheduled and the function is run
-- directly. Each hourly run closes the days that ended in some time zone since the last one.
do $$
begin
    if pg_catalog.current_setting('cron.database_name', true) = pg_catalog.current_database()
        and exists (select from pg_catalog.pg_available_extensions where name = 'pg_cron') then
        create extension if not exists pg_cron;
        perform cron.schedule(
            'sharpened-close-past-days', '7 * * * *', 'select private.close_past_days()'
        );
    end if;
end;
$$;

-- Programs stored before this migration: match their days so far and lay out their rollups.
select private.lay_out_adherence(array_agg(e.user_id), array_agg(e.date))
from (
    select distinct
        ce.user_id,
        ce.date
    from public.calendar_events as ce
) as e;
