"""Hostile requests for the fuzz tiers: the examples of issue 17 as a table, and a small
blocking HTTP client that any test thread can use against an in-process or a real server.

Every :class:`Case` names what kube-apiserver answers (its codes, and a text the message
contains). :func:`stored_is_clean` is the invariant after an accepted write: the object read
back decodes strictly against its schema, unchanged (nothing stored that kube would refuse).
"""

from __future__ import annotations

import http.client
import itertools
import json
import ssl
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import orjson

from kubelite.api import errors, nesting
from kubelite.apiserver import typed

JSON = dict[str, Any]
NS = "/api/v1/namespaces/default"
CM = NS + "/configmaps"
PODS = NS + "/pods"
DEPLOYS = "/apis/apps/v1/namespaces/default/deployments"
APPLY = "application/apply-patch+yaml"
YAML = "application/yaml"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: list[tuple[str, str]]

    def json(self) -> Any:
        return orjson.loads(self.body)

    def message(self) -> str:
        try:
            return str(self.json().get("message", ""))
        except (orjson.JSONDecodeError, AttributeError):
            return ""

    def warnings(self) -> list[str]:
        return [v for k, v in self.headers if k.lower() == "warning"]


class Client:
    """Blocking HTTP(S) requests to one API server; a new connection per request, so one
    slow or broken answer cannot poison the next."""

    def __init__(self, url: str, *, token: str | None = None,
                 ssl_context: ssl.SSLContext | None = None, timeout: float = 30.0) -> None:
        parsed = urllib.parse.urlsplit(url)
        self.https = parsed.scheme == "https"
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or (443 if self.https else 80)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.ssl_context = ssl_context
        self.timeout = timeout

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str = "application/json") -> Response:
        conn: http.client.HTTPConnection
        if self.https:
            conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=self.ssl_context)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            headers = dict(self.headers)
            if body is not None:
                headers["Content-Type"] = content_type
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return Response(resp.status, resp.read(), resp.getheaders())
        finally:
            conn.close()


@dataclass(frozen=True)
class Case:
    """One hostile request and kube's answer: a code in ``codes``, a message containing
    ``text``; ``read_back`` is the path of the object an accepted write stored."""

    name: str
    method: str
    path: str
    body: bytes | None = None
    content_type: str = "application/json"
    codes: tuple[int, ...] = (400,)
    text: str = ""
    read_back: str = ""
    setup: tuple[tuple[str, str, bytes], ...] = field(default=())


def dumps(obj: Any) -> bytes:
    """JSON of ``obj``; integers of any size (orjson refuses those over 64 bits)."""
    return json.dumps(obj).encode()


def configmap(name: str, **fields: Any) -> JSON:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, **fields}


def pod(name: str, **container: Any) -> JSON:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox", **container}]}}


def deployment(name: str, replicas: Any = 1) -> JSON:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


def deep_yaml(levels: int) -> bytes:
    """A ConfigMap whose ``data`` nests ``levels`` block sequences (``- - - x``, two bytes
    a level)."""
    return (b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n"
            + b"- " * levels + b"x\n")


def deep_flow_yaml(levels: int) -> bytes:
    return (b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: "
            + b"[" * levels + b"]" * levels + b"\n")


def alias_bomb(width: int = 9, levels: int = 9) -> bytes:
    """The billion-laughs document of CVE-2019-11253 as a ConfigMap (about 470 bytes)."""
    names = "abcdefghijklmnop"[:levels]
    lines = [f'{names[0]}: &{names[0]} [{",".join(["lol"] * width)}]']
    for prev, cur in itertools.pairwise(names):
        lines.append(f"{cur}: &{cur} [{','.join(['*' + prev] * width)}]")
    return ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  x: y\nz:\n"
            + "".join(f"  {line}\n" for line in lines)).encode()


def nested_unknown(levels: int) -> JSON:
    value: JSON = {"leaf": 1}
    for _ in range(levels):
        value = {"n": value}
    return configmap("nested", data={"a": "b"}, spec=value)


