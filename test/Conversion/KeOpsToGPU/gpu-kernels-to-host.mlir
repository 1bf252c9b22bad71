// RUN: keops-opt %s --split-input-file --convert-gpu-kernels-to-host --verify-diagnostics | FileCheck %s

// A kernel becomes a host function called once per GPU thread: the barrier
// function, block x, block y and thread x, then the workgroup buffer (plain
// memory), then the kernel's arguments; the ids are the arguments (other
// dimensions 0), barriers call the function, and the block size and the
// workgroup bytes become attributes.

// CHECK-NOT: gpu.
// CHECK: func.func @k(%[[BARRIER:.*]]: () -> (), %[[BX:.*]]: index, %[[BY:.*]]: index, %[[TX:.*]]: index, %[[TILE:.*]]: memref<64xf32>, %[[N:.*]]: index, %[[OUT:.*]]: memref<?xf32>)
// CHECK-SAME: attributes {gpu.known_block_size = array<i32: 32, 1, 1>, keops.kernel, keops.rows_per_thread = 2 : i32, keops.workgroup_bytes = 256 : i64}
// CHECK: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK: memref.store %{{.*}}, %[[TILE]][%[[TX]]] : memref<64xf32>
// CHECK: call_indirect %[[BARRIER]]() : () -> ()
// CHECK: arith.addi %[[BX]], %[[BY]]
// CHECK: arith.addi %{{.*}}, %[[ZERO]]
// CHECK: memref.load %[[TILE]]
// CHECK: return
module attributes {gpu.container_module} {
  gpu.module @keops_kernels {
    gpu.func @k(%n: index, %out: memref<?xf32>)
        workgroup(%tile: memref<64xf32, #gpu.address_space<workgroup>>)
        kernel attributes {known_block_size = array<i32: 32, 1, 1>,
                           keops.kernel, keops.rows_per_thread = 2 : i32} {
      %t = gpu.thread_id x
      %bx = gpu.block_id x
      %by = gpu.block_id y
      %tz = gpu.thread_id z
      %v = arith.index_cast %n : index to i32
      %f = arith.sitofp %v : i32 to f32
      memref.store %f, %tile[%t] : memref<64xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %s = arith.addi %bx, %by : index
      %u = arith.addi %s, %tz : index
      %w = memref.load %tile[%u] : memref<64xf32, #gpu.address_space<workgroup>>
      memref.store %w, %out[%t] : memref<?xf32>
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @keops_kernels {
    // expected-error @below {{has private memory attributions, which the host form does not take}}
    gpu.func @p(%out: memref<?xf32>) private(%a: memref<4xf32, #gpu.address_space<private>>) kernel {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @keops_kernels {
    // expected-error @below {{has several workgroup buffers: the host form takes one}}
    gpu.func @w(%out: memref<?xf32>)
        workgroup(%a: memref<4xf32, #gpu.address_space<workgroup>>,
                  %b: memref<4xf32, #gpu.address_space<workgroup>>) kernel {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @keops_kernels {
    // expected-error @below {{is not a kernel: only kernels have a host form}}
    gpu.func @f(%out: memref<?xf32>) {
      gpu.return
    }
  }
}
