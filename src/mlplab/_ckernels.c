/* Optional compiled kernels for mlplab (see _kernels.py, which calls them).
 *
 * Plain C on the buffer protocol: no NumPy headers, nothing to link. Each kernel performs the
 * same float operations in the same order as the NumPy code it replaces (compiled without
 * fast-math and without contraction into fused multiply-adds), so the updates give the same
 * weights bit for bit; the tests check this. Arrays must be C-contiguous, of one float type
 * (float32 "f" or float64 "d"); anything else raises TypeError and the caller runs NumPy.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* The update loops are compiled three times, for AVX-512, for AVX2 and for any x86-64 CPU, and
 * the loader picks one (GCC's function multiversioning); elsewhere they are compiled once. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MULTIVERSION
#endif

typedef struct {
    Py_buffer view;
    int held;
} buf_t;

static int kind_of(const Py_buffer *v) {
    const char *f = v->format ? v->format : "B";
    if (*f == '@' || *f == '=' || *f == '<') f++;
    if (f[0] == 'f' && f[1] == 0 && v->itemsize == 4) return 1;
    if (f[0] == 'd' && f[1] == 0 && v->itemsize == 8) return 2;
    return 0;
}

/* Get a C-contiguous float buffer; kind: 1 float32, 2 float64, 0 any of them. */
static int get(PyObject *obj, buf_t *b, int writable, int *kind) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &b->view, flags) < 0) {
        PyErr_Clear();
        PyErr_SetString(PyExc_TypeError, "expected a C-contiguous float32 or float64 array");
        return -1;
    }
    b->held = 1;
    int k = kind_of(&b->view);
    if (k == 0 || (*kind && k != *kind)) {
        PyErr_SetString(PyExc_TypeError, "arrays must be all float32 or all float64");
        return -1;
    }
    *kind = k;
    return 0;
}

static void release(buf_t *bufs, int n) {
    for (int i = 0; i < n; i++)
        if (bufs[i].held) {
            PyBuffer_Release(&bufs[i].view);
            bufs[i].held = 0;
        }
}

static Py_ssize_t count(const buf_t *b, int kind) {
    return b->view.len / (kind == 1 ? 4 : 8);
}

static int check_args(Py_ssize_t n, Py_ssize_t want, const char *name) {
    if (n != want) {
        PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments (%zd given)", name, want, n);
        return -1;
    }
    return 0;
}

static int same_count(const buf_t *bufs, int n, int kind) {
    for (int i = 1; i < n; i++)
        if (count(&bufs[i], kind) != count(&bufs[0], kind)) {
            PyErr_SetString(PyExc_TypeError, "arrays must have the same number of elements");
            return -1;
        }
    return 0;
}

/* Get n arrays of one float type and one element count (an elementwise kernel's arguments);
 * writable: a string of n '0'/'1', which of them the kernel writes. On failure all are released. */
