/* Conflict (two accesses that nothing orders), and the batch of conflicts one slow-path
 * update finds, handed to the sink once the shadow is whole again. */

#include "engine.h"

/* -- Conflict ------------------------------------------------------------------------------ */

static PyObject *
conflict_make(PyObject *shadow, PyObject *key, int on_keys, PyObject *previous,
              PyObject *current, PyObject *previous_key, PyObject *current_key,
              PyObject *current_prior)
{
    RW_Conflict *c = PyObject_GC_New(RW_Conflict, &RW_ConflictType);
    if (c == NULL) {
        return NULL;
    }
    c->shadow = Py_NewRef(shadow);
    c->key = Py_NewRef(key != NULL ? key : Py_None);
    c->on_keys = (char)(on_keys != 0);
    c->previous = Py_NewRef(previous);
    c->current = Py_NewRef(current);
    c->previous_key = Py_NewRef(previous_key != NULL ? previous_key : Py_None);
    c->current_key = Py_NewRef(current_key != NULL ? current_key : Py_None);
    c->current_prior = Py_NewRef(current_prior != NULL ? current_prior : Py_None);
    PyObject_GC_Track(c);
    return (PyObject *)c;
}

static PyObject *
conflict_tp_new(PyTypeObject *Py_UNUSED(type), PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"shadow", "key", "on_keys", "previous", "current",
                             "previous_key", "current_key", "current_prior", NULL};
    PyObject *shadow, *key, *previous, *current;
    PyObject *previous_key = Py_None, *current_key = Py_None, *current_prior = Py_None;
    int on_keys;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOpOO|OOO:Conflict", kwlist, &shadow, &key,
                                     &on_keys, &previous, &current, &previous_key,
                                     &current_key, &current_prior)) {
        return NULL;
    }
    return conflict_make(shadow, key, on_keys, previous, current, previous_key, current_key,
                         current_prior);
}

static int
conflict_traverse(RW_Conflict *c, visitproc visit, void *arg)
{
    Py_VISIT(c->shadow);
    Py_VISIT(c->key);
    Py_VISIT(c->previous);
    Py_VISIT(c->current);
    Py_VISIT(c->previous_key);
    Py_VISIT(c->current_key);
    Py_VISIT(c->current_prior);
    return 0;
}

static int
conflict_clear(RW_Conflict *c)
{
    Py_CLEAR(c->shadow);
    Py_CLEAR(c->key);
    Py_CLEAR(c->previous);
    Py_CLEAR(c->current);
    Py_CLEAR(c->previous_key);
    Py_CLEAR(c->current_key);
    Py_CLEAR(c->current_prior);
    return 0;
}

static void
conflict_dealloc(RW_Conflict *c)
{
    PyObject_GC_UnTrack(c);
    conflict_clear(c);
    Py_TYPE(c)->tp_free((PyObject *)c);
}

static PyMemberDef conflict_members[] = {
    {"shadow", T_OBJECT, offsetof(RW_Conflict, shadow), READONLY, NULL},
    {"key", T_OBJECT, offsetof(RW_Conflict, key), READONLY,
     "the key location (None for the keys location)"},
    {"on_keys", T_BOOL, offsetof(RW_Conflict, on_keys), READONLY,
     "True for the keys location"},
    {"previous", T_OBJECT, offsetof(RW_Conflict, previous), READONLY, NULL},
    {"current", T_OBJECT, offsetof(RW_Conflict, current), READONLY, NULL},
    {"previous_key", T_OBJECT, offsetof(RW_Conflict, previous_key), READONLY,
     "for the keys location: the key the previous insert or delete touched, if any"},
    {"current_key", T_OBJECT, offsetof(RW_Conflict, current_key), READONLY, NULL},
    {"current_prior", T_OBJECT, offsetof(RW_Conflict, current_prior), READONLY,
     "when current is a write: the current thread's own read of the location in the same "
     "epoch, or None"},
    {NULL}
};

PyTypeObject RW_ConflictType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.Conflict",
    .tp_doc = "Two accesses that nothing orders, found while checking the later one.",
    .tp_basicsize = sizeof(RW_Conflict),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = conflict_tp_new,
    .tp_dealloc = (destructor)conflict_dealloc,
    .tp_traverse = (traverseproc)conflict_traverse,
    .tp_clear = (inquiry)conflict_clear,
    .tp_members = conflict_members,
};

/* -- one slow-path update: the conflicts it found and what it let go of -------------------- */

