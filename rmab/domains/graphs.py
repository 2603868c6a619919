"""Graphs for the path domain: a generator of sparse connected graphs and an edge-list CSV
reader.

The paper's graphs are subgraphs of the London Underground with about 29, 56, 82, 108 and 133
edges for 20, 40, 60, 80 and 100 stations. :func:`sparse_connected_graph` builds graphs of that
size and degree: random points in the unit square, their Euclidean minimum spanning tree
(connected), then the shortest remaining point pairs until the edge count is reached —
planar-looking, transit-like networks. Node 0 is relabelled to a graph centre (minimum
eccentricity), the default source of routes.

Edge-list CSV (:func:`read_edge_list`): a header ``u,v``, then one undirected edge per line as
two node indices ``0 <= u, v < n_nodes``; blank lines and lines starting with ``#`` are ignored.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import numpy as np

from rmab._validation import as_generator, check_number, check_path
from rmab.errors import BatchInputError, InvalidModelError, InvalidParameterError

__all__ = ["sparse_connected_graph", "default_edge_count", "read_edge_list", "write_edge_list",
           "check_edges", "PAPER_EDGE_COUNTS"]

PAPER_EDGE_COUNTS = {20: 29, 40: 56, 60: 82, 80: 108, 100: 133}


def default_edge_count(n_nodes: int) -> int:
    """Edges of the paper's graphs at ``n_nodes`` (interpolated; ``1.3 n + 3`` outside 20-100,
    capped at the complete graph: below about 10 nodes that is dense, e.g. K5 at 5 nodes)."""
    xs = sorted(PAPER_EDGE_COUNTS)
    if xs[0] <= n_nodes <= xs[-1]:
        m = int(round(np.interp(n_nodes, xs, [PAPER_EDGE_COUNTS[x] for x in xs])))
    else:
        m = int(round(1.3 * n_nodes + 3))
    return max(n_nodes - 1, min(m, n_nodes * (n_nodes - 1) // 2))


_MAX_NODES = 10_000         # the path domain keeps all pairwise distances (n x n)


def check_edges(owner: str, edges, n_nodes: int) -> np.ndarray:
    """Undirected edges as int64 (n_edges, 2) with ``u < v``, sorted, no loops or repeats."""
    try:
        arr = np.asarray(edges)
    except ValueError as exc:                       # ragged rows
        raise InvalidModelError(f"{owner}.edges: must have shape (n_edges, 2); got rows of "
                                f"different lengths") from exc
    if arr.size == 0:
        arr = arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InvalidModelError(f"{owner}.edges: must have shape (n_edges, 2); got {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not (np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr))):
            raise InvalidModelError(f"{owner}.edges: must be node indices (integers); got "
                                    f"dtype {arr.dtype}")
    bad = (arr < 0) | (arr >= n_nodes)                # before a cast could wrap them around
    if bad.any():
        e = int(np.argwhere(bad)[0][0])
        raise InvalidModelError(f"{owner}.edges: must be node indices in [0, {n_nodes}); got "
                                f"{arr[e].tolist()} (edge {e})")
    arr = arr.astype(np.int64)
    loops = arr[:, 0] == arr[:, 1]
    if loops.any():
        e = int(np.flatnonzero(loops)[0])
        raise InvalidModelError(f"{owner}.edges: must not contain self-loops; got "
                                f"{arr[e].tolist()} (edge {e})")
    norm = np.sort(arr, axis=1)
    uniq, first, counts = np.unique(norm, axis=0, return_index=True, return_counts=True)
    if (counts > 1).any():
        dup = uniq[np.flatnonzero(counts > 1)[0]]
        raise InvalidModelError(f"{owner}.edges: must not repeat an edge; got {dup.tolist()} "
                                f"more than once")
    uniq.setflags(write=False)
    return uniq


def sparse_connected_graph(n_nodes: int = 20, n_edges: int | None = None, *, seed=None
                           ) -> np.ndarray:
    """Edges (n_edges, 2) of a random connected sparse graph (see the module docstring);
    ``n_edges`` defaults to :func:`default_edge_count`."""
    import networkx as nx
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial.distance import pdist, squareform

    owner = "sparse_connected_graph"
    n = check_number(owner, "n_nodes", n_nodes, low=2, integer=True)
    m = default_edge_count(n) if n_edges is None else check_number(
        owner, "n_edges", n_edges, integer=True)
    if not n - 1 <= m <= n * (n - 1) // 2:
        raise InvalidParameterError(f"{owner}.n_edges: must be in [{n - 1}, {n * (n - 1) // 2}]"
                                    f" (from a spanning tree to every pair of the {n} nodes); "
                                    f"got {m}")
    rng = as_generator(seed, f"{owner}.seed")
    pts = rng.random((n, 2))
    dist = squareform(pdist(pts))
    tree = minimum_spanning_tree(dist).tocoo()
    chosen = {(min(u, v), max(u, v)) for u, v in zip(tree.row.tolist(), tree.col.tolist())}
    iu, ju = np.triu_indices(n, 1)
    for k in np.argsort(dist[iu, ju], kind="stable"):
        if len(chosen) >= m:
            break
        chosen.add((int(iu[k]), int(ju[k])))
    graph = nx.Graph(sorted(chosen))
    centre = min(nx.center(graph))
    relabel = np.arange(n)
    relabel[[0, centre]] = relabel[[centre, 0]]
    edges = relabel[np.array(sorted(chosen), dtype=np.int64)]
    return check_edges(owner, edges, n)


def read_edge_list(path, n_nodes: int | None = None) -> tuple[np.ndarray, int]:
    """Read an edge-list CSV; returns ``(edges (n_edges, 2) int64, n_nodes)``.

    ``n_nodes`` defaults to ``1 + the largest index``. Malformed lines raise
    :class:`~rmab.errors.BatchInputError` with the file and line number.
    """
    check_path("read_edge_list", path)
    path = Path(path)
    if not path.is_file():
        raise InvalidParameterError(f"read_edge_list.path: must be an existing file; got "
                                    f"{str(path)!r}")
    if n_nodes is not None:
        n_nodes = int(check_number("read_edge_list", "n_nodes", n_nodes, low=1, integer=True))
    edges, seen, header = [], {}, None
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidParameterError(f"read_edge_list.path: must be a readable file; got "
                                    f"{str(path)!r} ({exc.strerror or exc})") from exc
    if raw.startswith(b"PK\x03\x04"):
        raise BatchInputError("read_edge_list: must be an edge-list CSV ('u,v' rows); got a "
                              "zip archive (an .npz?)", file=str(path))
    try:
        content = raw.decode("utf-8-sig")                       # Excel writes a BOM
    except UnicodeDecodeError as exc:       # exc.object: the bytes after the BOM
        head = exc.object[:exc.start]         # line ends as csv counts them: \n, \r\n, \r
        raise BatchInputError(f"read_edge_list: must be UTF-8 text; got byte "
                              f"0x{exc.object[exc.start]:02x}", file=str(path),
                              line=head.count(b"\n") + head.count(b"\r")
                              - head.count(b"\r\n") + 1) from None
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:                                # a NUL byte, a stray quote
            raise BatchInputError(f"read_edge_list: must be well-formed CSV; {exc}",
                                  file=str(path), line=reader.line_num) from None
        line_no = reader.line_num
        if not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue       # blank lines (',' too: a spreadsheet's empty row) and comments
        cells = [c.strip() for c in row]
        if header is None:
            if [c.lower() for c in cells] != ["u", "v"]:
                raise BatchInputError(f"read_edge_list.header: must be 'u,v'; got "
                                      f"{','.join(cells)!r}", file=str(path), line=line_no)
            header = cells
            continue
        if len(cells) != 2:
            raise BatchInputError(f"read_edge_list.row: must have 2 columns (u, v); got "
                                  f"{len(cells)}", file=str(path), line=line_no)
        pair = []
        for col, text in zip(("u", "v"), cells):
            if not (text.isascii() and text.isdigit()):     # int() takes '1_0', '+1', '٢'
                raise BatchInputError(f"read_edge_list.{col}: must be a node index "
                                      f"(integer >= 0, digits 0-9 only); got {text!r}",
                                      file=str(path), line=line_no, column=col)
            digits = text.lstrip("0") or "0"             # int() refuses 4 300 digits
            value = int(digits) if len(digits) <= 18 else np.inf
            top = _MAX_NODES if n_nodes is None else n_nodes
            if value < 0 or value >= top:
                limit = f"in [0, {top})" + ("" if n_nodes is not None else
                                            " (more nodes need n_nodes=: the path domain "
                                            "keeps all n x n distances)")
                got = text if len(text) <= 40 else text[:37] + "..."
                raise BatchInputError(f"read_edge_list.{col}: must be a node index {limit}; "
                                      f"got {got}" + ("" if n_nodes is None else
                                                      f" (n_nodes={n_nodes}: the domain's "
                                                      f"nodes are its arms)"),
                                      file=str(path), line=line_no,
                                      column=col)
            pair.append(value)
        if pair[0] == pair[1]:
            raise BatchInputError(f"read_edge_list.row: must not be a self-loop; got "
                                  f"{pair[0]},{pair[1]}", file=str(path), line=line_no)
        key = (min(pair), max(pair))
        if key in seen:
            raise BatchInputError(f"read_edge_list.row: must not repeat an edge; {key[0]}-"
                                  f"{key[1]} already on line {seen[key]}", file=str(path),
                                  line=line_no)
        seen[key] = line_no
        edges.append(pair)
    if header is None or not edges:
        raise BatchInputError("read_edge_list: must contain a 'u,v' header and at least one "
                              "edge; got none", file=str(path))
    arr = np.array(edges, dtype=np.int64)
    n = int(arr.max()) + 1 if n_nodes is None else int(n_nodes)
    return check_edges("read_edge_list", arr, n), n


def write_edge_list(edges, path) -> Path:
    """Write edges (n_edges, 2) as an edge-list CSV, atomically; they are checked as
    :func:`read_edge_list` reads them (integer node indices >= 0, no loops or repeats) and
    written with ``u < v``, sorted; at least one edge."""
    from rmab.models.storage import atomic_write

    check_path("write_edge_list", path, suffix=".csv")    # not CSV text in 'graph.npz'
    arr = check_edges("write_edge_list", edges, sys.maxsize)
    if not len(arr):
        raise InvalidModelError("write_edge_list.edges: must hold at least one edge (the file "
                                "would be one read_edge_list refuses); got none")
    path = Path(path)
    with atomic_write(path, ".csv") as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write("u,v\n")
            fh.writelines(f"{u},{v}\n" for u, v in arr.tolist())
    return path
