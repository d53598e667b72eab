-- Consultation keys: redemption by a signed-in user (one RPC), throttling of
-- failed attempts, and minting by the service role.
--
-- Refusals do not raise: a raised exception would roll back the record of the
-- failed attempt that throttling counts. Instead the RPC records the attempt,
-- sets PostgREST's response.status (the client gets that HTTP status and the
-- function's body, and the transaction commits) and returns
-- {"error": {"code", "message", "details"}}, the shape the Python functions
-- answer with. Only a call without a signed-in user raises (42501).
-- The contract is docs/api.md (draft: docs/api-drafts/consultation_rpc.md).

-- ------------------------------------------------------------- attempts ---

create table private.consultation_key_attempts (
    id bigint generated always as identity primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    attempted_at timestamptz not null default now(),
    outcome text not null check (
        outcome in (
            'redeemed', 'invalid_key_code', 'consultation_in_progress', 'key_not_found',
            'key_inactive', 'key_expired', 'key_not_assigned_to_you', 'key_exhausted'
        )
    )
);

comment on table private.consultation_key_attempts is
'Redemption attempts per user (successes and counted refusals; throttled calls are not stored): '
'the throttle counts the refusals of the last hour. Written only by redeem_consultation_key.';
comment on column private.consultation_key_attempts.outcome is
'redeemed, or the stable code of the refusal.';

-- The throttle query: one user's attempts of the last hour (also covers the foreign key).
create index consultation_key_attempts_user_id_attempted_at_idx
on private.consultation_key_attempts (user_id, attempted_at);

revoke all on private.consultation_key_attempts from public, anon, authenticated, service_role;

-- -------------------------------------------------------------- helpers ---

create or replace function private.request_headers() returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
    raw text := nullif(pg_catalog.current_setting('request.headers', true), '');
    parsed jsonb;
begin
    if raw is null then
        return '{}'::jsonb;
    end if;
    begin
        parsed := raw::jsonb;
    exception when data_exception then
        return '{}'::jsonb;
    end;
    if pg_catalog.jsonb_typeof(parsed) <> 'object' then
        return '{}'::jsonb;
    end if;
    return parsed;
end;
$$;

comment on function private.request_headers() is
'The request headers PostgREST set for this transaction (lower-cased names) as a JSON object; '
'{} when absent or malformed.';

create or replace function private.parse_ip_address(value text) returns inet
language plpgsql
immutable
set search_path = ''
as $$
declare
    candidate text := pg_catalog.btrim(value);
    address inet;
begin
    if candidate is null or candidate = '' or pg_catalog.length(candidate) > 64 then
        return null;
    end if;
    -- Strip a port: "[2001:db8::1]:443" and "192.0.2.1:443".
    if candidate ~ '^\[[0-9A-Fa-f:.]+\](:[0-9]+)?$' then
        candidate := pg_catalog.substring(candidate, '^\[([0-9A-Fa-f:.]+)\]');
    elsif candidate ~ '^[0-9.]+:[0-9]+$' then
        candidate := pg_catalog.split_part(candidate, ':', 1);
    end if;
    -- A bare host address only: no netmask, zone id, name or garbage.
    if candidate !~ '^[0-9A-Fa-f:.]+$' then
        return null;
    end if;
    begin
        address := candidate::inet;
    exception when data_exception then
        return null;
    end;
    return address;
end;
$$;

comment on function private.parse_ip_address(text) is
'A header value as a host address (an optional port is dropped); NULL when it is not one, never an error.';

create or replace function private.key_redemption_refusal(
    user_id uuid,
    code text,
    http_status integer,
    message text,
    details jsonb default '{}'::jsonb,
    counted boolean default true
) returns jsonb
language plpgsql
set search_path = ''
as $$
begin
    if counted then
        insert into private.consultation_key_attempts (user_id, outcome)
        values (key_redemption_refusal.user_id, key_redemption_refusal.code);
    end if;
    perform pg_catalog.set_config('response.status', http_status::text, true);
    return pg_catalog.jsonb_build_object(
        'error',
        pg_catalog.jsonb_build_object(
            'code', key_redemption_refusal.code,
            'message', key_redemption_refusal.message,
            'details', coalesce(key_redemption_refusal.details, '{}'::jsonb)
        )
    );
end;
$$;

comment on function private.key_redemption_refusal(uuid, text, integer, text, jsonb, boolean) is
'A refusal of redeem_consultation_key: records the failed attempt (when counted), sets '
'response.status and returns the error body {"error": {code, message, details}}.';

-- ----------------------------------------------------------- redemption ---

create or replace function public.redeem_consultation_key(key_code text) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    max_failed_attempts constant integer := 10;
    throttle_window constant interval := interval '1 hour';
    caller uuid := auth.uid();
    code text;
    failures integer;
    retry_after integer;
    active_session_id uuid;
    consultation_key public.consultation_keys;
    new_session_id uuid;
    headers jsonb;
