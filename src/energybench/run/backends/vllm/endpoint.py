"""URLs of an OpenAI-compatible inference endpoint.

Users give a base URL in any of the usual spellings (`http://host:8021/v1`, with or without a
trailing slash, without `/v1`, or behind a proxy path such as `https://host/proxy/v1`). The
API routes live under the `/v1` path segment; the server's own routes (`/health`, `/metrics`,
`/version`) live at the server root, which is the base URL with its trailing `/v1` *segment*
removed. Only a whole trailing path segment is ever removed, so ports and host names that
contain the characters "v1" (port 8021, host `v1.example`) stay intact.

The server's own routes are read with one synchronous GET each (`get_server_route`), by the
standard library: the load generator's aiohttp (loadgen.client) is the one HTTP client the
package depends on, and a one-shot GET needs neither its event loop nor its session.
"""

from __future__ import annotations

import http.client
import ipaddress
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

API_VERSION_SEGMENT = "v1"
_OPERATION_SUFFIXES = tuple(
    f"/{API_VERSION_SEGMENT}/{operation}"
    for operation in ("chat/completions", "completions", "models")
)


class EndpointURLError(ValueError):
    """The endpoint URL cannot be used as the base URL of an OpenAI-compatible API."""


ROUTE_ERRORS = (OSError, http.client.HTTPException)
"""What `get_server_route` raises when the route gives no body: no connection, a timeout, a
status other than 2xx (urllib's HTTPError, an OSError; a redirect too) or a broken answer."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as the error it is here, never followed: urllib would resend
    every header, the endpoint's API key included, to whatever host the answer names."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# Straight to the server, as the load generator's requests go (aiohttp ignores the
# environment's proxy settings unless told otherwise): a proxy would be measured with it.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def get_server_route(url: str, timeout_s: float, headers: Mapping[str, str] | None = None) -> bytes:
    """The body of a GET of ``url`` (one of the server's own routes: `/health`, `/version`);
    raises one of ``ROUTE_ERRORS`` where there is none."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    with _DIRECT.open(request, timeout=timeout_s) as response:
        return response.read()


@dataclass(frozen=True)
class Endpoint:
    """An OpenAI-compatible endpoint; build it with `Endpoint.from_url`."""

    server_root: str
    """Scheme, host, port and any proxy path prefix, without `/v1` and without a trailing slash."""

    @classmethod
    def from_url(cls, url: str) -> Endpoint:
        """Normalise a user-given base URL (with or without `/v1`, with or without a trailing slash)."""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise EndpointURLError(
                f"Endpoint URL {url!r} is not an http(s) URL with a host name; expected a base URL "
                "such as 'http://localhost:8000/v1'."
            )
        if parts.query or parts.fragment:
            raise EndpointURLError(
                f"Endpoint URL {url!r} has a query string or fragment; give only the base URL, "
                "such as 'http://localhost:8000/v1'."
            )
        path = parts.path.rstrip("/")
        for suffix in _OPERATION_SUFFIXES:
            if path.endswith(suffix):
                base_path = path[: -len(suffix)] + f"/{API_VERSION_SEGMENT}"
                raise EndpointURLError(
                    f"Endpoint URL {url!r} names an API operation ({suffix}); give the base URL "
                    f"instead, such as {urlunsplit(parts._replace(path=base_path))!r}."
                )
        segments = path.split("/")
        if segments[-1] == API_VERSION_SEGMENT:
            path = "/".join(segments[:-1])
        return cls(server_root=urlunsplit((parts.scheme, parts.netloc, path, "", "")))

    @property
    def on_this_machine(self) -> bool:
        """Whether the host is a loopback name or address (the server runs here)."""
        host = urlsplit(self.server_root).hostname or ""
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    @property
    def base_url(self) -> str:
        """The API base URL, ending in `/v1` (what OpenAI clients call `base_url`)."""
        return f"{self.server_root}/{API_VERSION_SEGMENT}"

    @property
    def completions_url(self) -> str:
        return f"{self.base_url}/completions"

    @property
    def chat_completions_url(self) -> str:
        return f"{self.base_url}/chat/completions"

    @property
    def models_url(self) -> str:
        return f"{self.base_url}/models"

    @property
    def health_url(self) -> str:
        return f"{self.server_root}/health"

    @property
    def version_url(self) -> str:
        return f"{self.server_root}/version"

    def __str__(self) -> str:
        return self.base_url
