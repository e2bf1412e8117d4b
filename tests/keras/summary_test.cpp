// summary(): the table text and Keras's parameter counts. The counts are Keras facts anyone can
// check by hand: Dense = in*units + units, Conv2D = kh*kw*cin*filters + filters,
// BatchNormalization = 4*C (2*C non-trainable moving statistics), LayerNormalization = 2*C,
// Embedding = input_dim*output_dim. Byte sizes: float32 params * 4, in powers of 1024.
#include <gtest/gtest.h>

#include "nabla/keras.h"

namespace {
using namespace nabla::keras;

class KerasSummary : public ::testing::Test {
 protected:
  void SetUp() override { clear_session(); }
};

TEST_F(KerasSummary, MlpTableMatchesKeras) {
  auto model = Sequential({
      layers::Dense(64, "relu", {.input_shape = {784}}),
      layers::Dense(64, "relu"),
      layers::Dense(10, "softmax"),
  });
  const std::string want =
      "Model: \"sequential\"\n"
      "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓\n"
      "┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃\n"
      "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩\n"
      "│ dense (Dense)                   │ (None, 64)             │        50,240 │\n"
      "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
      "│ dense_1 (Dense)                 │ (None, 64)             │         4,160 │\n"
      "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
      "│ dense_2 (Dense)                 │ (None, 10)             │           650 │\n"
      "└─────────────────────────────────┴────────────────────────┴───────────────┘\n"
      " Total params: 55,050 (215.04 KB)\n"
      " Trainable params: 55,050 (215.04 KB)\n"
      " Non-trainable params: 0 (0.00 B)\n";
  EXPECT_EQ(model.summary_string(), want);
  EXPECT_EQ(model.count_params(), 55050);
  EXPECT_EQ(model.layers()[0]->count_params(), 50240);
  EXPECT_EQ(model.layers()[1]->count_params(), 4160);
  EXPECT_EQ(model.layers()[2]->count_params(), 650);
}

TEST_F(KerasSummary, ConvModelCounts) {
  auto model = Sequential({
      layers::Conv2D(32, 3, {.padding = "same", .activation = "relu", .input_shape = {28, 28, 1}}),
      layers::MaxPooling2D(2),
      layers::Conv2D(64, 3, {.padding = "same", .activation = "relu"}),
      layers::MaxPooling2D(2),
      layers::Flatten(),
      layers::Dense(128, "relu"),
      layers::Dense(10, "softmax"),
  });
  std::vector<int64_t> want{320, 0, 18496, 0, 0, 401536, 1290};
  ASSERT_EQ(model.layers().size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(model.layers()[i]->count_params(), want[i]) << i;
  EXPECT_EQ(model.count_params(), 421642);
  std::string s = model.summary_string();
  EXPECT_NE(s.find("│ conv2d (Conv2D)                 │ (None, 28, 28, 32)     │           320 │"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("│ max_pooling2d (MaxPooling2D)    │ (None, 14, 14, 32)     │             0 │"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("│ conv2d_1 (Conv2D)               │ (None, 14, 14, 64)     │        18,496 │"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("│ flatten (Flatten)               │ (None, 3136)           │             0 │"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find(" Total params: 421,642 (1.61 MB)\n"), std::string::npos) << s;
}

TEST_F(KerasSummary, BatchNormalizationHasNonTrainableParams) {
  auto model = Sequential({
      layers::Dense(64, "", {.input_shape = {784}}),
      layers::BatchNormalization(),
      layers::Activation("relu"),
      layers::Dense(10, "softmax"),
  });
  EXPECT_EQ(model.layers()[1]->count_params(), 256);
  EXPECT_EQ(model.layers()[1]->count_trainable_params(), 128);
  // "batch_normalization (BatchNormalization)" is wider than the default column: it widens.
  std::string s = model.summary_string();
  EXPECT_NE(s.find("│ batch_normalization (BatchNormalization) │ (None, 64)             │           256 │"),
            std::string::npos)
      << s;
}

TEST_F(KerasSummary, BatchNormalizationTotals) {
  auto model = Sequential({
      layers::Dense(64, "", {.input_shape = {784}}),
      layers::BatchNormalization(),
      layers::Dense(10, "softmax"),
  });
  std::string s = model.summary_string();
  EXPECT_NE(s.find(" Total params: 51,146 (199.79 KB)\n"), std::string::npos) << s;
  EXPECT_NE(s.find(" Trainable params: 51,018 (199.29 KB)\n"), std::string::npos) << s;
  EXPECT_NE(s.find(" Non-trainable params: 128 (512.00 B)\n"), std::string::npos) << s;
}

TEST_F(KerasSummary, OtherLayerCounts) {
  auto model = Sequential({
      layers::Embedding(1000, 64, {.input_shape = {10}}),
      layers::LayerNormalization(),
      layers::Reshape({10, 8, 8}),
      layers::GlobalAveragePooling2D(),
      layers::Dropout(0.5),
      layers::Dense(1, "sigmoid"),
  });
  EXPECT_EQ(model.layers()[0]->count_params(), 64000);
  EXPECT_EQ(model.layers()[1]->count_params(), 128);
  EXPECT_EQ(model.output_shape(), (TensorShape{-1, 1}));
  EXPECT_EQ(model.layers()[3]->output_shape(), (TensorShape{-1, 8}));
  EXPECT_EQ(model.count_params(), 64000 + 128 + 9);
}

TEST_F(KerasSummary, UnbuiltModelShowsQuestionMarks) {
  auto model = Sequential({layers::Dense(4), layers::Dense(2)});
  std::string s = model.summary_string();
  EXPECT_NE(s.find("│ dense (Dense)                   │ ?                      │   0 (unbuilt) │"),
            std::string::npos)
      << s;
  model.predict(nabla::zeros({3, 5}));
  EXPECT_EQ(model.count_params(), 5 * 4 + 4 + 4 * 2 + 2);
}

TEST_F(KerasSummary, FunctionalModelListsInputsAndConnections) {
  auto a = Input({8}, "a");
  auto b = Input({4}, "b");
  auto h = layers::Concatenate()({layers::Dense(16, "relu")(a), b});
  Model model({a, b}, {layers::Dense(1)(h)});
  std::string s = model.summary_string();
  EXPECT_NE(s.find("Model: \"functional\""), std::string::npos) << s;
  EXPECT_NE(s.find("Connected to"), std::string::npos) << s;
  EXPECT_NE(s.find("a (InputLayer)"), std::string::npos) << s;
  EXPECT_NE(s.find("concatenate (Concatenate)"), std::string::npos) << s;
  EXPECT_NE(s.find("(None, 20)"), std::string::npos) << s;
  EXPECT_NE(s.find("dense[0][0]"), std::string::npos) << s;
  EXPECT_EQ(model.count_params(), 8 * 16 + 16 + 20 + 1);
}

}  // namespace
