-- Daily adaptation (issue 7, DOMAIN §7): the day's context log, with recent adherence, becomes at
-- most one open day override per user and date, which the user approves, rejects or undoes, or
-- which applies itself after a grace period.
--
--   * private.propose_day_override(user, date): the analysis. Every §7 trigger (poor sleep, high
--     stress, high soreness, injury, missed workout, 7-day adherence from adherence_daily) with its
--     severity, split into a training part and a nutrition part; each part is kept or dropped by
--     the user's adjustment preferences (DOMAIN defaults without a row); the kept parts combine
--     (volume multiplicatively, kcal additively) and are capped (volume 0.5-1.0, kcal +-500, the
--     floor, TDEE + 500). One row per override, so a part the user wants to be asked about makes
--     the whole override wait for approval ("ask" wins over "auto_apply").
--   * private.refresh_day_override(user, date): runs by trigger after every change of
--     user_context_log and reconciles the open override with the analysis (kept, revised in
--     place, withdrawn, or undone and replaced); a changed adjustment preference re-analyses the
--     user's logged days from today on that have nothing applied.
--   * The state machine: pending -> approved | rejected (the user), pending -> auto_applied (pg_cron,
--     120 minutes after the proposal), pending -> withdrawn (the analysis), approved | auto_applied
--     -> undone (the user within 24 h, or the analysis). private.move_override makes every move,
--     records it in day_override_transitions and notifies the user; a trigger refuses any other
--     status change, whoever writes the row. Clients call approve_adjustment, reject_adjustment
--     and undo_adjustment.
--   * The plan a client reads: calendar_day shows the day's open override and the plan adjusted by
--     an active one (sets, RIR, %1RM); its meal targets and the targets of nutrition_day and
--     nutrition_today include the day's kcal change in force (public.day_kcal_adjustment, the one
--     place that says what it is).

-- ---------------------------------------------------------- day_overrides ---

alter table public.day_overrides
drop constraint day_overrides_status_check,
add constraint day_overrides_status_check check (
    status in ('pending', 'approved', 'rejected', 'auto_applied', 'undone', 'withdrawn')
),
drop constraint day_overrides_status_timestamps,
add constraint day_overrides_status_timestamps check (
    case status
        when 'pending' then applied_at is null and decided_at is null
        when 'approved' then decided_at is not null
        when 'rejected' then decided_at is not null and applied_at is null
        when 'auto_applied' then applied_at is not null
        when 'undone' then applied_at is not null
        when 'withdrawn' then decided_at is not null and applied_at is null
    end
),
add column approval text not null default 'ask' check (approval in ('auto_apply', 'ask')),
add column triggers jsonb not null default '[]' check (jsonb_typeof(triggers) = 'array'),
-- For the composite foreign key of day_override_transitions.
add constraint day_overrides_id_user_id_key unique (id, user_id);

comment on column public.day_overrides.status is
'pending (waiting for approval or its grace period), approved, rejected, auto_applied, undone, withdrawn '
'(the context log changed and no longer calls for it); at most one of pending/approved/auto_applied per '
'user and date.';
comment on column public.day_overrides.approval is
'auto_apply: applies itself when apply_after passes unless rejected; ask: waits for approve_adjustment. '
'ask when any kept part''s preference is ask.';
comment on column public.day_overrides.triggers is
'The reasons with their DOMAIN §7 severity and the mode each part was kept with: '
'[{"trigger", "severity", "training": mode or null, "nutrition": mode or null}] (null: no such part, or '
'nothing to adjust that day).';
comment on column public.day_overrides.modifications is
'The change as a JSON object (keys present only when a part asks for them): volume_multiplier 0.5-1.0 '
'(sets x it), intensity_multiplier (%1RM x it), rir_delta (reps in reserve +), set_delta (sets per '
'exercise +, at least 1 set left), replace_session (''mobility'': the day''s sessions become mobility '
'or rest), kcal_delta -500..500 (the day''s target kcal +, taken from or given to carbs) and '
'carbs_delta_g.';

-- The auto-apply job looks for due overrides only.
create index day_overrides_due_idx on public.day_overrides (apply_after)
where status = 'pending' and approval = 'auto_apply';

-- ----------------------------------------------- day_override_transitions ---

create table public.day_override_transitions (
    id uuid primary key default gen_random_uuid(),
    override_id uuid not null,
    user_id uuid not null references auth.users (id) on delete cascade,
    from_status text check (
        from_status in ('pending', 'approved', 'rejected', 'auto_applied', 'undone', 'withdrawn')
    ),
    to_status text not null check (
        to_status in ('pending', 'approved', 'rejected', 'auto_applied', 'undone', 'withdrawn')
    ),
    actor text not null check (actor in ('user', 'system')),
    -- The clock, not the transaction's start: moves made in one transaction keep their order.
    created_at timestamptz not null default clock_timestamp(),
    updated_at timestamptz not null default clock_timestamp(),
    constraint day_override_transitions_override_fkey foreign key (override_id, user_id)
    references public.day_overrides (id, user_id) on delete cascade
);

comment on table public.day_override_transitions is
'Every status change of a day override: from (NULL when proposed), to, who (the user or the system: '
'analysis and pending -> pending for a revised proposal, auto-apply job) and when. Written by '
'private.move_override; the owner reads it.';

create index day_override_transitions_override_id_user_id_idx
on public.day_override_transitions (override_id, user_id);
create index day_override_transitions_user_id_idx on public.day_override_transitions (user_id);

create trigger day_override_transitions_set_updated_at
before update on public.day_override_transitions
for each row execute function private.set_updated_at();

alter table public.day_override_transitions enable row level security;

revoke all on public.day_override_transitions from anon, authenticated;
grant select on public.day_override_transitions to authenticated;
grant select, insert, update, delete on public.day_override_transitions to service_role;

-- ---------------------------------------------------------- notifications ---

