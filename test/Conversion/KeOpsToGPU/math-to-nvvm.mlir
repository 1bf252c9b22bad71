// RUN: keops-opt %s --pass-pipeline='builtin.module(gpu.module(convert-keops-math-to-nvvm,canonicalize))' | FileCheck %s

// f32 exp and log go through the NVVM approximations, one-element vectors
// through their scalar, the rounding functions through native LLVM
// intrinsics and the other f32 functions through polynomials; f64
// transcendental functions are left for libdevice.

gpu.module @kernels {
  // CHECK-LABEL: func.func @f32_math
  func.func @f32_math(%x: f32, %v: vector<1xf32>) -> (f32, f32, f32, f32, vector<1xf32>, f32) {
    // CHECK-DAG: %[[LOG2E:.*]] = arith.constant 1.44269502 : f32
    // CHECK-DAG: %[[LN2:.*]] = arith.constant 0.693147182 : f32
    // CHECK: %[[S:.*]] = arith.mulf %{{.*}}, %[[LOG2E]] : f32
    // CHECK: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"(%[[S]]) : (f32) -> f32
    %e = math.exp %x : f32
    // CHECK: %[[L:.*]] = llvm.call_intrinsic "llvm.nvvm.lg2.approx.ftz.f"
    // CHECK: arith.mulf %[[L]], %[[LN2]] : f32
    %l = math.log %x : f32
    // CHECK: llvm.call_intrinsic "llvm.sqrt.f32"
    %s = math.sqrt %x : f32
    // CHECK: llvm.call_intrinsic "llvm.floor.f32"
    %f = math.floor %x : f32
    // CHECK: %[[V:.*]] = vector.extract %{{.*}}[0] : f32 from vector<1xf32>
    // CHECK: llvm.call_intrinsic "llvm.fabs.f32"(%[[V]])
    // CHECK: vector.broadcast
    %a = math.absf %v : vector<1xf32>
    // CHECK-NOT: math.atan
    %t = math.atan %x : f32
    return %e, %l, %s, %f, %a, %t : f32, f32, f32, f32, vector<1xf32>, f32
  }

  // f32 sin: reduced by pi/2 in f64, its polynomial in f32; NaN from
  // |x| = 2^50 (no libdevice in f32 kernels).
  // CHECK-LABEL: func.func @sin_f32
  // CHECK-DAG: %[[LARGE:.*]] = arith.constant 0x4310000000000000 : f64
  // CHECK-DAG: %[[NAN:.*]] = arith.constant 0x7FC00000 : f32
  // CHECK: %[[X:.*]] = arith.extf %{{.*}} : f32 to f64
  // CHECK: %[[ABS:.*]] = llvm.call_intrinsic "llvm.fabs.f64"(%[[X]])
  // CHECK: %[[IS_LARGE:.*]] = arith.cmpf oge, %[[ABS]], %[[LARGE]] : f64
  // CHECK: scf.if %[[IS_LARGE]] -> (f32)
  // CHECK: scf.yield %[[NAN]] : f32
  // CHECK: } else {
  // CHECK: llvm.call_intrinsic "llvm.fma.f64"
  // CHECK: arith.truncf %{{.*}} : f64 to f32
  // CHECK: llvm.call_intrinsic "llvm.fma.f32"
  // CHECK-NOT: math.sin
  // CHECK: return
  func.func @sin_f32(%x: f32) -> f32 {
    %s = math.sin %x : f32
    return %s : f32
  }

  // CHECK-LABEL: func.func @f64_math
  func.func @f64_math(%x: f64) -> (f64, f64) {
    // CHECK: math.exp %{{.*}} : f64
    %e = math.exp %x : f64
    // CHECK: llvm.call_intrinsic "llvm.sqrt.f64"
    %s = math.sqrt %x : f64
    return %e, %s : f64, f64
  }
}
