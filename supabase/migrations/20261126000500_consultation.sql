-- Consultation subsystem, part 1: the premium AI consultation. A secret key
-- is redeemed (one RPC, later) into a consultation session; the chat turns of
-- a session are stored as messages. The answers extracted from the chat live
-- in the nine user_* tables of the next migration.
--
-- Who writes what: keys are managed by the service role only; sessions and
-- key usage are written by service code and SECURITY DEFINER RPCs; a signed-in
-- user reads their sessions and usage and appends messages to their own
-- active session.

-- ------------------------------------------------------------------ keys ---

create table public.consultation_keys (
    id uuid primary key default gen_random_uuid(),
    key_code text not null check (key_code ~ '^SHARP-[0-9]{4}-[A-Z0-9]{9}$'),
    max_uses integer not null default 1 check (max_uses between 1 and 100000),
    current_uses integer not null default 0,
    expires_at timestamptz,
    is_active boolean not null default true,
    -- An assigned key is personal: when its user is deleted, the key goes too.
    -- (on delete set null would turn a restricted key into one anyone can redeem.)
    assigned_to_user_id uuid references auth.users (id) on delete cascade,
    first_used_at timestamptz,
    last_used_at timestamptz,
    created_by uuid references auth.users (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint consultation_keys_key_code_key unique (key_code),
    constraint consultation_keys_uses_within_max check (current_uses between 0 and max_uses),
    -- first_used_at and last_used_at are set by the first redemption, together.
    constraint consultation_keys_used_at_consistent check (
        (current_uses = 0) = (first_used_at is null)
        and (first_used_at is null) = (last_used_at is null)
        and coalesce(first_used_at <= last_used_at, true)
    )
);

comment on table public.consultation_keys is
'Secret consultation keys (SHARP-YYYY-XXXXXXXXX). No client access at all: redeemed only through an RPC.';
comment on column public.consultation_keys.key_code is
'The secret code: SHARP-, a 4-digit year, -, 9 upper-case letters or digits.';
comment on column public.consultation_keys.max_uses is 'How many redemptions the key allows (>= 1).';
comment on column public.consultation_keys.current_uses is
'Redemptions so far (0 to max_uses); incremented by the redemption RPC under a row lock.';
comment on column public.consultation_keys.assigned_to_user_id is
'When set, only this user may redeem the key; the key is deleted with the user.';
comment on column public.consultation_keys.created_by is
'The staff user who issued the key (kept as NULL if that account is deleted).';

create index consultation_keys_assigned_to_user_id_idx on public.consultation_keys (assigned_to_user_id);
create index consultation_keys_created_by_idx on public.consultation_keys (created_by);

create trigger consultation_keys_set_updated_at
before update on public.consultation_keys
for each row execute function private.set_updated_at();

alter table public.consultation_keys enable row level security;

-- Secret: RLS on and no policies, and no privileges for the API roles either.
revoke all on public.consultation_keys from anon, authenticated;
grant select, insert, update, delete on public.consultation_keys to service_role;

-- -------------------------------------------------------------- sessions ---

create table public.consultation_sessions (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    key_id uuid references public.consultation_keys (id) on delete set null,
    status text not null default 'active' check (status in ('active', 'completed', 'abandoned')),
    current_section smallint not null default 1 check (current_section between 1 and 7),
    completed_sections smallint[] not null default '{}' check (
        cardinality(completed_sections) <= 7
        and completed_sections <@ '{1,2,3,4,5,6,7}'::smallint[]
    ),
    progress_percentage smallint not null default 0 check (progress_percentage between 0 and 100),
    engine text not null default 'openai' check (engine in ('openai', 'offline')),
    model text check (char_length(model) between 1 and 100),
    started_at timestamptz not null default now(),
    completed_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint consultation_sessions_id_user_id_key unique (id, user_id),
    constraint consultation_sessions_completed_at_iff_completed check (
        (status = 'completed') = (completed_at is not null)
    ),
    constraint consultation_sessions_completed_after_start check (completed_at >= started_at),
    constraint consultation_sessions_completed_is_100_pct check (
        status <> 'completed' or progress_percentage = 100
    )
);

comment on table public.consultation_sessions is
'One AI consultation of a user: state, current section and progress. Written by service code and RPCs; '
'the owner reads it.';
comment on column public.consultation_sessions.current_section is
'Section in progress, 1-7: 1 training_modalities, 2 exercise_familiarity, 3 training_schedule, '
'4 meal_timing, 5 typical_foods, 6 goals_events, 7 challenges.';
comment on column public.consultation_sessions.completed_sections is
'Numbers (1-7) of the sections finished so far.';
comment on column public.consultation_sessions.progress_percentage is
'Overall progress, 0-100 (100 when completed).';
comment on column public.consultation_sessions.status is
'active (at most one per user), completed (completed_at set) or abandoned.';
comment on column public.consultation_sessions.engine is
'Conversation engine: openai (LLM) or offline (scripted fallback without an LLM).';
comment on column public.consultation_sessions.model is 'LLM model name used by the openai engine, if any.';
comment on column public.consultation_sessions.key_id is
'The key redeemed to start the session (NULL once that key is deleted).';

-- A user has at most one consultation in progress.
create unique index consultation_sessions_one_active_per_user_idx
on public.consultation_sessions (user_id) where status = 'active';
create index consultation_sessions_user_id_started_at_idx
on public.consultation_sessions (user_id, started_at desc);
create index consultation_sessions_key_id_idx on public.consultation_sessions (key_id);

create trigger consultation_sessions_set_updated_at
before update on public.consultation_sessions
for each row execute function private.set_updated_at();

alter table public.consultation_sessions enable row level security;

revoke all on public.consultation_sessions from anon, authenticated;
grant select on public.consultation_sessions to authenticated;
grant select, insert, update, delete on public.consultation_sessions to service_role;

-- ------------------------------------------------------------- key usage ---

create table public.consultation_key_usage (
    id uuid primary key default gen_random_uuid(),
    key_id uuid not null references public.consultation_keys (id) on delete cascade,
    user_id uuid not null references auth.users (id) on delete cascade,
    session_id uuid,
    ip_address inet,
    user_agent text check (char_length(user_agent) <= 512),
    redeemed_at timestamptz not null default now(),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- A deleted session leaves the redemption on record (session_id only is
    -- nulled: user_id stays, so the row keeps its owner).
    constraint consultation_key_usage_session_fkey foreign key (session_id, user_id)
    references public.consultation_sessions (id, user_id) on delete set null (session_id),
    -- One redemption per session (session_id determines user_id).
    constraint consultation_key_usage_session_id_user_id_key unique (session_id, user_id)
);

comment on table public.consultation_key_usage is
'Audit log of key redemptions (one row per redemption), written by the redemption RPC; the owner reads it.';
comment on column public.consultation_key_usage.ip_address is
'Client address from the request headers at redemption.';
comment on column public.consultation_key_usage.user_agent is
'User-Agent header at redemption (at most 512 characters; the RPC truncates).';

create index consultation_key_usage_key_id_idx on public.consultation_key_usage (key_id);
create index consultation_key_usage_user_id_redeemed_at_idx
on public.consultation_key_usage (user_id, redeemed_at desc);

create trigger consultation_key_usage_set_updated_at
before update on public.consultation_key_usage
for each row execute function private.set_updated_at();

alter table public.consultation_key_usage enable row level security;

revoke all on public.consultation_key_usage from anon, authenticated;
grant select on public.consultation_key_usage to authenticated;
grant select, insert, update, delete on public.consultation_key_usage to service_role;

-- -------------------------------------------------------------- messages ---

create table public.consultation_messages (
    id uuid primary key default gen_random_uuid(),
    session_id uuid not null,
    user_id uuid not null references auth.users (id) on delete cascade,
    role text not null check (role in ('user', 'assistant', 'system')),
    content text not null check (
        content ~ '[^[:space:]]' and char_length(content) <= 20000
    ),
    section smallint not null check (section between 1 and 7),
    extraction jsonb check (jsonb_typeof(extraction) = 'object'),
    tokens integer not null default 0 check (tokens between 0 and 1000000),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint consultation_messages_session_fkey foreign key (session_id, user_id)
    references public.consultation_sessions (id, user_id) on delete cascade
);

comment on table public.consultation_messages is
'Chat turns of a consultation session, append-only for the owner (only to an active session).';
comment on column public.consultation_messages.section is 'Consultation section (1-7) the turn belongs to.';
comment on column public.consultation_messages.extraction is
'Structured data the assistant extracted from this turn (a JSON object), if any.';
comment on column public.consultation_messages.tokens is 'LLM tokens used by the turn (0 when not counted).';

create index consultation_messages_session_id_user_id_created_at_idx
on public.consultation_messages (session_id, user_id, created_at);
create index consultation_messages_user_id_created_at_idx
on public.consultation_messages (user_id, created_at);

create trigger consultation_messages_set_updated_at
before update on public.consultation_messages
for each row execute function private.set_updated_at();

-- A finished (completed or abandoned) consultation takes no more messages.
create or replace function private.consultation_message_session_active() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if not exists (
        select from public.consultation_sessions as s
        where s.id = new.session_id and s.user_id = new.user_id and s.status = 'active'
    ) then
        -- A missing session is left to the foreign key (23503).
        if exists (
            select from public.consultation_sessions as s
            where s.id = new.session_id and s.user_id = new.user_id
        ) then
            raise exception 'consultation session % is not active', new.session_id
                using errcode = 'check_violation', column = 'session_id';
        end if;
    end if;
    return new;
end;
$$;

comment on function private.consultation_message_session_active() is
'BEFORE INSERT/UPDATE trigger on consultation_messages: only an active session takes messages.';

create trigger consultation_messages_session_active
before insert or update of session_id on public.consultation_messages
for each row execute function private.consultation_message_session_active();

alter table public.consultation_messages enable row level security;

revoke all on public.consultation_messages from anon, authenticated;
grant select, insert on public.consultation_messages to authenticated;
grant select, insert, update, delete on public.consultation_messages to service_role;