alter table public.notifications
drop constraint notifications_kind_check,
add constraint notifications_kind_check check (
    kind in (
        'adjustment_pending', 'adjustment_applied', 'adjustment_rejected', 'adjustment_undone',
        'adjustment_withdrawn', 'reassessment', 'program_ready', 'system'
    )
);

comment on column public.notifications.kind is
'adjustment_pending, adjustment_applied, adjustment_rejected, adjustment_undone, adjustment_withdrawn, '
'reassessment, program_ready, system.';

create index notifications_ref_id_idx on public.notifications (ref_id) where ref_id is not null;

-- ------------------------------------------------------------ preferences ---

create function private.adjustment_mode(user_id uuid, trigger text, domain text)
returns text
language plpgsql
stable
set search_path = ''
as $$
begin
    return coalesce(
        (
            select ap.mode
            from public.adjustment_preferences as ap
            where
                ap.user_id = adjustment_mode.user_id
                and ap.trigger = adjustment_mode.trigger
                and ap.domain = adjustment_mode.domain
        ),
        -- DOMAIN §7 defaults (training / nutrition).
        case adjustment_mode.trigger || '/' || adjustment_mode.domain
            when 'poor_sleep/training' then 'auto_apply'
            when 'poor_sleep/nutrition' then 'auto_apply'
            when 'high_stress/training' then 'auto_apply'
            when 'high_stress/nutrition' then 'ask'
            when 'high_soreness/training' then 'auto_apply'
            when 'high_soreness/nutrition' then 'disable'
            when 'injury/training' then 'ask'
            when 'injury/nutrition' then 'disable'
            when 'missed_workout/training' then 'disable'
            when 'missed_workout/nutrition' then 'auto_apply'
            when 'low_adherence/training' then 'ask'
            when 'low_adherence/nutrition' then 'ask'
            when 'high_adherence/training' then 'auto_apply'
            when 'high_adherence/nutrition' then 'auto_apply'
        end
    );
end;
$$;

comment on function private.adjustment_mode(uuid, text, text) is
'The user''s mode (auto_apply, ask, disable) for a daily-adjustment trigger and domain: their '
'adjustment_preferences row, else the DOMAIN §7 default.';

-- --------------------------------------------------------------- analysis ---

create function private.propose_day_override(user_id uuid, day date, as_of timestamptz)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
    uid constant uuid := propose_day_override.user_id;
    entry public.user_context_log;
    program uuid;
    has_session boolean;
    day_kcal numeric;
    floor_kcal numeric;
    tdee numeric;
    adherence numeric;
    severities jsonb := '{}'::jsonb;
    trigger_name text;
    severity numeric;
    training text;
    nutrition text;
    reasons text[] := '{}'::text[];
    details jsonb := '[]'::jsonb;
    sentences text[] := '{}'::text[];
    effects text[];
    volume numeric;
    intensity numeric;
    rir_delta integer;
    set_delta integer;
    replacement text;
    kcal numeric;
    capped_kcal numeric;
    asks boolean := false;
    top_severity numeric := 0;
