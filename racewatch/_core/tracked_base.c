/* What every tracked container type shares: calling the builtins' own methods, installing
 * methods and the __repr__ descriptor, the accesses an operation records, copy's dispatch,
 * the slot of the shadow (see tracked.h). */

#include "tracked.h"

PyObject *rw_empty_tuple = NULL;
PyObject *rw_copyreg_newobj = NULL;
PyObject *rw_copy_deepcopy = NULL;
PyObject *rw_str_copy = NULL;
PyObject *rw_reflected_compare[6];

/* -- the builtins' own methods, called directly ------------------------------------------- */

int
rw_base_method_load(base_method *m, PyTypeObject *owner)
{
    PyObject *descr = PyObject_GetAttrString((PyObject *)owner, m->name);
    if (descr == NULL) {
        return -1;
    }
    /* dict.fromkeys through the type is a bound builtin method: its descriptor is in the
     * type's namespace. */
    if (!PyObject_TypeCheck(descr, &PyMethodDescr_Type)
            && !PyObject_TypeCheck(descr, &PyClassMethodDescr_Type)) {
        PyObject *ns = PyObject_GetAttrString((PyObject *)owner, "__dict__");
        PyObject *raw = ns != NULL ? PyMapping_GetItemString(ns, m->name) : NULL;
        Py_XDECREF(ns);
        Py_DECREF(descr);
        if (raw == NULL) {
            return -1;
        }
        descr = raw;
    }
    if (!PyObject_TypeCheck(descr, &PyMethodDescr_Type)
            && !PyObject_TypeCheck(descr, &PyClassMethodDescr_Type)) {
        PyErr_Format(PyExc_ImportError, "racewatch._core: %s.%s is not a C method",
                     owner->tp_name, m->name);
        Py_DECREF(descr);
        return -1;
    }
    PyMethodDef *def = ((PyMethodDescrObject *)descr)->d_method;
    m->descr = descr;
    m->meth = def->ml_meth;
    m->flags = def->ml_flags;
    m->doc = def->ml_doc;
    return 0;
}

