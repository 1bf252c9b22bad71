// RUN: keops-opt %s --pass-pipeline='builtin.module(func.func(keops-tile-reductions{column-products=1}))' | FileCheck %s --check-prefix=TILED
// RUN: keops-opt %s --pass-pipeline='builtin.module(func.func(keops-tile-reductions{column-products=1 sum-scheme=kahan_scheme}))' | FileCheck %s --check-prefix=KAHAN
// RUN: keops-opt %s --pass-pipeline='builtin.module(func.func(keops-tile-reductions{column-products=1 tile-rows=2 col-granule=4},convert-keops-to-cpu{lanes=4}),canonicalize,cse)' | FileCheck %s

// A sum of a dimension-1 factor times a wide reduced variable is, per tile,
// a product of matrices: the block's factors (rows x columns) first, in
// lanes of columns, stored where the weight's tile would be staged; then, for
// groups of 4 vectors of components, one loop over the tile's columns whose
// iteration loads the weight's row once (in place, masked past its 70
// components) and adds it times each row's factor to that row's sums: 2 rows
// x 4 vectors of FMAs. No output chunks, nothing unrolled 70 times.

// TILED: keops.schedule {{.*}}column_product = 2 : i64
// TILED-SAME: tile_rows = 2
// TILED-NOT: keops.output_chunks
// Kahan sums keep their compensations: output chunks, no column product.
// KAHAN-NOT: column_product
// KAHAN: keops.output_chunks

// CHECK-LABEL: func.func @weighted
// The factors, stored as vectors of lanes.
// CHECK: math.exp
// CHECK: vector.store %{{.*}} : memref<?xf32>, vector<4xf32>
// CHECK: math.exp
// CHECK: vector.store %{{.*}} : memref<?xf32>, vector<4xf32>
// The product: a loop over groups of components, then over the columns.
// CHECK: scf.for
// CHECK: vector.create_mask
// CHECK: scf.for {{.*}} iter_args
// CHECK-COUNT-4: vector.maskedload
// CHECK: vector.broadcast
// CHECK-COUNT-4: vector.fma
// CHECK: vector.broadcast
// CHECK-COUNT-4: vector.fma
// CHECK: scf.yield
// The block sum: each tile's products added to the sums.
// CHECK-COUNT-8: arith.addf {{.*}} : vector<4xf32>
func.func @weighted(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>, %b: tensor<?x70xf32>) -> tensor<?x70xf32> {
  %r = keops.reduce sum over j (%a = %x : i, %c = %y : j, %w = %b : j) : (tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x70xf32>) -> tensor<?x70xf32> {
    %d = keops.sqdist %a, %c : vector<3xf32>, vector<3xf32>
    %n = keops.neg %d : vector<1xf32>
    %e = keops.exp %n : vector<1xf32>
    %p = keops.mul %e, %w : vector<1xf32>, vector<70xf32>
    keops.yield %p : vector<70xf32>
  }
  return %r : tensor<?x70xf32>
}
