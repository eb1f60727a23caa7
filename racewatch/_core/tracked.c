/* The tracked dict and defaultdict (tracked.py), as C subclasses of the builtins.
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
 * * a key's ``__hash__`` and ``__eq__`` are called as a plain dict calls them wherever the
 *   access is not checked (a single thread: the usual case), since the checks that need
 *   an extra lookup (is the key present?) are made only for an access that is checked;
 * * a tracked dict made from one that the garbage collector does not track (only atomic
 *   values) is not tracked either, until it gets a shadow.
 */

#include "core.h"

PyTypeObject *rw_tracked_defaultdict = NULL;
PyTypeObject *rw_defaultdict = NULL;

static Py_ssize_t dd_factory_offset = 0;
static PyObject *empty_tuple = NULL;
static PyObject *copyreg_newobj = NULL;     /* copyreg.__newobj__ */
static PyObject *copy_deepcopy = NULL;      /* copy.deepcopy */
static PyObject *str_eq, *str_ne, *str_ror, *str_copy, *str_keys;

/* -- the builtins' own methods, called directly ------------------------------------------- */

typedef struct {
    const char *name;
    PyObject *descr;       /* the builtin's method descriptor, held: its PyMethodDef stays */
    PyCFunction meth;
    int flags;
    const char *doc;
} base_method;

enum {
    B_GET, B_SETDEFAULT, B_POP, B_POPITEM, B_KEYS, B_VALUES, B_ITEMS, B_UPDATE, B_CLEAR,
    B_REVERSED, B_FROMKEYS, B_GETITEM, B_CONTAINS, B_COPY, B_REDUCE_EX,
    B_DD_MISSING, B_DD_COPY, B_DD_DUNDER_COPY, B_DD_REDUCE, B_COUNT
};

static base_method base[B_COUNT] = {
    [B_GET] = {"get"}, [B_SETDEFAULT] = {"setdefault"}, [B_POP] = {"pop"},
    [B_POPITEM] = {"popitem"}, [B_KEYS] = {"keys"}, [B_VALUES] = {"values"},
    [B_ITEMS] = {"items"}, [B_UPDATE] = {"update"}, [B_CLEAR] = {"clear"},
    [B_REVERSED] = {"__reversed__"}, [B_FROMKEYS] = {"fromkeys"},
    [B_GETITEM] = {"__getitem__"}, [B_CONTAINS] = {"__contains__"}, [B_COPY] = {"copy"},
    [B_REDUCE_EX] = {"__reduce_ex__"}, [B_DD_MISSING] = {"__missing__"},
    [B_DD_COPY] = {"copy"}, [B_DD_DUNDER_COPY] = {"__copy__"}, [B_DD_REDUCE] = {"__reduce__"},
};

static int
base_method_load(base_method *m, PyTypeObject *owner)
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
static PyObject *
base_call(base_method *m, PyObject *self, PyObject *const *args, Py_ssize_t nargs)
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

static inline PyObject *
base_call0(int which, PyObject *self)
{
    return base_call(&base[which], self, NULL, 0);
}

/* dict.update(self, *args, **kwargs) */
static PyObject *
base_update(PyObject *self, PyObject *args, PyObject *kwargs)
{
    base_method *m = &base[B_UPDATE];
    if ((m->flags & (METH_VARARGS | METH_KEYWORDS)) == (METH_VARARGS | METH_KEYWORDS)) {
        return ((PyCFunctionWithKeywords)(void (*)(void))m->meth)(self, args, kwargs);
    }
    PyObject *bound = PyObject_GetAttrString(self, "update");
    PyObject *r = bound != NULL ? PyObject_Call(bound, args, kwargs) : NULL;
    Py_XDECREF(bound);
    return r;
}

static PyObject *
base_update1(PyObject *self, PyObject *arg)
{
    PyObject *args = PyTuple_Pack(1, arg);
    if (args == NULL) {
        return NULL;
    }
    PyObject *r = base_update(self, args, NULL);
    Py_DECREF(args);
    return r;
}

/* -- helpers ------------------------------------------------------------------------------- */

static inline int
is_dd(PyObject *self)
{
    return PyObject_TypeCheck(self, rw_defaultdict);
}

static inline PyObject *
dd_factory(PyObject *dd)
{
    /* defaultdict.default_factory (borrowed; NULL for None) */
    return *(PyObject **)((char *)dd + dd_factory_offset);
}

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

static inline int
is_tracking(PyObject *obj)
{
    /* isinstance(obj, _Tracking) */
    return PyObject_TypeCheck(obj, &RW_TrackedDictType)
        || PyObject_TypeCheck(obj, rw_tracked_defaultdict);
}

/* One whole-dict read (the reference's _on_read_all(d, op)). */
static int
read_all(PyObject *d, PyObject *op)
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

static int
keys_read(PyObject *d, PyObject *op)
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

