/* The sweep of deleted keys: a dict whose keys come and go forever keeps a bounded shadow
 * (shadow._sweep, the reference, says why and when). */

#include "engine.h"

static PyObject *str_min_clock;

int
rw_sweep_ready(void)
{
    if (str_min_clock == NULL) {
        str_min_clock = PyUnicode_InternFromString("min_clock");
    }
    return str_min_clock != NULL ? 0 : -1;
}

/* -- the sweep of deleted keys (shadow._sweep) ----------------------------------------------- */

static int
ordered_before(PyObject *v, const long long *minc, Py_ssize_t n)
{
#define ENTRY(slot) ((slot) < n ? minc[(slot)] : 0)
    if (Py_IS_TYPE(v, &RW_AccessType)) {
        RW_Access *rec = (RW_Access *)v;
        return rec->clock <= ENTRY(rec->slot);
    }
    RW_Loc *loc = as_loc(v);
    if (loc == NULL) {
        return 1;
    }
    if (loc->w != NULL && loc->w->clock > ENTRY(loc->w->slot)) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < rs_count(&loc->r); i++) {
        RW_Access *rec = rs_item(&loc->r, i);
        if (rec->clock > ENTRY(rec->slot)) {
            return 0;
        }
    }
    return 1;
#undef ENTRY
}

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

/* Forget ``key``'s location if it is still ``loc`` (shadow._forget): Python code that ran
 * since the snapshot (a key's __eq__) may have replaced it, and then the new one is put
 * back.  One pop, not a lookup and a delete: each finds the key again (a third of the
 * sweep's cost per key). */
static int
forget(PyObject *locs, PyObject *key, PyObject *loc)
{
    PyObject *now;
    int found = RW_DictPop(locs, key, &now);
    if (found <= 0) {
        return found;   /* (0: gone meanwhile) */
    }
    int rc = now == loc ? 0 : PyDict_SetItem(locs, key, now);
    Py_DECREF(now);
    return rc;
}

/* Whether a location holds only reads: a key looked up while absent, never written (an
 * Access is a write, the delete of a deleted key). */
static int
only_lookups(PyObject *v)
{
    RW_Loc *loc = as_loc(v);
    return loc != NULL && loc->w == NULL;
}

/* Forget absent keys (deleted, or looked up while absent), so that a dict whose keys come
 * and go forever, or that is asked for ever new keys it does not hold, stays bounded: see
 * shadow._sweep, the reference, for why and when.  It works on a snapshot of the keys of
 * ``locs``, so that Python code running in the middle (a key's __eq__, the registry) can
 * neither break the iteration nor be broken by it. */
int
rw_sweep(RW_Shadow *sh, PyObject *d)
{
    if (rw_registry == NULL) {
        return 0;
    }
    PyObject *minc_list = PyObject_CallMethodNoArgs(rw_registry, str_min_clock);
    if (minc_list == NULL) {
        return -1;
    }
    PyObject *minc_fast = PySequence_Fast(minc_list, "min_clock() must give a sequence");
    Py_DECREF(minc_list);
    if (minc_fast == NULL) {
        return -1;
    }
    Py_ssize_t nmin = PySequence_Fast_GET_SIZE(minc_fast);
    long long *minc = PyMem_Malloc((size_t)(nmin ? nmin : 1) * sizeof(long long));
    if (minc == NULL) {
        Py_DECREF(minc_fast);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < nmin; i++) {
        minc[i] = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(minc_fast, i));
    }
    Py_DECREF(minc_fast);
    if (PyErr_Occurred()) {
        PyMem_Free(minc);
        return -1;
    }
    PyObject *locs = Py_NewRef(sh->locs);
    Py_ssize_t budget = container_size(sh, d);
    if (budget < 1024) {
        budget = 1024;
    }
    /* The snapshot: each key of ``locs`` and its location, held, in insertion order
     * (PyDict_Next runs no Python code; what follows may). */
    Py_ssize_t cap = PyDict_GET_SIZE(locs), n = 0;
    PyObject **snap = PyMem_Malloc((size_t)(cap ? cap : 1) * 2 * sizeof(PyObject *));
    Py_ssize_t *kept = PyMem_Malloc((size_t)(cap ? cap : 1) * sizeof(Py_ssize_t));
    int rc = snap == NULL || kept == NULL ? (PyErr_NoMemory(), -1) : 0;
    if (rc == 0) {
        Py_ssize_t pos = 0;
        PyObject *key, *v;
        RW_FT_BEGIN(locs);
        while (n < cap && PyDict_Next(locs, &pos, &key, &v)) {
            snap[2 * n] = Py_NewRef(key);
            snap[2 * n + 1] = Py_NewRef(v);
            n++;
        }
        RW_FT_END();
    }
    Py_ssize_t nkept = 0;
    for (Py_ssize_t i = 0; rc == 0 && i < n; i++) {
        PyObject *key = snap[2 * i], *v = snap[2 * i + 1];
        int present = container_contains(sh, d, key);
        if (present < 0) {
            rc = -1;
        }
        else if (!present) {
            if (ordered_before(v, minc, nmin)) {
                RW_LOCS_CHANGED(sh);   /* before and after: rules.c, loc_lookup_locked */
                rc = forget(locs, key, v);
                RW_LOCS_CHANGED(sh);
            }
            else {
                kept[nkept++] = i;
            }
        }
    }
    if (rc == 0) {
        Py_ssize_t excess = nkept - budget;
        if (excess > 0) {
            /* locs keeps first-insertion order: the oldest first */
            long long lookups = 0;
            for (Py_ssize_t i = 0; rc == 0 && i < excess; i++) {
                PyObject *v = snap[2 * kept[i] + 1];
                RW_LOCS_CHANGED(sh);
                rc = forget(locs, snap[2 * kept[i]], v);
                RW_LOCS_CHANGED(sh);
                lookups += only_lookups(v);
            }
            RW_ADD(&rw_counters.forgotten_keys, excess - lookups);
            RW_ADD(&rw_counters.forgotten_lookups, lookups);
        }
        RW_STORE(&sh->sweep_at, PyDict_GET_SIZE(locs) + 2 * budget);
        rw_late_free_swept(PyDict_GET_SIZE(locs));
    }
    for (Py_ssize_t i = 0; i < 2 * n; i++) {
        Py_DECREF(snap[i]);
    }
    PyMem_Free(snap);
    PyMem_Free(kept);
    Py_DECREF(locs);
    PyMem_Free(minc);
    return rc;
}
