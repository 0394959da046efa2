"""End to end on the tiny real model (stories260K, ../shared): every generation route,
driven by the clients people use (OpenAI Python SDK, `text-generation`,
`huggingface_hub.InferenceClient`, curl), with content that can fail: llama.cpp's greedy
golden, usage equal to tokenizer counts, streamed deltas equal to the whole text.

One server per module (conftest.stories_server); a few cases that need their own flags
(--api-key, --max-concurrent-requests) start a server of their own.
"""

import asyncio
import json
import socket
import subprocess
import threading
import time

import huggingface_hub
import openai
import pytest
import requests
import text_generation

from conftest import STORIES, STORIES_GOLDEN, metric, require_stories

PROMPT = "Once upon a time"
MESSAGES = [{"role": "user", "content": PROMPT}]


@pytest.fixture(scope="module")
def golden():
    require_stories()
    return json.loads(STORIES_GOLDEN.read_text())["once_upon_a_time"]


@pytest.fixture(scope="module")
def s(stories_server):
    return stories_server


def sdk(server, trailing_slash=False, **kw):
    return openai.OpenAI(base_url=server.url("/v1/" if trailing_slash else "/v1"), api_key="-", **kw)


def token_ids(server, text):
    return [t["id"] for t in requests.post(server.url("/tokenize"), json={"inputs": text}).json()]


def chat_prompt_tokens(server, messages):
    return len(requests.post(server.url("/chat_tokenize"), json={"messages": messages}).json()["tokenize_response"])


# --- Content against llama.cpp -------------------------------------------------------

