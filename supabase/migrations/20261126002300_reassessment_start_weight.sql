-- Reassessment inputs: the weight the program was generated with seeds the first trend (issue 8).
--
-- The controllers seed a period's weight trend with the stored trend of the previous period, else
-- with the trend of the weigh-ins of the 28 days before the period, else with a start weight. The
-- aggregate did not return that start weight, so a program's first period without earlier
-- weigh-ins started its trend at the period's first weigh-in: one noisy reading, and a trend that
-- lags the real one (the demo's first period read -0.26 kg/week against about -0.35 fitted). It now
-- returns the weight the program was generated with (provenance.inputs.weight_kg, the profile's
-- weight at generation) dated the day before the program started; the trend decays it like any
-- earlier reading (0.9 per day of gap).
--
-- The function's result gains two columns, so it is dropped and created again (same body otherwise).

drop function private.reassessment_inputs(bigint[]);

create function private.reassessment_inputs(job_ids bigint[])
returns table (
    job_id bigint,
    program_id uuid,
    user_id uuid,
    period_start date,
    period_end date,
    primary_goal text,
    sex text,
    tdee_kcal integer,
    target_rate_kg_per_week numeric,
    targets jsonb,
    weigh_ins jsonb,
    intake jsonb,
    session_adherence numeric,
    meal_adherence numeric,
    soreness_avg numeric,
    stress_avg numeric,
    e1rm_trend_pct jsonb,
    weekly_sets jsonb,
    landmarks jsonb,
    mesocycle_weeks integer,
    weeks_since_deload integer,
    controller_state jsonb,
    start_weight_kg numeric,
    start_weight_day date
)
language plpgsql
stable
set search_path = ''
as $$
begin
    return query
    select
        j.id,
        p.id,
        p.user_id,
        j.period_start,
        j.period_end,
        p.primary_goal,
        pr.sex,
        (p.tdee ->> 'tdee_kcal_rounded')::integer,
        (p.macros -> 'calories' ->> 'planned_rate_kg_per_week')::numeric,
        jsonb_build_object(
            'kcal', et.kcal, 'protein_g', et.protein_g, 'carbs_g', et.carbs_g, 'fat_g', et.fat_g
        ),
        w.weigh_ins,
        i.intake,
        adh.session_adherence,
        adh.meal_adherence,
        ctx.soreness_avg,
        ctx.stress_avg,
        coalesce(tr.trend, '{}'),
        -- The planned sets of the week after the period, with the muscles reassessment changed.
        coalesce(
            p.provenance -> 'training' -> 'weeks'
            -> least(
                (j.period_end + 1 - p.program_start_date) / 7, p.program_duration_weeks - 1
            )::integer -> 'planned_sets',
            '{}'
        ) || et.weekly_sets_changes,
        coalesce(p.provenance -> 'training' -> 'landmarks', '{}'),
        (p.provenance -> 'training' ->> 'mesocycle_weeks')::integer,
        (j.period_end + 1 - coalesce(et.deload_week_start + 7, p.program_start_date)) / 7,
        coalesce(prev.controller_state, '{}'),
        (p.provenance -> 'inputs' ->> 'weight_kg')::numeric,
        p.program_start_date - 1
    from private.reassessment_jobs as j
    inner join public.programs as p on j.program_id = p.id and j.user_id = p.user_id
    left join public.profiles as pr on p.user_id = pr.id
    -- Per job: LIMIT 1 keeps the view from being computed for every program of the database.
    cross join lateral (
        select
            e.kcal,
            e.protein_g,
            e.carbs_g,
            e.fat_g,
            e.weekly_sets_changes,
            e.deload_week_start
        from public.program_effective_targets as e
        where e.program_id = p.id
        limit 1
    ) as et
    -- Weigh-ins from 4 weeks before the period on (the trend needs a run-up), by local date.
    left join lateral (
        select
            coalesce(
                jsonb_agg(
                    jsonb_build_array(
                        (b.measured_at at time zone coalesce(pr.timezone, 'UTC'))::date, b.weight_kg
                    )
                    order by b.measured_at
                ),
                '[]'
            ) as weigh_ins
        from public.body_metrics as b
        where
            b.user_id = p.user_id
            and b.weight_kg is not null
            and b.measured_at >= (j.period_start - 28)::timestamp at time zone coalesce(pr.timezone, 'UTC')
            and b.measured_at < (j.period_end + 1)::timestamp at time zone coalesce(pr.timezone, 'UTC')
    ) as w on true
    -- Logged intake per local day of the period (days with a meal logged).
    left join lateral (
        select coalesce(jsonb_agg(jsonb_build_array(d.day, d.kcal) order by d.day), '[]') as intake
        from (
            select
                m.local_date as day,
                sum(m.total_kcal) as kcal
            from public.meals as m
            where m.user_id = p.user_id and m.local_date between j.period_start and j.period_end
            group by m.local_date
        ) as d
    ) as i on true
    -- Adherence of the period per kind (DOMAIN §6 weights), from the daily rollups.
    left join lateral (
        select
            sum(a.completed_items + 0.75 * a.similar_items + 0.4 * a.partial_items)
            filter (where a.kind = 'session')
            / nullif(
                sum(a.completed_items + a.similar_items + a.partial_items + a.skipped_items)
                filter (where a.kind = 'session'),
                0
            ) as session_adherence,
            sum(a.completed_items + 0.75 * a.similar_items + 0.4 * a.partial_items)
            filter (where a.kind = 'meal')
            / nullif(
                sum(a.completed_items + a.similar_items + a.partial_items + a.skipped_items)
                filter (where a.kind = 'meal'),
                0
            ) as meal_adherence
        from public.adherence_daily as a
        where a.user_id = p.user_id and a.date between j.period_start and j.period_end
    ) as adh on true
    left join lateral (
        select
            avg(c.soreness_level) as soreness_avg,
            avg(c.stress_level) as stress_avg
        from public.user_context_log as c
        where c.user_id = p.user_id and c.date between j.period_start and j.period_end
    ) as ctx on true
    -- e1RM trend per muscle group: per catalogue exercise, the best Epley e1RM (1-10 reps with a
    -- load) of the period's second week against its first, in %; a group averages its primary
    -- exercises done in both weeks.
    left join lateral (
        select jsonb_object_agg(g.muscle_group, round(g.pct, 2)) as trend
        from (
            select
                gm.muscle_group,
                avg(100 * (x.late / x.early - 1)) as pct
            from (
                select
                    s.exercise_id,
                    max(s.weight_kg * (1 + s.reps / 30.0))
                    filter (where a.local_date < j.period_start + 7) as early,
                    max(s.weight_kg * (1 + s.reps / 30.0))
                    filter (where a.local_date >= j.period_start + 7) as late
                from public.activities as a
                inner join public.exercise_sets as s on a.id = s.activity_id and a.user_id = s.user_id
                where
                    a.user_id = p.user_id
                    and a.local_date between j.period_start and j.period_end
                    and s.exercise_id is not null
                    and not s.is_warmup
                    and s.reps between 1 and 10
                    and s.weight_kg > 0
                group by s.exercise_id
            ) as x
            inner join public.exercises as ex on x.exercise_id = ex.id
            inner join (
                values
                ('chest', 'chest'), ('lats', 'back'), ('middle_back', 'back'),
                ('shoulders', 'shoulders'), ('quadriceps', 'quads'), ('hamstrings', 'hamstrings'),
                ('glutes', 'glutes'), ('biceps', 'biceps'), ('triceps', 'triceps'),
                ('calves', 'calves'), ('abdominals', 'abs')
            ) as gm (muscle, muscle_group) on gm.muscle = any(ex.primary_muscles)
            where x.early > 0 and x.late > 0
            group by gm.muscle_group
        ) as g
    ) as tr on true
    -- The controller state the previous period left.
    left join lateral (
        select r.controller_state
        from public.reassessments as r
        where r.program_id = p.id and r.period_start < j.period_start
        order by r.period_start desc
        limit 1
    ) as prev on true
    where j.id = any(job_ids)
    order by j.id;
end;
$$;

comment on function private.reassessment_inputs(bigint[]) is
'The reassessment inputs of a batch of jobs, one row per job: goal, sex, TDEE, target rate, the targets '
'in force, weigh-ins [[local date, kg]] from 28 days before the period, intake [[local date, kcal]] of '
'the days with meals logged, session and meal adherence (0-1, DOMAIN §6 weights), average soreness and '
'stress (1-10), e1RM trend per muscle group (%, second week against first), weekly sets per muscle '
'group in force, landmarks, mesocycle length, weeks since the last deload, the previous controller '
'state, and the start weight (kg the program was generated with, dated the day before it started).';

revoke execute on function private.reassessment_inputs(bigint[]) from public, anon, authenticated;
