"""Choosing who manages the broker's device accounts."""

import pytest

from vigia.accounts import BrokerAccountsError, NoBrokerAccounts, load_accounts
from vigia.settings import Settings


def test_none_refuses_every_change_with_the_reason() -> None:
    accounts = load_accounts(Settings(broker_accounts="none"))
    assert isinstance(accounts, NoBrokerAccounts)
    with pytest.raises(BrokerAccountsError, match="VIGIA_BROKER_ACCOUNTS=none"):
        accounts.grant(sensor_id="s1", password="pw", topic="vigia/d/s1/telemetry")
    with pytest.raises(BrokerAccountsError, match="elsewhere"):
        accounts.revoke(sensor_id="s1")


def test_the_local_stack_provides_its_implementation_as_an_entry_point() -> None:
    accounts = load_accounts(Settings(broker_accounts="dynsec"))
    assert type(accounts).__name__ == "DynamicSecurity"
    assert callable(accounts.grant)
    assert callable(accounts.revoke)


def test_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(BrokerAccountsError, match=r"one of .*dynsec.*none"):
        load_accounts(Settings(broker_accounts="dynsec-typo"))
