/* update() and |=: each pair recorded as a write just before dict.update inserts it. */

#include "dict.h"

/* update, |= --------------------------------------------------------------------------------- */

/* _recorded(d, pairs, op): the pairs, each recorded as a write of ``d`` just before
 * dict.update inserts it.  An element is passed on as dict.update would see it (made a
 * tuple, as its PySequence_Fast would); one that is not a pair is passed on untouched,
 * for dict.update to raise its own error about it. */
typedef struct {
    PyObject_HEAD
    PyObject *d;
    PyObject *source;   /* iterated on the first next(), as a generator would */
    PyObject *it;
    PyObject *op;
} RW_Recorder;

static int
recorder_traverse(RW_Recorder *r, visitproc visit, void *arg)
{
    Py_VISIT(r->d);
    Py_VISIT(r->source);
    Py_VISIT(r->it);
    return 0;
}

static int
recorder_clear(RW_Recorder *r)
{
    Py_CLEAR(r->d);
    Py_CLEAR(r->source);
    Py_CLEAR(r->it);
    Py_CLEAR(r->op);
    return 0;
}

static void
recorder_dealloc(RW_Recorder *r)
{
    PyObject_GC_UnTrack(r);
    recorder_clear(r);
    Py_TYPE(r)->tp_free((PyObject *)r);
}

static PyObject *
recorder_next(RW_Recorder *r)
{
    if (r->it == NULL) {
        if (r->source == NULL) {
            return NULL;
        }
        r->it = PyObject_GetIter(r->source);
        Py_CLEAR(r->source);
        if (r->it == NULL) {
            return NULL;
        }
    }
    PyObject *item = PyIter_Next(r->it);
    if (item == NULL) {
        return NULL;
    }
    if (!PyTuple_CheckExact(item)) {
        PyObject *t = PySequence_Tuple(item);
        if (t == NULL) {
            if (PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Clear();
                return item;
            }
            Py_DECREF(item);
            return NULL;
        }
        Py_SETREF(item, t);
    }
    Py_hash_t hash;
    if (PyTuple_GET_SIZE(item) == 2
            && ((hash = PyObject_Hash(PyTuple_GET_ITEM(item, 0))) == -1
                || rw_dict_key_write(r->d, PyTuple_GET_ITEM(item, 0), hash, r->op) < 0)) {
        if (!PyErr_ExceptionMatches(PyExc_TypeError)) {
            Py_DECREF(item);
            return NULL;
        }
        PyErr_Clear();   /* unhashable: dict.update raises it, with its own message */
    }
    return item;
}

static PyTypeObject RW_RecorderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core._recorded",
    .tp_basicsize = sizeof(RW_Recorder),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = (destructor)recorder_dealloc,
    .tp_traverse = (traverseproc)recorder_traverse,
    .tp_clear = (inquiry)recorder_clear,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)recorder_next,
};

/* ((key, mapping[key]) for key in mapping.keys()) */
typedef struct {
    PyObject_HEAD
    PyObject *mapping;
    PyObject *keys;
} RW_MappingPairs;

static int
pairs_traverse(RW_MappingPairs *p, visitproc visit, void *arg)
{
    Py_VISIT(p->mapping);
    Py_VISIT(p->keys);
    return 0;
}

static int
pairs_clear(RW_MappingPairs *p)
{
    Py_CLEAR(p->mapping);
    Py_CLEAR(p->keys);
    return 0;
}

static void
pairs_dealloc(RW_MappingPairs *p)
{
    PyObject_GC_UnTrack(p);
    pairs_clear(p);
    Py_TYPE(p)->tp_free((PyObject *)p);
}

static PyObject *
pairs_next(RW_MappingPairs *p)
{
    if (p->keys == NULL) {
        return NULL;
    }
    PyObject *key = PyIter_Next(p->keys);
    if (key == NULL) {
        return NULL;
    }
    PyObject *value = PyObject_GetItem(p->mapping, key);
    if (value == NULL) {
        Py_DECREF(key);
        return NULL;
    }
    PyObject *pair = PyTuple_Pack(2, key, value);
    Py_DECREF(key);
    Py_DECREF(value);
    return pair;
}

static PyTypeObject RW_MappingPairsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core._mapping_pairs",
    .tp_basicsize = sizeof(RW_MappingPairs),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = (destructor)pairs_dealloc,
    .tp_traverse = (traverseproc)pairs_traverse,
    .tp_clear = (inquiry)pairs_clear,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)pairs_next,
};

/* _pairs(other): what dict.update iterates for ``other``, calling what it calls:
 * ``keys()`` then ``other[key]`` for a mapping (an exact dict's items directly), else
 * the pairs themselves. */
static PyObject *
make_pairs(PyObject *other)
{
    if (PyDict_CheckExact(other)) {
        return rw_base_call0(B_ITEMS, other);
    }
    PyObject *keys_method = rw_getattr_or_null(other, rw_str_keys);
    if (keys_method == NULL) {
        return PyErr_Occurred() ? NULL : Py_NewRef(other);
    }
    PyObject *keys = PyObject_CallNoArgs(keys_method);
    Py_DECREF(keys_method);
    if (keys == NULL) {
        return NULL;
    }
    PyObject *it = PyObject_GetIter(keys);
    Py_DECREF(keys);
    if (it == NULL) {
        return NULL;
    }
    RW_MappingPairs *p = PyObject_GC_New(RW_MappingPairs, &RW_MappingPairsType);
    if (p == NULL) {
        Py_DECREF(it);
        return NULL;
    }
    p->mapping = Py_NewRef(other);
    p->keys = it;
    PyObject_GC_Track(p);
    return (PyObject *)p;
}

