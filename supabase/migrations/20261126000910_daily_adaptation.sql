-- Planning subsystem, part 2: daily adaptation (DOMAIN §7). The user logs
-- the day's context (sleep, stress, soreness, energy, injuries); rules turn
-- it into day overrides of the plan, applied automatically or after the
-- user's approval according to the user's adjustment preferences.
--
-- The owner writes the context log and the preferences; overrides are
-- written by service code (state changes go through RPCs, later).

-- ------------------------------------------------------- user_context_log ---

create table public.user_context_log (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    date date not null,
    sleep_hours numeric(3, 1) check (sleep_hours between 0 and 24),
    sleep_quality smallint check (sleep_quality between 1 and 10),
    stress_level smallint check (stress_level between 1 and 10),
    soreness_level smallint check (soreness_level between 1 and 10),
    energy_level smallint check (energy_level between 1 and 10),
    injury_notes text check (char_length(btrim(injury_notes)) between 1 and 1000),
    resting_hr smallint check (resting_hr between 25 and 220),
    hrv_ms numeric(4, 1) check (hrv_ms between 1 and 300),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- One entry per user and day (clients upsert on (user_id, date)).
    constraint user_context_log_user_id_date_key unique (user_id, date)
);

comment on table public.user_context_log is
'The user''s daily context (sleep, stress, soreness, energy, injuries, resting HR, HRV), one row per day; '
'input of the daily adjustments. The owner reads and writes it.';
comment on column public.user_context_log.date is 'The user''s local date the entry describes.';
comment on column public.user_context_log.sleep_hours is 'Hours slept the night before, 0-24.';
comment on column public.user_context_log.sleep_quality is
'Self-rated sleep quality, 1 (worst) to 10 (best).';
comment on column public.user_context_log.stress_level is 'Self-rated stress, 1 (none) to 10 (extreme).';
comment on column public.user_context_log.soreness_level is
'Self-rated muscle soreness, 1 (none) to 10 (extreme).';
comment on column public.user_context_log.energy_level is 'Self-rated energy, 1 (exhausted) to 10 (great).';
comment on column public.user_context_log.injury_notes is
'Free text about a current injury (1-1000 characters; NULL when none): triggers the injury rule.';
comment on column public.user_context_log.resting_hr is 'Resting heart rate, beats per minute, 25-220.';
comment on column public.user_context_log.hrv_ms is 'Heart rate variability (RMSSD), milliseconds, 1-300.';

create trigger user_context_log_set_updated_at
before update on public.user_context_log
for each row execute function private.set_updated_at();

alter table public.user_context_log enable row level security;

revoke all on public.user_context_log from anon, authenticated;
grant select, insert, update, delete on public.user_context_log to authenticated;
grant select, insert, update, delete on public.user_context_log to service_role;

-- ---------------------------------------------------------- day_overrides ---

create table public.day_overrides (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    program_id uuid not null,
    date date not null,
    reason_codes text[] not null check (
        cardinality(reason_codes) between 1 and 7
        and array_position(reason_codes, null) is null
        and reason_codes <@ array[
            'poor_sleep', 'high_stress', 'high_soreness', 'injury', 'missed_workout',
            'low_adherence', 'high_adherence'
        ]
    ),
    modifications jsonb not null check (
        jsonb_typeof(modifications) = 'object'
        -- DOMAIN §7 caps: a daily override never adds volume, kcal change +-500.
        and case jsonb_typeof(modifications -> 'volume_multiplier')
            when 'number' then (modifications ->> 'volume_multiplier')::numeric between 0.5 and 1
            else modifications -> 'volume_multiplier' is null
        end
        and case jsonb_typeof(modifications -> 'kcal_delta')
            when 'number' then (modifications ->> 'kcal_delta')::numeric between -500 and 500
            else modifications -> 'kcal_delta' is null
        end
        and case jsonb_typeof(modifications -> 'intensity_multiplier')
            when 'number' then (modifications ->> 'intensity_multiplier')::numeric > 0
            else modifications -> 'intensity_multiplier' is null
        end
        and case jsonb_typeof(modifications -> 'rir_delta')
            when 'number' then true
            else modifications -> 'rir_delta' is null
        end
    ),
    confidence numeric(4, 3) not null check (confidence between 0 and 1),
    explanation text not null check (char_length(btrim(explanation)) between 1 and 2000),
    status text not null default 'pending' check (
        status in ('pending', 'approved', 'rejected', 'auto_applied', 'undone')
    ),
    apply_after timestamptz,
    applied_at timestamptz,
    decided_at timestamptz,
    undo_until timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint day_overrides_program_fkey foreign key (program_id, user_id)
    references public.programs (id, user_id) on delete cascade,
    -- The timestamps each state implies.
    constraint day_overrides_status_timestamps check (
        case status
            when 'pending' then applied_at is null and decided_at is null
            when 'approved' then decided_at is not null
            when 'rejected' then decided_at is not null and applied_at is null
            when 'auto_applied' then applied_at is not null
            when 'undone' then applied_at is not null
        end
    ),
    constraint day_overrides_undo_after_apply check (
        undo_until is null or (applied_at is not null and undo_until >= applied_at)
    )
);

