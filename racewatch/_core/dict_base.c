/* Calling the builtins' own methods directly, and the accesses each operation of a tracked
 * dict records (tracked.py's _on_read & co.): see dict.h. */

#include "dict.h"

Py_ssize_t rw_dd_factory_offset = 0;
PyObject *rw_empty_tuple = NULL;
PyObject *rw_copyreg_newobj = NULL;
PyObject *rw_copy_deepcopy = NULL;
PyObject *rw_str_eq, *rw_str_ne, *rw_str_ror, *rw_str_copy, *rw_str_keys;

/* -- the builtins' own methods, called directly ------------------------------------------- */

base_method rw_base[B_COUNT] = {
    [B_GET] = {"get"}, [B_SETDEFAULT] = {"setdefault"}, [B_POP] = {"pop"},
    [B_POPITEM] = {"popitem"}, [B_KEYS] = {"keys"}, [B_VALUES] = {"values"},
    [B_ITEMS] = {"items"}, [B_UPDATE] = {"update"}, [B_CLEAR] = {"clear"},
    [B_REVERSED] = {"__reversed__"}, [B_FROMKEYS] = {"fromkeys"},
    [B_GETITEM] = {"__getitem__"}, [B_CONTAINS] = {"__contains__"}, [B_COPY] = {"copy"},
    [B_REDUCE_EX] = {"__reduce_ex__"}, [B_DD_MISSING] = {"__missing__"},
    [B_DD_COPY] = {"copy"}, [B_DD_DUNDER_COPY] = {"__copy__"}, [B_DD_REDUCE] = {"__reduce__"},
};

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
    default:
        break;
    }
    PyObject *tuple = PyTuple_New(nargs);
    if (tuple == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) {
        PyTuple_SET_ITEM(tuple, i, Py_NewRef(args[i]));
    }
    PyObject *r;
    if (m->flags & METH_VARARGS) {
        r = (m->flags & METH_KEYWORDS)
            ? ((PyCFunctionWithKeywords)(void (*)(void))m->meth)(self, tuple, NULL)
            : m->meth(self, tuple);
    }
    else {
        PyObject *bound = PyObject_GetAttrString(self, m->name);
        r = bound != NULL ? PyObject_Call(bound, tuple, NULL) : NULL;
        Py_XDECREF(bound);
    }
    Py_DECREF(tuple);
    return r;
}

/* dict.update(self, *args, **kwargs) */
PyObject *
rw_base_update(PyObject *self, PyObject *args, PyObject *kwargs)
{
    base_method *m = &rw_base[B_UPDATE];
    if ((m->flags & (METH_VARARGS | METH_KEYWORDS)) == (METH_VARARGS | METH_KEYWORDS)) {
        return ((PyCFunctionWithKeywords)(void (*)(void))m->meth)(self, args, kwargs);
    }
    PyObject *bound = PyObject_GetAttrString(self, "update");
    PyObject *r = bound != NULL ? PyObject_Call(bound, args, kwargs) : NULL;
    Py_XDECREF(bound);
    return r;
}

PyObject *
rw_base_update1(PyObject *self, PyObject *arg)
{
    PyObject *args = PyTuple_Pack(1, arg);
    if (args == NULL) {
        return NULL;
    }
    PyObject *r = rw_base_update(self, args, NULL);
    Py_DECREF(args);
    return r;
}

/* -- helpers ------------------------------------------------------------------------------- */

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
    return NULL;
}

/* One whole-dict read (the reference's _on_read_all(d, op)). */
int
rw_dict_read_all(PyObject *d, PyObject *op)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(d, &ts, &sh);
    if (e > 0) {
        e = rw_on_read_all(ts, sh, op);
        Py_DECREF(ts);
    }
    return e;
}

int
rw_dict_keys_read(PyObject *d, PyObject *op)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(d, &ts, &sh);
    if (e > 0) {
        e = rw_on_keys_read(ts, sh, op);
        Py_DECREF(ts);
    }
    return e;
}

int
rw_dict_key_read(PyObject *d, PyObject *key, PyObject *op)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(d, &ts, &sh);
    if (e > 0) {
        e = rw_on_read(ts, sh, d, key, op);
        Py_DECREF(ts);
    }
    return e;
}

/* A write of ``key`` that inserts it when absent (setitem, setdefault...). */
int
rw_dict_key_write(PyObject *d, PyObject *key, PyObject *op)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(d, &ts, &sh);
    if (e > 0) {
        int present = PyDict_Contains(d, key);
        e = present < 0 ? -1 : rw_on_write(ts, sh, d, key, op, !present);
        Py_DECREF(ts);
    }
    return e;
}

