/*===- KeOpsRuntime.h - C API of the KeOps-MLIR runtime ----------*- C -*-===//
 *
 * This file is licensed under the MIT License.
 * SPDX-License-Identifier: MIT
 *
 *===----------------------------------------------------------------------===//
 *
 * The runtime runs compiled kernels on host buffers. It has no MLIR or LLVM
 * dependency: a compiler (the JIT of libKeOpsCompiler, or an AOT library)
 * hands it a kernel entry point and a descriptor; the runtime checks the
 * arrays against the descriptor and runs the kernel over the output rows on
 * all cores, on the arrays as they are (no copy).
 *
 * Every call returns a keops_rt_status_t: NULL on success, otherwise an
 * object with a code and a message that the caller frees.
 *
 * Kernel ABI (CPU), version 3. A kernel computes the output rows
 * [row_begin, row_end) over the reduced columns [col_begin, col_end). It is
 * called as entry(args) ("packed" convention) where args[k] points to
 * argument k:
 *   args[0..8]   int64_t the scalars of keops_rt_kernel_arg_t (below),
 *                        the same on the CPU and the GPU
 *   args[9 + k]  int64_t               row stride of input k, then of
 *                                      output k
 *   then         keops_rt_buffer_t *   input k (in position order)
 *   then         keops_rt_buffer_t *   output k
 *   then         keops_rt_buffer_t *   the buffers of keops_rt_kernel_buffer_t:
 *                                      raw states (floats, indices),
 *                                      scratch (floats, indices), the
 *                                      staged j-tile
 * Layouts: every variable is row-major with its row stride (row r,
 * component d at r * stride + d); parameters hold their dim values;
 * outputs likewise, at the absolute row index. The scratch holds the lane
 * states of the rows between j-tiles: (row_end - row_begin) * lanes *
 * state_floats values of state_dtype and as many times state_ints int64;
 * the tile, tile_cols columns of the reduced variables (tile_cols times
 * their total dimension, of dtype), which the kernel copies there
 * component-major, one tile after the other (see desc.lanes,
 * desc.tile_cols).
 * Modes: 0 finalizes into the outputs; 1 (raw) writes each row's
 * accumulator state to slot split * slab + row of the state buffers
 * (state_floats values of state_dtype and state_ints int64 per slot);
 * 3 (resume) merges the state already in that slot first; 2 (merge) ignores
 * the columns, merges the slots s * slab + row for s in [0, splits) and
 * finalizes. The runtime uses raw states to split the columns of few rows
 * over threads and to walk the column ranges of block-sparse reductions.
 *
 * Example (error handling elided):
 *
 *   keops_rt_array_t in[3] = {{x, KEOPS_RT_FLOAT32, N, 3},
 *                             {y, KEOPS_RT_FLOAT32, M, 3},
 *                             {b, KEOPS_RT_FLOAT32, M, 1}};
 *   keops_rt_array_t out[1] = {{a, KEOPS_RT_FLOAT32, N, 1}};
 *   keops_rt_run_args_t run;
 *   keops_rt_run_args_initialize(&run);
 *   run.num_inputs = 3; run.inputs = in;
 *   run.num_outputs = 1; run.outputs = out;
 *   keops_rt_status_t status = keops_rt_kernel_run(kernel, &run);
 *   if (status) { puts(keops_rt_status_message(status));
 *                 keops_rt_status_free(status); }
 *
 *===----------------------------------------------------------------------===*/

#ifndef KEOPS_RUNTIME_KEOPSRUNTIME_H
#define KEOPS_RUNTIME_KEOPSRUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KEOPS_RT_EXPORT __attribute__((visibility("default")))

/*===----------------------------------------------------------------------===*
 * Status
 *===----------------------------------------------------------------------===*/

typedef enum {
  KEOPS_RT_OK = 0,
  KEOPS_RT_INVALID_ARGUMENT = 1, /* shapes, dtypes, counts, null pointers */
  KEOPS_RT_INTERNAL = 2,
  KEOPS_RT_NO_GPU = 3, /* no CUDA driver or device: a GPU kernel cannot run */
  KEOPS_RT_UNSUPPORTED_CPU = 4, /* code compiled for a CPU this one is not */
  KEOPS_RT_INTERRUPTED = 5, /* the caller's interrupt flag stopped the run */
} keops_rt_code_t;

