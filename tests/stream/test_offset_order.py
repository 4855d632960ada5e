"""Records are admitted in offset order per partition; a gap holds the partition back and asks for a seek."""

from __future__ import annotations

from collections.abc import Callable, Hashable

from stream.offset_order import OffsetOrder, resume_points


def committed_at(offsets: dict[str, int]) -> Callable[[Hashable], int | None]:
    return lambda partition: offsets.get(str(partition))


def test_records_in_order_are_all_admitted() -> None:
    order = OffsetOrder()
    out = order.admit([("p0", 10), ("p1", 5), ("p0", 11)], generation=1, committed=committed_at({"p0": 10, "p1": 5}))
    assert out.keep == [True, True, True]
    assert not out.seek
    assert out.gaps == 0
    assert order.admit([("p0", 12)], generation=1, committed=committed_at({})).keep == [True]


def test_a_gap_holds_the_partition_back_and_seeks_to_the_record_owed() -> None:
    order = OffsetOrder()
    out = order.admit([("p0", 10), ("p0", 13), ("p0", 14), ("p1", 0)], generation=1, committed=committed_at({"p0": 10}))
    assert out.keep == [True, False, False, True]  # 11 and 12 never came; the other partition carries on
    assert out.seek == {"p0": 11}
    assert out.gaps == 2


def test_every_batch_still_bringing_records_past_the_gap_asks_for_the_seek_again() -> None:
    order = OffsetOrder()
    order.admit([("p0", 10), ("p0", 13)], generation=1, committed=committed_at({"p0": 10}))
    stale = order.admit([("p0", 14), ("p1", 3)], generation=1, committed=committed_at({"p1": 3}))
    assert stale.keep == [False, True]
    assert stale.seek == {"p0": 11}  # 14 was fetched before the seek and may have undone it
    again = order.admit([("p0", 11), ("p0", 12), ("p0", 13), ("p0", 10)], generation=1, committed=committed_at({}))
    assert again.keep == [True, True, True, False]  # 10 was done before the gap
    assert not again.seek


def test_a_rebalance_starts_every_partition_from_its_committed_offset() -> None:
    order = OffsetOrder()
    order.admit([("p0", 10)], generation=1, committed=committed_at({"p0": 10}))
    out = order.admit([("p0", 5)], generation=2, committed=committed_at({"p0": 5}))
    assert out.keep == [True]


def test_a_partition_with_no_commit_starts_where_its_first_record_is() -> None:
    out = OffsetOrder().admit([("p0", 0), ("p0", 1)], generation=1, committed=committed_at({}))
    assert out.keep == [True, True]


def resume(stored: dict[str, int]) -> tuple[dict[object, int], list[str]]:
    return resume_points(["p0"], stored=stored, earliest={"p0": 100}, ends={"p0": 500})


def test_a_partition_resumes_where_the_database_says() -> None:
    assert resume({"p0": 300}) == ({"p0": 300}, [])
    assert resume({"p0": 500}) == ({"p0": 500}, [])  # everything stored: at the end


def test_a_partition_the_database_does_not_know_stays_where_kafka_has_it() -> None:
    assert resume({}) == ({}, [])


def test_a_recreated_topic_resumes_where_kafka_says() -> None:
    points, notes = resume({"p0": 9000})
    assert points == {}
    assert "recreated" in notes[0]


def test_records_removed_by_retention_before_they_were_stored_are_named() -> None:
    points, notes = resume({"p0": 40})
    assert points == {"p0": 100}
    assert "40..99" in notes[0]
