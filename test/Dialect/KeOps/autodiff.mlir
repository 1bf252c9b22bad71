// RUN: keops-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(keops-autodiff),canonicalize,cse)' | FileCheck %s

// The gradient of the Gaussian kernel w.r.t. x reuses the forward exp:
// exp is computed once per pair.

// CHECK-LABEL: func.func @gaussian_gradient
// CHECK: keops.reduce sum over j (%[[X:.*]] = %{{.*}} : i, %[[Y:.*]] = %{{.*}} : j, %[[B:.*]] = %{{.*}} : j, %[[E:.*]] = %{{.*}} : i)
// CHECK: %[[D:.*]] = keops.sqdist %[[X]], %[[Y]]
// CHECK: %[[EXP:.*]] = keops.exp
// CHECK-NOT: keops.exp
// CHECK: %[[DIFF:.*]] = keops.sub %[[X]], %[[Y]]
// CHECK-NOT: keops.exp
// CHECK: keops.yield %{{.*}} : vector<3xf32>
func.func @gaussian_gradient(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>, %b: tensor<?x1xf32>, %e: tensor<?x1xf32>) -> tensor<?x3xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j, %bj = %b : j, %ei = %e : i)
      : (tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x1xf32>, tensor<?x1xf32>) -> tensor<?x3xf32> {
    %d = keops.sqdist %xi, %yj : vector<3xf32>, vector<3xf32>
    %n = keops.neg %d : vector<1xf32>
    %k = keops.exp %n : vector<1xf32>
    %f = keops.mul %k, %bj : vector<1xf32>, vector<1xf32>
    %g = keops.grad %f wrt %xi along %ei : vector<1xf32>, vector<3xf32>, vector<1xf32>
    keops.yield %g : vector<3xf32>
  }
  return %r : tensor<?x3xf32>
}

// -----

// F = (x | y) is linear in x: its gradient does not depend on x, so the
// gradient of the gradient is zero.

// CHECK-LABEL: func.func @second_gradient_of_linear
// CHECK: %[[ZERO:.*]] = keops.constant dense<0.000000e+00> : vector<3xf32>
// CHECK-NEXT: keops.yield %[[ZERO]] : vector<3xf32>
func.func @second_gradient_of_linear(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>, %e: tensor<?x1xf32>, %u: tensor<?x3xf32>) -> tensor<?x3xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j, %ei = %e : i, %ui = %u : i)
      : (tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x1xf32>, tensor<?x3xf32>) -> tensor<?x3xf32> {
    %f = keops.scalprod %xi, %yj : vector<3xf32>, vector<3xf32>
    %g = keops.grad %f wrt %xi along %ei : vector<1xf32>, vector<3xf32>, vector<1xf32>
    %h = keops.grad %g wrt %xi along %ui : vector<3xf32>, vector<3xf32>, vector<3xf32>
    keops.yield %h : vector<3xf32>
  }
  return %r : tensor<?x3xf32>
}

// -----

// A formula that does not depend on the variable has a zero gradient; the
// derivative of exp(x) along u is u * exp(x).

// CHECK-LABEL: func.func @independent_and_exp
// CHECK: keops.reduce sum over j (%[[X:.*]] = %{{.*}} : i, %[[Y:.*]] = %{{.*}} : j)
// CHECK-DAG: %[[EXP:.*]] = keops.exp %[[Y]]
// CHECK: %[[G:.*]] = keops.mul %[[Y]], %[[EXP]]
// CHECK: keops.yield %[[G]]
func.func @independent_and_exp(%x: tensor<?x1xf32>, %y: tensor<?x1xf32>) -> tensor<?x1xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x1xf32>, tensor<?x1xf32>) -> tensor<?x1xf32> {
    %zero = keops.grad %yj wrt %xi along %yj : vector<1xf32>, vector<1xf32>, vector<1xf32>
    %e = keops.exp %yj : vector<1xf32>
    %g = keops.grad %e wrt %yj along %yj : vector<1xf32>, vector<1xf32>, vector<1xf32>
    %s = keops.add %g, %zero : vector<1xf32>, vector<1xf32>
    keops.yield %s : vector<1xf32>
  }
  return %r : tensor<?x1xf32>
}