def stored_is_clean(obj: JSON) -> str | None:
    """Why a stored object is one kube would not store (None: it is clean)."""
    api_version = str(obj.get("apiVersion", ""))
    group, _, version = api_version.rpartition("/")
    try:
        nesting.check_depth(obj)
        decoded = typed.decode(obj, group, version, str(obj.get("kind", "")), strict=True)
    except errors.StatusError as exc:
        return exc.message
    if decoded.obj != _without_nulls(obj):
        return "the stored object changes when decoded"
    return None


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _future_continue() -> str:
    import base64
    raw = dumps({"v": "meta.k8s.io/v1", "rv": 10**15, "start": "/registry/configmaps/a"})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def crash_cases() -> list[Case]:
    """Bodies that crashed or exhausted the server (issue 17): all refused with a 400."""
    bomb = alias_bomb()
    return [
        Case("deep yaml 30k", "POST", CM, deep_yaml(30_000), YAML, text="max depth"),
        Case("deep yaml 100k flow", "POST", CM, deep_flow_yaml(100_000), YAML,
             text="max depth"),
        Case("deep yaml apply", "PATCH", CM + "/deep?fieldManager=t", deep_yaml(30_000),
             APPLY, text="max depth"),
        Case("alias bomb", "POST", CM, bomb, YAML, text="excessive aliasing"),
        Case("alias bomb apply", "PATCH", CM + "/bomb?fieldManager=t", bomb, APPLY,
             text="excessive aliasing"),
        Case("alias bomb 8x9", "POST", CM, alias_bomb(8, 9), YAML, text="excessive aliasing"),
        Case("recursive alias", "POST", CM, b"kind: ConfigMap\napiVersion: v1\nmetadata: "
             b"{name: r}\ndata: &a {x: *a}\n", YAML, text="recursive"),
        Case("deep json", "POST", CM, b'{"a":' * 2000 + b"1" + b"}" * 2000,
             text="max depth"),
    ]


