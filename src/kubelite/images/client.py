"""An OCI distribution (v2 API) client: resolve a reference to a manifest, fetch blobs.

Contract: every byte returned or written is verified against its digest (and blobs against
their size) before the caller sees it; a blob file exists at ``dest`` only when complete
and verified. Failures raise :mod:`kubelite.images.errors` with the registry's host in the
message. Anonymous bearer tokens (Docker Hub, gcr.io) and basic/token auth with
credentials from ``registries.yaml`` (or passed per pull, as a pod's pull secret) are
handled from the registry's ``WWW-Authenticate`` challenge.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from kubelite.images import manifest as mf
from kubelite.images.errors import (
    AuthError,
    DigestMismatch,
    ImageError,
    ImageNotFound,
    RegistryUnavailable,
)
from kubelite.images.reference import Reference
from kubelite.images.registries import Credentials, Endpoint, RegistryConfig

Progress = Callable[[str, int, int], None]
"""Called as (blob digest, bytes done, bytes total) while a blob downloads."""

MAX_MANIFEST = 4 << 20
CHUNK = 1 << 20
_CHALLENGE_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))')


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = 15.0  # TCP + TLS connect
    read: float = 60.0  # no byte for this long on an open response: give up (as the
    #                     kubelet's image pull progress deadline)
    attempts: int = 3  # tries for a blob transfer cut short (resumed with Range)


@dataclass(slots=True)
class Repo:
    """One repository at one endpoint, with its authorization state."""

    endpoint: Endpoint
    path: str
    credentials: Credentials | None
    authorization: str | None = None

    @property
    def base(self) -> str:
        return f"{self.endpoint.url}/v2/{self.path}"


@dataclass(frozen=True, slots=True)
class Resolved:
    """A reference resolved to this platform's manifest."""

    repo: Repo = field(compare=False)
    digest: str  # what the reference names: the index digest for a multi-platform image
    manifest_digest: str
    manifest_raw: bytes
    manifest: mf.Manifest
    index_digest: str | None = None
    index_raw: bytes | None = None


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="...",service="..."`` -> ("bearer", {"realm": ..., ...})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
              for m in _CHALLENGE_PARAM.finditer(rest)}
    return scheme.lower(), params


