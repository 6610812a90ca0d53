import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_LOG", "ERROR")

import pytest


@pytest.fixture(scope="module")
def redis_server():
    from support import RedisServer

    server = RedisServer()
    yield server
    server.stop()
