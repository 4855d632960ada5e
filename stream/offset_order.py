"""Each partition's records in offset order, none skipped: the worker's check on what Faust hands it.

Faust drops messages from a stream around a rebalance (those fetched for the previous
generation, or while its flow control is paused) and relies on a seek to the committed
offsets to read them again. When the drop comes after that seek, later records of the
partition arrive and the dropped ones never do. Folded, those later records would make the
dropped ones late, and their windows would never count them. So the worker admits a
record only if it is the next one its partition is owed; after a gap it drops the
partition's records (unacknowledged, so never committed) and seeks back to the one owed.
It asks for that seek again in every batch that still brings records past the gap:
records fetched before a seek can still be on their way, and Faust, delivering one,
moves its own read position past the seek and would drop the records read again.

Which record a partition is owed first is decided by `resume_points`: the offset the
database recorded with the partition's last durable batch.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass
class Admitted:
    keep: list[bool]  # per record, in the order given
    seek: dict[Hashable, int] = field(default_factory=dict)  # partitions to read again, from these offsets
    gaps: int = 0  # records held back behind a gap


class OffsetOrder:
    def __init__(self) -> None:
        self._next: dict[Hashable, int] = {}
        self._generation: object = None

    def admit(
        self,
        records: Sequence[tuple[Hashable, int]],
        *,
        generation: object,
        committed: Callable[[Hashable], int | None],
    ) -> Admitted:
        """`records` are (partition, offset) in delivery order; `committed` is where a partition resumes."""
        if generation != self._generation:  # a rebalance: every partition starts again from its commit
            self._next.clear()
            self._generation = generation
        out = Admitted(keep=[])
        for partition, offset in records:
            owed = self._next.get(partition)
            if owed is None:
                owed = committed(partition)
            if owed is None or offset == owed:
                self._next[partition] = offset + 1
                out.keep.append(True)
            elif offset < owed:  # read again after a seek: already in the database
                out.keep.append(False)
            else:
                out.keep.append(False)
                out.gaps += 1
                self._next[partition] = owed
                out.seek[partition] = owed
        return out


def resume_points(
    partitions: Collection[Hashable],
    *,
    stored: Mapping[Hashable, int],
    earliest: Mapping[Hashable, int],
    ends: Mapping[Hashable, int],
) -> tuple[dict[Hashable, int], list[str]]:
    """Where each partition resumes by the database, and what is worth saying about it.

    `stored` is the database's next offset per partition; `earliest` and `ends` bound what
    the topic still holds. A partition the database knows nothing of, or one whose stored
    offset is beyond the end (the topic was recreated), is left where Kafka has it. A stored
    offset before the start means retention removed records before they were stored:
    the earliest left is the best there is.
    """
    points: dict[Hashable, int] = {}
    notes: list[str] = []
    for partition in partitions:
        durable = stored.get(partition)
        if durable is None:
            continue
        first, end = earliest[partition], ends[partition]
        if durable > end:
            notes.append(
                f"{partition}: the database has records up to offset {durable} but the topic ends at {end};"
                " the topic was recreated, so reading resumes where Kafka says"
            )
            continue
        if durable < first:
            notes.append(f"{partition}: offsets {durable}..{first - 1} left the topic before they were stored")
            durable = first
        points[partition] = durable
    return points, notes
