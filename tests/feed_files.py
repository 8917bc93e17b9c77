"""GPX files as real producers write them, for the reader's and the upload route's tests."""

from __future__ import annotations

# Traccar's GPX export today (GPX 1.0, no namespace): the expected output of
# traccar/traccar src/test/java/org/traccar/reports/GpxExportProviderTest.java
# (commit a4e8152c), byte for byte.
TRACCAR_EXPORT = (
    b"<?xml version='1.0' encoding='UTF-8'?>"
    b'<gpx version="1.0">'
    b"<trk>"
    b"<name>A &amp; B &lt;test></name>"
    b"<trkseg>"
    b'<trkpt lat="10.5" lon="20.25">'
    b"<ele>30.75</ele>"
    b"<time>1970-01-01T00:00:00Z</time>"
    b"</trkpt>"
    b"</trkseg>"
    b"</trk>"
    b"</gpx>"
)

# Traccar 3.x's GpxBuilder (traccar/traccar src/main/java/org/traccar/web/GpxBuilder.java,
# commit 76a58a7e): GPX 1.1 with the namespace, times with the server's UTC offset
# (DateUtil.formatDate: ISO_OFFSET_DATE_TIME), course and speed (m/s) in the point. Filled
# in with its HEADER, NAME, POINT and FOOTER templates; the positions are in Cambridge.
TRACCAR_GPX_BUILDER = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="no" ?>'
    b'<gpx xmlns="http://www.topografix.com/GPX/1/1" creator="Traccar" version="1.1" '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    b'xsi:schemaLocation="http://www.topografix.com/GPX/1/1 '
    b'http://www.topografix.com/GPX/1/1/gpx.xsd"><trk>\n'
    b"<name>TAG-G</name><trkseg>\n"
    b'<trkpt lat="52.205300" lon="0.121800"><time>2026-11-28T15:03:00+01:00</time>'
    b"<geoidheight>12.000000</geoidheight><course>90.000000</course>"
    b"<speed>1.500000</speed></trkpt>\n"
    b'<trkpt lat="52.205400" lon="0.121900"><time>2026-11-28T15:04:00+01:00</time>'
    b"<geoidheight>12.000000</geoidheight><course>95.000000</course>"
    b"<speed>1.200000</speed></trkpt>\n"
    b"</trkseg></trk></gpx>"
)

# OsmAnd's GPX as its documentation shows it (osmandapp/web
# main/docs/technical/osmand-file-formats/osmand-gpx.md): the root of its "Track
# Appearance" example (GPX 1.1, with the https namespace the page writes), the trkpt of
# "Details of a Track Point" (hdop 3, heading and speed in extensions) and the wpt of the
# user guide's favourites example (the root's attributes wrapped onto lines of their own
# here); a second point of the track has lost its time.
OSMAND = b"""<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>
<gpx version="1.1" creator="OsmAnd~ 5.0.0"
    xmlns="https://www.topografix.com/GPX/1/1"
    xmlns:osmand="https://osmand.net/docs/technical/osmand-file-formats/osmand-gpx"
    xmlns:gpxtpx="https://www8.garmin.com/xmlschemas/TrackPointExtensionv1.xsd"
    xmlns:xsi="https://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="https://www.topografix.com/GPX/1/1
    https://www.topografix.com/GPX/1/1/gpx.xsd">
  <wpt lat="37.5460870" lon="-77.4532843">
    <time>2023-06-07T12:31:35Z</time>
    <name>Test</name>
    <type>SOTM</type>
  </wpt>
  <trk>
    <trkseg>
      <trkpt lat="52.397799" lon="4.575998">
        <ele>203</ele>
        <time>2019-05-08T10:36:43Z</time>
        <hdop>3</hdop>
        <extensions>
          <heading>273</heading>
          <speed>5.02</speed>
        </extensions>
      </trkpt>
      <trkpt lat="52.397801" lon="4.576020">
        <ele>203</ele>
        <hdop>3</hdop>
      </trkpt>
    </trkseg>
  </trk>
  <extensions>
    <osmand:color>#4e4eff</osmand:color>
    <osmand:width>bold</osmand:width>
  </extensions>
</gpx>
"""

# Hostile XML: the "billion laughs" entity expansion and an external entity (XXE).
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE gpx ['
    b'<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b']><gpx version="1.1"><wpt lat="52.2" lon="0.12"><name>&lol9;</name>'
    b"<time>2026-11-28T14:03:00Z</time></wpt></gpx>"
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    b'<gpx version="1.1"><wpt lat="52.2" lon="0.12"><name>&secret;</name>'
    b"<time>2026-11-28T14:03:00Z</time></wpt></gpx>"
)