void
rw_batch_init(rw_batch *b)
{
    b->items = b->items_small;
    b->n = 0;
    b->cap = 4;
    b->trash = b->trash_small;
    b->tn = 0;
    b->tcap = 4;
}

void
rw_batch_free(rw_batch *b)
{
    for (Py_ssize_t i = 0; i < b->n; i++) {
        Py_DECREF(b->items[i].prev);
        Py_XDECREF(b->items[i].key);
        Py_XDECREF(b->items[i].previous_key);
        Py_XDECREF(b->items[i].current_key);
        Py_XDECREF(b->items[i].prior);
    }
    if (b->items != b->items_small) {
        PyMem_Free(b->items);
    }
    for (Py_ssize_t i = 0; i < b->tn; i++) {
        Py_DECREF(b->trash[i]);
    }
    if (b->trash != b->trash_small) {
        PyMem_Free(b->trash);
    }
    rw_batch_init(b);
}

int
rw_batch_add(rw_batch *b, RW_Access *prev, PyObject *key, int on_keys,
             PyObject *previous_key, PyObject *current_key)
{
    if (b->n == b->cap) {
        Py_ssize_t cap = b->cap * 2;
        rw_pending *items = PyMem_Malloc((size_t)cap * sizeof(rw_pending));
        if (items == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        memcpy(items, b->items, (size_t)b->n * sizeof(rw_pending));
        if (b->items != b->items_small) {
            PyMem_Free(b->items);
        }
        b->items = items;
        b->cap = cap;
    }
    rw_pending *p = &b->items[b->n++];
    p->prev = (RW_Access *)Py_NewRef(prev);
    p->key = Py_XNewRef(key);
    p->previous_key = Py_XNewRef(previous_key);
    p->current_key = Py_XNewRef(current_key);
    p->prior = NULL;
    p->on_keys = on_keys;
    return 0;
}

/* The conflicts added since ``from`` get ``prior`` (a borrowed reference, or NULL) as the
 * current thread's own read of their location. */
void
rw_batch_prior(rw_batch *b, Py_ssize_t from, RW_Access *prior)
{
    if (prior == NULL) {
        return;
    }
    for (Py_ssize_t i = from; i < b->n; i++) {
        Py_XSETREF(b->items[i].prior, (RW_Access *)Py_NewRef(prior));
    }
}

/* Release ``obj`` (a reference the caller owns) once the update is complete. */
int
rw_batch_trash(rw_batch *b, PyObject *obj)
{
    if (b->tn == b->tcap) {
        Py_ssize_t cap = b->tcap * 2;
        PyObject **trash = PyMem_Malloc((size_t)cap * sizeof(PyObject *));
        if (trash == NULL) {
            Py_DECREF(obj);   /* cannot defer it: release it now */
            return 0;
        }
        memcpy(trash, b->trash, (size_t)b->tn * sizeof(PyObject *));
        if (b->trash != b->trash_small) {
            PyMem_Free(b->trash);
        }
        b->trash = trash;
        b->tcap = cap;
    }
    b->trash[b->tn++] = obj;
    return 0;
}

int
rw_rs_unordered(const RW_ReadSet *rs, PyObject *vc, rw_batch *b, PyObject *key, int on_keys,
                PyObject *previous_key, PyObject *current_key)
{
    Py_ssize_t n = rs_count(rs);
    for (Py_ssize_t i = 0; i < n; i++) {
        RW_Access *rec = rs_item(rs, i);
        if (!covered(rec, vc)
                && rw_batch_add(b, rec, key, on_keys, previous_key, current_key) < 0) {
            return -1;
        }
    }
    return 0;
}

/* _emit: hand each conflict to the sink (the thread is busy meanwhile). */
int
rw_emit(RW_Shadow *sh, RW_Access *cur, rw_batch *b)
{
    if (b->n == 0) {
        return 0;
    }
    PyObject *sink = settings_field(&rw_settings->sink);
    int rc = 0;
    if (sink != Py_None) {
        for (Py_ssize_t i = 0; i < b->n && rc == 0; i++) {
            rw_pending *p = &b->items[i];
            PyObject *c = conflict_make((PyObject *)sh, p->key, p->on_keys, (PyObject *)p->prev,
                                        (PyObject *)cur, p->previous_key, p->current_key,
                                        (PyObject *)p->prior);
            PyObject *r = c != NULL ? PyObject_CallOneArg(sink, c) : NULL;
            Py_XDECREF(c);
            if (r == NULL) {
                rc = -1;
            }
            Py_XDECREF(r);
        }
    }
    Py_DECREF(sink);
    return rc;
}
