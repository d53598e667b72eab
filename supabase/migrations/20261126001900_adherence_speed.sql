-- Adherence matching, cheaper (issue 6, performance): the same verdicts, rollups and calendar
-- statuses as 20261126001700_adherence.sql (which this migration leaves as written), for less
-- server time per log. What changed, measured with benchmarks/logging_throughput.py:
--
--   * Plans that stay good as tables grow. The matching functions run generic plans
--     (plan_cache_mode), built once per connection from the statistics of that moment; on a young
--     database (exercise_sets, meals, meal_items, adherence_records empty at first) the planner
--     chose sequential scans, which then grew with every log on a long-lived connection (a set log
--     re-read every set of the user: set logs got slower the longer a connection lived).
--     enable_seqscan = off on the matching functions and on the meal totals trigger keeps them on
--     their (user, day) and (parent id) indexes whatever the statistics said.
--   * The day's planned items are read through calendar_events (user_id, date): dependency
--     statistics tell the planner that program_id determines user_id, so (program_id, user_id) no
--     longer looks as selective as (user_id, date) (it read every event of the program and
--     filtered the day).
--   * private.session_pairs aggregates the day's working sets once per (activity, exercise) and
--     scores every (item, activity) pair from those aggregates in one pass over the plan items
--     (exercise overlap by counts, planned volume in the same aggregate); the terms are computed
--     once (the score and the terms array each evaluated them). Same terms, same numeric
--     arithmetic (an average is its sum over its count, as avg computes it).
--   * private.rematch_day reads the items' recorded verdicts with the items (one statement less),
--     compares them with the new verdicts in PL/pgSQL (a handful of items) and runs only the
--     statement a change needs (insert, update or delete) instead of one statement starting all
--     three every time; the status moves update the rollups (by count deltas), the calendar and,
--     only when a session moved, session_instances, each in its own statement.

-- ------------------------------------------------------------- statistics ---

-- A program belongs to one user: (program_id, user_id) is as selective as program_id alone.
create statistics public.calendar_events_program_id_user_id_stats (dependencies)
on program_id, user_id from public.calendar_events;

analyze public.calendar_events;

-- --------------------------------------------------------- index-only plans ---

alter function private.meal_pairs(uuid, date, uuid[], text[], numeric[], numeric[], numeric[], numeric[])
set enable_seqscan = off;
alter function private.refresh_adherence_rollups(uuid, date, text[], uuid) set enable_seqscan = off;
alter function private.meals_compute_totals() set enable_seqscan = off;

-- ---------------------------------------------------------------- scoring ---

