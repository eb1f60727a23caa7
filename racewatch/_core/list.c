/* The tracked list: its type and slots, the accesses its operations record (a position, the
 * end it grows at), track() of a list, and copy's dispatch (see list.h). */

#include "list.h"
#include "engine.h"

#define BASE_SEQ (PyList_Type.tp_as_sequence)
#define BASE_MAP (PyList_Type.tp_as_mapping)

/* -- recording a position ------------------------------------------------------------------ */

/* The key a position is recorded under (a new reference).  On GIL builds, one int per
 * position, made on first use and kept for the run (up to POSITIONS_MAX, in chunks): the
 * shadow's lookup then finds its location by identity, where a new int for each access
 * (past 255 none is a small int) cost an allocation and a comparison with the stored key.
 * At most POSITIONS_MAX ints, two megabytes.  Free-threaded builds make a new int: one
 * shared by threads would have its reference count written from each of them. */
#define POSITION_CHUNK 1024
#define POSITION_CHUNKS 64
#define POSITIONS_MAX (POSITION_CHUNK * POSITION_CHUNKS)

#ifndef Py_GIL_DISABLED
static PyObject **position_chunks[POSITION_CHUNKS];   /* changed with the GIL held */
#endif

static inline PyObject *
position_key(Py_ssize_t i)
{
#ifndef Py_GIL_DISABLED
    if (i >= 256 && i < POSITIONS_MAX) {
        PyObject **chunk = position_chunks[i / POSITION_CHUNK];
        if (chunk == NULL) {
            chunk = PyMem_RawCalloc(POSITION_CHUNK, sizeof(PyObject *));
            if (chunk == NULL) {
                return PyLong_FromSsize_t(i);
            }
            position_chunks[i / POSITION_CHUNK] = chunk;
        }
        PyObject **slot = &chunk[i % POSITION_CHUNK];
        if (*slot == NULL && (*slot = PyLong_FromSsize_t(i)) == NULL) {
            return NULL;
        }
        return Py_NewRef(*slot);
    }
#endif
    return PyLong_FromSsize_t(i);
}

#ifndef Py_GIL_DISABLED
/* -- a list's memory of its positions' records (GIL builds) --------------------------------
 * A read of a position that its thread made already in its epoch looked the position's
 * record up in the shadow's table, as a dict key's is, to find it adds nothing: about 120
 * instructions of the 310 racewatch added to such a read (callgrind, 3.11).  The shadow
 * keeps, per position read, the record the table held and the table's version then
 * (RW_LOCS_CHANGED: one counter for every table, so a version names one state of one
 * table): while the version is the table's, the table still holds that record (borrowed:
 * a record is changed in place, or replaced by a store, which moves the version).  Up to
 * POSITIONS_MAX positions, 16 bytes each; free-threaded builds look in the table. */

typedef struct {
    unsigned long long version;
    PyObject *rec;           /* borrowed from the table */
} rw_position_seen;

struct rw_positions {
    Py_ssize_t cap;
    rw_position_seen at[];
};

/* Whether the shadow's memory says that ``ts``'s read of position ``i`` adds nothing. */
static inline int
read_seen(const RW_ThreadState *ts, const RW_Shadow *sh, Py_ssize_t i)
{
    const struct rw_positions *p = sh->positions;
    if (p == NULL || i >= p->cap) {
        return 0;
    }
    const rw_position_seen *e = &p->at[i];
    return e->version == sh->locs_version && rw_read_adds_nothing(e->rec, ts);
}

/* Remember the record the table holds for position ``i`` (its key ``pos``), after a read
 * of it was checked.  The memory grows with the positions read, not with the list: a
 * position past four times the table's records (and 64) is not remembered, so that a
 * long list of which a few far positions are read costs no more than its records.  On
 * a memory error nothing is remembered (the next read looks). */
