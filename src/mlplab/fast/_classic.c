/* The classic rules compiled: one epoch of the perceptron rule, the LMS / delta rule of linear
 * units (online, normalized, mini-batch, batch) and Madaline Rule I, in one C loop each.
 *
 * Each loop performs the float operations of its Python rule (mlplab/neurons) in the same
 * order: the elementwise updates are written out as NumPy evaluates them (compiled without
 * fast-math and without fused multiply-adds), and every product NumPy's matmul hands to BLAS
 * (x @ W, X_b @ W, X_b^T @ delta) is the same BLAS call here, on the same OpenBLAS that NumPy
 * ships (the caller finds cblas_ddot, cblas_dgemv and cblas_dgemm there and passes their
 * addresses to set_blas). NumPy's matmul picks the call by shape (numpy/_core/src/umath/
 * matmul.c.src), and so does matmul() below:
 *   (1, n) @ (n, 1)   0.0 + ddot                       (DOUBLE_dot)
 *   (m, 1) @ (1, k)   0.0 + a * b per entry            (no BLAS for an inner length of 1)
 *   (1, n) @ (n, k)   gemv on the matrix, transposed   (vector @ matrix)
 *   (m, n) @ (n, 1)   gemv                             (matrix @ vector)
 *   (m, n) @ (n, k)   gemm, row-major                  (matrix @ matrix)
 * so the weights come out bit for bit the Python rule's; tests/fast/test_classic.py checks it.
 * Arrays are float64 and C-contiguous (the caller, classic.py, makes sure; anything else is a
 * TypeError). The shuffled order is drawn in Python, with the Python rule's rng calls.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

enum { ROW_MAJOR = 101, COL_MAJOR = 102, NO_TRANS = 111, TRANS = 112 };

typedef double (*ddot64_fn)(int64_t, const double *, int64_t, const double *, int64_t);
typedef double (*ddot32_fn)(int, const double *, int, const double *, int);
typedef void (*dgemv64_fn)(int, int, int64_t, int64_t, double, const double *, int64_t,
                           const double *, int64_t, double, double *, int64_t);
typedef void (*dgemv32_fn)(int, int, int, int, double, const double *, int, const double *, int,
                           double, double *, int);
typedef void (*dgemm64_fn)(int, int, int, int64_t, int64_t, int64_t, double, const double *,
                           int64_t, const double *, int64_t, double, double *, int64_t);
typedef void (*dgemm32_fn)(int, int, int, int, int, int, double, const double *, int,
                           const double *, int, double, double *, int);

static struct {
    void *dot, *gemv, *gemm;
    int blas64;
} blas;

static double ddot(Py_ssize_t n, const double *x, const double *y) {
    if (blas.blas64) return ((ddot64_fn)blas.dot)(n, x, 1, y, 1);
    return ((ddot32_fn)blas.dot)((int)n, x, 1, y, 1);
}

static void dgemv(int order, int trans, Py_ssize_t M, Py_ssize_t N, const double *A,
                  Py_ssize_t lda, const double *x, double *y) {
    if (blas.blas64)
        ((dgemv64_fn)blas.gemv)(order, trans, M, N, 1.0, A, lda, x, 1, 0.0, y, 1);
    else
        ((dgemv32_fn)blas.gemv)(order, trans, (int)M, (int)N, 1.0, A, (int)lda, x, 1, 0.0, y, 1);
}

static void dgemm(int ta, Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const double *A,
                  Py_ssize_t lda, const double *B, Py_ssize_t ldb, double *C, Py_ssize_t ldc) {
    if (blas.blas64)
        ((dgemm64_fn)blas.gemm)(ROW_MAJOR, ta, NO_TRANS, M, N, K, 1.0, A, lda, B, ldb, 0.0, C,
                                ldc);
    else
        ((dgemm32_fn)blas.gemm)(ROW_MAJOR, ta, NO_TRANS, (int)M, (int)N, (int)K, 1.0, A,
                                (int)lda, B, (int)ldb, 0.0, C, (int)ldc);
}

/* out (m, k) = A @ B for A (m, n) and B (n, k), both C-contiguous; transposed: A^T @ B for A
 * (n, m), as NumPy's matmul computes x_b.T @ delta. */
