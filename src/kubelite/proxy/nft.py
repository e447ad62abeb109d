"""Applying a planned table with ``nft -f -``, and the fake that records instead.

Contracts: :meth:`NftApplier.apply` hands the whole text to one ``nft`` process, so the
kernel applies it as one transaction (all or nothing; a refused text leaves the table as
it was) and raises :class:`NftError` with nft's message. With ``netns`` set, nft runs
inside that network namespace (``ip netns exec``), which is how tests keep off the
machine's own rules. :class:`RecordingApplier` keeps the texts it was given.
"""

from __future__ import annotations

import asyncio
import shutil
from typing import Protocol


class NftError(RuntimeError):
    """nft refused a ruleset, or could not be run."""


class Applier(Protocol):
    """Where the proxy's planned text goes."""

    async def apply(self, text: str) -> None: ...


def nft_argv(netns: str | None = None) -> list[str]:
    base = [shutil.which("nft") or "nft", "-f", "-"]
    return ["ip", "netns", "exec", netns, *base] if netns else base


NFT_TIMEOUT = 30.0  # seconds one nft run may take


async def run_nft(text: str, netns: str | None = None) -> None:
    """Feed ``text`` to ``nft -f -`` (in ``netns``); raise :class:`NftError` if refused."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *nft_argv(netns), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    except OSError as exc:
        raise NftError(f"cannot run nft: {exc}") from exc
    try:
        async with asyncio.timeout(NFT_TIMEOUT):
            _, err = await proc.communicate(text.encode())
    except TimeoutError as exc:
        proc.kill()
        await proc.wait()
        raise NftError(f"nft did not finish within {NFT_TIMEOUT} s") from exc
    if proc.returncode != 0:
        raise NftError(err.decode(errors="replace").strip() or f"nft exited {proc.returncode}")


class NftApplier:
    """Applies texts with the machine's ``nft`` (optionally in one network namespace)."""

    def __init__(self, netns: str | None = None) -> None:
        self.netns = netns

    async def apply(self, text: str) -> None:
        await run_nft(text, self.netns)


class RecordingApplier:
    """A fake :class:`Applier`: remembers every text, the last one in :attr:`current`."""

    def __init__(self) -> None:
        self.applied: list[str] = []
        self.fail_next: Exception | None = None

    @property
    def current(self) -> str:
        return self.applied[-1] if self.applied else ""

    async def apply(self, text: str) -> None:
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc
        self.applied.append(text)
