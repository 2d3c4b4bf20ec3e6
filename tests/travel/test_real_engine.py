"""The OSRM client against a real routing engine on a tiny generated road network.

The engine is Valhalla, from the ``pyvalhalla`` wheel's own executables
(``valhalla_build_tiles`` and ``valhalla_service``): ``make install`` puts them
in ``.venv/valhalla``. The network is a grid of residential streets near Tokyo,
100 m apart, written here as an ``.osm.pbf``; Valhalla builds its tiles from it
in well under a second and serves its matrix (``/sources_to_targets`` with
``format=osrm``, an OSRM-shaped table). A small shim in front of it answers the
app's OSRM ``/table`` URL, so the app is driven exactly as against OSRM.
"""

from __future__ import annotations

import json
import math
import os
import socket
import struct
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from dispatch.models import RunStatus
from dispatch.travel import PLANNER_STRAIGHT_LINE
from scheduler.model import Location
from scheduler.travel import OsrmTravel, haversine_m
from tests.conftest import wait_until

REPO = Path(__file__).resolve().parents[2]
VALHALLA_BIN = Path(
    os.environ.get("VALHALLA_BIN", REPO / ".venv" / "valhalla" / "valhalla" / "bin")
)

BLOCK_M = 100.0
LAT0, LON0 = 35.688, 139.695
"""The grid's south-west corner; it covers the dispatch tests' small world."""
ROWS, COLS = 12, 112
M_PER_DEG_LAT = 111_320.0
DLAT = BLOCK_M / M_PER_DEG_LAT
DLON = BLOCK_M / (M_PER_DEG_LAT * math.cos(math.radians(LAT0)))


def corner(row: int, col: int) -> Location:
    """The crossing ``row`` blocks north and ``col`` blocks east of the grid's corner."""
    return Location(lat=round(LAT0 + row * DLAT, 7), lon=round(LON0 + col * DLON, 7))


# -- a minimal OSM PBF writer (uncompressed blobs, plain nodes), enough for a grid ----------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _int(field: int, value: int) -> bytes:
    return _key(field, 0) + _varint(value)


def _bytes(field: int, value: bytes) -> bytes:
    return _key(field, 2) + _varint(len(value)) + value


def _packed(field: int, values: list[int]) -> bytes:
    return _bytes(field, b"".join(_varint(v) for v in values))


def _blob(kind: str, data: bytes) -> bytes:
    blob = _bytes(1, data) + _int(2, len(data))  # raw, raw_size
    header = _bytes(1, kind.encode()) + _int(3, len(blob))  # type, datasize
    return struct.pack(">I", len(header)) + header + blob


def write_grid_pbf(path: Path) -> None:
    """``ROWS`` x ``COLS`` crossings joined by two-way residential streets."""
    strings = [b"", b"highway", b"residential"]
    node_id = {(r, c): 1 + r * COLS + c for r in range(ROWS) for c in range(COLS)}
    nodes = b""
    for (r, c), nid in node_id.items():
        here = corner(r, c)
        # id, lat, lon; the default granularity (100 nanodegrees) is 1e-7 degrees
        lat, lon = _zigzag(round(here.lat * 1e7)), _zigzag(round(here.lon * 1e7))
        nodes += _bytes(1, _int(1, _zigzag(nid)) + _int(8, lat) + _int(9, lon))
    lines = [[node_id[r, c] for c in range(COLS)] for r in range(ROWS)]
    lines += [[node_id[r, c] for r in range(ROWS)] for c in range(COLS)]
    ways = b""
    for wid, refs in enumerate(lines, start=1):
        deltas = [_zigzag(b - a) for a, b in zip([0, *refs], refs, strict=False)]
        ways += _bytes(3, _int(1, wid) + _packed(2, [1]) + _packed(3, [2]) + _packed(8, deltas))
    table = _bytes(1, b"".join(_bytes(1, s) for s in strings))
    block = table + _bytes(2, nodes) + _bytes(2, ways)
    header = _bytes(4, b"OsmSchema-V0.6")
    path.write_bytes(_blob("OSMHeader", header) + _blob("OSMData", block))


