-- redeem_consultation_key refuses a deleted account's token with 42501 (issue 9, fuzzing).
--
-- An access token stays valid for up to an hour after its account is deleted. With such a token
-- the RPC went on as for a user: its refusal path recorded the attempt in
-- private.consultation_key_attempts, whose foreign key to auth.users failed (23503), so the caller
-- got 409 with a message naming a private table and constraint instead of the documented 403.
--
-- The checked body stays where it is: it moves to private.redeem_consultation_key (same
-- definition, same owner, security definer; auth.uid() still reads the request's claims) and the
-- public RPC becomes a guard in front of it: no user, or a user that no longer exists → 42501.

alter function public.redeem_consultation_key(text) set schema private;

revoke execute on function private.redeem_consultation_key(text) from public, anon, authenticated;

create function public.redeem_consultation_key(key_code text) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
    if not exists (select from auth.users as u where u.id = auth.uid()) then
        raise exception 'redeem_consultation_key needs a signed-in user'
            using errcode = 'insufficient_privilege';
    end if;
    return private.redeem_consultation_key(key_code);
end;
$$;

comment on function public.redeem_consultation_key(text) is
'RPC: redeems a consultation key and starts a consultation session: {session_id, uses_remaining}. '
'A refusal answers a 4xx status with {"error": {code, message, details}}; 10 refusals an hour at most. '
'A token without a user, or of a deleted account: 42501 (403).';

comment on function private.redeem_consultation_key(text) is
'The body of public.redeem_consultation_key, which calls it once the caller is known to exist.';

revoke execute on function public.redeem_consultation_key(text) from public, anon;
grant execute on function public.redeem_consultation_key(text) to authenticated;
