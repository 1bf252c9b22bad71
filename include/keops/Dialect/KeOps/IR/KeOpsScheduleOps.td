//===- KeOpsScheduleOps.td - The tiled form of a reduction -*- tablegen -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// Declares the target-neutral tiled form of a keops.reduce: keops.schedule
// and the ops of its body, which say how an i-block of rows is reduced over
// j-tiles with the monoid of the reduction kind (init, accumulate, merge,
// finalize or raw store) on values of type !keops.state.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_IR_KEOPSSCHEDULEOPS_TD
#define KEOPS_DIALECT_KEOPS_IR_KEOPSSCHEDULEOPS_TD

include "keops/Dialect/KeOps/IR/KeOpsBase.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def KeOps_StateType : TypeDef<KeOps_Dialect, "State"> {
  let mnemonic = "state";
  let summary = "the accumulator states of the rows of an i-block";
  let description = [{
    The states, one per row of the i-block of the enclosing keops.schedule,
    of the reduction's monoid: what its Accumulator holds for the kind, in
    the schedule's accumulator type. Where they live (vector lanes and a
    scratch buffer on the CPU, registers of the threads on the GPU) is the
    choice of the conversion that lowers the schedule.
  }];
}

def KeOps_ScheduleOp : KeOps_Op<"schedule", [SingleBlock, NoTerminator]> {
  let summary = "the tiled form of a keops.reduce over j";
  let description = [{
    Says how the reduction that defines `reduction` (a result of a
    `keops.reduce ... over j`) is computed, for any target: the output rows
    form i-blocks of `tile_rows` rows, reduced independently (in parallel);
    the body reduces one i-block over the reduced columns in j-tiles of
    `tile_cols` columns, whose reduced variables are first copied to a
    staging buffer when `staged`. The rows of an i-block keep their states
    at once (in registers where the target has them), so that each column
    read serves `tile_rows` pairs.

    The monoid is the Accumulator of the reduction kind with values in
    `acc_type` and the sum scheme `sum_scheme` (block_sum, kahan_scheme,
    direct_sum). Sums over at least `feature_loop_min_dim` components loop
    over them (0: never), so that the code does not grow with the
    dimension. With `selection_in_memory` (the kmin family only), each row
    keeps its K best (value, column) pairs per component in memory (a
    sorted vector, or a max-heap), and only the K-th best, the threshold
    that candidates are compared against, takes registers (the CPU's
    choice: the code does not grow with K, and whole vectors of candidates
    are rejected by one comparison; the GPU's for large K, in each
    thread's local memory). With `column_product` = k (a sum of a
    dimension-1 factor times the reduced input k, see getColumnProduct), a
    tile's sum is the product of the block's factors (rows x columns) and
    input k's rows (columns x components): the target computes the factors
    first, then the product, with its accumulators over the components.
    With `sqdist_expansion`, the block's feature loops compute each
    expandable squared distance |x_i - y_j|^2 (see getExpandableSqDists) as
    |x~_i|^2 + |y~_j|^2 - 2 <x~_i, y~_j> with x~ = x - c, y~ = y - c for a
    center c of the target's choice: the norms once per row and per column
    of a tile, the inner products as a matrix product of the block and the
    tile; the pairs where the expansion would round badly (see
    kSqDistExpansionGuard) take the direct form.

    The body is either one i-block program:

    ```mlir
    %init = keops.state_init
    %states = keops.for_tiles(%init) {
    ^bb0(%acc: !keops.state):
      %zero = keops.state_init
      %tile = keops.accumulate_tile %zero
      %next = keops.state_merge %acc, %tile
      keops.tile_yield %next
    }
    keops.state_store %states
    ```

    or one `keops.output_chunks` whose body is such a program.
  }];
  let arguments = (ins AnyRankedTensor:$reduction,
                       ConfinedAttr<I64Attr, [IntPositive]>:$tile_rows,
                       ConfinedAttr<I64Attr, [IntPositive]>:$tile_cols,
                       UnitAttr:$staged,
                       TypeAttrOf<AnyFloat>:$acc_type,
                       StrAttr:$sum_scheme,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:
                           $feature_loop_min_dim,
                       UnitAttr:$selection_in_memory,
                       UnitAttr:$sqdist_expansion,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:
                           $column_product);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $reduction `:` type($reduction) attr-dict-with-keyword $body
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The reduction the schedule is for.
    ReduceOp getReduce();
    /// The chunks of the output, when the body is a keops.output_chunks.
    OutputChunksOp getOutputChunks();
    /// The ops of the i-block program (in the output chunks if any).
    StateInitOp getInit();
    ForTilesOp getForTiles();
    StateStoreOp getStore();
  }];
}

