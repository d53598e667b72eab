-- Users subsystem, second table: the user's body measurements over time
-- (weigh-ins, body fat, tape measurements). Reassessment reads the weight
-- trend from here (DOMAIN §8).

create table public.body_metrics (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    measured_at timestamptz not null default now() check (measured_at >= timestamptz '1900-01-01 00:00+00'),
    weight_kg numeric(5, 2) check (weight_kg between 30 and 300),
    body_fat_pct numeric(3, 1) check (body_fat_pct between 3 and 60),
    neck_cm numeric(4, 1) check (neck_cm between 20 and 80),
    chest_cm numeric(4, 1) check (chest_cm between 50 and 200),
    waist_cm numeric(4, 1) check (waist_cm between 40 and 250),
    hip_cm numeric(4, 1) check (hip_cm between 50 and 250),
    arm_cm numeric(4, 1) check (arm_cm between 10 and 80),
    thigh_cm numeric(4, 1) check (thigh_cm between 20 and 120),
    source text not null default 'manual' check (source in ('manual', 'import', 'device')),
    notes text check (char_length(notes) <= 2000),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- A row without any measurement carries no information.
    constraint body_metrics_has_measurement check (
        num_nonnulls(weight_kg, body_fat_pct, neck_cm, chest_cm, waist_cm, hip_cm, arm_cm, thigh_cm) >= 1
    ),
    -- One measurement per user and instant (re-imports upsert on this key).
    constraint body_metrics_user_id_measured_at_key unique (user_id, measured_at)
);

comment on table public.body_metrics is
'A user''s body measurements over time (at least one value per row); reassessment reads the weight trend.';
comment on column public.body_metrics.measured_at is
'When the measurement was taken; unique per user (an import upserts on (user_id, measured_at)).';
comment on column public.body_metrics.weight_kg is 'Body weight, kg (30-300, the bounds of DOMAIN §1).';
comment on column public.body_metrics.body_fat_pct is 'Body fat, % of body weight (3-60, DOMAIN §1).';
comment on column public.body_metrics.arm_cm is 'Upper-arm circumference, cm (relaxed, mid-biceps).';
comment on column public.body_metrics.thigh_cm is 'Thigh circumference, cm (mid-thigh).';
comment on column public.body_metrics.source is
'Where the row came from: manual (typed by the user), import (file or another app), device (smart scale).';

-- The unique key (user_id, measured_at) is the user_id-leading index: it
-- covers the foreign key, the policies and "my weigh-ins, newest first".

alter table public.body_metrics enable row level security;

-- User data: the owner selects, inserts, updates and deletes their own rows.
revoke all on public.body_metrics from anon, authenticated;
grant select, insert, update, delete on public.body_metrics to authenticated;
grant select, insert, update, delete on public.body_metrics to service_role;

create trigger body_metrics_set_updated_at
before update on public.body_metrics
for each row execute function private.set_updated_at();
