"""SEQUOIA training (torch): warm start, Bellman targets, target cache, checkpoints, DQN."""

import time

import numpy as np
import pytest

from rmab.domains import make_capacity

torch = pytest.importorskip("torch")

from rmab.errors import (InvalidModelError, InvalidParameterError, OutputError,  # noqa: E402
                         PlanningError)
from rmab.planners.sequoia.argmax import BruteForceArgmax  # noqa: E402
from rmab.planners.sequoia.qnet import QNetwork  # noqa: E402
from rmab.planners.sequoia.replay import Batch  # noqa: E402
from rmab.planners.sequoia.train import (SequoiaConfig, TargetMaxima, bellman_targets,  # noqa: E402
                                         load_checkpoint, load_qnetwork, save_checkpoint,
                                         to_relu_network, train_sequoia, warm_start)

from sequoia_exact import exact_policy_value  # noqa: E402

# tests train on a few short episodes, fewer transitions than a batch: train_sequoia says so
# (tests/sequoia/test_sequoia_cli.py asserts that warning), expected here, not news
pytestmark = [pytest.mark.torch, pytest.mark.filterwarnings(
    "ignore:train_sequoia.*fewer than a batch:rmab.errors.RmabWarning")]


@pytest.fixture(autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


SMALL = dict(argmax="brute", warm_start_samples=600, warm_start_epochs=10, horizon=10)


@pytest.fixture
def tiny_capacity():
    return make_capacity(4, 2, seed=1)


def test_qnetwork_export_matches_torch_and_leaves_global_rng_alone():
    before = torch.get_rng_state()
    q = QNetwork(9, (5, 4), generator=torch.Generator().manual_seed(3))
    assert torch.equal(before, torch.get_rng_state())
    x = np.random.default_rng(0).random((7, 9)).astype(np.float32)
    with torch.no_grad():
        ref = q(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(to_relu_network(q).forward(x.astype(float))[:, 0], ref,
                               rtol=1e-5, atol=1e-6)
    assert to_relu_network(q).hidden_sizes == (5, 4)


@pytest.mark.parametrize("target, offset", [("myopic", "none"), ("lagrangian", "none"),
                                            ("lagrangian", "lagrangian")])
def test_warm_start_reduces_regression_loss(tiny_capacity, target, offset):
    q = QNetwork(9, (16, 16), generator=torch.Generator().manual_seed(0))
    cfg = SequoiaConfig(**{**SMALL, "warm_start_epochs": 40, "warm_start": target,
                           "offset": offset})
    res = warm_start(q, tiny_capacity, cfg, np.random.default_rng(0), 0.25)
    assert res.loss_after < 0.3 * res.loss_before


def test_bellman_targets_by_hand():
    batch = Batch(states=np.zeros((3, 2), np.int64), actions=np.zeros((3, 2)),
                  rewards=np.array([1.0, 2.0, 0.5]),
                  next_states=np.array([[0, 1], [2, 3], [1, 1]]),
                  time_to_go=np.array([1, 2, 5]), levels=np.zeros((3, 2), np.int64))
    seen = {}

    def max_value(next_states, time_to_go):
        seen["s"], seen["ttg"] = next_states.copy(), time_to_go.copy()
        return np.array([10.0, 20.0])

    y = bellman_targets(batch, 0.9, max_value)
    np.testing.assert_allclose(y, [1.0, 2.0 + 0.9 * 10.0, 0.5 + 0.9 * 20.0])
    np.testing.assert_array_equal(seen["s"], [[2, 3], [1, 1]])   # no bootstrap at ttg == 1
    np.testing.assert_array_equal(seen["ttg"], [1, 4])            # next period's time-to-go
    last = Batch(batch.states[:1], batch.actions[:1], batch.rewards[:1], batch.next_states[:1],
                 batch.time_to_go[:1], batch.levels[:1])
    assert bellman_targets(last, 0.9, lambda s, t: pytest.fail("bootstrapped at t = H"))[0] == 1

    def offset(states, time_to_go):        # D(s, τ) = 100 τ + Σ s, easy to follow by hand
        return 100.0 * time_to_go + states.sum(axis=1)

    y = bellman_targets(batch, 0.9, max_value, offset)
    np.testing.assert_allclose(y, [1.0 - 100.0,
                                   2.0 + 0.9 * (10.0 + 100.0 + 5) - 200.0,
                                   0.5 + 0.9 * (20.0 + 400.0 + 2) - 500.0])

    def control(states, levels, time_to_go, next_states):   # called on bootstrapped rows only,
        np.testing.assert_array_equal(time_to_go, [2, 5])    # with the current time-to-go
        np.testing.assert_array_equal(next_states, [[2, 3], [1, 1]])
        return np.array([-1.0, 3.0])

    y = bellman_targets(batch, 0.9, max_value, offset, control)
    np.testing.assert_allclose(y, [1.0 - 100.0,
                                   2.0 + 0.9 * (10.0 + 100.0 + 5 - 1.0) - 200.0,
                                   0.5 + 0.9 * (20.0 + 400.0 + 2 + 3.0) - 500.0])


def test_target_maxima_cache_lives_as_long_as_the_target_network(tiny_capacity):
    d = tiny_capacity
    cfg = SequoiaConfig(**SMALL)
    q = QNetwork(9, (8,), generator=torch.Generator().manual_seed(1))
    net = to_relu_network(q)
    maxima = TargetMaxima(d, cfg)
    maxima.reset(net)
    s = np.array([[0, 1, 2, 3], [0, 1, 2, 3], [3, 3, 0, 0]])
    ttg = np.array([4, 4, 4])
    v = maxima(s, ttg)
    brute = BruteForceArgmax(d, cfg.horizon, net)
    np.testing.assert_allclose(v, [brute.solve(x, 4).value for x in s])
    assert maxima.n_solves == 2 and maxima.cache.hits == 0       # duplicate solved once
    maxima(s, ttg)
    assert maxima.n_solves == 2 and maxima.cache.hits == 3
    maxima.reset(net)                                            # hard update: cache cleared
    maxima(s[:1], ttg[:1])
    assert maxima.n_solves == 3


def test_target_maxima_solve_one_state_at_two_times_to_go_apart(tiny_capacity):
    """The same next state at 2 and at 5 periods to go is two maxima (time-to-go is a network
    input), each the brute-force maximum at its own time-to-go, not one shared solve."""
    d = tiny_capacity
    cfg = SequoiaConfig(**SMALL)
    net = to_relu_network(QNetwork(9, (8,), generator=torch.Generator().manual_seed(1)))
    maxima = TargetMaxima(d, cfg)
    maxima.reset(net)
    s = np.array([[1, 2, 0, 3], [1, 2, 0, 3]])
    v = maxima(s, np.array([2, 5]))
    brute = BruteForceArgmax(d, cfg.horizon, net)
    expected = [brute.solve(s[0], 2).value, brute.solve(s[0], 5).value]
    assert expected[0] != pytest.approx(expected[1])
    np.testing.assert_allclose(v, expected)
    assert maxima.n_solves == 2 and len(maxima.cache) == 2


def test_checkpoint_round_trip_with_weights_only(tmp_path):
    q = QNetwork(9, (6, 5), generator=torch.Generator().manual_seed(2))
    opt = torch.optim.Adam(q.parameters())
    path = save_checkpoint(tmp_path / "ck.pt", q, target=q, optimizer=opt,
                           meta={"config": {"hidden": (6, 5)}, "episodes": 3})
    payload = load_checkpoint(path)
    assert payload["meta"]["episodes"] == 3
    q2 = load_qnetwork(path)
    x = torch.rand(4, 9)
    with torch.no_grad():
        assert torch.equal(q(x), q2(x))
    # equal runs give equal bytes: the archive's root was the random temporary file's name
    again = save_checkpoint(tmp_path / "other.pt", q, target=q, optimizer=opt,
                            meta={"config": {"hidden": (6, 5)}, "episodes": 3})
    assert again.read_bytes() == path.read_bytes()


def test_checkpoint_refuses_pickled_objects(tmp_path):
    bad = tmp_path / "bad.pt"
    torch.save({"format": "rmab-sequoia", "obj": np.random.default_rng(0)}, bad)
    with pytest.raises(InvalidModelError, match="load_checkpoint.path: must be a SEQUOIA"):
        load_checkpoint(bad)
    other = tmp_path / "other.pt"
    torch.save({"x": torch.zeros(1)}, other)
    with pytest.raises(InvalidModelError, match="must be a SEQUOIA checkpoint"):
        load_checkpoint(other)


def test_checkpoint_and_domain_errors(tmp_path, tiny_capacity, monkeypatch):
    with pytest.raises(InvalidParameterError, match="load_checkpoint.path: must be an existing "
                                                    "file"):
        load_checkpoint(tmp_path / "missing.pt")
    q = QNetwork(9, (6, 5), generator=torch.Generator().manual_seed(2))
    path = save_checkpoint(tmp_path / "ck.pt", q)
    payload = torch.load(path, weights_only=True)
    torch.save({**payload, "version": 2}, tmp_path / "v2.pt")
    with pytest.raises(InvalidModelError, match="must be a version 1 checkpoint; got version 2"):
        load_checkpoint(tmp_path / "v2.pt")
    for sizes in ([9, 6.7, 5, 1], [9, 0, 1], [0, 4, 1]):    # 0 was a ZeroDivisionError
        torch.save({**payload, "sizes": sizes}, tmp_path / "bad.pt")
        with pytest.raises(InvalidModelError, match="sizes must be positive integers"):
            load_qnetwork(tmp_path / "bad.pt")
    cfg = SequoiaConfig(episodes=1, **SMALL)
    with pytest.raises(InvalidParameterError, match="train_sequoia.domain: must be a coRMAB "
                                                    "Domain .*got str"):
        train_sequoia("capacity", cfg)
    # a checkpoint that cannot be written is refused before the run, not after it
    with pytest.raises(InvalidParameterError, match="train_sequoia.checkpoint: must be a path"):
        train_sequoia(tiny_capacity, cfg, checkpoint=3.5)
    import rmab.planners.sequoia.train as train_module

    def no_training(*args, **kwargs):
        raise AssertionError("trained before refusing the checkpoint")

    monkeypatch.setattr(train_module, "_train", no_training)      # the refusal comes first
    with pytest.raises(OutputError, match="is a directory"):
        train_sequoia(tiny_capacity, cfg, checkpoint=tmp_path, progress=False)


def test_a_broken_target_pool_gives_a_typed_error(tiny_capacity):
    """Target solves in workers that died: a PlanningError saying what to do, not a bare
    BrokenProcessPool."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    class DeadPool:
        def submit(self, *args):
            future = Future()
            future.set_exception(BrokenProcessPool("a worker died"))
            return future

    maxima = TargetMaxima(tiny_capacity, SequoiaConfig(workers=1, **SMALL))
    maxima.reset(to_relu_network(QNetwork(9, (8,), generator=torch.Generator().manual_seed(1))))
    maxima._pool = DeadPool()
    with pytest.raises(PlanningError, match=r"SequoiaConfig.workers: the 1 worker processes "
                                            r"solving the Bellman targets stopped.*workers=0"):
        maxima(np.array([[0, 1, 2, 3]]), np.array([4]))


def test_an_interrupted_training_stops_its_target_workers_at_once(tiny_capacity, monkeypatch):
    """Ctrl-C while a worker holds slow target solves: the workers are stopped at once
    (``stop_now``), not shut down after their whole batch (a review waited 19 s for it)."""
    from concurrent.futures import Future

    from rmab.planners.sequoia import train as train_module

    class Interrupted(Future):          # Ctrl-C while waiting for the worker's solves
        def result(self, timeout=None):
            raise KeyboardInterrupt

    class BusyPool:
        def __init__(self):
            self.calls = []

        def submit(self, *args):
            self.calls.append("submit")
            return Interrupted()

        def shutdown(self, wait=True, **kwargs):
            self.calls.append(f"shutdown(wait={wait})")

    pool, stopped = BusyPool(), []
    monkeypatch.setattr(train_module, "spawn_pool", lambda n: pool)
    monkeypatch.setattr(train_module, "stop_now", stopped.append)
    cfg = SequoiaConfig(**{**SMALL, "warm_start_samples": 0, "episodes": 2, "batch_size": 8,
                           "workers": 1, "validate_every": 0})
    with pytest.raises(KeyboardInterrupt):
        train_sequoia(tiny_capacity, cfg, seed=0, progress=False)
    assert pool.calls == ["submit"] and stopped == [pool]       # stopped, not waited on


@pytest.mark.slow
@pytest.mark.parametrize("setting, field, serial", [
    ("restarts=2, training_jobs=2", "training_jobs", "training_jobs=1"),
    ("workers=1", "workers", "workers=0")])
def test_trainings_that_cannot_start_give_a_typed_error_at_once(tmp_path, setting, field,
                                                                serial):
    """A script without the ``__main__`` guard re-runs itself in every spawned worker, which
    dies: a PlanningError saying what to do (a bare BrokenProcessPool before, and only after
    training 0 had run to its end; then the pool's failure, after the warm start, with the
    workers' tracebacks). Now refused before training starts, no worker started."""
    import subprocess
    import sys

    script = tmp_path / "unguarded.py"
    script.write_text(f"""
from rmab.domains import make_domain
from rmab.errors import PlanningError
from rmab.planners.sequoia.train import SequoiaConfig, train_sequoia
cfg = SequoiaConfig(episodes=2, horizon=5, hidden=(8, 8), batch_size=8, warm_start_samples=50,
                    warm_start_epochs=1, validate_every=1, validation_episodes=1,
                    argmax="brute", {setting})
try:
    train_sequoia(make_domain("capacity", 6, 2, seed=1), cfg, seed=3, progress=False)
except PlanningError as exc:
    print("TYPED", exc)
""")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    assert out.stdout == (f"TYPED SequoiaConfig.{field}: a script must start worker processes "
                          f"under `if __name__ == \"__main__\":`; got a call from the top-level "
                          f"code of {script} (line 9), which every spawned worker runs again as "
                          f"it starts. Put the script's work under that guard, or use "
                          f"{serial}\n"), out.stderr
    assert out.stderr == ""


def test_config_stores_its_numbers_as_checked():
    """horizon=3.0 was accepted, kept as a float, and training then failed with a bare
    TypeError (a training review): integral numbers are stored as ints, others as floats."""
    config = SequoiaConfig(horizon=3.0, episodes=np.int64(2), batch_size=4.0, buffer_size=8.0,
                           warm_start_samples=20.0, validation_episodes=2.0, time_limit=1,
                           discount=np.float32(0.5))
    for name in ("horizon", "episodes", "batch_size", "buffer_size", "warm_start_samples",
                 "validation_episodes"):
        assert type(getattr(config, name)) is int, name
    assert type(config.time_limit) is float and type(config.discount) is float
    assert (config.horizon, config.episodes, config.discount) == (3, 2, 0.5)


def test_config_errors():
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.hidden: must be"):
        SequoiaConfig(hidden=())
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.argmax: must be one of"):
        SequoiaConfig(argmax="cplex")
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.discount: must be <= 1"):
        SequoiaConfig(discount=1.5)
    with pytest.raises(InvalidParameterError, match=r"SequoiaConfig.discount: must be at most "
                                                    r"1 - 1e-09 or exactly 1; got 0.9999999999"):
        SequoiaConfig(discount=1 - 1e-10)       # training started, then value_iteration said so
    assert SequoiaConfig(discount=1.0).discount == 1.0
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.warm_start: must be one "
                                                    "of .*got 'whittle'"):
        SequoiaConfig(warm_start="whittle")
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.discount: must be > 0 with "
                                                    "the Lagrangian warm start"):
        SequoiaConfig(discount=0.0)
    SequoiaConfig(discount=0.0, warm_start="myopic", offset="none", control_variate="none")
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.offset: must be one of .*"
                                                    "got 'whittle'"):
        SequoiaConfig(offset="whittle")
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.discount: must be > 0 with "
                                                    "the Lagrangian warm start, offset or "
                                                    "control variate"):
        SequoiaConfig(discount=0.0, warm_start="myopic", offset="none")
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.control_variate: must be "
                                                    "one of .*got 'mean'"):
        SequoiaConfig(control_variate="mean")
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.validate_every: must be >= 0"):
        SequoiaConfig(validate_every=-1)
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.validation_episodes: must "
                                                    "be >= 1"):
        SequoiaConfig(validation_episodes=0)
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.restarts: must be >= 1"):
        SequoiaConfig(restarts=0)
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.restarts: > 1 needs "
                                                    "validation .*validate_every=0"):
        SequoiaConfig(restarts=2, validate_every=0)
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.gain_table: must be one of "
                                                    ".*got 'lagrangian'"):
        SequoiaConfig(gain_table="lagrangian")
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.gain_table: 'both' needs "
                                                    "validation"):
        SequoiaConfig(gain_table="both", validate_every=0)
    assert SequoiaConfig(gain_table="both", restarts=2).trainings == (False, True, False, True)
    assert SequoiaConfig(gain_table="whittle").trainings == (True,)
    with pytest.raises(InvalidParameterError, match=r"SequoiaConfig.discount: must be in "
                                                    r"\(0, 1\) with the Whittle gain table"):
        SequoiaConfig(discount=0.0, warm_start="myopic", offset="none", control_variate="none",
                      gain_table="whittle")


