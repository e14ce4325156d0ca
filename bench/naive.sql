-- pgbench's transaction for the naive vote baseline (bench/naive.py makes the tables):
-- one ballot row for a new voter, then the option's and the poll's counters.
-- pgbench -D poll=N picks the poll (each phase has a fresh one, like QuickPoll's phases).
\set option random(1, 4)
BEGIN;
INSERT INTO vote (poll_id, option_id, voter) VALUES (:poll, :poll * 10 + :option, nextval('voter_seq'));
UPDATE option SET votes = votes + 1 WHERE id = :poll * 10 + :option;
UPDATE poll SET total = total + 1 WHERE id = :poll;
COMMIT;