typedef struct keops_rt_status_s *keops_rt_status_t; /* NULL: success */

KEOPS_RT_EXPORT keops_rt_code_t keops_rt_status_code(keops_rt_status_t status);
KEOPS_RT_EXPORT const char *keops_rt_status_message(keops_rt_status_t status);
KEOPS_RT_EXPORT void keops_rt_status_free(keops_rt_status_t status);

/*===----------------------------------------------------------------------===*
 * Kernels
 *===----------------------------------------------------------------------===*/

typedef enum {
  KEOPS_RT_FLOAT32 = 0,
  KEOPS_RT_FLOAT64 = 1,
  KEOPS_RT_INT64 = 2,
  KEOPS_RT_FLOAT16 = 3, /* GPU kernels only */
} keops_rt_dtype_t;

/* "float32", "float64", "int64", "float16" (or "unknown dtype"). */
KEOPS_RT_EXPORT const char *keops_rt_dtype_name(keops_rt_dtype_t dtype);

/* The size in bytes of one element of `dtype`. */
KEOPS_RT_EXPORT size_t keops_rt_dtype_size(keops_rt_dtype_t dtype);

typedef enum {
  KEOPS_RT_CATEGORY_I = 0,
  KEOPS_RT_CATEGORY_J = 1,
  KEOPS_RT_CATEGORY_PARAM = 2,
} keops_rt_category_t;

/* The one-dimensional memref descriptor of every kernel buffer. */
typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t size;
  int64_t stride;
} keops_rt_buffer_t;

typedef void (*keops_rt_cpu_entry_t)(void **args);

/* The `mode` argument of kernels (see the kernel ABIs). */
typedef enum {
  KEOPS_RT_MODE_FINALIZE = 0, /* reduce, finalize into the outputs */
  KEOPS_RT_MODE_RAW = 1,      /* reduce, store the raw states */
  KEOPS_RT_MODE_MERGE = 2,    /* merge the raw states of the splits, finalize */
  KEOPS_RT_MODE_RESUME = 3,   /* reduce, merge with the stored state (CPU) */
  KEOPS_RT_MODE_RANGES = 4,   /* block-sparse, from the block table (GPU) */
} keops_rt_mode_t;

/* Where a kernel runs. */
typedef enum {
  KEOPS_RT_TARGET_CPU = 0,
  KEOPS_RT_TARGET_GPU = 1, /* NVIDIA, through the CUDA driver */
} keops_rt_target_t;

/* The column index of a min, max or K-min result that no column reached
 * (every value NaN, or +inf for a min; fewer than K columns): its value is
 * +inf (-inf for a max). Raw states hold it too, so a column offset applies
 * only to indices >= 0. */
#define KEOPS_RT_NO_COLUMN (-1)

/* The version of the kernel ABI below that this runtime implements. */
#define KEOPS_RT_KERNEL_ABI_VERSION 3

/* The scalar arguments that open the argument list of every kernel, CPU and
 * GPU, by position (the compiler's conversions and the runtime both use
 * these names). */
typedef enum {
  KEOPS_RT_ARG_ROW_BEGIN = 0, /* the output rows [row_begin, row_end) */
  KEOPS_RT_ARG_ROW_END = 1,
  KEOPS_RT_ARG_COL_BEGIN = 2, /* the reduced columns [col_begin, col_end) */
  KEOPS_RT_ARG_COL_END = 3,
  KEOPS_RT_ARG_MODE = 4,      /* a keops_rt_mode_t */
  KEOPS_RT_ARG_SPLIT = 5,     /* raw, resume: the split whose slots a call
                                 uses (CPU; a GPU's is its grid's y) */
  KEOPS_RT_ARG_SPLITS = 6,    /* merge, and raw on the GPU: the number of
                                 splits */
  KEOPS_RT_ARG_SPLIT_COLUMNS = 7, /* raw on the GPU: the columns of a split
                                     (unused on the CPU) */
  KEOPS_RT_ARG_SLAB = 8,      /* split s keeps row r's state at slot
                                 s * slab + r */
  KEOPS_RT_NUM_SCALAR_ARGS = 9
} keops_rt_kernel_arg_t;

