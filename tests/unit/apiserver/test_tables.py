"""Server-side Tables: the columns and cells ``kubectl get`` prints."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from kubelite.api import errors
from kubelite.api.scheme import RESOURCES, Resource, lookup
from kubelite.apiserver.kinds.table import resolve
from kubelite.apiserver.printers import tables
from kubelite.apiserver.printers.core import format_endpoints, pod_status


def build_table(resource: Resource | str, objects: list[dict[str, Any]], now: dt.datetime,
                **options: Any) -> dict[str, Any]:
    """The Table the API server answers for ``resource`` (its kind's printer)."""
    return tables.build_table(resolve(resource)[1].printer, objects, now, **options)


def column_definitions(resource: Resource | str) -> list[dict[str, Any]]:
    return tables.column_definitions(resolve(resource)[1].printer)


NOW = dt.datetime(2026, 11, 25, 14, 9, 7, tzinfo=dt.UTC)
SAMPLE = Path("/work/shared/docs/kubectl-samples/sample-pods-table.json")


def ago(**kw: float) -> str:
    return (NOW - dt.timedelta(**kw)).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod(name: str = "p", *, containers: int = 1, inits: int = 0, phase: str = "Running",
        statuses: list[dict[str, Any]] | None = None,
        init_statuses: list[dict[str, Any]] | None = None,
        conditions: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": "u1",
                     "creationTimestamp": ago(hours=5), "labels": {"app": name}},
        "spec": {"containers": [{"name": f"c{i}", "image": "busybox"}
                                for i in range(containers)],
                 "nodeName": "node-1"},
        "status": {"phase": phase, "podIP": "10.244.0.9",
                   "podIPs": [{"ip": "10.244.0.9"}]},
    }
    if inits:
        obj["spec"]["initContainers"] = [{"name": f"i{i}", "image": "busybox"}
                                         for i in range(inits)]
    if statuses is not None:
        obj["status"]["containerStatuses"] = statuses
    if init_statuses is not None:
        obj["status"]["initContainerStatuses"] = init_statuses
    if conditions is not None:
        obj["status"]["conditions"] = conditions
    for k, v in extra.items():
        obj["metadata" if k in ("deletionTimestamp",) else "status"][k] = v
    return obj


def running(name: str = "c0", ready: bool = True, restarts: int = 0,
            finished: str | None = None) -> dict[str, Any]:
    cs: dict[str, Any] = {"name": name, "ready": ready, "restartCount": restarts,
                          "started": True, "state": {"running": {"startedAt": ago(hours=1)}}}
    if finished:
        cs["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error",
                                          "finishedAt": finished}}
    return cs


def waiting(reason: str, name: str = "c0", restarts: int = 0,
            finished: str | None = None) -> dict[str, Any]:
    cs: dict[str, Any] = {"name": name, "ready": False, "restartCount": restarts,
                          "state": {"waiting": {"reason": reason}}}
    if finished:
        cs["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error",
                                          "finishedAt": finished}}
    return cs


def terminated(reason: str = "", code: int = 0, signal: int = 0,
               name: str = "c0") -> dict[str, Any]:
    term: dict[str, Any] = {"exitCode": code, "finishedAt": ago(minutes=1)}
    if reason:
        term["reason"] = reason
    if signal:
        term["signal"] = signal
    return {"name": name, "ready": False, "restartCount": 0, "state": {"terminated": term}}


READY = [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}]
NOT_INITIALIZED = [{"type": "Initialized", "status": "False"}]


