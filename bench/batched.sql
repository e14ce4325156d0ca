-- pgbench's transaction for the batched vote, as group commit writes it (polls/group_commit.py):
-- 50 ballots for new voters in one transaction, each option's and the poll's counters moved once.
-- Same tables as bench/naive.sql (bench/naive.py makes them); pgbench -D poll=N picks the poll.
BEGIN;
WITH ballots AS (
    INSERT INTO vote (poll_id, option_id, voter)
    SELECT :poll, :poll * 10 + 1 + g % 4, nextval('voter_seq') FROM generate_series(1, 50) AS g
    RETURNING option_id
)
UPDATE option SET votes = votes + added.n
FROM (SELECT option_id, count(*) AS n FROM ballots GROUP BY option_id) AS added
WHERE option.id = added.option_id;
UPDATE poll SET total = total + 50 WHERE id = :poll;
COMMIT;