static void
remember_position(RW_Shadow *sh, Py_ssize_t i, PyObject *pos, Py_hash_t hash)
{
    if (i >= POSITIONS_MAX || sh->locs == NULL || i >= 4 * PyDict_GET_SIZE(sh->locs) + 64) {
        return;
    }
    struct rw_positions *p = sh->positions;
    if (p == NULL || i >= p->cap) {
        Py_ssize_t cap = p == NULL ? 64 : p->cap;
        while (cap <= i) {
            cap *= 2;
        }
        cap = Py_MIN(cap, POSITIONS_MAX);
        Py_ssize_t old = p == NULL ? 0 : p->cap;
        p = PyMem_Realloc(p, sizeof(struct rw_positions) + (size_t)cap * sizeof(rw_position_seen));
        if (p == NULL) {
            return;   /* (the old memory stays the shadow's) */
        }
        memset(&p->at[old], 0, (size_t)(cap - old) * sizeof(rw_position_seen));
        p->cap = cap;
        sh->positions = p;
    }
    /* (``hash`` is ``i``'s own: i < POSITIONS_MAX) */
    PyObject *rec = _PyDict_GetItem_KnownHash(sh->locs, pos, hash);
    if (rec == NULL || rec == Py_None) {
        PyErr_Clear();   /* (no record yet, or none to find: nothing remembered) */
        p->at[i].version = 0;
        return;
    }
    p->at[i].version = sh->locs_version;
    p->at[i].rec = rec;
}
#endif

/* Position ``i`` as the base method finds it, for a checked access (ts, sh). */
int
rw_list_at_position(RW_ThreadState *ts, RW_Shadow *sh, PyObject *self, Py_ssize_t i,
                    PyObject *op, int how)
{
    Py_ssize_t n = PyList_GET_SIZE(self);
    if (i < 0) {
        ts->accesses++;
        if (rw_on_keys_read(ts, sh, op) < 0) {
            return -1;
        }
        i += n;
        if (i < 0) {
            return 0;
        }
    }
    ts->accesses++;
    if (i >= n) {
        return rw_on_keys_read(ts, sh, op);   /* IndexError: the length decides */
    }
#ifndef Py_GIL_DISABLED
    if (how == READ && read_seen(ts, sh, i)) {
        return 0;
    }
#endif
    PyObject *pos = position_key(i);
    if (pos == NULL) {
        return -1;
    }
    /* A position's hash is itself below the modulus of ints' hashes (2**61 - 1, or 2**31 - 1
     * where a hash has 32 bits): no call for it.  (-1: the rules compute it.) */
    Py_hash_t hash = i < 0x7FFFFFFF ? (Py_hash_t)i : -1;
    int rc = how == READ ? rw_on_read_kh(ts, sh, self, pos, hash, op)
                         : rw_on_write_kh(ts, sh, self, pos, hash, op, how == REMOVAL);
#ifndef Py_GIL_DISABLED
    if (rc == 0 && how == READ) {
        remember_position(sh, i, pos, hash);
    }
#endif
    Py_DECREF(pos);
    return rc;
}

/* The access at position ``i`` (already a Py_ssize_t). */
int
rw_list_record_position(PyObject *self, Py_ssize_t i, PyObject *op, int how)
{
#ifndef Py_GIL_DISABLED
    if (how == READ && i >= 0 && i < PyList_GET_SIZE(self)) {
        /* First, the read the thread made already in its epoch (rules.c, rw_first_look_read) */
        RW_ThreadState *ts = rw_tls_state;
        RW_Shadow *sh = rw_first_look(self, ts);
        if (sh != NULL && (PyObject *)ts != rw_solo_get() && read_seen(ts, sh, i)) {
            ts->accesses += 2;   /* (rw_enter's count and rw_list_at_position's) */
            return 0;
        }
    }
#endif
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(self, &ts, &sh);
    if (e > 0) {
        e = rw_list_at_position(ts, sh, self, i, op, how);
        Py_DECREF(ts);
    }
    return e < 0 ? -1 : 0;
}

/* The access at the position ``key`` stands for; what to hand the base method (``key``
 * itself, or the int its __index__ gave: __index__ runs once), or NULL on error.  A key
 * that is no index is handed on unrecorded, for the base method to raise its TypeError. */
PyObject *
rw_list_record_key(PyObject *self, PyObject *key, PyObject *op, int how)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(self, &ts, &sh);
    if (e <= 0) {
        return e < 0 ? NULL : Py_NewRef(key);
    }
    PyObject *index;
    if (PyLong_CheckExact(key)) {
        index = Py_NewRef(key);
    }
    else if (PyIndex_Check(key)) {
        index = PyNumber_Index(key);
    }
    else {
        Py_DECREF(ts);
        return Py_NewRef(key);
    }
    if (index != NULL) {
        Py_ssize_t i = PyLong_AsSsize_t(index);
        if (i == -1 && PyErr_Occurred()) {
            PyErr_Clear();   /* too large: the base method raises its own error */
        }
        else if (rw_list_at_position(ts, sh, self, i, op, how) < 0) {
            Py_CLEAR(index);
        }
    }
    Py_DECREF(ts);
    return index;
}

