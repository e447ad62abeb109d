"""The admission chain: the plugins in order, mutating pass then validating pass."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from kubelite.api import scheme
from kubelite.apiserver.admission.interface import AdmissionPlugin, Attributes, Operation, Plugin

Step = Callable[[Attributes], Awaitable[None]]


def _overrides(plugin: AdmissionPlugin, method: str) -> bool:
    """Whether ``plugin`` does anything in ``method`` (a :class:`Plugin` no-op is skipped)."""
    return getattr(type(plugin), method, None) is not getattr(Plugin, method)


class Chain:
    """Runs ``plugins`` (in the given order) over one request.

    :meth:`run` calls every handling plugin's ``admit``, then every handling plugin's
    ``validate``; the first refusal ends the request with that error. Which plugins handle
    a (operation, resource, subresource) is asked once and remembered: ``handles`` must
    depend on nothing else.
    """

    def __init__(self, plugins: Sequence[AdmissionPlugin]) -> None:
        self.plugins = tuple(plugins)
        self._steps: dict[tuple[Operation, int, str | None],
                          tuple[scheme.Resource, list[Step], list[Step]]] = {}

    def _for(self, attrs: Attributes) -> tuple[list[Step], list[Step]]:
        key = (attrs.operation, id(attrs.resource), attrs.subresource)
        hit = self._steps.get(key)
        if hit is None or hit[0] is not attrs.resource:
            handling = [p for p in self.plugins
                        if p.handles(attrs.operation, attrs.resource, attrs.subresource)]
            hit = (attrs.resource,
                   [p.admit for p in handling if _overrides(p, "admit")],
                   [p.validate for p in handling if _overrides(p, "validate")])
            self._steps[key] = hit
        return hit[1], hit[2]

    async def admit(self, attrs: Attributes) -> None:
        """The mutating pass only."""
        for step in self._for(attrs)[0]:
            await step(attrs)

    async def validate(self, attrs: Attributes) -> None:
        """The validating pass only."""
        for step in self._for(attrs)[1]:
            await step(attrs)

    async def run(self, attrs: Attributes) -> None:
        """Both passes, mutating first."""
        admitters, validators = self._for(attrs)
        for step in admitters:
            await step(attrs)
        for step in validators:
            await step(attrs)
