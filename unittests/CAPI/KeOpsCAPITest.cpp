//===- KeOpsCAPITest.cpp - The C API of the keops dialect -------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file tests include/keops-c/Dialects.h: the dialect handle's hooks
// register and load the keops dialect, the registry gets what the lowerings
// need, and the pipelines are registered. (The upstream C API library that
// would call the hooks is static in Debian's packages and cannot be linked
// next to libMLIR.so, so the hooks are called as it would call them.)
//
//===----------------------------------------------------------------------===//

#include "keops-c/Dialects.h"

#include "mlir/CAPI/Registration.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include <gtest/gtest.h>

namespace {

const MlirDialectRegistrationHooks &hooks() {
  return *static_cast<const MlirDialectRegistrationHooks *>(
      mlirGetDialectHandle__keops__().ptr);
}

TEST(KeOpsCAPITest, TheDialectHandleLoadsKeOps) {
  MlirStringRef name = hooks().getNamespaceHook();
  EXPECT_EQ(llvm::StringRef(name.data, name.length), "keops");

  mlir::DialectRegistry registry;
  hooks().insertHook(wrap(&registry));
  mlir::MLIRContext context(registry);
  EXPECT_EQ(context.getLoadedDialect("keops"), nullptr);
  MlirDialect dialect = hooks().loadHook(wrap(&context));
  ASSERT_NE(dialect.ptr, nullptr);
  EXPECT_EQ(unwrap(dialect)->getNamespace(), "keops");
  EXPECT_NE(context.getLoadedDialect("keops"), nullptr);
}

TEST(KeOpsCAPITest, RegistersWhatTheLoweringsNeed) {
  mlir::DialectRegistry registry;
  mlirKeOpsRegisterAllDialects(wrap(&registry));
  for (llvm::StringRef name :
       {"keops", "func", "tensor", "linalg", "bufferization", "llvm", "gpu"})
    EXPECT_TRUE(llvm::is_contained(registry.getDialectNames(), name))
        << name.str();

  mlirKeOpsRegisterAllPasses();
  mlir::MLIRContext context(registry);
  for (const char *pipeline :
       {"builtin.module(keops-lower-to-llvm)", "builtin.module(keops-lower-to-cpu)",
        "builtin.module(keops-outline-reductions)"}) {
    mlir::PassManager pm(&context);
    EXPECT_TRUE(mlir::succeeded(mlir::parsePassPipeline(pipeline, pm)))
        << pipeline;
  }
}

} // namespace
