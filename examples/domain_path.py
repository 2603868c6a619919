"""Path (coRMAB domain 4): arms are graph nodes; a closed route of at most route_length moves
(2B by default) leaves the source and returns; at most B visited nodes are pulled.

Reads the graph from an edge-list CSV (data/graph_example.csv, 20 nodes, 29 edges) and prints
the route behind the myopic action. Run: python examples/domain_path.py
"""

import pathlib

from rmab.domains import initial_states, path_from_csv
from rmab.domains.baselines import make_domain_planner
from rmab.domains.evaluate import evaluate_domain

csv_path = pathlib.Path(__file__).resolve().parents[1] / "data" / "graph_example.csv"
# route_length 12 reaches every node of this graph (the default 2B = 10 leaves nodes 2 and
# 14 out of reach, and path_from_csv warns of them)
domain = path_from_csv(csv_path, budget=5, route_length=12, seed=0)
print(f"graph: {domain.n_arms} nodes, {len(domain.edges)} edges, source {domain.source}, "
      f"route length <= {domain.route_length}")

states = initial_states(domain.n_arms, seed=3)
action = make_domain_planner("myopic").fit(domain).plan(states)
print("pulled nodes:", [int(v) for v in action.nonzero()[0]])
print("route:", " -> ".join(map(str, domain.route(action))))

result = evaluate_domain(domain, ["no-action", "random", "sampling", "myopic",
                                  "iterative-myopic"], episodes=2, horizon=5, seed=0)
print(result.table())
