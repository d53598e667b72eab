-- Coach domain: integrity constraints of coach_conversations and
-- coach_messages (ranges, vocabularies, the composite key that keeps a
-- message in its owner's conversation, cascades) and the owner's access
-- classes (conversations SIUD, messages SI), acting as PostgREST would.
begin;
set search_path = public, extensions;

select plan(37);

-- Actors:
--   ann  a0000000-0000-4000-8000-00000000000a
--   bob  b0000000-0000-4000-8000-00000000000b
-- Conversations: ann 60000000-...-0001, bob 60000000-...-0002

select tests.create_user('a0000000-0000-4000-8000-00000000000a', 'ann@example.com');
select tests.create_user('b0000000-0000-4000-8000-00000000000b', 'bob@example.com');

insert into public.coach_conversations (id, user_id, title)
values ('60000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-00000000000b', 'Bob''s thread');
insert into public.coach_messages (conversation_id, user_id, role, content)
values ('60000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-00000000000b', 'user', 'Hi coach');

-- ============================================================== as ann

select tests.authenticate_as('a0000000-0000-4000-8000-00000000000a');

select lives_ok(
    $$ insert into public.coach_conversations (id, user_id, title)
       values ('60000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               'Knee pain') $$,
    'ann starts a conversation'
);
select lives_ok(
    $$ insert into public.coach_conversations (user_id)
       values ('a0000000-0000-4000-8000-00000000000a') $$,
    'a conversation may be untitled'
);
select throws_ok(
    $$ insert into public.coach_conversations (user_id, title)
       values ('b0000000-0000-4000-8000-00000000000b', 'planted') $$,
    '42501', 'new row violates row-level security policy for table "coach_conversations"',
    'ann cannot create a conversation for bob'
);
select throws_ok(
    $$ insert into public.coach_conversations (user_id, title)
       values ('a0000000-0000-4000-8000-00000000000a', '   ') $$,
    '23514', null, 'a blank title is rejected'
);
select throws_ok(
    $$ insert into public.coach_conversations (user_id, title)
       values ('a0000000-0000-4000-8000-00000000000a', repeat('t', 201)) $$,
    '23514', null, 'a title over 200 characters is rejected'
);

select lives_ok(
    $$ insert into public.coach_messages (conversation_id, user_id, role, content, tokens)
       values ('60000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               'user', 'My knee hurts when I squat.', 9) $$,
    'ann appends a message to her conversation'
);
select lives_ok(
    $$ insert into public.coach_messages (conversation_id, user_id, role, content)
       values ('60000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               'assistant', 'Try a box squat for two weeks.') $$,
    'an assistant reply is stored in the same conversation'
);
select throws_ok(
    $$ insert into public.coach_messages (conversation_id, user_id, role, content)
       values ('60000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-00000000000a',
               'user', 'sneaking into bob''s thread') $$,
    '23503', null, 'a message of ann cannot point at bob''s conversation'
);
select throws_ok(
    $$ insert into public.coach_messages (conversation_id, user_id, role, content)
       values ('60000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-00000000000b',
               'user', 'planted') $$,
    '42501', 'new row violates row-level security policy for table "coach_messages"',
    'ann cannot write a message as bob'
);
select throws_ok(
    $$ insert into public.coach_messages (conversation_id, user_id, role, content)
       values ('60000000-0000-4000-8000-0000000000ff', 'a0000000-0000-4000-8000-00000000000a',
               'user', 'x') $$,
    '23503', null, 'a message needs an existing conversation'
);
select throws_ok(
    $$ insert into public.coach_messages (conversation_id, user_id, role, content)
       values ('60000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               'coach', 'x') $$,
    '23514', null, 'an unknown message role is rejected'
);
select throws_ok(
    $$ insert into public.coach_messages (conversation_id, user_id, role, content)
       values ('60000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               'user', E' \n\t ') $$,
    '23514', null, 'a blank message is rejected'
);
select throws_ok(
    $$ insert into public.coach_messages (conversation_id, user_id, role, content)
       values ('60000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               'user', repeat('x', 20001)) $$,
    '23514', null, 'a message over 20,000 characters is rejected'
);
select lives_ok(
    $$ insert into public.coach_messages (conversation_id, user_id, role, content)
       values ('60000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               'user', repeat('x', 20000)) $$,
    'a message of exactly 20,000 characters is accepted'
);
select throws_ok(
    $$ insert into public.coach_messages (conversation_id, user_id, role, content, tokens)
       values ('60000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
               'user', 'x', -1) $$,
    '23514', null, 'negative tokens are rejected'
);

-- Messages are append-only for the owner.
select throws_ok(
    $$ update public.coach_messages set content = 'rewritten' $$,
    '42501', 'permission denied for table coach_messages',
    'ann cannot rewrite her messages'
);
select throws_ok(
    $$ delete from public.coach_messages $$,
    '42501', 'permission denied for table coach_messages',
    'ann cannot delete single messages'
);

-- Conversations: rename and archive, not hand over.
select lives_ok(
    $$ update public.coach_conversations set title = 'Knee pain (solved)', archived_at = now()
       where id = '60000000-0000-4000-8000-000000000001' $$,
    'ann renames and archives her conversation'
);
select results_eq(
    $$ select title, archived_at is not null from public.coach_conversations
       where id = '60000000-0000-4000-8000-000000000001' $$,
    $$ values ('Knee pain (solved)'::text, true) $$,
    'the rename and the archive are stored'
);
select throws_ok(
    $$ update public.coach_conversations set user_id = 'b0000000-0000-4000-8000-00000000000b'
       where id = '60000000-0000-4000-8000-000000000001' $$,
    '42501', 'new row violates row-level security policy for table "coach_conversations"',
    'ann cannot hand her conversation over to bob'
);
with updated as (
    update public.coach_conversations set title = 'pwned'
    where id = '60000000-0000-4000-8000-000000000002'
    returning 1
)

select is((select count(*)::int from updated), 0, 'ann''s update of bob''s conversation affects 0 rows');
with deleted as (
    delete from public.coach_conversations
    where id = '60000000-0000-4000-8000-000000000002'
    returning 1
)

select is((select count(*)::int from deleted), 0, 'ann''s delete of bob''s conversation affects 0 rows');
select results_eq(
    $$ select (select count(*)::int from public.coach_conversations),
              (select count(*)::int from public.coach_messages) $$,
    $$ values (2, 3) $$,
    'ann sees her 2 conversations and 3 messages only'
);

-- ============================================================== as bob

select tests.authenticate_as('b0000000-0000-4000-8000-00000000000b');

select results_eq(
    $$ select c.title, count(m.id)::int
       from public.coach_conversations as c
       left join public.coach_messages as m on m.conversation_id = c.id
       group by c.title $$,
    $$ values ('Bob''s thread'::text, 1) $$,
    'bob sees only his conversation, untouched, with its one message'
);
select is_empty(
    $$ select 1 from public.coach_messages where user_id = 'a0000000-0000-4000-8000-00000000000a' $$,
    'ann''s messages are invisible to bob'
);

-- ================================================================= anon

select tests.authenticate_as_anon();

select throws_ok(
    'select * from public.coach_conversations',
    '42501', 'permission denied for table coach_conversations',
    'anon cannot read coach_conversations'
);
select throws_ok(
    'select * from public.coach_messages',
    '42501', 'permission denied for table coach_messages',
    'anon cannot read coach_messages'
);

-- ============================================================= postgres

select tests.clear_authentication();

update public.coach_conversations set updated_at = timestamptz '2000-01-01 00:00:00+00'
where id = '60000000-0000-4000-8000-000000000002';
select is(
    (
        select updated_at from public.coach_conversations
        where id = '60000000-0000-4000-8000-000000000002'
    ),
    now(),
    'the updated_at trigger keeps coach_conversations.updated_at current'
);

-- Deleting a conversation deletes its messages.
select tests.authenticate_as('a0000000-0000-4000-8000-00000000000a');
select lives_ok(
    $$ delete from public.coach_conversations where id = '60000000-0000-4000-8000-000000000001' $$,
    'ann deletes her conversation'
);
select tests.clear_authentication();
select is(
    (
        select count(*)::int from public.coach_messages
        where conversation_id = '60000000-0000-4000-8000-000000000001'
    ),
    0,
    'deleting a conversation deletes its messages (on delete cascade)'
);

-- Deleting a user deletes their conversations and messages, nobody else's.
insert into public.coach_messages (conversation_id, user_id, role, content)
select
    c.id,
    c.user_id,
    'user' as role,
    'Still here' as content
from public.coach_conversations as c
where c.user_id = 'a0000000-0000-4000-8000-00000000000a';
select is(
    (
        select count(*)::int from public.coach_messages
        where user_id = 'a0000000-0000-4000-8000-00000000000a'
    ),
    1,
    'precondition: ann has a message in her remaining conversation'
);
delete from auth.users
where id = 'a0000000-0000-4000-8000-00000000000a';
select results_eq(
    $$ select (select count(*)::int from public.coach_conversations
               where user_id = 'a0000000-0000-4000-8000-00000000000a'),
              (select count(*)::int from public.coach_messages
               where user_id = 'a0000000-0000-4000-8000-00000000000a') $$,
    $$ values (0, 0) $$,
    'deleting a user deletes their conversations and messages'
);
select results_eq(
    $$ select (select count(*)::int from public.coach_conversations
               where user_id = 'b0000000-0000-4000-8000-00000000000b'),
              (select count(*)::int from public.coach_messages
               where user_id = 'b0000000-0000-4000-8000-00000000000b') $$,
    $$ values (1, 1) $$,
    'bob''s conversation and message survive the deletion of ann'
);

-- =============================================================== fixture

select tests.create_user('d0000000-0000-4000-8000-00000000000d', 'dee@example.com');
create temporary table fixture_samples on commit drop as
select
    o.owner,
    s.table_name,
    s.sample
from (values ('b0000000-0000-4000-8000-00000000000b'::uuid), ('d0000000-0000-4000-8000-00000000000d'::uuid))
    as o (owner),
    lateral tests.seed_coach(o.owner) as s;
grant select on fixture_samples to service_role;

select set_eq(
    $$ select table_name, count(*)::int from fixture_samples group by table_name $$,
    $$ values ('coach_conversations'::text, 2), ('coach_messages'::text, 2) $$,
    'seed_coach returns one sample per coach table for each owner'
);
select is(
    (
        select count(*)::int from public.coach_conversations
        where user_id = 'd0000000-0000-4000-8000-00000000000d'
    ),
    1,
    'seed_coach seeded a conversation for the new owner'
);
select is(
    (
        select count(*)::int from fixture_samples
        where sample ->> 'user_id' = owner::text
    ),
    4,
    'every sample is owned by the owner it was seeded for'
);

select tests.authenticate_as_service_role();
select lives_ok(
    $$ do $insert_samples$
       declare
           r record;
           cols text;
       begin
           for r in select * from fixture_samples loop
               select string_agg(format('%I', k), ', ') into cols from jsonb_object_keys(r.sample) as k;
               execute format(
                   'insert into public.%I (%s) select %s from jsonb_populate_record(null::public.%I, $1)',
                   r.table_name, cols, cols, r.table_name
               ) using r.sample;
           end loop;
       end
       $insert_samples$ $$,
    'every sample inserts cleanly as the service role'
);
select tests.clear_authentication();

select finish();
rollback;
