"""A small OpenAI-compatible streaming server on 127.0.0.1 for the load generator's tests.

It serves `/v1/models` and streams `/v1/completions` and `/v1/chat/completions` like vLLM: one
chunk per token (`TOKEN_DELAY_S` apart, the first after `FIRST_TOKEN_DELAY_S`), then a usage
chunk and `data: [DONE]`. A prompt naming a fault makes it misbehave instead (see `Fault`).
Like vLLM (uvicorn), it speaks HTTP/1.1 with keep-alive and sends a stream as a chunked body
whose end-of-body marker follows `[DONE]` a moment later (`END_OF_BODY_DELAY_S`).
It remembers every request body, the highest number of requests it had in flight at once, how
many connections it accepted and how many requests came on a connection of their own.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIRST_TOKEN_DELAY_S = 0.05
TOKEN_DELAY_S = 0.02
END_OF_BODY_DELAY_S = 0.01
PROMPT_TOKENS = 7


class Fault:
    """Prompts that make the fake server misbehave."""

    HTTP_500 = "fault:http500"
    NOT_JSON = "fault:not-json"
    NO_DONE = "fault:no-done"
    NO_USAGE = "fault:no-usage"
    ERROR_IN_STREAM = "fault:error-in-stream"
    HANG = "fault:hang"
    DROP = "fault:drop"


# Text a random-weight model does generate: characters that are line breaks to Python's
# str.splitlines but not to server-sent events, which vLLM writes unescaped (UTF-8) in its JSON.
SEPARATOR_PROMPT = "text:separators"
SEPARATOR_TEXT = " a\u2028b\x85c\x1cd"

# A server that runs ahead of its client: the whole answer arrives in one write, as a client
# that fell behind reads it.
BURST_PROMPT = "stream:burst"


class FakeOpenAIServer:
    def __init__(
        self, models: tuple[str, ...] = ("tiny",), api_key: str | None = None, hang_s: float = 2.0
    ):
        self.models = models
        self.api_key = api_key
        self.hang_s = hang_s
        self.bodies: list[dict] = []
        self.max_in_flight = 0
        self.connections = 0
        self.posts_on_new_connections = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def request_started(self, body: dict, new_connection: bool) -> None:
        with self._lock:
            self.bodies.append(body)
            self.posts_on_new_connections += new_connection
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def request_finished(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def connection_accepted(self) -> None:
        with self._lock:
            self.connections += 1


def _handler_for(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as vLLM's server

        def setup(self) -> None:
            super().setup()
            server.connection_accepted()
            self.requests_served = 0
            self._held: list[bytes] | None = None  # a burst's chunks until its one write

        def handle_one_request(self) -> None:
            super().handle_one_request()
            self.requests_served += 1

        def log_message(self, *args) -> None:
            pass  # keep test output clean

        def _authorized(self) -> bool:
            if (
                server.api_key is None
                or self.headers.get("Authorization") == f"Bearer {server.api_key}"
            ):
                return True
            self._send_json(401, {"error": {"message": "invalid api key"}})
            return False

        def _send_json(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if not self._authorized():
                return
            if self.path == "/v1/models":
                self._send_json(
                    200,
                    {
                        "object": "list",
                        "data": [{"id": m, "object": "model"} for m in server.models],
                    },
                )
            else:
                self._send_json(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            if not self._authorized():
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            server.request_started(body, new_connection=self.requests_served == 0)
            try:
                self._answer(body)
            finally:
                server.request_finished()

        def _answer(self, body: dict) -> None:
            chat = self.path == "/v1/chat/completions"
            prompt = body["messages"][-1]["content"] if chat else body["prompt"]
            if prompt == Fault.DROP:
                self.close_connection = True
                return
            if prompt == Fault.HANG:
                time.sleep(server.hang_s)
                self.close_connection = True
                return
            if prompt == Fault.HTTP_500:
                self._send_json(500, {"error": {"message": "engine exploded"}})
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                self._stream(body, chat, prompt)
            finally:
                time.sleep(END_OF_BODY_DELAY_S)
                try:
                    self.wfile.write(b"0\r\n\r\n")  # end of the chunked body
                    self.wfile.flush()
                except OSError:  # the client left after a fault, as it should
                    self.close_connection = True

        def _stream(self, body: dict, chat: bool, prompt: str) -> None:
            if prompt == BURST_PROMPT:
                self._held = []
                self._stream_events(body, chat, prompt, delay=False)
                held, self._held = b"".join(self._held), None
                self.wfile.write(held)
                self.wfile.flush()
            else:
                self._stream_events(body, chat, prompt, delay=True)

        def _stream_events(self, body: dict, chat: bool, prompt: str, delay: bool) -> None:
            if chat:
                self._event(
                    {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}
                )
            if prompt == Fault.NOT_JSON:
                self._line(b"data: {this is not json\n\n")
                return
            if prompt == Fault.ERROR_IN_STREAM:
                self._event({"error": {"message": "out of KV cache", "code": 500}})
                return
            for i in range(body["max_tokens"]):
                if delay:
                    time.sleep(FIRST_TOKEN_DELAY_S if i == 0 else TOKEN_DELAY_S)
                text = SEPARATOR_TEXT if prompt == SEPARATOR_PROMPT else f" t{i}"
                choice = (
                    {"index": 0, "delta": {"content": text}} if chat else {"index": 0, "text": text}
                )
                self._event({"choices": [choice]})
            if prompt != Fault.NO_USAGE:
                usage = {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": body["max_tokens"]}
                self._event(
                    {
                        "choices": [],
                        "usage": usage | {"total_tokens": PROMPT_TOKENS + body["max_tokens"]},
                    }
                )
            if prompt != Fault.NO_DONE:
                self._line(b"data: [DONE]\n\n")

        def _event(self, payload: dict) -> None:
            self._line(b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n")

        def _line(self, data: bytes) -> None:
            chunk = b"%x\r\n%s\r\n" % (len(data), data)
            if self._held is not None:
                self._held.append(chunk)
                return
            self.wfile.write(chunk)
            self.wfile.flush()

    return Handler
