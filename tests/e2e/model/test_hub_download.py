"""`kiln download` / `kiln inspect` against a fake Hub on 127.0.0.1 (fake_hub.py),
and cache interoperability with the real `huggingface_hub` library: a model
fetched by either tool is found by the other with HF_HUB_OFFLINE=1.
"""
import hashlib
import json
import os
import pathlib
import pty
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from fake_hub import FakeHub  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[3]
MODELS = ROOT / "tests" / "data" / "models"
GGUF_DIR = MODELS / "gguf"


@pytest.fixture(scope="session")
def kiln_bin():
    path = os.environ.get("KILN_BIN") or str(ROOT / "build" / "kiln")
    if not os.path.exists(path):
        pytest.skip("kiln binary not built (set KILN_BIN)")
    return path


def dir_files(d):
    return {p.name: p.read_bytes() for p in pathlib.Path(d).iterdir() if p.is_file()}


@pytest.fixture
def hub():
    with FakeHub() as h:
        files = dir_files(MODELS / "hf-tiny-qwen2")
        files["README.md"] = b"# tiny qwen2\n"
        files["pytorch_model.bin"] = b"not needed" * 100
        h.add_repo("kiln-test/tiny-qwen2", files, tags=["v1"])
        h.add_repo("kiln-test/tiny-llama", dir_files(MODELS / "hf-tiny-llama"))
        h.add_repo("kiln-test/gated", dir_files(MODELS / "hf-tiny-llama"), gated_token="hf_secret")
        h.add_repo("kiln-test/two-ggufs", {
            "tiny-llama-q4_K.gguf": (GGUF_DIR / "tiny-llama-q4_K.gguf").read_bytes(),
            "tiny-llama-q8_0.gguf": (GGUF_DIR / "tiny-llama-q8_0.gguf").read_bytes(),
            "README.md": b"two quantizations\n"})
        h.add_repo("new-org/tiny-llama", dir_files(MODELS / "hf-tiny-llama"))
        h.renamed["old-org/tiny-llama"] = "new-org/tiny-llama"
        yield h


def run_kiln(kiln_bin, args, hub, cache, extra_env=None, check=True):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HF_", "HUGGING"))}
    env.update({"HF_ENDPOINT": hub.url if hub else "http://127.0.0.1:9", "HF_HUB_CACHE": str(cache),
                "HF_HOME": str(cache.parent / "hf_home")})
    env.update(extra_env or {})
    r = subprocess.run([kiln_bin, *args], capture_output=True, text=True, env=env, timeout=120)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def repo_dir(cache, repo_id):
    return cache / ("models--" + repo_id.replace("/", "--"))


def test_sharded_safetensors_land_in_hub_cache_layout(kiln_bin, hub, tmp_path):
    cache = tmp_path / "hub"
    r = run_kiln(kiln_bin, ["download", "kiln-test/tiny-qwen2"], hub, cache)
    repo = hub.repos["kiln-test/tiny-qwen2"]
    snap = repo_dir(cache, "kiln-test/tiny-qwen2") / "snapshots" / repo.commit
    assert r.stdout.strip() == str(snap)
    assert (repo_dir(cache, "kiln-test/tiny-qwen2") / "refs" / "main").read_text() == repo.commit
    fetched = sorted(p.name for p in snap.iterdir())
    expected = sorted(n for n in repo.files if n not in ("README.md", "pytorch_model.bin"))
    assert fetched == expected  # only what the model needs
    for name in fetched:
        link = snap / name
        assert link.is_symlink()
        target = os.readlink(link)
        assert target.startswith("../../blobs/")
        data = repo.files[name]
        etag = hashlib.sha256(data).hexdigest() if name.endswith(".safetensors") else \
            hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        assert target == "../../blobs/" + etag
        assert link.read_bytes() == data
    # Plain log lines (stderr is not a terminal).
    assert "kiln: downloading model-00001-of-00003.safetensors" in r.stderr
    assert "kiln: downloaded model-00001-of-00003.safetensors" in r.stderr
    # The snapshot loads, also by repo id from the cache alone.
    info = json.loads(run_kiln(kiln_bin, ["inspect", "--json", "kiln-test/tiny-qwen2"], None, cache,
                               {"HF_HUB_OFFLINE": "1"}).stdout)
    assert info["architecture"] == "qwen2"
    assert info["parameters"] == 139840  # total_parameters of the index
    assert info["chat_templates"] == ["default", "tool_use"]


