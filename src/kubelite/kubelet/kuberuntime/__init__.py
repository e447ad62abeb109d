"""The runtime half of a pod sync, as upstream's pkg/kubelet/kuberuntime: what to do
(``actions``: computePodActions, a pure planner), doing it (``pod_sync``: SyncPod and
KillPod against the CRI-like runtime) and the runtime configs built from a pod spec
(``runtime_config``)."""
