-- Programs subsystem: a generated program (immutable once stored) and its
-- plan instances: training sessions with their exercises, and planned meals
-- with their foods. Everything here is written by service code (the program
-- storage RPC, later) and read by the owner; clients never write it.
--
-- Ownership: every row carries user_id, and every child references its
-- parent with a composite key (parent_id, user_id), so no row can point into
-- another user's program.

-- --------------------------------------------------------------- programs ---

create table public.programs (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    version integer not null check (version between 1 and 100000),
    supersedes_program_id uuid,
    source text not null check (source in ('consultation', 'onboarding', 'reassessment')),
    source_session_id uuid,
    primary_goal text not null check (
        primary_goal in ('fat_loss', 'muscle_gain', 'recomposition', 'maintenance', 'performance')
    ),
    program_start_date date not null,
    program_duration_weeks smallint not null check (program_duration_weeks between 1 and 52),
    next_reassessment_date date,
    status text not null default 'active' check (status in ('active', 'superseded', 'archived')),
    tdee jsonb not null check (jsonb_typeof(tdee) = 'object'),
    macros jsonb not null check (jsonb_typeof(macros) = 'object'),
    safety jsonb not null check (jsonb_typeof(safety) = 'object'),
    feasibility jsonb not null check (jsonb_typeof(feasibility) = 'object'),
    provenance jsonb not null check (jsonb_typeof(provenance) = 'object'),
    full_bundle jsonb not null check (jsonb_typeof(full_bundle) = 'object'),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint programs_id_user_id_key unique (id, user_id),
    constraint programs_user_id_version_key unique (user_id, version),
    -- One program per consultation. The index also carries user_id so that it
    -- covers the composite foreign key below.
    constraint programs_source_session_id_key unique (source_session_id) include (user_id),
    -- A program can only supersede an earlier program of the same user. A
    -- superseded program stays (history): deleting it is refused while a
    -- newer program points at it; deleting the user removes them all.
    constraint programs_supersedes_fkey foreign key (supersedes_program_id, user_id)
    references public.programs (id, user_id) on delete restrict,
    -- The consultation a program came from stays as its provenance: deleting
    -- that session is refused (on delete set null would rewrite an immutable
    -- program); deleting the user removes both.
    constraint programs_source_session_fkey foreign key (source_session_id, user_id)
    references public.consultation_sessions (id, user_id) on delete restrict,
    constraint programs_not_self_superseding check (supersedes_program_id <> id),
    constraint programs_supersedes_needs_later_version check (
        supersedes_program_id is null or version > 1
    ),
    -- A consultation program names its session; other sources have none.
    constraint programs_session_iff_consultation check (
        (source = 'consultation') = (source_session_id is not null)
    ),
    constraint programs_reassessment_after_start check (next_reassessment_date > program_start_date)
);

comment on table public.programs is
'A generated training and nutrition program (immutable once stored except status and '
'next_reassessment_date), versioned per user; written by service code, read by the owner.';
comment on column public.programs.version is
'1, 2, ... per user (unique per user); a reassessment or new consultation stores a new version.';
comment on column public.programs.supersedes_program_id is
'The same user''s program this one replaces, if any.';
comment on column public.programs.source is
'What produced the program: consultation (source_session_id set), onboarding or reassessment.';
comment on column public.programs.source_session_id is
'The consultation session the program was generated from (one program per consultation).';
comment on column public.programs.program_duration_weeks is 'Length of the program in weeks, 1-52.';
comment on column public.programs.next_reassessment_date is
'Date of the next reassessment (every 14 days, DOMAIN §8); moved by the reassessment worker.';
comment on column public.programs.status is
'active (at most one per user), superseded (by a newer version) or archived.';
comment on column public.programs.tdee is
'Energy expenditure with its inputs and equations (e.g. {bmr_kcal, tdee_kcal, multiplier, equations}).';
comment on column public.programs.macros is 'Calorie and macro targets with their derivation (DOMAIN §2).';
comment on column public.programs.safety is 'Safety gate findings and the constraints applied (DOMAIN §3).';
comment on column public.programs.feasibility is 'Feasibility score 0-1, issues and trade-offs (DOMAIN §3).';
comment on column public.programs.provenance is
'Generator version, inputs and engine used, so every number can be explained.';
comment on column public.programs.full_bundle is 'The complete program bundle as generated (JSON object).';

