"""The service proxy component: informer state -> one nftables table, after each burst.

Contracts:

- Reconciled by level (DESIGN rule 1): an add, update or delete of a Service or
  EndpointSlice only wakes the loop; after ``min_sync_period`` (which coalesces a burst
  into one apply) it plans the whole table from the sources' current lists and, when the
  plan differs from the last one applied, changes the table in one transaction (only the
  parts that differ). A failed apply is retried after ``retry_period`` with the
  then-current state, as a whole replace.
- The first apply happens once both sources are synced, and replaces whatever table of
  the same name an earlier run left (no gap across a restart: established flows keep
  their conntrack NAT and new ones see the old rules until the new text lands).
- :meth:`stop` leaves the rules in place (``kubelite killall`` removes them), as
  kube-proxy does.
"""

from __future__ import annotations

import asyncio
import logging

from kubelite.aio import tasks as aiotasks
from kubelite.aio.clock import REAL, Clock
from kubelite.api.meta import JSON
from kubelite.client.sources import Source
from kubelite.proxy.model import service_ports
from kubelite.proxy.nft import Applier
from kubelite.proxy.planner import Plan, ProxyConfig, plan, update_text

log = logging.getLogger("kubelite.proxy")


class ServiceProxy:
    """Keeps ``config.table`` equal to the plan of the current Services and slices."""

    def __init__(self, services: Source, slices: Source, applier: Applier,
                 config: ProxyConfig, *, clock: Clock = REAL, min_sync_period: float = 0.2,
                 retry_period: float = 2.0) -> None:
        self.services = services
        self.slices = slices
        self.applier = applier
        self.config = config
        self.clock = clock
        self.min_sync_period = min_sync_period
        self.retry_period = retry_period
        self.syncs = 0  # applies done (for tests and metrics)
        self.last_plan: Plan | None = None  # what the table holds; None: not known
        self._dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def changed(self, *_: JSON) -> None:
        """Wake the loop (any informer event)."""
        self._dirty.set()

    def plan(self) -> Plan:
        return plan(service_ports(self.services.list(), self.slices.list()), self.config)

    async def sync(self) -> bool:
        """Plan and apply once; True when the table was changed. The first apply (and
        the one after a failure) replaces the whole table; later ones change in place
        only what differs from the last plan applied."""
        new = self.plan()
        if new == self.last_plan:
            return False
        text = None
        if self.last_plan is not None:
            text = update_text(self.last_plan, new, self.config.table)
        self.last_plan = None  # unknown until this apply succeeds
        await self.applier.apply(text if text is not None else new.text(self.config.table))
        self.last_plan = new
        self.syncs += 1
        return True

    def start(self) -> None:
        for src in (self.services, self.slices):
            src.add_handlers(self.changed, self.changed, self.changed)
        self._dirty.set()
        self._task = aiotasks.guarded(self.run(), f"service proxy {self.config.table}")

    async def run(self) -> None:
        await self.services.wait_synced()
        await self.slices.wait_synced()
        while True:
            await self._dirty.wait()
            await self.clock.sleep(self.min_sync_period)
            self._dirty.clear()
            try:
                await self.sync()
            except Exception as exc:  # logged here once, retried with fresh state
                log.error("service proxy: applying table %s failed: %s",
                          self.config.table, exc)
                await self.clock.sleep(self.retry_period)
                self._dirty.set()

    async def stop(self) -> None:
        """Stop watching; the table stays (see module)."""
        await aiotasks.stop([self._task])
        self._task = None