static int
key_read(PyObject *d, PyObject *key, PyObject *op)
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
static int
key_write(PyObject *d, PyObject *key, PyObject *op)
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
static int
key_read_or_write(PyObject *d, PyObject *key, PyObject *op, int present_writes)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(d, &ts, &sh);
    if (e > 0) {
        int present = PyDict_Contains(d, key);
        if (present < 0) {
            e = -1;
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
static PyObject *
plain_copy(PyObject *self)
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
    PyObject *items = base_call0(B_ITEMS, self);
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
 * moment from the tracked dict's storage (as plain_copy does on 3.13).  NULL, with no
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
    PyObject *full = base_call(&base[B_FROMKEYS], (PyObject *)&PyDict_Type, args, 2);
    Py_SET_TYPE(d, type);
    if (full == NULL) {
        PyErr_Clear();
    }
    return full;
#endif
}

static PyObject *
items_iter(PyObject *self)
{
    PyObject *items = base_call0(B_ITEMS, self);
    if (items == NULL) {
        return NULL;
    }
    PyObject *it = PyObject_GetIter(items);
    Py_DECREF(items);
    return it;
}

static PyObject *
new_defaultdict(PyObject *factory, PyObject *arg)
{
    return PyObject_CallFunctionObjArgs((PyObject *)rw_defaultdict,
                                        factory != NULL ? factory : Py_None, arg, NULL);
}

/* -- track ---------------------------------------------------------------------------------- */

static PyObject *
track_impl(PyObject *d, int steal)
{
    /* What instrumented code calls on every dict it creates: a tracked copy of ``d``. */
    PyObject *result = NULL;
    if (!(rw_settings->enabled && rw_settings->tracking)) {
        return steal ? d : Py_NewRef(d);
    }
    PyTypeObject *t = Py_TYPE(d);
    if (t == &PyDict_Type) {
        result = PyDict_Type.tp_new(&RW_TrackedDictType, empty_tuple, NULL);
        if (result != NULL && PyDict_GET_SIZE(d) && PyDict_Merge(result, d, 1) < 0) {
            Py_CLEAR(result);
        }
#ifndef Py_GIL_DISABLED
        if (result != NULL && !PyObject_GC_IsTracked(d) && PyObject_GC_IsTracked(result)) {
            PyObject_GC_UnTrack(result);
        }
#endif
    }
    else if (t == rw_defaultdict) {
        PyObject *factory = dd_factory(d);
        result = PyObject_CallFunctionObjArgs((PyObject *)rw_tracked_defaultdict,
                                              factory != NULL ? factory : Py_None, d, NULL);
    }
    else {
        return steal ? d : Py_NewRef(d);
    }
    if (steal) {
        Py_DECREF(d);
    }
    if (result == NULL) {
        return NULL;
    }
    rw_settings->dicts_tracked++;
    /* Where it was created; the shadow itself is made on first checked use (shadow.c). */
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
static PyObject *
track_new(PyObject *d)
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

PyObject *
rw_mod_public_type(PyObject *Py_UNUSED(module), PyObject *obj)
{
    PyTypeObject *t = Py_TYPE(obj);
    if (t == &RW_TrackedDictType) {
        t = &PyDict_Type;
    }
    else if (t == rw_tracked_defaultdict) {
        t = rw_defaultdict;
    }
    return Py_NewRef((PyObject *)t);
}

PyObject *
rw_mod_is_tracked(PyObject *Py_UNUSED(module), PyObject *obj)
{
    PyTypeObject *t = Py_TYPE(obj);
    return PyBool_FromLong(t == &RW_TrackedDictType || t == rw_tracked_defaultdict);
}

/* -- _reflected_first ------------------------------------------------------------------------ */

static PyObject *ror_impl(PyObject *self, PyObject *other);
static PyObject *tr_or(PyObject *v, PyObject *w);
static PyObject *tr_richcompare(PyObject *self, PyObject *other, int op);

static inline int
has_tr_or(PyObject *obj)
{
    PyNumberMethods *nb = Py_TYPE(obj)->tp_as_number;
    return nb != NULL && nb->nb_or == tr_or;
}

static PyTypeObject *
public_of(PyTypeObject *t)
{
    if (t == &RW_TrackedDictType) {
        return &PyDict_Type;
    }
    if (t == rw_tracked_defaultdict) {
        return rw_defaultdict;
    }
    return NULL;
}

static PyObject *
getattr_or_null(PyObject *obj, PyObject *name)
{
    PyObject *v = PyObject_GetAttr(obj, name);
    if (v == NULL && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
    }
    return v;
}

/* What Python does before ``builtin_dict OP other``: when ``other`` is of a subclass of
 * that builtin that overrides the reflected method, that method goes first.  The tracked
 * types are not the builtin, so Python does not do it for them: they do it themselves.
 * A tracked operand counts as the builtin it stands for.  NotImplemented when the rule
 * does not apply or the method declined. */
static PyObject *
reflected_first(PyObject *self, PyObject *other, PyObject *reflected)
{
    PyTypeObject *t = Py_TYPE(other);
    PyTypeObject *seen_as = public_of(t);
    if (seen_as == NULL) {
        seen_as = t;
    }
    PyTypeObject *public = is_dd(self) ? rw_defaultdict : &PyDict_Type;
    if (seen_as == public || !PyType_IsSubtype(seen_as, public)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *mine = getattr_or_null((PyObject *)seen_as, reflected);
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
    if (reflected == str_ror && has_tr_or(other)) {
        return ror_impl(other, self);
    }
    if (reflected != str_ror && Py_TYPE(other)->tp_richcompare == tr_richcompare) {
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
        PyErr_SetString(PyExc_TypeError, "reflected_first(self, other, name)");
        return NULL;
    }
    if (!is_tracking(args[0])) {
        PyErr_SetString(PyExc_TypeError, "reflected_first: self is a tracked dict");
        return NULL;
    }
    PyObject *name = Py_NewRef(args[2]);
    PyUnicode_InternInPlace(&name);
    PyObject *r = reflected_first(args[0], args[1], name);
    Py_DECREF(name);
    return r;
}

/* -- the slots ------------------------------------------------------------------------------- */

static PyObject *
tr_subscript(PyObject *self, PyObject *key)
{
    if (key_read(self, key, RW_OP(GETITEM)) < 0) {
        return NULL;
    }
    /* dict's own: a miss calls __missing__ (a tracked defaultdict's, below) */
    return PyDict_Type.tp_as_mapping->mp_subscript(self, key);
}

static int
tr_ass_subscript(PyObject *self, PyObject *key, PyObject *value)
{
    int rc = value != NULL ? key_write(self, key, RW_OP(SETITEM))
                           : key_read_or_write(self, key, RW_OP(DELITEM), 1);
    if (rc < 0) {
        return -1;
    }
    return PyDict_Type.tp_as_mapping->mp_ass_subscript(self, key, value);
}

static Py_ssize_t
tr_length(PyObject *self)
{
    if (keys_read(self, RW_OP(LEN)) < 0) {
        return -1;
    }
    return PyDict_Type.tp_as_mapping->mp_length(self);
}

static int
tr_contains(PyObject *self, PyObject *key)
{
    if (key_read(self, key, RW_OP(CONTAINS)) < 0) {
        return -1;
    }
    return PyDict_Contains(self, key);
}

static PyObject *
tr_iter(PyObject *self)
{
    if (keys_read(self, RW_OP(ITER)) < 0) {
        return NULL;
    }
    return PyDict_Type.tp_iter(self);
}

static PyObject *
tr_richcompare(PyObject *self, PyObject *other, int op)
{
    if (op != Py_EQ && op != Py_NE) {
        return PyDict_Type.tp_richcompare(self, other, op);
    }
    PyObject *result = reflected_first(self, other, op == Py_EQ ? str_eq : str_ne);
    if (result != Py_NotImplemented) {
        return result;
    }
    Py_DECREF(result);
    PyObject *name = op == Py_EQ ? RW_OP(EQ) : RW_OP(NE);
    if (read_all(self, name) < 0 || (is_tracking(other) && read_all(other, name) < 0)) {
        return NULL;
    }
    return PyDict_Type.tp_richcompare(self, other, op);
}

static PyObject *
tr_repr(PyObject *self)
{
    if (read_all(self, RW_OP(REPR)) < 0) {
        return NULL;
    }
    return (is_dd(self) ? rw_defaultdict : &PyDict_Type)->tp_repr(self);
}

/* __or__, __ror__ -------------------------------------------------------------------------- */

static PyObject *
or_impl(PyObject *self, PyObject *other)
{
    if (!PyDict_Check(other)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *reflected = reflected_first(self, other, str_ror);
    if (reflected != Py_NotImplemented) {
        return reflected;
    }
    Py_DECREF(reflected);
    if (read_all(self, RW_OP(OR)) < 0) {
        return NULL;
    }
    PyObject *result = plain_copy(self);
    if (result != NULL && is_dd(self)) {
        Py_SETREF(result, new_defaultdict(dd_factory(self), result));
    }
    if (result != NULL && PyDict_Update(result, other) < 0) {
        Py_CLEAR(result);
    }
    return track_new(result);
}

static PyObject *
ror_impl(PyObject *self, PyObject *other)
{
    if (!PyDict_Check(other)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (read_all(self, RW_OP(OR)) < 0) {
        return NULL;
    }
    PyObject *result = is_dd(self) ? new_defaultdict(dd_factory(self), other)
                                   : PyObject_CallOneArg((PyObject *)&PyDict_Type, other);
    if (result == NULL) {
        return NULL;
    }
    PyObject *mine = plain_copy(self);
    if (mine == NULL || PyDict_Merge(result, mine, 1) < 0) {
        Py_XDECREF(mine);
        Py_DECREF(result);
        return NULL;
    }
    Py_DECREF(mine);
    return track_new(result);
}

static PyObject *
tr_or(PyObject *v, PyObject *w)
{
    /* One slot for __or__ and __ror__, as Python's own binary slots do it. */
    int w_too = !Py_IS_TYPE(v, Py_TYPE(w)) && has_tr_or(w);
    if (has_tr_or(v)) {
        PyObject *r = or_impl(v, w);
        if (r != Py_NotImplemented || Py_IS_TYPE(w, Py_TYPE(v))) {
            return r;
        }
        Py_DECREF(r);
    }
    else {
        w_too = has_tr_or(w);
    }
    if (w_too) {
        return ror_impl(w, v);
    }
    Py_RETURN_NOTIMPLEMENTED;
}

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
    if (PyTuple_GET_SIZE(item) == 2 && key_write(r->d, PyTuple_GET_ITEM(item, 0), r->op) < 0) {
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
        return base_call0(B_ITEMS, other);
    }
    PyObject *keys_method = getattr_or_null(other, str_keys);
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
    PyObject *result = base_update1(d, (PyObject *)r);
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
    if (!rw_settings->enabled) {
        return 0;
    }
    RW_ThreadState *ts = rw_tls_state;
    if (ts == NULL && (ts = rw_current_slow()) == NULL) {
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
    long long before = ts->accesses;
    ts->accesses += n;
    if ((before >> 12) != (ts->accesses >> 12) && rw_settings->budget != NULL
            && rw_settings->budget != Py_None) {
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
        if (count_accesses(counting, n + 1) < 0 || (plain = plain_copy(arg)) == NULL) {
            return -1;
        }
        n = PyDict_GET_SIZE(plain);
    }
    else {
        return 0;
    }
    PyObject *r = count_accesses(counting, n) < 0 ? NULL : base_update1(self, plain);
    Py_DECREF(plain);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 1;
}

static PyObject *
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
            return base_update(self, args, kwargs);
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
            PyObject *r = base_update1(self, kwargs);
            if (r == NULL) {
                return NULL;
            }
            Py_DECREF(r);
        }
        else if (update_recorded(self, base_call0(B_ITEMS, kwargs), RW_OP(UPDATE)) < 0) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

static PyObject *
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

/* -- the methods ------------------------------------------------------------------------------ */

static PyObject *
tr_getitem_method(PyObject *self, PyObject *key)
{
    return tr_subscript(self, key);
}

static PyObject *
tr_contains_method(PyObject *self, PyObject *key)
{
    int r = tr_contains(self, key);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

static PyObject *
tr_get(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs >= 1 && nargs <= 2 && key_read(self, args[0], RW_OP(GET)) < 0) {
        return NULL;
    }
    return base_call(&base[B_GET], self, args, nargs);
}

static PyObject *
tr_setdefault(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs >= 1 && nargs <= 2
            && key_read_or_write(self, args[0], RW_OP(SETDEFAULT), 0) < 0) {
        return NULL;
    }
    return base_call(&base[B_SETDEFAULT], self, args, nargs);
}

static PyObject *
tr_pop(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs >= 1 && nargs <= 2 && key_read_or_write(self, args[0], RW_OP(POP), 1) < 0) {
        return NULL;
    }
    return base_call(&base[B_POP], self, args, nargs);
}

static PyObject *
tr_popitem(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *item = base_call0(B_POPITEM, self);
    if (item == NULL) {
        PyObject *exc = rw_err_fetch();
        if (keys_read(self, RW_OP(POPITEM)) < 0) {
            PyObject *now = rw_err_fetch();
            PyException_SetContext(now, exc);
            rw_err_restore(now);
            return NULL;
        }
        rw_err_restore(exc);
        return NULL;
    }
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(self, &ts, &sh);
    if (e > 0) {
        e = rw_on_write(ts, sh, self, PyTuple_GET_ITEM(item, 0), RW_OP(POPITEM), 1);
        Py_DECREF(ts);
    }
    if (e < 0) {
        Py_DECREF(item);
        return NULL;
    }
    return item;
}

static PyObject *
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
    return base_call0(B_CLEAR, self);
}

static PyObject *
tr_keys(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (keys_read(self, RW_OP(KEYS)) < 0) {
        return NULL;
    }
    return base_call0(B_KEYS, self);
}

static PyObject *
tr_reversed(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (keys_read(self, RW_OP(REVERSED)) < 0) {
        return NULL;
    }
    return base_call0(B_REVERSED, self);
}

static PyObject *
tr_values(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (read_all(self, RW_OP(VALUES)) < 0) {
        return NULL;
    }
    return base_call0(B_VALUES, self);
}

static PyObject *
tr_items(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (read_all(self, RW_OP(ITEMS)) < 0) {
        return NULL;
    }
    return base_call0(B_ITEMS, self);
}

static PyObject *
td_copy(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (read_all(self, RW_OP(COPY)) < 0) {
        return NULL;
    }
    return track_new(plain_copy(self));
}

static PyObject *
tdd_copy(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (read_all(self, RW_OP(COPY)) < 0) {
        return NULL;
    }
    PyObject *plain = plain_copy(self);
    if (plain == NULL) {
        return NULL;
    }
    PyObject *dd = new_defaultdict(dd_factory(self), plain);
    Py_DECREF(plain);
    return track_new(dd);
}

static PyObject *
tdd_dunder_copy(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyObject_CallMethodNoArgs(self, str_copy);
}

static PyObject *
td_fromkeys(PyObject *Py_UNUSED(cls), PyObject *const *args, Py_ssize_t nargs)
{
    return track_new(base_call(&base[B_FROMKEYS], (PyObject *)&PyDict_Type, args, nargs));
}

/* A plain dict in the pickle (loading it never needs racewatch), as a dict reduces:
 * copyreg.__newobj__ from protocol 2 on; before, dict and its items. */
static PyObject *
td_reduce_ex(PyObject *self, PyObject *protocol)
{
    long proto = PyLong_AsLong(protocol);
    if (proto == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (read_all(self, RW_OP(REDUCE)) < 0) {
        return NULL;
    }
    PyObject *it = items_iter(self);
    if (it == NULL) {
        return NULL;
    }
    PyObject *r;
    if (proto >= 2) {
        r = Py_BuildValue("(O(O)OON)", copyreg_newobj, (PyObject *)&PyDict_Type, Py_None,
                          Py_None, it);
    }
    else {
        r = Py_BuildValue("(OOOON)", (PyObject *)&PyDict_Type, empty_tuple, Py_None, Py_None,
                          it);
    }
    return r;
}

static PyObject *
tdd_reduce(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (read_all(self, RW_OP(REDUCE)) < 0) {
        return NULL;
    }
    PyObject *factory = dd_factory(self);
    PyObject *args = factory != NULL && factory != Py_None ? PyTuple_Pack(1, factory)
                                                          : Py_NewRef(empty_tuple);
    if (args == NULL) {
        return NULL;
    }
    PyObject *it = items_iter(self);
    if (it == NULL) {
        Py_DECREF(args);
        return NULL;
    }
    return Py_BuildValue("(ONOON)", (PyObject *)rw_defaultdict, args, Py_None, Py_None, it);
}

static PyObject *
tdd_missing(PyObject *self, PyObject *key)
{
    /* dict's lookup calls this for a missing key: a defaultdict miss inserts the key. */
    PyObject *factory = dd_factory(self);
    if (factory == NULL || factory == Py_None) {
        if (key_read(self, key, RW_OP(MISSING)) < 0) {
            return NULL;
        }
        return base_call(&base[B_DD_MISSING], self, &key, 1);
    }
    Py_INCREF(factory);
    if (key_write(self, key, RW_OP(MISSING)) < 0) {
        Py_DECREF(factory);
        return NULL;
    }
    PyObject *value;
    if (factory == (PyObject *)&PyDict_Type) {
        /* The dicts that a ``defaultdict(dict)`` makes are shared like their parent. */
        value = track_new(PyDict_New());
    }
    else {
        value = PyObject_CallNoArgs(factory);
    }
    Py_DECREF(factory);
    if (value == NULL) {
        return NULL;
    }
    if (PyDict_Type.tp_as_mapping->mp_ass_subscript(self, key, value) < 0) {
        Py_DECREF(value);
        return NULL;
    }
    return value;
}

static PyObject *
tr_get_class(PyObject *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(is_dd(self) ? (PyObject *)rw_defaultdict : (PyObject *)&PyDict_Type);
}

/* copy's dispatch tables: copy.copy(d) is d.copy() (a tracked copy), copy.deepcopy(d)
 * copies as copy's dict copier does (values before keys), into a tracked dict. */
static PyObject *
copy_tracked(PyObject *Py_UNUSED(module), PyObject *x)
{
    return PyObject_CallMethodNoArgs(x, str_copy);
}

static PyObject *
deepcopy_tracked(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "deepcopy copier takes (x, memo)");
        return NULL;
    }
    PyObject *x = args[0], *memo = args[1];
    if (read_all(x, RW_OP(DEEPCOPY)) < 0) {
        return NULL;
    }
    PyObject *result = is_dd(x) ? track_new(new_defaultdict(dd_factory(x), NULL))
                                : track_new(PyDict_New());
    if (result == NULL) {
        return NULL;
    }
    PyObject *id = PyLong_FromVoidPtr(x);
    if (id == NULL || PyObject_SetItem(memo, id, result) < 0) {
        Py_XDECREF(id);
        Py_DECREF(result);
        return NULL;
    }
    Py_DECREF(id);
    PyObject *it = items_iter(x);
    if (it == NULL) {
        Py_DECREF(result);
        return NULL;
    }
    PyObject *item;
    while ((item = PyIter_Next(it)) != NULL) {
        PyObject *value = PyObject_CallFunctionObjArgs(copy_deepcopy, PyTuple_GET_ITEM(item, 1),
                                                       memo, NULL);
        PyObject *key = value != NULL
            ? PyObject_CallFunctionObjArgs(copy_deepcopy, PyTuple_GET_ITEM(item, 0), memo, NULL)
            : NULL;
        Py_DECREF(item);
        int rc = key == NULL ? -1
                             : PyDict_Type.tp_as_mapping->mp_ass_subscript(result, key, value);
        Py_XDECREF(key);
        Py_XDECREF(value);
        if (rc < 0) {
            break;
        }
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) {
        Py_DECREF(result);
        return NULL;
    }
    return result;
}

