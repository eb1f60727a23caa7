/* The tracked set: its type, its slots and single-element methods, track() of a set, and
 * copy's dispatch (see set.h). */

#include "set.h"

base_method rw_set_base[S_N] = {
    [S_ADD] = {"add"}, [S_CLEAR] = {"clear"}, [S_CONTAINS] = {"__contains__"},
    [S_COPY] = {"copy"}, [S_DISCARD] = {"discard"}, [S_DIFFERENCE] = {"difference"},
    [S_DIFFERENCE_UPDATE] = {"difference_update"}, [S_INTERSECTION] = {"intersection"},
    [S_INTERSECTION_UPDATE] = {"intersection_update"}, [S_ISDISJOINT] = {"isdisjoint"},
    [S_ISSUBSET] = {"issubset"}, [S_ISSUPERSET] = {"issuperset"}, [S_POP] = {"pop"},
    [S_REDUCE] = {"__reduce__"}, [S_REMOVE] = {"remove"},
    [S_SYMMETRIC_DIFFERENCE] = {"symmetric_difference"},
    [S_SYMMETRIC_DIFFERENCE_UPDATE] = {"symmetric_difference_update"}, [S_UNION] = {"union"},
    [S_UPDATE] = {"update"},
};

/* -- the elements ------------------------------------------------------------------------ */

/* Whether ``key`` is in ``self``, looked up as ``key in s`` does: an unhashable set as the
 * frozenset it stands for (*as_key: the key of its location, a new reference).  1, 0, or
 * -2 for an element the operation itself refuses (TypeError: it raises it), -1 error. */
static int
present(PyObject *self, PyObject *key, PyObject **as_key, int set_as_frozenset)
{
    int found = PySet_Contains(self, key);
    if (found >= 0) {
        *as_key = Py_NewRef(key);
        return found;
    }
    if (!PyErr_ExceptionMatches(PyExc_TypeError)) {
        return -1;
    }
    if (set_as_frozenset && PySet_Check(key)) {
        PyErr_Clear();
        PyObject *frozen = PyFrozenSet_New(key);
        if (frozen == NULL) {
            return -1;
        }
        found = PySet_Contains(self, frozen);
        if (found >= 0) {
            *as_key = frozen;
            return found;
        }
        Py_DECREF(frozen);
        if (!PyErr_ExceptionMatches(PyExc_TypeError)) {
            return -1;
        }
    }
    PyErr_Clear();
    return -2;
}

int
rw_set_record_each(RW_ThreadState *ts, RW_Shadow *sh, PyObject *self, PyObject *elements,
                   PyObject *op, int what, int count)
{
    PyObject *it = PyObject_GetIter(elements);
    if (it == NULL) {
        return -1;
    }
    PyObject *e;
    int rc = 0;
    while (rc == 0 && (e = PyIter_Next(it)) != NULL) {
        PyObject *key = NULL;
        int found = present(self, e, &key, what == REMOVES);
        Py_DECREF(e);
        if (found == -2) {
            break;   /* unhashable: the operation raises it, after the elements before it */
        }
        if (found >= 0 && count) {
            ts->accesses++;
        }
        if (found < 0) {
            rc = -1;
        }
        else if (what == REMOVES && !found) {
            rc = rw_on_read(ts, sh, self, key, op);
        }
        else {
            rc = rw_on_write(ts, sh, self, key, op, what != ADDS || !found);
        }
        Py_XDECREF(key);
    }
    Py_DECREF(it);
    return rc < 0 || PyErr_Occurred() ? -1 : 0;
}

/* The element ``key in s`` reads (an unhashable set as its frozenset), for a checked
 * access. */
static int
record_contains(PyObject *self, PyObject *key)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(self, &ts, &sh);
    if (e > 0) {
        PyObject *as_key = Py_NewRef(key);
        if (PySet_Check(key) && Py_TYPE(key)->tp_hash == PyObject_HashNotImplemented) {
            Py_SETREF(as_key, PyFrozenSet_New(key));
        }
        e = as_key != NULL ? rw_on_read(ts, sh, self, as_key, RW_OP(CONTAINS)) : -1;
        Py_XDECREF(as_key);
        Py_DECREF(ts);
    }
    return e < 0 ? -1 : 0;
}

