#!/usr/bin/env python3
"""Reads the event files written by readback_writer through TensorBoard's own reader and checks them.

    read_events.py <log_dir>

Uses tensorboard.backend.event_processing (EventAccumulator for each run, EventMultiplexer for the
run discovery), which validates the TFRecord CRCs and parses the protos with TensorBoard's copies.
Every expected value is recomputed here from the formula in readback_writer.cpp; histogram buckets
are recomputed with numpy.histogram over PyTorch's default edges, images are decoded with Pillow.
"""
import io
import os
import sys

import numpy as np
from PIL import Image
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.backend.event_processing import event_multiplexer
from tensorboard.plugins.hparams import plugin_data_pb2
from tensorboard.util import tensor_util

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def load(path):
    acc = ea.EventAccumulator(path, size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.IMAGES: 0, ea.TENSORS: 0})
    acc.Reload()
    return acc


def default_edges():
    # PyTorch's SummaryWriter default bins, built the same way (repeated multiplication in double).
    v, pos = 1e-12, []
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    return np.array([-x for x in pos[::-1]] + [0.0] + pos)


def expected_histogram(values):
    counts, limits = np.histogram(values.astype(float), bins=default_edges())
    nz = np.nonzero(counts)[0]
    start, end = nz[0], nz[-1] + 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    return counts.astype(float), limits[start:end + 1]


def main(log_dir):
    main_run = load(os.path.join(log_dir, "main"))
    tags = main_run.Tags()

    # Scalars: float32 values and int64 steps, exactly.
    for tag, fn in [("loss/train", lambda s: 1.0 / (s + 1)), ("accuracy/train", lambda s: s * 0.05)]:
        events = main_run.Scalars(tag)
        check([e.step for e in events] == list(range(20)), f"{tag} steps")
        check([e.value for e in events] == [float(np.float32(fn(s))) for s in range(20)], f"{tag} values")
    late = main_run.Scalars("late")
    check(len(late) == 1 and late[0].step == 1000000007 and late[0].value == -3.25, "late scalar")

    # Histograms: bucket counts and limits as numpy + PyTorch's trimming, plus the moments.
    base = np.array([((i * 7919) % 1000 - 500) / 64.0 for i in range(1000)] + [0.0, 0.0, 1e-13, -2e-13, 1e-9],
                    dtype=np.float32)
    histos = main_run.Histograms("weights/fc1")
    check([h.step for h in histos] == [0, 1, 2], "histogram steps")
    for h in histos:
        values = (base * np.float32(h.step + 1)).astype(np.float64)
        hv = h.histogram_value
        counts, limits = expected_histogram(values)
        check(list(hv.bucket) == list(counts), f"histogram step {h.step} bucket counts")
        check(list(hv.bucket_limit) == list(limits), f"histogram step {h.step} bucket limits")
        check(sum(hv.bucket) == values.size == hv.num, f"histogram step {h.step} total count")
        check(hv.min == values.min() and hv.max == values.max(), f"histogram step {h.step} min/max")
        check(abs(hv.sum - values.sum()) < 1e-9 * max(1.0, abs(values.sum())), f"histogram step {h.step} sum")
    check(len(histos) == 3 and len(histos[0].histogram_value.bucket) > 100, "histogram has many buckets")

    # Images: decode the PNGs and compare every pixel.
    def decoded(tag, step):
        imgs = main_run.Images(tag)
        check(len(imgs) == 1 and imgs[0].step == step, f"{tag} step")
        im = Image.open(io.BytesIO(imgs[0].encoded_image_string))
        return imgs[0], np.asarray(im)

    ev, px = decoded("images/rgb", 5)
    c, y, x = np.meshgrid(np.arange(3), np.arange(24), np.arange(40), indexing="ij")
    want = ((c * 80 + y * 7 + x * 3) % 256).astype(np.uint8).transpose(1, 2, 0)
    check(ev.width == 40 and ev.height == 24, "rgb image size")
    check(px.shape == (24, 40, 3) and np.array_equal(px, want), "rgb image pixels")

    ev, px = decoded("images/gray", 6)
    v = np.arange(24 * 40, dtype=np.float32) / np.float32(959.0)
    want = (v * np.float32(255)).astype(np.uint8).reshape(24, 40)
    check(px.shape == (24, 40) and np.array_equal(px, want), "gray image pixels")

    ev, px = decoded("images/batch", 7)
    check(px.shape == (8, 32, 3), f"batch grid shape {px.shape}")
    for n in range(4):
        check(np.all(px[:, 8 * n:8 * n + 8] == np.array([n * 60, 255 - n * 60, n], np.uint8)), f"batch image {n}")

    # Text: a string tensor for the text plugin.
    texts = main_run.Tensors("notes/text_summary")
    check(len(texts) == 1 and texts[0].step == 8, "text step")
    arr = tensor_util.make_ndarray(texts[0].tensor_proto)
    check(arr.tolist() == [b"# nabla\nlearning rate **0.001**"], f"text content {arr!r}")
    check(main_run.SummaryMetadata("notes/text_summary").plugin_data.plugin_name == "text", "text plugin")

    # hparams run: the plugin's three summaries and the metric scalar.
    hp = load(os.path.join(log_dir, "main", "hparams_run"))
    content = hp.PluginTagToContent("hparams")
    check(set(content) == {"_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"},
          f"hparams tags {sorted(content)}")
    exp = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
    check(sorted(h.name for h in exp.hparam_infos) == ["augment", "batch_size", "lr", "optimizer"], "hparam infos")
    check([m.name.tag for m in exp.metric_infos] == ["hparam/accuracy"], "metric infos")
    ssi = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"]).session_start_info
    check(ssi.hparams["lr"].number_value == 0.001 and ssi.hparams["batch_size"].number_value == 32,
          "hparam numbers")
    check(ssi.hparams["optimizer"].string_value == "adam" and ssi.hparams["augment"].bool_value is False,
          "hparam string/bool")
    check([e.value for e in hp.Scalars("hparam/accuracy")] == [0.875], "hparam metric scalar")

    # Runs as TensorBoard discovers them under --logdir.
    mux = event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(log_dir)
    mux.Reload()
    runs = set(mux.Runs())
    want_runs = {"main", os.path.join("main", "hparams_run"), os.path.join("main", "curves_train"),
                 os.path.join("main", "curves_val")}
    check(runs == want_runs, f"runs {sorted(runs)}")
    for run, value in [("curves_train", 0.5), ("curves_val", 0.75)]:
        s = mux.Scalars(os.path.join("main", run), "curves")
        check([(e.step, e.value) for e in s] == [(9, value)], f"add_scalars {run}")

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed: TensorBoard", __import__("tensorboard").__version__, "read", sorted(tags["scalars"]),
          sorted(tags["histograms"]), sorted(tags["images"]), sorted(tags["tensors"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
