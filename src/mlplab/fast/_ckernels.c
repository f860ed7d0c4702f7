/* Optional compiled kernels for mlplab (see _kernels.py, which calls them).
 *
 * Plain C on the buffer protocol: no NumPy headers, nothing to link. Each kernel performs the
 * same float operations in the same order as the NumPy code it replaces (compiled without
 * fast-math and without contraction into fused multiply-adds), so the updates give the same
 * weights bit for bit; the tests check this. The one exception is the training step's
 * zero-skipping first layer (see NONZERO_IMPL), which sums in its own documented order: the
 * layer step's result to rounding, checked against a NumPy emulation of that order.
 * Arrays must be C-contiguous, of one float type
 * (float32 "f" or float64 "d"); anything else raises TypeError and the caller runs NumPy.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

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
#define SGD_LOOP(T, w, g, n, lr)                                           \
    {                                                                      \
        const T a_ = (T)(lr);                                              \
        for (Py_ssize_t i_ = 0; i_ < (n); i_++) (w)[i_] -= a_ * (g)[i_];        \
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
    if (kind == 1) SGD_LOOP(float, (float *)bufs[0].view.buf, (const float *)bufs[1].view.buf, n, lr)
    else SGD_LOOP(double, (double *)bufs[0].view.buf, (const double *)bufs[1].view.buf, n, lr)
    release(bufs, 2);
    Py_RETURN_NONE;
}

/* ------------------------------------------------- sgd_outer(W, a, b, lr): W -= lr (a^T b) */
#define OUTER_LOOP(T, w, x, d, m, n, lr)                                   \
    {                                                                      \
        const T a_ = (T)(lr);                                              \
        for (Py_ssize_t i_ = 0; i_ < (m); i_++) {                             \
            const T x_ = (x)[i_];                                           \
            T *row_ = (w) + i_ * (n);                                       \
            for (Py_ssize_t j_ = 0; j_ < (n); j_++) row_[j_] -= a_ * (x_ * (d)[j_]); \
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
    if (kind == 1)
        OUTER_LOOP(float, (float *)bufs[0].view.buf, (const float *)bufs[1].view.buf,
                   (const float *)bufs[2].view.buf, m, n, lr)
    else
        OUTER_LOOP(double, (double *)bufs[0].view.buf, (const double *)bufs[1].view.buf,
                   (const double *)bufs[2].view.buf, m, n, lr)
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
        for (Py_ssize_t i_ = 0; i_ < n; i_++) {                               \
            const T gi = g[i_];                                             \
            T mi = m[i_] + c1 * (gi - m[i_]);                                \
            const T vi = v[i_] + c2 * (gi * gi - v[i_]);                     \
            mi *= (T)(ABS(mi) >= TINY); /* branch-free: vectorizes */      \
            m[i_] = mi;                                                     \
            v[i_] = vi;                                                     \
            w[i_] -= a * (mi / (SQRT(vi) + e));                             \
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

/* ------------------------------------- sgd_momentum(param, grad, v, lr, mu, nesterov)
 * Keras's SGD with momentum, NumPy's operations in order: s = lr g; v = mu v - s;
 * w += v, or (Nesterov) w = (w - s) + mu v. */
#define MOMENTUM_LOOP(T)                                                   \
    {                                                                      \
        T *w = (T *)bufs[0].view.buf, *v = (T *)bufs[2].view.buf;          \
        const T *g = (const T *)bufs[1].view.buf;                          \
        const T a = (T)lr, m = (T)mu;                                      \
        if (nesterov)                                                      \
            for (Py_ssize_t i_ = 0; i_ < n; i_++) {                        \
                const T s_ = g[i_] * a, vi = v[i_] * m - s_;               \
                v[i_] = vi;                                                \
                w[i_] = (w[i_] - s_) + vi * m;                             \
            }                                                              \
        else                                                               \
            for (Py_ssize_t i_ = 0; i_ < n; i_++) {                        \
                const T vi = v[i_] * m - g[i_] * a;                        \
                v[i_] = vi;                                                \
                w[i_] += vi;                                               \
            }                                                              \
    }

MULTIVERSION static PyObject *sgd_momentum(PyObject *self, PyObject *const *args,
                                           Py_ssize_t nargs) {
    buf_t bufs[3];
    memset(bufs, 0, sizeof bufs);
    int kind = 0;
    if (check_args(nargs, 6, "sgd_momentum") < 0) return NULL;
    const double lr = PyFloat_AsDouble(args[3]), mu = PyFloat_AsDouble(args[4]);
    const int nesterov = PyObject_IsTrue(args[5]);
    if (PyErr_Occurred()) return NULL;
    if (get_same(args, bufs, 3, "101", &kind) < 0) return NULL;
    const Py_ssize_t n = count(&bufs[0], kind);
    if (kind == 1) MOMENTUM_LOOP(float)
    else MOMENTUM_LOOP(double)
    release(bufs, 3);
    Py_RETURN_NONE;
}

/* ------------------------- rmsprop(param, grad, v, b or None, 1 - rho, rho, eps, lr, mu)
 * Keras's RMSprop (not centered), NumPy's operations in order: v = rho v + (1 - rho) g^2;
 * s = lr (g / sqrt(v + eps)); with momentum b = mu b + s, w -= b; else w -= s. */
#define RMSPROP_LOOP(T, SQRT)                                              \
    {                                                                      \
        T *w = (T *)bufs[0].view.buf, *v = (T *)bufs[2].view.buf;          \
        T *b = has_b ? (T *)bufs[3].view.buf : NULL;                       \
        const T *g = (const T *)bufs[1].view.buf;                          \
        const T c = (T)one_minus_rho, r = (T)rho, e = (T)eps, a = (T)lr, m = (T)mu; \
        for (Py_ssize_t i_ = 0; i_ < n; i_++) {                            \
            const T gi = g[i_];                                            \
            const T vi = v[i_] * r + (gi * gi) * c;                        \
            v[i_] = vi;                                                    \
            const T s_ = (gi / SQRT(vi + e)) * a;                          \
            if (b) {                                                       \
                const T bi = b[i_] * m + s_;                               \
                b[i_] = bi;                                                \
                w[i_] -= bi;                                               \
            } else                                                         \
                w[i_] -= s_;                                               \
        }                                                                  \
    }

MULTIVERSION static PyObject *rmsprop(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    buf_t bufs[4];
    memset(bufs, 0, sizeof bufs);
    int kind = 0;
    if (check_args(nargs, 9, "rmsprop") < 0) return NULL;
    const double one_minus_rho = PyFloat_AsDouble(args[4]), rho = PyFloat_AsDouble(args[5]);
    const double eps = PyFloat_AsDouble(args[6]), lr = PyFloat_AsDouble(args[7]);
    const double mu = PyFloat_AsDouble(args[8]);
    if (PyErr_Occurred()) return NULL;
    const int has_b = args[3] != Py_None;
    PyObject *arrays[4] = {args[0], args[1], args[2], has_b ? args[3] : args[2]};
    if (get_same(arrays, bufs, has_b ? 4 : 3, "1011", &kind) < 0) return NULL;
    const Py_ssize_t n = count(&bufs[0], kind);
    if (kind == 1) RMSPROP_LOOP(float, sqrtf)
    else RMSPROP_LOOP(double, sqrt)
    release(bufs, 4);
    Py_RETURN_NONE;
}

/* y = softmax(x) of one row of k entries, the row maximum subtracted first (y may be x). */
#define SOFTMAX_ROW(T, EXP, x, y, k)                                       \
    {                                                                      \
        T mx = (x)[0], sum = 0;                                            \
        for (Py_ssize_t j_ = 1; j_ < (k); j_++) mx = (x)[j_] > mx ? (x)[j_] : mx; \
        for (Py_ssize_t j_ = 0; j_ < (k); j_++) sum += ((y)[j_] = EXP((x)[j_] - mx)); \
        for (Py_ssize_t j_ = 0; j_ < (k); j_++) (y)[j_] /= sum;                \
    }

/* ------------------------------------------ forward(x, out, scratch, layers) -> bool
 * The forward pass of a stack of dense layers for a few samples (predict's small calls):
 * Y_l = f_l(Y_{l-1} W_l + b_l). layers is a tuple of (W, b or None, code, parameter); codes:
 * 0 linear, 1 sigmoid(parameter * xi), 2 tanh(parameter * xi), 3 relu, 4 softmax (rows).
 * scratch holds two (n, widest hidden layer) work areas. Returns False, computing nothing,
 * when x holds a NaN or an infinity (the caller then raises its usual error). */
enum { ACT_LINEAR, ACT_SIGMOID, ACT_TANH, ACT_RELU, ACT_SOFTMAX };

#define FORWARD_IMPL(T, EXP, SIGMOID, TANH, SUFFIX)                                                    \
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
            for (Py_ssize_t i_ = 0; i_ < n; i_++) {                                              \
                T *row = y + i_ * u;                                                           \
                const T *xr = in + i_ * k;                                                     \
                for (Py_ssize_t j_ = 0; j_ < u; j_++) row[j_] = b ? b[j_] : (T)0;                  \
                for (Py_ssize_t p = 0; p < k; p++) {                                          \
                    const T xp = xr[p];                                                       \
                    const T *wr = W + p * u;                                                  \
                    for (Py_ssize_t j_ = 0; j_ < u; j_++) row[j_] += xp * wr[j_];                  \
                }                                                                             \
                switch (codes[l]) {                                                           \
                case ACT_SIGMOID:                                                             \
                    for (Py_ssize_t j_ = 0; j_ < u; j_++) row[j_] = SIGMOID(-s * row[j_]);       \
                    break;                                                                    \
                case ACT_TANH:                                                                \
                    for (Py_ssize_t j_ = 0; j_ < u; j_++) row[j_] = TANH(s * row[j_]);             \
                    break;                                                                    \
                case ACT_RELU:                                                                \
                    for (Py_ssize_t j_ = 0; j_ < u; j_++) row[j_] = row[j_] > 0 ? row[j_] : (T)0;   \
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

/* The training kernels' float32 sigmoid and tanh (below), so that predict gives the same bits
 * as the training step's forward pass; float64 takes NumPy's formula 1 / (1 + e^t). */
static inline float sigmoid_one(float t);
static inline float tanh_one(float z);
static inline double sigmoid_f64(double t) { return 1.0 / (1.0 + exp(t)); }
FORWARD_IMPL(float, expf, sigmoid_one, tanh_one, f32)
FORWARD_IMPL(double, exp, sigmoid_f64, tanh, f64)

#define MAX_LAYERS 16
#define MAX_THREADS 16 /* of the zero-skipping products (see run_chunks) */

/* The number of layers in a tuple of 1 to MAX_LAYERS layer tuples, or -1 with TypeError. */
static int layer_count(PyObject *layers) {
    if (!PyTuple_Check(layers) || PyTuple_GET_SIZE(layers) < 1 ||
        PyTuple_GET_SIZE(layers) > MAX_LAYERS) {
        PyErr_SetString(PyExc_TypeError, "layers must be a tuple of 1 to 16 layer tuples");
        return -1;
    }
    return (int)PyTuple_GET_SIZE(layers);
}

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
    if ((L = layer_count(layers)) < 0) return NULL;
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

/* ---------------------------------------------- the float32 sigmoid of training (activation_f32)
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

/* 1 / (1 + e^t) for t = -slope xi */
static inline float sigmoid_one(float t) {
    const float s = 1.0f / (1.0f + exp_clamped(t));
    return t > 87.0f ? 0.0f : s;
}

static inline void sigmoid_loop(const float *x, float *y, Py_ssize_t n, float slope) {
    for (Py_ssize_t i = 0; i < n; i++) y[i] = sigmoid_one(-slope * x[i]);
}

/* ------------------------------------------------- the float32 tanh of training (activation_f32)
 * out = tanh(slope xi) (slope xi rounded to float32 first, as NumPy's two steps do), after
 * Cephes' tanhf: for |z| <= 0.625 the odd polynomial z + z^3 P(z^2), which keeps the relative
 * precision near 0, else 1 - 2 / (e^(2|z|) + 1) with the sign of z; branch-free, so it
 * vectorizes. Within a few ulp of the exact value (tested); NaN stays NaN, +-inf gives +-1. */
static inline float tanh_one(float z) {
    const float a = fabsf(z), z2 = z * z;
    float p = -5.70498872745e-3f;
    p = p * z2 + 2.06390887954e-2f;
    p = p * z2 - 5.37397155531e-2f;
    p = p * z2 + 1.33314422036e-1f;
    p = p * z2 - 3.33332819422e-1f;
    const float small = p * z2 * a + a;
    const float big = 1.0f - 2.0f / (exp_clamped(2.0f * a) + 1.0f);
    return copysignf(a > 0.625f ? big : small, z); /* odd, -0 included */
}

static inline void tanh_loop(const float *x, float *y, Py_ssize_t n, float slope) {
    if (slope == 1.0f)
        for (Py_ssize_t i = 0; i < n; i++) y[i] = tanh_one(x[i]);
    else
        for (Py_ssize_t i = 0; i < n; i++) y[i] = tanh_one(slope * x[i]);
}

/* activation_f32(code, xi, out, slope): out = sigmoid or tanh of slope xi, float32. */
MULTIVERSION static PyObject *activation_f32(PyObject *self, PyObject *const *args,
                                             Py_ssize_t nargs) {
    buf_t bufs[2];
    memset(bufs, 0, sizeof bufs);
    int kind = 1;
    if (check_args(nargs, 4, "activation_f32") < 0) return NULL;
    const long code = PyLong_AsLong(args[0]);
    const float slope = (float)PyFloat_AsDouble(args[3]);
    if (PyErr_Occurred()) return NULL;
    if (code != ACT_SIGMOID && code != ACT_TANH) {
        PyErr_SetString(PyExc_TypeError, "activation_f32() takes the sigmoid or tanh code");
        return NULL;
    }
    if (get_same(args + 1, bufs, 2, "01", &kind) < 0) return NULL;
    const float *x = (const float *)bufs[0].view.buf;
    float *y = (float *)bufs[1].view.buf;
    if (code == ACT_SIGMOID) sigmoid_loop(x, y, count(&bufs[0], kind), slope);
    else tanh_loop(x, y, count(&bufs[0], kind), slope);
    release(bufs, 2);
    Py_RETURN_NONE;
}

/* --------------------------------------------------------------------- relu(xi, out)
 * out = max(xi, 0) as NumPy's maximum gives it: NaN stays NaN, -0 becomes +0. */
#define RELU_LOOP(T, x, y, n)                                              \
    for (Py_ssize_t i_ = 0; i_ < (n); i_++) (y)[i_] = (x)[i_] <= 0 ? (T)0 : (x)[i_];

MULTIVERSION static PyObject *relu(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    buf_t bufs[2];
    memset(bufs, 0, sizeof bufs);
    int kind = 0;
    if (check_args(nargs, 2, "relu") < 0) return NULL;
    if (get_same(args, bufs, 2, "01", &kind) < 0) return NULL;
    const Py_ssize_t n = count(&bufs[0], kind);
    if (kind == 1) RELU_LOOP(float, (const float *)bufs[0].view.buf, (float *)bufs[1].view.buf, n)
    else RELU_LOOP(double, (const double *)bufs[0].view.buf, (double *)bufs[1].view.buf, n)
    release(bufs, 2);
    Py_RETURN_NONE;
}

/* ------------------------------------------------- delta(code, a, dY, out, slope)
 * delta = f'(xi) * dE/dY in one pass, in NumPy's order of operations:
 * relu (a = Xi): 1[xi > 0] * dY;  sigmoid (a = Y): ((1 - Y) * Y [* slope]) * dY;
 * tanh (a = Y): ((1 - Y * Y) [* slope]) * dY. */
#define ACT_DELTA_LOOP(T, code, a, d, o, n, slope)                         \
    {                                                                      \
        const T s_ = (T)(slope);                                           \
        if ((code) == ACT_RELU)                                            \
            for (Py_ssize_t i_ = 0; i_ < (n); i_++) (o)[i_] = (T)((a)[i_] > 0) * (d)[i_]; \
        else if ((code) == ACT_TANH && (slope) == 1.0)                     \
            for (Py_ssize_t i_ = 0; i_ < (n); i_++)                        \
                (o)[i_] = ((T)1 - (a)[i_] * (a)[i_]) * (d)[i_];            \
        else if ((code) == ACT_TANH)                                       \
            for (Py_ssize_t i_ = 0; i_ < (n); i_++)                        \
                (o)[i_] = (((T)1 - (a)[i_] * (a)[i_]) * s_) * (d)[i_];     \
        else if ((slope) == 1.0)                                           \
            for (Py_ssize_t i_ = 0; i_ < (n); i_++)                        \
                (o)[i_] = (((T)1 - (a)[i_]) * (a)[i_]) * (d)[i_];          \
        else                                                               \
            for (Py_ssize_t i_ = 0; i_ < (n); i_++)                        \
                (o)[i_] = ((((T)1 - (a)[i_]) * (a)[i_]) * s_) * (d)[i_];   \
    }

MULTIVERSION static PyObject *delta(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    buf_t bufs[3];
    memset(bufs, 0, sizeof bufs);
    int kind = 0;
    if (check_args(nargs, 5, "delta") < 0) return NULL;
    const long code = PyLong_AsLong(args[0]);
    const double slope = PyFloat_AsDouble(args[4]);
    if (PyErr_Occurred()) return NULL;
    if (code != ACT_RELU && code != ACT_SIGMOID && code != ACT_TANH) {
        PyErr_SetString(PyExc_TypeError, "delta() takes the relu, sigmoid or tanh code");
        return NULL;
    }
    if (get_same(args + 1, bufs, 3, "001", &kind) < 0) return NULL;
    const Py_ssize_t n = count(&bufs[0], kind);
    if (kind == 1)
        ACT_DELTA_LOOP(float, code, (const float *)bufs[0].view.buf,
                       (const float *)bufs[1].view.buf, (float *)bufs[2].view.buf, n, slope)
    else
        ACT_DELTA_LOOP(double, code, (const double *)bufs[0].view.buf,
                       (const double *)bufs[1].view.buf, (double *)bufs[2].view.buf, n, slope)
    release(bufs, 3);
    Py_RETURN_NONE;
}

/* ---------------------------------------------- the softmax output layer's row operations */
/* Get n labels in [0, k) (or n row indices of k rows: what names them in the errors): a
 * C-contiguous buffer of int64 (NumPy's intp on 64-bit Linux). */
static int get_indices(PyObject *obj, buf_t *b, Py_ssize_t n, Py_ssize_t k, const char *what) {
    if (PyObject_GetBuffer(obj, &b->view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%ss must be a C-contiguous integer array", what);
        return -1;
    }
    b->held = 1;
    const char *f = b->view.format ? b->view.format : "B";
    if (*f == '@' || *f == '=' || *f == '<') f++;
    if (!((f[0] == 'l' || f[0] == 'q') && f[1] == 0 && b->view.itemsize == 8) ||
        b->view.len / 8 != n) {
        PyErr_Format(PyExc_TypeError, "%ss must be int64, one per row", what);
        return -1;
    }
    const int64_t *d = (const int64_t *)b->view.buf;
    for (Py_ssize_t i = 0; i < n; i++)
        if (d[i] < 0 || d[i] >= k) {
            PyErr_Format(PyExc_IndexError, "%s %lld out of range [0, %zd)", what,
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
    if (labels && get_indices(labels, &bufs[2], r->shape[0], r->shape[1], "label") < 0) return -1;
    return r->shape[1];
}

/* softmax(xi, out): out_k = e^(xi_k - max_j xi_j) / sum_j e^(xi_j - max) per row. */
#define SOFTMAX_LOOP(T, EXP, xi, out, n, k)                                \
    {                                                                      \
        const T *x_ = (xi);                                                \
        T *y_ = (out);                                                     \
        for (Py_ssize_t i_ = 0; i_ < (n); i_++, x_ += (k), y_ += (k))         \
            SOFTMAX_ROW(T, EXP, x_, y_, k)                                 \
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
    if (kind == 1)
        SOFTMAX_LOOP(float, expf, (const float *)bufs[0].view.buf, (float *)bufs[1].view.buf, n, k)
    else
        SOFTMAX_LOOP(double, exp, (const double *)bufs[0].view.buf, (double *)bufs[1].view.buf,
                     n, k)
    release(bufs, 2);
    Py_RETURN_NONE;
}

/* sparse_ce(xi, labels, e): e_p = log sum_j e^(xi_pj - m_p) - (xi_p,d_p - m_p), m_p the row max. */
#define SPARSE_CE_LOOP(T, EXP, LOG, xi, d, e, n, k)                        \
    {                                                                      \
        const T *x_ = (xi);                                                \
        for (Py_ssize_t i_ = 0; i_ < (n); i_++, x_ += (k)) {                  \
            T mx = x_[0], sum = 0;                                         \
            for (Py_ssize_t j_ = 1; j_ < (k); j_++) mx = x_[j_] > mx ? x_[j_] : mx; \
            for (Py_ssize_t j_ = 0; j_ < (k); j_++) sum += EXP(x_[j_] - mx);   \
            (e)[i_] = LOG(sum) - (x_[(d)[i_]] - mx);                         \
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
    if (kind == 1)
        SPARSE_CE_LOOP(float, expf, logf, (const float *)bufs[0].view.buf, d,
                       (float *)bufs[1].view.buf, n, k)
    else
        SPARSE_CE_LOOP(double, exp, log, (const double *)bufs[0].view.buf, d,
                       (double *)bufs[1].view.buf, n, k)
    Py_INCREF(Py_None);
    result = Py_None;
done:
    release(bufs, 3);
    return result;
}

/* sparse_ce_delta(Y, labels, scale, out): out = (Y - D) * scale, D the one-hot rows. */
#define CE_DELTA_LOOP(T, Y, d, out, n, k, scale)                           \
    {                                                                      \
        const T *y_ = (Y);                                                 \
        T *o_ = (out);                                                     \
        const T c_ = (T)(scale);                                           \
        for (Py_ssize_t i_ = 0; i_ < (n); i_++, y_ += (k), o_ += (k)) {       \
            for (Py_ssize_t j_ = 0; j_ < (k); j_++) o_[j_] = y_[j_];            \
            o_[(d)[i_]] -= (T)1;                                            \
            for (Py_ssize_t j_ = 0; j_ < (k); j_++) o_[j_] *= c_;              \
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
    if (kind == 1)
        CE_DELTA_LOOP(float, (const float *)bufs[0].view.buf, d, (float *)bufs[1].view.buf, n,
                      k, scale)
    else
        CE_DELTA_LOOP(double, (const double *)bufs[0].view.buf, d, (double *)bufs[1].view.buf,
                      n, k, scale)
    Py_INCREF(Py_None);
    result = Py_None;
done:
    release(bufs, 3);
    return result;
}

/* ---------------------------------------- per_sample(code, a, D, e, slope): the losses e_p
 * LOSS_BCE_LOGITS  a = Xi of a sigmoid output, z = slope xi:
 *                  e_p = (sum_k max(z, 0) - z d + log1p(e^-|z|)) / K
 * LOSS_MSE         a = Y:  e_p = (sum_k (y - d)^2) / K
 * LOSS_SSE         a = Y:  e_p = 0.5 sum_k (y - d)^2
 * Summed in order along each row (NumPy sums 8 lanes pairwise: a few ulp apart). */
enum { LOSS_NONE, LOSS_BCE_LOGITS, LOSS_MSE, LOSS_SSE };

#define LOSS_ROWS(T, EXP, LOG1P, code, a, D, e, n, k, slope)                \
    {                                                                      \
        const T s_ = (T)(slope), kk_ = (T)(k);                             \
        for (Py_ssize_t i_ = 0; i_ < (n); i_++) {                          \
            const T *ar_ = (a) + i_ * (k), *dr_ = (D) + i_ * (k);          \
            T sum_ = 0;                                                    \
            if ((code) == LOSS_BCE_LOGITS)                                 \
                for (Py_ssize_t j_ = 0; j_ < (k); j_++) {                  \
                    const T z_ = ar_[j_] * s_;                             \
                    sum_ += ((z_ > 0 ? z_ : (T)0) - z_ * dr_[j_]) + LOG1P(EXP(-(z_ < 0 ? -z_ : z_))); \
                }                                                          \
            else                                                           \
                for (Py_ssize_t j_ = 0; j_ < (k); j_++) {                  \
                    const T r_ = ar_[j_] - dr_[j_];                        \
                    sum_ += r_ * r_;                                       \
                }                                                          \
            (e)[i_] = (code) == LOSS_SSE ? (T)0.5 * sum_ : sum_ / kk_;     \
        }                                                                  \
    }

static PyObject *per_sample(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    buf_t bufs[3];
    memset(bufs, 0, sizeof bufs);
    int kind = 0;
    PyObject *result = NULL;
    if (check_args(nargs, 5, "per_sample") < 0) return NULL;
    const long code = PyLong_AsLong(args[0]);
    const double slope = PyFloat_AsDouble(args[4]);
    if (PyErr_Occurred()) return NULL;
    if (code < LOSS_BCE_LOGITS || code > LOSS_SSE) {
        PyErr_SetString(PyExc_TypeError, "per_sample() takes a LOSS_ code");
        return NULL;
    }
    if (get(args[1], &bufs[0], 0, &kind) < 0 || get(args[2], &bufs[1], 0, &kind) < 0 ||
        get(args[3], &bufs[2], 1, &kind) < 0)
        goto done;
    const Py_buffer *a = &bufs[0].view;
    if (a->ndim != 2 || a->shape[1] < 1 || count(&bufs[1], kind) != count(&bufs[0], kind) ||
        count(&bufs[2], kind) != a->shape[0]) {
        PyErr_SetString(PyExc_TypeError, "a and D must be (n, k), e (n,)");
        goto done;
    }
    const Py_ssize_t n = a->shape[0], k = a->shape[1];
    if (kind == 1)
        LOSS_ROWS(float, expf, log1pf, code, (const float *)a->buf,
                  (const float *)bufs[1].view.buf, (float *)bufs[2].view.buf, n, k, slope)
    else
        LOSS_ROWS(double, exp, log1p, code, (const double *)a->buf,
                  (const double *)bufs[1].view.buf, (double *)bufs[2].view.buf, n, k, slope)
    Py_INCREF(Py_None);
    result = Py_None;
done:
    release(bufs, 3);
    return result;
}

/* ==================================== the training step of a stack of dense layers
 * make_step(layers, n, gemm, gemv, blas64, c1, c2, out, loss, opt) -> plan
 * train_step(plan, X, labels, e, lr, threads) (out OUT_SPARSE) or
 * train_step(plan, X, D, e or None, lr, threads); threads: the most the zero-skipping first
 * layer's products and update may take (see run_chunks and PARALLEL_FMAS)
 *
 * One step of backpropagation for a float32 or float64 stack of dense layers, in one call: the
 * same BLAS products (OpenBLAS's cblas_?gemm, or cblas_?gemv for one sample as NumPy's matmul
 * takes it; the caller found their addresses) and the same elementwise loops as the Python
 * path (Dense.forward, backward_from_delta and the kernels above), in the same order, so the
 * weights come out bit for bit the same (float64 sigmoid and tanh: the vectorized exp and
 * tanh above where the Python path takes NumPy's, within a few ulp; a sparse input: the
 * zero-skipping first layer's own order of sums). What this call saves is the Python between.
 *   forward     Xi_l = Y_{l-1} W_l + b_l,  Y_l = f_l(Xi_l);  with labels d_p also the loss
 *               e_p = logsumexp(Xi_L,p) - Xi_L,p,d_p; with a loss code (and e) the
 *               per_sample kernel's losses (one-hot cross-entropy: the caller computes e)
 *   output      OUT_SPARSE    softmax + sparse cross-entropy: delta_L = (Y_L - onehot(d)) c1
 *               OUT_FUSED     a fused pair (softmax + CE, sigmoid + BCE):
 *                             delta_L = ((Y_L - D) c1) c2, the loss's fused_delta
 *               OUT_GRADIENT  any other output with MSE or SSE: dE/dY_L = ((Y_L - D) c1) c2,
 *                             the loss's gradient, then delta_L = f_L'(Xi_L) * dE/dY_L
 *   backward    delta_l = f_l'(Xi_l) * dX_{l+1}
 *               dX_l = delta_l W_l^T (before W_l changes; none for the first layer)
 *   update      plain SGD: W_l -= lr Y_{l-1}^T delta_l (where the layer's fold flag is set: one
 *               gemm with beta 1, or the rank-1 loop for one sample; else dW_l, then
 *               W_l -= lr dW_l); b_l -= lr (column sums of delta_l); the other optimizers
 *               (opt: momentum, Nesterov, Adam, RMSprop) step W_l, b_l from dW_l, db_l and
 *               their slots (update_f32), layer after layer
 *   None        dW_l = Y_{l-1}^T delta_l and db_l only (the optimizer steps afterwards)
 * layers: tuple of (W, b or None, dW, db or None, Xi, Y, delta, dX or None, code, slope, fold,
 * mask or None, Yd or None, W's slots s1, s2, b's slots s1, s2 (or None)) with the work arrays
 * of n rows; a linear layer has Y = Xi, a linear
 * hidden layer delta = the next layer's dX. A mask is a Dropout layer after a hidden nonlinear
 * layer: the caller draws it (0 or 1 / (1 - rate)) before the call; forward Yd = Y m feeds the
 * next layer, backward dE/dY = dX_{l+1} m (written over dX_{l+1}) before f'. */
enum { ROW_MAJOR = 101, COL_MAJOR = 102, NO_TRANS = 111, TRANS = 112, STEP_ARRAYS = 14 };
enum { OUT_SPARSE, OUT_FUSED, OUT_GRADIENT };

typedef struct {
    void *a[STEP_ARRAYS]; /* W, b, dW, db, Xi, Y, delta, dX, mask, Yd, W and b slots */
    Py_ssize_t k, u;
    int code, fold;
    double slope;
} step_layer_t;

/* The first layer's input in compressed form, rebuilt every step: its nonzero entries (row,
 * cval) by key = (block of BLOCK_ROWS rows) * k + column, rows ascending in each key, from
 * col_ptr[key]; used[i]: column i has a nonzero; `limit` nonzeros at most (0: the layer
 * always takes the dense products). */
typedef struct {
    Py_ssize_t limit;
    int32_t *col_ptr, *row, *used;
    uint64_t *mask;
    Py_ssize_t *at; /* by block of rows: where its nonzeros start (see nonzeros_) */
    void *cval;
    int tiles; /* work arrays of (n, TILE_VECS) vectors, 64-byte aligned: one per thread */
    void *tile[MAX_THREADS], *tile_block[MAX_THREADS];
} nonzeros_t;

typedef struct {
    int L, blas64, kind, out, loss, opt;
    int threads, threaded; /* of this call's run_chunks; the last call took more than one */
    Py_ssize_t n, k0;
    void *gemm, *gemv;
    double c1, c2;
    nonzeros_t nz;
    step_layer_t layer[MAX_LAYERS];
    buf_t bufs[STEP_ARRAYS * MAX_LAYERS];
} step_t;

enum { S_W, S_B, S_DW, S_DB, S_XI, S_Y, S_DELTA, S_DX, S_MASK, S_YD, S_W1, S_W2, S_B1, S_B2 };

/* cblas_?gemm and cblas_?gemv (y = A^T x, unit strides) with 64- or 32-bit indices. */
#define BLAS_CALLS(T, SUF)                                                                    \
    typedef void (*gemm64_##SUF)(int, int, int, int64_t, int64_t, int64_t, T, const T *,     \
                                 int64_t, const T *, int64_t, T, T *, int64_t);               \
    typedef void (*gemm32_##SUF)(int, int, int, int, int, int, T, const T *, int, const T *, \
                                 int, T, T *, int);                                           \
    typedef void (*gemv64_##SUF)(int, int, int64_t, int64_t, T, const T *, int64_t,          \
                                 const T *, int64_t, T, T *, int64_t);                        \
    typedef void (*gemv32_##SUF)(int, int, int, int, T, const T *, int, const T *, int, T,   \
                                 T *, int);                                                   \
    static void gemm_##SUF(const step_t *s, int ta, int tb, Py_ssize_t M, Py_ssize_t N,      \
                           Py_ssize_t K, T alpha, const T *A, Py_ssize_t lda, const T *B,    \
                           Py_ssize_t ldb, T beta, T *C, Py_ssize_t ldc) {                    \
        if (s->blas64)                                                                        \
            ((gemm64_##SUF)s->gemm)(ROW_MAJOR, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, \
                                    C, ldc);                                                  \
        else                                                                                  \
            ((gemm32_##SUF)s->gemm)(ROW_MAJOR, ta, tb, (int)M, (int)N, (int)K, alpha, A,     \
                                    (int)lda, B, (int)ldb, beta, C, (int)ldc);                \
    }                                                                                         \
    static void gemv_t_##SUF(const step_t *s, int order, Py_ssize_t M, Py_ssize_t N,         \
                             const T *A, Py_ssize_t lda, const T *x, T *y) {                  \
        if (s->blas64)                                                                        \
            ((gemv64_##SUF)s->gemv)(order, TRANS, M, N, (T)1, A, lda, x, 1, (T)0, y, 1);     \
        else                                                                                  \
            ((gemv32_##SUF)s->gemv)(order, TRANS, (int)M, (int)N, (T)1, A, (int)lda, x, 1,   \
                                    (T)0, y, 1);                                              \
    }
BLAS_CALLS(float, f32)
BLAS_CALLS(double, f64)

/* ------------------------------------------- the float64 sigmoid and tanh of the training step
 * The float32 kernels' scheme in float64, so that it vectorizes as well: e^t = 2^k e^r with
 * k = round(t / ln 2), r = t - k ln 2 in two parts, e^r = (Q + P) / (Q - P) with P = r P(r^2)
 * and Q = Q(r^2) (Cephes' exp, there as 1 + 2 P / (Q - P)), and 2^k built in the exponent
 * bits by integer adds and a shift (t clamped to [-708, 709]). One division a value (about
 * 16 cycles a vector here; three took 1.9 ns a value, one 1.5): the sigmoid
 * 1 / (1 + e^t) = (Q - P) / ((Q - P) + (Q + P) 2^k); tanh after Cephes' tanh,
 * z + z^3 p(z^2) / q(z^2) for |z| <= 0.625, else 1 - 2 / (e^(2|z|) + 1), with the sign of z,
 * its two quotients taken as one (the terms chosen by |z|). Within 4 ulp of NumPy's (tested);
 * a sigmoid below 2.3e-308 is returned as 0, NaN stays NaN. */
static inline double exp_fraction_f64(double t, double *den) { /* e^t = the result / den */
    t = t < -708.0 ? -708.0 : (t > 709.0 ? 709.0 : t);
    const double k = floor(t * 1.4426950408889634074 + 0.5);
    double r = t - k * 6.93145751953125e-1;
    r = r - k * 1.42860682030941723212e-6;
    const double rr = r * r;
    const double p = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr +
                          9.99999999999999999910e-1);
    const double q = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr +
                      2.27265548208155028766e-1) * rr + 2.00000000000000000009e0;
    uint64_t bits; /* k + 1.5 2^52 holds k in its low mantissa bits; + 1023, shifted: 2^k */
    const double shifted = k + 6755399441055744.0;
    memcpy(&bits, &shifted, sizeof bits);
    bits = (bits + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    *den = q - p;
    return (q + p) * scale;
}

static inline double sigmoid_one_f64(double t) { /* 1 / (1 + e^t) for t = -slope xi */
    double den;
    const double num = exp_fraction_f64(t, &den);
    const double s = den / (den + num);
    return t > 708.0 ? 0.0 : s;
}

static inline double tanh_one_f64(double z) {
    const double a = fabs(z), z2 = z * z;
    const double p = (-9.64399179425052238628e-1 * z2 - 9.92877231001918586564e1) * z2 -
                     1.61468768441708447952e3;
    const double q = ((z2 + 1.12811678491632931402e2) * z2 + 2.23548839060100448583e3) * z2 +
                     4.84406305325125486048e3;
    double den;
    const double num = exp_fraction_f64(2.0 * a, &den); /* e^(2a) = num / den */
    const int small = a <= 0.625;
    const double ratio = (small ? p : 2.0 * den) / (small ? q : num + den); /* p/q, 2/(e+1) */
    return copysign(small ? a + a * z2 * ratio : 1.0 - ratio, z);
}

static inline void sigmoid_loop_f64(const double *x, double *y, Py_ssize_t n, double slope) {
    for (Py_ssize_t i = 0; i < n; i++) y[i] = sigmoid_one_f64(-slope * x[i]);
}

static inline void tanh_loop_f64(const double *x, double *y, Py_ssize_t n, double slope) {
    for (Py_ssize_t i = 0; i < n; i++) y[i] = tanh_one_f64(slope * x[i]);
}


/* ------------------------------------------------ workers: a product's chunks on several threads
 * run_chunks(fn, ctx, chunks, threads) calls fn(ctx, chunk, thread) for every chunk, on the
 * calling thread (thread 0) and up to threads - 1 helper threads. The caller takes chunks from
 * the front, the helpers from the back (one atomic pair of ends), so on an idle machine each
 * thread keeps the same part of the arrays from call to call (in its own cache: a line another
 * core wrote costs a transfer between cores) while a late thread's part goes to the others.
 * The caller waits only for the chunks a helper has begun: a helper that gets no core takes
 * nothing and the caller does the rest, so on a busy machine the call slows towards one
 * thread's time instead of waiting for a time slice.
 * Which thread runs a chunk changes no result (each output entry is one chunk's). A helper
 * spins SPIN_NS after each call (and after wake_helpers, which the step calls ahead), then
 * sleeps: a sleeping thread takes tens of microseconds to get a core, and fit's Python between
 * two steps takes about 50-100 us, so the next step finds it awake (batch 256: the scan of the
 * input 167 -> 98 us). A spinning thread slows the other core's work by about 10% on the 2-core
 * machines measured; 200 us was no better. One caller at a time: a second, concurrent one
 * runs its chunks alone. */
#define SPIN_NS 100000
typedef void (*chunk_fn)(void *ctx, int chunk, int thread);

static struct {
    pthread_mutex_t lock, owner; /* owner: held by the one caller using the helpers */
    pthread_cond_t wake, finished;
    int helpers, threads, chunks;
    chunk_fn fn;
    void *ctx;
    _Atomic uint32_t generation; /* of the current call */
    _Atomic uint64_t next;       /* generation << 32 | back << 16 | front: chunks to take */
    _Atomic int done;            /* chunks finished in the current call */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
          PTHREAD_COND_INITIALIZER};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Take and run the chunks of call `generation` until none is left. */
static void take_chunks(uint32_t generation, chunk_fn fn, void *ctx, int chunks, int thread) {
    uint64_t v = atomic_load(&pool.next);
    while ((uint32_t)(v >> 32) == generation && (v & 0xffff) < (v >> 16 & 0xffff)) {
        const int front = !thread, chunk = front ? (int)(v & 0xffff) : (int)(v >> 16 & 0xffff) - 1;
        if (!atomic_compare_exchange_weak(&pool.next, &v, front ? v + 1 : v - 0x10000)) continue;
        fn(ctx, chunk, thread);
        if (atomic_fetch_add(&pool.done, 1) + 1 == chunks) {
            pthread_mutex_lock(&pool.lock);
            pthread_cond_broadcast(&pool.finished);
            pthread_mutex_unlock(&pool.lock);
        }
        v = atomic_load(&pool.next);
    }
}

static void *helper_main(void *arg) {
    const int thread = (int)(intptr_t)arg;
#if defined(__linux__) && defined(__GLIBC__)
    pthread_setname_np(pthread_self(), "mlplab-worker");
#endif
    uint32_t seen = 0;
    for (;;) {
        const int64_t until = now_ns() + SPIN_NS;
        for (int i = 0; atomic_load(&pool.generation) == seen; i++) {
            cpu_relax();
            if (i % 256 == 255 && now_ns() > until) break;
        }
        pthread_mutex_lock(&pool.lock);
        while (atomic_load(&pool.generation) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
        seen = atomic_load(&pool.generation);
        const chunk_fn fn = pool.fn;
        void *ctx = pool.ctx;
        const int chunks = pool.chunks, active = thread < pool.threads;
        pthread_mutex_unlock(&pool.lock);
        if (active) take_chunks(seen, fn, ctx, chunks, thread);
    }
    return NULL;
}

/* After fork() the child has no helpers, and the locks may have been held by one. */
static void pool_after_fork(void) {
    pthread_mutex_init(&pool.lock, NULL);
    pthread_mutex_init(&pool.owner, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.finished, NULL);
    pool.helpers = 0;
}

/* Start helpers until there are `wanted` (called with pool.owner held); returns how many run. */
static int pool_start(int wanted) {
    static int registered = 0;
    if (!registered) registered = !pthread_atfork(NULL, NULL, pool_after_fork);
    while (pool.helpers < wanted) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        const int failed = pthread_create(&t, &attr, helper_main,
                                          (void *)(intptr_t)(pool.helpers + 1));
        pthread_attr_destroy(&attr);
        if (failed) break;
        pool.helpers++;
    }
    return pool.helpers < wanted ? pool.helpers : wanted;
}

/* Hand the helpers a call (none: chunks 0, to wake them for the calls to come). */
static uint32_t publish(chunk_fn fn, void *ctx, int chunks, int threads) {
    pthread_mutex_lock(&pool.lock);
    const uint32_t generation = atomic_load(&pool.generation) + 1;
    pool.fn = fn, pool.ctx = ctx, pool.chunks = chunks, pool.threads = threads;
    atomic_store(&pool.done, 0);
    atomic_store(&pool.next, (uint64_t)generation << 32 | (uint64_t)chunks << 16);
    atomic_store(&pool.generation, generation);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    return generation;
}

/* Wake the helpers of a coming run_chunks: a sleeping thread takes a while to get a core. */
static void wake_helpers(int threads) {
    if (threads <= 1 || pthread_mutex_trylock(&pool.owner)) return;
    publish(NULL, NULL, 0, 1 + pool_start(threads - 1));
    pthread_mutex_unlock(&pool.owner);
}

static void run_chunks(chunk_fn fn, void *ctx, int chunks, int threads) {
    if (threads > chunks) threads = chunks;
    if (chunks > 0xffff) threads = 1;
    if (threads > 1 && pthread_mutex_trylock(&pool.owner)) threads = 1; /* in use */
    if (threads <= 1) {
        for (int c = 0; c < chunks; c++) fn(ctx, c, 0);
        return;
    }
    threads = 1 + pool_start(threads - 1);
    const uint32_t generation = publish(fn, ctx, chunks, threads);
    take_chunks(generation, fn, ctx, chunks, 0);
    const int64_t until = now_ns() + SPIN_NS / 10;
    for (int i = 0; atomic_load(&pool.done) < chunks; i++) { /* a helper's last chunks */
        cpu_relax();
        if (i % 256 == 255 && now_ns() > until) break;
    }
    pthread_mutex_lock(&pool.lock);
    while (atomic_load(&pool.done) < chunks) pthread_cond_wait(&pool.finished, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.owner);
}

/* The first layer's products on an input that is mostly exact zeros (MNIST's pixels: 81%),
 * skipping them. Each entry is one sum in a fixed order, from +0, a product added at a time:
 *   Xi[r, j]   = sum over i ascending with X[r, i] != 0 of X[r, i] W[i, j]
 *   dW[i, j]   = sum over r ascending with X[r, i] != 0 of X[r, i] delta[r, j]
 * so a run repeats bit for bit, and against BLAS's dense products only the rounding differs.
 * The columns are taken in tiles of TILE_VECS vectors of 64 bytes: a tile of W's row (or two
 * columns' sums) stays in registers while the samples' rows of a packed (rows, tile) copy are
 * updated (or read) in cache; the columns after the last whole vector are summed one by one.
 *   nonzeros   X's nonzeros by key (a bit per row of a key's block, then placed key by key,
 *              in order), or -1 if there are over `limit`
 *   xw         Xi = X W (n, u)
 *   xtd        dW = X^T delta (k, u); folded (plain SGD): W <- W - lr X^T delta on the rows
 *              of inputs that are not all zero (the others gain exactly nothing) */
#define TILE_VECS 4
#define BLOCK_ROWS 64 /* rows of a tile updated in L1: 64 x 256 bytes */
_Static_assert(BLOCK_ROWS <= 64, "nonzeros_ keeps a block's rows as the bits of a uint64_t");
/* The arguments of the scan's chunks (a block of rows; phase 0 counts, 1 places); with rows,
 * phase 0 first gathers row r of X from row rows[r] of src. */
typedef struct {
    const nonzeros_t *z;
    void *X;
    Py_ssize_t n, k;
    int phase;
    const void *src;
    const int64_t *rows;
} scan_call_t;

/* The arguments of a zero-skipping product's chunks (xw: a tile of columns on a block of rows;
 * xtd: a tile of columns on a slice of the input columns); packed[t]: 1 + the tile of delta in
 * thread t's work array, 0 for none. */
#define XTD_SLICES 4
typedef struct {
    const nonzeros_t *z;
    Py_ssize_t n, k, u;
    const void *W;
    void *out;
    const void *delta;
    int fold;
    double lr;
    int tiles, per_tile; /* tiles of columns; per tile, xw: blocks of rows; xtd: XTD_SLICES */
    int packed[MAX_THREADS];
} nz_call_t;
/* xtd's sums s0..s3 += cval[c] (delta's tile row of row[c]) for c up to e, in registers. */
#define SUM_REST(c, e, s0, s1, s2, s3)                                                        \
    for (; c < e; c++) {                                                                      \
        const __typeof__(*cval) v_ = cval[c];                                                 \
        const __typeof__(*tile) *d_ = tile + (Py_ssize_t)row[c] * TILE_VECS;                  \
        s0 = s0 + v_ * d_[0];                                                                 \
        s1 = s1 + v_ * d_[1];                                                                 \
        s2 = s2 + v_ * d_[2];                                                                 \
        s3 = s3 + v_ * d_[3];                                                                 \
    }
#define NONZERO_IMPL(T, SUF)                                                                  \
    typedef T vec_##SUF __attribute__((vector_size(64)));                                     \
    typedef T uvec_##SUF __attribute__((vector_size(64), aligned(sizeof(T))));                \
    /* Block b's keys: phase 0 sets their masks and counts them into at[b + 1]; phase 1 places \
       their nonzeros from at[b] (the blocks before it counted) */                           \
    MULTIVERSION static void nonzeros_block_##SUF(const nonzeros_t *z, T *X, Py_ssize_t n,   \
                                                  Py_ssize_t k, int b, int phase,             \
                                                  const T *src, const int64_t *rows) {        \
        uint64_t *mask = z->mask + (Py_ssize_t)b * k; /* bit r % BLOCK_ROWS: X[r, i] != 0 */  \
        const Py_ssize_t r0 = (Py_ssize_t)b * BLOCK_ROWS, r1 = Py_MIN(n, r0 + BLOCK_ROWS);    \
        if (!phase) {                                                                         \
            memset(mask, 0, (size_t)k * sizeof *mask);                                        \
            for (Py_ssize_t r = r0; r < r1; r++) {                                            \
                const uint64_t bit = (uint64_t)1 << (r % BLOCK_ROWS);                         \
                T *x = X + r * k;                                                             \
                if (rows) memcpy(x, src + rows[r] * k, (size_t)k * sizeof *x);                \
                for (Py_ssize_t i = 0; i < k; i++) mask[i] |= x[i] != (T)0 ? bit : 0;         \
            }                                                                                 \
            Py_ssize_t count = 0;                                                             \
            for (Py_ssize_t i = 0; i < k; i++) count += __builtin_popcountll(mask[i]);        \
            z->at[b + 1] = count;                                                             \
            return;                                                                           \
        }                                                                                     \
        int32_t *cp = z->col_ptr + (Py_ssize_t)b * k, at = (int32_t)z->at[b];                 \
        T *cval = z->cval;                                                                    \
        for (Py_ssize_t i = 0; i < k; i++) { /* rows ascending in each key */                \
            cp[i] = at;                                                                       \
            for (uint64_t m = mask[i]; m; m &= m - 1) {                                       \
                const Py_ssize_t r = r0 + __builtin_ctzll(m);                                 \
                z->row[at] = (int32_t)r;                                                      \
                cval[at++] = X[r * k + i];                                                    \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
    static void nonzeros_chunk_##SUF(void *ctx, int chunk, int thread) {                      \
        (void)thread;                                                                         \
        const scan_call_t *a = ctx;                                                           \
        nonzeros_block_##SUF(a->z, a->X, a->n, a->k, chunk, a->phase, a->src, a->rows);       \
    }                                                                                         \
    static Py_ssize_t nonzeros_##SUF(const nonzeros_t *z, T *X, Py_ssize_t n, Py_ssize_t k,  \
                                     int threads, const T *src, const int64_t *rows) {        \
        const int blocks = (int)((n + BLOCK_ROWS - 1) / BLOCK_ROWS);                          \
        scan_call_t a = {z, X, n, k, 0, src, rows};                                           \
        run_chunks(nonzeros_chunk_##SUF, &a, blocks, threads);                                \
        z->at[0] = 0;                                                                         \
        for (int b = 0; b < blocks; b++) z->at[b + 1] += z->at[b];                            \
        if (z->at[blocks] > z->limit) return -1;                                              \
        a.phase = 1;                                                                          \
        run_chunks(nonzeros_chunk_##SUF, &a, blocks, threads);                                \
        const Py_ssize_t keys = (Py_ssize_t)blocks * k;                                       \
        z->col_ptr[keys] = (int32_t)z->at[blocks];                                            \
        memset(z->used, 0, (size_t)k * sizeof *z->used);                                      \
        for (Py_ssize_t key = 0; key < keys; key += k)                                        \
            for (Py_ssize_t i = 0; i < k; i++) z->used[i] |= z->mask[key + i] != 0;           \
        return z->at[blocks];                                                                 \
    }                                                                                         \
    /* Xi's columns j0.. (one tile) on the rows of block r0, in the thread's tile */          \
    MULTIVERSION static void xw_tile_##SUF(const nonzeros_t *z, Py_ssize_t n, Py_ssize_t k,   \
                                           const T *W, Py_ssize_t u, T *restrict xi,          \
                                           Py_ssize_t j0, Py_ssize_t r0, int thread) {        \
        enum { V = 64 / sizeof(T) };                                                          \
        const int32_t *row = z->row;                                                          \
        const T *cval = z->cval;                                                              \
        vec_##SUF *tile = z->tile[thread];                                                    \
        const Py_ssize_t whole = u / V * V;                                                   \
        const Py_ssize_t m = (whole - j0) / V < TILE_VECS ? (whole - j0) / V : TILE_VECS;     \
        const Py_ssize_t rows = n - r0 < BLOCK_ROWS ? n - r0 : BLOCK_ROWS;                    \
        const int32_t *cp = z->col_ptr + r0 / BLOCK_ROWS * k;                                 \
        memset(tile, 0, (size_t)rows * TILE_VECS * sizeof *tile);                             \
        for (Py_ssize_t i = 0; i < k; i++) {                                                  \
            const uvec_##SUF *w = (const uvec_##SUF *)(W + i * u + j0);                       \
            int32_t c = cp[i];                                                                \
            if (c == cp[i + 1]) continue;                                                     \
            if (m == TILE_VECS) {                                                             \
                const vec_##SUF w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];                   \
                for (; c < cp[i + 1]; c++) {                                                  \
                    const T v = cval[c];                                                      \
                    vec_##SUF *o = tile + (Py_ssize_t)(row[c] - r0) * TILE_VECS;              \
                    o[0] = o[0] + v * w0;                                                     \
                    o[1] = o[1] + v * w1;                                                     \
                    o[2] = o[2] + v * w2;                                                     \
                    o[3] = o[3] + v * w3;                                                     \
                }                                                                             \
            } else                                                                            \
                for (; c < cp[i + 1]; c++) {                                                  \
                    const T v = cval[c];                                                      \
                    vec_##SUF *o = tile + (Py_ssize_t)(row[c] - r0) * TILE_VECS;              \
                    for (Py_ssize_t q = 0; q < m; q++) o[q] = o[q] + v * (vec_##SUF)w[q];     \
                }                                                                             \
        }                                                                                     \
        for (Py_ssize_t r = 0; r < rows; r++)                                                 \
            memcpy(xi + (r0 + r) * u + j0, tile + r * TILE_VECS, (size_t)m * sizeof *tile);   \
    }                                                                                         \
    static void xw_chunk_##SUF(void *ctx, int chunk, int thread) {                            \
        const nz_call_t *a = ctx;                                                             \
        xw_tile_##SUF(a->z, a->n, a->k, a->W, a->u, a->out, chunk / a->per_tile * TILE_VECS * \
                      (64 / sizeof(T)), chunk % a->per_tile * BLOCK_ROWS, thread);            \
    }                                                                                         \
    static void xw_##SUF(const nonzeros_t *z, Py_ssize_t n, Py_ssize_t k, const T *W,         \
                         Py_ssize_t u, T *restrict xi, int threads) {                         \
        enum { V = 64 / sizeof(T) };                                                          \
        const int32_t *row = z->row;                                                          \
        const T *cval = z->cval;                                                              \
        const Py_ssize_t whole = u / V * V, tiles = (whole / V + TILE_VECS - 1) / TILE_VECS;  \
        nz_call_t a = {z, n, k, u, W, xi, NULL, 0, 0, (int)tiles,                             \
                       (int)((n + BLOCK_ROWS - 1) / BLOCK_ROWS), {0}};                        \
        run_chunks(xw_chunk_##SUF, &a, (int)(tiles * a.per_tile), threads);                   \
        if (whole == u) return;                                                               \
        for (Py_ssize_t r = 0; r < n; r++) /* the last columns, one by one */                \
            for (Py_ssize_t j = whole; j < u; j++) xi[r * u + j] = (T)0;                      \
        const Py_ssize_t keys = (n + BLOCK_ROWS - 1) / BLOCK_ROWS * k;                        \
        for (Py_ssize_t key = 0; key < keys; key++) {                                         \
            const T *w = W + key % k * u;                                                     \
            for (int32_t c = z->col_ptr[key]; c < z->col_ptr[key + 1]; c++) {                 \
                T *o = xi + (Py_ssize_t)row[c] * u;                                           \
                for (Py_ssize_t j = whole; j < u; j++) o[j] = o[j] + cval[c] * w[j];          \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
    /* dW's (or W's) columns j0.. (one tile) on the input columns [i0, i1), i0 even */        \
    MULTIVERSION static void xtd_tile_##SUF(const nonzeros_t *z, Py_ssize_t n, Py_ssize_t k,  \
                                            const T *delta, Py_ssize_t u, T *out, int fold,   \
                                            T lr, Py_ssize_t j0, Py_ssize_t i0, Py_ssize_t i1,  \
                                            int pack, int thread) {                           \
        enum { V = 64 / sizeof(T) };                                                          \
        const int32_t *cp = z->col_ptr, *row = z->row;                                        \
        const T *cval = z->cval;                                                              \
        vec_##SUF *tile = z->tile[thread];                                                    \
        const Py_ssize_t whole = u / V * V, keys = (n + BLOCK_ROWS - 1) / BLOCK_ROWS * k;     \
        const Py_ssize_t m = (whole - j0) / V < TILE_VECS ? (whole - j0) / V : TILE_VECS;     \
        if (pack) /* delta's columns of the tile, (n, TILE_VECS) */                           \
            for (Py_ssize_t r = 0; r < n; r++)                                                \
                memcpy(tile + r * TILE_VECS, delta + r * u + j0, (size_t)m * sizeof *tile);   \
        for (Py_ssize_t i = i0; i < i1; i += 2) { /* two columns: two chains of sums */      \
            const Py_ssize_t i2 = i + 1 < k ? i + 1 : i; /* an odd last one: twice */         \
            vec_##SUF a[TILE_VECS] = {{0}}, b[TILE_VECS] = {{0}};                             \
            for (Py_ssize_t key = 0; key < keys; key += k) { /* rows ascending */            \
                int32_t ca = cp[key + i], cb = cp[key + i2];                                  \
                const int32_t ea = cp[key + i + 1], eb = cp[key + i2 + 1];                    \
                if (m == TILE_VECS) {                                                         \
                    vec_##SUF a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];                     \
                    vec_##SUF b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];                     \
                    for (; ca < ea && cb < eb; ca++, cb++) {                                  \
                        const T va = cval[ca], vb = cval[cb];                                 \
                        const vec_##SUF *da = tile + (Py_ssize_t)row[ca] * TILE_VECS;         \
                        const vec_##SUF *db = tile + (Py_ssize_t)row[cb] * TILE_VECS;         \
                        a0 = a0 + va * da[0];                                                 \
                        b0 = b0 + vb * db[0];                                                 \
                        a1 = a1 + va * da[1];                                                 \
                        b1 = b1 + vb * db[1];                                                 \
                        a2 = a2 + va * da[2];                                                 \
                        b2 = b2 + vb * db[2];                                                 \
                        a3 = a3 + va * da[3];                                                 \
                        b3 = b3 + vb * db[3];                                                 \
                    }                                                                         \
                    SUM_REST(ca, ea, a0, a1, a2, a3) /* the longer column's rest */           \
                    SUM_REST(cb, eb, b0, b1, b2, b3)                                          \
                    a[0] = a0, a[1] = a1, a[2] = a2, a[3] = a3;                               \
                    b[0] = b0, b[1] = b1, b[2] = b2, b[3] = b3;                               \
                }                                                                             \
                for (; ca < ea; ca++) {                                                       \
                    const vec_##SUF *d = tile + (Py_ssize_t)row[ca] * TILE_VECS;              \
                    for (Py_ssize_t q = 0; q < m; q++) a[q] = a[q] + cval[ca] * d[q];         \
                }                                                                             \
                for (; cb < eb; cb++) {                                                       \
                    const vec_##SUF *d = tile + (Py_ssize_t)row[cb] * TILE_VECS;              \
                    for (Py_ssize_t q = 0; q < m; q++) b[q] = b[q] + cval[cb] * d[q];         \
                }                                                                             \
            }                                                                                 \
            for (int second = 0; second < 1 + (i2 > i); second++) {                           \
                const Py_ssize_t at = second ? i2 : i;                                        \
                const vec_##SUF *sum = second ? b : a;                                        \
                uvec_##SUF *g = (uvec_##SUF *)(out + at * u + j0);                            \
                if (fold && !z->used[at]) continue;                                           \
                for (Py_ssize_t q = 0; q < m; q++)                                            \
                    g[q] = fold ? (vec_##SUF)g[q] - lr * sum[q] : sum[q];                     \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
    static void xtd_chunk_##SUF(void *ctx, int chunk, int thread) {                           \
        nz_call_t *a = ctx;                                                                   \
        /* the caller's chunks first (run_chunks): folded, W's columns as xw reads them;     \
           else dW's rows, as the update reads them */                                       \
        const int t = a->fold ? chunk / a->per_tile : chunk % a->tiles;                       \
        const int s = a->fold ? chunk % a->per_tile : chunk / a->tiles;                       \
        const Py_ssize_t j0 = (Py_ssize_t)t * TILE_VECS * (64 / sizeof(T));                   \
        const Py_ssize_t pairs = (a->k + 1) / 2, i0 = 2 * (pairs * s / a->per_tile);          \
        const Py_ssize_t i1 = Py_MIN(a->k, 2 * (pairs * (s + 1) / a->per_tile));              \
        const int pack = a->packed[thread] != t + 1; /* its work array holds another tile */  \
        a->packed[thread] = t + 1;                                                            \
        xtd_tile_##SUF(a->z, a->n, a->k, a->delta, a->u, a->out, a->fold, (T)a->lr, j0, i0, i1, \
                       pack, thread);                                                         \
    }                                                                                         \
    static void xtd_##SUF(const nonzeros_t *z, Py_ssize_t n, Py_ssize_t k, const T *delta,    \
                          Py_ssize_t u, T *out, int fold, T lr, int threads) {                \
        enum { V = 64 / sizeof(T) };                                                          \
        const int32_t *cp = z->col_ptr, *row = z->row;                                        \
        const T *cval = z->cval;                                                              \
        const Py_ssize_t whole = u / V * V, keys = (n + BLOCK_ROWS - 1) / BLOCK_ROWS * k;     \
        const Py_ssize_t tiles = (whole / V + TILE_VECS - 1) / TILE_VECS;                     \
        nz_call_t a = {z, n, k, u, NULL, out, delta, fold, lr, (int)tiles, XTD_SLICES, {0}};  \
        run_chunks(xtd_chunk_##SUF, &a, (int)(tiles * XTD_SLICES), threads);                  \
        for (Py_ssize_t i = 0; i < k && whole < u; i++) { /* the last columns, one by one */ \
            if (fold && !z->used[i]) continue;                                                \
            T *g = out + i * u;                                                               \
            for (Py_ssize_t j = whole; j < u; j++) {                                          \
                T acc = (T)0;                                                                 \
                for (Py_ssize_t key = i; key < keys; key += k)                                \
                    for (int32_t c = cp[key]; c < cp[key + 1]; c++)                           \
                        acc = acc + cval[c] * delta[(Py_ssize_t)row[c] * u + j];              \
                g[j] = fold ? g[j] - lr * acc : acc;                                          \
            }                                                                                 \
        }                                                                                     \
    }
NONZERO_IMPL(float, f32)
NONZERO_IMPL(double, f64)

/* The optimizer's update of one array inside the training step, NumPy's operations in order
 * (the same as the sgd, sgd_momentum, adam and rmsprop kernels): c holds the step's
 * coefficients, s1 and s2 the optimizer's slots for the array.
 *   OPT_SGD       c = (lr):                       w -= lr g
 *   OPT_MOMENTUM  c = (lr, mu):                   v = mu v - lr g; w += v
 *   OPT_NESTEROV  c = (lr, mu):                   v = mu v - lr g; w = (w - lr g) + mu v
 *   OPT_ADAM      c = (1-b1, 1-b2, eps, alpha_t): m, v, w as the adam kernel (m below the
 *                 smallest normal float becomes 0)
 *   OPT_RMSPROP   c = (1-rho, rho, eps, lr, mu):  as the rmsprop kernel (s2: momentum or NULL) */
enum { OPT_NONE, OPT_SGD, OPT_MOMENTUM, OPT_NESTEROV, OPT_ADAM, OPT_RMSPROP };

#define UPDATE_IMPL(T, SUF, TINY, SQRT, ABS)                                                  \
    MULTIVERSION static void update_##SUF(int opt, T *w, const T *g, T *s1, T *s2,           \
                                          Py_ssize_t n, const double *c) {                   \
        if (opt == OPT_SGD) {                                                                 \
            SGD_LOOP(T, w, g, n, c[0])                                                        \
        } else if (opt == OPT_MOMENTUM) {                                                     \
            const T a = (T)c[0], m = (T)c[1];                                                 \
            for (Py_ssize_t i = 0; i < n; i++) {                                              \
                const T vi = s1[i] * m - g[i] * a;                                            \
                s1[i] = vi;                                                                   \
                w[i] += vi;                                                                   \
            }                                                                                 \
        } else if (opt == OPT_NESTEROV) {                                                     \
            const T a = (T)c[0], m = (T)c[1];                                                 \
            for (Py_ssize_t i = 0; i < n; i++) {                                              \
                const T st = g[i] * a, vi = s1[i] * m - st;                                   \
                s1[i] = vi;                                                                   \
                w[i] = (w[i] - st) + vi * m;                                                  \
            }                                                                                 \
        } else if (opt == OPT_ADAM) {                                                         \
            const T c1 = (T)c[0], c2 = (T)c[1], e = (T)c[2], a = (T)c[3];                     \
            for (Py_ssize_t i = 0; i < n; i++) {                                              \
                const T gi = g[i];                                                            \
                T mi = s1[i] + c1 * (gi - s1[i]);                                             \
                const T vi = s2[i] + c2 * (gi * gi - s2[i]);                                  \
                mi *= (T)(ABS(mi) >= TINY);                                                   \
                s1[i] = mi;                                                                   \
                s2[i] = vi;                                                                   \
                w[i] -= a * (mi / (SQRT(vi) + e));                                            \
            }                                                                                 \
        } else if (opt == OPT_RMSPROP && s2) {                                                \
            const T cr = (T)c[0], r = (T)c[1], e = (T)c[2], a = (T)c[3], m = (T)c[4];        \
            for (Py_ssize_t i = 0; i < n; i++) {                                              \
                const T gi = g[i], vi = s1[i] * r + (gi * gi) * cr;                           \
                s1[i] = vi;                                                                   \
                const T bi = s2[i] * m + (gi / SQRT(vi + e)) * a;                             \
                s2[i] = bi;                                                                   \
                w[i] -= bi;                                                                   \
            }                                                                                 \
        } else if (opt == OPT_RMSPROP) {                                                      \
            const T cr = (T)c[0], r = (T)c[1], e = (T)c[2], a = (T)c[3];                      \
            for (Py_ssize_t i = 0; i < n; i++) {                                              \
                const T gi = g[i], vi = s1[i] * r + (gi * gi) * cr;                           \
                s1[i] = vi;                                                                   \
                w[i] -= (gi / SQRT(vi + e)) * a;                                              \
            }                                                                                 \
        }                                                                                     \
    }
UPDATE_IMPL(float, f32, FLT_MIN, sqrtf, fabsf)
UPDATE_IMPL(double, f64, DBL_MIN, sqrt, fabs)

/* The first layer's zero-skipping products and its optimizer update take the step's threads
 * where a second thread paid on the 2-core machines measured (MNIST, fit's epochs): from
 * PARALLEL_FMAS multiply-adds in a product (784-256 at batch 256, 784-512 at 128: 0.82-0.91x
 * the epoch), or an update that is not folded into X^T delta (an optimizer with slots) of a W
 * of PARALLEL_UPDATE bytes (784-256 float64 or 784-512 float32 at batch 32: 0.86-0.93x).
 * Below, they lost: up to 1.14x at batch 32 with folded SGD, 1.19x with float32 Adam on 784-256. */
#define PARALLEL_FMAS 4000000
#define PARALLEL_UPDATE (1 << 20)

/* The update of a (k, u) matrix on `threads` threads (see run_chunks), in chunks of
 * UPDATE_ROWS rows (the caller's chunks first, as the zero-skipping X^T delta takes them). */
#define UPDATE_ROWS 32
typedef struct {
    int opt;
    void *w, *s1, *s2;
    const void *g;
    Py_ssize_t k, u;
    const double *c;
} update_call_t;

#define UPDATE_CHUNK_IMPL(T, SUF)                                                             \
    static void update_chunk_##SUF(void *ctx, int chunk, int thread) {                        \
        (void)thread;                                                                         \
        const update_call_t *a = ctx;                                                         \
        const Py_ssize_t i0 = (Py_ssize_t)chunk * UPDATE_ROWS;                                \
        const Py_ssize_t at = i0 * a->u, m = Py_MIN(UPDATE_ROWS, a->k - i0) * a->u;           \
        T *s1 = a->s1, *s2 = a->s2;                                                           \
        update_##SUF(a->opt, (T *)a->w + at, (const T *)a->g + at, s1 ? s1 + at : NULL,       \
                     s2 ? s2 + at : NULL, m, a->c);                                           \
    }
UPDATE_CHUNK_IMPL(float, f32)
UPDATE_CHUNK_IMPL(double, f64)

static void update_threads(chunk_fn fn, int opt, void *w, const void *g, void *s1, void *s2,
                           Py_ssize_t k, Py_ssize_t u, const double *c, int threads) {
    update_call_t a = {opt, w, s1, s2, g, k, u, c};
    run_chunks(fn, &a, (int)((k + UPDATE_ROWS - 1) / UPDATE_ROWS), threads);
}

/* A dense product C (M, N) = alpha op(A) op(B) + beta C of at least PARALLEL_FMAS
 * multiply-adds runs as blocks of DENSE_BLOCK of C's columns (split 0) or rows (split 1), one
 * single-threaded BLAS call each, on the step's threads (see run_chunks). The blocks depend
 * on the shape alone, so any thread count gives the same bits; against one call for the
 * whole product only the rounding may differ (OpenBLAS picks its kernels by size). */
#define DENSE_BLOCK 128
typedef struct {
    const step_t *s;
    int ta, tb, split;
    Py_ssize_t M, N, K, lda, ldb, ldc;
    double alpha, beta;
    const void *A, *B;
    void *C;
} gemm_call_t;

/* The step's threads if one of its dense products (a layer after the first, or the first
 * when it does not skip zeros) is blocked, else 1. */
static int dense_threads(const step_t *s, int skip) {
    for (int l = skip ? 1 : 0; l < s->L; l++)
        if ((double)s->n * s->layer[l].k * s->layer[l].u >= PARALLEL_FMAS) return s->threads;
    return 1;
}

#define GEMM_BLOCKS_IMPL(T, SUF)                                                              \
    static void gemm_chunk_##SUF(void *ctx, int chunk, int thread) {                          \
        (void)thread;                                                                         \
        const gemm_call_t *g = ctx;                                                           \
        const Py_ssize_t at = (Py_ssize_t)chunk * DENSE_BLOCK;                                \
        const T *A = g->A, *B = g->B;                                                         \
        T *C = g->C;                                                                          \
        if (g->split) /* C's rows at..: op(A)'s rows */                                      \
            gemm_##SUF(g->s, g->ta, g->tb, Py_MIN(DENSE_BLOCK, g->M - at), g->N, g->K,         \
                       (T)g->alpha, A + (g->ta == NO_TRANS ? at * g->lda : at), g->lda, B,    \
                       g->ldb, (T)g->beta, C + at * g->ldc, g->ldc);                          \
        else /* C's columns at..: op(B)'s columns */                                         \
            gemm_##SUF(g->s, g->ta, g->tb, g->M, Py_MIN(DENSE_BLOCK, g->N - at), g->K,         \
                       (T)g->alpha, A, g->lda, B + (g->tb == NO_TRANS ? at : at * g->ldb),    \
                       g->ldb, (T)g->beta, C + at, g->ldc);                                   \
    }                                                                                         \
    static void gemm_blocks_##SUF(const step_t *s, int ta, int tb, int split, Py_ssize_t M,  \
                                  Py_ssize_t N, Py_ssize_t K, T alpha, const T *A,            \
                                  Py_ssize_t lda, const T *B, Py_ssize_t ldb, T beta, T *C,   \
                                  Py_ssize_t ldc) {                                           \
        const Py_ssize_t along = split ? M : N;                                               \
        if ((double)M * N * K < PARALLEL_FMAS || along <= DENSE_BLOCK) {                      \
            gemm_##SUF(s, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);              \
            return;                                                                           \
        }                                                                                     \
        gemm_call_t g = {s, ta, tb, split, M, N, K, lda, ldb, ldc, alpha, beta, A, B, C};     \
        run_chunks(gemm_chunk_##SUF, &g, (int)((along + DENSE_BLOCK - 1) / DENSE_BLOCK),      \
                   s->threads);                                                               \
    }
GEMM_BLOCKS_IMPL(float, f32)
GEMM_BLOCKS_IMPL(double, f64)

/* A layer's bias and f on rows [r0, r1) (and the Dropout after it: Y m). The sigmoid and tanh
 * (about 1-2 ns a value in float64) of a layer of at least PARALLEL_ROWS entries take the
 * step's threads in blocks of ROW_BLOCK rows; every entry is one row's, so the same bits. */
#define PARALLEL_ROWS 16384
#define ROW_BLOCK 32
typedef struct {
    const step_layer_t *p;
    Py_ssize_t n;
} rows_call_t;

#define ROWS_IMPL(T, SUF, EXP, SIGMOID_LOOP, TANH_LOOP)                                       \
    MULTIVERSION static void rows_##SUF(const step_layer_t *p, Py_ssize_t r0, Py_ssize_t r1) { \
        const Py_ssize_t u = p->u;                                                            \
        const T *b = p->a[S_B];                                                               \
        for (Py_ssize_t i = r0; i < r1; i++) { /* a row at a time in L1 */                    \
            T *r = (T *)p->a[S_XI] + i * u, *yr = (T *)p->a[S_Y] + i * u;                     \
            if (b)                                                                            \
                for (Py_ssize_t j = 0; j < u; j++) r[j] += b[j];                              \
            if (p->code == ACT_SIGMOID) SIGMOID_LOOP(r, yr, u, (T)p->slope);                  \
            else if (p->code == ACT_TANH) TANH_LOOP(r, yr, u, (T)p->slope);                   \
            else if (p->code == ACT_RELU) RELU_LOOP(T, r, yr, u)                              \
            else if (p->code == ACT_SOFTMAX) SOFTMAX_ROW(T, EXP, r, yr, u)                    \
            if (p->a[S_MASK]) { /* the Dropout layer after it: Y m */                         \
                const T *mr = (const T *)p->a[S_MASK] + i * u;                                \
                T *dr = (T *)p->a[S_YD] + i * u;                                              \
                for (Py_ssize_t j = 0; j < u; j++) dr[j] = yr[j] * mr[j];                     \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
    static void rows_chunk_##SUF(void *ctx, int chunk, int thread) {                          \
        (void)thread;                                                                         \
        const rows_call_t *a = ctx;                                                           \
        const Py_ssize_t r0 = (Py_ssize_t)chunk * ROW_BLOCK;                                  \
        rows_##SUF(a->p, r0, Py_MIN(a->n, r0 + ROW_BLOCK));                                   \
    }
ROWS_IMPL(float, f32, expf, sigmoid_loop, tanh_loop)
ROWS_IMPL(double, f64, exp, sigmoid_loop_f64, tanh_loop_f64)

#define RUN_STEP(T, SUF, EXP, LOG, LOG1P, SIGMOID_LOOP, TANH_LOOP)                                   \
    MULTIVERSION static int run_step_##SUF(step_t *s, T *X, const int64_t *d, const T *D,   \
                                            T *e, int update, T lr, const double *c,          \
                                            const T *src, const int64_t *rows) {              \
        const Py_ssize_t n = s->n;                                                            \
        const int L = s->L;                                                                   \
        const T *in = X;                                                                      \
        const int scan = s->threaded ? s->threads : 1; /* as the last step chose, below */    \
        wake_helpers(scan);                                                                   \
        const int scanned = n > 1 && s->nz.limit > 0; /* with rows, the scan gathers X */    \
        const Py_ssize_t nonzeros =                                                           \
            scanned ? nonzeros_##SUF(&s->nz, X, n, s->k0, scan, src, rows) : -1;              \
        for (Py_ssize_t r = 0; rows && !scanned && r < n; r++)                                \
            memcpy(X + r * s->k0, src + rows[r] * s->k0, (size_t)s->k0 * sizeof *X);          \
        const int skip = nonzeros >= 0, u0 = (int)s->layer[0].u;                              \
        /* the threads of the first layer's products and update (see PARALLEL_FMAS) */       \
        const int unfolded = update && !(s->opt == OPT_SGD && s->layer[0].fold);              \
        const size_t w_bytes = (size_t)s->layer[0].k * u0 * sizeof(T);                        \
        const int products = skip && (nonzeros * u0 >= PARALLEL_FMAS ||                       \
                                      (unfolded && w_bytes >= PARALLEL_UPDATE))               \
                                 ? s->threads : 1;                                            \
        s->threaded = products > 1;                                                           \
        const int helpers = products > 1 ? products : dense_threads(s, skip);                 \
        if (scan <= 1) wake_helpers(helpers);                                                 \
        for (int l = 0; l < L; l++) { /* forward */                                           \
            const step_layer_t *p = &s->layer[l];                                             \
            const Py_ssize_t k = p->k, u = p->u;                                              \
            T *xi = p->a[S_XI], *y = p->a[S_Y];                                               \
            const T *W = p->a[S_W];                                                           \
            if (!l && skip) /* Xi = X W over X's nonzeros */                                 \
                xw_##SUF(&s->nz, n, k, W, u, xi, products);                                  \
            else if (n == 1) /* NumPy's matmul: vector @ matrix is gemv on W (k, u) row-major */ \
                gemv_t_##SUF(s, ROW_MAJOR, k, u, W, u, in, xi);                               \
            else                                                                              \
                gemm_blocks_##SUF(s, NO_TRANS, NO_TRANS, 0, n, u, k, (T)1, in, k, W, u, (T)0, \
                                  xi, u);                                                     \
            if (helpers > 1 && n * u >= PARALLEL_ROWS &&                                      \
                (p->code == ACT_SIGMOID || p->code == ACT_TANH)) {                            \
                rows_call_t a = {p, n};                                                       \
                run_chunks(rows_chunk_##SUF, &a, (int)((n + ROW_BLOCK - 1) / ROW_BLOCK), helpers); \
            } else                                                                            \
                rows_##SUF(p, 0, n);                                                          \
            in = p->a[S_MASK] ? (const T *)p->a[S_YD] : y;                                    \
        }                                                                                     \
        const step_layer_t *last = &s->layer[L - 1];                                          \
        const Py_ssize_t K = last->u;                                                         \
        if (s->out == OUT_SPARSE) {                                                           \
            SPARSE_CE_LOOP(T, EXP, LOG, (const T *)last->a[S_XI], d, e, n, K)                 \
            CE_DELTA_LOOP(T, (const T *)last->a[S_Y], d, (T *)last->a[S_DELTA], n, K, s->c1)  \
        } else { /* ((Y - D) c1) c2, NumPy's operations one after the other */               \
            const T *y = last->a[S_Y];                                                        \
            T *o = last->a[S_DELTA];                                                          \
            const T c1 = (T)s->c1, c2 = (T)s->c2;                                             \
            for (Py_ssize_t i = 0; i < n * K; i++) o[i] = ((y[i] - D[i]) * c1) * c2;          \
            if (s->out == OUT_GRADIENT && last->code != ACT_LINEAR) {                         \
                const T *a = last->code == ACT_RELU ? last->a[S_XI] : last->a[S_Y];           \
                ACT_DELTA_LOOP(T, last->code, a, o, o, n * K, last->slope)                    \
            }                                                                                 \
        }                                                                                     \
        if (e && s->loss) {                                                                   \
            const T *a = s->loss == LOSS_BCE_LOGITS ? last->a[S_XI] : last->a[S_Y];           \
            LOSS_ROWS(T, EXP, LOG1P, s->loss, a, D, e, n, K, last->slope)                     \
        }                                                                                     \
        wake_helpers(helpers); /* for the products of the backward pass and the updates */   \
        for (int l = L - 1; l >= 0; l--) { /* backward */                                     \
            const step_layer_t *p = &s->layer[l];                                             \
            const Py_ssize_t k = p->k, u = p->u;                                              \
            T *W = p->a[S_W], *b = p->a[S_B], *dW = p->a[S_DW], *db = p->a[S_DB];             \
            T *delta = p->a[S_DELTA], *dX = p->a[S_DX];                                       \
            const T *prev = !l ? X : (const T *)s->layer[l - 1].a[s->layer[l - 1].a[S_MASK]  \
                                                                  ? S_YD : S_Y];              \
            const int hidden = l < L - 1 && p->code != ACT_LINEAR;                            \
            T *dY = hidden ? (T *)s->layer[l + 1].a[S_DX] : NULL;                             \
            const T *mask = p->a[S_MASK];                                                     \
            const T *a = p->code == ACT_RELU ? p->a[S_XI] : p->a[S_Y];                        \
            if (b) /* db = column sums of delta, added row after row onto +0 as NumPy's     \
                      add.reduce(axis=0) adds them (a column of -0 sums to +0, as there) */   \
                for (Py_ssize_t j = 0; j < u; j++) db[j] = (T)0;                              \
            for (Py_ssize_t i = 0; i < n; i++) { /* delta = f'(Xi) * dY and db by rows */     \
                T *dr = delta + i * u;                                                        \
                if (hidden) {                                                                 \
                    const T *ar = a + i * u;                                                  \
                    T *dyr = dY + i * u;                                                      \
                    if (mask) /* Dropout's backward first: dE/dY m */                         \
                        for (Py_ssize_t j = 0; j < u; j++) dyr[j] *= mask[i * u + j];         \
                    ACT_DELTA_LOOP(T, p->code, ar, dyr, dr, u, p->slope)                      \
                }                                                                             \
                if (b)                                                                        \
                    for (Py_ssize_t j = 0; j < u; j++) db[j] += dr[j];                        \
            }                                                                                 \
            if (dX && n == 1) /* delta @ W^T: gemv on W^T, i.e. W read column-major */       \
                gemv_t_##SUF(s, COL_MAJOR, u, k, W, u, delta, dX);                            \
            else if (dX)                                                                      \
                gemm_blocks_##SUF(s, NO_TRANS, TRANS, 0, n, k, u, (T)1, delta, u, W, u, (T)0, \
                                  dX, k);                                                     \
            const int sgd = update && s->opt == OPT_SGD;                                      \
            if (!l && skip) { /* the input's nonzeros, column by column */                    \
                xtd_##SUF(&s->nz, n, k, delta, u, sgd && p->fold ? W : dW, sgd && p->fold, lr,   \
                          products);                                                      \
                if (update && !(sgd && p->fold))                                              \
                    update_threads(update_chunk_##SUF, s->opt, W, dW, p->a[S_W1], p->a[S_W2], \
                                   k, u, c, products);                                        \
            } else if (sgd && p->fold && n == 1) OUTER_LOOP(T, W, prev, delta, k, u, lr)      \
            else if (sgd && p->fold)                                                          \
                gemm_blocks_##SUF(s, TRANS, NO_TRANS, 1, k, u, n, -lr, prev, k, delta, u, (T)1, \
                                  W, u);                                                      \
            else { /* dW = Y_prev^T delta; plain SGD then steps W <- W - lr dW */            \
                if (n == 1)                                                                   \
                    for (Py_ssize_t i = 0; i < k; i++)                                        \
                        for (Py_ssize_t j = 0; j < u; j++) dW[i * u + j] = prev[i] * delta[j];  \
                else                                                                          \
                    gemm_blocks_##SUF(s, TRANS, NO_TRANS, 1, k, u, n, (T)1, prev, k, delta, u,  \
                                      (T)0, dW, u);                                           \
                if (update)                                                                   \
                    update_threads(update_chunk_##SUF, s->opt, W, dW, p->a[S_W1], p->a[S_W2], \
                                   k, u, c, k * u * sizeof(T) >= PARALLEL_UPDATE ? s->threads \
                                                                                  : 1);       \
            }                                                                                 \
            if (b && update) update_##SUF(s->opt, b, db, p->a[S_B1], p->a[S_B2], u, c);       \
        }                                                                                     \
        return skip;                                                                          \
    }
RUN_STEP(float, f32, expf, logf, log1pf, sigmoid_loop, tanh_loop)
RUN_STEP(double, f64, exp, log, log1p, sigmoid_loop_f64, tanh_loop_f64)

static void nonzeros_free(nonzeros_t *z) {
    void *all[] = {z->col_ptr, z->row, z->mask, z->at, z->used, z->cval};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) PyMem_Free(all[i]);
    for (int t = 0; t < z->tiles; t++) PyMem_Free(z->tile_block[t]);
    memset(z, 0, sizeof *z);
}

/* Work arrays for `threads` threads (up to MAX_THREADS); returns how many there are. */
static int nonzeros_tiles(nonzeros_t *z, int threads, Py_ssize_t n) {
    for (; z->tiles < threads && z->tiles < MAX_THREADS; z->tiles++) {
        void *block = PyMem_Malloc((size_t)n * TILE_VECS * 64 + 64);
        if (!block) break;
        z->tile_block[z->tiles] = block;
        z->tile[z->tiles] = (void *)(((uintptr_t)block + 63) & ~(uintptr_t)63);
    }
    return z->tiles;
}

/* Room for up to `limit` nonzeros of an (n, k) input of `size`-byte floats and one thread's
 * (n, tile) work array; limit 0 allocates nothing. */
static int nonzeros_alloc(nonzeros_t *z, Py_ssize_t limit, Py_ssize_t n, Py_ssize_t k,
                          size_t size) {
    if (limit <= 0) return 0;
    if (limit > n * k) limit = n * k;
    const size_t m = (size_t)limit, keys = (size_t)((n + BLOCK_ROWS - 1) / BLOCK_ROWS * k);
    z->col_ptr = PyMem_Malloc((keys + 1) * sizeof(int32_t));
    z->row = PyMem_Malloc(m * sizeof(int32_t));
    z->cval = PyMem_Malloc(m * size);
    z->mask = PyMem_Malloc(keys * sizeof(uint64_t));
    z->at = PyMem_Malloc((size_t)((n + BLOCK_ROWS - 1) / BLOCK_ROWS + 1) * sizeof(Py_ssize_t));
    z->used = PyMem_Malloc((size_t)k * sizeof(int32_t));
    if (!z->col_ptr || !z->row || !z->cval || !z->mask || !z->at || !z->used ||
        !nonzeros_tiles(z, 1, n)) {
        nonzeros_free(z);
        PyErr_NoMemory();
        return -1;
    }
    z->limit = limit;
    return 0;
}

static void step_free(PyObject *capsule) {
    step_t *s = (step_t *)PyCapsule_GetPointer(capsule, "mlplab.step");
    if (s) {
        release(s->bufs, STEP_ARRAYS * MAX_LAYERS);
        nonzeros_free(&s->nz);
        PyMem_Free(s);
    }
}

/* Get array i of a layer tuple (the tuple's item i, or i + 3 for mask and Yd), of the plan's
 * float type, with `want` entries (or None where allowed). */
static int step_array(step_t *s, PyObject *t, int l, int i, Py_ssize_t want, int optional) {
    PyObject *obj = PyTuple_GET_ITEM(t, i < S_MASK ? i : i + 3);
    if (i >= S_W1 && (i == S_B1 || i == S_B2) && PyTuple_GET_ITEM(t, S_B) == Py_None)
        return 0;
    if (obj == Py_None && optional) return 0;
    if (get(obj, &s->bufs[STEP_ARRAYS * l + i], 1, &s->kind) < 0) return -1;
    if (count(&s->bufs[STEP_ARRAYS * l + i], s->kind) != want) {
        PyErr_Format(PyExc_TypeError, "layer %d: array %d must have %zd entries", l, i, want);
        return -1;
    }
    s->layer[l].a[i] = s->bufs[STEP_ARRAYS * l + i].view.buf;
    return 0;
}

static int hidden_code(int code) {
    return code == ACT_LINEAR || code == ACT_SIGMOID || code == ACT_TANH || code == ACT_RELU;
}

static PyObject *make_step(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (check_args(nargs, 11, "make_step") < 0) return NULL;
    PyObject *layers = args[0];
    const int L = layer_count(layers);
    if (L < 0) return NULL;
    step_t *s = (step_t *)PyMem_Calloc(1, sizeof(step_t));
    if (!s) return PyErr_NoMemory();
    PyObject *capsule = PyCapsule_New(s, "mlplab.step", step_free);
    if (!capsule) {
        PyMem_Free(s);
        return NULL;
    }
    s->L = L;
    s->n = PyLong_AsSsize_t(args[1]);
    s->gemm = PyLong_AsVoidPtr(args[2]);
    s->gemv = PyLong_AsVoidPtr(args[3]);
    s->blas64 = PyObject_IsTrue(args[4]);
    s->c1 = PyFloat_AsDouble(args[5]);
    s->c2 = PyFloat_AsDouble(args[6]);
    s->out = (int)PyLong_AsLong(args[7]);
    s->loss = (int)PyLong_AsLong(args[8]);
    s->opt = (int)PyLong_AsLong(args[9]);
    if (PyErr_Occurred()) goto fail;
    if (s->n < 1 || !s->gemm || !s->gemv || s->out < OUT_SPARSE || s->out > OUT_GRADIENT ||
        s->loss < LOSS_NONE || s->loss > LOSS_SSE || (s->out == OUT_SPARSE && s->loss) ||
        s->opt < OPT_NONE || s->opt > OPT_RMSPROP) {
        PyErr_SetString(PyExc_ValueError, "n must be positive, gemm and gemv addresses, out a mode");
        goto fail;
    }
    for (int l = 0; l < s->L; l++) {
        PyObject *t = PyTuple_GET_ITEM(layers, l);
        step_layer_t *p = &s->layer[l];
        if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 17) {
            PyErr_SetString(PyExc_TypeError, "each layer is a tuple of 17 items");
            goto fail;
        }
        buf_t *w = &s->bufs[STEP_ARRAYS * l];
        if (get(PyTuple_GET_ITEM(t, 0), w, 1, &s->kind) < 0) goto fail;
        if (w->view.ndim != 2 || (l && w->view.shape[0] != s->layer[l - 1].u)) {
            PyErr_SetString(PyExc_TypeError, "layer shapes do not chain");
            goto fail;
        }
        p->k = w->view.shape[0];
        p->u = w->view.shape[1];
        if (p->k < 2 || p->u < 2) { /* NumPy's matmul takes gemv or dot there */
            PyErr_SetString(PyExc_TypeError, "layers of one input or one unit are not served");
            goto fail;
        }
        p->a[S_W] = w->view.buf;
        p->code = (int)PyLong_AsLong(PyTuple_GET_ITEM(t, 8));
        p->slope = PyFloat_AsDouble(PyTuple_GET_ITEM(t, 9));
        p->fold = PyObject_IsTrue(PyTuple_GET_ITEM(t, 10));
        if (PyErr_Occurred()) goto fail;
        const Py_ssize_t ku = p->k * p->u, nu = s->n * p->u;
        if (step_array(s, t, l, S_B, p->u, 1) < 0 || step_array(s, t, l, S_DW, ku, 0) < 0 ||
            step_array(s, t, l, S_DB, p->u, 1) < 0 || step_array(s, t, l, S_XI, nu, 0) < 0 ||
            step_array(s, t, l, S_Y, nu, 0) < 0 || step_array(s, t, l, S_DELTA, nu, 0) < 0 ||
            step_array(s, t, l, S_DX, s->n * p->k, 1) < 0 ||
            step_array(s, t, l, S_MASK, nu, 1) < 0 || step_array(s, t, l, S_YD, nu, 1) < 0)
            goto fail;
        const int slots = s->opt == OPT_ADAM ? 2 : s->opt >= OPT_MOMENTUM ? 1 : 0;
        const int second = s->opt == OPT_ADAM ? 0 : 1; /* RMSprop's momentum: optional */
        if ((slots >= 1 && (step_array(s, t, l, S_W1, ku, 0) < 0 ||
                            step_array(s, t, l, S_B1, p->u, 0) < 0)) ||
            ((slots == 2 || s->opt == OPT_RMSPROP) &&
             (step_array(s, t, l, S_W2, ku, second) < 0 ||
              step_array(s, t, l, S_B2, p->u, second) < 0)))
            goto fail;
        if (p->fold && s->opt != OPT_SGD) {
            PyErr_SetString(PyExc_TypeError, "only plain SGD folds its update into a product");
            goto fail;
        }
        if ((!p->a[S_MASK]) != (!p->a[S_YD]) ||
            (p->a[S_MASK] && (l == s->L - 1 || p->code == ACT_LINEAR))) {
            PyErr_SetString(PyExc_TypeError, "dropout after a hidden nonlinear layer only");
            goto fail;
        }
        int ok = hidden_code(p->code);
        if (l == s->L - 1)
            ok = s->out == OUT_SPARSE ? p->code == ACT_SOFTMAX
                 : s->out == OUT_FUSED ? (p->code == ACT_SOFTMAX || p->code == ACT_SIGMOID)
                                       : ok;
        if (!ok || (!p->a[S_B]) != (!p->a[S_DB]) || (!p->a[S_DX]) != (l == 0) ||
            (p->code == ACT_LINEAR && p->a[S_Y] != p->a[S_XI])) {
            PyErr_SetString(PyExc_TypeError, "unsupported layer stack for the compiled step");
            goto fail;
        }
    }
    for (int l = 0; l < s->L - 1; l++)
        if (s->layer[l].code == ACT_LINEAR && s->layer[l].a[S_DELTA] != s->layer[l + 1].a[S_DX]) {
            PyErr_SetString(PyExc_TypeError, "a linear layer's delta must be the next dX");
            goto fail;
        }
    s->k0 = s->layer[0].k;
    { /* args[10]: the most nonzeros of an input the first layer's products skip zeros for */
        const Py_ssize_t limit = PyLong_AsSsize_t(args[10]);
        if (limit == -1 && PyErr_Occurred()) goto fail;
        if (s->n * s->k0 < INT32_MAX / 2 &&
            nonzeros_alloc(&s->nz, limit, s->n, s->k0, s->kind == 1 ? 4 : 8) < 0)
            goto fail;
    }
    return capsule;
fail:
    Py_DECREF(capsule);
    return NULL;
}

static PyObject *train_step(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    buf_t bufs[5];
    memset(bufs, 0, sizeof bufs);
    PyObject *result = NULL;
    if (check_args(nargs, 8, "train_step") < 0) return NULL;
    step_t *s = (step_t *)PyCapsule_GetPointer(args[0], "mlplab.step");
    if (!s) return NULL;
    const long threads = PyLong_AsLong(args[5]); /* of the zero-skipping products */
    if (threads == -1 && PyErr_Occurred()) return NULL;
    s->threads = s->nz.limit > 0 ? nonzeros_tiles(&s->nz, (int)Py_MAX(threads, 1), s->n)
                                 : (int)Py_MIN(Py_MAX(threads, 1), MAX_THREADS);
    /* args[4]: None (gradients only), the learning rate (plain SGD) or a tuple of the
     * optimizer's coefficients (see update_f32) */
    const int update = args[4] != Py_None && s->opt != OPT_NONE;
    double c[5] = {0, 0, 0, 0, 0};
    if (update && PyTuple_Check(args[4])) {
        const Py_ssize_t m = PyTuple_GET_SIZE(args[4]);
        for (Py_ssize_t i = 0; i < m && i < 5; i++) c[i] = PyFloat_AsDouble(PyTuple_GET_ITEM(args[4], i));
    } else if (update)
        c[0] = PyFloat_AsDouble(args[4]);
    const double lr = c[0];
    if (PyErr_Occurred()) return NULL;
    int kind = s->kind;
    const int sparse = s->out == OUT_SPARSE;
    const Py_ssize_t n = s->n, K = s->layer[s->L - 1].u;
    /* args[6], args[7]: None, or X's source (N, inputs) and the n rows of it that the step
       gathers into X (the scan reads them once) */
    const int gathers = args[7] != Py_None;
    if (get(args[1], &bufs[0], gathers, &kind) < 0) goto done;
    if (gathers && (get(args[6], &bufs[3], 0, &kind) < 0 || count(&bufs[3], kind) % s->k0 ||
                    get_indices(args[7], &bufs[4], n, count(&bufs[3], kind) / s->k0, "row") < 0)) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "source must be (N, inputs), rows n of [0, N)");
        goto done;
    }
    const int with_e = sparse || (s->loss && args[3] != Py_None);
    if ((with_e && get(args[3], &bufs[2], 1, &kind) < 0) ||
        (sparse ? get_indices(args[2], &bufs[1], n, K, "label") < 0
                : get(args[2], &bufs[1], 0, &kind) < 0))
        goto done;
    if (count(&bufs[0], kind) != n * s->k0 || (with_e && count(&bufs[2], kind) != n) ||
        (!sparse && count(&bufs[1], kind) != n * K)) {
        PyErr_SetString(PyExc_TypeError, "X must be (n, inputs), e (n,) or D (n, outputs)");
        goto done;
    }
    const int64_t *labels = sparse ? (const int64_t *)bufs[1].view.buf : NULL;
    void *D = sparse ? NULL : bufs[1].view.buf, *e = with_e ? bufs[2].view.buf : NULL;
    const int64_t *rows = gathers ? (const int64_t *)bufs[4].view.buf : NULL;
    int skipped;
    Py_BEGIN_ALLOW_THREADS
    if (kind == 1)
        skipped = run_step_f32(s, (float *)bufs[0].view.buf, labels, D, e, update, (float)lr,
                               c, bufs[3].view.buf, rows);
    else
        skipped = run_step_f64(s, (double *)bufs[0].view.buf, labels, D, e, update, lr, c,
                               bufs[3].view.buf, rows);
    Py_END_ALLOW_THREADS
    result = PyBool_FromLong(skipped); /* True: the first layer skipped the input's zeros */
done:
    release(bufs, 5);
    return result;
}

/* ------------------------------------------- all_finite(x, threads): x has no NaN and no infinity
 * The sum of x_i * 0 over x is exactly 0 when every x_i is finite (x_i 0 = +-0) and NaN when
 * one is not (inf 0 = NaN), in 16 lanes; slices of FINITE_SLICE values on run_chunks' threads
 * (the data check of fit reads all of x: memory-bound, a second core reads it faster). */
#define FINITE_SLICE (1 << 16)
typedef struct {
    const void *x;
    Py_ssize_t n;
    _Atomic int bad;
} finite_call_t;

#define FINITE_IMPL(T, SUF)                                                                   \
    MULTIVERSION static int finite_##SUF(const T *x, Py_ssize_t n) {                          \
        typedef T v_t __attribute__((vector_size(16 * sizeof(T))));                           \
        typedef T uv_t __attribute__((vector_size(16 * sizeof(T)), aligned(sizeof(T))));      \
        v_t acc = {0};                                                                        \
        Py_ssize_t i = 0;                                                                     \
        for (; i + 16 <= n; i += 16) acc = acc + *(const uv_t *)(x + i) * (T)0;               \
        T t = (T)0;                                                                           \
        for (; i < n; i++) t = t + x[i] * (T)0;                                               \
        for (int j = 0; j < 16; j++) t = t + acc[j];                                          \
        return t == (T)0;                                                                     \
    }                                                                                         \
    static void finite_chunk_##SUF(void *ctx, int chunk, int thread) {                        \
        (void)thread;                                                                         \
        finite_call_t *a = ctx;                                                               \
        const Py_ssize_t at = (Py_ssize_t)chunk * FINITE_SLICE;                               \
        if (!atomic_load(&a->bad) &&                                                          \
            !finite_##SUF((const T *)a->x + at, Py_MIN(FINITE_SLICE, a->n - at)))             \
            atomic_store(&a->bad, 1);                                                         \
    }
