-- Tracking views (issue 6, item 5), security_invoker: the tables' RLS applies, so a user sees only
-- their own rows. Each is shaped for one PostgREST request per screen:
--   GET /nutrition_today                                     (today's food against the plan)
--   GET /nutrition_day?date=eq.2026-12-01                    (any day, same columns)
--   GET /muscle_volume_weekly?week_start=eq.2026-11-30       (hard sets per muscle group)
--   GET /exercise_records?order=last_done.desc               (e1RM and personal records)
--   GET /adherence_summary?week_start=gte.2026-11-02         (adherence per week)
--
-- Days are the user's local dates (meals.local_date, activities.local_date, calendar_events.date).
-- The plan of a day comes from the program in force that day: the user's highest version not
-- archived that started on or before it (as the adherence matching decides).
-- The per-user views start from profiles (one row per user; RLS: the caller's own) and read
-- each day or week through lateral subqueries keyed by (user_id, local date), so a filter on
-- date or week_start becomes index range scans on the (user_id, local_date) indexes.

-- ---------------------------------------------------------- nutrition_day ---

create or replace view public.nutrition_day
with (security_invoker = true)
as
select
    pr.id as user_id,
    g.day::date as date,
    t.target_kcal,
    t.target_protein_g,
    t.target_carbs_g,
    t.target_fat_g,
    e.eaten_kcal,
    e.eaten_protein_g,
    e.eaten_carbs_g,
    e.eaten_fat_g,
    e.meals_logged,
    b.calories_burned,
    t.target_kcal + b.calories_burned as kcal_budget,
    t.target_kcal + b.calories_burned - e.eaten_kcal as kcal_remaining,
    t.target_protein_g - e.eaten_protein_g as protein_g_remaining,
    t.target_carbs_g - e.eaten_carbs_g as carbs_g_remaining,
    t.target_fat_g - e.eaten_fat_g as fat_g_remaining
from public.profiles as pr
-- Every day from the user's first to last planned or logged day (a filter on date is applied
-- here, before the per-day lookups below).
inner join lateral generate_series(
    least(
        (
            select min(m.local_date)
            from public.meals as m
            where m.user_id = pr.id
        ),
        (
            select min(a.local_date)
            from public.activities as a
            where a.user_id = pr.id
        ),
        (
            select min(ce.date)
            from public.calendar_events as ce
            where ce.user_id = pr.id
        )
    )::timestamp,
    greatest(
        (
            select max(m.local_date)
            from public.meals as m
            where m.user_id = pr.id
        ),
        (
            select max(a.local_date)
            from public.activities as a
            where a.user_id = pr.id
        ),
        (
            select max(ce.date)
            from public.calendar_events as ce
            where ce.user_id = pr.id
        )
    )::timestamp,
    interval '1 day'
) as g (day) on true
inner join lateral (
    select
        round(sum((mi.targets ->> 'kcal')::numeric), 1) as target_kcal,
        round(sum((mi.targets ->> 'protein_g')::numeric), 1) as target_protein_g,
        round(sum((mi.targets ->> 'carbs_g')::numeric), 1) as target_carbs_g,
        round(sum((mi.targets ->> 'fat_g')::numeric), 1) as target_fat_g
    from public.calendar_events as ce
    inner join public.meal_instances as mi on ce.ref_id = mi.id and ce.user_id = mi.user_id
    where
        ce.user_id = pr.id
        and ce.date = g.day::date
        and ce.event_type = 'meal'
        -- The program in force that day (per event, so that the day's events are found by
        -- (user_id, date)).
        and ce.program_id = (
            select p.id
            from public.programs as p
            where p.user_id = pr.id and p.status <> 'archived' and p.program_start_date <= ce.date
            order by p.version desc
            limit 1
        )
) as t on true
inner join lateral (
    select
        coalesce(sum(m.total_kcal), 0) as eaten_kcal,
        coalesce(sum(m.total_protein_g), 0) as eaten_protein_g,
        coalesce(sum(m.total_carbs_g), 0) as eaten_carbs_g,
        coalesce(sum(m.total_fat_g), 0) as eaten_fat_g,
        count(*)::integer as meals_logged
    from public.meals as m
    where m.user_id = pr.id and m.local_date = g.day::date
) as e on true
inner join lateral (
    select coalesce(sum(a.calories_burned), 0) as calories_burned
    from public.activities as a
    where a.user_id = pr.id and a.local_date = g.day::date
) as b on true;

comment on view public.nutrition_day is
'Nutrition of a day against the plan, one row per user and local date from the user''s first to last '
'planned or logged day: targets (the day''s planned meals of the program in force), what was eaten, '
'calories burned (they raise the day''s budget) and what remains. Filter by date (eq, or gte/lte). '
'security_invoker: the owner sees only their own rows.';
comment on column public.nutrition_day.date is 'The user''s local date.';
comment on column public.nutrition_day.target_kcal is
'Sum of meal_instances.targets.kcal of the day''s planned meals of the program in force (highest version '
'not archived, started on or before the date); NULL without a plan for the day. Likewise the other '
'target_* columns (grams).';
comment on column public.nutrition_day.eaten_kcal is
'Sum of meals.total_kcal of the meals logged that day (local_date); 0 when none. Likewise eaten_* (grams).';
comment on column public.nutrition_day.meals_logged is 'Number of meals logged that day.';
comment on column public.nutrition_day.calories_burned is
'Sum of activities.calories_burned of the activities logged that day (kcal); 0 when none.';
comment on column public.nutrition_day.kcal_budget is
'target_kcal + calories_burned: exercise earns its calories back; NULL without a plan.';
comment on column public.nutrition_day.kcal_remaining is
'kcal_budget - eaten_kcal (negative when over budget); NULL without a plan.';
comment on column public.nutrition_day.protein_g_remaining is
'target_protein_g - eaten_protein_g (likewise carbs and fat; exercise does not change them).';

revoke all on public.nutrition_day from public, anon, authenticated;
grant select on public.nutrition_day to authenticated, service_role;

-- -------------------------------------------------------- nutrition_today ---

-- The same columns as nutrition_day for the user's local today (now() in profiles.timezone); one
-- row per user even when nothing is planned or logged.
create or replace view public.nutrition_today
with (security_invoker = true)
as
select
    pr.id as user_id,
    (now() at time zone pr.timezone)::date as date,
    t.target_kcal,
    t.target_protein_g,
    t.target_carbs_g,
    t.target_fat_g,
    e.eaten_kcal,
    e.eaten_protein_g,
    e.eaten_carbs_g,
    e.eaten_fat_g,
    e.meals_logged,
    b.calories_burned,
    t.target_kcal + b.calories_burned as kcal_budget,
    t.target_kcal + b.calories_burned - e.eaten_kcal as kcal_remaining,
    t.target_protein_g - e.eaten_protein_g as protein_g_remaining,
    t.target_carbs_g - e.eaten_carbs_g as carbs_g_remaining,
    t.target_fat_g - e.eaten_fat_g as fat_g_remaining
from public.profiles as pr
inner join lateral (
    select
        round(sum((mi.targets ->> 'kcal')::numeric), 1) as target_kcal,
        round(sum((mi.targets ->> 'protein_g')::numeric), 1) as target_protein_g,
        round(sum((mi.targets ->> 'carbs_g')::numeric), 1) as target_carbs_g,
        round(sum((mi.targets ->> 'fat_g')::numeric), 1) as target_fat_g
    from public.calendar_events as ce
    inner join public.meal_instances as mi on ce.ref_id = mi.id and ce.user_id = mi.user_id
    where
        ce.user_id = pr.id
        and ce.date = (now() at time zone pr.timezone)::date
        and ce.event_type = 'meal'
        -- The program in force that day (per event, so that the day's events are found by
        -- (user_id, date)).
        and ce.program_id = (
            select p.id
            from public.programs as p
            where p.user_id = pr.id and p.status <> 'archived' and p.program_start_date <= ce.date
            order by p.version desc
            limit 1
        )
) as t on true
inner join lateral (
    select
        coalesce(sum(m.total_kcal), 0) as eaten_kcal,
        coalesce(sum(m.total_protein_g), 0) as eaten_protein_g,
        coalesce(sum(m.total_carbs_g), 0) as eaten_carbs_g,
        coalesce(sum(m.total_fat_g), 0) as eaten_fat_g,
        count(*)::integer as meals_logged
    from public.meals as m
    where m.user_id = pr.id and m.local_date = (now() at time zone pr.timezone)::date
) as e on true
inner join lateral (
    select coalesce(sum(a.calories_burned), 0) as calories_burned
    from public.activities as a
    where a.user_id = pr.id and a.local_date = (now() at time zone pr.timezone)::date
) as b on true;

comment on view public.nutrition_today is
'Today''s nutrition against the plan, one row per user (today = now() in profiles.timezone): the '
'columns of nutrition_day. security_invoker: the owner sees only their own row.';
comment on column public.nutrition_today.date is 'The user''s local today.';
comment on column public.nutrition_today.target_kcal is
'Sum of meal_instances.targets.kcal of today''s planned meals of the program in force; NULL without a '
'plan for today. Likewise the other target_* columns (grams).';
comment on column public.nutrition_today.eaten_kcal is
'Sum of meals.total_kcal of the meals logged today (local_date); 0 when none. Likewise eaten_* (grams).';
comment on column public.nutrition_today.meals_logged is 'Number of meals logged today.';
comment on column public.nutrition_today.calories_burned is
'Sum of activities.calories_burned of today''s activities (kcal); 0 when none.';
comment on column public.nutrition_today.kcal_budget is
'target_kcal + calories_burned: exercise earns its calories back; NULL without a plan.';
comment on column public.nutrition_today.kcal_remaining is
'kcal_budget - eaten_kcal (negative when over budget); NULL without a plan.';
comment on column public.nutrition_today.protein_g_remaining is
'target_protein_g - eaten_protein_g (likewise carbs and fat).';

revoke all on public.nutrition_today from public, anon, authenticated;
grant select on public.nutrition_today to authenticated, service_role;

-- --------------------------------------------------- muscle_volume_weekly ---

create or replace view public.muscle_volume_weekly
with (security_invoker = true)
as
select
    pr.id as user_id,
    w.week_start::date as week_start,
    v.muscle_group,
    v.hard_sets,
    v.planned_sets,
    lm.mev,
    lm.mav,
    lm.mrv
from public.profiles as pr
-- Every ISO week from the user's first to last logged activity or planned training (a filter
-- on week_start is applied here, before the per-week lookups below).
inner join lateral generate_series(
    date_trunc(
        'week',
        least(
            (
                select min(a.local_date)
                from public.activities as a
                where a.user_id = pr.id
            ),
            (
                select min(ce.date)
                from public.calendar_events as ce
                where ce.user_id = pr.id
            )
        )::timestamp
    ),
    greatest(
        (
            select max(a.local_date)
            from public.activities as a
            where a.user_id = pr.id
        ),
        (
            select max(ce.date)
            from public.calendar_events as ce
            where ce.user_id = pr.id
        )
    )::timestamp,
    interval '7 days'
) as w (week_start) on true
-- (The subquery reads pr and w further down: it cannot be a CTE.)
inner join lateral (  -- noqa: ST05
    select
        eg.muscle_group,
        sum(eg.weight * x.done_sets) as hard_sets,
        sum(eg.weight * x.planned_sets) as planned_sets
    from (
        -- Hard sets done: not warm-ups, with reps or a duration, and hard (RIR <= 4 or RPE >= 6)
        -- or of unrecorded effort.
        select
            s.exercise_id,
            1 as done_sets,
            0 as planned_sets
        from public.activities as a
        inner join public.exercise_sets as s on a.id = s.activity_id and a.user_id = s.user_id
        where
            a.user_id = pr.id
            and a.local_date between w.week_start::date and w.week_start::date + 6
            and not s.is_warmup
            and (s.reps > 0 or s.duration_seconds is not null)
            and (s.rir <= 4 or s.rpe >= 6 or (s.rir is null and s.rpe is null))
        union all
        -- Sets planned by the week's training events of the program in force each day.
        select
            epi.exercise_id,
            0 as done_sets,
            epi.sets as planned_sets
        from public.calendar_events as ce
        inner join public.exercise_plan_items as epi
            on ce.ref_id = epi.session_instance_id and ce.user_id = epi.user_id
        where
            ce.user_id = pr.id
            and ce.date between w.week_start::date and w.week_start::date + 6
            and ce.event_type = 'training'
            and ce.program_id = (
                select p.id
                from public.programs as p
                where p.user_id = pr.id and p.status <> 'archived' and p.program_start_date <= ce.date
                order by p.version desc
                limit 1
            )
    ) as x
    -- Custom exercises (no exercise_id) have no muscles: they count nowhere.
    inner join public.exercises as ex on x.exercise_id = ex.id
    -- The exercise's muscle groups: 1 set for a primary muscle's group, 0.5 for a secondary's.
    inner join lateral (
        select
            gm.muscle_group,
            max(case when gm.muscle = any(ex.primary_muscles) then 1.0 else 0.5 end) as weight
        from (
            values
            ('chest', 'chest'), ('lats', 'back'), ('middle_back', 'back'), ('shoulders', 'shoulders'),
            ('quadriceps', 'quads'), ('hamstrings', 'hamstrings'), ('glutes', 'glutes'),
            ('biceps', 'biceps'), ('triceps', 'triceps'), ('calves', 'calves'), ('abdominals', 'abs')
        ) as gm (muscle, muscle_group)
        where gm.muscle = any(ex.primary_muscles || ex.secondary_muscles)
        group by gm.muscle_group
    ) as eg on true
    group by eg.muscle_group
) as v on true
inner join (
    values
    ('chest', 10, 16, 22), ('back', 10, 18, 25), ('shoulders', 8, 16, 26), ('quads', 8, 14, 20),
    ('hamstrings', 6, 12, 20), ('glutes', 0, 8, 16), ('biceps', 6, 14, 24), ('triceps', 6, 12, 18),
    ('calves', 6, 12, 20), ('abs', 0, 12, 25)
) as lm (muscle_group, mev, mav, mrv) on v.muscle_group = lm.muscle_group;

