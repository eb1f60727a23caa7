/* racewatch._core: dict operations with a key's hash computed once (included by core.h,
 * which defines what they need first). */

#ifndef RACEWATCH_DICT_KH_H
#define RACEWATCH_DICT_KH_H

/* -- dict operations with a key's hash computed once ----------------------------------------
 * A tracked operation hashes its key once and hands the hash to every lookup and store it
 * makes (the shadow's and the dict's own), as a plain dict hashes once per operation: a
 * key's __hash__ is user code that a program may count or pay for.  The KnownHash
 * functions are exported by every version (3.13 declares them in its internal headers). */
#if RW_PY313
PyAPI_FUNC(int) _PyDict_SetItem_KnownHash(PyObject *mp, PyObject *key, PyObject *item,
                                          Py_hash_t hash);
PyAPI_FUNC(int) _PyDict_DelItem_KnownHash(PyObject *mp, PyObject *key, Py_hash_t hash);
PyAPI_FUNC(int) _PyDict_GetItemRef_KnownHash_LockHeld(PyDictObject *op, PyObject *key,
                                                      Py_hash_t hash, PyObject **result);
PyAPI_FUNC(int) _PyDict_SetItem_KnownHash_LockHeld(PyDictObject *mp, PyObject *key,
                                                   PyObject *item, Py_hash_t hash);
#endif

/* The hash of a key, as PyObject_Hash gives it: an exact str's cached one read in place,
 * without the two calls (``scaling`` on 3.11, callgrind: 41 instructions fewer a task, of
 * three operations on str keys); from 3.12, an exact int's of one digit computed as int's
 * own hash computes it (the value itself, below the modulus; -1 is -2). */
static inline Py_hash_t
rw_key_hash(PyObject *key)
{
    if (PyUnicode_CheckExact(key)) {
        Py_hash_t hash = RW_LOAD(&((PyASCIIObject *)key)->hash);
        if (hash != -1) {
            return hash;
        }
    }
#if PY_VERSION_HEX >= 0x030C0000
    else if (PyLong_CheckExact(key) && PyUnstable_Long_IsCompact((PyLongObject *)key)) {
        Py_ssize_t value = PyUnstable_Long_CompactValue((PyLongObject *)key);
        return value == -1 ? -2 : (Py_hash_t)value;
    }
#endif
    return PyObject_Hash(key);
}

/* d.get(key) by its hash: 1 (a new reference in *out), 0 (absent) or -1 (error). */
static inline int
rw_dict_getref_kh(PyObject *d, PyObject *key, Py_hash_t hash, PyObject **out)
{
#ifdef Py_GIL_DISABLED
    int found;
    Py_BEGIN_CRITICAL_SECTION(d);
    found = _PyDict_GetItemRef_KnownHash_LockHeld((PyDictObject *)d, key, hash, out);
    Py_END_CRITICAL_SECTION();
    return found;
#else
    PyObject *v = _PyDict_GetItem_KnownHash(d, key, hash);
    if (v != NULL) {
        *out = Py_NewRef(v);
        return 1;
    }
    *out = NULL;
    return PyErr_Occurred() ? -1 : 0;
#endif
}

/* rw_dict_getref_kh for the program's own reads of a tracked dict (d[key], get, in): on a
 * free-threaded build a str or int key is looked up without the dict's lock, as the
 * interpreter reads a dict.  With it, threads that read one shared dict took its lock in
 * turn, and spun on it (``scaling`` with 2 threads: a quarter of the time in
 * sched_yield).  Its hash is then the key's own again: cached in a str, an int's runs no
 * code. */
static inline int
rw_dict_read_kh(PyObject *d, PyObject *key, Py_hash_t hash, PyObject **out)
{
#ifdef Py_GIL_DISABLED
    if (PyUnicode_CheckExact(key) || PyLong_CheckExact(key)) {
        return PyDict_GetItemRef(d, key, out);
    }
#endif
    return rw_dict_getref_kh(d, key, hash, out);
}

/* key in d, by its hash: 1, 0 or -1 (error). */
static inline int
rw_dict_contains_kh(PyObject *d, PyObject *key, Py_hash_t hash)
{
    PyObject *v;
    int found = rw_dict_getref_kh(d, key, hash, &v);
    Py_XDECREF(v);
    return found;
}

#endif /* RACEWATCH_DICT_KH_H */
