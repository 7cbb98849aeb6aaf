"""Test set-up: the same offline environment as every workflow rule."""

from pathlib import Path

from yoloshrink import offline

offline.apply()


import json  # noqa: E402
import os  # noqa: E402

import file_times  # noqa: E402
import pytest  # noqa: E402

#: Set by .ci/run: a SLURM test that skips (no SLURM, not root) fails instead, so that CI never
#: passes without having run them.
REQUIRE_SLURM = os.environ.get("YOLOSHRINK_REQUIRE_SLURM") == "1"
#: Set by .ci/run, which installs Chromium: the browser test that skips without one fails instead.
REQUIRE_BROWSER = os.environ.get("YOLOSHRINK_REQUIRE_BROWSER") == "1"


#: The order in which pytest-xdist hands the test files to its workers (the Makefile's
#: ``--dist loadfile --no-loadscope-reorder``; a file's tests stay on one worker). First the file
#: that builds the session's tiny run (``tiny_run``, minutes, mostly one job at a time), the SLURM
#: tests (whose SLURM run waits on SLURM more than it computes) and the longest unit-test files;
#: then the rest in pytest's order, the cores test (its own run, then a comparison with the tiny
#: run), and last the files that start from a copy of the finished tiny run, longest first.
#: xdist hands a worker its next file once two or fewer of its tests are left: the levers file
#: waits behind the cores test, which must finish its own run before the tiny run is done. Every
#: run ends with the time each file took (file_times.py): keep the longest early.
FILES_FIRST = (
    "test_workflow.py",
    "test_slurm.py",
    "test_quantize.py",
    "test_resume.py",
    "test_quantize_openvino.py",
)
FILES_LAST = ("test_cores.py", "test_levers_workflow.py", "test_workflow_changes.py", "test_host_venv.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        if name in FILES_FIRST:
            return FILES_FIRST.index(name)
        return len(FILES_FIRST) + 1 + FILES_LAST.index(name) if name in FILES_LAST else len(FILES_FIRST)

    items.sort(key=rank)  # stable: a file's tests keep their order


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    file_times.record(report)


def pytest_terminal_summary(terminalreporter, config) -> None:
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the controller prints
        return
    lines = file_times.table()
    if lines:
        terminalreporter.write_sep("=", "time per test file")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Where SLURM (or a browser) is required (CI), a skipped SLURM (browser) test is a failure
    that says why it skipped."""
    report = yield
    for required, marker, variable in (
        (REQUIRE_SLURM, "slurm", "YOLOSHRINK_REQUIRE_SLURM"),
        (REQUIRE_BROWSER, "browser", "YOLOSHRINK_REQUIRE_BROWSER"),
    ):
        if required and report.skipped and item.get_closest_marker(marker) is not None:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            report.outcome = "failed"
            report.longrepr = f"{variable}=1 but this {marker} test skipped: {reason}"
    return report


@pytest.fixture(autouse=True)
def restore_threads():
    """Undo what a timing does to this process after every test: its pinned cores and torch's and
    OpenCV's threads. Without it, a test that times on 1 core leaves pytest (and every workflow
    it starts later) on that one core."""
    import cv2
    import torch

    cpus, torch_threads, cv_threads = os.sched_getaffinity(0), torch.get_num_threads(), cv2.getNumThreads()
    yield
    os.sched_setaffinity(0, cpus)
    torch.set_num_threads(torch_threads)
    cv2.setNumThreads(cv_threads)


DETECTOR_IMGSZ = 96


@pytest.fixture(scope="session")
def detector(tmp_path_factory):
    """An untrained YOLOv8 w0.125 at 96 px whose head's last layers are scaled up, so that it
    detects boxes of varied sizes and scores at ultralytics' predict threshold, exported to every float format, and
    generated validation images (a calibration data.yaml with labels: the val split). Built once
    per pytest session, whichever worker asks first (helpers.build_once); tests only read it.

    Returns {"dir", "imgsz", "pt", "onnx", "openvino", "ncnn", "torchscript", "data", "images"}.
    """
    from helpers import build_once

    root = build_once(tmp_path_factory, "detector", build_detector)
    paths = json.loads((root / "detector.json").read_text())
    images = [Path(p) for p in paths.pop("images")]
    return {**{k: Path(v) for k, v in paths.items()}, "imgsz": DETECTOR_IMGSZ, "images": images}


def build_detector(root: Path) -> None:
    """The detector of the fixture above, in ``root``, its paths in ``root/detector.json``."""
    import numpy as np
    import torch
    from ultralytics import YOLO

    from yoloshrink import layout, model
    from yoloshrink.datasets.files import list_images
    from yoloshrink.datasets.synthetic.generate import generate_dataset

    root.mkdir()
    cfg = model.variant_yaml(width=0.125, depth=0.33, max_channels=1024, nc=2)
    model.write_variant_yaml(root / "w0.125.yaml", cfg)
    # the same weights whichever worker builds it, after whatever that worker ran before
    torch.manual_seed(0)
    yolo = YOLO(str(root / "w0.125.yaml"), task="detect")
    generate_dataset(root / "data", 4, 6, seed=0, image_size=(160, 120))
    # an untrained net's features fade layer by layer, so its output hardly depends on the image:
    # BatchNorm statistics of real images give it features that do, and a head scaled to give
    # boxes of a few strides with scores around the predict threshold
    import cv2

    from yoloshrink.bench.runners import preprocess

    net = yolo.model
    torch.manual_seed(0)
    head = net.model[-1]
    for boxes, scores in zip(head.cv2, head.cv3, strict=True):
        for layer in (boxes[-1], scores[-1]):
            torch.nn.init.normal_(layer.weight, std=0.05)
        boxes[-1].bias.data.copy_(-0.6 * torch.arange(16.0).repeat(4))  # DFL: favour the first bins
        scores[-1].bias.data.fill_(-0.8)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the batches below
    train_images = list_images(root / "data" / "train" / "images")
    batch = torch.from_numpy(np.concatenate([preprocess(cv2.imread(str(p)), DETECTOR_IMGSZ) for p in train_images]))
    # one thread: the statistics' reductions (and so every weight) then do not depend on the
    # torch threads of the pytest worker that happens to build the fixture
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(batch)
    net.eval()
    torch.set_num_threads(threads)
    yolo.model.names = {0: "CT", 1: "T"}
    yolo.save(root / "best.pt")
    out = {"dir": root, "pt": root / "best.pt", "data": root / "data" / "data.yaml"}
    out["images"] = list_images(root / "data" / "val" / "images")
    for fmt in ("onnx", "openvino", "ncnn", "torchscript"):
        exported = YOLO(str(root / "best.pt"), task="detect").export(format=fmt, imgsz=DETECTOR_IMGSZ, device="cpu")
        produced = Path(exported)
        folder = root / fmt
        folder.mkdir()
        produced.rename(folder / produced.name)
        layout.write_record(
            "export",
            folder / layout.EXPORT_RECORD,
            {"variant": "w0.125", "format": fmt, "status": "ok", "artefact": produced.name, "end2end": False},
        )
        out[fmt] = folder / produced.name
    files = {k: str(v) for k, v in out.items() if k != "images"}
    (root / "detector.json").write_text(json.dumps({**files, "images": [str(p) for p in out["images"]]}))


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """The real Snakefile run on the tiny config (.test/config.yaml), without a network where
    ``unshare --net`` works: built once per pytest session, by the first test (of any worker)
    that asks for it. Tests may only read it and run dry runs in it (writing configs under
    .test/); a test that changes a run works on ``helpers.copy_run(tiny_run, ...)``.

    ``YOLOSHRINK_E2E_DIR`` (development only) names a finished tiny run to use instead."""
    from helpers import build_once, make_workdir, no_network_prefix, snakemake

    reuse = os.environ.get("YOLOSHRINK_E2E_DIR")
    if reuse and (Path(reuse) / "results/benchmark.csv").exists():
        return Path(reuse)

    def build(workdir: Path) -> None:
        make_workdir(workdir)
        # the whole run happens without a network where possible: proof that nothing is fetched
        snakemake(workdir, "--configfile", ".test/config.yaml", prefix=no_network_prefix())

    return build_once(tmp_path_factory, "tiny-run", build)