comment on view public.muscle_volume_weekly is
'Weekly hard sets per muscle group against the plan and the RP landmarks (DOMAIN §4), one row per user, '
'ISO week (local dates) and group with planned or done sets. Filter by week_start (eq, or gte/lte). '
'security_invoker: the owner sees only their own rows.';
comment on column public.muscle_volume_weekly.week_start is 'Monday of the ISO week (local date).';
comment on column public.muscle_volume_weekly.muscle_group is
'chest, back, shoulders, quads, hamstrings, glutes, biceps, triceps, calves or abs (the catalogue''s '
'muscles grouped as the program generator does: back = lats + middle_back, abs = abdominals).';
comment on column public.muscle_volume_weekly.hard_sets is
'Hard sets done: non-warm-up sets with reps > 0 or a duration, with RIR <= 4 or RPE >= 6 or no effort '
'recorded; 1 per set for a primary muscle''s group, 0.5 for a secondary''s. Custom exercises count nowhere.';
comment on column public.muscle_volume_weekly.planned_sets is
'Sets planned by the week''s training events of the program in force, weighted the same way.';
comment on column public.muscle_volume_weekly.mev is
'Minimum effective volume, weekly hard sets (DOMAIN §4).';
comment on column public.muscle_volume_weekly.mav is 'Maximum adaptive volume, weekly hard sets.';
comment on column public.muscle_volume_weekly.mrv is 'Maximum recoverable volume, weekly hard sets.';