@pytest.mark.parametrize(
    ("obj", "ready", "status", "restarts"),
    [
        (pod(phase="Pending"), "0/1", "Pending", "0"),
        (pod(phase="Pending", statuses=[waiting("ContainerCreating")]),
         "0/1", "ContainerCreating", "0"),
        (pod(phase="Pending", statuses=[waiting("ErrImagePull")]), "0/1", "ErrImagePull", "0"),
        (pod(statuses=[running()], conditions=READY), "1/1", "Running", "0"),
        (pod(containers=2, statuses=[running("c0"), running("c1", ready=False)]),
         "1/2", "Running", "0"),
        (pod(statuses=[waiting("CrashLoopBackOff", restarts=2, finished=ago(hours=5))]),
         "0/1", "CrashLoopBackOff", "2 (5h ago)"),
        (pod(containers=2, statuses=[running("c0", restarts=1, finished=ago(minutes=3)),
                                     running("c1", restarts=1, finished=ago(hours=2))]),
         "2/2", "Running", "2 (3m ago)"),
        (pod(phase="Succeeded", statuses=[terminated("Completed")]), "0/1", "Completed", "0"),
        (pod(phase="Failed", statuses=[terminated("Error", 1)]), "0/1", "Error", "0"),
        (pod(phase="Failed", statuses=[terminated(code=3)]), "0/1", "ExitCode:3", "0"),
        (pod(phase="Failed", statuses=[terminated(code=137, signal=9)]), "0/1", "Signal:9", "0"),
        (pod(phase="Failed", reason="Evicted"), "0/1", "Evicted", "0"),
        # init containers
        (pod(phase="Pending", inits=2, statuses=[waiting("PodInitializing")],
             init_statuses=[running("i0", ready=False), waiting("PodInitializing", "i1")],
             conditions=NOT_INITIALIZED),
         "0/1", "Init:0/2", "0"),
        (pod(phase="Pending", inits=2, statuses=[waiting("PodInitializing")],
             init_statuses=[terminated("Completed", name="i0"), running("i1", ready=False)],
             conditions=NOT_INITIALIZED),
         "0/1", "Init:1/2", "0"),
        (pod(phase="Pending", inits=1, statuses=[waiting("PodInitializing")],
             init_statuses=[terminated("Error", 1, name="i0")], conditions=NOT_INITIALIZED),
         "0/1", "Init:Error", "0"),
        (pod(phase="Pending", inits=1, statuses=[waiting("PodInitializing")],
             init_statuses=[terminated(code=2, name="i0")], conditions=NOT_INITIALIZED),
         "0/1", "Init:ExitCode:2", "0"),
        (pod(phase="Pending", inits=1, statuses=[waiting("PodInitializing")],
             init_statuses=[waiting("CrashLoopBackOff", "i0", restarts=3,
                                    finished=ago(seconds=40))],
             conditions=NOT_INITIALIZED),
         "0/1", "Init:CrashLoopBackOff", "3 (40s ago)"),
        (pod(phase="Pending", inits=1, statuses=[waiting("PodInitializing")],
             init_statuses=[terminated("Completed", name="i0")],
             conditions=[{"type": "Initialized", "status": "True"}]),
         "0/1", "PodInitializing", "0"),
        # a container finished while another still runs
        (pod(containers=2, statuses=[terminated("Completed", name="c0"), running("c1")],
             conditions=READY), "1/2", "Running", "0"),
        (pod(containers=2, statuses=[terminated("Completed", name="c0"), running("c1")],
             conditions=[{"type": "Ready", "status": "False"}]), "1/2", "NotReady", "0"),
        # deletion
        (pod(statuses=[running()], deletionTimestamp=ago(seconds=3)),
         "1/1", "Terminating", "0"),
        (pod(phase="Succeeded", statuses=[terminated("Completed")],
             deletionTimestamp=ago(seconds=3)), "0/1", "Completed", "0"),
        (pod(statuses=[running()], deletionTimestamp=ago(seconds=3), reason="NodeLost"),
         "1/1", "Unknown", "0"),
        (pod(phase="Pending", conditions=[{"type": "PodScheduled", "status": "False",
                                           "reason": "SchedulingGated"}]),
         "0/1", "SchedulingGated", "0"),
    ],
)
def test_pod_ready_status_restarts(obj: dict[str, Any], ready: str, status: str,
                                   restarts: str) -> None:
    assert pod_status(obj, NOW) == (ready, status, restarts)


def test_sidecar_init_containers_count_as_containers() -> None:
    obj = pod(inits=1, statuses=[running()], init_statuses=[running("i0")],
              conditions=READY)
    obj["spec"]["initContainers"][0]["restartPolicy"] = "Always"
    assert pod_status(obj, NOW) == ("2/2", "Running", "0")


