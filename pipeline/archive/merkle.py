"""RFC 6962 Merkle tree hashing, roots, and inclusion and consistency proofs.

Exactly as RFC 6962 section 2.1 (and RFC 9162 section 2.1, which keeps the same
v1 hashing), with SHA-256:

- a leaf is ``SHA-256(0x00 || record)``;
- a node is ``SHA-256(0x01 || left || right)``;
- the root of ``n > 1`` leaves splits at ``k``, the largest power of two below
  ``n``: ``node(MTH(D[0:k]), MTH(D[k:n]))``; the empty tree's root is
  ``SHA-256("")``.

``MerkleTree`` keeps every complete subtree, so the root at any earlier size,
and any proof, costs ``O(log^2 n)`` hashes once the leaves are loaded.
``CompactRange`` is the writer's ``O(log n)`` state for appending. The
verifiers follow RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step, with the
edge cases of transparency-dev/merkle's ``proof/verify.go``: a proof element
of the wrong length, a leaf index outside the tree, a consistency proof from
the empty tree, or a proof with a component too many or too few, all fail.

>>> tree = MerkleTree([leaf_hash(b""), leaf_hash(b"\\x00")])
>>> tree.root().hex()[:16]
'fac54203e7cc696c'
>>> verify_inclusion(1, 2, leaf_hash(b"\\x00"), tree.inclusion_proof(1, 2), tree.root())
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from pipeline.archive.errors import ProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MerkleTree",
    "leaf_hash",
    "node_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``."""
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return _sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """The roots of the perfect subtrees covering leaves ``[0, size)``: enough to append and to get the root.

    Costs ``O(log n)`` memory; appending is amortised ``O(1)`` hashes.
    """

    def __init__(self) -> None:
        self._size = 0
        self._peaks: list[bytes] = []  # left to right, heights strictly decreasing

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf: bytes) -> None:
        peaks = self._peaks
        node = leaf
        size = self._size
        while size & 1:
            node = node_hash(peaks.pop(), node)
            size >>= 1
        peaks.append(node)
        self._size += 1

    def root(self) -> bytes:
        if not self._peaks:
            return EMPTY_ROOT
        peaks = self._peaks
        node = peaks[-1]
        for peak in reversed(peaks[:-1]):
            node = node_hash(peak, node)
        return node


class MerkleTree:
    """Every leaf hash and every complete subtree hash of an append-only log.

    Level ``h`` holds the hash of each complete subtree of ``2**h`` leaves, as
    one flat ``bytearray`` (32 bytes each) to keep memory at about 64 bytes a leaf.
    """

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        return len(self._levels[0]) // HASH_SIZE

    def append(self, leaf: bytes) -> None:
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes, not {len(leaf)}")
        levels = self._levels
        levels[0] += leaf
        height, index, node = 0, self.size - 1, leaf
        while index & 1:
            level = levels[height]
            left = bytes(level[(index - 1) * HASH_SIZE : index * HASH_SIZE])
            node = node_hash(left, node)
            height += 1
            index >>= 1
            if height == len(levels):
                levels.append(bytearray())
            levels[height] += node

    def leaf(self, index: int) -> bytes:
        return bytes(self._levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def root(self, size: int | None = None) -> bytes:
        """The root of the first ``size`` leaves (all of them by default)."""
        size = self.size if size is None else size
        self._check_size(size)
        return EMPTY_ROOT if size == 0 else self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 2.1.3.1: the audit path of leaf ``index`` in the tree of the first ``size`` leaves."""
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
        proof: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                proof.append(self._subtree(start + k, end))
                end = start + k
            else:
                proof.append(self._subtree(start, start + k))
                start += k
        proof.reverse()
        return proof

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """RFC 9162 2.1.4.1: proof that the first ``old_size`` leaves begin the first ``new_size``."""
        new_size = self.size if new_size is None else new_size
        self._check_size(new_size)
        if not 0 < old_size <= new_size:
            raise ProofError(f"no consistency proof from size {old_size} to size {new_size}")
        proof: list[bytes] = []
        start, end, m, complete = 0, new_size, old_size, True
        while m != end - start:
            k = _split(end - start)
            if m <= k:
                proof.append(self._subtree(start + k, end))
                end = start + k
            else:
                proof.append(self._subtree(start, start + k))
                start += k
                m -= k
                complete = False
        if not complete:
            proof.append(self._subtree(start, end))
        proof.reverse()
        return proof

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ProofError(f"the tree has {self.size} leaves, not {size}")

    def _subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for the ranges the RFC's recursion produces (``start`` aligned)."""
        n = end - start
        if n & (n - 1) == 0:
            height = n.bit_length() - 1
            offset = (start >> height) * HASH_SIZE
            return bytes(self._levels[height][offset : offset + HASH_SIZE])
        k = _split(n)
        return node_hash(self._subtree(start, start + k), self._subtree(start + k, end))


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{name} is {len(value)} bytes, not {HASH_SIZE}")


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 2.1.3.2; raises ``ProofError`` saying why the proof fails."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of {size} leaves")
    _check_hash("the leaf hash", leaf)
    _check_hash("the root", root)
    for i, element in enumerate(proof):
        _check_hash(f"proof element {i}", element)
    fn, sn, r = index, size - 1, leaf
    for element in proof:
        if sn == 0:
            raise ProofError("the proof has more elements than the tree has levels")
        if fn & 1 or fn == sn:
            r = node_hash(element, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, element)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof has fewer elements than the path to the root")
    if r != root:
        raise ProofError("the proof leads to a different root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 2.1.4.2; raises ``ProofError`` saying why the proof fails."""
    if old_size < 0 or new_size < old_size:
        raise ProofError(f"size {new_size} is smaller than size {old_size}: the log went back")
    if old_size == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    _check_hash("the old root", old_root)
    _check_hash("the new root", new_root)
    for i, element in enumerate(proof):
        _check_hash(f"proof element {i}", element)
    if old_size == new_size:
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if old_root != new_root:
            raise ProofError("two different roots for the same size: a fork")
        return
    if not proof:
        raise ProofError("the proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for element in path[1:]:
        if sn == 0:
            raise ProofError("the proof has more elements than the trees need")
        if fn & 1 or fn == sn:
            fr = node_hash(element, fr)
            sr = node_hash(element, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, element)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof has fewer elements than the trees need")
    if fr != old_root:
        raise ProofError("the proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("the proof does not lead to the new root")
