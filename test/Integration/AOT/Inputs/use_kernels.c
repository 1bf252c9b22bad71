/* use_kernels.c - Calls the kernels of test/Integration/AOT/Inputs/
 * kernels.json, built by keops-aot, through their generated header only, and
 * checks them against float64 brute-force references computed here.
 * Prints one line per kernel ("NAME ok" or "NAME FAIL ...") and exits with
 * status 1 when one fails. */
#include "testkernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 53, M = 71, D = 3, K = 3 };

static double x64[N * D], y64[M * D], b64[M], e64[N], p64 = 1.5;
static float x32[N * D], y32[M * D], b32[M], p32 = 1.5f;
static int failures;

static double sqdist(int i, int j) {
  double s = 0;
  for (int d = 0; d < D; ++d) {
    double t = x64[i * D + d] - y64[j * D + d];
    s += t * t;
  }
  return s;
}

/* max |got - want| / max |want| over n values. */
static double relativeError(const double *got, const double *want, int n) {
  double err = 0, scale = 0;
  for (int k = 0; k < n; ++k) {
    err = fmax(err, fabs(got[k] - want[k]));
    scale = fmax(scale, fabs(want[k]));
  }
  return err / (scale > 0 ? scale : 1);
}

static void check(const char *name, keops_rt_status_t status, double err,
                  double tolerance) {
  if (status) {
    printf("%s FAIL status: %s\n", name, keops_rt_status_message(status));
    keops_rt_status_free(status);
    ++failures;
  } else if (!(err <= tolerance)) {
    printf("%s FAIL relative error %g > %g\n", name, err, tolerance);
    ++failures;
  } else {
    printf("%s ok\n", name);
  }
}

static void fill(void) {
  unsigned s = 12345;
  for (int k = 0; k < N * D + M * D + M + N; ++k) {
    s = s * 1103515245u + 12345u;
    double v = (double)(s >> 8) / (double)(1u << 24);
    if (k < N * D) x64[k] = v;
    else if (k < N * D + M * D) y64[k - N * D] = v;
    else if (k < N * D + M * D + M) b64[k - N * D - M * D] = v - 0.5;
    else e64[k - N * D - M * D - M] = v;
  }
  /* The float32 kernels get the same values, rounded. */
  for (int k = 0; k < N * D; ++k) x64[k] = x32[k] = (float)x64[k];
  for (int k = 0; k < M * D; ++k) y64[k] = y32[k] = (float)y64[k];
  for (int k = 0; k < M; ++k) b64[k] = b32[k] = (float)b64[k];
}

static void testSums(void) {
  double want[N], got[N], grad[N * D], gotGrad[N * D];
  float got32[N];
  for (int i = 0; i < N; ++i) {
    want[i] = 0;
    for (int d = 0; d < D; ++d) grad[i * D + d] = 0;
    for (int j = 0; j < M; ++j) {
      want[i] += exp(-p64 * sqdist(i, j)) * b64[j];
      for (int d = 0; d < D; ++d)
        grad[i * D + d] += -2 * (x64[i * D + d] - y64[j * D + d]) *
                           exp(-sqdist(i, j)) * b64[j] * e64[i];
    }
  }
  keops_rt_status_t status = gauss32(N, M, x32, y32, b32, &p32, got32);
  for (int i = 0; i < N; ++i) got[i] = got32[i];
  check("gauss32", status, relativeError(got, want, N), 1e-5);
  status = gauss64(N, M, x64, y64, b64, &p64, got);
  check("gauss64", status, relativeError(got, want, N), 1e-12);
  status = grad64(N, M, x64, y64, b64, e64, gotGrad);
  check("grad64", status, relativeError(gotGrad, grad, N * D), 1e-12);
}