-- At most one active program per user.
create unique index programs_one_active_per_user_idx on public.programs (user_id) where status = 'active';
create index programs_supersedes_program_id_user_id_idx
on public.programs (supersedes_program_id, user_id);

create trigger programs_set_updated_at
before update on public.programs
for each row execute function private.set_updated_at();

-- Programs are immutable: after the insert only the lifecycle columns move.
-- Compared as JSON so that a column added later is immutable by default.
create or replace function private.programs_immutable() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    mutable constant text[] := array['status', 'next_reassessment_date', 'updated_at'];
begin
    if (pg_catalog.to_jsonb(new) - mutable)
        is distinct from (pg_catalog.to_jsonb(old) - mutable) then
        raise exception 'programs are immutable: only status and next_reassessment_date may change'
            using errcode = 'check_violation',
                hint = 'Store a new program version, or record the change in plan_change_events.';
    end if;
    return new;
end;
$$;

comment on function private.programs_immutable() is
'BEFORE UPDATE trigger on programs: refuses changes to anything but status and next_reassessment_date.';

create trigger programs_immutable
before update on public.programs
for each row execute function private.programs_immutable();

alter table public.programs enable row level security;

revoke all on public.programs from anon, authenticated;
grant select on public.programs to authenticated;
grant select, insert, update, delete on public.programs to service_role;

-- A plan instance's week must lie inside its program (a cross-row rule; the
-- program's duration cannot change afterwards because programs are immutable).
create or replace function private.check_plan_week_index() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    weeks smallint;
begin
    select p.program_duration_weeks into weeks
    from public.programs as p
    where p.id = new.program_id;
    -- A missing program is left to the foreign key (23503).
    if new.week_index >= weeks then
        raise exception '% week_index % is outside its program of % weeks',
            tg_table_name, new.week_index, weeks
            using errcode = 'check_violation', column = 'week_index';
    end if;
    return new;
end;
$$;

comment on function private.check_plan_week_index() is
'BEFORE INSERT/UPDATE trigger on session_instances and meal_instances: week_index < program_duration_weeks.';

-- ------------------------------------------------------ session_instances ---

create table public.session_instances (
    id uuid primary key default gen_random_uuid(),
    program_id uuid not null,
    user_id uuid not null references auth.users (id) on delete cascade,
    week_index smallint not null check (week_index between 0 and 51),
    day_index smallint not null check (day_index between 0 and 6),
    session_kind text not null check (
        session_kind in ('strength', 'cardio', 'hiit', 'mobility', 'sport', 'active_recovery', 'rest')
    ),
    title text not null check (char_length(btrim(title)) between 1 and 200),
    planned_duration_minutes smallint not null check (planned_duration_minutes between 0 and 300),
    time_of_day text check (
        time_of_day in ('early_morning', 'morning', 'midday', 'afternoon', 'evening', 'night')
    ),
    parameters jsonb not null default '{}' check (jsonb_typeof(parameters) = 'object'),
    state text not null default 'planned' check (
        state in ('planned', 'completed', 'similar', 'partial', 'skipped', 'modified')
    ),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint session_instances_id_user_id_key unique (id, user_id),
    constraint session_instances_program_fkey foreign key (program_id, user_id)
    references public.programs (id, user_id) on delete cascade
);

comment on table public.session_instances is
'Planned training sessions of a program, one row per session occurrence (program week and day).';
comment on column public.session_instances.week_index is
'Program week, 0-based (0 to program_duration_weeks - 1, checked by a trigger).';
comment on column public.session_instances.day_index is
'Day of the program week, 0-6 (0 = the weekday of program_start_date).';
comment on column public.session_instances.planned_duration_minutes is
'Planned length in minutes, 0-300 (0 for rest).';
comment on column public.session_instances.time_of_day is
'Planned time slot (the availability vocabulary), NULL when not fixed.';
comment on column public.session_instances.parameters is
'Session parameters as a JSON object (e.g. split, target RIR, deload, cardio zone and distance).';
comment on column public.session_instances.state is
'planned until matched: completed, similar, partial (adherence), skipped, or modified by an override.';

