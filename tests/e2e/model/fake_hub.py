"""A small fake Hugging Face Hub for tests, on 127.0.0.1 only.

It answers the calls that `kiln download` and the `huggingface_hub` library
make, the way the real Hub answers them:

  GET  /api/models/<repo>/revision/<rev>   {"id", "sha", "siblings": [{"rfilename"}]}
  HEAD /<repo>/resolve/<rev>/<file>        regular files: 200 + ETag (git blob sha1)
                                           LFS files (*.safetensors, *.gguf): 302 to /cdn/...
                                           with X-Linked-Etag (sha256) and X-Linked-Size
  GET  /<repo>/resolve/<rev>/<file>        the same, with the body (Range supported)
  GET  /cdn/<sha256>                       LFS content, Range supported, no auth

Every response carries X-Repo-Commit. Gated repos answer 401 without the right
Bearer token; unknown repos, revisions and files answer 404; a renamed repo
answers 307 with a relative Location. Faults for tests: `drop_after[file] = n`
sends the full Content-Length but closes the connection after n bytes (once);
`corrupt[file] = True` serves different bytes than the announced sha256.
"""
import hashlib
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def is_lfs(name):
    return name.endswith(".safetensors") or name.endswith(".gguf")


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Repo:
    def __init__(self, files, commit=None, gated_token=None, tags=None):
        self.files = dict(files)  # path -> bytes
        self.commit = commit or hashlib.sha1(
            b"".join(k.encode() + v for k, v in sorted(self.files.items()))).hexdigest()
        self.gated_token = gated_token
        self.refs = {"main": self.commit}
        for t in tags or []:
            self.refs[t] = self.commit


