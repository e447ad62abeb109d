"""Service variables in containers, as the kubelet makes them."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.kubelet.envvars import container_env, service_env, services_for

JSON = dict[str, Any]


def svc(name: str, ns: str, ip: str, *ports: JSON) -> JSON:
    return {"metadata": {"name": name, "namespace": ns},
            "spec": {"clusterIP": ip, "ports": list(ports)}}


KUBERNETES = svc("kubernetes", "default", "10.43.0.1",
                 {"name": "https", "port": 443, "protocol": "TCP"})
WEB = svc("my-web", "app", "10.43.0.20", {"name": "http", "port": 80, "protocol": "TCP"},
          {"name": "dns", "port": 53, "protocol": "UDP"})
HEADLESS = svc("headless", "app", "None", {"port": 80})
OTHER_NS = svc("db", "other", "10.43.0.30", {"port": 5432})


def pod(ns: str = "app", **spec: Any) -> JSON:
    return {"metadata": {"name": "p", "namespace": ns}, "spec": spec}


def test_the_variables_of_one_service() -> None:
    assert service_env([WEB]) == {
        "MY_WEB_SERVICE_HOST": "10.43.0.20",
        "MY_WEB_SERVICE_PORT": "80",
        "MY_WEB_SERVICE_PORT_HTTP": "80",
        "MY_WEB_SERVICE_PORT_DNS": "53",
        "MY_WEB_PORT": "tcp://10.43.0.20:80",
        "MY_WEB_PORT_80_TCP": "tcp://10.43.0.20:80",
        "MY_WEB_PORT_80_TCP_PROTO": "tcp",
        "MY_WEB_PORT_80_TCP_PORT": "80",
        "MY_WEB_PORT_80_TCP_ADDR": "10.43.0.20",
        "MY_WEB_PORT_53_UDP": "udp://10.43.0.20:53",
        "MY_WEB_PORT_53_UDP_PROTO": "udp",
        "MY_WEB_PORT_53_UDP_PORT": "53",
        "MY_WEB_PORT_53_UDP_ADDR": "10.43.0.20",
    }


@pytest.mark.parametrize(("the_pod", "names"), [
    (pod(), ["kubernetes", "my-web"]),
    (pod(enableServiceLinks=False), ["kubernetes"]),
    (pod("other"), ["db", "kubernetes"]),
    (pod("default"), ["kubernetes"]),
])
def test_which_services_a_pod_sees(the_pod: JSON, names: list[str]) -> None:
    chosen = services_for(the_pod, [KUBERNETES, WEB, HEADLESS, OTHER_NS])
    assert [s["metadata"]["name"] for s in chosen] == names


async def test_container_variables_win_and_may_name_service_ones() -> None:
    async def get(kind: str, ns: str, name: str) -> JSON | None:
        return None
    container = {"env": [{"name": "MY_WEB_SERVICE_PORT", "value": "8080"},
                         {"name": "URL", "value": "http://$(MY_WEB_SERVICE_HOST)/"}]}
    env = dict(await container_env(pod(), container, get, services=[KUBERNETES, WEB]))
    assert env["MY_WEB_SERVICE_PORT"] == "8080"
    assert env["URL"] == "http://10.43.0.20/"
    assert env["KUBERNETES_SERVICE_HOST"] == "10.43.0.1"
    assert env["KUBERNETES_SERVICE_PORT"] == "443"
    assert env["KUBERNETES_PORT_443_TCP"] == "tcp://10.43.0.1:443"
    order = [k for k, _ in await container_env(pod(), container, get,
                                                services=[KUBERNETES, WEB])]
    assert order[:2] == ["MY_WEB_SERVICE_PORT", "URL"]  # the container's own first
