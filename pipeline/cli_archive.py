"""``auditwatch archive``: keys, verification, proofs and exports of the tamper-evident archive.

Every command reads the archive directory (``--dir``, default ``archive.dir``)
and never writes to it. ``verify`` exits 1 when anything is INVALID;
``verify-proof`` exits 1 when a proof fails; other failures exit 2 with one
clear message.
"""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from pipeline.archive.canonical import canonical_time, parse_time
from pipeline.archive.checkpoints import Checkpoint, checkpoint_names
from pipeline.archive.errors import ArchiveError, CanonicalError, KeyFileError, RecordFormatError
from pipeline.archive.keys import Keyring, Signer, load_signer
from pipeline.archive.proofs import (
    consistency_bundle,
    dumps,
    export_bundle,
    inclusion_bundle,
    verify_bundle,
)
from pipeline.archive.records import Kind, Record
from pipeline.archive.scan import scan_log
from pipeline.archive.storage import ArchiveStorage
from pipeline.archive.trust import FileTrustStore
from pipeline.archive.verify import Reason, verify_archive
from pipeline.archive.writer import ArchiveWriter
from pipeline.config import AuditwatchConfig, load_config
from pipeline.errors import PipelineError

__all__ = ["archive_app", "open_replay_archive"]

archive_app = typer.Typer(
    help="The tamper-evident archive: keys, verify, inclusion and consistency proofs, export.",
    no_args_is_help=True,
)

_PROBLEM_PREFIXES = tuple(f"  {reason.value} at " for reason in Reason)
_err = Console(stderr=True, soft_wrap=True)
_out = Console(soft_wrap=True)

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="Config file.")]
DirOption = Annotated[Path | None, typer.Option("--dir", help="Archive directory (default: archive.dir).")]
KeysOption = Annotated[
    Path | None, typer.Option("--keys", help="Keyring of trusted public keys (default: archive.keyring).")
]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of stdout.")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _settings(path: Path | None) -> AuditwatchConfig:
    try:
        return load_config(path)
    except PipelineError as exc:
        raise _fail(str(exc)) from None


def _storage(settings: AuditwatchConfig, directory: Path | None) -> ArchiveStorage:
    storage = settings.archive.storage(directory)
    if not (storage.root / "segments").is_dir() and not (storage.root / "checkpoints").is_dir():
        raise _fail(f"{storage.root}: no archive here (set archive.dir or pass --dir)")
    return storage


def _keyring(settings: AuditwatchConfig, keys: Path | None) -> Keyring:
    path = keys or settings.archive.keyring
    if path is None:
        raise _fail("no keyring: pass --keys FILE or set archive.keyring (`archive keygen` creates one)")
    try:
        return Keyring.load(path)
    except KeyFileError as exc:
        raise _fail(str(exc)) from None


def _checkpoints(storage: ArchiveStorage) -> dict[int, Checkpoint]:
    found: dict[int, Checkpoint] = {}
    for name in checkpoint_names(storage):
        try:
            checkpoint = Checkpoint.from_bytes(storage.read(name))
        except RecordFormatError:
            continue
        found[checkpoint.number] = checkpoint
    if not found:
        raise _fail(f"{storage.describe()}: the archive has no checkpoint yet")
    return found


def _emit(bundle: dict[str, Any], out: Path | None, what: str) -> None:
    text = dumps(bundle) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _fail(f"{out}: cannot write: {exc.strerror}") from None
    _err.print(f"{what} written to {out}", highlight=False)


