-- Scheduled reassessment (issue 8, DOMAIN §8): every 14 days each active program is reassessed
-- from what the user ate, did and weighed over the period; the controllers (Python,
-- sharpened.reassessment) turn that into plan changes.
--
--   * private.reassessment_jobs: the queue. pg_cron enqueues due programs daily
--     (private.enqueue_due_reassessments); workers claim jobs with FOR UPDATE SKIP LOCKED under a
--     lease (private.claim_reassessment_jobs), and finish or fail them (failed jobs retry with
--     exponential backoff, then stop as dead and show in private.reassessment_job_problems).
--   * private.reassessment_inputs(job ids): the set-based aggregate a worker reads for a batch.
--   * public.reassessments: one row per program and period (the unique key makes a second run
--     change nothing) with the inputs, the outcome and the controller state after it; the
--     period's plan_change_events point at it.
--   * public.program_effective_targets: the immutable program plus its applied changes.
--   * private.request_reassessment(batch_size): what pg_cron calls. With pg_net it POSTs to the
--     reassess function; without it (locally, tests) it queues the call in private.function_calls,
--     which the local stack delivers to its functions server.

-- ---------------------------------------------------------- reassessments ---

create table public.reassessments (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    program_id uuid not null,
    period_start date not null,
    period_end date not null,
    inputs jsonb not null check (jsonb_typeof(inputs) = 'object'),
    outcome jsonb not null check (jsonb_typeof(outcome) = 'object'),
    controller_state jsonb not null check (jsonb_typeof(controller_state) = 'object'),
    changes smallint not null check (changes >= 0),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint reassessments_program_fkey foreign key (program_id, user_id)
    references public.programs (id, user_id) on delete cascade,
    -- One reassessment per program and period: running it again changes nothing (program_id
    -- determines user_id; leading with both, the key also covers the foreign key).
    constraint reassessments_program_period_key unique (program_id, user_id, period_start),
    constraint reassessments_id_user_id_key unique (id, user_id),
    constraint reassessments_period check (period_start <= period_end)
);

comment on table public.reassessments is
'One reassessment of a program for one period (DOMAIN §8): what was aggregated, what the controllers '
'concluded and their state after it (read by the next period). Written by the reassess worker; the owner '
'reads it.';
comment on column public.reassessments.inputs is
'The period''s aggregate (private.reassessment_inputs): weigh-ins, intake per day, adherence, soreness, '
'stress, e1RM trends, the targets in force.';
comment on column public.reassessments.outcome is
'The controllers'' numbers: trend weights, observed and target rate, confidence, expenditure estimate, '
'calorie and volume terms, what changed or why nothing did.';
comment on column public.reassessments.controller_state is
'Controller state after this period (calorie PID integral and previous error, volume integral and '
'multiplier): the next period starts from it.';
comment on column public.reassessments.changes is 'Number of plan_change_events this reassessment wrote.';

create index reassessments_user_id_idx on public.reassessments (user_id);

create trigger reassessments_set_updated_at
before update on public.reassessments
for each row execute function private.set_updated_at();

alter table public.reassessments enable row level security;

revoke all on public.reassessments from anon, authenticated;
grant select on public.reassessments to authenticated;
grant select, insert, update, delete on public.reassessments to service_role;

-- ----------------------------------------------------- plan_change_events ---

alter table public.plan_change_events
add column reassessment_id uuid,
add constraint plan_change_events_reassessment_fkey foreign key (reassessment_id, user_id)
references public.reassessments (id, user_id) on delete cascade;

comment on column public.plan_change_events.reassessment_id is
'The reassessment that made the change (NULL for other changes); its changes take effect the day after '
'period_end.';

create index plan_change_events_reassessment_id_user_id_idx
on public.plan_change_events (reassessment_id, user_id);
create index plan_change_events_program_id_change_type_idx
on public.plan_change_events (program_id, change_type, period_end);

-- ---------------------------------------------------------------- the queue ---

