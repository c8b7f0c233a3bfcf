"""The `solver` fixture: a test that takes it runs once with CBC and once with HiGHS."""
import pytest


@pytest.fixture(params=["cbc", "highs"])
def solver(request) -> str:
    return request.param
