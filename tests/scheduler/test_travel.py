"""Travel matrices: haversine checked against geopy, OSRM provider against a fake server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from geopy.distance import geodesic

from scheduler import HaversineTravel, Location, OsrmTravel, TravelMatrix, travel_for
from scheduler.travel import OsrmError, haversine_m
from tests.scheduler.conftest import TOKYO, at, crew, crew_days, job, problem


def test_haversine_matches_geodesic_within_half_a_percent() -> None:
    """Across Japan, the spherical distance stays within 0.5 % of geopy's ellipsoidal one."""
    rng = np.random.default_rng(7)
    lat = rng.uniform(24.0, 45.0, size=(60, 2))
    lon = rng.uniform(123.0, 146.0, size=(60, 2))
    ours = haversine_m(lat[:, 0], lon[:, 0], lat[:, 1], lon[:, 1])
    for k in range(60):
        reference = geodesic((lat[k, 0], lon[k, 0]), (lat[k, 1], lon[k, 1])).meters
        assert ours[k] == pytest.approx(reference, rel=0.005)


def test_matrix_applies_detour_factor_and_speed() -> None:
    """Road metres = geodesic x detour; seconds = road metres at the average speed."""
    a, b = TOKYO, at(3, 4)
    matrix = HaversineTravel(detour_factor=1.3, speed_kmh=25).matrix([a, b])
    straight = geodesic((a.lat, a.lon), (b.lat, b.lon)).meters
    assert matrix.distance(a, b) == pytest.approx(1.3 * straight, rel=0.005)
    assert matrix.duration(a, b) == pytest.approx(matrix.distance(a, b) / (25 / 3.6), abs=1)
    assert matrix.distance(a, a) == 0
    assert matrix.distance(a, b) == matrix.distance(b, a)


def test_matrix_for_5000_locations_is_integral_and_square() -> None:
    """5,000 locations build in one vectorised pass (the time is printed, not asserted)."""
    rng = np.random.default_rng(1)
    locations = [Location(float(la), float(lo)) for la, lo in rng.uniform(35, 36, size=(5000, 2))]
    started = time.perf_counter()
    matrix = HaversineTravel().matrix(locations)
    print(f"haversine matrix for 5000 locations: {time.perf_counter() - started:.2f} s")
    assert matrix.distance_m.shape == (5000, 5000)
    assert matrix.distance_m.dtype == np.int64
    assert (np.diag(matrix.duration_s) == 0).all()


def test_problem_uses_its_own_matrix_when_given() -> None:
    """A problem carrying a matrix (OSRM, benchmarks) is solved with that matrix, not haversine."""
    home, site = TOKYO, at(1, 0)
    explicit = TravelMatrix(
        locations=(home, site),
        distance_m=np.array([[0, 5000], [5000, 0]]),
        duration_s=np.array([[0, 600], [600, 0]]),
    )
    p = problem([crew("A")], crew_days(["A"]), [job("j", site)], travel=explicit)
    assert travel_for(p).duration(home, site) == 600


def test_matrix_rejects_wrong_shape() -> None:
    """A matrix that does not match its locations is refused at construction."""
    with pytest.raises(ValueError, match="must be 2x2"):
        TravelMatrix((TOKYO, at(1, 1)), np.zeros((3, 3), np.int64), np.zeros((2, 2), np.int64))


class _FakeOsrm(BaseHTTPRequestHandler):
    """Answers /table like OSRM: straight-line metres and 10 m/s durations."""

    requests: list[str] = []
    answer_code = "Ok"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        _FakeOsrm.requests.append(url.path)
        coords = url.path.split("/")[-1].split(";")
        points = [tuple(float(v) for v in c.split(",")) for c in coords]
        query = parse_qs(url.query)
        sources = [int(i) for i in query["sources"][0].split(";")]
        destinations = [int(i) for i in query["destinations"][0].split(";")]
        assert query["annotations"] == ["distance,duration"]
        distances = [
            [
                float(haversine_m(points[s][1], points[s][0], points[d][1], points[d][0]))
                for d in destinations
            ]
            for s in sources
        ]
        body = {
            "code": _FakeOsrm.answer_code,
            "distances": distances,
            "durations": [[d / 10 for d in row] for row in distances],
        }
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture
def fake_osrm() -> Iterator[str]:
    """A local OSRM-compatible server on a free port, for one test."""
    _FakeOsrm.requests = []
    _FakeOsrm.answer_code = "Ok"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOsrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_osrm_matrix_matches_the_server_in_chunks(fake_osrm: str) -> None:
    """7 locations in chunks of 3 take 3 x 3 requests and assemble the full table."""
    locations = [at(k, k % 3) for k in range(7)]
    matrix = OsrmTravel(fake_osrm, chunk_size=3).matrix(locations)
    assert len(_FakeOsrm.requests) == 9
    assert all(path.startswith("/table/v1/driving/") for path in _FakeOsrm.requests)
    for i in (0, 3, 6):
        for j in (1, 4, 5):
            a, b = locations[i], locations[j]
            expected = float(haversine_m(a.lat, a.lon, b.lat, b.lon))
            assert matrix.distance_m[i, j] == pytest.approx(expected, abs=1)
            assert matrix.duration_s[i, j] == pytest.approx(expected / 10, abs=1)


def test_osrm_error_code_is_raised(fake_osrm: str) -> None:
    """A table the server could not compute is an error, never a matrix of zeros."""
    _FakeOsrm.answer_code = "InvalidQuery"
    with pytest.raises(OsrmError, match="InvalidQuery"):
        OsrmTravel(fake_osrm).matrix([TOKYO, at(1, 1)])


def test_solver_can_use_osrm_provider(fake_osrm: str) -> None:
    """``solve(..., travel_provider=OsrmTravel(url))`` plans with the server's durations."""
    from scheduler import FirstFeasible, solve

    p = problem([crew("A")], crew_days(["A"]), [job("j", at(2, 0))])
    result = solve(p, FirstFeasible(), travel_provider=OsrmTravel(fake_osrm))
    visit = result.routes[0].visits[0]
    assert visit.travel_s == pytest.approx(visit.travel_m / 10, abs=1)
