// RUN: keops-opt %s --keops-approximate-math | FileCheck %s

// The CPU's math approximations: f32 sin and cos reduced by pi/2 in f64,
// libm's f64 function beyond |x| = 2^50 (a branch that any element of the
// vector beyond takes); f32 exp guarded so that NaN stays NaN.

// CHECK-LABEL: func.func @sin_f32
// CHECK: %[[X:.*]] = arith.extf %{{.*}} : vector<16xf32> to vector<16xf64>
// CHECK: %[[IS_LARGE:.*]] = arith.cmpf oge, %{{.*}} : vector<16xf64>
// CHECK: %[[ANY:.*]] = vector.reduction <or>, %[[IS_LARGE]]
// CHECK: scf.if %[[ANY]] -> (vector<16xf32>)
// CHECK: %[[EXACT:.*]] = math.sin %[[X]] : vector<16xf64>
// CHECK: arith.truncf %[[EXACT]] : vector<16xf64> to vector<16xf32>
// CHECK: } else {
// CHECK: math.fma %{{.*}} : vector<16xf64>
// CHECK: arith.truncf %{{.*}} : vector<16xf64> to vector<16xf32>
// CHECK: math.fma %{{.*}} : vector<16xf32>
// CHECK-NOT: math.sin
// CHECK: return
func.func @sin_f32(%x: vector<16xf32>) -> vector<16xf32> {
  %s = math.sin %x : vector<16xf32>
  return %s : vector<16xf32>
}

// CHECK-LABEL: func.func @exp_f32
// CHECK: %[[NAN:.*]] = arith.cmpf uno, %[[E:.*]], %[[E]] : f32
// CHECK-NOT: math.exp
// CHECK: arith.select %[[NAN]], %[[E]], %{{.*}} : f32
func.func @exp_f32(%x: f32) -> f32 {
  %e = math.exp %x : f32
  return %e : f32
}
