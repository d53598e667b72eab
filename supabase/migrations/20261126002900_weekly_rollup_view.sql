-- adherence_weekly becomes a view over adherence_daily (issue 6, performance). The weekly rows
-- were the sums of the daily rows, kept by a second write on every status change: one more UPDATE
-- per matched log, with its eight CHECKs and two generated columns re-planned by PostgreSQL 15 for
-- each statement. Measured with the logging benchmark's logs against a server run under valgrind
-- (cachegrind instruction counts, this migration's parent commit and this one in the same
-- conditions), the triggers' own work (triggers on minus off) went from 5.63 M to 5.03 M
-- instructions for a meal log (-11 %), from 5.23 M to 4.59 M for a day of meals uploaded at once
-- (-12 %) and from 2.73 M to 2.61 M for a set log (-4 %: fewer of them change a status).
--
-- The view has the table's columns but id, created_at and updated_at, and the same rows: one per
-- user, ISO week (Monday to Sunday of local dates) and kind with a daily row, each count the sum
-- of the days'. Exact by construction, as the daily rows are. security_invoker: a user reads the
-- weeks of their own daily rows (the adherence_daily policy). adherence_summary, which reads it,
-- is recreated unchanged.

drop view public.adherence_summary;
drop table public.adherence_weekly;

-- The daily rows carry their week, indexed with the user: a filter on the view's week_start
-- (PostgREST's week_start=gte.<monday>) reaches the index as a plain date comparison, which RLS
-- lets through (date >= date is leakproof; an expression over date is not), so reading a few
-- weeks does not read the whole history.
alter table public.adherence_daily
add column week_start date generated always as (date - (extract(isodow from date)::integer - 1)) stored;

comment on column public.adherence_daily.week_start is 'Monday of the ISO week of date.';

create index adherence_daily_user_id_week_start_idx on public.adherence_daily (user_id, week_start);

create view public.adherence_weekly
with (security_invoker = true)
as
select
    d.user_id,
    d.week_start,
    d.kind,
    sum(d.planned_items)::integer as planned_items,
    sum(d.completed_items)::integer as completed_items,
    sum(d.similar_items)::integer as similar_items,
    sum(d.partial_items)::integer as partial_items,
    sum(d.skipped_items)::integer as skipped_items,
    sum(d.pending_items)::integer as pending_items,
    round(
        100 * (sum(d.completed_items) + 0.75 * sum(d.similar_items) + 0.4 * sum(d.partial_items))
        / nullif(
            sum(d.completed_items) + sum(d.similar_items) + sum(d.partial_items) + sum(d.skipped_items),
            0
        ),
        1
    )::numeric(4, 1) as adherence_pct
from public.adherence_daily as d
group by d.user_id, d.week_start, d.kind;

comment on view public.adherence_weekly is
'Adherence per user, ISO week (Monday to Sunday, local dates) and kind: the sums of adherence_daily '
'over the week. security_invoker: the owner reads only their own weeks. Filter by week_start.';
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

revoke all on public.adherence_weekly from public, anon, authenticated;
grant select on public.adherence_weekly to authenticated, service_role;

-- ------------------------------------------------------ adherence_summary ---

create view public.adherence_summary
with (security_invoker = true)
as
select
    w.user_id,
    w.week_start,
    coalesce(sum(w.planned_items) filter (where w.kind = 'session'), 0)::integer as session_planned,
    coalesce(sum(w.completed_items) filter (where w.kind = 'session'), 0)::integer as session_completed,
    coalesce(sum(w.similar_items) filter (where w.kind = 'session'), 0)::integer as session_similar,
    coalesce(sum(w.partial_items) filter (where w.kind = 'session'), 0)::integer as session_partial,
    coalesce(sum(w.skipped_items) filter (where w.kind = 'session'), 0)::integer as session_skipped,
    coalesce(sum(w.pending_items) filter (where w.kind = 'session'), 0)::integer as session_pending,
    max(w.adherence_pct) filter (where w.kind = 'session') as session_adherence_pct,
    coalesce(sum(w.planned_items) filter (where w.kind = 'meal'), 0)::integer as meal_planned,
    coalesce(sum(w.completed_items) filter (where w.kind = 'meal'), 0)::integer as meal_completed,
    coalesce(sum(w.similar_items) filter (where w.kind = 'meal'), 0)::integer as meal_similar,
    coalesce(sum(w.partial_items) filter (where w.kind = 'meal'), 0)::integer as meal_partial,
    coalesce(sum(w.skipped_items) filter (where w.kind = 'meal'), 0)::integer as meal_skipped,
    coalesce(sum(w.pending_items) filter (where w.kind = 'meal'), 0)::integer as meal_pending,
    max(w.adherence_pct) filter (where w.kind = 'meal') as meal_adherence_pct,
    round(
        100 * (sum(w.completed_items) + 0.75 * sum(w.similar_items) + 0.4 * sum(w.partial_items))
        / nullif(
            sum(w.completed_items) + sum(w.similar_items) + sum(w.partial_items) + sum(w.skipped_items),
            0
        ),
        1
    ) as adherence_pct
from public.adherence_weekly as w
group by w.user_id, w.week_start;

comment on view public.adherence_summary is
'Adherence per user and ISO week, sessions and meals side by side (from adherence_weekly) with an '
'overall percentage. Filter by week_start (eq, or gte/lte). security_invoker: the owner sees only their '
'own rows.';
comment on column public.adherence_summary.week_start is 'Monday of the ISO week (local date).';
comment on column public.adherence_summary.session_planned is
'Planned training sessions of the week (0 when none); session_completed, _similar, _partial, _skipped '
'and _pending count their verdicts (pending: not decided yet).';
comment on column public.adherence_summary.session_adherence_pct is
'100 x (completed + 0.75 similar + 0.4 partial) / decided sessions (DOMAIN §6); NULL while none is decided.';
comment on column public.adherence_summary.meal_planned is
'Planned meals of the week (0 when none); meal_completed ... meal_pending count their verdicts.';
comment on column public.adherence_summary.meal_adherence_pct is
'The same percentage over the week''s decided meals; NULL while none is decided.';
comment on column public.adherence_summary.adherence_pct is
'The same formula over sessions and meals together (the summed counts); NULL while nothing is decided.';

revoke all on public.adherence_summary from public, anon, authenticated;
grant select on public.adherence_summary to authenticated, service_role;

-- ------------------------------------------------------------- rollups ---

create or replace function private.refresh_adherence_rollups(
    user_id uuid, day date, kinds text[], program uuid
)
returns void
language plpgsql
set search_path = ''
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
as $$
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
end;
$$;

comment on function private.refresh_adherence_rollups(uuid, date, text[], uuid) is
'Recomputes the user''s adherence_daily rows of a day for kinds (planned items of program, the one in '
'force that day, and their records); adherence_weekly sums them on read.';

-- -------------------------------------------------------------- matching ---

-- As in 20261126002700_matching_statements.sql, without the weekly rollup update.
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
