"""Every ``skiff`` command's ``--help`` renders: argparse formats help strings with ``%``, so a
default like ``nodefs.available<10%`` in a help text broke ``skiff agent --help`` with a
traceback."""

from __future__ import annotations

import argparse

from skiff.cmd.main import _parser


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    found = [path]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, (*path, name))
    return found


def _parser_at(path: tuple[str, ...]) -> argparse.ArgumentParser:
    parser = _parser()
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def test_every_command_renders_its_help() -> None:
    commands = _commands(_parser(), ())
    assert ("agent",) in commands and ("image", "pull") in commands
    for path in commands:
        text = _parser_at(path).format_help()
        assert text.startswith("usage:"), path
    agent = _parser_at(("agent",)).format_help()
    assert "nodefs.available<10%" in agent.replace("\n", "").replace(" ", "")