# -- the engine and the shim ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def engine_config(tmp: Path, port: int) -> dict[str, Any]:
    """Valhalla's defaults (its own ``valhalla_build_config``), on this grid and port."""
    script = VALHALLA_BIN.parent / "valhalla_build_config.py"
    out = subprocess.run(
        [sys.executable, str(script), "--mjolnir-tile-dir", str(tmp / "tiles")],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    config: dict[str, Any] = json.loads(out)
    mjolnir = config["mjolnir"]
    mjolnir["tile_extract"] = str(tmp / "none.tar")
    mjolnir["traffic_extract"] = str(tmp / "none-traffic.tar")
    mjolnir["admin"] = mjolnir["timezone"] = ""
    config["httpd"]["service"].update(
        listen=f"tcp://127.0.0.1:{port}",
        loopback=f"ipc://{tmp}/loopback",
        interrupt=f"ipc://{tmp}/interrupt",
    )
    return config


def _shim(engine_url: str) -> type[BaseHTTPRequestHandler]:
    """OSRM's ``GET /table/v1/{profile}/{lon,lat;..}`` as Valhalla's matrix request."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            coords = parts.path.split("/", 4)[4]
            points = [
                {"lon": float(lon), "lat": float(lat)}
                for lon, lat in (pair.split(",") for pair in coords.split(";"))
            ]
            query = parse_qs(parts.query)

            def pick(name: str) -> list[dict[str, float]]:
                if name not in query or query[name] == ["all"]:
                    return points
                return [points[int(i)] for i in query[name][0].split(";")]

            request = {
                "sources": pick("sources"),
                "targets": pick("destinations"),
                "costing": "auto",
                "format": "osrm",
            }
            post = urllib.request.Request(
                f"{engine_url}/sources_to_targets",
                data=json.dumps(request).encode(),
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(post, timeout=20) as answer:
                    status, body = answer.status, answer.read()
            except urllib.error.HTTPError as exc:
                status, body = exc.code, exc.read()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            """Keep test output quiet."""

    return Handler


@dataclass
class Engine:
    url: str
    """The shim's base URL, as ``TRAVEL_OSRM_URL``."""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    for exe in ("valhalla_build_tiles", "valhalla_service"):
        assert (VALHALLA_BIN / exe).is_file(), (
            f"{VALHALLA_BIN / exe} is missing: `make test` installs pyvalhalla's executables"
        )
    tmp = tmp_path_factory.mktemp("valhalla")
    pbf = tmp / "grid.osm.pbf"
    write_grid_pbf(pbf)
    port = free_port()
    config_path = tmp / "valhalla.json"
    config_path.write_text(json.dumps(engine_config(tmp, port)))
    log = (tmp / "engine.log").open("w")
    subprocess.run(
        [str(VALHALLA_BIN / "valhalla_build_tiles"), "-c", str(config_path), "-j", "1", str(pbf)],
        check=True,
        stdout=log,
        stderr=subprocess.STDOUT,
        timeout=60,
    )
    service = subprocess.Popen(
        [str(VALHALLA_BIN / "valhalla_service"), str(config_path), "1"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    engine_url = f"http://127.0.0.1:{port}"
    shim = ThreadingHTTPServer(("127.0.0.1", 0), _shim(engine_url))
    thread = threading.Thread(target=shim.serve_forever, daemon=True)
    thread.start()
    try:

        def answering() -> bool:
            assert service.poll() is None, (tmp / "engine.log").read_text()[-2000:]
            try:
                urllib.request.urlopen(f"{engine_url}/status", timeout=1).close()
            except OSError:
                return False
            return True

        assert wait_until(answering), "valhalla_service did not start"
        yield Engine(url=f"http://127.0.0.1:{shim.server_address[1]}")
    finally:
        shim.shutdown()
        shim.server_close()
        thread.join(timeout=10)
        service.kill()  # its graceful stop drains for seconds; it holds nothing to keep
        service.wait(timeout=10)
        log.close()


def straight_m(a: Location, b: Location) -> float:
    return float(haversine_m(a.lat, a.lon, b.lat, b.lon))


def test_the_engine_drives_the_grid_by_its_streets(engine: Engine) -> None:
    start = corner(2, 2)
    east3 = corner(2, 5)  # 3 blocks along one street
    north3_east3 = corner(5, 5)  # 3 + 3 blocks, no diagonal street
    far = corner(9, 40)  # 7 + 38 blocks
    points = [start, east3, north3_east3, far]
    travel = OsrmTravel(engine.url, timeout_s=20).matrix(points)
    blocks = {(0, 1): 3, (0, 2): 6, (0, 3): 45, (1, 2): 3, (1, 3): 42, (2, 3): 39}
    for (i, j), n in blocks.items():
        for a, b in ((i, j), (j, i)):
            metres = int(travel.distance_m[a, b])
            seconds = int(travel.duration_s[a, b])
            assert metres >= straight_m(points[a], points[b])
            # No road is shorter than the blocks between (the grid is the only road);
            # a short trip is exactly its blocks, a long one at most a little more
            # (Valhalla's many-to-many matrix is not always the very shortest path).
            assert metres >= n * BLOCK_M - 2, (a, b, metres)
            slack = 1.02 if n <= 6 else 1.15
            assert metres <= n * BLOCK_M * slack, (a, b, metres)
            assert 1.0 <= metres / seconds <= 30.0, (a, b, metres, seconds)  # 3.6-108 km/h
    assert travel.distance_m.diagonal().tolist() == [0, 0, 0, 0]
    # Not a straight line: the diagonal trip goes round the block.
    assert travel.distance_m[0, 2] > 1.35 * straight_m(start, north3_east3)


def test_a_table_of_sources_to_destinations(engine: Engine) -> None:
    homes = [corner(0, 0), corner(11, 111)]
    stops = [corner(0, 10), corner(11, 101), corner(5, 50)]
    metres, seconds = OsrmTravel(engine.url, timeout_s=20).table(homes, stops)
    assert metres.shape == seconds.shape == (2, 3)
    for (home, stop), n in {(0, 0): 10, (1, 1): 10, (0, 2): 55, (1, 2): 67}.items():
        assert n * BLOCK_M - 2 <= metres[home, stop] <= n * BLOCK_M * 1.15, (home, stop)
    assert (seconds > 0).all()


@pytest.mark.django_db
def test_a_planner_run_drives_the_engines_roads(engine: Engine, world: Any, settings: Any) -> None:
    from tests.travel.test_planner_run import legs_driven, optimize

    settings.TRAVEL_PROVIDER = "osrm"
    settings.TRAVEL_OSRM_URL = engine.url
    settings.TRAVEL_OSRM_PROFILE = "driving"
    settings.TRAVEL_OSRM_TIMEOUT_S = 20
    settings.TRAVEL_OSRM_CHUNK = 100
    plan = world.plan()
    run = optimize(plan)
    assert run.status == RunStatus.SUCCEEDED, run.error
    legs = legs_driven(plan)
    assert len(legs) == len(world.jobs)
    for visit, origin, here in legs:
        # Each end snaps to a street at most half a block away.
        straight = straight_m(origin, here)
        north_m = abs(origin.lat - here.lat) * M_PER_DEG_LAT
        east_m = abs(origin.lon - here.lon) * M_PER_DEG_LAT * math.cos(math.radians(LAT0))
        assert straight - BLOCK_M <= visit.travel_m_from_previous <= north_m + east_m + 2 * BLOCK_M
    # The numbers came from the engine, not from the straight-line estimate.
    estimate = [PLANNER_STRAIGHT_LINE.matrix([o, h]).distance(o, h) for _, o, h in legs]
    assert [v.travel_m_from_previous for v, _, _ in legs] != estimate
