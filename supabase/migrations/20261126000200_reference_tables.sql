-- Reference subsystem: shared, read-only vocabularies and catalogues that
-- user data points at (exercises, foods, modalities, meal times, event
-- types, MET values). Rows are loaded by the reference-data migration;
-- clients read them, only the service role writes them.

-- Trigram search on names (foods and exercises are looked up by fuzzy name).
create extension if not exists pg_trgm with schema extensions;
-- The foundation migration revoked EXECUTE from PUBLIC by default, so the
-- extension's functions (similarity(), the % operator) need explicit grants.
grant execute on all functions in schema extensions to authenticated, service_role;

create table public.exercises (
    id text primary key check (id ~ '^[A-Za-z0-9_-]{1,100}$'),
    name text not null check (char_length(name) between 1 and 200),
    category text not null check (
        category in (
            'strength', 'stretching', 'plyometrics', 'powerlifting',
            'olympic_weightlifting', 'strongman', 'cardio'
        )
    ),
    level text not null check (level in ('beginner', 'intermediate', 'expert')),
    mechanic text check (mechanic in ('compound', 'isolation')),
    force text check (force in ('push', 'pull', 'static')),
    equipment text check (
        equipment in (
            'body_only', 'barbell', 'dumbbell', 'cable', 'machine', 'kettlebells', 'bands',
            'medicine_ball', 'exercise_ball', 'foam_roll', 'e_z_curl_bar', 'other'
        )
    ),
    primary_muscles text[] not null check (
        cardinality(primary_muscles) >= 1
        and primary_muscles <@ array[
            'abdominals', 'abductors', 'adductors', 'biceps', 'calves', 'chest', 'forearms',
            'glutes', 'hamstrings', 'lats', 'lower_back', 'middle_back', 'neck', 'quadriceps',
            'shoulders', 'traps', 'triceps'
        ]
    ),
    secondary_muscles text[] not null default '{}' check (
        secondary_muscles <@ array[
            'abdominals', 'abductors', 'adductors', 'biceps', 'calves', 'chest', 'forearms',
            'glutes', 'hamstrings', 'lats', 'lower_back', 'middle_back', 'neck', 'quadriceps',
            'shoulders', 'traps', 'triceps'
        ]
    ),
    source text not null default 'free-exercise-db' check (
        source in ('free-exercise-db', 'sharpened')
    ),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

comment on table public.exercises is
'Exercise catalogue (free-exercise-db, Unlicense): id = stable source id; muscles: 17-value vocabulary.';

create index exercises_name_trgm_idx on public.exercises using gin (name extensions.gin_trgm_ops);
create index exercises_primary_muscles_idx on public.exercises using gin (primary_muscles);

create table public.training_modalities (
    id text primary key check (id ~ '^[a-z][a-z0-9_]{1,60}$'),
    name text not null unique check (char_length(name) between 1 and 100),
    category text not null check (
        category in ('strength', 'endurance', 'mixed', 'mobility', 'sport', 'mind_body')
    ),
    description text not null default '',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

comment on table public.training_modalities is
'Curated vocabulary of ways to train (stable slugs), used by the consultation and program generation.';

create table public.meal_times (
    id text primary key check (id ~ '^[a-z][a-z0-9_]{1,60}$'),
    name text not null unique check (char_length(name) between 1 and 100),
    typical_time time not null,
    sort_order smallint not null unique check (sort_order between 1 and 100),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

comment on table public.meal_times is
'Curated vocabulary of meal occasions (stable slugs) with a typical clock time and day order.';

create table public.event_types (
    id text primary key check (id ~ '^[a-z][a-z0-9_]{1,60}$'),
    name text not null unique check (char_length(name) between 1 and 100),
    category text not null check (
        category in (
            'competition', 'endurance_race', 'aesthetic', 'life_event', 'test', 'travel', 'other'
        )
    ),
    description text not null default '',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

comment on table public.event_types is
'Curated vocabulary of upcoming-event kinds (stable slugs) a program can peak or plan around.';

create table public.foods (
    id uuid primary key default gen_random_uuid(),
    name text not null check (char_length(name) between 1 and 300),
    brand text check (char_length(brand) between 1 and 200),
    food_group text check (char_length(food_group) between 1 and 100),
    kcal_per_100g numeric(6, 1) not null check (kcal_per_100g between 0 and 902),
    protein_g_per_100g numeric(5, 2) not null check (protein_g_per_100g between 0 and 100),
    carbs_g_per_100g numeric(5, 2) not null check (carbs_g_per_100g between 0 and 100),
    fat_g_per_100g numeric(5, 2) not null check (fat_g_per_100g between 0 and 100),
    fiber_g_per_100g numeric(5, 2) check (fiber_g_per_100g between 0 and 100),
    sugar_g_per_100g numeric(5, 2) check (sugar_g_per_100g between 0 and 100),
    sodium_mg_per_100g numeric(7, 1) check (sodium_mg_per_100g between 0 and 40000),
    servings jsonb not null default '[]' check (jsonb_typeof(servings) = 'array'),
    source text not null check (source in ('usda_sr28', 'sharpened')),
    source_id text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint foods_source_id_key unique (source, source_id)
);

comment on table public.foods is
'Shared food database, nutrients per 100 g (USDA SR28, public domain); servings: [{description, grams}].';
comment on column public.foods.fiber_g_per_100g is 'NULL means not measured (not zero), as in the source.';

create index foods_name_trgm_idx on public.foods using gin (name extensions.gin_trgm_ops);

create table public.met_values (
    id text primary key check (id ~ '^[0-9]{5}$'),
    heading text not null check (char_length(heading) between 1 and 60),
    description text not null check (char_length(description) between 1 and 400),
    met numeric(4, 1) not null check (met > 0 and met <= 25),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

comment on table public.met_values is
'MET values of the 2011 Adult Compendium of Physical Activities (Ainsworth et al. 2011), by code.';

create index met_values_description_trgm_idx on public.met_values
using gin (description extensions.gin_trgm_ops);

-- updated_at on every reference table.
create trigger exercises_set_updated_at before update on public.exercises
for each row execute function private.set_updated_at();
create trigger training_modalities_set_updated_at before update on public.training_modalities
for each row execute function private.set_updated_at();
create trigger meal_times_set_updated_at before update on public.meal_times
for each row execute function private.set_updated_at();
create trigger event_types_set_updated_at before update on public.event_types
for each row execute function private.set_updated_at();
create trigger foods_set_updated_at before update on public.foods
for each row execute function private.set_updated_at();
create trigger met_values_set_updated_at before update on public.met_values
for each row execute function private.set_updated_at();

-- Deny by default; the policies (sql/policies/reference.sql) let signed-in users read.
alter table public.exercises enable row level security;
alter table public.training_modalities enable row level security;
alter table public.meal_times enable row level security;
alter table public.event_types enable row level security;
alter table public.foods enable row level security;
alter table public.met_values enable row level security;

revoke all on public.exercises, public.training_modalities, public.meal_times,
public.event_types, public.foods, public.met_values from anon, authenticated;
grant select on public.exercises, public.training_modalities, public.meal_times,
public.event_types, public.foods, public.met_values to authenticated;
grant select, insert, update, delete on public.exercises, public.training_modalities,
public.meal_times, public.event_types, public.foods, public.met_values to service_role;