def test_native_greedy_equals_llama_cpp_golden(s, golden):
    assert token_ids(s, PROMPT) == golden["prompt_ids"]
    r = requests.post(s.url("/generate"), json={"inputs": PROMPT, "parameters": {"max_new_tokens": 64, "details": True}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["generated_text"] == golden["greedy_text_64"]
    assert [t["id"] for t in body["details"]["tokens"]] == golden["greedy_ids_64"]
    assert body["details"]["finish_reason"] == "length" and body["details"]["generated_tokens"] == 64
    assert body["details"]["seed"] is None  # greedy
    # POST / answers an array of one; return_full_text defaults to true (no pipeline tag).
    compat = requests.post(s.url("/"), json={"inputs": PROMPT, "parameters": {"max_new_tokens": 64}}).json()
    assert compat == [{"generated_text": PROMPT + golden["greedy_text_64"]}]
    detailed = requests.post(s.url("/"), json={"inputs": PROMPT, "parameters": {"max_new_tokens": 8, "details": True,
                                                                                "return_full_text": False}}).json()
    assert [t["id"] for t in detailed[0]["details"]["tokens"]] == golden["greedy_ids_64"][:8]
    with requests.post(s.url("/"), json={"inputs": PROMPT, "stream": True, "parameters": {"max_new_tokens": 8}},
                       stream=True) as r:
        events = [json.loads(line[6:]) for line in r.iter_lines() if line]
    assert [e["token"]["id"] for e in events] == golden["greedy_ids_64"][:8]
    sagemaker = requests.post(s.url("/invocations"), json={"prompt": PROMPT, "max_tokens": 8, "temperature": 0})
    assert sagemaker.json()["choices"][0]["text"] == detailed[0]["generated_text"]


def test_openai_completions_greedy_equals_golden_both_base_urls(s, golden):
    for slash in (False, True):
        c = sdk(s, slash).completions.create(model="tgi", prompt=PROMPT, max_tokens=64, temperature=0)
        assert c.choices[0].text == golden["greedy_text_64"]
        assert c.choices[0].finish_reason == "length"
        assert c.model == str(STORIES)  # "tgi" -> the served model id
        assert (c.usage.prompt_tokens, c.usage.completion_tokens, c.usage.total_tokens) == (5, 64, 69)
        assert c.id.startswith("cmpl-")


# --- OpenAI Python SDK ---------------------------------------------------------------

def test_openai_chat_sync_and_stream_agree(s):
    client = sdk(s)
    whole = client.chat.completions.create(model="tgi", messages=MESSAGES, max_tokens=12, temperature=0)
    text = whole.choices[0].message.content
    assert whole.object == "chat.completion" and whole.choices[0].message.role == "assistant"
    assert isinstance(text, str) and text
    assert whole.usage.prompt_tokens == chat_prompt_tokens(s, MESSAGES)
    assert whole.usage.completion_tokens == 12 and whole.choices[0].finish_reason == "length"
    chunks = list(client.chat.completions.create(model="tgi", messages=MESSAGES, max_tokens=12, temperature=0,
                                                 stream=True, stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage
    assert all(c.usage is None for c in chunks[:-1])
    assert len({c.id for c in chunks}) == 1


def test_openai_completions_stream_agrees(s, golden):
    client = sdk(s, trailing_slash=True)
    pieces = list(client.completions.create(model="tgi", prompt=PROMPT, max_tokens=30, temperature=0, stream=True))
    text = "".join(p.choices[0].text for p in pieces)
    whole = client.completions.create(model="tgi", prompt=PROMPT, max_tokens=30, temperature=0)
    assert text == whole.choices[0].text and golden["greedy_text_64"].startswith(text)
    assert pieces[-1].choices[0].finish_reason == "length"
    assert pieces[-1].usage.completion_tokens == 30 and pieces[-1].usage.prompt_tokens == 5


def test_openai_async_client_concurrent(s):
    async def run():
        client = openai.AsyncOpenAI(base_url=s.url("/v1"), api_key="-")
        chats = [client.chat.completions.create(model="tgi", messages=MESSAGES, max_tokens=8, temperature=0)
                 for _ in range(3)]
        comp = client.completions.create(model="tgi", prompt=PROMPT, max_tokens=8, temperature=0)
        stream = await client.chat.completions.create(model="tgi", messages=MESSAGES, max_tokens=8, temperature=0,
                                                      stream=True)
        streamed = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        return await asyncio.gather(*chats, comp), streamed

    results, streamed = asyncio.run(run())
    texts = {r.choices[0].message.content for r in results[:3]}
    assert len(texts) == 1 and streamed in texts  # same greedy answer, batched or not
    assert results[3].choices[0].text


def test_openai_fields_n_logprobs_seed_stop_max_completion_tokens(s):
    client = sdk(s)
    kw = dict(model="tgi", messages=MESSAGES, max_tokens=10)
    a = client.chat.completions.create(n=2, temperature=1.0, seed=11, **kw)
    b = client.chat.completions.create(n=2, temperature=1.0, seed=11, **kw)
    assert [c.index for c in a.choices] == [0, 1]
    assert [c.message.content for c in a.choices] == [c.message.content for c in b.choices]  # seeded
    assert a.usage.prompt_tokens == chat_prompt_tokens(s, MESSAGES)  # the prompt once, whatever n
    assert a.usage.completion_tokens == 20
    streamed = {0: "", 1: ""}
    for c in client.chat.completions.create(n=2, temperature=1.0, seed=11, stream=True, **kw):
        for ch in c.choices:
            streamed[ch.index] += ch.delta.content or ""
    assert [streamed[0], streamed[1]] == [c.message.content for c in a.choices]

    lp = client.chat.completions.create(logprobs=True, temperature=0, **kw)  # no top_logprobs: works
    content = lp.choices[0].logprobs.content
    assert len(content) == 10 and all(e.top_logprobs == [] and e.logprob <= 0 for e in content)
    assert "".join(e.token for e in content) == lp.choices[0].message.content
    top = client.chat.completions.create(logprobs=True, top_logprobs=3, temperature=0, **kw)
    assert all(len(e.top_logprobs) == 3 for e in top.choices[0].logprobs.content)
    assert top.choices[0].logprobs.content[0].logprob == pytest.approx(content[0].logprob)

    short = client.chat.completions.create(model="tgi", messages=MESSAGES, max_completion_tokens=3, temperature=0)
    assert short.usage.completion_tokens == 3 and short.choices[0].finish_reason == "length"
    full = client.completions.create(model="tgi", prompt=PROMPT, max_tokens=20, temperature=0).choices[0].text
    stop = " little"
    stopped = client.completions.create(model="tgi", prompt=PROMPT, max_tokens=20, temperature=0, stop=stop)
    assert stopped.choices[0].text == full[:full.index(stop)]  # removed from /v1 output (DEV-11)
    assert stopped.choices[0].finish_reason == "stop"
    fmt = client.chat.completions.create(response_format={"type": "text"}, temperature=0, **kw)
    assert fmt.choices[0].message.content == lp.choices[0].message.content

    legacy = client.completions.create(model="tgi", prompt=[PROMPT, "Lily"], max_tokens=4, temperature=0, n=2,
                                       logprobs=2)
    assert [c.index for c in legacy.choices] == [0, 1, 2, 3]
    assert legacy.choices[0].text == legacy.choices[1].text == full[:len(legacy.choices[0].text)]
    assert len(legacy.choices[0].logprobs.tokens) == 4
    assert "".join(legacy.choices[0].logprobs.tokens) == legacy.choices[0].text
    assert all(len(t) <= 2 for t in legacy.choices[0].logprobs.top_logprobs)
    echo = client.completions.create(model="tgi", prompt=PROMPT, max_tokens=4, temperature=0, echo=True)
    assert echo.choices[0].text == PROMPT + legacy.choices[0].text
    # Unknown fields are ignored; `model` may hold anything and is echoed.
    extra = client.completions.create(model="gpt-4o", prompt=PROMPT, max_tokens=2, temperature=0,
                                      extra_body={"frobnicate": {"x": [1]}}, user="u1")
    assert extra.model == "gpt-4o"


def test_openai_errors_are_sdk_classes(s):
    client = sdk(s, max_retries=0)
    with pytest.raises(openai.UnprocessableEntityError) as e:
        client.chat.completions.create(model="tgi", messages=MESSAGES, temperature=-1)
    assert e.value.status_code == 422
    assert e.value.response.json()["error"] == "Input validation error: `temperature` must be strictly positive"
    with pytest.raises(openai.UnprocessableEntityError) as e:
        client.chat.completions.create(model="tgi", messages=MESSAGES, logit_bias={"5": 10})
    assert "`logit_bias` is not supported" in e.value.response.json()["error"]
    # A prompt longer than the context (128) is refused, never truncated.
    long_prompt = "the dog " * 100
    n_long = len(token_ids(s, long_prompt))
    assert n_long > 128
    with pytest.raises(openai.UnprocessableEntityError) as e:
        client.completions.create(model="tgi", prompt=long_prompt, max_tokens=4)
    assert e.value.response.json() == {
        "error": f"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 128. Given: {n_long} "
                 "`inputs` tokens and 4 `max_new_tokens`", "error_type": "validation"}
    with pytest.raises(openai.UnprocessableEntityError) as e:
        list(client.chat.completions.create(model="tgi", messages=[{"role": "user", "content": "the dog " * 100}],
                                            stream=True))  # streams too: a real 422 before any SSE byte
    assert "must have less than 127 tokens" in e.value.response.json()["error"] or "must be <= 128" in e.value.response.json()["error"]
    r = requests.post(s.url("/generate"), json={"inputs": long_prompt})
    assert r.status_code == 422 and r.json()["error"] == ("Input validation error: `inputs` must have less than "
                                                          f"127 tokens. Given: {n_long}")


def test_rate_limit_is_rate_limit_error(kiln_server):
    require_stories()
    srv = kiln_server(model=STORIES, args=["--max-concurrent-requests", "1", "--max-batch-total-tokens", "4096"])
    # n choices take n admission slots (contract §7.1): two cannot fit in one.
    with pytest.raises(openai.RateLimitError) as e:
        sdk(srv, max_retries=0).completions.create(model="tgi", prompt=PROMPT, max_tokens=2, n=2)
    assert e.value.response.json() == {"error": "Model is overloaded", "error_type": "overloaded"}
    assert sdk(srv).completions.create(model="tgi", prompt=PROMPT, max_tokens=2).usage.completion_tokens == 2


def test_api_key_gives_authentication_error(kiln_server):
    srv = kiln_server(args=["--api-key", "sekrit"])  # auth comes before the model: no model needed
    with pytest.raises(openai.NotFoundError):  # an open route: no key needed, unknown id
        openai.OpenAI(base_url=srv.url("/v1"), api_key="-", max_retries=0).models.retrieve("x")
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=srv.url("/v1"), api_key="wrong", max_retries=0).chat.completions.create(
            model="tgi", messages=MESSAGES)
    with pytest.raises(openai.InternalServerError):  # right key: reaches the (absent) model, 503
        openai.OpenAI(base_url=srv.url("/v1"), api_key="sekrit", max_retries=0).chat.completions.create(
            model="tgi", messages=MESSAGES)
    assert openai.OpenAI(base_url=srv.url("/v1"), api_key="-").models.list().data[0].object == "model"


# --- TGI clients ---------------------------------------------------------------------

def test_text_generation_client(s, golden):
    client = text_generation.Client(s.base_url)
    r = client.generate(PROMPT, max_new_tokens=20)  # details are always asked for
    assert golden["greedy_text_64"].startswith(r.generated_text)
    assert r.details.finish_reason.value == "length" and r.details.generated_tokens == 20
    assert [t.id for t in r.details.tokens] == golden["greedy_ids_64"][:20]
    streamed = list(client.generate_stream(PROMPT, max_new_tokens=20))
    assert "".join(t.token.text for t in streamed if not t.token.special) == r.generated_text
    assert streamed[-1].generated_text == r.generated_text
    assert [t.token.id for t in streamed] == golden["greedy_ids_64"][:20]
    best = client.generate(PROMPT, max_new_tokens=8, best_of=2, do_sample=True)
    assert len(best.details.best_of_sequences) == 1
    assert best.details.seed is not None
    top = client.generate(PROMPT, max_new_tokens=3, top_n_tokens=2)
    assert all(len(t) == 2 for t in top.details.top_tokens)
    with pytest.raises(text_generation.errors.ValidationError) as e:
        client.generate(PROMPT, max_new_tokens=3, top_k=-1)
    assert "`top_k` must be strictly positive" in str(e.value)


def test_huggingface_hub_inference_client(s):
    client = huggingface_hub.InferenceClient(base_url=s.base_url)
    native = requests.post(s.url("/generate"), json={"inputs": PROMPT, "parameters": {"max_new_tokens": 12}}).json()
    # It posts to POST /, where return_full_text defaults to true for a model without a
    # pipeline tag (contract §2.2), as TGI does.
    assert client.text_generation(PROMPT, max_new_tokens=12) == PROMPT + native["generated_text"]
    assert client.text_generation(PROMPT, max_new_tokens=12, return_full_text=False) == native["generated_text"]
    detailed = client.text_generation(PROMPT, max_new_tokens=12, details=True)
    assert detailed.details.generated_tokens == 12
    streamed = "".join(client.text_generation(PROMPT, max_new_tokens=12, stream=True))
    assert streamed == native["generated_text"]
    chat = client.chat_completion(MESSAGES, max_tokens=10, temperature=0)
    assert chat.choices[0].message.content == sdk(s).chat.completions.create(
        model="tgi", messages=MESSAGES, max_tokens=10, temperature=0).choices[0].message.content
    pieces = "".join(c.choices[0].delta.content or "" for c in client.chat_completion(
        MESSAGES, max_tokens=10, temperature=0, stream=True) if c.choices)
    assert pieces == chat.choices[0].message.content


# --- Wire level ----------------------------------------------------------------------

def sse_events(raw: bytes):
    assert raw.endswith(b"\n\n"), raw[-40:]
    events = raw[:-2].split(b"\n\n")
    for e in events:
        assert e.startswith(b"data: ") and b"\n" not in e, e  # one data line per event, no event:/id:
    return [e[len(b"data: "):] for e in events]


def compact(payload: bytes) -> bytes:
    return json.dumps(json.loads(payload), separators=(",", ":"), ensure_ascii=False).encode()


def curl(*args):
    return subprocess.run(["curl", "-sN", *args], capture_output=True, timeout=30, check=True).stdout


def test_curl_sse_framing_byte_for_byte(s):
    raw = curl(s.url("/generate_stream"), "-H", "Content-Type: application/json",
               "-d", json.dumps({"inputs": PROMPT, "parameters": {"max_new_tokens": 5, "details": True}}))
    events = sse_events(raw)
    assert len(events) == 5 and all(compact(e) == e for e in events)  # compact JSON, keys in contract order
    first, last = json.loads(events[0]), json.loads(events[-1])
    assert list(first) == ["index", "token", "generated_text", "details"]
    assert first["generated_text"] is None and first["details"] is None and first["index"] == 1
    assert last["details"] == {"finish_reason": "length", "generated_tokens": 5, "seed": None, "input_length": 5}
    # Native streams never send [DONE]; OpenAI streams end with it.
    raw = curl(s.url("/v1/chat/completions"), "-d", json.dumps(
        {"model": "tgi", "messages": MESSAGES, "max_tokens": 4, "temperature": 0, "stream": True,
         "stream_options": {"include_usage": True}}))
    events = sse_events(raw)
    assert events[-1] == b"[DONE]" and all(compact(e) == e for e in events[:-1])
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 4
    assert list(chunks[1]) == ["object", "id", "created", "model", "system_fingerprint", "choices", "usage"]
    head = subprocess.run(["curl", "-sN", "-D", "-", "-o", "/dev/null", s.url("/generate_stream"), "-d",
                           json.dumps({"inputs": PROMPT, "parameters": {"max_new_tokens": 1}})],
                          capture_output=True, timeout=30, check=True).stdout.decode().lower()
    for h in ("content-type: text/event-stream", "cache-control: no-cache", "x-accel-buffering: no"):
        assert h in head, head


# --- Info routes with the real model -------------------------------------------------

def test_info_models_metrics_tokenize(s):
    info = requests.get(s.url("/info")).json()
    assert info["model_id"] == str(STORIES)
    assert (info["max_total_tokens"], info["max_input_tokens"]) == (128, 127)  # the model's own context
    assert info["model_dtype"] == "float32" and info["model_device_type"] == "cpu"
    assert info["max_batch_total_tokens"] == 4096
    models = sdk(s).models.list()
    assert [m.id for m in models.data] == [str(STORIES)]
    assert sdk(s).models.retrieve(str(STORIES)).id == str(STORIES)
    before = metric(requests.get(s.url("/metrics")).text, "tgi_request_success")
    requests.post(s.url("/generate"), json={"inputs": PROMPT, "parameters": {"max_new_tokens": 2}})
    after = requests.get(s.url("/metrics")).text
    assert metric(after, "tgi_request_success") == before + 1
    assert metric(after, "tgi_batch_max_total_tokens") == 4096
    toks = requests.post(s.url("/tokenize"), json={"inputs": PROMPT}).json()
    assert toks[0] == {"id": 1, "text": "", "start": 0, "stop": 0}  # BOS added
    assert "".join(PROMPT[t["start"]:t["stop"]] for t in toks[1:]) == PROMPT
    ct = requests.post(s.url("/chat_tokenize"), json={"messages": MESSAGES}).json()
    assert ct["templated_text"] == "<s>user: Once upon a time\nassistant:"
