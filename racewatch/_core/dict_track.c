/* track(): what instrumented code calls on every container it creates; public_type(); and
 * the rule by which a subclass operand's reflected method goes first. */

#include "dict.h"

/* -- track ---------------------------------------------------------------------------------- */

/* The items of the exact dict ``d`` moved to ``result``, a new, empty tracked dict: 1, or 0
 * when they are to be copied.  The table changes hands, in O(1), where a copy builds a
 * second one (PyDict_Merge, about 140 instructions a key on 3.12); ``d`` is left empty,
 * with ``result``'s empty table.  A split table (an instance's attributes) is copied. */
static int
dict_moved(PyObject *result, PyObject *d)
{
    PyDictObject *from = (PyDictObject *)d, *to = (PyDictObject *)result;
    if (!rw_contents_movable(d) || from->ma_values != NULL || to->ma_values != NULL
            || to->ma_used != 0) {
        return 0;
    }
    PyDictKeysObject *empty = to->ma_keys;
    to->ma_keys = from->ma_keys;
    to->ma_used = from->ma_used;
    from->ma_keys = empty;
    from->ma_used = 0;
    return 1;
}

static PyObject *
track_impl(PyObject *d, int steal)
{
    /* What instrumented code calls on every container it creates: a tracked copy of ``d``
     * (see tracked.track, the reference). */
    PyObject *result = NULL;
    if (!(rw_enabled() && rw_tracking())) {
        return steal ? d : Py_NewRef(d);
    }
    PyTypeObject *t = Py_TYPE(d);
    int watch = rw_settings->watch;
    if (t == &PyList_Type) {
        return (watch & RW_WATCH_LIST) ? rw_track_list(d, steal) : steal ? d : Py_NewRef(d);
    }
    if (t == &PySet_Type) {
        return (watch & RW_WATCH_SET) ? rw_track_set(d, steal) : steal ? d : Py_NewRef(d);
    }
    if (!(watch & RW_WATCH_DICT)) {
        return steal ? d : Py_NewRef(d);
    }
    if (t == &PyDict_Type) {
        result = PyDict_Type.tp_new(&RW_TrackedDictType, rw_empty_tuple, NULL);
        if (result != NULL && PyDict_GET_SIZE(d) && !dict_moved(result, d)
                && PyDict_Merge(result, d, 1) < 0) {
            Py_CLEAR(result);
        }
        /* As untracked by the garbage collector as ``d`` (what gc.is_tracked shows): dict()
         * untracks its own instances, not a subclass's.  ``result`` is not shared yet. */
        if (result != NULL && !PyObject_GC_IsTracked(d) && PyObject_GC_IsTracked(result)) {
            PyObject_GC_UnTrack(result);
        }
    }
    else if (t == rw_defaultdict) {
        PyObject *factory = rw_dd_factory(d);
        result = PyObject_CallFunctionObjArgs((PyObject *)rw_tracked_defaultdict,
                                              factory != NULL ? factory : Py_None, d, NULL);
    }
    else {
        return steal ? d : Py_NewRef(d);
    }
    if (result != NULL) {
        rw_take_gc_place(result, d);
    }
    if (steal) {
        Py_DECREF(d);
    }
    if (result == NULL) {
        return NULL;
    }
    RW_ADD(&rw_counters.dicts_tracked, 1);
    return rw_with_creation_stack(result);
}

/* The collector's list, on GIL builds up to 3.13: a circular list per generation of the
 * tracked objects in the order they were made (pycore_gc.h: each object's PyGC_Head just
 * before it; ``_gc_prev`` keeps two flag bits under the address, ``_gc_next`` none outside
 * a collection).  Every collection walks it, and a walk in that order reads
 * memory in the order it was handed out.  Free-threaded builds walk the heap itself. */
#if !defined(Py_GIL_DISABLED) && PY_VERSION_HEX < 0x030E0000
#define RW_GC_LIST 1
#define RW_GC_PREV_FLAGS ((uintptr_t)3)

typedef struct rw_gc_head {     /* PyGC_Head, not in the API from 3.12 */
    uintptr_t next;
    uintptr_t prev;
} rw_gc_head;

static inline rw_gc_head *
gc_head(PyObject *op)
{
    return (rw_gc_head *)op - 1;
}

static inline rw_gc_head *
gc_prev(rw_gc_head *g)
{
    return (rw_gc_head *)(g->prev & ~RW_GC_PREV_FLAGS);
}

static inline void
gc_set_prev(rw_gc_head *g, rw_gc_head *prev)
{
    g->prev = (g->prev & RW_GC_PREV_FLAGS) | (uintptr_t)prev;
}
#endif

/* ``result``, made to replace the fresh container ``d``, takes ``d``'s place in the
 * collector's list.  A comprehension's list is made before its items, and the tracked
 * one that replaces it after them: in that order a collection walks the items the way
 * the tracked list reaches them, not the way they lie in memory.  Measured on 3.12, a
 * list of 20,000 Futures made by a comprehension and replaced: each full collection of
 * the program 4 times as long as plain Python's (49-57 ms against 13). */
