-- calendar_day computes a day's kcal change once per day, not once per event (issue 6,
-- performance: the today views). The view called public.day_kcal_adjustment in a lateral
-- subquery evaluated for every event of the day, training events included (whose result the
-- join then dropped), and summed the day's planned meal kcal again for each: on the tracking
-- benchmark's user (4 meals and a training session a day) five calls and five sums for one day.
-- The day is now a grouped subquery (user, date, program of the active program's events) that
-- carries the day's planned kcal and, when the day has meals, its kcal change; each event joins
-- its day. The view's user_id, program_id and date are the day's, so a filter on them, an equality
-- or a range (GET /calendar_day?date=gte...&date=lte...), is applied inside that subquery rather
-- than after grouping every day of the user.
--
-- Same columns, rows and values as in 20261126002200_effective_training.sql (checked on the
-- benchmark's data: the 11,520 rows of 30 users' active programs identical under both
-- definitions). Measured on that data for one user among 1,000, the two definitions interleaved,
-- each request in PostgREST's statement (server execution from pg_stat_statements, 4,000
-- requests each, with 20261126003500's day_effective_sets under both): the mean over today and
-- the next training day fell from 1.58 to 1.16 ms. A week (32 events) fell from 21.5 to 14.1 ms
-- (wall, before 20261126003500).

-- As in 20261126002200_effective_training.sql, with the day's kcal change computed once per day.
create or replace view public.calendar_day
with (security_invoker = true)
as
select
    ce.id,
    day.user_id,
    day.program_id,
    day.date,
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
        when ks.kcal_share <> 0
            then m.targets || jsonb_build_object(
                'kcal', round((m.targets ->> 'kcal')::numeric + ks.kcal_share, 1),
                'carbs_g', round((m.targets ->> 'carbs_g')::numeric + ks.kcal_share / 4, 1)
            )
        else m.targets
    end as adjusted_targets
from (
    -- The active program's days, each with its planned kcal and its kcal change (computed once
    -- per day). Filters on the view's user_id, program_id and date reach this subquery.
    select
        dce.user_id,
        dce.date,
        dce.program_id,
        sum((dm.targets ->> 'kcal')::numeric) as planned_kcal,
        case
            when count(dm.id) > 0 then public.day_kcal_adjustment(dce.user_id, dce.date)
        end as kcal_adjustment
    from public.calendar_events as dce
    inner join public.programs as p on dce.program_id = p.id and p.status = 'active'
    left join public.meal_instances as dm
        on dce.event_type = 'meal' and dce.ref_id = dm.id and dce.user_id = dm.user_id
    group by dce.user_id, dce.date, dce.program_id
) as day
inner join public.calendar_events as ce
    on day.user_id = ce.user_id and day.date = ce.date and day.program_id = ce.program_id
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
left join lateral (  -- noqa: ST05
    select day.kcal_adjustment * (m.targets ->> 'kcal')::numeric / nullif(day.planned_kcal, 0) as kcal_share
) as ks on true
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