int
rw_base_table_load(base_method *table, int n, PyTypeObject *owner)
{
    for (int i = 0; i < n; i++) {
        if (table[i].descr == NULL && rw_base_method_load(&table[i], owner) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Call the builtin's method on ``self`` (for a class method: the class). */
PyObject *
rw_base_call(base_method *m, PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    switch (m->flags & (METH_VARARGS | METH_FASTCALL | METH_NOARGS | METH_O | METH_KEYWORDS)) {
    case METH_NOARGS:
        if (nargs == 0) {
            return m->meth(self, NULL);
        }
        break;
    case METH_O:
        if (nargs == 1) {
            return m->meth(self, args[0]);
        }
        break;
    case METH_FASTCALL:
        return ((rw_fastfunc)(void (*)(void))m->meth)(self, args, nargs);
    case METH_FASTCALL | METH_KEYWORDS:
        return ((rw_fastkwfunc)(void (*)(void))m->meth)(self, args, nargs, NULL);
    case METH_VARARGS: {
        PyObject *tuple = PyTuple_New(nargs);
        if (tuple == NULL) {
            return NULL;
        }
        for (Py_ssize_t i = 0; i < nargs; i++) {
            PyTuple_SET_ITEM(tuple, i, Py_NewRef(args[i]));
        }
        PyObject *r = m->meth(self, tuple);
        Py_DECREF(tuple);
        return r;
    }
    default:
        break;
    }
    /* A wrong number of arguments, or another convention: through the descriptor, which
     * checks and words the error as the builtin does. */
    PyObject *tuple = PyTuple_New(nargs + 1);
    if (tuple == NULL) {
        return NULL;
    }
    PyTuple_SET_ITEM(tuple, 0, Py_NewRef(self));
    for (Py_ssize_t i = 0; i < nargs; i++) {
        PyTuple_SET_ITEM(tuple, i + 1, Py_NewRef(args[i]));
    }
    PyObject *r = PyObject_Call(m->descr, tuple, NULL);
    Py_DECREF(tuple);
    return r;
}

PyObject *
rw_base_call_kw(base_method *m, PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                PyObject *kwnames)
{
    if ((m->flags & (METH_FASTCALL | METH_KEYWORDS)) == (METH_FASTCALL | METH_KEYWORDS)) {
        return ((rw_fastkwfunc)(void (*)(void))m->meth)(self, args, nargs, kwnames);
    }
    /* Another convention: through the descriptor, self first. */
    Py_ssize_t total = nargs + (kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0);
    PyObject **all = PyMem_Malloc((size_t)(total + 1) * sizeof(PyObject *));
    if (all == NULL) {
        return PyErr_NoMemory();
    }
    all[0] = self;
    for (Py_ssize_t i = 0; i < total; i++) {
        all[i + 1] = args[i];
    }
    PyObject *r = PyObject_Vectorcall(m->descr, all, (size_t)(nargs + 1), kwnames);
    PyMem_Free(all);
    return r;
}

/* -- installing methods ------------------------------------------------------------------------ */

int
rw_install_methods(PyTypeObject *type, method_spec *specs, size_t n, PyTypeObject *owner,
                   base_method *table)
{
    for (size_t i = 0; i < n; i++) {
        method_spec *s = &specs[i];
        s->def.ml_doc = table[s->base].doc;
        /* __reduce_ex__ is object's */
        PyTypeObject *d_type = strcmp(s->def.ml_name, "__reduce_ex__") == 0
                               ? &PyBaseObject_Type : owner;
        PyObject *descr = (s->def.ml_flags & METH_CLASS)
            ? PyDescr_NewClassMethod(d_type, &s->def)
            : PyDescr_NewMethod(d_type, &s->def);
        if (descr == NULL) {
            return -1;
        }
        int rc = PyDict_SetItemString(type->tp_dict, s->def.ml_name, descr);
        Py_DECREF(descr);
        if (rc < 0) {
            return -1;
        }
    }
    return 0;
}

/* __repr__: a descriptor that is the builtin's __repr__ on the type -------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *base;     /* the builtin's __repr__ (a slot wrapper) */
    PyObject *own;      /* the tracked type's own slot wrapper, of its tracked tp_repr */
} RW_TrackedRepr;

static PyObject *
trackedrepr_get(RW_TrackedRepr *self, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None) {
        return Py_NewRef(self->base);
    }
    /* A method-wrapper, as for the builtin, that calls the tracked repr. */
    return Py_TYPE(self->own)->tp_descr_get(self->own, obj, type);
}

static void
trackedrepr_dealloc(RW_TrackedRepr *self)
{
    Py_XDECREF(self->base);
    Py_XDECREF(self->own);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject RW_TrackedReprType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.TrackedRepr",
    .tp_doc = "__repr__ that records its read; type(x).__repr__ is the builtin's.",
    .tp_basicsize = sizeof(RW_TrackedRepr),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = (destructor)trackedrepr_dealloc,
    .tp_descr_get = (descrgetfunc)trackedrepr_get,
};

int
rw_install_repr(PyTypeObject *type, PyTypeObject *public)
{
    /* The slot wrapper PyType_Ready made for the tracked tp_repr */
    PyObject *own = PyDict_GetItemString(type->tp_dict, "__repr__");
    if (own == NULL || Py_TYPE(own)->tp_descr_get == NULL) {
        PyErr_Format(PyExc_ImportError, "racewatch._core: %s has no __repr__ of its own",
                     type->tp_name);
        return -1;
    }
    RW_TrackedRepr *descr = PyObject_New(RW_TrackedRepr, &RW_TrackedReprType);
    if (descr == NULL) {
        return -1;
    }
    descr->own = Py_NewRef(own);
    descr->base = PyObject_GetAttrString((PyObject *)public, "__repr__");
    if (descr->base == NULL) {
        Py_DECREF(descr);
        return -1;
    }
    int rc = PyDict_SetItemString(type->tp_dict, "__repr__", (PyObject *)descr);
    Py_DECREF(descr);
    return rc;
}

/* -- copy's dispatch -------------------------------------------------------------------------- */

static PyObject *
copy_tracked(PyObject *Py_UNUSED(module), PyObject *x)
{
    return PyObject_CallMethodNoArgs(x, rw_str_copy);
}

static PyMethodDef copy_def = {"_copy_tracked", copy_tracked, METH_O, NULL};

int
rw_register_copiers(PyObject *module, PyTypeObject *type, PyMethodDef *deep)
{
    PyObject *copy = PyImport_ImportModule("copy");
    if (copy == NULL) {
        return -1;
    }
    int rc = -1;
    PyObject *copier = NULL, *deepcopier = NULL, *copy_dispatch = NULL, *deep_dispatch = NULL;
    copy_dispatch = PyObject_GetAttrString(copy, "_copy_dispatch");
    deep_dispatch = PyObject_GetAttrString(copy, "_deepcopy_dispatch");
    if (copy_dispatch == NULL || deep_dispatch == NULL) {
        goto done;
    }
    copier = PyCFunction_NewEx(&copy_def, module, NULL);
    deepcopier = PyCFunction_NewEx(deep, module, NULL);
    if (copier == NULL || deepcopier == NULL
            || PyObject_SetItem(copy_dispatch, (PyObject *)type, copier) < 0
            || PyObject_SetItem(deep_dispatch, (PyObject *)type, deepcopier) < 0) {
        goto done;
    }
    rc = 0;
done:
    Py_XDECREF(copier);
    Py_XDECREF(deepcopier);
    Py_XDECREF(copy_dispatch);
    Py_XDECREF(deep_dispatch);
    Py_DECREF(copy);
    return rc;
}

/* -- the slot of the shadow ------------------------------------------------------------------- */

PyObject **
rw_shadow_slot_slow(PyObject *d)
{
    PyTypeObject *t = Py_TYPE(d);
    if (rw_tracked_defaultdict != NULL && PyType_IsSubtype(t, rw_tracked_defaultdict)) {
        return &((RW_TrackedDefaultDict *)d)->shadow;
    }
    if (PyType_IsSubtype(t, &RW_TrackedDictType)) {
        return &((RW_TrackedDict *)d)->shadow;
    }
    if (PyType_IsSubtype(t, &RW_TrackedListType)) {
        return &((RW_TrackedList *)d)->shadow;
    }
    if (PyType_IsSubtype(t, &RW_TrackedSetType)) {
        return &((RW_TrackedSet *)d)->shadow;
    }
    return NULL;
}

/* -- the accesses an operation records (the reference's _on_read & co.) ------------------------ */

int
rw_record_read_all(PyObject *d, PyObject *op)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(d, &ts, &sh);
    if (e > 0) {
        e = rw_on_read_all(ts, sh, op);
        Py_DECREF(ts);
    }
    return e < 0 ? -1 : 0;
}