/* -- the slots ---------------------------------------------------------------------------- */

static Py_ssize_t
ts_length(PyObject *self)
{
    if (rw_record_keys_read(self, RW_OP(LEN)) < 0) {
        return -1;
    }
    return PySet_GET_SIZE(self);
}

static int
ts_contains(PyObject *self, PyObject *key)
{
    if (record_contains(self, key) < 0) {
        return -1;
    }
    return PySet_Type.tp_as_sequence->sq_contains(self, key);
}

static PyObject *
ts_iter(PyObject *self)
{
    if (rw_record_keys_read(self, RW_OP(ITER)) < 0) {
        return NULL;
    }
    return PySet_Type.tp_iter(self);
}

static PyObject *
ts_richcompare(PyObject *self, PyObject *other, int op)
{
    PyObject *result = rw_reflected_first(self, other, rw_reflected_compare[op]);
    if (result != Py_NotImplemented) {
        return result;
    }
    Py_DECREF(result);
    PyObject *name = op == Py_EQ ? RW_OP(EQ) : op == Py_NE ? RW_OP(NE) : RW_OP(COMPARE);
    if (rw_record_keys_read(self, name) < 0 || rw_read_members_of(other, name) < 0) {
        return NULL;
    }
    return PySet_Type.tp_richcompare(self, other, op);
}

/* repr(s) as for an exact set: set's own says ``set({1, 2})`` for a subclass. */
static PyObject *
ts_repr(PyObject *self)
{
    if (rw_record_keys_read(self, RW_OP(REPR)) < 0) {
        return NULL;
    }
    int status = Py_ReprEnter(self);
    if (status != 0) {
        return status < 0 ? NULL : PyUnicode_FromString("set(...)");
    }
    PyObject *result = NULL;
    if (PySet_GET_SIZE(self) == 0) {
        result = PyUnicode_FromString("set()");
        goto done;
    }
    PyObject *it = PySet_Type.tp_iter(self);
    PyObject *keys = it != NULL ? PySequence_List(it) : NULL;
    Py_XDECREF(it);
    PyObject *listrepr = keys != NULL ? PyObject_Repr(keys) : NULL;
    Py_XDECREF(keys);
    if (listrepr != NULL) {
        PyObject *inner = PyUnicode_Substring(listrepr, 1, PyUnicode_GET_LENGTH(listrepr) - 1);
        if (inner != NULL) {
            result = PyUnicode_FromFormat("{%U}", inner);
            Py_DECREF(inner);
        }
        Py_DECREF(listrepr);
    }
done:
    Py_ReprLeave(self);
    return result;
}

/* -- the methods ---------------------------------------------------------------------------- */

