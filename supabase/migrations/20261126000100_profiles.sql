-- Users subsystem, first table: one profile per auth user, created on signup.

create table public.profiles (
    id uuid primary key references auth.users (id) on delete cascade,
    display_name text check (char_length(btrim(display_name)) between 1 and 100),
    date_of_birth date check (date_of_birth >= date '1900-01-01'),
    sex text check (sex in ('male', 'female')),
    height_cm numeric(4, 1) check (height_cm between 120 and 230),
    weight_kg numeric(5, 2) check (weight_kg between 30 and 300),
    body_fat_pct numeric(3, 1) check (body_fat_pct between 3 and 60),
    primary_goal text check (
        primary_goal in ('fat_loss', 'muscle_gain', 'recomposition', 'maintenance', 'performance')
    ),
    goal_rate_pct_per_week numeric(3, 2),
    experience_level text check (experience_level in ('beginner', 'intermediate', 'advanced')),
    workout_frequency smallint check (workout_frequency between 0 and 7),
    activity_level text check (
        activity_level in ('sedentary', 'light', 'moderate', 'very', 'extra')
    ),
    dietary_preference text check (
        dietary_preference in (
            'omnivore', 'vegetarian', 'vegan', 'pescatarian', 'keto', 'paleo', 'halal', 'kosher'
        )
    ),
    allergies text[] not null default '{}' check (cardinality(allergies) <= 30),
    meals_per_day smallint check (meals_per_day between 1 and 8),
    timezone text not null default 'UTC' check (char_length(timezone) between 1 and 64),
    units text not null default 'metric' check (units in ('metric', 'imperial')),
    is_pregnant_or_breastfeeding boolean not null default false,
    has_cardiac_condition boolean not null default false,
    has_type1_diabetes boolean not null default false,
    has_eating_disorder_history boolean not null default false,
    estimated_tdee integer check (estimated_tdee between 800 and 10000),
    daily_calorie_goal integer check (daily_calorie_goal between 800 and 10000),
    protein_g integer check (protein_g between 0 and 1000),
    carbs_g integer check (carbs_g between 0 and 2000),
    fat_g integer check (fat_g between 0 and 1000),
    onboarding_completed boolean not null default false,
    consultation_completed boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- DOMAIN §2: the weekly rate a user may choose depends on the goal.
    constraint profiles_goal_rate_matches_goal check (
        goal_rate_pct_per_week is null
        or coalesce(
            (primary_goal = 'fat_loss' and goal_rate_pct_per_week between 0.25 and 1.0)
            or (primary_goal = 'muscle_gain' and goal_rate_pct_per_week between 0.25 and 0.5),
            false
        )
    )
);

comment on table public.profiles is
'One row per user (id = auth.users.id): demographics, goals, preferences, medical flags, computed targets.';
comment on column public.profiles.goal_rate_pct_per_week is
'Chosen rate of body-weight change, % per week: fat_loss 0.25-1.0, muscle_gain 0.25-0.5 (DOMAIN §2).';
comment on column public.profiles.estimated_tdee is
'Computed by program generation; clients cannot write it (column privileges).';
comment on column public.profiles.onboarding_completed is
'Set by complete_onboarding() once every required field is filled; clients cannot write it.';
comment on column public.profiles.consultation_completed is
'Set by the consultation flow when the consultation ends; clients cannot write it.';

alter table public.profiles enable row level security;

-- Clients read their row and edit only what they own; targets and flags are
-- written by the backend (service role and security definer functions).
revoke all on public.profiles from anon, authenticated;
grant select on public.profiles to authenticated;
grant update (
    display_name, date_of_birth, sex, height_cm, weight_kg, body_fat_pct,
    primary_goal, goal_rate_pct_per_week, experience_level, workout_frequency,
    activity_level, dietary_preference, allergies, meals_per_day, timezone, units,
    is_pregnant_or_breastfeeding, has_cardiac_condition, has_type1_diabetes,
    has_eating_disorder_history
) on public.profiles to authenticated;
grant select, insert, update, delete on public.profiles to service_role;

