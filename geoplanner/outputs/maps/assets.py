"""The JavaScript and CSS the interactive maps need, pinned, cached and inlined on request.

Online maps reference these files on the jsDelivr CDN. For intranets and e-mail, a map can
be written *self-contained*: every ``<script src>`` and stylesheet ``<link>`` is replaced by
the file's content (CSS images become ``data:`` URIs), so the page needs no network at all.

The files are never committed to the repository. ``geoplanner assets fetch``
(:func:`geoplanner.pipeline.assets.fetch_assets`) downloads the npm tarballs named below (the same
files jsDelivr serves), checks each tarball's sha256, and extracts the few files used into the
assets folder (``<cache_dir>/assets``, :func:`geoplanner.pipeline.assets.assets_dir`). The
functions here read that folder, passed in.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from geoplanner.core.errors import DataError, DataMissingError

__all__ = [
    "Package",
    "PACKAGES",
    "MAP_JS",
    "MAP_CSS",
    "SYNC_JS",
    "NPM_REGISTRY",
    "cdn_url",
    "local_path",
    "asset_file",
    "missing_assets",
    "inline_assets",
    "localize_assets",
    "FETCH_COMMAND",
]

#: Where the tarballs are downloaded from (the public npm registry).
NPM_REGISTRY = "https://registry.npmjs.org"
#: The CDN the online maps reference; it serves npm packages at ``/npm/<name>@<version>/<path>``.
_CDN = "https://cdn.jsdelivr.net/npm"
#: The command a user runs to fill the cache; named in every error about a missing asset.
FETCH_COMMAND = "geoplanner assets fetch"


@dataclass(frozen=True)
class Package:
    """One pinned npm package and the files the maps use from it.

    Attributes
    ----------
    name, version
        The npm package and its exact version.
    sha256
        Hex sha256 of the registry tarball ``<name>-<version>.tgz``.
    files
        Paths inside the package (without the tarball's ``package/`` prefix).
    """

    name: str
    version: str
    sha256: str
    files: tuple[str, ...]

    @property
    def tarball_url(self) -> str:
        """Return the registry URL of the tarball."""
        return f"{NPM_REGISTRY}/{self.name}/-/{self.name}-{self.version}.tgz"


PACKAGES: tuple[Package, ...] = (
    Package(
        "leaflet",
        "1.9.3",
        "10d016716b56048661eaf9cde004dc82e80bd3613b52c4f53cf5aec73088006c",
        (
            "dist/leaflet.js",
            "dist/leaflet.css",
            "dist/images/layers.png",
            "dist/images/layers-2x.png",
            "dist/images/marker-icon.png",
            "dist/images/marker-icon-2x.png",
            "dist/images/marker-shadow.png",
        ),
    ),
    # Keeps the two halves of the side-by-side scenario view in step.
    Package(
        "leaflet.sync",
        "0.2.4",
        "24037269d8a36f07ae319dd61e8b569bc41a802132a21c4c655db74561f46066",
        ("L.Map.Sync.js",),
    ),
)
_BY_NAME = {p.name: p for p in PACKAGES}


def cdn_url(name: str, path: str) -> str:
    """Return the pinned CDN URL of ``path`` in package ``name``."""
    pkg = _BY_NAME[name]
    return f"{_CDN}/{pkg.name}@{pkg.version}/{path}"


#: (name, url) pairs in folium's ``default_js`` / ``default_css`` format. Only what the maps
#: use: folium's defaults also pull jQuery (for its own popups), Bootstrap, Font Awesome and
#: awesome-markers, which our maps do without (markers are inline SVG, popups are bound by
#: Leaflet itself), so none of them can block an offline page.
MAP_JS = [("leaflet", cdn_url("leaflet", "dist/leaflet.js"))]
MAP_CSS = [("leaflet_css", cdn_url("leaflet", "dist/leaflet.css"))]
SYNC_JS = [("Leaflet.Sync", cdn_url("leaflet.sync", "L.Map.Sync.js"))]

_URL_RE = re.compile(re.escape(_CDN) + r"/(?P<name>[^@/]+)@(?P<version>[^/]+)/(?P<path>[^\"'\s)]+)")


def local_path(pkg: Package, path: str, folder: Path) -> Path:
    """Return where file ``path`` of package ``pkg`` lies in the assets folder ``folder``."""
    return Path(folder) / f"{pkg.name}@{pkg.version}" / path


def asset_file(url: str, folder: Path) -> Path:
    """Return the file of the assets folder ``folder`` for a pinned CDN ``url``.

    Raises
    ------
    DataError
        If the URL is not one of the pinned assets.
    DataMissingError
        If the file has not been fetched yet (the message names the command to run).
    """
    m = _URL_RE.fullmatch(url)
    pkg = _BY_NAME.get(m["name"]) if m else None
    if m is None or pkg is None or pkg.version != m["version"] or m["path"] not in pkg.files:
        raise DataError(
            f"the map references {url}, which is not a pinned asset of geoplanner.outputs.maps.assets",
            hint="only the packages listed in geoplanner/assets.py can be inlined",
        )
    local = local_path(pkg, m["path"], folder)
    if not local.is_file():
        raise DataMissingError(
            f"offline asset {pkg.name}@{pkg.version}/{m['path']} is not in the cache",
            path=local,
            hint=f"run `{FETCH_COMMAND}` once with internet access",
        )
    return local


def missing_assets(folder: Path) -> list[str]:
    """Return ``name@version/path`` of every pinned file not yet in the assets folder ``folder``."""
    return [f"{p.name}@{p.version}/{f}" for p in PACKAGES for f in p.files if not local_path(p, f, folder).is_file()]


_SCRIPT_RE = re.compile(r"<script\s+src=\"(?P<url>https?://[^\"]+)\"\s*>\s*</script>")
_LINK_RE = re.compile(r"<link\s+rel=\"stylesheet\"\s+href=\"(?P<url>https?://[^\"]+)\"\s*/?>")
_CSS_URL_RE = re.compile(r"url\((?P<q>['\"]?)(?P<ref>[^)'\"#][^)'\"]*)(?P=q)\)")


def _css_with_data_uris(css: str, css_path: Path) -> str:
    """Replace relative ``url(...)`` references in a stylesheet by ``data:`` URIs."""

    def repl(m: re.Match[str]) -> str:
        ref = m["ref"]
        if ref.startswith(("data:", "http:", "https:")):
            return m.group(0)
        file = (css_path.parent / ref).resolve()
        if not file.is_file():
            raise DataMissingError(
                f"stylesheet {css_path.name} needs {ref}, which is not in the cache",
                path=file,
                hint=f"run `{FETCH_COMMAND}`",
            )
        mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return f"url(data:{mime};base64,{base64.b64encode(file.read_bytes()).decode('ascii')})"

    return _CSS_URL_RE.sub(repl, css)


def inline_assets(html: str, folder: Path) -> str:
    """Return ``html`` with every pinned CDN script and stylesheet inlined.

    Parameters
    ----------
    html
        A rendered map page.
    folder
        The assets folder (:func:`geoplanner.pipeline.assets.assets_dir`).

    Raises
    ------
    DataError
        If the page references an external script or stylesheet that is not pinned.
    DataMissingError
        If a pinned file has not been fetched (the message names ``geoplanner assets fetch``).
    """

    def script(m: re.Match[str]) -> str:
        code = asset_file(m["url"], folder).read_text(encoding="utf-8")
        # A literal "</script" inside the code would end the element early.
        return "<script>" + code.replace("</script", "<\\/script") + "\n</script>"

    def link(m: re.Match[str]) -> str:
        path = asset_file(m["url"], folder)
        css = _css_with_data_uris(path.read_text(encoding="utf-8"), path)
        return "<style>" + css.replace("</style", "<\\/style") + "\n</style>"

    return _LINK_RE.sub(link, _SCRIPT_RE.sub(script, html))


def localize_assets(html: str, folder: Path) -> str:
    """Return ``html`` with pinned CDN URLs pointing at the files of the assets folder (``file://`` URIs).

    For checking an online map without network (tests, a laptop on a train): the page is
    unchanged except where it fetches its scripts and stylesheets from.
    """

    def repl(m: re.Match[str]) -> str:
        return asset_file(m.group(0), folder).resolve().as_uri()

    return _URL_RE.sub(repl, html)
