// nabla::keras — the Keras-style API: Sequential and functional models, Keras layers with Keras
// defaults, compile / fit / evaluate / predict, summary(), callbacks, losses, metrics, utils.
//   using namespace nabla::keras;
//   auto model = Sequential({
//       layers::Dense(64, "relu", {.input_shape = {784}}),
//       layers::Dense(64, "relu"),
//       layers::Dense(10, "softmax"),
//   });
//   model.compile({.optimizer = "adam", .loss = "categorical_crossentropy", .metrics = {"accuracy"}});
//   model.summary();
//   auto history = model.fit(x_train, y_train, {.epochs = 10, .batch_size = 32,
//                                               .validation_data = {{x_val, y_val}}});
#pragma once
#include "nabla/creation.h"
#include "nabla/keras/activations.h"
#include "nabla/keras/callbacks.h"
#include "nabla/keras/layer.h"
#include "nabla/keras/layers/convolutional.h"
#include "nabla/keras/layers/core.h"
#include "nabla/keras/layers/normalization.h"
#include "nabla/keras/losses.h"
#include "nabla/keras/metrics.h"
#include "nabla/keras/model.h"
#include "nabla/keras/optimizers.h"
#include "nabla/keras/sequential.h"
#include "nabla/keras/utils.h"
#include "nabla/ops.h"
