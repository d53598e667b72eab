-- The hourly close_past_days job reads only days that can be over (issue 9, scaling).
--
-- benchmarks/scale.py measured its scan growing with all open calendar events, the future ones
-- included (6.6 s at the benchmark data, 18.0 s at 3x): the only date bound was each user's local
-- today, known only after joining the profile, so the index on open events' dates
-- (calendar_events_open_date_idx) returned every future event and private.program_in_force ran on
-- each. A bound every user shares comes first now: no local date anywhere is later than the date
-- in UTC+14. Same rows, same result; otherwise as in 20261126001700.

create or replace function private.close_past_days(as_of timestamptz default now())
returns integer
language plpgsql
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
declare
    entry record;
    closed integer := 0;
begin
    for entry in
        select distinct ce.user_id, ce.date
        from public.calendar_events as ce
        left join public.profiles as p on ce.user_id = p.id
        left join public.session_instances as s
            on ce.ref_table = 'session_instances' and ce.ref_id = s.id
        where
            ce.status in ('planned', 'modified')
            -- No local date is later than UTC+14's (POSIX 'Etc/GMT-14'): the index on open
            -- events' dates reads only the past ones, not every future event of every program.
            and ce.date < (as_of at time zone 'Etc/GMT-14')::date
            and ce.date < (as_of at time zone coalesce(p.timezone, 'UTC'))::date
            and s.session_kind is distinct from 'rest'
            and ce.program_id = private.program_in_force(ce.user_id, ce.date)
            and not exists (
                select from public.adherence_records as r
                where
                    r.planned_entity_type = case ce.event_type when 'training' then 'session' else 'meal' end
                    and r.planned_entity_id = ce.ref_id
            )
        order by ce.user_id, ce.date
    loop
        perform private.rematch_day(entry.user_id, entry.date, null, as_of);
        closed := closed + 1;
    end loop;
    return closed;
end;
$$;
