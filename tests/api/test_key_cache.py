"""What a process may keep of the keys it checked: never past the ttl or the key's expiry, and
nothing a change has made stale."""

from __future__ import annotations

from api.access import Principal, Role
from api.key_cache import KeyCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def viewer(key_id: str) -> Principal:
    return Principal(key_id=key_id, role=Role.VIEWER, district=None, name=key_id)


def test_a_checked_key_is_kept_for_the_ttl_and_no_longer() -> None:
    clock = Clock()
    cache = KeyCache(60, clock=clock)
    cache.put("vg_a_secret", viewer("a"), expires_in=None, generation=cache.generation)
    assert cache.get("vg_a_secret") == viewer("a")
    assert cache.get("vg_a_other") is None
    clock.now += 59.9
    assert cache.get("vg_a_secret") == viewer("a")
    clock.now += 0.1
    assert cache.get("vg_a_secret") is None
    assert len(cache) == 0


def test_a_key_about_to_expire_is_kept_only_until_it_does() -> None:
    clock = Clock()
    cache = KeyCache(60, clock=clock)
    cache.put("vg_a_secret", viewer("a"), expires_in=5, generation=cache.generation)
    clock.now += 5
    assert cache.get("vg_a_secret") is None
    cache.put("vg_b_secret", viewer("b"), expires_in=-1, generation=cache.generation)
    assert len(cache) == 0


def test_a_change_heard_during_a_check_keeps_its_result_out() -> None:
    cache = KeyCache(60)
    read_at = cache.generation
    cache.forget("a")  # revoked while the database was being asked
    cache.put("vg_a_secret", viewer("a"), expires_in=None, generation=read_at)
    assert cache.get("vg_a_secret") is None


def test_forgetting_a_key_drops_each_of_its_entries_and_no_other() -> None:
    cache = KeyCache(60)
    for credential, key_id in (("vg_a_one", "a"), ("vg_a_two", "a"), ("vg_b_one", "b")):
        cache.put(credential, viewer(key_id), expires_in=None, generation=cache.generation)
    cache.forget("a")
    assert cache.get("vg_a_one") is None
    assert cache.get("vg_a_two") is None
    assert cache.get("vg_b_one") == viewer("b")


def test_the_oldest_entry_goes_when_full_and_a_zero_ttl_keeps_nothing() -> None:
    cache = KeyCache(60, max_entries=2)
    for key_id in "abc":
        cache.put(f"vg_{key_id}_s", viewer(key_id), expires_in=None, generation=cache.generation)
    assert [cache.get(f"vg_{k}_s") is not None for k in "abc"] == [False, True, True]
    off = KeyCache(0)
    off.put("vg_a_s", viewer("a"), expires_in=None, generation=off.generation)
    assert len(off) == 0
