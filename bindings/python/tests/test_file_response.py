"""FileResponse goes out with sendfile; missing files answer 404."""

from __future__ import annotations

import os
from pathlib import Path

import requests

import c10k
from conftest import running, url


def test_files_are_served_and_missing_ones_answer_404(mode: str, tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    (tmp_path / "blob.bin").write_bytes(data)
    (tmp_path / "page.html").write_text("<p>hi</p>")

    def handler(request: c10k.Request) -> c10k.FileResponse:
        return c10k.FileResponse(tmp_path / request.path.lstrip("/"), headers={"X-File": "1"})

    with running(c10k.HttpServer(handler, port=0, mode=mode)) as server:
        response = requests.get(url(server, "/blob.bin"))
        assert response.status_code == 200 and response.content == data
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert response.headers["X-File"] == "1"
        page = requests.get(url(server, "/page.html"))
        assert page.headers["Content-Type"] == "text/html" and page.text == "<p>hi</p>"
        assert requests.get(url(server, "/missing")).status_code == 404
        assert requests.get(url(server, "/")).status_code == 404  # a directory
        head = requests.head(url(server, "/blob.bin"))
        assert head.headers["Content-Length"] == str(len(data)) and head.content == b""