create table private.reassessment_jobs (
    id bigint generated always as identity primary key,
    program_id uuid not null,
    user_id uuid not null references auth.users (id) on delete cascade,
    period_start date not null,
    period_end date not null,
    status text not null default 'queued' check (
        status in ('queued', 'running', 'done', 'failed', 'dead')
    ),
    attempts smallint not null default 0 check (attempts >= 0),
    run_after timestamptz not null default now(),
    locked_by text,
    locked_until timestamptz,
    last_error text,
    finished_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint reassessment_jobs_program_fkey foreign key (program_id, user_id)
    references public.programs (id, user_id) on delete cascade,
    -- One job per program and period (and the foreign key's index).
    constraint reassessment_jobs_program_period_key unique (program_id, user_id, period_start),
    constraint reassessment_jobs_period check (period_start <= period_end),
    constraint reassessment_jobs_running_is_locked check (
        (status = 'running') = (locked_by is not null and locked_until is not null)
    )
);

comment on table private.reassessment_jobs is
'The reassessment queue: one job per program and period. queued -> running (claimed under a lease) -> '
'done; a failure -> failed (retried after 2^attempts minutes) -> dead after 5 attempts. A running job '
'whose lease ran out (its worker died) is claimed again.';

create index reassessment_jobs_claimable_idx on private.reassessment_jobs (run_after)
where status in ('queued', 'failed');
create index reassessment_jobs_running_idx on private.reassessment_jobs (locked_until)
where status = 'running';
create index reassessment_jobs_user_id_idx on private.reassessment_jobs (user_id);

create trigger reassessment_jobs_set_updated_at
before update on private.reassessment_jobs
for each row execute function private.set_updated_at();

revoke all on private.reassessment_jobs from public, anon, authenticated;
grant select, insert, update, delete on private.reassessment_jobs to service_role;

-- Due: an active program whose next reassessment date has come in the user's time zone; the
-- period is the 14 days before it.
create function private.enqueue_due_reassessments(as_of timestamptz default now())
returns integer
language plpgsql
set search_path = ''
as $$
declare
    queued integer;
begin
    insert into private.reassessment_jobs (program_id, user_id, period_start, period_end)
    select
        p.id,
        p.user_id,
        p.next_reassessment_date - 14,
        p.next_reassessment_date - 1
    from public.programs as p
    left join public.profiles as pr on p.user_id = pr.id
    where
        p.status = 'active'
        and p.next_reassessment_date <= (as_of at time zone coalesce(pr.timezone, 'UTC'))::date
    on conflict on constraint reassessment_jobs_program_period_key do nothing;
    get diagnostics queued = row_count;
    return queued;
end;
$$;

comment on function private.enqueue_due_reassessments(timestamptz) is
'Queues a job for every active program whose next_reassessment_date has come (user''s time zone), for '
'the 14 days before it; a job already queued for that program and period is kept. Returns how many were '
'queued. Run daily by pg_cron (job sharpened-enqueue-reassessments).';

create function private.claim_reassessment_jobs(
    worker text, batch_size integer, lease interval default interval '5 minutes'
)
returns setof private.reassessment_jobs
language plpgsql
set search_path = ''
as $$
begin
    if batch_size not between 1 and 1000 then
        raise exception using errcode = '22023', message = 'batch_size must be between 1 and 1000';
    end if;
    return query
    update private.reassessment_jobs as j set
        status = 'running',
        attempts = j.attempts + 1,
        locked_by = worker,
        locked_until = now() + lease
    where j.id in (
        select c.id
        from private.reassessment_jobs as c
        where
            (c.status in ('queued', 'failed') and c.run_after <= now())
            or (c.status = 'running' and c.locked_until < now())
        order by c.run_after, c.id
        limit batch_size
        for update skip locked
    )
    returning j.*;
end;
$$;

comment on function private.claim_reassessment_jobs(text, integer, interval) is
'Claims up to batch_size claimable jobs (queued, failed and due for retry, or running with an expired '
'lease) for worker under a lease, skipping jobs other workers hold. Commit it before the work.';

create function private.finish_reassessment_job(job_id bigint, worker text)
returns boolean
language plpgsql
set search_path = ''
as $$
begin
    update private.reassessment_jobs as j set
        status = 'done',
        locked_by = null,
        locked_until = null,
        last_error = null,
        finished_at = now()
    where j.id = job_id and j.status = 'running' and j.locked_by = worker;
    return found;
end;
$$;

comment on function private.finish_reassessment_job(bigint, text) is
'Marks worker''s running job done (in the transaction that wrote its reassessment). False when the job '
'is no longer the worker''s (its lease ran out and another worker took it): roll back then.';

create function private.fail_reassessment_job(job_id bigint, worker text, error text)
returns text
language plpgsql
set search_path = ''
as $$
declare
    outcome text;
begin
    update private.reassessment_jobs as j set
        status = case when j.attempts >= 5 then 'dead' else 'failed' end,
        run_after = now() + interval '1 minute' * power(2, j.attempts),
        locked_by = null,
        locked_until = null,
        last_error = left(error, 2000)
    where j.id = job_id and j.status = 'running' and j.locked_by = worker
    returning j.status into outcome;
    return outcome;
end;
$$;

comment on function private.fail_reassessment_job(bigint, text, text) is
'Records a failure of worker''s running job: failed (retried after 2^attempts minutes) or dead after the '
'5th attempt. Returns the new status (NULL when the job is no longer the worker''s).';

create view private.reassessment_job_problems
with (security_invoker = true)
as
select
    j.id,
    j.program_id,
    j.user_id,
    j.period_start,
    j.period_end,
    j.status,
    j.attempts,
    j.run_after,
    j.locked_by,
    j.locked_until,
    j.last_error,
    j.updated_at
from private.reassessment_jobs as j
where
    j.status in ('failed', 'dead')
    or (j.status = 'running' and j.locked_until < now())
    or (j.status = 'queued' and j.run_after < now() - interval '1 day');

comment on view private.reassessment_job_problems is
'Operators: jobs that need a look: dead (5 failed attempts), failed (waiting for a retry), running with '
'an expired lease (worker died), or queued for more than a day (no worker runs).';

revoke all on private.reassessment_job_problems from public, anon, authenticated;
grant select on private.reassessment_job_problems to service_role;

-- -------------------------------------------------------------- the inputs ---

-- The targets in force for a program: the program's own, replaced by the newest reassessment change
-- of each kind (programs are immutable; their changes are plan_change_events).
create view public.program_effective_targets
with (security_invoker = true)
as
select
    p.id as program_id,
    p.user_id,
    (p.macros ->> 'kcal')::integer as base_kcal,
    coalesce((cal.new_value ->> 'kcal')::integer, (p.macros ->> 'kcal')::integer) as kcal,
    coalesce((mac.new_value ->> 'protein_g')::integer, (p.macros ->> 'protein_g')::integer) as protein_g,
    coalesce((mac.new_value ->> 'carbs_g')::integer, (p.macros ->> 'carbs_g')::integer) as carbs_g,
    coalesce((mac.new_value ->> 'fat_g')::integer, (p.macros ->> 'fat_g')::integer) as fat_g,
    coalesce(sets.weekly_sets, '{}') as weekly_sets_changes,
    dl.deload_week_start,
    greatest(cal.period_end, mac.period_end, sets.period_end, dl.period_end) + 1 as changed_from
from public.programs as p
left join lateral (
    select
        e.new_value,
        e.period_end
    from public.plan_change_events as e
    where e.program_id = p.id and e.change_type = 'calories' and e.reassessment_id is not null
    order by e.period_end desc
    limit 1
) as cal on true
left join lateral (
    select
        e.new_value,
        e.period_end
    from public.plan_change_events as e
    where e.program_id = p.id and e.change_type = 'macros' and e.reassessment_id is not null
    order by e.period_end desc
    limit 1
) as mac on true
-- (The subquery reads p: it cannot be a CTE.)
left join lateral (  -- noqa: ST05
    select
        jsonb_object_agg(m.muscle, m.sets) as weekly_sets,
        max(m.period_end) as period_end
    from (
        select distinct on (e.new_value ->> 'muscle')
            e.new_value ->> 'muscle' as muscle,
            (e.new_value ->> 'sets')::numeric as sets,
            e.period_end
        from public.plan_change_events as e
        where
            e.program_id = p.id
            and e.change_type = 'volume'
            and e.entity_type = 'muscle_group'
            and e.reassessment_id is not null
        order by e.new_value ->> 'muscle', e.period_end desc
    ) as m
) as sets on true
left join lateral (
    select
        (e.new_value ->> 'week_start')::date as deload_week_start,
        e.period_end
    from public.plan_change_events as e
    where e.program_id = p.id and e.change_type = 'deload' and e.reassessment_id is not null
    order by e.period_end desc
    limit 1
) as dl on true;

comment on view public.program_effective_targets is
'Each program''s targets in force: its own (programs.macros) replaced by the newest reassessment change '
'of each kind: kcal, macros (grams), weekly sets per muscle group (the volume controller''s global '
'multiplier is folded into them) '
'(weekly_sets_changes: {muscle: sets} for the muscles a reassessment changed), the scheduled deload '
'week. changed_from: the first day the newest change applies. security_invoker: the owner sees only '
'their own programs.';

revoke all on public.program_effective_targets from public, anon, authenticated;
grant select on public.program_effective_targets to authenticated, service_role;

-- Everything the controllers need for a batch of jobs, one row per job, in one set-based query
-- (each part is an index range scan keyed by user and local date).
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
    controller_state jsonb
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
        coalesce(prev.controller_state, '{}')
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
'state.';

revoke execute on function private.enqueue_due_reassessments(timestamptz),
private.claim_reassessment_jobs(text, integer, interval),
private.finish_reassessment_job(bigint, text),
private.fail_reassessment_job(bigint, text, text),
private.reassessment_inputs(bigint[])
from public, anon, authenticated;

-- ------------------------------------------------- calling the worker function ---

create table private.function_calls (
    id bigint generated always as identity primary key,
    function_name text not null check (function_name ~ '^[a-z][a-z0-9-]{0,62}$'),
    body jsonb not null default '{}' check (jsonb_typeof(body) = 'object'),
    delivered_at timestamptz,
    response_status smallint,
    response_body text check (char_length(response_body) <= 4000),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint function_calls_delivered check ((delivered_at is null) = (response_status is null))
);

comment on table private.function_calls is
'Function calls requested by the database where pg_net is not available (the local stack, tests): the '
'local stack delivers each to its functions server with a service-role token and records the answer.';

create index function_calls_pending_idx on private.function_calls (id) where delivered_at is null;

create trigger function_calls_set_updated_at
before update on private.function_calls
for each row execute function private.set_updated_at();

revoke all on private.function_calls from public, anon, authenticated;
grant select, insert, update, delete on private.function_calls to service_role;

-- The one way the database calls a function: with pg_net and the Vault secrets
-- sharpened_functions_url (e.g. https://<ref>.supabase.co/functions/v1) and
-- sharpened_service_role_key, an HTTP POST; otherwise a row in private.function_calls.
create function private.call_function(function_name text, body jsonb default '{}')
returns bigint
language plpgsql
set search_path = ''
as $$
declare
    base_url text;
    service_key text;
    request_id bigint;
begin
    if exists (select from pg_catalog.pg_extension where extname = 'pg_net')
        and exists (select from pg_catalog.pg_extension where extname = 'supabase_vault') then
        -- Dynamic (the schema names too): neither schema exists where the extensions are not
        -- installed, and the statements are compiled only where they are.
        execute format('select decrypted_secret from %I.decrypted_secrets where name = $1', 'vault')
        into base_url using 'sharpened_functions_url';
        execute format('select decrypted_secret from %I.decrypted_secrets where name = $1', 'vault')
        into service_key using 'sharpened_service_role_key';
        if base_url is not null and service_key is not null then
            execute format(
                'select %I.http_post(url := $1, body := $2, headers := $3, timeout_milliseconds := 300000)',
                'net'
            )
            into request_id
            using
                rtrim(base_url, '/') || '/' || function_name,
                body,
                jsonb_build_object(
                    'Authorization', 'Bearer ' || service_key, 'Content-Type', 'application/json'
                );
            return request_id;
        end if;
    end if;
    insert into private.function_calls (function_name, body)
    values (call_function.function_name, call_function.body)
    returning id into request_id;
    perform pg_notify('sharpened_function_calls', request_id::text);
    return request_id;
end;
$$;

comment on function private.call_function(text, jsonb) is
'POSTs body to the function (pg_net, with the Vault secrets sharpened_functions_url and '
'sharpened_service_role_key) or, without them, queues the call in private.function_calls (NOTIFY '
'sharpened_function_calls) for the local stack to deliver. Returns the pg_net request id or the queued '
'call''s id.';

create function private.request_reassessment(batch_size integer default 200)
returns bigint
language plpgsql
set search_path = ''
as $$
begin
    if not exists (
        select
        from private.reassessment_jobs as j
        where
            (j.status in ('queued', 'failed') and j.run_after <= now())
            or (j.status = 'running' and j.locked_until < now())
    ) then
        return null;
    end if;
    return private.call_function('reassess', jsonb_build_object('batch_size', batch_size));
end;
$$;

comment on function private.request_reassessment(integer) is
'Asks the reassess function to work through claimable jobs (private.call_function), when there are any; '
'returns the call''s id or NULL. Run every 10 minutes by pg_cron (job sharpened-run-reassessments).';

revoke execute on function private.call_function(text, jsonb), private.request_reassessment(integer)
from public, anon, authenticated;

-- As the other jobs: scheduled where pg_cron lives. Enqueue once a day (programs come due by the
-- users' dates); run the queue every 10 minutes (each call works through a batch).
do $$
begin
    if pg_catalog.current_setting('cron.database_name', true) = pg_catalog.current_database()
        and exists (select from pg_catalog.pg_available_extensions where name = 'pg_cron') then
        create extension if not exists pg_cron;
        perform cron.schedule(
            'sharpened-enqueue-reassessments', '20 0 * * *',
            'select private.enqueue_due_reassessments()'
        );
        perform cron.schedule(
            'sharpened-run-reassessments', '*/10 * * * *', 'select private.request_reassessment()'
        );
    end if;
end;
$$;

-- ------------------------------------------------------------- programs ---

-- A reassessment moves programs.next_reassessment_date of every program every 14 days. The
-- immutability check compared the whole row as JSON, full_bundle (hundreds of kB) included, on
-- every update: about 50 ms per move. It now fires only when a column other than the mutable ones
-- (status, next_reassessment_date, updated_at) is assigned; tests/integration/test_catalog.py
-- checks that the list names every other column.
drop trigger programs_immutable on public.programs;
create trigger programs_immutable
before update of id, user_id, version, supersedes_program_id, source, source_session_id,
primary_goal, program_start_date, program_duration_weeks, tdee, macros, safety, feasibility,
provenance, full_bundle, created_at on public.programs
for each row execute function private.programs_immutable();

-- ------------------------------------------------------ the plan in force ---

-- Reassessment changes reach the day views and the daily adaptation through the day's kcal change
-- (first defined with the day overrides): from the day after a period, the newest calories change
-- of the program in force counts too (its carbs take the change, as the controller keeps protein
-- and fat).
create or replace function public.day_kcal_adjustment(user_id uuid, day date)
returns numeric
language plpgsql
stable
set search_path = ''
as $$
declare
    override_kcal numeric;
    program_kcal numeric;
begin
    select coalesce(sum((o.modifications ->> 'kcal_delta')::numeric), 0) into override_kcal
    from public.day_overrides as o
    where
        o.user_id = day_kcal_adjustment.user_id
        and o.date = day_kcal_adjustment.day
        and o.status in ('approved', 'auto_applied');
    select (e.new_value ->> 'kcal')::numeric - (p.macros ->> 'kcal')::numeric into program_kcal
    from public.programs as p
    inner join public.plan_change_events as e on p.id = e.program_id and p.user_id = e.user_id
    where
        -- The program in force that day (as private.program_in_force, which the caller may not run).
        p.id = (
            select f.id
            from public.programs as f
            where
                f.user_id = day_kcal_adjustment.user_id
                and f.status <> 'archived'
                and f.program_start_date <= day_kcal_adjustment.day
            order by f.version desc
            limit 1
        )
        and e.change_type = 'calories'
        and e.reassessment_id is not null
        and e.period_end < day_kcal_adjustment.day
    order by e.period_end desc
    limit 1;
    return override_kcal + coalesce(program_kcal, 0);
end;
$$;

comment on function public.day_kcal_adjustment(uuid, date) is
'The kcal change in force on the user''s day: the newest reassessment calories change of the program in '
'force (new kcal - the program''s kcal, from the day after its period) plus the kcal_delta of the day''s '
'active (approved or auto_applied) override; 0 without either. The caller''s own days only (RLS).';
