"""Subcommands of the `workbench` CLI, one module each (listed in workbench.cli.COMMAND_MODULES)."""
