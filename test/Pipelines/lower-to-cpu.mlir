// RUN: keops-opt %s --keops-lower-to-cpu | FileCheck %s
// RUN: keops-opt %s --keops-lower-to-cpu='lanes=8 tile-j=256 sum-scheme=kahan_scheme' | FileCheck %s

// The whole CPU pipeline ends in the LLVM dialect: the kernel, its C
// interface, vectorized polynomial exp (no libm call), masked tail loads.

// CHECK: llvm.func @keops_kernel(
// CHECK-NOT: math.exp
// CHECK-NOT: llvm.call @expf
// CHECK: llvm.intr.fma
// CHECK: llvm.intr.masked.load
// CHECK: llvm.func @_mlir_ciface_keops_kernel(
// CHECK-NOT: = keops.
func.func @keops_kernel(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>, %b: tensor<?x1xf32>) -> tensor<?x1xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j, %bj = %b : j)
      : (tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x1xf32>) -> tensor<?x1xf32> {
    %d = keops.sqdist %xi, %yj : vector<3xf32>, vector<3xf32>
    %n = keops.neg %d : vector<1xf32>
    %e = keops.exp %n : vector<1xf32>
    %v = keops.mul %e, %bj : vector<1xf32>, vector<1xf32>
    keops.yield %v : vector<1xf32>
  }
  return %r : tensor<?x1xf32>
}
