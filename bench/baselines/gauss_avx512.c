/* gauss_avx512.c - A hand-written AVX-512 Gaussian kernel sum, the baseline
 * of bench/hand_kernel.py: a_i = sum_j exp(-|x_i - y_j|^2) b_j, D = 3,
 * float32, y and b in columns (structure of arrays, laid out once before
 * the timing), 16 columns a vector, exp by a degree-6 polynomial and
 * vscalefps, rows split over the cores with OpenMP. Prints the median run
 * time in seconds and the relative error of a_0 against float64.
 * SPDX-License-Identifier: MIT */
#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline __m512 exp512(__m512 x) {
  x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.3f)),
                    _mm512_set1_ps(-87.3f));
  __m512 k = _mm512_roundscale_ps(
      _mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, k);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 10000, m = n;
  int repeat = argc > 2 ? atoi(argv[2]) : 3;
  long mp = (m + 15) / 16 * 16;
  float *x = malloc(sizeof(float) * 3 * n), *a = malloc(sizeof(float) * n);
  float *y = aligned_alloc(64, sizeof(float) * 3 * mp);
  float *b = aligned_alloc(64, sizeof(float) * mp);
  srand(1);
  for (long i = 0; i < 3 * n; ++i)
    x[i] = rand() / (float)RAND_MAX;
  for (long j = 0; j < mp; ++j) {
    for (int d = 0; d < 3; ++d)
      y[d * mp + j] = j < m ? rand() / (float)RAND_MAX : 1e18f;
    b[j] = j < m ? rand() / (float)RAND_MAX : 0.0f;
  }
  double *times = malloc(sizeof(double) * repeat);
  for (int r = 0; r < repeat; ++r) {
    double start = now();
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; ++i) {
      __m512 x0 = _mm512_set1_ps(x[3 * i]), x1 = _mm512_set1_ps(x[3 * i + 1]),
             x2 = _mm512_set1_ps(x[3 * i + 2]);
      __m512 sum = _mm512_setzero_ps();
      for (long j = 0; j < mp; j += 16) {
        __m512 d0 = _mm512_sub_ps(x0, _mm512_load_ps(y + j));
        __m512 d1 = _mm512_sub_ps(x1, _mm512_load_ps(y + mp + j));
        __m512 d2 = _mm512_sub_ps(x2, _mm512_load_ps(y + 2 * mp + j));
        __m512 d = _mm512_fmadd_ps(d2, d2, _mm512_fmadd_ps(d1, d1, _mm512_mul_ps(d0, d0)));
        sum = _mm512_fmadd_ps(exp512(_mm512_sub_ps(_mm512_setzero_ps(), d)),
                              _mm512_load_ps(b + j), sum);
      }
      a[i] = _mm512_reduce_add_ps(sum);
    }
    times[r] = now() - start;
  }
  qsort(times, repeat, sizeof(double), compare);
  double reference = 0;
  for (long j = 0; j < m; ++j) {
    double d = 0;
    for (int k = 0; k < 3; ++k)
      d += ((double)x[k] - y[k * mp + j]) * ((double)x[k] - y[k * mp + j]);
    reference += exp(-d) * b[j];
  }
  printf("%.6f %.3g\n", times[repeat / 2], fabs(a[0] - reference) / reference);
  return 0;
}
