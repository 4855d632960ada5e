"""The stream's SQL for alerts: their rows and event log, the outbox the alerts topic is fed from,
and what late readings change in them; all in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg

from stream.alerts import Change, OpenAlert
from stream.repo.readings import timestamp
from stream.rule_book import Fired
from vigia.contracts import Alert, AlertState, HousingContext, Severity


async def alerts_overlapping(
    conn: psycopg.AsyncConnection, *, episodes: Sequence[tuple[str, str, str, float, float]]
) -> dict[str, set[str]]:
    """For (alert id, sensor, rule, opened, resolved) episodes, the stored alerts of the same sensor
    and rule that cover part of their time (the episode's own id among them if it is stored)."""
    if not episodes:
        return {}
    ids, sensors, rules, opened, resolved = (list(column) for column in zip(*episodes, strict=True))
    cur = await conn.execute(
        """SELECT DISTINCT q.alert_id, a.alert_id
           FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[])
                AS q(alert_id, sensor_id, rule, opened, resolved)
           JOIN alerts a ON a.sensor_id = q.sensor_id AND a.rule = q.rule
                        AND a.opened_at <= q.resolved AND coalesce(a.resolved_at, 'infinity') >= q.opened""",
        (ids, sensors, rules, [timestamp(t) for t in opened], [timestamp(t) for t in resolved]),
    )
    covering: dict[str, set[str]] = {}
    for episode, alert in await cur.fetchall():
        covering.setdefault(str(episode), set()).add(str(alert))
    return covering


async def redate_alerts(conn: psycopg.AsyncConnection, redated: Sequence[tuple[str, float]]) -> None:
    """Move the start of open alerts to when late readings show their condition began, announcing
    nothing; either way, as a buffer uploaded in pieces may first show a gap as part of the outage."""
    if redated:
        await conn.execute(
            """UPDATE alerts a SET opened_at = r.opened_at, window_start = r.opened_at
               FROM unnest(%s::uuid[], %s::timestamptz[]) AS r(alert_id, opened_at)
               WHERE a.alert_id = r.alert_id AND a.opened_at <> r.opened_at""",
            ([alert_id for alert_id, _ in redated], [timestamp(at) for _, at in redated]),
        )


async def correct_resolutions(conn: psycopg.AsyncConnection, resolutions: Sequence[tuple[str, float]]) -> None:
    """Move the end of resolved alerts to what later readings show, announcing nothing."""
    if resolutions:
        await conn.execute(
            """UPDATE alerts a SET resolved_at = c.resolved_at
               FROM unnest(%s::uuid[], %s::timestamptz[]) AS c(alert_id, resolved_at)
               WHERE a.alert_id = c.alert_id AND a.state = 'resolved' AND a.resolved_at <> c.resolved_at""",
            ([alert_id for alert_id, _ in resolutions], [timestamp(at) for _, at in resolutions]),
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
                   state = CASE WHEN EXCLUDED.state = 'resolved' THEN 'resolved' ELSE alerts.state END""",
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
        "SELECT alert_id::text FROM alerts WHERE alert_id = ANY(%(ids)s::uuid[]) AND state = 'resolved'",
        {"ids": list(alert_ids)},
    )
    return {row[0] for row in await cur.fetchall()}


async def load_open_alerts(conn: psycopg.AsyncConnection, *, sensors: Sequence[str]) -> list[OpenAlert]:
    """The alerts of these sensors not yet resolved, whichever worker opened them."""
    cur = await conn.execute(
        """SELECT alert_id, rule, sensor_id, metric, severity, extract(epoch FROM opened_at),
                  extract(epoch FROM updated_at), value, detail
           FROM alerts WHERE state <> 'resolved' AND sensor_id = ANY(%(sensors)s::text[])""",
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
