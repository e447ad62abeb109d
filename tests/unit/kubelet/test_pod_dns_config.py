"""A pod's resolv.conf from dnsPolicy, dnsConfig and the host's resolv.conf."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.kubelet.config import KubeletConfig, default_document
from kubelite.kubelet.dns_config import parse_resolv_conf, pod_dns_config
from kubelite.runtime.protocol import DNSConfig

HOST = parse_resolv_conf("# from DHCP\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n"
                         "domain old.example\nsearch lan.example corp.example.\n"
                         "options edns0 timeout:2\n")
CLUSTER = ("10.43.0.10",)
CLUSTER_SEARCH = ("prod.svc.cluster.local", "svc.cluster.local", "cluster.local")


def pod(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "web", "namespace": "prod"},
            "spec": {"containers": [{"name": "c"}], **spec}}


CASES: list[tuple[str, dict[str, Any], tuple[str, ...], DNSConfig | None]] = [
    ("ClusterFirst by default: cluster DNS, cluster search then the host's, ndots:5",
     pod(), CLUSTER,
     DNSConfig(CLUSTER, (*CLUSTER_SEARCH, "lan.example", "corp.example"), ("ndots:5",))),
    ("hostNetwork with ClusterFirst: the host's", pod(hostNetwork=True), CLUSTER, HOST),
    ("hostNetwork with ClusterFirstWithHostNet: the cluster's",
     pod(hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet"), CLUSTER,
     DNSConfig(CLUSTER, (*CLUSTER_SEARCH, "lan.example", "corp.example"), ("ndots:5",))),
    ("ClusterFirstWithHostNet without hostNetwork is ClusterFirst",
     pod(dnsPolicy="ClusterFirstWithHostNet"), CLUSTER,
     DNSConfig(CLUSTER, (*CLUSTER_SEARCH, "lan.example", "corp.example"), ("ndots:5",))),
    ("Default: the host's resolv.conf", pod(dnsPolicy="Default"), CLUSTER, HOST),
    ("no cluster DNS configured: the host's", pod(), (), HOST),
    ("None: only dnsConfig",
     pod(dnsPolicy="None", dnsConfig={"nameservers": ["1.1.1.1"], "searches": ["a.example"],
                                      "options": [{"name": "ndots", "value": "2"},
                                                  {"name": "edns0"}]}), CLUSTER,
     DNSConfig(("1.1.1.1",), ("a.example",), ("ndots:2", "edns0"))),
    ("dnsConfig is appended without duplicates, options merged by name",
     pod(dnsConfig={"nameservers": ["10.43.0.10", "1.1.1.1"],
                    "searches": ["svc.cluster.local", "extra.example"],
                    "options": [{"name": "ndots", "value": "1"}, {"name": "single-request"}]}),
     CLUSTER,
     DNSConfig(("10.43.0.10", "1.1.1.1"),
               (*CLUSTER_SEARCH, "lan.example", "corp.example", "extra.example"),
               ("ndots:1", "single-request"))),
    ("at most three nameservers",
     pod(dnsPolicy="None", dnsConfig={"nameservers": ["1.0.0.1", "1.0.0.2", "1.0.0.3",
                                                      "1.0.0.4"]}), CLUSTER,
     DNSConfig(("1.0.0.1", "1.0.0.2", "1.0.0.3"), (), ())),
    ("at most 32 search domains",
     pod(dnsPolicy="None", dnsConfig={"searches": [f"d{i}.example" for i in range(40)]}),
     CLUSTER, DNSConfig((), tuple(f"d{i}.example" for i in range(32)), ())),
]


@pytest.mark.parametrize(("p", "cluster_dns", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_pod_dns_config(p: dict[str, Any], cluster_dns: tuple[str, ...],
                        expected: DNSConfig | None) -> None:
    assert pod_dns_config(p, cluster_dns, "cluster.local", HOST) == expected


def test_the_host_file_is_copied_as_is_when_not_read() -> None:
    assert pod_dns_config(pod(dnsPolicy="Default"), CLUSTER, "cluster.local", None) is None


def test_a_long_search_path_is_cut_at_2048_characters() -> None:
    long = [("x" * 250) + f".d{i}" for i in range(10)]
    got = pod_dns_config(pod(dnsPolicy="None", dnsConfig={"searches": long}), CLUSTER,
                         "cluster.local", HOST)
    assert got is not None and len(" ".join(got.searches)) <= 2048
    assert got.searches == tuple(long[:len(got.searches)]) and len(got.searches) == 8


def test_host_resolv_conf_parsing() -> None:
    assert HOST == DNSConfig(("192.0.2.53", "192.0.2.54"), ("lan.example", "corp.example"),
                             ("edns0", "timeout:2"))


def test_the_written_kubelet_configuration_names_the_cluster_dns() -> None:
    config = KubeletConfig.from_dict(default_document())
    assert config.cluster_dns == ["10.43.0.10"] and config.cluster_domain == "cluster.local"
