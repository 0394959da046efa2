// The OpenAI Node SDK against `kiln serve` (started by tests/e2e/test_node_sdk.py, which
// sets KILN_BASE_URL and KILN_MODEL_ID). Run with `node --test` from this folder.
import assert from "node:assert/strict";
import { test } from "node:test";

import OpenAI from "openai";

const base = process.env.KILN_BASE_URL;
const servedId = process.env.KILN_MODEL_ID;
const messages = [{ role: "user", content: "Once upon a time" }];

for (const baseURL of [`${base}/v1`, `${base}/v1/`]) {
  test(`chat completion, stream and usage (${baseURL})`, async () => {
    const client = new OpenAI({ baseURL, apiKey: "-" });
    const whole = await client.chat.completions.create({ model: "tgi", messages, max_tokens: 12, temperature: 0 });
    assert.equal(whole.object, "chat.completion");
    assert.equal(whole.model, servedId);
    assert.equal(whole.choices[0].finish_reason, "length");
    assert.equal(whole.usage.completion_tokens, 12);
    const text = whole.choices[0].message.content;
    assert.ok(text.length > 0);

    const stream = await client.chat.completions.create({
      model: "tgi", messages, max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true },
    });
    let streamed = "";
    let usage = null;
    for await (const chunk of stream) {
      if (chunk.choices.length) streamed += chunk.choices[0].delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(streamed, text);
    assert.deepEqual(usage, whole.usage);
  });
}

test("completions, n and logprobs", async () => {
  const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "-" });
  const c = await client.completions.create({ model: "tgi", prompt: "Once upon a time", max_tokens: 8, temperature: 0 });
  assert.equal(c.choices[0].text, ", there was a little girl");  // llama.cpp's greedy text
  assert.deepEqual(c.usage, { prompt_tokens: 5, completion_tokens: 8, total_tokens: 13 });
  const two = await client.chat.completions.create({
    model: "tgi", messages, max_tokens: 4, n: 2, seed: 5, logprobs: true, top_logprobs: 2,
  });
  assert.deepEqual(two.choices.map((ch) => ch.index), [0, 1]);
  for (const ch of two.choices) {
    assert.equal(ch.logprobs.content.length, 4);
    assert.ok(ch.logprobs.content.every((e) => e.top_logprobs.length === 2));
  }
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), [servedId]);
});

test("errors are the SDK's classes", async () => {
  const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "-", maxRetries: 0 });
  await assert.rejects(
    client.chat.completions.create({ model: "tgi", messages, temperature: -1 }),
    (err) => err instanceof OpenAI.UnprocessableEntityError && err.status === 422,
  );
  await assert.rejects(
    client.completions.create({ model: "tgi", prompt: "the dog ".repeat(100), max_tokens: 4 }),
    (err) => err instanceof OpenAI.UnprocessableEntityError && /must be <= 128/.test(err.message),
  );
});
