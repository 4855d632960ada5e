from stream.clock import StreamClock


def test_follows_event_time_during_a_fast_replay() -> None:
    clock = StreamClock()
    assert clock.now(100.0) is None
    clock.observe(1_000.0, wall=100.0)
    clock.observe(5_000.0, wall=100.5)  # an hour of readings in half a second
    clock.observe(4_000.0, wall=100.6)  # an older one does not move it back
    assert clock.now(100.6) == 5_000.1


def test_runs_on_with_the_wall_clock_when_silent() -> None:
    clock = StreamClock()
    clock.observe(1_000.0, wall=100.0)
    assert clock.now(100.0 + 900) == 1_900.0
