#!/usr/bin/env python3
"""Loads the runs/ folder left by examples/tensorboard_demo with TensorBoard's EventMultiplexer (what
`tensorboard --logdir runs` uses to discover runs) and checks what each dashboard will show.

    check_runs.py <logdir> <epochs>
"""
import io
import os
import sys

from PIL import Image
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.backend.event_processing import event_multiplexer


def main(logdir, epochs):
    guidance = {ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.IMAGES: 0, ea.TENSORS: 0}
    mux = event_multiplexer.EventMultiplexer(size_guidance=guidance)
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    errors = []
    runs = set(mux.Runs())
    want = {"mlp", "mlp/loss_train", "mlp/loss_validation", "mlp/hparams"}
    if runs != want:
        errors.append(f"runs {sorted(runs)} != {sorted(want)}")
    tags = mux.GetAccumulator("mlp").Tags()
    for tag in ["loss/train", "loss/validation", "accuracy/train", "accuracy/validation"]:
        steps = [e.step for e in mux.Scalars("mlp", tag)]
        if steps != list(range(1, epochs + 1)):
            errors.append(f"{tag}: steps {steps}")
    for tag in ["fc1.weight", "fc1.bias", "fc3.weight", "fc1.weight.grad"]:
        h = mux.Histograms("mlp", tag)
        if len(h) != epochs or sum(h[-1].histogram_value.bucket) != h[-1].histogram_value.num:
            errors.append(f"histogram {tag}")
    imgs = mux.Images("mlp", "test_predictions")
    if len(imgs) != epochs:
        errors.append(f"{len(imgs)} prediction grids")
    else:
        im = Image.open(io.BytesIO(imgs[-1].encoded_image_string))
        if im.size != (imgs[-1].width, imgs[-1].height) or im.size[0] < 500:
            errors.append(f"prediction grid size {im.size}")
    if "model/text_summary" not in tags["tensors"]:
        errors.append("no model text")
    hp = mux.GetAccumulator("mlp/hparams").PluginTagToContent("hparams")
    if len(hp) != 3:
        errors.append(f"hparams tags {sorted(hp)}")
    for e in errors:
        print("FAIL:", e)
    if not errors:
        print(f"TensorBoard sees runs {sorted(runs)}: {len(tags['scalars'])} scalar tags, "
              f"{len(tags['histograms'])} histogram tags, {len(tags['images'])} image tags, hparams")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
