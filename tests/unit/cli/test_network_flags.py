"""The network flags: their checks, and two data dirs never sharing a bridge, a CNI
network or network namespaces."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from kubelite.cli.agent import DEFAULT_DATA_DIR, network_config
from kubelite.cli.netflags import check_cidrs, cidr, interface_name
from kubelite.network.cni import BridgeNetworkConfig
from kubelite.network.netns import is_own, netns_name

SANDBOX = "0123456789abcdef" * 4


@pytest.mark.parametrize(("text", "want"), [
    ("10.42.0.0/16", "10.42.0.0/16"), ("10.42.1.7/16", "10.42.0.0/16"),
    ("fd00:42::/56", "fd00:42::/56")])
def test_cidr_accepts_networks(text: str, want: str) -> None:
    assert cidr(text) == want


@pytest.mark.parametrize("text", ["10.42.0.0/33", "ten", "", "10.42.0.0/16/1"])
def test_cidr_refuses_the_rest(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="invalid CIDR address"):
        cidr(text)


@pytest.mark.parametrize(("text", "ok"), [
    ("kubelite0", True), ("cni0", True), ("kl-test_1.2", True), ("a" * 15, True),
    ("a" * 16, False), ("", False), ("br/0", False), ("br 0", False), ("br:0", False),
    ("..", False)])
def test_bridge_names_fit_the_kernel(text: str, ok: bool) -> None:
    if ok:
        assert interface_name(text) == text
    else:
        with pytest.raises(argparse.ArgumentTypeError, match="invalid interface name"):
            interface_name(text)


@pytest.mark.parametrize(("pods", "services", "ok"), [
    ("10.42.0.0/16", "10.43.0.0/16", True),
    ("10.42.0.0/16", "10.42.128.0/17", False),
    ("10.0.0.0/8", "10.43.0.0/16", False),
    ("10.42.0.0/16", "fd00::/108", True)])
def test_pod_and_service_ranges_must_not_overlap(pods: str, services: str, ok: bool) -> None:
    if ok:
        check_cidrs(pods, services)
    else:
        with pytest.raises(SystemExit, match="overlap"):
            check_cidrs(pods, services)


def test_two_data_dirs_share_no_network_object(tmp_path: Path) -> None:
    main = network_config(DEFAULT_DATA_DIR, "10.42.0.0/24")
    assert (main.bridge, main.name, main.netns_prefix) == ("kubelite0", "kubelite",
                                                          "kubelite-")
    a = network_config(tmp_path / "a", "10.42.0.0/24")
    b = network_config(tmp_path / "b", "10.42.0.0/24")
    configs = [main, a, b]
    assert len({c.bridge for c in configs}) == len({c.name for c in configs}) == 3
    for mine in configs:
        for other in configs:
            assert is_own(netns_name(mine.netns_prefix, SANDBOX), other.netns_prefix) == (
                mine is other)
    assert network_config(tmp_path / "a", "10.42.0.0/24", "kltest7").bridge == "kltest7"


def test_the_network_settings_are_recorded_for_killall(tmp_path: Path) -> None:
    assert BridgeNetworkConfig.recorded(str(tmp_path)) is None
    config = BridgeNetworkConfig(subnet="10.160.3.0/24", bridge="kle2e1", name="kubelite-x",
                                 netns_prefix="kubelite-x-")
    config.record(str(tmp_path))
    assert BridgeNetworkConfig.recorded(str(tmp_path)) == config
    (tmp_path / "network.json").write_text("not json")
    assert BridgeNetworkConfig.recorded(str(tmp_path)) is None


def test_the_server_takes_the_flags_and_refuses_overlapping_ranges(tmp_path: Path) -> None:
    from kubelite.cli.main import build_parser, main

    args = build_parser().parse_args(["server", "--bridge-name", "kltest9",
                                      "--cluster-cidr", "10.160.0.0/16",
                                      "--service-cidr", "10.161.0.0/16"])
    assert (args.bridge_name, args.cluster_cidr, args.service_cidr) == (
        "kltest9", "10.160.0.0/16", "10.161.0.0/16")
    defaults = build_parser().parse_args(["server"])
    assert (defaults.bridge_name, defaults.cluster_cidr, defaults.service_cidr) == (
        None, "10.42.0.0/16", "10.43.0.0/16")
    with pytest.raises(SystemExit, match="overlap"):
        main(["server", "--data-dir", str(tmp_path / "d"), "--cluster-cidr", "10.42.0.0/16",
              "--service-cidr", "10.42.0.0/24"])
    assert not (tmp_path / "d").exists()  # refused before anything was made
