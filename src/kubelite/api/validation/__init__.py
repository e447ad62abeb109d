"""Validation of the built-in types with kube-apiserver's field errors.

Each check returns its findings as the :class:`~kubelite.api.errors.Cause` list that
kube-apiserver puts in a 422 Invalid: a reason such as ``FieldValueRequired``, a message
such as ``Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must ...``, and a
field path such as ``spec.containers[0].name``. The checks and their order follow
``pkg/apis/*/validation`` (Kubernetes 1.32) for the rules kubelite implements, split as
upstream: :mod:`.objectmeta` (names, labels, annotations), :mod:`.core` (pods, config,
events, services), :mod:`.apps` (workloads); :mod:`.field` holds the error list. Which
checks a kind runs is its strategy's business (``kubelite.apiserver.kinds``).

Objects are validated as the API server sees them after defaulting: fields that
Kubernetes defaults (restartPolicy, dnsPolicy, imagePullPolicy, protocol, ...) are only
checked when present.
"""
