/* The Shadow type (the engine's state for one tracked container), attaching a shadow to a
 * tracked container on its first checked access, and entering an access (see engine.h). */

#include "engine.h"

PyObject *rw_ops[RW_OP_COUNT];
static const char *op_names[RW_OP_COUNT] = {
    "getitem", "get", "contains", "setitem", "delitem", "setdefault", "pop", "popitem",
    "update", "ior", "clear", "len", "iter", "reversed", "keys", "values", "items", "eq",
    "ne", "reduce", "deepcopy", "copy", "or", "missing", "repr",
    "slice", "setslice", "delslice", "append", "extend", "iadd", "insert", "remove", "index",
    "count", "compare", "add", "mul", "imul", "sort", "reverse",
    "discard", "difference_update", "intersection_update", "symmetric_difference_update",
    "isub", "iand", "ixor", "union", "intersection", "difference", "symmetric_difference",
    "issubset", "issuperset", "isdisjoint", "and", "sub", "xor",
};

PyObject *rw_kind_names[RW_KIND_COUNT];
static const char *kind_names[RW_KIND_COUNT] = {
    "dict", "defaultdict", "list", "set", "object", "class", "module",
};

static PyObject *str_check;
static long long serial_counter = 0;
#ifndef Py_GIL_DISABLED
unsigned long long rw_locs_clock = 0;   /* changed with the GIL held (RW_LOCS_CHANGED) */
#endif

/* -- Shadow ------------------------------------------------------------------------------- */

/* A new shadow of kind ``kind`` (one of rw_kind_names, compared by value). */
RW_Shadow *
rw_shadow_new(PyObject *kind, PyObject *created_at, PyObject *name)
{
    int kind_id = -1;
    for (int i = 0; i < RW_KIND_COUNT && kind_id < 0; i++) {
        if (kind == rw_kind_names[i]) {   /* the core's own callers pass the name itself */
            kind_id = i;
        }
    }
    for (int i = 0; i < RW_KIND_COUNT && kind_id < 0; i++) {
        int eq = PyUnicode_Compare(kind, rw_kind_names[i]);
        if (eq == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (eq == 0) {
            kind = rw_kind_names[i];
            kind_id = i;
        }
    }
    if (kind_id < 0) {
        PyErr_Format(PyExc_ValueError, "unknown kind of shadow: %R", kind);
        return NULL;
    }
    PyObject *locs = PyDict_New();
    RW_Shadow *sh = locs != NULL ? PyObject_GC_New(RW_Shadow, &RW_ShadowType) : NULL;
    if (sh == NULL) {
        Py_XDECREF(locs);
        return NULL;
    }
    sh->kind = Py_NewRef(kind);
    sh->kind_id = (char)kind_id;
    sh->name = Py_NewRef(name != NULL ? name : Py_None);
    sh->created_at = Py_NewRef(created_at);
    sh->locs = locs;
#ifdef Py_GIL_DISABLED
    sh->retired_locs = NULL;
    sh->absent = NULL;
#endif
    sh->keys_w = NULL;
    memset(&sh->keys_r, 0, sizeof(RW_ReadSet));
    sh->keys_wkey = Py_NewRef(Py_None);
    memset(&sh->keys_u, 0, sizeof(rw_slot_map));
    memset(&sh->allr, 0, sizeof(RW_ReadSet));
    memset(&sh->wsum, 0, sizeof(rw_slot_map));
    sh->sweep_at = 1024;
    sh->prefilled = 0;
    sh->positions = NULL;
    sh->locs_version = 0;
    RW_LOCS_CHANGED(sh);   /* a version no state of any table had */
#ifdef Py_GIL_DISABLED
    sh->serial = __atomic_add_fetch(&serial_counter, 1, __ATOMIC_RELAXED);
#else
    sh->serial = ++serial_counter;
#endif
    sh->generation = rw_settings->generation;
    PyObject_GC_Track(sh);
    return sh;
}

static PyObject *
shadow_tp_new(PyTypeObject *Py_UNUSED(type), PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"kind", "created_at", "name", NULL};
    PyObject *kind, *created_at, *name = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "UO|O:Shadow", kwlist, &kind, &created_at,
                                     &name)) {
        return NULL;
    }
    return (PyObject *)rw_shadow_new(kind, created_at, name);
}

