"""Downloads: resumable HTTP with progress bars and checksums, and the Cityscapes login (docs/design.md#cityscapes).

A download is written to ``<name>.part`` and renamed to ``<name>`` only after its size and MD5 are
verified, so a file with the final name is always complete. An interrupted download keeps its ``.part``
and resumes with an HTTP ``Range`` request on the next run; a ``.part`` whose checksum is wrong is
removed. Cityscapes needs a login: the endpoints are those of cityscapesscripts' ``csDownload`` (login
form, package list, MD5 sum, file handling); unlike ``csDownload`` we also read the credentials from
``CITYSCAPES_USERNAME`` / ``CITYSCAPES_PASSWORD``. Credentials are never printed, logged or written,
never sent over plain http unless the caller allows it (a local test server), and a credentials file that
other users can read is reported.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests
from tqdm import tqdm

from crosscbam.data.errors import DataError, MissingCredentials

CITYSCAPES_URL = "https://www.cityscapes-dataset.com"
USERNAME_VAR, PASSWORD_VAR = "CITYSCAPES_USERNAME", "CITYSCAPES_PASSWORD"
_TIMEOUT = 60
_CHUNK = 1 << 20
_SELF_SERVE = "or download the archives yourself and pass them with `crosscbam data prepare DATASET --archive PATH ...`"


def md5sum(path: Path, desc: str | None = None) -> str:
    """The MD5 hex digest of ``path``, with a progress bar for large files."""
    digest = hashlib.md5()
    size = path.stat().st_size
    with open(path, "rb") as f, tqdm(
        total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=desc or f"md5 {path.name}", disable=size < (64 << 20)
    ) as bar:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def check_md5(path: Path, expected: str | None, what: str = "") -> str:
    """Verify ``path``'s MD5 against ``expected`` (skipped when ``None``); returns the digest."""
    actual = md5sum(path)
    if expected is not None and actual.lower() != expected.lower():
        raise DataError(
            f"checksum mismatch for {what or path}: MD5 {actual}, expected {expected}; the file is corrupt or "
            "not the official one: delete it and download it again"
        )
    return actual


def sha256sum(path: Path) -> str:
    """The SHA-256 hex digest of ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(path: Path, expected: str | None, what: str = "") -> str | None:
    """Verify ``path``'s SHA-256 against ``expected`` (skipped when ``None``); returns the digest."""
    if expected is None:
        return None
    actual = sha256sum(path)
    if actual != expected.lower():
        raise DataError(
            f"checksum mismatch for {what or path}: SHA-256 {actual}, expected {expected}; the file is corrupt or "
            "not the official one: delete it and download it again"
        )
    return actual