/* After an operation that wrote everything and grew the list: its new positions. */
static int
record_grown(PyObject *self, Py_ssize_t before, PyObject *op)
{
    if (PyList_GET_SIZE(self) <= before) {
        return 0;
    }
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(self, &ts, &sh);
    if (e <= 0) {
        return e;
    }
    for (Py_ssize_t i = before; e >= 0 && i < PyList_GET_SIZE(self); i++) {
        e = rw_list_at_position(ts, sh, self, i, op, WRITE);
    }
    Py_DECREF(ts);
    return e < 0 ? -1 : 0;
}

static inline int
is_tracked_list(PyObject *obj)
{
    return Py_IS_TYPE(obj, &RW_TrackedListType);
}

/* -- the slots ------------------------------------------------------------------------------- */

/* A key that is an int and a position from the start, as most are: what the base method
 * would convert again before it does what sq_item and sq_ass_item do, which the slots below
 * call instead.  A negative one takes the base method, which adds the length under the
 * list's lock on free-threaded builds. */
static inline int
plain_position(PyObject *key, Py_ssize_t *pi)
{
    if (!PyLong_CheckExact(key)) {
        return 0;
    }
    Py_ssize_t i = PyLong_AsSsize_t(key);
    if (i == -1 && PyErr_Occurred()) {
        PyErr_Clear();   /* too large: the base method raises its own error */
        return 0;
    }
    *pi = i;
    return i >= 0;
}

PyObject *
rw_list_subscript(PyObject *self, PyObject *key)
{
    Py_ssize_t i;
    if (plain_position(key, &i)) {
        return rw_list_record_position(self, i, RW_OP(GETITEM), READ) < 0
               ? NULL : BASE_SEQ->sq_item(self, i);
    }
    if (PySlice_Check(key)) {
        if (rw_record_read_all(self, RW_OP(SLICE)) < 0) {
            return NULL;
        }
        return rw_track_new(BASE_MAP->mp_subscript(self, key));
    }
    PyObject *index = rw_list_record_key(self, key, RW_OP(GETITEM), READ);
    if (index == NULL) {
        return NULL;
    }
    PyObject *r = BASE_MAP->mp_subscript(self, index);
    Py_DECREF(index);
    return r;
}

static int
tl_ass_subscript(PyObject *self, PyObject *key, PyObject *value)
{
    if (PySlice_Check(key)) {
        Py_ssize_t before = PyList_GET_SIZE(self);
        PyObject *op = value != NULL ? RW_OP(SETSLICE) : RW_OP(DELSLICE);
        if (rw_record_clear(self, op) < 0 || BASE_MAP->mp_ass_subscript(self, key, value) < 0) {
            return -1;
        }
        return record_grown(self, before, op);
    }
    Py_ssize_t i;
    if (plain_position(key, &i)) {
        int rc = value != NULL ? rw_list_record_position(self, i, RW_OP(SETITEM), WRITE)
                               : rw_list_record_position(self, i, RW_OP(DELITEM), REMOVAL);
        return rc < 0 ? -1 : BASE_SEQ->sq_ass_item(self, i, value);
    }
    PyObject *index = value != NULL ? rw_list_record_key(self, key, RW_OP(SETITEM), WRITE)
                                    : rw_list_record_key(self, key, RW_OP(DELITEM), REMOVAL);
    if (index == NULL) {
        return -1;
    }
    int rc = BASE_MAP->mp_ass_subscript(self, index, value);
    Py_DECREF(index);
    return rc;
}

/* PySequence_GetItem & co. (their index made non-negative with sq_length) */
static PyObject *
tl_item(PyObject *self, Py_ssize_t i)
{
    if (rw_list_record_position(self, i, RW_OP(GETITEM), READ) < 0) {
        return NULL;
    }
    return BASE_SEQ->sq_item(self, i);
}