static int
shadow_traverse(RW_Shadow *sh, visitproc visit, void *arg)
{
    Py_VISIT(sh->kind);
    Py_VISIT(sh->name);
    Py_VISIT(sh->created_at);
    Py_VISIT(sh->locs);
#ifdef Py_GIL_DISABLED
    Py_VISIT(sh->retired_locs);
    int absent = rw_absent_traverse(sh, visit, arg);
    if (absent) {
        return absent;
    }
#endif
    Py_VISIT(sh->keys_wkey);
    for (Py_ssize_t i = 0; i < sh->wsum.n; i++) {
        Py_VISIT(sh->wsum.items[i].key);
    }
    for (Py_ssize_t i = 0; i < sh->keys_u.n; i++) {
        Py_VISIT(sh->keys_u.items[i].key);
    }
    return 0;
}

static int
shadow_clear(RW_Shadow *sh)
{
    PyMem_Free(sh->positions);   /* a list's (its records are borrowed) */
    sh->positions = NULL;
    rw_slotmap_clear(&sh->wsum);
    rw_slotmap_clear(&sh->keys_u);
    rw_rs_clear(&sh->allr);
    rw_rs_clear(&sh->keys_r);
    Py_CLEAR(sh->keys_w);
    Py_CLEAR(sh->keys_wkey);
    Py_CLEAR(sh->locs);
#ifdef Py_GIL_DISABLED
    Py_CLEAR(sh->retired_locs);
    rw_absent_clear(sh);
#endif
    Py_CLEAR(sh->kind);
    Py_CLEAR(sh->name);
    Py_CLEAR(sh->created_at);
    return 0;
}

static void
shadow_dealloc(RW_Shadow *sh)
{
    PyObject_GC_UnTrack(sh);
    Py_TRASHCAN_BEGIN(sh, shadow_dealloc)
    shadow_clear(sh);
    Py_TYPE(sh)->tp_free((PyObject *)sh);
    Py_TRASHCAN_END
}

/* forget(): start over with no history (a shadow inherited across a fork). */
static int
shadow_forget(RW_Shadow *sh, int only_if_stale)
{
    PyObject *locs = PyDict_New();
    if (locs == NULL) {
        return -1;
    }
    PyObject *old_locs = NULL, *old_wkey = NULL;
    RW_Access *old_keys_w = NULL;
    RW_ReadSet old_keys_r = {NULL, NULL, NULL};
    RW_ReadSet old_allr = {NULL, NULL, NULL};
    rw_slot_map old_wsum = {NULL, 0, 0};
    rw_slot_map old_keys_u = {NULL, 0, 0};
    int forgot = 0;
    Py_BEGIN_CRITICAL_SECTION(sh);
    if (!only_if_stale || sh->generation != rw_settings->generation) {
        forgot = 1;
        old_locs = sh->locs;
        sh->locs = locs;
        RW_LOCS_CHANGED(sh);
        locs = NULL;
        old_keys_w = sh->keys_w;
        sh->keys_w = NULL;
        old_keys_r = sh->keys_r;
        memset(&sh->keys_r, 0, sizeof(RW_ReadSet));
        old_wkey = sh->keys_wkey;
        sh->keys_wkey = Py_NewRef(Py_None);
        old_allr = sh->allr;
        memset(&sh->allr, 0, sizeof(RW_ReadSet));
        rw_slotmap_take(&old_wsum, &sh->wsum);
        rw_slotmap_take(&old_keys_u, &sh->keys_u);
        RW_STORE(&sh->sweep_at, 1024);
        sh->prefilled = 0;
        sh->generation = rw_settings->generation;
        /* An object's memory of the epoch is its ObjRef's: stamped with the generation, it
         * is out of date after a stale shadow's forget; after any other (the Python API's:
         * rare), every object's is made so (rw_epoch_memories_era).  A list's memory of
         * its positions is out of date with the version. */
        if (!only_if_stale && (sh->kind_id == RW_KIND_OBJECT || sh->kind_id == RW_KIND_CLASS)) {
            RW_ADD(&rw_epoch_memories_era, 1);
        }
    }
    Py_END_CRITICAL_SECTION();
#ifdef Py_GIL_DISABLED
    if (forgot) {
        rw_absent_forget(sh);   /* (each table under its own lock, not the shadow's) */
    }
#else
    (void)forgot;
#endif
    /* Released once the shadow is whole again: dropping keys may run their finalizers. */
    Py_XDECREF(locs);
    rw_rs_clear(&old_allr);
    rw_rs_clear(&old_keys_r);
    Py_XDECREF(old_keys_w);
    rw_slotmap_clear(&old_wsum);
    rw_slotmap_clear(&old_keys_u);
    Py_XDECREF(old_wkey);
    Py_XDECREF(old_locs);
    return 0;
}

