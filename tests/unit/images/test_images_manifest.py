import orjson
import pytest

from kubelite.images import UnsupportedImage
from kubelite.images.manifest import ImageConfig, Manifest, select_platform

D = ["sha256:" + c * 64 for c in "abcdef"]


def index(*plats: dict[str, str]) -> bytes:
    return orjson.dumps({"manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D[i],
         "size": 10, "platform": p} for i, p in enumerate(plats)]})


def test_selects_this_platform() -> None:
    raw = index({"os": "linux", "architecture": "arm", "variant": "v7"},
                {"os": "windows", "architecture": "amd64"},
                {"os": "linux", "architecture": "amd64"},
                {"os": "linux", "architecture": "arm64", "variant": "v8"})
    assert select_platform(raw, ("linux", "amd64", None)).digest == D[2]
    assert select_platform(raw, ("linux", "arm64", "v8")).digest == D[3]
    assert select_platform(raw, ("linux", "arm", "v7")).digest == D[0]


def test_no_matching_platform_names_what_is_there() -> None:
    raw = index({"os": "linux", "architecture": "s390x"})
    with pytest.raises(UnsupportedImage, match=r"no matching manifest for linux/amd64.*s390x"):
        select_platform(raw, ("linux", "amd64", None))


def test_schema1_is_refused_clearly() -> None:
    with pytest.raises(UnsupportedImage, match="schema 1"):
        Manifest.parse(b"{}", "application/vnd.docker.distribution.manifest.v1+prettyjws")


def test_config_fields() -> None:
    raw = orjson.dumps({"architecture": "amd64", "os": "linux", "config": {
        "Entrypoint": ["/docker-entrypoint.sh"], "Cmd": ["nginx", "-g", "daemon off;"],
        "Env": ["A=1"], "WorkingDir": "/app", "User": "101:101",
        "ExposedPorts": {"80/tcp": {}, "443/tcp": {}}, "Labels": {"k": "v"},
        "StopSignal": "SIGQUIT"}, "rootfs": {"type": "layers", "diff_ids": [D[0]]}})
    c = ImageConfig.parse(raw)
    assert c.entrypoint == ("/docker-entrypoint.sh",)
    assert c.cmd == ("nginx", "-g", "daemon off;")
    assert (c.env, c.working_dir, c.user) == (("A=1",), "/app", "101:101")
    assert c.exposed_ports == ("443/tcp", "80/tcp")
    assert (c.labels, c.stop_signal, c.diff_ids) == ({"k": "v"}, "SIGQUIT", (D[0],))
