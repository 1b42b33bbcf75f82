"""YAML files read for people: errors point at the file, line and key."""

from __future__ import annotations

from typing import Any

import yaml

from symposium_tui.core.errors import ConfigError


MAX_TEXT = 1_000_000  # characters; the product's files are a few hundred
MAX_DEPTH = 100


def _flow_depth(text: str) -> int:
    """The deepest nesting of flow collections ([ and {) outside quotes and comments; a cheap
    over-estimate is fine, it only guards against absurd depths."""
    depth = deepest = 0
    quote = ""
    comment = False
    for char in text:
        if comment:
            comment = char != "\n"
        elif quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#":
            comment = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest


class _Loader(yaml.SafeLoader):
    """safe_load's loader that refuses aliases: settings files need none, and a few hundred
    bytes of nested aliases ("billion laughs") expand to more than any message could show."""

    def compose_node(self, parent, index):  # noqa: ANN001,ANN201 - PyYAML's signature
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, f"aliases (*{event.anchor}) are not allowed in "
                                              "this file", event.start_mark)
        return super().compose_node(parent, index)


class YamlDoc:
    """Parsed data plus the node tree, to find the line of any key."""

    def __init__(self, text: str, source: str, hint: str = "") -> None:
        self.source = source
        if len(text) > MAX_TEXT:
            raise ConfigError(f"{source}: {len(text)} characters is too long for a settings file "
                              f"(at most {MAX_TEXT}){hint}")
        if _flow_depth(text) > MAX_DEPTH:
            # PyYAML's scanner takes time quadratic in the depth of [ and { before it fails.
            raise ConfigError(f"{source}: nested too deeply to read (more than {MAX_DEPTH} levels of "
                              f"[ or {{){hint}")
        try:
            # One parse for both: what yaml.safe_load does, keeping the node tree for line numbers.
            loader = _Loader(text)
            try:
                self.root = loader.get_single_node()
                self.data: Any = None if self.root is None else loader.construct_document(self.root)
            finally:
                loader.dispose()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            where = f"{source}:{mark.line + 1}" if mark else source
            problem = getattr(exc, "problem", None) or str(exc)
            problem = " ".join(str(problem).split())  # one line, whatever PyYAML wrote
            raise ConfigError(f"{where}: not valid YAML ({problem}){hint}") from exc
        except RecursionError:  # PyYAML composes recursively: '[[[[...' thousands deep
            raise ConfigError(f"{source}: nested too deeply to read{hint}") from None
        except ValueError as exc:  # a date such as 2024-13-01, or an int of over 4300 digits
            problem = "a number too long to read" if "integer string conversion" in str(exc) else str(exc)
            raise ConfigError(f"{source}: not valid YAML ({problem}){hint}") from None

    def line(self, keys: list[Any]) -> int | None:
        """The line of the deepest of `keys` (mapping keys, or list indexes) that exists
        (1-based), or None."""
        node, found = self.root, None
        for key in keys:
            if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
                node = node.value[key]
                found = node.start_mark.line + 1
                continue
            if not isinstance(node, yaml.MappingNode):
                break
            for k, v in node.value:
                if str(k.value) == key:
                    node, found = v, k.start_mark.line + 1
                    break
            else:
                break
        return found

    def fail(self, keys: list[Any], expected: str) -> ConfigError:
        line = self.line(keys)
        where = f"{self.source}:{line}" if line else self.source
        path = "".join(f"[{k}]" if isinstance(k, int) else f".{_shown_key(k)}" for k in keys).lstrip(".")
        return ConfigError(f"{where}: {path}: expected {expected}")


def _shown_key(key: object) -> str:
    """A key as an error shows it: as written, unless it holds control characters or is very long."""
    text = str(key)
    if text.isprintable() and text.strip() == text and text and len(text) <= 60:
        return text
    shown = repr(text)
    return shown if len(shown) <= 60 else shown[:59] + "…"