static int
tl_ass_item(PyObject *self, Py_ssize_t i, PyObject *value)
{
    int rc = value != NULL ? rw_list_record_position(self, i, RW_OP(SETITEM), WRITE)
                           : rw_list_record_position(self, i, RW_OP(DELITEM), REMOVAL);
    return rc < 0 ? -1 : BASE_SEQ->sq_ass_item(self, i, value);
}

static Py_ssize_t
tl_length(PyObject *self)
{
    if (rw_record_keys_read(self, RW_OP(LEN)) < 0) {
        return -1;
    }
    return PyList_GET_SIZE(self);
}

static int
tl_contains(PyObject *self, PyObject *value)
{
    if (rw_record_read_all(self, RW_OP(CONTAINS)) < 0) {
        return -1;
    }
    return BASE_SEQ->sq_contains(self, value);
}

static PyObject *
tl_iter(PyObject *self)
{
    if (rw_record_read_all(self, RW_OP(ITER)) < 0) {
        return NULL;
    }
    return PyList_Type.tp_iter(self);
}

static PyObject *
tl_richcompare(PyObject *self, PyObject *other, int op)
{
    PyObject *result = rw_reflected_first(self, other, rw_reflected_compare[op]);
    if (result != Py_NotImplemented) {
        return result;
    }
    Py_DECREF(result);
    PyObject *name = op == Py_EQ ? RW_OP(EQ) : op == Py_NE ? RW_OP(NE) : RW_OP(COMPARE);
    if (rw_record_read_all(self, name) < 0
            || (is_tracked_list(other) && rw_record_read_all(other, name) < 0)) {
        return NULL;
    }
    return PyList_Type.tp_richcompare(self, other, op);
}

static PyObject *
tl_repr(PyObject *self)
{
    if (rw_record_read_all(self, RW_OP(REPR)) < 0) {
        return NULL;
    }
    return PyList_Type.tp_repr(self);
}

static PyObject *
tl_concat(PyObject *self, PyObject *other)
{
    if (rw_record_read_all(self, RW_OP(ADD)) < 0
            || (is_tracked_list(other) && rw_record_read_all(other, RW_OP(ADD)) < 0)) {
        return NULL;
    }
    return rw_track_new(BASE_SEQ->sq_concat(self, other));
}

static PyObject *
tl_repeat(PyObject *self, Py_ssize_t n)
{
    if (rw_record_read_all(self, RW_OP(MUL)) < 0) {
        return NULL;
    }
    return rw_track_new(BASE_SEQ->sq_repeat(self, n));
}

/* An update of ``items`` that writes the position after the last (append, extend, +=):
 * ``grow`` does the operation, and the position recorded is the one it really got.
 * Without the GIL, two threads that read the length and then append would both record
 * the same position (a write/write race between two appends, which commute): the length
 * is read and the list grown under one lock (one of a few stripes, for a list), and the
 * access recorded after.  Only for an operation that runs no code but list's own
 * (``in_c``: an append, or a list or tuple as the operand, see rw_list_grown_by); for any
 * other the length is read first, as with the GIL, and no lock is held while its code runs. */
#ifdef Py_GIL_DISABLED
#define GROW_STRIPES 64
static PyMutex grow_locks[GROW_STRIPES];

#ifndef MS_WINDOWS
#include <pthread.h>
#include <string.h>

/* A thread of the parent may hold a stripe at the fork (waiting for the list's own lock
 * inside PyList_Append): in the child, where it does not exist, the stripes start free. */
static void
grow_locks_after_fork(void)
{
    memset(grow_locks, 0, sizeof(grow_locks));
}
#endif
#endif

PyObject *
rw_list_grown_at_end(PyObject *self, PyObject *operand, PyObject *op, grow_fn grow, int in_c)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(self, &ts, &sh);
    if (e <= 0) {
        return e < 0 ? NULL : grow(self, operand);
    }
    PyObject *r;
    PyObject *pos = NULL;
    if (in_c) {
#ifdef Py_GIL_DISABLED
        PyMutex *lock = &grow_locks[((uintptr_t)self >> 4) % GROW_STRIPES];
        PyMutex_Lock(lock);
#endif
        Py_ssize_t n = PyList_GET_SIZE(self);
        r = grow(self, operand);
#ifdef Py_GIL_DISABLED
        PyMutex_Unlock(lock);
#endif
        pos = r != NULL ? PyLong_FromSsize_t(n) : NULL;
        if (r != NULL && (pos == NULL || rw_on_write(ts, sh, self, pos, op, 1) < 0)) {
            Py_CLEAR(r);
        }
    }
    else {
        pos = PyLong_FromSsize_t(PyList_GET_SIZE(self));
        r = pos != NULL && rw_on_write(ts, sh, self, pos, op, 1) == 0 ? grow(self, operand)
                                                                      : NULL;
    }
    Py_XDECREF(pos);
    Py_DECREF(ts);
    return r;
}


