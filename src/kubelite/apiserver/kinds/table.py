"""The one table naming each kind's strategy; kinds not in it get the generic one.

Adding a kind: its module in this package, one row here (see docs/architecture.md).
Keyed by (group, kind): core and events.k8s.io Events share one strategy.
"""

from __future__ import annotations

from kubelite.api import scheme
from kubelite.apiserver.kinds.apps import (
    DAEMON_SET_STRATEGY,
    DEPLOYMENT_STRATEGY,
    REPLICA_SET_STRATEGY,
)
from kubelite.apiserver.kinds.batch import CRON_JOB_STRATEGY, JOB_STRATEGY
from kubelite.apiserver.kinds.config import CONFIG_MAP_STRATEGY, SECRET_STRATEGY
from kubelite.apiserver.kinds.coordination import LEASE_STRATEGY
from kubelite.apiserver.kinds.discovery import ENDPOINT_SLICE_STRATEGY
from kubelite.apiserver.kinds.events import EVENT_STRATEGY
from kubelite.apiserver.kinds.namespaces import NAMESPACE_STRATEGY
from kubelite.apiserver.kinds.nodes import NODE_STRATEGY
from kubelite.apiserver.kinds.pods import POD_STRATEGY
from kubelite.apiserver.kinds.scheduling import PRIORITY_CLASS_STRATEGY
from kubelite.apiserver.kinds.serviceaccounts import SERVICE_ACCOUNT_STRATEGY
from kubelite.apiserver.kinds.services import ENDPOINTS_STRATEGY, SERVICE_STRATEGY
from kubelite.apiserver.kinds.statefulsets import (
    CONTROLLER_REVISION_STRATEGY,
    POD_DISRUPTION_BUDGET_STRATEGY,
    STATEFUL_SET_STRATEGY,
)
from kubelite.apiserver.kinds.storage import (
    PERSISTENT_VOLUME_CLAIM_STRATEGY,
    PERSISTENT_VOLUME_STRATEGY,
    STORAGE_CLASS_STRATEGY,
)
from kubelite.apiserver.kinds.strategy import GENERIC, Strategy

STRATEGIES: dict[tuple[str, str], Strategy] = {
    ("", "ConfigMap"): CONFIG_MAP_STRATEGY,
    ("", "Endpoints"): ENDPOINTS_STRATEGY,
    ("", "Event"): EVENT_STRATEGY,
    ("", "Namespace"): NAMESPACE_STRATEGY,
    ("", "Node"): NODE_STRATEGY,
    ("", "PersistentVolume"): PERSISTENT_VOLUME_STRATEGY,
    ("", "PersistentVolumeClaim"): PERSISTENT_VOLUME_CLAIM_STRATEGY,
    ("", "Pod"): POD_STRATEGY,
    ("", "Secret"): SECRET_STRATEGY,
    ("", "Service"): SERVICE_STRATEGY,
    ("", "ServiceAccount"): SERVICE_ACCOUNT_STRATEGY,
    ("apps", "ControllerRevision"): CONTROLLER_REVISION_STRATEGY,
    ("apps", "DaemonSet"): DAEMON_SET_STRATEGY,
    ("apps", "Deployment"): DEPLOYMENT_STRATEGY,
    ("apps", "ReplicaSet"): REPLICA_SET_STRATEGY,
    ("apps", "StatefulSet"): STATEFUL_SET_STRATEGY,
    ("batch", "CronJob"): CRON_JOB_STRATEGY,
    ("batch", "Job"): JOB_STRATEGY,
    ("coordination.k8s.io", "Lease"): LEASE_STRATEGY,
    ("events.k8s.io", "Event"): EVENT_STRATEGY,
    ("discovery.k8s.io", "EndpointSlice"): ENDPOINT_SLICE_STRATEGY,
    ("policy", "PodDisruptionBudget"): POD_DISRUPTION_BUDGET_STRATEGY,
    ("storage.k8s.io", "StorageClass"): STORAGE_CLASS_STRATEGY,
    ("scheduling.k8s.io", "PriorityClass"): PRIORITY_CLASS_STRATEGY,
}


def strategy_for(res: scheme.Resource) -> Strategy:
    """The strategy of ``res``'s kind (the generic one for kinds without their own)."""
    return STRATEGIES.get((res.group, res.kind), GENERIC)


def resolve(resource: scheme.Resource | str) -> tuple[scheme.Resource, Strategy]:
    """A resource given as itself or by its plural, and its strategy. An unknown plural
    is taken as a namespaced kind with the generic strategy."""
    if isinstance(resource, str):
        found = next((r for r in scheme.RESOURCES if r.plural == resource), None)
        resource = found or scheme.Resource("", "v1", "", resource, "", True)
    return resource, strategy_for(resource)
