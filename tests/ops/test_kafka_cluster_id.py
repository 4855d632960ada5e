"""Kafka's storage tool reads a cluster id starting with '-' as an option; ours never do."""

from __future__ import annotations

import base64

from ops.kafka import new_cluster_id


def test_cluster_ids_are_sixteen_random_bytes_never_starting_with_a_dash() -> None:
    ids = [new_cluster_id() for _ in range(2000)]  # about 30 draws would start with '-' unchecked
    assert all(not cluster_id.startswith("-") for cluster_id in ids)
    assert len(set(ids)) == len(ids)
    assert all(len(base64.urlsafe_b64decode(cluster_id + "==")) == 16 for cluster_id in ids)
