from stream.reconcile import Span, Stored, reconcile


def test_each_span_keeps_the_alert_that_overlaps_it() -> None:
    out = reconcile([Span(10, 20), Span(40, 50)], [Stored("b", 41, 52), Stored("a", 9, 22)], since=0)
    assert out.kept == [(Span(10, 20), Stored("a", 9, 22)), (Span(40, 50), Stored("b", 41, 52))]
    assert (out.new, out.withdrawn) == ([], [])


def test_the_open_alert_answers_to_the_open_span_first() -> None:
    live = Stored("live", 10, None)
    out = reconcile([Span(10, 20), Span(40, None)], [live], since=0)
    assert out.kept == [(Span(40, None), live)]
    assert out.new == [Span(10, 20)]


def test_an_open_alert_with_no_open_span_is_kept_by_the_span_it_overlaps() -> None:
    live = Stored("live", 10, None)
    out = reconcile([Span(12, 20), Span(40, 50)], [live], since=0)
    assert out.kept == [(Span(12, 20), live)]
    assert out.new == [Span(40, 50)]


def test_an_open_span_is_never_given_a_resolved_alert() -> None:
    out = reconcile([Span(10, None)], [Stored("old", 10, 15)], since=0)
    assert out.new == [Span(10, None)]
    assert out.withdrawn == [Stored("old", 10, 15)]


def test_alerts_no_span_supports_are_withdrawn_unless_a_person_acted_or_they_began_before() -> None:
    ghost, told, earlier = Stored("ghost", 30, 35), Stored("told", 60, 70, by_hand=True), Stored("earlier", 2, 8)
    out = reconcile([], [ghost, told, earlier], since=5)
    assert out.withdrawn == [ghost]


def test_one_alert_for_two_spans_keeps_the_first_and_the_second_is_new() -> None:
    merged = Stored("merged", 10, 50)
    out = reconcile([Span(10, 20), Span(40, 50)], [merged], since=0)
    assert out.kept == [(Span(10, 20), merged)]
    assert out.new == [Span(40, 50)]


def test_a_span_keeps_the_alert_that_began_when_it_did_before_the_open_one_is_moved() -> None:
    live = Stored("cut-1", 10, None)  # the first cut, held open through the gap into the second
    out = reconcile([Span(10, 20, "cut-1"), Span(40, None, "cut-2")], [live], since=0)
    assert out.kept == [(Span(10, 20, "cut-1"), live)]  # resolved where the first cut ended
    assert out.new == [Span(40, None, "cut-2")]  # the second is an alert of its own


def test_an_alert_moved_before_is_still_found_by_its_id() -> None:
    moved = Stored("cut-1", 40, 50)  # dated from the second cut by an earlier piece
    out = reconcile([Span(10, 20, "cut-1"), Span(40, 50, "cut-2")], [moved], since=0)
    assert out.kept == [(Span(10, 20, "cut-1"), moved)]
    assert out.new == [Span(40, 50, "cut-2")]
