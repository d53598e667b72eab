-- public.day_effective_sets answers a day without reassessment changes from the plan alone (issue
-- 6, performance: the today views). The function worked out the whole program week (its
-- exercises' muscle groups, the week's planned sets per group, the set changes spread over the
-- week's sessions, the deload week) for every training event calendar_day shows, although with no
-- volume or deload change of a reassessment in force (every program's first weeks, and any
-- program never reassessed) every exercise keeps its planned sets. It now finds the program in
-- force first, then looks for such a change (plan_change_events); without one it returns the
-- day's planned exercises with set_change 0, deload false and sets = greatest(1, planned sets),
-- which is what the full computation gives then. With one, the full computation runs as before
-- (the query of 20261126003200_effective_sets_plan_cache.sql, with the program in force read
-- into variables first).
--
-- Checked on the tracking benchmark's data (no reassessment changes): for 40 users on each of 181
-- days across their programs' boundaries, 20,600 rows, identical under both definitions. The
-- days with changes are those of tests/integration/test_effective_training.py. On that data one
-- call in its own request, as calendar_day makes it for a training day, took 737 us of server
-- time before and 244 us after (pg_stat_statements, the two interleaved).

create or replace function public.day_effective_sets(user_id uuid, day date)
returns table (
    exercise_plan_item_id uuid,
    session_instance_id uuid,
    planned_sets integer,
    set_change integer,
    deload boolean,
    sets integer
)
language plpgsql
stable
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
#variable_conflict use_column
declare
    in_force_id uuid;
    in_force_week date;
begin
    -- The program in force that day (as private.program_in_force, which the caller may not run).
    select f.id, f.program_start_date + 7 * ((day_effective_sets.day - f.program_start_date) / 7)
    into in_force_id, in_force_week
    from public.programs as f
    where
        f.user_id = day_effective_sets.user_id
        and f.status <> 'archived'
        and f.program_start_date <= day_effective_sets.day
    order by f.version desc
    limit 1;
    if in_force_id is null then
        return;
    end if;
    if not exists (
        select from public.plan_change_events as e
        where
            e.program_id = in_force_id
            and e.user_id = day_effective_sets.user_id
            and e.change_type in ('volume', 'deload')
            and e.reassessment_id is not null
            and e.period_end < day_effective_sets.day
    ) then
        -- No set change or deload in force: the day's exercises as planned.
        return query
            select e.id, e.session_instance_id, e.sets::integer, 0, false, greatest(1, e.sets)::integer
            from public.calendar_events as ce
            inner join public.session_instances as s on ce.ref_id = s.id and ce.user_id = s.user_id
            inner join public.exercise_plan_items as e
                on s.id = e.session_instance_id and s.user_id = e.user_id
            where
                ce.user_id = day_effective_sets.user_id
                and ce.program_id = in_force_id
                and ce.event_type = 'training'
                and ce.date = day_effective_sets.day;
        return;
    end if;
    return query
        with program as (
            select in_force_id as id, in_force_week as week_start
        ),

        -- The program week's planned exercises with the date (and rank in the day) each is planned for.
        week_items as (
            select
                e.id,
                e.session_instance_id,
                e.exercise_id,
                e.sets,
                e.order_index,
                ce.date,
                coalesce(
                    array_position(
                        array['early_morning', 'morning', 'midday', 'afternoon', 'evening', 'night'],
                        ce.time_of_day
                    ),
                    7
                ) as time_rank,
                coalesce(s.parameters ->> 'deload' = 'true', false) as planned_deload
            from program as p
            inner join public.calendar_events as ce
                on p.id = ce.program_id
            inner join public.session_instances as s
                on ce.ref_id = s.id and ce.user_id = s.user_id
            inner join public.exercise_plan_items as e
                on s.id = e.session_instance_id and s.user_id = e.user_id
            where
                ce.user_id = day_effective_sets.user_id
                and ce.event_type = 'training'
                and ce.date between p.week_start and p.week_start + 6
        ),

        -- Each catalogue exercise's muscle groups: 1 for a primary muscle's group, 0.5 for a
        -- secondary's (custom exercises have none).
        item_groups as (
            select
                w.id,
                gm.muscle_group,
                max(case when gm.muscle = any(x.primary_muscles) then 1.0 else 0.5 end) as weight
            from week_items as w
            inner join public.exercises as x on w.exercise_id = x.id
            inner join (
                values
                ('chest', 'chest'), ('lats', 'back'), ('middle_back', 'back'),
                ('shoulders', 'shoulders'), ('quadriceps', 'quads'), ('hamstrings', 'hamstrings'),
                ('glutes', 'glutes'), ('biceps', 'biceps'), ('triceps', 'triceps'),
                ('calves', 'calves'), ('abdominals', 'abs')
            ) as gm (muscle, muscle_group)
                on gm.muscle = any(x.primary_muscles || x.secondary_muscles)
            group by w.id, gm.muscle_group
        ),

        -- The week's planned hard sets per group, rounded as the volume controller reads them.
        baseline as (
            select
                g.muscle_group,
                round(sum(g.weight * w.sets)) as sets
            from item_groups as g
            inner join week_items as w on g.id = w.id
            group by g.muscle_group
        ),

        week_kind as (
            select coalesce(bool_or(w.planned_deload), false) as planned_deload
            from week_items as w
        ),

        -- The weekly sets in force per group: the newest volume change whose period has ended.
        targets as (
            select distinct on (e.new_value ->> 'muscle')
                e.new_value ->> 'muscle' as muscle_group,
                (e.new_value ->> 'sets')::numeric as sets,
                e.period_end
            from program as p
            inner join public.plan_change_events as e on p.id = e.program_id
            where
                e.user_id = day_effective_sets.user_id
                and e.change_type = 'volume'
                and e.entity_type = 'muscle_group'
                and e.reassessment_id is not null
                and e.period_end < day_effective_sets.day
            order by e.new_value ->> 'muscle', e.period_end desc, e.created_at desc, e.id
        ),

        changes as (
            select
                t.muscle_group,
                t.period_end,
                (
                    case when k.planned_deload then round(t.sets / 2) else t.sets end
                    - coalesce(b.sets, 0)
                )::integer as delta
            from targets as t
            cross join week_kind as k
            left join baseline as b on t.muscle_group = b.muscle_group
        ),

        -- Each change over its group's primary instances from the day it applies, in plan order.
        instances as (
            select
                g.id,
                c.delta,
                row_number() over (
                    partition by c.muscle_group
                    order by w.date, w.time_rank, w.session_instance_id, w.order_index, w.id
                ) - 1 as rank,
                count(*) over (partition by c.muscle_group) as n
            from changes as c
            inner join item_groups as g on c.muscle_group = g.muscle_group and g.weight = 1
            inner join week_items as w on g.id = w.id
            where c.delta <> 0 and w.date > c.period_end
        ),

        shares as (
            select
                i.id,
                sum(
                    case when i.delta < 0 then -1 else 1 end
                    * (abs(i.delta) / i.n + case when i.rank < abs(i.delta) % i.n then 1 else 0 end)
                )::integer as set_change
            from instances as i
            group by i.id
        ),

        -- The deload week in force: the newest deload change whose period has ended.
        deload_week as (
            select (e.new_value ->> 'week_start')::date as week_start
            from program as p
            inner join public.plan_change_events as e on p.id = e.program_id
            where
                e.user_id = day_effective_sets.user_id
                and e.change_type = 'deload'
                and e.reassessment_id is not null
                and e.period_end < day_effective_sets.day
            order by e.period_end desc, e.created_at desc, e.id
            limit 1
        ),

        effective as (
            select
                w.id,
                w.session_instance_id,
                w.date,
                w.sets,
                coalesce(s.set_change, 0) as set_change,
                coalesce(
                    not w.planned_deload
                    and day_effective_sets.day >= dw.week_start
                    and day_effective_sets.day < dw.week_start + 7,
                    false
                ) as deload
            from week_items as w
            left join shares as s on w.id = s.id
            left join deload_week as dw on true
            where w.date = day_effective_sets.day
        )

        select
            f.id,
            f.session_instance_id,
            f.sets::integer,
            f.set_change,
            f.deload,
            case
                when f.deload then ceil(greatest(1, f.sets + f.set_change) / 2.0)
                else greatest(1, f.sets + f.set_change)
            end::integer
        from effective as f;
end;
$$;