// -----

// Abs of a scalar selects after differentiating: u where f > 0, -u where
// f < 0, 0 at 0 (no Sign(f) times the derivative of f, which is infinite
// for Sqrt at 0).

// CHECK-LABEL: func.func @abs_selects_after
// CHECK-NOT: keops.sign
// CHECK: %[[F:.*]] = keops.sqrt
// CHECK: %[[NF:.*]] = keops.neg %[[F]]
// CHECK: %[[AT0:.*]] = keops.ifelse %[[NF]], %{{.*}}, %{{.*}}
// CHECK: keops.ifelse %[[F]], %[[AT0]], %{{.*}}
// CHECK-NOT: keops.sign
func.func @abs_selects_after(%x: tensor<?x1xf32>, %y: tensor<?x1xf32>, %e: tensor<?x1xf32>) -> tensor<?x1xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j, %ei = %e : i)
      : (tensor<?x1xf32>, tensor<?x1xf32>, tensor<?x1xf32>) -> tensor<?x1xf32> {
    %d = keops.sub %xi, %yj : vector<1xf32>, vector<1xf32>
    %s = keops.sqrt %d : vector<1xf32>
    %a = keops.abs %s : vector<1xf32>
    %g = keops.grad %a wrt %xi along %ei : vector<1xf32>, vector<1xf32>, vector<1xf32>
    keops.yield %g : vector<1xf32>
  }
  return %r : tensor<?x1xf32>
}

// -----

// The derivatives of a tensordot are tensordots: for A (2x3) times v (3),
// the adjoint u (2) gives u v^T (an outer product, permuted into A's axes)
// and A^T u (u contracted with A's first axis).

// CHECK-LABEL: func.func @tensordot
// CHECK: keops.reduce sum over j (%[[A:.*]] = %{{.*}} : i, %[[V:.*]] = %{{.*}} : j, %[[U:.*]] = %{{.*}} : i, %[[W:.*]] = %{{.*}} : i)
// CHECK-DAG: %[[GA:.*]] = keops.tensordot %[[U]], %[[V]] shapes [2], [3] axes [], [] permute [0, 1] : vector<2xf32>, vector<3xf32>
// CHECK-DAG: %[[GV:.*]] = keops.tensordot %[[A]], %[[W]] shapes [2, 3], [2] axes [0], [0] permute [0] : vector<6xf32>, vector<2xf32>
// CHECK: keops.concat %[[GA]], %[[GV]]
func.func @tensordot(%a: tensor<?x6xf32>, %v: tensor<?x3xf32>, %u: tensor<?x2xf32>, %w: tensor<?x2xf32>) -> tensor<?x9xf32> {
  %r = keops.reduce sum over j (%ai = %a : i, %vj = %v : j, %ui = %u : i, %wi = %w : i)
      : (tensor<?x6xf32>, tensor<?x3xf32>, tensor<?x2xf32>, tensor<?x2xf32>) -> tensor<?x9xf32> {
    %f = keops.tensordot %ai, %vj shapes [2, 3], [3] axes [1], [0] permute [0] : vector<6xf32>, vector<3xf32>
    %ga = keops.grad %f wrt %ai along %ui : vector<2xf32>, vector<6xf32>, vector<2xf32>
    %gv = keops.grad %f wrt %vj along %wi : vector<2xf32>, vector<3xf32>, vector<2xf32>
    %both = keops.concat %ga, %gv : vector<6xf32>, vector<3xf32>
    keops.yield %both : vector<9xf32>
  }
  return %r : tensor<?x9xf32>
}