static PyObject *
shadow_forget_method(RW_Shadow *sh, PyObject *Py_UNUSED(ignored))
{
    if (shadow_forget(sh, 0) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
shadow_get_allr(RW_Shadow *sh, void *Py_UNUSED(closure))
{
    return rw_rs_as_object(&sh->allr);
}


static PyObject *
shadow_get_keys(RW_Shadow *sh, void *Py_UNUSED(closure))
{
    RW_KeysLoc *keys = rw_keysloc_new();
    if (keys == NULL) {
        return NULL;
    }
    int rc;
    RW_FT_BEGIN(sh);
    keys->base.w = (RW_Access *)Py_XNewRef(sh->keys_w);
    Py_SETREF(keys->wkey, Py_NewRef(sh->keys_wkey));
    rc = rw_rs_copy(&keys->base.r, &sh->keys_r);
    if (rc == 0) {
        PyObject *u = rw_slotmap_as_object(&sh->keys_u);
        rc = u != NULL ? 0 : -1;
        if (u != NULL) {
            Py_SETREF(keys->u, u);
        }
    }
    RW_FT_END();
    if (rc < 0) {
        Py_DECREF(keys);
        return NULL;
    }
    return (PyObject *)keys;
}

static PyObject *
shadow_get_wsum(RW_Shadow *sh, void *Py_UNUSED(closure))
{
    PyObject *result;
    RW_FT_BEGIN(sh);
    result = rw_slotmap_as_object(&sh->wsum);
    RW_FT_END();
    return result;
}

static PyMethodDef shadow_methods[] = {
    {"forget", (PyCFunction)shadow_forget_method, METH_NOARGS,
     "Start over with no history (a new shadow, or one inherited across a fork)."},
    {NULL}
};

static PyMemberDef shadow_members[] = {
    {"kind", T_OBJECT, offsetof(RW_Shadow, kind), READONLY,
     "what it watches: \"dict\", \"defaultdict\", \"list\", \"set\", \"object\", "
     "\"class\", \"module\""},
    {"name", T_OBJECT, offsetof(RW_Shadow, name), READONLY,
     "an object's class name, a module's name; None for the others"},
    {"created_at", T_OBJECT, offsetof(RW_Shadow, created_at), READONLY, NULL},
    {"locs", T_OBJECT, offsetof(RW_Shadow, locs), READONLY, NULL},
    {"serial", T_LONGLONG, offsetof(RW_Shadow, serial), READONLY, NULL},
    {"sweep_at", T_PYSSIZET, offsetof(RW_Shadow, sweep_at), 0, NULL},
    {"generation", T_LONGLONG, offsetof(RW_Shadow, generation), 0, NULL},
    {NULL}
};

static PyGetSetDef shadow_getset[] = {
    {"keys", (getter)shadow_get_keys, NULL, "the keys location (a copy)", NULL},
    {"allr", (getter)shadow_get_allr, NULL, "reads of every key", NULL},
    {"wsum", (getter)shadow_get_wsum, NULL, "slot -> (Access, key): the latest write to any key",
     NULL},
    {NULL}
};

PyTypeObject RW_ShadowType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.Shadow",
    .tp_doc = "The detector's state for one tracked dict.",
    .tp_basicsize = sizeof(RW_Shadow),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = shadow_tp_new,
    .tp_dealloc = (destructor)shadow_dealloc,
    .tp_traverse = (traverseproc)shadow_traverse,
    .tp_clear = (inquiry)shadow_clear,
    .tp_methods = shadow_methods,
    .tp_members = shadow_members,
    .tp_getset = shadow_getset,
};

/* -- entering an access -------------------------------------------------------------------- */

int
rw_budget_check(RW_ThreadState *ts)
{
    PyObject *budget = settings_field(&rw_settings->budget);
    if (budget == Py_None) {
        Py_DECREF(budget);
        return 0;
    }
    Py_INCREF(ts);
    PyObject *r = PyObject_CallMethodNoArgs(budget, str_check);
    Py_DECREF(ts);
    Py_DECREF(budget);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

static inline PyObject *
slot_load(PyObject **slot)
{
#if defined(Py_GIL_DISABLED) && !defined(_MSC_VER)
    return __atomic_load_n(slot, __ATOMIC_ACQUIRE);
#else
    return *slot;
#endif
}

#ifdef Py_GIL_DISABLED
/* Stacks that a dict's slot held until the memory budget cut tracking: kept, since a
 * reader may have loaded one just before (free-threaded builds only; see above). */
static PyObject *retired_stacks = NULL;
#endif

/* shadow_of, for a tracked container whose slot does not hold a shadow yet: a borrowed
 * reference to the shadow now attached, or NULL (no error set: not tracked). */
static PyObject *
attach(PyObject *d, PyObject **slot)
{
    PyObject *cur = slot_load(slot);
    if (cur != NULL && Py_IS_TYPE(cur, &RW_ShadowType)) {
        return cur;
    }
    if (cur == Py_None) {
        return NULL;
    }
    /* Made before it is stored, and the slot looked at again: making it may have run
     * Python code (a garbage collection) that attached one meanwhile. */
    PyObject *made;
    if (rw_tracking()) {
        PyObject *kind = rw_kind_names[PyList_Check(d) ? RW_KIND_LIST
                                       : PyAnySet_Check(d) ? RW_KIND_SET
                                       : PyObject_TypeCheck(d, rw_defaultdict)
                                       ? RW_KIND_DEFAULTDICT : RW_KIND_DICT];
        PyObject *created_at = cur != NULL ? cur : PyTuple_New(0);
        made = created_at != NULL ? (PyObject *)rw_shadow_new(kind, created_at, NULL) : NULL;
        if (cur == NULL) {
            Py_XDECREF(created_at);
        }
    }
    else {
        /* The memory budget was spent before this dict was first shared. */
        made = Py_NewRef(Py_None);
    }
    if (made == NULL) {
        return NULL;
    }
#ifndef Py_GIL_DISABLED
    if (made != Py_None) {
        PyObject_GC_UnTrack(made);   /* until it holds a tracked key: rw_shadow_keeps */
    }
#endif
    PyObject *result, *old = NULL;
    Py_BEGIN_CRITICAL_SECTION(d);
    cur = *slot;
    if (cur != NULL && (cur == Py_None || Py_IS_TYPE(cur, &RW_ShadowType))) {
        result = cur;
    }
    else {
        old = cur;
#if defined(Py_GIL_DISABLED) && !defined(_MSC_VER)
        __atomic_store_n(slot, made, __ATOMIC_RELEASE);
#else
        *slot = made;
#endif
        result = made;
        made = NULL;
#ifdef Py_GIL_DISABLED
        /* A dict holding only atomic values may be untracked (dict_track.c): its shadow
         * can hold it in a cycle now (a key of the dict that refers to the dict).  Under
         * the dict's critical section, where CPython changes its GC bits too.  (GIL
         * builds wait for such a key: rw_shadow_keeps.) */
        if (result != Py_None && !PyObject_GC_IsTracked(d)) {
            PyObject_GC_Track(d);
        }
#endif
    }
    Py_END_CRITICAL_SECTION();
    Py_XDECREF(made);
    if (result != Py_None) {
        Py_XDECREF(old);   /* the shadow holds the stack as created_at */
        return result;
    }
    if (old != NULL) {
#ifdef Py_GIL_DISABLED
        if (retired_stacks == NULL || PyList_Append(retired_stacks, old) < 0) {
            PyErr_Clear();
            return NULL;   /* kept: the reference is leaked on purpose */
        }
#endif
        Py_DECREF(old);
    }
    return NULL;
}

/* ``sh``, forgetting the history of its parent process in a forked child: 0 or -1. */
int
rw_shadow_fresh(RW_Shadow *sh)
{
    return sh->generation != rw_settings->generation ? shadow_forget(sh, 1) : 0;
}

/* rw_enter_shadow (core.h) for a container whose shadow is not made yet, or was made in
 * the parent of a forked child: ``slot`` is the container's. */
int
rw_enter_shadow_slow(PyObject *d, PyObject **slot, RW_ThreadState *ts, RW_ThreadState **pts,
                     RW_Shadow **psh)
{
    Py_INCREF(ts);
    PyObject *sh = slot_load(slot);
    if (sh == NULL || !Py_IS_TYPE(sh, &RW_ShadowType)) {
        if (sh == Py_None || (sh = attach(d, slot)) == NULL) {
            Py_DECREF(ts);
            return PyErr_Occurred() ? -1 : 0;
        }
    }
    RW_Shadow *shadow = (RW_Shadow *)sh;
    if (shadow->generation != rw_settings->generation && shadow_forget(shadow, 1) < 0) {
        Py_DECREF(ts);
        return -1;
    }
    *pts = ts;
    *psh = shadow;
    return 1;
}

PyObject *
rw_shadow_of(PyObject *d)
{
    PyObject **slot = rw_shadow_slot(d);
    if (slot == NULL) {
        Py_RETURN_NONE;
    }
    PyObject *sh = attach(d, slot);
    if (sh == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    return Py_NewRef(sh);
}

PyObject *
rw_mod_shadow_of(PyObject *Py_UNUSED(module), PyObject *d)
{
    return rw_shadow_of(d);
}

/* -- module init ---------------------------------------------------------------------------- */

int
rw_shadow_ready(PyObject *module)
{
    for (int i = 0; i < RW_OP_COUNT; i++) {
        if (rw_ops[i] == NULL && (rw_ops[i] = PyUnicode_InternFromString(op_names[i])) == NULL) {
            return -1;
        }
    }
    for (int i = 0; i < RW_KIND_COUNT; i++) {
        if (rw_kind_names[i] == NULL
                && (rw_kind_names[i] = PyUnicode_InternFromString(kind_names[i])) == NULL) {
            return -1;
        }
    }
    if ((str_check == NULL && (str_check = PyUnicode_InternFromString("check")) == NULL)
            || rw_sweep_ready() < 0 || rw_late_free_ready() < 0) {
        return -1;
    }
#ifdef Py_GIL_DISABLED
    if (retired_stacks == NULL && (retired_stacks = PyList_New(0)) == NULL) {
        return -1;
    }
#endif
    PyTypeObject *types[] = {&RW_AccessType, &RW_LocType, &RW_KeysLocType, &RW_ShadowType,
                             &RW_ConflictType};
    const char *names[] = {"Access", "Loc", "KeysLoc", "Shadow", "Conflict"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (PyType_Ready(types[i]) < 0
                || PyModule_AddObjectRef(module, names[i], (PyObject *)types[i]) < 0) {
            return -1;
        }
    }
    return 0;
}