static int get_same(PyObject *const *args, buf_t *bufs, int n, const char *writable, int *kind) {
    for (int i = 0; i < n; i++)
        if (get(args[i], &bufs[i], writable[i] == '1', kind) < 0) {
            release(bufs, n);
            return -1;
        }
    if (same_count(bufs, n, *kind) < 0) {
        release(bufs, n);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- sgd(param, grad, lr) */
#define SGD_LOOP(T)                                                        \
    {                                                                      \
        T *w = (T *)bufs[0].view.buf;                                      \
        const T *g = (const T *)bufs[1].view.buf;                          \
        const T a = (T)lr;                                                 \
        for (Py_ssize_t i = 0; i < n; i++) w[i] -= a * g[i];               \
    }

MULTIVERSION static PyObject *sgd(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    buf_t bufs[2];
    memset(bufs, 0, sizeof bufs);
    int kind = 0;
    if (check_args(nargs, 3, "sgd") < 0) return NULL;
    double lr = PyFloat_AsDouble(args[2]);
    if (lr == -1.0 && PyErr_Occurred()) return NULL;
    if (get_same(args, bufs, 2, "10", &kind) < 0) return NULL;
    Py_ssize_t n = count(&bufs[0], kind);
    if (kind == 1) SGD_LOOP(float) else SGD_LOOP(double)
    release(bufs, 2);
    Py_RETURN_NONE;
}

/* ------------------------------------------------- sgd_outer(W, a, b, lr): W -= lr (a^T b) */
#define OUTER_LOOP(T)                                                      \
    {                                                                      \
        T *w = (T *)bufs[0].view.buf;                                      \
        const T *x = (const T *)bufs[1].view.buf;                          \
        const T *d = (const T *)bufs[2].view.buf;                          \
        const T a = (T)lr;                                                 \
        for (Py_ssize_t i = 0; i < m; i++) {                               \
            const T xi = x[i];                                             \
            T *row = w + i * n;                                            \
            for (Py_ssize_t j = 0; j < n; j++) row[j] -= a * (xi * d[j]);  \
        }                                                                  \
    }

MULTIVERSION static PyObject *sgd_outer(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    buf_t bufs[3];
    memset(bufs, 0, sizeof bufs);
    int kind = 0;
    if (check_args(nargs, 4, "sgd_outer") < 0) return NULL;
    double lr = PyFloat_AsDouble(args[3]);
    if (lr == -1.0 && PyErr_Occurred()) return NULL;
    if (get(args[0], &bufs[0], 1, &kind) < 0 || get(args[1], &bufs[1], 0, &kind) < 0 ||
        get(args[2], &bufs[2], 0, &kind) < 0) {
        release(bufs, 3);
        return NULL;
    }
    Py_ssize_t m = count(&bufs[1], kind), n = count(&bufs[2], kind);
    if (m * n != count(&bufs[0], kind)) {
        release(bufs, 3);
        PyErr_SetString(PyExc_TypeError, "W must have len(a) * len(b) elements");
        return NULL;
    }
    if (kind == 1) OUTER_LOOP(float) else OUTER_LOOP(double)
    release(bufs, 3);
    Py_RETURN_NONE;
}

/* ------------------------------- adam(param, grad, m, v, 1-beta_1, 1-beta_2, eps, alpha_t)
 * m += (1 - beta_1)(g - m); v += (1 - beta_2)(g^2 - v); w -= alpha_t m / (sqrt(v) + eps);
 * an m below the smallest normal float becomes 0 (see _kernels.adam_step). */
#define ADAM_LOOP(T, TINY, SQRT, ABS)                                      \
    {                                                                      \
        T *w = (T *)bufs[0].view.buf;                                      \
        const T *g = (const T *)bufs[1].view.buf;                          \
        T *m = (T *)bufs[2].view.buf;                                      \
        T *v = (T *)bufs[3].view.buf;                                      \
        const T c1 = (T)b1, c2 = (T)b2, e = (T)eps, a = (T)alpha;          \
        for (Py_ssize_t i = 0; i < n; i++) {                               \
            const T gi = g[i];                                             \
            T mi = m[i] + c1 * (gi - m[i]);                                \
            const T vi = v[i] + c2 * (gi * gi - v[i]);                     \
            mi *= (T)(ABS(mi) >= TINY); /* branch-free: vectorizes */      \
            m[i] = mi;                                                     \
            v[i] = vi;                                                     \
            w[i] -= a * (mi / (SQRT(vi) + e));                             \
        }                                                                  \
    }

MULTIVERSION static PyObject *adam(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    buf_t bufs[4];
    memset(bufs, 0, sizeof bufs);
    int kind = 0;
    if (check_args(nargs, 8, "adam") < 0) return NULL;
    double b1 = PyFloat_AsDouble(args[4]), b2 = PyFloat_AsDouble(args[5]);
    double eps = PyFloat_AsDouble(args[6]), alpha = PyFloat_AsDouble(args[7]);
    if (PyErr_Occurred()) return NULL;
    if (get_same(args, bufs, 4, "1011", &kind) < 0) return NULL;
    Py_ssize_t n = count(&bufs[0], kind);
    if (kind == 1) ADAM_LOOP(float, FLT_MIN, sqrtf, fabsf)
    else ADAM_LOOP(double, DBL_MIN, sqrt, fabs)
    release(bufs, 4);
    Py_RETURN_NONE;
}

/* y = softmax(x) of one row of k entries, the row maximum subtracted first (y may be x). */
#define SOFTMAX_ROW(T, EXP, x, y, k)                                       \
    {                                                                      \
        T mx = (x)[0], sum = 0;                                            \
        for (Py_ssize_t j = 1; j < (k); j++) mx = (x)[j] > mx ? (x)[j] : mx; \
        for (Py_ssize_t j = 0; j < (k); j++) sum += ((y)[j] = EXP((x)[j] - mx)); \
        for (Py_ssize_t j = 0; j < (k); j++) (y)[j] /= sum;                \
    }

/* ------------------------------------------ forward(x, out, scratch, layers) -> bool
 * The forward pass of a stack of dense layers for a few samples (predict's small calls):
 * Y_l = f_l(Y_{l-1} W_l + b_l). layers is a tuple of (W, b or None, code, parameter); codes:
 * 0 linear, 1 sigmoid(parameter * xi), 2 tanh(parameter * xi), 3 relu, 4 softmax (rows).
 * scratch holds two (n, widest hidden layer) work areas. Returns False, computing nothing,
 * when x holds a NaN or an infinity (the caller then raises its usual error). */
enum { ACT_LINEAR, ACT_SIGMOID, ACT_TANH, ACT_RELU, ACT_SOFTMAX };

#define FORWARD_IMPL(T, EXP, TANH, SUFFIX)                                                    \
    static void forward_##SUFFIX(const T *x, Py_ssize_t n, Py_ssize_t k0, T *out, T *scratch, \
                                 Py_ssize_t half, buf_t *wb, const int *codes,               \
                                 const double *params, const int *has_bias, int L) {         \
        const T *in = x;                                                                      \
        Py_ssize_t k = k0;                                                                    \
        for (int l = 0; l < L; l++) {                                                         \
            const T *W = (const T *)wb[2 * l].view.buf;                                       \
            const T *b = has_bias[l] ? (const T *)wb[2 * l + 1].view.buf : NULL;              \
            const Py_ssize_t u = wb[2 * l].view.shape[1];                                     \
            T *y = (l == L - 1) ? out : scratch + (l % 2) * half;                             \
            const T s = (T)params[l];                                                         \
            for (Py_ssize_t i = 0; i < n; i++) {                                              \
                T *row = y + i * u;                                                           \
                const T *xr = in + i * k;                                                     \
                for (Py_ssize_t j = 0; j < u; j++) row[j] = b ? b[j] : (T)0;                  \
                for (Py_ssize_t p = 0; p < k; p++) {                                          \
                    const T xp = xr[p];                                                       \
                    const T *wr = W + p * u;                                                  \
                    for (Py_ssize_t j = 0; j < u; j++) row[j] += xp * wr[j];                  \
                }                                                                             \
                switch (codes[l]) {                                                           \
                case ACT_SIGMOID:                                                             \
                    for (Py_ssize_t j = 0; j < u; j++) {                                      \
                        const T z = s * row[j];                                               \
                        if (z >= 0) row[j] = (T)1 / ((T)1 + EXP(-z));                         \
                        else { const T e = EXP(z); row[j] = e / ((T)1 + e); }                 \
                    }                                                                         \
                    break;                                                                    \
                case ACT_TANH:                                                                \
                    for (Py_ssize_t j = 0; j < u; j++) row[j] = TANH(s * row[j]);             \
                    break;                                                                    \
                case ACT_RELU:                                                                \
                    for (Py_ssize_t j = 0; j < u; j++) row[j] = row[j] > 0 ? row[j] : (T)0;   \
                    break;                                                                    \
                case ACT_SOFTMAX:                                                             \
                    SOFTMAX_ROW(T, EXP, row, row, u)                                          \
                    break;                                                                    \
                default:                                                                      \
                    break;                                                                    \
                }                                                                             \
            }                                                                                 \
            in = y;                                                                           \
            k = u;                                                                            \
        }                                                                                     \
    }

FORWARD_IMPL(float, expf, tanhf, f32)
FORWARD_IMPL(double, exp, tanh, f64)

#define MAX_LAYERS 16

static PyObject *forward(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    buf_t io[3];
    memset(io, 0, sizeof io);
    buf_t wb[2 * MAX_LAYERS];
    memset(wb, 0, sizeof wb);
    int codes[MAX_LAYERS], has_bias[MAX_LAYERS];
    double params[MAX_LAYERS];
    int kind = 0, L = 0;
    PyObject *result = NULL;
    if (check_args(nargs, 4, "forward") < 0) return NULL;
    PyObject *layers = args[3];
    if (!PyTuple_Check(layers) || PyTuple_GET_SIZE(layers) < 1 ||
        PyTuple_GET_SIZE(layers) > MAX_LAYERS) {
        PyErr_SetString(PyExc_TypeError, "layers must be a tuple of 1 to 16 layer tuples");
        return NULL;
    }
    L = (int)PyTuple_GET_SIZE(layers);
    if (get(args[0], &io[0], 0, &kind) < 0 || get(args[1], &io[1], 1, &kind) < 0 ||
        get(args[2], &io[2], 1, &kind) < 0)
        goto done;
    if (io[0].view.ndim != 2 || io[1].view.ndim != 2) {
        PyErr_SetString(PyExc_TypeError, "x and out must be 2-D");
        goto done;
    }
    Py_ssize_t n = io[0].view.shape[0], k = io[0].view.shape[1], widest = 0;
    for (int l = 0; l < L; l++) {
        PyObject *t = PyTuple_GET_ITEM(layers, l);
        if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 4) {
            PyErr_SetString(PyExc_TypeError, "each layer is a tuple (W, b, code, parameter)");
            goto done;
        }
        if (get(PyTuple_GET_ITEM(t, 0), &wb[2 * l], 0, &kind) < 0) goto done;
        has_bias[l] = PyTuple_GET_ITEM(t, 1) != Py_None;
        if (has_bias[l] && get(PyTuple_GET_ITEM(t, 1), &wb[2 * l + 1], 0, &kind) < 0) goto done;
        codes[l] = (int)PyLong_AsLong(PyTuple_GET_ITEM(t, 2));
        params[l] = PyFloat_AsDouble(PyTuple_GET_ITEM(t, 3));
        if (PyErr_Occurred()) goto done;
        const Py_buffer *W = &wb[2 * l].view;
        if (W->ndim != 2 || W->shape[0] != k || codes[l] < 0 || codes[l] > ACT_SOFTMAX ||
            (has_bias[l] && wb[2 * l + 1].view.len != W->shape[1] * W->itemsize)) {
            PyErr_SetString(PyExc_TypeError, "layer shapes do not chain");
            goto done;
        }
        k = W->shape[1];
        if (l < L - 1 && k > widest) widest = k;
    }
    if (io[1].view.shape[0] != n || io[1].view.shape[1] != k ||
        count(&io[2], kind) < 2 * n * widest) {
        PyErr_SetString(PyExc_TypeError, "out or scratch has the wrong size");
        goto done;
    }
    Py_ssize_t total = n * io[0].view.shape[1];
    int finite = 1;
    if (kind == 1) {
        const float *x = (const float *)io[0].view.buf;
        for (Py_ssize_t i = 0; i < total; i++) finite &= isfinite(x[i]) != 0;
        if (finite)
            forward_f32(x, n, io[0].view.shape[1], (float *)io[1].view.buf,
                        (float *)io[2].view.buf, n * widest, wb, codes, params, has_bias, L);
    } else {
        const double *x = (const double *)io[0].view.buf;
        for (Py_ssize_t i = 0; i < total; i++) finite &= isfinite(x[i]) != 0;
        if (finite)
            forward_f64(x, n, io[0].view.shape[1], (double *)io[1].view.buf,
                        (double *)io[2].view.buf, n * widest, wb, codes, params, has_bias, L);
    }
    result = PyBool_FromLong(finite);
done:
    release(io, 3);
    release(wb, 2 * MAX_LAYERS);
    return result;
}

