"""``skiff image pull|import|ls|rm``: the node's image store from the command line.

The store is the agent's: ``<data-dir>/agent/<node-name>/images`` (``--image-dir`` names another),
so an image imported here is what ``skiff agent`` on this node runs. Pulls obey the same
registries file and ``--offline`` as the agent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from pathlib import Path

from skiff.runtime.images.base import ImageInfo, ImagePullError
from skiff.runtime.images.policy import PolicyError, RegistryPolicy
from skiff.runtime.images.store import ImageNotFound, ImageStore

__all__ = ["add_image_parser", "human_size", "image_dir", "run_image"]


def _add_store_flags(p: argparse.ArgumentParser, *, registry: bool) -> None:
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="state directory (default /var/lib/skiff as root, ~/.local/share/skiff otherwise)",
    )
    p.add_argument("--node-name", default="", help="node whose store to use (default: hostname)")
    p.add_argument(
        "--image-dir", type=Path, default=None, help="the image store itself (overrides the above)"
    )
    if registry:
        p.add_argument(
            "--offline",
            action="store_true",
            help="pull only from loopback and allowlisted registries",
        )
        p.add_argument(
            "--registries", type=Path, default=None, help="registries.yaml (mirrors, auth, TLS)"
        )


def add_image_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``image`` and its verbs to the ``skiff`` command's subparsers."""
    image = subparsers.add_parser("image", help="manage the node's images (pull, import, ls, rm)")
    verbs = image.add_subparsers(dest="image_command", required=True)
    pull = verbs.add_parser("pull", help="pull an image from a registry")
    pull.add_argument("ref", help="image reference, e.g. 127.0.0.1:5000/web:1.0")
    _add_store_flags(pull, registry=True)
    imp = verbs.add_parser("import", help="import an OCI layout (dir or tar) or a docker save tar")
    imp.add_argument("file", type=Path)
    imp.add_argument("--tag", default=None, help="name the (single) imported image")
    _add_store_flags(imp, registry=False)
    ls = verbs.add_parser("ls", help="list images")
    ls.add_argument("-q", "--quiet", action="store_true", help="print image ids only")
    _add_store_flags(ls, registry=False)
    rm = verbs.add_parser("rm", help="remove an image (or one of its tags)")
    rm.add_argument("refs", nargs="+", metavar="REF")
    _add_store_flags(rm, registry=False)


def image_dir(args: argparse.Namespace) -> Path:
    """The store directory the flags name."""
    if args.image_dir is not None:
        return Path(args.image_dir)
    data_dir = args.data_dir
    if data_dir is None:
        from skiff.cmd.main import default_data_dir

        data_dir = default_data_dir()
    node = args.node_name or socket.gethostname().lower()
    return Path(data_dir) / "agent" / node / "images"


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


def _split_tag(tag: str) -> tuple[str, str]:
    repo, _, t = tag.rpartition(":")
    return repo, t


def _print_images(infos: list[ImageInfo], quiet: bool) -> None:
    if quiet:
        for info in infos:
            print(info.id.removeprefix("sha256:")[:12])
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("REPOSITORY", "TAG", "IMAGE ID", "SIZE"):
        table.add_column(column, no_wrap=True)
    for info in infos:
        short = info.id.removeprefix("sha256:")[:12]
        for tag in info.repo_tags or ("<none>:<none>",):
            repo, t = _split_tag(tag)
            table.add_row(repo, t, short, human_size(info.size))
    Console(width=max(120, os.get_terminal_size(1).columns if sys.stdout.isatty() else 0)).print(
        table
    )


def run_image(args: argparse.Namespace) -> int:
    """Run ``skiff image <verb>``; returns the exit code."""
    try:
        policy = RegistryPolicy.load(
            getattr(args, "registries", None), offline=getattr(args, "offline", False)
        )
    except PolicyError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    store = ImageStore(image_dir(args), policy=policy)
    verb = args.image_command
    try:
        if verb == "pull":
            info = asyncio.run(store.pull(args.ref))
            print(f"{args.ref}: pulled {info.id} ({human_size(info.size)})")
        elif verb == "import":
            infos = asyncio.run(store.import_archive(args.file, args.tag))
            for info in infos:
                names = ", ".join(info.repo_tags) or "<untagged>"
                print(f"imported {names} {info.id}")
        elif verb == "ls":
            _print_images(store.images(), args.quiet)
        elif verb == "rm":
            status = 0
            for ref in args.refs:
                before = store.get(ref)
                try:
                    asyncio.run(store.remove(ref))
                except ImageNotFound as e:
                    print(f"error: {e}", file=sys.stderr)
                    status = 1
                    continue
                if before is not None and store.get(before.id) is not None:
                    print(f"Untagged: {ref}")
                else:
                    print(f"Deleted: {before.id if before else ref}")
            return status
        else:  # pragma: no cover - argparse requires a verb
            return 2
    except ImagePullError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0