static void matmul(int transposed, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, const double *A,
                   const double *B, double *out) {
    if (m == 1 && k == 1) {
        out[0] = 0.0 + ddot(n, A, B);
    } else if (n == 1) {
        for (Py_ssize_t i = 0; i < m; i++)
            for (Py_ssize_t j = 0; j < k; j++) out[i * k + j] = 0.0 + A[i] * B[j];
    } else if (m == 1) { /* vector @ matrix: y = B^T a */
        dgemv(ROW_MAJOR, TRANS, n, k, B, k, A, out);
    } else if (k == 1) { /* matrix @ vector */
        if (transposed)
            dgemv(ROW_MAJOR, TRANS, n, m, A, m, B, out);
        else
            dgemv(ROW_MAJOR, NO_TRANS, m, n, A, n, B, out);
    } else if (transposed) {
        dgemm(TRANS, m, k, n, A, m, B, k, out, k);
    } else {
        dgemm(NO_TRANS, m, k, n, A, n, B, k, out, k);
    }
}

/* W <- W + alpha * outer(x, e) for W (F, K), as NumPy's alpha * np.outer(x, e) (plus_zero:
 * alpha * (x.T @ e), whose entries are 0.0 + x_f e_k); one output unit gets its own loop,
 * which the compiler vectorizes. */
static void outer_update(double *W, Py_ssize_t F, Py_ssize_t K, double alpha, const double *x,
                         const double *e, int plus_zero) {
    if (K == 1) {
        const double e0 = e[0];
        if (plus_zero)
            for (Py_ssize_t f = 0; f < F; f++) W[f] += alpha * (0.0 + x[f] * e0);
        else
            for (Py_ssize_t f = 0; f < F; f++) W[f] += alpha * (x[f] * e0);
        return;
    }
    for (Py_ssize_t f = 0; f < F; f++)
        for (Py_ssize_t k = 0; k < K; k++)
            W[f * K + k] += alpha * (plus_zero ? 0.0 + x[f] * e[k] : x[f] * e[k]);
}

/* ------------------------------------------------------------------ buffers */
typedef struct {
    Py_buffer v;
    int held;
} buf_t;

/* A C-contiguous float64 (kind 'd') or int64 (kind 'q') buffer of exactly `count` items;
 * None gives NULL where `optional`. */
static int get(PyObject *obj, buf_t *b, int writable, char kind, Py_ssize_t count,
               int optional, void **data) {
    *data = NULL;
    if (obj == Py_None && optional) return 0;
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &b->v, flags) < 0) return -1;
    b->held = 1;
    const char *f = b->v.format ? b->v.format : "B";
    if (*f == '@' || *f == '=' || *f == '<') f++;
    int ok = b->v.itemsize == 8 && f[1] == 0 &&
             (kind == 'd' ? f[0] == 'd' : (f[0] == 'q' || f[0] == 'l'));
    if (!ok || b->v.len < count * 8) {
        PyErr_Format(PyExc_TypeError, "expected a C-contiguous %s array of %zd items",
                     kind == 'd' ? "float64" : "int64", count);
        return -1;
    }
    *data = b->v.buf;
    return 0;
}

static void release(buf_t *b, int n) {
    for (int i = 0; i < n; i++)
        if (b[i].held) PyBuffer_Release(&b[i].v);
}

/* The sample at step i of the epoch: order[i], or i where the order is None (no shuffling). */
static int check_order(const int64_t *order, Py_ssize_t N) {
    if (order)
        for (Py_ssize_t i = 0; i < N; i++)
            if (order[i] < 0 || order[i] >= N) {
                PyErr_SetString(PyExc_IndexError, "order holds an index out of range");
                return -1;
            }
    return 0;
}
#define SAMPLE(order, i) ((order) ? (Py_ssize_t)(order)[i] : (i))

/* Ask for the row of the sample `ahead` steps on, so that a shuffled order does not wait for
 * memory at each sample (it changes no result). */
static inline void prefetch_row(const double *X, Py_ssize_t F, const int64_t *order,
                                Py_ssize_t i, Py_ssize_t N) {
    enum { AHEAD = 4 };
    if (i + AHEAD >= N) return;
    const char *row = (const char *)(X + SAMPLE(order, i + AHEAD) * F);
    for (Py_ssize_t b = 0; b < F * (Py_ssize_t)sizeof(double); b += 64) __builtin_prefetch(row + b);
}

static PyObject *set_blas(PyObject *self, PyObject *args) {
    PyObject *dot, *gemv, *gemm;
    int blas64;
    if (!PyArg_ParseTuple(args, "OOOp", &dot, &gemv, &gemm, &blas64)) return NULL;
    blas.dot = PyLong_AsVoidPtr(dot);
    blas.gemv = PyLong_AsVoidPtr(gemv);
    blas.gemm = PyLong_AsVoidPtr(gemm);
    blas.blas64 = blas64;
    if (PyErr_Occurred()) return NULL;
    Py_RETURN_NONE;
}

