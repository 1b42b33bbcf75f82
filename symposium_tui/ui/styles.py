"""Find the .tcss files: the copy packaged in the wheel first, the repo's styles/ for editable installs."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def styles_dir() -> Path:
    packaged = Path(str(resources.files("symposium_tui"))) / "styles"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "styles"


def stylesheets(*names: str) -> list[Path]:
    base = styles_dir()
    return [base / name for name in names]
