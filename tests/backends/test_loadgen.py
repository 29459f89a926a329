import json
import re
import socket

import numpy as np
import pytest
from fake_openai_server import (
    BURST_PROMPT,
    FIRST_TOKEN_DELAY_S,
    PROMPT_TOKENS,
    SEPARATOR_PROMPT,
    TOKEN_DELAY_S,
    FakeOpenAIServer,
    Fault,
)

from energybench.run.backends.vllm.endpoint import Endpoint
from energybench.run.backends.vllm.loadgen import (
    MAX_CHUNKS_READ_TOGETHER,
    ErrorKind,
    LoadError,
    LoadResult,
    LoadSettings,
    Phase,
    RequestRecord,
    PhaseTimes,
    arrival_offsets,
    build_request_body,
    run_load,
)
from energybench.run.backends.vllm.settings import VLLMSettings
from energybench.run.energy.checks import check_stream_read_on_time

SERVING_FIELDS = set(VLLMSettings.model_fields)


@pytest.fixture
def server():
    with FakeOpenAIServer(models=("tiny",)) as fake:
        yield fake


def load_settings(**fields):
    """LoadSettings from fields of both: the `vllm` block's go to `serving`."""
    serving = {name: fields.pop(name) for name in list(fields) if name in SERVING_FIELDS}
    return LoadSettings(serving=VLLMSettings(**serving), **fields)


def load(server, prompts, **settings):
    settings = {"model": "tiny", "max_tokens": 4} | settings
    return run_load(Endpoint.from_url(server.url), prompts, load_settings(**settings))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- request bodies and schedules (no server) ---


