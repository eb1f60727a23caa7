/* Access records (one recorded access: its epoch, stack, operation, locks) and read sets,
 * FastTrack's adaptive representation of the reads of a location since its last write. */

#include "engine.h"

/* -- Access -------------------------------------------------------------------------------- */

static rw_freelist access_freelist;

RW_Access *
rw_access_new(RW_ThreadState *ts, PyObject *stack, PyObject *op, int write)
{
    /* ``stack`` is a new reference, passed on to the record. */
    RW_Access *rec = (RW_Access *)rw_freelist_pop(&access_freelist, &RW_AccessType);
    if (rec == NULL) {
        rec = PyObject_New(RW_Access, &RW_AccessType);
        if (rec != NULL) {
            rw_readable_unlocked((PyObject *)rec);
        }
    }
    if (rec == NULL) {
        Py_DECREF(stack);
        return NULL;
    }
    rec->time = rw_monotonic_ns();
    rec->slot = ts->slot;
    rec->clock = ts->clock;
    rec->thread = Py_NewRef(ts->info);
    rec->stack = stack;
    rec->op = Py_NewRef(op);
    rec->write = (char)(write != 0);
    rec->locks = Py_NewRef(ts->held);
    return rec;
}

static PyObject *
access_tp_new(PyTypeObject *Py_UNUSED(type), PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"ts", "stack", "op", "write", NULL};
    PyObject *ts, *stack, *op;
    int write;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!OUp:Access", kwlist, &RW_ThreadStateType,
                                     &ts, &stack, &op, &write)) {
        return NULL;
    }
    return (PyObject *)rw_access_new((RW_ThreadState *)ts, Py_NewRef(stack), op, write);
}

static void
access_dealloc(RW_Access *rec)
{
    Py_XDECREF(rec->thread);
    Py_XDECREF(rec->stack);
    Py_XDECREF(rec->op);
    Py_XDECREF(rec->locks);
    if (!rw_freelist_push(&access_freelist, (PyObject *)rec)) {
        Py_TYPE(rec)->tp_free((PyObject *)rec);
    }
}

static PyObject *
access_repr(RW_Access *rec)
{
    return PyUnicode_FromFormat("<Access %U %s slot=%zd clock=%lld>", rec->op,
                                rec->write ? "write" : "read", rec->slot, rec->clock);
}

static PyMemberDef access_members[] = {
    {"slot", T_PYSSIZET, offsetof(RW_Access, slot), READONLY, NULL},
    {"clock", T_LONGLONG, offsetof(RW_Access, clock), READONLY, NULL},
    {"time", T_LONGLONG, offsetof(RW_Access, time), READONLY,
     "time.monotonic_ns() of the first access this record stands for"},
    {"thread", T_OBJECT, offsetof(RW_Access, thread), READONLY, "ThreadInfo"},
    {"stack", T_OBJECT, offsetof(RW_Access, stack), READONLY, NULL},
    {"op", T_OBJECT, offsetof(RW_Access, op), READONLY, NULL},
    {"write", T_BOOL, offsetof(RW_Access, write), READONLY, NULL},
    {"locks", T_OBJECT, offsetof(RW_Access, locks), READONLY, NULL},
    {NULL}
};

PyTypeObject RW_AccessType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.Access",
    .tp_doc = "One recorded access: its epoch, where it happened, what it did, the locks held.",
    .tp_basicsize = sizeof(RW_Access),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = access_tp_new,
    .tp_dealloc = (destructor)access_dealloc,
    .tp_repr = (reprfunc)access_repr,
    .tp_members = access_members,
};

/* -- read sets ----------------------------------------------------------------------------- */

int
rw_readmap_append(rw_readmap **pmap, RW_Access *rec)
{
    rw_readmap *map = *pmap;
    if (map == NULL || map->n == map->cap) {
        Py_ssize_t cap = map == NULL ? 4 : map->cap * 2;
        rw_readmap *grown = PyMem_Realloc(map, sizeof(rw_readmap)
                                          + (size_t)(cap - 1) * sizeof(RW_Access *));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        if (map == NULL) {
            grown->n = 0;
        }
        grown->cap = cap;
        *pmap = map = grown;
    }
    map->items[map->n++] = (RW_Access *)Py_NewRef(rec);
    return 0;
}

