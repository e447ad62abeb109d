"""The pods the official clients' tests run against (started once by conftest's ``node``)."""

from __future__ import annotations

from typing import Any

SECOND_PORT_PAGE = "second port"

PODS: list[dict[str, Any]] = [
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bb"},
     "spec": {"terminationGracePeriodSeconds": 0, "containers": [
         {"name": "bb", "image": "busybox", "command": ["sleep", "3600"]}]}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "att"},
     "spec": {"terminationGracePeriodSeconds": 0, "containers": [
         {"name": "att", "image": "busybox", "stdin": True,
          "command": ["sh", "-c", 'while read l; do echo "got $l"; done']}]}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ng"},
     "spec": {"terminationGracePeriodSeconds": 0, "containers": [
         {"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80}]},
         {"name": "second", "image": "busybox", "ports": [{"containerPort": 8080}],
          "command": ["sh", "-c", f"mkdir -p /www && echo {SECOND_PORT_PAGE} > "
                                  "/www/index.html && exec httpd -f -p 8080 -h /www"]}]}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "counter"},
     "spec": {"terminationGracePeriodSeconds": 0, "containers": [
         {"name": "counter", "image": "busybox", "command": [
             "sh", "-c", 'i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.3; done']}]}},
]