create index session_instances_program_id_user_id_week_day_idx
on public.session_instances (program_id, user_id, week_index, day_index);
create index session_instances_user_id_idx on public.session_instances (user_id);

create trigger session_instances_set_updated_at
before update on public.session_instances
for each row execute function private.set_updated_at();

create trigger session_instances_week_in_program
before insert or update of program_id, week_index on public.session_instances
for each row execute function private.check_plan_week_index();

alter table public.session_instances enable row level security;

revoke all on public.session_instances from anon, authenticated;
grant select on public.session_instances to authenticated;
grant select, insert, update, delete on public.session_instances to service_role;

-- ---------------------------------------------------- exercise_plan_items ---

create table public.exercise_plan_items (
    id uuid primary key default gen_random_uuid(),
    session_instance_id uuid not null,
    user_id uuid not null references auth.users (id) on delete cascade,
    order_index smallint not null check (order_index between 0 and 99),
    exercise_id text references public.exercises (id) on delete restrict,
    name text not null check (char_length(btrim(name)) between 1 and 200),
    sets smallint not null check (sets between 1 and 20),
    reps_min smallint check (reps_min between 1 and 100),
    reps_max smallint check (reps_max between 1 and 100),
    target_rir smallint check (target_rir between 0 and 5),
    target_pct_1rm numeric(4, 1) check (target_pct_1rm between 30 and 100),
    rest_seconds smallint check (rest_seconds between 0 and 600),
    notes text check (char_length(notes) <= 1000),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint exercise_plan_items_session_fkey foreign key (session_instance_id, user_id)
    references public.session_instances (id, user_id) on delete cascade,
    -- order_index is unique per session (session_instance_id determines
    -- user_id); this index also covers the foreign key above.
    constraint exercise_plan_items_session_order_key unique (session_instance_id, user_id, order_index),
    -- A rep range: both ends or neither (timed holds), min <= max.
    constraint exercise_plan_items_reps_range check (
        (reps_min is null) = (reps_max is null) and reps_min <= reps_max
    )
);

comment on table public.exercise_plan_items is
'Exercises of a planned session, in order: sets, rep range, target RIR and/or %1RM, rest.';
comment on column public.exercise_plan_items.order_index is
'Position in the session, 0-based, unique per session.';
comment on column public.exercise_plan_items.exercise_id is
'Catalogue exercise, or NULL for a custom exercise known only by name.';
comment on column public.exercise_plan_items.name is 'Display name (the catalogue name, or the custom name).';
comment on column public.exercise_plan_items.reps_min is
'Lower end of the rep range, 1-100 (NULL with reps_max).';
comment on column public.exercise_plan_items.reps_max is 'Upper end of the rep range, 1-100, >= reps_min.';
comment on column public.exercise_plan_items.target_rir is 'Target reps in reserve, 0-5.';
comment on column public.exercise_plan_items.target_pct_1rm is 'Target load in % of one-rep max, 30-100.';
comment on column public.exercise_plan_items.rest_seconds is 'Rest between sets in seconds, 0-600.';

create index exercise_plan_items_user_id_idx on public.exercise_plan_items (user_id);
create index exercise_plan_items_exercise_id_idx on public.exercise_plan_items (exercise_id);

create trigger exercise_plan_items_set_updated_at
before update on public.exercise_plan_items
for each row execute function private.set_updated_at();

alter table public.exercise_plan_items enable row level security;

revoke all on public.exercise_plan_items from anon, authenticated;
grant select on public.exercise_plan_items to authenticated;
grant select, insert, update, delete on public.exercise_plan_items to service_role;

-- --------------------------------------------------------- meal_instances ---

create table public.meal_instances (
    id uuid primary key default gen_random_uuid(),
    program_id uuid not null,
    user_id uuid not null references auth.users (id) on delete cascade,
    week_index smallint not null check (week_index between 0 and 51),
    day_index smallint not null check (day_index between 0 and 6),
    meal_type text not null references public.meal_times (id) on delete restrict,
    meal_time time,
    targets jsonb not null check (
        jsonb_typeof(targets) = 'object'
        and jsonb_path_exists(
            targets, '$ ? (@.kcal >= 0 && @.protein_g >= 0 && @.carbs_g >= 0 && @.fat_g >= 0)'
        )
    ),
    totals jsonb not null default '{"kcal": 0, "protein_g": 0, "carbs_g": 0, "fat_g": 0}' check (
        jsonb_typeof(totals) = 'object'
        and jsonb_path_exists(
            totals, '$ ? (@.kcal >= 0 && @.protein_g >= 0 && @.carbs_g >= 0 && @.fat_g >= 0)'
        )
    ),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint meal_instances_id_user_id_key unique (id, user_id),
    constraint meal_instances_program_fkey foreign key (program_id, user_id)
    references public.programs (id, user_id) on delete cascade
);