begin
    select c.* into entry
    from public.user_context_log as c
    where c.user_id = uid and c.date = propose_day_override.day;
    if not found or propose_day_override.day < private.user_local_date(uid, as_of) then
        return null;
    end if;
    program := private.program_in_force(uid, propose_day_override.day);
    if program is null then
        return null;
    end if;

    -- What the day plans: a session to adjust, meals (their kcal) to adjust.
    select
        coalesce(bool_or(s.session_kind <> 'rest'), false),
        sum((mi.targets ->> 'kcal')::numeric)
    into has_session, day_kcal
    from public.calendar_events as ce
    left join public.session_instances as s
        on ce.ref_table = 'session_instances' and ce.ref_id = s.id
    left join public.meal_instances as mi
        on ce.ref_table = 'meal_instances' and ce.ref_id = mi.id
    where ce.user_id = uid and ce.date = propose_day_override.day and ce.program_id = program;
    -- The day's kcal in force before any override of its own: the changes of the whole program
    -- (public.day_kcal_adjustment) less the day's active override, which is being re-analysed.
    day_kcal := day_kcal + public.day_kcal_adjustment(uid, propose_day_override.day) - coalesce(
        (
            select (o.modifications ->> 'kcal_delta')::numeric
            from public.day_overrides as o
            where
                o.user_id = uid
                and o.date = propose_day_override.day
                and o.status in ('approved', 'auto_applied')
        ),
        0
    );

    -- The triggers that fire, with their severity (DOMAIN §7).
    if entry.sleep_hours < 6 or entry.sleep_quality < 5 then
        severities := severities || jsonb_build_object(
            'poor_sleep', greatest(
                case when entry.sleep_hours < 6 then least(10, (6 - entry.sleep_hours) * 2) end,
                case when entry.sleep_quality < 5 then 5 end
            )
        );
    end if;
    if entry.stress_level > 7 then
        severities := severities || jsonb_build_object('high_stress', entry.stress_level);
    end if;
    if entry.soreness_level > 7 then
        severities := severities || jsonb_build_object('high_soreness', entry.soreness_level);
    end if;
    if entry.injury_notes is not null then
        severities := severities || jsonb_build_object('injury', 9);
    end if;
    if exists (
        select
        from public.calendar_events as ce
        inner join public.session_instances as s on ce.ref_id = s.id and ce.user_id = s.user_id
        where
            ce.user_id = uid
            and ce.date = propose_day_override.day - 1
            and ce.event_type = 'training'
            and s.session_kind <> 'rest'
            and ce.program_id = private.program_in_force(uid, propose_day_override.day - 1)
            and (
                ce.status = 'skipped'
                or (
                    ce.status = 'planned'
                    and propose_day_override.day - 1 < private.user_local_date(uid, as_of)
                )
            )
    ) then
        severities := severities || jsonb_build_object('missed_workout', 6);
    end if;
    select
        100 * (sum(a.completed_items) + 0.75 * sum(a.similar_items) + 0.4 * sum(a.partial_items))
        / nullif(sum(a.completed_items + a.similar_items + a.partial_items + a.skipped_items), 0)
    into adherence
    from public.adherence_daily as a
    where
        a.user_id = uid
        and a.date between propose_day_override.day - 7 and propose_day_override.day - 1;
    if adherence < 50 then
        severities := severities || jsonb_build_object('low_adherence', 6);
    elsif adherence > 95 then
        severities := severities || jsonb_build_object('high_adherence', 3);
    end if;

    -- Each trigger's training and nutrition parts, kept by the user's preferences when there is
    -- something of that kind to adjust, combined (volume x, kcal +).
    foreach trigger_name in array array[
        'poor_sleep', 'high_stress', 'high_soreness', 'injury', 'missed_workout', 'low_adherence',
        'high_adherence'
    ] loop
        continue when not severities ? trigger_name;
        severity := (severities ->> trigger_name)::numeric;
        training := case
            when has_session and trigger_name in (
                'poor_sleep', 'high_stress', 'high_soreness', 'injury', 'low_adherence'
            ) then nullif(private.adjustment_mode(uid, trigger_name, 'training'), 'disable')
        end;
        nutrition := case
            when day_kcal is not null and trigger_name in (
                'high_stress', 'missed_workout', 'high_adherence'
            ) then nullif(private.adjustment_mode(uid, trigger_name, 'nutrition'), 'disable')
        end;
        continue when training is null and nutrition is null;

        effects := '{}'::text[];
        case trigger_name
            when 'poor_sleep' then
                volume := coalesce(volume, 1) * (1 - least(0.3, severity / 50));
                intensity := 0.9;
                effects := array[format(
                    'training volume x%s and intensity x0.9',
                    trim_scale(round(1 - least(0.3, severity / 50), 3))
                )];
            when 'high_stress' then
                if training is not null then
                    volume := coalesce(volume, 1) * 0.85;
                    effects := effects || 'training volume x0.85'::text;
                end if;
                if nutrition is not null then
                    kcal := coalesce(kcal, 0) + 150;
                    effects := effects || '+150 kcal'::text;
                end if;
            when 'high_soreness' then
                volume := coalesce(volume, 1) * 0.75;
                rir_delta := 1;
                effects := array['training volume x0.75 and one more rep in reserve'];
            when 'injury' then
                replacement := 'mobility';
                effects := array['today''s session becomes mobility work or rest; spare the injured area'];
            when 'missed_workout' then
                kcal := coalesce(kcal, 0) - least(400, 40 * severity);
                effects := array[format('%s kcal', -least(400, 40 * severity))];
            when 'low_adherence' then
                set_delta := -1;
                effects := array['one set fewer per exercise to keep it simple'];
            when 'high_adherence' then
                kcal := coalesce(kcal, 0) + 200;
                effects := array['+200 kcal from carbs'];
        end case;

        reasons := reasons || trigger_name;
        details := details || jsonb_build_array(jsonb_build_object(
            'trigger', trigger_name, 'severity', severity, 'training', training,
            'nutrition', nutrition
        ));
        asks := asks or training is not distinct from 'ask' or nutrition is not distinct from 'ask';
        top_severity := greatest(top_severity, severity);
        sentences := sentences || format(
            '%s: %s.',
            case trigger_name
                when 'poor_sleep' then format(
                    'Poor sleep (%s)',
                    concat_ws(
                        ', ',
                        entry.sleep_hours || ' h',
                        'quality ' || entry.sleep_quality || '/10'
                    )
                )
                when 'high_stress' then format('High stress (%s/10)', entry.stress_level)
                when 'high_soreness' then format('High soreness (%s/10)', entry.soreness_level)
                when 'injury' then format('Injury noted ("%s")', left(entry.injury_notes, 200))
                when 'missed_workout' then 'Yesterday''s session was missed'
                when 'low_adherence' then format('7-day adherence %s %%', round(adherence))
                else format('7-day adherence %s %%', round(adherence))
            end,
            array_to_string(effects, ', ')
        );
    end loop;

    if cardinality(reasons) = 0 then
        return null;
    end if;

    -- Caps: +-500 kcal, then the floor (a cut) and TDEE + 500 (a raise), never turning a change
    -- around; truncated toward zero to 10 kcal.
    if kcal is not null then
        select case p.sex when 'female' then 1200 else 1500 end into floor_kcal
        from public.profiles as p
        where p.id = uid;
        floor_kcal := coalesce(floor_kcal, 1500);
        select (p.tdee ->> 'tdee_kcal_rounded')::numeric into tdee
        from public.programs as p
        where p.id = program;
        capped_kcal := greatest(-500, least(500, kcal));
        if capped_kcal < 0 then
            capped_kcal := least(0, greatest(capped_kcal, floor_kcal - day_kcal));
        elsif capped_kcal > 0 and tdee is not null then
            capped_kcal := greatest(0, least(capped_kcal, tdee + 500 - day_kcal));
        end if;
        capped_kcal := trunc(capped_kcal / 10) * 10;
        if capped_kcal <> kcal then
            sentences := sentences || format(
                'The calorie change is capped at %s kcal (at most 500 kcal a day, never below %s kcal '
                'or above your TDEE + 500).',
                capped_kcal, floor_kcal
            );
        end if;
    end if;

    return jsonb_build_object(
        'program_id', program,
        'reason_codes', to_jsonb(reasons),
        'modifications', jsonb_strip_nulls(jsonb_build_object(
            'volume_multiplier', case when volume is not null then round(greatest(0.5, least(1, volume)), 3) end,
            'intensity_multiplier', intensity,
            'rir_delta', rir_delta,
            'set_delta', set_delta,
            'replace_session', replacement,
            'kcal_delta', capped_kcal,
            'carbs_delta_g', round(capped_kcal / 4)
        )),
        'approval', case when asks then 'ask' else 'auto_apply' end,
        'confidence', round(top_severity / 10, 3),
        'triggers', details,
        'explanation', array_to_string(
            sentences || case
                when asks then 'It waits for your approval.'::text
                else 'It applies by itself in 120 minutes unless you reject it.'::text
            end,
            ' '
        )
    );
