/* What every tracked container type shares (tracked.py and tracked_seq.py are the
 * reference): the dict and defaultdict (dict.h, dict_*.c), the list (list.h, list*.c) and
 * the set (set.h, set*.c).  tracked_base.c holds it:
 *
 *   calling a builtin's own C method directly (base_method);
 *   installing methods as descriptors *of the builtin* (its docstrings, reprs, qualnames)
 *   and the __repr__ descriptor that is the builtin's own on the type;
 *   the accesses an operation records (rw_record_*), each entering the engine itself;
 *   registering copy's dispatch for a tracked type; the slot of the shadow.
 *
 * Each type's slots and methods record what they read and write, then call the builtin's
 * own implementation: no Python frame, so tracebacks are those of a plain container on
 * every version.
 */

#ifndef RACEWATCH_TRACKED_H
#define RACEWATCH_TRACKED_H

#include "core.h"

/* -- a builtin's own methods ------------------------------------------------------------- */

typedef struct {
    const char *name;
    PyObject *descr;       /* the builtin's method descriptor, held: its PyMethodDef stays */
    PyCFunction meth;
    int flags;
    const char *doc;
} base_method;

int rw_base_method_load(base_method *m, PyTypeObject *owner);
PyObject *rw_base_call(base_method *m, PyObject *self, PyObject *const *args, Py_ssize_t nargs);
/* Load the ``n`` methods of a table from ``owner``. */
int rw_base_table_load(base_method *table, int n, PyTypeObject *owner);
/* A METH_FASTCALL | METH_KEYWORDS call of the builtin's method, keywords passed on. */
PyObject *rw_base_call_kw(base_method *m, PyObject *self, PyObject *const *args,
                          Py_ssize_t nargs, PyObject *kwnames);

/* A method of a tracked type, installed as a descriptor of ``owner`` (d_type) with the
 * docstring of ``table[base]``: the builtin's. */
typedef struct {
    PyMethodDef def;
    int base;
} method_spec;

int rw_install_methods(PyTypeObject *type, method_spec *specs, size_t n, PyTypeObject *owner,
                       base_method *table);
/* __repr__: a descriptor that is ``public.__repr__`` on the type, and whose bound method
 * calls ``type->tp_repr`` (the tracked one) on an instance. */
int rw_install_repr(PyTypeObject *type, PyTypeObject *public);

extern PyObject *rw_empty_tuple;
extern PyObject *rw_copyreg_newobj;     /* copyreg.__newobj__ */
extern PyObject *rw_copy_deepcopy;      /* copy.deepcopy */
extern PyObject *rw_str_copy;
int rw_tracked_base_ready(void);
/* copy.copy(x) is x.copy() (a tracked copy); copy.deepcopy(x) is ``deep`` (x, memo). */
int rw_register_copiers(PyObject *module, PyTypeObject *type, PyMethodDef *deep);

/* -- the accesses an operation records ----------------------------------------------------- */

/* Each enters the engine for ``d`` (rw_enter) and, when the access is to be checked,
 * applies the rule: 0 done (checked or not), -1 error. */
/* ``hash``: the key's, when the operation computed it (-1: not yet). */
static inline int
rw_record_read(PyObject *d, PyObject *key, Py_hash_t hash, PyObject *op)
{
#ifndef Py_GIL_DISABLED
    return rw_first_look_read(d, key, hash, op);
#else
    return rw_record_read_entered(d, key, hash, op);
#endif
}
int rw_record_write(PyObject *d, PyObject *key, PyObject *op, int update);
int rw_record_keys_read(PyObject *d, PyObject *op);
int rw_record_read_all(PyObject *d, PyObject *op);
int rw_record_clear(PyObject *d, PyObject *op);

/* -- the types ------------------------------------------------------------------------------ */

PyObject *rw_track_new(PyObject *d);
/* Whether the contents of the fresh container ``d`` that track() replaces may move to the
 * tracked one rather than be copied: nothing but the one reference of the call can see
 * it (the caller's, handed to track() by instrumented code, whose argument is always a
 * display, a comprehension or a builtin's new container; or the one a stealing caller
 * hands over).  Up to 3.13: from 3.14 the interpreter may pass a local variable's object
 * without a reference of its own.  On a free-threaded build the count is in two parts:
 * the one reference is then the calling thread's own (the object is its, with a local
 * count of one), and no other thread holds or ever held one (the shared part, where
 * another thread's references and the flags of their merging go, is zero). */
static inline int
rw_contents_movable(PyObject *d)
{
#if !defined(Py_GIL_DISABLED) && PY_VERSION_HEX < 0x030E0000
    return Py_REFCNT(d) == 1;
#elif defined(Py_GIL_DISABLED) && PY_VERSION_HEX < 0x030E0000
    return _Py_IsOwnedByCurrentThread(d)
           && _Py_atomic_load_uint32_relaxed(&d->ob_ref_local) == 1
           && _Py_atomic_load_ssize_relaxed(&d->ob_ref_shared) == 0;
#else
    (void)d;
    return 0;
#endif
}
PyObject *rw_with_creation_stack(PyObject *result);
/* ``result``, a tracked container replacing the fresh ``d``, takes its place in the
 * collector's list (dict_track.c). */
void rw_take_gc_place(PyObject *result, PyObject *d);
/* The builtin a tracked type stands for, or NULL for another type. */
PyTypeObject *rw_public_of(PyTypeObject *t);
PyObject *rw_reflected_first(PyObject *self, PyObject *other, PyObject *reflected);
PyObject *rw_getattr_or_null(PyObject *obj, PyObject *name);

/* The tracked list (list.c) */
int rw_list_ready(PyObject *module);
PyObject *rw_track_list(PyObject *l, int steal);

/* The tracked set (set.c) */
int rw_set_ready(PyObject *module);
PyObject *rw_track_set(PyObject *s, int steal);
PyObject *rw_mod_reading(PyObject *self, PyObject *value);

/* The interned names of the reflected comparison methods, by Py_LT..Py_GE: what Python
 * calls on the right operand (``__gt__`` for ``<``). */
extern PyObject *rw_reflected_compare[6];

#endif /* RACEWATCH_TRACKED_H */
