"""ConfigMaps and Secrets (core/v1): ``registry/core/configmap``, ``registry/core/secret``.

Keys are checked, the total size is at most 1 MiB, and an object marked
``immutable: true`` keeps its data (a Secret also keeps its type).
"""

from __future__ import annotations

from typing import ClassVar

from kubelite.api import defaults, scheme
from kubelite.api.fieldselectors import META_FIELDS, Fields, field_path
from kubelite.api.meta import JSON
from kubelite.api.validation import core
from kubelite.api.validation.field import Errors
from kubelite.apiserver.kinds.strategy import Strategy
from kubelite.apiserver.printers.core import CONFIGMAP, SECRET
from kubelite.apiserver.printers.tables import Printer


class ConfigMapStrategy(Strategy):
    """ConfigMaps: keys, size, immutability."""

    printer: ClassVar[Printer] = CONFIGMAP

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        core.validate_config_map(obj, errs)

    def validate_object_update(self, res: scheme.Resource, new: JSON, old: JSON,
                               subresource: str | None, errs: Errors) -> None:
        core.validate_config_map_update(new, old, errs)


class SecretStrategy(Strategy):
    """Secrets: keys, size, the fields each type requires, immutability."""

    printer: ClassVar[Printer] = SECRET
    field_selectors: ClassVar[Fields | None] = {**META_FIELDS, "type": field_path("type")}

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        defaults.default_secret(obj)

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        core.validate_secret(obj, errs)

    def validate_object_update(self, res: scheme.Resource, new: JSON, old: JSON,
                               subresource: str | None, errs: Errors) -> None:
        core.validate_secret_update(new, old, errs)


CONFIG_MAP_STRATEGY = ConfigMapStrategy()
SECRET_STRATEGY = SecretStrategy()
