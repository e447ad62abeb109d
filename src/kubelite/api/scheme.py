"""The resources kubelite serves: group, version, kind, plural, scope and verbs.

This is the one table that discovery, routing, storage keys and OpenAPI read from.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
SUB_VERBS = ("get", "patch", "update")


@dataclass(frozen=True)
class Subresource:
    """A subresource such as ``status`` or ``scale``; ``kind`` is what it returns."""

    name: str
    group: str
    version: str
    kind: str
    verbs: tuple[str, ...] = SUB_VERBS


@dataclass(frozen=True)
class Resource:
    """One REST resource, e.g. ``apps/v1 deployments``.

    ``storage`` names the storage key space; two resources that share it (core and
    events.k8s.io events) see the same objects.
    """

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    storage: str = ""

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        return self.group_version

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def storage_name(self) -> str:
        return self.storage or f"{self.group or 'core'}/{self.plural}"

    def key(self, namespace: str | None, name: str) -> str:
        """The storage key of one object."""
        return f"{self.prefix(namespace)}{name}"

    def prefix(self, namespace: str | None) -> str:
        """The storage key prefix of a collection (all namespaces when ``namespace`` is None)."""
        base = f"/registry/{self.storage_name}/"
        if self.namespaced and namespace:
            return f"{base}{namespace}/"
        return base

    def subresource(self, name: str) -> Subresource | None:
        for s in self.subresources:
            if s.name == name:
                return s
        return None


def _status(group: str, version: str, kind: str) -> Subresource:
    return Subresource("status", group, version, kind)


def _scale() -> Subresource:
    return Subresource("scale", "autoscaling", "v1", "Scale")


def _pod_subresources() -> tuple[Subresource, ...]:
    return (
        Subresource("attach", "", "v1", "PodAttachOptions", ("create", "get")),
        Subresource("binding", "", "v1", "Binding", ("create",)),
        Subresource("ephemeralcontainers", "", "v1", "Pod", SUB_VERBS),
        Subresource("eviction", "policy", "v1", "Eviction", ("create",)),
        Subresource("exec", "", "v1", "PodExecOptions", ("create", "get")),
        Subresource("log", "", "v1", "Pod", ("get",)),
        Subresource("portforward", "", "v1", "PodPortForwardOptions", ("create", "get")),
        Subresource("proxy", "", "v1", "PodProxyOptions",
                    ("create", "delete", "get", "patch", "update")),
        _status("", "v1", "Pod"),
    )


RESOURCES: tuple[Resource, ...] = (
    # core/v1, in the order kube-apiserver lists them
    Resource("", "v1", "ConfigMap", "configmaps", "configmap", True, ("cm",)),
    Resource("", "v1", "Endpoints", "endpoints", "endpoints", True, ("ep",)),
    Resource("", "v1", "Event", "events", "event", True, ("ev",), storage="events"),
    Resource("", "v1", "Namespace", "namespaces", "namespace", False, ("ns",),
             subresources=(_status("", "v1", "Namespace"),),
             verbs=("create", "delete", "get", "list", "patch", "update", "watch")),
    Resource("", "v1", "Node", "nodes", "node", False, ("no",),
             subresources=(_status("", "v1", "Node"),
                           Subresource("proxy", "", "v1", "NodeProxyOptions",
                                       ("create", "delete", "get", "patch", "update")))),
    Resource("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims",
             "persistentvolumeclaim", True, ("pvc",),
             subresources=(_status("", "v1", "PersistentVolumeClaim"),)),
    Resource("", "v1", "PersistentVolume", "persistentvolumes", "persistentvolume", False,
             ("pv",), subresources=(_status("", "v1", "PersistentVolume"),)),
    Resource("", "v1", "Pod", "pods", "pod", True, ("po",), ("all",),
             subresources=_pod_subresources()),
    Resource("", "v1", "Secret", "secrets", "secret", True),
    Resource("", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", True, ("sa",)),
    Resource("", "v1", "Service", "services", "service", True, ("svc",), ("all",),
             subresources=(_status("", "v1", "Service"),)),
    # apps/v1
    Resource("apps", "v1", "ControllerRevision", "controllerrevisions", "controllerrevision",
             True),
    Resource("apps", "v1", "DaemonSet", "daemonsets", "daemonset", True, ("ds",), ("all",),
             subresources=(_status("apps", "v1", "DaemonSet"),)),
    Resource("apps", "v1", "Deployment", "deployments", "deployment", True, ("deploy",),
             ("all",), subresources=(_scale(), _status("apps", "v1", "Deployment"))),
    Resource("apps", "v1", "ReplicaSet", "replicasets", "replicaset", True, ("rs",), ("all",),
             subresources=(_scale(), _status("apps", "v1", "ReplicaSet"))),
    # batch/v1
    Resource("batch", "v1", "CronJob", "cronjobs", "cronjob", True, ("cj",), ("all",),
             subresources=(_status("batch", "v1", "CronJob"),)),
    Resource("batch", "v1", "Job", "jobs", "job", True, (), ("all",),
             subresources=(_status("batch", "v1", "Job"),)),
    Resource("apps", "v1", "StatefulSet", "statefulsets", "statefulset", True, ("sts",),
             ("all",), subresources=(_scale(), _status("apps", "v1", "StatefulSet"))),
    # coordination.k8s.io/v1
    Resource("coordination.k8s.io", "v1", "Lease", "leases", "lease", True),
    # events.k8s.io/v1 shares storage with core events
    Resource("events.k8s.io", "v1", "Event", "events", "event", True, ("ev",),
             storage="events"),
    Resource("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass",
             False, ("pc",)),
    # reviews: created and answered, never stored (kubectl auth whoami / can-i)
    Resource("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", "",
             False, verbs=("create",)),
    Resource("authorization.k8s.io", "v1", "SelfSubjectAccessReview",
             "selfsubjectaccessreviews", "", False, verbs=("create",)),
    # discovery.k8s.io/v1
    Resource("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice",
             True),
    # policy/v1, storage.k8s.io/v1
    Resource("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets",
             "poddisruptionbudget", True, ("pdb",),
             subresources=(_status("policy", "v1", "PodDisruptionBudget"),)),
    Resource("storage.k8s.io", "v1", "StorageClass", "storageclasses", "storageclass", False,
             ("sc",)),
)

# Group order for discovery: core first, then groups as kube-apiserver orders them.
GROUP_ORDER: tuple[str, ...] = ("", "apps", "events.k8s.io", "authentication.k8s.io",
                                "authorization.k8s.io", "batch", "policy",
                                "storage.k8s.io", "scheduling.k8s.io",
                                "coordination.k8s.io", "discovery.k8s.io")


def groups() -> list[str]:
    """Served API groups ("" is core), in discovery order."""
    return list(GROUP_ORDER)


def resources_in(group: str, version: str) -> list[Resource]:
    return [r for r in RESOURCES if r.group == group and r.version == version]


def versions_of(group: str) -> list[str]:
    out: list[str] = []
    for r in RESOURCES:
        if r.group == group and r.version not in out:
            out.append(r.version)
    return out


_BY_GVR: dict[tuple[str, str, str], Resource] = {
    (r.group, r.version, r.plural): r for r in RESOURCES
}
_BY_GVK: dict[tuple[str, str, str], Resource] = {
    (r.group, r.version, r.kind): r for r in RESOURCES
}


def lookup(group: str, version: str, plural: str) -> Resource | None:
    """The resource served at ``/apis/group/version/plural`` (core: group "")."""
    return _BY_GVR.get((group, version, plural))


def by_kind(api_version: str, kind: str) -> Resource | None:
    """The resource for an object's ``apiVersion`` and ``kind``."""
    group, _, version = api_version.rpartition("/")
    return _BY_GVK.get((group, version, kind))