/* The buffers that follow a kernel's inputs and outputs, by position from
 * the first of them. */
typedef enum {
  KEOPS_RT_BUFFER_STATE_FLOATS = 0, /* raw states: float values */
  KEOPS_RT_BUFFER_STATE_INTS = 1,   /* and int64 indices */
  KEOPS_RT_BUFFER_SCRATCH_FLOATS = 2, /* CPU: lane states between tiles */
  KEOPS_RT_BUFFER_SCRATCH_INTS = 3,
  KEOPS_RT_BUFFER_TILE = 4,           /* CPU: the staged j-tile */
  KEOPS_RT_BUFFER_BLOCKS = 2,         /* GPU: the block-sparse block table */
  KEOPS_RT_BUFFER_COL_RANGES = 3,     /* GPU: the column ranges table */
  KEOPS_RT_NUM_CPU_BUFFERS = 5,
  KEOPS_RT_NUM_GPU_BUFFERS = 4
} keops_rt_kernel_buffer_t;

/* What a kernel computes; the runtime copies it. */
typedef struct {
  int32_t abi_version;           /* KEOPS_RT_KERNEL_ABI_VERSION */
  const char *name;              /* for messages */
  keops_rt_dtype_t dtype;        /* of every input */
  keops_rt_category_t row_category; /* I: reduces over j; J: over i */
  int32_t num_inputs;
  const keops_rt_category_t *categories;
  const int64_t *dims;
  const char *const *input_names; /* may be NULL, or hold NULL entries */
  int32_t num_outputs;
  const int64_t *output_dims;
  const keops_rt_dtype_t *output_dtypes;
  int32_t allows_empty_reduction; /* 0: reducing over 0 columns is an error */
  /* The raw accumulator state of one row (0 and 0: the kernel has no raw
   * modes). */
  int32_t state_floats;
  int32_t state_ints;
  keops_rt_dtype_t state_dtype; /* of the float values */
  /* How the kernel was compiled (the runtime reports these, see
   * keops_rt_kernel_describe; a NULL string reads as ""). */
  const char *reduction; /* the reduction kind: "sum", "argkmin", ... */
  int32_t k;             /* K of the kmin kinds, else 0 */
  keops_rt_target_t target;
  const char *arch;  /* "sm_90", or the host CPU ("x86_64 znver3") */
  int32_t lanes;     /* CPU: columns per vector (sizes the scratch); GPU: 1 */
  int32_t tile_rows; /* rows per block (GPU: threads x rows per thread) */
  int32_t tile_cols; /* columns per j-tile (staged, and of the block sum) */
} keops_rt_kernel_desc_t;

typedef struct keops_rt_kernel_s keops_rt_kernel_t;

/* Wraps a CPU entry point. `release(owner)` runs when the kernel is
 * destroyed (for example, to free the JIT engine that holds the code). */
KEOPS_RT_EXPORT keops_rt_status_t keops_rt_kernel_create_cpu(
    const keops_rt_kernel_desc_t *desc, keops_rt_cpu_entry_t entry,
    void *owner, void (*release)(void *owner), keops_rt_kernel_t **out_kernel);

/* Whether this CPU runs code compiled for `arch` (1) or not (0): the x86-64
 * microarchitecture levels "x86-64", "x86-64-v2", "x86-64-v3" and
 * "x86-64-v4" are checked against the CPU's features (and the OS's support
 * of their registers); "native" (the CPU of the machine that compiled the
 * code) is not checked; any other arch reads 0. The environment variable
 * KEOPS_RT_MAX_CPU_LEVEL (a level name) caps the level this CPU is taken to
 * run, to test or choose lower variants. */
KEOPS_RT_EXPORT int32_t keops_rt_cpu_runs(const char *arch);

/* The highest of those levels this CPU runs (as keops_rt_cpu_runs takes it,
 * KEOPS_RT_MAX_CPU_LEVEL included): "x86-64-v4", ..., "x86-64", or "native"
 * on other architectures. */
