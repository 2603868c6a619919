"""``rmab generate``: seeded instances written to .npz, and its argument errors."""

import numpy as np
import pytest

from rmab.cli import main
from rmab.models import health_intervention, load_instance


@pytest.mark.parametrize("kind, extra, n_obs", [("health", [], 2),
                                                ("random", ["--obs", "3"], 3),
                                                ("random", ["--obs", "0"], None),
                                                ("collapsing", [], 2)])
def test_writes_a_seeded_instance(kind, extra, n_obs, tmp_path, capsys):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    for path in (a, b):
        assert main(["generate", kind, "--arms", "10", "--seed", "3", "-o", str(path),
                     *extra]) == 0
    assert a.read_bytes() == b.read_bytes()            # the same seed, the same file
    inst = load_instance(a)
    assert inst.n_arms == 10 and inst.budget == 1.0
    if kind == "random":
        assert inst.fully_observed == (n_obs is None)
        assert n_obs is None or inst.n_obs == n_obs
    assert f"wrote {a}" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--budget-fraction", "nan"], "generate.budget_fraction: must be"),
    (["--budget-fraction", "-0.5"], "generate.budget_fraction: must be >= 0"),
    (["--obs", "-1"], "generate.obs: must be >= 0"),
])
def test_bad_arguments_exit_1(argv, message, tmp_path, capsys):
    out = tmp_path / "x.npz"
    assert main(["generate", "random", "--arms", "5", "-o", str(out), *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rmab: error: ") and message in err
    assert not out.exists()


def test_an_output_not_ending_in_npz_is_refused(tmp_path, capsys):
    """'-o README.md' replaced the README with an archive."""
    readme = tmp_path / "README.md"
    readme.write_text("keep me")
    assert main(["generate", "health", "--arms", "5", "-o", str(readme)]) == 1
    assert capsys.readouterr().err == (f"rmab: error: generate.out: must be a path ending in "
                                       f".npz; got {str(readme)!r}\n")
    assert readme.read_text() == "keep me"


@pytest.mark.parametrize("kind", ["health", "collapsing"])
@pytest.mark.parametrize("flag", ["--actions", "--obs"])
def test_flags_of_random_arms_are_refused_elsewhere(kind, flag, tmp_path, capsys):
    """They were ignored silently (health arms have 3 actions and 2 signals)."""
    out = tmp_path / "x.npz"
    assert main(["generate", kind, "--arms", "5", "-o", str(out), flag, "4"]) == 1
    err = capsys.readouterr().err
    assert f"generate.{flag[2:]}: only for 'random'" in err
    assert not out.exists()


def test_health_takes_the_generators_clusters_and_noise(tmp_path):
    out = tmp_path / "h.npz"
    assert main(["generate", "health", "--arms", "10", "--seed", "3", "--clusters", "5",
                 "--noise", "0.1", "-o", str(out)]) == 0
    inst, want = load_instance(out), health_intervention(10, n_clusters=5, noise=0.1, seed=3)
    assert inst.metadata["params"] == want.metadata["params"]
    np.testing.assert_array_equal(inst.arms.transitions, want.arms.transitions)
    np.testing.assert_array_equal(inst.arms.observations, want.arms.observations)


@pytest.mark.parametrize("argv, message", [
    (["--noise", "0.5"], "health_intervention.noise: must be <= 0.2; got 0.5"),
    (["--clusters", "0"], "health_intervention.n_clusters: must be >= 1; got 0"),
])
def test_bad_health_parameters_exit_1(argv, message, tmp_path, capsys):
    out = tmp_path / "x.npz"
    assert main(["generate", "health", "--arms", "5", "-o", str(out), *argv]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("kind", ["random", "collapsing"])
@pytest.mark.parametrize("flag", ["--clusters", "--noise"])
def test_flags_of_health_arms_are_refused_elsewhere(kind, flag, tmp_path, capsys):
    out = tmp_path / "x.npz"
    assert main(["generate", kind, "--arms", "5", "-o", str(out), flag, "1"]) == 1
    assert f"generate.{flag[2:]}: only for 'health'; got {flag} 1" in \
        capsys.readouterr().err
    assert not out.exists()
