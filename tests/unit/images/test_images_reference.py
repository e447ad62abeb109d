import pytest

from kubelite.images import InvalidReference, parse
from kubelite.images.reference import familiar

D = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("nginx", "docker.io/library/nginx:latest"),
        ("nginx:1.27", "docker.io/library/nginx:1.27"),
        ("library/nginx", "docker.io/library/nginx:latest"),
        ("docker.io/nginx", "docker.io/library/nginx:latest"),
        ("index.docker.io/library/nginx:1", "docker.io/library/nginx:1"),
        ("bitnami/redis:7", "docker.io/bitnami/redis:7"),
        ("gcr.io/google-samples/hello-app:2.0", "gcr.io/google-samples/hello-app:2.0"),
        ("localhost/app", "localhost/app:latest"),
        ("localhost:5000/a/b/c:v1", "localhost:5000/a/b/c:v1"),
        ("127.0.0.1:5000/busybox", "127.0.0.1:5000/busybox:latest"),
        (f"nginx@{D}", f"docker.io/library/nginx@{D}"),
        (f"nginx:1.2@{D}", f"docker.io/library/nginx:1.2@{D}"),
        ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"),
        ("my-registry.example:443/team/app_x__y:tag-1.0",
         "my-registry.example:443/team/app_x__y:tag-1.0"),
    ],
)
def test_normalises_like_docker(text: str, want: str) -> None:
    assert str(parse(text)) == want


def test_parts_and_object() -> None:
    r = parse(f"localhost:5000/team/app:v1@{D}")
    assert (r.registry, r.repository, r.tag, r.digest) == ("localhost:5000", "team/app", "v1", D)
    assert r.object == D  # pulled by digest
    assert parse("nginx").object == "latest"
    assert familiar(parse("nginx")) == "nginx:latest"
    assert familiar(parse("gcr.io/x/y:1")) == "gcr.io/x/y:1"


@pytest.mark.parametrize(
    "text",
    ["", "Nginx", "nginx:", "nginx:bad tag", "nginx@sha256:abc", "nginx@md5:" + "a" * 32,
     "UPPER.io/", "a//b", "-nginx", "nginx ", "docker.io/Library/nginx"],
)
def test_rejects_malformed(text: str) -> None:
    with pytest.raises(InvalidReference):
        parse(text)
