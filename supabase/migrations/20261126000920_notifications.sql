-- Planning subsystem, part 3: notifications to the user (pending and applied
-- adjustments, reassessment results, a new program, system messages).
-- Written by service code and triggers; the owner reads them and marks them
-- read or acted upon (read_at and action_taken only).

create table public.notifications (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    kind text not null check (
        kind in (
            'adjustment_pending', 'adjustment_applied', 'adjustment_rejected', 'adjustment_undone',
            'reassessment', 'program_ready', 'system'
        )
    ),
    title text not null check (char_length(btrim(title)) between 1 and 200),
    body text not null default '' check (char_length(body) <= 4000),
    ref_table text check (
        ref_table in (
            'programs', 'day_overrides', 'plan_change_events', 'calendar_events',
            'session_instances', 'meal_instances'
        )
    ),
    ref_id uuid,
    priority text not null default 'normal' check (priority in ('low', 'normal', 'high')),
    read_at timestamptz,
    action_taken text check (action_taken in ('opened', 'dismissed', 'approved', 'rejected', 'undone')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint notifications_ref_pair check ((ref_table is null) = (ref_id is null))
);

comment on table public.notifications is
'Messages to the user (adjustments, reassessments, new programs, system). Written by service code; the owner '
'reads them and sets read_at and action_taken only.';
comment on column public.notifications.kind is
'adjustment_pending, adjustment_applied, adjustment_rejected, adjustment_undone, reassessment, '
'program_ready, system.';
comment on column public.notifications.ref_table is
'Table of the row the notification is about (with ref_id), e.g. day_overrides; NULL if none.';
comment on column public.notifications.ref_id is 'id of that row (a soft reference).';
comment on column public.notifications.read_at is
'When the user read it (set by the client); NULL while unread.';
comment on column public.notifications.action_taken is
'What the user did with it (set by the client): opened, dismissed, approved, rejected or undone.';

create index notifications_user_id_created_at_idx on public.notifications (user_id, created_at desc);

create trigger notifications_set_updated_at
before update on public.notifications
for each row execute function private.set_updated_at();

alter table public.notifications enable row level security;

-- Partly editable: the owner reads and marks, never writes the content.
revoke all on public.notifications from anon, authenticated;
grant select on public.notifications to authenticated;
grant update (read_at, action_taken) on public.notifications to authenticated;
grant select, insert, update, delete on public.notifications to service_role;