def test_second_download_reuses_blobs(kiln_bin, hub, tmp_path):
    cache = tmp_path / "hub"
    run_kiln(kiln_bin, ["download", "kiln-test/tiny-llama"], hub, cache)
    before = len(hub.requests("GET", "/cdn/"))
    run_kiln(kiln_bin, ["download", "kiln-test/tiny-llama"], hub, cache)
    assert len(hub.requests("GET", "/cdn/")) == before


def huggingface_hub_env(hub, cache, offline):
    os.environ.pop("HF_TOKEN", None)
    env = {"HF_ENDPOINT": hub.url, "HF_HUB_CACHE": str(cache),
           "HF_HUB_OFFLINE": "1" if offline else "0", "HF_HUB_DISABLE_TELEMETRY": "1"}
    return env


def run_py(code, env):
    full = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    full.update(env)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_kiln_download_is_found_by_huggingface_hub(kiln_bin, hub, tmp_path):
    cache = tmp_path / "hub"
    path = run_kiln(kiln_bin, ["download", "kiln-test/tiny-qwen2"], hub, cache).stdout.strip()
    out = run_py(
        "import huggingface_hub as h\n"
        "print(h.hf_hub_download('kiln-test/tiny-qwen2', 'config.json'))\n"
        "print(h.snapshot_download('kiln-test/tiny-qwen2', allow_patterns=['*.json', '*.safetensors']))\n",
        huggingface_hub_env(hub, cache, offline=True))
    config_path, snapshot = out.splitlines()
    assert snapshot == path
    assert config_path == str(pathlib.Path(path) / "config.json")


def test_huggingface_hub_download_is_found_by_kiln(kiln_bin, hub, tmp_path):
    cache = tmp_path / "hub"
    snapshot = run_py(
        "import huggingface_hub as h\n"
        "print(h.snapshot_download('kiln-test/tiny-llama'))\n",
        huggingface_hub_env(hub, cache, offline=False))
    # Offline: straight from the cache.
    r = run_kiln(kiln_bin, ["download", "kiln-test/tiny-llama"], hub, cache, {"HF_HUB_OFFLINE": "1"})
    assert r.stdout.strip() == snapshot
    # Online: checks metadata but fetches no blob again.
    before = len(hub.requests("GET", "/cdn/"))
    r = run_kiln(kiln_bin, ["download", "kiln-test/tiny-llama"], hub, cache)
    assert r.stdout.strip() == snapshot
    assert len(hub.requests("GET", "/cdn/")) == before


def test_gguf_repo_needs_a_choice_then_fetches_one_file(kiln_bin, hub, tmp_path):
    cache = tmp_path / "hub"
    r = run_kiln(kiln_bin, ["download", "kiln-test/two-ggufs"], hub, cache, check=False)
    assert r.returncode == 1
    assert "has 2 .gguf files (tiny-llama-q4_K.gguf, tiny-llama-q8_0.gguf); choose one with --gguf-file" \
        in r.stderr
    r = run_kiln(kiln_bin, ["download", "kiln-test/two-ggufs", "--gguf-file", "tiny-llama-q8_0.gguf"],
                 hub, cache)
    path = pathlib.Path(r.stdout.strip())
    assert path.name == "tiny-llama-q8_0.gguf"
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny-llama-q8_0.gguf"]
    info = json.loads(run_kiln(kiln_bin, ["inspect", "--json", str(path)], None, cache).stdout)
    assert info["format"] == "gguf"
    assert [t["type"] for t in info["tensor_types"]] == ["Q8_0", "F32"]


def test_gated_model_needs_a_token(kiln_bin, hub, tmp_path):
    cache = tmp_path / "hub"
    r = run_kiln(kiln_bin, ["download", "kiln-test/gated"], hub, cache, check=False)
    assert r.returncode == 1
    assert "kiln download: Hub model 'kiln-test/gated' is gated or private (401" in r.stderr
    assert "set HF_TOKEN" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = run_kiln(kiln_bin, ["download", "kiln-test/gated"], hub, cache, {"HF_TOKEN": "wrong"},
                 check=False)
    assert "has no access" in r.stderr
    for var in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        run_kiln(kiln_bin, ["download", "kiln-test/gated"], hub, tmp_path / var, {var: "hf_secret"})
    # The token file huggingface_hub's login writes ($HF_HOME/token).
    home = tmp_path / "home"
    home.mkdir()
    (home / "token").write_text("hf_secret\n")
    run_kiln(kiln_bin, ["download", "kiln-test/gated"], hub, tmp_path / "c3", {"HF_HOME": str(home)})


