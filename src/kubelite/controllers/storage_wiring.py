"""The controllers of claims, volumes, StatefulSets and disruption budgets, with the
informers they add to the controller manager's (which shares its pod informer)."""

from __future__ import annotations

from pathlib import Path

from kubelite.aio.clock import REAL, Clock
from kubelite.client.events import EventRecorder
from kubelite.client.informer import Informer
from kubelite.client.rest import ApiClient
from kubelite.controllers.base import Controller
from kubelite.controllers.disruption import DisruptionController
from kubelite.controllers.local_path import LocalPathProvisioner
from kubelite.controllers.persistentvolume import PersistentVolumeBinder
from kubelite.controllers.resources import (
    CONTROLLERREVISIONS,
    PERSISTENTVOLUMECLAIMS,
    PERSISTENTVOLUMES,
    PODDISRUPTIONBUDGETS,
    STATEFULSETS,
    STORAGECLASSES,
)
from kubelite.controllers.statefulset import StatefulSetController
from kubelite.controllers.storage_protection import StorageProtection


class StorageControllers:
    """``informers`` to start, ``controllers`` to run, ``recorders`` to flush."""

    def __init__(self, client: ApiClient, pods: Informer, storage_dir: Path | None, *,
                 scalers: dict[str, Informer], clock: Clock = REAL) -> None:
        """``scalers``: owner kind -> informer, for disruption budgets' expected pods."""
        self.claims = Informer(client, PERSISTENTVOLUMECLAIMS)
        self.volumes = Informer(client, PERSISTENTVOLUMES)
        self.classes = Informer(client, STORAGECLASSES)
        self.sets = Informer(client, STATEFULSETS)
        self.revisions = Informer(client, CONTROLLERREVISIONS)
        self.budgets = Informer(client, PODDISRUPTIONBUDGETS)
        self.informers: list[Informer] = [self.claims, self.volumes, self.classes, self.sets,
                                          self.revisions, self.budgets]
        self.recorders = {
            "persistentvolume-controller": EventRecorder(client, "persistentvolume-controller",
                                                         clock=clock),
            PROVISIONER_COMPONENT: EventRecorder(client, PROVISIONER_COMPONENT, clock=clock),
            "statefulset-controller": EventRecorder(client, "statefulset-controller",
                                                    clock=clock),
            "controllermanager": EventRecorder(client, "controllermanager", clock=clock),
        }
        self.binder = PersistentVolumeBinder(
            client, self.claims, self.volumes, self.classes,
            self.recorders["persistentvolume-controller"], clock=clock)
        self.statefulset = StatefulSetController(
            client, self.sets, pods, self.claims, self.revisions,
            self.recorders["statefulset-controller"], clock=clock)
        self.disruption = DisruptionController(
            client, self.budgets, pods, {**scalers, "StatefulSet": self.sets},
            self.recorders["controllermanager"], clock=clock)
        self.protection = StorageProtection(client, self.claims, self.volumes, pods,
                                            clock=clock)
        self.controllers: list[Controller] = [self.binder, self.statefulset, self.disruption,
                                              self.protection]
        if storage_dir is not None:
            self.controllers.append(LocalPathProvisioner(
                client, self.claims, self.volumes, self.classes, pods,
                self.recorders[PROVISIONER_COMPONENT], storage_dir, clock=clock))


PROVISIONER_COMPONENT = "rancher.io/local-path_kubelite"
