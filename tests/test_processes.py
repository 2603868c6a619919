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


UNGUARDED = {
    "compare": """
import rmab
print("script ran", flush=True)
inst = rmab.health_intervention(6, budget_fraction=0.2, seed=0)
rmab.compare(inst, ["random", "myopic"], episodes=2, horizon=3, n_jobs=2)
""",
    "solve_batches": """
import rmab
print("script ran", flush=True)
inst = rmab.health_intervention(6, budget_fraction=0.2, seed=0)
week = [rmab.Batch(f"w{k}", [f"a{j}" for j in range(6)], inst) for k in range(2)]
rmab.solve_batches(week, "myopic", out="plan.csv", n_jobs=2)
"""}


@pytest.mark.slow
@pytest.mark.parametrize("entry", sorted(UNGUARDED))
def test_a_script_without_the_main_guard_is_refused_before_any_worker_starts(tmp_path, entry):
    """A script starting workers from its top-level code, outside ``if __name__ ==
    "__main__":``: each spawned worker ran the script again (its print too) and printed the
    RuntimeError of a process started while bootstrapping, before the parent's own message.
    Now the parent alone says it, naming the setting, the script's line and both fixes; no
    worker ran the script, and nothing was written. Under the guard, the same call runs."""
    script = tmp_path / "unguarded.py"
    script.write_text(UNGUARDED[entry])
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert out.returncode == 1
    assert out.stdout == "script ran\n"                  # once: the parent's run only
    assert out.stderr.count("Traceback") == 1, out.stderr
    assert "RuntimeError" not in out.stderr and "bootstrapping" not in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last == (f"rmab.errors.PlanningError: {entry}.n_jobs: a script must start worker "
                    f"processes under `if __name__ == \"__main__\":`; got a call from the "
                    f"top-level code of {script} (line {5 + (entry == 'solve_batches')}), which "
                    f"every spawned worker runs again as it starts. Put the script's work under "
                    f"that guard, or use n_jobs=1")
    assert not (tmp_path / "plan.csv").exists()
    body = UNGUARDED[entry].strip().splitlines()
    script.write_text("\n".join(body[:1] + ['if __name__ == "__main__":']
                                + ["    " + line for line in body[1:]]) + "\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("script ran") == 1 and out.stderr == ""


def test_a_worker_running_an_unguarded_script_again_ends_quietly(tmp_path):
    """A pool started from a script's top-level code without the ``__main__`` guard, where no
    check comes first (SEQUOIA's training and target workers): each worker, running the script
    again, reached ``spawn_pool`` and printed the RuntimeError of a process started while
    bootstrapping. It now ends quietly, and the parent's broken pool is the one report."""
    script = tmp_path / "unguarded.py"
    script.write_text("""
import os
from concurrent.futures.process import BrokenProcessPool
from rmab._processes import spawn_pool
try:
    with spawn_pool(1) as pool:
        pool.submit(os.getpid).result()
except BrokenProcessPool:
    print("broken")
""")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert (out.returncode, out.stderr, out.stdout) == (0, "", "broken\n")   # the parent's


@pytest.mark.parametrize("source, module, refused", [
    ("import logging\nlog = logging.getLogger(__name__)\ncheck()\n", None, 3),  # no guard
    ("def main():\n    check()\n\nif __name__ == '__main__':\n    main()\n", None, None),
    ("check() if '__main__' == __name__ else None\n", None, None),
    ("check()\n", "tool.run", 1),           # python -m tool.run: workers run it again
    ("check()\n", "tool.__main__", None),   # python -m tool: a package's __main__, they don't
    # guards that ran before the check came (a worker skips the call) and were refused
    ("match __name__:\n    case '__main__':\n        check()\n", None, None),
    ("import multiprocessing as mp\nif mp.current_process().name == 'MainProcess':\n"
     "    check()\n", None, None),
    ("from multiprocessing import current_process\n"
     "if 'MainProcess' == current_process().name:\n    check()\n", None, None),
    # no guard: a worker running the script again has no parent process yet either
    ("import multiprocessing as mp\nif mp.parent_process() is None:\n    check()\n", None, 3),
    # tests that are no guard: of another name, of another attribute, after the call
    ("x = 1\nif x == 1:\n    check()\n", None, 3),
    ("import multiprocessing as mp\nif mp.current_process().daemon is False:\n    check()\n",
     None, 3),
    ("check()\nif __name__ == '__main__':\n    pass\n", None, 1),
    ("check()\n", "__main__", None),       # multiprocessing runs no __main__ by name again
])
def test_check_guarded_refuses_top_level_code_that_workers_run_again(tmp_path, monkeypatch,
                                                                      source, module, refused):
    """The line of the script's top-level code that made the call, when a spawned worker would
    run it again as it starts (as multiprocessing decides); a comparison with ``__name__`` at
    or before it is taken as the guard."""
    import importlib.machinery
    import re
    import types

    from rmab._processes import check_guarded
    from rmab.errors import PlanningError

    path = tmp_path / "script.py"
    path.write_text(source)
    main = types.ModuleType("__main__")
    main.__file__ = str(path)
    main.__spec__ = module and importlib.machinery.ModuleSpec(module, None)
    main.check = lambda: check_guarded("demo.n_jobs", "n_jobs=1")
    monkeypatch.setitem(sys.modules, "__main__", main)
    code = compile(source, str(path), "exec")
    if refused is None:
        exec(code, vars(main))
        return
    with pytest.raises(PlanningError, match=rf"^demo\.n_jobs: a script must start worker .* "
                                            rf"code of {re.escape(str(path))} \(line "
                                            rf"{refused}\), .* or use n_jobs=1$"):
        exec(code, vars(main))


def test_a_script_piped_on_stdin_is_refused_before_any_worker_starts(tmp_path):
    """``python - < script.py``, guarded, built-in planners: ``__main__.__file__`` is
    '<stdin>', which every spawned worker tried to run again as it started, each printing a
    FileNotFoundError traceback before the parent's generic message. Now one PlanningError
    says what to do before any worker starts."""
    body = UNGUARDED["compare"].strip().splitlines()
    script = "\n".join(body[:1] + ['if __name__ == "__main__":']
                       + ["    " + line for line in body[1:]]) + "\n"
    out = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert (out.returncode, out.stdout) == (1, "script ran\n")
    assert out.stderr.count("Traceback") == 1 and "FileNotFoundError" not in out.stderr
    assert out.stderr.strip().splitlines()[-1] == (
        "rmab.errors.PlanningError: compare.n_jobs: the __main__ script must be a file, which "
        "the spawned worker processes run again as they start; got '<stdin>' (a script piped "
        "on stdin?). Save it as a file and run that, or use n_jobs=1")


@pytest.mark.parametrize("case", ["ipython", "module-in-a-zip", "edited", "not-top-level"])
def test_check_guarded_leaves_what_it_cannot_judge_to_the_workers(tmp_path, monkeypatch, case):
    """No refusal where multiprocessing runs no script again (a ``__main__`` file named
    ``ipython``), where ``python -m`` found the module in a zip archive (a worker imports it
    by name; it is no file), where the script on disk no longer parses, and where the call
    comes from no top-level code of ``__main__``."""
    import importlib.machinery
    import types

    from rmab._processes import check_guarded

    path = tmp_path / ("ipython" if case == "ipython" else "script.py")
    path.write_text("check(\n" if case == "edited" else "check()\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(path if case != "module-in-a-zip" else tmp_path / "t.zip" / "tool.py")
    main.__spec__ = (importlib.machinery.ModuleSpec("tool", None)
                     if case == "module-in-a-zip" else None)
    main.check = lambda: check_guarded("demo.n_jobs", "n_jobs=1")
    monkeypatch.setitem(sys.modules, "__main__", main)
    if case == "not-top-level":
        main.check()
    else:
        exec(compile("check()\n", main.__file__, "exec"), vars(main))
