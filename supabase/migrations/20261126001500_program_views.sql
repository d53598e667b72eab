-- Client views of the stored program (security_invoker: the tables' RLS
-- applies, so a user sees only their own rows). Each is shaped for one
-- PostgREST request per screen:
--   GET /calendar_day?date=eq.2026-12-01&order=time_of_day      (a day)
--   GET /calendar_day?date=gte.2026-12-01&date=lte.2026-12-07   (a week)
--   GET /program_summary                                         (the active program)

-- ----------------------------------------------------------- calendar_day ---

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
    it.items
from public.calendar_events as ce
inner join public.programs as p on ce.program_id = p.id and p.status = 'active'
left join public.session_instances as s
    on ce.ref_table = 'session_instances' and ce.ref_id = s.id
left join public.meal_instances as m
    on ce.ref_table = 'meal_instances' and ce.ref_id = m.id
left join public.meal_times as mt on m.meal_type = mt.id
left join lateral (
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
        ) as exercises
    from public.exercise_plan_items as e
    where e.session_instance_id = s.id and e.user_id = s.user_id
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

comment on view public.calendar_day is
'The active program''s plan by date, one row per calendar event: a training session with its exercises '
'(ordered) or a meal with its targets, totals and planned foods. Filter by date (eq, or gte/lte for a '
'range). security_invoker: the owner sees only their own rows.';
comment on column public.calendar_day.id is 'The calendar event id.';
comment on column public.calendar_day.exercises is
'Training events: the session''s exercises as a JSON array ordered by order_index; NULL for meals.';
comment on column public.calendar_day.items is
'Meal events: the planned foods as a JSON array (grams and nutrients); NULL for sessions.';
comment on column public.calendar_day.meal_time is
'Meal events: the planned clock time, or the meal occasion''s typical time.';

revoke all on public.calendar_day from public, anon, authenticated;
grant select on public.calendar_day to authenticated, service_role;

-- -------------------------------------------------------- program_summary ---

create or replace view public.program_summary
with (security_invoker = true)
as
select
    p.id as program_id,
    p.user_id,
    p.version,
    p.source,
    p.primary_goal,
    p.program_start_date,
    p.program_duration_weeks,
    p.program_start_date + p.program_duration_weeks * 7 - 1 as program_end_date,
    p.next_reassessment_date,
    p.status,
    p.tdee,
    p.macros,
    p.feasibility,
    coalesce(ws.weekly_schedule, '[]'::jsonb) as weekly_schedule,
    coalesce(dm.daily_meals, '[]'::jsonb) as daily_meals,
    p.created_at
from public.programs as p
left join lateral (
    select
        jsonb_agg(
            jsonb_build_object(
                'day_index', s.day_index,
                'weekday', to_char(p.program_start_date + s.day_index, 'FMDay'),
                'session_kind', s.session_kind,
                'title', s.title,
                'planned_duration_minutes', s.planned_duration_minutes,
                'time_of_day', s.time_of_day
            )
            order by s.day_index, s.id
        ) as weekly_schedule
    from public.session_instances as s
    where s.program_id = p.id and s.user_id = p.user_id and s.week_index = 0
) as ws on true
left join lateral (
    select
        jsonb_agg(
            jsonb_build_object(
                'meal_type', m.meal_type,
                'meal_time', coalesce(m.meal_time, mt.typical_time),
                'targets', m.targets
            )
            order by coalesce(m.meal_time, mt.typical_time), m.meal_type
        ) as daily_meals
    from public.meal_instances as m
    inner join public.meal_times as mt on m.meal_type = mt.id
    where m.program_id = p.id and m.user_id = p.user_id and m.week_index = 0 and m.day_index = 0
) as dm on true
where p.status = 'active';

comment on view public.program_summary is
'The active program per user: targets (tdee, macros), feasibility, the weekly schedule (the sessions of '
'week 0 by day) and the meals of a day (day 0 with their targets). security_invoker: the owner sees only '
'their own row.';
comment on column public.program_summary.weekly_schedule is
'Sessions of the first program week as a JSON array ordered by day_index (day 0 = program_start_date).';
comment on column public.program_summary.daily_meals is
'Meals of the first program day with their targets, as a JSON array ordered by time.';
comment on column public.program_summary.program_end_date is
'Last day of the program: program_start_date + 7 * program_duration_weeks - 1.';

revoke all on public.program_summary from public, anon, authenticated;
grant select on public.program_summary to authenticated, service_role;
