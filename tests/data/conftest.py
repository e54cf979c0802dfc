import pytest

from tests.support.auth import bearer
from tests.support.factories import create_user, sdk_tokens_for


@pytest.fixture
def user(client, admin_headers):
    return create_user(client, admin_headers)


@pytest.fixture
def sdk_headers(client, admin_headers, user):
    return bearer(sdk_tokens_for(client, admin_headers, user["id"])["access_token"])
