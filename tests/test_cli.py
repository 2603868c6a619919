"""The ``rmab`` dispatcher: what every command shares (interrupts, memory, encodings, closed
or failing output streams) and the light ``import rmab`` it relies on."""

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rmab
from rmab import cli
from rmab.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
PYTHON = sys.executable


def test_import_rmab_is_light_and_every_public_name_resolves():
    """numba, scipy and the planners load on first use (PEP 562), so the command line starts
    in about 0.1 s and a Ctrl-C while it loads is the dispatcher's to catch."""
    code = ("import sys, rmab; heavy = [m for m in ('numba', 'scipy', 'rmab.planners') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert all(getattr(rmab, name) is not None for name in rmab.__all__)
    public = {name for name in dir(rmab) if not name.startswith("_")}
    assert public == set(rmab.__all__) | {"belief", "cli", "commands", "domains", "errors",
                                          "io", "models", "planners", "relax", "sim", "values"}
    out = subprocess.run([PYTHON, "-c", "import rmab; print(rmab.relax.whittle_indices.__name__,"
                          " rmab.models.Instance.__name__)"], capture_output=True, text=True)
    assert out.stdout.split() == ["whittle_indices", "Instance"], out.stderr   # a review
    with pytest.raises(AttributeError, match="module 'rmab' has no attribute 'nope'"):
        rmab.nope                                                   # noqa: B018


def test_an_interrupt_while_the_command_loads_is_caught(monkeypatch, capsys):
    def interrupted(command):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert main(["compare", "--health", "10"]) == 130
    assert capsys.readouterr().err == "rmab: interrupted\n"


def test_out_of_memory_is_one_line(monkeypatch, capsys):
    from rmab.commands import generate

    def exhausted(args):
        raise MemoryError("Unable to allocate 298. GiB")
    monkeypatch.setattr(generate, "run", exhausted)
    assert main(["generate", "random", "--arms", "2", "-o", "x.npz"]) == 1
    err = capsys.readouterr().err
    assert err == "rmab: error: out of memory: Unable to allocate 298. GiB (a smaller instance)\n"
    from rmab.commands import compare                   # a command with --n-jobs names it

    monkeypatch.setattr(compare, "run", exhausted)
    assert main(["compare", "--health", "4"]) == 1
    assert capsys.readouterr().err.endswith("(a smaller instance, or fewer --n-jobs)\n")


def test_an_array_too_big_for_numpy_is_out_of_memory_too(tmp_path, capsys, monkeypatch):
    """numpy refuses an array past its index range with a ValueError, not MemoryError: '--states
    100000000000' ended in a traceback (a review). Other ValueErrors still raise."""
    out = tmp_path / "x.npz"
    assert main(["generate", "random", "--states", "100000000000", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rmab: error: out of memory: array is too big") and err.count("\n") == 1
    assert err.endswith("(a smaller instance)\n") and not out.exists()
    from rmab.commands import generate

    def bug(args):
        raise ValueError("a bug's own message")
    monkeypatch.setattr(generate, "run", bug)
    with pytest.raises(ValueError, match="a bug's own message"):
        main(["generate", "random", "-o", str(out)])


@pytest.mark.parametrize("argv", [["bound", "--help"], ["bound", str(DATA / "health_example.npz"),
                                                          "--no-certificate"]])
def test_an_ascii_terminal_gets_escapes_not_a_traceback(argv, tmp_path):
    """λ, ± and Σ raised UnicodeEncodeError after the work on an ASCII or Latin-1 stdout."""
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    out = subprocess.run([PYTHON, "-m", "rmab", *argv], capture_output=True, text=True,
                         env=env, cwd=tmp_path, encoding="ascii", errors="strict")
    assert out.returncode == 0, out.stderr
    assert "\\u03bb" in out.stdout and "Traceback" not in out.stderr


def test_compare_writes_its_files_before_printing(tmp_path, monkeypatch, capsys):
    """A failing stdout (a full disk, a closed pipe) lost the CSV asked for."""
    class Full(io.StringIO):
        def write(self, text):
            raise OSError(28, "No space left on device")
    out = tmp_path / "r.csv"
    monkeypatch.setattr(sys, "stdout", Full())
    code = main(["compare", "--health", "6", "--episodes", "2", "--horizon", "3",
                 "--planners", "random,myopic", "--no-progress", "--out", str(out)])
    assert code == 1 and out.is_file()
    assert "No space left on device" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["generate", "health", "--arms", "5", "--discount", "0.9_5", "-o", "g.npz"],
    ["generate", "health", "--arms", "1_0", "-o", "g.npz"],
    ["generate", "health", "--arms", "\u0665", "-o", "g.npz"],          # an Arabic-Indic 5
    ["compare", "--health", "10", "--seed", "1_0"],
    ["value", "x.pomdp", "--tol", "1e-6_0"],
])
def test_number_flags_take_ascii_decimals_only(argv, capsys):
    """``float`` and ``int`` also read ``1_0`` as 10 and other scripts' digits; the CSV and
    .POMDP readers refuse them, and so do the flags now (an input review)."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "must be" in capsys.readouterr().err


def test_a_long_text_that_is_no_number_is_refused_in_linear_time():
    """The number pattern split a run of digits every way before failing: 12 s for a cell of
    20 000 digits and a comma, hours for a 1 MB one (CSV cells, .POMDP tokens, --param values,
    a negative-looking argument)."""
    import time

    from rmab._validation import DECIMAL, decimal_float

    digits = "1" * 20_000
    start = time.perf_counter()
    for text in (digits + ",5", digits + "x", "-." + digits + "x"):
        with pytest.raises(ValueError):
            decimal_float(text)
        assert DECIMAL.fullmatch(text) is None and cli._NEGATIVE.match("-" + text) is None
    assert DECIMAL.fullmatch(digits + "." + digits + "e-5")          # still a number
    assert time.perf_counter() - start < 1.0


def test_a_decimal_comma_in_a_number_flag_is_named(capsys):
    """``--discount 0,9`` said only "must be a decimal number" (a walk-through)."""
    with pytest.raises(SystemExit) as info:
        main(["solve", str(DATA / "batch_example.csv"), "--discount", "0,9", "--check"])
    assert info.value.code == 2
    assert "argument --discount: must be a decimal number; got '0,9' (a decimal comma? write " \
        "'0.9')" in capsys.readouterr().err
    with pytest.raises(SystemExit):        # no decimal comma reads '1.000.000'
        main(["solve", str(DATA / "batch_example.csv"), "--discount", "1,000,000", "--check"])
    assert "got '1,000,000' (a thousands separator? write '1000000')" in capsys.readouterr().err


def test_a_thousands_separator_in_an_integer_flag_is_named(capsys):
    """``--episodes 1,000`` said only "must be an integer" (a review); ``1,5`` is no integer
    either way and gets no hint."""
    with pytest.raises(SystemExit) as info:
        main(["compare", "--health", "4", "--episodes", "1,000"])
    assert info.value.code == 2
    assert "argument --episodes: must be an integer; got '1,000' (a thousands separator? " \
        "write '1000')" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["compare", "--health", "4", "--episodes", "1,5"])
    assert "must be an integer; got '1,5'\n" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["generate", "health", "--arms", "5", "--action-caps", "inf;1_0;2", "-o", "g.npz"],
     "generate.action_caps: must be numbers separated by ';'"),
    (["compare", "--domain", "capacity", "--seeds", "1_0"],
     "compare.seeds: must be comma-separated integers"),
])
def test_number_lists_take_ascii_decimals_only(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "g.npz").exists()


def test_a_repeated_solve_param_is_refused(capsys):
    """``dict`` kept the last of ``--param method=bogus --param method=dp``."""
    argv = ["solve", str(DATA / "batch_example.csv"), "--param", "method=bogus", "--param",
            "method=dp", "--check"]
    assert main(argv) == 1
    assert "solve.param: must give each KEY once; got 'method' twice ('bogus', 'dp')" in \
        capsys.readouterr().err


@pytest.mark.parametrize("planner, param, message", [
    ("rollout", "horizon=04", "RolloutPlanner.horizon: must be an integer; got '04' (a number? "
                              "write 4)"),
    ("whittle", "threshold=-.5", "WhittlePlanner.threshold: must be a number; got '-.5' (a "
                                 "number? write -0.5)"),
    ("lagrangian", "price_tol=1.e-3", "must be a number; got '1.e-3' (a number? write 0.001)"),
    # text is wanted: 4 would be refused as well
    ("myopic", "knapsack=04", "must be 'auto', 'dp', 'greedy' or 'mip'; got '04'\n"),
])
def test_a_solve_param_python_reads_as_a_number_says_so(planner, param, message, capsys):
    """--param VALUE is JSON: 04, +5 and .5 stay text, which the planner refused without
    saying why ("must be an integer; got '04'"; a practitioner walkthrough)."""
    argv = ["solve", str(DATA / "batch_example.csv"), "--planner", planner, "--param", param,
            "--check"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("rmab: error: ") and message in err, err


def test_a_param_too_long_for_a_number_gets_no_hint_and_no_traceback(capsys):
    """typed_number's int() of 0 and 5 000 digits raised Python's ValueError (past 4 300
    digits) from within the error's handling: a traceback for a planner's refusal; 400 digits
    and '.5' are inf as a float, no number to advise writing."""
    digits = "1" * 5_000
    for planner, param in (("rollout", "horizon=0" + digits), ("rollout", "horizon=+" + digits),
                           ("whittle", f"threshold=0{digits[:400]}.5")):
        argv = ["solve", str(DATA / "batch_example.csv"), "--planner", planner, "--param", param,
                "--check"]
        assert main(argv) == 1, param
        err = capsys.readouterr().err
        assert err.startswith("rmab: error: ") and "must be" in err and "a number?" not in err
    argv = ["compare", str(DATA / "health_example.npz"), "--episodes", "1", "--horizon", "2",
            "--no-progress", "--planners", "round-robin(action=1),random", "--paired",
            f"round-robin(action=0{digits})"]
    assert main(argv) == 1
    assert capsys.readouterr().err.startswith("rmab: error: compare.paired: must be one of")


def test_number_flags_still_take_signs_exponents_and_inf(tmp_path):
    out = tmp_path / "g.npz"
    assert main(["generate", "health", "--arms", "+5", "--discount", " 9.5e-1", "--action-caps",
                 "inf; 3;2", "-o", str(out)]) == 0
    inst = rmab.models.load_instance(out)
    assert inst.n_arms == 5 and inst.discount == 0.95
    assert inst.action_caps.tolist() == [np.inf, 3, 2]


@pytest.mark.parametrize("price, code, message", [("-1e-3", 0, ""), ("-2.5E-1", 0, ""),
                                                  ("-inf", 1, "price: must be finite")])
def test_negative_numbers_with_exponents_follow_a_flag(price, code, message, capsys):
    """argparse's own pattern took '--price -1e-3' and '-inf' for options ('expected one
    argument', exit 2; a diff review)."""
    assert main(["value", str(DATA / "tiger.pomdp"), "--price", price]) == code
    assert message in capsys.readouterr().err


def test_value_says_when_a_price_changes_nothing(capsys):
    """A .POMDP file has no costs: '--price 5' printed 'price 5' and the same interval."""
    assert main(["value", str(DATA / "tiger.pomdp"), "--price", "5"]) == 0
    assert "price 5: the file gives no action costs, so the price changes nothing)" in \
        capsys.readouterr().out
    assert main(["value", str(DATA / "tiger.pomdp")]) == 0
    assert "changes nothing" not in capsys.readouterr().out


def test_value_counts_one_sweep_and_one_signal_in_the_singular(tmp_path, capsys):
    """'1 sweeps' and '1 signals' before count_noun reached 'rmab value'."""
    assert main(["value", str(DATA / "tiger.pomdp"), "--upper-sweeps", "1"]) == 0
    out = capsys.readouterr().out
    assert "(2 states, 3 actions, 2 signals, discount 0.95" in out
    assert "from the fast informed bound, 1 sweep, " in out
    blind = tmp_path / "blind.pomdp"
    blind.write_text("discount: 0.9\nvalues: reward\nstates: 2\nactions: 2\n"
                     "observations: 1\nT: * identity\nO: * : * : * 1.0\n"
                     "R: * : 0 : * : * 1.0\n")
    assert main(["value", str(blind), "--upper-sweeps", "0"]) == 0
    assert "(2 states, 2 actions, 1 signal, discount 0.9" in capsys.readouterr().out


@pytest.mark.parametrize("argv, usage, hint", [
    (["solve", "x.csv", "--plannr", "myopic"], "usage: rmab solve",
     "rmab solve: error: unrecognized arguments: --plannr myopic; --plannr: did you mean "
     "--planner?"),
    (["bound", "x.npz", "--price-tol=1e-3", "--no-progress"], "usage: rmab bound",
     "rmab bound: error: unrecognized arguments: --no-progress"),
    (["compare", "--helth", "5"], "usage: rmab compare",
     "--helth: did you mean --health?"),
    # another command's option is named as such ("--budget: did you mean --debug?" before)
    (["index", "x.npz", "--budget", "3", "--plannr=x"], "usage: rmab index",
     "unrecognized arguments: --budget 3 --plannr=x; --budget is an option of 'rmab generate', "
     "'rmab estimate', 'rmab compare', 'rmab bound', 'rmab train'; --plannr: did you mean "
     "--planner (an option of 'rmab solve')?"),
])
def test_an_unknown_flag_shows_its_commands_usage_and_the_near_flag(argv, usage, hint, capsys):
    """The top-level usage (rmab [-h] [--debug] [--version] COMMAND) was shown, with no hint
    (a CLI review)."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith(usage) and hint in err


@pytest.mark.parametrize("argv, message", [
    (["compare", "--domain", "capacity", "--arms", "0"], "compare.arms: must be >= 1; got 0"),
    (["compare", "--domain", "capacity", "--arms", "4", "--budget", "0"],
     "compare.budget: must be >= 1; got 0"),
    (["compare", "--domain", "capacity", "--arms", "4", "--budget", "2", "--episodes", "0"],
     "compare.episodes: must be >= 1; got 0"),
    (["compare", "--domain-file", str(DATA / "health_example.npz"), "--episodes", "0"],
     "compare.episodes: must be >= 1; got 0"),
    (["compare", "--health", "0"], "compare.health: must be >= 1; got 0"),
    (["generate", "capacity", "--arms", "0", "--out", "x.npz"],
     "generate.arms: must be >= 1; got 0"),
    # train reads its flags through SequoiaConfig (torch): without it, a MissingDependencyError
    pytest.param(["train", "--domain", "capacity", "--arms", "0", "--budget", "1", "--out", "x"],
                 "train.arms: must be >= 1; got 0", marks=pytest.mark.torch),
    pytest.param(["train", "--domain", "capacity", "--arms", "4", "--budget", "2", "--episodes",
                  "-1", "--out", "x"], "train.episodes: must be >= 0; got -1",
                 marks=pytest.mark.torch),
    (["solve", "x.csv", "--discount", "1"], "solve.discount: must be < 1.0; got 1.0"),
])
def test_range_errors_name_the_flag(argv, message, tmp_path, monkeypatch, capsys):
    """They named the function the value reached (make_capacity.n_arms, evaluate_domain.
    episodes, read_batches.discount, SequoiaConfig.episodes): a CLI review."""
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"rmab: error: {message}" in err, err
    assert not list(tmp_path.iterdir())                          # nothing written


@pytest.mark.parametrize("command", ["compare", "train", "solve"])
def test_every_command_with_a_progress_bar_takes_both_flags(command):
    """compare and train took only --no-progress, solve only --progress."""
    from rmab.cli import build_parser

    sub = ["--domain", "capacity", "--out", "x"] if command == "train" else \
        ["x.csv"] if command == "solve" else ["--health", "3"]
    parser = build_parser(command)
    on = parser.parse_args([command, *sub, "--progress"])
    off = parser.parse_args([command, *sub, "--no-progress"])
    default = parser.parse_args([command, *sub])
    assert on.progress is True and off.progress is False
    # a batch job is quiet by default, the others follow the terminal (show_progress)
    assert default.progress is (False if command == "solve" else None)


@pytest.mark.parametrize("tty", [True, False])
def test_the_default_progress_bar_follows_the_terminal(tty, monkeypatch):
    """compare and train drew their bar by default into a log or pipe too (a cron log filled
    with 'compare:  10%|█' lines); the flags still win."""
    from rmab.cli import build_parser
    from rmab.commands import show_progress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: tty)
    for command, sub in (("compare", ["--health", "3"]),
                         ("train", ["--domain", "capacity", "--out", "x"])):
        parser = build_parser(command)
        assert show_progress(parser.parse_args([command, *sub])) is tty
        assert show_progress(parser.parse_args([command, *sub, "--progress"])) is True
        assert show_progress(parser.parse_args([command, *sub, "--no-progress"])) is False


def test_no_default_progress_bar_without_a_stderr(monkeypatch):
    """Started with stderr closed ('rmab compare ... 2>&-'), Python's sys.stderr is None:
    show_progress's isatty() raised AttributeError, ending the run with status 1."""
    import io

    from rmab.cli import build_parser
    from rmab.commands import show_progress

    parser = build_parser("compare")
    closed = io.StringIO()
    closed.close()
    for stream in (None, closed):
        monkeypatch.setattr(sys, "stderr", stream)
        assert show_progress(parser.parse_args(["compare", "--health", "3"])) is False
        assert show_progress(parser.parse_args(["compare", "--health", "3", "--progress"]))


def test_a_mistyped_command_gets_the_nearest_suggested(capsys):
    """As a mistyped planner or option is (a walkthrough found commands were not)."""
    with pytest.raises(SystemExit) as info:
        main(["--debug", "comapre", "--health", "4"])
    assert info.value.code == 2
    assert capsys.readouterr().err.endswith(
        "rmab: error: argument COMMAND: invalid choice: 'comapre' (choose from 'planners', "
        "'generate', 'estimate', 'compare', 'solve', 'update', 'value', 'bound', 'index', "
        "'train'); did you mean 'compare'?\n")
    with pytest.raises(SystemExit):
        main(["zzz"])
    assert "did you mean" not in capsys.readouterr().err


def test_seed_flags_take_zero_as_the_default_and_refuse_negatives(tmp_path, capsys):
    """``--seed 0`` is the documented default (the same instance as no --seed); -1 is a usage
    error named by the flag."""
    given, default = tmp_path / "a.npz", tmp_path / "b.npz"
    assert main(["generate", "random", "--arms", "3", "--seed", "0", "-o", str(given)]) == 0
    assert main(["generate", "random", "--arms", "3", "-o", str(default)]) == 0
    a, b = rmab.models.load_instance(given), rmab.models.load_instance(default)
    np.testing.assert_array_equal(a.arms.transitions, b.arms.transitions)
    np.testing.assert_array_equal(a.arms.observations, b.arms.observations)
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["generate", "random", "--seed", "-1", "-o", str(given)])
    assert info.value.code == 2
    assert "argument --seed: must be a non-negative integer; got '-1'" in capsys.readouterr().err


def test_split_top_splits_only_at_commas_outside_brackets_and_strings():
    """Hand-worked: a backslash-escaped quote does not end its string, so the comma and the
    bracket after it stay inside; an unclosed string or bracket gives None."""
    from rmab.commands import split_top

    assert split_top('a(x=1, y={"k": [1, 2]}),b') == ['a(x=1, y={"k": [1, 2]})', "b"]
    assert split_top(r'a(s="q\",)"),b') == [r'a(s="q\",)")', "b"]
    assert split_top(r'a(s="q\\"),b') == [r'a(s="q\\")', "b"]      # an escaped backslash
    assert split_top('a,"b') is None and split_top('a,"b,c') is None
    assert split_top("a(,b") is None and split_top("a),b") is None and split_top("a(]") is None