void
rw_rs_clear(RW_ReadSet *rs)
{
    Py_CLEAR(rs->a);
    Py_CLEAR(rs->b);
    if (rs->more != NULL) {
        for (Py_ssize_t i = 0; i < rs->more->n; i++) {
            Py_DECREF(rs->more->items[i]);
        }
        PyMem_Free(rs->more);
        rs->more = NULL;
    }
}

/* _add_read: the set with ``cur`` added (FastTrack's exclusive/shared read rules). */
int
rw_rs_add(RW_ReadSet *rs, RW_Access *cur, PyObject *vc)
{
    if (rs->more != NULL) {
        for (Py_ssize_t i = 0; i < rs->more->n; i++) {
            if (rs->more->items[i]->slot == cur->slot) {
                Py_SETREF(rs->more->items[i], (RW_Access *)Py_NewRef(cur));
                return 0;
            }
        }
        return rw_readmap_append(&rs->more, cur);
    }
    if (rs->a == NULL) {
        rs->a = (RW_Access *)Py_NewRef(cur);
        return 0;
    }
    if (rs->b == NULL) {
        if (rs->a->slot == cur->slot || covered(rs->a, vc)) {
            Py_SETREF(rs->a, (RW_Access *)Py_NewRef(cur));
        }
        else {
            rs->b = (RW_Access *)Py_NewRef(cur);
        }
        return 0;
    }
    if (rs->a->slot == cur->slot) {
        Py_SETREF(rs->a, (RW_Access *)Py_NewRef(cur));
        return 0;
    }
    if (rs->b->slot == cur->slot) {
        Py_SETREF(rs->b, (RW_Access *)Py_NewRef(cur));
        return 0;
    }
    rw_readmap *map = NULL;
    if (rw_readmap_append(&map, rs->a) < 0 || rw_readmap_append(&map, rs->b) < 0
            || rw_readmap_append(&map, cur) < 0) {
        if (map != NULL) {
            for (Py_ssize_t i = 0; i < map->n; i++) {
                Py_DECREF(map->items[i]);
            }
            PyMem_Free(map);
        }
        return -1;
    }
    Py_CLEAR(rs->a);
    Py_CLEAR(rs->b);
    rs->more = map;
    return 0;
}

/* What the reference shows for a read set: None, an Access or a {slot: Access} dict. */
PyObject *
rw_rs_as_object(const RW_ReadSet *rs)
{
    if (rs->a == NULL && rs->more == NULL) {
        Py_RETURN_NONE;
    }
    if (rs->more == NULL && rs->b == NULL) {
        return Py_NewRef(rs->a);
    }
    PyObject *result = PyDict_New();
    if (result == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < rs_count(rs); i++) {
        RW_Access *rec = rs_item(rs, i);
        PyObject *slot = PyLong_FromSsize_t(rec->slot);
        if (slot == NULL || PyDict_SetItem(result, slot, (PyObject *)rec) < 0) {
            Py_XDECREF(slot);
            Py_DECREF(result);
            return NULL;
        }
        Py_DECREF(slot);
    }
    return result;
}

int
rw_rs_from_object(RW_ReadSet *rs, PyObject *value)
{
    if (value == Py_None) {
        return 0;
    }
    if (Py_IS_TYPE(value, &RW_AccessType)) {
        rs->a = (RW_Access *)Py_NewRef(value);
        return 0;
    }
    if (!PyDict_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "a read set is None, an Access or {slot: Access}");
        return -1;
    }
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(value, &pos, &k, &v)) {
        if (!Py_IS_TYPE(v, &RW_AccessType)) {
            PyErr_SetString(PyExc_TypeError, "a read set holds Access records");
            return -1;
        }
        if (rw_readmap_append(&rs->more, (RW_Access *)v) < 0) {
            return -1;
        }
    }
    if (rs->more != NULL && rs->more->n <= 2) {
        rw_readmap *map = rs->more;
        rs->more = NULL;
        rs->a = map->items[0];
        rs->b = map->n == 2 ? map->items[1] : NULL;
        PyMem_Free(map);
    }
    return 0;
}