/* A read of ``key`` when absent, a write that deletes it when present (pop, del...);
 * a read of it when present, an insert when absent (setdefault): ``present_writes``. */
int
rw_dict_key_read_or_write(PyObject *d, PyObject *key, PyObject *op, int present_writes)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(d, &ts, &sh);
    if (e > 0) {
        int present = PyDict_Contains(d, key);
        if (present < 0) {
            /* An unhashable key is no location; the dict's own method says what follows
             * (pop with a default on an empty dict returns it without hashing). */
            e = PyErr_ExceptionMatches(PyExc_TypeError) ? (PyErr_Clear(), 0) : -1;
        }
        else if (present == present_writes) {
            e = rw_on_write(ts, sh, d, key, op, 1);
        }
        else {
            e = rw_on_read(ts, sh, d, key, op);
        }
        Py_DECREF(ts);
    }
    return e;
}

/* A plain dict holding the items of ``self``, made without calling any key's __hash__ or
 * __eq__ (as dict.copy does): tracked dicts override __iter__, so dict's own copy of a
 * dict subclass would look every key up again. */
PyObject *
rw_plain_copy(PyObject *self)
{
#if !RW_PY313
    Py_ssize_t n = PyDict_GET_SIZE(self);
    PyObject *copy = _PyDict_NewPresized(n);
    if (copy == NULL) {
        return NULL;
    }
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    Py_hash_t hash;
    while (_PyDict_Next(self, &pos, &key, &value, &hash)) {
        Py_INCREF(key);
        Py_INCREF(value);
        int rc = _PyDict_SetItem_KnownHash(copy, key, value, hash);
        Py_DECREF(key);
        Py_DECREF(value);
        if (rc < 0) {
            Py_DECREF(copy);
            return NULL;
        }
        if (PyDict_GET_SIZE(self) != n) {
            PyErr_SetString(PyExc_RuntimeError, "dictionary changed size during iteration");
            Py_DECREF(copy);
            return NULL;
        }
    }
    return copy;
#elif !defined(Py_GIL_DISABLED)
    /* 3.13 exports no way to read an entry's hash: PyDict_Copy copies a dict whose type
     * iterates as dict does, so it is given one for the copy.  No other thread can see the
     * object meanwhile unless a key's __eq__ runs Python code (hash-equal distinct keys):
     * then it sees a plain dict, and its access goes unchecked (missed, never invented). */
    PyTypeObject *type = Py_TYPE(self);
    Py_SET_TYPE(self, &PyDict_Type);
    PyObject *copy = PyDict_Copy(self);
    Py_SET_TYPE(self, type);
    return copy;
#else
    PyObject *items = rw_base_call0(B_ITEMS, self);
    if (items == NULL) {
        return NULL;
    }
    PyObject *copy = PyObject_CallOneArg((PyObject *)&PyDict_Type, items);
    Py_DECREF(items);
    return copy;
#endif
}

/* A new plain dict with every key of ``d`` (its own key objects), each mapped to None, in
 * one allocation and without a lookup: dict.fromkeys of an exact dict, made for a
 * moment from the tracked dict's storage (as rw_plain_copy does on 3.13).  NULL, with no
 * error set, where that cannot be done. */
PyObject *
rw_keys_placeholder(PyObject *d)
{
#ifdef Py_GIL_DISABLED
    (void)d;
    return NULL;
#else
    PyObject *args[2] = {d, Py_None};
    PyTypeObject *type = Py_TYPE(d);
    Py_SET_TYPE(d, &PyDict_Type);
    PyObject *full = rw_base_call(&rw_base[B_FROMKEYS], (PyObject *)&PyDict_Type, args, 2);
    Py_SET_TYPE(d, type);
    if (full == NULL) {
        PyErr_Clear();
    }
    return full;
#endif
}

PyObject *
rw_items_iter(PyObject *self)
{
    PyObject *items = rw_base_call0(B_ITEMS, self);
    if (items == NULL) {
        return NULL;
    }
    PyObject *it = PyObject_GetIter(items);
    Py_DECREF(items);
    return it;
}

PyObject *
rw_new_defaultdict(PyObject *factory, PyObject *arg)
{
    return PyObject_CallFunctionObjArgs((PyObject *)rw_defaultdict,
                                        factory != NULL ? factory : Py_None, arg, NULL);
}