static PyMethodDef copy_defs[] = {
    {"_copy_tracked", copy_tracked, METH_O, NULL},
    {"_deepcopy_tracked", RW_CFUNC(deepcopy_tracked), METH_FASTCALL, NULL},
    {NULL}
};

/* -- __repr__: a descriptor that is dict.__repr__ on the type ---------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *base;
} RW_TrackedRepr;

static PyObject *
tr_repr_method(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return tr_repr(self);
}

static PyMethodDef repr_def = {"__repr__", tr_repr_method, METH_NOARGS, "Return repr(self)."};

static PyObject *
trackedrepr_get(RW_TrackedRepr *self, PyObject *obj, PyObject *Py_UNUSED(type))
{
    if (obj == NULL || obj == Py_None) {
        return Py_NewRef(self->base);
    }
    return PyCFunction_NewEx(&repr_def, obj, NULL);
}

static void
trackedrepr_dealloc(RW_TrackedRepr *self)
{
    Py_XDECREF(self->base);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject RW_TrackedReprType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.TrackedRepr",
    .tp_doc = "__repr__ that records a read of every key; type(d).__repr__ is the base's.",
    .tp_basicsize = sizeof(RW_TrackedRepr),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = (destructor)trackedrepr_dealloc,
    .tp_descr_get = (descrgetfunc)trackedrepr_get,
};

/* -- the types ----------------------------------------------------------------------------- */