/* ----------------------------------------- sigmoid_f32(xi, out, slope): float32 training
 * out = 1 / (1 + e^(-slope xi)) with an exp that the compiler vectorizes: e^t = 2^k e^r,
 * k = round(t / ln 2), r = t - k ln 2 in two parts (Cody-Waite), e^r by Cephes' expf
 * polynomial; within a few ulp of the exact sigmoid (tested against float64). t is clamped
 * to [-87, 88]: beyond, the sigmoid is 1 to float32 precision, or below 1.7e-38 and returned as
 * 0 (NumPy returns the same there, or a subnormal number; no subnormal leaves this kernel). */
static inline float exp_clamped(float t) {
    t = t < -87.0f ? -87.0f : (t > 88.0f ? 88.0f : t);
    const float k = floorf(t * 1.44269504088896341f + 0.5f);
    float r = t - k * 0.693359375f;
    r = r - k * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    const int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

MULTIVERSION static PyObject *sigmoid_f32(PyObject *self, PyObject *const *args,
                                          Py_ssize_t nargs) {
    buf_t bufs[2];
    memset(bufs, 0, sizeof bufs);
    int kind = 1;
    if (check_args(nargs, 3, "sigmoid_f32") < 0) return NULL;
    const float slope = (float)PyFloat_AsDouble(args[2]);
    if (PyErr_Occurred()) return NULL;
    if (get_same(args, bufs, 2, "01", &kind) < 0) return NULL;
    const float *x = (const float *)bufs[0].view.buf;
    float *y = (float *)bufs[1].view.buf;
    const Py_ssize_t n = count(&bufs[0], kind);
    for (Py_ssize_t i = 0; i < n; i++) {
        const float t = -slope * x[i];
        const float s = 1.0f / (1.0f + exp_clamped(t));
        y[i] = t > 87.0f ? 0.0f : s;
    }
    release(bufs, 2);
    Py_RETURN_NONE;
}

/* --------------------------------------------------------------------- relu(xi, out)
 * out = max(xi, 0) as NumPy's maximum gives it: NaN stays NaN, -0 becomes +0. */
#define RELU_LOOP(T)                                                       \
    {                                                                      \
        const T *x = (const T *)bufs[0].view.buf;                          \
        T *y = (T *)bufs[1].view.buf;                                      \
        for (Py_ssize_t i = 0; i < n; i++) y[i] = x[i] <= 0 ? (T)0 : x[i]; \
    }

MULTIVERSION static PyObject *relu(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    buf_t bufs[2];
    memset(bufs, 0, sizeof bufs);
    int kind = 0;
    if (check_args(nargs, 2, "relu") < 0) return NULL;
    if (get_same(args, bufs, 2, "01", &kind) < 0) return NULL;
    const Py_ssize_t n = count(&bufs[0], kind);
    if (kind == 1) RELU_LOOP(float) else RELU_LOOP(double)
    release(bufs, 2);
    Py_RETURN_NONE;
}

/* ------------------------------------------------- delta(code, a, dY, out, slope)
 * delta = f'(xi) * dE/dY in one pass, in NumPy's order of operations:
 * relu (a = Xi): 1[xi > 0] * dY;  sigmoid (a = Y): ((1 - Y) * Y [* slope]) * dY. */
#define ACT_DELTA_LOOP(T)                                                  \
    {                                                                      \
        const T *a = (const T *)bufs[0].view.buf;                          \
        const T *d = (const T *)bufs[1].view.buf;                          \
        T *o = (T *)bufs[2].view.buf;                                      \
        const T s = (T)slope;                                              \
        if (code == ACT_RELU)                                              \
            for (Py_ssize_t i = 0; i < n; i++) o[i] = (T)(a[i] > 0) * d[i]; \
        else if (slope == 1.0)                                             \
            for (Py_ssize_t i = 0; i < n; i++) o[i] = (((T)1 - a[i]) * a[i]) * d[i]; \
        else                                                               \
            for (Py_ssize_t i = 0; i < n; i++)                             \
                o[i] = ((((T)1 - a[i]) * a[i]) * s) * d[i];                \
    }

MULTIVERSION static PyObject *delta(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    buf_t bufs[3];
    memset(bufs, 0, sizeof bufs);
    int kind = 0;
    if (check_args(nargs, 5, "delta") < 0) return NULL;
    const long code = PyLong_AsLong(args[0]);
    const double slope = PyFloat_AsDouble(args[4]);
    if (PyErr_Occurred()) return NULL;
    if (code != ACT_RELU && code != ACT_SIGMOID) {
        PyErr_SetString(PyExc_TypeError, "delta() takes the relu or the sigmoid code");
        return NULL;
    }
    if (get_same(args + 1, bufs, 3, "001", &kind) < 0) return NULL;
    const Py_ssize_t n = count(&bufs[0], kind);
    if (kind == 1) ACT_DELTA_LOOP(float) else ACT_DELTA_LOOP(double)
    release(bufs, 3);
    Py_RETURN_NONE;
}

/* ---------------------------------------------- the softmax output layer's row operations */
/* Get n labels in [0, k): a C-contiguous buffer of int64 (NumPy's intp on 64-bit Linux). */
static int get_labels(PyObject *obj, buf_t *b, Py_ssize_t n, Py_ssize_t k) {
    if (PyObject_GetBuffer(obj, &b->view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyErr_Clear();
        PyErr_SetString(PyExc_TypeError, "labels must be a C-contiguous integer array");
        return -1;
    }
    b->held = 1;
    const char *f = b->view.format ? b->view.format : "B";
    if (*f == '@' || *f == '=' || *f == '<') f++;
    if (!((f[0] == 'l' || f[0] == 'q') && f[1] == 0 && b->view.itemsize == 8) ||
        b->view.len / 8 != n) {
        PyErr_SetString(PyExc_TypeError, "labels must be int64, one per row");
        return -1;
    }
    const int64_t *d = (const int64_t *)b->view.buf;
    for (Py_ssize_t i = 0; i < n; i++)
        if (d[i] < 0 || d[i] >= k) {
            PyErr_Format(PyExc_IndexError, "label %lld out of range for %zd classes",
                         (long long)d[i], k);
            return -1;
        }
    return 0;
}

/* The arguments of the row kernels: rows (n, k), k >= 1, read-only in bufs[0]; out, writable,
 * in bufs[1], with n k entries (out_full) or n; and, unless labels is NULL, n labels in [0, k)
 * in bufs[2]. Returns k, or -1 with an exception set. */
static Py_ssize_t get_rows(PyObject *rows, PyObject *out, PyObject *labels, int out_full,
                           buf_t *bufs, int *kind) {
    if (get(rows, &bufs[0], 0, kind) < 0 || get(out, &bufs[1], 1, kind) < 0) return -1;
    const Py_buffer *r = &bufs[0].view;
    if (r->ndim != 2 || r->shape[1] < 1 ||
        count(&bufs[1], *kind) != r->shape[0] * (out_full ? r->shape[1] : 1)) {
        PyErr_SetString(PyExc_TypeError, "rows must be (n, k) with k >= 1, out (n, k) or (n,)");
        return -1;
    }
    if (labels && get_labels(labels, &bufs[2], r->shape[0], r->shape[1]) < 0) return -1;
    return r->shape[1];
}

/* softmax(xi, out): out_k = e^(xi_k - max_j xi_j) / sum_j e^(xi_j - max) per row. */
#define SOFTMAX_LOOP(T, EXP)                                               \
    {                                                                      \
        const T *x = (const T *)bufs[0].view.buf;                          \
        T *y = (T *)bufs[1].view.buf;                                      \
        for (Py_ssize_t i = 0; i < n; i++, x += k, y += k)                 \
            SOFTMAX_ROW(T, EXP, x, y, k)                                   \
    }

static PyObject *softmax(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    buf_t bufs[2];
    memset(bufs, 0, sizeof bufs);
    int kind = 0;
    if (check_args(nargs, 2, "softmax") < 0) return NULL;
    Py_ssize_t k = get_rows(args[0], args[1], NULL, 1, bufs, &kind);
    if (k < 0) {
        release(bufs, 2);
        return NULL;
    }
    Py_ssize_t n = bufs[0].view.shape[0];
    if (kind == 1) SOFTMAX_LOOP(float, expf) else SOFTMAX_LOOP(double, exp)
    release(bufs, 2);
    Py_RETURN_NONE;
}

/* sparse_ce(xi, labels, e): e_p = log sum_j e^(xi_pj - m_p) - (xi_p,d_p - m_p), m_p the row max. */
#define SPARSE_CE_LOOP(T, EXP, LOG)                                         \
    {                                                                      \
        const T *x = (const T *)bufs[0].view.buf;                          \
        T *e = (T *)bufs[1].view.buf;                                      \
        for (Py_ssize_t i = 0; i < n; i++, x += k) {                       \
            T mx = x[0], sum = 0;                                          \
            for (Py_ssize_t j = 1; j < k; j++) mx = x[j] > mx ? x[j] : mx; \
            for (Py_ssize_t j = 0; j < k; j++) sum += EXP(x[j] - mx);      \
            e[i] = LOG(sum) - (x[d[i]] - mx);                              \
        }                                                                  \
    }

static PyObject *sparse_ce(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    buf_t bufs[3];
    memset(bufs, 0, sizeof bufs);
    int kind = 0;
    PyObject *result = NULL;
    if (check_args(nargs, 3, "sparse_ce") < 0) return NULL;
    Py_ssize_t k = get_rows(args[0], args[2], args[1], 0, bufs, &kind);
    if (k < 0) goto done;
    Py_ssize_t n = bufs[0].view.shape[0];
    const int64_t *d = (const int64_t *)bufs[2].view.buf;
    if (kind == 1) SPARSE_CE_LOOP(float, expf, logf) else SPARSE_CE_LOOP(double, exp, log)
    Py_INCREF(Py_None);
    result = Py_None;
done:
    release(bufs, 3);
    return result;
}

/* sparse_ce_delta(Y, labels, scale, out): out = (Y - D) * scale, D the one-hot rows. */
#define DELTA_LOOP(T)                                                      \
    {                                                                      \
        const T *y = (const T *)bufs[0].view.buf;                          \
        T *o = (T *)bufs[1].view.buf;                                      \
        const T c = (T)scale;                                              \
        for (Py_ssize_t i = 0; i < n; i++, y += k, o += k) {               \
            for (Py_ssize_t j = 0; j < k; j++) o[j] = y[j];                \
            o[d[i]] -= (T)1;                                               \
            for (Py_ssize_t j = 0; j < k; j++) o[j] *= c;                  \
        }                                                                  \
    }

static PyObject *sparse_ce_delta(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    buf_t bufs[3];
    memset(bufs, 0, sizeof bufs);
    int kind = 0;
    PyObject *result = NULL;
    if (check_args(nargs, 4, "sparse_ce_delta") < 0) return NULL;
    double scale = PyFloat_AsDouble(args[2]);
    if (scale == -1.0 && PyErr_Occurred()) return NULL;
    Py_ssize_t k = get_rows(args[0], args[3], args[1], 1, bufs, &kind);
    if (k < 0) goto done;
    Py_ssize_t n = bufs[0].view.shape[0];
    const int64_t *d = (const int64_t *)bufs[2].view.buf;
    if (kind == 1) DELTA_LOOP(float) else DELTA_LOOP(double)
    Py_INCREF(Py_None);
    result = Py_None;
done:
    release(bufs, 3);
    return result;
}

static PyMethodDef methods[] = {
    {"sgd", (PyCFunction)(void (*)(void))sgd, METH_FASTCALL, "param -= lr * grad"},
    {"sgd_outer", (PyCFunction)(void (*)(void))sgd_outer, METH_FASTCALL,
     "W -= lr * outer(a, b)"},
    {"adam", (PyCFunction)(void (*)(void))adam, METH_FASTCALL, "Adam's fused step"},
    {"forward", (PyCFunction)(void (*)(void))forward, METH_FASTCALL,
     "forward pass of dense layers for a few samples"},
    {"sigmoid_f32", (PyCFunction)(void (*)(void))sigmoid_f32, METH_FASTCALL,
     "float32 sigmoid(slope * xi)"},
    {"relu", (PyCFunction)(void (*)(void))relu, METH_FASTCALL, "out = max(xi, 0)"},
    {"delta", (PyCFunction)(void (*)(void))delta, METH_FASTCALL,
     "delta = f'(xi) * dE/dY for relu or sigmoid"},
    {"softmax", (PyCFunction)(void (*)(void))softmax, METH_FASTCALL, "softmax of each row"},
    {"sparse_ce", (PyCFunction)(void (*)(void))sparse_ce, METH_FASTCALL,
     "cross-entropy of each row's logits against its integer label"},
    {"sparse_ce_delta", (PyCFunction)(void (*)(void))sparse_ce_delta, METH_FASTCALL,
     "(Y - one_hot(labels)) * scale"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ckernels",
                                    "mlplab's optional compiled kernels", -1, methods};

PyMODINIT_FUNC PyInit__ckernels(void) { return PyModule_Create(&module); }
