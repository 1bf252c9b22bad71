/* run_fake_gpu.c - Runs a GPU kernel through the runtime's C API alone, for
 * the tests of its scheduling against the fake libcuda.so.1 (whose device
 * memory is host memory and whose launches compute nothing):
 *
 *   run_fake_gpu ROWS COLS host|device DEVICE_ID STREAM dense|sparse
 *                [ROWS_PER_THREAD [RUNS]]
 *
 * reduces the rows of x (i, dim 3) over the columns of y (j, dim 3) and
 * b (j, dim 1) with a sum kernel of one float of state; STREAM is a
 * CUstream handle (0: none); "sparse" reduces rows [0, 300) over columns
 * [0, 100) and rows [300, 400) over [100, 200) and [300, 400); the kernel's
 * blocks of 256 threads compute ROWS_PER_THREAD rows each (default 1); the
 * run is done RUNS times (default 1), run n over the first ROWS / 2^n rows,
 * then the cached device memory is released.
 * Prints "ok" or the runtime's error.
 * SPDX-License-Identifier: MIT */
#include "keops/Runtime/KeOpsRuntime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc < 7 || argc > 9) {
    fprintf(stderr, "usage: %s ROWS COLS host|device DEVICE_ID STREAM "
                    "dense|sparse [ROWS_PER_THREAD [RUNS]]\n", argv[0]);
    return 2;
  }
  int32_t rowsPerThread = argc >= 8 ? atoi(argv[7]) : 1;
  int runs = argc == 9 ? atoi(argv[8]) : 1;
  int64_t rows = atoll(argv[1]), cols = atoll(argv[2]);
  const keops_rt_category_t categories[3] = {
      KEOPS_RT_CATEGORY_I, KEOPS_RT_CATEGORY_J, KEOPS_RT_CATEGORY_J};
  const int64_t dims[3] = {3, 3, 1}, outputDims[1] = {1};
  const keops_rt_dtype_t outputDtypes[1] = {KEOPS_RT_FLOAT32};
  keops_rt_kernel_desc_t desc;
  memset(&desc, 0, sizeof desc);
  desc.abi_version = KEOPS_RT_KERNEL_ABI_VERSION;
  desc.name = "fake_gaussian";
  desc.dtype = KEOPS_RT_FLOAT32;
  desc.row_category = KEOPS_RT_CATEGORY_I;
  desc.num_inputs = 3;
  desc.categories = categories;
  desc.dims = dims;
  desc.num_outputs = 1;
  desc.output_dims = outputDims;
  desc.output_dtypes = outputDtypes;
  desc.allows_empty_reduction = 1;
  desc.state_floats = 1;
  desc.state_dtype = KEOPS_RT_FLOAT32;
  desc.reduction = "sum";
  desc.target = KEOPS_RT_TARGET_GPU;
  desc.arch = "sm_90";
  desc.lanes = 1;
  desc.tile_rows = 256 * rowsPerThread;
  desc.tile_cols = 256;
  keops_rt_gpu_code_t code;
  memset(&code, 0, sizeof code);
  code.ptx = "// fake";
  code.entry = "fake_gaussian";
  code.block_size = 256;
  code.rows_per_thread = rowsPerThread;

  keops_rt_kernel_t *kernel = NULL;
  keops_rt_status_t status = keops_rt_kernel_create_gpu(&desc, &code, &kernel);
  if (!status) {
    float *x = calloc((size_t)rows * 3 + 1, sizeof(float));
    float *y = calloc((size_t)cols * 3 + 1, sizeof(float));
    float *b = calloc((size_t)cols + 1, sizeof(float));
    float *a = calloc((size_t)rows + 1, sizeof(float));
    keops_rt_array_t in[3] = {{x, KEOPS_RT_FLOAT32, rows, 3, 0},
                              {y, KEOPS_RT_FLOAT32, cols, 3, 0},
                              {b, KEOPS_RT_FLOAT32, cols, 1, 0}};
    keops_rt_array_t out[1] = {{a, KEOPS_RT_FLOAT32, rows, 1, 0}};
    const int64_t rowRanges[4] = {0, 300, 300, 400}, slices[2] = {1, 3};
    const int64_t colRanges[6] = {0, 100, 100, 200, 300, 400};
    keops_rt_run_args_t run;
    keops_rt_run_args_initialize(&run);
    run.num_inputs = 3;
    run.inputs = in;
    run.num_outputs = 1;
    run.outputs = out;
    run.memory = strcmp(argv[3], "device") == 0 ? KEOPS_RT_MEMORY_DEVICE
                                                : KEOPS_RT_MEMORY_HOST;
    run.device_id = atoi(argv[4]);
    run.stream = (void *)strtoull(argv[5], NULL, 0);
    if (strcmp(argv[6], "sparse") == 0) {
      run.num_row_ranges = 2;
      run.row_ranges = rowRanges;
      run.slices = slices;
      run.num_col_ranges = 3;
      run.col_ranges = colRanges;
    }
    for (int n = 0; n < runs && !status; ++n) {
      in[0].rows = out[0].rows = rows >> n;
      status = keops_rt_kernel_run(kernel, &run);
    }
    if (!status)
      status = keops_rt_gpu_release_memory();
    free(x);
    free(y);
    free(b);
    free(a);
    keops_rt_kernel_destroy(kernel);
  }
  if (status) {
    printf("error: %s\n", keops_rt_status_message(status));
    keops_rt_status_free(status);
    return 1;
  }
  puts("ok");
  return 0;
}