def test_schedules_keep_learning():
    cfg = SequoiaConfig(episodes=100, learning_rate=1e-3, lr_floor=0.1)
    assert cfg.learning_rate_at(0, 2000) == pytest.approx(1e-3)
    assert cfg.learning_rate_at(2000, 2000) == pytest.approx(1e-4)
    assert cfg.learning_rate_at(1000, 2000) == pytest.approx(5.5e-4)
    assert cfg.epsilon(0) == 0.5 and cfg.epsilon(99) == pytest.approx(0.05)


def test_training_follows_the_papers_protocol_by_default():
    """Spec §1: training starts from Bernoulli(0.5) states, episodes of H = 20; §4's defects
    avoided: hard target copies (not Polyak with τ = 1e-6), and a learning rate that keeps
    10 % at the end (×0.9 an episode leaves 4 % after 30 episodes)."""
    cfg = SequoiaConfig()
    assert (cfg.p_high, cfg.horizon) == (0.5, 20) and cfg.target_update >= 1
    steps = cfg.episodes * cfg.horizon
    assert min(cfg.learning_rate_at(k, steps) for k in range(0, steps + 1, 100)) == \
        pytest.approx(0.1 * cfg.learning_rate)


def test_training_is_seeded(tiny_capacity):
    cfg = SequoiaConfig(episodes=4, **SMALL)      # 40 transitions: DQN steps, not the warm
    a = train_sequoia(tiny_capacity, cfg, seed=5, progress=False)   # start alone (2 had none)
    b = train_sequoia(tiny_capacity, cfg, seed=5, progress=False)
    assert a.n_updates == b.n_updates == 40 - 31
    for k in a.state_dict:
        assert torch.equal(a.state_dict[k], b.state_dict[k])
    np.testing.assert_array_equal(a.episode_rewards, b.episode_rewards)


