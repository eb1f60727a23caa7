/* The slots and methods of the tracked dict and defaultdict: each records its access,
 * then calls the builtin's own implementation. */

#include "dict.h"

/* -- the slots ------------------------------------------------------------------------------- */

/* Each operation on a key hashes it once (dict.h): every lookup it makes is by that hash. */

PyObject *
tr_subscript(PyObject *self, PyObject *key)
{
    Py_hash_t hash = rw_key_hash(key);
    if (hash == -1 || rw_record_read(self, key, hash, RW_OP(GETITEM)) < 0) {
        return NULL;
    }
    PyObject *value;
    int found = rw_dict_read_kh(self, key, hash, &value);
    if (found != 0) {
        return found > 0 ? value : NULL;
    }
    /* As dict's own: a miss calls __missing__ (a tracked defaultdict's, below). */
    if (rw_is_dd(self)) {
        return PyObject_CallMethodOneArg(self, rw_str_missing, key);
    }
    rw_key_error(key);
    return NULL;
}

int
tr_ass_subscript(PyObject *self, PyObject *key, PyObject *value)
{
    Py_hash_t hash = rw_key_hash(key);
    if (hash == -1) {
        return -1;
    }
    if (value != NULL) {
        if (rw_dict_key_write(self, key, hash, RW_OP(SETITEM)) < 0) {
            return -1;
        }
        return _PyDict_SetItem_KnownHash(self, key, value, hash);
    }
    if (rw_dict_key_read_or_write(self, key, hash, RW_OP(DELITEM), 1) < 0) {
        return -1;
    }
    return _PyDict_DelItem_KnownHash(self, key, hash);
}

Py_ssize_t
tr_length(PyObject *self)
{
    if (rw_record_keys_read(self, RW_OP(LEN)) < 0) {
        return -1;
    }
    return PyDict_Type.tp_as_mapping->mp_length(self);
}

int
tr_contains(PyObject *self, PyObject *key)
{
    Py_hash_t hash = rw_key_hash(key);
    if (hash == -1 || rw_record_read(self, key, hash, RW_OP(CONTAINS)) < 0) {
        return -1;
    }
    PyObject *value = NULL;
    int found = rw_dict_read_kh(self, key, hash, &value);
    Py_XDECREF(value);
    return found;
}

PyObject *
tr_iter(PyObject *self)
{
    if (rw_record_keys_read(self, RW_OP(ITER)) < 0) {
        return NULL;
    }
    return PyDict_Type.tp_iter(self);
}

PyObject *
tr_richcompare(PyObject *self, PyObject *other, int op)
{
    if (op != Py_EQ && op != Py_NE) {
        return PyDict_Type.tp_richcompare(self, other, op);
    }
    PyObject *result = rw_reflected_first(self, other, op == Py_EQ ? rw_str_eq : rw_str_ne);
    if (result != Py_NotImplemented) {
        return result;
    }
    Py_DECREF(result);
    PyObject *name = op == Py_EQ ? RW_OP(EQ) : RW_OP(NE);
    if (rw_record_read_all(self, name) < 0
            || (rw_is_tracking(other) && rw_record_read_all(other, name) < 0)) {
        return NULL;
    }
    return PyDict_Type.tp_richcompare(self, other, op);
}

PyObject *
tr_repr(PyObject *self)
{
    if (rw_record_read_all(self, RW_OP(REPR)) < 0) {
        return NULL;
    }
    return (rw_is_dd(self) ? rw_defaultdict : &PyDict_Type)->tp_repr(self);
}

/* __or__, __ror__ -------------------------------------------------------------------------- */

