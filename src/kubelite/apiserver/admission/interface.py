"""The admission contract: what a plugin is handed and what it may do.

As ``k8s.io/apiserver/pkg/admission``: a request's :class:`Attributes` (operation,
resource, subresource, namespace, name, the object and the old one) go through every
plugin that :meth:`~AdmissionPlugin.handles` them, first each ``admit`` (mutating: it may
change ``attrs.obj``), then each ``validate`` (it may only refuse). A plugin refuses by
raising a :class:`~kubelite.api.errors.StatusError` (usually 403 Forbidden, see
:func:`forbidden`); the request then fails with it and nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

from kubelite.api import errors, scheme
from kubelite.api.meta import JSON, dig

Operation = Literal["CREATE", "UPDATE", "DELETE"]
CREATE: Operation = "CREATE"
UPDATE: Operation = "UPDATE"
DELETE: Operation = "DELETE"


@dataclass
class Attributes:
    """One request as admission sees it. ``obj`` is the object being written (None on
    DELETE), the request's private copy that mutating plugins may change; ``old`` is the
    stored one (None on CREATE), which may be shared with the watch cache: read it only."""

    operation: Operation
    resource: scheme.Resource
    subresource: str | None
    namespace: str
    name: str
    obj: JSON | None
    old: JSON | None = None


class AdmissionPlugin(Protocol):
    """One admission plugin (``admission.Interface`` with its mutating and validating
    halves). ``name`` is kube-apiserver's plugin name."""

    name: str

    def handles(self, operation: Operation, resource: scheme.Resource,
                subresource: str | None) -> bool:
        """Whether the plugin takes part in this request at all."""
        ...

    async def admit(self, attrs: Attributes) -> None:
        """The mutating half: may change ``attrs.obj``, or refuse."""
        ...

    async def validate(self, attrs: Attributes) -> None:
        """The validating half: may only refuse."""
        ...


class Plugin:
    """A base with both halves doing nothing: a plugin overrides what it needs."""

    name = ""

    def handles(self, operation: Operation, resource: scheme.Resource,
                subresource: str | None) -> bool:
        return False

    async def admit(self, attrs: Attributes) -> None:
        return None

    async def validate(self, attrs: Attributes) -> None:
        return None


def is_pod(resource: scheme.Resource, subresource: str | None) -> bool:
    """A write of a pod itself (not of its status, binding or other subresource)."""
    return resource.group == "" and resource.plural == "pods" and subresource is None


class PodPlugin(Plugin):
    """A plugin for writes of pods themselves, on the ``operations`` it names."""

    operations: ClassVar[tuple[Operation, ...]] = (CREATE, UPDATE)

    def handles(self, operation: Operation, resource: scheme.Resource,
                subresource: str | None) -> bool:
        return operation in self.operations and is_pod(resource, subresource)


def pod_spec(attrs: Attributes) -> JSON | None:
    """The spec of the pod being written, when it is an object."""
    spec = dig(attrs.obj, "spec")
    return spec if isinstance(spec, dict) else None


def forbidden(attrs: Attributes, reason: str) -> errors.StatusError:
    """``admission.NewForbidden``: ``<plural> "<name>" is forbidden: <reason>``."""
    plural = attrs.resource.plural
    return errors.StatusError(403, "Forbidden", f'{plural} "{attrs.name}" is forbidden: {reason}',
                              {"name": attrs.name, "kind": plural})