end;
$$;

comment on function private.propose_day_override(uuid, date, timestamptz) is
'The DOMAIN §7 analysis of a user''s day from their context log of that day and their adherence of the '
'7 days before: {program_id, reason_codes, modifications, approval, confidence, triggers, explanation}, '
'or NULL when nothing is to change (no log, a past day, no program, no trigger, every part disabled or '
'with nothing to adjust).';

-- ------------------------------------------------------- state machine ---

-- Legal moves only, whoever writes the row (the RPCs and jobs below check first, with clearer
-- messages).
create function private.day_overrides_check_transition()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if (old.status, new.status) not in (
        ('pending', 'approved'), ('pending', 'rejected'), ('pending', 'auto_applied'),
        ('pending', 'withdrawn'), ('approved', 'undone'), ('auto_applied', 'undone')
    ) then
        raise exception using
            errcode = 'PT409',
            message = format('an adjustment that is %s cannot become %s', old.status, new.status);
    end if;
    return new;
end;
$$;

create trigger day_overrides_check_transition
before update of status on public.day_overrides
for each row when (old.status is distinct from new.status)
execute function private.day_overrides_check_transition();

-- The record and the notification of one move (from_status NULL: just proposed).
create function private.record_override_transition(
    override public.day_overrides, from_status text, actor text
)
returns void
language plpgsql
set search_path = ''
as $$
declare
    kind constant text := case override.status
        when 'pending' then 'adjustment_pending'
        when 'approved' then 'adjustment_applied'
        when 'auto_applied' then 'adjustment_applied'
        else 'adjustment_' || override.status
    end;
    day constant text := to_char(override.date, 'FMDay DD Mon');
begin
    insert into public.day_override_transitions (override_id, user_id, from_status, to_status, actor)
    values (override.id, override.user_id, from_status, override.status, actor);

    insert into public.notifications (user_id, kind, title, body, ref_table, ref_id, priority)
    values (
        override.user_id,
        kind,
        case
            when from_status = 'pending' and override.status = 'pending' then 'Adjustment revised for '
            when override.status = 'pending' then 'Adjustment proposed for '
            when override.status = 'approved' then 'Adjustment approved for '
            when override.status = 'auto_applied' then 'Adjustment applied for '
            when override.status = 'rejected' then 'Adjustment rejected for '
            when override.status = 'undone' then 'Adjustment undone for '
            else 'Adjustment withdrawn for '
        end || day,
        case override.status
            when 'withdrawn' then 'Your check-in no longer calls for it.'
            when 'undone' then 'Your day is back to the plan.'
            when 'rejected' then 'Your day stays as planned.'
            else override.explanation
        end,
        'day_overrides',
        override.id,
        case
            when actor = 'user' then 'low'
            when override.status = 'pending' and override.approval = 'ask' then 'high'
            else 'normal'
        end
    );
end;
$$;

create function private.move_override(
    override_id uuid, to_status text, actor text, as_of timestamptz
)
returns public.day_overrides
language plpgsql
set search_path = ''
as $$
declare
    before_status text;
    moved public.day_overrides;
begin
    select o.status into before_status
    from public.day_overrides as o
    where o.id = move_override.override_id
    for update;
    update public.day_overrides as o set
        status = to_status,
        applied_at = case when to_status in ('approved', 'auto_applied') then as_of else o.applied_at end,
        undo_until = case
            when to_status in ('approved', 'auto_applied') then as_of + interval '24 hours'
            else o.undo_until
        end,
        decided_at = case
            when to_status in ('approved', 'rejected', 'withdrawn', 'undone') then as_of
            else o.decided_at
        end
    where o.id = move_override.override_id
    returning o.* into moved;
    perform private.record_override_transition(moved, before_status, actor);
    return moved;
end;
$$;

comment on function private.move_override(uuid, text, text, timestamptz) is
'Moves a day override to to_status at as_of (its timestamps: applied_at and undo_until = +24 h when '
'applied, decided_at when decided), records the transition and notifies the user. Illegal moves are '
'refused by the day_overrides_check_transition trigger (PT409).';

-- ------------------------------------------------------ the analysis runs ---

create function private.refresh_day_override(user_id uuid, day date, as_of timestamptz)
returns void
language plpgsql
set search_path = ''
as $$
declare
    proposal constant jsonb := private.propose_day_override(user_id, day, as_of);
    open_override public.day_overrides;
    revised public.day_overrides;
