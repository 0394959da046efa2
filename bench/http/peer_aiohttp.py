"""Peer for bench/http: the same two routes in aiohttp (one Python process).

GET /health -> 200 empty. POST /generate -> parse JSON, check the same TGI
parameters Kiln checks before tokenization, answer 503 JSON (no model).
"""

import json
import sys

from aiohttp import web


def check(params: dict):
    t = params.get("temperature")
    if t is not None and t <= 0:
        return "`temperature` must be strictly positive"
    rp = params.get("repetition_penalty")
    if rp is not None and rp <= 0:
        return "`repetition_penalty` must be strictly positive"
    p = params.get("top_p")
    if p is not None and not (0 < p <= 1):
        return "`top_p` must be > 0.0 and < 1.0"
    k = params.get("top_k")
    if k is not None and k <= 0:
        return "`top_k` must be strictly positive"
    m = params.get("max_new_tokens")
    if m is not None and m == 0:
        return "`max_new_tokens` must be strictly positive"
    if len(params.get("stop") or []) > 4:
        return "`stop` supports up to 4 stop sequences"
    return None


async def health(_):
    return web.Response(status=200)


async def generate(request):
    try:
        body = json.loads(await request.read())
    except ValueError as e:
        return web.json_response({"error": str(e), "error_type": "validation"}, status=400)
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), str):
        return web.json_response({"error": "missing field `inputs`", "error_type": "validation"}, status=422)
    err = check(body.get("parameters") or {})
    if err:
        return web.json_response({"error": "Input validation error: " + err, "error_type": "validation"},
                                 status=422)
    return web.json_response({"error": "Model is not loaded", "error_type": "unhealthy"}, status=503)


app = web.Application()
app.router.add_get("/health", health)
app.router.add_post("/generate", generate)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
