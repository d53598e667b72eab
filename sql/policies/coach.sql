-- RLS policies for the coach subsystem (repeatable). Deny by default: RLS is
-- enabled in the migration. A signed-in user reads, creates, edits and
-- deletes their own conversations, and reads and appends their own messages.

-- ---------------------------------------------------- coach_conversations ---

drop policy if exists coach_conversations_select_own on public.coach_conversations;
create policy coach_conversations_select_own on public.coach_conversations
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists coach_conversations_insert_own on public.coach_conversations;
create policy coach_conversations_insert_own on public.coach_conversations
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists coach_conversations_update_own on public.coach_conversations;
create policy coach_conversations_update_own on public.coach_conversations
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists coach_conversations_delete_own on public.coach_conversations;
create policy coach_conversations_delete_own on public.coach_conversations
for delete to authenticated
using (user_id = (select auth.uid()));

-- --------------------------------------------------------- coach_messages ---

drop policy if exists coach_messages_select_own on public.coach_messages;
create policy coach_messages_select_own on public.coach_messages
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists coach_messages_insert_own on public.coach_messages;
create policy coach_messages_insert_own on public.coach_messages
for insert to authenticated
with check (user_id = (select auth.uid()));