begin
    -- A day that has passed keeps what it had: the analysis is about the days ahead.
    if day < private.user_local_date(user_id, as_of) then
        return;
    end if;
    select o.* into open_override
    from public.day_overrides as o
    where
        o.user_id = refresh_day_override.user_id
        and o.date = refresh_day_override.day
        and o.status in ('pending', 'approved', 'auto_applied')
    for update;

    if open_override.id is not null then
        if proposal is not null
            and to_jsonb(open_override.reason_codes) = proposal -> 'reason_codes'
            and open_override.modifications = proposal -> 'modifications'
            and open_override.approval = proposal ->> 'approval'
            and open_override.program_id = (proposal ->> 'program_id')::uuid then
            -- The same change: only the wording may have moved (e.g. quality 4 -> 3).
            update public.day_overrides as o set
                explanation = proposal ->> 'explanation',
                triggers = proposal -> 'triggers',
                confidence = (proposal ->> 'confidence')::numeric
            where
                o.id = open_override.id
                and (o.explanation, o.triggers, o.confidence) is distinct from (
                    proposal ->> 'explanation', proposal -> 'triggers', (proposal ->> 'confidence')::numeric
                );
            return;
        end if;
        if open_override.status = 'pending' and proposal is not null then
            update public.day_overrides as o set
                program_id = (proposal ->> 'program_id')::uuid,
                reason_codes = array(select jsonb_array_elements_text(proposal -> 'reason_codes')),
                modifications = proposal -> 'modifications',
                approval = proposal ->> 'approval',
                confidence = (proposal ->> 'confidence')::numeric,
                triggers = proposal -> 'triggers',
                explanation = proposal ->> 'explanation',
                -- The grace period starts again: the user has not seen this version yet.
                apply_after = case
                    when proposal ->> 'approval' = 'auto_apply' then as_of + interval '120 minutes'
                end
            where o.id = open_override.id
            returning o.* into revised;
            perform private.record_override_transition(revised, 'pending', 'system');
            return;
        end if;
        perform private.move_override(
            open_override.id,
            case open_override.status when 'pending' then 'withdrawn' else 'undone' end,
            'system',
            as_of
        );
    end if;

    if proposal is not null then
        insert into public.day_overrides (
            user_id, program_id, date, reason_codes, modifications, approval, confidence, triggers,
            explanation, apply_after
        )
        values (
            refresh_day_override.user_id,
            (proposal ->> 'program_id')::uuid,
            refresh_day_override.day,
            array(select jsonb_array_elements_text(proposal -> 'reason_codes')),
            proposal -> 'modifications',
            proposal ->> 'approval',
            (proposal ->> 'confidence')::numeric,
            proposal -> 'triggers',
            proposal ->> 'explanation',
            case when proposal ->> 'approval' = 'auto_apply' then as_of + interval '120 minutes' end
        )
        returning * into revised;
        perform private.record_override_transition(revised, null, 'system');
    end if;
end;
$$;

comment on function private.refresh_day_override(uuid, date, timestamptz) is
'Reconciles the user''s open override of a day from today on (a past day is left as it is) with '
'private.propose_day_override: the same change is '
'kept; a pending one is revised in place (its grace period restarts) or withdrawn; an applied one that '
'no longer matches is undone by the system; a new proposal is inserted as pending (apply_after = as_of '
'+ 120 min when auto_apply).';

create function private.user_context_log_adjust()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if tg_op in ('UPDATE', 'DELETE')
        and (tg_op = 'DELETE' or (old.user_id, old.date) is distinct from (new.user_id, new.date)) then
        perform private.refresh_day_override(old.user_id, old.date, now());
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        perform private.refresh_day_override(new.user_id, new.date, now());
    end if;
    return null;
end;
$$;

comment on function private.user_context_log_adjust() is
'After a context log is written or deleted: re-analyses its day (security definer: the owner cannot '
'write day_overrides themselves).';

create trigger user_context_log_adjust
after insert or update or delete on public.user_context_log
for each row execute function private.user_context_log_adjust();

-- A changed preference re-analyses the user's days from today on that have a context log and
-- nothing applied yet (an applied override stays until the user undoes it).
create function private.adjustment_preferences_adjust()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    uid constant uuid := coalesce(new.user_id, old.user_id);
    day date;
begin
    for day in
        select c.date
        from public.user_context_log as c
        where
            c.user_id = uid
            and c.date >= private.user_local_date(uid, now())
            and not exists (
                select
                from public.day_overrides as o
                where o.user_id = uid and o.date = c.date and o.status in ('approved', 'auto_applied')
            )
        order by c.date
    loop
        perform private.refresh_day_override(uid, day, now());
    end loop;
    return null;
end;
$$;

comment on function private.adjustment_preferences_adjust() is
'After a preference is written or deleted: re-analyses the user''s logged days from today on that have '
'no applied override (security definer, as private.user_context_log_adjust).';

create trigger adjustment_preferences_adjust
after insert or update or delete on public.adjustment_preferences
for each row execute function private.adjustment_preferences_adjust();

-- ------------------------------------------------------------------ RPCs ---

create function private.decide_adjustment(override_id uuid, to_status text)
returns public.day_overrides
language plpgsql
set search_path = ''
as $$
declare
    uid constant uuid := (select auth.uid());
    override public.day_overrides;
    moved public.day_overrides;
begin
    if uid is null then
        raise exception using errcode = '42501', message = 'sign in to decide on an adjustment';
    end if;
    select o.* into override
    from public.day_overrides as o
    where o.id = decide_adjustment.override_id and o.user_id = uid
    for update;
    if not found then
        raise exception using errcode = 'PT404', message = 'adjustment not found';
    end if;
    if to_status = 'undone' then
        if override.status not in ('approved', 'auto_applied') then
            raise exception using
                errcode = 'PT409',
                message = format('only an applied adjustment can be undone; this one is %s', override.status);
        end if;
        if now() > override.undo_until then
            raise exception using
                errcode = 'PT409',
                message = format('the undo window of this adjustment ended at %s', override.undo_until);
        end if;
    elsif override.status <> 'pending' then
        raise exception using
            errcode = 'PT409',
            message = format(
                'only a pending adjustment can be %s; this one is %s', to_status, override.status
            );
    end if;

    moved := private.move_override(override.id, to_status, 'user', now());
    -- The user answered the notifications about it.
    update public.notifications as n set
        action_taken = to_status,
        read_at = coalesce(n.read_at, now())
    where
        n.ref_id = override.id
        and n.ref_table = 'day_overrides'
        and n.user_id = uid
        and n.action_taken is null
        and n.kind in ('adjustment_pending', 'adjustment_applied');
    return moved;
end;
$$;

comment on function private.decide_adjustment(uuid, text) is
'The caller''s decision on their own day override (approved, rejected or undone): checks the state and '
'the undo window, moves it and marks the notifications about it as acted upon.';

create function public.approve_adjustment(override_id uuid)
returns public.day_overrides
language plpgsql
security definer
set search_path = ''
as $$
begin
    return private.decide_adjustment(approve_adjustment.override_id, 'approved');
end;
$$;

