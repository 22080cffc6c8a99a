"""One fixture per way a manifest can be wrong: the exact messages, positions and key paths.

Each `fixtures/NAME.yaml` has a `fixtures/NAME.expected` with one `line:col: path: message` per
error, in the order they are reported.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import LocatedError, ManifestError
from runner.manifest import load_batch

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(FIXTURES.glob("*.yaml"))


def as_line(error: LocatedError) -> str:
    where = error.location
    path = f"{where.path}: " if where.path else ""
    return f"{where.line}:{where.column}: {path}{error.message}"


@pytest.mark.parametrize("fixture", CASES, ids=lambda path: path.stem)
def test_fixture_reports_exactly_its_expected_errors(fixture: Path) -> None:
    expected = fixture.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    with pytest.raises(ManifestError) as caught:
        load_batch(str(fixture), environ={})
    assert [as_line(error) for error in caught.value.errors] == expected
    assert {error.location.file for error in caught.value.errors} == {str(fixture)}


def test_every_fixture_has_an_expectation_and_the_other_way_round() -> None:
    stems = {path.stem for path in CASES}
    expectations = {path.stem for path in FIXTURES.glob("*.expected")}
    assert stems == expectations
    assert len(stems) >= 30


def test_the_summary_line_counts_the_other_errors() -> None:
    with pytest.raises(ManifestError) as caught:
        load_batch(str(FIXTURES / "many-errors.yaml"))
    error = caught.value
    assert error.message.endswith(f"(and {len(error.errors) - 1} more)")
    assert error.message.startswith(f"{FIXTURES / 'many-errors.yaml'}:6:9: defaults.wait: ")
    assert list(error.details) == [str(e) for e in error.errors[1:]]
