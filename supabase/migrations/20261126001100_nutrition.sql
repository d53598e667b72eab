-- Nutrition subsystem, user data: custom_foods (a user's own foods, next to
-- the shared public.foods), meals (logged meals with their totals),
-- meal_items (what a meal contained) and quick_meals (saved combinations to
-- log again). The totals and item nutrients are computed by the logging
-- triggers of a later migration; this one holds the data and its integrity.

create table public.custom_foods (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    name text not null check (char_length(btrim(name)) between 1 and 300),
    brand text check (char_length(btrim(brand)) between 1 and 200),
    kcal_per_100g numeric(6, 1) not null check (kcal_per_100g between 0 and 902),
    protein_g_per_100g numeric(5, 2) not null check (protein_g_per_100g between 0 and 100),
    carbs_g_per_100g numeric(5, 2) not null check (carbs_g_per_100g between 0 and 100),
    fat_g_per_100g numeric(5, 2) not null check (fat_g_per_100g between 0 and 100),
    fiber_g_per_100g numeric(5, 2) check (fiber_g_per_100g between 0 and 100),
    sugar_g_per_100g numeric(5, 2) check (sugar_g_per_100g between 0 and 100),
    sodium_mg_per_100g numeric(7, 1) check (sodium_mg_per_100g between 0 and 40000),
    servings jsonb not null default '[]',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- Household servings as in public.foods: [{"description": text, "grams": 0 < number <= 5000}].
    constraint custom_foods_servings_valid check (
        jsonb_typeof(servings) = 'array'
        and jsonb_array_length(servings) <= 20
        and not jsonb_path_exists(servings, 'strict $[*] ? (@.type() != "object")')
        and not jsonb_path_exists(
            servings,
            'lax $[*] ? (!(@.description.type() == "string")
                || !(@.grams.type() == "number" && @.grams > 0 && @.grams <= 5000))'
        )
    ),
    -- meal_items reference (id, user_id): a user logs only their own custom foods.
    constraint custom_foods_id_user_id_key unique (id, user_id)
);

comment on table public.custom_foods is
'A user''s own foods, nutrients per 100 g with the ranges of public.foods; servings: [{description, grams}].';
comment on column public.custom_foods.fiber_g_per_100g is 'NULL means not known (not zero).';
comment on column public.custom_foods.sodium_mg_per_100g is
'Sodium, mg per 100 g (0-40000); NULL = not known.';

-- The user's own foods by name (search while logging); also covers the FK.
create index custom_foods_user_id_name_idx on public.custom_foods (user_id, name);

create table public.meals (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    logged_at timestamptz not null default now(),
    meal_type text not null references public.meal_times (id) on delete restrict,
    notes text check (char_length(notes) <= 2000),
    total_kcal numeric(7, 1) not null default 0 check (total_kcal >= 0),
    total_protein_g numeric(6, 1) not null default 0 check (total_protein_g >= 0),
    total_carbs_g numeric(6, 1) not null default 0 check (total_carbs_g >= 0),
    total_fat_g numeric(6, 1) not null default 0 check (total_fat_g >= 0),
    client_id text check (char_length(client_id) between 1 and 200),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- Children reference (id, user_id): an item can only belong to its owner's meal.
    constraint meals_id_user_id_key unique (id, user_id),
    -- Idempotency key of offline clients: a retried upload does not log twice.
    constraint meals_user_id_client_id_key unique (user_id, client_id)
);

comment on table public.meals is
'A logged meal: when, which meal of the day, and its totals (sums of its meal_items).';
comment on column public.meals.meal_type is
'Which meal of the day: a public.meal_times slug (e.g. breakfast, lunch, dinner, snack).';
comment on column public.meals.total_kcal is
'Sum of the items'' kcal; maintained by the logging trigger (0 until it lands or while the meal is empty).';
comment on column public.meals.client_id is
'Idempotency key chosen by the client (unique per user); a retried insert with the same key conflicts (409).';

-- Clients read a day or week of meals; user_id leading also covers the FK.
create index meals_user_id_logged_at_idx on public.meals (user_id, logged_at);
create index meals_meal_type_idx on public.meals (meal_type);