begin
    if caller is null then
        raise exception 'redeem_consultation_key needs a signed-in user'
            using errcode = 'insufficient_privilege';
    end if;

    -- One redemption at a time per user, so that the throttle count and the
    -- one-consultation-in-progress check cannot be raced by parallel calls.
    perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtext('public.redeem_consultation_key'), pg_catalog.hashtext(caller::text)
    );

    -- Throttle: at most 10 refusals per rolling hour; the next call is refused
    -- (not counted, not stored) until the oldest of them leaves the window.
    select count(*)::integer into failures
    from private.consultation_key_attempts as a
    where
        a.user_id = caller
        and a.outcome <> 'redeemed'
        and a.attempted_at > pg_catalog.now() - throttle_window;
    if failures >= max_failed_attempts then
        select pg_catalog.ceil(
            extract(epoch from a.attempted_at + throttle_window - pg_catalog.now())
        )::integer into retry_after
        from private.consultation_key_attempts as a
        where
            a.user_id = caller
            and a.outcome <> 'redeemed'
            and a.attempted_at > pg_catalog.now() - throttle_window
        order by a.attempted_at desc
        offset max_failed_attempts - 1 limit 1;
        retry_after := greatest(retry_after, 1);
        perform pg_catalog.set_config(
            'response.headers',
            pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('Retry-After', retry_after::text))::text,
            true
        );
        return private.key_redemption_refusal(
            caller, 'too_many_attempts', 429,
            pg_catalog.format(
                'too many failed attempts to redeem a consultation key; try again in %s minute(s)',
                pg_catalog.ceil(retry_after / 60.0)
            ),
            pg_catalog.jsonb_build_object(
                'max_failed_attempts', max_failed_attempts,
                'window_seconds', extract(epoch from throttle_window)::integer,
                'retry_after_seconds', retry_after
            ),
            counted => false
        );
    end if;

    -- The code (at most 64 characters): case and surrounding white space do not matter.
    if pg_catalog.length(key_code) > 64 then
        return private.key_redemption_refusal(
            caller, 'invalid_key_code', 400, 'key_code is too long (at most 64 characters)',
            '{"expected_format": "SHARP-YYYY-XXXXXXXXX"}'::jsonb
        );
    end if;
    code := pg_catalog.upper(pg_catalog.btrim(key_code, e' \t\r\n'));
    if code is null or code = '' then
        return private.key_redemption_refusal(
            caller, 'invalid_key_code', 400, 'key_code is required',
            '{"expected_format": "SHARP-YYYY-XXXXXXXXX"}'::jsonb
        );
    end if;
    if code !~ '^SHARP-[0-9]{4}-[A-Z0-9]{9}$' then
        return private.key_redemption_refusal(
            caller, 'invalid_key_code', 400, 'key_code must have the form SHARP-YYYY-XXXXXXXXX',
            '{"expected_format": "SHARP-YYYY-XXXXXXXXX"}'::jsonb
        );
    end if;

    -- A user has at most one consultation in progress (checked before the key,
    -- so that a key is neither locked nor probed for nothing).
    select s.id into active_session_id
    from public.consultation_sessions as s
    where s.user_id = caller and s.status = 'active';
    if active_session_id is not null then
        return private.key_redemption_refusal(
            caller, 'consultation_in_progress', 409,
            'you already have a consultation in progress; finish it before redeeming another key',
            pg_catalog.jsonb_build_object('session_id', active_session_id)
        );
    end if;

    -- The key, locked until commit: concurrent redemptions of one key queue here.
    select * into consultation_key
    from public.consultation_keys as k
    where k.key_code = code
    for update;
    if not found then
        return private.key_redemption_refusal(
            caller, 'key_not_found', 404, 'no consultation key has this code'
        );
    end if;
    if not consultation_key.is_active then
        return private.key_redemption_refusal(
            caller, 'key_inactive', 403, 'this consultation key has been deactivated'
        );
    end if;
    if consultation_key.expires_at <= pg_catalog.now() then
        return private.key_redemption_refusal(
            caller, 'key_expired', 410, 'this consultation key has expired',
            pg_catalog.jsonb_build_object('expired_at', consultation_key.expires_at)
        );
    end if;
    if consultation_key.assigned_to_user_id <> caller then
        return private.key_redemption_refusal(
            caller, 'key_not_assigned_to_you', 403, 'this consultation key is assigned to another user'
        );
    end if;
    if consultation_key.current_uses >= consultation_key.max_uses then
        return private.key_redemption_refusal(
            caller, 'key_exhausted', 410, 'this consultation key has no uses left',
            pg_catalog.jsonb_build_object('max_uses', consultation_key.max_uses)
        );
    end if;

    -- Redeem. last_used_at never goes backwards (a transaction that waited for
    -- the lock may have started before the one that used the key last).
    update public.consultation_keys as k
    set
        current_uses = k.current_uses + 1,
        first_used_at = coalesce(k.first_used_at, pg_catalog.now()),
        last_used_at = greatest(k.last_used_at, pg_catalog.now())
    where k.id = consultation_key.id
    returning * into consultation_key;

    insert into public.consultation_sessions (user_id, key_id)
    values (caller, consultation_key.id)
    returning id into new_session_id;

    headers := private.request_headers();
    insert into public.consultation_key_usage (key_id, user_id, session_id, ip_address, user_agent)
    values (
        consultation_key.id,
        caller,
        new_session_id,
        coalesce(
            private.parse_ip_address(pg_catalog.split_part(headers ->> 'x-forwarded-for', ',', 1)),
            private.parse_ip_address(headers ->> 'x-real-ip')
        ),
        nullif(pg_catalog.left(pg_catalog.btrim(headers ->> 'user-agent'), 512), '')
    );

    insert into private.consultation_key_attempts (user_id, outcome)
    values (caller, 'redeemed');

    return pg_catalog.jsonb_build_object(
        'session_id', new_session_id,
        'uses_remaining', consultation_key.max_uses - consultation_key.current_uses
    );
