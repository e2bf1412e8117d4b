// Writes the event files that tests/tensorboard/read_events.py reads back with TensorBoard's own
// reader (CTest tensorboard.readback). Every value is a formula that the script recomputes.
//   readback_writer <log_dir>
#include <nabla/creation.h>
#include <nabla/ops.h>
#include <nabla/tensorboard/summary_writer.h>

#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <log_dir>\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  nabla::tensorboard::SummaryWriter w(dir + "/main");
  for (int step = 0; step < 20; ++step) {
    w.add_scalar("loss/train", 1.0 / (step + 1), step);
    w.add_scalar("accuracy/train", step * 0.05, step);
  }
  w.add_scalar("late", -3.25, 1000000007);

  // Histogram values: ((i * 7919) % 1000 - 500) / 64, exact in float32, plus zeros and tiny values.
  std::vector<float> values;
  for (int i = 0; i < 1000; ++i) values.push_back(float((i * 7919) % 1000 - 500) / 64.0f);
  for (float v : {0.0f, 0.0f, 1e-13f, -2e-13f, 1e-9f}) values.push_back(v);
  for (int step = 0; step < 3; ++step) {
    auto t = nabla::tensor(values) * float(step + 1);
    w.add_histogram("weights/fc1", t, step);
  }

  // RGB uint8 CHW image, pixel (c, y, x) = (c * 80 + y * 7 + x * 3) % 256, 24 x 40.
  std::vector<uint8_t> rgb(3 * 24 * 40);
  std::vector<float> gray(24 * 40);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 24; ++y)
      for (int x = 0; x < 40; ++x) rgb[(c * 24 + y) * 40 + x] = uint8_t((c * 80 + y * 7 + x * 3) % 256);
  w.add_image("images/rgb", nabla::tensor(rgb, {3, 24, 40}), 5);
  // Float gray HW image in [0, 1]: v = float32(y * 40 + x) / 959, stored as uint8(v * 255).
  for (int i = 0; i < 24 * 40; ++i) gray[i] = float(i) / 959.0f;
  w.add_image("images/gray", nabla::tensor(gray, {24, 40}), 6, "HW");
  // Four 8x8 RGB images in a batch (NHWC): image n has the constant colour (n * 60, 255 - n * 60, n).
  std::vector<nabla::Tensor> batch;
  for (int n = 0; n < 4; ++n)
    batch.push_back(
        nabla::tensor({n * 60, 255 - n * 60, n}).to(nabla::kUInt8).reshape({1, 1, 3}).expand({8, 8, 3}));
  w.add_images("images/batch", nabla::stack(batch), 7, "NHWC");

  w.add_text("notes", "# nabla\nlearning rate **0.001**", 8);
  w.add_scalars("curves", {{"train", 0.5}, {"val", 0.75}}, 9);
  w.add_hparams({{"lr", 0.001}, {"batch_size", 32}, {"optimizer", "adam"}, {"augment", false}},
                {{"hparam/accuracy", 0.875}}, "hparams_run");
  w.close();
  std::printf("wrote %s\n", dir.c_str());
  return 0;
}
