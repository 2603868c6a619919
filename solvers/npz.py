"""Safe reading of ``.npz`` archives: the size checks made before numpy decompresses or
allocates anything (shared by the network files here and ``rmab``'s instance, domain and
comparison archives)."""

from __future__ import annotations

import math
import zipfile

import numpy as np

__all__ = ["BOMB_BYTES", "BOMB_RATIO", "check_sizes"]

BOMB_BYTES = 256 * 2**20   # a member decompressing to more, over 1000 times its stored size,
BOMB_RATIO = 1000          # is refused (2 GiB of zeros fit in 2 MB)


def check_sizes(path) -> None:
    """Refuse (ValueError) an archive member whose array header declares more bytes than the
    member holds: numpy would first allocate them (a 437-byte file can ask for 70 TiB); and a
    member that inflates beyond :data:`BOMB_BYTES` at over :data:`BOMB_RATIO` times its
    compressed size (a decompression bomb)."""
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if info.file_size > max(BOMB_BYTES, BOMB_RATIO * info.compress_size):
                raise ValueError(f"{info.filename} inflates {info.compress_size} bytes to "
                                 f"{info.file_size}, refused as a decompression bomb")
            with zf.open(info) as fh:
                version = np.lib.format.read_magic(fh)
                # (3, 0) differs from (2, 0) only in the header's encoding (utf-8 field names),
                # which a latin-1 reading leaves parseable (a skipped (3, 0) header let a 7 TiB
                # layer through)
                read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                        else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read(fh)
                if math.prod(shape) * dtype.itemsize > info.file_size:
                    raise ValueError(f"{info.filename} declares an array of {shape} "
                                     f"{dtype}, more than its {info.file_size} bytes")
