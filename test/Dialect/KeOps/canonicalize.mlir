// RUN: keops-opt %s --split-input-file --canonicalize | FileCheck %s

// Algebraic identities and constant folding of formula ops.

// CHECK-LABEL: func.func @identities
// CHECK: keops.reduce sum over j (%[[X:.*]] = %{{.*}} : i)
// CHECK-NEXT: keops.yield %[[X]] : vector<3xf32>
func.func @identities(%x: tensor<?x3xf32>) -> tensor<?x3xf32> {
  %r = keops.reduce sum over j (%a = %x : i) : (tensor<?x3xf32>) -> tensor<?x3xf32> {
    %one = keops.constant dense<1.0> : vector<1xf32>
    %zero = keops.constant dense<0.0> : vector<1xf32>
    %0 = keops.mul %a, %one : vector<3xf32>, vector<1xf32>
    %1 = keops.mul %one, %0 : vector<1xf32>, vector<3xf32>
    %2 = keops.add %1, %zero : vector<3xf32>, vector<1xf32>
    %3 = keops.add %zero, %2 : vector<1xf32>, vector<3xf32>
    %4 = keops.sub %3, %zero : vector<3xf32>, vector<1xf32>
    %5 = keops.div %4, %one : vector<3xf32>, vector<1xf32>
    %6 = keops.neg %5 : vector<3xf32>
    %7 = keops.neg %6 : vector<3xf32>
    %8 = keops.pow %7, 1 : vector<3xf32>
    keops.yield %8 : vector<3xf32>
  }
  return %r : tensor<?x3xf32>
}

// -----

// x - x = 0 and x * 0 = 0, with the result's dimension: both operands of the
// concat become constants, so the concat folds too.
// CHECK-LABEL: func.func @zeros
// CHECK: %[[Z:.*]] = keops.constant dense<0.000000e+00> : vector<6xf32>
// CHECK-NEXT: keops.yield %[[Z]] : vector<6xf32>
func.func @zeros(%x: tensor<?x3xf32>) -> tensor<?x6xf32> {
  %r = keops.reduce sum over j (%a = %x : i) : (tensor<?x3xf32>) -> tensor<?x6xf32> {
    %zero = keops.constant dense<0.0> : vector<1xf32>
    %0 = keops.sub %a, %a : vector<3xf32>, vector<3xf32>
    %1 = keops.mul %zero, %a : vector<1xf32>, vector<3xf32>
    %2 = keops.concat %0, %1 : vector<3xf32>, vector<3xf32>
    keops.yield %2 : vector<6xf32>
  }
  return %r : tensor<?x6xf32>
}

// -----

// A broadcast that changes the dimension is not an identity.
// CHECK-LABEL: func.func @broadcast_kept
// CHECK: %[[ONES:.*]] = keops.constant dense<1.000000e+00> : vector<3xf32>
// CHECK: keops.mul %{{.*}}, %[[ONES]] : vector<1xf32>, vector<3xf32>
func.func @broadcast_kept(%x: tensor<?x1xf32>) -> tensor<?x3xf32> {
  %r = keops.reduce sum over j (%a = %x : i) : (tensor<?x1xf32>) -> tensor<?x3xf32> {
    %ones = keops.constant dense<1.0> : vector<3xf32>
    %0 = keops.mul %a, %ones : vector<1xf32>, vector<3xf32>
    keops.yield %0 : vector<3xf32>
  }
  return %r : tensor<?x3xf32>
}

// -----

// Constant operands are evaluated (in float64, rounded to the element type).
// CHECK-LABEL: func.func @constant_folding
// CHECK: keops.constant dense<[1.000000e+00, 2.000000e+00, 0.000000e+00, 2.500000e+01, 3.000000e+00, 5.000000e-01]> : vector<6xf64>
// CHECK-NOT: keops.exp
// CHECK-NOT: keops.sqrt
func.func @constant_folding() -> tensor<?x6xf64> {
  %r = keops.reduce sum over j () : () -> tensor<?x6xf64> {
    %zero = keops.constant dense<0.0> : vector<1xf64>
    %four = keops.constant dense<4.0> : vector<1xf64>
    %pair = keops.constant dense<[3.0, 4.0]> : vector<2xf64>
    %e = keops.exp %zero : vector<1xf64>
    %s = keops.sqrt %four : vector<1xf64>
    %rs = keops.rsqrt %zero : vector<1xf64>
    %n = keops.sqnorm2 %pair : vector<2xf64>
    %h = keops.pow %s, -1 : vector<1xf64>
    %c0 = keops.concat %e, %s : vector<1xf64>, vector<1xf64>
    %c1 = keops.concat %c0, %rs : vector<2xf64>, vector<1xf64>
    %c2 = keops.concat %c1, %n : vector<3xf64>, vector<1xf64>
    %el = keops.elem %pair[0] : vector<2xf64>
    %c3 = keops.concat %c2, %el : vector<4xf64>, vector<1xf64>
    %c4 = keops.concat %c3, %h : vector<5xf64>, vector<1xf64>
    keops.yield %c4 : vector<6xf64>
  }
  return %r : tensor<?x6xf64>
}

// -----

// Rounding to f16 after a float64 evaluation.
// CHECK-LABEL: func.func @half_rounding
// CHECK: keops.constant dense<3.332520e-01> : vector<1xf16>
func.func @half_rounding() -> tensor<?x1xf16> {
  %r = keops.reduce sum over j () : () -> tensor<?x1xf16> {
    %three = keops.constant dense<3.0> : vector<1xf16>
    %third = keops.inv %three : vector<1xf16>
    keops.yield %third : vector<1xf16>
  }
  return %r : tensor<?x1xf16>
}