def KeOps_OutputChunksOp : KeOps_Op<"output_chunks", [SingleBlock,
    NoTerminator, HasParent<"ScheduleOp">]> {
  let summary = "reduces a wide output in chunks of components";
  let description = [{
    Runs its body, an i-block program, once per chunk of `size` components
    of the reduced value (the weight of logsumexp and sumsoftmaxweight, the
    formula of the other kinds), with states of `size` components (K best
    per component for the kmin family); the last
    chunk repeats the last component. The dimension-1 part of the formula is
    computed again for each chunk.
  }];
  let arguments = (ins ConfinedAttr<I64Attr, [IntPositive]>:$size);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$size attr-dict-with-keyword $body";
}

def KeOps_StateInitOp : KeOps_Op<"state_init", [Pure]> {
  let summary = "the neutral states of the i-block's rows";
  let results = (outs KeOps_StateType:$state);
  let assemblyFormat = "attr-dict";
}

def KeOps_StateMergeOp : KeOps_Op<"state_merge", [Pure]> {
  let summary = "merges two states of the i-block's rows, row by row";
  let arguments = (ins KeOps_StateType:$lhs, KeOps_StateType:$rhs);
  let results = (outs KeOps_StateType:$state);
  let assemblyFormat = "$lhs `,` $rhs attr-dict";
}

def KeOps_ForTilesOp : KeOps_Op<"for_tiles", [SingleBlock,
    RecursiveMemoryEffects]> {
  let summary = "reduces the i-block over the reduced columns, tile by tile";
  let description = [{
    For each j-tile of the schedule's `tile_cols` columns of the reduced
    range (or, block-sparse, of each of the i-block's column ranges): stages
    the tile's reduced variables when the schedule is `staged`, then runs
    the body on the states so far (the block argument, `init` for the first
    tile); `keops.tile_yield` gives the states after the tile. The result
    is the states after the last tile.
  }];
  let arguments = (ins KeOps_StateType:$init);
  let results = (outs KeOps_StateType:$state);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "`(` $init `)` attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
}

def KeOps_AccumulateTileOp : KeOps_Op<"accumulate_tile", [Pure,
    HasParent<"ForTilesOp">]> {
  let summary = "adds the pairs of the i-block and the current tile";
  let description = [{
    Evaluates the formula (and weight) of the reduction on every pair of a
    row of the i-block and a column of the current j-tile, and accumulates
    them into `state`, column after column.
  }];
  let arguments = (ins KeOps_StateType:$state);
  let results = (outs KeOps_StateType:$result);
  let assemblyFormat = "$state attr-dict";
}

def KeOps_TileYieldOp : KeOps_Op<"tile_yield", [Pure, Terminator, ReturnLike,
    HasParent<"ForTilesOp">]> {
  let summary = "ends a keops.for_tiles body with the states after the tile";
  let arguments = (ins KeOps_StateType:$state);
  let assemblyFormat = "$state attr-dict";
}

def KeOps_StateStoreOp : KeOps_Op<"state_store", [
    MemoryEffects<[MemWrite]>]> {
  let summary = "finalizes and stores the i-block's results, or its states";
  let description = [{
    Stores the rows of the i-block: their finalized results, or, when the
    kernel is called for raw states (kernel ABI mode raw or resume), the
    states themselves, merged with those already stored in resume mode.
  }];
  let arguments = (ins KeOps_StateType:$state);
  let assemblyFormat = "$state attr-dict";
}

#endif // KEOPS_DIALECT_KEOPS_IR_KEOPSSCHEDULEOPS_TD