class FakeHub:
    def __init__(self):
        self.repos = {}       # repo id -> Repo
        self.renamed = {}     # old repo id -> new repo id
        self.drop_after = {}  # file name -> bytes to send before dropping (first GET only)
        self.corrupt = {}     # file name -> True
        self.log = []         # (method, path, range header)
        self.lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                hub.handle(self, head=True)

            def do_GET(self):
                hub.handle(self, head=False)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def add_repo(self, repo_id, files, **kw):
        self.repos[repo_id] = Repo(files, **kw)
        return self.repos[repo_id]

    def requests(self, method=None, contains=""):
        with self.lock:
            return [r for r in self.log if (method is None or r[0] == method) and contains in r[1]]

    # --- request handling ---------------------------------------------------

    def reply(self, h, status, headers=None, body=b"", head=False, length=None):
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body) if length is None else length))
        h.end_headers()
        if not head and body:
            h.wfile.write(body)

    def error(self, h, status, message, head, commit=None):
        headers = {"Content-Type": "application/json", "X-Error-Message": message}
        if commit:
            headers["X-Repo-Commit"] = commit
        self.reply(h, status, headers, json.dumps({"error": message}).encode(), head)

    def authorized(self, h, repo):
        if repo.gated_token is None:
            return True
        return h.headers.get("Authorization") == "Bearer " + repo.gated_token

    def handle(self, h, head):
        path = urllib.parse.urlsplit(h.path).path
        with self.lock:
            self.log.append(("HEAD" if head else "GET", path, h.headers.get("Range")))
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        if parts[:1] == ["cdn"] and len(parts) == 2:
            return self.serve_cdn(h, parts[1], head)
        if parts[:2] == ["api", "models"]:
            return self.serve_api(h, parts[2:], head)
        if "resolve" in parts:
            i = parts.index("resolve")
            repo_id = "/".join(parts[:i])
            if repo_id in self.renamed:
                new = "/" + self.renamed[repo_id] + "/" + "/".join(path.strip("/").split("/")[i:])
                return self.reply(h, 307, {"Location": new}, b"", head)
            if len(parts) < i + 3:
                return self.error(h, 404, "bad resolve path", head)
            return self.serve_resolve(h, repo_id, parts[i + 1], "/".join(parts[i + 2:]), head)
        return self.error(h, 404, "not found", head)

    def serve_api(self, h, rest, head):
        if "revision" not in rest:
            return self.error(h, 404, "bad api path", head)
        i = rest.index("revision")
        repo_id, rev = "/".join(rest[:i]), "/".join(rest[i + 1:])
        if repo_id in self.renamed:
            return self.reply(h, 307, {"Location": "/api/models/%s/revision/%s" % (
                self.renamed[repo_id], urllib.parse.quote(rev, safe=""))}, b"", head)
        repo = self.repos.get(repo_id)
        if repo is None:
            return self.error(h, 404, "Repository not found", head)
        if not self.authorized(h, repo):
            return self.error(h, 401, "Access to model %s is restricted" % repo_id, head)
        commit = repo.refs.get(rev, rev if rev == repo.commit else None)
        if commit is None:
            return self.error(h, 404, "Revision not found", head)
        body = json.dumps({"id": repo_id, "modelId": repo_id, "sha": commit, "private": False,
                           "siblings": [{"rfilename": f} for f in sorted(repo.files)]}).encode()
        self.reply(h, 200, {"Content-Type": "application/json"}, body, head)

    def serve_resolve(self, h, repo_id, rev, name, head):
        repo = self.repos.get(repo_id)
        if repo is None:
            return self.error(h, 404, "Repository not found", head)
        if not self.authorized(h, repo):
            return self.error(h, 401, "Access to model %s is restricted" % repo_id, head)
        commit = repo.refs.get(rev, rev if rev == repo.commit else None)
        if commit is None:
            return self.error(h, 404, "Revision not found", head)
        if name not in repo.files:
            return self.error(h, 404, "Entry not found", head, commit)
        data = repo.files[name]
        if is_lfs(name):
            sha = hashlib.sha256(data).hexdigest()
            headers = {"X-Repo-Commit": commit, "X-Linked-Etag": '"%s"' % sha,
                       "X-Linked-Size": str(len(data)), "ETag": '"%s"' % git_blob_sha1(data),
                       "Location": "%s/cdn/%s?name=%s" % (self.url, sha, urllib.parse.quote(name))}
            return self.reply(h, 302, headers, b"", head)
        headers = {"X-Repo-Commit": commit, "ETag": '"%s"' % git_blob_sha1(data)}
        self.send_bytes(h, name, data, headers, head)

    def serve_cdn(self, h, sha, head):
        name = urllib.parse.parse_qs(urllib.parse.urlsplit(h.path).query).get("name", [""])[0]
        for repo in self.repos.values():
            for fname, data in repo.files.items():
                if hashlib.sha256(data).hexdigest() == sha:
                    if self.corrupt.get(fname):
                        data = bytes(b ^ 0xFF for b in data)
                    return self.send_bytes(h, name or fname, data, {}, head)
        return self.error(h, 404, "no such blob", head)

    def send_bytes(self, h, name, data, headers, head):
        start = 0
        rng = h.headers.get("Range")
        status = 200
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                return self.reply(h, 416, {"Content-Range": "bytes */%d" % len(data)}, b"", head)
            status = 206
            headers = dict(headers, **{"Content-Range": "bytes %d-%d/%d" % (start, len(data) - 1, len(data))})
        body = data[start:]
        drop = None if head else self.drop_after.pop(name, None)
        if drop is None:
            return self.reply(h, status, headers, body, head)
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[:drop])
        h.wfile.flush()
        h.close_connection = True
        h.connection.shutdown(2)


if __name__ == "__main__":  # manual use: serve tests/data/models/hf-tiny-llama as kiln-test/tiny-llama
    import pathlib
    import sys
    import time
    root = pathlib.Path(__file__).resolve().parents[3] / "tests/data/models"
    with FakeHub() as hub:
        for d in sorted(root.glob("hf-tiny-*")):
            hub.add_repo("kiln-test/" + d.name[3:],
                         {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()})
        print(hub.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            sys.exit(0)
