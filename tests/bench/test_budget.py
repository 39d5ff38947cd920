"""The performance budget's verdicts: over 10 % fails, unless a reviewed acceptance covers it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.budget import (
    ACCEPTED_COSTS,
    BUDGET,
    Acceptance,
    CannotMeasure,
    Cell,
    accepted_costs,
    last_release,
    main,
    release,
    render,
    verdict,
)
from tests.support.skips import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]


def cell(release: list[float], now: list[float], operation: str = "list") -> Cell:
    return Cell("postgres", operation, release, now)


def test_the_medians_of_both_trees_are_compared() -> None:
    measured = cell([100, 300, 110], [120, 90, 500])
    assert measured.ratio == pytest.approx(120 / 110)


def test_within_budget_passes_and_over_it_fails() -> None:
    assert verdict(cell([100.0], [100 * BUDGET]), "1.2.0", []) == (True, "ok")
    within, word = verdict(cell([100.0], [115.0]), "1.2.0", [])
    assert not within
    assert "OVER" in word


def test_an_acceptance_covers_only_its_release_database_operation_and_ratio() -> None:
    acceptance = Acceptance("1.2.0", "postgres", "list", 1.25, "the price of a feature")
    slower = cell([100.0], [120.0])
    assert verdict(slower, "1.2.0", [acceptance]) == (True, "accepted up to 1.25x")
    assert not verdict(slower, "1.3.0", [acceptance])[0]  # the next release is the new reference
    assert not verdict(cell([100.0], [120.0], "get"), "1.2.0", [acceptance])[0]
    assert not verdict(cell([100.0], [130.0]), "1.2.0", [acceptance])[0]


def test_an_acceptance_needs_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "accepted.toml"
    path.write_text(
        '[[accepted]]\nrelease = "1.2.0"\ndatabase = "sqlite"\noperation = "get"\n'
        'up_to = 1.2\nreason = " "\n'
    )
    with pytest.raises(CannotMeasure, match="without a reason"):
        accepted_costs(path)


def test_the_committed_acceptances_parse() -> None:
    for acceptance in accepted_costs(ACCEPTED_COSTS):
        assert acceptance.database in ("sqlite", "postgres")
        assert acceptance.up_to > BUDGET


def test_the_table_names_each_cell_and_its_verdict() -> None:
    table = render([cell([100.0, 104.0], [130.0, 128.0])], "1.2.0", [])
    assert "release 1.2.0" in table
    assert "1.26x" in table  # medians 129 / 102
    assert "OVER the 1.10x budget" in table


def test_the_last_release_is_the_highest_version_and_the_commit_that_added_it() -> None:
    released = sorted(
        (ROOT / "openapi" / "releases").glob("*.json"),
        key=lambda path: tuple(int(part) for part in path.stem.split(".")),
    )
    try:
        version, commit = last_release()
    except CannotMeasure as error:
        skip_or_fail(f"this clone cannot name the release's commit: {error}")
    assert version == released[-1].stem
    assert len(commit) == 40


def test_an_earlier_release_is_found_by_its_version_and_an_unknown_one_is_named() -> None:
    try:
        version, commit = release("1.3.0")
    except CannotMeasure as error:
        skip_or_fail(f"this clone cannot name the release's commit: {error}")
    assert version == "1.3.0"
    assert commit != last_release()[1]
    with pytest.raises(CannotMeasure, match=r"^1\.3\.9 is not a release \(released: 1\.0\.0, "):
        release("1.3.9")


def test_against_what_is_neither_a_release_nor_a_checkout_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--against", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"bench-check cannot measure: {tmp_path} is neither a release (X.Y.Z) nor a checkout "
        "of this project\n"
    )
