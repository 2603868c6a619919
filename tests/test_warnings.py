"""rmab._warnings: where a warning shown again points."""

import os
import sysconfig
import threading

from rmab import _warnings


def test_a_console_scripts_frame_is_not_the_callers_line():
    """`rmab compare` run by its console script (.venv/bin/rmab) showed a fit's warning at
    that script's `sys.exit(main())` line (a review): the scripts folder is the installed
    packages', as runpy's is for `python -m rmab`, so the command line has no caller's line."""
    script = os.path.join(sysconfig.get_paths()["scripts"], "rmab")
    got = []
    space = {"caller_line": _warnings.caller_line, "got": got}
    exec(compile("def main():\n    got.append(caller_line())\n", script, "exec"), space)
    space["main"]()                                   # called from this test: its line
    assert got.pop()[0] == __file__
    thread = threading.Thread(target=space["main"])   # outside it, threading's frames only
    thread.start()
    thread.join()
    assert got == [None]
