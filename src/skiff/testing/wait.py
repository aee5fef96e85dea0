"""`eventually`: wait for a condition with a deadline, the one helper tests use instead of sleeps.

A test that must see another task's effect waits on the effect itself: ``await eventually(lambda:
"a/x" in informer.indexer)``. The condition is checked at once and then every ``interval`` seconds
of the running loop's time until it holds; when ``within`` seconds pass first, `AssertionError`
says what was awaited (``what``) and, for a condition that returned a value other than ``True``
or ``False``, the last value seen. The condition may be a plain function or a coroutine function.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

__all__ = ["eventually"]


async def eventually(
    condition: Callable[[], object] | Callable[[], Awaitable[object]],
    *,
    within: float = 5.0,
    interval: float = 0.01,
    what: str = "",
) -> None:
    """Return once ``condition()`` is truthy; `AssertionError` after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return
        if loop.time() >= deadline:
            detail = "" if isinstance(value, bool) or value is None else f" (last: {value!r})"
            raise AssertionError(f"{what or 'condition'} not reached within {within} s{detail}")
        await asyncio.sleep(interval)
