-- Meal scores in double precision (issue 6, performance). private.meal_pairs computed every
-- planned meal x logged meal pair of the day in numeric: some thirty numeric operations a pair,
-- each allocating its result, about 0.4 M of the 1.0 M server instructions the pairs of a
-- four-meal day cost (cachegrind). The same DOMAIN §6 formula in double precision costs a few
-- hundred instructions a pair; the inputs are converted once per planned meal (its targets, read
-- from the plan's JSON as double precision) and once per logged meal (its totals), not per pair.
-- Replaying the logging benchmark's meal logs (days filling up a meal at a time), the trigger
-- work (triggers on minus off) went from 4.94 M to 4.77 M instructions a meal log (-3.5 %).
--
-- The verdicts stay the same. A score is still rounded to 12 places before it is rounded to
-- 3 (half up), and a breakdown term to 12 before 4: double precision leaves errors near 1e-16
-- where numeric division left 1e-20, both far below the 12th place, and a double converts to
-- numeric with 15 significant digits. A score or term that is exactly a half at 3 (or 4)
-- places in exact arithmetic, e.g. 0.3875, still rounds up. The two could disagree only on a
-- value within ~1e-15 of a 12-place rounding boundary next to such a half: a term of inputs
-- with one decimal place cannot come that close without being the half, and for a score (a
-- sum of four such ratios) the odds are of the order of 1e-12. Replaying the logging
-- benchmark's meal logs into a database with and one without this migration left identical
-- adherence records (18,400, 200 of them matched). Only the matched pairs' terms are
-- converted back to numeric, for their breakdown.
--
-- meal_pairs takes the targets and returns the terms in double precision (a new signature, so
-- it is dropped and created); session_pairs is unchanged, its terms cast for the one pair list;
-- rematch_day is restated from 20261126002900_weekly_rollup_view.sql with these types.

drop function private.meal_pairs(uuid, date, uuid[], text[], numeric[], numeric[], numeric[], numeric[]);

create function private.meal_pairs(
    user_id uuid,
    day date,
    ids uuid[],
    meal_types text[],
    kcal double precision[],
    protein double precision[],
    carbs double precision[],
    fat double precision[]
)
returns table (item_id uuid, log_id uuid, score numeric, terms double precision[])
language plpgsql
stable
set search_path = ''
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
as $$
begin
    return query
    select
        g.id,
        ml.id,
        round(round((t.meal_type + t.kcal + t.protein + t.carbs + t.fat)::numeric, 12), 3),
        array[t.meal_type, t.kcal, t.protein, t.carbs, t.fat]
    from unnest(ids, meal_types, kcal, protein, carbs, fat)
        as g (id, meal_type, kcal, protein, carbs, fat)
    -- The day's meals with items, their totals converted once (offset 0: not per pair).
    inner join (
        select
            m.id,
            m.meal_type,
            m.total_kcal::double precision as kcal,
            m.total_protein_g::double precision as protein,
            m.total_carbs_g::double precision as carbs,
            m.total_fat_g::double precision as fat
        from public.meals as m
        where
            m.user_id = meal_pairs.user_id
            and m.local_date = meal_pairs.day
            and (
                m.total_kcal > 0
                or exists (select from public.meal_items as x where x.meal_id = m.id and x.user_id = m.user_id)
            )
        offset 0
    ) as ml on true
    -- weight x accuracy max(0, 1 - |actual - target| / target); a zero target is met only by zero.
    cross join lateral (
        select
            case when ml.meal_type = g.meal_type then 0.3::double precision else 0 end as meal_type,
            0.25 * case
                when g.kcal > 0 then greatest(0, 1 - abs(ml.kcal - g.kcal) / g.kcal)
                else (ml.kcal = 0)::integer
            end as kcal,
            0.20 * case
                when g.protein > 0 then greatest(0, 1 - abs(ml.protein - g.protein) / g.protein)
                else (ml.protein = 0)::integer
            end as protein,
            0.15 * case
                when g.carbs > 0 then greatest(0, 1 - abs(ml.carbs - g.carbs) / g.carbs)
                else (ml.carbs = 0)::integer
            end as carbs,
            0.10 * case
                when g.fat > 0 then greatest(0, 1 - abs(ml.fat - g.fat) / g.fat)
                else (ml.fat = 0)::integer
            end as fat
    ) as t
    where g.meal_type is not null;
end;
$$;

comment on function private.meal_pairs(
    uuid, date, uuid[], text[], double precision[], double precision[], double precision[],
    double precision[]
) is
'DOMAIN §6 similarity of every planned meal (ids[i] of meal_types[i] with targets kcal[i], protein[i], '
'carbs[i], fat[i]; entries with a NULL type are not meals) with every meal (with items) the user logged '
'on day: meal type 0.3, then kcal 0.25, protein 0.20, carbs 0.15, fat 0.10, each x max(0, '
'1 - |a - t| / t) (a zero target is met only by zero), in double precision. Returns (meal instance '
'id, meal id, score rounded to 12 places then 3, the five weighted terms unrounded).';

revoke execute on function private.meal_pairs(
    uuid, date, uuid[], text[], double precision[], double precision[], double precision[],
    double precision[]
) from public, anon, authenticated;

-- -------------------------------------------------------------- matching ---

-- As in 20261126002900_weekly_rollup_view.sql, with the targets and terms in double precision.
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
        -- follow the status changes, in one statement.
        with moves as (
            select m.kind, m.item_id, m.old_status, m.new_status
            from unnest(move_kinds, move_items, move_old, move_new) as m (kind, item_id, old_status, new_status)
        ),

        events as (
            update public.calendar_events as ce
            set status = coalesce(m.new_status, case when ce.status = 'modified' then 'modified' else 'planned' end)
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
            set state = coalesce(m.new_status, case when si.state = 'modified' then 'modified' else 'planned' end)
            from moves as m
            where m.kind = 'session' and si.id = m.item_id and si.user_id = rematch_day.user_id
            returning si.id
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
        )

        -- Every kind with a change must have found its rollup row (laid out with the plan);
        -- otherwise it is recounted below. (The calendar and session updates run whether or not
        -- they are read.)
        select (select count(*) from deltas as x) = (select count(*) from daily as d)
        into rollups_current;
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
