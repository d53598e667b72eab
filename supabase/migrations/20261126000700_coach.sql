-- Coach subsystem: the general AI coach chat (without a consultation). A user
-- owns their conversations (SIUD: rename, archive, delete) and appends
-- messages to them (SI: the history is not rewritten).

create table public.coach_conversations (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    title text check (char_length(btrim(title)) between 1 and 200),
    archived_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint coach_conversations_id_user_id_key unique (id, user_id)
);

comment on table public.coach_conversations is
'A thread of the general coach chat, owned by one user (renamed, archived or deleted by the owner).';
comment on column public.coach_conversations.title is 'Optional title (1-200 characters); NULL: untitled.';
comment on column public.coach_conversations.archived_at is 'When the owner archived it; NULL: active.';

create index coach_conversations_user_id_created_at_idx
on public.coach_conversations (user_id, created_at desc);

create trigger coach_conversations_set_updated_at
before update on public.coach_conversations
for each row execute function private.set_updated_at();

alter table public.coach_conversations enable row level security;

revoke all on public.coach_conversations from anon, authenticated;
grant select, insert, update, delete on public.coach_conversations to authenticated;
grant select, insert, update, delete on public.coach_conversations to service_role;

create table public.coach_messages (
    id uuid primary key default gen_random_uuid(),
    conversation_id uuid not null,
    user_id uuid not null references auth.users (id) on delete cascade,
    role text not null check (role in ('user', 'assistant', 'system')),
    content text not null check (
        content ~ '[^[:space:]]' and char_length(content) <= 20000
    ),
    tokens integer not null default 0 check (tokens between 0 and 1000000),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint coach_messages_conversation_fkey foreign key (conversation_id, user_id)
    references public.coach_conversations (id, user_id) on delete cascade
);

comment on table public.coach_messages is
'Turns of a coach conversation, append-only for the owner; deleted with their conversation.';
comment on column public.coach_messages.tokens is 'LLM tokens used by the turn (0 when not counted).';

create index coach_messages_conversation_id_user_id_created_at_idx
on public.coach_messages (conversation_id, user_id, created_at);
create index coach_messages_user_id_created_at_idx on public.coach_messages (user_id, created_at);

create trigger coach_messages_set_updated_at
before update on public.coach_messages
for each row execute function private.set_updated_at();

alter table public.coach_messages enable row level security;

revoke all on public.coach_messages from anon, authenticated;
grant select, insert on public.coach_messages to authenticated;
grant select, insert, update, delete on public.coach_messages to service_role;
