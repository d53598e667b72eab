-- Consultation subsystem, part 2: the nine tables of answers extracted from a
-- consultation (the consultation-chat function writes them as the user, under
-- RLS). They are the user's own data: the owner may also read, add, correct
-- and delete rows outside a consultation, so session_id is optional.
--
-- Shared shape: user_id (the policy column) and session_id, the session that
-- produced the row, referenced with the composite key (session_id, user_id)
-- so that a row can only point at its owner's session. Deleting a session
-- keeps the answers (only session_id is nulled); deleting the user deletes
-- everything. Foreign keys to the reference catalogues use on delete restrict.

-- ------------------------------------------------ user_training_modalities ---

create table public.user_training_modalities (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    session_id uuid,
    modality_id text not null references public.training_modalities (id) on delete restrict,
    is_primary boolean not null default false,
    proficiency_level text check (
        proficiency_level in ('beginner', 'novice', 'intermediate', 'advanced', 'expert')
    ),
    years_experience numeric(3, 1) check (years_experience between 0 and 50),
    enjoys_it boolean,
    willing_to_continue boolean,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint user_training_modalities_session_fkey foreign key (session_id, user_id)
    references public.consultation_sessions (id, user_id) on delete set null (session_id),
    constraint user_training_modalities_user_id_modality_id_key unique (user_id, modality_id)
);

comment on table public.user_training_modalities is
'Consultation section 1: the ways a user trains or has trained (one row per modality, at most one primary).';
comment on column public.user_training_modalities.years_experience is 'Years of practice, 0-50.';
comment on column public.user_training_modalities.enjoys_it is 'NULL: not asked yet.';
comment on column public.user_training_modalities.willing_to_continue is 'NULL: not asked yet.';

-- At most one primary modality per user.
create unique index user_training_modalities_one_primary_per_user_idx
on public.user_training_modalities (user_id) where is_primary;
create index user_training_modalities_session_id_user_id_idx
on public.user_training_modalities (session_id, user_id);
create index user_training_modalities_modality_id_idx on public.user_training_modalities (modality_id);

-- ------------------------------------------------- user_familiar_exercises ---

create table public.user_familiar_exercises (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    session_id uuid,
    exercise_id text not null references public.exercises (id) on delete restrict,
    comfort_level smallint check (comfort_level between 1 and 5),
    frequency text check (
        frequency in ('never_done', 'rarely', 'occasionally', 'regularly', 'frequently')
    ),
    typical_weight_kg numeric(5, 2) check (typical_weight_kg between 0 and 500),
    typical_reps smallint check (typical_reps between 1 and 100),
    typical_duration_minutes smallint check (typical_duration_minutes between 1 and 600),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint user_familiar_exercises_session_fkey foreign key (session_id, user_id)
    references public.consultation_sessions (id, user_id) on delete set null (session_id),
    constraint user_familiar_exercises_user_id_exercise_id_key unique (user_id, exercise_id)
);

comment on table public.user_familiar_exercises is
'Consultation section 2: exercises the user knows, how comfortable and how often, with typical loads.';
comment on column public.user_familiar_exercises.comfort_level is
'1 (never comfortable) to 5 (fully confident).';
comment on column public.user_familiar_exercises.typical_weight_kg is 'Typical working load, kg (0-500).';
comment on column public.user_familiar_exercises.typical_duration_minutes is
'Typical duration, minutes (1-600), for timed exercises.';

create index user_familiar_exercises_session_id_user_id_idx
on public.user_familiar_exercises (session_id, user_id);
create index user_familiar_exercises_exercise_id_idx on public.user_familiar_exercises (exercise_id);

-- --------------------------------------------- user_training_availability ---