comment on function public.approve_adjustment(uuid) is
'Approves the caller''s pending day override: it applies now (undo_until = now + 24 h). Returns the row. '
'Errors: 42501 not signed in, PT404 not the caller''s override, PT409 not pending.';

create function public.reject_adjustment(override_id uuid)
returns public.day_overrides
language plpgsql
security definer
set search_path = ''
as $$
begin
    return private.decide_adjustment(reject_adjustment.override_id, 'rejected');
end;
$$;

comment on function public.reject_adjustment(uuid) is
'Rejects the caller''s pending day override (the day stays as planned). Returns the row. Errors: 42501 '
'not signed in, PT404 not the caller''s override, PT409 not pending.';

create function public.undo_adjustment(override_id uuid)
returns public.day_overrides
language plpgsql
security definer
set search_path = ''
as $$
begin
    return private.decide_adjustment(undo_adjustment.override_id, 'undone');
end;
$$;

comment on function public.undo_adjustment(uuid) is
'Undoes the caller''s applied (approved or auto_applied) day override within 24 h of its applying. '
'Returns the row. Errors: 42501 not signed in, PT404 not the caller''s override, PT409 not applied or '
'the undo window is over.';

-- -------------------------------------------------------------- auto-apply ---

create function private.apply_due_overrides(as_of timestamptz default now())
returns integer
language plpgsql
set search_path = ''
as $$
declare
    due uuid;
    applied integer := 0;
begin
    for due in
        select o.id
        from public.day_overrides as o
        where o.status = 'pending' and o.approval = 'auto_apply' and o.apply_after <= as_of
        order by o.apply_after
        for update skip locked
    loop
        perform private.move_override(due, 'auto_applied', 'system', as_of);
        applied := applied + 1;
    end loop;
    return applied;
end;
$$;

comment on function private.apply_due_overrides(timestamptz) is
'Applies the auto_apply overrides whose grace period has ended by as_of (pending -> auto_applied, '
'undo_until = as_of + 24 h). Returns how many. Run every 5 minutes by pg_cron (job '
'sharpened-apply-due-overrides) where pg_cron is installed.';

revoke execute on function private.adjustment_mode(uuid, text, text),
private.propose_day_override(uuid, date, timestamptz),
private.day_overrides_check_transition(),
private.record_override_transition(public.day_overrides, text, text),
private.move_override(uuid, text, text, timestamptz),
private.refresh_day_override(uuid, date, timestamptz),
private.user_context_log_adjust(),
private.adjustment_preferences_adjust(),
private.decide_adjustment(uuid, text),
private.apply_due_overrides(timestamptz)
from public, anon, authenticated;

revoke execute on function public.approve_adjustment(uuid), public.reject_adjustment(uuid),
public.undo_adjustment(uuid) from public, anon;
grant execute on function public.approve_adjustment(uuid), public.reject_adjustment(uuid),
public.undo_adjustment(uuid) to authenticated, service_role;

-- As sharpened-close-past-days: scheduled where pg_cron lives.
do $$
begin
    if pg_catalog.current_setting('cron.database_name', true) = pg_catalog.current_database()
        and exists (select from pg_catalog.pg_available_extensions where name = 'pg_cron') then
        create extension if not exists pg_cron;
        perform cron.schedule(
            'sharpened-apply-due-overrides', '*/5 * * * *', 'select private.apply_due_overrides()'
        );
    end if;
end;
$$;

-- ------------------------------------------------- the plan a client reads ---

-- The kcal change in force on a day, on top of the day's planned meals: the active override's
-- kcal_delta (reassessment changes join it later). The day views read it through this one
-- function; security invoker: RLS applies, so another user's id gives 0.
create function public.day_kcal_adjustment(user_id uuid, day date)
returns numeric
language sql
stable
set search_path = ''
as $$
    select coalesce(sum((o.modifications ->> 'kcal_delta')::numeric), 0)
    from public.day_overrides as o
    where
        o.user_id = day_kcal_adjustment.user_id
        and o.date = day_kcal_adjustment.day
        and o.status in ('approved', 'auto_applied');
$$;

comment on function public.day_kcal_adjustment(uuid, date) is
'The kcal change in force on the user''s day: the kcal_delta of the day''s active (approved or '
'auto_applied) override; 0 without one. The caller''s own days only (RLS).';

revoke execute on function public.day_kcal_adjustment(uuid, date) from public, anon;
grant execute on function public.day_kcal_adjustment(uuid, date) to authenticated, service_role;

create or replace view public.calendar_day
with (security_invoker = true)
as
select
    ce.id,
    ce.user_id,
    ce.program_id,
    ce.date,
    ce.event_type,
    ce.title,
    ce.time_of_day,
    ce.status,
    ce.ref_table,
    ce.ref_id,
    s.session_kind,
    s.planned_duration_minutes,
    s.parameters,
    m.meal_type,
    coalesce(m.meal_time, mt.typical_time) as meal_time,
    m.targets,
    m.totals,
    ex.exercises,
    it.items,
    o.id as override_id,
    o.status as override_status,
    o.reason_codes as adjustment_reasons,
    o.explanation as adjustment_explanation,
    case
        when o.active ? 'replace_session' and s.session_kind <> 'rest' then o.active ->> 'replace_session'
        else s.session_kind
    end as adjusted_session_kind,
    ex.adjusted_exercises,
    case
        when dk.kcal_share <> 0
            then m.targets || jsonb_build_object(
                'kcal', round((m.targets ->> 'kcal')::numeric + dk.kcal_share, 1),
                'carbs_g', round((m.targets ->> 'carbs_g')::numeric + dk.kcal_share / 4, 1)
            )
        else m.targets
    end as adjusted_targets
from public.calendar_events as ce
inner join public.programs as p on ce.program_id = p.id and p.status = 'active'
left join public.session_instances as s
    on ce.ref_table = 'session_instances' and ce.ref_id = s.id
left join public.meal_instances as m
    on ce.ref_table = 'meal_instances' and ce.ref_id = m.id
