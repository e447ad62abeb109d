"""batch/v1: ``registry/batch/{job,cronjob}/strategy.go``.

Jobs count spec changes in ``metadata.generation``, get their selector and the
``controller-uid`` / ``job-name`` template labels generated at create (unless
``manualSelector``), and keep selector, completion mode and template on update. CronJobs
count generations too and check their schedule and job template.
"""

from __future__ import annotations

from typing import ClassVar

from kubelite.api import batch_defaults, scheme
from kubelite.api.meta import JSON
from kubelite.api.validation import batch
from kubelite.api.validation.field import Errors
from kubelite.apiserver.kinds.strategy import Strategy
from kubelite.apiserver.printers.batch import CRON_JOB, JOB
from kubelite.apiserver.printers.tables import Printer


class JobStrategy(Strategy):
    """Jobs: generated selectors, restart policy OnFailure or Never."""

    printer: ClassVar[Printer] = JOB
    tracks_generation = True

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        batch_defaults.default_job(obj)

    def prepare_for_create(self, res: scheme.Resource, obj: JSON) -> None:
        super().prepare_for_create(res, obj)
        batch.generate_selector(obj)

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        batch.validate_job(obj, errs)

    def validate_object_update(self, res: scheme.Resource, new: JSON, old: JSON,
                               subresource: str | None, errs: Errors) -> None:
        if subresource is None:
            batch.validate_job_update(new, old, errs)


class CronJobStrategy(Strategy):
    """CronJobs: a parseable schedule, a known time zone, a valid job template."""

    printer: ClassVar[Printer] = CRON_JOB
    tracks_generation = True

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        batch_defaults.default_cron_job(obj)

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        batch.validate_cron_job(obj, errs)


JOB_STRATEGY = JobStrategy()
CRON_JOB_STRATEGY = CronJobStrategy()
