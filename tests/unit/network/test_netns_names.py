"""An installation's pod network namespaces are told apart from another's by exact name."""

from __future__ import annotations

from kubelite.network.netns import is_own, netns_name

SANDBOX = "3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6"


def test_default_prefix_does_not_claim_another_data_dirs_namespaces() -> None:
    mine = netns_name("kubelite-", SANDBOX)
    other = netns_name("kubelite-3bfa2e1e-", SANDBOX)
    assert is_own(mine, "kubelite-")
    assert not is_own(other, "kubelite-")
    assert is_own(other, "kubelite-3bfa2e1e-")
    assert not is_own(mine, "kubelite-3bfa2e1e-")
    assert not is_own("kubelite-notasandbox", "kubelite-")
