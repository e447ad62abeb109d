"""The shape that lets a kind or an admission plugin be added in one place."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from kubelite.api import scheme
from kubelite.apiserver import registry
from kubelite.apiserver.admission.chain import Chain
from kubelite.apiserver.admission.interface import CREATE, DELETE, Attributes, Operation, Plugin
from kubelite.apiserver.admission.plugins import default_plugins
from kubelite.apiserver.kinds.strategy import GENERIC
from kubelite.apiserver.kinds.table import STRATEGIES, strategy_for
from kubelite.storage.interface import Store

PODS = scheme.lookup("", "v1", "pods")
assert PODS is not None


def test_the_generic_store_names_no_kind() -> None:
    source = Path(registry.__file__).read_text()
    named = [r.kind for r in scheme.RESOURCES if f'"{r.kind}"' in source]
    assert named == []
    assert "res.kind ==" not in source and "res.kind in" not in source


def test_every_strategy_row_is_a_served_kind() -> None:
    served = {(r.group, r.kind) for r in scheme.RESOURCES}
    assert set(STRATEGIES) <= served


def test_kinds_without_a_row_get_the_generic_strategy() -> None:
    review = scheme.lookup("authentication.k8s.io", "v1", "selfsubjectreviews")
    assert review is not None
    assert strategy_for(review) is GENERIC
    assert strategy_for(PODS) is not GENERIC


def test_plugins_run_in_kube_apiservers_order() -> None:
    names = [p.name for p in default_plugins(cast(Store, None))]
    assert names == ["NamespaceLifecycle", "ServiceAccount", "Priority",
                     "DefaultTolerationSeconds", "DefaultStorageClass",
                     "StorageObjectInUseProtection"]


class _Recorder(Plugin):
    def __init__(self, name: str, calls: list[str], operation: Operation) -> None:
        self.name, self.calls, self.operation = name, calls, operation

    def handles(self, operation: Operation, resource: scheme.Resource,
                subresource: str | None) -> bool:
        return operation == self.operation

    async def admit(self, attrs: Attributes) -> None:
        self.calls.append(f"{self.name}.admit")

    async def validate(self, attrs: Attributes) -> None:
        self.calls.append(f"{self.name}.validate")


@pytest.mark.parametrize(("operation", "expected"), [
    (CREATE, ["a.admit", "b.admit", "a.validate", "b.validate"]),
    (DELETE, ["c.admit", "c.validate"]),
])
async def test_chain_mutates_with_every_plugin_before_any_validates(
        operation: Operation, expected: list[str]) -> None:
    calls: list[str] = []
    chain = Chain([_Recorder("a", calls, CREATE), _Recorder("c", calls, DELETE),
                   _Recorder("b", calls, CREATE)])
    attrs = Attributes(operation, PODS, None, "default", "p", {})
    await chain.run(attrs)
    assert calls == expected
    calls.clear()
    await chain.run(attrs)  # the remembered plugin list gives the same run
    assert calls == expected
