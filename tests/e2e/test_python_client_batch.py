"""The official Python client's BatchV1Api against a real kubelite server (no kubelet:
the Job's pods stay Pending): create, read, list and delete a Job with
``propagationPolicy=Background``, and a CronJob read back with its defaults."""

from __future__ import annotations

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from kubelite.testing.server_process import ServerProcess, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api(server: ServerProcess) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(server.kubeconfig))


def _template() -> client.V1PodTemplateSpec:
    return client.V1PodTemplateSpec(spec=client.V1PodSpec(
        restart_policy="Never",
        containers=[client.V1Container(name="c", image="busybox", command=["true"])]))


def test_job_create_read_delete_background(api: client.ApiClient) -> None:
    batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
    job = client.V1Job(metadata=client.V1ObjectMeta(name="py-job"),
                       spec=client.V1JobSpec(template=_template(), parallelism=2,
                                             completions=2))
    made = batch.create_namespaced_job("default", job)
    assert made.spec.backoff_limit == 6 and made.spec.completion_mode == "NonIndexed"
    uid = made.metadata.uid
    assert made.spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": uid}

    def pods() -> list[client.V1Pod]:
        items: list[client.V1Pod] = core.list_namespaced_pod(
            "default", label_selector=f"batch.kubernetes.io/controller-uid={uid}").items
        return items

    assert wait_for(lambda: len(pods()) == 2, 30)
    assert wait_for(lambda: batch.read_namespaced_job_status(
        "py-job", "default").status.active == 2, 30)
    read = batch.read_namespaced_job("py-job", "default")
    assert read.status.start_time is not None and read.status.ready == 0
    assert [j.metadata.name for j in batch.list_namespaced_job("default").items] == ["py-job"]
    batch.delete_namespaced_job("py-job", "default", propagation_policy="Background")
    with pytest.raises(ApiException) as exc:
        batch.read_namespaced_job("py-job", "default")
    assert exc.value.status == 404
    # the garbage collector deletes the pods; the Job controller lets their finalizer go
    assert wait_for(lambda: not pods(), 30)


def test_cronjob_read_back_with_defaults(api: client.ApiClient) -> None:
    batch = client.BatchV1Api(api)
    cj = client.V1CronJob(metadata=client.V1ObjectMeta(name="py-cron"), spec=client.V1CronJobSpec(
        schedule="@hourly", job_template=client.V1JobTemplateSpec(
            spec=client.V1JobSpec(template=_template()))))
    batch.create_namespaced_cron_job("default", cj)
    got = batch.read_namespaced_cron_job("py-cron", "default")
    assert (got.spec.concurrency_policy, got.spec.suspend,
            got.spec.successful_jobs_history_limit, got.spec.failed_jobs_history_limit) == (
        "Allow", False, 3, 1)
    bad = client.V1CronJob(metadata=client.V1ObjectMeta(name="py-bad"), spec=client.V1CronJobSpec(
        schedule="every minute", job_template=client.V1JobTemplateSpec(
            spec=client.V1JobSpec(template=_template()))))
    with pytest.raises(ApiException) as exc:
        batch.create_namespaced_cron_job("default", bad)
    assert exc.value.status == 422
    assert ('spec.schedule: Invalid value: \\"every minute\\": expected exactly 5 fields, '
            'found 2: [every minute]') in str(exc.value.body)
    batch.delete_namespaced_cron_job("py-cron", "default")
