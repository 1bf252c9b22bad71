/* gaussian.c - Calls a kernel of the library that keops_add_kernel_library
 * built from kernels.json, a_i = sum_j exp(-|x_i - y_j|^2) b_j, and checks
 * it against a float64 loop; prints the largest relative error. */
#include "gaussian.h"

#include <math.h>
#include <stdio.h>

enum { N = 1000, M = 2000 };

int main(void) {
  static float x[N * 3], y[M * 3], b[M], a[N];
  for (int k = 0; k < N * 3; ++k) x[k] = (float)((k * 37) % 101) / 101.0f;
  for (int k = 0; k < M * 3; ++k) y[k] = (float)((k * 53) % 103) / 103.0f;
  for (int k = 0; k < M; ++k) b[k] = (float)((k * 7) % 11) / 11.0f - 0.5f;
  keops_rt_status_t status = gaussian_sum(N, M, x, y, b, a);
  if (status) {
    fprintf(stderr, "gaussian_sum: %s\n", keops_rt_status_message(status));
    keops_rt_status_free(status);
    return 1;
  }
  double err = 0, scale = 0;
  for (int i = 0; i < N; ++i) {
    double want = 0;
    for (int j = 0; j < M; ++j) {
      double d = 0;
      for (int c = 0; c < 3; ++c) {
        double t = (double)x[i * 3 + c] - y[j * 3 + c];
        d += t * t;
      }
      want += exp(-d) * b[j];
    }
    err = fmax(err, fabs(a[i] - want));
    scale = fmax(scale, fabs(want));
  }
  printf("gaussian_sum: max relative error %.1e\n", err / scale);
  return err / scale < 1e-5 ? 0 : 1;
}
