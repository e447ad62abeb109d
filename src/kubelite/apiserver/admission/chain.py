"""The admission chain: the plugins in order, mutating pass then validating pass."""

from __future__ import annotations

from collections.abc import Sequence

from kubelite.apiserver.admission.interface import AdmissionPlugin, Attributes


class Chain:
    """Runs ``plugins`` (in the given order) over one request.

    :meth:`run` calls every handling plugin's ``admit``, then every handling plugin's
    ``validate``; the first refusal ends the request with that error.
    """

    def __init__(self, plugins: Sequence[AdmissionPlugin]) -> None:
        self.plugins = tuple(plugins)

    def _handling(self, attrs: Attributes) -> list[AdmissionPlugin]:
        return [p for p in self.plugins
                if p.handles(attrs.operation, attrs.resource, attrs.subresource)]

    async def admit(self, attrs: Attributes) -> None:
        """The mutating pass only."""
        for plugin in self._handling(attrs):
            await plugin.admit(attrs)

    async def validate(self, attrs: Attributes) -> None:
        """The validating pass only."""
        for plugin in self._handling(attrs):
            await plugin.validate(attrs)

    async def run(self, attrs: Attributes) -> None:
        """Both passes, mutating first."""
        handling = self._handling(attrs)
        for plugin in handling:
            await plugin.admit(attrs)
        for plugin in handling:
            await plugin.validate(attrs)
