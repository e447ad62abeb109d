"""Allocators of cluster-wide Service values: ClusterIPs and nodePorts
(kube-apiserver's ``registry/core/service/ipallocator`` and ``portallocator``)."""
