"""What the cleanup screen says about a plan: per item, before Apply, and in its confirmations.

The plan's total counts every item, but Apply skips those holding unsaved work unless forced:
what is said here before Apply is what Apply will really do ("Remove 2 and free 33M?" was
followed by "1 removed, 1 skipped, 4.4M freed").
"""

from __future__ import annotations

from rich.text import Text

from symposium_tui.core import display as fmt
from symposium_tui.core.cleanup import CleanupItem, Thing
from symposium_tui.core.services.cleanup import CleanupPlan
from symposium_tui.core.units import format_duration

# The plan says an item holds unsaved work in a warning written for the CLI:
# "holds WORK: skipped on apply unless --force". The dashboard offers force itself.


def unsaved_work(item: CleanupItem) -> str:
    """What unsaved work the plan found in the item ("" when none)."""
    return item.unsaved


def removed_on_apply(plan: CleanupPlan, force: bool) -> list[CleanupItem]:
    return [i for i in plan.items if force or not unsaved_work(i)]


def held_back(plan: CleanupPlan) -> list[CleanupItem]:
    return [i for i in plan.items if unsaved_work(i)]


def freed(items: list[CleanupItem]) -> int:
    return sum(i.bytes_reclaimed for i in items)


def on_apply(item: CleanupItem, force: bool) -> Text:
    if not unsaved_work(item):
        return Text("removed")
    if force:
        return Text("removed: work lost", style="bold red")
    return Text("skipped: unsaved", style="yellow")


def _thing(thing: Thing) -> str:
    name = {"pod": "pod", "network": "network and its firewall rules"}.get(thing.kind, thing.role or thing.name)
    return f"{name} {fmt.size(thing.bytes)}" if thing.bytes else name


def details(item: CleanupItem, force: bool) -> Text:
    """Everything about one item, for the pane under the table: the table has room for little."""
    removes = ", ".join(_thing(t) for t in item.remove if t.kind != "container")  # they go with the pod
    keeps = ", ".join(_thing(t) for t in item.keep) or "nothing"
    text = Text()
    text.append(item.taskspace, style="bold")
    text.append(f" · {item.status} · frees {fmt.size(item.bytes_reclaimed)} · on apply: ")
    text.append_text(on_apply(item, force))
    text.append(f"\nremoves: {removes}\nkeeps: {keeps}\nwhy: {item.why}")
    if work := unsaved_work(item):
        text.append(f"\nunsaved work: {work}", style="bold red")
        text.append(" — lost if you apply with force" if force else " — skipped unless you tick force")
    return text


def _ids(items: list[CleanupItem]) -> str:
    return ", ".join(i.taskspace for i in items)


def summary(plan: CleanupPlan, force: bool, read_only: bool) -> Text:
    threshold = format_duration(plan.inactive_for.total_seconds())
    running = "running ones included" if plan.include_running else "running ones left out"
    if not plan.items:
        return Text(f"Dry run: no taskspace inactive for more than {threshold} ({running}). "
                    "Nothing to clean up.")
    goes, held = removed_on_apply(plan, force), held_back(plan)
    text = Text(f"Dry run: {len(plan.items)} taskspace(s) inactive for more than {threshold} ({running}), "
                f"{fmt.size(plan.bytes_reclaimed)} in all. ")
    if read_only:
        text.append("Read-only: a preview, nothing can be applied here.", style="bold")
        return text
    text.append(f"On apply: {len(goes)} removed, freeing {fmt.size(freed(goes))}")
    if held and not force:
        text.append(f"; {len(held)} skipped for unsaved work ({_ids(held)}) unless you tick force", style="yellow")
    elif held:
        text.append(f"; unsaved work in {_ids(held)} is lost", style="bold red")
    text.append(". Nothing has been deleted yet.")
    return text


def apply_question(plan: CleanupPlan, force: bool) -> str:
    goes, held = removed_on_apply(plan, force), held_back(plan)
    question = f"Remove {len(goes)} taskspace(s) ({_ids(goes)}) and free {fmt.size(freed(goes))}?"
    if held and not force:
        question += ("\n\nSkipped for unsaved work: "
                     + "; ".join(f"{i.taskspace} ({unsaved_work(i)})" for i in held) + ".")
    return question + "\n\nAgent state is kept unless past its retention."


def force_question(plan: CleanupPlan) -> str:
    lost = "\n".join(f"  {i.taskspace}: {unsaved_work(i)}" for i in held_back(plan))
    return ("Force deletes work that exists nowhere else:\n\n" + lost
            + "\n\nRemove it anyway? This cannot be undone.")
