import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from energybench.run.backends.vllm.endpoint import (
    ROUTE_ERRORS,
    Endpoint,
    EndpointURLError,
    get_server_route,
)


@pytest.mark.parametrize(
    "given, root",
    [
        ("http://h:8021/v1", "http://h:8021"),
        ("http://h:8021/v1/", "http://h:8021"),
        ("http://h:8021", "http://h:8021"),
        ("http://h:8021/", "http://h:8021"),
        ("https://h/proxy/v1", "https://h/proxy"),
        ("https://h/proxy/", "https://h/proxy"),
        ("  http://localhost:8000/v1  ", "http://localhost:8000"),
        # "v1" inside a host, port or other segment is not the version segment
        ("http://v1.example:8021/v1", "http://v1.example:8021"),
        ("http://h:8021/gateway-v1", "http://h:8021/gateway-v1"),
        ("http://h:8021/v1/v1", "http://h:8021/v1"),
        ("http://[::1]:8021/v1", "http://[::1]:8021"),
    ],
)
def test_server_root_strips_only_a_trailing_v1_segment(given, root):
    assert Endpoint.from_url(given).server_root == root


def test_urls_of_an_endpoint_on_port_8021():
    endpoint = Endpoint.from_url("http://h:8021/v1/")
    assert endpoint.base_url == "http://h:8021/v1"
    assert endpoint.completions_url == "http://h:8021/v1/completions"
    assert endpoint.chat_completions_url == "http://h:8021/v1/chat/completions"
    assert endpoint.models_url == "http://h:8021/v1/models"
    assert endpoint.health_url == "http://h:8021/health"
    assert endpoint.version_url == "http://h:8021/version"
    assert str(endpoint) == "http://h:8021/v1"


def test_urls_behind_a_proxy_path():
    endpoint = Endpoint.from_url("https://h/proxy/v1")
    assert endpoint.chat_completions_url == "https://h/proxy/v1/chat/completions"
    assert endpoint.health_url == "https://h/proxy/health"


def test_every_spelling_gives_the_same_endpoint():
    spellings = ["http://h:8021/v1", "http://h:8021/v1/", "http://h:8021", "http://h:8021/"]
    assert len({Endpoint.from_url(url) for url in spellings}) == 1


@pytest.mark.parametrize(
    "bad, hint",
    [
        ("localhost:8000/v1", "http(s) URL"),
        ("ftp://h/v1", "http(s) URL"),
        ("http:///v1", "http(s) URL"),
        ("http://h:8000/v1?key=1", "query string"),
        ("http://h:8000/v1/chat/completions", "'http://h:8000/v1'"),
        ("http://h:8000/v1/completions/", "'http://h:8000/v1'"),
    ],
)
def test_unusable_urls_are_refused_with_the_reason(bad, hint):
    with pytest.raises(EndpointURLError, match="Endpoint URL") as error:
        Endpoint.from_url(bad)
    assert hint in str(error.value)


def serve(answer):
    """A local server answering every GET with ``answer(handler)``; the headers it got are
    kept in ``server.seen``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.server.seen.append(dict(self.headers))
            answer(self)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_redirected_server_route_is_an_error_and_the_api_key_stays_with_the_server():
    """urllib follows a redirect with every header: the key would reach the host it names."""

    def ok(handler):
        handler.send_response(200)
        handler.end_headers()
        handler.wfile.write(b'{"version": "x"}')

    elsewhere = serve(ok)

    def redirect(handler):
        handler.send_response(302)
        handler.send_header("Location", f"http://localhost:{elsewhere.server_port}/version")
        handler.end_headers()

    server = serve(redirect)
    try:
        url = f"http://127.0.0.1:{server.server_port}/version"
        with pytest.raises(ROUTE_ERRORS, match="302"):
            get_server_route(url, 5, {"Authorization": "Bearer SECRET"})
        assert server.seen[0]["Authorization"] == "Bearer SECRET"
        assert elsewhere.seen == []
        assert get_server_route(f"http://127.0.0.1:{elsewhere.server_port}/version", 5) == (
            b'{"version": "x"}'
        )
    finally:
        for running in (server, elsewhere):
            running.shutdown()
            running.server_close()
