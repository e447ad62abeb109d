"""Shared pytest plugins: the local test-image registry (``image_registry`` fixture)."""

pytest_plugins = ["kubelite.testing.images_fixture"]