@pytest.mark.parametrize("offset", ["none", "lagrangian"])
def test_dqn_matches_or_beats_the_warm_started_network(tiny_capacity, offset):
    """Exact policy values (backward induction over all 4**4 states): DQN from the warm start
    is at least as good as the warm-started network it began from."""
    d = tiny_capacity
    cfg = SequoiaConfig(episodes=30, target_update=20, offset=offset, **SMALL)
    trained = train_sequoia(d, cfg, seed=1, progress=False)
    myopic = train_sequoia(d, SequoiaConfig(episodes=0, offset=offset, **SMALL), seed=1,
                           progress=False)
    assert trained.n_target_updates >= 10 and trained.cache_hits > 0
    assert trained.n_action_solves > 0 and trained.n_target_solves > 0

    def value(network):
        oracle = BruteForceArgmax(d, cfg.horizon, network)
        return exact_policy_value(d, lambda s, ttg: oracle.solve(s, ttg).action, cfg.horizon)

    assert value(trained.network) >= value(myopic.network) - 1e-9


def test_validation_returns_the_best_validated_network(tiny_capacity, tmp_path):
    cfg = SequoiaConfig(episodes=5, validate_every=2, validation_episodes=3, **SMALL)
    res = train_sequoia(tiny_capacity, cfg, seed=3, progress=False,
                        checkpoint=tmp_path / "ck.pt")
    np.testing.assert_array_equal(res.validated_at, [0, 2, 4, 5])
    best = len(res.validation_rewards) - 1 - int(np.argmax(res.validation_rewards[::-1]))
    assert res.best_episode == res.validated_at[best]              # ties go to the later one
    assert len(res.validated_networks) == 4                        # one network per validation
    for net_k, net_best in zip(res.validated_networks[best].weights, res.network.weights):
        np.testing.assert_array_equal(net_k, net_best)
    assert res.n_action_solves >= 4 * 3 * cfg.horizon              # validation solves counted
    payload = load_checkpoint(tmp_path / "ck.pt")
    assert payload["meta"]["best_episode"] == res.best_episode
    # the kept network alone: the last step's target and optimizer belong to another one
    assert "target" not in payload and "optimizer" not in payload
    q = load_qnetwork(tmp_path / "ck.pt")                          # the checkpoint is the best
    for k, v in q.state_dict().items():
        assert torch.equal(v, res.state_dict[k])
    x = np.random.default_rng(0).random((5, 9))
    np.testing.assert_allclose(res.network.forward(x)[:, 0],
                               q(torch.from_numpy(x).float()).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    # validation draws nothing from the training stream: without it, the last network
    last = train_sequoia(tiny_capacity, SequoiaConfig(**{**cfg.__dict__, "validate_every": 0}),
                         seed=3, progress=False)
    assert last.best_episode == 5 and last.validated_at.size == 0
    assert last.validated_networks == ()
    np.testing.assert_array_equal(last.episode_rewards, res.episode_rewards)
    if res.best_episode == 5:
        for k in last.state_dict:
            assert torch.equal(last.state_dict[k], res.state_dict[k])


def test_restarts_keep_the_best_validated_network_of_all(tiny_capacity, tmp_path):
    cfg = SequoiaConfig(episodes=3, validate_every=2, validation_episodes=2, **SMALL)
    one = train_sequoia(tiny_capacity, cfg, seed=2, progress=False)
    res = train_sequoia(tiny_capacity, SequoiaConfig(**{**cfg.__dict__, "restarts": 3}),
                        seed=2, progress=False, checkpoint=tmp_path / "ck.pt")
    # the first restart is the single run: same episodes, same validations
    np.testing.assert_array_equal(res.episode_rewards[:3], one.episode_rewards)
    np.testing.assert_array_equal(res.validation_rewards[:3], one.validation_rewards)
    assert res.episode_rewards.shape == (9,)
    np.testing.assert_array_equal(res.validated_at, [0, 2, 3] * 3)
    np.testing.assert_array_equal(res.validated_restart, [0, 0, 0, 1, 1, 1, 2, 2, 2])
    # later restarts start from other weights
    assert not np.array_equal(res.validated_networks[3].weights[0],
                              res.validated_networks[0].weights[0])
    assert not np.array_equal(res.validated_networks[6].weights[0],
                              res.validated_networks[3].weights[0])
    best = len(res.validation_rewards) - 1 - int(np.argmax(res.validation_rewards[::-1]))
    assert (res.restart, res.best_episode) == (res.validated_restart[best],
                                               res.validated_at[best])
    for net_k, net_best in zip(res.validated_networks[best].weights, res.network.weights):
        np.testing.assert_array_equal(net_k, net_best)
    assert res.validation_rewards.max() >= one.validation_rewards.max()
    assert load_checkpoint(tmp_path / "ck.pt")["meta"]["restart"] == res.restart
    for k, v in load_qnetwork(tmp_path / "ck.pt").state_dict().items():
        assert torch.equal(v, res.state_dict[k])


def test_selection_rescores_the_top_validated_networks(tiny_capacity):
    """``selection_episodes``: the training stream is unchanged, the ``selection_top`` best
    validated networks are re-scored on fresh episodes, the best there is returned, and each
    fresh score agrees with the exact policy value (backward induction) within 4 standard
    errors."""
    d = tiny_capacity
    base = dict(SMALL, episodes=6, validate_every=1, validation_episodes=1,
                epsilon_start=1.0, epsilon_end=1.0)
    plain = train_sequoia(d, SequoiaConfig(**base), seed=16, progress=False)
    cfg = SequoiaConfig(**base, selection_episodes=100, selection_top=3)
    res = train_sequoia(d, cfg, seed=16, progress=False)      # a seed where validation misled
    np.testing.assert_array_equal(res.episode_rewards, plain.episode_rewards)
    np.testing.assert_array_equal(res.validation_rewards, plain.validation_rewards)
    r = res.validation_rewards
    top = sorted(range(len(r)), key=lambda i: (-r[i], -i))[:3]        # ties: the later first
    assert res.selected.tolist() == top and res.selection_rewards.shape == (3,)
    assert res.whittle_start == -1 and res.selection_episode_rewards.shape == (3, 100)
    kept = res.selected[int(np.argmax(res.selection_rewards))]
    assert (res.restart, res.best_episode) == (0, res.validated_at[kept])
    assert res.best_episode != plain.best_episode          # one validation episode misled
    for net_k, net_kept in zip(res.validated_networks[kept].weights, res.network.weights):
        np.testing.assert_array_equal(net_k, net_kept)
    assert res.n_action_solves == plain.n_action_solves + 3 * 100 * cfg.horizon
    rng = np.random.default_rng(0)
    for i, fresh in zip(res.selected, res.selection_rewards):
        oracle = BruteForceArgmax(d, cfg.horizon, res.validated_networks[i])
        act = lambda s, ttg: oracle.solve(s, ttg).action  # noqa: E731
        exact = exact_policy_value(d, act, cfg.horizon, p_high=cfg.p_high)
        episodes = []                       # the spread of one episode's mean reward
        for _ in range(100):
            s = (rng.random(d.n_arms) < cfg.p_high).astype(np.int64)
            total = 0.0
            for t in range(cfg.horizon):
                step = d.step(s, act(s, cfg.horizon - t), u=rng.random(d.n_arms))
                total, s = total + step.expected_reward, step.next_states
            episodes.append(total / cfg.horizon)
        assert abs(fresh - exact) <= 4 * np.std(episodes, ddof=1) / np.sqrt(100) + 1e-12


def test_selection_can_move_to_another_training(tiny_capacity, tmp_path):
    """With ``gain_table='both'`` the re-selected network may come from the other training
    (another architecture): network, state dict, warm start and checkpoint all follow it."""
    from rmab.planners.sequoia.gains import GainTableNetwork

    cfg = SequoiaConfig(**SMALL, episodes=2, validate_every=1, validation_episodes=1,
                        gain_table="both", selection_episodes=50, selection_top=6)
    res = train_sequoia(tiny_capacity, cfg, seed=3, progress=False,
                        checkpoint=tmp_path / "ck.pt")
    assert res.validated_restart[res.selected[0]] == 1 and res.restart == 0   # moved
    kept = res.selected[int(np.argmax(res.selection_rewards))]
    assert (res.validated_restart[kept], res.validated_at[kept]) == (0, res.best_episode)
    assert not isinstance(res.network, GainTableNetwork)
    for net_k, net_kept in zip(res.validated_networks[kept].weights, res.network.weights):
        np.testing.assert_array_equal(net_k, net_kept)
    meta = load_checkpoint(tmp_path / "ck.pt")["meta"]
    assert (meta["restart"], meta["best_episode"]) == (0, res.best_episode)
    q = load_qnetwork(tmp_path / "ck.pt")
    assert q.gains is None
    for k, v in q.state_dict().items():
        assert torch.equal(v, res.state_dict[k])
    plain = train_sequoia(tiny_capacity, SequoiaConfig(**{**cfg.__dict__, "gain_table": "none",
                                                          "selection_episodes": 0}),
                          seed=3, progress=False)
    assert res.warm_start.loss_after == plain.warm_start.loss_after      # the plain training's


def _arrays(network) -> list:
    """A (gain-tabled) ReLU network's weights, biases and table."""
    plain = getattr(network, "network", network)
    return [*plain.weights, *plain.biases, getattr(network, "gain_table", np.zeros(0))]


def test_beats_is_a_paired_test_with_a_margin():
    from rmab.planners.sequoia.train import beats, paired_difference

    same = [1.0, 2.0, 3.0]
    assert not beats(same, same, 0.0) and not beats(same, same, 2.0)     # no gain, no move
    assert beats([1.1, 2.1, 3.1], same, 50.0)             # the same gain on every episode
    assert not beats([0.9, 1.9, 2.9], same, 0.0)
    diff = np.array([0.3, -0.1, 0.3, -0.1])               # mean 0.1, se 0.2309 / 2
    ratio = diff.mean() / (diff.std(ddof=1) / 2)          # 0.866 standard errors
    base = np.arange(4.0)
    assert beats(base + diff, base, ratio - 0.01) and not beats(base + diff, base, ratio + 0.01)
    assert beats(base + diff, base, 0.0)
    mean, se = paired_difference(base + diff, base)
    assert np.isclose(mean, 0.1) and np.isclose(se, np.sqrt(0.16 / 3) / 2)
    assert np.isnan(paired_difference([2.0], [1.0])[1])
    for bad in (([1.0, 2.0], [1.0]), ([], []), ([[1.0]], [[1.0]])):
        with pytest.raises(InvalidParameterError, match="paired_difference.rewards: must be "
                                                        r"\(k,\)"):
            beats(*bad, 2.0)
    assert beats([2.0], [1.0], 0.0) and not beats([2.0], [1.0], 1.0)  # one episode: no spread


def test_selection_keeps_the_whittle_start_unless_a_network_beats_it(tiny_capacity):
    """With a Whittle-tabled training, its warm start (the Whittle policy) is re-scored with
    the top validated networks and stays unless the best there beats it by more than
    ``selection_margin`` paired standard errors; the training itself is unchanged."""
    from rmab.planners.sequoia.gains import GainTableNetwork
    from rmab.planners.sequoia.train import beats

    base = dict(SMALL, episodes=3, validate_every=1, validation_episodes=1, gain_table="both",
                selection_episodes=30, selection_top=2)
    runs = {}
    for m in (0.0, 2.0, 1e9):
        wall = time.perf_counter()
        runs[m] = train_sequoia(tiny_capacity, SequoiaConfig(**base, selection_margin=m), seed=2,
                                progress=False)
        assert 0 < runs[m].seconds <= time.perf_counter() - wall       # the whole call's time
    ref = runs[0.0]
    start = int(np.flatnonzero((ref.validated_at == 0) & (ref.validated_restart == 1))[0])
    assert ref.whittle_start == start
    for m, res in runs.items():
        np.testing.assert_array_equal(res.validation_rewards, ref.validation_rewards)
        np.testing.assert_array_equal(res.selection_episode_rewards,
                                      ref.selection_episode_rewards)
        assert res.selected.tolist()[:2] == ref.selected.tolist()[:2]
        assert start in res.selected.tolist()
        per = res.selection_episode_rewards
        assert per.shape == (len(res.selected), 30)
        np.testing.assert_allclose(per.mean(axis=1), res.selection_rewards, rtol=1e-12)
        pick = int(np.argmax(res.selection_rewards))
        anchor = res.selected.tolist().index(start)
        kept = (res.selected[pick] if beats(per[pick], per[anchor], m) else start)
        assert (res.validated_restart[kept], res.validated_at[kept]) == (res.restart,
                                                                          res.best_episode)
        for a, b in zip(_arrays(res.validated_networks[kept]), _arrays(res.network)):
            np.testing.assert_array_equal(a, b)
    for m in (2.0, 1e9):          # the best there is ahead by 1.2 standard errors: not enough
        kept = runs[m]
        assert (kept.restart, kept.best_episode) == (1, 0)
        assert isinstance(kept.network, GainTableNetwork)
        assert (kept.network.network.weights[0][:, :tiny_capacity.action_size] == 0).all()
    assert (ref.restart, ref.best_episode) == (0, 3)       # margin 0: the best there
    assert ref.selection_rewards.max() > ref.selection_rewards[ref.selected == start][0]


def test_selection_errors():
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.selection_episodes: must be "
                                                    ">= 0"):
        SequoiaConfig(selection_episodes=-1)
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.selection_top: must be "
                                                    ">= 2"):
        SequoiaConfig(selection_top=1)
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.selection_margin: must be "
                                                    ">= 0"):
        SequoiaConfig(selection_margin=-1.0)
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.selection_episodes: > 0 "
                                                    "needs validation .*validate_every=0"):
        SequoiaConfig(selection_episodes=50, validate_every=0)