left join public.meal_times as mt on m.meal_type = mt.id
-- The day's open override; active holds its modifications once it applies.
left join lateral (
    select
        d.id,
        d.status,
        d.reason_codes,
        d.explanation,
        case when d.status in ('approved', 'auto_applied') then d.modifications end as active
    from public.day_overrides as d
    where
        d.user_id = ce.user_id
        and d.date = ce.date
        and d.status in ('pending', 'approved', 'auto_applied')
) as o on true
-- A meal's part of the day's kcal change: in proportion to its share of the day's planned kcal.
left join lateral (
    select
        public.day_kcal_adjustment(ce.user_id, ce.date) * (m.targets ->> 'kcal')::numeric
        / nullif(sum((dm.targets ->> 'kcal')::numeric), 0) as kcal_share
    from public.calendar_events as dce
    inner join public.meal_instances as dm on dce.ref_id = dm.id and dce.user_id = dm.user_id
    where
        dce.user_id = ce.user_id
        and dce.date = ce.date
        and dce.program_id = ce.program_id
        and dce.event_type = 'meal'
) as dk on m.id is not null
left join lateral (
    select
        jsonb_agg(
            jsonb_build_object(
                'order_index', e.order_index,
                'exercise_id', e.exercise_id,
                'name', e.name,
                'sets', e.sets,
                'reps_min', e.reps_min,
                'reps_max', e.reps_max,
                'target_rir', e.target_rir,
                'target_pct_1rm', e.target_pct_1rm,
                'rest_seconds', e.rest_seconds,
                'notes', e.notes
            )
            order by e.order_index
        ) as exercises,
        jsonb_agg(
            jsonb_build_object(
                'order_index', e.order_index,
                'exercise_id', e.exercise_id,
                'name', e.name,
                'sets', case
                    when o.active ? 'replace_session' then 0
                    else greatest(
                        1,
                        round(e.sets * coalesce((o.active ->> 'volume_multiplier')::numeric, 1))
                        + coalesce((o.active ->> 'set_delta')::integer, 0)
                    )
                end,
                'planned_sets', e.sets,
                'reps_min', e.reps_min,
                'reps_max', e.reps_max,
                'target_rir', case
                    when e.target_rir is not null
                        then least(5, e.target_rir + coalesce((o.active ->> 'rir_delta')::integer, 0))
                end,
                'planned_target_rir', e.target_rir,
                'target_pct_1rm', round(
                    e.target_pct_1rm * coalesce((o.active ->> 'intensity_multiplier')::numeric, 1), 1
                ),
                'planned_target_pct_1rm', e.target_pct_1rm
            )
            order by e.order_index
        ) as adjusted_exercises
    from public.exercise_plan_items as e
    where e.session_instance_id = s.id and e.user_id = s.user_id
) as ex on s.id is not null
left join lateral (
    select
        jsonb_agg(
            jsonb_build_object(
                'food_id', i.food_id,
                'food_name', i.food_name,
                'grams', i.grams,
                'serving_description', i.serving_description,
                'kcal', i.kcal,
                'protein_g', i.protein_g,
                'carbs_g', i.carbs_g,
                'fat_g', i.fat_g
            )
            order by i.food_name, i.id
        ) as items
    from public.meal_item_plan as i
    where i.meal_instance_id = m.id and i.user_id = m.user_id
) as it on m.id is not null;

comment on column public.calendar_day.override_id is
'The day''s open day override (pending, approved or auto_applied), if any; see day_overrides.';
comment on column public.calendar_day.override_status is 'Its status: pending, approved or auto_applied.';
comment on column public.calendar_day.adjustment_reasons is 'Its reason codes (why).';
comment on column public.calendar_day.adjustment_explanation is 'Its explanation, in words.';
comment on column public.calendar_day.adjusted_session_kind is
'Training events: the session kind after an active override (mobility when the session is replaced); '
'session_kind otherwise.';
comment on column public.calendar_day.adjusted_exercises is
'Training events: the exercises after an active override: sets = max(1, round(sets x volume_multiplier) '
'+ set_delta) (0 when the session is replaced), target_rir + rir_delta (at most 5), target_pct_1rm x '
'intensity_multiplier, each with its planned_* value. Equal to the plan without an active override.';
comment on column public.calendar_day.adjusted_targets is
'Meal events: targets after the day''s kcal change (day_kcal_adjustment), shared among the day''s '
'meals by their planned kcal and taken from or given to carbs (kcal / 4 per gram). Equal to targets '
'without a change.';

create or replace view public.nutrition_day
with (security_invoker = true)
as
select
    pr.id as user_id,
    g.day::date as date,
    t.target_kcal,
    t.target_protein_g,
    t.target_carbs_g,
    t.target_fat_g,
    e.eaten_kcal,
    e.eaten_protein_g,
    e.eaten_carbs_g,
    e.eaten_fat_g,
    e.meals_logged,
    b.calories_burned,
    t.target_kcal + b.calories_burned as kcal_budget,
    t.target_kcal + b.calories_burned - e.eaten_kcal as kcal_remaining,
    t.target_protein_g - e.eaten_protein_g as protein_g_remaining,
    t.target_carbs_g - e.eaten_carbs_g as carbs_g_remaining,
    t.target_fat_g - e.eaten_fat_g as fat_g_remaining,
    adj.kcal_adjustment
