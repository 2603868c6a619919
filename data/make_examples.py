"""Regenerate the bundled example instance: ``python data/make_examples.py``.

``health_example.npz``: ``rmab.models.health_intervention(100, seed=0)`` — 100 two-state
health-intervention arms (none/call/visit, costs 0/1/2), budget 10 (10 % of the arms),
discount 0.95, three risk clusters. See ``docs/instances.md`` for the parameter ranges.
"""

from pathlib import Path

from rmab.models import health_intervention, save_instance

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    inst = health_intervention(100, seed=0)
    save_instance(inst, HERE / "health_example.npz")
    print(f"wrote {HERE / 'health_example.npz'}: {inst.n_arms} arms, budget {inst.budget}")
