"""Real Cambridge bus fixes against the real Cambridge geofences: the same stays and alerts
whether the fixes arrive in time order, shuffled, or as two late bursts."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

import geopandas as gpd
import shapely

from service import monitoring
from service.db import orders_store, tables, units_store, zones_store
from service.settings import ApiSettings
from zones import model
from zones.grid import GridIndex

BUSES = (
    "cambridge-uk-bus-positions-smartcambridge/sirivm_cambridge_city_bbox_2019-10-01_0900-1000.csv"
)
ZONES = "cambridge-uk-zones-smartcambridge/zones.geojson"
NOW = datetime(2026, 11, 29, tzinfo=UTC)  # long after: every stay has ended by the clock


def _busiest(fixes: pd.DataFrame, zones: gpd.GeoDataFrame, n: int) -> list[str]:
    """The ``n`` vehicles with the most fixes inside a geofence."""
    point, _ = GridIndex(zones.geometry.to_numpy()).covering_pairs(
        fixes["longitude"].to_numpy(float), fixes["latitude"].to_numpy(float)
    )
    inside = fixes.iloc[np.unique(point)]
    return list(inside["vehicle_ref"].value_counts().index[:n])


def _subject(session: Session, ref: str, zone_ids: list[int]) -> int:
    if session.get(tables.Unit, "buses") is None:
        units_store.add_unit(session, "buses", "Bus watchers")
    subject = orders_store.create_subject(
        session, model.Subject(None, ref, f"Bus {ref}", unit="buses")
    )
    assert subject.id is not None
    order = model.Order(
        None,
        subject.id,
        f"SHPO/{ref}",
        model.OrderType.SHPO,
        date(2019, 1, 1),
        None,
        conditions=(
            model.Condition(None, "Not to enter any geofenced road.", tuple(zone_ids)),
            model.Condition(None, "Not within 30 m of them.", tuple(zone_ids[:20]), buffer_m=30.0),
        ),
    )
    orders_store.create_order(session, order)
    return subject.id


def _stays(session: Session, subject_id: int) -> list[tuple[object, ...]]:
    a = tables.Alert
    rows = session.scalars(
        select(a).where(a.subject_id == subject_id, a.merged_into.is_(None))
    ).all()
    return sorted(
        (
            r.clause_id,
            r.zone_id,
            r.severity,
            r.first_at,
            r.last_at,
            r.closed_at,
            r.closed_by,
            r.observation_count,
            r.confirmed_at is not None,
        )
        for r in rows
    )


def _clause_positions(session: Session, subject_id: int) -> dict[int, int]:
    """Clause ids by position, so subjects' stays compare clause for clause."""
    c, o = tables.Condition, tables.Order
    rows = session.execute(
        select(c.clause_id, c.position)
        .join(o, o.id == c.order_id)
        .where(o.subject_id == subject_id)
    ).all()
    return {clause: position for clause, position in rows}


def _buses_and_geofences(
    shared_data: Path, session: Session
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, list[int]]:
    """The real bus fixes, and the real geofences stored as zones (with their ids)."""
    fixes = pd.read_csv(
        shared_data / BUSES, usecols=["vehicle_ref", "unix_ts", "longitude", "latitude"]
    )
    zones = gpd.read_file(shared_data / ZONES)
    geoms = list(shapely.make_valid(zones.geometry.to_numpy()))
    zone_ids = zones_store.create_many(
        session, geoms, [f"geofence {i}" for i in range(len(geoms))], ["road"] * len(geoms),
        ["Smart Cambridge"] * len(geoms),
    )  # fmt: skip
    return fixes, zones, zone_ids


