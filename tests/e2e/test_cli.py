"""`kiln serve` flags: help, refusals that name the flag, startup checks, env vars, signals."""

import json
import signal
import urllib.request

from conftest import run_kiln


def test_help_lists_tgi_flags_with_env_names():
    r = run_kiln("serve", "--help")
    assert r.returncode == 0
    for flag, env in [("--model-id", "MODEL_ID"), ("--port", "PORT"), ("--hostname", "HOSTNAME"),
                      ("--api-key", "API_KEY"), ("--max-concurrent-requests", "MAX_CONCURRENT_REQUESTS"),
                      ("--max-input-tokens", "MAX_INPUT_TOKENS"), ("--max-total-tokens", "MAX_TOTAL_TOKENS"),
                      ("--payload-limit", "PAYLOAD_LIMIT"), ("--json-output", "JSON_OUTPUT"),
                      ("--cors-allow-origin", "CORS_ALLOW_ORIGIN"), ("--served-model-name", "SERVED_MODEL_NAME")]:
        assert flag in r.stdout, flag
        assert f"Env:{env}" in r.stdout, env
    assert "=3000" in r.stdout  # --port default (TGI's)
    top = run_kiln("--help")
    assert top.returncode == 0 and "serve" in top.stdout


def test_unknown_flag_is_refused_by_name():
    r = run_kiln("serve", "--no-such-flag")
    assert r.returncode != 0
    assert "--no-such-flag" in r.stderr


def test_bad_values_are_refused_by_flag_name():
    for args, name in [(["--port", "abc"], "--port"), (["--max-best-of", "0"], "--max-best-of"),
                       (["--dtype", "float8"], "--dtype"), (["--quantize", "magic"], "--quantize"),
                       (["--validation-workers", "0"], "--validation-workers"),
                       (["--usage-stats", "maybe"], "--usage-stats"),
                       (["--max-input-tokens", "5", "--max-input-length", "5"], "--max-input")]:
        r = run_kiln("serve", *args)
        assert r.returncode != 0, args
        assert name in r.stderr, (args, r.stderr)


def test_bad_env_value_is_refused_by_flag_name():
    r = run_kiln("serve", env={"MAX_BEST_OF": "many"})
    assert r.returncode != 0
    assert "--max-best-of" in r.stderr


def test_startup_validation_names_both_values():
    r = run_kiln("serve", "--max-input-tokens", "100", "--max-total-tokens", "100")
    assert r.returncode == 2
    assert "`max_input_tokens`(100) must be < `max_total_tokens`(100)" in r.stderr
    r = run_kiln("serve", "--max-total-tokens", "5000", "--max-batch-total-tokens", "4000")
    assert r.returncode == 2
    assert "`max_total_tokens`(5000) must be <= `max_batch_total_tokens`(4000)" in r.stderr
    r = run_kiln("serve", "--sharded", "true")
    assert r.returncode == 2 and "--sharded" in r.stderr


def test_env_vars_configure_the_server(kiln_server):
    s = kiln_server(env={"MAX_BEST_OF": "3", "MAX_STOP_SEQUENCES": "7", "JSON_OUTPUT": "true",
                         "SERVED_MODEL_NAME": "my-model"})
    info = json.load(urllib.request.urlopen(s.url("/info")))
    assert info["max_best_of"] == 3
    assert info["max_stop_sequences"] == 7
    models = json.load(urllib.request.urlopen(s.url("/v1/models")))
    assert models["data"][0]["id"] == "my-model"
    # JSON logs: every line is an object; request lines carry the route and status.
    lines = [json.loads(line) for line in s.log().splitlines() if line.strip()]
    requests = [l["message"] for l in lines if isinstance(l["message"], dict)]
    assert any(r["route"] == "/info" and r["status"] == 200 for r in requests)


def test_flags_win_over_env(kiln_server):
    s = kiln_server(args=["--max-best-of", "4"], env={"MAX_BEST_OF": "3"})
    assert json.load(urllib.request.urlopen(s.url("/info")))["max_best_of"] == 4


def test_later_flags_are_accepted_with_a_warning(kiln_server):
    s = kiln_server(args=["--speculate", "2", "--rope-scaling", "linear", "--trust-remote-code",
                          "--quantize", "gptq", "--usage-stats", "off"])
    log = s.log()
    assert "--speculate is accepted but not implemented yet" in log
    assert "--trust-remote-code" in log
    assert "--quantize gptq is ignored" in log


def test_unparsable_hostname_falls_back(kiln_server):
    # Docker sets HOSTNAME to the container name; it must not stop the server.
    s = kiln_server(env={"HOSTNAME": "container-abc"}, hostname=None)
    assert urllib.request.urlopen(s.url("/health")).status == 200
    assert "'container-abc' is not an IP address; listening on 0.0.0.0" in s.log()


def test_sigterm_and_sigint_exit_cleanly(kiln_server):
    for sig in (signal.SIGTERM, signal.SIGINT):
        s = kiln_server()
        assert s.stop(sig) == 0
        assert "shutdown complete" in s.log()
