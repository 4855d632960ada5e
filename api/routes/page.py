"""The web page: one HTML file with its script and style, and Leaflet, served by the API itself.

Nothing is fetched from elsewhere at run time (no CDN, no map service): Leaflet is installed
from npm at build time (`api/web/package.json`, `make install`, the image's build stage) and
the map's base layer is the district's own imagery (`/imagery/{z}/{x}/{y}.png`), so the page
works on a district's local network.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from api.deps import SettingsDep

WEB = Path(__file__).resolve().parent.parent / "web"
LEAFLET = WEB / "node_modules" / "leaflet" / "dist"
ASSETS = {
    "app.js": "text/javascript",
    "text.js": "text/javascript",
    "subscriptions.js": "text/javascript",
    "compare.js": "text/javascript",
    "flags.js": "text/javascript",
    "labels.js": "text/javascript",
    "map.js": "text/javascript",
    "alerts.js": "text/javascript",
    "upload.js": "text/javascript",
    "continuity.js": "text/javascript",
    "style.css": "text/css",
}
LEAFLET_ASSETS = {
    "leaflet.js": "text/javascript",
    "leaflet.css": "text/css",
    **{f"images/{name}.png": "image/png" for name in ("layers", "layers-2x", "marker-icon", "marker-icon-2x",
                                                       "marker-shadow")},
}  # fmt: skip

router = APIRouter(include_in_schema=False)


@cache
def _index() -> str:
    return (WEB / "index.html").read_text()


@router.get("/")
async def index(settings: SettingsDep) -> HTMLResponse:
    return HTMLResponse(_index().replace("{{imagery_zoom}}", str(settings.imagery_zoom)))


@router.get("/static/{name}")
async def asset(name: str) -> FileResponse:
    # A fixed list, so no path a client sends can reach any other file.
    if name not in ASSETS:
        raise HTTPException(404, "no such file")
    return FileResponse(WEB / name, media_type=ASSETS[name], headers={"Cache-Control": "max-age=300"})


@router.get("/static/leaflet/{name:path}")
async def leaflet(name: str) -> FileResponse:
    if name not in LEAFLET_ASSETS:
        raise HTTPException(404, "no such file")
    path = LEAFLET / name
    if not path.is_file():
        raise HTTPException(404, "Leaflet is not installed here: run `make install` (npm ci in api/web)")
    return FileResponse(path, media_type=LEAFLET_ASSETS[name], headers={"Cache-Control": "max-age=86400"})
