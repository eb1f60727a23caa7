/* The FastTrack rules' entry points for Python callers: shadow.on_read, on_write,
 * on_keys_read, on_read_all and on_clear as the compiled core offers them (rules.c and
 * rules_keys.c hold the rules). */

#include "engine.h"

static int
check_op(PyObject *op)
{
    if (!PyUnicode_Check(op)) {
        PyErr_SetString(PyExc_TypeError, "op must be a str");
        return -1;
    }
    return 0;
}

PyObject *
rw_mod_on_read(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "on_read expected 3 arguments, got %zd", nargs);
        return NULL;
    }
    if (check_op(args[2]) < 0) {
        return NULL;
    }
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(args[0], &ts, &sh);
    if (e > 0) {
        e = rw_on_read(ts, sh, args[0], args[1], args[2]);
        Py_DECREF(ts);
    }
    if (e < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyObject *
rw_mod_on_write(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError, "on_write expected 4 arguments, got %zd", nargs);
        return NULL;
    }
    if (check_op(args[2]) < 0) {
        return NULL;
    }
    int keys_change = PyObject_IsTrue(args[3]);
    if (keys_change < 0) {
        return NULL;
    }
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(args[0], &ts, &sh);
    if (e > 0) {
        e = rw_on_write(ts, sh, args[0], args[1], args[2], keys_change);
        Py_DECREF(ts);
    }
    if (e < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
mod_whole(PyObject *const *args, Py_ssize_t nargs, const char *name, int kind)
{
    if (nargs < 1 || nargs > 2 || (nargs == 1 && kind != 2)) {
        PyErr_Format(PyExc_TypeError, "%s: wrong number of arguments (%zd)", name, nargs);
        return NULL;
    }
    PyObject *op = nargs == 2 ? args[1] : RW_OP(CLEAR);
    if (check_op(op) < 0) {
        return NULL;
    }
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(args[0], &ts, &sh);
    if (e > 0) {
        e = kind == 0 ? rw_on_keys_read(ts, sh, op)
            : kind == 1 ? rw_on_read_all(ts, sh, op)
            : rw_on_clear(ts, sh, args[0], op);
        Py_DECREF(ts);
    }
    if (e < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyObject *
rw_mod_on_keys_read(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    return mod_whole(args, nargs, "on_keys_read", 0);
}

PyObject *
rw_mod_on_read_all(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    return mod_whole(args, nargs, "on_read_all", 1);
}

PyObject *
rw_mod_on_clear(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    return mod_whole(args, nargs, "on_clear", 2);
}
