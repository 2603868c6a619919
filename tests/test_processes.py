"""Spawned worker pools end with their parent, however the parent ends."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PARENT = """
import sys, time
from rmab._processes import spawn_pool

if __name__ == "__main__":
    pool = spawn_pool(2)
    pids = {pool.submit(__import__("os").getpid).result() for _ in range(8)}
    for _ in range(2):
        pool.submit(time.sleep, 600)                  # busy workers, as mid-episode
    print(*pids, flush=True)
    time.sleep(600)
"""


def _started(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks after boot), or None if it has ended (a
    zombie has: only its entry waits)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    return None if fields[0] in ("Z", "X") else int(fields[19])


def _left(started: dict) -> list:
    """The processes of ``{pid: start time}`` still running after up to 30 s. The start time
    tells a process from a later one given its pid (32 768 pids here, and the suite spawns
    many)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        left = [pid for pid, start in started.items()
                if start is not None and _started(pid) == start]
        if not left:
            break
        time.sleep(0.1)
    return left


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_workers_end_when_the_parent_is_killed(tmp_path, sig):
    """A parent killed by SIGTERM (kill, SLURM) never shuts its pool down; its workers ran
    on and then waited for work forever."""
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    log = open(tmp_path / "stderr.txt", "w")      # the killed parent's tracker writes there
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              stderr=log, cwd=tmp_path)
    try:
        started = {int(p): _started(int(p)) for p in parent.stdout.readline().split()}
        assert started and None not in started.values()
    finally:
        os.kill(parent.pid, sig)
        parent.wait(30)
        log.close()
    left = _left(started)
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert left == []


def test_workers_leave_ctrl_c_to_the_parent():
    """Ctrl-C reaches the whole process group: a worker interrupted on its own printed its
    traceback ("Process SpawnProcess-1: ...", 1 run in 5 interrupted 3 s into 'rmab train
    --training-jobs 2'; none in 5 since) while the parent stopped the pool. The parent's
    handler is set for the test: a shell's background job starts with Ctrl-C ignored, which
    the workers would inherit whatever the pool does."""
    from rmab._processes import spawn_pool

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with spawn_pool(1) as pool:
            assert pool.submit(signal.getsignal, signal.SIGINT).result() == signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # the parent's
    finally:
        signal.signal(signal.SIGINT, previous)

@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_worker_pool_turns_a_dead_worker_into_a_typed_error_and_stops_on_others():
    """``worker_pool`` (compare's and solve's pools): a worker that dies mid-job gives the
    PlanningError naming the setting and the in-process alternative, chained from the
    BrokenProcessPool; any other exception leaving the block ends busy workers at once
    instead of waiting for their jobs."""
    from concurrent.futures.process import BrokenProcessPool

    from rmab._processes import worker_pool
    from rmab.errors import PlanningError

    with pytest.raises(PlanningError, match=r"^demo\.n_jobs: the 1 worker processes doing "
                                            r"the demo stopped before finishing .* or use "
                                            r"n_jobs=1$") as info:
        with worker_pool("demo.n_jobs", 1, "doing the demo", "n_jobs=1") as pool:
            pool.submit(os._exit, 3).result()
    assert isinstance(info.value.__cause__, BrokenProcessPool)
    with pytest.raises(ValueError, match="the caller's"):
        with worker_pool("demo.n_jobs", 2, "doing the demo", "n_jobs=1") as pool:
            pids = {pool.submit(os.getpid).result() for _ in range(6)}
            started = {pid: _started(pid) for pid in pids}
            assert None not in started.values()           # running when recorded
            for _ in range(2):
                pool.submit(time.sleep, 600)
            raise ValueError("the caller's")
    assert _left(started) == []


class _Planner:
    """A stand-in for a planner class; the test gives it the module of a ``__main__`` class."""


def test_check_loadable_refuses_a_main_class_when_main_was_read_from_stdin(monkeypatch):
    """``python - < script.py`` gives ``__main__`` the ``__file__`` '<stdin>' (asked of a
    real interpreter below), which is no file a spawned worker could import its classes
    from: refused at once, as for ``python -c`` (no ``__file__``). A main module that is a
    file passes."""
    from rmab._processes import check_loadable
    from rmab.errors import PlanningError

    out = subprocess.run([sys.executable, "-"], input="import __main__; print(__main__.__file__)",
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "<stdin>"
    monkeypatch.setattr(_Planner, "__module__", "__main__")
    main = sys.modules["__main__"]
    monkeypatch.setattr(main, "__file__", "<stdin>", raising=False)
    with pytest.raises(PlanningError, match=r"^demo\.n_jobs: '_Planner' is defined in `python "
                                            r"-c`, stdin or a notebook, .* or use n_jobs=1$"):
        check_loadable("demo.n_jobs", [_Planner()], "n_jobs=1")
    monkeypatch.setattr(main, "__file__", __file__)          # a script: its classes load
    check_loadable("demo.n_jobs", [_Planner()], "n_jobs=1")
