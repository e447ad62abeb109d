"""The per-kind rules addressed by resource (a Resource or its plural), as the tests use
them: each goes through the kind's strategy (``kubelite.apiserver.kinds``) and the
admission plugins exactly as the API server does."""

from __future__ import annotations

import asyncio
from typing import cast

from kubelite.api import errors, fieldselectors
from kubelite.api.errors import Cause
from kubelite.api.meta import JSON
from kubelite.api.scheme import Resource
from kubelite.apiserver.admission.chain import Chain
from kubelite.apiserver.admission.default_toleration_seconds import DefaultTolerationSeconds
from kubelite.apiserver.admission.interface import CREATE, UPDATE, Attributes
from kubelite.apiserver.admission.priority import Priority
from kubelite.apiserver.admission.service_account import ServiceAccount
from kubelite.apiserver.kinds.table import resolve
from kubelite.storage.interface import Store


def validate(resource: Resource | str, obj: JSON, old: JSON | None = None,
             subresource: str | None = None) -> list[Cause]:
    res, strategy = resolve(resource)
    if old is None:
        return strategy.validate(res, obj)
    return strategy.validate_update(res, obj, old, subresource)


def invalid_status(resource: Resource | str, obj: JSON, causes: list[Cause]) -> errors.StatusError:
    res, _ = resolve(resource)
    name = str((obj.get("metadata") or {}).get("name") or "")
    return errors.invalid(res.kind or str(obj.get("kind") or ""), name, causes, res.group)


def check(resource: Resource | str, obj: JSON, old: JSON | None = None) -> None:
    causes = validate(resource, obj, old)
    if causes:
        raise invalid_status(resource, obj, causes)


def apply_defaults(resource: Resource | str, obj: JSON) -> None:
    res, strategy = resolve(resource)
    strategy.default(res, obj)


# the mutating pod plugins (NamespaceLifecycle's and ServiceAccount's store checks are
# validating or need a namespace, which these pure tests do not have)
_POD_MUTATORS = Chain([ServiceAccount(cast(Store, None)), Priority(),
                       DefaultTolerationSeconds()])


def admit_pod(obj: JSON, old: JSON | None = None) -> None:
    res, _ = resolve("pods")
    name = str((obj.get("metadata") or {}).get("name") or "")
    attrs = Attributes(CREATE if old is None else UPDATE, res, None, "default", name, obj, old)
    asyncio.run(_POD_MUTATORS.admit(attrs))


def parse_field_selector(resource: Resource | str,
                         selector: str) -> fieldselectors.FieldSelector:
    _, strategy = resolve(resource)
    return fieldselectors.parse_field_selector(selector, strategy.field_selectors,
                                               strategy.field_aliases)


def supported_fields(resource: Resource | str) -> list[str]:
    return fieldselectors.supported_fields(resolve(resource)[1].field_selectors)