static void testSoftReductions(void) {
  double want[N], got[N], soft[N];
  for (int i = 0; i < N; ++i) {
    double m = -INFINITY, s = 0, w = 0;
    for (int j = 0; j < M; ++j) m = fmax(m, -sqdist(i, j));
    for (int j = 0; j < M; ++j) {
      s += exp(-sqdist(i, j) - m);
      w += exp(-sqdist(i, j) - m) * b64[j];
    }
    want[i] = m + log(s);
    soft[i] = w / s;
  }
  keops_rt_status_t status = lse64(N, M, x64, y64, got);
  check("lse64", status, relativeError(got, want, N), 1e-12);
  status = softmax64(N, M, x64, y64, b64, got);
  check("softmax64", status, relativeError(got, soft, N), 1e-12);
  for (int i = 0; i < N; ++i) {
    want[i] = -INFINITY;
    for (int j = 0; j < M; ++j) want[i] = fmax(want[i], -sqdist(i, j));
  }
  status = max64(N, M, x64, y64, got);
  check("max64", status, relativeError(got, want, N), 1e-12);
}

static void testSelections(void) {
  /* Over i (axis 1): for each j, the nearest x_i. */
  float value[M];
  int64_t index[M];
  keops_rt_status_t status = minarg_axis1(N, M, x32, y32, value, index);
  double err = 0;
  for (int j = 0; j < M && !status; ++j) {
    int best = 0;
    for (int i = 1; i < N; ++i)
      if (sqdist(i, j) < sqdist(best, j)) best = i;
    err = fmax(err, index[j] == best ? fabs(value[j] - sqdist(best, j)) : 1);
  }
  check("minarg_axis1", status, err, 1e-5);

  float kvalue[N * K];
  int64_t kindex[N * K];
  status = knn3(N, M, x32, y32, kvalue, kindex);
  err = 0;
  for (int i = 0; i < N && !status; ++i) {
    int taken[M];
    memset(taken, 0, sizeof taken);
    for (int k = 0; k < K; ++k) {
      int best = -1;
      for (int j = 0; j < M; ++j)
        if (!taken[j] && (best < 0 || sqdist(i, j) < sqdist(i, best))) best = j;
      taken[best] = 1;
      err = fmax(err, kindex[i * K + k] == best
                          ? fabs(kvalue[i * K + k] - sqdist(i, best))
                          : 1);
    }
  }
  check("knn3", status, err, 1e-5);
}

/* The handle, through the runtime's full API: x with a padded row stride. */
static void testHandle(void) {
  keops_rt_kernel_t *kernel;
  keops_rt_status_t status = gauss64_kernel(&kernel);
  if (status) {
    check("gauss64_kernel", status, 0, 0);
    return;
  }
  keops_rt_kernel_desc_t desc;
  keops_rt_kernel_describe(kernel, &desc);
  printf("gauss64 runs code for %s (%s)\n", desc.arch, desc.reduction);
  static double padded[N * 5];
  for (int i = 0; i < N; ++i)
    for (int d = 0; d < D; ++d) padded[i * 5 + d] = x64[i * D + d];
  double want[N], got[N];
  gauss64(N, M, x64, y64, b64, &p64, want);
  keops_rt_array_t in[4] = {{padded, KEOPS_RT_FLOAT64, N, D, 5},
                            {y64, KEOPS_RT_FLOAT64, M, D, 0},
                            {b64, KEOPS_RT_FLOAT64, M, 1, 0},
                            {&p64, KEOPS_RT_FLOAT64, 1, 1, 0}};
  keops_rt_array_t out[1] = {{got, KEOPS_RT_FLOAT64, N, 1, 0}};
  keops_rt_run_args_t args;
  keops_rt_run_args_initialize(&args);
  args.num_inputs = 4;
  args.inputs = in;
  args.num_outputs = 1;
  args.outputs = out;
  args.num_threads = 1;
  status = keops_rt_kernel_run(kernel, &args);
  check("gauss64_kernel", status, relativeError(got, want, N), 0);
  /* A wrong shape is a status that names the variable. */
  in[1].cols = 2;
  status = keops_rt_kernel_run(kernel, &args);
  printf("bad shape: %s\n", status ? keops_rt_status_message(status) : "none");
  keops_rt_status_free(status);
}

int main(void) {
  fill();
  testSums();
  testSoftReductions();
  testSelections();
  testHandle();
  return failures ? 1 : 0;
}
