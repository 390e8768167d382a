"""RFC 6962 hashing, roots and proofs against the published test vectors.

The vectors are the copy in ``data/merkle_vectors.json`` (see ``data/README.md``).
On top of the sample of negative probes it holds, every happy path is put
through transparency-dev/merkle's full mutation catalogue (``cmd/proofgen``),
and its fixed probes are checked too. Each probe must be rejected.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.archive.errors import ProofError
from pipeline.archive.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MerkleTree,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

DATA = Path(__file__).parent / "data" / "merkle_vectors.json"
SHARED = Path("/work/shared/conformance/merkle_vectors.json")
VECTORS: dict[str, Any] = json.loads(DATA.read_text())
LEAVES = [bytes.fromhex(h) for h in VECTORS["leaves_hex"]]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
U64 = 2**64


def h(value: str) -> bytes:
    return bytes.fromhex(value)


def hs(values: list[str]) -> list[bytes]:
    return [h(v) for v in values]


def tree() -> MerkleTree:
    return MerkleTree(leaf_hash(leaf) for leaf in LEAVES)


def test_the_copy_matches_the_shared_conformance_file() -> None:
    if SHARED.exists():
        assert SHARED.read_bytes() == DATA.read_bytes(), (
            f"{SHARED} changed: review the change and copy it to {DATA}"
        )


def test_prefixes_and_empty_root() -> None:
    assert VECTORS["hash"] == "sha256"
    assert (VECTORS["leaf_prefix"], VECTORS["node_prefix"]) == ("00", "01")
    assert EMPTY_ROOT.hex() == VECTORS["empty_root"] == hashlib.sha256(b"").hexdigest()
    assert MerkleTree().root() == EMPTY_ROOT == CompactRange().root()


def test_leaf_hashes() -> None:
    assert [leaf_hash(leaf).hex() for leaf in LEAVES] == VECTORS["leaf_hashes_hex"]


def test_node_hashes_level_by_level() -> None:
    level = [leaf_hash(leaf) for leaf in LEAVES]
    for height in range(4):
        assert [n.hex() for n in level] == VECTORS["node_hashes_by_level"][str(height)]
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]


@pytest.mark.parametrize("size", range(9))
def test_roots_of_every_size(size: int) -> None:
    expected = VECTORS["roots_by_size"][str(size)]
    assert tree().root(size).hex() == expected
    assert MerkleTree(leaf_hash(leaf) for leaf in LEAVES[:size]).root().hex() == expected
    compact = CompactRange()
    for leaf in LEAVES[:size]:
        compact.append(leaf_hash(leaf))
    assert compact.root().hex() == expected


@pytest.mark.parametrize("case", VECTORS["inclusion_proofs"], ids=lambda c: c["source"])
def test_inclusion_proofs_are_generated_and_verified(case: dict[str, Any]) -> None:
    index, size = case["leaf_index"], case["tree_size"]
    assert [p.hex() for p in tree().inclusion_proof(index, size)] == case["proof"]
    assert leaf_hash(LEAVES[index]).hex() == case["leaf_hash"]
    verify_inclusion(index, size, h(case["leaf_hash"]), hs(case["proof"]), h(case["root"]))


@pytest.mark.parametrize("case", VECTORS["consistency_proofs"], ids=lambda c: c["source"])
def test_consistency_proofs_are_generated_and_verified(case: dict[str, Any]) -> None:
    size1, size2 = case["size1"], case["size2"]
    assert [p.hex() for p in tree().consistency_proof(size1, size2)] == case["proof"]
    verify_consistency(size1, size2, h(case["root1"]), h(case["root2"]), hs(case["proof"]))


@pytest.mark.parametrize("case", VECTORS["negative_cases"], ids=lambda c: f"{c['source']}")
def test_negative_cases_of_the_vectors_fail(case: dict[str, Any]) -> None:
    assert case["want_error"] is True
    with pytest.raises(ProofError):
        if case["kind"] == "inclusion":
            verify_inclusion(
                case["leaf_index"],
                case["tree_size"],
                h(case["leaf_hash"]),
                hs(case["proof"]),
                h(case["root"]),
            )
        else:
            verify_consistency(
                case["size1"], case["size2"], h(case["root1"]), h(case["root2"]), hs(case["proof"])
            )


@dataclass(frozen=True)
class InclusionProbe:
    desc: str
    index: int
    size: int
    leaf: bytes
    proof: list[bytes]
    root: bytes

    def check(self) -> None:
        verify_inclusion(self.index, self.size, self.leaf, self.proof, self.root)


@dataclass(frozen=True)
class ConsistencyProbe:
    desc: str
    size1: int
    size2: int
    root1: bytes
    root2: bytes
    proof: list[bytes]

    def check(self) -> None:
        verify_consistency(self.size1, self.size2, self.root1, self.root2, self.proof)


def _flip(proof: list[bytes], i: int, bit: int) -> list[bytes]:
    changed = list(proof)
    changed[i] = bytes([changed[i][0] ^ bit]) + changed[i][1:]
    return changed


def inclusion_probes() -> list[InclusionProbe]:
    """cmd/proofgen's invalidInclusionProof over each happy path (indices as Go's uint64)."""
    probes = []
    for case in VECTORS["inclusion_proofs"]:
        i, n, leaf, root, proof = (
            case["leaf_index"],
            case["tree_size"],
            h(case["leaf_hash"]),
            h(case["root"]),
            hs(case["proof"]),
        )
        name = case["source"].rsplit("/", 2)[-2]
        mutations = [
            ("leafIdx sub 1", (i - 1) % U64, n, leaf, proof, root),
            ("leafIdx plus 1", i + 1, n, leaf, proof, root),
            ("leafIdx XOR 2", i ^ 2, n, leaf, proof, root),
            ("treeSize mul 2", i, n * 2, leaf, proof, root),
            ("treeSize div 2", i, n // 2, leaf, proof, root),
            ("wrong leaf", i, n, b"WrongLeaf", proof, root),
            ("empty root", i, n, leaf, proof, EMPTY_ROOT),
            ("random root", i, n, leaf, proof, SOME_HASH),
            ("trailing garbage", i, n, leaf, [*proof, b""], root),
            ("trailing root", i, n, leaf, [*proof, root], root),
            ("preceding garbage", i, n, leaf, [b"", *proof], root),
            ("preceding root", i, n, leaf, [root, *proof], root),
        ]
        mutations += [
            (f"modified proof[{k}] bit 3", i, n, leaf, _flip(proof, k, 8), root) for k in range(len(proof))
        ]
        if proof:
            mutations.append(("removed component", i, n, leaf, proof[:-1], root))
        if len(proof) > 1:
            mutations.append(("inserted component", i, n, leaf, [proof[0], SOME_HASH, *proof[1:]], root))
        probes += [InclusionProbe(f"{name}: {m[0]}", *m[1:]) for m in mutations]
    for index, size in [(0, 0), (0, 1), (1, 0), (2, 1)]:  # testdata/inclusion/additional
        probes += [
            InclusionProbe(f"additional {index},{size}: random leaf", index, size, SOME_HASH, [], b""),
            InclusionProbe(f"additional {index},{size}: empty root", index, size, b"", [], EMPTY_ROOT),
            InclusionProbe(
                f"additional {index},{size}: empty root, random leaf", index, size, SOME_HASH, [], EMPTY_ROOT
            ),
        ]
    single = leaf_hash(b"data")  # testdata/inclusion/single-entry
    probes += [
        InclusionProbe("single entry: empty leaf", 0, 1, b"", [], single),
        InclusionProbe("single entry: empty root", 0, 1, single, [], b""),
        InclusionProbe("single entry: empty root and leaf", 0, 1, b"", [], b""),
    ]
    return probes


def consistency_probes() -> list[ConsistencyProbe]:
    """cmd/proofgen's invalidConsistencyProof over each non-trivial happy path, plus its fixed probes."""
    probes = []
    for case in VECTORS["consistency_proofs"]:
        m, n, r1, r2, proof = (
            case["size1"],
            case["size2"],
            h(case["root1"]),
            h(case["root2"]),
            hs(case["proof"]),
        )
        if not proof:
            continue
        name = case["source"].rsplit("/", 2)[-2]
        mutations = [
            ("size1 sub 1", m - 1, n, r1, r2, proof),
            ("size1 plus 1", m + 1, n, r1, r2, proof),
            ("size1 XOR 2", m ^ 2, n, r1, r2, proof),
            ("size2 mul 2", m, n * 2, r1, r2, proof),
            ("size2 div 2", m, n // 2, r1, r2, proof),
            ("wrong root1", m, n, b"WrongRoot", r2, proof),
            ("wrong root2", m, n, r1, b"WrongRoot", proof),
            ("swapped roots", m, n, r2, r1, proof),
            ("empty proof", m, n, r1, r2, []),
            ("trailing garbage", m, n, r1, r2, [*proof, b""]),
            ("trailing root1", m, n, r1, r2, [*proof, r1]),
            ("trailing root2", m, n, r1, r2, [*proof, r2]),
            ("preceding garbage", m, n, r1, r2, [b"", *proof]),
            ("preceding root1", m, n, r1, r2, [r1, *proof]),
            ("preceding root2", m, n, r1, r2, [r2, *proof]),
            ("preceding proof 0", m, n, r1, r2, [proof[0], *proof]),
            ("truncated proof", m, n, r1, r2, proof[:-1]),
        ]
        mutations += [
            (f"modified proof@{k} bit 4", m, n, r1, r2, _flip(proof, k, 16)) for k in range(len(proof))
        ]
        probes += [ConsistencyProbe(f"{name}: {p[0]}", *p[1:]) for p in mutations]
    care1, care2 = b"don't care 1", b"don't care 2"
    probes += [  # testdata/consistency/additional
        ConsistencyProbe("sizes equal (zero), roots differ", 0, 0, care1, care2, []),
        ConsistencyProbe("sizes equal (one), roots differ", 1, 1, care1, care2, []),
        ConsistencyProbe("sizes equal (zero), empty proof", 0, 0, care1, care1, []),
        ConsistencyProbe("size1 zero, size2 not", 0, 1, care1, care2, []),
        ConsistencyProbe("size1 greater than size2", 1, 0, care1, care2, []),
        ConsistencyProbe("size1 greater than size2 again", 2, 1, care1, care2, []),
        ConsistencyProbe("sizes differ, empty proof", 1, 2, care1, care2, []),
        ConsistencyProbe("roots differ, sizes zero", 0, 0, EMPTY_ROOT, care2, []),
        ConsistencyProbe("roots differ, sizes one", 1, 1, EMPTY_ROOT, care2, []),
        ConsistencyProbe("sizes zero, proof not empty", 0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),
        ConsistencyProbe("sizes one, proof not empty", 1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),
        ConsistencyProbe("size1 zero, size2 one", 0, 1, EMPTY_ROOT, care2, []),
        ConsistencyProbe("from the empty tree", 0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),
    ]
    return probes


@pytest.mark.parametrize("probe", inclusion_probes(), ids=lambda p: p.desc)
def test_every_inclusion_probe_of_the_catalogue_fails(probe: InclusionProbe) -> None:
    with pytest.raises(ProofError):
        probe.check()


@pytest.mark.parametrize("probe", consistency_probes(), ids=lambda p: p.desc)
def test_every_consistency_probe_of_the_catalogue_fails(probe: ConsistencyProbe) -> None:
    with pytest.raises(ProofError):
        probe.check()


def test_the_probes_that_must_pass_do() -> None:
    single = leaf_hash(b"data")
    verify_inclusion(0, 1, single, [], single)
    verify_consistency(1, 1, b"r" * 32, b"r" * 32, [])


def test_the_catalogue_has_the_size_of_the_published_testdata() -> None:
    # With the 10 happy paths and the 2 fixed probes that must pass, these make
    # the 196 probe files of testdata/inclusion and testdata/consistency.
    assert len(inclusion_probes()) == 92
    assert len(consistency_probes()) == 92


def _reference_root(leaves: list[bytes]) -> bytes:
    """MTH exactly as written in RFC 6962 2.1, recursively."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_reference_root(leaves[:k]), _reference_root(leaves[k:]))


@given(st.lists(st.binary(max_size=8), max_size=40), st.data())
def test_trees_of_any_size_agree_with_the_rfc_and_their_proofs_verify(
    leaves: list[bytes], data: st.DataObject
) -> None:
    full = MerkleTree(leaf_hash(leaf) for leaf in leaves)
    for size in range(len(leaves) + 1):
        assert full.root(size) == _reference_root(leaves[:size])
    if not leaves:
        return
    size = data.draw(st.integers(1, len(leaves)))
    index = data.draw(st.integers(0, size - 1))
    verify_inclusion(index, size, full.leaf(index), full.inclusion_proof(index, size), full.root(size))
    old = data.draw(st.integers(1, size))
    verify_consistency(old, size, full.root(old), full.root(size), full.consistency_proof(old, size))
    if old < size:
        with pytest.raises(ProofError):
            verify_consistency(
                old, size, full.root(old), full.root(size - 1), full.consistency_proof(old, size)
            )


def test_proofs_outside_the_tree_are_refused() -> None:
    with pytest.raises(ProofError, match="not in a tree of 8"):
        tree().inclusion_proof(8, 8)
    with pytest.raises(ProofError, match="has 8 leaves, not 9"):
        tree().root(9)
    with pytest.raises(ProofError, match="from size 0"):
        tree().consistency_proof(0, 3)