KEOPS_RT_EXPORT const char *keops_rt_cpu_level(void);

/* Kernels compiled ahead of time for several CPU levels (keops-aot): wraps
 * the entry point of the first variant (best first) whose desc.arch this CPU
 * runs (keops_rt_cpu_runs); the code is owned by the caller (a library).
 * Fails with KEOPS_RT_UNSUPPORTED_CPU, naming the levels, when it runs
 * none, so that no instruction the CPU lacks is ever executed. */
KEOPS_RT_EXPORT keops_rt_status_t keops_rt_kernel_create_cpu_variants(
    int32_t count, const keops_rt_kernel_desc_t *descs,
    const keops_rt_cpu_entry_t *entries, keops_rt_kernel_t **out_kernel);

/* GPU kernels (NVIDIA, through the CUDA driver loaded at run time).
 *
 * Kernel ABI (GPU). `entry` is a kernel of `ptx` launched with
 * ceil((row_end - row_begin) / (block_size * rows_per_thread)) x Y blocks
 * of block_size threads; thread t of block (b, y) computes the rows
 * row_begin + (b * rows_per_thread + r) * block_size + t for
 * r < rows_per_thread. Its parameters are
 *   int64_t the scalars of keops_rt_kernel_arg_t (as on the CPU)
 *   int64_t the row strides of the inputs, then of the outputs
 *   then, for every input, every output and the buffers of
 *   keops_rt_kernel_buffer_t (the two raw state buffers, floats and
 *   indices, and the two block-sparse tables), the five fields of a
 *   keops_rt_buffer_t (allocated, aligned, offset = 0, size, stride = 1)
 * and every variable is row-major with its row stride (row r, component d
 * at r * stride + d), so the arrays go to the device as they are. Modes: 0 finalizes (Y = 1);
 * 1 (raw, Y = splits) reduces over the columns
 * [col_begin + y * split_columns, ... + split_columns) and stores the state
 * at slot y * slab + row; 2 (merge, Y = 1) merges the slots of the splits
 * and finalizes; 4 (block-sparse) takes block b's rows [t[4b], t[4b+1])
 * (at most block_size * rows_per_thread of them)
 * and column ranges [t[4b+2], t[4b+3]) from the block table t (the int64
 * buffer after the states) and walks those [begin, end) pairs of the column
 * ranges table (the next one). The runtime splits the columns when the rows
 * fill few blocks. The workgroup memory it uses is static (declared in the PTX). */
typedef struct {
  const char *ptx;    /* NUL-terminated PTX text */
  const char *entry;  /* the kernel's symbol in it */
  int32_t block_size; /* threads per block */
  /* Optional (NULL, 0): the PTX assembled by ptxas for cubin_arch (sm_XY). */
  const void *cubin;
  size_t cubin_size;
  const char *cubin_arch;
  int32_t rows_per_thread; /* rows each thread computes (0 reads as 1) */
} keops_rt_gpu_code_t;

/* Copies the code; the module is loaded on each device at its first run:
 * the cubin on devices it runs on (compute capability X.Z with Z >= Y),
 * else the PTX, which the driver compiles. Fails with KEOPS_RT_NO_GPU when
 * there is no usable GPU. */
KEOPS_RT_EXPORT keops_rt_status_t
keops_rt_kernel_create_gpu(const keops_rt_kernel_desc_t *desc,
                           const keops_rt_gpu_code_t *code,
                           keops_rt_kernel_t **out_kernel);

/* GPU kernels compiled ahead of time for several architectures (keops-aot
 * --gpu-arch): wraps the variant (desc.arch "sm_XY", with its code) of the
 * highest architecture that GPU 0 runs (compute capability >= XY). Fails
 * with KEOPS_RT_NO_GPU when there is no usable GPU (no driver or no device),
 * so that a caller can fall back to CPU variants, and with an error naming
 * the architectures when GPU 0 is older than all of them. */
KEOPS_RT_EXPORT keops_rt_status_t keops_rt_kernel_create_gpu_variants(
    int32_t count, const keops_rt_kernel_desc_t *descs,
    const keops_rt_gpu_code_t *codes, keops_rt_kernel_t **out_kernel);

