// EXPECT_ERROR_HAS(statement, text): the statement must throw nabla::Error whose message contains
// `text`. Error messages are part of nabla's interface (they name the op/layer/file and what was
// expected vs received), so tests check their wording, not just that something was thrown.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "nabla/error.h"

#define EXPECT_ERROR_HAS(stmt, text)                                              \
  do {                                                                            \
    try {                                                                         \
      (void)(stmt);                                                               \
      ADD_FAILURE() << "expected nabla::Error containing: " << (text);            \
    } catch (const ::nabla::Error& e) {                                           \
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what(); \
    }                                                                             \
  } while (0)
