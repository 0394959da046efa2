"""The OpenAI Node SDK (npm `openai`, installed by scripts/setup.sh into tests/e2e/node)
against `kiln serve` on stories260K: tests/e2e/node/openai.test.mjs run by Node's own
test runner (`node --test`)."""

import os
import shutil
import subprocess

import pytest

from conftest import REPO, STORIES

NODE_DIR = REPO / "tests" / "e2e" / "node"


def test_openai_node_sdk(stories_server):
    if shutil.which("node") is None:
        pytest.skip("node is not installed (scripts/setup.sh installs nodejs)")
    if not (NODE_DIR / "node_modules" / "openai").exists():
        pytest.skip("npm package openai is not installed (scripts/setup.sh installs tests/e2e/node)")
    env = dict(os.environ, KILN_BASE_URL=stories_server.base_url, KILN_MODEL_ID=str(STORIES))
    r = subprocess.run(["node", "--test", "--test-reporter=tap", "openai.test.mjs"], cwd=NODE_DIR, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "# fail 0" in r.stdout and "# pass 4" in r.stdout, r.stdout[-2000:]
