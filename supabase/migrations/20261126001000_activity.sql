-- Activity subsystem: what the user actually did. activities (one logged
-- workout or session), exercise_sets (the sets of an activity) and
-- activity_templates (saved workouts to log again). Calories from MET values,
-- per-category metrics validation and plan matching come with the logging
-- triggers; this migration holds the data and its integrity rules.

create table public.activities (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    category text not null check (
        category in ('cardio_steady', 'cardio_interval', 'strength', 'sports', 'flexibility')
    ),
    name text not null check (char_length(btrim(name)) between 1 and 200),
    start_time timestamptz not null,
    end_time timestamptz,
    duration_minutes integer not null check (duration_minutes between 1 and 1440),
    calories_burned numeric(6, 1) check (calories_burned between 0 and 10000),
    intensity_mets numeric(3, 1) check (intensity_mets between 0.5 and 25),
    metrics jsonb not null default '{}' check (jsonb_typeof(metrics) = 'object'),
    source text not null default 'manual' check (source in ('manual', 'template', 'import', 'device')),
    client_id text check (char_length(client_id) between 1 and 200),
    notes text check (char_length(notes) <= 2000),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint activities_end_after_start check (end_time >= start_time),
    -- Children reference (id, user_id): a set can only belong to its owner's activity.
    constraint activities_id_user_id_key unique (id, user_id),
    -- Idempotency key of offline clients: a retried upload does not log twice.
    constraint activities_user_id_client_id_key unique (user_id, client_id)
);

comment on table public.activities is
'A logged workout or session (category, time, duration, calories, metrics); sets are in exercise_sets.';
comment on column public.activities.end_time is 'Optional end of the activity; not before start_time.';
comment on column public.activities.duration_minutes is
'Active duration in minutes (1-1440); may be shorter than end_time - start_time (pauses).';
comment on column public.activities.calories_burned is
'kcal burned (0-10000); NULL = not given, computed as MET x kg x hours by the logging trigger (DOMAIN §1).';
comment on column public.activities.intensity_mets is
'Intensity in METs (0.5-25, 2011 Compendium scale); NULL = the default MET of the category.';
comment on column public.activities.metrics is
'Category-specific measurements, a JSON object: cardio {distance_m, pace, avg_hr}, strength {exercises}, '
'sports {sport, score}.';
comment on column public.activities.source is
'How the row was logged: manual, template (from activity_templates), import (file/app), device (wearable).';
comment on column public.activities.client_id is
'Idempotency key chosen by the client (unique per user); a retried insert with the same key conflicts (409).';

-- Clients read a day or week of activities; user_id leading also covers the FK.
create index activities_user_id_start_time_idx on public.activities (user_id, start_time);

create table public.exercise_sets (
    id uuid primary key default gen_random_uuid(),
    activity_id uuid not null,
    user_id uuid not null references auth.users (id) on delete cascade,
    exercise_id text references public.exercises (id) on delete restrict,
    exercise_name text check (char_length(btrim(exercise_name)) between 1 and 200),
    set_number smallint not null check (set_number between 1 and 100),
    reps smallint check (reps between 0 and 200),
    weight_kg numeric(6, 2) check (weight_kg between 0 and 1000),
    rpe numeric(3, 1) check (rpe between 1 and 10),
    rir smallint check (rir between 0 and 10),
    duration_seconds integer check (duration_seconds between 1 and 86400),
    distance_m numeric(8, 1) check (distance_m between 0 and 100000),
    is_warmup boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint exercise_sets_activity_fkey foreign key (activity_id, user_id)
    references public.activities (id, user_id) on delete cascade,
    -- A catalogue exercise, or a custom one named by the user.
    constraint exercise_sets_exercise_given check (num_nonnulls(exercise_id, exercise_name) >= 1),
    -- A set records repetitions, a time or a distance.
    constraint exercise_sets_has_work check (num_nonnulls(reps, duration_seconds, distance_m) >= 1)
);

comment on table public.exercise_sets is
'One performed set of an activity: catalogue or custom exercise, reps, load, RPE/RIR, time, distance.';
comment on column public.exercise_sets.exercise_id is
'Catalogue exercise (public.exercises); NULL for a custom exercise, which then needs exercise_name.';
comment on column public.exercise_sets.exercise_name is
'Name of a custom exercise (required when exercise_id is NULL), or the display name of a catalogue one.';
comment on column public.exercise_sets.set_number is
'1-based position of the set within its exercise in the activity; unique per activity and exercise.';
comment on column public.exercise_sets.rpe is 'Rating of perceived exertion, 1-10 (half steps allowed).';
comment on column public.exercise_sets.rir is 'Repetitions in reserve, 0-10.';
comment on column public.exercise_sets.duration_seconds is 'Duration of a timed set (plank, interval), s.';
comment on column public.exercise_sets.distance_m is 'Distance of a set (sprint, row, carry), metres.';

-- Set numbers are unique per activity and exercise. The exercise is its
-- catalogue id, or its custom name (case-insensitive) when it has none;
-- catalogue ids cannot contain ':', so the two kinds never collide.
create unique index exercise_sets_activity_exercise_set_key on public.exercise_sets (
    activity_id, coalesce(exercise_id, 'custom:' || lower(btrim(exercise_name))), set_number
);
create index exercise_sets_activity_id_user_id_idx on public.exercise_sets (activity_id, user_id);
create index exercise_sets_user_id_idx on public.exercise_sets (user_id);
create index exercise_sets_exercise_id_idx on public.exercise_sets (exercise_id);

create table public.activity_templates (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    template_name text not null check (char_length(btrim(template_name)) between 1 and 200),
    category text not null check (
        category in ('cardio_steady', 'cardio_interval', 'strength', 'sports', 'flexibility')
    ),
    template_data jsonb not null default '{}' check (jsonb_typeof(template_data) = 'object'),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint activity_templates_user_id_template_name_key unique (user_id, template_name)
);

comment on table public.activity_templates is
'A user''s saved workout (category and the activity fields and sets to pre-fill), logged again in one tap.';
comment on column public.activity_templates.template_data is
'JSON object with the activity to pre-fill (name, duration_minutes, metrics, sets: [...]).';

alter table public.activities enable row level security;
alter table public.exercise_sets enable row level security;
alter table public.activity_templates enable row level security;

-- User data: the owner selects, inserts, updates and deletes their own rows.
revoke all on public.activities, public.exercise_sets, public.activity_templates
from anon, authenticated;
grant select, insert, update, delete on public.activities, public.exercise_sets,
public.activity_templates to authenticated;
grant select, insert, update, delete on public.activities, public.exercise_sets,
public.activity_templates to service_role;

create trigger activities_set_updated_at before update on public.activities
for each row execute function private.set_updated_at();
create trigger exercise_sets_set_updated_at before update on public.exercise_sets
for each row execute function private.set_updated_at();
create trigger activity_templates_set_updated_at before update on public.activity_templates
for each row execute function private.set_updated_at();
