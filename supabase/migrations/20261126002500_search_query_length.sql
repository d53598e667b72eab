-- search_foods / search_exercises: only the first 200 characters of the query count (issue 9,
-- fuzzing). The words were already taken from the first 200 characters, but the ranking compared
-- the whole query with every candidate name: a 1 MB query (one small POST) ran into the
-- authenticated role's 8 s statement timeout (57014, answered 500) and held a core meanwhile. The
-- ranking now uses the same 200 characters: 0.06 s for that query, the same rows for any query of
-- up to 200 characters. Otherwise as in 20261126000200 (comments and grants unchanged).

create or replace function public.search_foods(query text, max_results integer default 20)
returns setof public.foods
language sql
stable
security invoker
set search_path = ''
set "pg_trgm.word_similarity_threshold" = 0.5
as $$
    with search as (
        select pg_catalog.array_agg(w.word order by pg_catalog.char_length(w.word) desc, w.word) as words
        from (
            select distinct word
            from pg_catalog.regexp_split_to_table(
                pg_catalog.lower(pg_catalog.left(query, 200)), '[^[:alnum:]]+'
            ) as word
            where pg_catalog.char_length(word) >= 2
        ) as w
    )
    select f.*
    from public.foods as f, search as s
    where
        f.name operator(extensions.%>) s.words[1]
        and f.name operator(extensions.%>) coalesce(s.words[2], s.words[1])
        and (
            select pg_catalog.bool_and(w operator(extensions.<%) f.name)
            from pg_catalog.unnest(s.words[3:]) as w
        ) is not false
    order by
        (
            select pg_catalog.avg(extensions.word_similarity(w, f.name))
            from pg_catalog.unnest(s.words) as w
        ) desc,
        extensions.similarity(pg_catalog.left(query, 200), f.name) desc,
        f.name asc,
        f.id asc
    limit least(greatest(coalesce(max_results, 20), 1), 100)
$$;

create or replace function public.search_exercises(query text, max_results integer default 20)
returns setof public.exercises
language sql
stable
security invoker
set search_path = ''
set "pg_trgm.word_similarity_threshold" = 0.5
as $$
    with search as (
        select pg_catalog.array_agg(w.word order by pg_catalog.char_length(w.word) desc, w.word) as words
        from (
            select distinct word
            from pg_catalog.regexp_split_to_table(
                pg_catalog.lower(pg_catalog.left(query, 200)), '[^[:alnum:]]+'
            ) as word
            where pg_catalog.char_length(word) >= 2
        ) as w
    )
    select e.*
    from public.exercises as e, search as s
    where
        e.name operator(extensions.%>) s.words[1]
        and e.name operator(extensions.%>) coalesce(s.words[2], s.words[1])
        and (
            select pg_catalog.bool_and(w operator(extensions.<%) e.name)
            from pg_catalog.unnest(s.words[3:]) as w
        ) is not false
    order by
        (
            select pg_catalog.avg(extensions.word_similarity(w, e.name))
            from pg_catalog.unnest(s.words) as w
        ) desc,
        extensions.similarity(pg_catalog.left(query, 200), e.name) desc,
        e.name asc,
        e.id asc
    limit least(greatest(coalesce(max_results, 20), 1), 100)
$$;
