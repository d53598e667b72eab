-- Reference subsystem: shared, read-only vocabularies and catalogues that
-- user data points at (exercises, foods, modalities, meal times, event
-- types, MET values and the default MET of each activity category). Rows
-- are loaded by the generated reference-data migration
-- (20261126000300_reference_data.sql, from data/ by `python -m sharpened.refdata`);
-- clients read them, only the service role writes them.

-- Trigram search on names (foods and exercises are looked up by fuzzy name).
-- The name indexes are GiST (gist_trgm_ops, 64-byte signatures): they serve
-- ILIKE '%...%', the similarity operators (%, %>, <%) and nearest-first ordering
-- (order by name <-> 'query' limit n) from the index alone.
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
comment on column public.exercises.mechanic is 'NULL when the source does not say (87 source records).';
comment on column public.exercises.equipment is 'NULL when the source does not say (77 source records).';

create index exercises_name_trgm_idx on public.exercises
using gist (name extensions.gist_trgm_ops (siglen = 64));
create index exercises_primary_muscles_idx on public.exercises using gin (primary_muscles);

create table public.met_values (
    id text primary key check (id ~ '^[0-9]{5}$'),
    heading text not null check (
        heading in (
            'bicycling', 'conditioning_exercise', 'dancing', 'fishing_hunting', 'home_activity',
            'home_repair', 'inactivity', 'lawn_garden', 'miscellaneous', 'music_playing',
            'occupation', 'running', 'self_care', 'sexual_activity', 'sports', 'transportation',
            'walking', 'water_activities', 'winter_activities', 'religious_activities',
            'volunteer_activities'
        )
    ),
    description text not null check (char_length(description) between 1 and 400),
    met numeric(4, 2) not null check (met > 0 and met <= 25),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

comment on table public.met_values is
'MET values of the 2011 Adult Compendium of Physical Activities (Ainsworth et al. 2011), by code.';
comment on column public.met_values.id is
'Compendium activity code (5 digits; the first two are the major heading).';
comment on column public.met_values.heading is 'Compendium major heading, as a slug.';
comment on column public.met_values.met is
'Metabolic equivalent (1 MET ~ 1 kcal/kg/h): kcal = met x body mass kg x hours.';

create index met_values_description_trgm_idx on public.met_values
using gist (description extensions.gist_trgm_ops (siglen = 64));

create table public.activity_category_mets (
    id uuid primary key default gen_random_uuid(),
    category text not null check (
        category in ('cardio_steady', 'cardio_interval', 'strength', 'sports', 'flexibility')
    ),
    met_value_id text not null references public.met_values (id) on delete restrict,
    is_default boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint activity_category_mets_category_met_key unique (category, met_value_id)
);

comment on table public.activity_category_mets is
'Common Compendium activities per activity category; is_default marks the MET used when a log names none.';
comment on column public.activity_category_mets.is_default is
'At most one default per category: the MET used for an activity of that category without its own MET.';

create unique index activity_category_mets_one_default_idx on public.activity_category_mets (category)
where is_default;
create index activity_category_mets_met_value_id_idx on public.activity_category_mets (met_value_id);

create table public.training_modalities (
    id text primary key check (id ~ '^[a-z][a-z0-9_]{1,60}$'),
    name text not null unique check (char_length(name) between 1 and 100),
    category text not null check (
        category in ('strength', 'endurance', 'mixed', 'mobility', 'sport', 'mind_body')
    ),
    description text not null default '',
    activity_category text check (
        activity_category in ('cardio_steady', 'cardio_interval', 'strength', 'sports', 'flexibility')
    ),
    met_value_id text references public.met_values (id) on delete restrict,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

comment on table public.training_modalities is
'Curated vocabulary of ways to train (stable slugs), used by the consultation and program generation.';
comment on column public.training_modalities.activity_category is
'The activities.category a session of this modality is logged under (NULL: not mapped).';
comment on column public.training_modalities.met_value_id is
'Typical Compendium activity of this modality, for calorie estimates (NULL: use the category default).';

create index training_modalities_met_value_id_idx on public.training_modalities (met_value_id);

create table public.meal_times (
    id text primary key check (id ~ '^[a-z][a-z0-9_]{1,60}$'),
    name text not null unique check (char_length(name) between 1 and 100),
    typical_time time not null,
    sort_order smallint not null unique check (sort_order between 1 and 100),
    description text not null default '',
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
    food_group text check (
        food_group in (
            'Dairy and Egg Products', 'Spices and Herbs', 'Baby Foods', 'Fats and Oils',
            'Poultry Products', 'Soups, Sauces, and Gravies', 'Sausages and Luncheon Meats',
            'Breakfast Cereals', 'Fruits and Fruit Juices', 'Pork Products',
            'Vegetables and Vegetable Products', 'Nut and Seed Products', 'Beef Products',
            'Beverages', 'Finfish and Shellfish Products', 'Legumes and Legume Products',
            'Lamb, Veal, and Game Products', 'Baked Products', 'Sweets', 'Cereal Grains and Pasta',
            'Fast Foods', 'Meals, Entrees, and Side Dishes', 'Snacks',
            'American Indian/Alaska Native Foods', 'Restaurant Foods'
        )
    ),
    kcal_per_100g numeric(6, 1) not null check (kcal_per_100g between 0 and 902),
    protein_g_per_100g numeric(5, 2) not null check (protein_g_per_100g between 0 and 100),
    carbs_g_per_100g numeric(5, 2) not null check (carbs_g_per_100g between 0 and 100),
    fat_g_per_100g numeric(5, 2) not null check (fat_g_per_100g between 0 and 100),
    fiber_g_per_100g numeric(5, 2) check (fiber_g_per_100g between 0 and 100),
    sugar_g_per_100g numeric(5, 2) check (sugar_g_per_100g between 0 and 100),
    sodium_mg_per_100g numeric(7, 1) check (sodium_mg_per_100g between 0 and 40000),
    -- Each serving: {"description": non-blank text, "grams": number > 0}.
    servings jsonb not null default '[]' check (
        jsonb_typeof(servings) = 'array'
        and not jsonb_path_exists(
            servings,
            '$[*] ? (@.type() != "object"
                || !exists(@.description ? (@.type() == "string" && @ like_regex "\\S"))
                || !exists(@.grams ? (@.type() == "number" && @ > 0)))'
        )
    ),
    source text not null check (source in ('usda_sr28', 'sharpened')),
    source_id text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint foods_source_id_key unique (source, source_id),
    -- A USDA food carries its 5-digit NDB number (the key in SR28 and in FoodData Central).
    constraint foods_usda_source_id_check check (source <> 'usda_sr28' or source_id ~ '^[0-9]{5}$')
);

comment on table public.foods is
'Shared food database, nutrients per 100 g (USDA SR28, public domain); servings: [{description, grams}].';
comment on column public.foods.name is 'USDA FOOD_DES.Long_Desc for SR28 foods.';
comment on column public.foods.brand is 'Manufacturer (USDA ManufacName) of a branded food; NULL otherwise.';
comment on column public.foods.food_group is 'USDA SR28 food group name (FdGrp_Cd).';
comment on column public.foods.fiber_g_per_100g is 'NULL means not measured (not zero), as in the source.';
comment on column public.foods.sugar_g_per_100g is 'NULL means not measured (not zero), as in the source.';
comment on column public.foods.sodium_mg_per_100g is 'NULL means not measured (not zero), as in the source.';
comment on column public.foods.servings is
'Household measures [{"description": "1 cup", "grams": 244}]; per serving = per 100 g x grams / 100.';
comment on column public.foods.source_id is 'Key in the source: the 5-digit USDA NDB_No for usda_sr28.';

create index foods_name_trgm_idx on public.foods
using gist (name extensions.gist_trgm_ops (siglen = 64));

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
create trigger activity_category_mets_set_updated_at before update on public.activity_category_mets
for each row execute function private.set_updated_at();

-- Deny by default; the policies (sql/policies/reference.sql) let signed-in users read.
alter table public.exercises enable row level security;
alter table public.training_modalities enable row level security;
alter table public.meal_times enable row level security;
alter table public.event_types enable row level security;
alter table public.foods enable row level security;
alter table public.met_values enable row level security;
alter table public.activity_category_mets enable row level security;

revoke all on public.exercises, public.training_modalities, public.meal_times,
public.event_types, public.foods, public.met_values, public.activity_category_mets
from anon, authenticated;
grant select on public.exercises, public.training_modalities, public.meal_times,
public.event_types, public.foods, public.met_values, public.activity_category_mets to authenticated;
grant select, insert, update, delete on public.exercises, public.training_modalities,
public.meal_times, public.event_types, public.foods, public.met_values,
public.activity_category_mets to service_role;

-- Fuzzy name search for clients (PostgREST filters cannot use pg_trgm's
-- operators). Every word of the query (2+ characters) must match a word of the
-- name by trigram word similarity >= 0.5, so typos and word order do not
-- matter; the two longest words are matched through the trigram index. Ranked
-- by mean word similarity, then by similarity of the whole name. Security
-- invoker: RLS and the caller's grants apply.
create function public.search_foods(query text, max_results integer default 20)
returns setof public.foods
language sql
stable
security invoker
set search_path = ''
set "pg_trgm.word_similarity_threshold" = 0.5
as $$
    with search as (
        select pg_catalog.array_agg(w.word order by pg_catalog.char_length(w.word) desc, w.word) as words
        from (
            select distinct word
            from pg_catalog.regexp_split_to_table(
                pg_catalog.lower(pg_catalog.left(query, 200)), '[^[:alnum:]]+'
            ) as word
            where pg_catalog.char_length(word) >= 2
        ) as w
    )
    select f.*
    from public.foods as f, search as s
    where
        f.name operator(extensions.%>) s.words[1]
        and f.name operator(extensions.%>) coalesce(s.words[2], s.words[1])
        and (
            select pg_catalog.bool_and(w operator(extensions.<%) f.name)
            from pg_catalog.unnest(s.words[3:]) as w
        ) is not false
    order by
        (
            select pg_catalog.avg(extensions.word_similarity(w, f.name))
            from pg_catalog.unnest(s.words) as w
        ) desc,
        extensions.similarity(query, f.name) desc,
        f.name asc,
        f.id asc
    limit least(greatest(coalesce(max_results, 20), 1), 100)
$$;

comment on function public.search_foods(text, integer) is
'Typo-tolerant food search by name (pg_trgm word similarity), best first; max_results 1-100 (default 20).';

create function public.search_exercises(query text, max_results integer default 20)
returns setof public.exercises
language sql
stable
security invoker
set search_path = ''
set "pg_trgm.word_similarity_threshold" = 0.5
as $$
    with search as (
        select pg_catalog.array_agg(w.word order by pg_catalog.char_length(w.word) desc, w.word) as words
        from (
            select distinct word
            from pg_catalog.regexp_split_to_table(
                pg_catalog.lower(pg_catalog.left(query, 200)), '[^[:alnum:]]+'
            ) as word
            where pg_catalog.char_length(word) >= 2
        ) as w
    )
    select e.*
    from public.exercises as e, search as s
    where
        e.name operator(extensions.%>) s.words[1]
        and e.name operator(extensions.%>) coalesce(s.words[2], s.words[1])
        and (
            select pg_catalog.bool_and(w operator(extensions.<%) e.name)
            from pg_catalog.unnest(s.words[3:]) as w
        ) is not false
    order by
        (
            select pg_catalog.avg(extensions.word_similarity(w, e.name))
            from pg_catalog.unnest(s.words) as w
        ) desc,
        extensions.similarity(query, e.name) desc,
        e.name asc,
        e.id asc
    limit least(greatest(coalesce(max_results, 20), 1), 100)
$$;

comment on function public.search_exercises(text, integer) is
'Typo-tolerant exercise search by name (pg_trgm word similarity), best first; max_results 1-100, default 20.';

revoke execute on function public.search_foods(text, integer), public.search_exercises(text, integer)
from public, anon;
grant execute on function public.search_foods(text, integer), public.search_exercises(text, integer)
to authenticated, service_role;