static int blas_ready(void) {
    if (blas.dot && blas.gemv && blas.gemm) return 1;
    PyErr_SetString(PyExc_RuntimeError, "set_blas() first");
    return 0;
}

/* product((m, n, k), transposed, A, B, out): out = A @ B (A^T @ B) by matmul() above, for
 * classic.py to check once against NumPy's @ before it trusts the BLAS it found. */
static PyObject *product(PyObject *self, PyObject *args) {
    PyObject *oA, *oB, *oout;
    Py_ssize_t m, n, k;
    int transposed;
    if (!PyArg_ParseTuple(args, "(nnn)pOOO", &m, &n, &k, &transposed, &oA, &oB, &oout))
        return NULL;
    if (!blas_ready()) return NULL;
    buf_t b[3];
    memset(b, 0, sizeof b);
    double *A, *B, *out;
    PyObject *result = NULL;
    if (m < 1 || n < 1 || k < 1) {
        PyErr_SetString(PyExc_ValueError, "m, n and k must be positive");
        return NULL;
    }
    if (get(oA, &b[0], 0, 'd', m * n, 0, (void **)&A) == 0 &&
        get(oB, &b[1], 0, 'd', n * k, 0, (void **)&B) == 0 &&
        get(oout, &b[2], 1, 'd', m * k, 0, (void **)&out) == 0) {
        matmul(transposed, m, n, k, A, B, out);
        result = Py_NewRef(Py_None);
    }
    release(b, 3);
    return result;
}

/* ------------------------------------------------------------------ the perceptron rule
 * perceptron_epoch(X, T, W, order, alpha, bipolar, updated, snapshots) -> n_wrong
 * Reference: Perceptron._epoch. For each sample p: y = f(x_p @ W) (U: xi > 0; sgn: xi >= 0),
 * and where any y != t, W <- W + alpha * outer(x_p, t - y); updated[j] = p of the j-th update,
 * snapshots[j] = W after it (None: not kept). x_p is a row of X, as NumPy's X[p] is a view. */
static PyObject *perceptron_epoch(PyObject *self, PyObject *args) {
    PyObject *oX, *oT, *oW, *oorder, *oupd, *osnap;
    Py_ssize_t N, F, K;
    double alpha;
    int bipolar;
    if (!PyArg_ParseTuple(args, "(nnn)OOOOdpOO", &N, &F, &K, &oX, &oT, &oW, &oorder, &alpha,
                          &bipolar, &oupd, &osnap))
        return NULL;
    if (!blas_ready()) return NULL;
    buf_t b[6];
    memset(b, 0, sizeof b);
    double *X, *T, *W, *snap;
    int64_t *order, *upd;
    PyObject *result = NULL;
    double *xi = NULL, *e = NULL;
    if (get(oX, &b[0], 0, 'd', N * F, 0, (void **)&X) < 0 ||
        get(oT, &b[1], 0, 'd', N * K, 0, (void **)&T) < 0 ||
        get(oW, &b[2], 1, 'd', F * K, 0, (void **)&W) < 0 ||
        get(oorder, &b[3], 0, 'q', N, 1, (void **)&order) < 0 ||
        get(oupd, &b[4], 1, 'q', N, 0, (void **)&upd) < 0 ||
        get(osnap, &b[5], 1, 'd', N * F * K, 1, (void **)&snap) < 0 || check_order(order, N) < 0)
        goto done;
    xi = PyMem_Malloc(2 * K * sizeof(double));
    if (!xi) {
        PyErr_NoMemory();
        goto done;
    }
    e = xi + K;
    Py_ssize_t n_wrong = 0;
    for (Py_ssize_t i = 0; i < N; i++) {
        const Py_ssize_t p = SAMPLE(order, i);
        const double *x = X + p * F, *t = T + p * K;
        prefetch_row(X, F, order, i, N);
        matmul(0, 1, F, K, x, W, xi);
        int wrong = 0;
        for (Py_ssize_t k = 0; k < K; k++) {
            const double y = bipolar ? (xi[k] >= 0 ? 1.0 : -1.0) : (xi[k] > 0 ? 1.0 : 0.0);
            e[k] = t[k] - y;
            wrong |= y != t[k];
        }
        if (!wrong) continue;
        outer_update(W, F, K, alpha, x, e, 0);
        upd[n_wrong] = p;
        if (snap) memcpy(snap + n_wrong * F * K, W, F * K * sizeof(double));
        n_wrong++;
    }
    result = PyLong_FromSsize_t(n_wrong);
done:
    PyMem_Free(xi);
    release(b, 6);
    return result;
}

