/* dict's own methods, called directly, and the accesses a dict operation records beside
 * tracked.h's (tracked.py's _on_write & co.): see dict.h. */

#include "dict.h"

Py_ssize_t rw_dd_factory_offset = 0;
PyObject *rw_str_eq, *rw_str_ne, *rw_str_ror, *rw_str_keys, *rw_str_missing;

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

/* A write of ``key`` (whose hash is ``hash``) that inserts it when absent (setitem,
 * setdefault...). */
int
rw_dict_key_write_entered(PyObject *d, PyObject *key, Py_hash_t hash, PyObject *op)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(d, &ts, &sh);
    if (e > 0) {
        int present = rw_dict_contains_kh(d, key, hash);
        e = present < 0 ? -1 : rw_on_write_kh(ts, sh, d, key, hash, op, !present);
        Py_DECREF(ts);
    }
    return e;
}

/* A read of ``key`` when absent, a write that deletes it when present (pop, del...);
 * a read of it when present, an insert when absent (setdefault): ``present_writes``. */
int
rw_dict_key_read_or_write(PyObject *d, PyObject *key, Py_hash_t hash, PyObject *op,
                          int present_writes)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(d, &ts, &sh);
    if (e > 0) {
        int present = rw_dict_contains_kh(d, key, hash);
        if (present < 0) {
            e = -1;
        }
        else if (present == present_writes) {
            e = rw_on_write_kh(ts, sh, d, key, hash, op, 1);
        }
        else {
            e = rw_on_read_kh(ts, sh, d, key, hash, op);
        }
        Py_DECREF(ts);
    }
    return e;
}

/* The KeyError of a missing key, as dict raises it (a tuple key is wrapped, so that the
 * exception's args are the key itself). */
void
rw_key_error(PyObject *key)
{
    PyObject *args = PyTuple_Pack(1, key);
    if (args != NULL) {
        PyErr_SetObject(PyExc_KeyError, args);
        Py_DECREF(args);
    }
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