@pytest.mark.slow
def test_parallel_target_solves_equal_serial(tiny_capacity):
    d = tiny_capacity
    q = QNetwork(9, (8,), generator=torch.Generator().manual_seed(4))
    net = to_relu_network(q)
    s = np.random.default_rng(0).integers(0, 4, size=(6, 4))
    ttg = np.array([1, 2, 3, 4, 5, 6])
    serial = TargetMaxima(d, SequoiaConfig(**SMALL))
    parallel = TargetMaxima(d, SequoiaConfig(workers=2, **SMALL))
    try:
        for maxima in (serial, parallel):
            maxima.reset(net)
        np.testing.assert_allclose(parallel(s, ttg), serial(s, ttg))
        parallel.reset(to_relu_network(QNetwork(9, (8,), generator=torch.Generator()
                                                .manual_seed(5))))
        serial.reset(parallel._network)
        np.testing.assert_allclose(parallel(s, ttg), serial(s, ttg))   # workers see the new net
        assert parallel.n_solves == serial.n_solves == 12
    finally:
        parallel.close()


def _same(a, b) -> bool:
    """Nested dicts/lists of tensors and plain values, equal exactly."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    return a == b


@pytest.mark.slow
def test_trainings_side_by_side_equal_one_after_another(tiny_capacity, tmp_path):
    """training_jobs = 2: the later trainings run in a spawn worker (each with a target-solve
    worker of its own), with the same numbers."""
    cfg = dict(SMALL, episodes=3, batch_size=8, target_update=5, validate_every=1,
               validation_episodes=2, gain_table="both", restarts=2, selection_episodes=3)
    serial = train_sequoia(tiny_capacity, SequoiaConfig(**cfg), seed=6, progress=False,
                           checkpoint=tmp_path / "serial.pt")
    side = train_sequoia(tiny_capacity, SequoiaConfig(**cfg, training_jobs=2, workers=1),
                         seed=6, progress=False, checkpoint=tmp_path / "side.pt")
    assert serial.validated_restart.tolist() == [r for r in range(4) for _ in range(4)]
    assert serial.n_target_solves > 0 and serial.cache_hits > 0
    for name in ("validation_rewards", "validated_restart", "selected", "selection_rewards",
                 "episode_rewards"):
        np.testing.assert_array_equal(getattr(side, name), getattr(serial, name), err_msg=name)
    for name in ("n_action_solves", "n_target_solves", "cache_hits", "n_target_updates",
                 "n_updates", "restart", "best_episode"):
        assert getattr(side, name) == getattr(serial, name), name
    for k, v in serial.state_dict.items():
        assert torch.equal(side.state_dict[k], v)
    a, b = load_checkpoint(tmp_path / "serial.pt"), load_checkpoint(tmp_path / "side.pt")
    assert _same(a["model"], b["model"])
    a["meta"].pop("config"), b["meta"].pop("config")                 # training_jobs differs
    assert _same(a["meta"], b["meta"])
    assert len(set(serial.episode_rewards.reshape(4, -1).sum(axis=1).round(9))) > 1


def test_training_jobs_errors():
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.training_jobs: must be >= 1"):
        SequoiaConfig(training_jobs=0)
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.training_jobs: must be an "
                                                    "integer"):
        SequoiaConfig(training_jobs=1.5)


# -- gain table ------------------------------------------------------------------------------

def tabled_qnetwork(domain, seed=0, hidden=(6, 5), n_periods=0):
    from rmab.planners.sequoia.gains import table_args

    q = QNetwork(domain.action_size + domain.n_arms + 1, hidden,
                 generator=torch.Generator().manual_seed(seed),
                 **table_args(domain, n_periods))
    assert q.gains.shape == (((n_periods,) if n_periods else ())
                             + (domain.n_arms, domain.n_states, domain.arms.n_levels))
    return q


def test_per_period_table_export_matches_torch_by_time_to_go():
    """A per-period table: torch, its numpy export and a by-hand sum of ``G[τ - 1]`` agree."""
    from rmab.domains import make_domain
    from rmab.planners.sequoia.features import encode_inputs
    from rmab.planners.sequoia.gains import GainTableNetwork

    d, H = make_domain("scheduling", n_arms=6, budget=2, seed=0), 7
    q, rng = tabled_qnetwork(d, n_periods=H), np.random.default_rng(0)
    with torch.no_grad():
        q.gains.normal_(generator=torch.Generator().manual_seed(2))
    acts = np.stack([d.sample_action(rng) for _ in range(4 * H)])
    s = rng.integers(0, d.n_states, (4 * H, d.n_arms))
    tau = np.tile(np.arange(1, H + 1), 4)
    x = encode_inputs(acts, s, tau, H, d.n_states)
    with torch.no_grad():
        ref = q(torch.from_numpy(x)).numpy()
        body = q.body(torch.from_numpy(x)).numpy()
    table = q.gains.detach().double().numpy()
    lv = np.stack([d.arm_levels(a) for a in acts])
    by_hand = [sum(table[tau[i] - 1, j, s[i, j], lv[i, j]] for j in range(d.n_arms)
                   if lv[i, j] > 0) for i in range(len(acts))]
    np.testing.assert_allclose(ref - body, by_hand, rtol=1e-5, atol=1e-5)
    net = to_relu_network(q)
    assert isinstance(net, GainTableNetwork) and net.n_periods == H
    assert (net.gain_table[..., 0] == 0).all()
    np.testing.assert_allclose(net.forward(x.astype(float))[:, 0], ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["capacity", "interventions"])
def test_gain_table_export_matches_torch(kind):
    from rmab.domains import make_domain
    from rmab.planners.sequoia.features import encode_inputs
    from rmab.planners.sequoia.gains import GainTableNetwork

    d = make_domain(kind, n_arms=12 if kind == "interventions" else 6, budget=2, seed=0)
    q, rng = tabled_qnetwork(d), np.random.default_rng(0)
    with torch.no_grad():
        q.gains.normal_(generator=torch.Generator().manual_seed(1))
    acts = np.stack([d.sample_action(rng) for _ in range(9)])
    x = encode_inputs(acts, rng.integers(0, d.n_states, (9, d.n_arms)), 3, 10, d.n_states)
    with torch.no_grad():
        ref = q(torch.from_numpy(x)).numpy()
    net = to_relu_network(q)
    assert isinstance(net, GainTableNetwork)
    np.testing.assert_allclose(net.forward(x.astype(float))[:, 0], ref, rtol=1e-5, atol=1e-5)
    assert (net.gain_table[:, :, 0] == 0).all()       # level 0 carries no gain
    x0 = encode_inputs(np.zeros_like(acts), rng.integers(0, d.n_states, (9, d.n_arms)), 3, 10,
                       d.n_states)
    with torch.no_grad():
        np.testing.assert_allclose(q.table_term(torch.from_numpy(x0)).numpy(), 0.0)


@pytest.mark.parametrize("kind", ["capacity", "scheduling", "path", "interventions"])
def test_whittle_warm_start_plays_the_whittle_policy(kind):
    from rmab.domains import make_domain
    from rmab.domains.index_baselines import WhittleDomainPlanner
    from rmab.planners.sequoia.gains import whittle_gain_table

    d = make_domain(kind, n_arms=12 if kind == "interventions" else 7, budget=2, seed=3)
    q = tabled_qnetwork(d, hidden=(8, 8))
    prior = whittle_gain_table(d, 0.99)
    cfg = SequoiaConfig(**{**SMALL, "gain_table": "whittle"})
    res = warm_start(q, d, cfg, np.random.default_rng(0), 1 / d.n_arms, bound=None, prior=prior)
    assert res.loss_after < res.loss_before
    w = q.linears[0].weight.detach().numpy()
    assert (w[:, :d.action_size] == 0).all()                  # the body ignores the action
    table = q.gains.detach().numpy()
    kappa = table[prior > 0] / prior[prior > 0]
    assert np.ptp(kappa) < 1e-5 * kappa.max()                       # κ · Whittle's gains
    brute = BruteForceArgmax(d, SMALL["horizon"], to_relu_network(q))
    whittle = WhittleDomainPlanner().fit(d, seed=0)
    rng = np.random.default_rng(1)
    for _ in range(15):
        s = rng.integers(0, d.n_states, d.n_arms)
        got = brute.solve(s, int(rng.integers(1, SMALL["horizon"] + 1))).action
        want = whittle.plan(s, t=0)
        assert np.array_equal(got, want) or np.isclose(                # ties: equal gains
            whittle.gain_table[np.arange(d.n_arms), s, d.arm_levels(got)].sum(),
            whittle.gain_table[np.arange(d.n_arms), s, d.arm_levels(want)].sum())


@pytest.mark.parametrize("kind", ["capacity", "scheduling", "path", "interventions"])
def test_finite_whittle_warm_start_plays_the_whittle_finite_policy(kind):
    """``whittle="finite"``: the warm-started greedy action at ``τ`` periods to go is the
    ``whittle-finite`` policy's at period ``H - τ`` (or ties with it on its gains)."""
    from rmab.domains import make_domain
    from rmab.domains.index_baselines import FiniteWhittleDomainPlanner
    from rmab.planners.sequoia.gains import whittle_gain_table

    d = make_domain(kind, n_arms=12 if kind == "interventions" else 7, budget=2, seed=3)
    H = SMALL["horizon"]
    prior = whittle_gain_table(d, 0.99, horizon=H)
    assert prior.shape == (H, d.n_arms, d.n_states, d.arms.n_levels)
    q = tabled_qnetwork(d, hidden=(8, 8), n_periods=H)
    cfg = SequoiaConfig(**{**SMALL, "gain_table": "whittle", "whittle": "finite"})
    res = warm_start(q, d, cfg, np.random.default_rng(0), 1 / d.n_arms, bound=None, prior=prior)
    assert res.loss_after < res.loss_before
    kappa = q.gains.detach().numpy()[prior > 0] / prior[prior > 0]
    assert np.ptp(kappa) < 1e-5 * kappa.max()
    brute = BruteForceArgmax(d, H, to_relu_network(q))
    finite = FiniteWhittleDomainPlanner(horizon=H).fit(d, seed=0)
    assert not np.allclose(finite.gain_tables[0], finite.gain_tables[-1])   # periods differ
    rng = np.random.default_rng(1)
    for _ in range(20):
        s, t = rng.integers(0, d.n_states, d.n_arms), int(rng.integers(0, H))
        got = brute.solve(s, H - t).action
        want = finite.plan(s, t=t)
        gain = finite.gain_tables[t][np.arange(d.n_arms), s]
        assert np.array_equal(got, want) or np.isclose(
            gain[np.arange(d.n_arms), d.arm_levels(got)].sum(),
            gain[np.arange(d.n_arms), d.arm_levels(want)].sum())


