"""kube-controller-manager's workload controllers: ReplicaSet, Deployment, DaemonSet and
the garbage collector, in the client-go style (informers, a work queue, one worker per
key, a pure plan and a separate step that acts)."""