end;
$$;

comment on function public.redeem_consultation_key(text) is
'RPC: redeems a consultation key and starts a consultation session: {session_id, uses_remaining}. '
'A refusal answers a 4xx status with {"error": {code, message, details}}; 10 refusals an hour at most.';

revoke execute on function public.redeem_consultation_key(text) from public, anon;
grant execute on function public.redeem_consultation_key(text) to authenticated;

-- -------------------------------------------------------------- minting ---

create or replace function private.generate_consultation_key_code() returns text
language sql
volatile
set search_path = ''
as $$
    -- 9 characters from a 32-symbol alphabet without 0, O, 1 and I; 32 divides
    -- 256, so every byte maps to a symbol without bias (45 bits per code).
    select
        'SHARP-'
        || pg_catalog.to_char(pg_catalog.now() at time zone 'UTC', 'YYYY')
        || '-'
        || pg_catalog.string_agg(
            pg_catalog.substr('23456789ABCDEFGHJKLMNPQRSTUVWXYZ', pg_catalog.get_byte(r.bytes, i.n) % 32 + 1, 1),
            '' order by i.n
        )
    from extensions.gen_random_bytes(9) as r (bytes)
    cross join pg_catalog.generate_series(0, 8) as i (n)
$$;

comment on function private.generate_consultation_key_code() is
'A new random key code SHARP-YYYY-XXXXXXXXX (current UTC year; CSPRNG, unambiguous alphabet).';

create or replace function public.mint_consultation_keys(
    how_many integer,
    max_uses integer default 1,
    expires_at timestamptz default null,
    assigned_to uuid default null
) returns setof public.consultation_keys
language plpgsql
security definer
set search_path = ''
as $$
declare
    minted public.consultation_keys;
    tries integer;
begin
    if how_many is null or how_many not between 1 and 10000 then
        raise exception 'how_many must be between 1 and 10000 (got %)', how_many
            using errcode = 'invalid_parameter_value';
    end if;
    if max_uses is null or max_uses not between 1 and 100000 then
        raise exception 'max_uses must be between 1 and 100000 (got %)', max_uses
            using errcode = 'invalid_parameter_value';
    end if;
    if expires_at <= pg_catalog.now() then
        raise exception 'expires_at must be in the future (got %)', expires_at
            using errcode = 'invalid_parameter_value';
    end if;
    if assigned_to is not null and not exists (select from auth.users as u where u.id = assigned_to) then
        raise exception 'no user with id %', assigned_to
            using errcode = 'invalid_parameter_value';
    end if;

    for i in 1..how_many loop
        tries := 0;
        loop
            -- A collision (45 random bits) is unlikely but possible: draw again.
            insert into public.consultation_keys (key_code, max_uses, expires_at, assigned_to_user_id)
            values (
                private.generate_consultation_key_code(),
                mint_consultation_keys.max_uses,
                mint_consultation_keys.expires_at,
                mint_consultation_keys.assigned_to
            )
            on conflict on constraint consultation_keys_key_code_key do nothing
            returning * into minted;
            exit when found;
            tries := tries + 1;
            if tries >= 10 then
                raise exception 'could not draw an unused key code after 10 tries'
                    using errcode = 'unique_violation';
            end if;
        end loop;
        return next minted;
    end loop;
end;
$$;

comment on function public.mint_consultation_keys(integer, integer, timestamptz, uuid) is
'Service role only: creates how_many new consultation keys (random codes, max_uses each, optional '
'expiry and assigned user) and returns them.';

revoke execute on function private.generate_consultation_key_code() from public, anon, authenticated;
revoke execute on function public.mint_consultation_keys(integer, integer, timestamptz, uuid)
from public, anon, authenticated;
grant execute on function public.mint_consultation_keys(integer, integer, timestamptz, uuid) to service_role;
