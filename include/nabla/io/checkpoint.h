// Training checkpoints: model + optimizer + LR scheduler + epoch/step + RNG state in one
// safetensors file, so that resuming continues bit for bit as if training had never stopped.
//   nabla::save_checkpoint("ckpt.safetensors", {.model = &*model, .optimizer = &opt,
//                                               .scheduler = &sched, .epoch = epoch, .step = step});
//   nabla::TrainingState s{.model = &*model, .optimizer = &opt, .scheduler = &sched};
//   nabla::load_checkpoint("ckpt.safetensors", s);   // s.epoch, s.step now hold the saved values
//
// The file is an ordinary safetensors file (Python can open it): tensors are named
// "model/<key>", "optimizer/state/<param>/<name>", "optimizer/group/<g>/<option>",
// "scheduler/...", "rng/..." and "progress/epoch|step"; `__metadata__` has "nabla.checkpoint"
// ("1"), the optimizer's name, and the user's strings as "user.<key>".
// Saving is atomic (a crash or kill mid-save leaves the previous checkpoint intact). Loading
// validates the whole file and checks every part against the objects first (keys, shapes, group
// sizes, optimizer type); on any error it throws nabla::Error and changes nothing.
// What is not captured: DataLoader positions within an epoch (samplers are pure functions of
// seed and epoch, so resume at an epoch boundary or skip `step` batches), and generators other than
// the one `rng` points at (e.g. a transform's own Generator).
#pragma once
#include <cstdint>
#include <string>

#include "nabla/generator.h"
#include "nabla/io/safetensors.h"
#include "nabla/nn/module.h"
#include "nabla/optim/lr_scheduler.h"
#include "nabla/optim/optimizer.h"

namespace nabla {

/// The objects a checkpoint saves and restores. A null pointer is skipped on save and on load.
struct TrainingState {
  nn::Module* model = nullptr;
  optim::Optimizer* optimizer = nullptr;
  optim::LRScheduler* scheduler = nullptr;
  optim::ReduceLROnPlateau* plateau = nullptr;
  int64_t epoch = 0;
  int64_t step = 0;
  Generator* rng = &default_generator();
  /// Free-form strings (saved as "user.<key>" metadata; replaced on load).
  Metadata user = {};
};

/// Writes every non-null part of `state` to `path` (one safetensors file, written atomically).
void save_checkpoint(const std::string& path, const TrainingState& state);
/// Restores every non-null part of `state` from `path`, and sets state.epoch, state.step and
/// state.user. Throws nabla::Error (naming the file and the part) if the file is malformed, lacks a
/// part `state` asks for, or does not fit the objects; then nothing has been changed.
void load_checkpoint(const std::string& path, TrainingState& state);
/// load_checkpoint from a file already in memory (`what` names it in error messages).
void load_checkpoint_bytes(const void* data, size_t size, TrainingState& state,
                           const std::string& what = "<memory>");

}  // namespace nabla