create table public.user_training_availability (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    session_id uuid,
    day_of_week smallint not null check (day_of_week between 1 and 7),
    time_of_day text not null check (
        time_of_day in ('early_morning', 'morning', 'midday', 'afternoon', 'evening', 'night')
    ),
    typical_duration_minutes smallint check (typical_duration_minutes between 15 and 240),
    min_duration_minutes smallint check (min_duration_minutes between 15 and 240),
    max_duration_minutes smallint check (max_duration_minutes between 15 and 240),
    location_type text check (location_type in ('home', 'gym', 'outdoor', 'office', 'flexible')),
    is_flexible boolean not null default false,
    is_preferred boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint user_training_availability_session_fkey foreign key (session_id, user_id)
    references public.consultation_sessions (id, user_id) on delete set null (session_id),
    constraint user_training_availability_user_day_time_key unique (user_id, day_of_week, time_of_day),
    -- min <= typical <= max, for whichever of them are known.
    constraint user_training_availability_durations_ordered check (
        coalesce(min_duration_minutes <= typical_duration_minutes, true)
        and coalesce(typical_duration_minutes <= max_duration_minutes, true)
        and coalesce(min_duration_minutes <= max_duration_minutes, true)
    )
);

comment on table public.user_training_availability is
'Consultation section 3: when the user can train (ISO day and part of day), for how long and where.';
comment on column public.user_training_availability.day_of_week is 'ISO day of week: 1 Monday ... 7 Sunday.';
comment on column public.user_training_availability.typical_duration_minutes is
'Usual session length, minutes (15-240); min <= typical <= max.';

create index user_training_availability_session_id_user_id_idx
on public.user_training_availability (session_id, user_id);

-- ---------------------------------------------- user_preferred_meal_times ---

create table public.user_preferred_meal_times (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    session_id uuid,
    meal_time_id text not null references public.meal_times (id) on delete restrict,
    typical_time time,
    portion_size text check (portion_size in ('small', 'medium', 'large')),
    flexibility_minutes smallint not null default 30 check (flexibility_minutes between 0 and 240),
    is_non_negotiable boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint user_preferred_meal_times_session_fkey foreign key (session_id, user_id)
    references public.consultation_sessions (id, user_id) on delete set null (session_id),
    constraint user_preferred_meal_times_user_id_meal_time_id_key unique (user_id, meal_time_id)
);

comment on table public.user_preferred_meal_times is
'Consultation section 4: the meals a user eats, at what local time, portion size and how flexibly.';
comment on column public.user_preferred_meal_times.typical_time is 'Usual local clock time of the meal.';
comment on column public.user_preferred_meal_times.flexibility_minutes is
'How far (+/- minutes, 0-240) the meal may move; ignored when is_non_negotiable.';

create index user_preferred_meal_times_session_id_user_id_idx
on public.user_preferred_meal_times (session_id, user_id);
create index user_preferred_meal_times_meal_time_id_idx on public.user_preferred_meal_times (meal_time_id);

-- ------------------------------------------------ user_typical_meal_foods ---

create table public.user_typical_meal_foods (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    session_id uuid,
    food_id uuid not null references public.foods (id) on delete restrict,
    meal_time_id text references public.meal_times (id) on delete restrict,
    frequency text check (frequency in ('daily', 'most_days', 'weekly', 'occasionally')),
    typical_quantity_grams numeric(6, 1) check (typical_quantity_grams between 1 and 2000),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint user_typical_meal_foods_session_fkey foreign key (session_id, user_id)
    references public.consultation_sessions (id, user_id) on delete set null (session_id),
    -- One row per food and meal (a food with no meal given counts once too).
    constraint user_typical_meal_foods_user_food_meal_key unique nulls not distinct (
        user_id, food_id, meal_time_id
    )
);

comment on table public.user_typical_meal_foods is
'Consultation section 5: foods the user typically eats, at which meal (optional), how often and how much.';
comment on column public.user_typical_meal_foods.meal_time_id is
'The meal it is eaten at; NULL: any / not said.';
comment on column public.user_typical_meal_foods.typical_quantity_grams is 'Usual portion, grams (1-2000).';