static PyObject *
ts_contains_method(PyObject *self, PyObject *key)
{
    int r = ts_contains(self, key);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

static PyObject *
ts_add(PyObject *self, PyObject *key)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(self, &ts, &sh);
    if (e > 0) {
        PyObject *as_key = NULL;
        int found = present(self, key, &as_key, 0);
        e = found == -2 ? 0 : found < 0 ? -1
            : rw_on_write(ts, sh, self, as_key, RW_OP(ADD), !found);
        Py_XDECREF(as_key);
        Py_DECREF(ts);
    }
    if (e < 0 || PySet_Add(self, key) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* discard(), remove(): a removal's write (and update) when present, a read when absent. */
static PyObject *
removal(PyObject *self, PyObject *key, PyObject *op, int which)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(self, &ts, &sh);
    if (e > 0) {
        PyObject *one = PyTuple_Pack(1, key);
        e = one != NULL ? rw_set_record_each(ts, sh, self, one, op, REMOVES, 0) : -1;
        Py_XDECREF(one);
        Py_DECREF(ts);
    }
    return e < 0 ? NULL : rw_base_call(&rw_set_base[which], self, &key, 1);
}

static PyObject *
ts_discard(PyObject *self, PyObject *key)
{
    return removal(self, key, RW_OP(DISCARD), S_DISCARD);
}

static PyObject *
ts_remove(PyObject *self, PyObject *key)
{
    return removal(self, key, RW_OP(REMOVE), S_REMOVE);
}

static PyObject *
ts_pop(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *key = rw_base_call(&rw_set_base[S_POP], self, NULL, 0);
    if (key == NULL) {
        PyObject *exc = rw_err_fetch();
        if (rw_record_keys_read(self, RW_OP(POP)) < 0) {
            PyObject *now = rw_err_fetch();
            PyException_SetContext(now, exc);
            rw_err_restore(now);
            return NULL;
        }
        rw_err_restore(exc);
        return NULL;
    }
    /* Which element it takes depends on the members: a read of them, then the removal. */
    if (rw_record_keys_read(self, RW_OP(POP)) < 0
            || rw_record_write(self, key, RW_OP(POP), 1) < 0) {
        Py_DECREF(key);
        return NULL;
    }
    return key;
}

static PyObject *
ts_clear(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (rw_record_clear(self, RW_OP(CLEAR)) < 0) {
        return NULL;
    }
    return rw_base_call(&rw_set_base[S_CLEAR], self, NULL, 0);
}

static PyObject *
ts_copy(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (rw_record_keys_read(self, RW_OP(COPY)) < 0) {
        return NULL;
    }
    return rw_track_new(rw_base_call(&rw_set_base[S_COPY], self, NULL, 0));
}

/* The elements, as a new list, read past the tracked methods. */
static PyObject *
elements(PyObject *self)
{
    PyObject *it = PySet_Type.tp_iter(self);
    PyObject *list = it != NULL ? PySequence_List(it) : NULL;
    Py_XDECREF(it);
    return list;
}

/* As set's own reduce of an exact set: a plain set in the pickle. */
static PyObject *
ts_reduce(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (rw_record_keys_read(self, RW_OP(REDUCE)) < 0) {
        return NULL;
    }
    PyObject *keys = elements(self);
    if (keys == NULL) {
        return NULL;
    }
    return Py_BuildValue("(O(N)O)", (PyObject *)&PySet_Type, keys, Py_None);
}

static PyObject *
ts_get_class(PyObject *Py_UNUSED(self), void *Py_UNUSED(closure))
{
    return Py_NewRef((PyObject *)&PySet_Type);
}

/* copy.deepcopy(s): as copy rebuilds a set from its reduce (the elements first), into a
 * tracked set. */
static PyObject *
deepcopy_set(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "deepcopy copier takes (x, memo)");
        return NULL;
    }
    if (rw_record_keys_read(args[0], RW_OP(DEEPCOPY)) < 0) {
        return NULL;
    }
    PyObject *keys = elements(args[0]);
    PyObject *copied = keys != NULL
        ? PyObject_CallFunctionObjArgs(rw_copy_deepcopy, keys, args[1], NULL) : NULL;
    Py_XDECREF(keys);
    if (copied == NULL) {
        return NULL;
    }
    PyObject *result = PySet_New(copied);
    Py_DECREF(copied);
    return rw_track_new(result);
}

static PyMethodDef deepcopy_def = {"_deepcopy_tracked_set", RW_CFUNC(deepcopy_set),
                                   METH_FASTCALL, NULL};

/* set(x)'s argument: a tracked set's members are read there (set.__init__ copies a set's
 * table past its methods). */
PyObject *
rw_mod_reading(PyObject *Py_UNUSED(module), PyObject *value)
{
    if (Py_IS_TYPE(value, &RW_TrackedSetType) && rw_record_keys_read(value, RW_OP(COPY)) < 0) {
        return NULL;
    }
    return Py_NewRef(value);
}

/* -- the type --------------------------------------------------------------------------------- */

