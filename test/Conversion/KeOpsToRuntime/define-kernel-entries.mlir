// RUN: keops-opt %s --split-input-file --keops-define-kernel-entries --verify-diagnostics | FileCheck %s

// The declared entry gets its body: each argument loaded through args[k].
// CHECK: llvm.func internal @__keops_entry_k(%[[ARGS:.*]]: !llvm.ptr)
// CHECK: %[[S0:.*]] = llvm.getelementptr %[[ARGS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[P0:.*]] = llvm.load %[[S0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[A0:.*]] = llvm.load %[[P0]] : !llvm.ptr -> i64
// CHECK: %[[S1:.*]] = llvm.getelementptr %[[ARGS]][1]
// CHECK: %[[P1:.*]] = llvm.load %[[S1]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[A1:.*]] = llvm.load %[[P1]] : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.call @_mlir_ciface_k(%[[A0]], %[[A1]])
// CHECK-NOT: keops.entry_of
llvm.func @_mlir_ciface_k(%a: i64, %b: !llvm.ptr) {
  llvm.return
}
llvm.func @__keops_entry_k(!llvm.ptr) attributes {keops.entry_of = "k"}

// -----

// expected-error @+1 {{keops-define-kernel-entries: no @_mlir_ciface_gone}}
llvm.func @__keops_entry_gone(!llvm.ptr) attributes {keops.entry_of = "gone"}
