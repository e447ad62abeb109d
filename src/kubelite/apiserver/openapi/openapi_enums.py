"""Enumerated string fields of the Kubernetes 1.32 API, for the OpenAPI documents.

The JSON Schema definitions shipped by ``kubernetes-validate`` keep descriptions but drop the
``enum`` lists that kube-apiserver publishes for Go types marked ``+enum``. This table puts
them back for the types kubelite's documents include (core/v1, apps/v1 and what they
reference). Keys are ``(definition name, property)``; a property ending in ``[]`` means the
enum applies to the items of an array. Values are sorted as kube-openapi sorts them.

Facts come from the ``+enum`` types of ``k8s.io/api`` at 1.32 (core/v1 ``types.go``,
apps/v1 ``types.go``, policy/v1 ``types.go``); only the value lists are recorded here.
"""

from __future__ import annotations

_CORE = "io.k8s.api.core.v1."
_APPS = "io.k8s.api.apps.v1."
_POLICY = "io.k8s.api.policy.v1."

_PROTOCOL = ("SCTP", "TCP", "UDP")
_PULL_POLICY = ("Always", "IfNotPresent", "Never")
_TERMINATION_MESSAGE_POLICY = ("FallbackToLogsOnError", "File")
_TAINT_EFFECT = ("NoExecute", "NoSchedule", "PreferNoSchedule")
_PROFILE_TYPE = ("Localhost", "RuntimeDefault", "Unconfined")
_TRAFFIC_POLICY = ("Cluster", "Local")
_INCLUSION_POLICY = ("Honor", "Ignore")
_UPDATE_STRATEGY = ("OnDelete", "RollingUpdate")

ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    # core/v1: pods and containers
    (_CORE + "PodSpec", "restartPolicy"): ("Always", "Never", "OnFailure"),
    (_CORE + "PodSpec", "dnsPolicy"): ("ClusterFirst", "ClusterFirstWithHostNet", "Default",
                                       "None"),
    (_CORE + "PodSpec", "preemptionPolicy"): ("Never", "PreemptLowerPriority"),
    (_CORE + "PodStatus", "phase"): ("Failed", "Pending", "Running", "Succeeded", "Unknown"),
    (_CORE + "PodStatus", "qosClass"): ("BestEffort", "Burstable", "Guaranteed"),
    (_CORE + "PodStatus", "resize"): ("Deferred", "InProgress", "Infeasible", "Proposed"),
    (_CORE + "Container", "imagePullPolicy"): _PULL_POLICY,
    (_CORE + "Container", "terminationMessagePolicy"): _TERMINATION_MESSAGE_POLICY,
    (_CORE + "EphemeralContainer", "imagePullPolicy"): _PULL_POLICY,
    (_CORE + "EphemeralContainer", "terminationMessagePolicy"): _TERMINATION_MESSAGE_POLICY,
    (_CORE + "ContainerPort", "protocol"): _PROTOCOL,
    (_CORE + "ContainerResizePolicy", "restartPolicy"): ("NotRequired", "RestartContainer"),
    (_CORE + "HTTPGetAction", "scheme"): ("HTTP", "HTTPS"),
    (_CORE + "VolumeMount", "mountPropagation"): ("Bidirectional", "HostToContainer", "None"),
    (_CORE + "SecurityContext", "procMount"): ("Default", "Unmasked"),
    (_CORE + "PodSecurityContext", "fsGroupChangePolicy"): ("Always", "OnRootMismatch"),
    (_CORE + "PodSecurityContext", "supplementalGroupsPolicy"): ("Merge", "Strict"),
    (_CORE + "SeccompProfile", "type"): _PROFILE_TYPE,
    (_CORE + "AppArmorProfile", "type"): _PROFILE_TYPE,
    (_CORE + "Toleration", "effect"): _TAINT_EFFECT,
    (_CORE + "Toleration", "operator"): ("Equal", "Exists"),
    (_CORE + "Taint", "effect"): _TAINT_EFFECT,
    (_CORE + "NodeSelectorRequirement", "operator"): ("DoesNotExist", "Exists", "Gt", "In",
                                                      "Lt", "NotIn"),
    (_CORE + "TopologySpreadConstraint", "whenUnsatisfiable"): ("DoNotSchedule",
                                                                "ScheduleAnyway"),
    (_CORE + "TopologySpreadConstraint", "nodeAffinityPolicy"): _INCLUSION_POLICY,
    (_CORE + "TopologySpreadConstraint", "nodeTaintsPolicy"): _INCLUSION_POLICY,
    (_CORE + "HostPathVolumeSource", "type"): ("", "BlockDevice", "CharDevice", "Directory",
                                               "DirectoryOrCreate", "File", "FileOrCreate",
                                               "Socket"),
    # core/v1: services, endpoints, namespaces, nodes
    (_CORE + "ServiceSpec", "type"): ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort"),
    (_CORE + "ServiceSpec", "sessionAffinity"): ("ClientIP", "None"),
    (_CORE + "ServiceSpec", "externalTrafficPolicy"): _TRAFFIC_POLICY,
    (_CORE + "ServiceSpec", "internalTrafficPolicy"): _TRAFFIC_POLICY,
    (_CORE + "ServiceSpec", "ipFamilyPolicy"): ("PreferDualStack", "RequireDualStack",
                                                "SingleStack"),
    (_CORE + "ServiceSpec", "ipFamilies[]"): ("IPv4", "IPv6"),
    (_CORE + "ServicePort", "protocol"): _PROTOCOL,
    (_CORE + "EndpointPort", "protocol"): _PROTOCOL,
    (_CORE + "PortStatus", "protocol"): _PROTOCOL,
    (_CORE + "LoadBalancerIngress", "ipMode"): ("Proxy", "VIP"),
    (_CORE + "NamespaceStatus", "phase"): ("Active", "Terminating"),
    (_CORE + "NodeStatus", "phase"): ("Pending", "Running", "Terminated"),
    (_CORE + "PersistentVolumeClaimSpec", "volumeMode"): ("Block", "Filesystem"),
    # apps/v1
    (_APPS + "DeploymentStrategy", "type"): ("Recreate", "RollingUpdate"),
    (_APPS + "DaemonSetUpdateStrategy", "type"): _UPDATE_STRATEGY,
    (_APPS + "StatefulSetUpdateStrategy", "type"): _UPDATE_STRATEGY,
    (_APPS + "StatefulSetSpec", "podManagementPolicy"): ("OrderedReady", "Parallel"),
    # policy/v1
    (_POLICY + "PodDisruptionBudgetSpec", "unhealthyPodEvictionPolicy"): ("AlwaysAllow",
                                                                          "IfHealthyBudget"),
}


def enum_description(description: str, values: tuple[str, ...]) -> str:
    """``description`` followed by the list of values, as kube-openapi appends it."""
    listing = "\n".join(f' - `"{v}"`' for v in values)
    return f"{description}\n\nPossible enum values:\n{listing}"