int
rw_record_keys_read(PyObject *d, PyObject *op)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(d, &ts, &sh);
    if (e > 0) {
        e = rw_on_keys_read(ts, sh, op);
        Py_DECREF(ts);
    }
    return e < 0 ? -1 : 0;
}

/* rw_record_read's whole way (tracked.h: GIL builds look first, rules.c) */
int
rw_record_read_entered(PyObject *d, PyObject *key, Py_hash_t hash, PyObject *op)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(d, &ts, &sh);
    if (e > 0) {
        e = rw_on_read_kh(ts, sh, d, key, hash, op);
        Py_DECREF(ts);
    }
    return e < 0 ? -1 : 0;
}

int
rw_record_write(PyObject *d, PyObject *key, PyObject *op, int update)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(d, &ts, &sh);
    if (e > 0) {
        e = rw_on_write(ts, sh, d, key, op, update);
        Py_DECREF(ts);
    }
    return e < 0 ? -1 : 0;
}

int
rw_record_clear(PyObject *d, PyObject *op)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(d, &ts, &sh);
    if (e > 0) {
        e = rw_on_clear(ts, sh, d, op);
        Py_DECREF(ts);
    }
    return e < 0 ? -1 : 0;
}

/* -- module init -------------------------------------------------------------------------------- */

int
rw_tracked_base_ready(void)
{
    if (rw_empty_tuple != NULL) {
        return 0;
    }
    static const char *reflected[6] = {"__gt__", "__ge__", "__eq__", "__ne__", "__lt__", "__le__"};
    for (int i = 0; i < 6; i++) {
        if ((rw_reflected_compare[i] = PyUnicode_InternFromString(reflected[i])) == NULL) {
            return -1;
        }
    }
    PyObject *copyreg = PyImport_ImportModule("copyreg");
    if (copyreg == NULL) {
        return -1;
    }
    rw_copyreg_newobj = PyObject_GetAttrString(copyreg, "__newobj__");
    Py_DECREF(copyreg);
    PyObject *copy = PyImport_ImportModule("copy");
    if (copy == NULL) {
        return -1;
    }
    rw_copy_deepcopy = PyObject_GetAttrString(copy, "deepcopy");
    Py_DECREF(copy);
    if (rw_copyreg_newobj == NULL || rw_copy_deepcopy == NULL
            || (rw_str_copy = PyUnicode_InternFromString("copy")) == NULL
            || PyType_Ready(&RW_TrackedReprType) < 0) {
        return -1;
    }
    rw_empty_tuple = PyTuple_New(0);
    return rw_empty_tuple != NULL ? 0 : -1;
}