from public.profiles as pr
-- Every day from the user's first to last planned or logged day (a filter on date is applied
-- here, before the per-day lookups below).
inner join lateral generate_series(
    least(
        (
            select min(m.local_date)
            from public.meals as m
            where m.user_id = pr.id
        ),
        (
            select min(a.local_date)
            from public.activities as a
            where a.user_id = pr.id
        ),
        (
            select min(ce.date)
            from public.calendar_events as ce
            where ce.user_id = pr.id
        )
    )::timestamp,
    greatest(
        (
            select max(m.local_date)
            from public.meals as m
            where m.user_id = pr.id
        ),
        (
            select max(a.local_date)
            from public.activities as a
            where a.user_id = pr.id
        ),
        (
            select max(ce.date)
            from public.calendar_events as ce
            where ce.user_id = pr.id
        )
    )::timestamp,
    interval '1 day'
) as g (day) on true
cross join lateral public.day_kcal_adjustment(pr.id, g.day::date) as adj (kcal_adjustment)
inner join lateral (
    select
        round(sum((mi.targets ->> 'kcal')::numeric), 1) + adj.kcal_adjustment as target_kcal,
        round(sum((mi.targets ->> 'protein_g')::numeric), 1) as target_protein_g,
        round(sum((mi.targets ->> 'carbs_g')::numeric) + adj.kcal_adjustment / 4, 1) as target_carbs_g,
        round(sum((mi.targets ->> 'fat_g')::numeric), 1) as target_fat_g
    from public.calendar_events as ce
    inner join public.meal_instances as mi on ce.ref_id = mi.id and ce.user_id = mi.user_id
    where
        ce.user_id = pr.id
        and ce.date = g.day::date
        and ce.event_type = 'meal'
        -- The program in force that day (per event, so that the day's events are found by
        -- (user_id, date)).
        and ce.program_id = (
            select p.id
            from public.programs as p
            where p.user_id = pr.id and p.status <> 'archived' and p.program_start_date <= ce.date
            order by p.version desc
            limit 1
        )
) as t on true
inner join lateral (
    select
        coalesce(sum(m.total_kcal), 0) as eaten_kcal,
        coalesce(sum(m.total_protein_g), 0) as eaten_protein_g,
        coalesce(sum(m.total_carbs_g), 0) as eaten_carbs_g,
        coalesce(sum(m.total_fat_g), 0) as eaten_fat_g,
        count(*)::integer as meals_logged
    from public.meals as m
    where m.user_id = pr.id and m.local_date = g.day::date
) as e on true
inner join lateral (
    select coalesce(sum(a.calories_burned), 0) as calories_burned
    from public.activities as a
    where a.user_id = pr.id and a.local_date = g.day::date
) as b on true;

comment on column public.nutrition_day.target_kcal is
'Sum of meal_instances.targets.kcal of the day''s planned meals of the program in force, plus the kcal '
'change in force that day (kcal_adjustment); NULL without a plan for the day. Likewise the '
'other target_* columns (grams): the kcal change goes to carbs (kcal_adjustment / 4).';
comment on column public.nutrition_day.kcal_adjustment is
'The kcal change in force that day (public.day_kcal_adjustment: the active day override''s kcal_delta); '
'0 without one.';

create or replace view public.nutrition_today
with (security_invoker = true)
as
select
    pr.id as user_id,
    (now() at time zone pr.timezone)::date as date,
    t.target_kcal,
    t.target_protein_g,
    t.target_carbs_g,
    t.target_fat_g,
    e.eaten_kcal,
    e.eaten_protein_g,
    e.eaten_carbs_g,
    e.eaten_fat_g,
    e.meals_logged,
    b.calories_burned,
    t.target_kcal + b.calories_burned as kcal_budget,
    t.target_kcal + b.calories_burned - e.eaten_kcal as kcal_remaining,
    t.target_protein_g - e.eaten_protein_g as protein_g_remaining,
    t.target_carbs_g - e.eaten_carbs_g as carbs_g_remaining,
    t.target_fat_g - e.eaten_fat_g as fat_g_remaining,
    adj.kcal_adjustment
from public.profiles as pr
cross join
    lateral public.day_kcal_adjustment(
        pr.id, (now() at time zone pr.timezone)::date
    ) as adj (kcal_adjustment)
inner join lateral (
    select
        round(sum((mi.targets ->> 'kcal')::numeric), 1) + adj.kcal_adjustment as target_kcal,
        round(sum((mi.targets ->> 'protein_g')::numeric), 1) as target_protein_g,
        round(sum((mi.targets ->> 'carbs_g')::numeric) + adj.kcal_adjustment / 4, 1) as target_carbs_g,
        round(sum((mi.targets ->> 'fat_g')::numeric), 1) as target_fat_g
    from public.calendar_events as ce
    inner join public.meal_instances as mi on ce.ref_id = mi.id and ce.user_id = mi.user_id
    where
        ce.user_id = pr.id
        and ce.date = (now() at time zone pr.timezone)::date
        and ce.event_type = 'meal'
        -- The program in force that day (per event, so that the day's events are found by
        -- (user_id, date)).
        and ce.program_id = (
            select p.id
            from public.programs as p
            where p.user_id = pr.id and p.status <> 'archived' and p.program_start_date <= ce.date
            order by p.version desc
            limit 1
        )
) as t on true
inner join lateral (
    select
        coalesce(sum(m.total_kcal), 0) as eaten_kcal,
        coalesce(sum(m.total_protein_g), 0) as eaten_protein_g,
        coalesce(sum(m.total_carbs_g), 0) as eaten_carbs_g,
        coalesce(sum(m.total_fat_g), 0) as eaten_fat_g,
        count(*)::integer as meals_logged
    from public.meals as m
    where m.user_id = pr.id and m.local_date = (now() at time zone pr.timezone)::date
) as e on true
inner join lateral (
    select coalesce(sum(a.calories_burned), 0) as calories_burned
    from public.activities as a
    where a.user_id = pr.id and a.local_date = (now() at time zone pr.timezone)::date
) as b on true;

comment on column public.nutrition_today.target_kcal is
'Sum of meal_instances.targets.kcal of the day''s planned meals of the program in force, plus the kcal '
'change in force that day (kcal_adjustment); NULL without a plan for the day. Likewise the '
'other target_* columns (grams): the kcal change goes to carbs (kcal_adjustment / 4).';
comment on column public.nutrition_today.kcal_adjustment is
'The kcal change in force that day (public.day_kcal_adjustment: the active day override''s kcal_delta); '
'0 without one.';
