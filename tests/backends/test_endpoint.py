import pytest

from energybench.run.backends.vllm.endpoint import Endpoint, EndpointURLError


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
