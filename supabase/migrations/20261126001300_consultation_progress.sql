-- Consultation progress: which of the seven sections are complete, computed
-- from the user's rows in the extraction tables (all of them, not only those
-- written by one session). A section is complete when all its required facts
-- are known; the fact codes are REQUIRED_FACTS in
-- functions/sharpened/consultation/models.py:
--   1 training_modalities   modality (>= 1 modality), primary_modality (one marked primary),
--                           proficiency and years_experience (of the primary)
--   2 exercise_familiarity  familiar_exercises (>= 3), comfort_levels (>= 1, every one has one)
--   3 training_schedule     training_days (>= 2 distinct days), session_duration and
--                           training_location (>= 1 slot, every slot has one)
--   4 meal_timing           meal_times (>= 2), meal_clock_times (>= 1, every one has a time)
--   5 typical_foods         typical_foods (>= 3 distinct foods), food_meal_times (>= 1, every
--                           row names its meal)
--   6 goals_events          goal (>= 1 goal), goal_target (>= 1 goal with a target value or date)
--   7 challenges            difficulty (>= 1)
-- A "for every one" fact is unknown while there is none at all.

create or replace function public.consultation_progress(session_id uuid)
returns table (section smallint, slug text, complete boolean, missing text[])
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
    owner_id uuid;
begin
    -- Under RLS a caller sees only their own sessions: another user's is not found.
    select s.user_id into owner_id
    from public.consultation_sessions as s
    where s.id = consultation_progress.session_id;
    if owner_id is null then
        raise exception 'consultation session % not found', consultation_progress.session_id
            using errcode = 'PT404',
                detail = pg_catalog.json_build_object('code', 'session_not_found')::text;
    end if;

    return query
    with
    modalities as (
        select
            count(*) as n,
            count(*) filter (where m.is_primary) as n_primary,
            coalesce(bool_or(m.is_primary and m.proficiency_level is not null), false) as primary_proficiency,
            coalesce(bool_or(m.is_primary and m.years_experience is not null), false) as primary_years
        from public.user_training_modalities as m
        where m.user_id = owner_id
    ),

    exercises as (
        select
            count(*) as n,
            count(*) filter (where e.comfort_level is null) as n_without_comfort
        from public.user_familiar_exercises as e
        where e.user_id = owner_id
    ),

    slots as (
        select
            count(*) as n,
            count(distinct a.day_of_week) as n_days,
            count(*) filter (where a.typical_duration_minutes is null) as n_without_duration,
            count(*) filter (where a.location_type is null) as n_without_location
        from public.user_training_availability as a
        where a.user_id = owner_id
    ),

    meal_times as (
        select
            count(*) as n,
            count(*) filter (where t.typical_time is null) as n_without_time
        from public.user_preferred_meal_times as t
        where t.user_id = owner_id
    ),

    foods as (
        select
            count(*) as n,
            count(distinct f.food_id) as n_foods,
            count(*) filter (where f.meal_time_id is null) as n_without_meal
        from public.user_typical_meal_foods as f
        where f.user_id = owner_id
    ),

    goals as (
        select
            count(*) as n,
            count(*) filter (where g.target_value is not null or g.target_date is not null) as n_with_target
        from public.user_improvement_goals as g
        where g.user_id = owner_id
    ),

    difficulties as (
        select count(*) as n
        from public.user_difficulties as d
        where d.user_id = owner_id
    ),

    facts (section_no, section_slug, position, code, known) as (
        select 1, 'training_modalities', 1, 'modality', m.n >= 1 from modalities as m
        union all
        select 1, 'training_modalities', 2, 'primary_modality', m.n_primary >= 1 from modalities as m
        union all
        select 1, 'training_modalities', 3, 'proficiency', m.primary_proficiency from modalities as m
        union all
        select 1, 'training_modalities', 4, 'years_experience', m.primary_years from modalities as m
        union all
        select 2, 'exercise_familiarity', 1, 'familiar_exercises', e.n >= 3 from exercises as e
        union all
        select 2, 'exercise_familiarity', 2, 'comfort_levels', e.n >= 1 and e.n_without_comfort = 0
        from exercises as e
        union all
        select 3, 'training_schedule', 1, 'training_days', a.n_days >= 2 from slots as a
        union all
        select 3, 'training_schedule', 2, 'session_duration', a.n >= 1 and a.n_without_duration = 0
        from slots as a
        union all
        select 3, 'training_schedule', 3, 'training_location', a.n >= 1 and a.n_without_location = 0
        from slots as a
        union all
        select 4, 'meal_timing', 1, 'meal_times', t.n >= 2 from meal_times as t
        union all
        select 4, 'meal_timing', 2, 'meal_clock_times', t.n >= 1 and t.n_without_time = 0
        from meal_times as t
        union all
        select 5, 'typical_foods', 1, 'typical_foods', f.n_foods >= 3 from foods as f
        union all
        select 5, 'typical_foods', 2, 'food_meal_times', f.n >= 1 and f.n_without_meal = 0 from foods as f
        union all
        select 6, 'goals_events', 1, 'goal', g.n >= 1 from goals as g
        union all
        select 6, 'goals_events', 2, 'goal_target', g.n_with_target >= 1 from goals as g
        union all
        select 7, 'challenges', 1, 'difficulty', d.n >= 1 from difficulties as d
    )

    select
        x.section_no::smallint,
        x.section_slug,
        bool_and(x.known),
        coalesce(
            array_agg(x.code order by x.position) filter (where not x.known),
            '{}'::text []
        )
    from facts as x
    group by x.section_no, x.section_slug
    order by x.section_no;
