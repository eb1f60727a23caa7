/* The tracked dict and defaultdict (tracked.py), as C subclasses of the builtins
 * (declarations shared by their files):
 *
 *   dict_base.c     dict's own methods; the accesses a dict operation records
 *   dict_track.c    track() of every kind, public_type(), and the reflected-operand rule
 *   dict_methods.c  the slots and methods of both types
 *   dict_update.c   update() and |=, pair by pair
 *   dict_type.c     the two type objects, their __repr__ descriptor, copy's dispatch
 *
 *
 * Each slot and method tells the shadow what it reads and writes, then calls the base
 * type's own C implementation: no Python frame, so tracebacks are those of a plain dict
 * on every version.  What a program can observe is kept as a plain dict's:
 *
 * * the types are named ``dict`` (module builtins) and ``collections.defaultdict``, and
 *   ``obj.__class__`` is the builtin; the tracked dict is a static type (so ``__module__``
 *   is not in its namespace: ``dir(d) == dir({})``), and so is the tracked defaultdict
 *   while defaultdict itself is one (3.10, 3.11);
 * * the methods a builtin defines are method descriptors *of the builtin* (``d_type`` is
 *   dict or defaultdict) with its docstrings: the same reprs, ``__qualname__``s,
 *   signatures and error messages; a wrong call is passed to the builtin's own method, to
 *   fail exactly as it fails;
 * * ``__repr__`` is a descriptor: ``repr(d)`` records a read, ``type(d).__repr__`` is still
 *   ``dict.__repr__`` (what pprint dispatches on);
 * * no ``__copy__``/``__deepcopy__`` that dict lacks: copy's dispatch tables know the
 *   tracked types instead, and give tracked copies; pickling gives a plain dict (through
 *   ``copyreg.__newobj__``, as a dict's own ``__reduce_ex__``) or defaultdict;
 * * a key's ``__hash__`` is called once per operation, as a plain dict calls it: the
 *   operation hashes the key and hands the hash to the shadow's lookups and to the dict's
 *   own (the KnownHash functions, core.h); its ``__eq__`` as a plain dict calls it
 *   wherever the access is not checked (a single thread: the usual case), since the
 *   checks that need an extra lookup (is the key present? its location in the shadow)
 *   are made only for an access that is checked;
 * * a tracked dict made from one that the garbage collector does not track (only atomic
 *   values) is not tracked either, until it gets a shadow.
 */

#ifndef RACEWATCH_DICT_H
#define RACEWATCH_DICT_H

#include "tracked.h"

enum {
    B_GET, B_SETDEFAULT, B_POP, B_POPITEM, B_KEYS, B_VALUES, B_ITEMS, B_UPDATE, B_CLEAR,
    B_REVERSED, B_FROMKEYS, B_GETITEM, B_CONTAINS, B_COPY, B_REDUCE_EX,
    B_DD_MISSING, B_DD_COPY, B_DD_DUNDER_COPY, B_DD_REDUCE, B_COUNT
};

extern Py_ssize_t rw_dd_factory_offset;
extern PyObject *rw_str_eq, *rw_str_ne, *rw_str_ror, *rw_str_keys, *rw_str_missing;
extern base_method rw_base[B_COUNT];

PyObject *rw_base_update(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *rw_base_update1(PyObject *self, PyObject *arg);

static inline PyObject *
rw_base_call0(int which, PyObject *self)
{
    return rw_base_call(&rw_base[which], self, NULL, 0);
}

static inline int
rw_is_dd(PyObject *self)
{
    return PyObject_TypeCheck(self, rw_defaultdict);
}

static inline PyObject *
rw_dd_factory(PyObject *dd)
{
    /* defaultdict.default_factory (borrowed; NULL for None) */
    return *(PyObject **)((char *)dd + rw_dd_factory_offset);
}

static inline int
rw_is_tracking(PyObject *obj)
{
    /* isinstance(obj, _Tracking) */
    return PyObject_TypeCheck(obj, &RW_TrackedDictType)
        || PyObject_TypeCheck(obj, rw_tracked_defaultdict);
}

/* The accesses a dict operation records beside tracked.h's (dict_base.c). */
static inline int
rw_dict_key_write(PyObject *d, PyObject *key, Py_hash_t hash, PyObject *op)
{
#ifndef Py_GIL_DISABLED
    return rw_first_look_write(d, key, hash, op);
#else
    return rw_dict_key_write_entered(d, key, hash, op);
#endif
}
int rw_dict_key_read_or_write(PyObject *d, PyObject *key, Py_hash_t hash, PyObject *op,
                              int present_writes);
void rw_key_error(PyObject *key);
PyObject *rw_plain_copy(PyObject *self);
PyObject *rw_items_iter(PyObject *self);
PyObject *rw_new_defaultdict(PyObject *factory, PyObject *arg);

/* dict_update.c */
int rw_dict_update_ready(void);
PyObject *tr_update(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *tr_ior(PyObject *self, PyObject *other);

/* dict_methods.c: the slots and methods */
PyObject *tr_subscript(PyObject *self, PyObject *key);
int tr_ass_subscript(PyObject *self, PyObject *key, PyObject *value);
Py_ssize_t tr_length(PyObject *self);
int tr_contains(PyObject *self, PyObject *key);
PyObject *tr_iter(PyObject *self);
PyObject *tr_richcompare(PyObject *self, PyObject *other, int op);
PyObject *tr_repr(PyObject *self);
PyObject *ror_impl(PyObject *self, PyObject *other);
PyObject *tr_or(PyObject *v, PyObject *w);
PyObject *tr_getitem_method(PyObject *self, PyObject *key);
PyObject *tr_contains_method(PyObject *self, PyObject *key);
PyObject *tr_get(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *tr_setdefault(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *tr_pop(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *tr_popitem(PyObject *self, PyObject *ignored);
PyObject *tr_clear(PyObject *self, PyObject *ignored);
PyObject *tr_keys(PyObject *self, PyObject *ignored);
PyObject *tr_reversed(PyObject *self, PyObject *ignored);
PyObject *tr_values(PyObject *self, PyObject *ignored);
PyObject *tr_items(PyObject *self, PyObject *ignored);
PyObject *td_copy(PyObject *self, PyObject *ignored);
PyObject *tdd_copy(PyObject *self, PyObject *ignored);
PyObject *tdd_dunder_copy(PyObject *self, PyObject *ignored);
PyObject *td_fromkeys(PyObject *cls, PyObject *const *args, Py_ssize_t nargs);
PyObject *td_reduce_ex(PyObject *self, PyObject *protocol);
PyObject *tdd_reduce(PyObject *self, PyObject *ignored);
PyObject *tdd_missing(PyObject *self, PyObject *key);
PyObject *tr_get_class(PyObject *self, void *closure);

/* ``obj``'s type has the tracked types' | (dict_track.c, dict_methods.c) */
static inline int
rw_has_tr_or(PyObject *obj)
{
    PyNumberMethods *nb = Py_TYPE(obj)->tp_as_number;
    return nb != NULL && nb->nb_or == tr_or;
}

#endif /* RACEWATCH_DICT_H */
