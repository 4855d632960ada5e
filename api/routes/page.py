"""The web page: one HTML file with its script and style, served by the API itself.

Nothing is fetched from elsewhere at run time (no map tiles, no CDN): the map is drawn
from the API's own GeoJSON, so the page works on a district's local network.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

WEB = Path(__file__).resolve().parent.parent / "web"
ASSETS = {"app.js": "text/javascript", "style.css": "text/css"}

router = APIRouter(include_in_schema=False)


@router.get("/")
async def index() -> FileResponse:
    return FileResponse(WEB / "index.html", media_type="text/html")


@router.get("/static/{name}")
async def asset(name: str) -> FileResponse:
    # A fixed list, so no path a client sends can reach any other file.
    if name not in ASSETS:
        raise HTTPException(404, "no such file")
    return FileResponse(WEB / name, media_type=ASSETS[name], headers={"Cache-Control": "max-age=300"})