static PyTypeObject *
base_of(PyObject *self)
{
    return is_dd(self) ? rw_defaultdict : &PyDict_Type;
}

static void
tracked_dealloc(PyObject *self)
{
    PyObject_GC_UnTrack(self);
    Py_TRASHCAN_BEGIN(self, tracked_dealloc)
    PyObject **slot = rw_shadow_slot(self);
    if (slot != NULL) {
        Py_CLEAR(*slot);
    }
    /* The base's dealloc frees the object (and, for a heap-type defaultdict, releases the
     * type: the instances of a heap type hold it). */
    base_of(self)->tp_dealloc(self);
    Py_TRASHCAN_END
}

static int
tracked_traverse(PyObject *self, visitproc visit, void *arg)
{
    PyObject **slot = rw_shadow_slot(self);
    if (slot != NULL) {
        Py_VISIT(*slot);
    }
    return base_of(self)->tp_traverse(self, visit, arg);
}

static int
tracked_clear(PyObject *self)
{
    PyObject **slot = rw_shadow_slot(self);
    if (slot != NULL) {
        Py_CLEAR(*slot);
    }
    return base_of(self)->tp_clear(self);
}

static PyGetSetDef tracked_getset[] = {
    {"__class__", tr_get_class, NULL, NULL, NULL},
    {NULL}
};