comment on table public.day_overrides is
'A proposed or applied change to one day of the plan, from the day''s context and adherence (DOMAIN §7). '
'Written by service code; state changes through RPCs. The owner reads it.';
comment on column public.day_overrides.date is 'The user''s local date the override applies to.';
comment on column public.day_overrides.reason_codes is
'Triggers that fired (non-empty, no NULLs): poor_sleep, high_stress, high_soreness, injury, missed_workout, '
'low_adherence, high_adherence.';
comment on column public.day_overrides.modifications is
'The change as a JSON object: volume_multiplier 0.5-1.0, kcal_delta -500..500, intensity_multiplier > 0, '
'rir_delta, replaced_sessions, ... (numbers where named).';
comment on column public.day_overrides.confidence is 'Confidence of the rules in the change, 0-1.';
comment on column public.day_overrides.explanation is 'Why, in words the user sees.';
comment on column public.day_overrides.status is
'pending (waiting for approval or its grace period), approved, rejected, auto_applied, undone; '
'at most one of pending/approved/auto_applied per user and date.';
comment on column public.day_overrides.apply_after is
'For an auto_apply override: when its grace period (120 min) ends and it applies unless rejected.';
comment on column public.day_overrides.applied_at is 'When the override took effect.';
comment on column public.day_overrides.decided_at is 'When the user approved or rejected it.';
comment on column public.day_overrides.undo_until is 'Until when it can be undone (24 h after applied_at).';

-- At most one open override per user and day.
create unique index day_overrides_one_open_per_day_idx on public.day_overrides (user_id, date)
where status in ('pending', 'approved', 'auto_applied');
create index day_overrides_user_id_date_idx on public.day_overrides (user_id, date);
create index day_overrides_program_id_user_id_idx on public.day_overrides (program_id, user_id);

create trigger day_overrides_set_updated_at
before update on public.day_overrides
for each row execute function private.set_updated_at();

alter table public.day_overrides enable row level security;

revoke all on public.day_overrides from anon, authenticated;
grant select on public.day_overrides to authenticated;
grant select, insert, update, delete on public.day_overrides to service_role;

-- ------------------------------------------------- adjustment_preferences ---

create table public.adjustment_preferences (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    trigger text not null check (
        trigger in (
            'poor_sleep', 'high_stress', 'high_soreness', 'injury', 'missed_workout',
            'low_adherence', 'high_adherence'
        )
    ),
    domain text not null check (domain in ('training', 'nutrition')),
    mode text not null check (mode in ('auto_apply', 'ask', 'disable')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- One choice per trigger and domain (clients upsert on (user_id, trigger, domain)).
    constraint adjustment_preferences_user_id_trigger_domain_key unique (user_id, trigger, domain)
);

comment on table public.adjustment_preferences is
'Per-user choice per trigger and domain: apply daily adjustments automatically, ask first, or never. '
'A missing row means the DOMAIN §7 default. The owner reads and writes it.';
comment on column public.adjustment_preferences.trigger is
'Daily-adjustment trigger: poor_sleep, high_stress, high_soreness, injury, missed_workout, low_adherence, '
'high_adherence.';
comment on column public.adjustment_preferences.domain is
'What the adjustment changes: training or nutrition.';
comment on column public.adjustment_preferences.mode is
'auto_apply (after a 120-minute grace period unless rejected), ask (pending until approved) or disable.';

create trigger adjustment_preferences_set_updated_at
before update on public.adjustment_preferences
for each row execute function private.set_updated_at();

alter table public.adjustment_preferences enable row level security;

revoke all on public.adjustment_preferences from anon, authenticated;
grant select, insert, update, delete on public.adjustment_preferences to authenticated;
grant select, insert, update, delete on public.adjustment_preferences to service_role;