def test_bus_stays_do_not_depend_on_arrival_order(shared_data: Path, session: Session) -> None:
    fixes, zones, zone_ids = _buses_and_geofences(shared_data, session)
    settings = ApiSettings()
    total_stays = 0
    for vehicle in _busiest(fixes, zones, 3):
        track = fixes[fixes["vehicle_ref"] == vehicle].drop_duplicates("unix_ts")
        obs = [
            model.Observation(
                lon=float(r.longitude),
                lat=float(r.latitude),
                time=datetime.fromtimestamp(int(r.unix_ts), UTC),
                accuracy_m=10.0,
            )
            for r in track.itertuples()
        ]
        in_order = sorted(obs, key=lambda o: o.time)
        shuffled = in_order[:]
        random.Random(vehicle).shuffle(shuffled)
        half = len(in_order) // 2
        orders = {
            "in_order": [in_order[i : i + 10] for i in range(0, len(in_order), 10)],
            "shuffled": [shuffled[i : i + 7] for i in range(0, len(shuffled), 7)],
            "late_bursts": [in_order[half:], in_order[:half]],  # the later half arrives first
        }
        results = {}
        for how, batches in orders.items():
            sid = _subject(session, f"{vehicle}-{how}", zone_ids)
            for batch in batches:
                sent = [
                    model.Observation(o.lon, o.lat, o.time, o.accuracy_m, subject_id=sid)
                    for o in batch
                ]
                recorded = monitoring.record(session, sent, settings, now=NOW)
                assert all(r.error is None for r in recorded)
            session.flush()
            positions = _clause_positions(session, sid)
            results[how] = [
                (positions[s[0]], *s[1:])
                for s in _stays(session, sid)  # type: ignore[index]
            ]
        assert results["in_order"], f"{vehicle} never entered a geofence"
        assert results["shuffled"] == results["in_order"], vehicle
        assert results["late_bursts"] == results["in_order"], vehicle
        total_stays += len(results["in_order"])
    print(f"\n{total_stays} stays of 3 buses agree in time order, shuffled and in late bursts")


def _transits(session: Session, subject_id: int) -> list[tuple[object, ...]]:
    pt, o = tables.PossibleTransit, tables.Observation
    rows = session.execute(
        select(pt.clause_id, pt.zone_id, pt.kind, pt.starts, pt.ends, o.observed_at)
        .join(o, o.id == pt.from_observation_id)
        .where(pt.subject_id == subject_id)
    ).all()
    return sorted(tuple(r) for r in rows)


def test_buses_sent_together_get_what_each_gets_alone(shared_data: Path, session: Session) -> None:
    """Batches mixing several subjects' fixes (as a gateway forwards them) are judged,
    searched for transits and turned into stays subject by subject: each gets exactly
    what it gets when its fixes arrive alone."""
    fixes, zones, zone_ids = _buses_and_geofences(shared_data, session)
    settings = ApiSettings()
    tracks = {
        vehicle: [
            (float(r.longitude), float(r.latitude), datetime.fromtimestamp(int(r.unix_ts), UTC))
            # every twelfth fix: minutes apart, so that paths between fixes are searched too
            for r in fixes[fixes["vehicle_ref"] == vehicle]
            .drop_duplicates("unix_ts")
            .sort_values("unix_ts")
            .iloc[::12]
            .itertuples()
        ]
        for vehicle in _busiest(fixes, zones, 4)
    }
    alone = {v: _subject(session, f"{v}-alone", zone_ids) for v in tracks}
    together = {v: _subject(session, f"{v}-together", zone_ids) for v in tracks}
    for vehicle, track in tracks.items():
        sent = [model.Observation(x, y, t, 10.0, subject_id=alone[vehicle]) for x, y, t in track]
        for i in range(0, len(sent), 10):
            assert all(r.error is None for r in monitoring.record(session, sent[i : i + 10],
                                                                   settings, now=NOW))  # fmt: skip
    mixed = [
        model.Observation(x, y, t, 10.0, subject_id=together[vehicle])
        for vehicle, track in tracks.items()
        for x, y, t in track
    ]
    random.Random(9).shuffle(mixed)
    for i in range(0, len(mixed), 40):
        batch = mixed[i : i + 40]
        assert len({o.subject_id for o in batch}) > 1 or len(tracks) == 1
        assert all(r.error is None for r in monitoring.record(session, batch, settings, now=NOW))
    session.flush()
    stays = transits = 0
    for vehicle in tracks:
        got = {}
        for how, sid in (("alone", alone[vehicle]), ("together", together[vehicle])):
            positions = _clause_positions(session, sid)
            got[how] = (
                [(positions[s[0]], *s[1:]) for s in _stays(session, sid)],  # type: ignore[index]
                [(positions[s[0]], *s[1:]) for s in _transits(session, sid)],  # type: ignore[index]
            )
        assert got["together"] == got["alone"], vehicle
        stays += len(got["alone"][0])
        transits += len(got["alone"][1])
    assert stays > 0 and transits > 0
    print(f"\n{stays} stays and {transits} transits of 4 buses agree, sent alone and together")
