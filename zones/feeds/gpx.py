"""GPX 1.0 and 1.1 files read into fixes: track points (``trkpt``) and waypoints (``wpt``).

Every point needs its ``time`` (a point without one is refused alone, with where it is).
``hdop`` becomes an accuracy radius of ``hdop x hdop_m`` metres; ``ele`` the altitude;
``speed`` (m/s) and ``course`` where GPX 1.0 and Traccar's exports put them, or inside
``extensions`` where OsmAnd puts ``speed`` and ``heading``; ``<fix>none</fix>`` marks a fix
the receiver itself called invalid. Routes (``rte``) are plans, not positions: ignored.

Elements are matched by local name, whatever the namespace: GPX 1.0 and 1.1 differ in it,
Traccar writes none, and OsmAnd's documentation writes an https one.

The XML is parsed by defusedxml with DTDs, entities and external references refused, so a
file can neither read the server's files (XXE) nor expand itself into gigabytes (billion
laughs); it is streamed, so memory stays flat however many points the body cap admits.
"""

from __future__ import annotations

import io
from xml.etree.ElementTree import Element, ParseError

import defusedxml
from defusedxml.ElementTree import iterparse

from zones.errors import ImportFailed, InvalidObservation
from zones.feeds.fix import FeedFix
from zones.feeds.records import (
    MAX_RECORDS,
    Record,
    accuracy,
    check_count,
    instant,
    refused,
)
from zones.feeds.values import number, required

PROTOCOL = "gpx"
POINTS = frozenset({"trkpt", "wpt"})


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(point: Element) -> dict[str, str]:
    """Text of a point's children by local name, ``extensions`` searched too (OsmAnd's
    ``speed`` and ``heading`` live there); a direct child wins over an extension's."""
    found: dict[str, str] = {}
    for child in point:
        name = _local(child.tag)
        if name == "extensions":
            for inner in child.iter():
                if inner is not child and inner.text and inner.text.strip():
                    found.setdefault(_local(inner.tag), inner.text)
        elif child.text is not None:
            found[name] = child.text
    return found


def _fix(point: Element, device: str, hdop_m: float) -> FeedFix:
    lat, lon = (point.get(k) for k in ("lat", "lon"))
    if lat is None or lon is None:
        raise InvalidObservation("a point needs its lat and lon attributes", field="lat")
    values = _children(point)
    if not values.get("time", "").strip():
        raise InvalidObservation("the point has no time: it cannot be placed", field="time")
    hdop = number(values.get("hdop"), "hdop")

    def optional(*names: str) -> float | None:
        name = next((n for n in names if n in values), None)
        return None if name is None else number(values[name], name)

    return FeedFix(
        device=device,
        time=instant(values["time"], "time", naive_is_utc=True),  # GPX times are UTC
        lon=required(lon, "lon"),
        lat=required(lat, "lat"),
        accuracy_m=accuracy(hdop * hdop_m, "hdop") if hdop is not None and hdop > 0 else None,
        speed_mps=optional("speed"),
        bearing_deg=optional("course", "heading"),
        altitude_m=optional("ele"),
        valid=values.get("fix", "").strip() != "none",
        protocol=PROTOCOL,
    )


def read_gpx(
    data: bytes, *, device: str, hdop_m: float, max_records: int = MAX_RECORDS
) -> list[Record]:
    """Every track point and waypoint of a GPX file, in file order, as fixes of ``device``.

    Raises
    ------
    ImportFailed
        The file is not well-formed XML, not GPX, declares a DTD or entities, or holds
        more than ``max_records`` points.
    """
    records: list[Record] = []
    trk = seg = pt = wpt = -1
    root = True
    try:
        for event, element in iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True):
            name = _local(element.tag)
            if event == "start":
                if root and name != "gpx":
                    raise ImportFailed(
                        f"the file is not GPX (its root element is <{name[:40]}>)", field="file"
                    )
                root = False
                if name == "trk":
                    trk, seg = trk + 1, -1
                elif name == "trkseg":
                    seg, pt = seg + 1, -1
                continue
            if name not in POINTS:
                if name in ("trkseg", "rte"):
                    element.clear()  # its points are read: keep memory flat
                continue
            if name == "trkpt":
                pt += 1
                where = f"trk[{max(trk, 0)}].trkseg[{max(seg, 0)}].trkpt[{pt}]"
            else:
                wpt += 1
                where = f"wpt[{wpt}]"
            check_count(len(records) + 1, max_records)
            try:
                records.append(Record(where, fix=_fix(element, device, hdop_m)))
            except InvalidObservation as exc:
                records.append(refused(len(records), where, exc))
            element.clear()
    except ParseError as exc:
        raise ImportFailed(f"the file is not well-formed XML ({exc})", field="file") from exc
    except defusedxml.DefusedXmlException as exc:
        raise ImportFailed(
            "the file declares a DTD or entities, which GPX never needs: refused",
            field="file",
        ) from exc
    return records
