"""Every file a static asset names (a source map, a font, an image) ships with it, so that collectstatic's
manifest storage can hash the references in production."""

import re
from pathlib import Path

from django.conf import settings

SOURCE_MAP = re.compile(r"[#@]\s*sourceMappingURL=([^\s*]+)")
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


def references(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    found = SOURCE_MAP.findall(text)
    if path.suffix == ".css":
        found += CSS_URL.findall(text)
    return [ref for ref in found if not ref.startswith(("data:", "http:", "https:", "//", "#"))]


def test_every_file_a_static_asset_names_is_shipped():
    missing = []
    for root in settings.STATICFILES_DIRS:
        for path in Path(root).rglob("*"):
            if path.suffix in (".js", ".css") and path.is_file():
                for ref in references(path):
                    if not (path.parent / ref.split("?")[0].split("#")[0]).exists():
                        missing.append(f"{path.relative_to(root)} -> {ref}")
    assert missing == []