int
rw_rs_copy(RW_ReadSet *to, const RW_ReadSet *from)
{
    to->a = (RW_Access *)Py_XNewRef(from->a);
    to->b = (RW_Access *)Py_XNewRef(from->b);
    to->more = NULL;
    for (Py_ssize_t i = 0; from->more != NULL && i < from->more->n; i++) {
        if (rw_readmap_append(&to->more, from->more->items[i]) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The keys location lives in the shadow itself; Python sees a KeysLoc copy of it. */

/* -- slot maps ------------------------------------------------------------------------------ */

/* Replace the entry of ``rec``'s slot, or add one; the key it held is released once the
 * update is complete (``b``). */
int
rw_slotmap_set(rw_slot_map *map, RW_Access *rec, PyObject *key, rw_batch *b)
{
    key = key != NULL ? key : Py_None;
    for (Py_ssize_t i = 0; i < map->n; i++) {
        rw_slot_entry *e = &map->items[i];
        if (e->slot == rec->slot) {
            Py_SETREF(e->rec, (RW_Access *)Py_NewRef(rec));
            PyObject *old = e->key;
            e->key = Py_NewRef(key);
            return rw_batch_trash(b, old);
        }
    }
    if (map->n == map->cap) {
        Py_ssize_t cap = map->cap ? map->cap * 2 : 4;
        rw_slot_entry *grown = PyMem_Realloc(map->items, (size_t)cap * sizeof(rw_slot_entry));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        map->items = grown;
        map->cap = cap;
    }
    rw_slot_entry *e = &map->items[map->n++];
    e->slot = rec->slot;
    e->rec = (RW_Access *)Py_NewRef(rec);
    e->key = Py_NewRef(key);
    return 0;
}

/* Drop the entries (but the one of slot ``keep``) that happened before the thread whose
 * clock is ``vc``, keeping the others in their order. */
void
rw_slotmap_drop_covered(rw_slot_map *map, PyObject *vc, Py_ssize_t keep, rw_batch *b)
{
    Py_ssize_t kept = 0;
    for (Py_ssize_t i = 0; i < map->n; i++) {
        rw_slot_entry *e = &map->items[i];
        if (e->slot != keep && covered(e->rec, vc)) {
            rw_batch_trash(b, (PyObject *)e->rec);
            rw_batch_trash(b, e->key);
            continue;
        }
        map->items[kept++] = *e;
    }
    map->n = kept;
}

void
rw_slotmap_clear(rw_slot_map *map)
{
    rw_slot_entry *items = map->items;
    Py_ssize_t n = map->n;
    map->items = NULL;
    map->n = map->cap = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_DECREF(items[i].rec);
        Py_DECREF(items[i].key);
    }
    PyMem_Free(items);
}

/* Move the entries of ``from`` to ``to`` (empty), leaving ``from`` empty. */
void
rw_slotmap_take(rw_slot_map *to, rw_slot_map *from)
{
    *to = *from;
    from->items = NULL;
    from->n = from->cap = 0;
}

/* What the reference shows: {slot: (Access, key)}. */
PyObject *
rw_slotmap_as_object(const rw_slot_map *map)
{
    PyObject *result = PyDict_New();
    for (Py_ssize_t i = 0; result != NULL && i < map->n; i++) {
        PyObject *slot = PyLong_FromSsize_t(map->items[i].slot);
        PyObject *pair = PyTuple_Pack(2, (PyObject *)map->items[i].rec, map->items[i].key);
        if (slot == NULL || pair == NULL || PyDict_SetItem(result, slot, pair) < 0) {
            Py_CLEAR(result);
        }
        Py_XDECREF(slot);
        Py_XDECREF(pair);
    }
    return result;
}
