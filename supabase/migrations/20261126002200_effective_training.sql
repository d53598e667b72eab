-- The reassessment's training changes reach the day views (issue 8, DOMAIN §4 and §8). Until now
-- only its calorie change did (public.day_kcal_adjustment); its per-muscle weekly set changes and
-- its deload weeks stayed in public.program_effective_targets.
--
--   * public.day_effective_sets(user, day): each planned exercise of the user's day (program in
--     force that day) with its sets after the reassessment changes in force that day.
--   * public.calendar_day: adjusted_exercises start from these effective sets; the day override's
--     volume multiplier and set delta (issue 7) apply on top of them.
--
-- The rule (docs/api.md, calendar_day; all of it deterministic):
--
--   1. In force on a day: the program's reassessment changes (plan_change_events with a
--      reassessment_id) whose period ended before the day (period_end < day), the newest per
--      muscle group for volume and the newest deload, as day_kcal_adjustment does for calories.
--   2. A volume change sets a muscle group's weekly hard sets in force (new_value.sets, the
--      absolute target the volume controller keeps within MEV..MRV). The change of a program week
--      (program_start_date + 7k .. +6) is that target less the week's planned sets of the group
--      (primary muscle 1 set, secondary 0.5, DOMAIN §4; rounded half away from zero, as the
--      controller rounds the plan it reads; the same numbers as provenance.training.weeks), so
--      the week totals the target. In a deload week of the plan (session parameters.deload, the
--      generator's already halved sets) the week's target is half of it (rounded half up).
--   3. That change is spread over the group's instances of the week: exercises whose primary
--      muscles include the group, planned on or after the day the change applies (day after its
--      period_end), in order of date, time of day (early_morning .. night, then none), session,
--      order_index. With n instances and a change D, every instance gets trunc(|D| / n) sets and
--      the first |D| mod n one more, all with the sign of D. An exercise primary for two groups
--      takes both shares. Sets never fall below 1: a cut an exercise cannot take is dropped, not
--      moved. A group without instances in the week (or all before the change applies) keeps
--      its plan.
--   4. A scheduled deload week (new_value.week_start <= day < week_start + 7) halves every
--      exercise's sets after step 3 (rounded half up, so at least 1) at the same load (%1RM,
--      reps and RIR unchanged), except in sessions the plan already deloads (never halved twice).
--
-- The daily adaptation: private.propose_day_override reads the day's kcal through
-- public.day_kcal_adjustment, which already includes the reassessment's calorie change
-- (20261126002100), so the kcal caps are measured against the effective kcal. It reads no sets
-- (a session is a session) and takes the TDEE + 500 cap from the program (the effective targets
-- carry no TDEE), so it needs no change.

-- ------------------------------------------------------- day_effective_sets ---

