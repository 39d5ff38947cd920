"""The probe of a list's tags (backend/queries/match_probe.py) as plain values: its statement run on
SQLite counts each tag's matches among one owner's tasks, up to FEW_MATCHES, and a list
starts from its matches only when every tag has few."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, insert

from backend.queries.match_probe import FEW_MATCHES, few_matches, probe_params, probe_statement
from backend.storage.task_table import task_tag

# (owner, tag) -> how many of the owner's tasks carry the tag
TAGGED = {
    ("alice", "rare"): 3,
    ("alice", "common"): FEW_MATCHES + 50,
    ("alice", "edge"): FEW_MATCHES - 1,
    ("alice", "bound"): FEW_MATCHES,
    ("bob", "rare"): FEW_MATCHES + 5,
    ("bob", "only-bob"): 7,
}


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    task_tag.create(engine)
    rows = []
    task_id = 0
    for (owner, tag), count in TAGGED.items():
        for _ in range(count):
            task_id += 1
            rows.append({"task_id": task_id, "tag": tag, "user_id": owner})
    with engine.begin() as connection:
        connection.execute(insert(task_tag), rows)
    yield engine
    engine.dispose()


def probe(engine: Engine, owner: str, *tags: str) -> dict[str, int]:
    params = {"owner": owner, **{f"tag_{index}": tag for index, tag in enumerate(tags)}}
    with engine.connect() as connection:
        rows = connection.execute(probe_statement(len(tags)), {**params, **probe_params()})
        return dict(rows.mappings().one())


def test_the_probe_counts_each_tag_of_the_owner_up_to_few_matches(engine: Engine) -> None:
    counts = probe(engine, "alice", "rare", "common", "edge", "bound", "only-bob", "absent")
    assert counts == {
        "tag_0": 3,
        "tag_1": FEW_MATCHES,  # 150 tasks, counted no further than the bound
        "tag_2": FEW_MATCHES - 1,
        "tag_3": FEW_MATCHES,
        "tag_4": 0,  # another owner's tag
        "tag_5": 0,
    }
    assert probe(engine, "bob", "rare", "only-bob") == {"tag_0": FEW_MATCHES, "tag_1": 7}


def test_the_probe_of_one_tag_reads_one_count(engine: Engine) -> None:
    assert probe(engine, "alice", "edge") == {"tag_0": FEW_MATCHES - 1}
    assert probe_params() == {"few_matches": FEW_MATCHES}


@pytest.mark.parametrize(
    ("counts", "few"),
    [
        ({"tag_0": 3}, True),
        ({"tag_0": FEW_MATCHES - 1}, True),
        ({"tag_0": FEW_MATCHES}, False),
        ({"tag_0": 3, "tag_1": FEW_MATCHES - 1}, True),
        # One frequent tag is enough for a window to fill a page: every tag must be rare.
        ({"tag_0": 3, "tag_1": FEW_MATCHES}, False),
        ({"tag_0": FEW_MATCHES, "tag_1": 3}, False),
        ({"tag_0": FEW_MATCHES, "tag_1": FEW_MATCHES}, False),
    ],
)
def test_a_list_starts_from_its_matches_only_when_every_tag_has_few(
    counts: dict[str, int], few: bool
) -> None:
    assert few_matches(counts) is few


def test_a_rare_and_a_frequent_tag_of_one_owner_read_a_window(engine: Engine) -> None:
    assert few_matches(probe(engine, "alice", "rare", "edge"))
    assert not few_matches(probe(engine, "alice", "rare", "common"))
    assert not few_matches(probe(engine, "alice", "bound", "rare"))