static PyObject *
or_impl(PyObject *self, PyObject *other)
{
    if (!PyDict_Check(other)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *reflected = rw_reflected_first(self, other, rw_str_ror);
    if (reflected != Py_NotImplemented) {
        return reflected;
    }
    Py_DECREF(reflected);
    if (rw_record_read_all(self, RW_OP(OR)) < 0) {
        return NULL;
    }
    PyObject *result = rw_plain_copy(self);
    if (result != NULL && rw_is_dd(self)) {
        Py_SETREF(result, rw_new_defaultdict(rw_dd_factory(self), result));
    }
    if (result != NULL && PyDict_Update(result, other) < 0) {
        Py_CLEAR(result);
    }
    return rw_track_new(result);
}

PyObject *
ror_impl(PyObject *self, PyObject *other)
{
    if (!PyDict_Check(other)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (rw_record_read_all(self, RW_OP(OR)) < 0) {
        return NULL;
    }
    PyObject *result = rw_is_dd(self) ? rw_new_defaultdict(rw_dd_factory(self), other)
                                   : PyObject_CallOneArg((PyObject *)&PyDict_Type, other);
    if (result == NULL) {
        return NULL;
    }
    PyObject *mine = rw_plain_copy(self);
    if (mine == NULL || PyDict_Merge(result, mine, 1) < 0) {
        Py_XDECREF(mine);
        Py_DECREF(result);
        return NULL;
    }
    Py_DECREF(mine);
    return rw_track_new(result);
}

PyObject *
tr_or(PyObject *v, PyObject *w)
{
    /* One slot for __or__ and __ror__, as Python's own binary slots do it. */
    int w_too = !Py_IS_TYPE(v, Py_TYPE(w)) && rw_has_tr_or(w);
    if (rw_has_tr_or(v)) {
        PyObject *r = or_impl(v, w);
        if (r != Py_NotImplemented || Py_IS_TYPE(w, Py_TYPE(v))) {
            return r;
        }
        Py_DECREF(r);
    }
    else {
        w_too = rw_has_tr_or(w);
    }
    if (w_too) {
        return ror_impl(w, v);
    }
    Py_RETURN_NOTIMPLEMENTED;
}

/* -- the methods ------------------------------------------------------------------------------ */

PyObject *
tr_getitem_method(PyObject *self, PyObject *key)
{
    return tr_subscript(self, key);
}

PyObject *
tr_contains_method(PyObject *self, PyObject *key)
{
    int r = tr_contains(self, key);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

PyObject *
tr_get(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        return rw_base_call(&rw_base[B_GET], self, args, nargs);   /* its own error */
    }
    Py_hash_t hash = rw_key_hash(args[0]);
    if (hash == -1 || rw_record_read(self, args[0], hash, RW_OP(GET)) < 0) {
        return NULL;
    }
    PyObject *value;
    int found = rw_dict_read_kh(self, args[0], hash, &value);
    if (found != 0) {
        return found > 0 ? value : NULL;
    }
    return Py_NewRef(nargs == 2 ? args[1] : Py_None);
}

PyObject *
tr_setdefault(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        return rw_base_call(&rw_base[B_SETDEFAULT], self, args, nargs);
    }
    PyObject *key = args[0];
    PyObject *deflt = nargs == 2 ? args[1] : Py_None;
    Py_hash_t hash = rw_key_hash(key);
    if (hash == -1 || rw_dict_key_read_or_write(self, key, hash, RW_OP(SETDEFAULT), 0) < 0) {
        return NULL;
    }
    PyObject *value = NULL;
    int found;
#if RW_PY313
    /* One critical section, as dict's own setdefault: atomic on free-threaded builds. */
    Py_BEGIN_CRITICAL_SECTION(self);
    found = _PyDict_GetItemRef_KnownHash_LockHeld((PyDictObject *)self, key, hash, &value);
    if (found == 0) {
        found = _PyDict_SetItem_KnownHash_LockHeld((PyDictObject *)self, key, deflt, hash);
        value = found == 0 ? Py_NewRef(deflt) : NULL;
    }
    Py_END_CRITICAL_SECTION();
#else
    found = rw_dict_getref_kh(self, key, hash, &value);
    if (found == 0) {
        found = _PyDict_SetItem_KnownHash(self, key, deflt, hash);
        value = found == 0 ? Py_NewRef(deflt) : NULL;
    }
#endif
    return value;
}

PyObject *
tr_pop(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        return rw_base_call(&rw_base[B_POP], self, args, nargs);
    }
    PyObject *key = args[0];
    Py_hash_t hash = rw_key_hash(key);
    if (hash == -1) {
        /* An unhashable key is no location, and dict's pop with a default returns it from
         * an empty dict without hashing. */
        if (nargs == 2 && PyDict_GET_SIZE(self) == 0 && PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            return Py_NewRef(args[1]);
        }
        return NULL;
    }
    if (rw_dict_key_read_or_write(self, key, hash, RW_OP(POP), 1) < 0) {
        return NULL;
    }
#ifdef Py_GIL_DISABLED
    /* dict's own pop, atomic (no build exports a pop by a known hash): it hashes again. */
    return rw_base_call(&rw_base[B_POP], self, args, nargs);
#else
    PyObject *value;
    int found = rw_dict_getref_kh(self, key, hash, &value);
    if (found > 0 && _PyDict_DelItem_KnownHash(self, key, hash) < 0) {
        /* Gone meanwhile (a key's __eq__ let another thread run): not found. */
        Py_CLEAR(value);
        found = PyErr_ExceptionMatches(PyExc_KeyError) ? (PyErr_Clear(), 0) : -1;
    }
    if (found != 0) {
        return found > 0 ? value : NULL;
    }
    if (nargs == 2) {
        return Py_NewRef(args[1]);
    }
    rw_key_error(key);
    return NULL;
#endif
}

