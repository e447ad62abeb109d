"""Labels and annotations the kubelet puts on runtime objects (as the Go kubelet does),
so that the runtime alone tells which pod and container an object belongs to and how
many times it was restarted (``attempt``)."""

from __future__ import annotations

POD_UID = "io.kubernetes.pod.uid"
POD_NAME = "io.kubernetes.pod.name"
POD_NAMESPACE = "io.kubernetes.pod.namespace"
CONTAINER_NAME = "io.kubernetes.container.name"
CONTAINER_TYPE = "io.kubelite.container.type"  # "init" | "app"
MANAGED = "io.kubelite.managed"

CONTAINER_HASH = "io.kubernetes.container.hash"
RESTART_COUNT = "io.kubernetes.container.restartCount"
TERMINATION_MESSAGE_PATH = "io.kubernetes.container.terminationMessagePath"
TERMINATION_MESSAGE_POLICY = "io.kubernetes.container.terminationMessagePolicy"
TERMINATION_MESSAGE_HOST_PATH = "io.kubelite.container.terminationMessageHostPath"
GRACE_PERIOD = "io.kubernetes.pod.terminationGracePeriod"
PRE_STOP = "io.kubernetes.container.preStopHandler"

CONFIG_MIRROR = "kubernetes.io/config.mirror"
CONFIG_SOURCE = "kubernetes.io/config.source"
CONFIG_HASH = "kubernetes.io/config.hash"
CONFIG_SEEN = "kubernetes.io/config.seen"
