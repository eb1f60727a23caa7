/* Sink (races.py): what the engine hands each conflict to, never raising into the access.
 *
 * The engine calls SETTINGS.sink from inside the program's own dict operation.  Calling
 * racewatch's handler (RaceTable.on_conflict, a Python function) there fails when the
 * program is within a frame or two of the recursion limit: plain python's d[k] = v needs
 * no frame, the handler does.  So the sink is a C callable whose call takes no frame
 * and checks no recursion depth (a vectorcall): it calls the handler, and when that
 * fails with an Exception (the handler itself catches everything but RecursionError) it
 * keeps the conflict in a list that the handler drains later, with room to spare (at the
 * next race, or when the report is made).  A BaseException that is not an Exception (a
 * KeyboardInterrupt from a signal handler that ran in the handler) is the program's and
 * goes on.
 */

#include "core.h"

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *handler;
    PyObject *pending;   /* a list */
} RW_Sink;

static PyObject *
sink_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    RW_Sink *sink = (RW_Sink *)self;
    if (PyVectorcall_NARGS(nargsf) != 1 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames))) {
        PyErr_SetString(PyExc_TypeError, "Sink takes one conflict");
        return NULL;
    }
    PyObject *result = PyObject_CallOneArg(sink->handler, args[0]);
    if (result != NULL) {
        return result;
    }
    if (!PyErr_ExceptionMatches(PyExc_Exception)) {
        return NULL;
    }
    PyErr_Clear();
    if (PyList_Append(sink->pending, args[0]) < 0) {
        PyErr_Clear();   /* no memory for one list item: the conflict is lost, not the program */
    }
    Py_RETURN_NONE;
}

static PyObject *
sink_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"handler", "pending", NULL};
    PyObject *handler, *pending;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO!:Sink", kwlist, &handler,
                                     &PyList_Type, &pending)) {
        return NULL;
    }
    RW_Sink *sink = (RW_Sink *)type->tp_alloc(type, 0);
    if (sink == NULL) {
        return NULL;
    }
    sink->vectorcall = sink_vectorcall;
    sink->handler = Py_NewRef(handler);
    sink->pending = Py_NewRef(pending);
    return (PyObject *)sink;
}

static int
sink_traverse(RW_Sink *sink, visitproc visit, void *arg)
{
    Py_VISIT(sink->handler);
    Py_VISIT(sink->pending);
    return 0;
}

static int
sink_clear(RW_Sink *sink)
{
    Py_CLEAR(sink->handler);
    Py_CLEAR(sink->pending);
    return 0;
}

static void
sink_dealloc(RW_Sink *sink)
{
    PyObject_GC_UnTrack(sink);
    sink_clear(sink);
    Py_TYPE(sink)->tp_free((PyObject *)sink);
}

static PyMemberDef sink_members[] = {
    {"handler", T_OBJECT, offsetof(RW_Sink, handler), READONLY, "called with each conflict"},
    {"pending", T_OBJECT, offsetof(RW_Sink, pending), READONLY,
     "conflicts the handler could not take when they were found"},
    {NULL}
};

static PyTypeObject RW_SinkType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.Sink",
    .tp_doc = "Sink(handler, pending): calls handler(conflict); keeps the conflict in "
              "pending when that fails with an Exception.",
    .tp_basicsize = sizeof(RW_Sink),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_new = sink_new,
    .tp_dealloc = (destructor)sink_dealloc,
    .tp_traverse = (traverseproc)sink_traverse,
    .tp_clear = (inquiry)sink_clear,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(RW_Sink, vectorcall),
    .tp_members = sink_members,
};

int
rw_sink_ready(PyObject *module)
{
    if (PyType_Ready(&RW_SinkType) < 0) {
        return -1;
    }
    return PyModule_AddObjectRef(module, "Sink", (PyObject *)&RW_SinkType);
}