KEOPS_RT_EXPORT void keops_rt_kernel_destroy(keops_rt_kernel_t *kernel);

/* The descriptor of `kernel` (for a GPU kernel: target GPU). Its pointers
 * stay valid while the kernel lives. */
KEOPS_RT_EXPORT void keops_rt_kernel_describe(const keops_rt_kernel_t *kernel,
                                              keops_rt_kernel_desc_t *desc);

/* The number of CUDA devices; KEOPS_RT_NO_GPU (with the reason: no driver,
 * the toolkit's stub library, no device) when there is none. */
KEOPS_RT_EXPORT keops_rt_status_t keops_rt_gpu_device_count(int32_t *count);

/* The name (NUL-terminated, truncated to name_size) and compute capability
 * of a CUDA device. */
KEOPS_RT_EXPORT keops_rt_status_t keops_rt_gpu_device_info(
    int32_t device, char *name, int32_t name_size, int32_t *major,
    int32_t *minor);

/* Frees the device memory that finished GPU runs left for the next ones (a
 * cache of up to 1 GiB per device, which spares small runs cuMemAlloc and
 * cuMemFree); later runs allocate again. KEOPS_RT_NO_GPU without a GPU. */
KEOPS_RT_EXPORT keops_rt_status_t keops_rt_gpu_release_memory(void);

/*===----------------------------------------------------------------------===*
 * Running
 *===----------------------------------------------------------------------===*/

/* A row-major array: rows x cols (parameters: 1 x dim), element (r, c) at
 * data[r * row_stride + c]. */
typedef struct {
  void *data;
  keops_rt_dtype_t dtype;
  int64_t rows;
  int64_t cols;
  int64_t row_stride; /* elements from a row to the next; 0: cols */
} keops_rt_array_t;

typedef enum {
  KEOPS_RT_MEMORY_HOST = 0,   /* data pointers are host memory */
  KEOPS_RT_MEMORY_DEVICE = 1, /* CUDA device pointers (GPU kernels only) */
} keops_rt_memory_t;

typedef struct {
  int32_t num_inputs;
  const keops_rt_array_t *inputs;
  int32_t num_outputs;
  const keops_rt_array_t *outputs;
  /* Rows of the i and j axes; -1 (default): from the inputs, 1 when no
   * input has that category. */
  int64_t rows_i;
  int64_t rows_j;
  /* Threads; 0 (default): one per core the process may run on (its CPU
   * affinity). */
  int32_t num_threads;
  /* Block-sparse reduction (optional; row_ranges = NULL, the default, is
   * dense). Cluster c covers the output rows [row_ranges[2c],
   * row_ranges[2c+1]) and reduces them over the column ranges
   * [col_ranges[2r], col_ranges[2r+1]) for r in [c ? slices[c-1] : 0,
   * slices[c]): the (ranges_i, slices_i, redranges_j) of pykeops when
   * reducing over j, (ranges_j, slices_j, redranges_i) over i. Clusters must
   * not overlap; rows outside every cluster, and clusters without columns,
   * get the value of an empty reduction (0 for sums and indices, +inf for
   * min, -inf for max and logsumexp). Index outputs hold absolute column
   * indices. */
  int64_t num_row_ranges;
  const int64_t *row_ranges; /* 2 * num_row_ranges */
  const int64_t *slices;     /* num_row_ranges */
  int64_t num_col_ranges;
  const int64_t *col_ranges; /* 2 * num_col_ranges */
  /* GPU kernels: where the arrays live, and the device (-1, the default:
   * host arrays split their rows over every device, device arrays are on
   * device 0). */
  keops_rt_memory_t memory;
  int32_t device_id;
  /* GPU kernels on device arrays: the CUstream the launches go on, after
   * the work already queued there (a torch tensor's current stream); NULL
   * (the default): the legacy default stream. The run returns when they are
   * done. Host arrays take no stream. */
  void *stream;
  /* CPU kernels: a flag the run reads between its pieces of work (blocks of
   * rows, a few thousand at most, over their columns); once it is nonzero,
   * no new piece starts and the run returns KEOPS_RT_INTERRUPTED, the
   * outputs partly written. Another thread (a signal handler's) sets it to
   * stop a long run. NULL (the default): never. */
  const volatile int32_t *interrupt;
} keops_rt_run_args_t;

