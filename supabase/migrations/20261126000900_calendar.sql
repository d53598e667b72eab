-- Planning subsystem, part 1: the calendar (planned sessions and meals by
-- date), adherence (how the logged day matched the plan) and plan changes
-- (every change to an immutable program, with its reason and controller
-- terms). All three are written by service code and triggers (later issues)
-- and read by the owner.

-- -------------------------------------------------------- calendar_events ---

create table public.calendar_events (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    program_id uuid not null,
    date date not null,
    event_type text not null check (event_type in ('training', 'meal')),
    ref_table text not null check (ref_table in ('session_instances', 'meal_instances')),
    ref_id uuid not null,
    title text not null check (char_length(btrim(title)) between 1 and 200),
    time_of_day text check (
        time_of_day in ('early_morning', 'morning', 'midday', 'afternoon', 'evening', 'night')
    ),
    status text not null default 'planned' check (
        status in ('planned', 'completed', 'similar', 'partial', 'skipped', 'modified')
    ),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint calendar_events_program_fkey foreign key (program_id, user_id)
    references public.programs (id, user_id) on delete cascade,
    constraint calendar_events_ref_date_key unique (ref_table, ref_id, date),
    constraint calendar_events_type_matches_ref check (
        (event_type = 'training') = (ref_table = 'session_instances')
    )
);

comment on table public.calendar_events is
'The plan by date (denormalized from session_instances and meal_instances): what a client shows for a day '
'or week. Written by service code and triggers; the owner reads it.';
comment on column public.calendar_events.date is
'Calendar date (the user''s local date) the item is planned for.';
comment on column public.calendar_events.event_type is
'training (ref_table session_instances) or meal (meal_instances).';
comment on column public.calendar_events.ref_table is
'Table of the planned item: session_instances or meal_instances.';
comment on column public.calendar_events.ref_id is
'id of the planned item in ref_table; it must belong to the same user and program (checked by a trigger).';
comment on column public.calendar_events.status is
'planned, then completed/similar/partial (adherence), skipped, or modified by an override or a plan change.';

create index calendar_events_user_id_date_idx on public.calendar_events (user_id, date);
create index calendar_events_program_id_user_id_idx on public.calendar_events (program_id, user_id);

create trigger calendar_events_set_updated_at
before update on public.calendar_events
for each row execute function private.set_updated_at();

-- ref_id is a soft (polymorphic) reference: check that it names a planned
-- item of the same user and program, as a foreign key would (23503).
create or replace function private.check_calendar_event_ref() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if new.ref_table = 'session_instances' then
        perform from public.session_instances as s
        where s.id = new.ref_id and s.user_id = new.user_id and s.program_id = new.program_id;
    elsif new.ref_table = 'meal_instances' then
        perform from public.meal_instances as m
        where m.id = new.ref_id and m.user_id = new.user_id and m.program_id = new.program_id;
    else
        return new; -- an unknown ref_table is left to the CHECK constraint (23514)
    end if;
    if not found then
        raise exception 'calendar event ref % in % is not a planned item of the same user and program',
            new.ref_id, new.ref_table
            using errcode = 'foreign_key_violation', column = 'ref_id';
    end if;
    return new;
end;
$$;

comment on function private.check_calendar_event_ref() is
'BEFORE INSERT/UPDATE trigger on calendar_events: ref_id names a row of ref_table '
'with the same user and program.';

create trigger calendar_events_check_ref
before insert or update of user_id, program_id, ref_table, ref_id on public.calendar_events
for each row execute function private.check_calendar_event_ref();

alter table public.calendar_events enable row level security;

revoke all on public.calendar_events from anon, authenticated;
grant select on public.calendar_events to authenticated;
grant select, insert, update, delete on public.calendar_events to service_role;

-- ------------------------------------------------------ adherence_records ---

create table public.adherence_records (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    date date not null,
    planned_entity_type text not null check (planned_entity_type in ('session', 'meal')),
    planned_entity_id uuid not null,
    actual_ref_type text check (actual_ref_type in ('activity', 'meal')),
    actual_ref_id uuid,
    status text not null check (status in ('completed', 'similar', 'partial', 'skipped')),
    similarity_score numeric(4, 3) check (similarity_score between 0 and 1),
    breakdown jsonb not null default '{}' check (jsonb_typeof(breakdown) = 'object'),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- One adherence verdict per planned item (re-matching updates it).
    constraint adherence_records_planned_entity_key unique (planned_entity_type, planned_entity_id),
    constraint adherence_records_actual_ref_pair check ((actual_ref_type is null) = (actual_ref_id is null)),
    -- A session is matched by an activity, a meal by a logged meal.
    constraint adherence_records_actual_matches_planned check (
        actual_ref_type is null or (planned_entity_type = 'session') = (actual_ref_type = 'activity')
    ),
    -- skipped: nothing matched. Otherwise a match was found.
    constraint adherence_records_skipped_has_no_match check (
        (status = 'skipped') = (actual_ref_id is null)
    ),
    -- The status bands of DOMAIN §6 (when a score is stored).
    constraint adherence_records_status_matches_score check (
        similarity_score is null
        or (status = 'completed' and similarity_score >= 0.8)
        or (status = 'similar' and similarity_score >= 0.6 and similarity_score < 0.8)
        or (status = 'partial' and similarity_score >= 0.3 and similarity_score < 0.6)
        or (status = 'skipped' and similarity_score < 0.3)
    )
);

