/* The tracked dict and defaultdict type objects, copy's dispatch for them, and the
 * module's tracked types and functions (list.c and set.c make their own types). */

#include "dict.h"

PyTypeObject *rw_tracked_defaultdict = NULL;
PyTypeObject *rw_defaultdict = NULL;

/* copy's dispatch tables: copy.copy(d) is d.copy() (a tracked copy), copy.deepcopy(d)
 * copies as copy's dict copier does (values before keys), into a tracked dict. */
static PyObject *
deepcopy_tracked(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "deepcopy copier takes (x, memo)");
        return NULL;
    }
    PyObject *x = args[0], *memo = args[1];
    if (rw_record_read_all(x, RW_OP(DEEPCOPY)) < 0) {
        return NULL;
    }
    PyObject *result = rw_is_dd(x) ? rw_track_new(rw_new_defaultdict(rw_dd_factory(x), NULL))
                                : rw_track_new(PyDict_New());
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
    PyObject *it = rw_items_iter(x);
    if (it == NULL) {
        Py_DECREF(result);
        return NULL;
    }
    PyObject *item;
    while ((item = PyIter_Next(it)) != NULL) {
        PyObject *value = PyObject_CallFunctionObjArgs(rw_copy_deepcopy, PyTuple_GET_ITEM(item, 1),
                                                       memo, NULL);
        PyObject *key = value != NULL
            ? PyObject_CallFunctionObjArgs(rw_copy_deepcopy, PyTuple_GET_ITEM(item, 0), memo, NULL)
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

static PyMethodDef deepcopy_def = {"_deepcopy_tracked", RW_CFUNC(deepcopy_tracked),
                                   METH_FASTCALL, NULL};

/* -- the types ----------------------------------------------------------------------------- */

static PyTypeObject *
base_of(PyObject *self)
{
    return rw_is_dd(self) ? rw_defaultdict : &PyDict_Type;
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
finish_type(PyTypeObject *type, PyTypeObject *public, method_spec *own, size_t n_own)
{
    if (rw_install_methods(type, dict_methods, sizeof(dict_methods) / sizeof(dict_methods[0]),
                           &PyDict_Type, rw_base) < 0
            || rw_install_methods(type, own, n_own, public, rw_base) < 0
            || rw_install_repr(type, public) < 0) {
        return -1;
    }
    type->tp_repr = tr_repr;
    PyType_Modified(type);
    return 0;
}

static int
check_layout(void)
{
    /* The layouts this file assumes: a defaultdict is a dict and one pointer. */
    if (PyDict_Type.tp_basicsize != (Py_ssize_t)sizeof(PyDictObject)
            || rw_defaultdict->tp_basicsize
               != (Py_ssize_t)offsetof(RW_TrackedDefaultDict, shadow)) {
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
    rw_dd_factory_offset = offsetof(RW_TrackedDefaultDict, default_factory);
    return 0;
}

static PyMethodDef tracked_functions[] = {
    {"track", rw_mod_track, METH_O,
     "A tracked copy of a fresh dict, defaultdict, list or set."},
    {"reading", rw_mod_reading, METH_O,
     "set(x)'s argument: x, whose members are read when it is a tracked set."},
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
        if (rw_tracked_base_ready() < 0 || check_layout() < 0) {
            return -1;
        }
        if ((rw_str_eq = PyUnicode_InternFromString("__eq__")) == NULL
                || (rw_str_ne = PyUnicode_InternFromString("__ne__")) == NULL
                || (rw_str_ror = PyUnicode_InternFromString("__ror__")) == NULL
                || (rw_str_keys = PyUnicode_InternFromString("keys")) == NULL
                || (rw_str_missing = PyUnicode_InternFromString("__missing__")) == NULL) {
            return -1;
        }
        for (int i = 0; i < B_COUNT; i++) {
            PyTypeObject *owner = i >= B_DD_MISSING ? rw_defaultdict
                                  : i == B_REDUCE_EX ? &PyBaseObject_Type : &PyDict_Type;
            if (rw_base_method_load(&rw_base[i], owner) < 0) {
                return -1;
            }
        }
        if (rw_dict_update_ready() < 0) {
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
                || rw_register_copiers(module, &RW_TrackedDictType, &deepcopy_def) < 0
                || rw_register_copiers(module, rw_tracked_defaultdict, &deepcopy_def) < 0) {
            return -1;
        }
    }
    if (PyModule_AddObjectRef(module, "TrackedDict", (PyObject *)&RW_TrackedDictType) < 0
            || PyModule_AddObjectRef(module, "TrackedDefaultDict",
                                     (PyObject *)rw_tracked_defaultdict) < 0
            || rw_list_ready(module) < 0 || rw_set_ready(module) < 0) {
        return -1;
    }
    return PyModule_AddFunctions(module, tracked_functions);
}