static PyMappingMethods td_as_mapping = {tr_length, tr_subscript, tr_ass_subscript};
static PySequenceMethods td_as_sequence = {.sq_contains = tr_contains};
static PyNumberMethods td_as_number = {.nb_or = tr_or, .nb_inplace_or = tr_ior};

PyTypeObject RW_TrackedDictType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dict",
    .tp_basicsize = sizeof(RW_TrackedDict),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC
                | Py_TPFLAGS_MAPPING,
    .tp_dealloc = tracked_dealloc,
    .tp_traverse = tracked_traverse,
    .tp_clear = tracked_clear,
    .tp_repr = tr_repr,
    .tp_as_mapping = &td_as_mapping,
    .tp_as_sequence = &td_as_sequence,
    .tp_as_number = &td_as_number,
    .tp_iter = tr_iter,
    .tp_richcompare = tr_richcompare,
    .tp_getset = tracked_getset,
};

#if !RW_PY312
static PyMappingMethods tdd_as_mapping = {tr_length, tr_subscript, tr_ass_subscript};
static PySequenceMethods tdd_as_sequence = {.sq_contains = tr_contains};
static PyNumberMethods tdd_as_number = {.nb_or = tr_or, .nb_inplace_or = tr_ior};

static PyTypeObject RW_TrackedDefaultDictStatic = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "collections.defaultdict",
    .tp_basicsize = sizeof(RW_TrackedDefaultDict),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC
                | Py_TPFLAGS_MAPPING,
    .tp_dealloc = tracked_dealloc,
    .tp_traverse = tracked_traverse,
    .tp_clear = tracked_clear,
    .tp_repr = tr_repr,
    .tp_as_mapping = &tdd_as_mapping,
    .tp_as_sequence = &tdd_as_sequence,
    .tp_as_number = &tdd_as_number,
    .tp_iter = tr_iter,
    .tp_richcompare = tr_richcompare,
    .tp_getset = tracked_getset,
};
#else
static PyType_Slot tdd_slots[] = {
    {Py_tp_dealloc, tracked_dealloc},
    {Py_tp_traverse, tracked_traverse},
    {Py_tp_clear, tracked_clear},
    {Py_tp_repr, tr_repr},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_mp_length, tr_length},
    {Py_mp_subscript, tr_subscript},
    {Py_mp_ass_subscript, tr_ass_subscript},
    {Py_sq_contains, tr_contains},
    {Py_nb_or, tr_or},
    {Py_nb_inplace_or, tr_ior},
    {Py_tp_iter, tr_iter},
    {Py_tp_richcompare, tr_richcompare},
    {Py_tp_getset, tracked_getset},
    {Py_tp_doc, NULL},   /* defaultdict's, filled in at import */
    {0, NULL},
};