def test_pod_table_matches_the_real_shape() -> None:
    sample = json.loads(SAMPLE.read_text())
    obj = pod("multi", containers=2, statuses=[
        running("c0", restarts=1, finished=ago(hours=5)),
        running("c1", restarts=1, finished=ago(hours=5, minutes=10))], conditions=READY)
    table = build_table(lookup("", "v1", "pods"), [obj], NOW)  # type: ignore[arg-type]
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {}
    cols = table["columnDefinitions"]
    assert [(c["name"], c["type"], c["format"], c["priority"]) for c in cols] == [
        (c["name"], c["type"], c["format"], c["priority"])
        for c in sample["columnDefinitions"]
    ]
    by_name = {c["name"]: c for c in cols}
    for c in sample["columnDefinitions"]:  # the sample shortens some field docs
        assert by_name[c["name"]]["description"].startswith(c["description"].rstrip("."))
    row = table["rows"][0]
    assert row["cells"] == [*sample["rows"][0]["cells"][:2], "Running", "2 (5h ago)", "5h",
                            "10.244.0.9", "node-1", "<none>", "<none>"]
    assert row["object"] == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": obj["metadata"]}
    assert "conditions" not in row


def test_pod_wide_cells_and_readiness_gates() -> None:
    obj = pod(statuses=[running()], conditions=[*READY, {"type": "example.com/lb",
                                                          "status": "True"}])
    obj["spec"]["readinessGates"] = [{"conditionType": "example.com/lb"},
                                     {"conditionType": "example.com/dns"}]
    obj["status"]["nominatedNodeName"] = "node-2"
    cells = build_table("pods", [obj], NOW)["rows"][0]["cells"]
    assert cells[5:] == ["10.244.0.9", "node-1", "node-2", "1/2"]
    bare = pod(phase="Pending")
    del bare["spec"]["nodeName"]
    del bare["status"]["podIP"], bare["status"]["podIPs"]
    assert build_table("pods", [bare], NOW)["rows"][0]["cells"][5:] == [
        "<none>", "<none>", "<none>", "<none>"]


def test_finished_pods_carry_row_conditions() -> None:
    done = pod(phase="Succeeded", statuses=[terminated("Completed")])
    failed = pod(phase="Failed", statuses=[terminated("Error", 1)])
    rows = build_table("pods", [done, failed], NOW)["rows"]
    assert rows[0]["conditions"] == [{"type": "Completed", "status": "True",
                                      "reason": "Succeeded",
                                      "message": "The pod has completed successfully."}]
    assert rows[1]["conditions"][0]["reason"] == "Failed"


@pytest.mark.parametrize(
    ("include", "expected"),
    [
        ("None", None),
        ("Object", "full"),
        ("Metadata", "partial"),
        ("", "partial"),
    ],
)
def test_include_object(include: str, expected: str | None) -> None:
    obj = pod()
    row = build_table("pods", [obj], NOW, include_object=include)["rows"][0]
    if expected is None:
        assert row["object"] is None
    elif expected == "full":
        assert row["object"] == obj
    else:
        assert row["object"]["kind"] == "PartialObjectMetadata"
        assert row["object"]["metadata"] == obj["metadata"]


def test_bad_include_object_is_400() -> None:
    with pytest.raises(errors.StatusError) as info:
        build_table("pods", [pod()], NOW, include_object="Everything")
    assert info.value.code == 400
    assert info.value.message == 'unrecognized includeObject value: "Everything"'


def test_no_headers_for_later_watch_events() -> None:
    assert build_table("pods", [pod()], NOW, no_headers=True)["columnDefinitions"] is None


def names(resource: str) -> list[tuple[str, int]]:
    return [(c["name"], c["priority"]) for c in column_definitions(resource)]


