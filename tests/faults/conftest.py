import pytest

from tests.faults.servers import RedisServer


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own (started), killed at the end."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()
