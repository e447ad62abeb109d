"""``kubelite server --help`` and ``kubelite agent --help`` document verbosity and endpoints."""

from __future__ import annotations

import pytest

from kubelite.cli.main import build_parser


def _help(capsys: pytest.CaptureFixture[str], command: str) -> str:
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    return capsys.readouterr().out


def test_server_help_lists_the_endpoints(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, "server")
    for needle in ("/metrics/cadvisor", "/metrics/probes", "/livez/NAME", "/version/",
                   "apiserver_request_total", "-v N", "/api/v1/nodes/NAME/proxy/metrics"):
        assert needle in text, needle


@pytest.mark.parametrize("command", ["server", "agent"])
def test_verbosity_flag(command: str) -> None:
    extra = ["--server", "https://x:6443", "--token", "t"] if command == "agent" else []
    args = build_parser().parse_args([command, *extra, "--v=3"])
    assert args.verbosity == 3