@pytest.mark.parametrize(
    ("resource", "columns"),
    [
        ("deployments", [("Name", 0), ("Ready", 0), ("Up-to-date", 0), ("Available", 0),
                         ("Age", 0), ("Containers", 1), ("Images", 1), ("Selector", 1)]),
        ("replicasets", [("Name", 0), ("Desired", 0), ("Current", 0), ("Ready", 0),
                         ("Age", 0), ("Containers", 1), ("Images", 1), ("Selector", 1)]),
        ("daemonsets", [("Name", 0), ("Desired", 0), ("Current", 0), ("Ready", 0),
                        ("Up-to-date", 0), ("Available", 0), ("Node Selector", 0),
                        ("Age", 0), ("Containers", 1), ("Images", 1), ("Selector", 1)]),
        ("services", [("Name", 0), ("Type", 0), ("Cluster-IP", 0), ("External-IP", 0),
                      ("Port(s)", 0), ("Age", 0), ("Selector", 1)]),
        ("events", [("Last Seen", 0), ("Type", 0), ("Reason", 0), ("Object", 0),
                    ("Subobject", 1), ("Source", 1), ("Message", 0), ("First Seen", 1),
                    ("Count", 1), ("Name", 1)]),
        ("namespaces", [("Name", 0), ("Status", 0), ("Age", 0)]),
        ("nodes", [("Name", 0), ("Status", 0), ("Roles", 0), ("Age", 0), ("Version", 0),
                   ("Internal-IP", 1), ("External-IP", 1), ("OS-Image", 1),
                   ("Kernel-Version", 1), ("Container-Runtime", 1)]),
        ("configmaps", [("Name", 0), ("Data", 0), ("Age", 0)]),
        ("secrets", [("Name", 0), ("Type", 0), ("Data", 0), ("Age", 0)]),
        ("serviceaccounts", [("Name", 0), ("Secrets", 0), ("Age", 0)]),
        ("endpoints", [("Name", 0), ("Endpoints", 0), ("Age", 0)]),
        ("leases", [("Name", 0), ("Holder", 0), ("Age", 0)]),
        ("widgets", [("Name", 0), ("Created At", 0)]),
    ],
)
def test_column_sets(resource: str, columns: list[tuple[str, int]]) -> None:
    assert names(resource) == columns
    cols = column_definitions(resource)
    assert all(c["description"] for c in cols)
    assert sum(c["format"] == "name" for c in cols) == 1


def test_every_served_resource_has_columns() -> None:
    for res in RESOURCES:
        assert column_definitions(res)[0]["name"] in ("Name", "Last Seen")


def cells(resource: str, obj: dict[str, Any]) -> list[Any]:
    return list(build_table(resource, [obj], NOW)["rows"][0]["cells"])


def meta(name: str, **kw: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "default", "creationTimestamp": ago(days=3, hours=4),
            **kw}


TEMPLATE = {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx"},
                                    {"name": "log", "image": "busybox"}]}}


