"""Kubernetes protobuf request bodies (``application/vnd.kubernetes.protobuf``) to JSON.

A body is ``k8s\\x00`` followed by a ``runtime.Unknown`` whose ``typeMeta`` names the kind and
whose ``raw`` is that kind's message. :class:`ProtobufDecoder` turns it into the JSON document
Kubernetes' own JSON encoder would have written for the same Go object, given the schemas as a
serialized FileDescriptorSet (see :mod:`kubelite.apiserver.protobuf.protodesc`).

How Go fields map to the wire, and back to JSON:

- Field names in these schemas are the JSON names.
- A field marked ``(gogoproto.nullable) = false`` is a Go value, not a pointer: gogo always
  writes it, zero or not. A zero scalar or IntOrString there is dropped, as ``omitempty``
  drops it in JSON (for the few fields without ``omitempty`` a zero value is one the server
  would reject or default anyway). Such a message is always written, as encoding/json does
  (``"status": {}``, ``"creationTimestamp": null``).
- Any other field is a pointer, a slice or a map: present on the wire means set, so zero
  values there (``replicas: 0``, ``automountServiceAccountToken: false``) are kept.
- Go structs embedded with ``json:",inline"`` (``LocalObjectReference``, ``VolumeSource``,
  ``IngressRuleValue``) are fields on the wire; the JSON schema of the enclosing type tells
  them apart: a Go-value message field that the schema does not list, while it lists the
  embedded message's fields, is merged into its parent.
- Well-known types: IntOrString is a number or string, Quantity a string, Time and MicroTime
  RFC 3339 (a zero time is null), Duration Go's duration text, RawExtension and FieldsV1
  embedded JSON, ``[]byte`` base64, wrappers of one repeated ``items`` field a JSON list.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Collection
from typing import Any

import orjson
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message

from kubelite.api.meta import JSON
from kubelite.api.meta_time import rfc3339, rfc3339_micro
from kubelite.apiserver.openapi import openapi

MAGIC = b"k8s\x00"
MEDIA_TYPE = "application/vnd.kubernetes.protobuf"

_GOGO_NULLABLE = 65001  # extension number of (gogoproto.nullable) on FieldOptions
_META = "k8s.io.apimachinery.pkg.apis.meta.v1."
_UNKNOWN = "k8s.io.apimachinery.pkg.runtime.Unknown"
_TIME = _META + "Time"
_MICRO_TIME = _META + "MicroTime"
_DURATION = _META + "Duration"
_FIELDS_V1 = _META + "FieldsV1"
_RAW_EXTENSION = "k8s.io.apimachinery.pkg.runtime.RawExtension"
_INT_OR_STRING = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "k8s.io.apimachinery.pkg.api.resource.Quantity"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# API groups whose proto package is not k8s.io.api.<first label of the group>.<version>
_PACKAGES = {
    "": "k8s.io.api.core",
    "meta.k8s.io": "k8s.io.apimachinery.pkg.apis.meta",
    "internal.apiserver.k8s.io": "k8s.io.api.apiserverinternal",
    "metrics.k8s.io": "k8s.io.metrics.pkg.apis.metrics",
}
_OMIT = object()


class ProtobufError(ValueError):
    """The body is not a Kubernetes protobuf message this decoder can read (a 400)."""


class ProtobufDecoder:
    """Decodes Kubernetes protobuf bodies using the schemas in one FileDescriptorSet.

    Immutable after construction and safe to share between threads.
    """

    def __init__(self, file_set: bytes,
                 properties: Callable[[str], Collection[str] | None] | None = None) -> None:
        """``properties`` names the JSON fields of an OpenAPI definition (``io.k8s.api...``)
        or gives None; it defaults to the served 1.32 definitions."""
        self._properties = properties or _openapi_properties
        files = descriptor_pb2.FileDescriptorSet.FromString(file_set).file
        by_name = {fd.name: fd for fd in files}
        self._pool = descriptor_pool.DescriptorPool()
        self._values: set[str] = set()  # full names of non-nullable (Go value) fields
        self._inline: set[str] = set()  # full names of embedded (json inline) fields
        added: set[str] = set()

        def add(name: str) -> None:
            if name in added or name not in by_name:
                return
            added.add(name)
            fd = by_name[name]
            for dep in fd.dependency:
                add(dep)
            self._pool.Add(fd)
            for msg in fd.message_type:
                self._note_values(fd.package, msg)

        for fd in files:
            add(fd.name)
        for fd in files:
            for msg in fd.message_type:
                self._note_inline(self._pool.FindMessageTypeByName(f"{fd.package}.{msg.name}"))
        try:
            self._unknown = message_factory.GetMessageClass(
                self._pool.FindMessageTypeByName(_UNKNOWN))
        except KeyError:
            raise ProtobufError("the schemas have no runtime.Unknown") from None

    def _note_values(self, scope: str, msg: descriptor_pb2.DescriptorProto) -> None:
        full = f"{scope}.{msg.name}"
        for field in msg.field:
            if _is_value_field(field.options.SerializeToString()):
                self._values.add(f"{full}.{field.name}")
        for nested in msg.nested_type:
            self._note_values(full, nested)

    def _note_inline(self, desc: Descriptor) -> None:
        known = self._properties(_openapi_name(desc.full_name))
        if not known:
            return
        for field in desc.fields:
            child = field.message_type
            if (child is not None and not field.is_repeated
                    and field.full_name in self._values and field.name not in known
                    and any(f.name in known for f in child.fields)):
                self._inline.add(field.full_name)

    def message_type(self, api_version: str, kind: str) -> Descriptor | None:
        """The message for ``kind`` in ``api_version`` (``v1``, ``apps/v1``), if known."""
        group, _, version = api_version.rpartition("/")
        package = _PACKAGES.get(group) or "k8s.io.api." + group.split(".", 1)[0]
        try:
            return self._pool.FindMessageTypeByName(f"{package}.{version}.{kind}")
        except KeyError:
            return None

    def decode(self, body: bytes) -> JSON:
        """The JSON object for one protobuf request body; raises :class:`ProtobufError`."""
        if not body.startswith(MAGIC):
            raise ProtobufError(
                "provided data does not appear to be a protobuf message, expected prefix "
                + str(list(MAGIC)).replace(",", ""))
        unknown: Any = self._parse(self._unknown, body[len(MAGIC):])
        api_version: str = unknown.typeMeta.apiVersion
        kind: str = unknown.typeMeta.kind
        if unknown.contentEncoding:
            raise ProtobufError(f"unsupported content encoding {unknown.contentEncoding!r}")
        if not kind:
            raise ProtobufError("Object 'Kind' is missing in protobuf body")
        desc = self.message_type(api_version, kind)
        if desc is None:
            raise ProtobufError(
                f'no kind "{kind}" is registered for version "{api_version}"')
        obj = self._parse(message_factory.GetMessageClass(desc), unknown.raw)
        out: JSON = {"apiVersion": api_version, "kind": kind}
        out.update(self._message(obj))
        return out

    @staticmethod
    def _parse(cls: type[Message], data: bytes) -> Message:
        try:
            return cls.FromString(data)
        except DecodeError as exc:
            raise ProtobufError(f"unable to decode {cls.DESCRIPTOR.name}: {exc}") from None

    # -- to JSON -------------------------------------------------------------------------

    def _message(self, msg: Message) -> JSON:
        out: JSON = {}
        for field in msg.DESCRIPTOR.fields:
            value = self._field(msg, field)
            if value is _OMIT:
                continue
            if field.full_name in self._inline and isinstance(value, dict):
                out.update(value)
            else:
                out[field.name] = value
        return out

    def _field(self, msg: Message, field: Any) -> Any:
        value = getattr(msg, field.name)
        if field.is_repeated:
            if not value:
                return _OMIT
            entry = field.message_type
            if entry is not None and entry.GetOptions().map_entry:
                vfield = entry.fields_by_name["value"]
                return {k: self._single(vfield, v) for k, v in value.items()}
            return [self._single(field, v) for v in value]
        if not msg.HasField(field.name):
            return _OMIT
        if field.full_name in self._values:
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                if field.message_type.full_name == _INT_OR_STRING and value.ByteSize() == 0:
                    return _OMIT
            elif not value:
                return _OMIT
        return self._single(field, value)

    def _single(self, field: Any, value: Any) -> Any:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            return self._special(value)
        if field.type == FieldDescriptor.TYPE_BYTES:
            return base64.b64encode(value).decode()
        return value

    def _special(self, msg: Any) -> Any:
        name = msg.DESCRIPTOR.full_name
        if name == _INT_OR_STRING:
            if msg.type == 1:
                return msg.strVal
            return msg.intVal
        if name == _QUANTITY:
            return msg.string or "0"
        if name in (_TIME, _MICRO_TIME):
            if msg.ByteSize() == 0:
                return None
            t = _EPOCH + dt.timedelta(seconds=msg.seconds, microseconds=msg.nanos // 1000)
            return rfc3339(t) if name == _TIME else rfc3339_micro(t)
        if name == _DURATION:
            return go_duration(msg.duration)
        if name == _RAW_EXTENSION:
            return self._embedded(msg.raw)
        if name == _FIELDS_V1:
            return self._embedded(msg.Raw)
        fields = msg.DESCRIPTOR.fields
        if (len(fields) == 1 and fields[0].name == "items" and fields[0].is_repeated
                and fields[0].type != FieldDescriptor.TYPE_MESSAGE):
            return list(msg.items)
        return self._message(msg)

    def _embedded(self, raw: bytes) -> Any:
        if not raw:
            return None
        if raw.startswith(MAGIC):
            return self.decode(raw)
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ProtobufError(f"embedded object is not JSON: {exc}") from None


def _openapi_name(full_name: str) -> str:
    """``k8s.io.api.core.v1.Pod`` as OpenAPI names it: ``io.k8s.api.core.v1.Pod``."""
    return "io.k8s." + full_name.removeprefix("k8s.io.")


def _openapi_properties(name: str) -> Collection[str] | None:
    schema = openapi.definitions().get(name)
    props = schema.get("properties") if schema else None
    return props.keys() if isinstance(props, dict) else None


def _is_value_field(options: bytes) -> bool:
    """Whether serialized FieldOptions set ``(gogoproto.nullable) = false``."""
    i, n = 0, len(options)
    while i < n:
        key, i = _varint(options, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(options, i)
            if number == _GOGO_NULLABLE:
                return value == 0
        elif wire == 2:
            size, i = _varint(options, i)
            i += size
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            return False
    return False


def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while i < len(data):
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
    return result, i


def go_duration(ns: int) -> str:
    """Nanoseconds as Go's ``time.Duration.String`` writes them (``1h2m3.5s``, ``1.5ms``)."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if u >= size:
                return sign + _decimal(u, size) + unit
    hours, rest = divmod(u, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    text = f"{hours}h" if hours else ""
    if hours or minutes:
        text += f"{minutes}m"
    return sign + text + _decimal(rest, 1_000_000_000) + "s"


def _decimal(value: int, unit: int) -> str:
    whole, frac = divmod(value, unit)
    if not frac:
        return str(whole)
    digits = str(frac).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"
