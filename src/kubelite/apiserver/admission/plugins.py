"""The admission chain kube-apiserver runs by default, in its order, as kubelite has it.

Adding a plugin: its module in this package, one entry in :func:`default_plugins` at its
place in kube-apiserver's order (``pkg/kubeapiserver/options/plugins.go``), see
docs/architecture.md. The slots below name the plugins that will come.
"""

from __future__ import annotations

from kubelite.apiserver.admission.chain import Chain
from kubelite.apiserver.admission.default_storage_class import DefaultStorageClass
from kubelite.apiserver.admission.default_toleration_seconds import DefaultTolerationSeconds
from kubelite.apiserver.admission.interface import AdmissionPlugin
from kubelite.apiserver.admission.namespace_lifecycle import NamespaceLifecycle
from kubelite.apiserver.admission.priority import Priority
from kubelite.apiserver.admission.service_account import ServiceAccount
from kubelite.apiserver.admission.storage_protection import StorageObjectInUseProtection
from kubelite.storage.interface import Store


def default_plugins(store: Store) -> list[AdmissionPlugin]:
    """The enabled plugins over ``store``, in kube-apiserver's order."""
    return [
        NamespaceLifecycle(store),
        # LimitRanger
        ServiceAccount(store),
        # NodeRestriction
        # TaintNodesByCondition
        Priority(store),
        DefaultTolerationSeconds(),
        DefaultStorageClass(store),
        StorageObjectInUseProtection(),
        # ...
        # MutatingAdmissionWebhook
        # ValidatingAdmissionPolicy, ValidatingAdmissionWebhook
        # ResourceQuota
    ]


def default_chain(store: Store) -> Chain:
    """The default admission chain over ``store``."""
    return Chain(default_plugins(store))