def cases() -> list[Case]:
    """Every other example of issue 17, with kube's answer."""
    seed = ("POST", CM, dumps(configmap("seed", data={"a": "b"})))
    seed_deploy = ("POST", DEPLOYS, dumps(deployment("seed")))
    seed_pod = ("POST", PODS, dumps(pod("seed")))
    unmarshal = "json: cannot unmarshal"
    out = [
        Case("data a: 1", "POST", CM, dumps(configmap("t1", data={"a": 1})),
             text="cannot be handled as a ConfigMap: json: cannot unmarshal number into Go "
                  "struct field ConfigMap.data of type string"),
        Case("name 5", "POST", CM, dumps({**configmap("x"), "metadata": {"name": 5}}),
             text="Go struct field ObjectMeta.metadata.name of type string"),
        Case("labels list", "POST", CM,
             dumps({**configmap("x"), "metadata": {"name": "x", "labels": ["a"]}}),
             text="ObjectMeta.metadata.labels of type map[string]string"),
        Case("image 5", "POST", PODS, dumps(pod("p", image=5)),
             text="Container.spec.containers.image of type string"),
        Case("command string", "POST", PODS, dumps(pod("p", command="ls -l")),
             text="Container.spec.containers.command of type []string"),
        Case("containers string", "POST", PODS,
             dumps({**pod("p"), "spec": {"containers": "abc"}}),
             text="PodSpec.spec.containers of type []v1.Container"),
        Case("metadata string", "POST", CM, dumps({**configmap("x"), "metadata": "x"}),
             text="ConfigMap.metadata of type v1.ObjectMeta"),
        Case("secret not base64", "POST", NS + "/secrets",
             dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                    "data": {"a": "not base64!"}}), text="illegal base64 data"),
        Case("replicas 2^40", "POST", DEPLOYS, dumps(deployment("d", 2**40)), codes=(422,),
             text="spec.replicas: Invalid value: 1099511627776"),
        Case("grace 2^70 in spec", "POST", PODS,
             dumps({**pod("p"), "spec": {"containers": [{"name": "c", "image": "b"}],
                                         "terminationGracePeriodSeconds": 2**70}}),
             text="of type int64"),
        Case("grace 2^70 query", "DELETE", CM + "/seed?gracePeriodSeconds=" + str(2**70),
             text="value out of range", setup=(seed,)),
        Case("grace abc", "DELETE", CM + "/seed?gracePeriodSeconds=abc",
             text='strconv.ParseInt: parsing "abc": invalid syntax', setup=(seed,)),
        Case("grace 2^70 body", "DELETE", CM + "/seed",
             dumps({"kind": "DeleteOptions", "apiVersion": "v1",
                    "gracePeriodSeconds": 2**70}), text="of type int64", setup=(seed,)),
        Case("unknown deep field dropped", "POST", CM, dumps(nested_unknown(248)),
             codes=(201,), read_back=CM + "/nested"),
        Case("deep known field", "POST", CM + "?fieldValidation=Strict",
             dumps(nested_unknown(248)), text='unknown field "spec"'),
        Case("deep schema-less field", "POST", CM, dumps({
            **configmap("fv"), "metadata": {"name": "fv", "managedFields": [{
                "manager": "x", "operation": "Apply", "fieldsType": "FieldsV1",
                "fieldsV1": nested_unknown(248)}]}}), text="max depth"),
        Case("unknown field dropped", "POST", CM,
             dumps(configmap("unk", data={"a": "b"}, spec={"foo": 1})), codes=(201,),
             read_back=CM + "/unk"),
        Case("unknown field strict", "POST", CM + "?fieldValidation=Strict",
             dumps(configmap("unk2", spec={"foo": 1})),
             text='strict decoding error: unknown field "spec"'),
        # Go's parser reads "()" as the set holding the empty string
        Case("selector in ()", "GET", CM + "?labelSelector=" + urllib.parse.quote("a in ()"),
             codes=(200,)),
        Case("selector a!=", "GET", CM + "?labelSelector=" + urllib.parse.quote("a!="),
             codes=(200,)),
        Case("put rv abc", "PUT", CM + "/seed",
             dumps({**configmap("seed"), "metadata": {"name": "seed",
                                                      "resourceVersion": "abc"}}),
             text='Invalid value: "abc"', setup=(seed,)),
        Case("binding string", "POST", PODS + "/seed/binding",
             dumps({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "seed"},
                    "target": "abc"}),
             text="Binding.target of type v1.ObjectReference", setup=(seed_pod,)),
        Case("eviction string", "POST", PODS + "/seed/eviction",
             dumps({"apiVersion": "policy/v1", "kind": "Eviction",
                    "metadata": {"name": "seed"}, "deleteOptions": "abc"}),
             text="Eviction.deleteOptions of type v1.DeleteOptions", setup=(seed_pod,)),
        Case("yaml int keys", "POST", CM, b"apiVersion: v1\nkind: ConfigMap\nmetadata: "
             b"{name: ik}\ndata: {1: a}\n", YAML, codes=(201,), read_back=CM + "/ik"),
        Case("yaml set", "POST", CM, b"apiVersion: v1\nkind: ConfigMap\nmetadata: "
             b"{name: st}\ndata: !!set {a, b}\n", YAML, codes=(201,), read_back=CM + "/st"),
        Case("yaml binary", "POST", CM, b"apiVersion: v1\nkind: ConfigMap\nmetadata: "
             b"{name: bi}\ndata: {a: !!binary aGVsbG8=}\n", YAML, codes=(201,),
             read_back=CM + "/bi"),
        Case("large yaml accepted", "POST", CM, b"apiVersion: v1\nkind: ConfigMap\n"
             b"metadata: {name: large}\ndata:\n" + b"".join(
                 b"  k%d: %s\n" % (i, b"v" * 40) for i in range(3000)), YAML, codes=(201,),
             read_back=CM + "/large"),
        Case("yaml complex key", "POST", CM, b"apiVersion: v1\nkind: ConfigMap\nmetadata: "
             b"{name: ck}\ndata: {[a]: b}\n", YAML),
        Case("yaml inf", "POST", CM, b"apiVersion: v1\nkind: ConfigMap\nmetadata: "
             b"{name: inf}\nx: .inf\n", YAML, text="unsupported value"),
        Case("continue future", "GET", CM + "?limit=1&continue=" + _future_continue(),
             codes=(504,), text="Too large resource version"),
        Case("rv garbage get", "GET", CM + "/seed?resourceVersion=abc",
             text="invalid resource version", setup=(seed,)),
        Case("rv garbage list", "GET", CM + "?resourceVersion=abc",
             text="invalid resource version"),
        Case("rv match garbage", "GET", CM + "?resourceVersion=1&resourceVersionMatch=abc",
             codes=(422,), text='Unsupported value: "abc"'),
        Case("limit abc", "GET", CM + "?limit=abc", text="strconv.ParseInt"),
        Case("watch bool", "GET", CM + "?watch=maybe", text="strconv.ParseBool"),
    ]
    for bad in ("nan", "inf", "1e309", "-inf", "1.5"):
        out.append(Case(f"timeout {bad}", "GET", CM + "?watch=1&timeoutSeconds=" + bad,
                        text="strconv.ParseInt"))
    patches: tuple[tuple[str, Any], ...] = (
        (MERGE, {"spec": {"replicas": 2**40}}),
        (STRATEGIC, {"spec": {"replicas": 2**40}}),
        (JSON_PATCH, [{"op": "replace", "path": "/spec/replicas", "value": 2**40}]))
    for ctype, patch in patches:
        out.append(Case(f"patch replicas {ctype}", "PATCH", DEPLOYS + "/seed", dumps(patch),
                        ctype, codes=(422,), text="spec.replicas", setup=(seed_deploy,)))
    patches = ((MERGE, {"data": {"a": 1}}), (STRATEGIC, {"data": {"a": 1}}),
               (JSON_PATCH, [{"op": "add", "path": "/data/a", "value": 1}]),
               (MERGE, {"metadata": {"labels": ["a"]}}),
               (JSON_PATCH, [{"op": "replace", "path": "/metadata", "value": "x"}]))
    for ctype, patch in patches:
        out.append(Case(f"patch type {ctype} {patch}", "PATCH", CM + "/seed", dumps(patch),
                        ctype, text=unmarshal, setup=(seed,)))
    out.append(Case("apply wrong type", "PATCH", CM + "/seed?fieldManager=t",
                    dumps(configmap("seed", data={"a": 1})), APPLY, text=unmarshal,
                    setup=(seed,)))
    out.append(Case("apply unknown dropped", "PATCH", CM + "/ap?fieldManager=t",
                    dumps(configmap("ap", data={"a": "b"}, spec={"x": 1})), APPLY,
                    codes=(201,), read_back=CM + "/ap"))
    out.append(Case("put wrong type", "PUT", CM + "/seed",
                    dumps(configmap("seed", data={"a": 1})), text=unmarshal, setup=(seed,)))
    out.append(Case("patch unknown dropped", "PATCH", CM + "/seed",
                    dumps({"spec": {"foo": 1}}), MERGE, codes=(200,), read_back=CM + "/seed",
                    setup=(seed,)))
    return out


class ThreadedAPI:
    """An :class:`~kubelite.testing.inprocess.InProcessAPI` on its own event loop in a
    background thread, for blocking (hypothesis) tests; ``client`` talks to it."""

    def __init__(self, workdir: Any) -> None:
        import asyncio
        import threading

        from kubelite.testing.inprocess import TOKEN, InProcessAPI

        self._loop = asyncio.new_event_loop()
        self._api = InProcessAPI(workdir)
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._api.__aenter__(), self._loop).result(30)
        self.client = Client(self._api.url, token=TOKEN, timeout=30)

    def close(self) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(
            self._api.__aexit__(None, None, None), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def query_watches(params: dict[str, str]) -> bool:
    """Whether a query would start a watch (``watch`` parses as Go's true)."""
    return params.get("watch", "") in ("1", "t", "T", "TRUE", "true", "True")
