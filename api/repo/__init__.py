"""All SQL the API runs, one module per resource, as functions with keyword-only arguments.

Routes call `repo.<function>`; the modules say which resource a query belongs to.
"""

from __future__ import annotations

from api.repo.alerts import alert, alert_changes, alert_history, alerts, change_alert
from api.repo.keys import api_key
from api.repo.places import (
    district_exists,
    district_status,
    district_tiles,
    districts,
    name_tile,
    sensors_reporting,
    tile_assessment,
    tile_places,
    tile_sensors,
)
from api.repo.planning import (
    announced_cuts,
    coverage_inputs,
    decide_plausibility,
    plausibility_decisions,
    plausibility_inputs,
    priority_inputs,
    record_cut,
    report_inputs,
    service_samples,
    set_tolerance,
    tolerances,
)
from api.repo.rows import NoRow, now, ping
from api.repo.sensors import (
    Latest,
    add_calibration,
    calibrations,
    latest_of,
    name_place,
    sensor,
    sensors,
    series_columns,
    uptime,
)
from api.repo.subscriptions import (
    create_subscription,
    delete_subscription,
    deliveries,
    delivery_attempts,
    district_deliveries,
    subscription,
    subscriptions,
)

__all__ = [
    "Latest",
    "NoRow",
    "add_calibration",
    "alert",
    "alert_changes",
    "alert_history",
    "alerts",
    "announced_cuts",
    "api_key",
    "calibrations",
    "change_alert",
    "coverage_inputs",
    "create_subscription",
    "decide_plausibility",
    "delete_subscription",
    "deliveries",
    "delivery_attempts",
    "district_deliveries",
    "district_exists",
    "district_status",
    "district_tiles",
    "districts",
    "latest_of",
    "name_place",
    "name_tile",
    "now",
    "ping",
    "plausibility_decisions",
    "plausibility_inputs",
    "priority_inputs",
    "record_cut",
    "report_inputs",
    "sensor",
    "sensors",
    "sensors_reporting",
    "series_columns",
    "service_samples",
    "set_tolerance",
    "subscription",
    "subscriptions",
    "tile_assessment",
    "tile_places",
    "tile_sensors",
    "tolerances",
    "uptime",
]
