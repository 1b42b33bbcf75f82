"""doctor, images and the dashboard."""

from __future__ import annotations

import argparse

from symposium_tui.cli.common import load_settings, open_connection
from symposium_tui.cli.output import emit_json, note, say, table
from symposium_tui.core import display
from symposium_tui.core.errors import SymposiumError, UsageError


def cmd_doctor(args: argparse.Namespace) -> int:
    from symposium_tui.core import doctor
    from symposium_tui.core.paths import app_paths
    from symposium_tui.backends import tool_facts

    paths = app_paths()
    settings = load_settings()
    binary, version = tool_facts()
    connection, error = None, None
    try:
        connection = open_connection(args)
    except UsageError:
        raise
    except SymposiumError as exc:
        error = exc
    try:
        facts = doctor.DoctorFacts(binary, version,
                                   connection.host_fixes if connection else ())
        engine = connection.backend if connection else None
        remote = doctor.is_remote(connection.target.uri if connection else args.url)
        checks = doctor.run_checks(facts, engine, error, settings, paths, remote)
        if connection is not None and connection.host != "local":
            import dataclasses

            build = "symposium-tui images build"
            checks = [dataclasses.replace(c, fix=c.fix.replace(build, f"{build} --connection {connection.host}"))
                      if c.fix else c for c in checks]
    finally:
        if connection:
            connection.close()
    ok = all(c.ok for c in checks)
    if args.json:
        emit_json({"ok": ok, "checks": [c.as_dict() for c in checks]})
    else:
        for check in checks:
            mark = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}[check.status.value]
            say(f"[{mark}] {check.name}: {check.detail}")
            if check.fix and not check.status.value == "ok":
                say(f"       fix: {check.fix}")
        say("all checks passed" if ok else "some checks failed")
    return 0 if ok else 1


# -- images -------------------------------------------------------------------------------------
def cmd_images_list(args: argparse.Namespace) -> int:
    settings = load_settings()
    connection = open_connection(args)
    try:
        found = {role: connection.backend.image(name) for role, name in settings.images.by_role().items()}
    finally:
        connection.close()
    names = settings.images.by_role()
    if args.json:
        details = {role: {"name": names[role], "present": image is not None,
                          "id": image.id if image else None, "size": image.size if image else None,
                          "created": image.created.isoformat() if image and image.created else None}
                   for role, image in found.items()}
        emit_json({**names, "details": details})
        return 0
    on_host = "" if connection.host == "local" else f" --connection {connection.host}"
    rows = [[role, names[role], "yes" if image else f"no — run `symposium-tui images build{on_host}`",
             image.id[:12] if image else "", display.size(image.size) if image else ""]
            for role, image in found.items()]
    say(table(rows, ["ROLE", "IMAGE", "PRESENT", "ID", "SIZE"]))
    return 0


def cmd_images_build(args: argparse.Namespace) -> int:
    import time

    from symposium_tui.core.paths import app_paths
    from symposium_tui.backends import image_builder

    types: tuple[str, ...] = ()
    if args.project_type is not None:
        from symposium_tui.core.toolchains import choice_of

        types = choice_of(args.project_type)
    settings = load_settings()
    connection = open_connection(args)
    started = time.monotonic()
    progress = note if not args.quiet else (lambda line: None)
    try:
        steps = image_builder(connection, app_paths(), settings, progress).build_for(types, args.force)
    finally:
        connection.close()
    elapsed = time.monotonic() - started
    if args.json:
        emit_json({"images": [{"role": s.role, "name": s.image, "built": s.built, "id": s.image_id}
                              for s in steps], "seconds": round(elapsed, 2)})
    else:
        for step in steps:
            say(f"{step.role:6} {step.image}  {'built' if step.built else 'up to date'}  {step.image_id[:12]}")
        say(f"done in {elapsed:.1f} s")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    from symposium_tui.ui.app import run_dashboard

    if args.url and args.connection:
        raise UsageError("give --url or --connection, not both")
    return run_dashboard(url=args.url, read_only=args.read_only, connection=args.connection)


def cmd_images_usage(args: argparse.Namespace) -> int:
    raise UsageError("images needs an action: `symposium-tui images build` or "
                     "`symposium-tui images list`")