def test_completion_body_asks_for_a_stream_with_usage_and_fixed_length():
    body = build_request_body(LoadSettings(model="m", max_tokens=16), "hello")
    assert body == {
        "model": "m",
        "prompt": "hello",
        "max_tokens": 16,
        "min_tokens": 16,
        "ignore_eos": True,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_chat_body_passes_reasoning_settings_and_extra_fields_through():
    settings = load_settings(
        model="m",
        api="chat",
        max_tokens=8,
        fixed_output_length=False,
        reasoning_effort="low",
        enable_thinking=False,
        extra_body={"temperature": 0.0, "max_tokens": 9},
    )
    body = build_request_body(settings, "hi")
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert body["reasoning_effort"] == "low"
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["temperature"] == 0.0 and body["max_tokens"] == 9
    assert "min_tokens" not in body and "ignore_eos" not in body and "prompt" not in body


def test_poisson_schedule_is_reproducible_from_its_seed():
    first = arrival_offsets(2000, request_rate=10.0, seed=3)
    assert np.array_equal(first, arrival_offsets(2000, request_rate=10.0, seed=3))
    assert not np.array_equal(first, arrival_offsets(2000, request_rate=10.0, seed=4))
    assert first[0] == 0.0 and np.all(np.diff(first) > 0)
    assert np.mean(np.diff(first)) == pytest.approx(0.1, rel=0.1)


def test_no_rate_sends_everything_at_once():
    assert np.array_equal(arrival_offsets(5, request_rate=None, seed=0), np.zeros(5))


# --- against the fake server ---


@pytest.mark.parametrize("api", ["completions", "chat"])
def test_streamed_tokens_give_ttft_itl_tpot_and_server_usage(server, api):
    result = load(server, ["a", "b"], api=api, max_tokens=5)
    assert not result.failed
    for record in result.records:
        assert record.ok and record.error is None
        assert (record.prompt_tokens, record.output_tokens) == (PROMPT_TOKENS, 5)
        # the chat role-only chunk arrives at once and must not count as the first token
        assert record.ttft_s >= FIRST_TOKEN_DELAY_S
        assert len(record.inter_token_latencies_s) == 4
        # Gaps are read on the client: under load two chunks can arrive in one read, so only
        # their order and the whole stream's length are fixed by the server's delays.
        assert all(gap >= 0 for gap in record.inter_token_latencies_s)
        assert record.e2e_latency_s >= FIRST_TOKEN_DELAY_S + 4 * TOKEN_DELAY_S
        assert record.e2e_latency_s >= record.ttft_s + sum(record.inter_token_latencies_s)
        assert record.tpot_s == pytest.approx((record.e2e_latency_s - record.ttft_s) / 4)
    summary = result.statistics()
    assert summary["output_tokens"] == 10 and summary["prompt_tokens"] == 2 * PROMPT_TOKENS
    assert summary["output_throughput_tokens_per_s"] == pytest.approx(10 / result.duration_s)
    assert summary["itl_s"]["count"] == 8
    assert server.bodies[0]["stream_options"] == {"include_usage": True}


def test_concurrency_limit_holds_and_warmup_is_not_counted(server):
    result = load(server, [f"p{i}" for i in range(6)], concurrency=2, warmup_requests=3)
    assert len(server.bodies) == 9
    assert [r.index for r in result.records] == list(range(6))
    assert server.max_in_flight == 2
    assert result.statistics()["requests"] == 6
    assert max(r.queued_s for r in result.records) > 0  # later arrivals waited for a slot


@pytest.mark.parametrize("api", ["completions", "chat"])
def test_generated_text_with_unicode_line_separators_is_read_whole(server, api):
    # U+2028, U+0085 and U+001C end a line for Python's str.splitlines (and so for httpx's
    # aiter_lines), not for server-sent events: a token holding one cut its chunk in two and
    # failed the request as "not JSON" (seen against vLLM serving a random-weight model).
    result = load(server, [SEPARATOR_PROMPT, "b"], api=api, max_tokens=3)
    assert not result.failed, result.failure_reason
    assert [r.output_tokens for r in result.records] == [3, 3]
    assert len(result.records[0].inter_token_latencies_s) == 2


def test_connections_are_opened_before_the_load_and_kept_alive(server):
    # Each stream is read to the end of its body, past [DONE], so its connection goes back to the
    # pool, and the pool's connections are open before the first request. Otherwise a TCP
    # handshake and the server's accept land inside times to first token (issue 15: TTFT many
    # times vLLM's benchmark's; every request opened a connection of its own).
    result = load(server, [f"p{i}" for i in range(8)], concurrency=3)
    assert not result.failed
    assert server.connections <= 3
    assert server.posts_on_new_connections == 0


def test_phases_mark_saturation_then_draining(server):
    phases = []
    settings = load_settings(model="tiny", max_tokens=4, concurrency=2)
    result = run_load(
        Endpoint.from_url(server.url),
        [f"p{i}" for i in range(6)],
        settings,
        on_phase=lambda p, t: phases.append((p, t)),
    )
    assert [p for p, _ in phases] == [Phase.START, Phase.SATURATED, Phase.DRAINING, Phase.END]
    assert [t for _, t in phases] == sorted(t for _, t in phases)
    phase_times = result.phase_times
    assert phase_times.concurrency_limit == 2
    last_sent = max(r.sent_unix for r in result.records)
    assert phase_times.draining_unix >= last_sent
    # draining begins when the first of the two last requests in flight finishes
    assert (
        phase_times.draining_unix
        < min(r.sent_unix + r.e2e_latency_s for r in result.records if r.index >= 4) + 0.05
    )
    steady = result.statistics()["steady_state"]
    assert steady["duration_s"] == pytest.approx(
        phase_times.draining_unix - phase_times.saturated_unix
    )
    assert steady["output_tokens"] == result.output_tokens_between(
        phase_times.saturated_unix, phase_times.draining_unix
    )
    assert result.output_tokens_between(phase_times.start_unix, phase_times.end_unix) == 24


def test_saturation_starts_when_the_batch_has_its_first_tokens_not_when_it_was_sent(server):
    # Issue 10 item 9: with every request sent at once, the L-th request is dispatched at the
    # start of the load, inside the prefill burst. The steady state starts once L first tokens
    # came back (the fake server answers the first token after FIRST_TOKEN_DELAY_S).
    # Long streams: a finished request's successor waits FIRST_TOKEN_DELAY_S for its first token,
    # a gap in the batch that short streams would make too large a share of the window.
    result = load(server, [f"p{i}" for i in range(6)], concurrency=3, max_tokens=30)
    phase_times = result.phase_times
    third_first_token = sorted(r.sent_unix + r.ttft_s for r in result.records)[2]
    assert phase_times.saturated_unix >= phase_times.start_unix + FIRST_TOKEN_DELAY_S
    assert phase_times.saturated_unix == pytest.approx(third_first_token, abs=0.02)
    steady = result.statistics()["steady_state"]
    assert steady["batch_full"] and steady["batch_reason"] is None
    assert steady["mean_decoding_requests"] > 0.9 * 3


def test_the_servers_batch_size_caps_what_saturates(server):
    result = load(server, [f"p{i}" for i in range(6)], concurrency=4, max_num_seqs=2)
    assert result.phase_times.concurrency_limit == 2


def test_a_steady_state_with_a_half_empty_batch_is_flagged():
    # L = 2, but the two requests decode one after the other: one request in the batch at a time
    def record(index, sent, ttft, e2e):
        return RequestRecord(
            index=index,
            scheduled_s=0.0,
            queued_s=0.0,
            sent_unix=sent,
            ttft_s=ttft,
            inter_token_latencies_s=(),
            e2e_latency_s=e2e,
            prompt_tokens=1,
            output_tokens=1,
        )

    records = (record(0, 100.0, 0.5, 2.0), record(1, 100.0, 2.0, 4.0))
    phase_times = PhaseTimes(
        concurrency_limit=2,
        start_unix=100.0,
        saturated_unix=100.5,
        draining_unix=104.0,
        end_unix=104.0,
    )
    result = LoadResult(
        "http://h/v1", load_settings(model="m", concurrency=2), records, phase_times, 4.0, 0
    )
    steady = result.steady_state_figures()
    assert steady["mean_decoding_requests"] == pytest.approx(3.5 / 3.5)
    assert not steady["batch_full"]
    assert "on average 1.00 of 2 requests were decoding" in steady["batch_reason"]


def test_chunks_read_in_one_burst_fail_the_stream_check():
    def record(index, gaps, ok=True):
        return RequestRecord(
            index=index,
            scheduled_s=0.0,
            queued_s=0.0,
            sent_unix=100.0,
            ttft_s=0.1,
            inter_token_latencies_s=gaps,
            e2e_latency_s=1.0,
            prompt_tokens=1,
            output_tokens=len(gaps) + 1,
            error_kind=None if ok else ErrorKind.TIMEOUT,
        )

    def result(*records):
        phase_times = PhaseTimes(
            concurrency_limit=1,
            start_unix=100.0,
            saturated_unix=None,
            draining_unix=None,
            end_unix=101.0,
        )
        return LoadResult("http://h/v1", LoadSettings(model="m"), records, phase_times, 1.0, 0)

    paced = result(record(0, (0.01, 0.0, 0.01, 0.01)), record(1, (0.01,) * 4))
    burst = result(record(0, (0.0,) * 4), record(1, (0.01, 0.0, 0.0, 0.0)))
    assert paced.chunks_read_together_share() == pytest.approx(1 / 8)
    assert burst.chunks_read_together_share() == pytest.approx(7 / 8)
    # a failed request's chunks say nothing about how the answers were read
    assert result(record(0, (0.01,)), record(1, (0.0,), ok=False)).chunks_read_together_share() == 0
    assert result(record(0, ())).chunks_read_together_share() is None

    checks = [
        check_stream_read_on_time(
            r.chunks_read_together_share(), max_share=MAX_CHUNKS_READ_TOGETHER
        )
        for r in (paced, burst, result(record(0, ())))
    ]
    assert [c.passed for c in checks] == [True, False, None]
    assert "88% of the streamed chunks were read together" in checks[1].detail
    assert "time to first token is late" in checks[1].detail and checks[1].severity == "warning"


def test_a_stream_that_arrives_in_one_burst_fails_the_check_and_a_paced_one_passes(server):
    # What a client behind its server sees: each answer's chunks in one read.
    burst, paced = (
        load(server, [BURST_PROMPT] * 3, max_tokens=8),
        load(server, ["p"] * 3, max_tokens=8),
    )
    assert burst.chunks_read_together_share() == 1.0
    assert paced.chunks_read_together_share() < MAX_CHUNKS_READ_TOGETHER  # 20 ms apart: read alone
    assert [
        check_stream_read_on_time(
            r.chunks_read_together_share(), max_share=MAX_CHUNKS_READ_TOGETHER
        ).passed
        for r in (burst, paced)
    ] == [False, True]


def test_tokens_in_a_window_spread_usage_over_the_text_chunks():
    def record(**fields):
        base = dict(
            index=0, scheduled_s=0.0, queued_s=0.0, sent_unix=100.0, ttft_s=1.0, e2e_latency_s=4.5
        )
        return RequestRecord(**(base | fields))

    # chunks at 101, 102, 103 and 104 s, two tokens each
    done = record(inter_token_latencies_s=(1.0, 1.0, 1.0), prompt_tokens=3, output_tokens=8)
    failed = record(
        index=1, inter_token_latencies_s=(), prompt_tokens=None, output_tokens=None,
        error_kind=ErrorKind.TIMEOUT, error="timeout",
    )  # fmt: skip
    phase_times = PhaseTimes(
        concurrency_limit=1,
        start_unix=100.0,
        saturated_unix=100.0,
        draining_unix=104.5,
        end_unix=104.5,
    )
    result = LoadResult(
        "http://h/v1", LoadSettings(model="m"), (done, failed), phase_times, 4.5, warmup_failures=0
    )
    assert result.output_tokens_between(101.5, 103.5) == 4
    assert result.output_tokens_between(100.0, 104.5) == 8
    assert result.output_tokens_between(104.5, 110.0) == 0


def test_sparse_arrivals_never_saturate_and_give_no_steady_window(server):
    # seed 0 spaces the arrivals 0.34 s and 0.51 s apart; a request takes 0.11 s
    assert np.all(np.diff(arrival_offsets(3, 2.0, seed=0)) > 0.3)
    result = load(server, ["a", "b", "c"], concurrency=2, request_rate=2.0, seed=0)
    assert result.phase_times.saturated_unix is None
    assert result.phase_times.steady_state is None and result.statistics()["steady_state"] is None
    scheduled = np.array([r.scheduled_s for r in result.records])
    assert np.array_equal(scheduled, arrival_offsets(3, 2.0, seed=0))
    sent = np.array([r.sent_unix for r in result.records]) - result.phase_times.start_unix
    assert np.all(sent >= scheduled - 0.01)


@pytest.mark.parametrize(
    "fault, kind, message",
    [
        (Fault.HTTP_500, ErrorKind.HTTP_STATUS, "HTTP 500: .*engine exploded"),
        (Fault.NOT_JSON, ErrorKind.MALFORMED_STREAM, "not JSON"),
        (Fault.NO_DONE, ErrorKind.MALFORMED_STREAM, r"without 'data: \[DONE\]'"),
        (Fault.NO_USAGE, ErrorKind.MALFORMED_STREAM, "no usage"),
        (Fault.ERROR_IN_STREAM, ErrorKind.SERVER_ERROR, "out of KV cache"),
        (Fault.DROP, ErrorKind.CONNECTION, "Server disconnected"),
        (Fault.HANG, ErrorKind.TIMEOUT, ""),
    ],
)
def test_failed_requests_are_recorded_with_their_kind(server, fault, kind, message):
    result = load(
        server, ["fine", fault], concurrency=2, request_timeout_s=0.5, max_failure_share=0.5
    )
    good, bad = result.records
    assert good.ok and good.output_tokens == 4
    assert bad.error_kind is kind and bad.output_tokens is None
    assert re.search(message, bad.error)
    assert bad.http_status == (500 if kind is ErrorKind.HTTP_STATUS else None)
    assert result.failed_requests == 1 and not result.failed
    assert result.statistics()["errors_by_kind"] == {kind.value: 1}
    assert result.statistics()["e2e_latency_s"]["count"] == 1


def test_failure_share_above_the_limit_fails_the_run_naming_model_and_endpoint(server):
    prompts = [Fault.HTTP_500, "a", "b", "c"]
    assert not load(server, prompts, max_failure_share=0.25).failed
    result = load(server, prompts, max_failure_share=0.2)
    assert result.failed and result.failure_share == 0.25
    assert (
        "1 of 4 requests to model 'tiny'" in result.failure_reason
        and server.url in result.failure_reason
    )


def test_a_run_where_every_request_failed_is_failed_whatever_the_allowed_share(server):
    result = load(server, [Fault.HTTP_500] * 2, max_failure_share=1.0)
    assert result.failed and result.statistics()["ttft_s"] is None


def test_warmup_failures_are_reported_but_not_counted(server):
    result = load(server, [Fault.HTTP_500, "a"], warmup_requests=1, max_failure_share=0.5)
    assert result.warmup_failures == 1 and result.failed_requests == 1


def test_unknown_model_is_refused_before_the_load_naming_what_is_served(server):
    with pytest.raises(LoadError, match=r"does not serve model 'llama'; it serves \['tiny'\]"):
        load(server, ["a"], model="llama")
    assert server.bodies == []


def test_connection_refused_names_model_and_endpoint():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(
        LoadError, match=rf"Cannot connect to the endpoint for model 'tiny' at endpoint {url}"
    ):
        run_load(Endpoint.from_url(url), ["a"], LoadSettings(model="tiny", connect_timeout_s=2))


def test_api_key_is_read_from_the_named_environment_variable(monkeypatch):
    with FakeOpenAIServer(api_key="s3cret") as server:
        with pytest.raises(LoadError, match="needs an API key"):
            load(server, ["a"])
        with pytest.raises(LoadError, match="EB_TEST_KEY, which is not set"):
            load(server, ["a"], api_key_env="EB_TEST_KEY")
        monkeypatch.setenv("EB_TEST_KEY", "wrong")
        with pytest.raises(
            LoadError, match="rejected the API key from the environment variable EB_TEST_KEY"
        ):
            load(server, ["a"], api_key_env="EB_TEST_KEY")
        monkeypatch.setenv("EB_TEST_KEY", "s3cret")
        result = load(server, ["a"], api_key_env="EB_TEST_KEY")
    assert result.records[0].ok
    assert "s3cret" not in repr(result.to_dict())


def test_a_hanging_server_is_cut_off_at_the_request_timeout(server):
    record = load(server, [Fault.HANG], request_timeout_s=0.3, max_failure_share=1.0).records[0]
    assert record.error_kind is ErrorKind.TIMEOUT
    assert 0.3 <= record.e2e_latency_s < 1.0


def test_result_serialises_to_plain_json(server):
    result = load(server, ["a", Fault.HTTP_500], max_failure_share=0.5)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["requests"][1]["error_kind"] == "http_status"
    assert data["requests"][0]["tpot_s"] is not None
    assert data["settings"]["model"] == "tiny"
