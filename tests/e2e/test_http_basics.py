"""HTTP behaviour that needs no model: info routes, 503 for generation, the
contract's errors, auth, CORS, limits, keep-alive, curl."""

import http.client
import json
import socket
import subprocess
import time

import requests

NOT_LOADED = {"error": "Model is not loaded: this server was started without a model engine, so "
                       "generation and tokenization are unavailable", "error_type": "unhealthy"}


def test_info_routes(no_model_server):
    s = no_model_server
    r = requests.get(s.url("/health"))
    assert r.status_code == 200 and r.text == ""
    assert requests.get(s.url("/")).status_code == 200
    assert requests.get(s.url("/ping")).status_code == 200
    info = requests.get(s.url("/info")).json()
    assert info["router"] == "text-generation-router"
    assert info["max_total_tokens"] == 4096 and info["max_input_tokens"] == 4095
    assert info["max_concurrent_requests"] == 128
    models = requests.get(s.url("/v1/models")).json()
    assert models["object"] == "list" and models["data"][0]["id"] == info["model_id"]
    metrics = requests.get(s.url("/metrics"))
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "\ntgi_request_count " in metrics.text
    assert "tgi_request_duration_bucket" in metrics.text
    # The separate Prometheus listener serves only /metrics.
    assert "tgi_request_count" in requests.get(f"http://127.0.0.1:{s.metrics_port}/metrics").text
    assert requests.get(f"http://127.0.0.1:{s.metrics_port}/info").status_code == 404
    doc = requests.get(s.url("/api-doc/openapi.json")).json()
    assert "/v1/chat/completions" in doc["paths"]


def test_generation_routes_answer_503_without_a_model(no_model_server):
    s = no_model_server
    for route, body in [("/generate", {"inputs": "Hi"}), ("/generate_stream", {"inputs": "Hi"}),
                        ("/", {"inputs": "Hi"}), ("/tokenize", {"inputs": "Hi"}),
                        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"}]}),
                        ("/v1/completions", {"prompt": "Hi"}),
                        ("/chat_tokenize", {"messages": [{"role": "user", "content": "Hi"}]}),
                        ("/invocations", {"inputs": "Hi"})]:
        r = requests.post(s.url(route), json=body)
        assert r.status_code == 503, route
        assert r.json() == NOT_LOADED, route
    failures = requests.get(s.url("/metrics")).text
    assert "tgi_request_count " in failures