comment on table public.meal_instances is
'Planned meals of a program, one row per meal occurrence (program week and day), with target and totals.';
comment on column public.meal_instances.week_index is
'Program week, 0-based (0 to program_duration_weeks - 1, checked by a trigger).';
comment on column public.meal_instances.day_index is
'Day of the program week, 0-6 (0 = the weekday of program_start_date).';
comment on column public.meal_instances.meal_type is 'The meal occasion (meal_times slug, e.g. breakfast).';
comment on column public.meal_instances.meal_time is
'Planned clock time (local), NULL for the occasion''s typical time.';
comment on column public.meal_instances.targets is
'Target of the meal: {kcal, protein_g, carbs_g, fat_g}, numbers >= 0 (more keys allowed).';
comment on column public.meal_instances.totals is
'Totals of the planned foods: {kcal, protein_g, carbs_g, fat_g}, numbers >= 0 (written with the items).';

create index meal_instances_program_id_user_id_week_day_idx
on public.meal_instances (program_id, user_id, week_index, day_index);
create index meal_instances_user_id_idx on public.meal_instances (user_id);
create index meal_instances_meal_type_idx on public.meal_instances (meal_type);

create trigger meal_instances_set_updated_at
before update on public.meal_instances
for each row execute function private.set_updated_at();

create trigger meal_instances_week_in_program
before insert or update of program_id, week_index on public.meal_instances
for each row execute function private.check_plan_week_index();

alter table public.meal_instances enable row level security;

revoke all on public.meal_instances from anon, authenticated;
grant select on public.meal_instances to authenticated;
grant select, insert, update, delete on public.meal_instances to service_role;

-- --------------------------------------------------------- meal_item_plan ---

create table public.meal_item_plan (
    id uuid primary key default gen_random_uuid(),
    meal_instance_id uuid not null,
    user_id uuid not null references auth.users (id) on delete cascade,
    food_id uuid not null references public.foods (id) on delete restrict,
    food_name text not null check (char_length(btrim(food_name)) between 1 and 300),
    grams numeric(6, 1) not null check (grams between 1 and 2000),
    serving_description text check (char_length(serving_description) between 1 and 200),
    kcal numeric(7, 1) not null check (kcal >= 0),
    protein_g numeric(6, 1) not null check (protein_g >= 0),
    carbs_g numeric(6, 1) not null check (carbs_g >= 0),
    fat_g numeric(6, 1) not null check (fat_g >= 0),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint meal_item_plan_meal_fkey foreign key (meal_instance_id, user_id)
    references public.meal_instances (id, user_id) on delete cascade
);

comment on table public.meal_item_plan is
'Foods of a planned meal: solved portion in grams and its nutrients (kcal, protein, carbs, fat).';
comment on column public.meal_item_plan.food_name is 'Food name at planning time (denormalized for display).';
comment on column public.meal_item_plan.grams is 'Portion in grams, 1-2000.';
comment on column public.meal_item_plan.serving_description is
'Household measure for display (e.g. "1 cup"), if any.';
comment on column public.meal_item_plan.kcal is 'Energy of the portion, kcal (>= 0).';

create index meal_item_plan_meal_instance_id_user_id_idx on public.meal_item_plan (meal_instance_id, user_id);
create index meal_item_plan_user_id_idx on public.meal_item_plan (user_id);
create index meal_item_plan_food_id_idx on public.meal_item_plan (food_id);

create trigger meal_item_plan_set_updated_at
before update on public.meal_item_plan
for each row execute function private.set_updated_at();

alter table public.meal_item_plan enable row level security;

revoke all on public.meal_item_plan from anon, authenticated;
grant select on public.meal_item_plan to authenticated;
grant select, insert, update, delete on public.meal_item_plan to service_role;
