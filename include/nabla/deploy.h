// Deployment: export a model as a bundle directory, load and run it elsewhere.
//   nabla::export_model(model, {x}, "bundle");   auto m = nabla::load_model("bundle");  y = m(x);
// See nabla/deploy/export.h and nabla/deploy/loaded_model.h, docs/deployment.md.
#pragma once
#include "nabla/deploy/export.h"
#include "nabla/deploy/loaded_model.h"
