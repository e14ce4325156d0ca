"""The cost of counting a big ranked poll: ballots written straight into the database, a full recount timed,
and the counted results read through the server as often as a single-choice poll.

Call prepare.setup() first; these functions use the Django ORM (synchronous) and psycopg.
"""

import random
import statistics
import time
import uuid
from urllib.parse import urlsplit

import psycopg

CITIES = ["Lisbon", "Oslo", "Tunis", "Quito", "Hanoi", "Perth", "Lima", "Accra", "Riga", "Sapporo"]
# How popular each option is: a few favourites, a long tail, so the count takes several rounds.
POPULARITY = [9, 8, 7, 5, 4, 3, 2, 1.5, 1, 0.5]
# How many options a voter ranks: most rank a few, some all ten.
RANKING_LENGTHS = {1: 10, 2: 15, 3: 20, 4: 15, 5: 10, 6: 8, 7: 6, 8: 5, 9: 4, 10: 7}


def connect(database_url: str):
    parts = urlsplit(database_url)
    return psycopg.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
        dbname=parts.path.lstrip("/"),
    )  # fmt: skip


def random_ranking(draw: random.Random, option_ids: list[str]) -> list[str]:
    """A voter's partial ranking: options drawn by popularity without replacement (the Plackett-Luce model)."""
    length = draw.choices(list(RANKING_LENGTHS), weights=list(RANKING_LENGTHS.values()))[0]
    order = sorted(range(len(option_ids)), key=lambda index: draw.expovariate(POPULARITY[index]))
    return [option_ids[index] for index in order[:length]]


def fill(database_url: str, poll: dict, *, ballots: int, seed: int = 14) -> dict:
    """Write `ballots` anonymous ranked ballots and their votes with COPY, then set the counters as casting would
    have (ballots, first preferences, a new results version). Returns how long it took and how many rows."""
    draw = random.Random(seed)
    started = time.monotonic()
    votes = 0
    with connect(database_url) as connection, connection.cursor() as cursor:
        # Rows made consistent here, so the foreign keys' per-row checks are skipped for this session's load.
        cursor.execute("SET session_replication_role = replica")
        # Options are created at positions 0, 1, … in the order of poll["option_ids"]: Ballot.ranking holds those.
        position = {option_id: index for index, option_id in enumerate(poll["option_ids"])}
        columns = "id, poll_id, anon_id, ip_address, user_agent, created_at, ranking"
        with cursor.copy(f"COPY polls_ballot ({columns}) FROM STDIN") as ballot_copy:
            rows = []
            for number in range(ballots):
                ballot_id = uuid.uuid4()
                address = f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"
                ranking = random_ranking(draw, poll["option_ids"])
                stored = ".".join(str(position[option_id]) for option_id in ranking)
                ballot_copy.write_row((ballot_id, poll["id"], str(uuid.uuid4()), address, "bench", "now", stored))
                rows.append((ballot_id, ranking))
        with cursor.copy("COPY polls_vote (id, ballot_id, poll_id, option_id, rank, created_at) FROM STDIN") as vote_copy:
            for ballot_id, ranking in rows:
                for rank, option_id in enumerate(ranking, start=1):
                    vote_copy.write_row((uuid.uuid4(), ballot_id, poll["id"], option_id, rank, "now"))
                    votes += 1
        cursor.execute(
            "UPDATE polls_option SET vote_count = (SELECT count(*) FROM polls_vote v WHERE v.option_id = polls_option.id"
            " AND v.rank = 1) WHERE poll_id = %s",
            (poll["id"],),
        )
        cursor.execute(
            "UPDATE polls_poll SET total_votes = %s, results_version = results_version + 1 WHERE id = %s",
            (ballots, poll["id"]),
        )
        cursor.execute("RESET session_replication_role")
        connection.commit()
        # Fresh statistics, as autovacuum would gather after such a load.
        connection.autocommit = True
        cursor.execute("ANALYZE polls_ballot")
        cursor.execute("ANALYZE polls_vote")
    return {"ballots": ballots, "vote_rows": votes, "fill_seconds": round(time.monotonic() - started, 1)}


def time_recount(database_url: str, poll_id: str, *, repeats: int = 5) -> dict:
    """A full recount as the first reader of a new results version makes it (polls.tallies.count, the database read
    included), `repeats` times; against the baseline of only fetching the poll's vote rows from PostgreSQL."""
    from polls import tallies
    from polls.models import Poll

    poll = Poll.objects.get(pk=poll_id)
    counts, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = tallies.count(poll)
        counts.append(time.perf_counter() - started)
    fetches = []
    with connect(database_url) as connection:
        for _ in range(repeats):
            started = time.perf_counter()
            connection.execute("SELECT ballot_id, option_id, rank FROM polls_vote WHERE poll_id = %s", (poll_id,)).fetchall()
            fetches.append(time.perf_counter() - started)
            connection.rollback()
    options = dict(poll.options.values_list("pk", "vote_count"))
    first_preferences = {option["id"]: option["votes"] for option in result["options"]}
    return {
        "recount_seconds": round(statistics.median(counts), 3),
        "recount_seconds_each": [round(seconds, 3) for seconds in counts],
        "fetch_rows_seconds": round(statistics.median(fetches), 3),
        "rounds": len(result["ranked"]["rounds"]),
        "counted_ballots": result["ranked"]["ballots"],
        # The recount agrees with the counters the ballots were written with.
        "exact": result["total_votes"] == poll.total_votes
        and first_preferences == {str(pk): count for pk, count in options.items()},
    }
