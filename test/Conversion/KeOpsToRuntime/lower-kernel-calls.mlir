// RUN: keops-opt %s --keops-outline-reductions --keops-tile-reductions --keops-lower-kernel-calls | FileCheck %s

// A call of a tiled kernel becomes runtime calls with the kernel's
// descriptor (laid out as keops_rt_kernel_desc_t: 136 bytes, padded) and
// entry point; the output is a new buffer of the rows of x.
// CHECK-LABEL: func.func @f(
// CHECK-SAME: %[[X:.*]]: tensor<?x3xf64>, %[[Y:.*]]: tensor<?x3xf64>
// CHECK: %[[D:.*]] = llvm.mlir.addressof @__keops_desc_f_keops_0
// CHECK: %[[E:.*]] = llvm.mlir.addressof @__keops_entry_f_keops_0
// CHECK: %[[C:.*]] = call @keops_rt_mlir_begin(%[[D]], %[[E]])
// CHECK: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only
// CHECK: %[[XU:.*]] = memref.cast %[[XB]] {{.*}} to memref<*xf64>
// CHECK: call @keops_rt_mlir_arg_f64(%[[C]], %[[XU]])
// CHECK: %[[ROWS:.*]] = tensor.dim %[[X]], %{{.*}}
// CHECK: %[[OUT:.*]] = memref.alloc(%[[ROWS]]) : memref<?x1xf64>
// CHECK: call @keops_rt_mlir_arg_f64(%[[C]], %{{.*}})
// CHECK: call @keops_rt_mlir_end(%[[C]])
// CHECK: %[[R:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: return %[[R]]
// CHECK: llvm.mlir.global internal constant @__keops_desc_f_keops_0_name("f_keops_0\00")
// CHECK: llvm.mlir.global internal constant @__keops_desc_f_keops_0_categories(dense<[0, 1]> : tensor<2xi32>)
// CHECK: llvm.mlir.global internal constant @__keops_desc_f_keops_0_reduction("min\00")
// CHECK: llvm.mlir.global internal constant @__keops_desc_f_keops_0() {{.*}} : !llvm.struct<packed (i32, array<4 x i8>, ptr, i32, i32, i32, array<4 x i8>, ptr, ptr, ptr, i32, array<4 x i8>, ptr, ptr, i32, i32, i32, i32, ptr, i32, i32, ptr, i32, i32, i32, array<4 x i8>)>
// CHECK: llvm.func @__keops_entry_f_keops_0(!llvm.ptr) attributes {keops.entry_of = "f_keops_0"}
// CHECK: func.func private @keops_rt_mlir_arg_f64(!llvm.ptr, memref<*xf64>) attributes {llvm.emit_c_interface}
func.func @f(%x: tensor<?x3xf64>, %y: tensor<?x3xf64>) -> tensor<?x1xf64> {
  %c = arith.constant 1.0 : f64
  %r = keops.reduce min over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x3xf64>, tensor<?x3xf64>) -> tensor<?x1xf64> {
    %d = keops.sqdist %xi, %yj : vector<3xf64>, vector<3xf64>
    keops.yield %d : vector<1xf64>
  }
  return %r : tensor<?x1xf64>
}
