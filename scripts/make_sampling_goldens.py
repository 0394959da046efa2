#!/usr/bin/env python3
"""Writes tests/data/sampling/goldens.json: reference values for src/sampling.

References (all independent of Kiln's C++):
  * transformers' logits processors (RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper,
    TypicalLogitsWarper, MinPLogitsWarper) on float32 torch tensors;
  * numpy formulas for the OpenAI penalties (platform docs: logit -=
    count * frequency_penalty + (count > 0) * presence_penalty), TGI's
    normalised frequency penalty (count / length, as its batched processor
    computes it) and logit_bias;
  * torch.log_softmax for log-probabilities;
  * numpy's Philox (4x64-10) for the random generator, plus the Random123
    known-answer vector;
  * chi-square critical values from torch.special.gammainc by bisection.

Where transformers leaves a choice to its sort order (ties inside top_p), the
expectation comes from a float64 numpy implementation of the documented rule
(docs/sampling.md) and the case says so ("reference": "rule").

Every random case is checked for a safety margin around its decision
boundaries, so float32 vs float64 rounding cannot flip a kept/removed token.

Run from the repository root:  .venv/bin/python scripts/make_sampling_goldens.py
(needs torch and transformers<5, see requirements/dev.txt)
"""

import json
import math
import os
import sys

import numpy as np
import torch
from transformers.generation.logits_process import (
    MinPLogitsWarper,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
    TypicalLogitsWarper,
)

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "sampling", "goldens.json")
MARGIN = 1e-4  # relative distance every random case keeps from its decision boundaries


def f32_list(x):
    """float32 values as JSON numbers; -inf (a removed token) becomes null."""
    out = []
    for v in np.asarray(x, dtype=np.float32).tolist():
        out.append(None if v == -math.inf else float(v))
    return out


def run_warper(warper, logits):
    scores = torch.tensor(np.asarray(logits, dtype=np.float32)).unsqueeze(0)
    ids = torch.zeros((1, 1), dtype=torch.long)
    return warper(ids, scores)[0].numpy()


# ---- float64 models of the documented rules, used for margins and for ties ----


def softmax64(x):
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x)
    m = x[finite].max()
    e = np.where(finite, np.exp(np.where(finite, x, m) - m), 0.0)
    return e / e.sum()


def rule_top_p(x, p):
    """Keep a token iff its strictly more probable tokens hold < p. Returns kept mask, margin."""
    probs = softmax64(x)
    keep = np.zeros(len(x), dtype=bool)
    margin = math.inf
    for i in range(len(x)):
        above = probs[np.asarray(x) > x[i]].sum()
        keep[i] = above < p and probs[i] > 0
        if probs[i] > 0:
            margin = min(margin, abs(above - p))
    return keep, margin