PyObject *
tr_popitem(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *item = rw_base_call0(B_POPITEM, self);
    if (item == NULL) {
        PyObject *exc = rw_err_fetch();
        if (rw_record_keys_read(self, RW_OP(POPITEM)) < 0) {
            PyObject *now = rw_err_fetch();
            PyException_SetContext(now, exc);
            rw_err_restore(now);
            return NULL;
        }
        rw_err_restore(exc);
        return NULL;
    }
    /* Which item it takes depends on the order of the keys: a read of them, then the
     * delete of the key it took. */
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_record_keys_read(self, RW_OP(POPITEM));
    if (e == 0 && (e = rw_enter(self, &ts, &sh)) > 0) {
        e = rw_on_write(ts, sh, self, PyTuple_GET_ITEM(item, 0), RW_OP(POPITEM), 1);
        Py_DECREF(ts);
    }
    if (e < 0) {
        Py_DECREF(item);
        return NULL;
    }
    return item;
}

PyObject *
tr_clear(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(self, &ts, &sh);
    if (e > 0) {
        e = rw_on_clear(ts, sh, self, RW_OP(CLEAR));
        Py_DECREF(ts);
    }
    if (e < 0) {
        return NULL;
    }
    return rw_base_call0(B_CLEAR, self);
}

PyObject *
tr_keys(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (rw_record_keys_read(self, RW_OP(KEYS)) < 0) {
        return NULL;
    }
    return rw_base_call0(B_KEYS, self);
}

PyObject *
tr_reversed(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (rw_record_keys_read(self, RW_OP(REVERSED)) < 0) {
        return NULL;
    }
    return rw_base_call0(B_REVERSED, self);
}

PyObject *
tr_values(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (rw_record_read_all(self, RW_OP(VALUES)) < 0) {
        return NULL;
    }
    return rw_base_call0(B_VALUES, self);
}

PyObject *
tr_items(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (rw_record_read_all(self, RW_OP(ITEMS)) < 0) {
        return NULL;
    }
    return rw_base_call0(B_ITEMS, self);
}

PyObject *
td_copy(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (rw_record_read_all(self, RW_OP(COPY)) < 0) {
        return NULL;
    }
    return rw_track_new(rw_plain_copy(self));
}