def test_not_found(kiln_bin, hub, tmp_path):
    r = run_kiln(kiln_bin, ["download", "kiln-test/nope"], hub, tmp_path / "hub", check=False)
    assert r.returncode == 1
    assert "Hub model 'kiln-test/nope' or revision 'main' not found (404" in r.stderr
    r = run_kiln(kiln_bin, ["download", "kiln-test/tiny-llama", "--revision", "v9"], hub,
                 tmp_path / "hub", check=False)
    assert "revision 'v9' not found" in r.stderr
    r = run_kiln(kiln_bin, ["download", "../etc/passwd"], hub, tmp_path / "hub", check=False)
    assert "is not a Hub model id" in r.stderr


def test_revision_tag_writes_its_ref(kiln_bin, hub, tmp_path):
    cache = tmp_path / "hub"
    run_kiln(kiln_bin, ["download", "kiln-test/tiny-qwen2", "--revision", "v1"], hub, cache)
    commit = hub.repos["kiln-test/tiny-qwen2"].commit
    assert (repo_dir(cache, "kiln-test/tiny-qwen2") / "refs" / "v1").read_text() == commit
    r = run_kiln(kiln_bin, ["download", "kiln-test/tiny-qwen2", "--revision", commit], None, cache,
                 {"HF_HUB_OFFLINE": "1"})
    assert r.stdout.strip().endswith(commit)


def test_connection_dropped_mid_file_resumes(kiln_bin, hub, tmp_path):
    cache = tmp_path / "hub"
    hub.drop_after["model.safetensors"] = 100_000
    r = run_kiln(kiln_bin, ["download", "kiln-test/tiny-llama"], hub, cache)
    assert "connection dropped at 100000 of" in r.stderr
    ranges = [rng for (_, p, rng) in hub.requests("GET", "/cdn/") if rng]
    assert ranges == ["bytes=100000-"]
    snap = pathlib.Path(r.stdout.strip())
    assert (snap / "model.safetensors").read_bytes() == \
        hub.repos["kiln-test/tiny-llama"].files["model.safetensors"]
    assert not list((repo_dir(cache, "kiln-test/tiny-llama") / "blobs").glob("*.incomplete"))


def test_partial_blob_left_by_an_earlier_run_is_resumed(kiln_bin, hub, tmp_path):
    cache = tmp_path / "hub"
    data = hub.repos["kiln-test/tiny-llama"].files["model.safetensors"]
    blobs = repo_dir(cache, "kiln-test/tiny-llama") / "blobs"
    blobs.mkdir(parents=True)
    (blobs / (hashlib.sha256(data).hexdigest() + ".incomplete")).write_bytes(data[:4096])
    run_kiln(kiln_bin, ["download", "kiln-test/tiny-llama"], hub, cache)
    assert [rng for (_, p, rng) in hub.requests("GET", "/cdn/") if rng] == ["bytes=4096-"]


def test_hash_mismatch_is_refused(kiln_bin, hub, tmp_path):
    cache = tmp_path / "hub"
    hub.corrupt["model.safetensors"] = True
    r = run_kiln(kiln_bin, ["download", "kiln-test/tiny-llama"], hub, cache, check=False)
    assert r.returncode == 1
    assert "model.safetensors: SHA-256 mismatch" in r.stderr
    blobs = repo_dir(cache, "kiln-test/tiny-llama") / "blobs"
    assert not [p for p in blobs.iterdir() if p.stat().st_size > 100_000]


def test_offline_without_cache_fails_clearly(kiln_bin, tmp_path):
    r = run_kiln(kiln_bin, ["download", "kiln-test/tiny-llama"], None, tmp_path / "hub",
                 {"HF_HUB_OFFLINE": "1"}, check=False)
    assert r.returncode == 1
    assert "HF_HUB_OFFLINE=1 and 'kiln-test/tiny-llama' (revision 'main') is not in the cache" in r.stderr


def test_renamed_repo_relative_redirect(kiln_bin, hub, tmp_path):
    r = run_kiln(kiln_bin, ["download", "old-org/tiny-llama"], hub, tmp_path / "hub")
    assert pathlib.Path(r.stdout.strip(), "model.safetensors").exists()


def test_progress_bar_on_a_terminal(kiln_bin, hub, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update({"HF_ENDPOINT": hub.url, "HF_HUB_CACHE": str(tmp_path / "hub")})
    master, slave = pty.openpty()
    p = subprocess.Popen([kiln_bin, "download", "kiln-test/tiny-llama"], stdout=subprocess.PIPE,
                         stderr=slave, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    p.wait(timeout=60)
    os.close(master)
    assert p.returncode == 0
    text = out.decode(errors="replace")
    assert "\r" in text and "100%" in text and "[##############################]" in text
    assert "kiln: downloading" not in text
