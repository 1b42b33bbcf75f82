"""A patch as git prints it, scrollable both ways and coloured as a diff: only the lines on screen
are drawn, so a patch of megabytes opens at once.

What a patch holds came from the taskspace: each line arrives escaped (core.display.printable,
tabs expanded) and is drawn as plain text with a style, never read as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.cells import cell_len
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from symposium_tui.core.display import printable

TAB = 4  # cells a tab stands for
KINDS = ("file", "hunk", "added", "removed", "meta")


@dataclass(frozen=True)
class PatchLines:
    """A patch made ready to show: its lines, the kind of each (a KINDS name or ""), where each
    file's part begins (path -> line index) and how wide the widest line is."""

    lines: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    starts: dict[str, int] = field(default_factory=dict, hash=False)
    width: int = 0

    @classmethod
    def of(cls, patch: str, cut: bool = False) -> PatchLines:
        """The work of a thread: a patch of megabytes takes a moment."""
        lines, kinds, starts = [], [], {}
        in_header = False
        for raw in patch.split("\n"):
            line = "\t".join(printable(part) for part in raw.split("\t")).expandtabs(TAB)
            if raw.startswith("diff --git "):
                in_header = True
                kind = "file"
                if (path := _path_of(raw)) is not None:
                    starts[path] = len(lines)
            elif raw.startswith("@@"):
                in_header, kind = False, "hunk"
            elif in_header:
                kind = "file"  # index, ---, +++, modes, "Binary files ... differ"
            elif raw.startswith("+"):
                kind = "added"
            elif raw.startswith("-"):
                kind = "removed"
            elif raw.startswith("\\"):
                kind = "meta"  # \ No newline at end of file
            else:
                kind = ""
            lines.append(line)
            kinds.append(kind)
        while lines and lines[-1] == "":
            lines.pop()
            kinds.pop()
        if cut:
            lines.append("… the patch is cut here (it is longer than the dashboard reads)")
            kinds.append("meta")
        return cls(tuple(lines), tuple(kinds), starts, max((cell_len(line) for line in lines), default=0))

    @classmethod
    def saying(cls, text: str) -> PatchLines:
        return cls((text,), ("meta",), {}, cell_len(text))


def _path_of(header: str) -> str | None:
    """The path of `diff --git a/P b/P` (renames are off: both are the same); None when git quoted
    it (a name with unusual characters): that file's part is not found by name."""
    rest = header[len("diff --git "):]
    if not rest.startswith("a/") or (len(rest) - 5) % 2:
        return None
    path = rest[2:2 + (len(rest) - 5) // 2]
    return path if rest == f"a/{path} b/{path}" else None


class PatchView(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {f"patch--{kind}" for kind in KINDS}

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.patch = PatchLines()
        self._strips: LRUCache[int, Strip] = LRUCache(1024)

    @property
    def lines(self) -> Sequence[str]:
        return self.patch.lines

    def show(self, patch: PatchLines) -> None:
        self.patch = patch
        self._strips.clear()
        self.virtual_size = Size(patch.width, len(patch.lines))
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def line_of(self, path: str) -> int | None:
        return self.patch.starts.get(path)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()  # a theme changed the colours

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        style = self.rich_style
        if index >= len(self.patch.lines):
            return Strip.blank(self.size.width, style)
        strip = self._strips.get(index)
        if strip is None:
            line, kind = self.patch.lines[index], self.patch.kinds[index]
            text = Text(line, no_wrap=True, end="")
            text.stylize(style)  # a span, not Text(style=): render() drops a style without spans
            if kind:
                text.stylize(self.get_component_rich_style(f"patch--{kind}", partial=True))
            strip = Strip(text.render(self.app.console), cell_len(line))
            self._strips[index] = strip
        return strip.crop_extend(scroll_x, scroll_x + self.size.width, style)