create index user_typical_meal_foods_session_id_user_id_idx
on public.user_typical_meal_foods (session_id, user_id);
create index user_typical_meal_foods_food_id_idx on public.user_typical_meal_foods (food_id);
create index user_typical_meal_foods_meal_time_id_idx on public.user_typical_meal_foods (meal_time_id);

-- ------------------------------------------------- user_improvement_goals ---

create table public.user_improvement_goals (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    session_id uuid,
    goal_type text not null check (
        goal_type in (
            'strength', 'hypertrophy', 'fat_loss', 'endurance', 'mobility', 'skill', 'health',
            'performance', 'body_composition'
        )
    ),
    target_description text not null check (char_length(btrim(target_description)) between 1 and 1000),
    metric text check (char_length(btrim(metric)) between 1 and 100),
    -- numeric accepts 'NaN'; the comparisons reject it.
    current_value numeric(12, 3) check (current_value between -999999999 and 999999999),
    target_value numeric(12, 3) check (target_value between -999999999 and 999999999),
    target_date date,
    priority smallint not null default 3 check (priority between 1 and 5),
    exercise_id text references public.exercises (id) on delete restrict,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint user_improvement_goals_session_fkey foreign key (session_id, user_id)
    references public.consultation_sessions (id, user_id) on delete set null (session_id)
);

comment on table public.user_improvement_goals is
'Consultation section 6: what the user wants to improve, measured how, by when, and how much it matters.';
comment on column public.user_improvement_goals.metric is
'What current_value and target_value measure, with the unit (e.g. "back squat 1RM kg").';
comment on column public.user_improvement_goals.priority is '1 (highest) to 5 (lowest).';
comment on column public.user_improvement_goals.exercise_id is 'The exercise the goal is about, if any.';

create index user_improvement_goals_user_id_priority_idx on public.user_improvement_goals (user_id, priority);
create index user_improvement_goals_session_id_user_id_idx
on public.user_improvement_goals (session_id, user_id);
create index user_improvement_goals_exercise_id_idx on public.user_improvement_goals (exercise_id);

-- ------------------------------------------------------ user_difficulties ---

create table public.user_difficulties (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    session_id uuid,
    category text not null check (
        category in (
            'time', 'motivation', 'energy', 'injury', 'nutrition', 'sleep', 'stress', 'equipment',
            'knowledge', 'consistency', 'other'
        )
    ),
    description text not null check (char_length(btrim(description)) between 1 and 1000),
    severity smallint not null default 3 check (severity between 1 and 5),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint user_difficulties_session_fkey foreign key (session_id, user_id)
    references public.consultation_sessions (id, user_id) on delete set null (session_id)
);

comment on table public.user_difficulties is
'Consultation section 7: obstacles the user reports (time, motivation, injury, ...) and how severe.';
comment on column public.user_difficulties.severity is '1 (minor) to 5 (severe).';

create index user_difficulties_user_id_idx on public.user_difficulties (user_id);
create index user_difficulties_session_id_user_id_idx on public.user_difficulties (session_id, user_id);

-- --------------------------------------------------- user_non_negotiables ---

create table public.user_non_negotiables (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    session_id uuid,
    constraint_type text not null check (
        constraint_type in ('rest_day', 'time_window', 'dietary', 'equipment', 'location', 'other')
    ),
    description text not null check (char_length(btrim(description)) between 1 and 1000),
    rule jsonb check (jsonb_typeof(rule) = 'object'),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint user_non_negotiables_session_fkey foreign key (session_id, user_id)
    references public.consultation_sessions (id, user_id) on delete set null (session_id)
);

comment on table public.user_non_negotiables is
'Consultation section 7: constraints a program must respect (rest days, time windows, diet, ...).';
comment on column public.user_non_negotiables.rule is
'Machine-readable form of the constraint, a JSON object, e.g. {"day_of_week": 7, "rule": "rest"}.';

