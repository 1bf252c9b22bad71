// RUN: keops-opt %s --keops-lower-to-nvvm | FileCheck %s --check-prefix=NVVM
// RUN: keops-opt %s --keops-lower-to-nvvm='chip=sm_80 block-size=128' --gpu-module-to-binary=format=isa | FileCheck %s --check-prefix=PTX
// RUN: keops-opt %s --keops-lower-to-gpu-emulation='block-size=128' | FileCheck %s --check-prefix=HOST

// keops-lower-to-nvvm: an NVVM kernel with a target attached, no libdevice
// call in f32; gpu-module-to-binary then emits its PTX.

// NVVM: gpu.module @keops_kernels [#nvvm.target<O = 3, chip = "sm_90">]
// NVVM: llvm.mlir.global internal @__wg_gaussian_0() {addr_space = 3 : i32} : !llvm.array<1024 x f32>
// NVVM: llvm.func @gaussian(
// NVVM-SAME: gpu.kernel
// NVVM-SAME: gpu.known_block_size = array<i32: 256, 1, 1>
// NVVM-SAME: nvvm.kernel
// NVVM: nvvm.read.ptx.sreg.tid.x
// NVVM: nvvm.barrier
// NVVM: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// NVVM-NOT: __nv_

// PTX: gpu.binary @keops_kernels
// PTX-SAME: .target sm_80
// PTX-SAME: .visible .entry gaussian(
// PTX-SAME: .maxntid 128, 1, 1
// PTX-SAME: .shared .align 4 .b8 __wg_gaussian_0[2048]
// PTX-SAME: bar.sync
// PTX-SAME: ex2.approx.ftz.f32
// PTX-NOT: __nv_

// keops-lower-to-gpu-emulation: the same kernel as a host function in the
// LLVM dialect: the barrier function, block x, block y, thread x, the
// workgroup buffer's 5 fields, then the kernel's parameters; barriers are
// calls of the first argument.
// HOST-NOT: gpu.
// HOST: llvm.func @gaussian(%[[BARRIER:[^:]*]]: !llvm.ptr, %{{[^:]*}}: i64, %{{[^:]*}}: i64, %{{[^:]*}}: i64, %{{[^:]*}}: !llvm.ptr, %{{[^:]*}}: !llvm.ptr, %{{[^:]*}}: i64, %{{[^:]*}}: i64, %{{[^:]*}}: i64,
// HOST-SAME: attributes {gpu.known_block_size = array<i32: 128, 1, 1>, keops.kernel, keops.rows_per_thread = 4 : i32, keops.workgroup_bytes = 2048 : i64}
// HOST: llvm.call %[[BARRIER]]() : !llvm.ptr, () -> ()
// HOST-NOT: gpu.
func.func @gaussian(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>, %b: tensor<?x1xf32>) -> tensor<?x1xf32> {
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