create trigger profiles_set_updated_at
before update on public.profiles
for each row execute function private.set_updated_at();

-- Rules a CHECK cannot express (they depend on the clock or the tz database).
create or replace function private.validate_profile() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    age_years integer;
begin
    if new.date_of_birth is not null then
        age_years := extract(year from pg_catalog.age(current_date, new.date_of_birth));
        if age_years not between 13 and 100 then
            raise exception 'date_of_birth gives an age of % years; allowed ages are 13 to 100', age_years
                using errcode = 'check_violation', column = 'date_of_birth';
        end if;
    end if;
    -- Exact IANA names only (what clients and Python's zoneinfo understand).
    -- The catalog lookup costs tens of ms, so it runs only when the zone changes.
    if (case when tg_op = 'INSERT' then new.timezone <> 'UTC' else new.timezone <> old.timezone end)
        and not exists (select from pg_catalog.pg_timezone_names where name = new.timezone) then
        raise exception 'timezone "%" is not a known IANA time zone name', new.timezone
            using errcode = 'check_violation', column = 'timezone';
    end if;
    return new;
end;
$$;

comment on function private.validate_profile() is
'BEFORE INSERT/UPDATE trigger on profiles: age 13-100 (DOMAIN §1) and an IANA time zone name.';

create trigger profiles_validate
before insert or update of date_of_birth, timezone on public.profiles
for each row execute function private.validate_profile();

-- Signup creates the profile (the standard Supabase pattern).
create or replace function private.handle_new_user() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into public.profiles (id, display_name)
    values (
        new.id,
        nullif(left(pg_catalog.btrim(new.raw_user_meta_data ->> 'display_name'), 100), '')
    );
    return new;
end;
$$;

comment on function private.handle_new_user() is
'AFTER INSERT trigger on auth.users: creates the user''s profile.';

create trigger on_auth_user_created
after insert on auth.users
for each row execute function private.handle_new_user();

-- Clients finish onboarding through this RPC: it checks that every field the
-- programs need is present, then sets the flag the client cannot write.
create or replace function public.complete_onboarding() returns public.profiles
language plpgsql
security definer
set search_path = ''
as $$
declare
    caller uuid := auth.uid();
    profile public.profiles;
    missing text[];
begin
    if caller is null then
        raise exception 'complete_onboarding needs a signed-in user'
            using errcode = 'insufficient_privilege';
    end if;

    select * into profile from public.profiles where id = caller for update;
    if not found then
        raise exception 'no profile for the calling user' using errcode = 'PT404';
    end if;

    missing := array_remove(array[
        case when profile.date_of_birth is null then 'date_of_birth' end,
        case when profile.sex is null then 'sex' end,
        case when profile.height_cm is null then 'height_cm' end,
        case when profile.weight_kg is null then 'weight_kg' end,
        case when profile.primary_goal is null then 'primary_goal' end,
        case when profile.experience_level is null then 'experience_level' end,
        case when profile.workout_frequency is null then 'workout_frequency' end,
        case when profile.activity_level is null then 'activity_level' end,
        case when profile.dietary_preference is null then 'dietary_preference' end,
        case when profile.meals_per_day is null then 'meals_per_day' end
    ], null);

    if cardinality(missing) > 0 then
        raise exception 'onboarding is incomplete: % missing', array_to_string(missing, ', ')
            using errcode = 'PT422',
                detail = pg_catalog.json_build_object(
                    'code', 'onboarding_incomplete', 'missing', missing
                )::text,
                hint = 'Update these profile fields, then call complete_onboarding again.';
    end if;

    update public.profiles set onboarding_completed = true
    where id = caller
    returning * into profile;
    return profile;
end;
$$;

comment on function public.complete_onboarding() is
'RPC: marks the caller''s onboarding complete once every required profile field is set '
'(422 listing the missing ones otherwise).';

revoke execute on function public.complete_onboarding() from public, anon;
grant execute on function public.complete_onboarding() to authenticated;
