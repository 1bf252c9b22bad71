/* partial_reductions.c - A reduction split over MPI ranks with the runtime's
 * partial reductions: every rank holds the rows x (N) and reduces them over
 * its share of the columns y (M / ranks) into raw states
 * (keops_rt_kernel_run_partial); rank 0 gathers the states and merges them
 * into the outputs (keops_rt_kernel_merge_partials), then checks them
 * against the same reduction on one rank: a Gaussian sum (to rounding) and
 * the 5 nearest neighbours (indices exactly). Exit status 0 when they agree.
 *
 *   mpirun -np 3 ./keops-mpi-partial-reductions
 *
 * SPDX-License-Identifier: MIT */
#include "mpi_kernels.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 500, M = 1999 };

static int failed(keops_rt_status_t status, const char *what) {
  if (!status)
    return 0;
  fprintf(stderr, "%s: %s\n", what, keops_rt_status_message(status));
  keops_rt_status_free(status);
  return 1;
}

/* The run arguments of a kernel on x (N rows) and the first `inputs` of
 * (y, b), writing `out` (N rows of `dim` values of `dtype`). */
static keops_rt_run_args_t runArgs(keops_rt_array_t *arrays, int inputs,
                                   keops_rt_array_t *out) {
  keops_rt_run_args_t args;
  keops_rt_run_args_initialize(&args);
  args.num_inputs = inputs;
  args.inputs = arrays;
  args.num_outputs = 1;
  args.outputs = out;
  return args;
}

/* Reduces over this rank's columns, gathers the partials at rank 0 and
 * merges them into `merged` there; `whole` gets the reduction on one rank.
 * Returns nonzero on failure (on any rank). */
static int splitOverRanks(keops_rt_kernel_t *kernel, keops_rt_array_t *arrays,
                          int inputs, keops_rt_array_t *merged,
                          keops_rt_array_t *whole, int rank, int ranks) {
  keops_rt_kernel_desc_t desc;
  keops_rt_kernel_describe(kernel, &desc);
  size_t floatBytes = (size_t)N * desc.state_floats *
                      keops_rt_dtype_size(desc.state_dtype);
  size_t intCount = (size_t)N * desc.state_ints;
  char *floats = malloc(floatBytes * ranks + 1);
  int64_t *ints = malloc(sizeof(int64_t) * (intCount * ranks + 1));
  keops_rt_run_args_t args = runArgs(arrays, inputs, merged);
  int64_t begin = (int64_t)M * rank / ranks, end = (int64_t)M * (rank + 1) / ranks;
  int bad = failed(keops_rt_kernel_run_partial(kernel, &args, begin, end,
                                               floats + floatBytes * rank,
                                               ints + intCount * rank),
                   "keops_rt_kernel_run_partial");
  /* Rank 0 receives every rank's states after its own. */
  MPI_Gather(rank ? floats + floatBytes * rank : MPI_IN_PLACE, (int)floatBytes,
             MPI_BYTE, floats, (int)floatBytes, MPI_BYTE, 0, MPI_COMM_WORLD);
  MPI_Gather(rank ? ints + intCount * rank : MPI_IN_PLACE, (int)intCount,
             MPI_INT64_T, ints, (int)intCount, MPI_INT64_T, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    bad |= failed(keops_rt_kernel_merge_partials(kernel, &args, ranks, floats,
                                                 ints),
                  "keops_rt_kernel_merge_partials");
    keops_rt_run_args_t one = runArgs(arrays, inputs, whole);
    bad |= failed(keops_rt_kernel_run(kernel, &one), "keops_rt_kernel_run");
  }
  free(floats);
  free(ints);
  MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return bad;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, ranks;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  static float x[N * 3], y[M * 3], b[M], sums[N], sumsWhole[N];
  static int64_t nearest[N * 5], nearestWhole[N * 5];
  for (int k = 0; k < N * 3; ++k) x[k] = (float)((k * 37) % 101) / 101.0f;
  for (int k = 0; k < M * 3; ++k) y[k] = (float)((k * 53) % 103) / 103.0f;
  for (int k = 0; k < M; ++k) b[k] = (float)((k * 7) % 11) / 11.0f - 0.5f;
  keops_rt_array_t arrays[3] = {{x, KEOPS_RT_FLOAT32, N, 3, 0},
                                {y, KEOPS_RT_FLOAT32, M, 3, 0},
                                {b, KEOPS_RT_FLOAT32, M, 1, 0}};
  keops_rt_kernel_t *gaussian, *knn;
  int bad = failed(gaussian_sum_kernel(&gaussian), "gaussian_sum_kernel") |
            failed(nearest_kernel(&knn), "nearest_kernel");
  keops_rt_array_t out = {sums, KEOPS_RT_FLOAT32, N, 1, 0};
  keops_rt_array_t outWhole = {sumsWhole, KEOPS_RT_FLOAT32, N, 1, 0};
  keops_rt_array_t idx = {nearest, KEOPS_RT_INT64, N, 5, 0};
  keops_rt_array_t idxWhole = {nearestWhole, KEOPS_RT_INT64, N, 5, 0};
  if (!bad)
    bad = splitOverRanks(gaussian, arrays, 3, &out, &outWhole, rank, ranks) ||
          splitOverRanks(knn, arrays, 2, &idx, &idxWhole, rank, ranks);
  if (rank == 0 && !bad) {
    double err = 0, scale = 0;
    for (int i = 0; i < N; ++i) {
      err = fmax(err, fabs((double)sums[i] - sumsWhole[i]));
      scale = fmax(scale, fabs((double)sumsWhole[i]));
    }
    int mismatches = 0;
    for (int e = 0; e < N * 5; ++e)
      mismatches += nearest[e] != nearestWhole[e];
    printf("%d ranks: Gaussian sum max relative difference %.1e, "
           "%d of %d nearest-neighbour indices differ\n",
           ranks, err / scale, mismatches, N * 5);
    bad = !(err / scale < 1e-5) || mismatches;
  }
  MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Finalize();
  return bad;
}
