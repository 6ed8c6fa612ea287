"""A workaround for CPython 3.11's frame-stack chunk thrashing (python/cpython#142183, fixed for 3.13
and 3.14 in 2026, not for 3.11).

Since 3.11 a thread's Python frames live in a "data stack" of 16 KiB chunks. A call that does not fit
in the current chunk maps a new one, and the return that empties it unmaps it at once. Code that
calls and returns at exactly that depth, as a template's per-row and per-cell calls can, maps and
unmaps a chunk each time: under gunicorn the register page made ~3,900 mmap/munmap pairs and page
faults per request, 20 ms of kernel time on a 45 ms page. Where the boundaries fall depends on how
deep the server's own frames are, so the same page cost 25 ms in one process and 45 in another.

`call_in_large_stack_chunk(f, ...)` calls f from a frame that declares an unused stack of ~65,000
slots. Pushing that frame maps a fresh 1 MiB chunk (chunks are 16 KiB doubled until the frame plus
1,000 slots fit), and f's frames, and everything they call, then stay in the ~500 KiB left in it:
no boundary to cross below the recursion limit. Declared stack slots are neither initialised nor
touched, so the reserve costs one mapping and the pages actually used, not 1 MiB of writes.
"""

import sys
import types

# push_chunk() in CPython 3.11's Python/pystate.c: 16 KiB doubled while < 8 * (frame slots + 1000).
_CHUNK_BYTES = 16 * 1024
_MINIMUM_OVERHEAD_SLOTS = 1000
RESERVED_SLOTS = 65_000  # 8 * (65,000 + 1,000) = 528,000 > 512 KiB: a 1 MiB chunk, ~500 KiB left free


def _call(function, /, *args, **kwargs):
    return function(*args, **kwargs)


def _with_reserved_stack(function, slots: int):
    code = function.__code__.replace(co_stacksize=function.__code__.co_stacksize + slots)
    return types.FunctionType(code, function.__globals__, "call_in_large_stack_chunk", function.__defaults__)


THRASHING_PYTHON = sys.implementation.name == "cpython" and sys.version_info[:2] in ((3, 11), (3, 12))

call_in_large_stack_chunk = _with_reserved_stack(_call, RESERVED_SLOTS) if THRASHING_PYTHON else _call
call_in_large_stack_chunk.__doc__ = "function(*args, **kwargs), its frames in a fresh 1 MiB data-stack chunk."
