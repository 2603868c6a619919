"""CSV batches of budgeted allocation problems: schema, reading, solving, writing (atomic:
decisions, batches built in Python), next period's beliefs from the actions and signals
recorded.

See ``docs/csv.md`` for the columns and every error the reader raises.
"""

from rmab.io.batch import (BatchFailure, BatchOutcome, BatchSolveResult, batch_seed,
                           solve_batches)
from rmab.io.reader import Batch, read_batches, read_batches_keep_going
from rmab.io.responses import updated_beliefs
from rmab.io.schema import COLUMNS, OUTPUT_COLUMNS
from rmab.io.writer import write_batches, write_beliefs, write_solutions

__all__ = ["Batch", "read_batches", "read_batches_keep_going", "solve_batches",
           "write_solutions", "write_batches", "write_beliefs", "updated_beliefs", "BatchOutcome",
           "BatchFailure", "BatchSolveResult", "batch_seed", "COLUMNS", "OUTPUT_COLUMNS"]