revoke all on public.muscle_volume_weekly from public, anon, authenticated;
grant select on public.muscle_volume_weekly to authenticated, service_role;

-- ------------------------------------------------------- exercise_records ---

create or replace view public.exercise_records
with (security_invoker = true)
as
select
    x.user_id,
    x.exercise_key,
    x.exercise_id,
    coalesce(min(ex.name), (array_agg(x.exercise_name order by x.start_time desc))[1]) as exercise_name,
    round(max(x.e1rm), 1) as best_e1rm_kg,
    (
        array_agg(x.local_date order by x.e1rm desc, x.local_date asc) filter (where x.e1rm is not null)
    )[1] as best_e1rm_date,
    max(x.weight_kg) filter (where x.weight_kg > 0) as heaviest_kg,
    (array_agg(x.reps order by x.weight_kg desc, x.reps desc nulls last) filter (
        where x.weight_kg > 0
    ))[1] as heaviest_reps,
    max(x.reps * x.weight_kg) as best_volume_set_kg,
    round(
        (array_agg(x.e1rm order by x.local_date desc, x.e1rm desc) filter (where x.e1rm is not null))[1],
        1
    ) as latest_e1rm_kg,
    count(distinct x.activity_id)::integer as sessions,
    max(x.local_date) as last_done