def test_contract_errors(no_model_server):
    s = no_model_server
    r = requests.post(s.url("/generate"), data="{\"inputs\":", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"].startswith("Failed to parse the request body as JSON: ")
    r = requests.post(s.url("/generate"), json={"inputs": 1})
    assert r.status_code == 422
    assert r.json() == {"error": "Failed to deserialize the JSON body into the target type: inputs: "
                                 "invalid type: integer `1`, expected a string", "error_type": "validation"}
    r = requests.post(s.url("/generate"), json={"parameters": {}})
    assert r.status_code == 422 and "missing field `inputs`" in r.json()["error"]
    r = requests.post(s.url("/generate"), json={"inputs": "x", "parameters": {"temperature": -1}})
    assert r.status_code == 422
    assert r.json() == {"error": "Input validation error: `temperature` must be strictly positive",
                        "error_type": "validation"}
    r = requests.post(s.url("/generate"), json={"inputs": "x", "parameters": {"top_p": 1.5}})
    assert r.status_code == 422
    r = requests.post(s.url("/generate"), json={"inputs": "x", "parameters": {"max_new_tokens": 0}})
    assert r.json()["error"] == "Input validation error: `max_new_tokens` must be strictly positive"
    r = requests.post(s.url("/generate"), json={"inputs": "x", "parameters": {"stop": ["s"] * 100}})
    assert r.json()["error"] == "Input validation error: `stop` supports up to 4 stop sequences. Given: 100"
    r = requests.post(s.url("/generate"), json={"inputs": "x", "parameters": {"best_of": 5, "do_sample": True}})
    assert r.json()["error"] == "Input validation error: `best_of` must be > 0 and <= 2. Given: 5"
    r = requests.post(s.url("/v1/chat/completions"), json={"messages": [{"role": "user", "content": "x"}], "n": 3})
    assert r.status_code == 422
    r = requests.post(s.url("/v1/completions"), json={"prompt": "x", "suffix": "y"})
    assert r.status_code == 422 and r.json()["error_type"] == "suffix not supported"
    assert requests.get(s.url("/nope")).status_code == 404
    assert requests.get(s.url("/generate")).status_code == 405
    r = requests.post(s.url("/generate"), data="x", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    # Unknown fields are ignored: this reaches the model check.
    r = requests.post(s.url("/generate"), json={"inputs": "x", "whatever": [1, {"a": None}]})
    assert r.status_code == 503
    assert requests.get(s.url("/health")).status_code == 200


def test_payload_limit(kiln_server):
    s = kiln_server(args=["--payload-limit", "100"])
    r = requests.post(s.url("/generate"), json={"inputs": "x" * 200})
    assert r.status_code == 413
    assert r.json()["error"] == "Failed to buffer the request body: length limit exceeded"
    assert requests.get(s.url("/health")).status_code == 200


def test_one_megabyte_header_is_refused_cleanly(no_model_server):
    s = no_model_server
    with socket.create_connection(("127.0.0.1", s.port)) as c:
        try:
            c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            head = c.recv(100)
        except ConnectionResetError:
            head = b""
        assert head == b"" or head.startswith(b"HTTP/1.1 431"), head
    assert requests.get(s.url("/health")).status_code == 200


def test_api_key(kiln_server):
    s = kiln_server(args=["--api-key", "k1"])
    body = {"inputs": "x"}
    r = requests.post(s.url("/generate"), json=body)
    assert r.status_code == 401
    assert r.json() == {"error": "Unauthorized", "error_type": "authentication"}
    assert requests.post(s.url("/generate"), json=body, headers={"Authorization": "Bearer k2"}).status_code == 401
    assert requests.post(s.url("/generate"), json=body, headers={"Authorization": "Bearer k1"}).status_code == 503
    assert requests.get(s.url("/health")).status_code == 200
    assert requests.get(s.url("/v1/models")).status_code == 200
    pre = requests.options(s.url("/v1/chat/completions"),
                           headers={"Origin": "http://ui.local", "Access-Control-Request-Method": "POST",
                                    "Access-Control-Request-Headers": "authorization"})
    assert pre.status_code == 200
    assert "authorization" in pre.headers["access-control-allow-headers"]


def test_cors_origins(kiln_server):
    s = kiln_server(args=["--cors-allow-origin", "http://a.local", "--cors-allow-origin", "http://b.local"])
    assert requests.get(s.url("/info"), headers={"Origin": "http://b.local"}).headers[
        "access-control-allow-origin"] == "http://b.local"
    assert "access-control-allow-origin" not in requests.get(s.url("/info"), headers={"Origin": "http://c.local"}).headers


def test_request_id_in_and_out(no_model_server):
    r = requests.get(no_model_server.url("/health"), headers={"x-request-id": "trace-42"})
    assert r.headers["x-request-id"] == "trace-42"
    assert len(requests.get(no_model_server.url("/health")).headers["x-request-id"]) == 32


def test_keep_alive_and_idle_timeout(no_model_server):
    s = no_model_server  # started with --keep-alive-timeout 2
    c = http.client.HTTPConnection("127.0.0.1", s.port)
    for _ in range(3):
        c.request("GET", "/health")
        r = c.getresponse()
        r.read()
        assert r.status == 200
    sock = c.sock
    time.sleep(3)
    sock.settimeout(2)
    assert sock.recv(1) == b""  # the server closed the idle connection
    c.close()


def test_curl_basics(no_model_server):
    s = no_model_server
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", s.url("/health")],
                         capture_output=True, text=True, timeout=10)
    assert out.stdout == "200"
    # curl -d sends application/x-www-form-urlencoded: tolerated like a missing header (DEV-20).
    out = subprocess.run(["curl", "-sN", s.url("/generate_stream"), "-d", '{"inputs":"Hi"}'],
                         capture_output=True, text=True, timeout=10)
    assert json.loads(out.stdout) == NOT_LOADED
    out = subprocess.run(["curl", "-sN", s.url("/generate"), "-d", '{"inputs":"Hi","parameters":{"top_k":0}}'],
                         capture_output=True, text=True, timeout=10)
    assert json.loads(out.stdout)["error"] == "Input validation error: `top_k` must be strictly positive"