def test_deployment_cells() -> None:
    obj = {"metadata": meta("web"),
           "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                    "template": TEMPLATE},
           "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}}
    assert cells("deployments", obj) == ["web", "2/3", 3, 2, "3d4h", "web,log",
                                         "nginx,busybox", "app=web"]
    fresh = {"metadata": meta("new"), "spec": {"selector": {"matchLabels": {"app": "x"}},
                                               "template": TEMPLATE}}
    assert cells("deployments", fresh)[1:4] == ["0/1", 0, 0]


def test_replicaset_and_daemonset_cells() -> None:
    rs = {"metadata": meta("web-7d4b9c8f5"),
          "spec": {"replicas": 2, "template": TEMPLATE,
                   "selector": {"matchExpressions": [
                       {"key": "app", "operator": "In", "values": ["web", "api"]}]}},
          "status": {"replicas": 2, "readyReplicas": 1}}
    assert cells("replicasets", rs) == ["web-7d4b9c8f5", 2, 2, 1, "3d4h", "web,log",
                                        "nginx,busybox", "app in (api,web)"]
    ds = {"metadata": meta("agent"),
          "spec": {"selector": {"matchLabels": {"app": "agent"}},
                   "template": {"spec": {"containers": [{"name": "a", "image": "agent:1"}],
                                         "nodeSelector": {"kubernetes.io/os": "linux"}}}},
          "status": {"desiredNumberScheduled": 1, "currentNumberScheduled": 1,
                     "numberReady": 1, "updatedNumberScheduled": 1, "numberAvailable": 1}}
    assert cells("daemonsets", ds) == ["agent", 1, 1, 1, 1, 1, "kubernetes.io/os=linux",
                                       "3d4h", "a", "agent:1", "app=agent"]
    ds["spec"]["template"]["spec"].pop("nodeSelector")
    ds.pop("status")
    assert cells("daemonsets", ds)[1:7] == [0, 0, 0, 0, 0, "<none>"]


@pytest.mark.parametrize(
    ("spec", "status", "expected"),
    [
        ({"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
          "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
          "selector": {"k8s-app": "kube-dns"}},
         {}, ["ClusterIP", "10.96.0.10", "<none>", "53/UDP,53/TCP", "k8s-app=kube-dns"]),
        ({"type": "NodePort", "clusterIP": "10.96.1.1",
          "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]},
         {}, ["NodePort", "10.96.1.1", "<none>", "80:30080/TCP", "<none>"]),
        ({"type": "LoadBalancer", "clusterIP": "10.96.1.2", "ports": [{"port": 443}]},
         {}, ["LoadBalancer", "10.96.1.2", "<pending>", "443/TCP", "<none>"]),
        ({"type": "LoadBalancer", "clusterIP": "10.96.1.2", "ports": [{"port": 443}]},
         {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}},
         ["LoadBalancer", "10.96.1.2", "1.2.3.4", "443/TCP", "<none>"]),
        ({"type": "ExternalName", "externalName": "example.com"},
         {}, ["ExternalName", "<none>", "example.com", "<none>", "<none>"]),
        ({"clusterIP": "None", "clusterIPs": ["None"], "ports": [{"port": 80}]},
         {}, ["ClusterIP", "None", "<none>", "80/TCP", "<none>"]),
    ],
)
def test_service_cells(spec: dict[str, Any], status: dict[str, Any],
                       expected: list[str]) -> None:
    row = cells("services", {"metadata": meta("svc"), "spec": spec, "status": status})
    assert [row[1], row[2], row[3], row[4], row[6]] == expected


def test_event_cells_core_and_events_k8s_io() -> None:
    ev = {"metadata": meta("web.17a"), "type": "Normal", "reason": "Pulled",
          "message": "Successfully pulled image \"nginx\"\n",
          "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default",
                             "fieldPath": "spec.containers{web}"},
          "source": {"component": "kubelet", "host": "node-1"},
          "firstTimestamp": ago(minutes=10), "lastTimestamp": ago(minutes=2), "count": 3}
    assert cells("events", ev) == ["2m", "Normal", "Pulled", "pod/web",
                                   "spec.containers{web}", "kubelet, node-1",
                                   'Successfully pulled image "nginx"', "10m", 3, "web.17a"]
    new = {"metadata": meta("web.17b"), "type": "Warning", "reason": "BackOff",
           "note": "Back-off restarting failed container",
           "regarding": {"kind": "Pod", "name": "web"},
           "reportingController": "kubelet", "reportingInstance": "node-1",
           "eventTime": ago(seconds=30),
           "series": {"count": 5, "lastObservedTime": ago(seconds=4)}}
    assert cells("events", new) == ["4s", "Warning", "BackOff", "pod/web", "",
                                    "kubelet, node-1", "Back-off restarting failed container",
                                    "30s", 5, "web.17b"]
    single = {"metadata": meta("x"), "involvedObject": {"kind": "Node"},
              "eventTime": ago(seconds=9), "reportingComponent": "scheduler"}
    assert cells("events", single)[0:9] == ["9s", "", "", "node", "", "scheduler", "", "9s", 1]


