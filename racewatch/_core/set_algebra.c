/* The tracked set's algebra: the operators and the methods that combine sets, in place or
 * not (see set.h).  What makes a new set reads every operand's members and gives a tracked
 * set; what changes the set in place records each element it is given (an update of
 * ``members`` for each one whose membership it changes, as add() and discard() do). */

#include "set.h"

static PyObject *str_ror, *str_rand, *str_rsub, *str_rxor;

/* -- new sets ------------------------------------------------------------------------------- */

/* A read of the members of ``self`` and of each tracked set among ``others``. */
static int
read_operands(PyObject *self, PyObject *const *others, Py_ssize_t n, PyObject *op)
{
    if (rw_record_keys_read(self, op) < 0) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (rw_read_members_of(others[i], op) < 0) {
            return -1;
        }
    }
    return 0;
}

static PyObject *
tracked_result(PyObject *result)
{
    /* the builtin's result (a plain set), tracked; a frozenset as it is */
    if (result != NULL && Py_IS_TYPE(result, &PySet_Type)) {
        return rw_track_new(result);
    }
    return result;
}

static PyObject *
combine(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *op, int which)
{
    if (read_operands(self, args, nargs, op) < 0) {
        return NULL;
    }
    return tracked_result(rw_base_call(&rw_set_base[which], self, args, nargs));
}

PyObject *
ts_union(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return combine(self, args, nargs, RW_OP(UNION), S_UNION);
}

PyObject *
ts_intersection(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return combine(self, args, nargs, RW_OP(INTERSECTION), S_INTERSECTION);
}

PyObject *
ts_difference(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return combine(self, args, nargs, RW_OP(DIFFERENCE), S_DIFFERENCE);
}

PyObject *
ts_symmetric_difference(PyObject *self, PyObject *other)
{
    return combine(self, &other, 1, RW_OP(SYMMETRIC_DIFFERENCE), S_SYMMETRIC_DIFFERENCE);
}

/* issubset, issuperset, isdisjoint: a read of both operands' members. */
static PyObject *
test(PyObject *self, PyObject *other, PyObject *op, int which)
{
    if (read_operands(self, &other, 1, op) < 0) {
        return NULL;
    }
    return rw_base_call(&rw_set_base[which], self, &other, 1);
}

PyObject *
ts_issubset(PyObject *self, PyObject *other)
{
    return test(self, other, RW_OP(ISSUBSET), S_ISSUBSET);
}

PyObject *
ts_issuperset(PyObject *self, PyObject *other)
{
    return test(self, other, RW_OP(ISSUPERSET), S_ISSUPERSET);
}

PyObject *
ts_isdisjoint(PyObject *self, PyObject *other)
{
    return test(self, other, RW_OP(ISDISJOINT), S_ISDISJOINT);
}

/* |, &, -, ^: one slot for both directions, as set's own.  Python calls it with the
 * tracked set on the left (``s | t``) or, being a subclass of set, on the right of a plain
 * set (``t | s``); the left operand's builtin decides the result's type. */