/* ------------------------------------------------------------------ the LMS / delta rule
 * lms_epoch(X, D, W, order, batch_size, alpha, sq_norm, x_b, d_b, xi, dW)
 * Reference: _DeltaRule._epoch for linear units. For each batch idx of the order:
 * x_b = X[idx], d_b = D[idx], delta = d_b - x_b @ W (normalized: / sq_norm[idx]),
 * W <- W + alpha * (x_b.T @ delta). x_b, d_b, xi and dW are work arrays of batch_size rows
 * (allocated by NumPy, as X[idx] is); online, and for one batch in the given order, the loop
 * reads X in place (the BLAS kernels give the same sums at any address). */
static PyObject *lms_epoch(PyObject *self, PyObject *args) {
    PyObject *oX, *oD, *oW, *oorder, *osq, *oxb, *odb, *oxi, *odw;
    Py_ssize_t N, F, K, bs;
    double alpha;
    if (!PyArg_ParseTuple(args, "(nnn)OOOOndOOOOO", &N, &F, &K, &oX, &oD, &oW, &oorder, &bs,
                          &alpha, &osq, &oxb, &odb, &oxi, &odw))
        return NULL;
    if (!blas_ready()) return NULL;
    if (bs < 1) {
        PyErr_SetString(PyExc_ValueError, "batch_size must be positive");
        return NULL;
    }
    buf_t b[9];
    memset(b, 0, sizeof b);
    double *X, *D, *W, *sq, *xb, *db, *xi, *dW;
    int64_t *order;
    PyObject *result = NULL;
    if (get(oX, &b[0], 0, 'd', N * F, 0, (void **)&X) < 0 ||
        get(oD, &b[1], 0, 'd', N * K, 0, (void **)&D) < 0 ||
        get(oW, &b[2], 1, 'd', F * K, 0, (void **)&W) < 0 ||
        get(oorder, &b[3], 0, 'q', N, 1, (void **)&order) < 0 ||
        get(osq, &b[4], 0, 'd', N, 1, (void **)&sq) < 0 ||
        get(oxb, &b[5], 1, 'd', bs * F, 0, (void **)&xb) < 0 ||
        get(odb, &b[6], 1, 'd', bs * K, 0, (void **)&db) < 0 ||
        get(oxi, &b[7], 1, 'd', bs * K, 0, (void **)&xi) < 0 ||
        get(odw, &b[8], 1, 'd', F * K, 0, (void **)&dW) < 0 || check_order(order, N) < 0)
        goto done;
    if (bs == 1) { /* online: x_b is the row itself, and x_b.T @ delta an outer product */
        for (Py_ssize_t i = 0; i < N; i++) {
            const Py_ssize_t p = SAMPLE(order, i);
            const double *x = X + p * F, *d = D + p * K;
            prefetch_row(X, F, order, i, N);
            matmul(0, 1, F, K, x, W, xi);
            for (Py_ssize_t k = 0; k < K; k++) db[k] = sq ? (d[k] - xi[k]) / sq[p] : d[k] - xi[k];
            outer_update(W, F, K, alpha, x, db, 1);
        }
        result = Py_NewRef(Py_None);
        goto done;
    }
    if (bs >= N && !order) { /* batch in the given order: X[idx] is X */
        matmul(0, N, F, K, X, W, xi);
        for (Py_ssize_t j = 0; j < N * K; j++) /* normalized needs batch_size 1: never here */
            db[j] = D[j] - xi[j];
        matmul(1, F, N, K, X, db, dW);
        for (Py_ssize_t j = 0; j < F * K; j++) W[j] += alpha * dW[j];
        result = Py_NewRef(Py_None);
        goto done;
    }
    for (Py_ssize_t start = 0; start < N; start += bs) {
        const Py_ssize_t n = N - start < bs ? N - start : bs;
        for (Py_ssize_t r = 0; r < n; r++) {
            const Py_ssize_t p = SAMPLE(order, start + r);
            memcpy(xb + r * F, X + p * F, F * sizeof(double));
            memcpy(db + r * K, D + p * K, K * sizeof(double));
        }
        matmul(0, n, F, K, xb, W, xi);
        for (Py_ssize_t r = 0; r < n; r++) { /* delta = d_b - y, in place of d_b */
            const double s = sq ? sq[SAMPLE(order, start + r)] : 1.0;
            for (Py_ssize_t k = 0; k < K; k++) {
                const double d = db[r * K + k] - xi[r * K + k];
                db[r * K + k] = sq ? d / s : d;
            }
        }
        matmul(1, F, n, K, xb, db, dW);
        for (Py_ssize_t j = 0; j < F * K; j++) W[j] += alpha * dW[j];
    }
    result = Py_NewRef(Py_None);
done:
    release(b, 9);
    return result;
}

