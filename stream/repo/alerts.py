"""The stream's SQL for alerts: their rows and event log, the outbox the alerts topic is fed from,
and what late readings change in them; all in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg

from stream.alerts import Change, OpenAlert
from stream.reconcile import Stored
from stream.repo.readings import timestamp
from stream.rule_book import Fired
from vigia.contracts import Alert, AlertState, HousingContext, Severity


async def alerts_within(
    conn: psycopg.AsyncConnection, *, spans: Sequence[tuple[str, float, float]]
) -> dict[str, dict[str, list[Stored]]]:
    """For (sensor, since, until) stretches of history read back, the alerts of the sensor that
    cover part of them, by sensor and rule; withdrawn ones are left out. A person acted on an
    alert if they acknowledged it or resolved it (with a note, even an empty one)."""
    if not spans:
        return {}
    sensors, since, until = (list(column) for column in zip(*spans, strict=True))
    cur = await conn.execute(
        """SELECT DISTINCT a.sensor_id, a.rule, a.alert_id::text, extract(epoch FROM a.opened_at),
                  CASE WHEN a.state = 'resolved' THEN extract(epoch FROM a.resolved_at) END,
                  a.acknowledged_at IS NOT NULL OR a.note IS NOT NULL
           FROM unnest(%s::text[], %s::timestamptz[], %s::timestamptz[]) AS q(sensor_id, since, until)
           JOIN alerts a ON a.sensor_id = q.sensor_id AND a.opened_at <= q.until
                        AND coalesce(a.resolved_at, 'infinity') >= q.since
           WHERE a.state <> 'withdrawn'""",
        (sensors, [timestamp(t) for t in since], [timestamp(t) for t in until]),
    )
    found: dict[str, dict[str, list[Stored]]] = {}
    for sensor, rule, alert_id_, opened, resolved, by_hand in await cur.fetchall():
        stored = Stored(alert_id_, float(opened), None if resolved is None else float(resolved), bool(by_hand))
        found.setdefault(sensor, {}).setdefault(rule, []).append(stored)
    return found


async def redate_alerts(conn: psycopg.AsyncConnection, redated: Sequence[tuple[str, float]]) -> None:
    """Move the start of open alerts to when late readings show their condition began, announcing
    nothing; either way, as a buffer uploaded in pieces may first show a gap as part of the outage."""
    if redated:
        await conn.execute(
            """UPDATE alerts a SET opened_at = r.opened_at, window_start = r.opened_at
               FROM unnest(%s::uuid[], %s::timestamptz[]) AS r(alert_id, opened_at)
               WHERE a.alert_id = r.alert_id AND a.opened_at <> r.opened_at AND a.state <> 'withdrawn'""",
            ([alert_id for alert_id, _ in redated], [timestamp(at) for _, at in redated]),
        )


async def correct_alerts(conn: psycopg.AsyncConnection, corrected: Sequence[tuple[str, float, float]]) -> None:
    """Move the start and end of resolved alerts to what later readings show, announcing nothing."""
    if corrected:
        await conn.execute(
            """UPDATE alerts a SET opened_at = c.opened_at, window_start = c.opened_at, resolved_at = c.resolved_at
               FROM unnest(%s::uuid[], %s::timestamptz[], %s::timestamptz[]) AS c(alert_id, opened_at, resolved_at)
               WHERE a.alert_id = c.alert_id AND a.state = 'resolved'""",
            (
                [alert_id for alert_id, _, _ in corrected],
                [timestamp(opened) for _, opened, _ in corrected],
                [timestamp(resolved) for _, _, resolved in corrected],
            ),
        )


async def withdraw_alerts(conn: psycopg.AsyncConnection, withdrawn: Sequence[tuple[str, float]]) -> None:
    """Alerts late readings refute become withdrawn, with an event so those told of them hear it;
    one a person acted on stays as it is."""
    if withdrawn:
        await conn.execute(
            """WITH gone AS (
                   UPDATE alerts a SET state = 'withdrawn', updated_at = greatest(a.updated_at, w.at)
                   FROM unnest(%s::uuid[], %s::timestamptz[]) AS w(alert_id, at)
                   WHERE a.alert_id = w.alert_id AND a.state <> 'withdrawn'
                     AND a.acknowledged_at IS NULL AND a.note IS NULL
                   RETURNING a.alert_id, w.at, a.severity, a.value, a.detail)
               INSERT INTO alert_events (time, alert_id, change, severity, state, value, detail)
               SELECT at, alert_id, 'withdrawn', severity, 'withdrawn', value, detail FROM gone
               ON CONFLICT DO NOTHING""",
            ([alert_id for alert_id, _ in withdrawn], [timestamp(at) for _, at in withdrawn]),
        )


async def record_alerts(conn: psycopg.AsyncConnection, fired: Sequence[Fired]) -> None:
    """Each change to its alert's row, and to the event log the alerts topic is published from.

    Changes are written in the order they happened. An alert the batch also resolves is written
    resolved from its first row: a past outage a gateway's buffer reveals must not stand open,
    even for a statement, beside the alert open now for the same sensor and rule (one open
    alert per sensor and rule is a constraint of the table).
    """
    if not fired:
        return
    ends = {f.change.alert.alert_id: f.change.at for f in fired if f.change.change is Change.RESOLVED}
    alerts, events = [], []
    for f in fired:
        a = f.change.alert
        h = f.housing
        end = ends.get(a.alert_id)
        state = "resolved" if f.change.change is Change.RESOLVED else "open"
        alerts.append(
            (
                a.alert_id, f.rule.id, a.sensor_id, a.metric, f.place.district, f.place.tile_id, a.severity.value,
                "open" if end is None else "resolved", timestamp(a.opened_at), timestamp(a.updated_at),
                None if end is None else timestamp(end), a.value, a.detail,
                f.rule.title["es"], f.rule.title["en"], h.embedding_id, h.model_version, h.land_use_class,
                h.housing_score, h.precarious_share, timestamp(a.opened_at), timestamp(a.updated_at),
            )
        )  # fmt: skip
        events.append(
            (timestamp(f.change.at), a.alert_id, f.change.change.value, a.severity.value, state, a.value, a.detail)
        )
    async with conn.cursor() as cur:
        await cur.executemany(
            """INSERT INTO alerts (alert_id, rule, sensor_id, metric, district, tile_id, severity, state, opened_at,
                                   updated_at, resolved_at, value, detail, title_es, title_en, embedding_id,
                                   model_version, land_use_class, housing_score, precarious_share,
                                   window_start, window_end)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (alert_id) DO UPDATE SET
                   severity = EXCLUDED.severity, updated_at = EXCLUDED.updated_at,
                   resolved_at = coalesce(EXCLUDED.resolved_at, alerts.resolved_at),
                   value = EXCLUDED.value, detail = EXCLUDED.detail,
                   embedding_id = EXCLUDED.embedding_id, model_version = EXCLUDED.model_version,
                   land_use_class = EXCLUDED.land_use_class, housing_score = EXCLUDED.housing_score,
                   precarious_share = EXCLUDED.precarious_share, window_end = EXCLUDED.window_end,
                   -- people acknowledge through the API; the stream only ever resolves
                   state = CASE WHEN EXCLUDED.state = 'resolved' AND alerts.state <> 'withdrawn' THEN 'resolved'
                                ELSE alerts.state END""",
            alerts,
        )
        await cur.executemany(
            """INSERT INTO alert_events (time, alert_id, change, severity, state, value, detail)
               VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING""",
            events,
        )


async def resolved_alerts(conn: psycopg.AsyncConnection, *, alert_ids: Sequence[str]) -> set[str]:
    """Which of these alerts the database holds resolved: by the stream before, or by a person through the API."""
    if not alert_ids:
        return set()
    cur = await conn.execute(
        """SELECT alert_id::text FROM alerts
           WHERE alert_id = ANY(%(ids)s::uuid[]) AND state IN ('resolved', 'withdrawn')""",
        {"ids": list(alert_ids)},
    )
    return {row[0] for row in await cur.fetchall()}


async def load_open_alerts(conn: psycopg.AsyncConnection, *, sensors: Sequence[str]) -> list[OpenAlert]:
    """The alerts of these sensors not yet resolved, whichever worker opened them."""
    cur = await conn.execute(
        """SELECT alert_id, rule, sensor_id, metric, severity, extract(epoch FROM opened_at),
                  extract(epoch FROM updated_at), value, detail
           FROM alerts WHERE state IN ('open', 'acknowledged') AND sensor_id = ANY(%(sensors)s::text[])""",
        {"sensors": list(sensors)},
    )
    alerts = []
    for row in await cur.fetchall():
        alert_id_, rule, sensor, metric, severity, opened, updated, value, detail = row
        alerts.append(
            OpenAlert(
                alert_id=str(alert_id_),
                rule_id=rule,
                sensor_id=sensor,
                metric=metric,
                severity=Severity(severity),
                opened_at=float(opened),
                updated_at=float(updated),
                value=value,
                detail=detail,
                announced_at=float(updated),
            )
        )
    return alerts


async def unpublished_alerts(
    conn: psycopg.AsyncConnection, limit: int = 500
) -> list[tuple[tuple[str, str, datetime], Alert]]:
    """Alert changes not yet on the alerts topic, oldest first, each with its event key."""
    cur = await conn.execute(
        """SELECT e.alert_id, e.change, e.time, e.severity, e.state, e.value, e.detail,
                  a.rule, a.sensor_id, a.metric, a.district, a.tile_id, a.opened_at, a.updated_at, a.title_es,
                  a.title_en, a.embedding_id, a.model_version, a.land_use_class, a.housing_score,
                  a.precarious_share, a.window_start, a.window_end
           FROM alert_events e JOIN alerts a USING (alert_id)
           WHERE e.published_at IS NULL
           ORDER BY e.recorded_at, e.time
           LIMIT %s""",
        (limit,),
    )
    out = []
    for row in await cur.fetchall():
        alert_id_, change, time, severity, state, value, detail, rule, sensor, metric, district, tile = row[:12]
        opened, updated, title_es, title_en, embedding_id, model_version, land_use, score, share, start, end = row[12:]
        alert = Alert(
            alert_id=str(alert_id_), rule=rule, sensor_id=sensor, metric=metric, district=district,
            tile_id=tile, severity=Severity(severity), state=AlertState(state), opened_at=opened, updated_at=updated,
            summary=f"{title_en}: {detail}" if detail else title_en, change=change, changed_at=time,
            title_es=title_es, title_en=title_en, value=value, window_start=start, window_end=end,
            housing=HousingContext(
                embedding_id=embedding_id, model_version=model_version, land_use_class=land_use,
                housing_score=score, precarious_share=share,
            ),
        )  # fmt: skip
        out.append(((str(alert_id_), change, time), alert))
    return out


async def mark_published(conn: psycopg.AsyncConnection, keys: Sequence[tuple[str, str, datetime]]) -> None:
    if keys:
        await conn.execute(
            """UPDATE alert_events e SET published_at = now()
               FROM unnest(%s::uuid[], %s::text[], %s::timestamptz[]) AS k(alert_id, change, time)
               WHERE e.alert_id = k.alert_id AND e.change = k.change AND e.time = k.time""",
            ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]),
        )