create index user_non_negotiables_user_id_idx on public.user_non_negotiables (user_id);
create index user_non_negotiables_session_id_user_id_idx on public.user_non_negotiables (session_id, user_id);

-- --------------------------------------------------- user_upcoming_events ---

create table public.user_upcoming_events (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    session_id uuid,
    event_type_id text references public.event_types (id) on delete restrict,
    event_name text not null check (char_length(btrim(event_name)) between 1 and 200),
    event_date date not null,
    priority smallint not null default 3 check (priority between 1 and 5),
    specific_goals text[] not null default '{}' check (
        cardinality(specific_goals) <= 20
        and array_position(specific_goals, null) is null
        and char_length(array_to_string(specific_goals, '')) <= 4000
    ),
    is_completed boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint user_upcoming_events_session_fkey foreign key (session_id, user_id)
    references public.consultation_sessions (id, user_id) on delete set null (session_id)
);

comment on table public.user_upcoming_events is
'Consultation section 6: dated events the user prepares for (races, competitions, weddings, ...).';
comment on column public.user_upcoming_events.event_type_id is
'Kind of event; NULL when it fits no known type.';
comment on column public.user_upcoming_events.priority is '1 (highest) to 5 (lowest).';
comment on column public.user_upcoming_events.specific_goals is
'Free-text goals for the event (at most 20, no NULL elements).';

create index user_upcoming_events_user_id_event_date_idx on public.user_upcoming_events (user_id, event_date);
create index user_upcoming_events_session_id_user_id_idx on public.user_upcoming_events (session_id, user_id);
create index user_upcoming_events_event_type_id_idx on public.user_upcoming_events (event_type_id);

-- ------------------------------------- shared: triggers, RLS and grants ---

create trigger user_training_modalities_set_updated_at before update on public.user_training_modalities
for each row execute function private.set_updated_at();
create trigger user_familiar_exercises_set_updated_at before update on public.user_familiar_exercises
for each row execute function private.set_updated_at();
create trigger user_training_availability_set_updated_at before update on public.user_training_availability
for each row execute function private.set_updated_at();
create trigger user_preferred_meal_times_set_updated_at before update on public.user_preferred_meal_times
for each row execute function private.set_updated_at();
create trigger user_typical_meal_foods_set_updated_at before update on public.user_typical_meal_foods
for each row execute function private.set_updated_at();
create trigger user_improvement_goals_set_updated_at before update on public.user_improvement_goals
for each row execute function private.set_updated_at();
create trigger user_difficulties_set_updated_at before update on public.user_difficulties
for each row execute function private.set_updated_at();
create trigger user_non_negotiables_set_updated_at before update on public.user_non_negotiables
for each row execute function private.set_updated_at();
create trigger user_upcoming_events_set_updated_at before update on public.user_upcoming_events
for each row execute function private.set_updated_at();

alter table public.user_training_modalities enable row level security;
alter table public.user_familiar_exercises enable row level security;
alter table public.user_training_availability enable row level security;
alter table public.user_preferred_meal_times enable row level security;
alter table public.user_typical_meal_foods enable row level security;
alter table public.user_improvement_goals enable row level security;
alter table public.user_difficulties enable row level security;
alter table public.user_non_negotiables enable row level security;
alter table public.user_upcoming_events enable row level security;

-- User data: the owner reads, adds, corrects and deletes their own rows.
revoke all on public.user_training_modalities, public.user_familiar_exercises,
public.user_training_availability, public.user_preferred_meal_times, public.user_typical_meal_foods,
public.user_improvement_goals, public.user_difficulties, public.user_non_negotiables,
public.user_upcoming_events from anon, authenticated;
grant select, insert, update, delete on public.user_training_modalities, public.user_familiar_exercises,
public.user_training_availability, public.user_preferred_meal_times, public.user_typical_meal_foods,
public.user_improvement_goals, public.user_difficulties, public.user_non_negotiables,
public.user_upcoming_events to authenticated, service_role;