FINITE_IMPL(float, f32)
FINITE_IMPL(double, f64)

static PyObject *all_finite(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    buf_t b;
    memset(&b, 0, sizeof b);
    int kind = 0;
    if (check_args(nargs, 2, "all_finite") < 0) return NULL;
    const long threads = PyLong_AsLong(args[1]);
    if ((threads == -1 && PyErr_Occurred()) || get(args[0], &b, 0, &kind) < 0) {
        release(&b, 1);
        return NULL;
    }
    finite_call_t a = {b.view.buf, count(&b, kind), 0};
    const Py_ssize_t chunks = (a.n + FINITE_SLICE - 1) / FINITE_SLICE;
    Py_BEGIN_ALLOW_THREADS
    run_chunks(kind == 1 ? finite_chunk_f32 : finite_chunk_f64, &a, (int)chunks, /* over 0xffff: */
               (int)Py_MIN(Py_MAX(threads, 1), MAX_THREADS));          /* all on this thread */
    Py_END_ALLOW_THREADS
    release(&b, 1);
    return PyBool_FromLong(!a.bad);
}

static PyMethodDef methods[] = {
    {"sgd", (PyCFunction)(void (*)(void))sgd, METH_FASTCALL, "param -= lr * grad"},
    {"sgd_outer", (PyCFunction)(void (*)(void))sgd_outer, METH_FASTCALL,
     "W -= lr * outer(a, b)"},
    {"adam", (PyCFunction)(void (*)(void))adam, METH_FASTCALL, "Adam's fused step"},
    {"sgd_momentum", (PyCFunction)(void (*)(void))sgd_momentum, METH_FASTCALL,
     "SGD's momentum or Nesterov step"},
    {"rmsprop", (PyCFunction)(void (*)(void))rmsprop, METH_FASTCALL, "RMSprop's fused step"},
    {"forward", (PyCFunction)(void (*)(void))forward, METH_FASTCALL,
     "forward pass of dense layers for a few samples"},
    {"activation_f32", (PyCFunction)(void (*)(void))activation_f32, METH_FASTCALL,
     "float32 sigmoid or tanh of slope * xi"},
    {"relu", (PyCFunction)(void (*)(void))relu, METH_FASTCALL, "out = max(xi, 0)"},
    {"delta", (PyCFunction)(void (*)(void))delta, METH_FASTCALL,
     "delta = f'(xi) * dE/dY for relu or sigmoid"},
    {"softmax", (PyCFunction)(void (*)(void))softmax, METH_FASTCALL, "softmax of each row"},
    {"sparse_ce", (PyCFunction)(void (*)(void))sparse_ce, METH_FASTCALL,
     "cross-entropy of each row's logits against its integer label"},
    {"sparse_ce_delta", (PyCFunction)(void (*)(void))sparse_ce_delta, METH_FASTCALL,
     "(Y - one_hot(labels)) * scale"},
    {"per_sample", (PyCFunction)(void (*)(void))per_sample, METH_FASTCALL,
     "per-sample binary cross-entropy from logits, MSE or SSE"},
    {"make_step", (PyCFunction)(void (*)(void))make_step, METH_FASTCALL,
     "the plan of a compiled training step"},
    {"train_step", (PyCFunction)(void (*)(void))train_step, METH_FASTCALL,
     "one training step of a stack of dense layers"},
    {"all_finite", (PyCFunction)(void (*)(void))all_finite, METH_FASTCALL,
     "True when x has no NaN and no infinity"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ckernels",
                                    "mlplab's optional compiled kernels", -1, methods};

PyMODINIT_FUNC PyInit__ckernels(void) {
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    if (PyModule_AddIntConstant(m, "ACT_LINEAR", ACT_LINEAR) < 0 ||
        PyModule_AddIntConstant(m, "ACT_SIGMOID", ACT_SIGMOID) < 0 ||
        PyModule_AddIntConstant(m, "ACT_TANH", ACT_TANH) < 0 ||
        PyModule_AddIntConstant(m, "ACT_RELU", ACT_RELU) < 0 ||
        PyModule_AddIntConstant(m, "ACT_SOFTMAX", ACT_SOFTMAX) < 0 ||
        PyModule_AddIntConstant(m, "OUT_SPARSE", OUT_SPARSE) < 0 ||
        PyModule_AddIntConstant(m, "OUT_FUSED", OUT_FUSED) < 0 ||
        PyModule_AddIntConstant(m, "OUT_GRADIENT", OUT_GRADIENT) < 0 ||
        PyModule_AddIntConstant(m, "LOSS_NONE", LOSS_NONE) < 0 ||
        PyModule_AddIntConstant(m, "LOSS_BCE_LOGITS", LOSS_BCE_LOGITS) < 0 ||
        PyModule_AddIntConstant(m, "LOSS_MSE", LOSS_MSE) < 0 ||
        PyModule_AddIntConstant(m, "LOSS_SSE", LOSS_SSE) < 0 ||
        PyModule_AddIntConstant(m, "OPT_NONE", OPT_NONE) < 0 ||
        PyModule_AddIntConstant(m, "OPT_SGD", OPT_SGD) < 0 ||
        PyModule_AddIntConstant(m, "OPT_MOMENTUM", OPT_MOMENTUM) < 0 ||
        PyModule_AddIntConstant(m, "OPT_NESTEROV", OPT_NESTEROV) < 0 ||
        PyModule_AddIntConstant(m, "OPT_ADAM", OPT_ADAM) < 0 ||
        PyModule_AddIntConstant(m, "OPT_RMSPROP", OPT_RMSPROP) < 0 ||
        PyModule_AddIntConstant(m, "MAX_LAYERS", MAX_LAYERS) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