create or replace function private.session_pairs(
    user_id uuid, day date, zone text, ids uuid[], kinds text[], minutes integer[], slots text[]
)
returns table (item_id uuid, log_id uuid, score numeric, terms numeric[])
language plpgsql
stable
set search_path = ''
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
as $$
begin
    return query
        with performed as materialized (
            select
                x.activity_id,
                coalesce(x.exercise_id, 'custom:' || lower(btrim(x.exercise_name))) as exercise_key,
                count(*) filter (where x.reps > 0) as loaded_sets,
                sum(x.reps * case when x.weight_kg > 0 then x.weight_kg else 1 end)
                    filter (where x.reps > 0) as volume,
                sum(case when x.weight_kg > 0 then x.weight_kg else 1 end) filter (where x.reps > 0) as load_sum,
                avg(case when x.weight_kg > 0 then x.weight_kg else 1 end) filter (where x.reps > 0) as mean_load
            from public.activities as a
            inner join public.exercise_sets as x
                on a.id = x.activity_id and x.user_id = session_pairs.user_id
            where a.user_id = session_pairs.user_id and a.local_date = session_pairs.day and not x.is_warmup
            group by x.activity_id, exercise_key
        ),

        terms as materialized (
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
                    when pl.exercises = 0 then 0.3
                    else 0.3 * pl.exercises_done / pl.exercises
                end as exercises,
                0.2 * case
                    when pl.has_reps and pf.volume > 0
                        then least(pl.volume, pf.volume) / greatest(pl.volume, pf.volume)
                    when greatest(i.planned_duration_minutes, a.duration_minutes) > 0
                        then least(i.planned_duration_minutes, a.duration_minutes)::numeric
                        / greatest(i.planned_duration_minutes, a.duration_minutes)
                    else 0
                end as volume,
                case
                    when i.time_of_day is null
                        or i.time_of_day
                        = private.time_of_day_slot((a.start_time at time zone session_pairs.zone)::time)
                        then 0.1
                    else 0
                end as time_of_day
            from unnest(ids, kinds, minutes, slots)
                as i (id, session_kind, planned_duration_minutes, time_of_day)
            cross join public.activities as a
            -- The activity's working sets: volume and mean load of the sets with reps.
            cross join lateral (
                select
                    sum(w.volume) as volume,
                    sum(w.load_sum) / nullif(sum(w.loaded_sets), 0) as mean_load
                from performed as w
                where w.activity_id = a.id
            ) as pf
            -- The plan's exercises, how many were performed, and its volume at the loads lifted (per
            -- exercise, else the activity's mean working load).
            cross join lateral (
                select
                    count(distinct p.exercise_key) as exercises,
                    count(distinct p.exercise_key) filter (where l.exercise_key is not null) as exercises_done,
                    bool_or(p.reps is not null) as has_reps,
                    sum(p.sets * p.reps * coalesce(l.mean_load, pf.mean_load)) filter (
                        where p.reps is not null
                    ) as volume
                from (
                    select
                        coalesce(e.exercise_id, 'custom:' || lower(btrim(e.name))) as exercise_key,
                        e.sets,
                        (e.reps_min + e.reps_max) / 2.0 as reps
                    from public.exercise_plan_items as e
                    where e.session_instance_id = i.id and e.user_id = session_pairs.user_id
                ) as p
                left join performed as l on l.activity_id = a.id and p.exercise_key = l.exercise_key
            ) as pl
            where
                i.session_kind is not null
                and a.user_id = session_pairs.user_id
                and a.local_date = session_pairs.day
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


-- --------------------------------------------------------------- matching ---

create or replace function private.rematch_day(
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
set enable_seqscan = off
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
    breakdowns jsonb[] := array[]::jsonb[];
    day_over boolean;
    prev_dates date[];
    prev_status text[];
    prev_logs uuid[];
    prev_scores numeric[];
    prev_breakdowns jsonb[];
    n integer;
    m integer;
    new_log uuid;
    new_score numeric;
    new_status text;
    new_breakdown jsonb;
    ins_kinds text[];
    ins_items uuid[];
    ins_logs uuid[];
    ins_status text[];
    ins_scores numeric[];
    ins_breakdowns jsonb[];
    upd_kinds text[];
    upd_items uuid[];
    upd_logs uuid[];
    upd_status text[];
    upd_scores numeric[];
    upd_breakdowns jsonb[];
    del_kinds text[];
    del_items uuid[];
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
    -- verdict, with what their scores need (read once, handed to the pair functions as arrays)
    -- and their verdicts so far (NULL status: none).
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
        array_agg((m.targets ->> 'fat_g')::numeric),
        array_agg(r.date),
        array_agg(r.status),
        array_agg(r.actual_ref_id),
        array_agg(r.similarity_score),
        array_agg(r.breakdown)
    into
        item_ids, item_kinds, item_slots, session_kinds, session_minutes, meal_types, target_kcal,
        target_protein, target_carbs, target_fat, prev_dates, prev_status, prev_logs, prev_scores,
        prev_breakdowns
    from public.calendar_events as ce
    cross join lateral (
        select case ce.event_type when 'training' then 'session' else 'meal' end as kind
    ) as k
    left join public.session_instances as s
        on ce.ref_table = 'session_instances' and ce.ref_id = s.id
    left join public.meal_instances as m
        on ce.ref_table = 'meal_instances' and ce.ref_id = m.id
    left join public.adherence_records as r
        on k.kind = r.planned_entity_type and ce.ref_id = r.planned_entity_id
    where
        ce.user_id = rematch_day.user_id
        and ce.date = rematch_day.day
        and ce.program_id = program
        and k.kind = any(kinds)
        and s.session_kind is distinct from 'rest'
        and r.source is distinct from 'manual';

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
            -- The weighted terms by name, rounded to 12 places first (see meal_pairs), then to 4.
            breakdowns := breakdowns || case pair.kind
                when 'session' then jsonb_build_object(
                    'category', round(round(pair.terms[1], 12), 4),
                    'exercises', round(round(pair.terms[2], 12), 4),
                    'volume', round(round(pair.terms[3], 12), 4),
                    'time_of_day', round(round(pair.terms[4], 12), 4)
                )
                else jsonb_build_object(
                    'meal_type', round(round(pair.terms[1], 12), 4),
                    'kcal', round(round(pair.terms[2], 12), 4),
                    'protein', round(round(pair.terms[3], 12), 4),
                    'carbs', round(round(pair.terms[4], 12), 4),
                    'fat', round(round(pair.terms[5], 12), 4)
                )
            end;
        end loop;
    end if;

    -- The verdicts of the automatic items (matched, skipped once the day is over, or none yet)
    -- against those recorded: only what changed is written, by one statement per kind of change
    -- (most re-scorings change one verdict or none).
    if item_ids is not null then
        day_over := day < (as_of at time zone zone)::date;
        for n in 1 .. cardinality(item_ids) loop
            m := array_position(matched_items, item_ids[n]);
            if m is null and not day_over then
                if prev_status[n] is not null then  -- decided before, no longer
                    del_kinds := del_kinds || item_kinds[n];
                    del_items := del_items || item_ids[n];
                    move_kinds := move_kinds || item_kinds[n];
                    move_items := move_items || item_ids[n];
                    move_old := move_old || prev_status[n];
                    move_new := move_new || null::text;
                end if;
                continue;
            end if;
            if m is null then
                new_log := null;
                new_score := null;
                new_status := 'skipped';
                new_breakdown := '{}';
            else
                new_log := matched_logs[m];
                new_score := scores[m];
                new_breakdown := breakdowns[m];
                -- DOMAIN §6 bands (only pairs scoring >= 0.3 were matched).
                new_status := case
                    when new_score >= 0.8 then 'completed'
                    when new_score >= 0.6 then 'similar'
                    else 'partial'
                end;
            end if;
            if prev_status[n] is null then
                ins_kinds := ins_kinds || item_kinds[n];
                ins_items := ins_items || item_ids[n];
                ins_logs := ins_logs || new_log;
                ins_status := ins_status || new_status;
                ins_scores := ins_scores || new_score;
                ins_breakdowns := ins_breakdowns || new_breakdown;
            elsif (prev_dates[n], prev_logs[n], prev_status[n], prev_scores[n], prev_breakdowns[n])
                is distinct from (day, new_log, new_status, new_score, new_breakdown) then
                upd_kinds := upd_kinds || item_kinds[n];
                upd_items := upd_items || item_ids[n];
                upd_logs := upd_logs || new_log;
                upd_status := upd_status || new_status;
                upd_scores := upd_scores || new_score;
                upd_breakdowns := upd_breakdowns || new_breakdown;
            end if;
            if prev_status[n] is distinct from new_status then
                move_kinds := move_kinds || item_kinds[n];
                move_items := move_items || item_ids[n];
                move_old := move_old || prev_status[n];
                move_new := move_new || new_status;
            end if;
        end loop;
    end if;

    if ins_items is not null then
        insert into public.adherence_records (
            user_id, date, planned_entity_type, planned_entity_id, actual_ref_type, actual_ref_id,
            status, similarity_score, breakdown, source
        )
        select
            rematch_day.user_id,
            rematch_day.day,
            v.kind,
            v.item_id,
            case
                when v.log_id is null then null
                when v.kind = 'session' then 'activity'
                else 'meal'
            end,
            v.log_id,
            v.status,
            v.score,
            v.breakdown,
            'auto'
        from unnest(ins_kinds, ins_items, ins_logs, ins_status, ins_scores, ins_breakdowns)
            as v (kind, item_id, log_id, status, score, breakdown);
    end if;
    if upd_items is not null then
        update public.adherence_records as r
        set
            date = rematch_day.day,
            actual_ref_type = case
                when v.log_id is null then null
                when v.kind = 'session' then 'activity'
                else 'meal'
            end,
            actual_ref_id = v.log_id,
            status = v.status,
            similarity_score = v.score,
            breakdown = v.breakdown
        from unnest(upd_kinds, upd_items, upd_logs, upd_status, upd_scores, upd_breakdowns)
            as v (kind, item_id, log_id, status, score, breakdown)
        where r.planned_entity_type = v.kind and r.planned_entity_id = v.item_id;
    end if;
    if del_items is not null then
        delete from public.adherence_records as r
        using unnest(del_kinds, del_items) as v (kind, item_id)
        where r.planned_entity_type = v.kind and r.planned_entity_id = v.item_id;
    end if;

    if move_items is null and not refresh then
        return;  -- no status changed: the calendar and the rollups stand
    end if;

    -- The calendar, the sessions' own state and the rollups follow the status changes (the
    -- rollups by the difference in counts, unless a recount follows).
    if not refresh then
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
                d.user_id = rematch_day.user_id
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
                w.user_id = rematch_day.user_id
                and w.week_start = pg_catalog.date_trunc('week', rematch_day.day)::date
                and w.kind = x.kind
                and x.kind in (select d.kind from daily as d)  -- else both are recounted below
            returning w.kind
        )

        -- Every kind with a change must have found its rollup rows (laid out with the plan);
        -- otherwise they are recounted below.
        select
            (select count(*) from deltas as x) = (select count(*) from daily as d)
            and (select count(*) from deltas as x) = (select count(*) from weekly as w)
        into rollups_current;
    end if;

    update public.calendar_events as ce
    set status = coalesce(m.new_status, case when ce.status = 'modified' then 'modified' else 'planned' end)
    from unnest(move_items, move_new) as m (item_id, new_status)
    where
        ce.user_id = rematch_day.user_id
        and ce.date = rematch_day.day
        and ce.program_id = program
        and ce.ref_id = m.item_id;

    if 'session' = any(move_kinds) then
        update public.session_instances as si
        set state = coalesce(m.new_status, case when si.state = 'modified' then 'modified' else 'planned' end)
        from unnest(move_kinds, move_items, move_new) as m (kind, item_id, new_status)
        where m.kind = 'session' and si.id = m.item_id and si.user_id = rematch_day.user_id;
    end if;

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

revoke execute on function private.session_pairs(uuid, date, text, uuid[], text[], integer[], text[]),
private.rematch_day(uuid, date, text, timestamptz, boolean)
from public, anon, authenticated;
