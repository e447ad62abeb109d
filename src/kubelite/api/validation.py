from typing import Any

from kubelite.api.errors import Cause


def validate(res: Any, obj: Any, old: Any = None) -> list[Cause]:
    out = []
    if obj.get("kind") == "Pod" and not (obj.get("spec") or {}).get("containers"):
        out.append(Cause("FieldValueRequired", "Required value", "spec.containers"))
    return out
