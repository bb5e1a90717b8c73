"""The try-it page (`/ui/`) and the Neo4j Browser style and guide, served as package files.

Plain HTML/CSS/JS shipped in `api/static`: no build step, no CDN, works offline. The GraSS style
and the guide are also readable from Neo4j Browser (`:style URL`, `:play URL`), which fetches
them cross-origin, hence the CORS header on those two.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from kgrec.graph.errors import NotFoundError

router = APIRouter(tags=["page"], include_in_schema=False)

MEDIA_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "kgrec.grass": "text/plain; charset=utf-8",
    "guide.html": "text/html; charset=utf-8",
}
FOR_NEO4J_BROWSER = {"kgrec.grass", "guide.html"}


def static_text(name: str) -> str:
    """One shipped file's text; only the names above can be asked for."""
    if name not in MEDIA_TYPES:
        raise NotFoundError(f"no page file {name!r}")
    return resources.files("kgrec.api").joinpath("static", name).read_text(encoding="utf-8")


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui/")
def page() -> Response:
    return static_file("index.html")


@router.get("/ui/{name}")
def static_file(name: str) -> Response:
    headers = {"Cache-Control": "no-cache"}
    if name in FOR_NEO4J_BROWSER:
        headers["Access-Control-Allow-Origin"] = "*"
    return Response(static_text(name), media_type=MEDIA_TYPES.get(name), headers=headers)
