"""The role matrix and key handling, without a database."""

from __future__ import annotations

import pytest

from api.access import Action, BadKey, Principal, Role, new_key, secret_matches, split_key

LEADER = Principal("000000000001", Role.LEADER, "san-juan-de-lurigancho")
EXPECTED = {
    Role.OPERATOR: set(Action),
    Role.LEADER: {Action.READ, Action.ACKNOWLEDGE, Action.SUBSCRIBE, Action.LABEL},
    Role.SENSOR_ADMIN: {Action.READ, Action.MANAGE_SENSORS},
    Role.VIEWER: {Action.READ},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_each_role_may_do_exactly_its_actions(role: Role, action: Action) -> None:
    principal = Principal("000000000002", role, "ate" if role is Role.LEADER else None)
    assert principal.may(action) == (action in EXPECTED[role])


def test_a_leader_sees_only_their_district() -> None:
    assert LEADER.sees("san-juan-de-lurigancho")
    assert not LEADER.sees("ate")
    assert LEADER.districts() == ["san-juan-de-lurigancho"]


def test_other_roles_see_every_district() -> None:
    for role in (Role.OPERATOR, Role.VIEWER, Role.SENSOR_ADMIN):
        principal = Principal("000000000003", role, None)
        assert principal.sees("ate")
        assert principal.districts() is None


def test_a_new_key_splits_back_and_matches_only_its_own_hash() -> None:
    key_id, stored, key = new_key()
    got_id, secret = split_key(key)
    assert got_id == key_id
    assert secret_matches(secret, stored)
    assert not secret_matches(secret + "x", stored)
    assert secret not in stored  # only the hash is kept


@pytest.mark.parametrize("key", ["", "Bearer x", "vg_short_secret", "xx_000000000001_secret", "vg_000000000001_"])
def test_malformed_keys_are_refused(key: str) -> None:
    with pytest.raises(BadKey):
        split_key(key)