def test_whittle_table_without_warm_start_data_and_errors(tiny_capacity):
    from rmab.planners.sequoia.gains import whittle_gain_table

    q, prior = tabled_qnetwork(tiny_capacity), whittle_gain_table(tiny_capacity, 0.99)
    cfg = SequoiaConfig(**{**SMALL, "warm_start_samples": 0, "gain_table": "whittle"})
    warm_start(q, tiny_capacity, cfg, np.random.default_rng(0), prior=prior)
    np.testing.assert_allclose(q.gains.detach().numpy(), prior, rtol=1e-6)
    assert (q.linears[0].weight.detach()[:, :tiny_capacity.action_size] == 0).all()
    plain = QNetwork(9, (4,), generator=torch.Generator().manual_seed(0))
    with pytest.raises(InvalidParameterError, match="warm_start.prior: needs a QNetwork with "
                                                    "a gain table"):
        warm_start(plain, tiny_capacity, cfg, np.random.default_rng(0), prior=prior)
    with pytest.raises(InvalidParameterError, match=r"SequoiaConfig.discount: must be in \(0, 1\) "
                                                    "with the Whittle gain table"):
        SequoiaConfig(discount=1.0, gain_table="both")


def test_checkpoint_round_trip_with_a_gain_table(tmp_path, tiny_capacity):
    q = tabled_qnetwork(tiny_capacity)
    with torch.no_grad():
        q.gains.uniform_(generator=torch.Generator().manual_seed(4))
    q2 = load_qnetwork(save_checkpoint(tmp_path / "ck.pt", q))
    x = torch.rand(5, 9, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        assert torch.equal(q(x), q2(x))
    assert torch.equal(q2.levels_map, q.levels_map)


def test_checkpoint_round_trip_with_a_per_period_table(tmp_path, tiny_capacity):
    q = tabled_qnetwork(tiny_capacity, n_periods=4)
    with torch.no_grad():
        q.gains.uniform_(generator=torch.Generator().manual_seed(4))
    q2 = load_qnetwork(save_checkpoint(tmp_path / "ck.pt", q))
    assert q2.gains.shape == q.gains.shape
    x = torch.rand(5, 9, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        assert torch.equal(q(x), q2(x))


def test_training_with_the_finite_whittle_table(tiny_capacity):
    """``whittle="finite"`` trains a per-period table; undiscounted targets are allowed with
    it (the finite indices do not need a discount)."""
    cfg = SequoiaConfig(**{**SMALL, "episodes": 4, "validate_every": 2, "discount": 1.0,
                           "validation_episodes": 2, "gain_table": "whittle",
                           "whittle": "finite"})
    res = train_sequoia(tiny_capacity, cfg, seed=0, progress=False)
    assert res.network.gain_table.shape == (SMALL["horizon"], 4, 4, 2)
    assert res.n_updates == 40 - 31          # DQN steps through the table (2 episodes had none)
    again = train_sequoia(tiny_capacity, cfg, seed=0, progress=False)
    np.testing.assert_array_equal(again.network.gain_table, res.network.gain_table)
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.whittle: must be one of "
                                                    r"\('discounted', 'finite'\); got 'fixed'"):
        SequoiaConfig(whittle="fixed")
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.whittle: 'finite' chooses "
                                                    "the gain table's start and needs one"):
        SequoiaConfig(whittle="finite")