from (
    select
        s.user_id,
        coalesce(s.exercise_id, 'custom:' || lower(btrim(s.exercise_name))) as exercise_key,
        s.exercise_id,
        s.exercise_name,
        s.activity_id,
        s.reps,
        s.weight_kg,
        a.local_date,
        a.start_time,
        -- Epley (DOMAIN §4), valid for 1-10 reps with a load.
        case
            when s.reps between 1 and 10 and s.weight_kg > 0 then s.weight_kg * (1 + s.reps / 30.0)
        end as e1rm
    from public.exercise_sets as s
    inner join public.activities as a on s.activity_id = a.id and s.user_id = a.user_id
    where not s.is_warmup
) as x
left join public.exercises as ex on x.exercise_id = ex.id
-- exercise_id follows from exercise_key; grouping by it lets a filter on it reach the sets.
group by x.user_id, x.exercise_key, x.exercise_id;

comment on view public.exercise_records is
'Personal records per user and exercise (catalogue exercise, or custom exercise by case-insensitive '
'name) over the non-warm-up sets: best and latest e1RM (Epley), heaviest set, best volume set, '
'sessions and last day done. security_invoker: the owner sees only their own rows.';
comment on column public.exercise_records.exercise_key is
'The exercise: its catalogue id, or ''custom:'' || lower(btrim(name)) for a custom exercise.';
comment on column public.exercise_records.exercise_id is 'Catalogue exercise id; NULL for a custom exercise.';
comment on column public.exercise_records.exercise_name is
'The catalogue name, or the custom name as most recently logged.';
comment on column public.exercise_records.best_e1rm_kg is
'Best estimated one-rep max, kg: Epley w x (1 + r / 30) over sets of 1-10 reps with a load '
'(100 kg x 5 -> 116.7), rounded to 0.1; NULL when no set qualifies.';
comment on column public.exercise_records.best_e1rm_date is
'Local date of the first set that reached best_e1rm_kg (the PR date).';
comment on column public.exercise_records.heaviest_kg is 'Heaviest load lifted in a set, kg (NULL if none).';
comment on column public.exercise_records.heaviest_reps is 'Most reps done with heaviest_kg.';
comment on column public.exercise_records.best_volume_set_kg is 'Largest reps x kg of a single set.';
comment on column public.exercise_records.latest_e1rm_kg is
'Best e1RM of the most recent day with a set that gives one (1-10 reps with a load), kg.';
comment on column public.exercise_records.sessions is 'Number of activities with a set of the exercise.';
comment on column public.exercise_records.last_done is 'Local date of the most recent set of the exercise.';

revoke all on public.exercise_records from public, anon, authenticated;
grant select on public.exercise_records to authenticated, service_role;

-- ------------------------------------------------------ adherence_summary ---

create or replace view public.adherence_summary
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
