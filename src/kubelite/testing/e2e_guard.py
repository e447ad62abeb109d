"""pytest plugin: a run on a machine that can run the end-to-end tier fails if that tier
did not run.

The e2e tests (``tests/e2e``) skip themselves when a tool is missing; on a machine that
has everything (root, kubectl, runc, conmon) a skip there is a regression that would
otherwise go unseen. Rule (:func:`verdict`): when the machine is capable and
``KUBELITE_E2E_OPTIONAL`` is not ``1``,

- if e2e tests were selected, at least one must have run (passed or failed), not all
  skipped;
- a run with no explicit paths (the default full suite) must select e2e tests at all
  (``-k``/``-m`` that drop them need the opt-out).

Runs of chosen files or folders without e2e tests (``pytest tests/unit``) are left alone.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

OPT_OUT = "KUBELITE_E2E_OPTIONAL"
TOOLS = ("kubectl", "runc", "conmon")


@dataclass
class Tally:
    """What happened to the e2e tests of one session."""

    selected: int = 0
    ran: int = 0  # passed or failed in their call phase
    skipped: int = 0


def capable() -> bool:
    """Root with every tool the e2e tier needs."""
    return os.geteuid() == 0 and all(shutil.which(t) for t in TOOLS)


def verdict(*, capable: bool, opted_out: bool, full_run: bool, tally: Tally) -> str | None:
    """Why the run must fail, or None."""
    if not capable or opted_out:
        return None
    if tally.selected and not tally.ran:
        return (f"all {tally.selected} selected e2e tests were skipped on a machine that "
                f"can run them (root, {', '.join(TOOLS)})")
    if full_run and not tally.selected:
        return "the full run selected no e2e tests on a machine that can run them"
    return None


def _is_e2e(nodeid: str) -> bool:
    return nodeid.replace("\\", "/").startswith("tests/e2e/")


def _full_run(config: pytest.Config) -> bool:
    """No paths given (pytest ran its testpaths), or the tests folder itself."""
    if config.args_source == pytest.Config.ArgsSource.TESTPATHS:
        return True
    tests = (config.rootpath / "tests").resolve()
    return bool(config.args) and all(
        Path(a.split("::")[0]).resolve() in (tests, config.rootpath.resolve())
        for a in config.args)


class E2EGuard:
    """Counts the session's e2e tests and fails the run by :func:`verdict`."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.tally = Tally()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.tally.selected = sum(_is_e2e(item.nodeid) for item in session.items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not _is_e2e(report.nodeid):
            return
        if report.skipped and report.when in ("setup", "call"):
            self.tally.skipped += 1
        elif report.when == "call" or (report.when == "setup" and report.failed):
            self.tally.ran += 1  # a broken fixture is a failure, not a skip

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if exitstatus != 0:
            return
        reason = verdict(capable=capable(), opted_out=os.environ.get(OPT_OUT) == "1",
                         full_run=_full_run(self.config), tally=self.tally)
        if reason is None:
            return
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"e2e tier not run: {reason} (set {OPT_OUT}=1 for a partial run)",
                red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(E2EGuard(config), "kubelite-e2e-guard")
