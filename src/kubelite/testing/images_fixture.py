"""pytest plugin: a session-wide local registry with the test images.

Load it with ``pytest_plugins = ["kubelite.testing.images_fixture"]`` (tests/conftest.py
does). The ``image_registry`` fixture is a started
:class:`kubelite.testing.registry.TestRegistry`; tests point an ``ImageService`` at
``image_registry.registries_yaml`` and pull ``docker.io/library/nginx:latest`` etc.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from kubelite.testing.registry import TestRegistry, TestRegistryError


@pytest.fixture(scope="session")
def image_registry() -> Iterator[TestRegistry]:
    if os.geteuid() != 0:
        pytest.skip("building the test images needs root (chroot)")
    reg = TestRegistry()
    try:
        reg.start()
    except TestRegistryError as exc:
        reg.stop()
        pytest.fail(f"test registry: {exc}")
    try:
        yield reg
    finally:
        reg.stop()