PyObject *
tdd_copy(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (rw_record_read_all(self, RW_OP(COPY)) < 0) {
        return NULL;
    }
    PyObject *plain = rw_plain_copy(self);
    if (plain == NULL) {
        return NULL;
    }
    PyObject *dd = rw_new_defaultdict(rw_dd_factory(self), plain);
    Py_DECREF(plain);
    return rw_track_new(dd);
}

PyObject *
tdd_dunder_copy(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyObject_CallMethodNoArgs(self, rw_str_copy);
}

PyObject *
td_fromkeys(PyObject *Py_UNUSED(cls), PyObject *const *args, Py_ssize_t nargs)
{
    return rw_track_new(rw_base_call(&rw_base[B_FROMKEYS], (PyObject *)&PyDict_Type, args, nargs));
}

/* A plain dict in the pickle (loading it never needs racewatch), as a dict reduces:
 * copyreg.__newobj__ from protocol 2 on; before, dict and its items. */
PyObject *
td_reduce_ex(PyObject *self, PyObject *protocol)
{
    long proto = PyLong_AsLong(protocol);
    if (proto == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (rw_record_read_all(self, RW_OP(REDUCE)) < 0) {
        return NULL;
    }
    PyObject *it = rw_items_iter(self);
    if (it == NULL) {
        return NULL;
    }
    PyObject *r;
    if (proto >= 2) {
        r = Py_BuildValue("(O(O)OON)", rw_copyreg_newobj, (PyObject *)&PyDict_Type, Py_None,
                          Py_None, it);
    }
    else {
        r = Py_BuildValue("(OOOON)", (PyObject *)&PyDict_Type, rw_empty_tuple, Py_None, Py_None,
                          it);
    }
    return r;
}

PyObject *
tdd_reduce(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (rw_record_read_all(self, RW_OP(REDUCE)) < 0) {
        return NULL;
    }
    PyObject *factory = rw_dd_factory(self);
    PyObject *args = factory != NULL && factory != Py_None ? PyTuple_Pack(1, factory)
                                                          : Py_NewRef(rw_empty_tuple);
    if (args == NULL) {
        return NULL;
    }
    PyObject *it = rw_items_iter(self);
    if (it == NULL) {
        Py_DECREF(args);
        return NULL;
    }
    return Py_BuildValue("(ONOON)", (PyObject *)rw_defaultdict, args, Py_None, Py_None, it);
}

PyObject *
tdd_missing(PyObject *self, PyObject *key)
{
    /* dict's lookup calls this for a missing key: a defaultdict miss inserts the key. */
    PyObject *factory = rw_dd_factory(self);
    Py_hash_t hash = rw_key_hash(key);
    if (hash == -1) {
        return NULL;
    }
    if (factory == NULL || factory == Py_None) {
        if (rw_record_read(self, key, hash, RW_OP(MISSING)) < 0) {
            return NULL;
        }
        return rw_base_call(&rw_base[B_DD_MISSING], self, &key, 1);
    }
    Py_INCREF(factory);
    if (rw_dict_key_write(self, key, hash, RW_OP(MISSING)) < 0) {
        Py_DECREF(factory);
        return NULL;
    }
    PyObject *value = PyObject_CallNoArgs(factory);
    if (factory == (PyObject *)&PyDict_Type || factory == (PyObject *)&PyList_Type
            || factory == (PyObject *)&PySet_Type) {
        /* The dicts, lists and sets that a ``defaultdict(list)`` makes are shared like
         * their parent. */
        value = rw_track_new(value);
    }
    Py_DECREF(factory);
    if (value == NULL) {
        return NULL;
    }
    if (_PyDict_SetItem_KnownHash(self, key, value, hash) < 0) {
        Py_DECREF(value);
        return NULL;
    }
    return value;
}

PyObject *
tr_get_class(PyObject *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(rw_is_dd(self) ? (PyObject *)rw_defaultdict : (PyObject *)&PyDict_Type);
}