create function public.day_effective_sets(user_id uuid, day date)
returns table (
    exercise_plan_item_id uuid,
    session_instance_id uuid,
    planned_sets integer,
    set_change integer,
    deload boolean,
    sets integer
)
language sql
stable
set search_path = ''
as $$
    with program as (
        -- The program in force that day (as private.program_in_force, which the caller may not
        -- run).
        select
            f.id,
            f.program_start_date + 7 * ((day_effective_sets.day - f.program_start_date) / 7)
            as week_start
        from public.programs as f
        where
            f.user_id = day_effective_sets.user_id
            and f.status <> 'archived'
            and f.program_start_date <= day_effective_sets.day
        order by f.version desc
        limit 1
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
$$;

comment on function public.day_effective_sets(uuid, date) is
'The user''s day''s planned exercises (program in force that day) with their sets after the '
'reassessment changes in force that day (period_end < day): planned_sets (the stored plan), '
'set_change (the exercise''s share of its muscle groups'' weekly set changes: target in force less '
'the week''s planned sets, spread one set at a time over the group''s primary instances of the week in '
'plan order, never below 1 set), deload (a scheduled deload week halves it, round half up, same '
'load; not a session the plan already deloads) and sets (the result). No row for a day without '
'exercises. The caller''s own days only (RLS).';

revoke execute on function public.day_effective_sets(uuid, date) from public, anon;
grant execute on function public.day_effective_sets(uuid, date) to authenticated, service_role;

-- ------------------------------------------------------------- calendar_day ---

-- As in 20261126002000, with adjusted_exercises built on the effective sets.
create or replace view public.calendar_day
with (security_invoker = true)
as
select
    ce.id,
    ce.user_id,
    ce.program_id,
    ce.date,
    ce.event_type,
    ce.title,
    ce.time_of_day,
    ce.status,
    ce.ref_table,
    ce.ref_id,
    s.session_kind,
    s.planned_duration_minutes,
    s.parameters,
    m.meal_type,
    coalesce(m.meal_time, mt.typical_time) as meal_time,
    m.targets,
    m.totals,
    ex.exercises,
    it.items,
    o.id as override_id,
    o.status as override_status,
    o.reason_codes as adjustment_reasons,
    o.explanation as adjustment_explanation,
    case
        when o.active ? 'replace_session' and s.session_kind <> 'rest' then o.active ->> 'replace_session'
        else s.session_kind
    end as adjusted_session_kind,
    ex.adjusted_exercises,
    case
        when dk.kcal_share <> 0
            then m.targets || jsonb_build_object(
                'kcal', round((m.targets ->> 'kcal')::numeric + dk.kcal_share, 1),
                'carbs_g', round((m.targets ->> 'carbs_g')::numeric + dk.kcal_share / 4, 1)
            )
        else m.targets
    end as adjusted_targets
from public.calendar_events as ce
inner join public.programs as p on ce.program_id = p.id and p.status = 'active'
left join public.session_instances as s
    on ce.ref_table = 'session_instances' and ce.ref_id = s.id
left join public.meal_instances as m
    on ce.ref_table = 'meal_instances' and ce.ref_id = m.id
left join public.meal_times as mt on m.meal_type = mt.id
-- The day's open override; active holds its modifications once it applies.
left join lateral (
    select
        d.id,
        d.status,
        d.reason_codes,
        d.explanation,
        case when d.status in ('approved', 'auto_applied') then d.modifications end as active
    from public.day_overrides as d
    where
        d.user_id = ce.user_id
        and d.date = ce.date
        and d.status in ('pending', 'approved', 'auto_applied')
) as o on true
-- A meal's part of the day's kcal change: in proportion to its share of the day's planned kcal.
left join lateral (
    select
        public.day_kcal_adjustment(ce.user_id, ce.date) * (m.targets ->> 'kcal')::numeric
        / nullif(sum((dm.targets ->> 'kcal')::numeric), 0) as kcal_share
    from public.calendar_events as dce
    inner join public.meal_instances as dm on dce.ref_id = dm.id and dce.user_id = dm.user_id
    where
        dce.user_id = ce.user_id
        and dce.date = ce.date
        and dce.program_id = ce.program_id
        and dce.event_type = 'meal'
) as dk on m.id is not null
-- The exercises: as planned, and adjusted (the reassessment's effective sets, then the override).
-- (The subquery reads ce and s: it cannot be a CTE.)
left join lateral (  -- noqa: ST05
    select
        jsonb_agg(
            jsonb_build_object(
                'order_index', e.order_index,
                'exercise_id', e.exercise_id,
                'name', e.name,
                'sets', e.sets,
                'reps_min', e.reps_min,
                'reps_max', e.reps_max,
                'target_rir', e.target_rir,
                'target_pct_1rm', e.target_pct_1rm,
                'rest_seconds', e.rest_seconds,
                'notes', e.notes
            )
            order by e.order_index
        ) as exercises,
        jsonb_agg(
            jsonb_build_object(
                'order_index', e.order_index,
                'exercise_id', e.exercise_id,
                'name', e.name,
                'sets', case
                    when o.active ? 'replace_session' then 0
                    else greatest(
                        1,
                        round(e.effective_sets * coalesce((o.active ->> 'volume_multiplier')::numeric, 1))
                        + coalesce((o.active ->> 'set_delta')::integer, 0)
                    )
                end,
                'planned_sets', e.sets,
                'effective_sets', e.effective_sets,
                'set_change', e.set_change,
                'deload', e.deload,
                'reps_min', e.reps_min,
                'reps_max', e.reps_max,
                'target_rir', case
                    when e.target_rir is not null
                        then least(5, e.target_rir + coalesce((o.active ->> 'rir_delta')::integer, 0))
                end,
                'planned_target_rir', e.target_rir,
                'target_pct_1rm', round(
                    e.target_pct_1rm * coalesce((o.active ->> 'intensity_multiplier')::numeric, 1), 1
                ),
                'planned_target_pct_1rm', e.target_pct_1rm
            )
            order by e.order_index
        ) as adjusted_exercises
    from (
        select
            i.*,
            coalesce(f.sets, i.sets) as effective_sets,
            coalesce(f.set_change, 0) as set_change,
            coalesce(f.deload, false) as deload
        from public.exercise_plan_items as i
        left join public.day_effective_sets(ce.user_id, ce.date) as f
            on i.id = f.exercise_plan_item_id
        where i.session_instance_id = s.id and i.user_id = s.user_id
    ) as e
) as ex on s.id is not null
left join lateral (
    select
        jsonb_agg(
            jsonb_build_object(
                'food_id', i.food_id,
                'food_name', i.food_name,
                'grams', i.grams,
                'serving_description', i.serving_description,
                'kcal', i.kcal,
                'protein_g', i.protein_g,
                'carbs_g', i.carbs_g,
                'fat_g', i.fat_g
            )
            order by i.food_name, i.id
        ) as items
    from public.meal_item_plan as i
    where i.meal_instance_id = m.id and i.user_id = m.user_id
) as it on m.id is not null;

comment on column public.calendar_day.exercises is
'Training events: the session''s exercises as planned (the immutable program), a JSON array ordered by '
'order_index; NULL for meals. adjusted_exercises holds the sets in force.';
comment on column public.calendar_day.adjusted_exercises is
'Training events: the exercises as they stand that day: effective_sets (public.day_effective_sets: '
'the plan after the reassessment''s set changes and deload in force, with set_change and deload), then '
'an active override: sets = max(1, round(effective_sets x volume_multiplier) + set_delta) (0 when the '
'session is replaced), target_rir + rir_delta (at most 5), target_pct_1rm x intensity_multiplier, '
'each with its planned_* value (the stored plan). Without an active override sets = effective_sets; '
'without a reassessment change in force as well, the plan.';
