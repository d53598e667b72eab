-- The last two trigger functions that look up log rows by id keep to their indexes (issue 6,
-- performance), as 20261126001900_adherence_speed.sql did for the matching functions and the meal
-- totals trigger. A PL/pgSQL statement's plan is built once per connection from the statistics of
-- that moment; on a young database, where meals and activities were analysed small or empty, the
-- planner chose a sequential scan, and the connection kept it while the table grew:
--
--   * private.meal_items_refresh_meal_totals (after a meal's items are written) updated the meals
--     through a hash join over a sequential scan of every meal of every user. With the logging
--     benchmark's meal logs on a scratch database, 2,000 logs one by one read 2.4 million meal
--     rows, and the server's CPU time per log fell from 3.78 to 2.93 ms with the index plan;
--   * private.exercise_sets_rematch (after a set is written) found the set's activity the same
--     way, reading every activity.
--
-- enable_seqscan = off on both makes the planner take the (primary key) index whatever the
-- statistics say. The results are the same; only the plans change.

alter function private.meal_items_refresh_meal_totals() set enable_seqscan = off;
alter function private.exercise_sets_rematch() set enable_seqscan = off;
