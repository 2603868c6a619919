"""benchmarks/bench_reference.py: the reference implementation's exported instances rebuild as
rmab domains of the right kind (read from the file): the scheduling one with the reference
MIP's feasible set, the multiple-interventions one with its link."""

import importlib.util
import itertools
import pathlib

import numpy as np
import pytest

from rmab.domains import CapacityDomain, InterventionsDomain, SchedulingDomain

ROOT = pathlib.Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_reference",
                                                  ROOT / "benchmarks" / "bench_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", [0, 1])
def test_capacity_exports_load_as_capacity(bench, seed):
    domain, starts, horizon = bench.load_reference(
        RESULTS / f"reference_capacity_J20_seed{seed}.npz")
    assert isinstance(domain, CapacityDomain)
    assert (domain.n_arms, domain.budget, horizon) == (20, 5, 20)
    assert starts.shape == (50, 20) and set(np.unique(starts)) <= {0, 1}


def test_scheduling_export_loads_as_scheduling(bench):
    path = RESULTS / "reference_scheduling_J20_seed0.npz"
    domain, starts, horizon = bench.load_reference(path)
    assert isinstance(domain, SchedulingDomain)
    assert (domain.n_arms, domain.budget, domain.n_workers, domain.n_slots) == (20, 5, 5, 5)
    assert horizon == 20 and starts.shape == (50, 20) and set(np.unique(starts)) <= {0, 1}
    with np.load(path) as z:
        np.testing.assert_array_equal(domain.arms.up_prob, z["raw_transitions"][:, 0, :])
        np.testing.assert_array_equal(domain.arm_avail, z["arm_avail"].astype(bool))
        np.testing.assert_array_equal(domain.worker_avail, z["worker_avail"].astype(bool))


def test_scheduling_feasible_set_matches_the_reference_mip(bench):
    """The reference's own MIP constraints (its get_master_mip, with the pulls fixed and solved
    by Gurobi for feasibility on 2026-12-02) accept exactly these many of the pull vectors
    with k pulls, k = 0..6 (60 460 vectors, 6 739 feasible; rmab agreed on every one of
    them then); rmab's feasibility test must accept the same number."""
    reference_counts = {0: 1, 1: 20, 2: 166, 3: 776, 4: 2172, 5: 3604, 6: 0}
    domain, _, _ = bench.load_reference(RESULTS / "reference_scheduling_J20_seed0.npz")
    for k, expected in reference_counts.items():
        got = 0
        for pulled in itertools.combinations(range(domain.n_arms), k):
            a = np.zeros(domain.n_arms, dtype=np.int64)
            a[list(pulled)] = 1
            got += domain.is_feasible(a)
        assert got == expected, k


def test_interventions_export_loads_with_the_reference_link(bench):
    path = RESULTS / "reference_interventions_J20_seed0.npz"
    domain, starts, horizon = bench.load_reference(path)
    assert isinstance(domain, InterventionsDomain)
    assert (domain.n_arms, domain.n_interventions, domain.budget, horizon) == (20, 10, 5, 20)
    assert starts.shape == (50, 20) and set(np.unique(starts)) <= {0, 1}
    with np.load(path) as z:
        a, b, x0 = z["alpha"], z["slope"], z["x0"]
        # the reference's link_function, written out: a*sig(b*x - x0) - a/(1 + e^x0), * 0.98 + 0.01
        for level in range(4):
            x = 3.0 * level
            ref = (a / (1 + np.exp(-(b * x - x0))) - a / (1 + np.exp(x0))) * 0.98 + 0.01
            np.testing.assert_allclose(domain.arms.up_prob[:, level], ref, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(domain.omega, z["omega"])


def test_kind_read_from_the_file(bench, tmp_path):
    arrays = dict(np.load(RESULTS / "reference_scheduling_J20_seed0.npz"))
    np.savez(tmp_path / "no_kind.npz", **{k: v for k, v in arrays.items() if k != "kind"})
    with np.load(tmp_path / "no_kind.npz") as z:
        assert bench.reference_kind(z) == "scheduling"
    with np.load(RESULTS / "reference_capacity_J20_seed0.npz") as z:
        assert bench.reference_kind(z) == "capacity"
    arrays = dict(np.load(RESULTS / "reference_interventions_J20_seed0.npz"))
    np.savez(tmp_path / "no_kind_i.npz", **{k: v for k, v in arrays.items() if k != "kind"})
    with np.load(tmp_path / "no_kind_i.npz") as z:
        assert bench.reference_kind(z) == "interventions"
    np.savez(tmp_path / "other.npz", rewards=arrays["rewards"])
    with np.load(tmp_path / "other.npz") as z, pytest.raises(ValueError, match="known kind"):
        bench.reference_kind(z)
    np.savez(tmp_path / "path.npz", kind=np.array("path"))
    with np.load(tmp_path / "path.npz") as z, pytest.raises(ValueError, match="known kinds"):
        bench.reference_kind(z)