def http_download(
    url: str,
    dest: Path,
    *,
    md5: str | None = None,
    sha256: str | None = None,
    size: int | None = None,
    session: requests.Session | None = None,
    allow_redirects: bool = True,
    desc: str | None = None,
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``dest``, resuming ``dest.part``; verify ``size``, ``md5`` and ``sha256`` before
    renaming. ``progress=False`` hides the byte bar (a caller counting many small files shows its own).

    An existing ``dest`` is verified and kept (no network). Raises:
        DataError: network failure or interruption (the ``.part`` is kept: run again to resume), a size or
            MD5 mismatch (the ``.part`` is removed), or an HTTP error.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        if size is not None and dest.stat().st_size != size:
            raise DataError(
                f"{dest} exists but has {dest.stat().st_size} bytes, expected {size}; delete it and run again"
            )
        check_md5(dest, md5, str(dest))
        check_sha256(dest, sha256, str(dest))
        return dest
    session = session or requests.Session()
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.exists() else 0
    if size is not None and offset > size:
        part.unlink()
        offset = 0
    if not (size is not None and offset == size):
        offset = _fetch(session, url, part, offset, size, allow_redirects, desc or dest.name, progress)
    got = part.stat().st_size
    if size is not None and got < size:
        raise DataError(
            f"download of {dest.name} stopped at {got} of {size} bytes; run the same command again to resume "
            f"(partial data kept in {part})"
        )
    if size is not None and got > size:
        part.unlink()
        raise DataError(f"download of {dest.name} has {got} bytes, more than the expected {size}; removed it, run again")
    try:
        check_md5(part, md5, f"downloaded {dest.name}")
        check_sha256(part, sha256, f"downloaded {dest.name}")
    except DataError:
        part.unlink()
        raise
    part.replace(dest)
    return dest


def _fetch(session: requests.Session, url: str, part: Path, offset: int, size: int | None, redirects: bool, desc: str,
           progress: bool = True) -> int:
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        response = session.get(url, stream=True, headers=headers, allow_redirects=redirects, timeout=_TIMEOUT)
    except requests.RequestException as error:
        raise DataError(f"cannot reach {url} ({type(error).__name__}); check the network, {_SELF_SERVE}") from None
    with response:
        if response.status_code == 416 and offset:  # the .part already holds everything
            return offset
        if response.status_code not in (200, 206):
            raise DataError(f"download of {url} failed with HTTP {response.status_code}; {_SELF_SERVE}")
        if response.status_code == 200:
            offset = 0  # the server ignored the range: start over
        elif not response.headers.get("Content-Range", "").startswith(f"bytes {offset}-"):
            raise DataError(f"server answered a resume of {url} with the wrong range; delete {part} and run again")
        length = response.headers.get("Content-Length")
        total = size if size is not None else (offset + int(length) if length and length.isdigit() else None)
        with open(part, "ab" if offset else "wb") as f, tqdm(
            total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024, desc=f"download {desc}",
            disable=not progress,
        ) as bar:
            try:
                for chunk in response.iter_content(chunk_size=1 << 16):  # an interruption loses < 64 KiB
                    f.write(chunk)
                    bar.update(len(chunk))
            except (requests.RequestException, OSError) as error:
                f.flush()
                raise DataError(
                    f"download of {part.name[:-5]} interrupted at {f.tell()} bytes ({type(error).__name__}); "
                    f"run the same command again to resume (partial data kept in {part})"
                ) from None
        return part.stat().st_size


# --- Cityscapes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """A Cityscapes login. ``repr`` and ``str`` never show the password (nor the user name)."""

    username: str = field(repr=False)
    password: str = field(repr=False)
    source: str = ""


def credentials_file() -> Path:
    """Where cityscapesscripts' ``csDownload`` stores credentials (``appdirs`` user data dir)."""
    import appdirs

    return Path(appdirs.user_data_dir("cityscapesscripts", "cityscapes")) / "credentials.json"


def cityscapes_credentials(environ: Mapping[str, str] | None = None, instead: str = _SELF_SERVE) -> Credentials:
    """The login from ``CITYSCAPES_USERNAME``/``CITYSCAPES_PASSWORD``, else from cityscapesscripts'
    credentials.json; a clear error (that says how to provide them) when neither is there."""
    env = os.environ if environ is None else environ
    user, password = env.get(USERNAME_VAR, ""), env.get(PASSWORD_VAR, "")
    if user and password:
        return Credentials(user, password, f"${USERNAME_VAR}/${PASSWORD_VAR}")
    if user or password:
        missing = PASSWORD_VAR if user else USERNAME_VAR
        raise MissingCredentials(f"Cityscapes login: {missing} is not set (set both {USERNAME_VAR} and {PASSWORD_VAR})")
    path = credentials_file()
    if path.is_file():
        mode = path.stat().st_mode & 0o777
        if os.name == "posix" and mode & 0o077:
            print(f"warning: {path} holds your Cityscapes password and can be read by other users (mode {mode:o}); "
                  f"restrict it with `chmod 600 {path}`", file=sys.stderr)
        try:
            stored = json.loads(path.read_text())
            return Credentials(str(stored["username"]), str(stored["password"]), str(path))
        except (OSError, ValueError, KeyError, TypeError):
            raise MissingCredentials(
                f"Cityscapes login: {path} is not a valid credentials file (JSON with username and password); "
                f"fix or delete it, or set {USERNAME_VAR} and {PASSWORD_VAR}"
            ) from None
    raise MissingCredentials(
        f"Cityscapes needs a login: set {USERNAME_VAR} and {PASSWORD_VAR} (an account from "
        f"{CITYSCAPES_URL}/register/), or store them with cityscapesscripts' csDownload in {path}, {instead}"
    )


def check_login_url(base_url: str, allow_http: bool = False) -> None:
    """Refuse a server the login would reach unencrypted (plain http), unless ``allow_http``."""
    scheme = urllib.parse.urlsplit(base_url).scheme.lower()
    if scheme == "https" or (scheme == "http" and allow_http):
        return
    if scheme == "http":
        raise DataError(
            f"refusing to send the Cityscapes login to {base_url} over plain http (anyone on the way could read it); "
            "use an https:// --base-url, or add --allow-http for a local test server"
        )
    raise DataError(f"--base-url {base_url!r} is not an https:// URL; pass the server's https address")


class CityscapesClient:
    """A logged-in session on the Cityscapes server (endpoints of cityscapesscripts' ``csDownload``).

    ``allow_http``: accept a plain-http ``base_url`` (local test servers); otherwise only https.
    """

    def __init__(
        self,
        credentials: Credentials,
        base_url: str = CITYSCAPES_URL,
        session: requests.Session | None = None,
        allow_http: bool = False,
    ):
        check_login_url(base_url, allow_http)
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self._login(credentials)

    def _get(self, path: str, **kwargs) -> requests.Response:
        url = self.base_url + path
        try:
            response = self.session.get(url, allow_redirects=False, timeout=_TIMEOUT, **kwargs)
        except requests.RequestException as error:
            raise DataError(f"cannot reach {url} ({type(error).__name__}); check the network, {_SELF_SERVE}") from None
        if response.status_code != 200:
            raise DataError(f"Cityscapes server answered HTTP {response.status_code} for {url}; try again later, {_SELF_SERVE}")
        return response

    def _login(self, credentials: Credentials) -> None:
        self._get("/login")
        url = self.base_url + "/login"
        form = {"username": credentials.username, "password": credentials.password, "submit": "Login"}
        try:
            response = self.session.post(url, data=form, allow_redirects=False, timeout=_TIMEOUT)
        except requests.RequestException as error:
            raise DataError(f"cannot reach {url} ({type(error).__name__}); check the network, {_SELF_SERVE}") from None
        if response.status_code != 302:  # the server redirects after a successful login
            raise DataError(
                f"Cityscapes login failed: the server rejected the credentials from {credentials.source} "
                f"(HTTP {response.status_code}); check them at {self.base_url}/login/"
            )

    def packages(self) -> dict[str, dict]:
        """The packages this account may download, by file name (``packageID``, ``size``, ...)."""
        try:
            listing = self._get("/downloads/?list").json()
            return {p["name"]: p for p in listing}
        except (ValueError, KeyError, TypeError):
            raise DataError(f"unexpected package list from {self.base_url}; {_SELF_SERVE}") from None

    def md5(self, package_id: int | str) -> str:
        """The server's MD5 of a package."""
        text = self._get(f"/md5-sum/?packageID={package_id}").text.split()
        if not text or len(text[0]) != 32:
            raise DataError(f"unexpected MD5 answer from {self.base_url} for package {package_id}; try again later")
        return text[0]

    def download(self, name: str, out: Path) -> Path:
        """Download package ``name`` into ``out`` (resumable, MD5-verified); an MD5 sidecar is written."""
        available = self.packages()
        if name not in available:
            raise DataError(f"Cityscapes package {name} is not available to this account; request access on {self.base_url}")
        package_id = available[name]["packageID"]
        md5 = self.md5(package_id)
        dest = http_download(
            f"{self.base_url}/file-handling/?packageID={package_id}", Path(out) / name,
            md5=md5, session=self.session, allow_redirects=False,
        )
        dest.with_name(dest.name + ".md5").write_text(f"{md5}  {name}\n")
        return dest


def download_cityscapes(
    out: Path,
    packages: list[str],
    base_url: str = CITYSCAPES_URL,
    environ: Mapping[str, str] | None = None,
    allow_http: bool = False,
) -> list[Path]:
    """Log in (credentials and an https ``base_url`` checked before any network use) and fetch ``packages``
    into ``out``; ``allow_http`` accepts a plain-http ``base_url`` (local test servers)."""
    out = Path(out)
    missing = [p for p in packages if not (out / p).exists()]
    if not missing:  # nothing to fetch: verify the sidecar MD5s, no login needed
        for p in packages:
            sidecar = out / (p + ".md5")
            check_md5(out / p, sidecar.read_text().split()[0] if sidecar.exists() else None, str(out / p))
        return [out / p for p in packages]
    check_login_url(base_url, allow_http)
    instead = f"or download {' and '.join(missing)} yourself from {CITYSCAPES_URL}/downloads/ into {out}"
    client = CityscapesClient(cityscapes_credentials(environ, instead), base_url, allow_http=allow_http)
    return [client.download(p, out) for p in packages]