static PyObject *
binary(PyObject *v, PyObject *w, binaryfunc base, PyObject *reflected, PyObject *op)
{
    if (!PyAnySet_Check(v) || !PyAnySet_Check(w)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (rw_is_tracked_set(v)) {
        PyObject *result = rw_reflected_first(v, w, reflected);
        if (result != Py_NotImplemented) {
            return result;
        }
        Py_DECREF(result);
    }
    if (rw_read_members_of(v, op) < 0 || rw_read_members_of(w, op) < 0) {
        return NULL;
    }
    return tracked_result(base(v, w));
}

PyObject *
ts_or(PyObject *v, PyObject *w)
{
    return binary(v, w, PySet_Type.tp_as_number->nb_or, str_ror, RW_OP(OR));
}

PyObject *
ts_and(PyObject *v, PyObject *w)
{
    return binary(v, w, PySet_Type.tp_as_number->nb_and, str_rand, RW_OP(AND));
}

PyObject *
ts_sub(PyObject *v, PyObject *w)
{
    return binary(v, w, PySet_Type.tp_as_number->nb_subtract, str_rsub, RW_OP(SUB));
}

PyObject *
ts_xor(PyObject *v, PyObject *w)
{
    return binary(v, w, PySet_Type.tp_as_number->nb_xor, str_rxor, RW_OP(XOR));
}

/* -- in place ---------------------------------------------------------------------------- */

/* ``others`` as the operation may iterate them twice (recording, then the operation):
 * sets and exact dicts as they are, anything else made a list (a new tuple). */
static PyObject *
materialized(PyObject *const *others, Py_ssize_t n)
{
    PyObject *result = PyTuple_New(n);
    for (Py_ssize_t i = 0; result != NULL && i < n; i++) {
        PyObject *o = others[i];
        o = PyAnySet_Check(o) || PyDict_CheckExact(o) ? Py_NewRef(o) : PySequence_List(o);
        if (o == NULL) {
            Py_CLEAR(result);
            break;
        }
        PyTuple_SET_ITEM(result, i, o);
    }
    return result;
}

/* An element is removed for each element of ``self`` not in ``kept``. */
static int
record_removed(RW_ThreadState *ts, RW_Shadow *sh, PyObject *self, PyObject *kept,
               PyObject *op)
{
    if (kept == NULL) {
        return -1;
    }
    PyObject *gone = PySet_Type.tp_as_number->nb_subtract(self, kept);
    Py_DECREF(kept);
    if (gone == NULL) {
        return -1;
    }
    int rc = rw_set_record_each(ts, sh, self, gone, op, TOGGLES, 1);
    Py_DECREF(gone);
    return rc;
}

/* update, difference_update, intersection_update, symmetric_difference_update: each
 * element recorded, for a checked access, before the builtin's method does its work. */
static PyObject *
in_place(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *op, int what,
         int which)
{
    for (Py_ssize_t i = 0; i < nargs; i++) {
        if (rw_read_members_of(args[i], op) < 0) {
            return NULL;
        }
    }
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(self, &ts, &sh);
    if (e <= 0) {
        return e < 0 ? NULL : rw_base_call(&rw_set_base[which], self, args, nargs);
    }
    PyObject *r = NULL;
    PyObject *others = materialized(args, nargs);
    if (others == NULL) {
        goto done;
    }
    PyObject *const *items = &PyTuple_GET_ITEM(others, 0);
    if (which == S_INTERSECTION_UPDATE) {
        PyObject *kept = rw_base_call(&rw_set_base[S_INTERSECTION], self, items, nargs);
        if (record_removed(ts, sh, self, kept, op) < 0) {
            goto done;
        }
    }
    else {
        for (Py_ssize_t i = 0; i < nargs; i++) {
            if (rw_set_record_each(ts, sh, self, items[i], op, what, 1) < 0) {
                goto done;
            }
        }
    }
    r = rw_base_call(&rw_set_base[which], self, items, nargs);
done:
    Py_XDECREF(others);
    Py_DECREF(ts);
    return r;
}

PyObject *
ts_update(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return in_place(self, args, nargs, RW_OP(UPDATE), ADDS, S_UPDATE);
}

PyObject *
ts_difference_update(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return in_place(self, args, nargs, RW_OP(DIFFERENCE_UPDATE), REMOVES, S_DIFFERENCE_UPDATE);
}

PyObject *
ts_intersection_update(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return in_place(self, args, nargs, RW_OP(INTERSECTION_UPDATE), TOGGLES,
                    S_INTERSECTION_UPDATE);
}

PyObject *
ts_symmetric_difference_update(PyObject *self, PyObject *other)
{
    return in_place(self, &other, 1, RW_OP(SYMMETRIC_DIFFERENCE_UPDATE), TOGGLES,
                    S_SYMMETRIC_DIFFERENCE_UPDATE);
}

/* |=, -=, &=, ^=: sets only (else NotImplemented, as set's own). */
static PyObject *
in_place_operator(PyObject *self, PyObject *other, binaryfunc base, PyObject *op, int what)
{
    if (!PyAnySet_Check(other)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (rw_read_members_of(other, op) < 0) {
        return NULL;
    }
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(self, &ts, &sh);
    if (e > 0) {
        e = base == PySet_Type.tp_as_number->nb_inplace_and
            ? record_removed(ts, sh, self, PySet_Type.tp_as_number->nb_and(self, other), op)
            : rw_set_record_each(ts, sh, self, other, op, what, 1);
        Py_DECREF(ts);
    }
    return e < 0 ? NULL : base(self, other);
}

PyObject *
ts_ior(PyObject *self, PyObject *other)
{
    return in_place_operator(self, other, PySet_Type.tp_as_number->nb_inplace_or, RW_OP(IOR),
                             ADDS);
}

PyObject *
ts_isub(PyObject *self, PyObject *other)
{
    return in_place_operator(self, other, PySet_Type.tp_as_number->nb_inplace_subtract,
                             RW_OP(ISUB), REMOVES);
}

PyObject *
ts_iand(PyObject *self, PyObject *other)
{
    return in_place_operator(self, other, PySet_Type.tp_as_number->nb_inplace_and,
                             RW_OP(IAND), TOGGLES);
}

PyObject *
ts_ixor(PyObject *self, PyObject *other)
{
    return in_place_operator(self, other, PySet_Type.tp_as_number->nb_inplace_xor,
                             RW_OP(IXOR), TOGGLES);
}

int
rw_set_algebra_ready(void)
{
    if (str_ror == NULL
            && ((str_ror = PyUnicode_InternFromString("__ror__")) == NULL
                || (str_rand = PyUnicode_InternFromString("__rand__")) == NULL
                || (str_rsub = PyUnicode_InternFromString("__rsub__")) == NULL
                || (str_rxor = PyUnicode_InternFromString("__rxor__")) == NULL)) {
        return -1;
    }
    return 0;
}