/* extend and +=: ``other``'s items as list's own code reads them.  Another tracked list
 * is read now (list's code would iterate it, recording that read) and its items handed
 * on as a plain list, so that the growth runs no code but list's own. */
PyObject *
rw_list_grown_by(PyObject *self, PyObject *other, PyObject *op, grow_fn grow)
{
    if (!is_tracked_list(other) || other == self) {
        return rw_list_grown_at_end(self, other, op, grow,
                            PyList_CheckExact(other) || PyTuple_CheckExact(other)
                            || other == self);
    }
    if (rw_record_read_all(other, RW_OP(ITER)) < 0) {
        return NULL;
    }
    PyObject *items = PyList_GetSlice(other, 0, PY_SSIZE_T_MAX);
    if (items == NULL) {
        return NULL;
    }
    PyObject *r = rw_list_grown_at_end(self, items, op, grow, 1);
    Py_DECREF(items);
    return r;
}

static PyObject *
tl_inplace_concat(PyObject *self, PyObject *other)
{
    return rw_list_grown_by(self, other, RW_OP(IADD), BASE_SEQ->sq_inplace_concat);
}

static PyObject *
tl_inplace_repeat(PyObject *self, Py_ssize_t n)
{
    Py_ssize_t before = PyList_GET_SIZE(self);
    if (rw_record_clear(self, RW_OP(IMUL)) < 0) {
        return NULL;
    }
    PyObject *r = BASE_SEQ->sq_inplace_repeat(self, n);
    if (r != NULL && record_grown(self, before, RW_OP(IMUL)) < 0) {
        Py_CLEAR(r);
    }
    return r;
}

static PyObject *
tl_get_class(PyObject *Py_UNUSED(self), void *Py_UNUSED(closure))
{
    return Py_NewRef((PyObject *)&PyList_Type);
}

/* copy.deepcopy(l): as copy's list copier does, into a tracked list. */
static PyObject *
deepcopy_list(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "deepcopy copier takes (x, memo)");
        return NULL;
    }
    PyObject *x = args[0], *memo = args[1];
    if (rw_record_read_all(x, RW_OP(DEEPCOPY)) < 0) {
        return NULL;
    }
    PyObject *y = rw_track_new(PyList_New(0));
    PyObject *id = y != NULL ? PyLong_FromVoidPtr(x) : NULL;
    if (id == NULL || PyObject_SetItem(memo, id, y) < 0) {
        Py_XDECREF(id);
        Py_XDECREF(y);
        return NULL;
    }
    Py_DECREF(id);
    PyObject *it = PyList_Type.tp_iter(x);
    PyObject *item;
    while (it != NULL && (item = PyIter_Next(it)) != NULL) {
        PyObject *copied = PyObject_CallFunctionObjArgs(rw_copy_deepcopy, item, memo, NULL);
        Py_DECREF(item);
        if (copied == NULL || PyList_Append(y, copied) < 0) {
            Py_XDECREF(copied);
            break;
        }
        Py_DECREF(copied);
    }
    Py_XDECREF(it);
    if (PyErr_Occurred()) {
        Py_DECREF(y);
        return NULL;
    }
    return y;
}

static PyMethodDef deepcopy_def = {"_deepcopy_tracked_list", RW_CFUNC(deepcopy_list),
                                   METH_FASTCALL, NULL};

/* -- the type -------------------------------------------------------------------------------- */

static void
tl_dealloc(PyObject *self)
{
    PyObject_GC_UnTrack(self);
    Py_TRASHCAN_BEGIN(self, tl_dealloc)
    Py_CLEAR(((RW_TrackedList *)self)->shadow);
    PyList_Type.tp_dealloc(self);
    Py_TRASHCAN_END
}