KEOPS_RT_EXPORT void keops_rt_run_args_initialize(keops_rt_run_args_t *args);

/* Checks the arrays against the kernel and computes the outputs. */
KEOPS_RT_EXPORT keops_rt_status_t
keops_rt_kernel_run(const keops_rt_kernel_t *kernel,
                    const keops_rt_run_args_t *args);

/* Partial reductions, for engines that split the reduced axis themselves
 * (MPI ranks, ...). A partial is the raw accumulator state of every output
 * row over some of the columns: state_floats values of state_dtype, then
 * state_ints int64, per row (the descriptor's layout), row r at
 * floats[r * state_floats] and ints[r * state_ints].
 *
 * keops_rt_kernel_run_partial reduces the rows of `args` over the columns
 * [col_begin, col_end) of the reduced axis (CPU kernels, dense: no ranges)
 * into the partial (floats, ints); the outputs of `args` are not written
 * (but checked: they give the rows). keops_rt_kernel_merge_partials merges
 * `count` partials of the same rows, laid one after the other (partial p of
 * row r at floats[(p * rows + r) * state_floats], likewise for ints), and
 * writes the outputs of `args` as one run over all the partials' columns
 * would (ties to the smaller column, as the partials' columns are global);
 * its inputs give the shapes only. */
KEOPS_RT_EXPORT keops_rt_status_t keops_rt_kernel_run_partial(
    const keops_rt_kernel_t *kernel, const keops_rt_run_args_t *args,
    int64_t col_begin, int64_t col_end, void *floats, int64_t *ints);
KEOPS_RT_EXPORT keops_rt_status_t keops_rt_kernel_merge_partials(
    const keops_rt_kernel_t *kernel, const keops_rt_run_args_t *args,
    int32_t count, const void *floats, const int64_t *ints);

/*===----------------------------------------------------------------------===*
 * Calls from compiled MLIR modules
 *===----------------------------------------------------------------------===*/

/* A module lowered by the keops-lower-to-llvm pipeline runs each reduction
 * with three calls (mlir-runner and other JITs resolve them from
 * libKeOpsRuntime.so):
 *   call = keops_rt_mlir_begin(&desc, entry);
 *   keops_rt_mlir_arg_f32(call, memref)   (_f64, _i64: each input, then
 *                                          each output, in order)
 *   keops_rt_mlir_end(call);              (runs the kernel)
 * desc and entry are the kernel's descriptor and packed entry point, which
 * the module holds; the kernel is created at its first call and kept. The
 * arrays come as MLIR unranked memrefs (through the C interface): rank 2
 * for variables and outputs (rows x dim, unit column stride), rank 1 for
 * parameters. A module has no other way to learn of a failure: it prints
 * "keops: " and the message on stderr and aborts. */
typedef struct {
  int64_t rank;
  void *descriptor; /* allocated, aligned, offset, sizes[rank], strides[rank] */
} keops_rt_unranked_memref_t;

typedef struct keops_rt_mlir_call_s keops_rt_mlir_call_t;

KEOPS_RT_EXPORT keops_rt_mlir_call_t *
keops_rt_mlir_begin(const keops_rt_kernel_desc_t *desc,
                    keops_rt_cpu_entry_t entry);
KEOPS_RT_EXPORT void
_mlir_ciface_keops_rt_mlir_arg_f32(keops_rt_mlir_call_t *call,
                                   const keops_rt_unranked_memref_t *array);
KEOPS_RT_EXPORT void
_mlir_ciface_keops_rt_mlir_arg_f64(keops_rt_mlir_call_t *call,
                                   const keops_rt_unranked_memref_t *array);
KEOPS_RT_EXPORT void
_mlir_ciface_keops_rt_mlir_arg_i64(keops_rt_mlir_call_t *call,
                                   const keops_rt_unranked_memref_t *array);
KEOPS_RT_EXPORT void keops_rt_mlir_end(keops_rt_mlir_call_t *call);

#ifdef __cplusplus
}
#endif

#endif /* KEOPS_RUNTIME_KEOPSRUNTIME_H */
