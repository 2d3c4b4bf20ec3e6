"""Production serving does not advertise its server software (issue 18, item 8).

gunicorn writes ``Server: gunicorn`` on every response; with our config
(``config/gunicorn_conf.py``) a probe reads a neutral name and no version, on the API,
on a redirect and on an error alike. Checked on a real gunicorn in a subprocess.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import gunicorn
import pytest

from tests.reliability.gunicorn_server import Server, gunicorn_server

pytestmark = pytest.mark.slow

VERSION = re.compile(r"\d+\.\d+")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with gunicorn_server(tmp_path_factory.mktemp("gunicorn")) as running:
        yield running


def server_headers(server: Server, path: str) -> tuple[int, list[str]]:
    response = server.get(path)
    response.read()
    return response.status, response.headers.get_all("Server") or []


@pytest.mark.parametrize(
    ("path", "status"),
    # A page (anonymous: sent to sign in), the API, an API error.
    [("/", 302), ("/api/v1/health/", 200), ("/api/v1/no-such-thing/", 404)],
)
def test_no_response_names_the_server_software_or_its_version(
    server: Server, path: str, status: int
) -> None:
    answered, values = server_headers(server, path)

    assert answered == status
    assert values == ["web"]
    for value in values:
        assert "gunicorn" not in value.lower()
        assert gunicorn.__version__ not in value
        assert not VERSION.search(value)


def test_stock_gunicorn_would_name_itself_which_is_what_the_config_prevents(
    tmp_path: Path,
) -> None:
    """The control: the same server without our config file says "gunicorn"."""
    with gunicorn_server(tmp_path, with_config=False) as stock:
        _, values = server_headers(stock, "/api/v1/health/")

    assert any("gunicorn" in value.lower() for value in values)


def test_the_config_hides_the_software_from_the_app_too() -> None:
    """``SERVER_SOFTWARE`` in the WSGI environ comes from the same globals."""
    import runpy

    import gunicorn.http.wsgi

    saved = (gunicorn.http.wsgi.SERVER, gunicorn.http.wsgi.SERVER_SOFTWARE)
    try:
        config = runpy.run_path(
            str(Path(__file__).resolve().parents[2] / "config/gunicorn_conf.py")
        )
        assert gunicorn.http.wsgi.SERVER == gunicorn.http.wsgi.SERVER_SOFTWARE == "web"
        assert config["control_socket_disable"] is True
        assert config["wsgi_app"] == "config.wsgi:application"
    finally:
        gunicorn.http.wsgi.SERVER, gunicorn.http.wsgi.SERVER_SOFTWARE = saved