void
rw_take_gc_place(PyObject *result, PyObject *d)
{
#ifdef RW_GC_LIST
    if (!PyObject_GC_IsTracked(result) || !PyObject_GC_IsTracked(d)) {
        return;
    }
    rw_gc_head *g = gc_head(result), *at = gc_head(d);
    rw_gc_head *prev = gc_prev(g), *next = (rw_gc_head *)g->next;
    prev->next = (uintptr_t)next;       /* out of where it was made */
    gc_set_prev(next, prev);
    prev = gc_prev(at);                 /* in, just before ``d`` */
    prev->next = (uintptr_t)g;
    gc_set_prev(g, prev);
    g->next = (uintptr_t)at;
    gc_set_prev(at, g);
#else
    (void)result;
    (void)d;
#endif
}

/* ``result`` (consumed), a new tracked container, with where it was created in its slot;
 * the shadow itself is made on first checked use (shadow.c). */
PyObject *
rw_with_creation_stack(PyObject *result)
{
    int depth = rw_settings->stack_depth < 8 ? rw_settings->stack_depth : 8;
    PyObject *stack = rw_capture(depth, NULL, NULL);
    if (stack == NULL) {
        Py_DECREF(result);
        return NULL;
    }
    Py_XSETREF(*rw_shadow_slot(result), stack);
    return result;
}

PyObject *
rw_track(PyObject *d)
{
    return track_impl(d, 0);
}

/* track(x) for a fresh ``x`` (a new reference, consumed). */
PyObject *
rw_track_new(PyObject *d)
{
    if (d == NULL) {
        return NULL;
    }
    return track_impl(d, 1);
}

PyObject *
rw_mod_track(PyObject *Py_UNUSED(module), PyObject *d)
{
    return rw_track(d);
}

PyTypeObject *
rw_public_of(PyTypeObject *t)
{
    if (t == &RW_TrackedDictType) {
        return &PyDict_Type;
    }
    if (t == &RW_TrackedListType) {
        return &PyList_Type;
    }
    if (t == rw_tracked_defaultdict) {
        return rw_defaultdict;
    }
    if (t == &RW_TrackedSetType) {
        return &PySet_Type;
    }
    return NULL;
}

PyObject *
rw_mod_public_type(PyObject *Py_UNUSED(module), PyObject *obj)
{
    PyTypeObject *t = Py_TYPE(obj);
    PyTypeObject *public = rw_public_of(t);
    return Py_NewRef((PyObject *)(public != NULL ? public : t));
}

PyObject *
rw_mod_is_tracked(PyObject *Py_UNUSED(module), PyObject *obj)
{
    return PyBool_FromLong(rw_public_of(Py_TYPE(obj)) != NULL);
}

/* -- _reflected_first ------------------------------------------------------------------------ */

PyObject *
rw_getattr_or_null(PyObject *obj, PyObject *name)
{
    PyObject *v = PyObject_GetAttr(obj, name);
    if (v == NULL && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
    }
    return v;
}

/* What Python does before ``builtin OP other`` (a dict, list or set): when ``other`` is of
 * a subclass of that builtin that overrides the reflected method, that method goes first.  The tracked
 * types are not the builtin, so Python does not do it for them: they do it themselves.
 * A tracked operand counts as the builtin it stands for.  NotImplemented when the rule
 * does not apply or the method declined. */
PyObject *
rw_reflected_first(PyObject *self, PyObject *other, PyObject *reflected)
{
    PyTypeObject *t = Py_TYPE(other);
    PyTypeObject *seen_as = rw_public_of(t);
    if (seen_as == NULL) {
        seen_as = t;
    }
    PyTypeObject *public = rw_public_of(Py_TYPE(self));
    if (public == NULL) {
        public = rw_is_dd(self) ? rw_defaultdict : &PyDict_Type;   /* a subclass of one */
    }
    if (seen_as == public || !PyType_IsSubtype(seen_as, public)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *mine = rw_getattr_or_null((PyObject *)seen_as, reflected);
    if (mine == NULL && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *builtin = PyObject_GetAttr((PyObject *)public, reflected);
    if (builtin == NULL) {
        Py_XDECREF(mine);
        return NULL;
    }
    int same = mine == builtin;
    Py_XDECREF(mine);
    Py_DECREF(builtin);
    if (same) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    /* A tracked operand's own method: called directly, as the reference calls its Python
     * method (the slot wrapper would dispatch on both operands again, and come back). */
    if (reflected == rw_str_ror && rw_has_tr_or(other)) {
        return ror_impl(other, self);
    }
    if (reflected != rw_str_ror && Py_TYPE(other)->tp_richcompare == tr_richcompare) {
        Py_RETURN_NOTIMPLEMENTED;   /* dict's own comparison, which follows */
    }
    PyObject *method = PyObject_GetAttr((PyObject *)t, reflected);
    if (method == NULL) {
        return NULL;
    }
    PyObject *r = PyObject_CallFunctionObjArgs(method, other, self, NULL);
    Py_DECREF(method);
    return r;
}

PyObject *
rw_mod_reflected_first(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyUnicode_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "rw_reflected_first(self, other, name)");
        return NULL;
    }
    if (rw_public_of(Py_TYPE(args[0])) == NULL && !rw_is_tracking(args[0])) {
        PyErr_SetString(PyExc_TypeError, "reflected_first: self is a tracked container");
        return NULL;
    }
    PyObject *name = Py_NewRef(args[2]);
    PyUnicode_InternInPlace(&name);
    PyObject *r = rw_reflected_first(args[0], args[1], name);
    Py_DECREF(name);
    return r;
}