@archive_app.command()
def keygen(
    out: Annotated[Path, typer.Option("--out", "-o", help="New private key file (PEM, mode 0600).")],
    keyring: Annotated[
        Path | None,
        typer.Option("--keyring", help="Add the public key to this keyring (created if missing)."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Create an Ed25519 signing key; add its public key to the keyring. Rotate by running it again."""
    path = keyring or _settings(config).archive.keyring
    signer = Signer.generate()
    try:
        ring = Keyring.load(path) if path is not None and path.exists() else Keyring()
        signer.write(out)
        if path is not None:
            ring.add(signer.public)
            ring.save(path)
    except KeyFileError as exc:
        raise _fail(str(exc)) from None
    _err.print(
        f"signing key {signer.key_id} written to {out}; keep it out of version control", highlight=False
    )
    if path is not None:
        _err.print(f"public key added to {path} ({len(ring)} key(s))", highlight=False)


@archive_app.command("public-key")
def public_key(
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="Private key (default: as the writer finds it).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Print the keyring entry of the signing key, to hand to an auditor."""
    settings = _settings(config)
    try:
        signer = load_signer(key_file or settings.archive.signing_key_file, {} if key_file else None)
    except KeyFileError as exc:
        raise _fail(str(exc)) from None
    sys.stdout.write(json.dumps({"keys": [signer.public.entry()], "v": 1}, indent=2) + "\n")


@archive_app.command()
def verify(
    directory: DirOption = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from", help="Start from this checkpoint: a number in the archive, or a checkpoint file."
        ),
    ] = None,
    keys: KeysOption = None,
    trusted: Annotated[
        Path | None,
        typer.Option(
            "--trusted", help="File of the last trusted checkpoint (default: archive.trusted_checkpoint)."
        ),
    ] = None,
    update: Annotated[bool, typer.Option(help="Remember the latest checkpoint when all is valid.")] = True,
    config: ConfigOption = None,
) -> None:
    """Recompute every hash, proof and signature; report each segment and checkpoint, then the counts."""
    settings = _settings(config)
    storage = _storage(settings, directory)
    keyring = _keyring(settings, keys)
    store_path = trusted or settings.archive.trusted_checkpoint
    store = FileTrustStore(store_path) if store_path is not None else None
    number, anchor = None, None
    try:
        if start is not None and start.isdigit():
            number = int(start)
        elif start is not None:
            anchor = FileTrustStore(Path(start)).load()
            if anchor is None:
                raise _fail(f"{start}: no such checkpoint file")
        remembered = store.load() if store is not None else None
    except KeyFileError as exc:
        raise _fail(str(exc)) from None
    if anchor is not None and remembered is not None and remembered.number > anchor.number:
        anchor = remembered
    report = verify_archive(storage, keyring, trusted=anchor or remembered, start=number)
    _err.print(f"verifying {storage.describe()} with {len(keyring)} trusted key(s)", highlight=False)
    for line in report.lines():
        bad = line.endswith(": INVALID") or line.startswith("archive INVALID")
        style = "red" if bad or line.startswith(_PROBLEM_PREFIXES) else None
        _out.print(line, style=style, highlight=False, markup=False)
    if not report.ok:
        raise typer.Exit(1)
    latest = report.latest
    newer = latest is not None and (remembered is None or latest.number > remembered.number)
    if store is not None and update and latest is not None and newer:
        store.save(latest)
        _err.print(f"trusted checkpoint {latest.number} saved to {store.describe()}", highlight=False)


@archive_app.command()
def prove(
    event_id: Annotated[str, typer.Argument(help="The event_id of an event, or the id of an alert.")],
    system: Annotated[
        str | None, typer.Option("--system", help="origin.system, when two sources share an event id.")
    ] = None,
    directory: DirOption = None,
    out: OutOption = None,
    config: ConfigOption = None,
) -> None:
    """Print an inclusion proof of one event or alert against the latest checkpoint."""
    storage = _storage(_settings(config), directory)

    def wanted(record: Record) -> bool:
        key = record.key
        return key is not None and key[-1] == event_id and (system is None or key[1:2] == (system,))

    scan = scan_log(storage, keep=wanted)
    matches = [e for e in scan.entries if e.data is not None]
    if not matches:
        raise _fail(f"no event or alert with id {event_id!r} in {storage.describe()}")
    if len(matches) > 1:
        where = ", ".join(e.label for e in matches)
        raise _fail(f"{len(matches)} records have id {event_id!r} ({where}); choose one with --system")
    checkpoints = _checkpoints(storage)
    try:
        bundle = inclusion_bundle(scan, matches[0], checkpoints[max(checkpoints)])
    except ArchiveError as exc:
        raise _fail(str(exc)) from None
    _emit(bundle, out, "inclusion proof")


@archive_app.command()
def consistency(
    old: Annotated[int, typer.Argument(help="Number of the older checkpoint.")],
    new: Annotated[int, typer.Argument(help="Number of the newer checkpoint.")],
    directory: DirOption = None,
    out: OutOption = None,
    config: ConfigOption = None,
) -> None:
    """Print a consistency proof: the log at checkpoint OLD is a prefix of the log at checkpoint NEW."""
    storage = _storage(_settings(config), directory)
    checkpoints = _checkpoints(storage)
    for number in (old, new):
        if number not in checkpoints:
            raise _fail(f"no checkpoint {number} (the archive has {min(checkpoints)}-{max(checkpoints)})")
    try:
        bundle = consistency_bundle(scan_log(storage), checkpoints[old], checkpoints[new])
    except ArchiveError as exc:
        raise _fail(str(exc)) from None
    _emit(bundle, out, "consistency proof")


@archive_app.command("verify-proof")
def verify_proof(
    proof: Annotated[Path, typer.Argument(help="A proof from prove, consistency or export ('-' for stdin).")],
    keys: KeysOption = None,
    origin: Annotated[str | None, typer.Option(help="The log the proof must be about.")] = None,
    config: ConfigOption = None,
) -> None:
    """Check a proof offline, with only the public keys: what to hand an auditor."""
    keyring = _keyring(_settings(config), keys)
    try:
        text = sys.stdin.read() if str(proof) == "-" else proof.read_text(encoding="utf-8")
        bundle = json.loads(text)
    except (OSError, ValueError) as exc:
        raise _fail(f"{proof}: not a readable JSON proof ({exc})") from None
    try:
        lines = verify_bundle(bundle, keyring, origin)
    except ArchiveError as exc:
        _out.print(f"INVALID: {exc}", style="red", highlight=False, markup=False)
        raise typer.Exit(1) from None
    for line in lines:
        _out.print(line, highlight=False, markup=False)
    _out.print("proof valid", highlight=False)


@archive_app.command()
def export(
    start: Annotated[str, typer.Option("--from", help="Start time, RFC 3339 (inclusive).")],
    end: Annotated[str, typer.Option("--to", help="End time, RFC 3339 (exclusive).")],
    kind: Annotated[str, typer.Option(help="event, alert or all")] = "all",
    directory: DirOption = None,
    out: OutOption = None,
    config: ConfigOption = None,
) -> None:
    """Export the events and alerts of a time range, each with its proof to the latest checkpoint."""
    storage = _storage(_settings(config), directory)
    try:
        low, high = parse_time(start), parse_time(end)
    except CanonicalError as exc:
        raise _fail(f"--from/--to: {exc}") from None
    kinds = {"event": {Kind.EVENT}, "alert": {Kind.ALERT}, "all": {Kind.EVENT, Kind.ALERT}}.get(kind)
    if kinds is None:
        raise _fail(f"--kind {kind!r}: use event, alert or all")

    def wanted(record: Record) -> bool:
        return record.kind in kinds and low <= parse_time(record.time) < high

    scan = scan_log(storage, keep=wanted)
    checkpoints = _checkpoints(storage)
    latest = checkpoints[max(checkpoints)]
    chosen = [e for e in scan.entries if e.data is not None]
    late = [e for e in chosen if e.position >= latest.size]
    if late:
        _err.print(f"{len(late)} record(s) in the range are not signed yet and are left out", highlight=False)
    try:
        bundle = export_bundle(
            scan,
            [e for e in chosen if e.position < latest.size],
            latest,
            canonical_time(low),
            canonical_time(high),
        )
    except ArchiveError as exc:
        raise _fail(str(exc)) from None
    _emit(bundle, out, f"{len(bundle['records'])} records with proofs")


def open_replay_archive(stack: ExitStack, settings: AuditwatchConfig, directory: Path) -> ArchiveWriter:
    """The writer for ``replay --archive DIR``; closed (stop record, last checkpoint) when ``stack`` exits."""
    archive = settings.archive
    try:
        signer = load_signer(archive.signing_key_file)
        writer = ArchiveWriter.open(
            archive.storage(directory), signer, archive.writer_settings(settings.kafka.app_id)
        )
    except ArchiveError as exc:
        raise _fail(str(exc)) from None

    def close() -> None:
        writer.close()
        last = writer.last_checkpoint
        signed = f", checkpoint {last.number} signs {last.size} records" if last is not None else ""
        _err.print(
            f"archived {writer.stats.appended} records in {directory} "
            f"({writer.stats.duplicates} already there){signed}",
            highlight=False,
        )

    stack.callback(close)
    return writer
