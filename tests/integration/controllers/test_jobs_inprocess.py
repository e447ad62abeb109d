"""Jobs through the in-process API server: kube's defaults and texts, and the Job
controller's finalizer tracking surviving a restart of the controllers (the pods' phases
are written here as a kubelet would)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from kubelite.api.errors import StatusError
from kubelite.client.resources import PODS
from kubelite.controllers.manager import ControllerManager
from kubelite.controllers.resources import JOBS
from kubelite.testing.inprocess import InProcessAPI
from kubelite.testing.waiting import eventually

JSON = dict[str, Any]
NS = "default"
FINALIZER = "batch.kubernetes.io/job-tracking"


def job_manifest(name: str, **spec: Any) -> JSON:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "c", "image": "busybox"}]}}, **spec}}


async def test_defaults_and_generated_selector(tmp_path: Path) -> None:
    async with InProcessAPI(tmp_path) as api:
        c = api.client()
        out = await c.create(JOBS, job_manifest("pi"), NS)
        uid = out["metadata"]["uid"]
        spec = out["spec"]
        assert {k: spec[k] for k in ("completions", "parallelism", "backoffLimit",
                                     "completionMode", "suspend", "manualSelector",
                                     "podReplacementPolicy")} == {
            "completions": 1, "parallelism": 1, "backoffLimit": 6,
            "completionMode": "NonIndexed", "suspend": False, "manualSelector": False,
            "podReplacementPolicy": "TerminatingOrFailed"}
        assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        assert spec["template"]["metadata"]["labels"] == {
            "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "pi",
            "controller-uid": uid, "job-name": "pi"}
        # the selector may not change
        changed = {**out, "spec": {**spec, "selector": {"matchLabels": {"a": "b"}}}}
        with pytest.raises(StatusError) as exc:
            await c.update(JOBS, changed, NS)
        assert exc.value.code == 422
        assert "spec.selector: Invalid value" in exc.value.message
        assert "field is immutable" in exc.value.message


async def test_restart_policy_must_be_on_failure_or_never(tmp_path: Path) -> None:
    async with InProcessAPI(tmp_path) as api:
        bad = job_manifest("bad")
        del bad["spec"]["template"]["spec"]["restartPolicy"]
        with pytest.raises(StatusError) as exc:
            await api.client().create(JOBS, bad, NS)
        assert exc.value.code == 422
        assert exc.value.message == (
            'Job.batch "bad" is invalid: spec.template.spec.restartPolicy: Unsupported value:'
            ' "Always": supported values: "OnFailure", "Never"')
        indexed = job_manifest("idx", completionMode="Indexed", parallelism=2)
        with pytest.raises(StatusError) as exc:
            await api.client().create(JOBS, indexed, NS)
        assert "spec.completions: Required value: when completion mode is Indexed" in \
            exc.value.message
        cases = [
            ({"maxFailedIndexes": 1, "completionMode": "Indexed", "completions": 2},
             "spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified"),
            ({"podFailurePolicy": {"rules": [{"action": "Explode", "onExitCodes": {
                "operator": "In", "values": [1]}}]}, "podReplacementPolicy": "Failed"},
             'spec.podFailurePolicy.rules[0].action: Unsupported value: "Explode": '
             'supported values: "Count", "FailIndex", "FailJob", "Ignore"'),
            ({"podFailurePolicy": {"rules": [{"action": "FailJob", "onExitCodes": {
                "operator": "In", "values": [1]}}]}, "podReplacementPolicy":
                "TerminatingOrFailed"},
             'spec.podReplacementPolicy: Unsupported value: "TerminatingOrFailed": '
             'supported values: "Failed"'),
            ({"backoffLimit": -1}, "spec.backoffLimit: Invalid value: -1: must be greater "
             "than or equal to 0"),
        ]
        for spec, text in cases:
            with pytest.raises(StatusError) as exc:
                await api.client().create(JOBS, job_manifest("v", **spec), NS)
            assert text in exc.value.message, exc.value.message


async def _pods(api: InProcessAPI) -> list[JSON]:
    out = await api.client().list(PODS, NS)
    return sorted(out["items"], key=lambda p: p["metadata"]["name"])


async def _set_phase(api: InProcessAPI, pod: JSON, phase: str) -> None:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    await api.client().patch(PODS, pod["metadata"]["name"], {"status": {
        "phase": phase, "containerStatuses": [{
            "name": "c", "image": "busybox", "imageID": "", "ready": False,
            "restartCount": 0, "state": {"terminated": {
                "exitCode": 0 if phase == "Succeeded" else 1, "finishedAt": now,
                "startedAt": now}}}]}}, NS, subresource="status")


async def test_counts_survive_a_restart_of_the_controllers(tmp_path: Path) -> None:
    async with InProcessAPI(tmp_path) as api:
        c = api.client()
        manager = ControllerManager(api.client())
        await manager.start()
        try:
            await c.create(JOBS, job_manifest("two", completions=2, parallelism=2), NS)

            async def two_pods() -> list[JSON] | None:
                pods = await _pods(api)
                return pods if len(pods) == 2 else None

            pods = await eventually(two_pods)
            assert all(p["metadata"]["finalizers"] == [FINALIZER] for p in pods)
            ref = pods[0]["metadata"]["ownerReferences"][0]
            assert (ref["kind"], ref["name"], ref["controller"]) == ("Job", "two", True)
        finally:
            await manager.stop()
        # while no controller runs, the first pod succeeds
        await _set_phase(api, pods[0], "Succeeded")
        manager = ControllerManager(api.client())
        await manager.start()
        try:
            async def counted_once() -> JSON | None:
                job = await c.get(JOBS, "two", NS)
                first = await c.get(PODS, pods[0]["metadata"]["name"], NS)
                done = job["status"].get("succeeded") == 1 and \
                    not first["metadata"].get("finalizers")
                return job if done else None

            job = await eventually(counted_once)
            assert job["status"]["uncountedTerminatedPods"] == {}
            assert job["status"]["active"] == 1
            # the counted pod goes away: the count stays
            await c.delete(PODS, pods[0]["metadata"]["name"], NS, grace_period_seconds=0)
            await _set_phase(api, pods[1], "Succeeded")

            async def complete() -> JSON | None:
                job = await c.get(JOBS, "two", NS)
                types = [x["type"] for x in job["status"].get("conditions") or []]
                return job if "Complete" in types else None

            job = await eventually(complete)
            assert job["status"]["succeeded"] == 2
            assert [x["type"] for x in job["status"]["conditions"]] == [
                "SuccessCriteriaMet", "Complete"]
            assert job["status"]["completionTime"]
            assert len(await _pods(api)) == 1  # no pod was created again
        finally:
            await manager.stop()


def cron_manifest(name: str, policy: str = "Allow") -> JSON:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
            "spec": {"schedule": "*/1 * * * *", "concurrencyPolicy": policy,
                     "jobTemplate": {"spec": {"template": {"spec": {
                         "restartPolicy": "OnFailure",
                         "containers": [{"name": "c", "image": "busybox"}]}}}}}}


async def test_cronjob_starts_a_job_at_the_next_minute_on_fake_time(tmp_path: Path) -> None:
    from kubelite.controllers.resources import CRONJOBS
    from kubelite.testing.fake_clock import FakeClock

    async with InProcessAPI(tmp_path) as api:
        c = api.client()
        clock = FakeClock(dt.datetime.now(dt.UTC))
        manager = ControllerManager(api.client(), clock=clock)
        await manager.start()
        try:
            cj = await c.create(CRONJOBS, cron_manifest("tick", "Forbid"), NS)
            assert cj["spec"]["successfulJobsHistoryLimit"] == 3
            assert cj["spec"]["failedJobsHistoryLimit"] == 1
            assert (await c.list(JOBS, NS))["items"] == []  # nothing before the minute

            async def jobs() -> list[JSON] | None:
                items: list[JSON] = (await c.list(JOBS, NS))["items"]
                return items or None

            first = (await clock.until(jobs, step=5.0))[0]
            minute = int(clock.now().timestamp()) // 60
            assert first["metadata"]["name"] == f"tick-{minute}"
            ref = first["metadata"]["ownerReferences"][0]
            assert (ref["kind"], ref["name"]) == ("CronJob", "tick")
            assert "batch.kubernetes.io/cronjob-scheduled-timestamp" in \
                first["metadata"]["annotations"]

            async def active() -> JSON | None:
                got = await c.get(CRONJOBS, "tick", NS)
                return got if got["status"].get("active") else None

            status = (await eventually(active))["status"]
            assert [a["name"] for a in status["active"]] == [first["metadata"]["name"]]
            assert status["lastScheduleTime"]
            # Forbid: the job still runs (no kubelet here), the next minute starts nothing
            recorded = manager.recorders["cronjob-controller"].recorded

            async def skipped() -> bool:
                return any(r[1] == "JobAlreadyActive" for r in recorded)

            await clock.until(skipped, step=5.0)
            names = [j["metadata"]["name"] for j in (await c.list(JOBS, NS))["items"]]
            assert names == [first["metadata"]["name"]]
        finally:
            await manager.stop()


async def test_cronjob_validation_texts(tmp_path: Path) -> None:
    from kubelite.controllers.resources import CRONJOBS

    async with InProcessAPI(tmp_path) as api:
        cases = [
            ({"timeZone": "Mars/Base"},
             'spec.timeZone: Invalid value: "Mars/Base": unknown time zone Mars/Base'),
            ({"schedule": "TZ=UTC */1 * * * *"},
             "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"),
            ({"concurrencyPolicy": "Sometimes"},
             'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: '
             '"Allow", "Forbid", "Replace"'),
        ]
        for change, text in cases:
            body = cron_manifest("c")
            body["spec"].update(change)
            with pytest.raises(StatusError) as exc:
                await api.client().create(CRONJOBS, body, NS)
            assert exc.value.code == 422 and text in exc.value.message, exc.value.message
        long = cron_manifest("x" * 53)
        with pytest.raises(StatusError) as exc:
            await api.client().create(CRONJOBS, long, NS)
        assert "must be no more than 52 characters" in exc.value.message


async def test_suspended_job_starts_nothing_until_resumed(tmp_path: Path) -> None:
    async with InProcessAPI(tmp_path) as api:
        c = api.client()
        manager = ControllerManager(api.client())
        await manager.start()
        try:
            await c.create(JOBS, job_manifest("later", suspend=True), NS)

            async def suspended() -> JSON | None:
                job = await c.get(JOBS, "later", NS)
                conds = {x["type"]: x for x in job["status"].get("conditions") or []}
                return job if "Suspended" in conds else None

            job = await eventually(suspended)
            cond = job["status"]["conditions"][0]
            assert (cond["status"], cond["reason"], cond["message"]) == (
                "True", "JobSuspended", "Job suspended")
            assert "startTime" not in job["status"]
            assert await _pods(api) == []
            await c.patch(JOBS, "later", {"spec": {"suspend": False}}, NS)

            async def resumed() -> list[JSON] | None:
                pods = await _pods(api)
                return pods or None

            await eventually(resumed)
            job = await c.get(JOBS, "later", NS)
            cond = job["status"]["conditions"][0]
            assert (cond["status"], cond["reason"]) == ("False", "JobResumed")
            assert job["status"]["startTime"]
        finally:
            await manager.stop()
