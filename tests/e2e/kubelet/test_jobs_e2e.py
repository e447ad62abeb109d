"""Jobs on real runc with the real kubectl: what `kubectl create job`, `wait`, `logs`,
`get jobs` and `delete --cascade=foreground` show a user.

One node for the module; the jobs run busybox from the local test registry.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubelite.api.meta_time import parse_time
from kubelite.testing.server_process import ServerProcess, wait_for

pytestmark = pytest.mark.root


def ok(r: Any) -> str:
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return str(r.stdout)


def job_pods(node: ServerProcess, name: str) -> list[dict[str, Any]]:
    out = ok(node.kubectl("get", "pods", "-l", f"batch.kubernetes.io/job-name={name}",
                          "-o", "json"))
    items: list[dict[str, Any]] = json.loads(out)["items"]
    return items


def job(node: ServerProcess, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(ok(node.kubectl("get", "job", name, "-o", "json")))
    return doc


def test_create_wait_logs_and_get(node: ServerProcess) -> None:
    ok(node.kubectl("create", "job", "pi", "--image=busybox", "--", "sh", "-c", "echo done"))
    ok(node.kubectl("wait", "--for=condition=complete", "job/pi", "--timeout=60s"))
    assert ok(node.kubectl("logs", "job/pi")) == "done\n"
    lines = ok(node.kubectl("get", "jobs")).splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    row = next(line.split() for line in lines[1:] if line.startswith("pi "))
    assert row[:3] == ["pi", "Complete", "1/1"]
    doc = job(node, "pi")
    types = [c["type"] for c in doc["status"]["conditions"]]
    assert types == ["SuccessCriteriaMet", "Complete"]
    assert doc["status"]["succeeded"] == 1 and doc["status"]["uncountedTerminatedPods"] == {}
    assert doc["spec"]["backoffLimit"] == 6
    pods = job_pods(node, "pi")
    assert [p["status"]["phase"] for p in pods] == ["Succeeded"]
    # counted: the tracking finalizer is gone from the finished pod
    assert wait_for(lambda: not job_pods(node, "pi")[0]["metadata"].get("finalizers"), 10)
    events = ok(node.kubectl("get", "events", "--field-selector",
                             "involvedObject.kind=Job,involvedObject.name=pi"))
    assert "SuccessfulCreate" in events and "Completed" in events


PARALLEL = """
apiVersion: batch/v1
kind: Job
metadata: {name: par}
spec:
  completions: 3
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: c, image: busybox, command: ["sh", "-c", "sleep 2"]}
"""


def test_completions_three_parallelism_two(node: ServerProcess) -> None:
    ok(node.kubectl("apply", "-f", "-", input=PARALLEL))
    ok(node.kubectl("wait", "--for=condition=complete", "job/par", "--timeout=60s"))
    pods = job_pods(node, "par")
    assert [p["status"]["phase"] for p in pods] == ["Succeeded"] * 3
    spans = []
    for p in pods:
        term = p["status"]["containerStatuses"][0]["state"]["terminated"]
        spans.append((parse_time(term["startedAt"]), parse_time(term["finishedAt"])))
    # never more than two at once: at every start, fewer than two others are running
    for start, _ in spans:
        assert sum(1 for s, f in spans if s <= start < f) <= 2
    assert job(node, "par")["status"]["succeeded"] == 3
    assert "3/3" in ok(node.kubectl("get", "job", "par"))


FAILING = """
apiVersion: batch/v1
kind: Job
metadata: {name: fails}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: c, image: busybox, command: ["sh", "-c", "exit 3"]}
"""


def test_failing_job_reaches_backoff_limit(node: ServerProcess) -> None:
    ok(node.kubectl("apply", "-f", "-", input=FAILING))
    ok(node.kubectl("wait", "--for=condition=failed", "job/fails", "--timeout=60s"))
    doc = job(node, "fails")
    failed = next(c for c in doc["status"]["conditions"] if c["type"] == "Failed")
    assert failed["reason"] == "BackoffLimitExceeded"
    assert failed["message"] == "Job has reached the specified backoff limit"
    assert doc["status"]["failed"] == 2
    assert len(job_pods(node, "fails")) == 2  # exactly backoffLimit + 1 pods
    row = ok(node.kubectl("get", "job", "fails")).splitlines()[1].split()
    assert row[:3] == ["fails", "Failed", "0/1"]


INDEXED = """
apiVersion: batch/v1
kind: Job
metadata: {name: idx}
spec:
  completions: 3
  parallelism: 3
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: c, image: busybox, command: ["sh", "-c", "echo index=$JOB_COMPLETION_INDEX"]}
"""


def test_indexed_job_pods_see_their_index(node: ServerProcess) -> None:
    ok(node.kubectl("apply", "-f", "-", input=INDEXED))
    ok(node.kubectl("wait", "--for=condition=complete", "job/idx", "--timeout=60s"))
    seen = {}
    for p in job_pods(node, "idx"):
        index = p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
        assert p["spec"]["hostname"] == f"idx-{index}"
        seen[index] = ok(node.kubectl("logs", p["metadata"]["name"])).strip()
    assert seen == {"0": "index=0", "1": "index=1", "2": "index=2"}
    assert job(node, "idx")["status"]["completedIndexes"] == "0-2"


def test_ttl_zero_and_foreground_deletion_remove_pods(node: ServerProcess) -> None:
    ttl = PARALLEL.replace("name: par", "name: ttl").replace(
        "completions: 3", "ttlSecondsAfterFinished: 0\n  completions: 1").replace(
        "sleep 2", "true")
    ok(node.kubectl("apply", "-f", "-", input=ttl))
    assert wait_for(lambda: node.kubectl("get", "job", "ttl").returncode != 0, 60)
    assert wait_for(lambda: not job_pods(node, "ttl"), 30)

    long = PARALLEL.replace("name: par", "name: long").replace("sleep 2", "sleep 300")
    ok(node.kubectl("apply", "-f", "-", input=long))
    assert wait_for(lambda: sum(p["status"].get("phase") == "Running"
                                for p in job_pods(node, "long")) == 2, 60)
    ok(node.kubectl("delete", "job", "long", "--cascade=foreground", "--timeout=60s"))
    assert node.kubectl("get", "job", "long").returncode != 0
    assert job_pods(node, "long") == []


def test_cronjob_create_get_and_job_from_it(node: ServerProcess) -> None:
    ok(node.kubectl("create", "cronjob", "hello", "--image=busybox", "--schedule=*/1 * * * *",
                    "--", "sh", "-c", "echo from-cron"))
    lines = ok(node.kubectl("get", "cronjobs")).splitlines()
    assert lines[0].split() == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE",
                                "LAST", "SCHEDULE", "AGE"]
    row = next(line.split() for line in lines[1:] if line.startswith("hello "))
    assert row[:7] == ["hello", "*/1", "*", "*", "*", "*", "<none>"]
    assert row[7:9] == ["False", "0"]
    ok(node.kubectl("create", "job", "once", "--from=cronjob/hello"))
    ok(node.kubectl("wait", "--for=condition=complete", "job/once", "--timeout=60s"))
    assert ok(node.kubectl("logs", "job/once")) == "from-cron\n"
    doc = job(node, "once")
    assert doc["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    ok(node.kubectl("delete", "cronjob", "hello"))


POLICY = """
apiVersion: batch/v1
kind: Job
metadata: {name: policy}
spec:
  podReplacementPolicy: Failed
  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes: {operator: In, values: [42]}
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: busybox, command: ["sh", "-c", "exit 42"]}
"""


def test_pod_failure_policy_fails_the_job_at_once_and_describe(node: ServerProcess) -> None:
    ok(node.kubectl("apply", "-f", "-", input=POLICY))
    ok(node.kubectl("wait", "--for=condition=failed", "job/policy", "--timeout=60s"))
    doc = job(node, "policy")
    failed = next(c for c in doc["status"]["conditions"] if c["type"] == "Failed")
    pod_name = job_pods(node, "policy")[0]["metadata"]["name"]
    assert failed["reason"] == "PodFailurePolicy"
    assert failed["message"] == (f"Container main for pod default/{pod_name} failed with "
                                 "exit code 42 matching FailJob rule at index 0")
    assert len(job_pods(node, "policy")) == 1  # not retried
    described = ok(node.kubectl("describe", "job", "policy"))
    assert "Pods Statuses:" in described and "0 Active" in described
    assert "1 Failed" in described