@pytest.mark.parametrize(
    ("node", "status", "roles"),
    [
        ({"status": {"conditions": [{"type": "Ready", "status": "True"}]}}, "Ready", "<none>"),
        ({"status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}},
         "NotReady", "<none>"),
        ({"status": {}}, "Unknown", "<none>"),
        ({"spec": {"unschedulable": True},
          "status": {"conditions": [{"type": "MemoryPressure", "status": "False"},
                                    {"type": "Ready", "status": "True"}]}},
         "Ready,SchedulingDisabled", "<none>"),
        ({"labels": {"node-role.kubernetes.io/control-plane": "",
                     "node-role.kubernetes.io/master": "", "kubernetes.io/role": "infra"},
          "status": {"conditions": [{"type": "Ready", "status": "True"}]}},
         "Ready", "control-plane,infra,master"),
    ],
)
def test_node_status_and_roles(node: dict[str, Any], status: str, roles: str) -> None:
    obj = {"metadata": {"name": "n1", "creationTimestamp": ago(days=45),
                        "labels": node.get("labels", {})},
           "spec": node.get("spec", {}), "status": node.get("status", {})}
    row = cells("nodes", obj)
    assert row[:4] == ["n1", status, roles, "45d"]
    assert row[4:] == ["", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"]


def test_node_wide_cells() -> None:
    obj = {"metadata": {"name": "n1", "creationTimestamp": ago(hours=1)},
           "status": {"conditions": [{"type": "Ready", "status": "True"}],
                      "addresses": [{"type": "Hostname", "address": "n1"},
                                    {"type": "InternalIP", "address": "192.168.1.5"}],
                      "nodeInfo": {"kubeletVersion": "v1.32.5", "osImage": "Debian 12",
                                   "kernelVersion": "6.1.0", "containerRuntimeVersion":
                                       "kubelite://0.1.0"}}}
    assert cells("nodes", obj) == ["n1", "Ready", "<none>", "60m", "v1.32.5", "192.168.1.5",
                                   "<none>", "Debian 12", "6.1.0", "kubelite://0.1.0"]


def test_small_kinds() -> None:
    assert cells("namespaces", {"metadata": meta("default"),
                                "status": {"phase": "Active"}}) == ["default", "Active", "3d4h"]
    assert cells("configmaps", {"metadata": meta("cfg"), "data": {"a": "1", "b": "2"},
                                "binaryData": {"c": "AA=="}}) == ["cfg", 3, "3d4h"]
    assert cells("configmaps", {"metadata": meta("empty")}) == ["empty", 0, "3d4h"]
    assert cells("secrets", {"metadata": meta("s"), "type": "kubernetes.io/tls",
                             "data": {"tls.crt": "", "tls.key": ""}}) == [
        "s", "kubernetes.io/tls", 2, "3d4h"]
    assert cells("secrets", {"metadata": meta("o"), "stringData": {"a": "b"}}) == [
        "o", "Opaque", 1, "3d4h"]
    assert cells("serviceaccounts", {"metadata": meta("default")}) == ["default", 0, "3d4h"]
    assert cells("leases", {"metadata": meta("node-1"),
                            "spec": {"holderIdentity": "node-1"}}) == ["node-1", "node-1", "3d4h"]
    assert cells("leases", {"metadata": meta("free"), "spec": {}}) == ["free", "", "3d4h"]


def test_default_table_is_name_and_created_at() -> None:
    row = cells("widgets", {"metadata": {"name": "w",
                                         "creationTimestamp": "2026-11-25T10:00:00Z"}})
    assert row == ["w", "2026-11-25T10:00:00Z"]
    assert cells("widgets", {"metadata": {"name": "w"}}) == ["w", "0001-01-01T00:00:00Z"]
    assert column_definitions("widgets")[1]["type"] == "date"


@pytest.mark.parametrize(
    ("subsets", "text"),
    [
        ([], "<none>"),
        ([{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}], "10.0.0.1:80"),
        ([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
           "ports": [{"port": 80}, {"port": 443}]}],
         "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more..."),
        ([{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 8080}]}], "[fd00::1]:8080"),
        ([{"addresses": [{"ip": "10.0.0.1"}]}], "10.0.0.1"),
    ],
)
def test_format_endpoints(subsets: list[dict[str, Any]], text: str) -> None:
    assert format_endpoints({"subsets": subsets}) == text


def test_many_rows_keep_order() -> None:
    pods = [pod(f"p{i}", statuses=[running()]) for i in range(50)]
    rows = build_table("pods", pods, NOW)["rows"]
    assert [r["cells"][0] for r in rows] == [f"p{i}" for i in range(50)]