def test_training_with_the_whittle_gain_table(tiny_capacity):
    from rmab.planners.sequoia.gains import GainTableNetwork

    cfg = SequoiaConfig(**{**SMALL, "episodes": 4, "validate_every": 2,
                           "validation_episodes": 2, "gain_table": "whittle"})
    res = train_sequoia(tiny_capacity, cfg, seed=0, progress=False)
    assert isinstance(res.network, GainTableNetwork) and res.validated_at[0] == 0
    assert res.n_updates == 40 - 31          # DQN steps through the table (3 episodes had none)
    again = train_sequoia(tiny_capacity, cfg, seed=0, progress=False)
    np.testing.assert_array_equal(again.network.gain_table, res.network.gain_table)


def test_both_gain_tables_keep_the_best_validated_training(tiny_capacity):
    from rmab.planners.sequoia.gains import GainTableNetwork

    base = {**SMALL, "episodes": 2, "validate_every": 1, "validation_episodes": 3}
    both = train_sequoia(tiny_capacity, SequoiaConfig(**base, gain_table="both"), seed=4,
                         progress=False)
    plain = train_sequoia(tiny_capacity, SequoiaConfig(**base), seed=4, progress=False)
    assert both.validated_restart.tolist() == [0, 0, 0, 1, 1, 1]
    n = len(plain.validation_rewards)       # the first training is the plain run's stream
    np.testing.assert_array_equal(both.validation_rewards[:n], plain.validation_rewards)
    best = int(np.argmax(both.validation_rewards[::-1]))       # ties: the later
    best = len(both.validation_rewards) - 1 - best
    assert both.restart == both.validated_restart[best]
    assert isinstance(both.network, GainTableNetwork) == bool(both.restart)


# -- limits, input checks, checkpoint metadata, validation episodes ----------------------------

LIMITED = dict(argmax="mip", episodes=2, horizon=5, batch_size=8, target_update=5,
               warm_start_samples=100, warm_start_epochs=1, validate_every=0, hidden=(32, 32),
               stability=0.0, time_limit=1e-3, target_time_limit=1e-3)


def test_time_limited_training_solves_are_counted_and_warned_once(monkeypatch):
    """Acting and target solves that stop at their time limit are counted in the result and
    reported by one SolverLimitWarning at the end (training was silent about them)."""
    import warnings

    from rmab.domains import make_domain
    from rmab.errors import SolverLimitWarning
    from rmab.planners.sequoia.argmax import MIPArgmax

    seen = []
    solve = MIPArgmax.solve

    def spy(self, states, time_to_go):
        res = solve(self, states, time_to_go)
        seen.append(res.status)
        return res

    monkeypatch.setattr(MIPArgmax, "solve", spy)
    d = make_domain("capacity", 10, 3, seed=4)        # 1 ms is too short for its MIPs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = train_sequoia(d, SequoiaConfig(**LIMITED), seed=0, progress=False)
    assert len(seen) == res.n_action_solves + res.n_target_solves
    assert 0 < res.n_action_limited <= res.n_action_solves
    assert 0 < res.n_target_limited <= res.n_target_solves
    assert res.n_action_limited + res.n_target_limited == sum(s != "optimal" for s in seen)
    limits = [w for w in caught if issubclass(w.category, SolverLimitWarning)]
    assert len(limits) == 1 and limits[0].filename == __file__
    assert (f"train_sequoia: {res.n_action_limited} of {res.n_action_solves} acting solves "
            f"(SequoiaConfig.time_limit=0.001) and {res.n_target_limited} of "
            f"{res.n_target_solves} target solves") in str(limits[0].message)
    assert "those targets lower bounds on the maxima" in str(limits[0].message)


