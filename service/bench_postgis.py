"""PostGIS as a peer of ``zones bench judge``: ``ST_Covers`` over GiST indexes.

A user with the fixes and zones already in PostGIS would run one join; so loading the
points and zones and building their indexes is a separate step, timed apart, and the
join (with fetching its pairs) is what is compared. PostgreSQL may run it on parallel
workers, as it would for that user.
"""

from __future__ import annotations

import io
import time

import numpy as np
import pandas as pd
import psycopg

import shapely

from zones.bench import FloatArray, GeometryArray, Pairs
from zones.benchdata import Dataset


class PostgisCovers:
    """Points and zones in a scratch PostGIS database, joined with ``ST_Covers``."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import make_url

        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.connection = psycopg.connect(libpq, autocommit=True)
        self.connection.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        self._loaded: tuple[int, int] | None = None

    def close(self) -> None:
        """Drop the tables and close the connection."""
        self.connection.execute("DROP TABLE IF EXISTS bench_points, bench_zones")
        self.connection.close()

    def prepare(self, data: Dataset) -> float:
        """Load the fixes and zones and index them; seconds taken."""
        began = time.perf_counter()
        c = self.connection
        c.execute("DROP TABLE IF EXISTS bench_points, bench_zones")
        c.execute("CREATE UNLOGGED TABLE bench_points (i int, x float8, y float8)")
        c.execute("CREATE UNLOGGED TABLE bench_zones (i int, w text)")
        points = pd.DataFrame({"i": np.arange(len(data.lon)), "x": data.lon, "y": data.lat})
        with c.cursor() as cursor:
            with cursor.copy("COPY bench_points FROM STDIN") as copy:
                copy.write(points.to_csv(sep="\t", header=False, index=False, float_format="%.17g"))
            with cursor.copy("COPY bench_zones FROM STDIN") as copy:
                for i, w in enumerate(shapely.to_wkb(data.zones, hex=True)):
                    copy.write_row((i, w))
        c.execute(
            "ALTER TABLE bench_points ADD COLUMN g geometry(Point, 4326); "
            "UPDATE bench_points SET g = ST_SetSRID(ST_MakePoint(x, y), 4326)"
        )
        c.execute(
            "ALTER TABLE bench_zones ADD COLUMN g geometry(Geometry, 4326); "
            "UPDATE bench_zones SET g = ST_GeomFromWKB(decode(w, 'hex'), 4326)"
        )
        c.execute("CREATE INDEX ON bench_points USING gist (g)")
        c.execute("CREATE INDEX ON bench_zones USING gist (g)")
        c.execute("ANALYZE bench_points")
        c.execute("ANALYZE bench_zones")
        self._loaded = (id(data.lon), id(data.zones))
        return time.perf_counter() - began

    def __call__(self, lon: FloatArray, lat: FloatArray, zones: GeometryArray) -> Pairs:
        if self._loaded != (id(lon), id(zones)):
            raise RuntimeError("PostgisCovers.prepare was not called with these fixes")
        out = io.BytesIO()
        with self.connection.cursor() as cursor:
            sql = (
                "COPY (SELECT p.i, z.i FROM bench_points p "
                "JOIN bench_zones z ON ST_Covers(z.g, p.g)) TO STDOUT"
            )
            with cursor.copy(sql) as copy:
                for block in copy:
                    out.write(block)
        found = np.loadtxt(io.BytesIO(out.getvalue()), dtype=np.int64, ndmin=2).reshape(-1, 2)
        return found[:, 0].astype(np.intp), found[:, 1].astype(np.intp)
