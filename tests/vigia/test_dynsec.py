"""The dynamic-security commands a registration, a revocation and `vigia up` send."""

from __future__ import annotations

from vigia import dynsec
from vigia.settings import Settings


def test_a_sensor_gets_a_role_that_may_publish_only_its_own_topic_made_afresh() -> None:
    commands = dynsec.grant_commands("sjl-water-07", "secret", "vigia/sjl/sjl-water-07/telemetry")
    assert [c.body["command"] for c in commands] == ["deleteClient", "deleteRole", "createRole", "createClient"]
    assert [c.may_fail for c in commands] == [True, True, False, False]
    role = commands[2].body
    assert role["rolename"] == "sensor-sjl-water-07"
    assert role["acls"] == [{"acltype": "publishClientSend", "topic": "vigia/sjl/sjl-water-07/telemetry",
                             "allow": True, "priority": 0}]  # fmt: skip
    assert commands[3].body["roles"] == [{"rolename": "sensor-sjl-water-07", "priority": 0}]


def test_the_simulator_may_publish_in_its_districts_only_unless_told_any() -> None:
    settings = Settings(mqtt_simulator_districts=["san-juan-de-lurigancho", "comas"])
    [role] = [c.body for c in dynsec.simulator_commands(settings) if c.body["command"] == "createRole"]
    assert [acl["topic"] for acl in role["acls"]] == ["vigia/san-juan-de-lurigancho/#", "vigia/comas/#"]
    assert dynsec.simulator_topics(["*"]) == ["vigia/#"]
    bridge = next(c.body for c in dynsec.bridge_commands(settings) if c.body["command"] == "createRole")
    assert {acl["acltype"] for acl in bridge["acls"]} == {"subscribePattern", "unsubscribePattern"}
    assert {acl["topic"] for acl in bridge["acls"]} == {"vigia/#", "$share/+/vigia/#"}  # bridges sharing one


def test_only_refusals_of_commands_that_must_succeed_count() -> None:
    commands = [*dynsec.revoke_commands("gone"), dynsec.Command({"command": "createRole", "rolename": "r"})]
    responses = [{"command": "deleteClient", "error": "Client not found"}, {"command": "deleteRole"},
                 {"command": "createRole", "error": "Role already exists"}]  # fmt: skip
    assert dynsec.errors_of(commands, responses) == ["createRole: Role already exists"]
    assert dynsec.errors_of(commands, responses[:1]) == ["the broker answered 1 of 3 commands"]