static int
tl_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(((RW_TrackedList *)self)->shadow);
    return PyList_Type.tp_traverse(self, visit, arg);
}

static int
tl_clear_refs(PyObject *self)
{
    Py_CLEAR(((RW_TrackedList *)self)->shadow);
    return PyList_Type.tp_clear(self);
}

static PyGetSetDef tl_getset[] = {
    {"__class__", tl_get_class, NULL, NULL, NULL},
    {NULL}
};

static PySequenceMethods tl_as_sequence = {
    .sq_length = tl_length,
    .sq_concat = tl_concat,
    .sq_repeat = tl_repeat,
    .sq_item = tl_item,
    .sq_ass_item = tl_ass_item,
    .sq_contains = tl_contains,
    .sq_inplace_concat = tl_inplace_concat,
    .sq_inplace_repeat = tl_inplace_repeat,
};

static PyMappingMethods tl_as_mapping = {tl_length, rw_list_subscript, tl_ass_subscript};

PyTypeObject RW_TrackedListType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "list",
    .tp_basicsize = sizeof(RW_TrackedList),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC
                | Py_TPFLAGS_SEQUENCE,
    .tp_dealloc = tl_dealloc,
    .tp_traverse = tl_traverse,
    .tp_clear = tl_clear_refs,
    .tp_repr = tl_repr,
    .tp_as_sequence = &tl_as_sequence,
    .tp_as_mapping = &tl_as_mapping,
    .tp_iter = tl_iter,
    .tp_richcompare = tl_richcompare,
    .tp_getset = tl_getset,
};

/* -- track ------------------------------------------------------------------------------------ */

/* A tracked list with the items of the exact list ``l`` (consumed when ``steal``). */
PyObject *
rw_track_list(PyObject *l, int steal)
{
    PyObject *result = PyType_GenericAlloc(&RW_TrackedListType, 0);
    if (result == NULL) {
        if (steal) {
            Py_DECREF(l);
        }
        return NULL;
    }
    int rc = 0;
    if (rw_contents_movable(l)) {
        /* Nothing else can see ``l`` (a display, a comprehension, a list(...) call the
         * caller is done with): its item array moves, in O(1), however long. */
        PyListObject *from = (PyListObject *)l, *to = (PyListObject *)result;
        to->ob_item = from->ob_item;
        to->allocated = from->allocated;
        Py_SET_SIZE(to, Py_SIZE(from));
        from->ob_item = NULL;
        from->allocated = 0;
        Py_SET_SIZE(from, 0);
    }
    else {
        rc = PyList_SetSlice(result, 0, 0, l);
    }
    rw_take_gc_place(result, l);
    if (steal) {
        Py_DECREF(l);
    }
    if (rc < 0) {
        Py_DECREF(result);
        return NULL;
    }
    RW_ADD(&rw_counters.lists_tracked, 1);
    return rw_with_creation_stack(result);
}

int
rw_list_ready(PyObject *module)
{
    if (RW_TrackedListType.tp_base == NULL) {
#if defined(Py_GIL_DISABLED) && !defined(MS_WINDOWS)
        if (pthread_atfork(NULL, NULL, grow_locks_after_fork) != 0) {
            PyErr_SetString(PyExc_ImportError, "racewatch._core: pthread_atfork failed");
            return -1;
        }
#endif
        if (rw_list_methods_load() < 0
                || PyList_Type.tp_basicsize != (Py_ssize_t)sizeof(PyListObject)) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_ImportError,
                                "racewatch._core: list's layout is not the one it was built for");
            }
            return -1;
        }
        RW_TrackedListType.tp_base = &PyList_Type;
        RW_TrackedListType.tp_doc = PyList_Type.tp_doc;
        RW_TrackedListType.tp_hash = PyObject_HashNotImplemented;
        if (PyType_Ready(&RW_TrackedListType) < 0
                || rw_list_methods_install(&RW_TrackedListType) < 0
                || rw_install_repr(&RW_TrackedListType, &PyList_Type) < 0
                || rw_register_copiers(module, &RW_TrackedListType, &deepcopy_def) < 0) {
            return -1;
        }
        PyType_Modified(&RW_TrackedListType);
    }
    return PyModule_AddObjectRef(module, "TrackedList", (PyObject *)&RW_TrackedListType);
}
