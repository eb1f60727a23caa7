/* The tracked list (tracked_seq.TrackedList, the reference, says what each operation
 * records and why), as a C subclass of list with a shadow slot (declarations shared by its
 * files):
 *
 *   list.c          the type and its slots, the accesses at a position and at the end the
 *                   list grows at, track(), copy's dispatch
 *   list_methods.c  the methods (append, insert, pop, remove, sort, __reduce_ex__, ...)
 *
 * Its slots and methods record their access, then call list's own implementation.
 * A position is recorded as the base method finds it: a negative index reads ``items``
 * too (where -1 is depends on the length), an index out of range reads ``items`` only.
 * Positions are recorded only for an access that is checked (rw_enter says so): in a
 * single thread, an index's ``__index__`` runs once, as list's own, and no int is made.
 * Such an operation counts one access for entering, then one per location it records, as
 * the reference does.
 * What a program can observe is kept as for the tracked dict (dict.h): the type is named
 * ``list``, ``__class__`` is list, the methods are descriptors of list with its
 * docstrings, ``type(l).__repr__`` is ``list.__repr__``; pickling gives a plain list and
 * copy a tracked one.
 */

#ifndef RACEWATCH_LIST_H
#define RACEWATCH_LIST_H

#include "tracked.h"

/* -- list.c: the accesses a list operation records ---------------------------------------- */

enum { READ, WRITE, REMOVAL };   /* what is done at a position: REMOVAL updates ``items`` */

int rw_list_at_position(RW_ThreadState *ts, RW_Shadow *sh, PyObject *self, Py_ssize_t i,
                        PyObject *op, int how);
int rw_list_record_position(PyObject *self, Py_ssize_t i, PyObject *op, int how);
PyObject *rw_list_record_key(PyObject *self, PyObject *key, PyObject *op, int how);

/* An operation that grows the list at its end (append, extend, +=). */
typedef PyObject *(*grow_fn)(PyObject *self, PyObject *operand);

PyObject *rw_list_grown_at_end(PyObject *self, PyObject *operand, PyObject *op, grow_fn grow,
                               int in_c);
PyObject *rw_list_grown_by(PyObject *self, PyObject *other, PyObject *op, grow_fn grow);

/* the mapping slot l[key], which __getitem__ calls too */
PyObject *rw_list_subscript(PyObject *self, PyObject *key);

/* -- list_methods.c ------------------------------------------------------------------------ */

int rw_list_methods_load(void);
int rw_list_methods_install(PyTypeObject *type);

#endif /* RACEWATCH_LIST_H */