def rule_typical(x, mass):
    probs = softmax64(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.log(probs)
        ent = -np.nansum(np.where(probs > 0, probs * logp, 0.0))
        key = np.abs(-logp - ent)
    order = np.argsort(key, kind="stable")
    cum = np.cumsum(probs[order])
    last = min(int((cum < mass).sum()), len(x) - 1)
    bound = key[order[last]]
    keep = key <= bound
    # margins: cumulative mass away from `mass`, boundary key away from its neighbours
    margin = np.min(np.abs(cum - mass))
    distinct = np.unique(key[np.isfinite(key)])
    j = np.searchsorted(distinct, bound)
    if j + 1 < len(distinct):
        margin = min(margin, distinct[j + 1] - bound)
    return keep, margin


def rule_min_p(x, min_p):
    probs = softmax64(x)
    ratio = probs / probs.max()
    keep = ratio >= min_p
    return keep, np.min(np.abs(ratio - min_p))


def rule_top_k(x, k):
    xs = np.sort(np.asarray(x, dtype=np.float64))[::-1]
    k = min(k, len(x))
    kth = xs[k - 1]
    keep = np.asarray(x) >= kth
    gap = math.inf if k == len(x) else kth - xs[k]
    return keep, gap


def kept(processed):
    return [i for i, v in enumerate(processed.tolist()) if v != -math.inf]


# ---------------------------------------------------------------------------


def random_logits(rng, n, scale=3.0):
    return (rng.standard_normal(n) * scale).astype(np.float32)


def find_case(seed, n, scale, check):
    """First seed >= `seed` whose logits keep the margin under `check`."""
    for s in range(seed, seed + 1000):
        x = random_logits(np.random.default_rng(s), n, scale)
        if check(x):
            return x
    raise RuntimeError("no case with a safe margin")


def warper_cases():
    cases = []

    def add(name, kind, logits, params, warper, rule=None, reference="transformers"):
        out = run_warper(warper, logits)
        if rule is not None:
            keep, _ = rule(np.asarray(logits, dtype=np.float64))
            expected_kept = [i for i in range(len(logits)) if keep[i]]
            if reference == "transformers" and expected_kept != kept(out):
                raise RuntimeError(f"{name}: transformers disagrees with the documented rule")
            if reference == "rule":
                out = np.where(keep, np.asarray(logits, dtype=np.float32), -np.inf).astype(np.float32)
        cases.append({"name": name, "kind": kind, "params": params, "reference": reference,
                      "logits": f32_list(logits), "expected": f32_list(out)})

    # temperature
    for t in (0.5, 1.7):
        x = random_logits(np.random.default_rng(1), 40)
        add(f"temperature_{t}", "temperature", x, {"temperature": t}, TemperatureLogitsWarper(t))

    # top_k: distinct values with a gap at the boundary
    for k in (1, 5, 17):
        x = find_case(10, 40, 3.0, lambda x, k=k: rule_top_k(x, k)[1] > MARGIN)
        add(f"top_k_{k}", "top_k", x, {"top_k": k}, TopKLogitsWarper(k), lambda x, k=k: rule_top_k(x, k))
    x = random_logits(np.random.default_rng(2), 10)
    add("top_k_larger_than_vocab", "top_k", x, {"top_k": 50}, TopKLogitsWarper(50))
    ties = np.array([1.0, 3.0, 2.0, 3.0, 2.0, 2.0, 0.5, 2.0], dtype=np.float32)
    add("top_k_ties_at_boundary", "top_k", ties, {"top_k": 3}, TopKLogitsWarper(3))
    inf_row = np.array([0.5, -np.inf, 2.0, -np.inf, 1.0, -1.0], dtype=np.float32)
    add("top_k_with_neg_inf", "top_k", inf_row, {"top_k": 5}, TopKLogitsWarper(5))

    # top_p, including a large row (exercises the prefilter and the selection)
    for p, n, seed in ((0.1, 40, 20), (0.5, 40, 21), (0.9, 40, 22), (0.95, 2000, 23), (0.5, 2000, 24)):
        x = find_case(seed, n, 2.5, lambda x, p=p: rule_top_p(x, p)[1] > MARGIN)
        add(f"top_p_{p}_n{n}", "top_p", x, {"top_p": p}, TopPLogitsWarper(p), lambda x, p=p: rule_top_p(x, p))
    x = random_logits(np.random.default_rng(3), 30)
    add("top_p_1.0", "top_p", x, {"top_p": 1.0}, TopPLogitsWarper(1.0))
    one = np.zeros(30, dtype=np.float32)
    one[7] = 100.0
    add("top_p_all_mass_on_one", "top_p", one, {"top_p": 0.5}, TopPLogitsWarper(0.5),
        lambda x: rule_top_p(x, 0.5))
    add("top_p_with_neg_inf", "top_p", inf_row, {"top_p": 0.8}, TopPLogitsWarper(0.8),
        lambda x: rule_top_p(x, 0.8))
    # Four equal tokens, p = 0.5: the rule keeps all four; transformers keeps
    # two, chosen by its sort order.
    flat = np.array([0.0, 0.0, 0.0, 0.0, -3.0], dtype=np.float32)
    add("top_p_ties_rule", "top_p", flat, {"top_p": 0.5}, TopPLogitsWarper(0.5),
        lambda x: rule_top_p(x, 0.5), reference="rule")

    # typical_p
    for m, n, seed in ((0.2, 40, 30), (0.5, 40, 31), (0.9, 40, 32), (0.95, 2000, 33)):
        x = find_case(seed, n, 2.0, lambda x, m=m: rule_typical(x, m)[1] > MARGIN)
        add(f"typical_p_{m}_n{n}", "typical_p", x, {"typical_p": m}, TypicalLogitsWarper(m),
            lambda x, m=m: rule_typical(x, m))
    add("typical_p_all_mass_on_one", "typical_p", one, {"typical_p": 0.5}, TypicalLogitsWarper(0.5))
    add("typical_p_with_neg_inf", "typical_p", inf_row, {"typical_p": 0.7}, TypicalLogitsWarper(0.7))
    sym = np.array([2.0, 1.0, 1.0, 0.0, 0.0, -1.0], dtype=np.float32)  # equal keys come in pairs
    add("typical_p_ties", "typical_p", sym, {"typical_p": 0.6}, TypicalLogitsWarper(0.6),
        lambda x: rule_typical(x, 0.6))

    # min_p
    for mp, seed in ((0.05, 40), (0.1, 41), (0.5, 42)):
        x = find_case(seed, 40, 2.0, lambda x, mp=mp: rule_min_p(x, mp)[1] > MARGIN)
        add(f"min_p_{mp}", "min_p", x, {"min_p": mp}, MinPLogitsWarper(mp), lambda x, mp=mp: rule_min_p(x, mp))
    add("min_p_all_mass_on_one", "min_p", one, {"min_p": 0.1}, MinPLogitsWarper(0.1))
    add("min_p_ties", "min_p", ties, {"min_p": 0.3}, MinPLogitsWarper(0.3))
    add("min_p_with_neg_inf", "min_p", inf_row, {"min_p": 0.2}, MinPLogitsWarper(0.2))
    return cases


def pipeline_cases():
    """temperature -> top_k -> top_p -> typical_p -> min_p, each on the previous output."""
    cases = []
    combos = [
        {"temperature": 0.7, "top_k": 20, "top_p": 0.9},
        {"temperature": 1.3, "top_p": 0.8, "typical_p": 0.9},
        {"temperature": 0.9, "top_k": 30, "top_p": 0.95, "typical_p": 0.9, "min_p": 0.05},
        {"temperature": 2.0, "top_p": 0.7, "min_p": 0.2},
        {"temperature": 1.2, "typical_p": 0.8},
        {"temperature": 1.5, "min_p": 0.1},
    ]
    for i, params in enumerate(combos):
        for s in range(100 + 10 * i, 200 + 10 * i):
            x = random_logits(np.random.default_rng(s), 60, 2.5)
            ok, cur = True, torch.tensor(x).unsqueeze(0)
            ids = torch.zeros((1, 1), dtype=torch.long)
            stages = [("temperature", TemperatureLogitsWarper, None), ("top_k", TopKLogitsWarper, rule_top_k),
                      ("top_p", TopPLogitsWarper, rule_top_p), ("typical_p", TypicalLogitsWarper, rule_typical),
                      ("min_p", MinPLogitsWarper, rule_min_p)]
            for key, cls, rule in stages:
                if key not in params:
                    continue
                if rule is not None:
                    _, margin = rule(cur[0].double().numpy(), params[key])
                    ok = ok and margin > MARGIN
                cur = cls(params[key])(ids, cur)
            if ok:
                break
        out = cur[0].numpy()
        probs = torch.softmax(cur[0].double(), -1).numpy()
        cases.append({"name": f"pipeline_{i}", "params": params, "logits": f32_list(x),
                      "expected": f32_list(out), "probs": [float(p) for p in probs]})
    return cases


def penalty_cases():
    cases = []
    rng = np.random.default_rng(7)
    x = random_logits(rng, 32)
    prompt = [3, 5, 5, 9, 0, 31, 3]
    generated = [5, 12, 12, 12, 9, 20]
    ids = torch.tensor([prompt + generated])
    for penalty in (1.3, 0.7):
        out = RepetitionPenaltyLogitsProcessor(penalty)(ids, torch.tensor(x).unsqueeze(0).clone())[0].numpy()
        cases.append({"name": f"repetition_{penalty}", "logits": f32_list(x), "prompt": prompt,
                      "generated": generated, "params": {"repetition_penalty": penalty},
                      "expected": f32_list(out)})

    def counts(tokens, n):
        c = np.zeros(n, dtype=np.int64)
        for t in tokens:
            c[t] += 1
        return c

    for freq, pres in ((0.5, 0.0), (0.0, 0.7), (0.6, -0.4), (-1.5, 1.2)):
        c = counts(generated, len(x)).astype(np.float64)
        out = x.astype(np.float64) - c * freq - (c > 0) * pres
        cases.append({"name": f"openai_f{freq}_p{pres}", "logits": f32_list(x), "prompt": prompt,
                      "generated": generated,
                      "params": {"frequency_penalty": freq, "presence_penalty": pres, "mode": "openai"},
                      "expected": f32_list(out)})
    for freq in (0.8, -1.0):
        # TGI: float32 count / length over prompt + generated, times the penalty.
        c = counts(prompt + generated, len(x)).astype(np.float32)
        token_freq = c / np.float32(len(prompt) + len(generated))
        out = x - token_freq * np.float32(freq)
        cases.append({"name": f"tgi_f{freq}", "logits": f32_list(x), "prompt": prompt,
                      "generated": generated, "params": {"frequency_penalty": freq, "mode": "tgi"},
                      "expected": f32_list(out)})
    bias = [[4, 5.0], [7, -100.0], [31, 0.25], [99, 3.0]]  # 99 is outside the row: ignored
    out = x.astype(np.float64).copy()
    for t, b in bias:
        if t < len(out):
            out[t] += b
    cases.append({"name": "logit_bias", "logits": f32_list(x), "prompt": [], "generated": [],
                  "params": {"logit_bias": bias}, "expected": f32_list(out)})
    # All together, in TGI's order: repetition, then OpenAI penalties, then bias.
    y = RepetitionPenaltyLogitsProcessor(1.2)(ids, torch.tensor(x).unsqueeze(0).clone())[0].numpy()
    c = counts(generated, len(x)).astype(np.float64)
    y = y.astype(np.float64) - c * 0.3 - (c > 0) * 0.4
    for t, b in bias:
        if t < len(y):
            y[t] += b
    cases.append({"name": "all_penalties", "logits": f32_list(x), "prompt": prompt,
                  "generated": generated,
                  "params": {"repetition_penalty": 1.2, "frequency_penalty": 0.3, "presence_penalty": 0.4,
                             "mode": "openai", "logit_bias": bias},
                  "expected": f32_list(y)})
    return cases


def logprob_cases():
    cases = []
    for name, x in (
        ("random", random_logits(np.random.default_rng(8), 50, 4.0)),
        ("ties", np.array([1.0, 2.5, 2.5, -1.0, 2.5, 0.0, 1.0], dtype=np.float32)),
        ("with_neg_inf", np.array([0.0, -np.inf, 3.0, -np.inf, 1.0], dtype=np.float32)),
        ("peaked", np.array([80.0, 0.0, -5.0, 1.0], dtype=np.float32)),
    ):
        lp = torch.log_softmax(torch.tensor(x).double(), -1).numpy()
        ids = np.arange(len(x))
        order = np.lexsort((ids, -lp))  # by logprob descending, then id ascending
        cases.append({"name": name, "logits": f32_list(x), "log_softmax": f32_list(lp),
                      "top_order": [int(i) for i in order]})
    return cases


def rng_cases():
    out = {"random123_kat": {"counter": [0, 0, 0, 0], "key": [0, 0],
                             "block": [0x16554D9ECA36314C, 0xDB20FE9D672D0FDC,
                                       0xD7E772CEE186176B, 0x7E68B68AEC7BA23B]},
           "numpy": []}
    for seed, stream in ((0, 0), (42, 0), (42, 1), (2**64 - 1, 3)):
        # numpy increments the counter before its first block, so its output
        # starts at our counter 1: prepend our counter-0 block from numpy too.
        key = np.array([seed, stream], dtype=np.uint64)
        g0 = np.random.Philox(key=key, counter=np.full(4, 2**64 - 1, dtype=np.uint64))
        g = np.random.Philox(key=key, counter=np.zeros(4, dtype=np.uint64))
        raw = [int(v) for v in g0.random_raw(4)] + [int(v) for v in g.random_raw(8)]
        out["numpy"].append({"seed": seed, "stream": stream, "outputs": raw})
    return out


def philox_uniforms(seed, stream, count):
    """Our u_t = (x_t >> 11) * 2^-53 from numpy's Philox, starting at our counter 0."""
    key = np.array([seed, stream], dtype=np.uint64)
    g = np.random.Philox(key=key, counter=np.full(4, 2**64 - 1, dtype=np.uint64))
    return [(int(x) >> 11) * 2.0**-53 for x in g.random_raw(count)]


def draw_cases(pipelines, warpers):
    """Expected tokens of seeded sampling: inverse CDF over ascending ids of the
    reference probabilities, at the generator's uniforms (step t uses output t).
    The seed is chosen so that no u falls within MARGIN of a CDF boundary."""
    cases = []
    sources = [(c["name"], c["params"], c["logits"], np.array(c["probs"])) for c in pipelines]
    for c in warpers:
        if c["name"] == "temperature_1.7":  # a dense row: no truncation
            scaled = np.array([v for v in c["expected"]], dtype=np.float64)
            sources.append((c["name"], c["params"], c["logits"], softmax64(scaled)))
    for name, params, logits, probs in sources:
        cdf = np.cumsum(probs)
        for seed in range(1000, 2000):
            us = philox_uniforms(seed, 0, 64)
            if all(np.min(np.abs(cdf - u)) > MARGIN for u in us):
                break
        else:
            raise RuntimeError(f"{name}: no seed with safe draws")
        tokens = [int(np.searchsorted(cdf, u, side="right")) for u in us]
        cases.append({"name": name, "params": params, "logits": logits, "seed": seed, "tokens": tokens})
    return cases


def chi2_critical(df, alpha=1e-3):
    """x with P(chi2_df > x) = alpha, by bisection on torch's regularized gamma."""
    lo, hi = 0.0, 1000.0
    for _ in range(200):
        mid = (lo + hi) / 2
        tail = 1.0 - torch.special.gammainc(torch.tensor(df / 2.0, dtype=torch.float64),
                                            torch.tensor(mid / 2.0, dtype=torch.float64)).item()
        lo, hi = (mid, hi) if tail > alpha else (lo, mid)
    return lo


def main():
    torch.set_num_threads(1)
    warpers = warper_cases()
    pipelines = pipeline_cases()
    data = {
        "generator": "scripts/make_sampling_goldens.py",
        "warpers": warpers,
        "pipelines": pipelines,
        "draws": draw_cases(pipelines, warpers),
        "penalties": penalty_cases(),
        "logprobs": logprob_cases(),
        "rng": rng_cases(),
        "chi2_critical_0.001": {str(df): chi2_critical(df) for df in range(1, 101)},
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
