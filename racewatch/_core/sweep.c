/* The sweep of deleted keys: a dict whose keys come and go forever keeps a bounded shadow
 * (shadow._sweep, the reference, says why and when). */

#include "engine.h"

static PyObject *str_min_clock;

/* shadow.SWEEP_STEP */
#define RW_SWEEP_STEP 1024
/* The fewest records a piece of the walk's snapshot takes. */
#define PIECE_MIN 64

int
rw_sweep_ready(void)
{
    if (str_min_clock == NULL) {
        str_min_clock = PyUnicode_InternFromString("min_clock");
    }
    return str_min_clock != NULL ? 0 : -1;
}

/* -- the sweep of deleted keys (shadow._sweep) ----------------------------------------------- */

/* The number of keys of container ``d`` (a shadow of kind ``sh``), or -1. */
static Py_ssize_t
container_size(RW_Shadow *sh, PyObject *d)
{
    switch (sh->kind_id) {
    case RW_KIND_LIST:
        return PyList_GET_SIZE(d);
    case RW_KIND_SET:
        return PySet_GET_SIZE(d);
    default:
        return PyDict_Size(d);
    }
}

/* Whether ``key`` is a key of container ``d`` now: 1, 0 or -1. */
static int
container_contains(RW_Shadow *sh, PyObject *d, PyObject *key)
{
    switch (sh->kind_id) {
    case RW_KIND_LIST: {
        if (!PyLong_Check(key)) {
            return 0;
        }
        Py_ssize_t i = PyLong_AsSsize_t(key);
        if (i == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        return 0 <= i && i < PyList_GET_SIZE(d);
    }
    case RW_KIND_SET:
        return PySet_Contains(d, key);
    default:
        return PyDict_Contains(d, key);
    }
}

/* The keys of container ``d`` now, as a new list (a list's keys are its indexes). */
PyObject *
rw_keys_now(RW_Shadow *sh, PyObject *d)
{
    switch (sh->kind_id) {
    case RW_KIND_LIST: {
        Py_ssize_t n = PyList_GET_SIZE(d);
        PyObject *keys = PyList_New(n);
        for (Py_ssize_t i = 0; keys != NULL && i < n; i++) {
            PyObject *index = PyLong_FromSsize_t(i);
            if (index == NULL) {
                Py_CLEAR(keys);
                break;
            }
            PyList_SET_ITEM(keys, i, index);
        }
        return keys;
    }
    case RW_KIND_SET:
        return PySequence_List(d);
    default:
        return PyDict_Keys(d);
    }
}

long long *
rw_min_clocks(Py_ssize_t *n)
{
    PyObject *minc_list = PyObject_CallMethodNoArgs(rw_registry, str_min_clock);
    if (minc_list == NULL) {
        return NULL;
    }
    PyObject *minc_fast = PySequence_Fast(minc_list, "min_clock() must give a sequence");
    Py_DECREF(minc_list);
    if (minc_fast == NULL) {
        return NULL;
    }
    *n = PySequence_Fast_GET_SIZE(minc_fast);
    long long *minc = PyMem_Malloc((size_t)(*n ? *n : 1) * sizeof(long long));
    if (minc == NULL) {
        Py_DECREF(minc_fast);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < *n; i++) {
        minc[i] = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(minc_fast, i));
    }
    Py_DECREF(minc_fast);
    if (PyErr_Occurred()) {
        PyMem_Free(minc);
        return NULL;
    }
    return minc;
}

/* A sweep's walk: what it forgot, and how many of those were still unordered. */
typedef struct {
    Py_ssize_t excess;      /* locations to let go, beyond the container's keys and budget */
    Py_ssize_t forgotten;
    Py_ssize_t unordered;   /* (the ones a race could still have been found with) */
    Py_ssize_t lookups;     /* (of those, the ones that held only lookups) */
} rw_sweep_walk;

static inline int
walk_goes_on(const rw_sweep_walk *w)
{
    return w->excess <= 0 || w->forgotten < w->excess;
}