static PyType_Spec tdd_spec = {
    .name = "collections.defaultdict",
    .basicsize = sizeof(RW_TrackedDefaultDict),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC
             | Py_TPFLAGS_MAPPING | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = tdd_slots,
};
#endif

/* The methods, as descriptors of the builtin that defines them (d_type). */
typedef struct {
    PyMethodDef def;
    int base;            /* whose docstring (and, for the dict ones, d_type dict) */
} method_spec;

static method_spec dict_methods[] = {
    {{"__getitem__", tr_getitem_method, METH_O, NULL}, B_GETITEM},
    {{"__contains__", tr_contains_method, METH_O, NULL}, B_CONTAINS},
    {{"get", RW_CFUNC(tr_get), METH_FASTCALL, NULL}, B_GET},
    {{"setdefault", RW_CFUNC(tr_setdefault), METH_FASTCALL, NULL}, B_SETDEFAULT},
    {{"pop", RW_CFUNC(tr_pop), METH_FASTCALL, NULL}, B_POP},
    {{"popitem", tr_popitem, METH_NOARGS, NULL}, B_POPITEM},
    {{"keys", tr_keys, METH_NOARGS, NULL}, B_KEYS},
    {{"values", tr_values, METH_NOARGS, NULL}, B_VALUES},
    {{"items", tr_items, METH_NOARGS, NULL}, B_ITEMS},
    {{"update", RW_CFUNC(tr_update), METH_VARARGS | METH_KEYWORDS, NULL}, B_UPDATE},
    {{"clear", tr_clear, METH_NOARGS, NULL}, B_CLEAR},
    {{"__reversed__", tr_reversed, METH_NOARGS, NULL}, B_REVERSED},
};

