from tests.dispatch.conftest import world  # noqa: F401 - the same small planning world
