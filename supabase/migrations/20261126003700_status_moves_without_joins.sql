-- Status moves by simple statements (issue 6, performance): the same verdicts, calendar statuses
-- and rollup counts as 20261126003000_meal_scores_double.sql, for less server time per log.
--
-- A status change used to move the calendar, the sessions' own state and the daily rollup in one
-- statement: data-modifying CTEs joining the moves (unnest of the arrays) with each table, and a
-- grouped count of the moves for the rollup. Measuring the server CPU time of a meal log (perf
-- stat on the backend, task-clock, 1,500 POST /rpc/log_meal of the logging benchmark in a copy of
-- the same database per variant, three rounds), that statement cost about 320 µs of a log's
-- 1,550 µs: preparing its hash joins, its aggregate and the session update that a meal's move
-- never needs takes more than the three single-row updates themselves. Now:
--
--   * the calendar update matches the moved items with = any(move_items) and reads each item's
--     new status by its position in the arrays: one table, no join;
--   * the sessions are updated only when a session moved;
--   * each kind's net change in the rollup counts is summed in PL/pgSQL, and its rollup row is
--     updated by its key (user, date, kind); a row not found still leads to the recount.
--
-- The changed adherence records keep their update joined with the unnested arrays: updating them
-- by = any() and array positions too measured within the noise.
--
-- Server CPU per meal log, seven rounds of the same measurement: 1,719 µs before, 1,632 µs after
-- on average (-5 %); throughput with one connection 453 -> 476 logs/s. Figures with the benchmark
-- itself: docs/scaling.md §1.
--
-- rematch_day is restated from 20261126003000_meal_scores_double.sql with these statements.

-- As in 20261126003000_meal_scores_double.sql, with the status moves above.
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
    target_kcal double precision[];
    target_protein double precision[];
    target_carbs double precision[];
    target_fat double precision[];
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
    counted constant text[] := array['completed', 'similar', 'partial', 'skipped'];
    kind_moved text;
    deltas integer[];
    at integer;
begin
    -- One re-scoring at a time per user and week: the day's matches and the week's rollup are
    -- read and written as a whole (READ COMMITTED: the next one sees this one's rows).
    select
        coalesce((select p.timezone from public.profiles as p where p.id = rematch_day.user_id), 'UTC'),
        (
            select p.id
            from public.programs as p
            where
                p.user_id = rematch_day.user_id
                and p.status <> 'archived'
                and p.program_start_date <= rematch_day.day
            order by p.version desc
            limit 1
        )
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
        array_agg((m.targets ->> 'kcal')::double precision),
        array_agg((m.targets ->> 'protein_g')::double precision),
        array_agg((m.targets ->> 'carbs_g')::double precision),
        array_agg((m.targets ->> 'fat_g')::double precision),
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
            select 'session' as kind, p.item_id, p.log_id, p.score, p.terms::double precision[]
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
                    'category', round(round(pair.terms[1]::numeric, 12), 4),
                    'exercises', round(round(pair.terms[2]::numeric, 12), 4),
                    'volume', round(round(pair.terms[3]::numeric, 12), 4),
                    'time_of_day', round(round(pair.terms[4]::numeric, 12), 4)
                )
                else jsonb_build_object(
                    'meal_type', round(round(pair.terms[1]::numeric, 12), 4),
                    'kcal', round(round(pair.terms[2]::numeric, 12), 4),
                    'protein', round(round(pair.terms[3]::numeric, 12), 4),
                    'carbs', round(round(pair.terms[4]::numeric, 12), 4),
                    'fat', round(round(pair.terms[5]::numeric, 12), 4)
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

    if refresh then
        rollups_current := false;  -- the recount below sets the calendar, the sessions and the rollups
    else
        -- The calendar, the sessions' own state and the daily rollup (by the difference in counts)
        -- follow the status changes.
        update public.calendar_events as ce
        set status = coalesce(
            move_new[array_position(move_items, ce.ref_id)],
            case when ce.status = 'modified' then 'modified' else 'planned' end
        )
        where
            ce.user_id = rematch_day.user_id
            and ce.date = rematch_day.day
            and ce.program_id = program
            and ce.ref_id = any(move_items);
        if 'session' = any(move_kinds) then
            -- (Item ids are the planned rows' own uuids: a moved meal's is no session's.)
            update public.session_instances as si
            set state = coalesce(
                move_new[array_position(move_items, si.id)],
                case when si.state = 'modified' then 'modified' else 'planned' end
            )
            where si.id = any(move_items) and si.user_id = rematch_day.user_id;
        end if;
        -- Every kind with a change must find its rollup row (laid out with the plan); otherwise
        -- the day is recounted below.
        rollups_current := true;
        foreach kind_moved in array kinds loop
            if not kind_moved = any(move_kinds) then
                continue;
            end if;
            -- The kind's net change per status (in the order of counted): +1 for each item that
            -- moves to it, -1 for each that leaves it.
            deltas := array[0, 0, 0, 0];
            for n in 1 .. cardinality(move_items) loop
                continue when move_kinds[n] <> kind_moved;
                at := array_position(counted, move_new[n]);
                if at is not null then
                    deltas[at] := deltas[at] + 1;
                end if;
                at := array_position(counted, move_old[n]);
                if at is not null then
                    deltas[at] := deltas[at] - 1;
                end if;
            end loop;
            update public.adherence_daily as d
            set
                completed_items = d.completed_items + deltas[1],
                similar_items = d.similar_items + deltas[2],
                partial_items = d.partial_items + deltas[3],
                skipped_items = d.skipped_items + deltas[4]
            where d.user_id = rematch_day.user_id and d.date = rematch_day.day and d.kind = kind_moved;
            rollups_current := rollups_current and found;
        end loop;
    end if;

    if rollups_current then
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
