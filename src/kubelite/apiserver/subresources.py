"""The subresources that change a stored object: ``*/scale``, ``pods/binding``, ``pods/eviction``.

Contract: each handler reads or rewrites the parent object through the registry (so
admission, validation and resourceVersion conflicts apply as for any update) and answers
in the subresource's own kind: ``autoscaling/v1`` Scale for scale (GET, PUT, PATCH), a 201
``Status`` for a binding (which also sets the pod's PodScheduled condition) and for an
eviction (a delete with the Eviction's ``deleteOptions``).
"""

from __future__ import annotations

import orjson
from aiohttp import web

from kubelite.api import errors, scheme, selectors
from kubelite.api.meta_time import Clock, rfc3339
from kubelite.apiserver import codec, decoding, patching
from kubelite.apiserver.eviction import check_budgets
from kubelite.apiserver.registry import DeleteOptions, Registry
from kubelite.apiserver.write_options import dry_run as _dry_run
from kubelite.apiserver.write_options import field_manager as _manager
from kubelite.storage.interface import JSON


class SubresourceHandlers:
    """The subresource handlers of :class:`~kubelite.apiserver.rest.ResourceHandlers`
    (a base class: ResourceHandlers sets the attributes declared here)."""

    registry: Registry
    protobuf: codec.ProtobufSchemas | None
    clock: Clock

    async def scale(
        self, request: web.Request, res: scheme.Resource, namespace: str | None, name: str
    ) -> web.Response:
        def to_scale(obj: JSON) -> JSON:
            meta = obj["metadata"]
            selector = ((obj.get("spec") or {}).get("selector") or {})
            return {
                "kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                                   "creationTimestamp") if k in meta},
                "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
                "status": {
                    "replicas": (obj.get("status") or {}).get("replicas", 0),
                    "selector": selectors.format_label_selector(selector),
                },
            }

        if request.method == "GET":
            return codec.json_response(to_scale(await self.registry.get(res, namespace, name)))
        if request.method not in ("PUT", "PATCH"):
            raise errors.method_not_allowed()
        content_type = request.headers.get("Content-Type", "")
        body = await codec.read_body(request)
        put_scale = (decoding.typed_kind(
            await codec.decode_body(body, content_type, self.protobuf),
            "autoscaling", "v1", "Scale") if request.method == "PUT" else None)
        manager = _manager(request, "UpdateOptions" if request.method == "PUT"
                           else "PatchOptions")

        def apply(current: JSON) -> JSON:
            scale = to_scale(current)
            if put_scale is not None:
                new_scale = put_scale
                rv = (new_scale.get("metadata") or {}).get("resourceVersion")
                if rv and rv != current["metadata"]["resourceVersion"]:
                    raise errors.conflict(res.plural, name, res.group)
            else:
                new_scale = decoding.typed_kind(
                    patching.apply_patch(None, scale, body, content_type),
                    "autoscaling", "v1", "Scale")
            # ScaleSpec.replicas is a Go int32 with omitempty: absent means 0
            replicas = (new_scale.get("spec") or {}).get("replicas", 0)
            if not isinstance(replicas, int) or replicas < 0:
                raise errors.invalid("Scale", name, [errors.Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {orjson.dumps(replicas).decode()}: must be greater than "
                    "or equal to 0", "spec.replicas")], "autoscaling")
            current.setdefault("spec", {})["replicas"] = replicas
            return current

        updated = await self.registry.guaranteed_update(
            res, namespace, name, apply, dry_run=_dry_run(request), field_manager=manager,
            owner_subresource="scale",
        )
        return codec.json_response(to_scale(updated))

    async def evict(
        self, request: web.Request, res: scheme.Resource, namespace: str | None, name: str
    ) -> web.Response:
        """pods/eviction: a delete that the pod's disruption budget may refuse."""
        body = await codec.decode_body(
            await codec.read_body(request), request.headers.get("Content-Type", ""),
            self.protobuf)
        group, _, version = str(body.get("apiVersion") or "policy/v1").rpartition("/")
        if body.get("kind") in (None, "Eviction"):
            body = decoding.typed_kind(body, group, version, "Eviction")
        if body.get("kind") not in (None, "Eviction"):
            raise errors.bad_request(f"the kind in the data ({body.get('kind')}) does not "
                                     "match the expected kind (Eviction)")
        evicted = (body.get("metadata") or {}).get("name")
        if evicted and evicted != name:
            raise errors.bad_request(
                f"name in URL does not match name in Eviction object: {name} != {evicted}")
        opts = DeleteOptions.from_json(body.get("deleteOptions"), {})
        await check_budgets(self.registry, res, namespace or "default", name)
        await self.registry.delete(res, namespace, name, opts)
        return codec.json_response({"kind": "Status", "apiVersion": "v1", "metadata": {},
                                    "status": "Success", "code": 201}, 201)

    async def bind(
        self, request: web.Request, res: scheme.Resource, namespace: str | None, name: str
    ) -> web.Response:
        body = await codec.decode_body(
            await codec.read_body(request), request.headers.get("Content-Type", ""),
            self.protobuf)
        body = decoding.typed_kind(body, "", "v1", "Binding")
        target = (body.get("target") or {}).get("name")
        if not target:
            raise errors.invalid("Binding", name, [errors.Cause(
                "FieldValueRequired", "Required value", "target.name")])

        def assign(pod: JSON) -> JSON:
            spec = pod.setdefault("spec", {})
            if pod["metadata"].get("deletionTimestamp"):
                raise errors.conflict(res.plural, name, res.group,
                                      f"pod {name} is being deleted, cannot be assigned to a host")
            if spec.get("nodeName"):
                raise errors.conflict(
                    res.plural, name, res.group,
                    f"pod {name} is already assigned to node \"{spec['nodeName']}\"",
                )
            spec["nodeName"] = target
            return pod

        pod = await self.registry.guaranteed_update(res, namespace, name, assign,
                                                    subresource="binding")

        def scheduled(p: JSON) -> JSON:
            status = p.setdefault("status", {})
            conds = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
            conds.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                          "lastTransitionTime": rfc3339(self.clock())})
            status["conditions"] = conds
            return p

        await self.registry.guaranteed_update(res, namespace, name, scheduled,
                                              subresource="status")
        del pod
        return codec.json_response({"kind": "Status", "apiVersion": "v1", "metadata": {},
                                    "status": "Success", "code": 201}, 201)
