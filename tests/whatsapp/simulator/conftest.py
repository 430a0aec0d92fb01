import pytest


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Overrides the project-wide autouse fixture that clears Redis throttles: the simulator tests use no Redis."""
    yield
