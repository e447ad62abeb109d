"""When a test run must fail because the e2e tier did not run."""

from __future__ import annotations

import pytest

from kubelite.testing.e2e_guard import Tally, verdict


@pytest.mark.parametrize(("capable", "opted_out", "full_run", "tally", "fails"), [
    # a capable machine: e2e selected but every one skipped fails the run
    (True, False, False, Tally(selected=3, ran=0, skipped=3), True),
    (True, False, True, Tally(selected=3, ran=0, skipped=3), True),
    # one e2e test ran: fine
    (True, False, True, Tally(selected=3, ran=1, skipped=2), False),
    # the full run with the e2e tier deselected (-k, -m) fails
    (True, False, True, Tally(selected=0), True),
    # a chosen folder without e2e tests (pytest tests/unit): fine
    (True, False, False, Tally(selected=0), False),
    # the opt-out for partial runs
    (True, True, True, Tally(selected=3, ran=0, skipped=3), False),
    (True, True, True, Tally(selected=0), False),
    # a machine that cannot run them (not root, or a tool missing): skips are expected
    (False, False, True, Tally(selected=3, ran=0, skipped=3), False),
    (False, False, True, Tally(selected=0), False),
])
def test_verdict(capable: bool, opted_out: bool, full_run: bool, tally: Tally,
                 fails: bool) -> None:
    reason = verdict(capable=capable, opted_out=opted_out, full_run=full_run, tally=tally)
    assert (reason is not None) == fails
    if fails:
        assert "e2e" in reason  # type: ignore[operator]