create table public.meal_items (
    id uuid primary key default gen_random_uuid(),
    meal_id uuid not null,
    user_id uuid not null references auth.users (id) on delete cascade,
    food_id uuid references public.foods (id) on delete restrict,
    custom_food_id uuid,
    grams numeric(6, 2) not null check (grams between 0.1 and 5000),
    serving_quantity numeric(6, 2) check (serving_quantity > 0 and serving_quantity <= 1000),
    serving_description text check (char_length(btrim(serving_description)) between 1 and 200),
    kcal numeric(7, 1) not null default 0 check (kcal >= 0),
    protein_g numeric(6, 1) not null default 0 check (protein_g >= 0),
    carbs_g numeric(6, 1) not null default 0 check (carbs_g >= 0),
    fat_g numeric(6, 1) not null default 0 check (fat_g >= 0),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint meal_items_meal_fkey foreign key (meal_id, user_id)
    references public.meals (id, user_id) on delete cascade,
    -- Restrict: a custom food that has been logged cannot be deleted while its
    -- items exist (the items keep pointing at what was eaten); deleting the
    -- user removes both.
    constraint meal_items_custom_food_fkey foreign key (custom_food_id, user_id)
    references public.custom_foods (id, user_id) on delete restrict,
    -- Exactly one food: a shared one or one of the user's custom foods.
    constraint meal_items_one_food check (num_nonnulls(food_id, custom_food_id) = 1),
    -- A serving as entered by the user comes with both parts or neither.
    constraint meal_items_serving_complete check (
        (serving_quantity is null) = (serving_description is null)
    )
);

comment on table public.meal_items is
'One food of a logged meal: a shared food or a custom food, the amount in grams and its nutrients.';
comment on column public.meal_items.custom_food_id is
'One of the owner''s custom_foods (composite key with user_id); exactly one of food_id and custom_food_id.';
comment on column public.meal_items.grams is
'Amount eaten in grams (0.1-5000), always required: a client converts servings with the food''s servings '
'list (grams = serving_quantity x serving grams) and sends both.';
comment on column public.meal_items.serving_quantity is
'How the user entered the amount (e.g. 2 of "1 cup"), for display; grams is authoritative.';
comment on column public.meal_items.kcal is
'kcal of this item (grams x food kcal per 100 g / 100); maintained by the logging trigger.';

create index meal_items_meal_id_user_id_idx on public.meal_items (meal_id, user_id);
create index meal_items_user_id_idx on public.meal_items (user_id);
create index meal_items_food_id_idx on public.meal_items (food_id);
create index meal_items_custom_food_id_user_id_idx on public.meal_items (custom_food_id, user_id);

create table public.quick_meals (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    meal_name text not null check (char_length(btrim(meal_name)) between 1 and 200),
    components jsonb not null default '[]',
    total_kcal numeric(7, 1) not null default 0 check (total_kcal >= 0),
    total_protein_g numeric(6, 1) not null default 0 check (total_protein_g >= 0),
    total_carbs_g numeric(6, 1) not null default 0 check (total_carbs_g >= 0),
    total_fat_g numeric(6, 1) not null default 0 check (total_fat_g >= 0),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- Components: [{"food_id" | "custom_food_id": uuid text (exactly one), "grams": 0.1-5000, ...}].
    constraint quick_meals_components_valid check (
        jsonb_typeof(components) = 'array'
        and jsonb_array_length(components) <= 50
        and not jsonb_path_exists(components, 'strict $[*] ? (@.type() != "object")')
        and not jsonb_path_exists(
            components,
            'lax $[*] ? (!(@.grams.type() == "number" && @.grams >= 0.1 && @.grams <= 5000)
                || (@.food_id.type() == "string" && @.custom_food_id.type() == "string")
                || !((@.food_id.type() == "string"
                        && @.food_id like_regex "^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$" flag "i")
                    || (@.custom_food_id.type() == "string" && @.custom_food_id
                        like_regex "^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$" flag "i")))'
        )
    ),
    constraint quick_meals_user_id_meal_name_key unique (user_id, meal_name)
);

comment on table public.quick_meals is
'A user''s saved combination of foods (components with grams) and its totals, logged as a meal in one tap.';
comment on column public.quick_meals.components is
'JSON array (at most 50) of {food_id or custom_food_id, grams 0.1-5000, optional name/serving}; '
'the ids are not foreign keys: logging resolves them.';

alter table public.custom_foods enable row level security;
alter table public.meals enable row level security;
alter table public.meal_items enable row level security;
alter table public.quick_meals enable row level security;

-- User data: the owner selects, inserts, updates and deletes their own rows.
revoke all on public.custom_foods, public.meals, public.meal_items, public.quick_meals
from anon, authenticated;
grant select, insert, update, delete on public.custom_foods, public.meals, public.meal_items,
public.quick_meals to authenticated;
grant select, insert, update, delete on public.custom_foods, public.meals, public.meal_items,
public.quick_meals to service_role;

create trigger custom_foods_set_updated_at before update on public.custom_foods
for each row execute function private.set_updated_at();
create trigger meals_set_updated_at before update on public.meals
for each row execute function private.set_updated_at();
create trigger meal_items_set_updated_at before update on public.meal_items
for each row execute function private.set_updated_at();
create trigger quick_meals_set_updated_at before update on public.quick_meals
for each row execute function private.set_updated_at();
