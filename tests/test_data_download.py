"""Downloads against a local HTTP server on 127.0.0.1: resume, checksums, the Cityscapes login."""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crosscbam.cli import main
from crosscbam.data import DataError, MissingCredentials
from crosscbam.data.download import cityscapes_credentials, download_cityscapes, http_download

USER, PASSWORD = "tester@example.org", "s3cret-Pa55word"
PAYLOAD = bytes(range(256)) * 2000  # 512,000 bytes
MD5 = hashlib.md5(PAYLOAD).hexdigest()


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.files: dict[str, bytes] = {"/camvid.tgz": PAYLOAD}
        self.packages: dict[int, tuple[str, bytes]] = {}
        self.cut_next = False  # send half of the next file body, then drop the connection
        self.ignore_range = False
        self.requests: list[tuple[str, str, dict, bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, *args):  # quiet
        pass

    def _send(self, code: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(code)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _file(self, data: bytes) -> None:
        start = 0
        spec = self.headers.get("Range")
        if spec and not self.server.ignore_range:
            start = int(spec.split("=")[1].split("-")[0])
            if start >= len(data):
                return self._send(416)
        body = data[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.server.cut_next:
            self.server.cut_next = False
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def _logged_in(self) -> bool:
        return "session=ok" in self.headers.get("Cookie", "")

    def do_GET(self):
        self.server.requests.append(("GET", self.path, dict(self.headers), b""))
        parsed = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(parsed.query)
        if parsed.path in self.server.files:
            return self._file(self.server.files[parsed.path])
        if parsed.path == "/login":
            return self._send(200, b"<form>login</form>")
        if not self._logged_in():
            return self._send(302, headers={"Location": "/login"})
        if parsed.path == "/downloads/":
            listing = [{"name": n, "packageID": str(i), "size": f"{len(d) / 1024:.0f}KB", "thirdparty": "0"} for i, (n, d) in self.server.packages.items()]
            return self._send(200, json.dumps(listing).encode())
        package = self.server.packages[int(query["packageID"][0])]
        if parsed.path == "/md5-sum/":
            return self._send(200, f"{hashlib.md5(package[1]).hexdigest()}  {package[0]}\n".encode())
        if parsed.path == "/file-handling/":
            return self._file(package[1])
        return self._send(404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append(("POST", self.path, dict(self.headers), body))
        form = urllib.parse.parse_qs(body.decode())
        if form.get("username") == [USER] and form.get("password") == [PASSWORD] and form.get("submit") == ["Login"]:
            return self._send(302, headers={"Location": "/", "Set-Cookie": "session=ok; Path=/"})
        return self._send(200, b"<form>wrong password</form>")


@pytest.fixture
def server():
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def no_credentials(tmp_path, monkeypatch):
    monkeypatch.delenv("CITYSCAPES_USERNAME", raising=False)
    monkeypatch.delenv("CITYSCAPES_PASSWORD", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def credentials(no_credentials, monkeypatch):
    monkeypatch.setenv("CITYSCAPES_USERNAME", USER)
    monkeypatch.setenv("CITYSCAPES_PASSWORD", PASSWORD)


def test_download_verifies_then_renames(server, tmp_path):
    dest = http_download(server.url + "/camvid.tgz", tmp_path / "camvid.tgz", md5=MD5, size=len(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD and not (tmp_path / "camvid.tgz.part").exists()
    n = len(server.requests)
    http_download(server.url + "/camvid.tgz", dest, md5=MD5, size=len(PAYLOAD))  # complete: no network
    assert len(server.requests) == n


def test_interrupted_download_keeps_part_and_resumes(server, tmp_path):
    dest, part = tmp_path / "camvid.tgz", tmp_path / "camvid.tgz.part"
    server.cut_next = True
    with pytest.raises(DataError, match="run the same command again to resume") as error:
        http_download(server.url + "/camvid.tgz", dest, md5=MD5, size=len(PAYLOAD))
    assert "\n" not in str(error.value)
    assert not dest.exists() and 0 < part.stat().st_size < len(PAYLOAD)
    got = part.stat().st_size
    http_download(server.url + "/camvid.tgz", dest, md5=MD5, size=len(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD and not part.exists()
    assert server.requests[-1][2].get("Range") == f"bytes={got}-"


def test_complete_part_is_verified_without_refetching_and_ignored_range_restarts(server, tmp_path):
    part = tmp_path / "a.tgz.part"
    part.write_bytes(PAYLOAD)
    http_download(server.url + "/camvid.tgz", tmp_path / "a.tgz", md5=MD5, size=len(PAYLOAD))
    assert (tmp_path / "a.tgz").read_bytes() == PAYLOAD
    server.ignore_range = True
    (tmp_path / "b.tgz.part").write_bytes(b"garbage")
    http_download(server.url + "/camvid.tgz", tmp_path / "b.tgz", md5=MD5)
    assert (tmp_path / "b.tgz").read_bytes() == PAYLOAD


def test_bad_checksum_leaves_no_file(server, tmp_path):
    with pytest.raises(DataError, match="checksum mismatch") as error:
        http_download(server.url + "/camvid.tgz", tmp_path / "camvid.tgz", md5="0" * 32, size=len(PAYLOAD))
    assert MD5 in str(error.value) and "0" * 32 in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_unreachable_server_and_http_errors(tmp_path):
    with pytest.raises(DataError, match="cannot reach http://127.0.0.1:9/x.tgz"):
        http_download("http://127.0.0.1:9/x.tgz", tmp_path / "x.tgz")


def test_missing_credentials_stop_before_any_request(server, tmp_path, no_credentials, capsys):
    with pytest.raises(MissingCredentials, match="CITYSCAPES_USERNAME and CITYSCAPES_PASSWORD"):
        download_cityscapes(tmp_path / "dl", ["gtFine_trainvaltest.zip"], base_url=server.url, allow_http=True)
    assert server.requests == []
    assert main(["data", "download", "cityscapes", "--out", str(tmp_path / "dl"), "--base-url", server.url, "--allow-http"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "needs a login" in err and f"yourself from https://www.cityscapes-dataset.com/downloads/ into {tmp_path / 'dl'}" in err


def test_half_set_credentials_and_credentials_file(tmp_path, no_credentials, monkeypatch):
    monkeypatch.setenv("CITYSCAPES_USERNAME", USER)
    with pytest.raises(MissingCredentials, match="CITYSCAPES_PASSWORD is not set"):
        cityscapes_credentials()
    monkeypatch.delenv("CITYSCAPES_USERNAME")
    stored = tmp_path / "xdg" / "cityscapesscripts" / "credentials.json"
    stored.parent.mkdir(parents=True)
    stored.write_text(json.dumps({"username": USER, "password": PASSWORD}))
    creds = cityscapes_credentials()
    assert (creds.username, creds.password) == (USER, PASSWORD)
    assert PASSWORD not in repr(creds) and USER not in repr(creds)
    stored.write_text("{not json")
    with pytest.raises(MissingCredentials, match="not a valid credentials file"):
        cityscapes_credentials()


def test_wrong_password_is_a_clear_error_without_the_password(server, tmp_path, credentials, monkeypatch):
    monkeypatch.setenv("CITYSCAPES_PASSWORD", "wrong-" + PASSWORD)
    with pytest.raises(DataError, match="login failed") as error:
        download_cityscapes(tmp_path, ["gtFine_trainvaltest.zip"], base_url=server.url, allow_http=True)
    assert PASSWORD not in str(error.value) and USER not in str(error.value)


def test_cityscapes_download_logs_in_and_verifies(server, tmp_path, credentials, capsys):
    server.packages = {1: ("gtFine_trainvaltest.zip", PAYLOAD[:1000]), 3: ("leftImg8bit_trainvaltest.zip", PAYLOAD)}
    server.cut_next = True
    out = tmp_path / "dl"
    args = ["data", "download", "cityscapes", "--out", str(out), "--base-url", server.url, "--allow-http"]
    assert main(args) == 2
    assert "resume" in capsys.readouterr().err
    assert main(args) == 0
    assert (out / "gtFine_trainvaltest.zip").read_bytes() == PAYLOAD[:1000]
    assert (out / "leftImg8bit_trainvaltest.zip").read_bytes() == PAYLOAD
    assert (out / "leftImg8bit_trainvaltest.zip.md5").read_text().split()[0] == MD5
    posts = [r for r in server.requests if r[0] == "POST"]
    assert posts and all(r[1] == "/login" for r in posts)
    captured = capsys.readouterr()
    for text in (captured.out, captured.err, *(p.read_bytes().decode("latin-1") for p in out.iterdir())):
        assert PASSWORD not in text and USER not in text


def test_unavailable_package(server, tmp_path, credentials):
    server.packages = {1: ("gtFine_trainvaltest.zip", b"x")}
    with pytest.raises(DataError, match="not available to this account"):
        download_cityscapes(tmp_path, ["leftImg8bit_trainvaltest.zip"], base_url=server.url, allow_http=True)


def test_camvid_cli_download(server, tmp_path, capsys):
    out = tmp_path / "dl"
    args = ["data", "download", "camvid", "--out", str(out), "--url", server.url + "/camvid.tgz"]
    assert main([*args, "--md5", MD5, "--size", str(len(PAYLOAD))]) == 0
    assert (out / "camvid.tgz").read_bytes() == PAYLOAD
    (out / "camvid.tgz").unlink()
    assert main(args) == 2  # the default MD5 and size are the real archive's
    assert "598913237" in capsys.readouterr().err or not (out / "camvid.tgz").exists()
    assert not (out / "camvid.tgz").exists()


def test_login_is_never_sent_over_plain_http(server, tmp_path, credentials, capsys):
    server.packages = {1: ("gtFine_trainvaltest.zip", b"x")}
    with pytest.raises(DataError) as error:
        download_cityscapes(tmp_path, ["gtFine_trainvaltest.zip"], base_url=server.url)
    message = str(error.value)
    assert "\n" not in message and f"refusing to send the Cityscapes login to {server.url} over plain http" in message
    assert "--allow-http" in message and "https://" in message
    assert main(["data", "download", "cityscapes", "--out", str(tmp_path), "--base-url", server.url]) == 2
    assert "over plain http" in capsys.readouterr().err
    with pytest.raises(DataError, match="not an https:// URL"):
        download_cityscapes(tmp_path, ["gtFine_trainvaltest.zip"], base_url="ftp://127.0.0.1/", allow_http=True)
    assert server.requests == []  # not even the login page
    download_cityscapes(tmp_path, ["gtFine_trainvaltest.zip"], base_url=server.url, allow_http=True)
    assert (tmp_path / "gtFine_trainvaltest.zip").read_bytes() == b"x"


def test_credentials_file_readable_by_others_is_reported(tmp_path, no_credentials, capsys):
    stored = tmp_path / "xdg" / "cityscapesscripts" / "credentials.json"
    stored.parent.mkdir(parents=True)
    stored.write_text(json.dumps({"username": USER, "password": PASSWORD}))
    stored.chmod(0o600)
    cityscapes_credentials()
    assert capsys.readouterr().err == ""
    stored.chmod(0o644)
    assert cityscapes_credentials().password == PASSWORD  # still used: a warning, not an error
    warning = capsys.readouterr().err.strip()
    assert "\n" not in warning and str(stored) in warning and "other users" in warning and f"chmod 600 {stored}" in warning
    assert PASSWORD not in warning and USER not in warning
