"""The ``workbench`` command. Each subcommand lives in ``workbench/commands/<name>.py``.

The list below is explicit (not discovered), so a reader sees every command in one place. A
``WorkbenchError`` is printed as its translated message and exits with status 2; anything else is
a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from pipelines.errors import WorkbenchError
from workbench.i18n import message

__all__ = ["main", "COMMAND_MODULES"]

COMMAND_MODULES: tuple[str, ...] = (
    "workbench.commands.server",
    "workbench.commands.inspect",
    "workbench.commands.train",
    "workbench.commands.recipe",
    "workbench.commands.report",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="workbench", description="Clinical ML Workbench")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except WorkbenchError as error:
        print(f"error: {message(error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