class RegistryClient:
    """Talks to registries; one aiohttp session, bearer tokens cached by scope."""

    def __init__(self, config: RegistryConfig | None = None,
                 timeouts: Timeouts | None = None,
                 platform: tuple[str, str, str | None] | None = None) -> None:
        self.config = config or RegistryConfig()
        self.timeouts = timeouts or Timeouts()
        self.platform = platform
        self._session: aiohttp.ClientSession | None = None
        self._tokens: dict[tuple[str, str, str], str] = {}

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            t = aiohttp.ClientTimeout(total=None, sock_connect=self.timeouts.connect,
                                      sock_read=self.timeouts.read)
            self._session = aiohttp.ClientSession(
                timeout=t, headers={"User-Agent": "kubelite/0.1"},
                connector=aiohttp.TCPConnector(limit=32, ttl_dns_cache=300))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ---- resolving -------------------------------------------------------------
    async def resolve(self, ref: Reference, auth: Credentials | None = None) -> Resolved:
        """Find ``ref`` at the first endpoint that has it (mirrors first)."""
        errors: list[ImageError] = []
        for ep in self.config.endpoints(ref.registry):
            repo = Repo(ep, ep.repository(ref.repository), auth or ep.credentials)
            try:
                return await self._resolve_at(repo, ref)
            except ImageError as exc:
                errors.append(exc)
        raise self._pick_error(ref, errors)

    @staticmethod
    def _pick_error(ref: Reference, errors: list[ImageError]) -> ImageError:
        # The most telling error wins: an answer from a registry (not found, denied, bad
        # content) over a registry we could not reach; all messages are kept.
        if not errors:
            return RegistryUnavailable(f"no endpoint configured for {ref.registry}")
        answered = [e for e in errors if not isinstance(e, RegistryUnavailable)]
        main = (answered or errors)[0]
        if len(errors) == 1:
            return main
        others = "; ".join(str(e) for e in errors if e is not main)
        out = type(main)(f"{main} (also tried: {others})")
        return out

    async def _resolve_at(self, repo: Repo, ref: Reference) -> Resolved:
        raw, mt, digest = await self._get_manifest(repo, ref, ref.object)
        if ref.digest and digest != ref.digest:
            raise DigestMismatch(f"{ref}: manifest from {repo.endpoint.host} has digest "
                                 f"{digest}, expected {ref.digest}")
        if mt in mf.INDEX_TYPES:
            chosen = mf.select_platform(raw, self.platform)
            mraw, mmt, mdigest = await self._get_manifest(repo, ref, chosen.digest)
            if mdigest != chosen.digest:
                raise DigestMismatch(f"{ref}: platform manifest has digest {mdigest}, "
                                     f"the index says {chosen.digest}")
            return Resolved(repo, digest, mdigest, mraw, mf.Manifest.parse(mraw, mmt),
                            digest, raw)
        return Resolved(repo, digest, digest, raw, mf.Manifest.parse(raw, mt))

    async def _get_manifest(self, repo: Repo, ref: Reference, obj: str
                            ) -> tuple[bytes, str, str]:
        url = f"{repo.base}/manifests/{obj}"
        async with self._request(repo, "GET", url, {"Accept": mf.ACCEPT}) as resp:
            if resp.status == 404:
                raise ImageNotFound(f"failed to resolve reference \"{ref}\": {ref.name}:"
                                    f"{obj} not found at {repo.endpoint.host}")
            self._check_status(repo, resp, f"manifest {ref.name}:{obj}")
            if (resp.content_length or 0) > MAX_MANIFEST:
                raise ImageError(f"manifest {obj} at {repo.endpoint.host} is too large")
            raw = await self._read_all(repo, resp, MAX_MANIFEST)
            header_mt = resp.headers.get("Content-Type")
            header_digest = resp.headers.get("Docker-Content-Digest")
        digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        if obj.startswith("sha256:") and digest != obj:
            raise DigestMismatch(f"manifest {ref.name}@{obj} from {repo.endpoint.host} "
                                 f"has digest {digest}")
        if header_digest and header_digest.startswith("sha256:") and header_digest != digest:
            raise DigestMismatch(f"manifest {ref.name}:{obj} from {repo.endpoint.host}: "
                                 f"content has digest {digest}, registry says {header_digest}")
        return raw, mf.sniff_media_type(raw, header_mt), digest

    async def _read_all(self, repo: Repo, resp: aiohttp.ClientResponse, limit: int) -> bytes:
        """The whole body, refusing more than ``limit`` bytes."""
        parts: list[bytes] = []
        size = 0
        try:
            async for chunk in resp.content.iter_any():
                size += len(chunk)
                if size > limit:
                    raise ImageError(f"a manifest at {repo.endpoint.host} is larger than "
                                     f"{limit} bytes")
                parts.append(chunk)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._unavailable(repo, exc) from exc
        return b"".join(parts)

    # ---- blobs -----------------------------------------------------------------
    async def fetch_blob(self, repo: Repo, desc: mf.Descriptor, dest: Path,
                         progress: Progress | None = None) -> None:
        """Download a blob to ``dest`` (a temp path), verified; a transfer cut short is
        resumed with a Range request (or restarted if the registry ignores ranges).

        On any failure ``dest`` does not exist afterwards.
        """
        f = await asyncio.to_thread(open, dest, "wb")
        t = _Transfer(f)
        try:
            try:
                for attempt in range(self.timeouts.attempts):
                    try:
                        await self._blob_once(repo, desc, t, progress)
                        break
                    except RegistryUnavailable:
                        if attempt + 1 >= self.timeouts.attempts:
                            raise
                        await asyncio.sleep(0.1 * (attempt + 1))
            finally:
                await asyncio.to_thread(f.close)
            if t.done != desc.size:
                raise DigestMismatch(f"blob {desc.digest} from {repo.endpoint.host}: got "
                                     f"{t.done} bytes, expected {desc.size}")
            got = "sha256:" + t.hash.hexdigest()
            if got != desc.digest:
                raise DigestMismatch(f"blob {desc.digest} from {repo.endpoint.host} has "
                                     f"digest {got}: corrupted in transit or in the registry")
        except BaseException:
            await asyncio.to_thread(dest.unlink, missing_ok=True)
            raise

    async def _blob_once(self, repo: Repo, desc: mf.Descriptor, t: _Transfer,
                         progress: Progress | None) -> None:
        url = f"{repo.base}/blobs/{desc.digest}"
        headers = {"Range": f"bytes={t.done}-"} if t.done else {}
        async with self._request(repo, "GET", url, headers) as resp:
            if resp.status == 404:
                raise ImageNotFound(f"blob {desc.digest} not found in {repo.path} at "
                                    f"{repo.endpoint.host}")
            self._check_status(repo, resp, f"blob {desc.digest}")
            if t.done and resp.status != 206:  # no range support: start again
                await asyncio.to_thread(t.restart)
            try:
                async for chunk in resp.content.iter_chunked(CHUNK):
                    if t.done + len(chunk) > desc.size:
                        raise DigestMismatch(
                            f"blob {desc.digest} from {repo.endpoint.host} is larger than "
                            f"the {desc.size} bytes the manifest says")
                    await asyncio.to_thread(t.add, chunk)
                    if progress is not None:
                        progress(desc.digest, t.done, desc.size)
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise RegistryUnavailable(
                    f"transfer of blob {desc.digest} from {repo.endpoint.host} was cut short "
                    f"after {t.done} of {desc.size} bytes: {_describe(exc)}") from exc
        if t.done < desc.size:
            raise RegistryUnavailable(f"transfer of blob {desc.digest} from "
                                      f"{repo.endpoint.host} ended after {t.done} of "
                                      f"{desc.size} bytes")

    # ---- HTTP with auth --------------------------------------------------------
    def _request(self, repo: Repo, method: str, url: str,
                 headers: dict[str, str]) -> _AuthedRequest:
        return _AuthedRequest(self, repo, method, url, headers)

    async def _send(self, repo: Repo, method: str, url: str,
                    headers: dict[str, str]) -> aiohttp.ClientResponse:
        for attempt in range(2):
            h = dict(headers)
            if repo.authorization:
                h["Authorization"] = repo.authorization
            try:
                resp = await self._http().request(
                    method, url, headers=h, ssl=repo.endpoint.ssl_context(),
                    allow_redirects=True)
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                raise self._unavailable(repo, exc) from exc
            if resp.status != 401 or attempt == 1:
                return resp
            challenge = resp.headers.get("WWW-Authenticate", "")
            resp.release()
            repo.authorization = await self._authorize(repo, challenge)
        raise AssertionError("unreachable")

    async def _authorize(self, repo: Repo, challenge: str) -> str:
        host = repo.endpoint.host
        scheme, params = parse_challenge(challenge) if challenge else ("", {})
        creds = repo.credentials
        if scheme == "basic":
            if creds is None or not creds.username:
                raise AuthError(f"{host} requires a username and password (basic auth) "
                                f"and none is configured")
            raw = f"{creds.username}:{creds.password}".encode()
            return "Basic " + base64.b64encode(raw).decode()
        if scheme != "bearer" or not params.get("realm"):
            raise AuthError(f"{host} answered 401 Unauthorized without a token endpoint "
                            f"(WWW-Authenticate: {challenge or 'missing'})")
        scope = params.get("scope") or f"repository:{repo.path}:pull"
        key = (params["realm"], params.get("service", ""), scope)
        cached = self._tokens.get(key)
        if cached and repo.authorization != f"Bearer {cached}":
            return f"Bearer {cached}"
        token = await self._fetch_token(repo, params["realm"], params.get("service", ""),
                                        scope)
        self._tokens[key] = token
        return f"Bearer {token}"

    async def _fetch_token(self, repo: Repo, realm: str, service: str, scope: str) -> str:
        creds = repo.credentials
        query = {"scope": scope}
        if service:
            query["service"] = service
        basic = None
        if creds and creds.username and not creds.identity_token:
            basic = aiohttp.BasicAuth(creds.username, creds.password)
        try:
            if creds and creds.identity_token:
                form = {"grant_type": "refresh_token", "refresh_token": creds.identity_token,
                        "service": service, "scope": scope, "client_id": "kubelite"}
                cm = self._http().post(realm, data=form)
            else:
                cm = self._http().get(realm, params=query, auth=basic)
            async with cm as resp:
                if resp.status in (401, 403):
                    raise AuthError(f"token server {realm} refused "
                                    f"{'the credentials' if creds else 'anonymous access'} "
                                    f"for {scope}: {resp.status} {resp.reason}")
                if resp.status != 200:
                    raise AuthError(f"token server {realm} answered {resp.status} "
                                    f"{resp.reason} for {scope}")
                doc = await resp.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise AuthError(f"cannot get a token from {realm}: {_describe(exc)}") from exc
        token = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
        if not token:
            raise AuthError(f"token server {realm} gave no token for {scope}")
        return str(token)

    def _check_status(self, repo: Repo, resp: aiohttp.ClientResponse, what: str) -> None:
        host = repo.endpoint.host
        if resp.status in (200, 206):
            return
        if resp.status in (401, 403):
            raise AuthError(f"pull access denied for {repo.path} at {host}, repository does "
                            f"not exist or may require authorization: {resp.status} "
                            f"{resp.reason}")
        if resp.status == 429:
            raise RegistryUnavailable(f"{host}: too many requests (429) for {what}")
        if resp.status >= 500:
            raise RegistryUnavailable(f"{host} failed with {resp.status} {resp.reason} "
                                      f"for {what}")
        raise ImageError(f"{host} answered {resp.status} {resp.reason} for {what}")

    def _unavailable(self, repo: Repo, exc: BaseException) -> RegistryUnavailable:
        return RegistryUnavailable(f"cannot reach {repo.endpoint.url}: {_describe(exc)}")


class _Transfer:
    """A blob download in progress: the file, the running hash, the bytes so far."""

    def __init__(self, f: Any) -> None:
        self.f = f
        self.hash = hashlib.sha256()
        self.done = 0

    def add(self, chunk: bytes) -> None:
        self.hash.update(chunk)
        self.f.write(chunk)
        self.done += len(chunk)

    def restart(self) -> None:
        self.f.seek(0)
        self.f.truncate()
        self.hash = hashlib.sha256()
        self.done = 0


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return "timed out waiting for the registry"
    return str(exc) or type(exc).__name__


class _AuthedRequest:
    """``async with`` wrapper: send (authorizing on 401) and release the response."""

    def __init__(self, client: RegistryClient, repo: Repo, method: str, url: str,
                 headers: dict[str, str]) -> None:
        self._args = (repo, method, url, headers)
        self._client = client
        self._resp: aiohttp.ClientResponse | None = None

    async def __aenter__(self) -> aiohttp.ClientResponse:
        self._resp = await self._client._send(*self._args)
        return self._resp

    async def __aexit__(self, *exc: object) -> None:
        if self._resp is not None:
            self._resp.release()

