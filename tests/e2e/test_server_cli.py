"""`kubelite server` as users start it: flags, two side by side, tokens, clean shutdown."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kubelite.testing.server_process import ServerProcess

pytestmark = pytest.mark.e2e


def configmap(name: str) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})


def test_two_servers_side_by_side_and_clean_shutdown(tmp_path: Path) -> None:
    a = ServerProcess(tmp_path / "a").start()
    b = ServerProcess(tmp_path / "b").start()
    try:
        assert a.port != b.port
        assert a.kubectl("create", "-f", "-", input=configmap("only-in-a")).returncode == 0
        in_a = a.kubectl("get", "configmaps", "-o", "name").stdout.split()
        in_b = b.kubectl("get", "configmaps", "-o", "name").stdout.split()
        assert "configmap/only-in-a" in in_a
        assert "configmap/only-in-a" not in in_b
        # each server's state lives under its own data dir
        assert (tmp_path / "a" / "server" / "db").is_dir()
        assert (tmp_path / "a" / "server" / "tls" / "ca.crt").is_file()
    finally:
        code_a = a.stop()
        code_b = b.stop()
    assert code_a == 0 and code_b == 0
    assert "kubelite: shutting down" in a.log()


def test_state_and_credentials_survive_a_restart(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "d").start()
    try:
        assert server.kubectl("create", "-f", "-", input=configmap("kept")).returncode == 0
        ca_before = (tmp_path / "d" / "server" / "tls" / "ca.crt").read_bytes()
        server.stop()
        server.start()
        assert (tmp_path / "d" / "server" / "tls" / "ca.crt").read_bytes() == ca_before
        out = server.kubectl("get", "configmap", "kept", "-o", "name")
        assert out.stdout.strip() == "configmap/kept", out.stderr
    finally:
        server.stop()


def test_watch_from_before_a_restart_gets_the_history_not_410(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "w").start()
    try:
        assert server.kubectl("create", "-f", "-", input=configmap("before")).returncode == 0
        rv = server.kubectl("get", "configmap", "before", "-o",
                            "jsonpath={.metadata.resourceVersion}").stdout.strip()
        assert server.kubectl("create", "-f", "-", input=configmap("later")).returncode == 0
        server.stop()
        server.start()
        out = server.kubectl("get", "--raw", "/api/v1/namespaces/default/configmaps?"
                             f"watch=1&resourceVersion={rv}&timeoutSeconds=2")
        assert out.returncode == 0, out.stderr
        events = [json.loads(line) for line in out.stdout.splitlines() if line]
        assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
            ("ADDED", "later")], out.stdout
    finally:
        server.stop()


def test_node_token_authenticates_as_bearer(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "t", extra_args=["--token", "join-secret-0123456789"]).start()
    try:
        cfg = yaml.safe_load(server.kubeconfig.read_text())
        cfg["users"][0]["user"] = {"token": "join-secret-0123456789"}
        node_cfg = tmp_path / "node.yaml"
        node_cfg.write_text(yaml.safe_dump(cfg))
        r = subprocess.run(["kubectl", "--kubeconfig", str(node_cfg), "--cache-dir",
                            str(tmp_path / "c"), "get", "namespaces", "-o", "name"],
                           capture_output=True, text=True, timeout=60, check=False)
        assert r.returncode == 0, r.stderr
        assert "namespace/default" in r.stdout.split()
        token_file = tmp_path / "t" / "server" / "node-token"
        ca = (tmp_path / "t" / "server" / "tls" / "ca.crt").read_bytes()
        assert token_file.read_text().strip() == (
            f"K10{hashlib.sha256(ca).hexdigest()}::server:join-secret-0123456789")
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    finally:
        server.stop()


def test_a_new_token_revokes_the_old_one_and_short_tokens_are_refused(
        tmp_path: Path) -> None:
    data = tmp_path / "r"
    server = ServerProcess(data, extra_args=["--token", "first-secret-0123456789"]).start()

    def as_token(token: str) -> subprocess.CompletedProcess[str]:
        cfg = yaml.safe_load(server.kubeconfig.read_text())
        cfg["users"][0]["user"] = {"token": token}
        path = tmp_path / "token.yaml"
        path.write_text(yaml.safe_dump(cfg))
        return subprocess.run(["kubectl", "--kubeconfig", str(path), "--cache-dir",
                               str(tmp_path / "c"), "get", "namespaces", "-o", "name"],
                              capture_output=True, text=True, timeout=60, check=False)
    try:
        assert as_token("first-secret-0123456789").returncode == 0
        server.stop()
        server.extra_args = ["--token", "second-secret-0123456789"]
        server.start()
        assert as_token("second-secret-0123456789").returncode == 0
        old = as_token("first-secret-0123456789")
        assert old.returncode != 0 and "Unauthorized" in old.stderr, old.stderr
    finally:
        server.stop()
    short = subprocess.run(
        [sys.executable, "-m", "kubelite.cli.main", "server", "--data-dir", str(data),
         "--https-listen-port", "0", "--disable-agent", "--token", "short",
         "--write-kubeconfig", str(tmp_path / "k.yaml")],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")})
    assert short.returncode == 2
    assert "--token must be at least 16 characters long (got 5)" in short.stderr


def test_kubelite_kubectl_uses_the_written_kubeconfig(server: ServerProcess) -> None:
    env = {**os.environ, "KUBECONFIG": str(server.kubeconfig)}
    r = subprocess.run([sys.executable, "-m", "kubelite.cli.main", "kubectl", "get", "ns",
                        "default", "-o", "name", "--cache-dir", str(server.cache_dir)],
                       capture_output=True, text=True, env=env, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "namespace/default"


def test_cacerts_is_public_and_matches_the_token_hash(server: ServerProcess) -> None:
    import ssl
    import urllib.request

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(f"{server.url}/cacerts", context=ctx, timeout=5) as resp:
        pem = resp.read()
    token = (server.data_dir / "server" / "node-token").read_text().strip()
    assert token.startswith("K10" + hashlib.sha256(pem).hexdigest() + "::server:")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(f"{server.url}/api/v1/namespaces", context=ctx, timeout=5)
    assert exc.value.code == 401


def test_agent_refuses_a_server_whose_ca_does_not_match_the_token(
    server: ServerProcess, tmp_path: Path,
) -> None:
    import asyncio

    from kubelite.apiserver.join_token import JoinToken, parse
    from kubelite.cli.agent import trusted_ca

    good = parse((server.data_dir / "server" / "node-token").read_text())
    path = asyncio.run(trusted_ca(server.url, good, None, tmp_path / "ok"))
    assert path is not None
    assert path.read_bytes() == (server.data_dir / "server" / "tls" / "ca.crt").read_bytes()
    forged = JoinToken(good.secret, "0" * 64)
    with pytest.raises(SystemExit, match="does not match the token's hash"):
        asyncio.run(trusted_ca(server.url, forged, None, tmp_path / "bad"))
    assert not (tmp_path / "bad" / "server-ca.crt").exists()