static void
ts_dealloc(PyObject *self)
{
    PyObject_GC_UnTrack(self);
    Py_TRASHCAN_BEGIN(self, ts_dealloc)
    Py_CLEAR(((RW_TrackedSet *)self)->shadow);
    PySet_Type.tp_dealloc(self);
    Py_TRASHCAN_END
}

static int
ts_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(((RW_TrackedSet *)self)->shadow);
    return PySet_Type.tp_traverse(self, visit, arg);
}

static int
ts_clear_refs(PyObject *self)
{
    Py_CLEAR(((RW_TrackedSet *)self)->shadow);
    return PySet_Type.tp_clear(self);
}

static PyGetSetDef ts_getset[] = {
    {"__class__", ts_get_class, NULL, NULL, NULL},
    {NULL}
};

static PySequenceMethods ts_as_sequence = {.sq_length = ts_length, .sq_contains = ts_contains};

static PyNumberMethods ts_as_number = {
    .nb_subtract = ts_sub,
    .nb_and = ts_and,
    .nb_xor = ts_xor,
    .nb_or = ts_or,
    .nb_inplace_subtract = ts_isub,
    .nb_inplace_and = ts_iand,
    .nb_inplace_xor = ts_ixor,
    .nb_inplace_or = ts_ior,
};

PyTypeObject RW_TrackedSetType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "set",
    .tp_basicsize = sizeof(RW_TrackedSet),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = ts_dealloc,
    .tp_traverse = ts_traverse,
    .tp_clear = ts_clear_refs,
    .tp_repr = ts_repr,
    .tp_as_sequence = &ts_as_sequence,
    .tp_as_number = &ts_as_number,
    .tp_iter = ts_iter,
    .tp_richcompare = ts_richcompare,
    .tp_getset = ts_getset,
};

static method_spec set_methods[] = {
    {{"__contains__", ts_contains_method, METH_O, NULL}, S_CONTAINS},
    {{"add", ts_add, METH_O, NULL}, S_ADD},
    {{"clear", ts_clear, METH_NOARGS, NULL}, S_CLEAR},
    {{"copy", ts_copy, METH_NOARGS, NULL}, S_COPY},
    {{"discard", ts_discard, METH_O, NULL}, S_DISCARD},
    {{"remove", ts_remove, METH_O, NULL}, S_REMOVE},
    {{"pop", ts_pop, METH_NOARGS, NULL}, S_POP},
    {{"__reduce__", ts_reduce, METH_NOARGS, NULL}, S_REDUCE},
    {{"update", RW_CFUNC(ts_update), METH_FASTCALL, NULL}, S_UPDATE},
    {{"difference_update", RW_CFUNC(ts_difference_update), METH_FASTCALL, NULL},
     S_DIFFERENCE_UPDATE},
    {{"intersection_update", RW_CFUNC(ts_intersection_update), METH_FASTCALL, NULL},
     S_INTERSECTION_UPDATE},
    {{"symmetric_difference_update", ts_symmetric_difference_update, METH_O, NULL},
     S_SYMMETRIC_DIFFERENCE_UPDATE},
    {{"union", RW_CFUNC(ts_union), METH_FASTCALL, NULL}, S_UNION},
    {{"intersection", RW_CFUNC(ts_intersection), METH_FASTCALL, NULL}, S_INTERSECTION},
    {{"difference", RW_CFUNC(ts_difference), METH_FASTCALL, NULL}, S_DIFFERENCE},
    {{"symmetric_difference", ts_symmetric_difference, METH_O, NULL}, S_SYMMETRIC_DIFFERENCE},
    {{"issubset", ts_issubset, METH_O, NULL}, S_ISSUBSET},
    {{"issuperset", ts_issuperset, METH_O, NULL}, S_ISSUPERSET},
    {{"isdisjoint", ts_isdisjoint, METH_O, NULL}, S_ISDISJOINT},
};

/* The methods that take any number of sets are METH_VARARGS up to 3.12, METH_FASTCALL
 * from 3.13 on: the tracked ones take the builtin's convention, whose wrong calls are
 * worded differently (3.10 leaves out the "set." of "update() takes no keyword
 * arguments"). */
