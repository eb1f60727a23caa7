/* The questions every patch asks first (patches/context.py: thread_state,
 * building_internals, as_internal). */

#include "core.h"

static PyObject *
mod_thread_state(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    RW_ThreadState *ts = rw_patch_state();
    if (ts == NULL) {
        Py_RETURN_NONE;
    }
    return Py_NewRef((PyObject *)ts);
}

/* patches.context.building_internals */
static PyObject *
mod_building_internals(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    if (!rw_enabled()) {
        Py_RETURN_FALSE;
    }
    RW_ThreadState *ts = rw_current();
    if (ts == NULL) {
        return NULL;
    }
    return PyBool_FromLong(ts->internal > 0);
}

/* patches.context.as_internal, a wrapt wrapper: wrapped(*args, **kwargs) with the calling
 * thread's ``internal`` raised, so that what it builds adds no edge. */
static PyObject *
mod_as_internal(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "as_internal(wrapped, instance, args, kwargs)");
        return NULL;
    }
    PyObject *wrapped = args[0], *call_args = args[2], *call_kwargs = args[3];
    if (!PyTuple_Check(call_args) || (call_kwargs != Py_None && !PyDict_Check(call_kwargs))) {
        PyErr_SetString(PyExc_TypeError, "as_internal: args must be a tuple, kwargs a dict");
        return NULL;
    }
    if (call_kwargs == Py_None) {
        call_kwargs = NULL;
    }
    if (!rw_enabled()) {
        return PyObject_Call(wrapped, call_args, call_kwargs);
    }
    RW_ThreadState *ts = rw_current();
    if (ts == NULL) {
        return NULL;
    }
    Py_INCREF(ts);  /* the thread's state outlives the call even if it is replaced */
    ts->internal++;
    PyObject *result = PyObject_Call(wrapped, call_args, call_kwargs);
    ts->internal--;
    Py_DECREF(ts);
    return result;
}

static PyMethodDef context_functions[] = {
    {"building_internals", mod_building_internals, METH_NOARGS,
     "building_internals(): True inside as_internal (patches.context.building_internals)"},
    {"as_internal", RW_CFUNC(mod_as_internal), METH_FASTCALL,
     "as_internal(wrapped, instance, args, kwargs) (patches.context.as_internal)"},
    {"thread_state", mod_thread_state, METH_NOARGS,
     "thread_state(): the calling thread's state while the detector is on and the thread is "
     "not busy inside it, else None (patches.context.thread_state)"},
    {NULL}
};

int
rw_context_ready(PyObject *module)
{
    return PyModule_AddFunctions(module, context_functions);
}
