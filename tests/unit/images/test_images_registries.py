import base64
from pathlib import Path

import pytest

from kubelite.images import ConfigError, RegistryConfig


def test_no_config_pulls_from_the_registry_itself() -> None:
    cfg = RegistryConfig()
    assert [e.url for e in cfg.endpoints("docker.io")] == ["https://registry-1.docker.io"]
    assert [e.url for e in cfg.endpoints("gcr.io")] == ["https://gcr.io"]
    # loopback registries speak plain http, as local test registries do
    assert [e.url for e in cfg.endpoints("127.0.0.1:5000")] == ["http://127.0.0.1:5000"]


def test_k3s_file_mirrors_rewrites_and_configs(tmp_path: Path) -> None:
    f = tmp_path / "registries.yaml"
    f.write_text(
        """
mirrors:
  docker.io:
    endpoint: ["http://127.0.0.1:5000", "mirror.example.com/v2/"]
    rewrite:
      "^library/(.*)": "dockerhub/$1"
  "*":
    endpoint: ["https://catchall.example"]
configs:
  "mirror.example.com":
    auth: {{username: alice, password: s3cret}}
    tls: {{insecure_skip_verify: true}}
  "gcr.io":
    auth: {{auth: {}}}
""".format(base64.b64encode(b"bob:pw").decode())
    )
    cfg = RegistryConfig.load(f)
    eps = cfg.endpoints("docker.io")
    assert [e.url for e in eps] == [
        "http://127.0.0.1:5000", "https://mirror.example.com", "https://registry-1.docker.io"]
    assert [e.is_mirror for e in eps] == [True, True, False]
    assert eps[0].repository("library/nginx") == "dockerhub/nginx"
    assert eps[0].repository("bitnami/redis") == "bitnami/redis"
    assert eps[2].repository("library/nginx") == "library/nginx"  # no rewrite upstream
    assert eps[1].credentials is not None and eps[1].credentials.username == "alice"
    assert eps[1].tls.insecure_skip_verify
    assert eps[0].credentials is None
    gcr = cfg.endpoints("gcr.io")
    assert [e.url for e in gcr] == ["https://catchall.example", "https://gcr.io"]
    assert gcr[1].credentials is not None
    assert (gcr[1].credentials.username, gcr[1].credentials.password) == ("bob", "pw")


def test_missing_file_is_empty_and_bad_file_is_an_error(tmp_path: Path) -> None:
    assert RegistryConfig.load(tmp_path / "nope.yaml").mirrors == {}
    bad = tmp_path / "bad.yaml"
    bad.write_text("mirrors: [unclosed")
    with pytest.raises(ConfigError):
        RegistryConfig.load(bad)
    bad.write_text("mirrors:\n  docker.io:\n    endpoint: ['ftp://x']\n")
    with pytest.raises(ConfigError, match="bad endpoint"):
        RegistryConfig.load(bad)


def test_default_endpoint_can_be_disabled() -> None:
    cfg = RegistryConfig.from_dict(
        {"mirrors": {"docker.io": {"endpoint": ["http://127.0.0.1:1"]}},
         "default_endpoint": False})
    assert [e.url for e in cfg.endpoints("docker.io")] == ["http://127.0.0.1:1"]


def test_tls_settings_make_ssl_contexts(tmp_path: Path) -> None:
    import ssl

    cfg = RegistryConfig.from_dict({
        "mirrors": {"docker.io": {"endpoint": ["https://m.example", "http://plain.example"]}},
        "configs": {"m.example": {"tls": {"insecure_skip_verify": True}}}})
    secure, plain, hub = cfg.endpoints("docker.io")
    ctx = secure.ssl_context()
    assert isinstance(ctx, ssl.SSLContext) and ctx.verify_mode == ssl.CERT_NONE
    assert plain.ssl_context() is True and hub.ssl_context() is True
    bad = RegistryConfig.from_dict({"configs": {"gcr.io": {"tls": {
        "ca_file": str(tmp_path / "missing.pem")}}}})
    with pytest.raises(ConfigError, match=r"missing\.pem"):
        bad.endpoints("gcr.io")[0].ssl_context()
