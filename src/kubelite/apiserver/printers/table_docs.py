"""Column descriptions of server-side Tables: the 1.32 API field docs the printers cite.

kube-apiserver fills each column's ``description`` from the Go types' ``SwaggerDoc()``;
these are those texts for the columns kubelite prints (taken from the 1.32 OpenAPI
definitions, which carry the same field comments).
"""

from __future__ import annotations

DOC: dict[str, str] = {
    'NAME': (
        'Name must be unique within a namespace. Is required when creating resources, alt'
        'hough some resources may allow a client to request the generation of an appropri'
        'ate name automatically. Name is primarily intended for creation idempotence and '
        'configuration definition. Cannot be updated. More info: https://kubernetes.io/do'
        'cs/concepts/overview/working-with-objects/names#names'
    ),
    'AGE': (
        'CreationTimestamp is a timestamp representing the server time when this object w'
        'as created. It is not guaranteed to be set in happens-before order across separa'
        'te operations. Clients may not set this value. It is represented in RFC3339 form'
        ' and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: '
        'https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions'
        '.md#metadata'
    ),
    'POD_IP': (
        'podIP address allocated to the pod. Routable at least within the cluster. Empty '
        'if not yet allocated.'
    ),
    'POD_NODE': (
        'NodeName indicates in which node this pod is scheduled. If empty, this pod is a '
        'candidate for scheduling by the scheduler defined in schedulerName. Once this fi'
        'eld is set, the kubelet for this node becomes responsible for the lifecycle of t'
        'his pod. This field should not be used to express a desire for the pod to be sch'
        'eduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-evicti'
        'on/assign-pod-node/#nodename'
    ),
    'POD_NOMINATED': (
        'nominatedNodeName is set only when this pod preempts other pods on the node, but'
        ' it cannot be scheduled right away as preemption victims receive their graceful '
        'termination periods. This field does not guarantee that the pod will be schedule'
        'd on this node. Scheduler may decide to place the pod elsewhere if other nodes b'
        'ecome available sooner. Scheduler may also decide to give the resources on this '
        'node to a higher priority pod that is created after preemption. As a result, thi'
        's field may be different than PodSpec.nodeName when the pod is scheduled.'
    ),
    'POD_GATES': (
        'If specified, all readiness gates will be evaluated for pod readiness. A pod is '
        'ready when all its containers are ready AND all conditions specified in the read'
        'iness gates have status equal to "True" More info: https://git.k8s.io/enhancemen'
        'ts/keps/sig-network/580-pod-readiness-gates'
    ),
    'RS_DESIRED': (
        'Replicas is the number of desired replicas. This is a pointer to distinguish bet'
        'ween explicit zero and unspecified. Defaults to 1. More info: https://kubernetes'
        '.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replica'
        'tioncontroller'
    ),
    'RS_CURRENT': (
        'Replicas is the most recently observed number of replicas. More info: https://ku'
        'bernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a'
        '-replicationcontroller'
    ),
    'RS_READY': (
        'readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Con'
        'dition.'
    ),
    'RS_SELECTOR': (
        'Selector is a label query over pods that should match the replica count. Label k'
        'eys and values that must match in order to be controlled by this replica set. It'
        " must match the pod template's labels. More info: https://kubernetes.io/docs/con"
        'cepts/overview/working-with-objects/labels/#label-selectors'
    ),
    'DS_DESIRED': (
        'The total number of nodes that should be running the daemon pod (including nodes'
        ' correctly running the daemon pod). More info: https://kubernetes.io/docs/concep'
        'ts/workloads/controllers/daemonset/'
    ),
    'DS_CURRENT': (
        'The number of nodes that are running at least 1 daemon pod and are supposed to r'
        'un the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/cont'
        'rollers/daemonset/'
    ),
    'DS_READY': (
        'numberReady is the number of nodes that should be running the daemon pod and hav'
        'e one or more of the daemon pod running with a Ready Condition.'
    ),
    'DS_UPDATED': (
        'The total number of nodes that are running updated daemon pod'
    ),
    'DS_AVAILABLE': (
        'The number of nodes that should be running the daemon pod and have one or more o'
        'f the daemon pod running and available (ready for at least spec.minReadySeconds)'
    ),
    'NODE_SELECTOR': (
        'NodeSelector is a selector which must be true for the pod to fit on a node. Sele'
        "ctor which must match a node's labels for the pod to be scheduled on that node. "
        'More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/'
    ),
    'DS_SELECTOR': (
        'A label query over pods that are managed by the daemon set. Must match in order '
        "to be controlled. It must match the pod template's labels. More info: https://ku"
        'bernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors'
    ),
    'SVC_TYPE': (
        'type determines how the Service is exposed. Defaults to ClusterIP. Valid options'
        ' are ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates '
        'a cluster-internal IP address for load-balancing to endpoints. Endpoints are det'
        'ermined by the selector or if that is not specified, by manual construction of a'
        'n Endpoints object or EndpointSlice objects. If clusterIP is "None", no virtual '
        'IP is allocated and the endpoints are published as a set of endpoints rather tha'
        'n a virtual IP. "NodePort" builds on ClusterIP and allocates a port on every nod'
        'e which routes to the same endpoints as the clusterIP. "LoadBalancer" builds on '
        'NodePort and creates an external load-balancer (if supported in the current clou'
        'd) which routes to the same endpoints as the clusterIP. "ExternalName" aliases t'
        'his service to the specified externalName. Several other fields do not apply to '
        'ExternalName services. More info: https://kubernetes.io/docs/concepts/services-n'
        'etworking/service/#publishing-services-service-types'
    ),
    'SVC_CLUSTER_IP': (
        'clusterIP is the IP address of the service and is usually assigned randomly. If '
        'an address is specified manually, is in-range (as per system configuration), and'
        ' is not in use, it will be allocated to the service; otherwise creation of the s'
        'ervice will fail. This field may not be changed through updates unless the type '
        'field is also being changed to ExternalName (which requires this field to be bla'
        'nk) or the type field is being changed from ExternalName (in which case this fie'
        'ld may optionally be specified, as describe above).  Valid values are "None", em'
        'pty string (""), or a valid IP address. Setting this to "None" makes a "headless'
        ' service" (no virtual IP), which is useful when direct endpoint connections are '
        'preferred and proxying is not required.  Only applies to types ClusterIP, NodePo'
        'rt, and LoadBalancer. If this field is specified when creating a Service of type'
        ' ExternalName, creation will fail. This field will be wiped when updating a Serv'
        'ice to type ExternalName. More info: https://kubernetes.io/docs/concepts/service'
        's-networking/service/#virtual-ips-and-service-proxies'
    ),
    'SVC_EXTERNAL_IPS': (
        'externalIPs is a list of IP addresses for which nodes in the cluster will also a'
        'ccept traffic for this service.  These IPs are not managed by Kubernetes.  The u'
        'ser is responsible for ensuring that traffic arrives at a node with this IP.  A '
        'common example is external load-balancers that are not part of the Kubernetes sy'
        'stem.'
    ),
    'SVC_PORTS': (
        'The list of ports that are exposed by this service. More info: https://kubernete'
        's.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies'
    ),
    'SVC_SELECTOR': (
        'Route service traffic to pods with label keys and values matching this selector.'
        ' If empty or not present, the service is assumed to have an external process man'
        'aging its endpoints, which Kubernetes will not modify. Only applies to types Clu'
        'sterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: '
        'https://kubernetes.io/docs/concepts/services-networking/service/'
    ),
    'EP_SUBSETS': (
        'The set of all endpoints is the union of all subsets. Addresses are placed into '
        'subsets according to the IPs they share. A single address with multiple ports, s'
        'ome of which are ready and some of which are not (because they come from differe'
        'nt containers) will result in the address being displayed in different subsets f'
        'or the different ports. No address will appear in both Addresses and NotReadyAdd'
        'resses in the same subset. Sets of addresses and ports that comprise a service.'
    ),
    'NODE_VERSION': (
        'Kubelet Version reported by the node.'
    ),
    'NODE_ADDRESSES': (
        'List of addresses reachable to the node. Queried from cloud provider, if availab'
        'le. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses '
        'Note: This field is declared as mergeable, but the merge key is not sufficiently'
        ' unique, which can cause data corruption when it is merged. Callers should inste'
        'ad use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Con'
        'sumers should assume that addresses can change during the lifetime of a Node. Ho'
        'wever, there are some exceptions where this may not be possible, such as Pods th'
        "at inherit a Node's address in its own status or consumers of the downward API ("
        'status.hostIP).'
    ),
    'NODE_OS': (
        'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (whe'
        'ezy)).'
    ),
    'NODE_KERNEL': (
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."
    ),
    'NODE_RUNTIME': (
        'ContainerRuntime Version reported by the node through runtime remote API (e.g. c'
        'ontainerd://1.4.2).'
    ),
    'EV_LAST': (
        'The time at which the most recent occurrence of this event was recorded.'
    ),
    'EV_TYPE': (
        'Type of this event (Normal, Warning), new types could be added in the future'
    ),
    'EV_REASON': (
        'This should be a short, machine understandable string that gives the reason for '
        "the transition into the object's current status."
    ),
    'EV_OBJECT': (
        'The object that this event is about.'
    ),
    'EV_SUBOBJECT': (
        'If referring to a piece of an object instead of an entire object, this string sh'
        'ould contain a valid JSON/Go field access statement, such as desiredState.manife'
        'st.containers[2]. For example, if the object reference is to a container within '
        'a pod, this would take on a value like: "spec.containers{name}" (where "name" re'
        'fers to the name of the container that triggered the event) or if no container n'
        'ame is specified "spec.containers[2]" (container with index 2 in this pod). This'
        ' syntax is chosen only to have some well-defined way of referencing a part of an'
        ' object.'
    ),
    'EV_SOURCE': (
        'The component reporting this event. Should be a short machine understandable str'
        'ing.'
    ),
    'EV_MESSAGE': (
        'A human-readable description of the status of this operation.'
    ),
    'EV_FIRST': (
        'The time at which the event was first recorded. (Time of server receipt is in Ty'
        'peMeta.)'
    ),
    'EV_COUNT': (
        'The number of times this event has occurred.'
    ),
    'SECRET_TYPE': (
        'Used to facilitate programmatic handling of secret data. More info: https://kube'
        'rnetes.io/docs/concepts/configuration/secret/#secret-types'
    ),
    'SECRET_DATA': (
        'Data contains the secret data. Each key must consist of alphanumeric characters,'
        " '-', '_' or '.'. The serialized form of the secret data is a base64 encoded str"
        'ing, representing the arbitrary (possibly non-string) data value here. Described'
        ' in https://tools.ietf.org/html/rfc4648#section-4'
    ),
    'SA_SECRETS': (
        'Secrets is a list of the secrets in the same namespace that pods running using t'
        'his ServiceAccount are allowed to use. Pods are only limited to this list if thi'
        's service account has a "kubernetes.io/enforce-mountable-secrets" annotation set'
        ' to "true". The "kubernetes.io/enforce-mountable-secrets" annotation is deprecat'
        'ed since v1.32. Prefer separate namespaces to isolate access to mounted secrets.'
        ' This field should not be used to find auto-generated service account token secr'
        'ets for use outside of pods. Instead, tokens can be requested directly using the'
        ' TokenRequest API, or service account token secrets can be manually created. Mor'
        'e info: https://kubernetes.io/docs/concepts/configuration/secret'
    ),
    'DEPLOY_UPDATED': (
        'Total number of non-terminated pods targeted by this deployment that have the de'
        'sired template spec.'
    ),
    'DEPLOY_AVAILABLE': (
        'Total number of available pods (ready for at least minReadySeconds) targeted by '
        'this deployment.'
    ),
    'DEPLOY_SELECTOR': (
        'Label selector for pods. Existing ReplicaSets whose pods are selected by this wi'
        "ll be the ones affected by this deployment. It must match the pod template's lab"
        'els.'
    ),
    'CM_DATA': (
        'Data contains the configuration data. Each key must consist of alphanumeric char'
        "acters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the Binar"
        'yData field. The keys stored in Data must not overlap with the keys in the Binar'
        'yData field, this is enforced during validation process.'
    ),
    'LEASE_HOLDER': (
        'holderIdentity contains the identity of the holder of a current lease. If Coordi'
        'nated Leader Election is used, the holder identity must be equal to the elected '
        'LeaseCandidate.metadata.name field.'
    ),
}