end;
$$;

comment on function public.consultation_progress(uuid) is
'RPC: per section (1-7) of the caller''s consultation session, whether it is complete and the codes of '
'the required facts still missing (404 for a session that is not the caller''s).';

revoke execute on function public.consultation_progress(uuid) from public, anon;
grant execute on function public.consultation_progress(uuid) to authenticated, service_role;

create or replace function public.refresh_consultation_progress(
    session_id uuid, engine text default null, model text default null
)
returns public.consultation_sessions
language plpgsql
security definer
set search_path = ''
as $$
declare
    total_facts constant integer := 16;
    caller uuid := auth.uid();
    consultation public.consultation_sessions;
    done smallint[];
    first_incomplete smallint;
    known_facts integer;
begin
    if caller is null then
        raise exception 'refresh_consultation_progress needs a signed-in user'
            using errcode = 'insufficient_privilege';
    end if;

    select * into consultation
    from public.consultation_sessions as s
    where s.id = refresh_consultation_progress.session_id and s.user_id = caller
    for update;
    if not found then
        raise exception 'consultation session % not found', refresh_consultation_progress.session_id
            using errcode = 'PT404',
                detail = pg_catalog.json_build_object('code', 'session_not_found')::text;
    end if;
    if consultation.status <> 'active' then
        raise exception 'consultation session % is %, not active', consultation.id, consultation.status
            using errcode = 'PT409',
                detail = pg_catalog.json_build_object(
                    'code', 'session_not_active', 'status', consultation.status
                )::text;
    end if;

    -- The same computation the client sees (run here as the definer, for the
    -- session checked above). Known facts: all of them minus the missing ones.
    select
        coalesce(array_agg(p.section order by p.section) filter (where p.complete), '{}'::smallint []),
        min(p.section) filter (where not p.complete),
        total_facts - coalesce(sum(cardinality(p.missing)), 0)::integer
    into done, first_incomplete, known_facts
    from public.consultation_progress(consultation.id) as p;

    -- Never completes the session: that is the consultation-complete function's job.
    update public.consultation_sessions as s
    set
        completed_sections = done,
        current_section = coalesce(first_incomplete, 7),
        progress_percentage = round(100.0 * known_facts / total_facts),
        -- The engine that answered the turn (the table's CHECKs validate it).
        engine = coalesce(refresh_consultation_progress.engine, s.engine),
        model = coalesce(refresh_consultation_progress.model, s.model)
    where s.id = consultation.id
    returning * into consultation;
    return consultation;
end;
$$;

comment on function public.refresh_consultation_progress(uuid, text, text) is
'RPC: recomputes the caller''s active consultation session from consultation_progress (completed '
'sections, current section = first incomplete, progress = known / all required facts), records the '
'engine and model that answered when given, and returns it.';

revoke execute on function public.refresh_consultation_progress(uuid, text, text) from public, anon;
grant execute on function public.refresh_consultation_progress(uuid, text, text) to authenticated;