#define VARARGS(name)                                                                  \
    static PyObject *                                                                  \
    name##_varargs(PyObject *self, PyObject *args)                                     \
    {                                                                                  \
        return name(self, &PyTuple_GET_ITEM(args, 0), PyTuple_GET_SIZE(args));        \
    }
VARARGS(ts_update)
VARARGS(ts_difference_update)
VARARGS(ts_intersection_update)
VARARGS(ts_union)
VARARGS(ts_intersection)
VARARGS(ts_difference)

static const struct {
    int base;
    PyCFunction varargs;
} varargs_methods[] = {
    {S_UPDATE, ts_update_varargs},
    {S_DIFFERENCE_UPDATE, ts_difference_update_varargs},
    {S_INTERSECTION_UPDATE, ts_intersection_update_varargs},
    {S_UNION, ts_union_varargs},
    {S_INTERSECTION, ts_intersection_varargs},
    {S_DIFFERENCE, ts_difference_varargs},
};

static void
take_the_builtins_conventions(void)
{
    for (size_t i = 0; i < sizeof(set_methods) / sizeof(set_methods[0]); i++) {
        for (size_t j = 0; j < sizeof(varargs_methods) / sizeof(varargs_methods[0]); j++) {
            if (set_methods[i].base == varargs_methods[j].base
                    && (rw_set_base[set_methods[i].base].flags & METH_VARARGS)) {
                set_methods[i].def.ml_meth = varargs_methods[j].varargs;
                set_methods[i].def.ml_flags = METH_VARARGS;
            }
        }
    }
}

/* -- track ------------------------------------------------------------------------------------- */

/* A tracked set with the elements of the exact set ``s`` (consumed when ``steal``): its
 * table is copied, hashes and all, with no element's __hash__ called. */
PyObject *
rw_track_set(PyObject *s, int steal)
{
    PyObject *result = PySet_Type.tp_new(&RW_TrackedSetType, rw_empty_tuple, NULL);
    PyObject *done = result != NULL && PySet_GET_SIZE(s)
        ? rw_base_call(&rw_set_base[S_UPDATE], result, &s, 1) : Py_NewRef(Py_None);
    if (result != NULL) {
        rw_take_gc_place(result, s);
    }
    if (steal) {
        Py_DECREF(s);
    }
    if (done == NULL) {
        Py_XDECREF(result);
        return NULL;
    }
    Py_DECREF(done);
    if (result == NULL) {
        return NULL;
    }
    RW_ADD(&rw_counters.sets_tracked, 1);
    return rw_with_creation_stack(result);
}

int
rw_set_ready(PyObject *module)
{
    if (RW_TrackedSetType.tp_base == NULL) {
        if (rw_base_table_load(rw_set_base, S_N, &PySet_Type) < 0
                || rw_set_algebra_ready() < 0) {
            return -1;
        }
        if (PySet_Type.tp_basicsize != (Py_ssize_t)sizeof(PySetObject)) {
            PyErr_SetString(PyExc_ImportError,
                            "racewatch._core: set's layout is not the one it was built for");
            return -1;
        }
        take_the_builtins_conventions();
        RW_TrackedSetType.tp_base = &PySet_Type;
        RW_TrackedSetType.tp_doc = PySet_Type.tp_doc;
        RW_TrackedSetType.tp_hash = PyObject_HashNotImplemented;
        if (PyType_Ready(&RW_TrackedSetType) < 0
                || rw_install_methods(&RW_TrackedSetType, set_methods,
                                      sizeof(set_methods) / sizeof(set_methods[0]),
                                      &PySet_Type, rw_set_base) < 0
                || rw_install_repr(&RW_TrackedSetType, &PySet_Type) < 0
                || rw_register_copiers(module, &RW_TrackedSetType, &deepcopy_def) < 0) {
            return -1;
        }
        PyType_Modified(&RW_TrackedSetType);
    }
    return PyModule_AddObjectRef(module, "TrackedSet", (PyObject *)&RW_TrackedSetType);
}
