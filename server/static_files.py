"""Static files (web/static, htmx, the npm packages), each compressed once per process.

Litestar's compression middleware compresses a response as it is sent, at brotli quality 5:
fast enough for pages. A static file does not change while the process runs, so it is
compressed once, densely (brotli quality 11, 7 % smaller than 5 on htmx; 90 ms for htmx on
its first request after a start) and kept in memory; gzip (level 9) for browsers without
brotli. Quality 11 takes 13 s on the QR decoder's 950 KB of wasm: files over
DENSEST_UP_TO_BYTES get quality 9 (0.25 s, 363 KB against 370 KB at 5).

`/static/<file>?v=<hash>` (templates' `asset()`) is kept a year by the browser; without the
hash (ES module imports) a file is revalidated: its ETag answers 304 when unchanged.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import mimetypes
from pathlib import Path

import brotli
from litestar import Request, Response, route
from litestar.exceptions import NotFoundException

BROTLI_QUALITY = 11  # the densest; paid once per file and process
BIG_FILE_QUALITY = 9
DENSEST_UP_TO_BYTES = 200_000
GZIP_LEVEL = 9
COMPRESSED_TYPES = ("text/", "application/javascript", "application/json", "application/wasm")
MEDIA_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm"}


def find(file_path: str, folders: list[Path], packages: dict[str, Path]) -> Path | None:
    """The file for `/static<file_path>`: `/npm/<package>/…` in that package's folder, else
    the first of `folders` that has it; never anything outside them."""
    name = file_path.lstrip("/")
    if name.startswith("npm/"):
        package, _, name = name.removeprefix("npm/").partition("/")
        folders = [packages[package]] if package in packages else []
    for folder in folders:
        root = folder.resolve()
        path = (root / name).resolve()
        if path.is_relative_to(root) and path.is_file():
            return path
    return None


@functools.cache
def _file(path: Path, encoding: str) -> tuple[bytes, str]:
    """The file's bytes in this encoding ("br", "gzip" or ""), and its ETag."""
    raw = path.read_bytes()
    etag = f'"{hashlib.sha256(raw).hexdigest()[:16]}{"-" + encoding if encoding else ""}"'
    return encode(raw, encoding), etag


def encode(raw: bytes, encoding: str) -> bytes:
    if encoding == "br":
        quality = BROTLI_QUALITY if len(raw) <= DENSEST_UP_TO_BYTES else BIG_FILE_QUALITY
        return brotli.compress(raw, quality=quality)
    if encoding == "gzip":
        return gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0)
    return raw


def media_type(path: Path) -> str:
    kind = MEDIA_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
    return kind or "application/octet-stream"


def accepted_encoding(request: Request, kind: str) -> str:
    if not kind.startswith(COMPRESSED_TYPES):
        return ""  # PNGs are compressed already
    accepted = {part.split(";")[0].strip() for part in request.headers.get("accept-encoding", "").split(",")}
    return "br" if "br" in accepted else "gzip" if "gzip" in accepted else ""


def handler(folders: list[Path], packages: dict[str, Path]):
    """`GET /static/{file_path}` serving `folders` and the npm `packages`."""

    @route(
        "/static/{file_path:path}",
        http_method=["GET", "HEAD"],
        name="static",
        sync_to_thread=True,
        include_in_schema=False,
    )
    def static_file(request: Request, file_path: str) -> Response:
        path = find(file_path, folders, packages)
        if path is None:
            raise NotFoundException("找不到这个文件。")
        kind = media_type(path)
        encoding = accepted_encoding(request, kind)
        body, etag = _file(path, encoding)
        headers = {"ETag": etag, "Vary": "Accept-Encoding"}
        if encoding:
            headers["Content-Encoding"] = encoding
        if etag in request.headers.get("if-none-match", ""):
            return Response(b"", status_code=304, headers=headers)
        return Response(body, media_type=kind, headers=headers)

    return static_file