def test_exact_training_solves_give_no_limit_warning(tiny_capacity):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = train_sequoia(tiny_capacity, SequoiaConfig(episodes=4, **SMALL), seed=0,
                            progress=False)           # 40 transitions: a batch of 32 and more
    assert res.n_action_limited == res.n_target_limited == 0
    assert res.n_updates == 40 - 31 and res.n_target_solves > 0


def test_rmab_train_prints_the_solves_at_their_time_limit(tmp_path, capsys):
    import re

    from rmab.cli import main

    code = main(["train", "--domain", "capacity", "--arms", "10", "--budget", "3",
                 "--episodes", "0", "--horizon", "4", "--hidden", "32,32", "--stability", "0",
                 "--argmax", "mip", "--time-limit", "0.001", "--validation-episodes", "1",
                 "--out", str(tmp_path), "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0
    assert re.search(r"MIP solves 4 \(acting 4, [1-4] at the time limit; targets 0, 0 at the "
                     r"time limit\)", out), out
    assert "rmab: warning: train_sequoia: " in err


def test_public_training_functions_refuse_bad_input(tiny_capacity, tmp_path):
    """Typed errors naming the field, not AttributeError or torch's RuntimeError."""
    from rmab.planners.sequoia.train import beats

    d, cfg = tiny_capacity, SequoiaConfig(**{**SMALL, "warm_start_samples": 100,
                                             "warm_start_epochs": 1})

    def qnet(n_inputs=9):
        return QNetwork(n_inputs, (4,), generator=torch.Generator().manual_seed(0))

    # a seed is taken as the seed of a Generator, anything else refused
    seeded = warm_start(qnet(), d, cfg, 3)
    assert seeded.loss_after == warm_start(qnet(), d, cfg, np.random.default_rng(3)).loss_after
    with pytest.raises(InvalidParameterError, match="warm_start.rng: must be an integer, numpy "
                                                    "SeedSequence or Generator; got 'x'"):
        warm_start(qnet(), d, cfg, "x")
    with pytest.raises(InvalidModelError, match=r"warm_start.qnet: must have action_size \+ "
                                                r"n_arms \+ 1 = 9 inputs for this domain; got 12"):
        warm_start(qnet(12), d, cfg, 0)
    with pytest.raises(InvalidParameterError, match="warm_start.config: must be a "
                                                    "SequoiaConfig; got NoneType"):
        warm_start(qnet(), d, None, 0)
    with pytest.raises(InvalidParameterError, match="warm_start.qnet: must be a QNetwork; got "
                                                    "dict"):
        warm_start({}, d, cfg, 0)
    with pytest.raises(InvalidParameterError, match="warm_start.domain: must be a coRMAB "
                                                    "Domain"):
        warm_start(qnet(), "capacity", cfg, 0)
    tabled = tabled_qnetwork(d)
    with pytest.raises(InvalidParameterError, match=r"warm_start.prior: must have the shape of "
                                                    r"the network's gain table \(4, 4, 2\); "
                                                    r"got \(4, 4\)"):
        warm_start(tabled, d, cfg, 0, prior=np.zeros((4, 4)))
    with pytest.raises(PlanningError, match=r"TargetMaxima: call reset\(network\) first"):
        TargetMaxima(d, cfg)(np.zeros((1, 4), np.int64), np.array([2]))
    with pytest.raises(InvalidParameterError, match="TargetMaxima.config: must be a "
                                                    "SequoiaConfig; got NoneType"):
        TargetMaxima(d, None)
    with pytest.raises(InvalidParameterError, match="save_checkpoint.qnet: must be a QNetwork; "
                                                    "got dict"):
        save_checkpoint(tmp_path / "ck.pt", {})
    with pytest.raises(InvalidParameterError, match="save_checkpoint.target: must be a "
                                                    "QNetwork; got dict"):
        save_checkpoint(tmp_path / "ck.pt", qnet(), target={})
    with pytest.raises(InvalidParameterError, match="save_checkpoint.optimizer: must be a "
                                                    "torch optimizer; got dict"):
        save_checkpoint(tmp_path / "ck.pt", qnet(), optimizer={})
    with pytest.raises(InvalidParameterError, match="save_checkpoint.meta: must be a dict; got "
                                                    "list"):
        save_checkpoint(tmp_path / "ck.pt", qnet(), meta=[1])
    with pytest.raises(InvalidParameterError, match="save_checkpoint.path: must be a path"):
        save_checkpoint(3.5, qnet())
    with pytest.raises(InvalidParameterError, match=r"save_checkpoint.meta\['run'\]\[1\]: must "
                                                    r"hold only None, .*; got object"):
        save_checkpoint(tmp_path / "ck.pt", qnet(), meta={"run": [1, object()]})
    with pytest.raises(InvalidParameterError, match=r"save_checkpoint.meta: keys must be "
                                                    r"strings; got 1"):
        save_checkpoint(tmp_path / "ck.pt", qnet(), meta={1: "a"})
    assert not list(tmp_path.iterdir())                         # nothing written
    with pytest.raises(InvalidParameterError, match="to_relu_network.qnet: must be a QNetwork"):
        to_relu_network({})
    with pytest.raises(InvalidParameterError, match="beats.margin: must be >= 0.0; got -1.0"):
        beats([1.0, 2.0], [0.0, 0.0], -1)


def test_checkpoint_metadata_with_numpy_values_loads_back_as_plain_python(tmp_path):
    """A review: np.float64 (a TrainResult's reward) or np.str_ (a config field) in ``meta``
    was saved, and then refused by the checkpoint's own weights_only load."""
    meta = {"best": np.array([1.5, 2.5]).max(), "argmax": np.array(["mip"])[0],
            "hidden": (np.int64(4), 8), "flags": [np.bool_(True), None]}
    net = QNetwork(13, (4,), generator=torch.Generator())
    save_checkpoint(tmp_path / "ck.pt", net, meta=meta)
    back = load_checkpoint(tmp_path / "ck.pt")["meta"]
    assert back == {"best": 2.5, "argmax": "mip", "hidden": (4, 8), "flags": [True, None]}
    assert [type(v) for v in (back["best"], back["argmax"], back["hidden"][0])] == [float, str,
                                                                                    int]


def test_brute_force_argmax_on_a_domain_without_a_list_names_the_setting(tmp_path, capsys):
    """``argmax='brute'`` where the domain cannot list its actions: the error names
    ``SequoiaConfig.argmax`` (not the internal ``BruteForceArgmax.domain``) and the choices
    that work, before any training."""
    from rmab.cli import main
    from rmab.domains import make_domain

    d = make_domain("capacity", 40, 5, seed=0)
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.argmax: must be 'auto' or "
                                                    "'mip' for a domain that cannot list its "
                                                    "feasible actions .*got 'brute' with a "
                                                    "capacity domain of action_size 40"):
        train_sequoia(d, SequoiaConfig(argmax="brute", episodes=1), progress=False)
    assert main(["train", "--domain", "capacity", "--arms", "40", "--argmax", "brute",
                 "--out", str(tmp_path / "out"), "--no-progress"]) == 1
    assert "rmab: error: train.argmax: must be 'auto' or 'mip'" in capsys.readouterr().err


def test_checkpoint_records_the_gradient_steps_behind_the_kept_network(tiny_capacity,
                                                                        tmp_path):
    """``meta["updates"]``: the gradient steps when the kept network was validated, not the
    run's total (one step per period once the buffer holds a batch)."""
    cfg = SequoiaConfig(**SMALL, episodes=4, batch_size=8, validate_every=1,
                        validation_episodes=2)
    res = train_sequoia(tiny_capacity, cfg, seed=0, progress=False,
                        checkpoint=tmp_path / "ck.pt")
    assert res.best_episode == 1                      # a seed where an early network is kept
    meta = load_checkpoint(tmp_path / "ck.pt")["meta"]
    assert meta["updates"] == 1 * cfg.horizon - (cfg.batch_size - 1)
    last = train_sequoia(tiny_capacity, SequoiaConfig(**{**cfg.__dict__, "validate_every": 0}),
                         seed=0, progress=False, checkpoint=tmp_path / "last.pt")
    assert last.best_episode == 4
    assert load_checkpoint(tmp_path / "last.pt")["meta"]["updates"] == 4 * 10 - 7


def test_validation_episodes_start_the_acting_oracle_afresh(tiny_capacity):
    """Each validation episode starts the MIP from the construction solve's block, as
    SequoiaPlanner does each episode, not from wherever training's acting left it (with a
    time limit the start changes the incumbent, so the validation score depended on what the
    oracle solved before)."""
    from rmab.planners.sequoia.argmax import MIPArgmax
    from rmab.planners.sequoia.train import _Episodes

    d, H = tiny_capacity, 3
    net = to_relu_network(QNetwork(9, (8, 8), generator=torch.Generator().manual_seed(1)))
    starts = []

    class Recording(MIPArgmax):
        def solve(self, states, time_to_go):
            if time_to_go == H:                         # an episode's first step
                starts.append(self._start is self._first)
            return super().solve(states, time_to_go)

    oracle = Recording(d, H, net, time_limit=10.0)
    rng = np.random.default_rng(0)
    while oracle._start is oracle._first:               # training's acting moved the start
        oracle.solve(rng.integers(0, d.n_states, d.n_arms), 2)
    play = _Episodes(d, SequoiaConfig(**{**SMALL, "horizon": H}), np.random.default_rng(1), 3)
    play.play(net, oracle)
    assert starts == [True, True, True]


def test_the_progress_bar_names_the_stage_and_shows_each_episodes_own_reward(
        tiny_capacity, capsys, monkeypatch):
    """The warm start and the validations ran behind a bar still at 0 (about 7 s at J = 20,
    B = 5), and each episode showed the reward of the one before it (a walkthrough). The bar
    draws every update here: the last drawing alone, at its close, shows the last episode's
    reward whatever the order (a review)."""
    import re
    import sys

    from tqdm import tqdm

    import rmab.planners.sequoia.train as train

    def every_update(total, enabled):
        return tqdm(total=total, desc="SEQUOIA", file=sys.stderr, disable=not enabled,
                    mininterval=0, miniters=1)

    monkeypatch.setattr(train, "_progress", every_update)
    cfg = SequoiaConfig(**{**SMALL, "warm_start_samples": 100, "warm_start_epochs": 2,
                           "episodes": 3, "validate_every": 1, "validation_episodes": 1,
                           "batch_size": 8})
    res = train_sequoia(tiny_capacity, cfg, seed=0, progress=True)
    err = capsys.readouterr().err
    for stage in ("warm start", "validation", "DQN"):
        assert f"SEQUOIA ({stage})" in err, err
    drawn = (re.search(r" ([0-9])/3 .*reward=(-?[0-9.]+)", d) for d in re.split("[\r\n]", err))
    shown = [m.groups() for m in drawn if m]
    assert len({r for _, r in shown}) > 1 and {n for n, _ in shown} == {"1", "2", "3"}, err
    for done, reward in shown:
        assert reward == f"{res.episode_rewards[int(done) - 1]:.3f}", (done, err)


def test_hard_updates_lr_schedule_and_starts_follow_the_config(tiny_capacity, monkeypatch):
    """Counted by hand on 4 episodes of 10 steps with batches of 8: 33 gradient steps (none
    until the buffer holds a batch), a hard target update after steps 4, 8, .., 32 (8, not
    one at step 1), the cosine schedule spread over exactly those 33 steps, every episode,
    of training and of validation, starting from Bernoulli(p_high = 1) states: all ones, and
    the replay buffer given each step with time-to-go H - t = 10, 9, .., 1 (1: no bootstrap)."""
    import rmab.planners.sequoia.train as train

    d = tiny_capacity
    schedule, starts, stored = [], [], []

    class Recording(train.ReplayBuffer):
        def add(self, states, action, reward, next_states, time_to_go, levels):
            stored.append(time_to_go)
            super().add(states, action, reward, next_states, time_to_go, levels)

    rate = SequoiaConfig.learning_rate_at

    def recording_rate(self, update, total):
        schedule.append((update, total))
        return rate(self, update, total)

    step = type(d).step

    def recording_step(self, states, action, **kw):
        starts.append(np.array(states))
        return step(self, states, action, **kw)

    monkeypatch.setattr(SequoiaConfig, "learning_rate_at", recording_rate)
    monkeypatch.setattr(type(d), "step", recording_step)   # a frozen domain
    monkeypatch.setattr(train, "ReplayBuffer", Recording)
    cfg = SequoiaConfig(**{**SMALL, "warm_start_samples": 100, "warm_start_epochs": 1},
                        episodes=4, batch_size=8, target_update=4, p_high=1.0,
                        validate_every=2, validation_episodes=2)
    res = train_sequoia(d, cfg, seed=0, progress=False)
    assert res.n_updates == 4 * 10 - 7 == 33
    assert res.n_target_updates == 33 // 4 == 8
    assert schedule == [(k, 33) for k in range(33)]
    assert len(starts) == (4 + 3 * 2) * 10          # training and 3 validations of 2 episodes
    np.testing.assert_array_equal(np.stack(starts[::10]), 1)
    assert stored == list(range(10, 0, -1)) * 4


def test_warm_start_with_a_prior_depends_on_the_prior_only_up_to_scale(tiny_capacity):
    """Only ``κ`` of the prior is fitted, started at its least-squares value: a prior ten
    times larger gives the same ``κ · prior`` table, body and held-out losses (the regression
    is invariant to the prior's scale), not a table ten times larger."""
    from rmab.planners.sequoia.gains import whittle_gain_table

    prior = whittle_gain_table(tiny_capacity, 0.99)
    cfg = SequoiaConfig(**{**SMALL, "warm_start_samples": 300, "warm_start_epochs": 5},
                        gain_table="whittle", warm_start="myopic", offset="none")
    fits = []
    for factor in (1.0, 10.0):
        q = tabled_qnetwork(tiny_capacity, hidden=(8, 8))
        res = warm_start(q, tiny_capacity, cfg, np.random.default_rng(0), 0.25,
                         prior=factor * prior)
        fits.append((q, res))
    (q1, r1), (q10, r10) = fits
    np.testing.assert_allclose(q10.gains.detach().numpy(), q1.gains.detach().numpy(),
                               rtol=1e-3, atol=1e-6)
    for a, b in zip(q1.linears, q10.linears):
        np.testing.assert_allclose(b.weight.detach().numpy(), a.weight.detach().numpy(),
                                   rtol=1e-3, atol=1e-5)
    assert r10.loss_before == pytest.approx(r1.loss_before, rel=1e-4)
    assert r10.loss_after == pytest.approx(r1.loss_after, rel=1e-3)


def test_warm_start_with_a_prior_reports_the_returned_networks_held_out_error(tiny_capacity):
    """The body stays blind to the action through the whole fit, so ``loss_after`` is the
    mean squared error of the network handed back (blind body plus ``κ · prior``) on the
    held-out first 10 % of the same seeded dataset (numpy), not that of a model whose body
    saw the action until its weights were zeroed at the end."""
    from rmab.planners.sequoia.gains import whittle_gain_table
    from rmab.planners.sequoia.warm_targets import warm_start_dataset

    d = tiny_capacity
    cfg = SequoiaConfig(**{**SMALL, "warm_start_samples": 300, "warm_start_epochs": 5},
                        gain_table="whittle", warm_start="myopic", offset="none")
    q = tabled_qnetwork(d, hidden=(8, 8))
    res = warm_start(q, d, cfg, np.random.default_rng(0), 0.25,
                     prior=whittle_gain_table(d, 0.99))
    assert (q.linears[0].weight.detach()[:, :d.action_size] == 0).all()
    x, y = warm_start_dataset(d, 300, cfg.horizon, np.random.default_rng(0), 0.25, "myopic")
    with torch.no_grad():
        out = q(torch.from_numpy(x[:30])).double().numpy()
    assert res.loss_after == pytest.approx(np.mean((out - y[:30]) ** 2), rel=1e-5)
