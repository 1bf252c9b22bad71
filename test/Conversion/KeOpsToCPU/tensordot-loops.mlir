// RUN: keops-opt %s --pass-pipeline='builtin.module(func.func(keops-tile-reductions,convert-keops-to-cpu{lanes=4}),canonicalize,cse)' | FileCheck %s

// A tensordot of many products (here 24 x 16 = 384) is a loop nest, not one
// multiply-add per product: its operand that is neither a variable nor a
// componentwise tree of variables (a normalized vector) goes to a stack
// buffer, the variable y is read from the staged tile at computed indices,
// and the sums go to a stack buffer, all between a stacksave and its
// restore.

// CHECK-LABEL: func.func @contraction_loops
// CHECK: llvm.intr.stacksave
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<16xvector<4xf32>>
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<24xvector<4xf32>>
// CHECK: scf.for
// CHECK: scf.for
// CHECK: memref.load %{{.*}} : memref<16xvector<4xf32>>
// CHECK: vector.maskedload
// CHECK: memref.store %{{.*}} : memref<24xvector<4xf32>>
// CHECK: llvm.intr.stackrestore
// CHECK-NOT: llvm.intr.stacksave
func.func @contraction_loops(%x: tensor<?x16xf32>, %y: tensor<?x384xf32>, %s: tensor<?x1xf32>) -> tensor<?x24xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j, %sj = %s : j)
      : (tensor<?x16xf32>, tensor<?x384xf32>, tensor<?x1xf32>) -> tensor<?x24xf32> {
    %unit = keops.normalize %xi : vector<16xf32>
    %scaled = keops.mul %unit, %sj : vector<16xf32>, vector<1xf32>
    %d = keops.tensordot %scaled, %yj shapes [16], [16, 24] axes [0], [0] permute [0] : vector<16xf32>, vector<384xf32>
    %e = keops.exp %d : vector<24xf32>
    keops.yield %e : vector<24xf32>
  }
  return %r : tensor<?x24xf32>
}

// A wide tensordot of two variables as the reduced value: output chunks of
// 16 components, each component a loop over the contracted axis from its
// index (divided into the output axes), no stack buffer.

// CHECK-LABEL: func.func @chunked_contraction
// CHECK-NOT: llvm.intr.stacksave
// CHECK: scf.for
// CHECK: arith.remui
// CHECK: scf.for {{.*}} iter_args
// CHECK: arith.mulf
// CHECK-NEXT: arith.addf
// CHECK-NEXT: scf.yield
// CHECK-NOT: llvm.intr.stacksave
func.func @chunked_contraction(%x: tensor<?x8xf32>, %y: tensor<?x512xf32>) -> tensor<?x64xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x8xf32>, tensor<?x512xf32>) -> tensor<?x64xf32> {
    %d = keops.tensordot %xi, %yj shapes [8], [8, 64] axes [0], [0] permute [0] : vector<8xf32>, vector<512xf32>
    keops.yield %d : vector<64xf32>
  }
  return %r : tensor<?x64xf32>
}

// An operand that is a componentwise tree of variables (x * s) is not
// stored: the loops compute its component at each index they read.

// CHECK-LABEL: func.func @tree_operand
// CHECK: llvm.intr.stacksave
// CHECK-NOT: memref<16xvector<4xf32>>
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<24xvector<4xf32>>
// CHECK: scf.for
// CHECK: scf.for
// CHECK: arith.mulf
// CHECK: llvm.intr.stackrestore
func.func @tree_operand(%x: tensor<?x16xf32>, %y: tensor<?x384xf32>, %s: tensor<?x1xf32>) -> tensor<?x24xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j, %sj = %s : j)
      : (tensor<?x16xf32>, tensor<?x384xf32>, tensor<?x1xf32>) -> tensor<?x24xf32> {
    %scaled = keops.mul %xi, %sj : vector<16xf32>, vector<1xf32>
    %d = keops.tensordot %scaled, %yj shapes [16], [16, 24] axes [0], [0] permute [0] : vector<16xf32>, vector<384xf32>
    %e = keops.exp %d : vector<24xf32>
    keops.yield %e : vector<24xf32>
  }
  return %r : tensor<?x24xf32>
}
