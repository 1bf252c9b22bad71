// RUN: keops-opt %s --keops-outline-reductions --split-input-file | FileCheck %s

// A reduction among other ops, with static shapes and a parameter: it moves
// into a kernel function of dynamic rows, called through casts.
// CHECK-LABEL: func.func @nearest(
// CHECK-SAME: %[[X:.*]]: tensor<8x3xf32>, %[[Y:.*]]: tensor<5x3xf32>, %[[P:.*]]: tensor<1xf32>
// CHECK: %[[XS:.*]] = arith.addf %[[X]], %[[X]]
// CHECK: %[[XD:.*]] = tensor.cast %[[XS]] : tensor<8x3xf32> to tensor<?x3xf32>
// CHECK: %[[YD:.*]] = tensor.cast %[[Y]] : tensor<5x3xf32> to tensor<?x3xf32>
// CHECK: %[[R:.*]]:2 = call @nearest_keops_0(%[[XD]], %[[YD]], %[[P]])
// CHECK: %[[V:.*]] = tensor.cast %[[R]]#0 : tensor<?x1xf32> to tensor<8x1xf32>
// CHECK: %[[I:.*]] = tensor.cast %[[R]]#1 : tensor<?x1xi64> to tensor<8x1xi64>
// CHECK: return %[[V]], %[[I]]
// CHECK: func.func private @nearest_keops_0(%[[A0:.*]]: tensor<?x3xf32>, %[[A1:.*]]: tensor<?x3xf32>, %[[A2:.*]]: tensor<1xf32>) -> (tensor<?x1xf32>, tensor<?x1xi64>)
// CHECK: %[[K:.*]]:2 = keops.reduce min_argmin over j (%{{.*}} = %[[A0]] : i, %{{.*}} = %[[A1]] : j, %{{.*}} = %[[A2]] : param)
// CHECK-SAME: -> (tensor<?x1xf32>, tensor<?x1xi64>)
// CHECK: return %[[K]]#0, %[[K]]#1
func.func @nearest(%x: tensor<8x3xf32>, %y: tensor<5x3xf32>, %p: tensor<1xf32>) -> (tensor<8x1xf32>, tensor<8x1xi64>) {
  %x2 = arith.addf %x, %x : tensor<8x3xf32>
  %v, %i = keops.reduce min_argmin over j (%xi = %x2 : i, %yj = %y : j, %pp = %p : param)
      : (tensor<8x3xf32>, tensor<5x3xf32>, tensor<1xf32>) -> (tensor<8x1xf32>, tensor<8x1xi64>) {
    %d = keops.sqdist %xi, %yj : vector<3xf32>, vector<3xf32>
    %s = keops.mul %d, %pp : vector<1xf32>, vector<1xf32>
    keops.yield %s : vector<1xf32>
  }
  return %v, %i : tensor<8x1xf32>, tensor<8x1xi64>
}

// -----

// Two reductions in a loop body get two kernels; a kernel function stays.
// CHECK-LABEL: func.func @loop(
// CHECK: scf.for
// CHECK: call @loop_keops_0(
// CHECK: call @loop_keops_1(
// CHECK-LABEL: func.func @kernel(
// CHECK-NEXT: keops.reduce sum over j
// CHECK: func.func private @loop_keops_0(
// CHECK: keops.reduce sum over j
// CHECK: func.func private @loop_keops_1(
// CHECK: keops.reduce max over i
func.func @loop(%x: tensor<?x2xf64>, %y: tensor<?x2xf64>, %n: index) -> tensor<?x2xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %k = %c0 to %n step %c1 iter_args(%a = %x) -> tensor<?x2xf64> {
    %s = keops.reduce sum over j (%ai = %a : i, %yj = %y : j)
        : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x2xf64> {
      %v = keops.sub %ai, %yj : vector<2xf64>, vector<2xf64>
      keops.yield %v : vector<2xf64>
    }
    %m = keops.reduce max over i (%si = %s : i, %yj = %y : j)
        : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x2xf64> {
      %v = keops.add %si, %yj : vector<2xf64>, vector<2xf64>
      keops.yield %v : vector<2xf64>
    }
    scf.yield %m : tensor<?x2xf64>
  }
  return %r : tensor<?x2xf64>
}
func.func @kernel(%x: tensor<?x2xf64>, %y: tensor<?x2xf64>) -> tensor<?x2xf64> {
  %s = keops.reduce sum over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x2xf64>, tensor<?x2xf64>) -> tensor<?x2xf64> {
    %v = keops.add %xi, %yj : vector<2xf64>, vector<2xf64>
    keops.yield %v : vector<2xf64>
  }
  return %s : tensor<?x2xf64>
}
