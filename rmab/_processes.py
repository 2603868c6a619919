"""Worker processes started with ``spawn``: the pool, the error when they fail, and stopping
them (:func:`worker_pool` does all three for a ``with`` block)."""

from __future__ import annotations

import ast
import inspect
import multiprocessing
import os
import signal
import sys
import threading
import tokenize
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing.connection import wait

from rmab.errors import PlanningError


def spawn_pool(max_workers: int, initializer=None, initargs: tuple = ()) -> ProcessPoolExecutor:
    """A ``ProcessPoolExecutor`` of ``spawn`` workers that end when the parent does: a parent
    killed by SIGTERM or SIGHUP (``kill``, SLURM, a closed terminal) skips the pool's shutdown,
    and its workers would otherwise run on, then wait for work forever. Workers ignore SIGINT:
    Ctrl-C is the parent's to handle (it stops the pool).

    Called by a worker still starting up, which runs the calling script's top-level code again
    (as ``__mp_main__``), it ends that worker quietly: it could not start a pool (a RuntimeError
    whose traceback each worker printed), and its parent's pool, broken, says why."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):  # multiprocessing's
        raise SystemExit(1)                                               # own test of it
    return ProcessPoolExecutor(max_workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(initializer, initargs))


@contextmanager
def worker_pool(field: str, n: int, work: str, serial: str, initializer=None,
                initargs: tuple = ()):
    """:func:`spawn_pool` of ``n`` workers for a ``with`` block: a broken pool raises
    :func:`spawn_failure`'s error (``field``, ``work``, ``serial`` as there), and any other
    exception leaving the block, Ctrl-C included, stops the workers at once (:func:`stop_now`)
    rather than after their jobs. A call from a script's top-level code outside ``if __name__ ==
    "__main__":`` is refused first (:func:`check_guarded`)."""
    check_guarded(field, serial)
    with spawn_pool(n, initializer, initargs) as pool:
        try:
            yield pool
        except BrokenProcessPool as exc:
            raise spawn_failure(field, n, work, serial) from exc
        except BaseException:
            stop_now(pool)
            raise


def _start_worker(initializer, initargs: tuple) -> None:
    # Ctrl-C reaches the whole process group: the parent stops the pool (stop_now); a worker
    # interrupted on its own printed its traceback ("Process SpawnProcess-1: ...") besides
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True,
                         name="rmab-parent-watch").start()
    if initializer is not None:
        initializer(*initargs)


def _exit_with(sentinel) -> None:
    wait([sentinel])               # ready once the parent process has ended
    os._exit(1)


def spawn_failure(field: str, n: int, work: str, serial: str) -> PlanningError:
    """The error for a ``BrokenProcessPool``: ``field`` names the setting that asked for the
    ``n`` workers running ``work``, ``serial`` the setting that runs it in-process (raise it
    ``from`` the pool's error)."""
    return PlanningError(
        f"{field}: the {n} worker processes {work} stopped before finishing (a worker could not "
        f"load the classes, or ran out of memory). Spawned workers import the classes afresh: a "
        f"class defined in a notebook or in `python -c` cannot be loaded there, and a script "
        f"must start its work under `if __name__ == \"__main__\":`. Define such classes in an "
        f"importable module or a guarded script, or use {serial}")


def check_loadable(field: str, objects, serial: str) -> None:
    """Raise :class:`~rmab.errors.PlanningError` at once, before any worker starts, for an
    object whose class, or a class it names by a registry entry (a rollout's base), a spawned
    worker cannot import: one defined in a ``__main__`` without a file (``python -c``, a
    script piped on stdin, a notebook), which pickles in the parent.
    Each worker printed its traceback before :func:`spawn_failure` said so."""
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    if main and os.path.isfile(main):
        return
    for obj in objects:
        cls = type(obj)
        # a class it makes in the worker from a registry entry, e.g. a rollout's base
        made = [(value.target.partition(":")[2], f" (made by {cls.__qualname__!r})")
                for value in getattr(obj, "__dict__", {}).values()
                if str(getattr(value, "target", "")).startswith("__main__:")]
        for name, by in ([(cls.__qualname__, "")] if cls.__module__ == "__main__" else []) + made:
            raise PlanningError(f"{field}: {name!r}{by} is defined in `python -c`, "
                                f"stdin or a notebook, where the "
                                f"spawned worker processes cannot import it: define it in an "
                                f"importable module or at the top of a script guarded by `if "
                                f"__name__ == \"__main__\":`, or use {serial}")


def check_guarded(field: str, serial: str) -> None:
    """Raise :class:`~rmab.errors.PlanningError` at once, before any worker starts, when the
    spawned workers would run the ``__main__`` script again as they start (as
    :mod:`multiprocessing.spawn` decides) and fail: when its top-level code makes this call
    outside ``if __name__ == "__main__":`` (each worker reached the call), or when it is no
    file (piped on stdin: each worker failed to open it). Each worker printed its traceback
    before :func:`spawn_failure`'s message."""
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None)
    path = getattr(main, "__file__", None)
    if name is None:
        rerun = path is not None and os.path.splitext(os.path.basename(path))[0] != "ipython"
    else:                               # python -m: a package's __main__ is not run again
        rerun = name != "__main__" and not name.endswith(".__main__")
    if not rerun:
        return
    if name is None and not os.path.isfile(path):
        raise PlanningError(
            f"{field}: the __main__ script must be a file, which the spawned worker processes "
            f"run again as they start; got {path!r} (a script piped on stdin?). Save it as a "
            f"file and run that, or use {serial}")
    where = _unguarded_call(main)
    if where is not None:
        raise PlanningError(
            f"{field}: a script must start worker processes under `if __name__ == "
            f"\"__main__\":`; got a call from the top-level code of {where[0]} (line "
            f"{where[1]}), which every spawned worker runs again as it starts. Put the "
            f"script's work under that guard, or use {serial}")


def _unguarded_call(main) -> tuple[str, int] | None:
    """The file and line of the top-level statement of ``main`` running now, if no test of
    ``__name__`` (a comparison or a ``match``: a guard, or a test that may be one) or of
    ``current_process().name`` (``"MainProcess"`` in the parent only) comes at or before it;
    else None."""
    frame = inspect.currentframe()
    while frame is not None and not (frame.f_globals is vars(main)
                                     and frame.f_code.co_name == "<module>"):
        frame = frame.f_back
    if frame is None:
        return None
    file, line = frame.f_code.co_filename, frame.f_lineno
    try:
        with tokenize.open(file) as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):    # no source to read: leave it to the workers
        return None
    for node in ast.walk(tree):
        tested = ((node.left, *node.comparators) if isinstance(node, ast.Compare) else
                  (node.subject,) if isinstance(node, ast.Match) else ())
        if tested and node.lineno <= line and any(map(_main_only, tested)):
            return None
    return file, line


def _main_only(node) -> bool:
    """``node`` is ``__name__`` or ``current_process().name`` (a worker running the script again
    has its own; its ``parent_process()`` is still None then, so that tests nothing)."""
    if isinstance(node, ast.Name):
        return node.id == "__name__"
    return (isinstance(node, ast.Attribute) and node.attr == "name"
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "attr", getattr(node.value.func, "id", None))
            == "current_process")


def stop_now(pool) -> None:
    """Cancel what has not started and end the running workers at once (an error or Ctrl-C
    should not wait for a worker's whole job)."""
    terminate = getattr(pool, "terminate_workers", None)     # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
