"""The printers of apps/v1: Deployments, ReplicaSets and DaemonSets (``kubectl get``).

As ``pkg/printers/internalversion`` (Kubernetes 1.32); pure functions of the object and
``now``.
"""

from __future__ import annotations

import datetime as dt

from kubelite.api.meta import JSON, dig
from kubelite.api.selectors import format_labels
from kubelite.apiserver.printers.table_docs import DOC
from kubelite.apiserver.printers.tables import (
    AGE_COL,
    CONTAINERS_COL,
    IMAGES_COL,
    Cells,
    Printer,
    age_cell,
    col,
    container_cells,
    format_selector,
    int_of,
    map_at,
    name_col,
    name_of,
    selector_string,
)

# -- workloads -------------------------------------------------------------------------

def _deployment_cells(obj: JSON, now: dt.datetime) -> Cells:
    names, images = container_cells(dig(obj, "spec", "template", "spec"))
    selector = selector_string(dig(obj, "spec", "selector"))
    desired = int_of(obj, "spec", "replicas", default=1)
    ready = int_of(obj, "status", "readyReplicas")
    return [
        name_of(obj), f"{ready}/{desired}", int_of(obj, "status", "updatedReplicas"),
        int_of(obj, "status", "availableReplicas"), age_cell(obj, now),
        names, images, "<invalid>" if selector is None else selector,
    ]


DEPLOYMENT = Printer(
    (
        name_col(),
        col("Ready", "Number of the pod with ready state"),
        col("Up-to-date", DOC["DEPLOY_UPDATED"]),
        col("Available", DOC["DEPLOY_AVAILABLE"]),
        AGE_COL, CONTAINERS_COL, IMAGES_COL,
        col("Selector", DOC["DEPLOY_SELECTOR"], priority=1),
    ),
    _deployment_cells,
)


def _replicaset_cells(obj: JSON, now: dt.datetime) -> Cells:
    names, images = container_cells(dig(obj, "spec", "template", "spec"))
    return [
        name_of(obj), int_of(obj, "spec", "replicas", default=1), int_of(obj, "status", "replicas"),
        int_of(obj, "status", "readyReplicas"), age_cell(obj, now),
        names, images, format_selector(dig(obj, "spec", "selector")),
    ]


REPLICASET = Printer(
    (
        name_col(),
        col("Desired", DOC["RS_DESIRED"], type_="integer"),
        col("Current", DOC["RS_CURRENT"], type_="integer"),
        col("Ready", DOC["RS_READY"], type_="integer"),
        AGE_COL, CONTAINERS_COL, IMAGES_COL,
        col("Selector", DOC["RS_SELECTOR"], priority=1),
    ),
    _replicaset_cells,
)


def _daemonset_cells(obj: JSON, now: dt.datetime) -> Cells:
    template_spec = dig(obj, "spec", "template", "spec")
    names, images = container_cells(template_spec)
    return [
        name_of(obj),
        int_of(obj, "status", "desiredNumberScheduled"),
        int_of(obj, "status", "currentNumberScheduled"),
        int_of(obj, "status", "numberReady"), int_of(obj, "status", "updatedNumberScheduled"),
        int_of(obj, "status", "numberAvailable"),
        format_labels(map_at(template_spec, "nodeSelector")), age_cell(obj, now),
        names, images, format_selector(dig(obj, "spec", "selector")),
    ]


DAEMONSET = Printer(
    (
        name_col(),
        col("Desired", DOC["DS_DESIRED"], type_="integer"),
        col("Current", DOC["DS_CURRENT"], type_="integer"),
        col("Ready", DOC["DS_READY"], type_="integer"),
        col("Up-to-date", DOC["DS_UPDATED"], type_="integer"),
        col("Available", DOC["DS_AVAILABLE"], type_="integer"),
        col("Node Selector", DOC["NODE_SELECTOR"]),
        AGE_COL, CONTAINERS_COL, IMAGES_COL,
        col("Selector", DOC["DS_SELECTOR"], priority=1),
    ),
    _daemonset_cells,
)


