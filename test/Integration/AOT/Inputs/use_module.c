/* use_module.c - Calls the kernels that keops-aot --module made of
 * Inputs/host.mlir (gauss, and shifted_min_keops_0 outlined from
 * shifted_min, whose constant became a parameter of the kernel) and checks
 * them against float64 loops. */
#include "hostlib.h"

#include <math.h>
#include <stdio.h>

enum { N = 29, M = 41 };

int main(void) {
  static double x[N * 3], y[M * 3], g[N];
  static float xf[N * 3], yf[M * 3], m[N];
  for (int k = 0; k < N * 3; ++k) xf[k] = (float)(x[k] = ((k * 37) % 101) / 101.0);
  for (int k = 0; k < M * 3; ++k) yf[k] = (float)(y[k] = ((k * 53) % 103) / 103.0);
  float two[3] = {2, 2, 2};
  keops_rt_status_t status = gauss(N, M, x, y, g);
  if (!status)
    status = shifted_min_keops_0(N, M, xf, yf, two, m);
  if (status) {
    printf("FAIL %s\n", keops_rt_status_message(status));
    return 1;
  }
  double gerr = 0, merr = 0;
  for (int i = 0; i < N; ++i) {
    double want = 0, best = INFINITY;
    for (int j = 0; j < M; ++j) {
      double d = 0, s = 0;
      for (int c = 0; c < 3; ++c) {
        d += (x[i * 3 + c] - y[j * 3 + c]) * (x[i * 3 + c] - y[j * 3 + c]);
        s += (x[i * 3 + c] - y[j * 3 + c] - 2) * (x[i * 3 + c] - y[j * 3 + c] - 2);
      }
      want += exp(-d);
      best = fmin(best, s);
    }
    gerr = fmax(gerr, fabs(g[i] - want) / want);
    merr = fmax(merr, fabs(m[i] - best) / best);
  }
  printf("gauss %s\nshifted_min %s\n", gerr < 1e-12 ? "ok" : "FAIL",
         merr < 1e-5 ? "ok" : "FAIL");
  return gerr < 1e-12 && merr < 1e-5 ? 0 : 1;
}