comment on table public.adherence_records is
'How a planned session or meal was followed: the matched activity or meal, a similarity score and its '
'breakdown (DOMAIN §6). Written by the matching triggers; the owner reads it.';
comment on column public.adherence_records.date is 'The user''s local date of the planned item.';
comment on column public.adherence_records.planned_entity_type is
'session (planned_entity_id in session_instances) or meal (in meal_instances).';
comment on column public.adherence_records.planned_entity_id is
'The planned item; it must belong to the same user (checked by a trigger).';
comment on column public.adherence_records.actual_ref_type is
'activity (for a session) or meal (for a meal); NULL when nothing matched (skipped).';
comment on column public.adherence_records.actual_ref_id is 'id of the matched activity or logged meal.';
comment on column public.adherence_records.status is
'completed (score >= 0.8), similar (>= 0.6), partial (>= 0.3) or skipped (no match, day passed).';
comment on column public.adherence_records.similarity_score is 'Weighted similarity 0-1 (DOMAIN §6).';
comment on column public.adherence_records.breakdown is 'The weighted terms of the score, as a JSON object.';

create index adherence_records_user_id_date_idx on public.adherence_records (user_id, date);

create trigger adherence_records_set_updated_at
before update on public.adherence_records
for each row execute function private.set_updated_at();

-- planned_entity_id is a soft (polymorphic) reference: check that it names a
-- planned item of the same user, as a foreign key would (23503).
create or replace function private.check_adherence_planned_ref() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if new.planned_entity_type = 'session' then
        perform from public.session_instances as s
        where s.id = new.planned_entity_id and s.user_id = new.user_id;
    elsif new.planned_entity_type = 'meal' then
        perform from public.meal_instances as m
        where m.id = new.planned_entity_id and m.user_id = new.user_id;
    else
        return new; -- an unknown type is left to the CHECK constraint (23514)
    end if;
    if not found then
        raise exception 'adherence record for % % that is not a planned item of the same user',
            new.planned_entity_type, new.planned_entity_id
            using errcode = 'foreign_key_violation', column = 'planned_entity_id';
    end if;
    return new;
end;
$$;

comment on function private.check_adherence_planned_ref() is
'BEFORE INSERT/UPDATE trigger on adherence_records: planned_entity_id names a planned item of the same user.';

create trigger adherence_records_check_planned_ref
before insert or update of user_id, planned_entity_type, planned_entity_id on public.adherence_records
for each row execute function private.check_adherence_planned_ref();

alter table public.adherence_records enable row level security;

revoke all on public.adherence_records from anon, authenticated;
grant select on public.adherence_records to authenticated;
grant select, insert, update, delete on public.adherence_records to service_role;

-- ----------------------------------------------------- plan_change_events ---

create table public.plan_change_events (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    program_id uuid not null,
    entity_type text not null check (entity_type in ('program', 'session', 'meal', 'muscle_group')),
    entity_id uuid,
    change_type text not null check (
        change_type in (
            'calories', 'macros', 'volume', 'deload', 'swap', 'edit', 'move', 'cancel', 'reschedule'
        )
    ),
    old_value jsonb,
    new_value jsonb,
    reason_code text not null check (reason_code ~ '^[a-z][a-z0-9_]{1,62}$'),
    controller_terms jsonb not null default '{}' check (jsonb_typeof(controller_terms) = 'object'),
    period_start date,
    period_end date,
    applied_at timestamptz not null default now(),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint plan_change_events_program_fkey foreign key (program_id, user_id)
    references public.programs (id, user_id) on delete cascade,
    -- A session or meal change names the instance; program and muscle-group
    -- changes have none (the muscle group is in old_value/new_value).
    constraint plan_change_events_entity_id_iff_instance check (
        (entity_type in ('session', 'meal')) = (entity_id is not null)
    ),
    constraint plan_change_events_period check (
        (period_start is null) = (period_end is null) and period_start <= period_end
    )
);

comment on table public.plan_change_events is
'Changes to an (immutable) program: calorie, macro, volume and deload changes of a reassessment, swaps, '
'edits and moves, each with old and new value, reason and controller terms. Written by service code.';
comment on column public.plan_change_events.entity_type is
'What changed: the program as a whole, a session, a meal or a muscle group''s volume.';
comment on column public.plan_change_events.entity_id is
'The session_instances or meal_instances row for session and meal changes; NULL otherwise.';
comment on column public.plan_change_events.old_value is 'Value before the change (any JSON), NULL if none.';
comment on column public.plan_change_events.new_value is
'Value after the change (any JSON), NULL if none (cancel).';
comment on column public.plan_change_events.reason_code is
'Why, as a slug (e.g. reassessment, rate_below_target, deload_due, user_request).';
comment on column public.plan_change_events.controller_terms is
'Controller inputs and terms behind the change (e.g. error, P, I, D, confidence), as a JSON object.';
comment on column public.plan_change_events.period_start is
'First day of the period the change is based on (with period_end).';
comment on column public.plan_change_events.period_end is 'Last day of that period (>= period_start).';
comment on column public.plan_change_events.applied_at is 'When the change took effect.';

create index plan_change_events_program_id_user_id_idx on public.plan_change_events (program_id, user_id);
create index plan_change_events_user_id_applied_at_idx on public.plan_change_events (user_id, applied_at);

create trigger plan_change_events_set_updated_at
before update on public.plan_change_events
for each row execute function private.set_updated_at();

alter table public.plan_change_events enable row level security;

revoke all on public.plan_change_events from anon, authenticated;
grant select on public.plan_change_events to authenticated;
grant select, insert, update, delete on public.plan_change_events to service_role;
