"""Test set-up: the same offline environment as every workflow rule."""

from pathlib import Path

from yoloshrink import offline

offline.apply()


import os  # noqa: E402

import pytest  # noqa: E402


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


@pytest.fixture(scope="session")
def detector(tmp_path_factory):
    """An untrained YOLOv8 w0.125 at 96 px whose head's last layers are scaled up, so that it
    detects boxes of varied sizes and scores at ultralytics' predict threshold, exported to every float format, and
    generated validation images (a calibration data.yaml with labels: the val split).

    Returns {"dir", "imgsz", "pt", "onnx", "openvino", "ncnn", "torchscript", "data", "images"}.
    """
    import numpy as np
    import torch
    from ultralytics import YOLO

    from yoloshrink import layout, model
    from yoloshrink.datasets.files import list_images
    from yoloshrink.datasets.synthetic.generate import generate_dataset

    root = tmp_path_factory.mktemp("detector")
    cfg = model.variant_yaml(width=0.125, depth=0.33, max_channels=1024, nc=2)
    model.write_variant_yaml(root / "w0.125.yaml", cfg)
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
    batch = torch.from_numpy(
        np.concatenate([preprocess(cv2.imread(str(p)), 96) for p in list_images(root / "data" / "train" / "images")])
    )
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
    out = {"dir": root, "imgsz": 96, "pt": root / "best.pt", "data": root / "data" / "data.yaml"}
    out["images"] = list_images(root / "data" / "val" / "images")
    for fmt in ("onnx", "openvino", "ncnn", "torchscript"):
        produced = Path(YOLO(str(root / "best.pt"), task="detect").export(format=fmt, imgsz=96, device="cpu"))
        folder = root / fmt
        folder.mkdir()
        produced.rename(folder / produced.name)
        layout.write_record(
            "export",
            folder / layout.EXPORT_RECORD,
            {"variant": "w0.125", "format": fmt, "status": "ok", "artefact": produced.name, "end2end": False},
        )
        out[fmt] = folder / produced.name
    return out
