/* The tracked set (tracked_seq.TrackedSet, the reference, says what each operation records
 * and why), as a C subclass of set with a shadow slot (declarations shared by its files):
 *
 *   set.c          the type, its slots and single-element methods, track(), copy's dispatch
 *   set_algebra.c  the operators and the methods of set algebra, in place or not
 *
 * What a program can observe is kept as for the tracked dict (dict.h): the type is named
 * ``set``, ``__class__`` is set, the methods are descriptors of set with its docstrings,
 * ``type(s).__repr__`` is ``set.__repr__`` and ``repr(s)`` is an exact set's; pickling
 * gives a plain set and copy a tracked one.  An element's ``__hash__`` and ``__eq__`` are
 * called as a plain set calls them wherever the access is not checked; a checked one looks
 * the elements up once more (is it there?), and an iterable argument of an in-place
 * operation is first made a list, so that it can be looked at and then handed on.
 */

#ifndef RACEWATCH_SET_H
#define RACEWATCH_SET_H

#include "tracked.h"

enum {
    S_ADD, S_CLEAR, S_CONTAINS, S_COPY, S_DISCARD, S_DIFFERENCE, S_DIFFERENCE_UPDATE,
    S_INTERSECTION, S_INTERSECTION_UPDATE, S_ISDISJOINT, S_ISSUBSET, S_ISSUPERSET, S_POP,
    S_REDUCE, S_REMOVE, S_SYMMETRIC_DIFFERENCE, S_SYMMETRIC_DIFFERENCE_UPDATE, S_UNION,
    S_UPDATE, S_N
};

extern base_method rw_set_base[S_N];

static inline int
rw_is_tracked_set(PyObject *obj)
{
    return Py_IS_TYPE(obj, &RW_TrackedSetType);
}

/* A read of the members of ``other`` when it is a tracked set (its table is read past its
 * methods); a tracked list or dict records its own read as it is iterated. */
static inline int
rw_read_members_of(PyObject *other, PyObject *op)
{
    return rw_is_tracked_set(other) ? rw_record_keys_read(other, op) : 0;
}

/* What an in-place operation does to each element it is given. */
enum {
    ADDS,       /* write; an update of ``members`` when it was absent */
    REMOVES,    /* present: write and update; absent: read */
    TOGGLES,    /* write and update */
};

/* Each element of ``elements`` recorded as ``what`` says, for a checked access; ``count``:
 * one access counted for each (an operation that records several locations counts one for
 * entering, then one per location, as the reference does). */
int rw_set_record_each(RW_ThreadState *ts, RW_Shadow *sh, PyObject *self, PyObject *elements,
                       PyObject *op, int what, int count);

/* set_algebra.c: the slots and methods it defines */
PyObject *ts_or(PyObject *v, PyObject *w);
PyObject *ts_and(PyObject *v, PyObject *w);
PyObject *ts_sub(PyObject *v, PyObject *w);
PyObject *ts_xor(PyObject *v, PyObject *w);
PyObject *ts_ior(PyObject *self, PyObject *other);
PyObject *ts_iand(PyObject *self, PyObject *other);
PyObject *ts_isub(PyObject *self, PyObject *other);
PyObject *ts_ixor(PyObject *self, PyObject *other);
PyObject *ts_update(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *ts_difference_update(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *ts_intersection_update(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *ts_symmetric_difference_update(PyObject *self, PyObject *other);
PyObject *ts_union(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *ts_intersection(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *ts_difference(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *ts_symmetric_difference(PyObject *self, PyObject *other);
PyObject *ts_issubset(PyObject *self, PyObject *other);
PyObject *ts_issuperset(PyObject *self, PyObject *other);
PyObject *ts_isdisjoint(PyObject *self, PyObject *other);
int rw_set_algebra_ready(void);

#endif /* RACEWATCH_SET_H */