/* ------------------------------------------------------------------ Madaline Rule I
 * madaline_epoch(X, T, W, order, alpha, m) -> n_wrong
 * Reference: Madaline._epoch. For each sample p: xi = x_p @ W, s = sgn(xi); when the logic
 * unit (at least m of s positive) misses t, the k Adalines on the wrong side with the smallest
 * |xi| (a stable sort, NaN last as NumPy's) move: W[:, j] += alpha * outer(x_p, t - xi_j)
 * / (x_p @ x_p). */
static int before(double a, double b) { return a < b || (isnan(b) && !isnan(a)); }

static PyObject *madaline_epoch(PyObject *self, PyObject *args) {
    PyObject *oX, *oT, *oW, *oorder;
    Py_ssize_t N, F, K, m;
    double alpha;
    if (!PyArg_ParseTuple(args, "(nnn)OOOOdn", &N, &F, &K, &oX, &oT, &oW, &oorder, &alpha, &m))
        return NULL;
    if (!blas_ready()) return NULL;
    buf_t b[4];
    memset(b, 0, sizeof b);
    double *X, *T, *W, *xi = NULL;
    int64_t *order;
    Py_ssize_t *chosen = NULL;
    PyObject *result = NULL;
    if (get(oX, &b[0], 0, 'd', N * F, 0, (void **)&X) < 0 ||
        get(oT, &b[1], 0, 'd', N, 0, (void **)&T) < 0 ||
        get(oW, &b[2], 1, 'd', F * K, 0, (void **)&W) < 0 ||
        get(oorder, &b[3], 0, 'q', N, 1, (void **)&order) < 0 || check_order(order, N) < 0)
        goto done;
    xi = PyMem_Malloc(K * sizeof(double));
    chosen = PyMem_Malloc(K * sizeof(Py_ssize_t));
    if (!xi || !chosen) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t n_wrong = 0;
    for (Py_ssize_t i = 0; i < N; i++) {
        const Py_ssize_t p = SAMPLE(order, i);
        const double *x = X + p * F, t = T[p];
        prefetch_row(X, F, order, i, N);
        matmul(0, 1, F, K, x, W, xi);
        Py_ssize_t n_plus = 0;
        for (Py_ssize_t j = 0; j < K; j++) n_plus += xi[j] >= 0;
        if ((n_plus >= m ? 1.0 : -1.0) == t) continue;
        n_wrong++;
        Py_ssize_t n_side = 0; /* the wrong side, by stable insertion on |xi| */
        for (Py_ssize_t j = 0; j < K; j++) {
            if ((xi[j] >= 0 ? 1.0 : -1.0) == t) continue;
            Py_ssize_t at = n_side++;
            while (at > 0 && before(fabs(xi[j]), fabs(xi[chosen[at - 1]]))) {
                chosen[at] = chosen[at - 1];
                at--;
            }
            chosen[at] = j;
        }
        Py_ssize_t k = t > 0 ? m - n_plus : n_plus - m + 1;
        if (k > n_side) k = n_side;
        const double sq = 0.0 + ddot(F, x, x);
        for (Py_ssize_t f = 0; f < F; f++)
            for (Py_ssize_t c = 0; c < k; c++) {
                const Py_ssize_t j = chosen[c];
                W[f * K + j] += alpha * (x[f] * (t - xi[j])) / sq;
            }
    }
    result = PyLong_FromSsize_t(n_wrong);
done:
    PyMem_Free(xi);
    PyMem_Free(chosen);
    release(b, 4);
    return result;
}

static PyMethodDef methods[] = {
    {"set_blas", set_blas, METH_VARARGS, "set_blas(ddot, dgemv, dgemm, blas64): BLAS addresses"},
    {"product", product, METH_VARARGS, "out = A @ B (or A.T @ B) as the loops compute it"},
    {"perceptron_epoch", perceptron_epoch, METH_VARARGS, "one epoch of the perceptron rule"},
    {"lms_epoch", lms_epoch, METH_VARARGS, "one epoch of the LMS rule of linear units"},
    {"madaline_epoch", madaline_epoch, METH_VARARGS, "one epoch of Madaline Rule I"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_classic",
                                    "the classic neurons' rules, compiled", -1, methods};

PyMODINIT_FUNC PyInit__classic(void) { return PyModule_Create(&module); }
