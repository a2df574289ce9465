"""The district map: a GeoJSON file of the areas (a feature per area, `properties.name` = the area's name as in
the AREAS setting), and each area's centroid — the only place coordinate Open311 and the screen ever show.

The project ships a fictional district (`screen/static/district.geojson`); a deployment points SCREEN_MAP at
its own file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DEFAULT_MAP = Path(__file__).resolve().parents[1] / "screen" / "static" / "district.geojson"


@dataclass(frozen=True, slots=True)
class District:
    """The map as loaded: the GeoJSON itself and the centroid (lat, lon) of every named area."""

    geojson: dict[str, Any]
    centroids: dict[str, tuple[float, float]]


def ring_centroid(ring: Sequence[Sequence[float]]) -> tuple[float, float]:
    """The area-weighted centroid (lat, lon) of a closed ring of [lon, lat] points (the vertex mean if flat)."""
    area = cx = cy = 0.0
    points = list(ring)
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(area) < 1e-12:
        return (sum(p[1] for p in points) / len(points), sum(p[0] for p in points) / len(points))
    return (cy / (3 * area), cx / (3 * area))


def _outer_ring(geometry: dict[str, Any]) -> Sequence[Sequence[float]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"][0])
    if geometry["type"] == "MultiPolygon":
        return list(max(geometry["coordinates"], key=lambda polygon: len(polygon[0]))[0])
    raise ValueError(f"unsupported geometry {geometry['type']}")


def parse_district(geojson: dict[str, Any]) -> District:
    """Centroids of the named areas of a GeoJSON FeatureCollection; `ValueError` when it is not one."""
    if geojson.get("type") != "FeatureCollection":
        raise ValueError("the district map must be a GeoJSON FeatureCollection")
    centroids: dict[str, tuple[float, float]] = {}
    for feature in geojson.get("features", []):
        name = str((feature.get("properties") or {}).get("name") or "")
        if name:
            lat, lon = ring_centroid(_outer_ring(feature["geometry"]))
            centroids[name] = (round(lat, 5), round(lon, 5))
    return District(geojson, centroids)


@cache
def load_district(path: Path | None = None) -> District:
    """The district map from `path` (default: the one shipped), read once."""
    with (path or DEFAULT_MAP).open(encoding="utf-8") as handle:
        return parse_district(json.load(handle))