static method_spec td_methods[] = {
    {{"copy", td_copy, METH_NOARGS, NULL}, B_COPY},
    {{"fromkeys", RW_CFUNC(td_fromkeys), METH_FASTCALL | METH_CLASS, NULL}, B_FROMKEYS},
    {{"__reduce_ex__", td_reduce_ex, METH_O, NULL}, B_REDUCE_EX},
};

static method_spec tdd_methods[] = {
    {{"copy", tdd_copy, METH_NOARGS, NULL}, B_DD_COPY},
    {{"__copy__", tdd_dunder_copy, METH_NOARGS, NULL}, B_DD_DUNDER_COPY},
    {{"__missing__", tdd_missing, METH_O, NULL}, B_DD_MISSING},
    {{"__reduce__", tdd_reduce, METH_NOARGS, NULL}, B_DD_REDUCE},
};

static int
install_methods(PyTypeObject *type, method_spec *specs, size_t n, PyTypeObject *owner)
{
    for (size_t i = 0; i < n; i++) {
        method_spec *s = &specs[i];
        s->def.ml_doc = base[s->base].doc;
        PyTypeObject *d_type = s->base == B_REDUCE_EX ? &PyBaseObject_Type : owner;
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

static int
install_repr(PyTypeObject *type, PyTypeObject *public)
{
    RW_TrackedRepr *descr = PyObject_New(RW_TrackedRepr, &RW_TrackedReprType);
    if (descr == NULL) {
        return -1;
    }
    descr->base = PyObject_GetAttrString((PyObject *)public, "__repr__");
    if (descr->base == NULL) {
        Py_DECREF(descr);
        return -1;
    }
    int rc = PyDict_SetItemString(type->tp_dict, "__repr__", (PyObject *)descr);
    Py_DECREF(descr);
    type->tp_repr = tr_repr;
    return rc;
}

static int
finish_type(PyTypeObject *type, PyTypeObject *public, method_spec *own, size_t n_own)
{
    if (install_methods(type, dict_methods, sizeof(dict_methods) / sizeof(dict_methods[0]),
                        &PyDict_Type) < 0
            || install_methods(type, own, n_own, public) < 0
            || install_repr(type, public) < 0) {
        return -1;
    }
    PyType_Modified(type);
    return 0;
}

static int
register_copiers(PyObject *module)
{
    PyObject *copy = PyImport_ImportModule("copy");
    if (copy == NULL) {
        return -1;
    }
    int rc = -1;
    PyObject *copiers = NULL, *deep = NULL, *copy_dispatch = NULL, *deep_dispatch = NULL;
    copy_deepcopy = PyObject_GetAttrString(copy, "deepcopy");
    copy_dispatch = PyObject_GetAttrString(copy, "_copy_dispatch");
    deep_dispatch = PyObject_GetAttrString(copy, "_deepcopy_dispatch");
    if (copy_deepcopy == NULL || copy_dispatch == NULL || deep_dispatch == NULL) {
        goto done;
    }
    copiers = PyCFunction_NewEx(&copy_defs[0], module, NULL);
    deep = PyCFunction_NewEx(&copy_defs[1], module, NULL);
    if (copiers == NULL || deep == NULL
            || PyObject_SetItem(copy_dispatch, (PyObject *)&RW_TrackedDictType, copiers) < 0
            || PyObject_SetItem(deep_dispatch, (PyObject *)&RW_TrackedDictType, deep) < 0
            || PyObject_SetItem(deep_dispatch, (PyObject *)rw_tracked_defaultdict, deep) < 0) {
        goto done;
    }
    rc = 0;
done:
    Py_XDECREF(copiers);
    Py_XDECREF(deep);
    Py_XDECREF(copy_dispatch);
    Py_XDECREF(deep_dispatch);
    Py_DECREF(copy);
    return rc;
}

static int
check_layout(void)
{
    /* The layouts this file assumes: a defaultdict is a dict and one pointer. */
    if (PyDict_Type.tp_basicsize != (Py_ssize_t)sizeof(PyDictObject)
            || rw_defaultdict->tp_basicsize != (Py_ssize_t)offsetof(RW_TrackedDefaultDict, shadow)) {
        PyErr_SetString(PyExc_ImportError,
                        "racewatch._core: dict's layout is not the one it was built for");
        return -1;
    }
    PyObject *member = PyObject_GetAttrString((PyObject *)rw_defaultdict, "default_factory");
    if (member == NULL) {
        return -1;
    }
    int ok = Py_IS_TYPE(member, &PyMemberDescr_Type)
        && ((PyMemberDescrObject *)member)->d_member->offset
           == (Py_ssize_t)offsetof(RW_TrackedDefaultDict, default_factory);
    Py_DECREF(member);
    if (!ok) {
        PyErr_SetString(PyExc_ImportError,
                        "racewatch._core: defaultdict's layout is not the one it was built for");
        return -1;
    }
    dd_factory_offset = offsetof(RW_TrackedDefaultDict, default_factory);
    return 0;
}

static PyMethodDef tracked_functions[] = {
    {"track", rw_mod_track, METH_O, "A tracked copy of a fresh dict or defaultdict."},
    {"public_type", rw_mod_public_type, METH_O,
     "type(obj) as instrumented code sees it: the tracked types show as the builtins."},
    {"is_tracked", rw_mod_is_tracked, METH_O, NULL},
    {"reflected_first", RW_CFUNC(rw_mod_reflected_first), METH_FASTCALL,
     "_reflected_first(self, other, name)"},
    {NULL}
};

int
rw_tracked_ready(PyObject *module)
{
    if (rw_defaultdict == NULL) {
        PyObject *collections = PyImport_ImportModule("collections");
        if (collections == NULL) {
            return -1;
        }
        rw_defaultdict = (PyTypeObject *)PyObject_GetAttrString(collections, "defaultdict");
        Py_DECREF(collections);
        if (rw_defaultdict == NULL) {
            return -1;
        }
        PyObject *copyreg = PyImport_ImportModule("copyreg");
        if (copyreg == NULL) {
            return -1;
        }
        copyreg_newobj = PyObject_GetAttrString(copyreg, "__newobj__");
        Py_DECREF(copyreg);
        if (copyreg_newobj == NULL || check_layout() < 0) {
            return -1;
        }
        if ((empty_tuple = PyTuple_New(0)) == NULL
                || (str_eq = PyUnicode_InternFromString("__eq__")) == NULL
                || (str_ne = PyUnicode_InternFromString("__ne__")) == NULL
                || (str_ror = PyUnicode_InternFromString("__ror__")) == NULL
                || (str_copy = PyUnicode_InternFromString("copy")) == NULL
                || (str_keys = PyUnicode_InternFromString("keys")) == NULL) {
            return -1;
        }
        for (int i = 0; i < B_COUNT; i++) {
            PyTypeObject *owner = i >= B_DD_MISSING ? rw_defaultdict
                                  : i == B_REDUCE_EX ? &PyBaseObject_Type : &PyDict_Type;
            if (base_method_load(&base[i], owner) < 0) {
                return -1;
            }
        }
        if (PyType_Ready(&RW_TrackedReprType) < 0 || PyType_Ready(&RW_RecorderType) < 0
                || PyType_Ready(&RW_MappingPairsType) < 0) {
            return -1;
        }

        RW_TrackedDictType.tp_base = &PyDict_Type;
        RW_TrackedDictType.tp_doc = PyDict_Type.tp_doc;
        RW_TrackedDictType.tp_hash = PyObject_HashNotImplemented;
        if (PyType_Ready(&RW_TrackedDictType) < 0
                || finish_type(&RW_TrackedDictType, &PyDict_Type, td_methods,
                               sizeof(td_methods) / sizeof(td_methods[0])) < 0) {
            return -1;
        }
#if !RW_PY312
        RW_TrackedDefaultDictStatic.tp_base = rw_defaultdict;
        RW_TrackedDefaultDictStatic.tp_doc = rw_defaultdict->tp_doc;
        RW_TrackedDefaultDictStatic.tp_hash = PyObject_HashNotImplemented;
        if (PyType_Ready(&RW_TrackedDefaultDictStatic) < 0) {
            return -1;
        }
        rw_tracked_defaultdict = &RW_TrackedDefaultDictStatic;
#else
        for (PyType_Slot *slot = tdd_slots; slot->slot; slot++) {
            if (slot->slot == Py_tp_doc) {
                slot->pfunc = (void *)rw_defaultdict->tp_doc;
            }
        }
        rw_tracked_defaultdict = (PyTypeObject *)PyType_FromSpecWithBases(
            &tdd_spec, (PyObject *)rw_defaultdict);
        if (rw_tracked_defaultdict == NULL) {
            return -1;
        }
#endif
        if (finish_type(rw_tracked_defaultdict, rw_defaultdict, tdd_methods,
                        sizeof(tdd_methods) / sizeof(tdd_methods[0])) < 0
                || register_copiers(module) < 0) {
            return -1;
        }
    }
    if (PyModule_AddObjectRef(module, "TrackedDict", (PyObject *)&RW_TrackedDictType) < 0
            || PyModule_AddObjectRef(module, "TrackedDefaultDict",
                                     (PyObject *)rw_tracked_defaultdict) < 0
            || PyModule_AddObjectRef(module, "TrackedRepr", (PyObject *)&RW_TrackedReprType) < 0) {
        return -1;
    }
    return PyModule_AddFunctions(module, tracked_functions);
}
