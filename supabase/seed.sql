-- Local and demo data (never needed in production). Idempotent: safe to
-- re-apply. Reference data ships in migrations, not here.

-- The demo user `make dev` prints a token for; signup creates its profile.
insert into auth.users (
    instance_id, id, aud, role, email, email_confirmed_at,
    raw_app_meta_data, raw_user_meta_data, created_at, updated_at
)
values (
    '00000000-0000-0000-0000-000000000000',
    'd3b07384-d9a0-4c9b-8f6a-5e1f2c3a4b5d',
    'authenticated',
    'authenticated',
    'demo@sharpened.local',
    now(),
    '{"provider": "email", "providers": ["email"]}',
    '{"display_name": "Demo Athlete"}',
    now(),
    now()
)
on conflict (id) do nothing;