/* One location of the walk: ``key`` of container ``d``, ``v`` in ``locs`` at the snapshot. */
static int
visit(RW_Shadow *sh, PyObject *d, PyObject *locs, PyObject *key, PyObject *v,
      const long long *minc, Py_ssize_t nmin, rw_sweep_walk *w)
{
    int present = container_contains(sh, d, key);
    if (present != 0) {
        return present < 0 ? -1 : 0;
    }
    int ordered = rw_ordered_before(v, minc, nmin);
    if (!ordered && w->excess <= 0) {
        return 0;
    }
    RW_LOCS_CHANGED(sh);   /* before and after: rules.c, loc_lookup_locked */
    int gone = rw_forget_location(locs, key, v);
    RW_LOCS_CHANGED(sh);
    if (gone > 0) {
        w->forgotten++;
        if (!ordered) {
            w->unordered++;
            w->lookups += rw_only_lookups(v);
        }
    }
    return gone < 0 ? -1 : 0;
}

/* Forget absent keys (deleted, or looked up while absent), so that a dict whose keys come
 * and go forever, or that is asked for ever new keys it does not hold, stays bounded: see
 * shadow._sweep, the reference, for why and when.  It walks ``locs`` oldest first, in
 * snapshots of as many locations as it has yet to let go (held: Python code running in
 * the middle, a key's __eq__ or the registry, can neither break the iteration nor be
 * broken by it), and stops once it has let go enough. */
int
rw_sweep(RW_Shadow *sh, PyObject *d)
{
    if (rw_registry == NULL) {
        return 0;
    }
    Py_ssize_t nmin;
    long long *minc = rw_min_clocks(&nmin);
    if (minc == NULL) {
        return -1;
    }
    PyObject *locs = Py_NewRef(sh->locs);
    Py_ssize_t size = container_size(sh, d);
    Py_ssize_t start = PyDict_GET_SIZE(locs);
    rw_sweep_walk w = {start - size - Py_MAX(size, 1024), 0, 0, 0};   /* (the budget) */
    Py_ssize_t cap = w.excess > 0 ? Py_MAX(w.excess, PIECE_MIN) : start;
    PyObject **snap = PyMem_Malloc((size_t)(cap ? cap : 1) * 2 * sizeof(PyObject *));
    int rc = snap == NULL ? (PyErr_NoMemory(), -1) : 0;
    Py_ssize_t pos = 0, visited = 0;
    int more = 1;
    while (rc == 0 && more && visited < start && walk_goes_on(&w)) {
        Py_ssize_t n = 0;
        Py_ssize_t want = w.excess > 0 ? Py_MIN(Py_MAX(w.excess - w.forgotten, PIECE_MIN), cap)
                                       : cap;
        PyObject *key, *v;
        /* (PyDict_Next runs no Python code; visit() may.  Another thread's insert between
         * two pieces may resize the table, and ``pos`` then skips or repeats some: a
         * skipped one waits for the next sweep, a repeated one is looked at again.) */
        RW_FT_BEGIN(locs);
        while (n < want && (more = PyDict_Next(locs, &pos, &key, &v))) {
            snap[2 * n] = Py_NewRef(key);
            snap[2 * n + 1] = Py_NewRef(v);
            n++;
        }
        RW_FT_END();
        visited += n;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (rc == 0 && walk_goes_on(&w)) {
                rc = visit(sh, d, locs, snap[2 * i], snap[2 * i + 1], minc, nmin, &w);
            }
            Py_DECREF(snap[2 * i]);
            Py_DECREF(snap[2 * i + 1]);
        }
    }
    if (rc == 0) {
        rw_count_forgotten(w.unordered, w.lookups);
        RW_STORE(&sh->sweep_at, PyDict_GET_SIZE(locs) + Py_MAX(2 * size, RW_SWEEP_STEP));
        rw_late_free_swept(PyDict_GET_SIZE(locs));
    }
    PyMem_Free(snap);
    Py_DECREF(locs);
    PyMem_Free(minc);
    return rc;
}
