/* Wrapping: the function a patched method written in Python becomes (patches/__init__.py,
 * _wrapping_function, the reference).  A call ``wrapping(self, *args, **kwargs)`` calls
 * ``wrapper(function.__get__(self), self, args, kwargs)`` for a method, and
 * ``wrapper(function, None, args, kwargs)`` for a function, as wrapt's FunctionWrapper
 * would, without the Python frame of the reference's own ``wrapping``: a thread pool
 * calls six patched methods per task (a future's ``__init__``, ``set_result`` and
 * ``result``, a work item's ``__init__`` and ``run``, the pool's ``_adjust_thread_count``).
 *
 * It binds as a function does (a method descriptor: ``obj.method()`` makes no bound
 * object, ``obj.method`` a bound method), and keeps what functools.wraps gives it (its
 * name, qualified name, documentation, module, ``__wrapped__``) in its ``__dict__``.
 */

#include "core.h"

typedef struct {
    PyObject_HEAD
    PyObject *function;      /* the patched original */
    PyObject *wrapper;       /* wrapper(wrapped, instance, args, kwargs) */
    PyObject *dict;          /* __dict__ */
    vectorcallfunc vectorcall;
    char method;             /* the function is a class's: the first argument is self */
} RW_Wrapping;

static PyObject *
wrapping_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    RW_Wrapping *w = (RW_Wrapping *)op;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf), skip = 0;
    PyObject *wrapped, *instance = Py_None;
    if (w->method) {
        if (nargs < 1) {
            PyObject *name = w->dict != NULL ? PyDict_GetItemString(w->dict, "__qualname__")
                                             : NULL;
            PyErr_Format(PyExc_TypeError, "%S() missing 1 required positional argument: "
                         "'self'", name != NULL ? name : (PyObject *)Py_TYPE(op));
            return NULL;
        }
        instance = args[0];
        skip = 1;
        descrgetfunc get = Py_TYPE(w->function)->tp_descr_get;
        wrapped = get != NULL ? get(w->function, instance, NULL) : Py_NewRef(w->function);
        if (wrapped == NULL) {
            return NULL;
        }
    }
    else {
        wrapped = Py_NewRef(w->function);
    }
    PyObject *call_args = PyTuple_New(nargs - skip);
    PyObject *call_kwargs = call_args != NULL ? PyDict_New() : NULL;
    if (call_kwargs == NULL) {
        Py_XDECREF(call_args);
        Py_DECREF(wrapped);
        return NULL;
    }
    for (Py_ssize_t i = skip; i < nargs; i++) {
        PyTuple_SET_ITEM(call_args, i - skip, Py_NewRef(args[i]));
    }
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw; i++) {
        if (PyDict_SetItem(call_kwargs, PyTuple_GET_ITEM(kwnames, i), args[nargs + i]) < 0) {
            Py_DECREF(call_args);
            Py_DECREF(call_kwargs);
            Py_DECREF(wrapped);
            return NULL;
        }
    }
    PyObject *stack[4] = {wrapped, instance, call_args, call_kwargs};
    PyObject *result = PyObject_Vectorcall(w->wrapper, stack, 4, NULL);
    Py_DECREF(call_args);
    Py_DECREF(call_kwargs);
    Py_DECREF(wrapped);
    return result;
}

static PyObject *
wrapping_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *function, *wrapper;
    int method;
    static char *names[] = {"function", "wrapper", "method", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOp:Wrapping", names, &function, &wrapper,
                                     &method)) {
        return NULL;
    }
    if (!PyCallable_Check(function) || !PyCallable_Check(wrapper)) {
        PyErr_SetString(PyExc_TypeError, "Wrapping(function, wrapper, method): "
                                         "function and wrapper must be callable");
        return NULL;
    }
    RW_Wrapping *w = (RW_Wrapping *)type->tp_alloc(type, 0);
    if (w == NULL) {
        return NULL;
    }
    w->function = Py_NewRef(function);
    w->wrapper = Py_NewRef(wrapper);
    w->dict = NULL;
    w->vectorcall = wrapping_vectorcall;
    w->method = (char)method;
    return (PyObject *)w;
}

static int
wrapping_traverse(RW_Wrapping *w, visitproc visit, void *arg)
{
    Py_VISIT(w->function);
    Py_VISIT(w->wrapper);
    Py_VISIT(w->dict);
    return 0;
}

static int
wrapping_clear(RW_Wrapping *w)
{
    Py_CLEAR(w->function);
    Py_CLEAR(w->wrapper);
    Py_CLEAR(w->dict);
    return 0;
}

static void
wrapping_dealloc(RW_Wrapping *w)
{
    PyObject_GC_UnTrack(w);
    wrapping_clear(w);
    Py_TYPE(w)->tp_free((PyObject *)w);
}

/* A function's binding: the wrapping itself through its class, a bound method through an
 * instance. */
static PyObject *
wrapping_get(PyObject *op, PyObject *obj, PyObject *Py_UNUSED(type))
{
    if (obj == NULL || obj == Py_None) {
        return Py_NewRef(op);
    }
    return PyMethod_New(op, obj);
}

static PyObject *
wrapping_repr(RW_Wrapping *w)
{
    PyObject *name = w->dict != NULL ? PyDict_GetItemString(w->dict, "__qualname__") : NULL;
    if (name != NULL && PyUnicode_Check(name)) {
        return PyUnicode_FromFormat("<function %U at %p>", name, w);
    }
    return PyUnicode_FromFormat("<racewatch wrapping of %R>", w->function);
}

static PyGetSetDef wrapping_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL}
};

static PyTypeObject RW_WrappingType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.Wrapping",
    .tp_basicsize = sizeof(RW_Wrapping),
    .tp_dealloc = (destructor)wrapping_dealloc,
    .tp_vectorcall_offset = offsetof(RW_Wrapping, vectorcall),
    .tp_repr = (reprfunc)wrapping_repr,
    .tp_call = PyVectorcall_Call,
    .tp_getattro = PyObject_GenericGetAttr,
    .tp_setattro = PyObject_GenericSetAttr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL
                | Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_doc = "Wrapping(function, wrapper, method): a patched function that calls "
              "wrapper(wrapped, instance, args, kwargs) (patches._wrapping_function).",
    .tp_traverse = (traverseproc)wrapping_traverse,
    .tp_clear = (inquiry)wrapping_clear,
    .tp_getset = wrapping_getset,
    .tp_descr_get = wrapping_get,
    .tp_dictoffset = offsetof(RW_Wrapping, dict),
    .tp_new = wrapping_new,
};

int
rw_wrapping_ready(PyObject *module)
{
    if (PyType_Ready(&RW_WrappingType) < 0) {
        return -1;
    }
    return PyModule_AddObjectRef(module, "Wrapping", (PyObject *)&RW_WrappingType);
}