/* dict.update(d, _recorded(d, pairs, op)), consuming ``pairs`` (a new reference). */
static int
update_recorded(PyObject *d, PyObject *pairs, PyObject *op)
{
    if (pairs == NULL) {
        return -1;
    }
    RW_Recorder *r = PyObject_GC_New(RW_Recorder, &RW_RecorderType);
    if (r == NULL) {
        Py_DECREF(pairs);
        return -1;
    }
    r->d = Py_NewRef(d);
    r->source = pairs;
    r->it = NULL;
    r->op = Py_NewRef(op);
    PyObject_GC_Track(r);
    PyObject *result = rw_base_update1(d, (PyObject *)r);
    Py_DECREF(r);
    if (result == NULL) {
        return -1;
    }
    Py_DECREF(result);
    return 0;
}

/* Whether the pairs of an update by this thread are to be checked, one by one.  When not
 * (no detector, racewatch's own code, an ignored block, the lone thread), dict's own
 * update can run as it is: for a dict argument with the hashes it stored, calling no key's
 * __hash__.  ``*counting``: the thread whose accesses they count as (the lone thread's do,
 * as each pair's own check would count them), or NULL. */
static int
update_checks(RW_ThreadState **counting)
{
    *counting = NULL;
    if (!rw_enabled()) {
        return 0;
    }
    RW_ThreadState *ts = rw_current();
    if (ts == NULL) {
        return -1;
    }
    if (ts->busy || ts->ignoring) {
        return 0;
    }
    *counting = ts;
    return (PyObject *)ts != rw_solo_get();
}

static int
count_accesses(RW_ThreadState *ts, Py_ssize_t n)
{
    if (ts == NULL || n <= 0) {
        return 0;
    }
    long long before = ts->accesses;   /* only this thread writes it */
    RW_STORE(&ts->accesses, before + n);
    if ((before >> 12) != ((before + n) >> 12) && rw_has_budget()) {
        return rw_budget_check(ts);
    }
    return 0;
}

/* An update from ``arg`` whose pairs are not checked, as dict's own update does it when it
 * can take the whole argument at once, with the hashes its items come with: 1 done, 0 not
 * possible (the pairs must go one by one), -1 error.  A tracked argument counts as read
 * (its keys, then each key: what the checked path does) and is copied without a lookup. */
static int
update_whole(PyObject *self, PyObject *arg, RW_ThreadState *counting)
{
    PyObject *plain;
    Py_ssize_t n;
    if (!PyDict_Check(arg)) {
        return 0;
    }
    n = PyDict_GET_SIZE(arg);
    if (Py_TYPE(arg)->tp_iter == PyDict_Type.tp_iter) {
        plain = Py_NewRef(arg);
    }
    else if (Py_IS_TYPE(arg, &RW_TrackedDictType) || Py_IS_TYPE(arg, rw_tracked_defaultdict)) {
        if (count_accesses(counting, n + 1) < 0 || (plain = rw_plain_copy(arg)) == NULL) {
            return -1;
        }
        n = PyDict_GET_SIZE(plain);
    }
    else {
        return 0;
    }
    PyObject *r = count_accesses(counting, n) < 0 ? NULL : rw_base_update1(self, plain);
    Py_DECREF(plain);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 1;
}

PyObject *
tr_update(PyObject *self, PyObject *args, PyObject *kwargs)
{
    RW_ThreadState *counting;
    int checks = update_checks(&counting);
    if (checks < 0) {
        return NULL;
    }
    Py_ssize_t nargs = PyTuple_GET_SIZE(args);
    if (nargs > 1) {
        if (!checks) {
            return rw_base_update(self, args, kwargs);
        }
        PyErr_Format(PyExc_TypeError, "update expected at most 1 argument, got %zd", nargs);
        return NULL;
    }
    if (nargs == 1) {
        PyObject *arg = PyTuple_GET_ITEM(args, 0);
        int whole = checks ? 0 : update_whole(self, arg, counting);
        if (whole < 0 || (!whole && update_recorded(self, make_pairs(arg), RW_OP(UPDATE)) < 0)) {
            return NULL;
        }
    }
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs)) {
        if (!checks) {
            if (count_accesses(counting, PyDict_GET_SIZE(kwargs)) < 0) {
                return NULL;
            }
            PyObject *r = rw_base_update1(self, kwargs);
            if (r == NULL) {
                return NULL;
            }
            Py_DECREF(r);
        }
        else if (update_recorded(self, rw_base_call0(B_ITEMS, kwargs), RW_OP(UPDATE)) < 0) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

PyObject *
tr_ior(PyObject *self, PyObject *other)
{
    RW_ThreadState *counting;
    int checks = update_checks(&counting);
    if (checks < 0) {
        return NULL;
    }
    int whole = checks ? 0 : update_whole(self, other, counting);
    if (whole < 0 || (!whole && update_recorded(self, make_pairs(other), RW_OP(IOR)) < 0)) {
        return NULL;
    }
    return Py_NewRef(self);
}

int
rw_dict_update_ready(void)
{
    return PyType_Ready(&RW_RecorderType) < 0 || PyType_Ready(&RW_MappingPairsType) < 0 ? -1 : 0;
}
